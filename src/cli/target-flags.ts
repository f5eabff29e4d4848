import { type Command, Option } from "commander";
import { DEFAULT_DERIVED_PREFIX, derivedPrefixProblem } from "../config/config.js";
import { LOCAL_DEFAULTS } from "../local/local-defaults.js";
import { bucketNameProblem } from "../s3/bucket-name.js";
import { CliError } from "./cli-error.js";
import { parseBucketName, parseDerivedPrefix } from "./options.js";

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
  derivedPrefix?: string;
  /** Accepted by every command (see {@link withTargetFlags}); only `dlq` calls it. */
  api?: string;
}

/** Flags of a command that calls the local stack's HTTP API (`dlq`). */
export interface LocalApiFlags {
  profile?: string;
  region?: string;
  api?: string;
}

const LOCAL_API = `http://127.0.0.1:${LOCAL_DEFAULTS.httpPort}`;

/**
 * Hidden options: accepted and unused, so a script can pass one set of
 * target flags to every command (as `catalog dev` suggests) without each
 * command's help listing flags that change nothing for it.
 */
function acceptUnused(command: Command, flags: readonly string[]): Command {
  for (const spec of flags) command.addOption(new Option(spec).hideHelp());
  return command;
}

/**
 * Adds the target flags to a command that reaches a catalog. A command whose
 * buckets come from the events it receives (`worker`) takes `bucket: false`:
 * `--bucket` is then accepted but not offered. One that writes or skips
 * derived files (`upload`, `backfill`, `reprocess`, `worker`) takes
 * `derived: true` and offers `--derived-prefix`; the others accept it.
 */
export function withTargetFlags(
  command: Command,
  { bucket = true, derived = false }: { bucket?: boolean; derived?: boolean } = {},
): Command {
  command
    .option("--profile <name>", "AWS profile: talk to AWS instead of the local stack")
    .option("--region <region>", "AWS region: talk to AWS instead of the local stack");
  if (bucket) {
    command.option(
      "--bucket <name>",
      `bucket (env CATALOG_BUCKET; local default ${LOCAL_DEFAULTS.bucket})`,
      parseBucketName,
    );
  }
  command
    .option("--table <name>", `catalog table (env CATALOG_TABLE; local default ${LOCAL_DEFAULTS.tableName})`)
    .option("--s3-endpoint <url>", "S3 endpoint (local default http://127.0.0.1:4569)")
    .option("--dynamodb-endpoint <url>", "DynamoDB endpoint (local default http://127.0.0.1:8000)");
  const derivedFlag = new Option(
    "--derived-prefix <prefix>",
    `where thumbnails go, the stack's derivedPrefix (env CATALOG_DERIVED_PREFIX; default ${DEFAULT_DERIVED_PREFIX})`,
  ).argParser(parseDerivedPrefix);
  command.addOption(derived ? derivedFlag : derivedFlag.hideHelp());
  return acceptUnused(command, bucket ? ["--api <url>"] : ["--api <url>", "--bucket <name>"]);
}

/** A flag's value as a shell reads it back: bare when it is plain, else in single quotes. */
export function shellWord(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replaceAll("'", "'\\''")}'`;
}

/**
 * The flags that chose this command's catalog, for a command it suggests:
 * repeated, they reach the same one (a stack on other ports, a profile, a
 * table). `--bucket` is left out, as the suggestion names its bucket in its
 * s3:// location; variables (CATALOG_BUCKET ...) carry over by themselves.
 *
 * @example
 * sameTargetFlags({ s3Endpoint: "http://127.0.0.1:14569", table: "catalog" })
 * // " --table catalog --s3-endpoint http://127.0.0.1:14569"
 */
export function sameTargetFlags(flags: TargetFlags & { api?: string }): string {
  const given: [string, string | undefined][] = [
    ["--profile", flags.profile],
    ["--region", flags.region],
    ["--table", flags.table],
    ["--s3-endpoint", flags.s3Endpoint],
    ["--dynamodb-endpoint", flags.dynamodbEndpoint],
    ["--derived-prefix", flags.derivedPrefix],
    ["--api", flags.api],
  ];
  return given
    .filter((flag): flag is [string, string] => flag[1] !== undefined)
    .map(([name, value]) => ` ${name} ${shellWord(value)}`)
    .join("");
}

/** Where a command looked for the local stack, and what it wanted of it. */
export interface LocalStackPlace {
  s3?: string;
  dynamodb?: string;
  api?: string;
  bucket?: string;
  table?: string;
}

/**
 * How to start a local stack that answers where a command looked: `'npm
 * start'` for the default places, else with the `catalog dev` flags that put
 * its servers, bucket and table there; or, where no `catalog dev` can answer
 * (it serves plain HTTP on 127.0.0.1, each server on a port of its own), why not.
 *
 * @example
 * localStartHint({ s3: "http://127.0.0.1:14569" })
 * // { command: "'npm start -- --s3-port 14569' (catalog dev --s3-port 14569)" }
 */
