export { awsQueueRegion } from "./aws-queue-url.js";
export { type QueueIdentity, queueIdentity, toSqsEvent } from "./sqs-records.js";
export {
  type BatchReport,
  type SqsBatchHandler,
  startWorker,
  type Worker,
  WorkerConfigError,
  type WorkerLogger,
  type WorkerOptions,
  type WorkerStats,
} from "./sqs-worker.js";
