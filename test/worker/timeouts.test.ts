/**
 * The worker's SQS clients give up on a server that takes the connection and
 * never answers, as the S3 and DynamoDB clients do, yet let a long poll run
 * its whole wait time: ReceiveMessage is silent until a message comes or the
 * wait ends.
 */
import { createServer, type Server, type Socket } from "node:net";
import { ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { type FauxqsServer, startFauxqs } from "fauxqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectWorker, type WorkerFlags } from "../../src/cli/commands/worker-run.js";
import { SDK_HTTP_TIMEOUTS } from "../../src/config/config.js";
import { runCatalog, withoutTargetVariables } from "../support/cli.js";

let silent: Server;
let silentQueue: string;
let fauxqs: FauxqsServer;
const sockets = new Set<Socket>();

beforeAll(async () => {
  silent = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  silentQueue = `http://127.0.0.1:${(silent.address() as { port: number }).port}/000000000000/events`;
  fauxqs = await startFauxqs({ port: 0, logger: false });
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise<void>((resolve) => silent.close(() => resolve()));
  await fauxqs?.stop();
});

function workerFlags(overrides: Partial<WorkerFlags>): WorkerFlags {
  return {
    queue: silentQueue,
    concurrency: 1,
    objectConcurrency: 8,
    batchSize: 10,
    waitTime: 20,
    visibilityTimeout: 120,
    thumbnails: true,
    logLevel: "SILENT",
    ...overrides,
  };
}

describe.concurrent("SQS over a server that never answers", () => {
  it("makes catalog worker stop at start with one line naming the timeout", async () => {
    // Act
    const run = await runCatalog(["worker", "--queue", silentQueue, "--wait-time", "20"], {
      env: withoutTargetVariables(),
      timeoutMs: 90_000,
    });

    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
    expect(run.stderr).toContain(`cannot read queue ${silentQueue}`);
    expect(run.stderr).toMatch(
      new RegExp(`timed out after ${SDK_HTTP_TIMEOUTS.socketTimeout} ms of inactivity`),
    );
  }, 100_000);

  it("fails a long poll once the wait time and its margin have passed in silence", async () => {
    // Prepare
    const connection = connectWorker(workerFlags({ waitTime: 1 }), withoutTargetVariables());

    // Act
    const receive = connection.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: silentQueue, WaitTimeSeconds: 1, MaxNumberOfMessages: 1 }),
    );

    // Assess
    try {
      await expect(receive).rejects.toThrow(
        new RegExp(`timed out after ${1000 + SDK_HTTP_TIMEOUTS.socketTimeout} ms of inactivity`),
      );
    } finally {
      connection.close();
    }
  }, 100_000);
});

it("lets a long poll longer than the S3 and DynamoDB socket timeout end empty, without an error", async () => {
  // Prepare
  const waitTime = Math.ceil(SDK_HTTP_TIMEOUTS.socketTimeout / 1000) + 2;
  const { queueUrl } = fauxqs.createQueue("quiet");
  const connection = connectWorker(
    workerFlags({ queue: queueUrl, sqsEndpoint: fauxqs.address, waitTime }),
    withoutTargetVariables(),
  );

  // Act
  const started = Date.now();
  try {
    const output = await connection.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: waitTime, MaxNumberOfMessages: 1 }),
    );

    // Assess: the poll outlasted the socket timeout, so that timeout was in play; load only makes it longer.
    expect(output.Messages ?? []).toEqual([]);
    expect(Date.now() - started).toBeGreaterThan(SDK_HTTP_TIMEOUTS.socketTimeout);
  } finally {
    connection.close();
  }
}, 30_000);
