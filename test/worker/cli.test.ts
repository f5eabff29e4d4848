/**
 * `catalog worker` as a process: the local target flags, an SQS emulator
 * (fauxqs, real AWS JSON protocol over HTTP) at the queue URL, SIGTERM ends
 * it with exit code 0 once the batch in flight is done. Against AWS (here the
 * same servers behind endpoint flags) it needs no bucket: events name theirs.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { type FauxqsServer, startFauxqs } from "fauxqs";
import { afterAll, beforeAll, expect, it } from "vitest";
import { toS3Notification } from "../../src/events/s3-event.js";
import { type HandlerStack, startStack, upload } from "../lambda/fixtures.js";
import { TEST_CREDENTIALS, TEST_REGION } from "../support/servers.js";

const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));

let stack: HandlerStack;
let fauxqs: FauxqsServer;
let sqs: SQSClient;

beforeAll(async () => {
  stack = await startStack();
  fauxqs = await startFauxqs({ port: 0, logger: false });
  sqs = new SQSClient({ region: TEST_REGION, endpoint: fauxqs.address, credentials: TEST_CREDENTIALS });
});
afterAll(async () => {
  sqs?.destroy();
  await fauxqs?.stop();
  await stack?.servers.stop();
});

async function until(condition: () => Promise<boolean> | boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

it("catalogs what the queue announces, deletes the message, and exits 0 on SIGTERM", async () => {
  const { queueUrl } = fauxqs.createQueue("cli-events");
  const event = await upload(stack, "cli/worker.png", { corpus: "filetype-fixture.png" });
  await sqs.send(
    new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(toS3Notification([event])) }),
  );

  const worker = spawnWorker(queueUrl, ["--bucket", stack.bucket], { ...process.env, CATALOG_TARGET: "" });
  const { child, exited } = worker;
  try {
    await until(async () => (await stack.store.getObject(stack.bucket, event.key)).record !== undefined);
    await until(() => {
      const state = fauxqs.inspectQueue("cli-events");
      return state?.messages.ready.length === 0 && state.messages.inflight.length === 0;
    });
    const signalled = Date.now();
    child.kill("SIGTERM");
    expect(await exited, worker.output()).toBe(0);
    // The contract is about time: both pollers have just begun a 20 s long poll (--wait-time), which stop
    // cuts short. Exiting in under half of it tells the two apart with room for a loaded machine; the
    // abort itself is counted in sqs-worker.test.ts.
    expect(Date.now() - signalled).toBeLessThan(10_000);
  } finally {
    child.kill("SIGKILL");
  }
  expect(worker.output()).toContain("batch processed");
  expect(worker.output()).toContain("worker stopped");
  const { record } = await stack.store.getObject(stack.bucket, event.key);
  expect(record?.status).toBe("ok");
}, 60_000);

it("against AWS, starts without a bucket, catalogs the bucket each event names, thumbnails under --derived-prefix", async () => {
  const { queueUrl } = fauxqs.createQueue("cli-aws-events");
  const event = await upload(stack, "cli/aws-worker.png", { corpus: "filetype-fixture.png" });
  await sqs.send(
    new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(toS3Notification([event])) }),
  );
  const { CATALOG_BUCKET: _unset, ...env } = process.env;
  const worker = spawnWorker(queueUrl, ["--region", TEST_REGION, "--derived-prefix", "art/derived/"], {
    ...env,
    CATALOG_TARGET: "aws",
    AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
  });
  const { child, exited } = worker;
  try {
    await Promise.race([
      until(async () => (await stack.store.getObject(stack.bucket, event.key)).record !== undefined),
      exited.then((code) => {
        throw new Error(`worker exited with ${code}: ${worker.output()}`);
      }),
    ]);
    child.kill("SIGTERM");
    expect(await exited, worker.output()).toBe(0);
  } finally {
    child.kill("SIGKILL");
  }
  const { record } = await stack.store.getObject(stack.bucket, event.key);
  expect(record?.status).toBe("ok");
  expect(record?.thumbnailKey).toBe("art/derived/thumbnails/cli/aws-worker.png.webp");
}, 60_000);

/** `catalog worker` on the test stack's servers and the queue, with `extra` flags and exactly `env`. */
function spawnWorker(queueUrl: string, extra: string[], env: NodeJS.ProcessEnv) {
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      "src/cli/main.ts",
      "worker",
      "--queue",
      queueUrl,
      "--sqs-endpoint",
      fauxqs.address,
      ...extra,
      "--table",
      stack.tableName,
      "--s3-endpoint",
      stack.servers.s3Endpoint,
      "--dynamodb-endpoint",
      stack.servers.dynamodbEndpoint,
      "--wait-time",
      "20",
      "--concurrency",
      "2",
    ],
    { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"], env },
  );
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, exited, output: () => output };
}
