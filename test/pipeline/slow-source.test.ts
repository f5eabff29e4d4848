/**
 * A file too costly to extract is data (a record with a reason); S3 not
 * delivering the bytes in time is an infrastructure fault that must throw,
 * so the invocation is retried and, after its retries, parked with nothing
 * lost. S3 is the embedded server behind a TCP proxy that can stop passing
 * response bytes part way through a body; DynamoDB is the embedded server.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createServer, type Server, Socket } from "node:net";
import { CreateBucketCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SourceChangedError, SourceError } from "../../src/engine/errors.js";
import type { ObjectEvent } from "../../src/events/s3-event.js";
import type { ObjectStorage } from "../../src/pipeline/ports.js";
import { type PipelineDeps, processObject } from "../../src/pipeline/process-object.js";
import { DEFAULT_POLICY } from "../../src/policy/policy.js";
import { S3ByteSource } from "../../src/s3/s3-byte-source.js";
import { CatalogStore } from "../../src/store/catalog-store.js";
import { corpusFile } from "../support/corpus.js";
import { startServers, TEST_CREDENTIALS, type TestServers } from "../support/servers.js";

/**
 * Forwards TCP to a port; with `stallAfter` set, each connection made from
 * then on passes that many response bytes and then holds the rest: the
 * headers and the start of a body arrive, the remainder never does.
 */
class BodyStallProxy {
  stallAfter: number | undefined;
  /** With this set, each connection made from then on passes response bytes at this rate. */
  bytesPerSecond: number | undefined;
  private readonly sockets = new Set<Socket>();
  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(targetPort: number): Promise<BodyStallProxy> {
    let proxy: BodyStallProxy | undefined;
    const server = createServer((client) => proxy?.accept(client, targetPort));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    proxy = new BodyStallProxy(server, (server.address() as { port: number }).port);
    return proxy;
  }

  private accept(client: Socket, targetPort: number): void {
    const allowance = this.stallAfter ?? Number.POSITIVE_INFINITY;
    const rate = this.bytesPerSecond;
    let passed = 0;
    const upstream = new Socket();
    this.sockets.add(client).add(upstream);
    for (const socket of [client, upstream]) socket.on("error", () => undefined);
    client.on("close", () => upstream.destroy());
    // A stalled response stays stalled: the server closing its idle connection must not end it.
    upstream.on("close", () => {
      if (passed <= allowance) client.destroy();
    });
    upstream.connect(targetPort, "127.0.0.1");
    client.pipe(upstream);
    upstream.on("data", (chunk: Buffer) => {
      if (rate !== undefined) {
        upstream.pause();
        setTimeout(
          () => {
            client.write(chunk);
            upstream.resume();
          },
          (chunk.length / rate) * 1000,
        );
        return;
      }
      const room = allowance - passed;
      if (room > 0) client.write(chunk.subarray(0, room));
      passed += chunk.length;
    });
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const BUCKET = "uploads";
const KEY = "camera/trail cam.jpg";
const OVER_BUDGET_KEY = "camera/over budget.jpg";
/** A photo padded to 4 MiB: extracted from its first block, hashed from every byte. */
const LARGE_KEY = "camera/large.jpg";
let large: Uint8Array;
let servers: TestServers;
let proxy: BodyStallProxy;
let s3: S3Client;
let store: CatalogStore;
let event: ObjectEvent;

beforeAll(async () => {
  servers = await startServers();
  await servers.s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  const bytes = await readFile(corpusFile("exifpy-Reconyx_HC500_Hyperfire.jpg"));
  const put = await servers.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: KEY, Body: bytes }));
  await servers.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: OVER_BUDGET_KEY, Body: bytes }));
  large = new Uint8Array(4 * 1024 * 1024);
  large.set(bytes);
  // Filler after the image, then an end-of-image marker where a JPEG's tail is looked for.
  large.set([0xff, 0xd9], large.length - 2);
  await servers.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: LARGE_KEY, Body: large }));
  event = {
    kind: "created",
    eventName: "ObjectCreated:Put",
    bucket: BUCKET,
    key: KEY,
    size: bytes.byteLength,
    eTag: (put.ETag ?? "").replaceAll('"', ""),
    sequencer: "0055AED6DCD90281E5",
    eventTime: new Date().toISOString(),
  };
  proxy = await BodyStallProxy.start(Number(new URL(servers.s3Endpoint).port));
  s3 = new S3Client({
    region: "us-east-1",
    endpoint: `http://127.0.0.1:${proxy.port}`,
    credentials: TEST_CREDENTIALS,
    forcePathStyle: true,
    maxAttempts: 1,
  });
  store = new CatalogStore(servers.dynamodb, { tableName: "catalog-slow-source" });
  await store.ensureTable();
});

