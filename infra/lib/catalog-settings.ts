import type { Node } from "constructs";
import { CatalogConfigError, CatalogSettingsError } from "./errors.js";

export { CatalogSettingsError } from "./errors.js";

/** How S3 events reach the function. */
export type TriggerMode = "direct" | "sqs";

/** Lambda's system log level (advanced logging controls); setting one switches the function to JSON logs. */
export type SystemLogLevelChoice = "DEBUG" | "INFO" | "WARN";

/** Server-side encryption of a bucket the stack creates. */
export type BucketEncryptionChoice = "s3" | "kms";

/**
 * Every deploy-time choice of the catalog stack, read once from CDK context (`cdk.json` or
 * `npx cdk deploy -c key=value`) by {@link readCatalogSettings}. Each field documents its context key.
 */
export interface CatalogSettings {
  /** `stackName`. @default "S3MetadataCatalog" */
  readonly stackName: string;
  /** `mode`: `direct` (S3 invokes the function) or `sqs` (S3 -> queue -> function). @default "direct" */
  readonly mode: TriggerMode;
  /** `existingBucketName`: catalog this bucket instead of creating one. @default - a new bucket */
  readonly existingBucketName?: string;
  /** `encryption`: `s3` (SSE-S3) or `kms` (a customer managed key with rotation). @default "s3" */
  readonly encryption?: BucketEncryptionChoice;
  /** `versioned`. @default false */
  readonly versioned?: boolean;
  /** `accessLogs`: S3 server access logs to a second bucket. @default false */
  readonly accessLogs?: boolean;
  /** `prefix`: only keys under this prefix trigger the function. @default - the whole bucket */
  readonly prefix?: string;
  /** `suffixes`: comma-separated key suffixes (`.jpg,.pdf`); one notification per suffix. @default - any */
  readonly suffixes?: readonly string[];
  /** `derivedPrefix`: where derived artefacts (thumbnails) are written. @default "_derived/" */
  readonly derivedPrefix?: string;
  /** `derivedExpirationDays`: lifecycle expiry of derived artefacts. @default 90 */
  readonly derivedExpirationDays?: number;
  /**
   * `writeDerived`: let the function write under the derived prefix (thumbnails). Needs `prefix`, since
   * S3 notification filters cannot exclude the derived prefix. @default false
   */
  readonly writeDerived?: boolean;
  /**
   * `policy`: the validation policy, JSON, passed to the function as `POLICY`; `"tagRejected": true` in it
   * also grants object tagging. @default - accept everything, tag nothing
   */
  readonly policy?: string;
  /** `memoryMiB`. @default 1024 */
  readonly memoryMiB?: number;
  /** `timeoutSeconds`. @default 60 */
  readonly timeoutSeconds?: number;
  /** `reservedConcurrency`. @default - unreserved */
  readonly reservedConcurrency?: number;
  /** `logLevel`: Powertools log level. @default "INFO" */
  readonly logLevel?: string;
  /**
   * `systemLogLevel`: switch the function's logs to Lambda's JSON format and keep Lambda's own lines at this
   * level: `INFO` keeps `platform.start` and `platform.report` (duration, billed duration, max memory used,
   * init duration), `WARN` keeps only the reports of failed or timed-out invocations, `DEBUG` adds the
   * runtime and extension events. @default - plain-text START, END and REPORT lines on every invocation
   */
  readonly systemLogLevel?: SystemLogLevelChoice;
  /** `logRetentionDays`. @default 30 */
  readonly logRetentionDays?: number;
  /** `tracing`: X-Ray active tracing. @default false */
  readonly tracing?: boolean;
  /**
   * `sourceMaps`: stack traces in the logs mapped to the TypeScript sources (`--enable-source-maps`); costs
   * init time at every cold start. @default false
   */
  readonly sourceMaps?: boolean;
  /** `retryAttempts`: direct mode, asynchronous invocation retries (0-2). @default 2 */
  readonly retryAttempts?: number;
  /** `batchSize`: SQS mode, messages per invocation. @default 10 */
  readonly batchSize?: number;
  /** `maxReceiveCount`: SQS mode, receives before a message moves to the DLQ. @default 5 */
  readonly maxReceiveCount?: number;
  /** `alarmEmail`: create an SNS topic for the alarms with this subscription. @default - no topic */
  readonly alarmEmail?: string;
  /** `alarmTopicArn`: send alarms to an existing SNS topic. @default - no topic */
  readonly alarmTopicArn?: string;
  /**
   * `tombstoneTtlDays`: a removed object's record (its tombstone) is deleted by DynamoDB's TTL this many
   * days after the removal, its audit entries staying. @default - tombstones are kept
   */
  readonly tombstoneTtlDays?: number;
  /** `retain`: keep the table and the bucket when the stack is deleted. @default true */
  readonly retain?: boolean;
}

type ContextSource = Pick<Node, "tryGetContext" | "getAllContext">;

/**
 * Context keys shaped like this app's own (a plain identifier) that it does not read are mistakes: a typo
 * (`memorymib`) would otherwise leave its default in place without a word. CDK's keys have other shapes
 * (`@aws-cdk/...` feature flags, `aws:cdk:...`, `cli-telemetry`, lookups such as `availability-zones:...`).
 */
const OWN_KEY_SHAPE = /^[A-Za-z][A-Za-z0-9]*$/;

