import { readFile } from "node:fs/promises";
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import { type ChecksumAlgorithm, CreateBucketCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import type { SQSEvent } from "aws-lambda";
import { type ObjectEvent, toS3Notification } from "../../src/events/s3-event.js";
import { createHandler, type HandlerDeps } from "../../src/lambda/handler.js";
import { DEFAULT_POLICY } from "../../src/policy/policy.js";
import { CatalogStore } from "../../src/store/catalog-store.js";
import { corpusFile } from "../support/corpus.js";
import { startServers, type TestServers } from "../support/servers.js";

/** A running stack for handler tests: servers, a bucket, a table, a store to query it. */
export interface HandlerStack {
  servers: TestServers;
  bucket: string;
  tableName: string;
  store: CatalogStore;
  /** A handler over the stack; overrides replace its dependencies. */
  handler(overrides?: Partial<HandlerDeps>): ReturnType<typeof createHandler>;
}

let tables = 0;

/** Starts the servers, creates a bucket and the catalog table. */
export async function startStack(): Promise<HandlerStack> {
  // Powertools reads these when a Metrics/Logger is built: keep test output to test results.
  process.env.POWERTOOLS_METRICS_DISABLED = "true";
  const servers = await startServers();
  tables += 1;
  const bucket = "uploads";
  const tableName = `catalog-${tables}`;
  await servers.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const store = new CatalogStore(servers.dynamodb, { tableName });
  await store.ensureTable();
  return {
    servers,
    bucket,
    tableName,
    store,
    handler: (overrides = {}) =>
      createHandler({
        s3: servers.s3,
        dynamodb: servers.dynamodb,
        tableName,
        policy: DEFAULT_POLICY,
        logger: new Logger({ serviceName: "test", logLevel: "SILENT" }),
        metrics: new Metrics({ namespace: "Test", serviceName: "test" }),
        ...overrides,
      }),
  };
}

/** S3 sequencers grow with each PUT/DELETE of a key; this mimics that with a global counter. */
let sequence = 0x55aed6dcd90281e5n;
export function nextSequencer(): string {
  sequence += 1n;
  return sequence.toString(16).toUpperCase().padStart(18, "0");
}

/** Uploads bytes (or a corpus file) and returns the event S3 would emit for it. */
export async function upload(
  stack: HandlerStack,
  key: string,
  body: Uint8Array | { corpus: string },
  options: { contentType?: string; checksumAlgorithm?: ChecksumAlgorithm } = {},
): Promise<ObjectEvent> {
  const bytes = body instanceof Uint8Array ? body : await readFile(corpusFile(body.corpus));
  const output = await stack.servers.s3.send(
    new PutObjectCommand({
      Bucket: stack.bucket,
      Key: key,
      Body: bytes,
      ...(options.contentType && { ContentType: options.contentType }),
      ...(options.checksumAlgorithm && { ChecksumAlgorithm: options.checksumAlgorithm }),
    }),
  );
  return {
    kind: "created",
    eventName: "ObjectCreated:Put",
    bucket: stack.bucket,
    key,
    size: bytes.byteLength,
    eTag: (output.ETag ?? "").replace(/"/g, ""),
    sequencer: nextSequencer(),
    eventTime: new Date().toISOString(),
    principalId: "AWS:AIDAEXAMPLEUPLOADER",
    sourceIPAddress: "198.51.100.7",
    requestId: `REQ${sequence.toString(16).toUpperCase()}`,
  };
}

/** The event S3 emits when a key is deleted. */
export function removal(stack: HandlerStack, key: string): ObjectEvent {
  return {
    kind: "removed",
    eventName: "ObjectRemoved:Delete",
    bucket: stack.bucket,
    key,
    sequencer: nextSequencer(),
    eventTime: new Date().toISOString(),
    principalId: "AWS:AIDAEXAMPLEUPLOADER",
  };
}

/** An SQS batch whose bodies are S3 notifications (or raw text, for poison messages). */
export function sqsBatch(bodies: { messageId: string; body: string }[]): SQSEvent {
  return {
    Records: bodies.map(({ messageId, body }) => ({
      messageId,
      receiptHandle: `handle-${messageId}`,
      body,
      attributes: {
        ApproximateReceiveCount: "1",
        SentTimestamp: String(Date.now()),
        SenderId: "AIDAEXAMPLE",
        ApproximateFirstReceiveTimestamp: String(Date.now()),
      },
      messageAttributes: {},
      md5OfBody: "",
      eventSource: "aws:sqs",
      eventSourceARN: "arn:aws:sqs:us-east-1:123456789012:catalog-events",
      awsRegion: "us-east-1",
    })),
  };
}

/** The body S3 puts in an SQS message for these events. */
export function notificationBody(events: ObjectEvent[]): string {
  return JSON.stringify(toS3Notification(events));
}
