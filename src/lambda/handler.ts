/**
 * The Lambda entry point: thin. It builds clients once per container from
 * configuration, turns whatever invoked it into object events, hands them
 * to the pipeline, and reports back in the form the invoker understands —
 * an exception for a direct or EventBridge invocation with infrastructure
 * faults (so Lambda retries and the on-failure destination catches it),
 * `batchItemFailures` for SQS.
 */

import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import type { Context, SQSBatchResponse } from "aws-lambda";
import { type CatalogConfig, DEFAULT_DERIVED_PREFIX, readConfig } from "../config/config.js";
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
  const logger = deps.logger ?? new Logger({ serviceName: "s3-metadata-catalog" });
  const metrics =
    deps.metrics ?? new Metrics({ namespace: "S3MetadataCatalog", serviceName: "s3-metadata-catalog" });
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
      if (failures.length > 0) throw new InvocationFaultError(failures);
      return undefined;
    } finally {
      for (const [outcome, count] of counts) {
        const single = metrics.singleMetric();
        single.addDimension("outcome", outcome);
        single.addMetric("ObjectsProcessed", MetricUnit.Count, count);
      }
      // An invocation that processed nothing (s3:TestEvent) has nothing to publish.
      if (counts.size > 0) metrics.publishStoredMetrics();
    }
  };
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
  });
  const dynamodb = new DynamoDBClient({
    ...(config.region && { region: config.region }),
    ...(config.dynamodbEndpoint && { endpoint: config.dynamodbEndpoint }),
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
    logger: new Logger({ serviceName: config.serviceName }),
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
