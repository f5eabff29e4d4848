/**
 * The Lambda entry point: thin. It builds clients once per container from
 * configuration, turns whatever invoked it into object events, hands them
 * to the pipeline, and reports back in the form the invoker understands —
 * an exception for a direct or EventBridge invocation with infrastructure
 * faults (so Lambda retries and the on-failure destination catches it),
 * `batchItemFailures` for SQS.
 */

import { LogFormatter, Logger, LogItem, LogLevelThreshold } from "@aws-lambda-powertools/logger";
import type { LogAttributes, LogLevel } from "@aws-lambda-powertools/logger/types";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import type { Context, SQSBatchResponse } from "aws-lambda";
import {
  type CatalogConfig,
  DEFAULT_DERIVED_PREFIX,
  EVENTS_FAILED_METRIC,
  METRICS_NAMESPACE,
  readConfig,
  SDK_HTTP_TIMEOUTS,
} from "../config/config.js";
import { CatalogError, describeError } from "../engine/errors.js";
import { type ObjectEvent, parseLambdaEvent } from "../events/s3-event.js";
import type { DerivedWriter, ObjectStorage } from "../pipeline/ports.js";
import type { ObjectOutcome } from "../pipeline/process-object.js";
import { loadPolicy, type Policy } from "../policy/policy.js";
import { S3ByteSource, tagObject } from "../s3/s3-byte-source.js";
import { S3DerivedWriter } from "../s3/s3-derived-writer.js";
import { CatalogStore } from "../store/catalog-store.js";

type PipelineModule = typeof import("../pipeline/process-events.js");

// The pipeline brings the engine, format detection (file-type, the MIME tables) and the byte readers: about a
// quarter of what a static import compiles at cold start. An invocation that names no object (s3:TestEvent,
// an all-derived or all-poison batch) never needs it, and bundled it becomes a chunk of its own that the
// first object loads beside its extractor's chunk.
let pipelineModule: Promise<PipelineModule> | undefined;
function loadPipeline(): Promise<PipelineModule> {
  pipelineModule ??= import("../pipeline/process-events.js").catch((error: unknown) => {
    pipelineModule = undefined;
    throw error;
  });
  return pipelineModule;
}

/** What a handler is built from. */
export interface HandlerDeps {
  s3: S3Client;
  dynamodb: DynamoDBClient;
  tableName: string;
  policy: Policy;
  /** Objects processed at once. @default 8 */
  concurrency?: number;
  tombstoneTtlSeconds?: number;
  logger?: Logger;
  metrics?: Metrics;
  /** Replaces the S3 reader (fault-injection tests); built from `s3` by default. */
  storage?: ObjectStorage;
  /** Events for keys under this prefix are skipped: derived artefacts never trigger a run. @default "_derived/" */
  derivedPrefix?: string;
  /** Write WebP thumbnails of images under the derived prefix. @default true */
  thumbnails?: boolean;
  /** Replaces the derived-artefact writer (fault-injection tests); built from `s3` by default. */
  derived?: DerivedWriter;
}

/** Direct and EventBridge invocations resolve to nothing; SQS ones to the failed messages. */
export type CatalogHandler = (event: unknown, context?: Context) => Promise<SQSBatchResponse | undefined>;

/**
 * Some objects of a direct or EventBridge invocation hit infrastructure
 * faults. Thrown after every other object was processed, so the retry
 * (which the idempotent writes make safe) redoes only what is missing.
 */
export class InvocationFaultError extends CatalogError {
  readonly failures: { bucket: string; key: string; error: unknown }[];
  constructor(failures: { bucket: string; key: string; error: unknown }[]) {
    const first = failures[0];
    super(
      `${failures.length} object(s) failed with infrastructure faults; first: s3://${first?.bucket}/${first?.key}: ${describeError(first?.error)}`,
      { cause: first?.error },
    );
    this.name = "InvocationFaultError";
    this.failures = failures;
  }
}

/**
 * Builds a handler over the given clients and policy.
 *
 * @example
 * const handle = createHandler({ s3, dynamodb, tableName: "catalog", policy: DEFAULT_POLICY });
 * await handle(toS3Notification(events));
 */
