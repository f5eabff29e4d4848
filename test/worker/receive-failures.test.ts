/**
 * A queue that cannot be reached (the endpoint refuses connections, the
 * network is down) makes every ReceiveMessage fail at once. The worker waits
 * longer after each failure instead of polling again in a tight loop, stops
 * promptly while it waits, and picks up work once the queue is back.
 */
import { createServer } from "node:net";
import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { SQSEvent } from "aws-lambda";
import { type FauxqsServer, startFauxqs } from "fauxqs";
import { afterEach, expect, it } from "vitest";
import { RECEIVE_RETRY_BASE_MS, startWorker, type Worker } from "../../src/worker/sqs-worker.js";
import { TEST_CREDENTIALS, TEST_REGION } from "../support/servers.js";

let worker: Worker | undefined;
let fauxqs: FauxqsServer | undefined;
const clients: SQSClient[] = [];

afterEach(async () => {
  await worker?.stop();
  worker = undefined;
  for (const client of clients.splice(0)) client.destroy();
  await fauxqs?.stop();
  fauxqs = undefined;
});

/** A port that was free a moment ago, with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** An SQS client for `endpoint` that counts the ReceiveMessage calls sent through it. */
function countingClient(endpoint: string): { sqs: SQSClient; receives: () => number } {
  let receives = 0;
  const sqs = new SQSClient({ region: TEST_REGION, endpoint, credentials: TEST_CREDENTIALS });
  sqs.middlewareStack.add(
    (next, context) => (args) => {
      if (context.commandName === "ReceiveMessageCommand") receives += 1;
      return next(args);
    },
    { step: "initialize", name: "countReceives" },
  );
  clients.push(sqs);
  return { sqs, receives: () => receives };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

it("polls an unreachable queue again only after growing pauses, and stops at once while paused", async () => {
  // Prepare
  const port = await closedPort();
  const { sqs, receives } = countingClient(`http://127.0.0.1:${port}`);

  // Act
  worker = startWorker({
    sqs,
    queueUrl: `http://127.0.0.1:${port}/000000000000/events`,
    handle: async () => undefined,
    waitTimeSeconds: 1,
  });
  await sleep(RECEIVE_RETRY_BASE_MS * 3.5);
  const stopping = Date.now();
  await worker.stop();

  // Assess: pauses of 1 s then 2 s leave room for three receives, where a tight loop makes dozens.
  expect(receives()).toBeGreaterThanOrEqual(2);
  expect(receives()).toBeLessThanOrEqual(4);
  // The contract is about time: stop does not wait out the pause in progress (the third, of 4 s, begun
  // about half a second ago). Half of that pause tells the two apart with room for a loaded machine.
  expect(Date.now() - stopping).toBeLessThan(2 * RECEIVE_RETRY_BASE_MS);
}, 20_000);

it("takes messages once the queue is reachable again", async () => {
  // Prepare
  const port = await closedPort();
  const { sqs } = countingClient(`http://127.0.0.1:${port}`);
  const queueUrl = `http://sqs.${TEST_REGION}.localhost:${port}/000000000000/back`;
  const seen: string[] = [];
  worker = startWorker({
    sqs,
    queueUrl,
    handle: async (event: SQSEvent) => {
      seen.push(...event.Records.map((record) => record.body));
      return { batchItemFailures: [] };
    },
    waitTimeSeconds: 1,
  });
  await sleep(RECEIVE_RETRY_BASE_MS * 1.5);

  // Act
  fauxqs = await startFauxqs({ port, logger: false });
  expect(fauxqs.createQueue("back").queueUrl).toBe(queueUrl);
  await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: "hello" }));

  // Assess
  const deadline = Date.now() + 15_000;
  while (seen.length === 0 && Date.now() < deadline) await sleep(50);
  expect(seen).toEqual(["hello"]);
}, 30_000);
