import { CatalogError } from "../engine/errors.js";

/**
 * The function's configuration, read once from the environment at the edge
 * and passed down; nothing deeper reads `process.env`.
 */
export interface CatalogConfig {
  /** AWS region; the SDK's own resolution (AWS_REGION, profile) when absent. */
  region?: string;
  /** S3 endpoint (LocalStack, MinIO, embedded server); real S3 when absent. */
  s3Endpoint?: string;
  /** DynamoDB endpoint; real DynamoDB when absent. */
  dynamodbEndpoint?: string;
  /** Path-style S3 addressing, which emulators need. @default true when an S3 endpoint is set */
  s3ForcePathStyle: boolean;
  /** The catalog table. */
  tableName: string;
  /** Validation policy as JSON text (`POLICY`), if given inline. */
  policyJson?: string;
  /** Path of a validation policy file (`POLICY_FILE`), if given. */
  policyFile?: string;
  /** Objects processed at once per invocation. @default DEFAULT_CONCURRENCY */
  concurrency: number;
  /** Tombstone lifetime before DynamoDB TTL removes it; kept forever when absent. */
  tombstoneTtlSeconds?: number;
  /** Service name in logs and metrics. @default "s3-metadata-catalog" */
  serviceName: string;
  /** CloudWatch metrics namespace. @default METRICS_NAMESPACE */
  metricsNamespace: string;
  /** The handler's log level (`POWERTOOLS_LOG_LEVEL`), when set; see `catalogLogger` for why it is applied there. */
  logLevel?: string;
  /** Key prefix of derived artefacts; events for keys under it are skipped. @default "_derived/" */
  derivedPrefix: string;
  /** Write WebP thumbnails of images under the derived prefix. @default true */
  thumbnails: boolean;
}

/** Where derived artefacts go unless `DERIVED_PREFIX` says otherwise (the CDK app uses the same default). */
export const DEFAULT_DERIVED_PREFIX = "_derived/";

/**
 * Objects processed at once when neither `CONCURRENCY` nor the caller says:
 * the pipeline's default, and the figure the stack's SQS batch check counts with.
 */
export const DEFAULT_CONCURRENCY = 8;

/**
 * Whether `key` (or a folder prefix) is under the derived prefix. Keys there
 * raise no event, so nothing put there is ever cataloged: an upload into it
 * is refused, and a pass over the bucket leaves it alone.
 *
 * @example
 * isDerivedKey("_derived/thumbnails/a.jpg.webp") // true
 * isDerivedKey("_derivedfoo.jpg") // false
 */
export function isDerivedKey(key: string, derivedPrefix: string = DEFAULT_DERIVED_PREFIX): boolean {
  return key.startsWith(derivedPrefix);
}

/**
 * Why `prefix` cannot be the derived prefix, or undefined when it can. An
 * empty or slash-less prefix would make every key (or `_derivedfoo.jpg`) look
 * derived; one starting with `/` names a folder no S3 client writes to.
 *
 * @example
 * derivedPrefixProblem("thumbs/") // undefined
 * derivedPrefixProblem("thumbs") // 'must be non-empty, end with "/" and not start with "/"'
 */
export function derivedPrefixProblem(prefix: string): string | undefined {
  return /^[^/].*\/$/.test(prefix) ? undefined : 'must be non-empty, end with "/" and not start with "/"';
}

/**
 * The CloudWatch namespace of the catalog's own metrics, wherever the pipeline runs: the deployed
 * function, `catalog worker` and the local stack publish under one name, told apart by their `service`
 * dimension, so one dashboard or alarm covers them all.
 */
export const METRICS_NAMESPACE = "S3MetadataCatalog";

/**
 * The metric (count, by `service`) of S3 events the handler hands back to the platform for a retry; the
 * stack's SQS-mode alarm watches it, since a partial batch response is not a Lambda error.
 */
export const EVENTS_FAILED_METRIC = "EventsFailed";

/**
 * Time limits for the HTTP requests of every S3 and DynamoDB client the
 * catalog makes (the handler's, the local stack's, the CLI's). The SDK waits
 * forever by default: a server that takes the connection and never answers
 * would hold a Lambda invocation until its timeout, and a CLI command or an
 * API request for good. Their calls answer in milliseconds; `socketTimeout`
 * counts only silence, so a body that keeps arriving is never cut, and a
 * request that timed out is retried by the SDK like any transient fault.
 * Not for the worker's SQS polling, whose long polls are silent for up to
 * 20 s by design: it allows the wait time plus the same 5 s
 * (src/worker/sqs-http-timeouts.ts).
 */