export function createHandler(deps: HandlerDeps): CatalogHandler {
  const logger = deps.logger ?? catalogLogger({ serviceName: "s3-metadata-catalog" });
  const metrics =
    deps.metrics ?? new Metrics({ namespace: METRICS_NAMESPACE, serviceName: "s3-metadata-catalog" });
  const catalog = new CatalogStore(deps.dynamodb, {
    tableName: deps.tableName,
    ...(deps.tombstoneTtlSeconds !== undefined && { tombstoneTtlSeconds: deps.tombstoneTtlSeconds }),
  });
  const storage: ObjectStorage = deps.storage ?? {
    open: (ref) => S3ByteSource.open(deps.s3, ref),
    tag: (bucket, key, tags, options) => tagObject(deps.s3, bucket, key, tags, options),
  };
  const derivedPrefix = deps.derivedPrefix ?? DEFAULT_DERIVED_PREFIX;
  const thumbnails =
    (deps.thumbnails ?? true)
      ? { writer: deps.derived ?? new S3DerivedWriter(deps.s3), derivedPrefix }
      : undefined;
  // Defense in depth: the notification filter (AWS) and the dispatcher (local) already keep derived keys
  // out, but a misconfigured trigger must not make the function feed on its own output.
  const isDerived = (item: ObjectEvent): boolean => {
    if (!item.key.startsWith(derivedPrefix)) return false;
    logger.info("event ignored", { reason: "derived artefact", key: item.key, eventName: item.eventName });
    return true;
  };

  return async (event, context) => {
    if (context) logger.addContext(context);
    const counts = new Map<string, number>();
    // Handed back to the platform: in SQS mode a partial batch response is a successful invocation, so
    // Lambda's Errors metric never counts these; this metric is what the stack's EventsFailed alarm watches.
    let eventsFailed = 0;
    const pipeline = {
      storage,
      catalog,
      policy: deps.policy,
      ...(thumbnails && { thumbnails }),
      logger: {
        info: (message: string, fields?: Record<string, unknown>) => logger.info(message, fields ?? {}),
        warn: (message: string, fields?: Record<string, unknown>) => logger.warn(message, fields ?? {}),
        error: (message: string, fields?: Record<string, unknown>) => logger.error(message, fields ?? {}),
      },
      onOutcome: (outcome: ObjectOutcome) => {
        counts.set(outcome.outcome, (counts.get(outcome.outcome) ?? 0) + 1);
        metrics.addMetric("BytesRead", MetricUnit.Bytes, outcome.bytesRead);
        if (outcome.extractionMs !== undefined) {
          metrics.addMetric("ExtractionDuration", MetricUnit.Milliseconds, outcome.extractionMs);
        }
        if (outcome.thumbnailMs !== undefined) {
          metrics.addMetric("ThumbnailDuration", MetricUnit.Milliseconds, outcome.thumbnailMs);
        }
      },
    };
    const options = { concurrency: deps.concurrency ?? 8 };
    try {
      const envelope = parseLambdaEvent(event);
      for (const ignored of envelope.ignored) {
        const log = ignored.malformed ? logger.warn.bind(logger) : logger.info.bind(logger);
        log("event ignored", { reason: ignored.reason, eventName: ignored.eventName });
      }

      if (envelope.source === "sqs") {
        const events: ObjectEvent[] = [];
        const owners: string[] = [];
        for (const message of envelope.messages) {
          for (const item of message.events) {
            if (isDerived(item)) continue;
            events.push(item);
            owners.push(message.messageId);
          }
        }
        const results =
          events.length > 0 ? await (await loadPipeline()).processEvents(events, pipeline, options) : [];
        const failed = new Set<string>();
        for (const message of envelope.messages) {
          if (message.error !== undefined) {
            logger.error("poison message", { messageId: message.messageId, error: message.error });
            failed.add(message.messageId);
          }
        }
        results.forEach((result, index) => {
          if (result.ok) return;
          logFault(logger, result.event, result.error);
          failed.add(owners[index] as string);
        });
        eventsFailed = failed.size;
        // Report in the order SQS delivered, so a FIFO queue's ordering rule holds.
        const batchItemFailures = envelope.messages
          .filter((message) => failed.has(message.messageId))
          .map((message) => ({ itemIdentifier: message.messageId }));
        return { batchItemFailures };
      }

      const events = envelope.events.filter((item) => !isDerived(item));
      const results =
        events.length > 0 ? await (await loadPipeline()).processEvents(events, pipeline, options) : [];
      const failures = results.flatMap((result) => {
        if (result.ok) return [];
        logFault(logger, result.event, result.error);
        return [{ bucket: result.event.bucket, key: result.event.key, error: result.error }];
      });
      eventsFailed = failures.length;
      if (failures.length > 0) throw new InvocationFaultError(failures);
      return undefined;
    } finally {
      // An invocation that processed nothing (s3:TestEvent) has nothing to publish.
      for (const [outcome, count] of counts) {
        const single = metrics.singleMetric();
        single.addDimension("outcome", outcome);
        single.addMetric("ObjectsProcessed", MetricUnit.Count, count);
      }
      if (eventsFailed > 0) metrics.addMetric(EVENTS_FAILED_METRIC, MetricUnit.Count, eventsFailed);
      if (counts.size > 0 || eventsFailed > 0) metrics.publishStoredMetrics();
    }
  };
}

/**
 * Powertools' standard JSON line without the keys that are the same on every line of the function's
 * log group (≈ 190 B a line): its name, ARN and memory size, which the log group and the function's
 * configuration already say, and a sampling rate of 0. `function_request_id` (which invocation) and
 * `cold_start` stay.
 */
