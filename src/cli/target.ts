import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import { SDK_HTTP_TIMEOUTS } from "../config/config.js";
import {
  LOCAL_CREDENTIALS,
  LOCAL_DEFAULTS,
  LOCAL_REGION,
  LOCAL_S3_CLIENT_OPTIONS,
} from "../local/local-defaults.js";
import { bucketNameProblem } from "../s3/bucket-name.js";
import { CatalogStore } from "../store/catalog-store.js";
import { CliError } from "./cli-error.js";
import { isNotTheProtocol } from "./sdk-errors.js";
import { localStartHint, type TargetFlags, targetsAws, httpUrl as url } from "./target-flags.js";

export type { TargetFlags };

/** Where a command's S3 and DynamoDB calls go, with clients ready. */
export interface CatalogConnection {
  mode: "local" | "aws";
  /** The AWS profile named by `--profile`, if any. */
  profile?: string;
  s3: S3Client;
  dynamodb: DynamoDBClient;
  store: CatalogStore;
  tableName: string;
  /** The endpoints the clients were pointed at (the local stack's, or a flag's); AWS's own are not named. */
  endpoints?: { s3?: string; dynamodb?: string };
  close(): void;
}

/** A connection and the bucket a command works on by default. */
export interface Target extends CatalogConnection {
  bucket: string;
}

/**
 * The local stack unless `--profile` or `--region` (or CATALOG_TARGET=aws)
 * says AWS; bucket and table from flags, then CATALOG_BUCKET / CATALOG_TABLE.
 * Configuration is read here, at the edge, and passed down.
 */
export function resolveTarget(flags: TargetFlags, env: NodeJS.ProcessEnv = process.env): Target {
  // An empty variable counts as unset, as CATALOG_DERIVED_PREFIX does (`docker run -e CATALOG_BUCKET=`).
  const bucket =
    flags.bucket ?? (env.CATALOG_BUCKET || (targetsAws(flags, env) ? undefined : LOCAL_DEFAULTS.bucket));
  if (!bucket) throw new CliError("no bucket: pass --bucket or set CATALOG_BUCKET");
  // --bucket was checked as it was parsed; the variable is checked here, where it is read.
  const problem = flags.bucket === undefined ? bucketNameProblem(bucket) : undefined;
  if (problem) throw new CliError(`CATALOG_BUCKET '${bucket}' is not an S3 bucket name: ${problem}`);
  return { ...connectCatalog(flags, env), bucket };
}

/**
 * The clients and catalog of {@link resolveTarget} without a default bucket,
 * for commands that learn their buckets from the events they receive
 * (`catalog worker`): against AWS they need no `--bucket`.
 *
 * @example
 * const connection = connectCatalog({ region: "eu-west-1", table: "catalog" });
 */
export function connectCatalog(flags: TargetFlags, env: NodeJS.ProcessEnv = process.env): CatalogConnection {
  const aws = targetsAws(flags, env);
  // An empty variable counts as unset; an empty --table is refused below.
  const tableName = flags.table ?? (env.CATALOG_TABLE || (aws ? undefined : LOCAL_DEFAULTS.tableName));
  if (!tableName) throw new CliError("no catalog table: pass --table or set CATALOG_TABLE");

  let s3: S3Client;
  let dynamodb: DynamoDBClient;
  let endpoints: NonNullable<CatalogConnection["endpoints"]>;
  if (aws) {
    const common = {
      ...(flags.region && { region: flags.region }),
      ...(flags.profile && { profile: flags.profile }),
      requestHandler: SDK_HTTP_TIMEOUTS,
    };
    s3 = new S3Client({
      ...common,
      ...(flags.s3Endpoint && { endpoint: url(flags.s3Endpoint, "--s3-endpoint"), forcePathStyle: true }),
    });
    dynamodb = new DynamoDBClient({
      ...common,
      ...(flags.dynamodbEndpoint && { endpoint: url(flags.dynamodbEndpoint, "--dynamodb-endpoint") }),
    });
    endpoints = {
      ...(flags.s3Endpoint && { s3: flags.s3Endpoint }),
      ...(flags.dynamodbEndpoint && { dynamodb: flags.dynamodbEndpoint }),
    };
  } else {
    endpoints = {
      s3: url(flags.s3Endpoint ?? `http://127.0.0.1:${LOCAL_DEFAULTS.s3Port}`, "--s3-endpoint"),
      dynamodb: url(
        flags.dynamodbEndpoint ?? `http://127.0.0.1:${LOCAL_DEFAULTS.dynamodbPort}`,
        "--dynamodb-endpoint",
      ),
    };
    s3 = new S3Client({
      ...LOCAL_S3_CLIENT_OPTIONS,
      endpoint: endpoints.s3,
      requestHandler: SDK_HTTP_TIMEOUTS,
    });
    dynamodb = new DynamoDBClient({
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
      requestHandler: SDK_HTTP_TIMEOUTS,
      endpoint: endpoints.dynamodb,
    });
  }
  return {
    mode: aws ? "aws" : "local",
    ...(flags.profile !== undefined && { profile: flags.profile }),
    s3,
    dynamodb,
    store: new CatalogStore(dynamodb, { tableName }),
    tableName,
    endpoints,
    close() {
      s3.destroy();
      dynamodb.destroy();
    },
  };
}

