import { readFile } from "node:fs/promises";
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ExtractionResult,
  extract,
  FileSource,
  SourceChangedError,
  SourceError,
} from "../../src/engine/index.js";
import { S3ByteSource, tagObject } from "../../src/s3/s3-byte-source.js";
import { corpusFile } from "../support/corpus.js";
import { countingClient } from "../support/counting-client.js";
import { startServers, type TestServers } from "../support/servers.js";

const BUCKET = "byte-source";
const S3_BLOCK = 64 * 1024;
let servers: TestServers;

beforeAll(async () => {
  servers = await startServers();
  await servers.s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
});
afterAll(() => servers?.stop());

async function put(key: string, body: Uint8Array | string, extra: Partial<PutObjectCommand["input"]> = {}) {
  const output = await servers.s3.send(
    new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body, ...extra }),
  );
  return output.ETag!.replace(/"/g, "");
}

const BYTES = Uint8Array.from({ length: 300_000 }, (_, i) => (i * 31 + (i >> 8)) & 0xff);

describe("S3ByteSource", () => {
  it("heads the object: size, unquoted ETag, content type, user metadata, storage class", async () => {
    const eTag = await put("head me.bin", BYTES, {
      ContentType: "application/x-test",
      Metadata: { owner: "ann" },
    });
    const { source, head } = await S3ByteSource.open(servers.s3, {
      bucket: BUCKET,
      key: "head me.bin",
      eTag,
    });
    expect(source.name).toBe(`s3://${BUCKET}/head me.bin`);
    expect(source.size).toBe(BYTES.length);
    expect(head).toMatchObject({
      size: BYTES.length,
      eTag,
      contentType: "application/x-test",
      userMetadata: { owner: "ann" },
      storageClass: "STANDARD",
    });
    expect(head.eTag).not.toContain('"');
    expect(Date.parse(head.lastModified!)).not.toBeNaN();
  });

  it.each([
    [0, 1],
    [0, 10],
    [1, 1],
    [65_535, 2],
    [123_456, 70_000],
    [299_990, 100], // clipped at the end
    [300_000, 10], // at the end: nothing
    [0, 300_000],
  ])("reads [%i, +%i) exactly", async (offset, length) => {
    await put("ranges.bin", BYTES);
    const { source } = await S3ByteSource.open(servers.s3, { bucket: BUCKET, key: "ranges.bin" });
    const bytes = await source.read(offset, length);
    expect(Buffer.from(bytes).equals(Buffer.from(BYTES.subarray(offset, offset + length)))).toBe(true);
  });

  it.each(["red flower.jpg", "a+b%20c.txt", "dir/ünï cödé 日本 🎉.bin"])("reads key %j", async (key) => {
    const eTag = await put(key, "0123456789");
    const { source } = await S3ByteSource.open(servers.s3, { bucket: BUCKET, key, eTag: `"${eTag}"` });
    expect(Buffer.from(await source.read(3, 4)).toString()).toBe("3456");
  });

  it("reads an empty object without a request", async () => {
    await put("empty", new Uint8Array(0));
    const { client, sent } = countingClient(servers.s3);
    const { source, head } = await S3ByteSource.open(client, { bucket: BUCKET, key: "empty" });
    expect(head.size).toBe(0);
    expect(await source.read(0, 100)).toHaveLength(0);
    expect(sent).toEqual(["HeadObjectCommand"]);
  });

  it("reports an overwrite after open as SourceChangedError on the next read", async () => {
    const eTag = await put("overwritten", "version one");
    const { source } = await S3ByteSource.open(servers.s3, { bucket: BUCKET, key: "overwritten", eTag });
    expect(Buffer.from(await source.read(0, 7)).toString()).toBe("version");
    await put("overwritten", "version two!");
    await expect(source.read(0, 7)).rejects.toBeInstanceOf(SourceChangedError);
  });

  it("reports a delete after open as SourceChangedError", async () => {
    await put("deleted", "soon gone");
    const { source } = await S3ByteSource.open(servers.s3, { bucket: BUCKET, key: "deleted" });
    await servers.s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: "deleted" }));
    const error = await source.read(0, 4).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SourceChangedError);
    expect((error as Error).message).toContain(`s3://${BUCKET}/deleted`);
  });

  it("refuses to open when the object is missing or its ETag is not the event's", async () => {
    await expect(S3ByteSource.open(servers.s3, { bucket: BUCKET, key: "never" })).rejects.toBeInstanceOf(
      SourceChangedError,
    );
    await put("stale event", "new content");
    await expect(
      S3ByteSource.open(servers.s3, {
        bucket: BUCKET,
        key: "stale event",
        eTag: "0123456789abcdef0123456789abcdef",
      }),
    ).rejects.toBeInstanceOf(SourceChangedError);
  });

  describe("fetched whole (size known and within fetchWholeUpTo)", () => {
    it("makes one GET and no HEAD, and its headers are the head", async () => {
      const eTag = await put("whole.bin", BYTES, {
        ContentType: "application/x-test",
        Metadata: { owner: "ann" },
      });
      const { client, sent } = countingClient(servers.s3);
      const { source, head, fetched } = await S3ByteSource.open(client, {
        bucket: BUCKET,
        key: "whole.bin",
        eTag,
        size: BYTES.length,
        fetchWholeUpTo: BYTES.length,
      });
      expect(head).toMatchObject({
        size: BYTES.length,
        eTag,
        contentType: "application/x-test",
        userMetadata: { owner: "ann" },
        storageClass: "STANDARD",
      });
      expect(Buffer.from(await source.read(1000, 5000))).toEqual(Buffer.from(BYTES.subarray(1000, 6000)));
      expect(Buffer.from(await source.read(0, BYTES.length))).toEqual(Buffer.from(BYTES));
      expect(sent).toEqual(["GetObjectCommand"]);
      expect(fetched).toEqual({ bytes: BYTES.length, requests: 1 });
      expect(source.inMemory).toBe(true);
    });

    it("reads by ranges after a HEAD when the object is over the limit", async () => {
      const eTag = await put("ranged.bin", BYTES);
      const { client, sent } = countingClient(servers.s3);
      const { source, fetched } = await S3ByteSource.open(client, {
        bucket: BUCKET,
        key: "ranged.bin",
        eTag,
        size: BYTES.length,
        fetchWholeUpTo: BYTES.length - 1,
      });
      await source.read(0, 100);
      expect(sent).toEqual(["HeadObjectCommand", "GetObjectCommand"]);
      expect(fetched).toEqual({ bytes: 100, requests: 1 });
      expect(source.inMemory).toBe(false);
    });

    it("refuses an object whose ETag or size is not the event's", async () => {
      const eTag = await put("whole changed", "new content");
      const open = (ref: { eTag: string; size: number }) =>
        S3ByteSource.open(servers.s3, { bucket: BUCKET, key: "whole changed", fetchWholeUpTo: 1024, ...ref });
      await expect(open({ eTag: "0123456789abcdef0123456789abcdef", size: 11 })).rejects.toBeInstanceOf(
        SourceChangedError,
      );
      await expect(open({ eTag, size: 12 })).rejects.toBeInstanceOf(SourceChangedError);
      await expect(
        S3ByteSource.open(servers.s3, { bucket: BUCKET, key: "never there", size: 1, fetchWholeUpTo: 1024 }),
      ).rejects.toBeInstanceOf(SourceChangedError);
    });
  });

  describe("faults the emulator cannot produce", () => {
    const failing = (error: unknown) => ({ send: async () => Promise.reject(error) }) as unknown as S3Client;
    const sdkError = (name: string, status: number, extra: object = {}) =>
      Object.assign(new Error(`${name} from S3`), { name, $metadata: { httpStatusCode: status }, ...extra });

    it.each([
      ["PreconditionFailed", 412],
      ["NoSuchVersion", 404],
      ["MethodNotAllowed", 405],
    ])("maps %s (%i) to SourceChangedError", async (name, status) => {
      const error = await S3ByteSource.open(failing(sdkError(name, status)), { bucket: "b", key: "k" }).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(SourceChangedError);
    });

    it("keeps throttling a retryable SourceError with the SDK error as cause and the object in the message", async () => {
      const throttle = sdkError("SlowDown", 503, { $retryable: { throttling: true } });
      const error = await S3ByteSource.open(failing(throttle), { bucket: "b", key: "k" }).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(SourceError);
      expect(error).not.toBeInstanceOf(SourceChangedError);
      expect((error as SourceError).message).toContain("s3://b/k");
      expect((error as SourceError).cause).toBe(throttle);
    });
  });
});

