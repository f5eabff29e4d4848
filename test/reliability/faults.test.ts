/**
 * Faults: DynamoDB unreachable behind a switchable proxy (retried, parked in
 * the dead-letter file, replayed after recovery), objects changed between
 * event and read (superseded, no stale record), a put racing a delete in the
 * embedded S3 server, and `catalog dev` killed mid-batch (restart, backfill,
 * nothing lost or doubled).
 */
import { type ChildProcess, execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type ObjectEvent, toS3Notification } from "../../src/events/index.js";
import { Dispatcher, readDeadLetters } from "../../src/local/dispatcher.js";
import { EmbeddedDynamoDb } from "../../src/local/embedded-dynamodb.js";
import { EmbeddedS3 } from "../../src/local/embedded-s3.js";
import { LOCAL_CREDENTIALS, LOCAL_REGION, LOCAL_S3_CLIENT_OPTIONS } from "../../src/local/local-stack.js";
import type { ObjectStorage } from "../../src/pipeline/ports.js";
import { S3ByteSource, tagObject } from "../../src/s3/s3-byte-source.js";
import { CatalogStore } from "../../src/store/catalog-store.js";
import { CATALOG, DevProcess, freePort } from "../e2e/stack-process.js";
import { REPO_ROOT } from "../support/corpus.js";
import { FaultProxy } from "./fault-proxy.js";
import { quietHandler } from "./replay-harness.js";

const BUCKET = "uploads";
const TABLE = "catalog";

interface Pieces {
  dir: string;
  s3: EmbeddedS3;
  dynamodb: EmbeddedDynamoDb;
  s3Client: S3Client;
  /** Straight to the DynamoDB server: for setup and checks. */
  store: CatalogStore;
  events: ObjectEvent[];
  close(): Promise<void>;
}