export const SDK_HTTP_TIMEOUTS = { connectionTimeout: 3_000, socketTimeout: 5_000 } as const;

/** The environment does not describe a usable configuration. */
export class ConfigError extends CatalogError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ConfigError";
  }
}

type Environment = Record<string, string | undefined>;

/**
 * Reads the configuration from environment variables: `TABLE_NAME`
 * (required), `AWS_REGION` (else `AWS_DEFAULT_REGION`), `AWS_ENDPOINT_URL_S3` / `AWS_ENDPOINT_URL_DYNAMODB`
 * (the names the SDK itself reads, or `AWS_ENDPOINT_URL` for both),
 * `S3_FORCE_PATH_STYLE`, `POLICY` (JSON) or `POLICY_FILE`, `CONCURRENCY`,
 * `TOMBSTONE_TTL_DAYS`, `POWERTOOLS_SERVICE_NAME`, `POWERTOOLS_METRICS_NAMESPACE`, `POWERTOOLS_LOG_LEVEL`,
 * `DERIVED_PREFIX` (non-empty, ending in `/`, not starting with one), `THUMBNAILS` (true/false).
 *
 * @throws {ConfigError} when a value is missing or malformed.
 * @example
 * const config = readConfig(process.env);
 * const s3 = new S3Client({ region: config.region, endpoint: config.s3Endpoint });
 */
export function readConfig(env: Environment): CatalogConfig {
  const tableName = text(env, "TABLE_NAME");
  if (!tableName) throw new ConfigError("TABLE_NAME is required");
  const region = text(env, "AWS_REGION") ?? text(env, "AWS_DEFAULT_REGION");
  const s3Endpoint = endpoint(env, "AWS_ENDPOINT_URL_S3") ?? endpoint(env, "AWS_ENDPOINT_URL");
  const dynamodbEndpoint = endpoint(env, "AWS_ENDPOINT_URL_DYNAMODB") ?? endpoint(env, "AWS_ENDPOINT_URL");
  const policyJson = text(env, "POLICY");
  const policyFile = text(env, "POLICY_FILE");
  if (policyJson && policyFile) throw new ConfigError("set POLICY or POLICY_FILE, not both");
  const ttlDays = integer(env, "TOMBSTONE_TTL_DAYS", 1, 36_500);
  const derivedPrefix = text(env, "DERIVED_PREFIX") ?? DEFAULT_DERIVED_PREFIX;
  const logLevel = text(env, "POWERTOOLS_LOG_LEVEL");
  const derivedProblem = derivedPrefixProblem(derivedPrefix);
  if (derivedProblem) throw new ConfigError(`DERIVED_PREFIX ${derivedProblem}, got ${derivedPrefix}`);
  return {
    ...(region && { region }),
    ...(s3Endpoint && { s3Endpoint }),
    ...(dynamodbEndpoint && { dynamodbEndpoint }),
    s3ForcePathStyle: flag(env, "S3_FORCE_PATH_STYLE") ?? s3Endpoint !== undefined,
    tableName,
    ...(policyJson && { policyJson }),
    ...(policyFile && { policyFile }),
    concurrency: integer(env, "CONCURRENCY", 1, 256) ?? DEFAULT_CONCURRENCY,
    ...(ttlDays !== undefined && { tombstoneTtlSeconds: ttlDays * 86_400 }),
    serviceName: text(env, "POWERTOOLS_SERVICE_NAME") ?? "s3-metadata-catalog",
    metricsNamespace: text(env, "POWERTOOLS_METRICS_NAMESPACE") ?? METRICS_NAMESPACE,
    ...(logLevel && { logLevel }),
    derivedPrefix,
    thumbnails: flag(env, "THUMBNAILS") ?? true,
  };
}

function text(env: Environment, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

function endpoint(env: Environment, name: string): string | undefined {
  const value = text(env, name);
  if (value === undefined) return undefined;
  try {
    const url = new URL(value);
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error(url.protocol);
  } catch (error) {
    throw new ConfigError(`${name} is not an http(s) URL: ${value}`, { cause: error });
  }
  return value;
}

function integer(env: Environment, name: string, min: number, max: number): number | undefined {
  const value = text(env, name);
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isInteger(number) || number < min || number > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
  return number;
}

function flag(env: Environment, name: string): boolean | undefined {
  const value = text(env, name)?.toLowerCase();
  if (value === undefined) return undefined;
  if (["1", "true", "yes"].includes(value)) return true;
  if (["0", "false", "no"].includes(value)) return false;
  throw new ConfigError(`${name} must be true or false, got ${value}`);
}