afterAll(async () => {
  s3?.destroy();
  await proxy?.close();
  await servers?.stop();
});

function deps(options: { stallTimeoutMs?: number; maxMillis: number; hash?: boolean }): PipelineDeps {
  const storage: ObjectStorage = {
    open: (ref) =>
      S3ByteSource.open(
        s3,
        ref,
        options.stallTimeoutMs !== undefined ? { stallTimeoutMs: options.stallTimeoutMs } : {},
      ),
    tag: async () => {},
  };
  // Without the hash pass, nothing but the time budget ends a stalled extraction.
  const policy = options.hash === false ? { ...DEFAULT_POLICY, hashMaxBytes: 0 } : DEFAULT_POLICY;
  return { storage, catalog: store, policy, budget: { maxMillis: options.maxMillis } };
}

function md5Hex(bytes: Uint8Array): string {
  return createHash("md5").update(bytes).digest("hex");
}

/** The event without its size: the object is then headed and read by ranges, under the budget. */
function withoutSize({ size: _size, ...rest }: ObjectEvent): ObjectEvent {
  return rest;
}

/** Runs the event with a fresh connection pool, so the proxy's mode applies to every request. */
async function run(target: ObjectEvent, pipelineDeps: PipelineDeps) {
  s3.destroy();
  return processObject(target, pipelineDeps);
}

describe("a slow S3 body", () => {
  it("read by ranges and stalled past the time budget throws instead of recording a time limit", async () => {
    // Prepare
    proxy.stallAfter = 4096;
    try {
      // Act
      const outcome = run(withoutSize(event), deps({ maxMillis: 800, stallTimeoutMs: 60_000, hash: false }));
      // Assess
      const error = await outcome.catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(SourceError);
      expect(error).not.toBeInstanceOf(SourceChangedError);
      expect((error as Error).message).toMatch(/budget ran out waiting for the bytes/);
      expect(await store.getRecord(BUCKET, KEY)).toBeUndefined();
    } finally {
      proxy.stallAfter = undefined;
    }
  });

  it("fetched whole and stalled fails the read once no byte has come for the stall timeout", async () => {
    proxy.stallAfter = 4096;
    try {
      const error = await run(event, deps({ maxMillis: 10_000, stallTimeoutMs: 500 })).catch(
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(SourceError);
      // The stall timer's own words: the 10 s budget would have said it ran out waiting for the bytes.
      expect((error as Error).message).toMatch(/: GetObject stalled: no byte from S3 for 500 ms /);
      expect(await store.getRecord(BUCKET, KEY)).toBeUndefined();
    } finally {
      proxy.stallAfter = undefined;
    }
  });

  it("the same object, delivered promptly, is cataloged", async () => {
    const outcome = await run(event, deps({ maxMillis: 10_000, stallTimeoutMs: 500 }));
    expect(outcome).toMatchObject({ outcome: "created", status: "ok", mime: "image/jpeg" });
    expect((await store.getRecord(BUCKET, KEY))?.status).toBe("ok");
  });

  it("a hash pass that outlasts the time budget, with extraction done in time, is still a record", async () => {
    // Prepare: 2 MiB/s, so the first blocks come at once and the 4 MiB hash takes about 2 s.
    proxy.bytesPerSecond = 2 * 1024 * 1024;
    try {
      // Act
      const outcome = await run(
        withoutSize({ ...event, key: LARGE_KEY, eTag: md5Hex(large) }),
        deps({ maxMillis: 1_000 }),
      );
      // Assess
      expect(outcome).toMatchObject({ outcome: "created", status: "ok", mime: "image/jpeg" });
      const record = await store.getRecord(BUCKET, LARGE_KEY);
      expect(record?.sha256).toBe(createHash("sha256").update(large).digest("hex"));
    } finally {
      proxy.bytesPerSecond = undefined;
    }
  });

  it("an extraction over budget with S3 answering at once is still a record with a reason", async () => {
    // A budget already spent when extraction starts: the engine, not S3, runs out of time.
    const key = OVER_BUDGET_KEY;
    const outcome = await run(withoutSize({ ...event, key }), deps({ maxMillis: 0 }));
    expect(outcome.status).toBe("error");
    expect(outcome.reasons.join(" ")).toMatch(/time budget/);
    expect((await store.getRecord(BUCKET, key))?.status).toBe("error");
  });
});
