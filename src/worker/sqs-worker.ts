/**
 * The long-running alternative to the SQS-triggered Lambda: polls the queue
 * the bucket notifies and hands each batch, shaped as Lambda's SQS event, to
 * the same handler. Polling, heartbeats and deletes are sqs-consumer's (bbc);
 * this module adds what it leaves to its user: several batches in flight,
 * deleting only the messages the handler did not report as failed, and a
 * shutdown that lets in-flight batches finish.
 */
import { ChangeMessageVisibilityBatchCommand, type Message, type SQSClient } from "@aws-sdk/client-sqs";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { Consumer } from "sqs-consumer";
import { CatalogError, describeError } from "../engine/errors.js";
import { queueIdentity, toSqsEvent } from "./sqs-records.js";

/** The handler's SQS path: what `createHandler(deps)` returns accepts this. */
export type SqsBatchHandler = (event: SQSEvent) => Promise<SQSBatchResponse | undefined>;

/** Where the worker says what it does; Powertools' Logger fits. */
export interface WorkerLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** What happened to one received batch. */
export interface BatchReport {
  /** Message ids the handler processed; they are deleted next. */
  succeeded: string[];
  /** Message ids the handler reported as failed (or all of them when it threw); left for redelivery. */
  failed: string[];
  /** Handler time for the batch. */
  durationMs: number;
}

/** Counters since start. */
export interface WorkerStats {
  batches: number;
  received: number;
  /** Messages whose DeleteMessageBatch returned. */
  deleted: number;
  /** Messages left on the queue because the handler reported them failed (all of a batch when it threw). */
  failed: number;
  /** Messages received after stop was requested and given back at once. */
  released: number;
}

/** What a worker is built from. */
export interface WorkerOptions {
  sqs: SQSClient;
  queueUrl: string;
  handle: SqsBatchHandler;
  /** Batches in flight at once; each has its own poller. @default 1 */
  concurrency?: number;
  /** Messages per ReceiveMessage, 1 to 10. @default 10 */
  batchSize?: number;
  /** Long-poll wait, 1 to 20 seconds. @default 20 */
  waitTimeSeconds?: number;
  /**
   * Seconds a received message stays hidden; each heartbeat restarts this
   * clock, so it bounds how long a crashed worker holds a message, not how
   * long an object may take. @default 120
   */
  visibilityTimeout?: number;
  /** Seconds between visibility extensions; below `visibilityTimeout`. @default a third of it */
  heartbeatInterval?: number;
  /** Region for the event's `awsRegion` when the queue URL does not name one. */
  region?: string;
  logger?: WorkerLogger;
  /** Called after each batch the handler saw (tests, progress lines). */
  onBatch?: (report: BatchReport) => void;
}

/** A running worker. */
export interface Worker {
  readonly stats: WorkerStats;
  /**
   * Stops polling, waits for batches in flight to finish and their
   * successful messages to be deleted, then resolves. Idempotent.
   */
  stop(): Promise<void>;
}

/** The worker's options cannot run. */
export class WorkerConfigError extends CatalogError {
  constructor(message: string) {
    super(message);
    this.name = "WorkerConfigError";
  }
}

const SILENT: WorkerLogger = { info() {}, warn() {}, error() {} };

/**
 * Pause before polling again after a ReceiveMessage failed, doubled for each
 * failure in a row up to the maximum. sqs-consumer polls again at once after
 * most failures (an unreachable endpoint, a timeout), which would fill the
 * log with error lines and spin the CPU for as long as the queue is away.
 */
export const RECEIVE_RETRY_BASE_MS = 1_000;
/** The longest pause between failed receives; the worker is back this soon after the queue is. */
export const RECEIVE_RETRY_MAX_MS = 20_000;

/**
 * Starts polling `queueUrl` with `concurrency` pollers; each turns a batch
 * into an SQS event, runs `handle`, deletes the messages not listed in
 * `batchItemFailures` and leaves those for redelivery (and, after the
 * queue's maxReceiveCount, its dead-letter queue). While a batch runs its
 * messages' visibility is extended every `heartbeatInterval` seconds.
 *
 * @example
 * const worker = startWorker({ sqs, queueUrl, handle: createHandler(deps), concurrency: 2 });
 * process.once("SIGTERM", () => void worker.stop().then(() => process.exit(0)));
 */