export function localStartHint(place: LocalStackPlace): { command: string } | { problem: string } {
  const servers: [flag: string, endpointFlag: string, url: string | undefined, port: number][] = [
    ["--s3-port", "--s3-endpoint", place.s3, LOCAL_DEFAULTS.s3Port],
    ["--dynamodb-port", "--dynamodb-endpoint", place.dynamodb, LOCAL_DEFAULTS.dynamodbPort],
    ["--http-port", "--api", place.api, LOCAL_DEFAULTS.httpPort],
  ];
  const ports = new Map<number, string>();
  let flags = "";
  for (const [flag, endpointFlag, url, defaultPort] of servers) {
    if (url === undefined) continue;
    // --api is not checked by the commands that do not call it: here it may be anything.
    const parsed = URL.canParse(url) ? new URL(url) : undefined;
    if (parsed?.protocol !== "http:" || !["127.0.0.1", "localhost"].includes(parsed.hostname))
      return { problem: `${endpointFlag} ${url} is not on http://127.0.0.1, where 'catalog dev' serves` };
    const port = Number(parsed.port || 80);
    const other = ports.get(port);
    if (other)
      return {
        problem: `${other} and ${endpointFlag} name one port, ${port}, and 'catalog dev' gives each server its own`,
      };
    ports.set(port, endpointFlag);
    if (port !== defaultPort) flags += ` ${flag} ${port}`;
  }
  if (place.bucket !== undefined && place.bucket !== LOCAL_DEFAULTS.bucket)
    flags += ` --bucket ${place.bucket}`;
  if (place.table !== undefined && place.table !== LOCAL_DEFAULTS.tableName)
    flags += ` --table ${shellWord(place.table)}`;
  return { command: flags ? `'npm start --${flags}' (catalog dev${flags})` : "'npm start' (catalog dev)" };
}

/**
 * The derived prefix from `--derived-prefix`, then CATALOG_DERIVED_PREFIX,
 * then the default every stack uses unless deployed with another: keys under
 * it are never cataloged, and thumbnails are written there.
 *
 * @example
 * derivedPrefixOf({}, { CATALOG_DERIVED_PREFIX: "thumbs/" }) // "thumbs/"
 */
export function derivedPrefixOf(flags: TargetFlags, env: NodeJS.ProcessEnv = process.env): string {
  if (flags.derivedPrefix !== undefined) return flags.derivedPrefix;
  const fromEnv = env.CATALOG_DERIVED_PREFIX;
  if (fromEnv === undefined || fromEnv === "") return DEFAULT_DERIVED_PREFIX;
  const problem = derivedPrefixProblem(fromEnv);
  if (problem) throw new CliError(`CATALOG_DERIVED_PREFIX '${fromEnv}' ${problem}`);
  return fromEnv;
}

/**
 * Adds the flags of `dlq`, which works through the local stack's HTTP API
 * and, against AWS, only says where the dead-letter queue is.
 */
export function withLocalApiFlags(command: Command): Command {
  command
    .option("--profile <name>", "AWS profile: print where the dead-letter queue is in AWS")
    .option("--region <region>", "AWS region: print where the dead-letter queue is in AWS")
    .option("--api <url>", `local stack HTTP API (default ${LOCAL_API})`);
  return acceptUnused(command, [
    "--bucket <name>",
    "--table <name>",
    "--s3-endpoint <url>",
    "--dynamodb-endpoint <url>",
  ]);
}

/**
 * Whether the flags (or CATALOG_TARGET=aws) point at AWS rather than the local stack.
 *
 * @example
 * targetsAws({ region: "eu-west-1" }, {}) // true
 * targetsAws({}, { CATALOG_TARGET: "aws" }) // true
 */
export function targetsAws(
  flags: { profile?: string; region?: string },
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  return flags.profile !== undefined || flags.region !== undefined || env.CATALOG_TARGET === "aws";
}

/**
 * `value` without a trailing `/` when it is an http(s) URL; a one-line error naming `flag` otherwise.
 *
 * @example
 * httpUrl("http://127.0.0.1:3000/", "--api") // "http://127.0.0.1:3000"
 */
export function httpUrl(value: string, flag: string): string {
  try {
    const parsed = new URL(value);
    if (parsed.protocol === "http:" || parsed.protocol === "https:") return value.replace(/\/$/, "");
  } catch {
    // fall through to the one-line error
  }
  throw new CliError(`${flag} must be an http(s) URL, got '${value}'`);
}

/**
 * The local stack's HTTP API named by `--api`, or the default one.
 *
 * @example
 * localApiUrl({}) // "http://127.0.0.1:3000"
 */
export function localApiUrl(flags: LocalApiFlags): string {
  return httpUrl(flags.api ?? LOCAL_API, "--api");
}

/**
 * What a mistyped location looks like: `S3://`, `s3:/`, `s3:bucket`, or
 * another scheme's URL (`https://bucket.s3.amazonaws.com/key`). Taken as a
 * bare key, each would list or show nothing and never say why.
 */
const NOT_AN_S3_URL = /^(s3:|[a-z][a-z0-9+.-]*:\/\/)/i;

/** What a local path looks like (`/home/me/photos`, `./photos`, `../photos`): no key a person means. */
const LOCAL_PATH = /^(\/|\.\.?\/)/;

/**
 * Splits `s3://bucket/key` (or a bare key) into bucket and key. A key that
 * looks like a mistyped URL or a local path is refused; `s3://bucket/<that key>`
 * still names it.
 * A bucket name S3 would refuse is refused too, as `--bucket` refuses it.
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
    if (LOCAL_PATH.test(value)) {
      throw new CliError(
        `'${value}' is a local path, not a place in S3: write s3://bucket/key, or s3://bucket/folder/ (a key or folder of the default bucket has no leading '/' or './')`,
      );
    }
    return { bucket: defaultBucket, key: value };
  }
  const rest = value.slice("s3://".length);
  const slash = rest.indexOf("/");
  if (slash === 0 || rest === "") throw new CliError(`'${value}' has no bucket name`);
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  // Checked as --bucket is: otherwise "does not exist" or "not in the catalog" would hide the typo.
  const problem = bucketNameProblem(bucket);
  if (problem) throw new CliError(`'${bucket}' in '${value}' is not an S3 bucket name: ${problem}`);
  return { bucket, key: slash < 0 ? "" : rest.slice(slash + 1) };
}