describe("extract() over S3 equals extract() over a file", () => {
  const comparable = (result: ExtractionResult) => {
    const { source: _s, durationMs: _d, bytesRead: _b, readRequests: _r, ...rest } = result;
    return rest;
  };

  it.each([
    ["exifpy-Canon_40D.jpg", 2],
    ["exifpy-Reconyx_HC500_Hyperfire.jpg", 3],
    ["filetype-fixture-mjpeg.mov", 3],
    ["filetype-fixture.zip", 2],
    ["tika-testWORD.docx", 3],
    ["filetype-fixture-printed.pdf", 3],
    ["musicmetadata-id3v2.4.mp3", 3],
    ["charsetnormalizer-sample-russian.txt", 2],
  ])("%s (at most %i ranged GETs)", async (name, maxRequests) => {
    const bytes = await readFile(corpusFile(name));
    const key = `corpus/${name}`;
    const eTag = await put(key, bytes);

    const file = await FileSource.open(corpusFile(name));
    let local: ExtractionResult;
    try {
      local = await extract(file, { name, blockSize: S3_BLOCK });
    } finally {
      await file.close();
    }
    const { client, sent } = countingClient(servers.s3);
    const { source } = await S3ByteSource.open(client, { bucket: BUCKET, key, eTag });
    const remote = await extract(source, { name, blockSize: S3_BLOCK });

    expect(remote.source).toBe(`s3://${BUCKET}/${key}`);
    expect(comparable(remote)).toEqual(comparable(local));
    expect(remote.readRequests).toBe(local.readRequests);
    expect(sent.filter((command) => command === "GetObjectCommand")).toHaveLength(remote.readRequests);
    expect(remote.readRequests).toBeLessThanOrEqual(maxRequests);
    expect(remote.bytesRead).toBeLessThanOrEqual(Math.max(bytes.length, 4 * S3_BLOCK));
  });
});