/** The local stack's parts, assembled by hand so a proxy can stand between the handler and DynamoDB. */
async function startPieces(): Promise<Pieces> {
  const dir = await mkdtemp(join(tmpdir(), "catalog-faults-"));
  const s3 = await EmbeddedS3.start({ port: 0, directory: join(dir, "s3"), buckets: [BUCKET] });
  const dynamodb = await EmbeddedDynamoDb.start({ port: 0 });
  const s3Client = new S3Client({ ...LOCAL_S3_CLIENT_OPTIONS, endpoint: s3.endpoint });
  const direct = dynamoClient(dynamodb.endpoint);
  const store = new CatalogStore(direct, { tableName: TABLE });
  await store.ensureTable();
  const events: ObjectEvent[] = [];
  s3.on("object", (event) => events.push(event));
  return {
    dir,
    s3,
    dynamodb,
    s3Client,
    store,
    events,
    async close() {
      s3Client.destroy();
      direct.destroy();
      await Promise.all([s3.close(), dynamodb.close()]);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function dynamoClient(endpoint: string, maxAttempts?: number): DynamoDBClient {
  return new DynamoDBClient({
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    endpoint,
    ...(maxAttempts !== undefined && { maxAttempts }),
  });
}

async function put(s3: S3Client, key: string, body: string): Promise<string> {
  const output = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
  return (output.ETag ?? "").replace(/"/g, "");
}

describe("DynamoDB unreachable for a while", () => {
  let pieces: Pieces;
  let proxy: FaultProxy;
  afterAll(async () => {
    await proxy?.close();
    await pieces?.close();
  });

  it.each([["refuse" as const], ["reset" as const]])(
    "events are retried, parked in the dead-letter file while connections %s, and completed by replay",
    async (mode) => {
      pieces ??= await startPieces();
      proxy ??= await FaultProxy.start(pieces.dynamodb.port);
      proxy.setMode("forward");
      const handlerDb = dynamoClient(proxy.endpoint, 2);
      const handler = quietHandler({ s3: pieces.s3Client, dynamodb: handlerDb, tableName: TABLE });
      const deadLetterFile = join(pieces.dir, `dead-letter-${mode}.jsonl`);
      let attempts = 0;
      const dispatcher = new Dispatcher({
        invoke: (event) => {
          attempts++;
          return handler(event);
        },
        deadLetterFile,
        concurrency: 4,
        retries: 2,
        backoffMs: [20, 50],
      });
      const listener = (event: ObjectEvent) => dispatcher.enqueue(event);
      pieces.s3.on("object", listener);
      const uploaded = new Map<string, string>();
      try {
        // Healthy first: these are cataloged at once.
        for (let index = 0; index < 5; index++) {
          const key = `${mode}/before-${index}.txt`;
          uploaded.set(key, await put(pieces.s3Client, key, `before ${index}`));
        }
        await dispatcher.idle();
        const brokenBefore = proxy.broken;
        proxy.setMode(mode);
        for (let index = 0; index < 12; index++) {
          const key = `${mode}/during-${index}.txt`;
          uploaded.set(key, await put(pieces.s3Client, key, `during ${index} ${"z".repeat(index * 10)}`));
        }
        await dispatcher.idle();

        const parked = await readDeadLetters(deadLetterFile);
        expect(parked).toHaveLength(12);
        expect(parked.every((letter) => letter.attempts === 3)).toBe(true);
        expect(proxy.broken - brokenBefore).toBeGreaterThanOrEqual(12 * 3);
        expect(attempts).toBe(5 + 12 * 3);

        proxy.setMode("forward");
        await expect(dispatcher.replay()).resolves.toEqual({ replayed: 12, failed: 0 });
        expect(await readDeadLetters(deadLetterFile)).toEqual([]);

        let cataloged = 0;
        for (const [key, eTag] of uploaded) {
          const { record, audit } = await pieces.store.getObject(BUCKET, key);
          expect(record, key).toMatchObject({ status: "ok", etag: eTag });
          expect(audit, key).toHaveLength(1);
          expect(audit[0]?.deliveries, key).toBe(1);
          cataloged++;
        }
        expect(cataloged).toBe(uploaded.size);
      } finally {
        pieces.s3.off("object", listener);
        handlerDb.destroy();
      }
    },
  );
});

describe("the object changes between the event and the read", () => {
  let pieces: Pieces;
  beforeAll(async () => {
    pieces = await startPieces();
  });
  afterAll(() => pieces.close());

  const handler = () =>
    quietHandler({ s3: pieces.s3Client, dynamodb: dynamoClient(pieces.dynamodb.endpoint), tableName: TABLE });
  const lastEvent = () => pieces.events.at(-1) as ObjectEvent;

  it("overwritten before the read: the old event is superseded, the new one cataloged, a replay changes nothing", async () => {
    await put(pieces.s3Client, "changed/overwritten.txt", "first");
    const first = lastEvent();
    const eTag = await put(pieces.s3Client, "changed/overwritten.txt", "second, longer");
    const second = lastEvent();

    await handler()(toS3Notification([first]));
    expect((await pieces.store.getObject(BUCKET, first.key)).record).toBeUndefined();
    await handler()(toS3Notification([second]));
    await handler()(toS3Notification([first]));

    const { record, audit } = await pieces.store.getObject(BUCKET, first.key);
    expect(record).toMatchObject({ status: "ok", etag: eTag, sequencer: second.sequencer });
    expect(audit.map((entry) => [entry.sequencer, entry.outcome, entry.deliveries])).toEqual([
      [first.sequencer, "superseded", 2],
      [second.sequencer, "created", 1],
    ]);
  });

  it("deleted before the read: superseded, then the removal's tombstone; no live record", async () => {
    await put(pieces.s3Client, "changed/deleted.txt", "soon gone");
    const created = lastEvent();
    await pieces.s3Client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: "changed/deleted.txt" }));
    const removed = lastEvent();
    expect(removed.kind).toBe("removed");

    await handler()(toS3Notification([created]));
    await handler()(toS3Notification([removed]));
    await handler()(toS3Notification([created]));

    const { record, audit } = await pieces.store.getObject(BUCKET, created.key);
    expect(record).toMatchObject({ status: "deleted", sequencer: removed.sequencer });
    expect(audit.map((entry) => entry.outcome)).toEqual(["superseded", "deleted"]);
  });

  it("overwritten after HEAD, while the body is being read: superseded, no record of either version", async () => {
    const eTag = await put(pieces.s3Client, "changed/mid-read.txt", "a".repeat(200_000));
    const event = lastEvent();
    // Opens as S3ByteSource does for an object too large to fetch whole (HEAD, then ranged GETs),
    // then swaps the object before the engine's first ranged GET.
    const storage: ObjectStorage = {
      async open(ref) {
        const opened = await S3ByteSource.open(pieces.s3Client, { ...ref, fetchWholeUpTo: 0 });
        await put(pieces.s3Client, ref.key, "b".repeat(150_000));
        return opened;
      },
      tag: (bucket, key, tags, options) => tagObject(pieces.s3Client, bucket, key, tags, options),
    };
    const racing = quietHandler({
      s3: pieces.s3Client,
      dynamodb: dynamoClient(pieces.dynamodb.endpoint),
      tableName: TABLE,
      storage,
    });

    await racing(toS3Notification([event]));

    const { record, audit } = await pieces.store.getObject(BUCKET, event.key);
    expect(record).toBeUndefined();
    expect(audit).toMatchObject([{ outcome: "superseded", etag: eTag }]);
  });
});

describe("embedded S3: a put racing a delete in the same folder", () => {
  let pieces: Pieces;
  beforeAll(async () => {
    pieces = await startPieces();
  });
  afterAll(() => pieces.close());

  // s3rver removes a folder a delete leaves empty; a put into it at that moment used to answer 200,
  // store nothing and crash the process with an uncaught ENOENT (see PutDeleteGate).
  it("every acknowledged put is stored", async () => {
    const rounds = 150;
    await Promise.all(
      Array.from({ length: rounds }, (_, index) => put(pieces.s3Client, `race-${index}/old.txt`, "old")),
    );
    await Promise.all(
      Array.from({ length: rounds }, (_, index) => [
        pieces.s3Client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: `race-${index}/old.txt` })),
        put(pieces.s3Client, `race-${index}/new.txt`, `new ${index}`),
      ]).flat(),
    );
    for (let index = 0; index < rounds; index++) {
      const output = await pieces.s3Client.send(
        new GetObjectCommand({ Bucket: BUCKET, Key: `race-${index}/new.txt` }),
      );
      expect(await output.Body?.transformToString()).toBe(`new ${index}`);
    }
  });
});

