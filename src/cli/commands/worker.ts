import type { Command } from "commander";
import { LOG_LEVELS, parseLogLevel, parsePositiveInt } from "../options.js";
import { withTargetFlags } from "../target-flags.js";
import type { WorkerFlags } from "./worker-run.js";

/** `catalog worker`: the pipeline as a long-running SQS consumer (EC2, containers). */
export function registerWorker(program: Command): void {
  withTargetFlags(
    program
      .command("worker")
      .description(
        "long-poll an SQS queue of S3 notifications and catalog each object, as the SQS-triggered function does",
      )
      // Not Commander's required option: its error names the flag alone, not the variable that may stand for it.
      .option(
        "--queue <url>",
        "SQS queue URL (env CATALOG_QUEUE_URL); an Amazon SQS URL means AWS, in its region",
        process.env.CATALOG_QUEUE_URL,
      )
      .option("--sqs-endpoint <url>", "SQS endpoint for emulators (env AWS_ENDPOINT_URL_SQS)")
      .option("--concurrency <n>", "batches in flight at once", parsePositiveInt, 1)
      .option("--object-concurrency <n>", "objects processed at once within a batch", parsePositiveInt, 8)
      .option("--batch-size <n>", "messages per receive, 1 to 10", parsePositiveInt, 10)
      .option("--wait-time <seconds>", "long-poll wait, 1 to 20", parsePositiveInt, 20)
      .option(
        "--visibility-timeout <seconds>",
        "how long a received message stays hidden, up to 43200 (12 hours); renewed while its batch runs",
        parsePositiveInt,
        120,
      )
      .option(
        "--heartbeat <seconds>",
        "seconds between visibility renewals (default: a third of the timeout)",
        parsePositiveInt,
      )
      .option("--policy-file <path>", "validation policy (JSON)")
      .option("--no-thumbnails", "do not write thumbnails under the derived prefix")
      .option("--log-level <level>", `log level: ${LOG_LEVELS.join(", ")}`, parseLogLevel, "INFO"),
    // Each event names its bucket: the worker has no default one to take.
    { bucket: false, derived: true },
  )
    .addHelpText(
      "after",
      `
Target: a queue URL on Amazon SQS (https://sqs.<region>.amazonaws.com/...) means AWS,
and its region is every client's default: --region, if given, names the region of
the table and buckets. An emulator's queue URL works on the local stack unless
--profile, --region or CATALOG_TARGET=aws says AWS.`,
    )
    // SDK clients, the handler and sqs-consumer load only when `worker` runs.
    .action(async (flags: WorkerFlags) => (await import("./worker-run.js")).runWorker(flags));
}