/** The error and its causes, outermost first (store and source errors wrap the SDK's). */
function causeChain(error: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let link = error; link !== undefined && link !== null && chain.length < 8; ) {
    chain.push(link);
    link = (link as { cause?: unknown }).cause;
  }
  return chain;
}

/**
 * Resolves the AWS credentials and region the clients will use, so a missing
 * one is said once, in one line, before any work starts (an upload of a
 * thousand files would otherwise fail a thousand times). The SDK memoises
 * both, so the calls that follow reuse what is resolved here.
 *
 * @example
 * if (target.mode === "aws") await checkAwsAccess(target);
 */
export async function checkAwsAccess(target: Pick<CatalogConnection, "s3" | "profile">): Promise<void> {
  try {
    await target.s3.config.credentials();
  } catch (error) {
    if (isMissingRegion(error)) throw new CliError(NO_REGION);
    const cause = error instanceof Error ? error.message : String(error);
    throw new CliError(
      target.profile === undefined
        ? `no AWS credentials: run 'aws configure', pass --profile, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (${cause})`
        : `no AWS credentials for profile '${target.profile}': run 'aws configure --profile ${target.profile}' or 'aws sso login --profile ${target.profile}' (${cause})`,
    );
  }
  try {
    await target.s3.config.region();
  } catch (error) {
    if (isMissingRegion(error)) throw new CliError(NO_REGION);
    throw error;
  }
}

const NO_REGION = "no AWS region: pass --region or set AWS_REGION (or give the profile a region)";

/** The SDK's own words for a client with no region anywhere in its configuration chain. */
function isMissingRegion(error: unknown): boolean {
  return causeChain(error).some((link) => /^Region is missing/.test((link as Error).message ?? ""));
}

/**
 * Turns an unreachable local endpoint (or a missing table or bucket) into the one line a user needs.
 * `api` is the `--api` the command was given, which a stack to start should serve too.
 */
export function explainConnectionError(error: unknown, target: Target, api?: string): never {
  const chain = causeChain(error);
  const refused = chain.filter(
    (link) => (link as { code?: string }).code === "ECONNREFUSED" || /ECONNREFUSED/.test(String(link)),
  ) as { address?: string; port?: number }[];
  // The start named is one that serves where this command looked: 'npm start' alone would start a
  // stack on the default ports, and the command would find nothing there again.
  // --api is named too, for the stack to serve it as well, unless this command's unused --api is no place
  // 'catalog dev' could serve: then it is left out, as the command left it.
  const servesApi = api !== undefined && "command" in localStartHint({ api });
  const start = () =>
    localStartHint({
      ...target.endpoints,
      ...(servesApi && { api }),
      bucket: target.bucket,
      table: target.tableName,
    });
  if (target.mode === "local" && refused.length > 0) {
    // Named, since a stack started on other ports is running yet not here.
    const located = refused.find((link) => link.address && link.port);
    const where = located ? `nothing answers at http://${located.address}:${located.port}` : "";
    const hint = start();
    throw new CliError(
      "command" in hint
        ? `the local stack is not running: start it with ${hint.command}${where && `; ${where}`}`
        : `${where || "nothing answers"}, and no 'catalog dev' can answer there: ${hint.problem}`,
    );
  }
  const names = chain.map((link) => (link as Error).name);
  // The local stack answers 503 only once Ctrl-C has stopped it taking changes (see `catalog dev`).
  if (target.mode === "local" && names.includes("ServiceUnavailable")) {
    const hint = start();
    throw new CliError(
      `the local stack is stopping and accepts no more changes${"command" in hint ? `: start it again with ${hint.command}` : ""}`,
    );
  }
  const garbled = chain.find(isNotTheProtocol) as
    | { $metadata?: { httpStatusCode?: number }; $response?: { statusCode?: number } }
    | undefined;
  if (garbled) {
    // The catalog store's failures are DynamoDB's; any other call a command makes is S3's.
    const dynamodb = names.includes("StoreError");
    const service = dynamodb ? "DynamoDB" : "S3";
    const endpoint = dynamodb ? target.endpoints?.dynamodb : target.endpoints?.s3;
    const status = garbled.$metadata?.httpStatusCode ?? garbled.$response?.statusCode;
    const flag = dynamodb ? "--dynamodb-endpoint" : "--s3-endpoint";
    throw new CliError(
      `the ${service} endpoint${endpoint ? ` ${endpoint}` : ""} answered, but not as ${service} does` +
        `${status ? ` (HTTP ${status})` : ""}: is ${flag} the address of the ${service} server?` +
        (target.mode === "local" ? " ('catalog dev' prints it)" : ""),
    );
  }
  if (names.includes("ResourceNotFoundException"))
    throw new CliError(`table '${target.tableName}' does not exist`);
  const noSuchBucket = chain.find((link) => (link as Error).name === "NoSuchBucket");
  if (noSuchBucket) {
    // The bucket a command was pointed at (s3://other/...) is not always the target's default.
    const bucket = (noSuchBucket as { BucketName?: string }).BucketName ?? target.bucket;
    throw new CliError(`bucket '${bucket}' does not exist`);
  }
  throw error;
}
