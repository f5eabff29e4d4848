import type { Command } from "commander";
import { LOCAL_DEFAULTS } from "../../local/local-defaults.js";
import { LOG_LEVELS, parseBucketName, parseLogLevel, parsePort } from "../options.js";
import type { DevFlags } from "./dev-run.js";

/** `catalog dev`: the whole catalog on this machine. */
export function registerDev(program: Command): void {
  program
    .command("dev")
    .description(
      "start the local catalog: embedded S3 and DynamoDB, the pipeline and the HTTP API, on 127.0.0.1",
    )
    .option("--s3-port <port>", "S3 server port (0 picks a free one)", parsePort, LOCAL_DEFAULTS.s3Port)
    .option(
      "--dynamodb-port <port>",
      "DynamoDB server port (0 picks a free one)",
      parsePort,
      LOCAL_DEFAULTS.dynamodbPort,
    )
    .option(
      "--http-port <port>",
      "HTTP API and dashboard port (0 picks a free one)",
      parsePort,
      LOCAL_DEFAULTS.httpPort,
    )
    .option(
      "--data-dir <dir>",
      "where objects, the table and the dead-letter file live",
      LOCAL_DEFAULTS.dataDir,
    )
    .option(
      "--bucket <name>",
      "bucket to create and watch: the only one cataloged, as on AWS; changes in other buckets of the " +
        "embedded S3 are counted (a line here, /api/health) and left out (`catalog backfill s3://other/` " +
        "catalogs one)",
      parseBucketName,
      LOCAL_DEFAULTS.bucket,
    )
    .option("--table <name>", "catalog table", LOCAL_DEFAULTS.tableName)
    .option("--policy-file <path>", "validation policy (JSON)")
    .option("--log-level <level>", `handler log level: ${LOG_LEVELS.join(", ")}`, parseLogLevel, "INFO")
    // The stack (both emulators, the handler, the server) loads only when `dev` runs.
    .action(async (flags: DevFlags) => (await import("./dev-run.js")).runDev(flags));
}