// ---------------------------------------------------------------------------
// The process killed mid-batch

const run = promisify(execFile);

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

describe("catalog dev killed mid-batch", () => {
  let dataDir: string;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    // The CLI runs from dist/; build it when it is missing.
    if (!existsSync(join(REPO_ROOT, "dist/cli/main.js"))) {
      await run("npm", ["run", "build"], { cwd: REPO_ROOT }).catch(() => undefined);
    }
    dataDir = await mkdtemp(join(tmpdir(), "catalog-killed-"));
  }, 180_000);
  afterEach(async () => {
    for (const child of children.splice(0)) {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited(child);
    }
  });
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  it("restart and backfill leave every acknowledged upload cataloged once", async () => {
    const ports = [await freePort(), await freePort(), await freePort()];
    const [s3Port, dynamodbPort, httpPort] = ports as [number, number, number];
    const first = await DevProcess.start(dataDir, { s3: s3Port, dynamodb: dynamodbPort, http: httpPort });
    children.push(first.child);
    const s3 = new S3Client({
      ...LOCAL_S3_CLIENT_OPTIONS,
      endpoint: `http://127.0.0.1:${ports[0]}`,
      maxAttempts: 1,
    });
    const acknowledged = new Map<string, string>();
    const total = 80;
    let killed = false;
    const uploads = Array.from({ length: total }, async (_, index) => {
      const key = `batch/file-${String(index).padStart(3, "0")}.json`;
      try {
        const eTag = await put(s3, key, JSON.stringify({ index, padding: "p".repeat(index * 97) }));
        acknowledged.set(key, eTag);
        // Kill while the rest are still in flight and the dispatcher is busy with these.
        if (acknowledged.size === total / 2 && !killed) {
          killed = true;
          first.child.kill("SIGKILL");
        }
      } catch {
        // Refused by the dying server: never acknowledged, so the client knows it did not land.
      }
    });
    await Promise.all(uploads);
    await exited(first.child);
    expect(killed).toBe(true);
    expect(acknowledged.size).toBeGreaterThanOrEqual(total / 2);
    expect(acknowledged.size).toBeLessThan(total);

    const second = await DevProcess.start(dataDir, { s3: s3Port, dynamodb: dynamodbPort, http: httpPort });
    children.push(second.child);
    const endpoints = [
      "--s3-endpoint",
      `http://127.0.0.1:${ports[0]}`,
      "--dynamodb-endpoint",
      `http://127.0.0.1:${ports[1]}`,
    ];
    const backfill = await run("node", [CATALOG, "backfill", ...endpoints, "--json"], {
      cwd: REPO_ROOT,
      timeout: 60_000,
    });
    const summary = JSON.parse(backfill.stdout) as { scanned: number; errors: number; cataloged: number };
    expect(summary.errors).toBe(0);

    const dynamodb = dynamoClient(`http://127.0.0.1:${ports[1]}`);
    const store = new CatalogStore(dynamodb, { tableName: TABLE });
    try {
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: "batch/" }));
      const inBucket = new Map((listed.Contents ?? []).map((object) => [object.Key as string, object.ETag]));
      // Nothing acknowledged is lost from the bucket ...
      for (const [key, eTag] of acknowledged) expect(inBucket.get(key)?.replace(/"/g, ""), key).toBe(eTag);
      expect(summary.scanned).toBe(inBucket.size);
      // ... or from the catalog, and nothing is cataloged twice.
      let records = 0;
      for (const [key, eTag] of inBucket) {
        const { record, audit } = await store.getObject(BUCKET, key);
        expect(record, key).toMatchObject({ status: "ok", etag: eTag?.replace(/"/g, "") });
        records++;
        const perEvent = new Map<string, number>();
        for (const entry of audit) perEvent.set(entry.sequencer, (perEvent.get(entry.sequencer) ?? 0) + 1);
        expect(
          [...perEvent.values()].every((count) => count === 1),
          key,
        ).toBe(true);
        expect(
          audit.filter((entry) => entry.eventName === "ObjectCreated:Put").length,
          key,
        ).toBeLessThanOrEqual(1);
        // An event the kill caught between its record and its entry says what it did, not "duplicate".
        expect(
          audit.map((entry) => entry.outcome),
          key,
        ).not.toContain("duplicate");
      }
      expect(records).toBe(inBucket.size);
      const folder = await store.listFolder(BUCKET, "batch/", { limit: 1000 });
      expect(folder.items.map((item) => item.key).sort()).toEqual([...inBucket.keys()].sort());
      console.info(
        `killed mid-batch: ${acknowledged.size}/${total} acknowledged, ${inBucket.size} in the bucket, ${summary.cataloged} cataloged by backfill, ${records} records`,
      );
    } finally {
      dynamodb.destroy();
      s3.destroy();
    }
    await second.stop();
  }, 120_000);
});
