/**
 * The worker against a real SQS protocol server: fauxqs (npm, in-process,
 * AWS JSON protocol as SDK v3 speaks it, with ReceiveMessage long polling,
 * visibility timeouts and the batch calls), plus the embedded S3 and
 * DynamoDB servers and the real Lambda handler. sqslite was tried first and
 * set aside: it speaks only the query/XML protocol and has no
 * ChangeMessageVisibilityBatch, which the heartbeat uses.
 */
import { readFile } from "node:fs/promises";
import { type Message, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { SQSEvent } from "aws-lambda";
import { type FauxqsServer, startFauxqs } from "fauxqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toS3Notification } from "../../src/events/s3-event.js";
import { queueIdentity, toSqsEvent } from "../../src/worker/sqs-records.js";
import {
  type BatchReport,
  type SqsBatchHandler,
  startWorker,
  type Worker,
} from "../../src/worker/sqs-worker.js";
import { type HandlerStack, startStack, upload } from "../lambda/fixtures.js";
import { corpusFile, expectedEntries } from "../support/corpus.js";
import { TEST_CREDENTIALS, TEST_REGION } from "../support/servers.js";

let stack: HandlerStack;
let fauxqs: FauxqsServer;
let sqs: SQSClient;
/** SQS operations the worker sent, in order (the SDK's command names). */
const calls: string[] = [];
/** ReceiveMessage calls that ended aborted: how stop cuts an idle poller's long poll short. */
let abortedReceives = 0;
let queues = 0;

beforeAll(async () => {
  stack = await startStack();
  fauxqs = await startFauxqs({ port: 0, logger: false });
  sqs = new SQSClient({ region: TEST_REGION, endpoint: fauxqs.address, credentials: TEST_CREDENTIALS });
  sqs.middlewareStack.add(
    (next, context) => async (args) => {
      calls.push(context.commandName as string);
      try {
        return await next(args);
      } catch (error) {
        if (context.commandName === "ReceiveMessageCommand" && (error as Error).name === "AbortError") {
          abortedReceives += 1;
        }
        throw error;
      }
    },
    { step: "initialize", name: "recordCalls" },
  );
});
afterAll(async () => {
  sqs?.destroy();
  await fauxqs?.stop();
  await stack?.servers.stop();
});

function newQueue(visibilityTimeout: number): { name: string; url: string } {
  queues += 1;
  const name = `uploads-events-${queues}`;
  const { queueUrl } = fauxqs.createQueue(name, {
    attributes: { VisibilityTimeout: String(visibilityTimeout) },
  });
  return { name, url: queueUrl };
}

async function send(queueUrl: string, body: string): Promise<string> {
  const output = await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
  return output.MessageId as string;
}

/** Messages still on the queue, visible or not. */
function remaining(name: string): { ready: string[]; inflight: { id: string; deadline: number }[] } {
  const state = fauxqs.inspectQueue(name);
  if (!state) throw new Error(`no queue ${name}`);
  return {
    ready: state.messages.ready.map((message) => message.messageId),
    inflight: state.messages.inflight.map((entry) => ({
      id: entry.message.messageId,
      deadline: entry.visibilityDeadline,
    })),
  };
}

async function until(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The real handler, recording which message ids each call received. */
function recordingHandler(delays: Map<string, number> = new Map()): {
  handle: SqsBatchHandler;
  seen: string[];
  started: string[];
} {
  const real = stack.handler();
  const seen: string[] = [];
  const started: string[] = [];
  const handle: SqsBatchHandler = async (event: SQSEvent) => {
    const ids = event.Records.map((record) => record.messageId);
    started.push(...ids);
    const delay = Math.max(0, ...ids.map((id) => delays.get(id) ?? 0));
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    const response = await real(event);
    seen.push(...ids);
    return response;
  };
  return { handle, seen, started };
}

const FILES = [
  "filetype-fixture.jpg",
  "filetype-fixture.png",
  "filetype-fixture.pdf",
  "filetype-fixture.mp3",
  "filetype-fixture.zip",
  "tika-test-columnar.csv",
];

describe("a queue of S3 notifications", () => {
  it("drains: every object is cataloged and every message deleted", async () => {
    const queue = newQueue(30);
    const events = await Promise.all(FILES.map((name) => upload(stack, `worker/${name}`, { corpus: name })));
    // One notification per message, as S3 sends them, and one message carrying two records.
    for (const event of events.slice(0, 4)) await send(queue.url, JSON.stringify(toS3Notification([event])));
    await send(queue.url, JSON.stringify(toS3Notification(events.slice(4))));
    const reports: BatchReport[] = [];
    const worker = startWorker({
      sqs,
      queueUrl: queue.url,
      handle: stack.handler(),
      concurrency: 2,
      batchSize: 2,
      waitTimeSeconds: 1,
      visibilityTimeout: 30,
      onBatch: (report) => reports.push(report),
    });
    try {
      await until(() => worker.stats.deleted === 5);
    } finally {
      await worker.stop();
    }

    expect(remaining(queue.name)).toEqual({ ready: [], inflight: [] });
    expect(worker.stats).toMatchObject({ received: 5, deleted: 5, failed: 0, released: 0 });
    expect(reports.flatMap((report) => report.failed)).toEqual([]);
    // batchSize 2 over 5 messages: at least three batches.
    expect(reports.length).toBeGreaterThanOrEqual(3);
    for (const [index, name] of FILES.entries()) {
      const { record, audit } = await stack.store.getObject(stack.bucket, `worker/${name}`);
      const oracle = expectedEntries().find((entry) => entry.name === name);
      expect(record?.status, name).toMatch(/^(ok|partial)$/);
      expect(record?.sha256, name).toBe(oracle?.sha256);
      expect(record?.size, name).toBe((await readFile(corpusFile(name))).byteLength);
      expect(record?.sequencer, name).toBe(events[index]?.sequencer);
      expect(audit, name).toHaveLength(1);
    }
  }, 30_000);

  it("leaves a poison message on the queue and reports it; the good one beside it is deleted", async () => {
    const queue = newQueue(60);
    const good = await upload(stack, "worker/poison-neighbour.png", { corpus: "filetype-fixture.png" });
    const goodId = await send(queue.url, JSON.stringify(toS3Notification([good])));
    const poisonId = await send(queue.url, "this is not an S3 notification");
    const reports: BatchReport[] = [];
    const worker = startWorker({
      sqs,
      queueUrl: queue.url,
      handle: stack.handler(),
      waitTimeSeconds: 1,
      visibilityTimeout: 60,
      onBatch: (report) => reports.push(report),
    });
    try {
      await until(() => worker.stats.deleted === 1 && worker.stats.failed === 1);
    } finally {
      await worker.stop();
    }

    expect(reports.flatMap((report) => report.failed)).toEqual([poisonId]);
    expect(reports.flatMap((report) => report.succeeded)).toEqual([goodId]);
    const left = remaining(queue.name);
    // Still hidden by its visibility timeout: redelivery, then the queue's redrive policy, takes it from here.
    expect(left.ready).toEqual([]);
    expect(left.inflight.map((entry) => entry.id)).toEqual([poisonId]);
    const { record } = await stack.store.getObject(stack.bucket, good.key);
    expect(record?.status).toBe("ok");
  }, 30_000);
});

describe("visibility and shutdown", () => {
  it("a batch slower than the visibility timeout is extended, not delivered twice", async () => {
    const queue = newQueue(2);
    const event = await upload(stack, "worker/slow.jpg", { corpus: "filetype-fixture.jpg" });
    const id = await send(queue.url, JSON.stringify(toS3Notification([event])));
    const { handle, seen, started } = recordingHandler(new Map([[id, 5_000]]));
    const before = calls.filter((name) => name === "ChangeMessageVisibilityBatchCommand").length;
    const worker = startWorker({
      sqs,
      queueUrl: queue.url,
      handle,
      // A second poller would take the message the moment its visibility lapsed.
      concurrency: 2,
      waitTimeSeconds: 1,
      visibilityTimeout: 2,
      heartbeatInterval: 0.5,
    });
    try {
      await until(() => started.length === 1);
      // Past the original 2 s timeout, the message is still hidden with a deadline ahead of now.
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      const hidden = remaining(queue.name).inflight.find((entry) => entry.id === id);
      expect(hidden?.deadline).toBeGreaterThan(Date.now());
      await until(() => worker.stats.deleted === 1);
    } finally {
      await worker.stop();
    }

    expect(started).toEqual([id]);
    expect(seen).toEqual([id]);
    const extensions = calls.filter((name) => name === "ChangeMessageVisibilityBatchCommand").length - before;
    expect(extensions).toBeGreaterThanOrEqual(6);
    expect(remaining(queue.name)).toEqual({ ready: [], inflight: [] });
    const { audit } = await stack.store.getObject(stack.bucket, event.key);
    expect(audit[0]?.deliveries).toBe(1);
  }, 30_000);

  it("stop lets the batch in flight finish and delete, cuts idle long polls short, and takes nothing new", async () => {
    const queue = newQueue(30);
    const event = await upload(stack, "worker/in-flight.pdf", { corpus: "filetype-fixture.pdf" });
    const id = await send(queue.url, JSON.stringify(toS3Notification([event])));
    const { handle, seen, started } = recordingHandler(new Map([[id, 1_500]]));
    const worker: Worker = startWorker({
      sqs,
      queueUrl: queue.url,
      handle,
      concurrency: 3,
      // Idle pollers sit in a 20 s long poll; stop must not wait for it.
      waitTimeSeconds: 20,
      visibilityTimeout: 30,
    });
    await until(() => started.length === 1);
    const abortedBefore = abortedReceives;
    await worker.stop();

    // The batch in flight ran to its delete; the two idle pollers' long polls ended aborted, not waited out.
    expect(seen).toEqual([id]);
    expect(worker.stats.deleted).toBe(1);
    expect(remaining(queue.name)).toEqual({ ready: [], inflight: [] });
    expect(abortedReceives - abortedBefore).toBe(2);
    const { record } = await stack.store.getObject(stack.bucket, event.key);
    expect(record?.status).toBe("ok");

    const late = await send(queue.url, JSON.stringify(toS3Notification([event])));
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Nothing ran it. Where it sits depends on the server: a long poll the worker aborted may still be
    // open on the server side and take it, hiding it for one visibility timeout (delayed, not lost).
    const left = remaining(queue.name);
    expect([...left.ready, ...left.inflight.map((entry) => entry.id)]).toEqual([late]);
    expect(started).toEqual([id]);
  }, 30_000);
});

describe("the Lambda SQS event built from ReceiveMessage", () => {
  it("carries what the handler keys on", () => {
    const message: Message = {
      MessageId: "m-1",
      ReceiptHandle: "r-1",
      Body: "{}",
      MD5OfBody: "99914b932bd37a50b983c5e7c90ae93b",
      Attributes: { ApproximateReceiveCount: "3", SentTimestamp: "1700000000000" },
    };
    const event = toSqsEvent([message], queueIdentity("https://sqs.eu-west-1.amazonaws.com/123456789012/q"));
    expect(event.Records[0]).toMatchObject({
      messageId: "m-1",
      receiptHandle: "r-1",
      body: "{}",
      eventSource: "aws:sqs",
      eventSourceARN: "arn:aws:sqs:eu-west-1:123456789012:q",
      awsRegion: "eu-west-1",
      attributes: { ApproximateReceiveCount: "3", SentTimestamp: "1700000000000" },
    });
  });

  it.each([
    ["https://sqs.us-west-2.amazonaws.com/111122223333/events", "arn:aws:sqs:us-west-2:111122223333:events"],
    ["http://127.0.0.1:9324/000000000000/local", "arn:aws:sqs:ap-south-1:000000000000:local"],
    [
      "https://eu-central-1.queue.amazonaws.com/111122223333/old",
      "arn:aws:sqs:eu-central-1:111122223333:old",
    ],
  ])("queue identity of %s", (url, arn) => {
    expect(queueIdentity(url, "ap-south-1").arn).toBe(arn);
  });
});