/**
 * Reads the stack's settings from CDK context. Values given with `-c` arrive as strings and values in
 * `cdk.json` as JSON, so both `"512"` and `512` are accepted; anything else throws
 * {@link CatalogSettingsError} before a resource is built, and a key the app does not read throws
 * {@link CatalogConfigError}.
 *
 * @example
 * ```ts
 * const app = new App({ context: { mode: "sqs", memoryMiB: "512" } });
 * readCatalogSettings(app.node); // { stackName: "S3MetadataCatalog", mode: "sqs", memoryMiB: 512, ... }
 * ```
 */
export function readCatalogSettings(source: ContextSource): CatalogSettings {
  const known = new Set<string>();
  const node = {
    tryGetContext(key: string): unknown {
      known.add(key);
      return source.tryGetContext(key);
    },
  };
  const str = (key: string): string | undefined => {
    const value: unknown = node.tryGetContext(key);
    if (value === undefined || value === null || value === "") return undefined;
    if (typeof value !== "string") throw new CatalogSettingsError(key, value, "a string");
    return value;
  };
  const bool = (key: string): boolean | undefined => {
    const value: unknown = node.tryGetContext(key);
    if (value === undefined || value === null || value === "") return undefined;
    if (value === true || value === "true") return true;
    if (value === false || value === "false") return false;
    throw new CatalogSettingsError(key, value, "true or false");
  };
  const int = (key: string, min: number, max: number): number | undefined => {
    const value: unknown = node.tryGetContext(key);
    if (value === undefined || value === null || value === "") return undefined;
    const n = typeof value === "number" ? value : typeof value === "string" ? Number(value) : Number.NaN;
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new CatalogSettingsError(key, value, `an integer from ${min} to ${max}`);
    }
    return n;
  };
  const oneOf = <T extends string>(key: string, allowed: readonly T[]): T | undefined => {
    const value = str(key);
    if (value === undefined) return undefined;
    if (!(allowed as readonly string[]).includes(value)) {
      throw new CatalogSettingsError(key, value, `one of ${allowed.join(", ")}`);
    }
    return value as T;
  };
  const list = (key: string): string[] | undefined => {
    const value: unknown = node.tryGetContext(key);
    if (value === undefined || value === null || value === "") return undefined;
    if (Array.isArray(value) && value.every((v) => typeof v === "string")) return value;
    if (typeof value === "string") {
      return value
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s !== "");
    }
    throw new CatalogSettingsError(key, value, "a comma-separated list or an array of strings");
  };
  const json = (key: string): string | undefined => {
    const value: unknown = node.tryGetContext(key);
    if (value === undefined || value === null || value === "") return undefined;
    if (typeof value === "object") return JSON.stringify(value);
    if (typeof value === "string") {
      try {
        JSON.parse(value);
      } catch {
        throw new CatalogSettingsError(key, value, "valid JSON");
      }
      return value;
    }
    throw new CatalogSettingsError(key, value, "a JSON object");
  };

  const settings: CatalogSettings = {
    stackName: str("stackName") ?? "S3MetadataCatalog",
    mode: oneOf<TriggerMode>("mode", ["direct", "sqs"]) ?? "direct",
    existingBucketName: str("existingBucketName"),
    encryption: oneOf<BucketEncryptionChoice>("encryption", ["s3", "kms"]),
    versioned: bool("versioned"),
    accessLogs: bool("accessLogs"),
    prefix: str("prefix"),
    suffixes: list("suffixes"),
    derivedPrefix: str("derivedPrefix"),
    derivedExpirationDays: int("derivedExpirationDays", 1, 36_500),
    writeDerived: bool("writeDerived"),
    policy: json("policy"),
    memoryMiB: int("memoryMiB", 128, 10_240),
    timeoutSeconds: int("timeoutSeconds", 1, 900),
    reservedConcurrency: int("reservedConcurrency", 1, 10_000),
    logLevel: oneOf("logLevel", ["DEBUG", "INFO", "WARN", "ERROR", "SILENT"]),
    systemLogLevel: oneOf<SystemLogLevelChoice>("systemLogLevel", ["DEBUG", "INFO", "WARN"]),
    logRetentionDays: int("logRetentionDays", 1, 3653),
    tracing: bool("tracing"),
    sourceMaps: bool("sourceMaps"),
    retryAttempts: int("retryAttempts", 0, 2),
    batchSize: int("batchSize", 1, 10_000),
    maxReceiveCount: int("maxReceiveCount", 1, 1000),
    alarmEmail: str("alarmEmail"),
    alarmTopicArn: str("alarmTopicArn"),
    tombstoneTtlDays: int("tombstoneTtlDays", 1, 36_500),
    retain: bool("retain"),
  };
  rejectUnknownKeys(Object.keys(source.getAllContext() ?? {}), known);
  return settings;
}

function rejectUnknownKeys(given: readonly string[], known: ReadonlySet<string>): void {
  for (const key of given) {
    if (!OWN_KEY_SHAPE.test(key) || known.has(key)) continue;
    const meant = [...known].find((k) => k.toLowerCase() === key.toLowerCase());
    throw new CatalogConfigError(
      meant
        ? `context "${key}" is not an option of this app; did you mean "${meant}"?`
        : `context "${key}" is not an option of this app (options: ${[...known].join(", ")})`,
    );
  }
}
