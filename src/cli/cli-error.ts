import { InvalidArgumentError } from "commander";

/** A user error: printed as one line, exit code 1, no stack trace. */
export class CliError extends InvalidArgumentError {
  constructor(message: string) {
    super(message);
    this.name = "CliError";
  }
}