export function startWorker(options: WorkerOptions): Worker {
  const logger = options.logger ?? SILENT;
  const concurrency = options.concurrency ?? 1;
  const visibilityTimeout = options.visibilityTimeout ?? 120;
  const heartbeatInterval = options.heartbeatInterval ?? Math.max(1, Math.floor(visibilityTimeout / 3));
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new WorkerConfigError(`concurrency must be a positive integer, got ${concurrency}`);
  if (!Number.isInteger(visibilityTimeout) || visibilityTimeout < 1 || visibilityTimeout > 43_200)
    throw new WorkerConfigError(`visibility timeout must be 1 to 43200 s, got ${visibilityTimeout}`);
  if (!(heartbeatInterval > 0 && heartbeatInterval < visibilityTimeout))
    throw new WorkerConfigError(
      `heartbeat interval must be above 0 and below the visibility timeout (${visibilityTimeout} s), got ${heartbeatInterval}`,
    );
  const queue = queueIdentity(options.queueUrl, options.region);
  const stats: WorkerStats = { batches: 0, received: 0, deleted: 0, failed: 0, released: 0 };
  let stopping = false;
  let inFlight = 0;

  // Messages that arrive after stop was asked for are handed back at once rather than left hidden.
  const release = async (messages: Message[]): Promise<void> => {
    stats.released += messages.length;
    try {
      await options.sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: options.queueUrl,
          Entries: messages.map((message, index) => ({
            Id: String(index),
            ReceiptHandle: message.ReceiptHandle,
            VisibilityTimeout: 0,
          })),
        }),
      );
    } catch (error) {
      logger.warn("could not release messages received while stopping", { error: describeError(error) });
    }
  };

  const pollers = Array.from({ length: concurrency }, (_, index) => {
    const poller = {
      busy: false,
      consumer: undefined as unknown as Consumer,
      /** Set before each receive, cleared once it returned: still set at the next one, it failed. */
      receiving: false,
      failedReceives: 0,
      /** Ends the pause before a retry early (stop). */
      wake: () => {},
    };
    poller.consumer = Consumer.create({
      queueUrl: options.queueUrl,
      sqs: options.sqs,
      batchSize: options.batchSize ?? 10,
      waitTimeSeconds: options.waitTimeSeconds ?? 20,
      visibilityTimeout,
      heartbeatInterval,
      // The handler's per-object retries and partial-batch answer decide; a thrown batch waits out its timeout.
      terminateVisibilityTimeout: false,
      attributeNames: [],
      messageSystemAttributeNames: ["ApproximateReceiveCount", "SentTimestamp", "SenderId"],
      preReceiveMessageCallback: async () => {
        poller.failedReceives = poller.receiving ? poller.failedReceives + 1 : 0;
        poller.receiving = true;
        if (poller.failedReceives === 0 || stopping) return;
        const pause = Math.min(
          RECEIVE_RETRY_MAX_MS,
          RECEIVE_RETRY_BASE_MS * 2 ** (poller.failedReceives - 1),
        );
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, pause);
          poller.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        poller.wake = () => {};
      },
      postReceiveMessageCallback: async () => {
        poller.receiving = false;
      },
      handleMessageBatch: async (messages) => {
        if (stopping) {
          await release(messages);
          return [];
        }
        poller.busy = true;
        inFlight += 1;
        stats.batches += 1;
        stats.received += messages.length;
        const started = performance.now();
        try {
          const response = await options.handle(toSqsEvent(messages, queue));
          const failedIds = new Set(response?.batchItemFailures.map((item) => item.itemIdentifier));
          const succeeded = messages.filter((message) => !failedIds.has(message.MessageId ?? ""));
          const failed = messages.filter((message) => failedIds.has(message.MessageId ?? ""));
          stats.failed += failed.length;
          const report: BatchReport = {
            succeeded: succeeded.map((message) => message.MessageId ?? ""),
            failed: failed.map((message) => message.MessageId ?? ""),
            durationMs: Math.round(performance.now() - started),
          };
          if (failed.length > 0) {
            logger.warn("messages left for redelivery", {
              poller: index,
              messageIds: report.failed,
              receiveCounts: failed.map((message) => message.Attributes?.ApproximateReceiveCount),
            });
          }
          logger.info("batch processed", {
            poller: index,
            messages: messages.length,
            succeeded: succeeded.length,
            failed: failed.length,
            durationMs: report.durationMs,
          });
          options.onBatch?.(report);
          return succeeded;
        } catch (error) {
          stats.failed += messages.length;
          options.onBatch?.({
            succeeded: [],
            failed: messages.map((message) => message.MessageId ?? ""),
            durationMs: Math.round(performance.now() - started),
          });
          throw error;
        } finally {
          inFlight -= 1;
        }
      },
    });
    const consumer = poller.consumer;
    // Emitted once the batch's delete has returned: only then may stop abort this poller's requests.
    consumer.on("response_processed", () => {
      poller.busy = false;
    });
    consumer.on("message_processed", () => {
      stats.deleted += 1;
    });
    consumer.on("error", (error, messages) => {
      // An aborted long poll is how stop ends an idle poller; anything else is worth a line.
      if (stopping && /abort/i.test(`${error.name} ${error.message}`)) return;
      logger.error("queue or batch error", {
        poller: index,
        error: describeError(error),
        ...(messages !== undefined && {
          messageIds: (Array.isArray(messages) ? messages : [messages]).map((message) => message.MessageId),
        }),
      });
    });
    consumer.on("processing_error", (error) => {
      logger.error("batch handler failed", { poller: index, error: describeError(error) });
    });
    return poller;
  });

  for (const poller of pollers) poller.consumer.start();
  logger.info("worker started", {
    queueUrl: options.queueUrl,
    concurrency,
    visibilityTimeout,
    heartbeatInterval,
  });

  let stopped: Promise<void> | undefined;
  return {
    stats,
    stop() {
      stopped ??= (async () => {
        stopping = true;
        // A busy poller finishes its batch and delete; an idle one is in a long poll, cut short.
        for (const poller of pollers) {
          poller.consumer.stop(poller.busy ? undefined : { abort: true });
          poller.wake();
        }
        while (inFlight > 0 || pollers.some((poller) => poller.consumer.status.isPolling)) {
          await new Promise((resolve) => setTimeout(resolve, 25));
        }
        logger.info("worker stopped", { ...stats });
      })();
      return stopped;
    },
  };
}
