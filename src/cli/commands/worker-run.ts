import { Metrics } from "@aws-lambda-powertools/metrics";
import { GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { METRICS_NAMESPACE, SDK_HTTP_TIMEOUTS } from "../../config/config.js";
import { describeError } from "../../engine/errors.js";
import { createHandler } from "../../lambda/handler.js";
import { LOCAL_CREDENTIALS, LOCAL_REGION } from "../../local/local-defaults.js";
import { warmUpPipeline } from "../../pipeline/warm-up.js";
import { DEFAULT_POLICY, loadPolicy } from "../../policy/policy.js";
import { awsQueueRegion } from "../../worker/aws-queue-url.js";
import { sqsHttpTimeouts } from "../../worker/sqs-http-timeouts.js";
import { queueIdentity } from "../../worker/sqs-records.js";
import { startWorker } from "../../worker/sqs-worker.js";
import { CliError } from "../cli-error.js";
import type { LogLevel } from "../options.js";
import { type CatalogConnection, checkAwsAccess, connectCatalog, type TargetFlags } from "../target.js";
import { derivedPrefixOf, httpUrl } from "../target-flags.js";
import { TerminalLogger } from "../terminal-logger.js";

/** The longest visibility timeout SQS takes (ReceiveMessage, ChangeMessageVisibility): 12 hours. */
const MAX_VISIBILITY_TIMEOUT_S = 43_200;

/** Flags of `catalog worker`, as Commander parses them. */
export interface WorkerFlags extends TargetFlags {
  queue: string;
  sqsEndpoint?: string;
  concurrency: number;
  objectConcurrency: number;
  batchSize: number;
  waitTime: number;
  visibilityTimeout: number;
  heartbeat?: number;
  policyFile?: string;
  thumbnails: boolean;
  logLevel: LogLevel;
}

/**
 * The SQS client for the target. On AWS it signs for the queue's own region
 * (the URL's, else `--region`, else AWS_REGION or the profile's): the SDK
 * sends each call to the queue URL's host, which answers only for its region.
 * Locally it uses the local stack's credentials and the emulator at
 * `--sqs-endpoint`, AWS_ENDPOINT_URL_SQS, or the queue URL's own origin.
 * `timeouts` are its HTTP time limits.
 */
function sqsClient(
  flags: WorkerFlags,
  mode: "local" | "aws",
  queueRegion: string | undefined,
  env: NodeJS.ProcessEnv,
  timeouts: { connectionTimeout: number; socketTimeout: number },
): SQSClient {
  const endpointFlag = flags.sqsEndpoint ?? env.AWS_ENDPOINT_URL_SQS;
  const endpoint = endpointFlag === undefined ? undefined : httpUrl(endpointFlag, "--sqs-endpoint");
  if (mode === "local") {
    return new SQSClient({
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
      endpoint: endpoint ?? new URL(flags.queue).origin,
      requestHandler: timeouts,
    });
  }
  const region = queueRegion ?? flags.region;
  return new SQSClient({
    ...(region && { region }),
    ...(flags.profile && { profile: flags.profile }),
    ...(endpoint && { endpoint }),
    requestHandler: timeouts,
  });
}

/** The clients `catalog worker` reads its queue and writes its catalog with. */
export interface WorkerConnection {
  /** S3 and DynamoDB, as the handler uses them. */
  target: CatalogConnection;
  /** Polls, deletes and extends visibility: its socket may stay silent for a whole long poll. */
  sqs: SQSClient;
  /** For calls that answer at once (the start-up check): it gives up as soon as S3 and DynamoDB calls do. */
  sqsCheck: SQSClient;
  close(): void;
}

/**
 * Builds the worker's clients. A queue URL on Amazon SQS
 * (`https://sqs.<region>.amazonaws.com/...`) targets AWS by itself, and its
 * region is the default of every client: the buckets that notify a queue are
 * in its region, and so, most often, is the table. `--region` still chooses
 * the region of S3 and DynamoDB. An emulator's queue URL leaves the choice to
 * the usual flags (`--profile`, `--region`, CATALOG_TARGET=aws).
 *
 * @example
 * const { target, sqs } = connectWorker({ ...flags, queue: "https://sqs.eu-west-1.amazonaws.com/123456789012/q" });
 * await target.s3.config.region(); // "eu-west-1"
 */
export function connectWorker(flags: WorkerFlags, env: NodeJS.ProcessEnv = process.env): WorkerConnection {
  const queueRegion = awsQueueRegion(flags.queue);
  const targetFlags =
    queueRegion !== undefined && flags.region === undefined ? { ...flags, region: queueRegion } : flags;
  const target = connectCatalog(targetFlags, env);
  const sqs = sqsClient(flags, target.mode, queueRegion, env, sqsHttpTimeouts(flags.waitTime));
  const sqsCheck = sqsClient(flags, target.mode, queueRegion, env, SDK_HTTP_TIMEOUTS);
  return {
    target,
    sqs,
    sqsCheck,
    close() {
      sqs.destroy();
      sqsCheck.destroy();
      target.close();
    },
  };
}

/** Runs `catalog worker` until SIGINT/SIGTERM; a second signal quits at once. */
export async function runWorker(flags: WorkerFlags, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  if (!flags.queue) throw new CliError("no queue: pass --queue URL or set CATALOG_QUEUE_URL");
  httpUrl(flags.queue, "--queue");
  if (flags.batchSize > 10) throw new CliError(`--batch-size is 1 to 10, got ${flags.batchSize}`);
  if (flags.waitTime > 20) throw new CliError(`--wait-time is 1 to 20 seconds, got ${flags.waitTime}`);
  // SQS takes 0 to 43200 s for a visibility timeout: a longer one would fail its calls, again and again, not once here.
  if (flags.visibilityTimeout > MAX_VISIBILITY_TIMEOUT_S) {
    throw new CliError(
      `--visibility-timeout is 1 to ${MAX_VISIBILITY_TIMEOUT_S} seconds (12 hours, SQS's limit), got ${flags.visibilityTimeout}`,
    );
  }
  if (flags.heartbeat !== undefined && flags.heartbeat >= flags.visibilityTimeout) {
    throw new CliError("--heartbeat must be shorter than --visibility-timeout");
  }
  const derivedPrefix = derivedPrefixOf(flags, env);
  const policy = flags.policyFile ? await loadPolicy({ file: flags.policyFile }) : DEFAULT_POLICY;
  // EMF lines on stdout feed CloudWatch only where an agent collects them: off unless asked for.
  env.POWERTOOLS_METRICS_DISABLED ??= "true";
  // The worker's lines carry uploaders' keys and metadata and are often read in a terminal; a log agent
  // parses the escaped line to the same values.
  const logger = new TerminalLogger({ serviceName: "s3-metadata-catalog-worker", logLevel: flags.logLevel });

  const connection = connectWorker(flags, env);
  const { target, sqs, sqsCheck } = connection;
  try {
    // A missing region or credentials is said once here, not once per message.
    if (target.mode === "aws") await checkAwsAccess(target);
    const attributes = await sqsCheck
      .send(
        new GetQueueAttributesCommand({
          QueueUrl: flags.queue,
          AttributeNames: ["VisibilityTimeout", "RedrivePolicy"],
        }),
      )
      .catch((error: unknown) => {
        throw new CliError(`cannot read queue ${flags.queue}: ${describeError(error)}`);
      });
    if (!attributes.Attributes?.RedrivePolicy) {
      logger.warn("the queue has no redrive policy: a poison message is retried until it expires", {
        queueUrl: flags.queue,
      });
    }

    const handle = createHandler({
      s3: target.s3,
      dynamodb: target.dynamodb,
      tableName: target.tableName,
      policy,
      concurrency: flags.objectConcurrency,
      derivedPrefix,
      thumbnails: flags.thumbnails,
      logger,
      metrics: new Metrics({ namespace: METRICS_NAMESPACE, serviceName: "s3-metadata-catalog-worker" }),
    });
    warmUpPipeline({ thumbnails: flags.thumbnails });
    const worker = startWorker({
      sqs,
      queueUrl: flags.queue,
      handle: (event) => handle(event),
      concurrency: flags.concurrency,
      batchSize: flags.batchSize,
      waitTimeSeconds: flags.waitTime,
      visibilityTimeout: flags.visibilityTimeout,
      ...(flags.heartbeat !== undefined && { heartbeatInterval: flags.heartbeat }),
      region: queueIdentity(flags.queue, target.mode === "local" ? LOCAL_REGION : flags.region).region,
      logger: {
        info: (message, fields) => logger.info(message, fields ?? {}),
        warn: (message, fields) => logger.warn(message, fields ?? {}),
        error: (message, fields) => logger.error(message, fields ?? {}),
      },
    });

    await new Promise<void>((resolve) => {
      let stopping = false;
      const onSignal = (signal: NodeJS.Signals) => {
        if (stopping) {
          // The batches in flight are abandoned; their messages reappear after the visibility timeout.
          process.exit(128 + (signal === "SIGINT" ? 2 : 15));
        }
        stopping = true;
        logger.info("stopping after the batches in flight; signal again to quit now", { signal });
        void worker.stop().then(resolve);
      };
      process.on("SIGINT", onSignal);
      process.on("SIGTERM", onSignal);
    });
  } finally {
    connection.close();
  }
}