export class CatalogLogFormatter extends LogFormatter {
  formatAttributes(
    attributes: Parameters<LogFormatter["formatAttributes"]>[0],
    additional: LogAttributes,
  ): LogItem {
    const base: LogAttributes = {
      level: attributes.logLevel,
      message: attributes.message,
      timestamp: this.formatTimestamp(attributes.timestamp),
      service: attributes.serviceName,
      cold_start: attributes.lambdaContext?.coldStart,
      function_request_id: attributes.lambdaContext?.awsRequestId,
      ...(attributes.sampleRateValue > 0 && { sampling_rate: attributes.sampleRateValue }),
      xray_trace_id: attributes.xRayTraceId,
    };
    return new LogItem({ attributes: base }).addAttributes(additional);
  }
}

/**
 * The handler's Powertools Logger: {@link CatalogLogFormatter} lines, at `logLevel` or stricter.
 *
 * Powertools takes Lambda's `AWS_LAMBDA_LOG_LEVEL` (advanced logging controls) over any level given to
 * it. The stack never sets that stricter than INFO, because Lambda gives a line without a `level` key —
 * every EMF blob — the level INFO and would drop the metrics with it; so a stricter `logLevel`
 * (`POWERTOOLS_LOG_LEVEL`) is applied here, in front of Powertools.
 *
 * @example
 * const logger = catalogLogger({ serviceName: "s3-metadata-catalog", logLevel: "WARN" });
 * logger.info("not written");
 */
export function catalogLogger(options: { serviceName: string; logLevel?: string }): Logger {
  const requested = options.logLevel?.toUpperCase();
  const logger = new Logger({
    serviceName: options.serviceName,
    logFormatter: new CatalogLogFormatter(),
    ...(isLogLevel(requested) && { logLevel: requested }),
  });
  if (!isLogLevel(requested)) return logger;
  const floor = LogLevelThreshold[requested];
  const methods = [
    ["trace", LogLevelThreshold.TRACE],
    ["debug", LogLevelThreshold.DEBUG],
    ["info", LogLevelThreshold.INFO],
    ["warn", LogLevelThreshold.WARN],
    ["error", LogLevelThreshold.ERROR],
  ] as const;
  for (const [method, level] of methods) {
    if (level < floor && logger.level < floor) logger[method] = () => undefined;
  }
  return logger;
}

function isLogLevel(level: string | undefined): level is Uppercase<LogLevel> {
  return level !== undefined && level in LogLevelThreshold;
}

function logFault(logger: Logger, event: ObjectEvent, error: unknown): void {
  logger.error("object failed; the platform will retry", {
    bucket: event.bucket,
    key: event.key,
    eventName: event.eventName,
    sequencer: event.sequencer,
    error: error instanceof Error ? error : describeError(error),
  });
}

/**
 * Clients, policy and handler for this container, from the environment.
 *
 * @example
 * const handle = await handlerFromConfig(readConfig(process.env));
 */
export async function handlerFromConfig(config: CatalogConfig): Promise<CatalogHandler> {
  const s3 = new S3Client({
    ...(config.region && { region: config.region }),
    ...(config.s3Endpoint && { endpoint: config.s3Endpoint }),
    forcePathStyle: config.s3ForcePathStyle,
    requestHandler: SDK_HTTP_TIMEOUTS,
  });
  const dynamodb = new DynamoDBClient({
    ...(config.region && { region: config.region }),
    ...(config.dynamodbEndpoint && { endpoint: config.dynamodbEndpoint }),
    requestHandler: SDK_HTTP_TIMEOUTS,
  });
  const policy = await loadPolicy({
    ...(config.policyJson !== undefined && { json: config.policyJson }),
    ...(config.policyFile !== undefined && { file: config.policyFile }),
  });
  return createHandler({
    s3,
    dynamodb,
    tableName: config.tableName,
    policy,
    concurrency: config.concurrency,
    ...(config.tombstoneTtlSeconds !== undefined && { tombstoneTtlSeconds: config.tombstoneTtlSeconds }),
    derivedPrefix: config.derivedPrefix,
    thumbnails: config.thumbnails,
    logger: catalogLogger({ serviceName: config.serviceName, logLevel: config.logLevel }),
    metrics: new Metrics({ namespace: config.metricsNamespace, serviceName: config.serviceName }),
  });
}

let container: Promise<CatalogHandler> | undefined;

/**
 * The Lambda handler: configuration is read and clients are built on the
 * first invocation of a container, then reused.
 */
export const handler: CatalogHandler = async (event, context) => {
  container ??= handlerFromConfig(readConfig(process.env));
  const handle = await container.catch((error: unknown) => {
    container = undefined;
    throw error;
  });
  return handle(event, context);
};