describe("tagObject", () => {
  it("adds tags and keeps the ones already there", async () => {
    await put("tagged", "x");
    await tagObject(servers.s3, BUCKET, "tagged", { team: "blue", stage: "raw" });
    await tagObject(servers.s3, BUCKET, "tagged", { "catalog-status": "rejected", stage: "checked" });
    const { GetObjectTaggingCommand } = await import("@aws-sdk/client-s3");
    const tags = await servers.s3.send(new GetObjectTaggingCommand({ Bucket: BUCKET, Key: "tagged" }));
    const asRecord = Object.fromEntries((tags.TagSet ?? []).map((t) => [t.Key, t.Value]));
    expect(asRecord).toEqual({ team: "blue", stage: "checked", "catalog-status": "rejected" });
  });

  it("removes a tag given as null and keeps the others", async () => {
    // Prepare
    await put("untagged", "x", { Tagging: "team=blue&catalog-status=rejected" });

    // Act
    await tagObject(servers.s3, BUCKET, "untagged", { "catalog-status": null });

    // Assess
    const { GetObjectTaggingCommand } = await import("@aws-sdk/client-s3");
    const tags = await servers.s3.send(new GetObjectTaggingCommand({ Bucket: BUCKET, Key: "untagged" }));
    expect(tags.TagSet).toEqual([{ Key: "team", Value: "blue" }]);
  });

  it("removes the last tag with an empty set, and writes nothing when the object has the tags asked for", async () => {
    // Prepare
    await put("last tag", "x", { Tagging: "catalog-status=rejected" });
    const { client, sent } = countingClient(servers.s3);

    // Act
    await tagObject(client, BUCKET, "last tag", { "catalog-status": null });
    await tagObject(client, BUCKET, "last tag", { "catalog-status": null });

    // Assess: one read and one write, then a read alone; no tag left.
    expect(sent).toEqual(["GetObjectTaggingCommand", "PutObjectTaggingCommand", "GetObjectTaggingCommand"]);
    const { GetObjectTaggingCommand } = await import("@aws-sdk/client-s3");
    const tags = await servers.s3.send(new GetObjectTaggingCommand({ Bucket: BUCKET, Key: "last tag" }));
    expect(tags.TagSet).toEqual([]);
  });

  it("reports a missing object as SourceChangedError", async () => {
    await expect(tagObject(servers.s3, BUCKET, "no such key", { a: "b" })).rejects.toBeInstanceOf(
      SourceChangedError,
    );
  });
});
