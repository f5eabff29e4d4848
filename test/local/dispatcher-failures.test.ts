/**
 * The dispatcher when things go wrong around it: an invocation that hangs
 * (S3 accepting connections and never answering), a dead-letter file cut
 * short by a crash, and a dead-letter file that cannot be written. In every
 * case the event ends in the dead-letter file, and a replay catalogs it.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ObjectEvent, toS3Notification } from "../../src/events/s3-event.js";
import { type DeliveryOutcome, Dispatcher, readDeadLetters } from "../../src/local/dispatcher.js";
import { EmbeddedDynamoDb } from "../../src/local/embedded-dynamodb.js";
import { EmbeddedS3 } from "../../src/local/embedded-s3.js";
import { LOCAL_CREDENTIALS, LOCAL_REGION, LOCAL_S3_CLIENT_OPTIONS } from "../../src/local/local-stack.js";
import { CatalogStore } from "../../src/store/catalog-store.js";
import { FaultProxy } from "../reliability/fault-proxy.js";
import { quietHandler } from "../reliability/replay-harness.js";

const BUCKET = "uploads";
const TABLE = "catalog";

let dir: string;
let s3: EmbeddedS3;
let dynamodb: EmbeddedDynamoDb;
let proxy: FaultProxy;
let direct: S3Client;
let viaProxy: S3Client;
let dynamodbClient: DynamoDBClient;
let store: CatalogStore;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "catalog-dispatcher-failures-"));
  s3 = await EmbeddedS3.start({ port: 0, directory: join(dir, "s3"), buckets: [BUCKET] });
  dynamodb = await EmbeddedDynamoDb.start({ port: 0 });
  proxy = await FaultProxy.start(s3.port);
  direct = new S3Client({ ...LOCAL_S3_CLIENT_OPTIONS, endpoint: s3.endpoint });
  viaProxy = new S3Client({ ...LOCAL_S3_CLIENT_OPTIONS, endpoint: proxy.endpoint });
  dynamodbClient = new DynamoDBClient({
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    endpoint: dynamodb.endpoint,
  });
  store = new CatalogStore(dynamodbClient, { tableName: TABLE });
  await store.ensureTable();
});

afterAll(async () => {
  // Closing the proxy ends the stalled requests; the attempts that made them were abandoned long ago.
  await proxy?.close();
  direct?.destroy();
  viaProxy?.destroy();
  dynamodbClient?.destroy();
  await Promise.all([s3?.close(), dynamodb?.close()]);
  await rm(dir, { recursive: true, force: true });
});

function event(key: string, sequencer: string): ObjectEvent {
  return {
    kind: "created",
    eventName: "ObjectCreated:Put",
    bucket: BUCKET,
    key,
    size: 1,
    eTag: "0cc175b9c0f1b6a831c399e269772661",
    sequencer,
    eventTime: new Date().toISOString(),
  };
}

describe("an invocation that never settles", () => {
  it("times out like a Lambda past its timeout, is retried, parked, and cataloged by replay", async () => {
    const handler = quietHandler({ s3: viaProxy, dynamodb: dynamodbClient, tableName: TABLE });
    const deadLetterFile = join(dir, "stalled.jsonl");
    const settled: DeliveryOutcome[] = [];
    const dispatcher = new Dispatcher({
      invoke: handler,
      deadLetterFile,
      backoffMs: [10, 10],
      attemptTimeoutMs: 400,
      onSettled: (outcome) => settled.push(outcome),
    });
    const listener = (change: ObjectEvent) => dispatcher.enqueue(change);
    s3.on("object", listener);
    try {
      proxy.setMode("stall");
      const stalledBefore = proxy.broken;
      const output = await direct.send(
        new PutObjectCommand({ Bucket: BUCKET, Key: "slow s3/a b+c.txt", Body: "hello" }),
      );
      await dispatcher.idle();

      expect(proxy.broken - stalledBefore).toBe(3);
      expect(settled).toMatchObject([{ delivered: false, attempts: 3 }]);
      const parked = await readDeadLetters(deadLetterFile);
      expect(parked).toHaveLength(1);
      expect(parked[0]?.error).toMatch(/timed out after 400 ms/);
      expect(parked[0]?.event.Records[0]?.s3.object.key).toBe("slow+s3/a+b%2Bc.txt");

      proxy.setMode("forward");
      await expect(dispatcher.replay()).resolves.toEqual({ replayed: 1, failed: 0 });
      const { record } = await store.getObject(BUCKET, "slow s3/a b+c.txt");
      expect(record).toMatchObject({ status: "ok", etag: (output.ETag ?? "").replace(/"/g, "") });
    } finally {
      s3.off("object", listener);
      proxy.setMode("forward");
    }
  }, 20_000);
});

describe("the dead-letter file", () => {
  it("cut short by a crash mid-append: later letters are still listed and replayed, the damaged line kept", async () => {
    const file = join(dir, "cut-short.jsonl");
    const earlier = {
      event: toS3Notification([event("earlier.txt", "01")]),
      error: "DynamoDB unreachable",
      attempts: 3,
      failedAt: new Date().toISOString(),
    };
    const cut = JSON.stringify({ ...earlier, event: toS3Notification([event("cut.txt", "02")]) }).slice(
      0,
      80,
    );
    await writeFile(file, `${JSON.stringify(earlier)}\n${cut}`);

    let healthy = false;
    const replayed: string[] = [];
    const dispatcher = new Dispatcher({
      invoke: async (notification) => {
        if (!healthy) throw new Error("DynamoDB unreachable");
        replayed.push(notification.Records[0]?.s3.object.key ?? "");
      },
      deadLetterFile: file,
      backoffMs: [1, 1],
    });
    dispatcher.enqueue(event("later.txt", "03"));
    await dispatcher.idle();

    expect((await readDeadLetters(file)).map((letter) => letter.event.Records[0]?.s3.object.key)).toEqual([
      "earlier.txt",
      "later.txt",
    ]);
    healthy = true;
    await expect(dispatcher.replay()).resolves.toEqual({ replayed: 2, failed: 0, unreadable: 1 });
    expect(replayed).toEqual(["earlier.txt", "later.txt"]);
    expect(await readFile(file, "utf8")).toBe(`${cut}\n`);
  });

  it("refusing a write: the letter is kept and written with the next one, and nothing crashes", async () => {
    const file = join(dir, "refused.jsonl");
    // A folder where the file should be: every append fails with EISDIR.
    await mkdir(file);
    const settled: DeliveryOutcome[] = [];
    const dispatcher = new Dispatcher({
      invoke: async () => {
        throw new Error("DynamoDB unreachable");
      },
      deadLetterFile: file,
      backoffMs: [1, 1],
      onSettled: (outcome) => settled.push(outcome),
    });
    dispatcher.enqueue(event("first.txt", "01"));
    await dispatcher.idle();
    expect(settled[0]?.delivered).toBe(false);
    expect(settled[0]?.error).toMatch(/not yet in the dead-letter file/);

    await rm(file, { recursive: true });
    dispatcher.enqueue(event("second.txt", "02"));
    await dispatcher.idle();
    expect((await readDeadLetters(file)).map((letter) => letter.event.Records[0]?.s3.object.key)).toEqual([
      "first.txt",
      "second.txt",
    ]);
  });
});
