import { Errors } from "aws-cdk-lib";

/**
 * A setting the stack cannot be built with, or one CloudFormation or a service would refuse at deploy time:
 * a context value of the wrong shape, or settings that conflict. The message is one line for the person
 * who ran `cdk synth` or `cdk deploy`; `infra/app.ts` prints it without a stack trace.
 *
 * @example
 * ```ts
 * throw new CatalogConfigError('retryAttempts only applies to mode "direct"');
 * ```
 */
export class CatalogConfigError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "CatalogConfigError";
  }
}

/** A context value that cannot be used; names the key, the value and what the key accepts. */
export class CatalogSettingsError extends CatalogConfigError {
  constructor(key: string, value: unknown, expected: string, options?: ErrorOptions) {
    super(`context "${key}": ${JSON.stringify(value)} is not ${expected}`, options);
    this.name = "CatalogSettingsError";
  }
}

/**
 * The one line to print for an error that says the settings are wrong, or `undefined` for any other error
 * (a fault of the app itself, whose stack trace is worth keeping). CDK's own construct validations
 * (`ValidationError`, e.g. an invalid stack or bucket name) count as wrong settings; their message may
 * span lines, which are joined.
 *
 * @example
 * ```ts
 * configurationProblem(new CatalogConfigError("x")); // "x"
 * configurationProblem(new TypeError("y")); // undefined
 * ```
 */
export function configurationProblem(error: unknown): string | undefined {
  if (!(error instanceof CatalogConfigError) && !Errors.isValidationError(error)) return undefined;
  return (error as Error).message
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "")
    .join("; ");
}
