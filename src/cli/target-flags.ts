import type { Command } from "commander";
import { LOCAL_DEFAULTS } from "../local/local-defaults.js";
import { CliError } from "./cli-error.js";

// What every command needs at start-up (its flags), apart from target.ts,
// which builds SDK clients and is imported only when a command runs.

/** Flags shared by every command that talks to a catalog. */
export interface TargetFlags {
  profile?: string;
  region?: string;
  bucket?: string;
  table?: string;
  s3Endpoint?: string;
  dynamodbEndpoint?: string;
  api?: string;
}

/** Adds the target flags to a command. */
export function withTargetFlags(command: Command): Command {
  return command
    .option("--profile <name>", "AWS profile: talk to AWS instead of the local stack")
    .option("--region <region>", "AWS region: talk to AWS instead of the local stack")
    .option("--bucket <name>", `bucket (env CATALOG_BUCKET; local default ${LOCAL_DEFAULTS.bucket})`)
    .option("--table <name>", `catalog table (env CATALOG_TABLE; local default ${LOCAL_DEFAULTS.tableName})`)
    .option("--s3-endpoint <url>", "S3 endpoint (local default http://127.0.0.1:4569)")
    .option("--dynamodb-endpoint <url>", "DynamoDB endpoint (local default http://127.0.0.1:8000)")
    .option("--api <url>", "local stack HTTP API (default http://127.0.0.1:3000)");
}

/**
 * What a mistyped location looks like: `S3://`, `s3:/`, `s3:bucket`, or
 * another scheme's URL (`https://bucket.s3.amazonaws.com/key`). Taken as a
 * bare key, each would list or show nothing and never say why.
 */
const NOT_AN_S3_URL = /^(s3:|[a-z][a-z0-9+.-]*:\/\/)/i;

/**
 * Splits `s3://bucket/key` (or a bare key) into bucket and key. A key that
 * looks like a mistyped URL is refused; `s3://bucket/<that key>` still names it.
 *
 * @example
 * parseS3Url("s3://photos/2024/a.jpg", "uploads") // { bucket: "photos", key: "2024/a.jpg" }
 * parseS3Url("2024/a.jpg", "uploads") // { bucket: "uploads", key: "2024/a.jpg" }
 */
export function parseS3Url(value: string, defaultBucket: string): { bucket: string; key: string } {
  if (!value.startsWith("s3://")) {
    if (NOT_AN_S3_URL.test(value)) {
      throw new CliError(
        `'${value}' is not an s3://bucket/key URL (a key of the default bucket would have no scheme)`,
      );
    }
    return { bucket: defaultBucket, key: value };
  }
  const rest = value.slice("s3://".length);
  const slash = rest.indexOf("/");
  if (slash === 0) throw new CliError(`'${value}' has no bucket name`);
  return slash < 0 ? { bucket: rest, key: "" } : { bucket: rest.slice(0, slash), key: rest.slice(slash + 1) };
}
