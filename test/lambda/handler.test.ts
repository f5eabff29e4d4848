import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { crc32 as zlibCrc32 } from "node:zlib";
import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import { DeleteObjectCommand, GetObjectTaggingCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { marshall } from "@aws-sdk/util-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { extract, FileSource } from "../../src/engine/index.js";
import { toS3Notification } from "../../src/events/s3-event.js";
import { DEFAULT_POLICY } from "../../src/policy/policy.js";
import { recordKey } from "../../src/store/keys.js";
import { TTL_ATTRIBUTE } from "../../src/store/schema.js";
import { corpusFile, expectedEntries } from "../support/corpus.js";
import { type HandlerStack, notificationBody, removal, sqsBatch, startStack, upload } from "./fixtures.js";

let stack: HandlerStack;

beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack.servers.stop());

function today() {
  const now = new Date();
  return {
    from: new Date(now.getTime() - 3_600_000).toISOString(),
    to: new Date(now.getTime() + 3_600_000).toISOString(),
  };
}

describe("one file of every corpus category", () => {
  // executable: the corpus ships no executables.
  it.each([
    ["filetype-fixture.jpg", "image"],
    ["filetype-fixture.webm", "video"],
    ["filetype-fixture.mp3", "audio"],
    ["filetype-fixture.pdf", "pdf"],
    ["filetype-fixture.docx", "document"],
    ["filetype-fixture.zip", "archive"],
    ["filetype-fixture.ttf", "font"],
    ["tika-test-columnar.csv", "text"],
    ["filetype-fixture.sqlite", "other"],
  ])("%s is cataloged as %s, as the engine reads it from disk", async (name, category) => {
    const event = await upload(stack, `corpus/${name}`, { corpus: name });
    await expect(stack.handler()(toS3Notification([event]))).resolves.toBeUndefined();

    const { record, audit } = await stack.store.getObject(stack.bucket, event.key);
    const local = await FileSource.open(corpusFile(name));
    // S3 (and s3rver) declare application/octet-stream when the uploader gave no type.
    const expected = await extract(local, {
      name: event.key,
      hash: true,
      declaredMime: record?.contentType as string,
    });
    await local.close();
    const oracle = expectedEntries().find((entry) => entry.name === name);

    expect(record?.status).toBe(expected.status);
    expect(record?.category).toBe(category);
    expect(record?.format).toEqual(expected.format);
    expect(record?.sha256).toBe(oracle?.sha256);
    expect(record?.size).toBe(oracle?.size);
    expect(record?.etag).toBe(event.eTag);
    expect(record?.sequencer).toBe(event.sequencer);
    expect(record?.schemaVersion).toBe(1);
    expect(record?.bytesRead).toBeGreaterThan(0);
    for (const section of ["image", "media", "pdf", "document", "archive", "text", "font"] as const) {
      expect(record?.[section], section).toEqual(expected[section]);
    }
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      outcome: "created",
      eventName: "ObjectCreated:Put",
      principalId: "AWS:AIDAEXAMPLEUPLOADER",
      sourceIPAddress: "198.51.100.7",
      requestId: event.requestId,
      deliveries: 1,
    });
    expect(audit[0]?.bytesRead).toBe(record?.bytesRead);
    // The content the event wrote: a retry finds there the copies an object no longer has.
    expect(audit[0]?.sha256).toBe(record?.sha256);
    expect(record?.sha256).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe("the checksum S3 keeps with the object", () => {
  it("is in the record: the CRC32 a current SDK sends with every upload", async () => {
    const bytes = await readFile(corpusFile("filetype-fixture.webm"));
    const event = await upload(stack, "checksums/default.webm", bytes);
    await stack.handler()(toS3Notification([event]));

    const { record } = await stack.store.getObject(stack.bucket, event.key);
    const crc32 = Buffer.alloc(4);
    crc32.writeUInt32BE(zlibCrc32(bytes));
    expect(record?.checksum).toEqual({ crc32: crc32.toString("base64"), type: "FULL_OBJECT" });
    expect(record?.sha256).toBe(createHash("sha256").update(bytes).digest("hex"));
  });

  it("gives the content hash when it is a full-object SHA-256, without a hashing pass over the bytes", async () => {
    const name = "exifpy-Reconyx_HC500_Hyperfire.jpg";
    const bytes = await readFile(corpusFile(name));
    const sha256 = createHash("sha256").update(bytes);
    const event = await upload(stack, `checksums/${name}`, bytes, { checksumAlgorithm: "SHA256" });
    // Over the policy's hash limit, so the object is read by ranges, unless the stored checksum was missed.
    await stack.handler({ policy: { ...DEFAULT_POLICY, hashMaxBytes: 1 }, thumbnails: false })(
      toS3Notification([event]),
    );

    const { record } = await stack.store.getObject(stack.bucket, event.key);
    expect(record?.checksum).toEqual({ sha256: sha256.copy().digest("base64"), type: "FULL_OBJECT" });
    expect(record?.sha256).toBe(sha256.digest("hex"));
    expect(record?.bytesRead).toBeLessThan(bytes.length);
  });
});

describe("keys as S3 encodes them in events", () => {
  // s3rver stores a key segment as a file name (255-byte limit), so the long key is split by slashes.
  const longKey = `long/${Array.from({ length: 5 }, (_, index) => `${String(index)}${"é".repeat(99)}`).join("/")}`;
  const padded = `${longKey}${"x".repeat(1024 - Buffer.byteLength(longKey) - 4)}.jpg`;

  it.each([
    ["space", "with space/red flower.jpg"],
    ["plus", "plus/a+b=c.jpg"],
    ["percent", "percent/100% done %20.jpg"],
    ["unicode", "unicode/日本語 ファイル é ☃.jpg"],
    ["1,024 bytes", padded],
  ])("%s: %s", async (_label, key) => {
    expect(Buffer.byteLength(key)).toBeLessThanOrEqual(1024);
    const event = await upload(stack, key, { corpus: "filetype-fixture.jpg" });
    const notification = toS3Notification([event]);
    // Every key here needs encoding: the handler must see the encoded form, as from S3.
    expect(notification.Records[0]?.s3.object.key).not.toBe(key);
    await stack.handler()(notification);

    const { record } = await stack.store.getObject(stack.bucket, key);
    expect(record?.key).toBe(key);
    expect(record?.status).toBe("ok");
    const folder = key.slice(0, key.lastIndexOf("/") + 1);
    const listing = await stack.store.listFolder(stack.bucket, folder);
    expect(listing.items.map((item) => item.key)).toContain(key);
  });

  it("the 1,024-byte key is exactly 1,024 bytes", () => {
    expect(Buffer.byteLength(padded)).toBe(1024);
  });
});

describe("at-least-once, unordered delivery", () => {
  it("three deliveries of one event make one record and one audit entry", async () => {
    const event = await upload(stack, "dup/three.png", { corpus: "filetype-fixture.png" });
    const handle = stack.handler();
    for (let delivery = 0; delivery < 3; delivery += 1) await handle(toS3Notification([event]));
    const { record, audit } = await stack.store.getObject(stack.bucket, event.key);
    expect(record?.status).toBe("ok");
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ outcome: "created", deliveries: 3, lastOutcome: "duplicate" });
  });

  const orders = [
    [0, 1, 2],
    [0, 2, 1],
    [1, 0, 2],
    [1, 2, 0],
    [2, 0, 1],
    [2, 1, 0],
  ];
  it.each(orders)("create, overwrite, delete delivered as %i,%i,%i end deleted", async (...order) => {
    const key = `shuffle/${order.join("")}.bin`;
    const create = await upload(stack, key, { corpus: "filetype-fixture.png" });
    const overwrite = await upload(stack, key, { corpus: "filetype-fixture.gif" });
    await stack.servers.s3.send(new DeleteObjectCommand({ Bucket: stack.bucket, Key: key }));
    const events = [create, overwrite, removal(stack, key)];
    const handle = stack.handler();
    // One event per invocation, in the shuffled order, then all three again in one batch.
    for (const index of order) await handle(toS3Notification([events[index]!]));
    await handle(toS3Notification(order.map((index) => events[index]!)));

    const { record, audit } = await stack.store.getObject(stack.bucket, key);
    expect(record?.status).toBe("deleted");
    expect(record?.sequencer).toBe(events[2]?.sequencer);
    expect(audit).toHaveLength(3);
    expect(audit.every((entry) => entry.deliveries === 2)).toBe(true);
  });

  it.each([
    ["in order", [0, 1]],
    ["reversed", [1, 0]],
  ])("create then overwrite, delivered %s, ends on the second version", async (_label, order) => {
    const key = `overwrite/${order.join("")}.img`;
    const first = await upload(stack, key, { corpus: "filetype-fixture.png" });
    const second = await upload(stack, key, { corpus: "filetype-fixture.gif" });
    const events = [first, second];
    const handle = stack.handler();
    for (const index of order) await handle(toS3Notification([events[index]!]));
    const { record, audit } = await stack.store.getObject(stack.bucket, key);
    expect(record?.etag).toBe(second.eTag);
    expect(record?.mime).toBe("image/gif");
    expect(audit.find((entry) => entry.sequencer === first.sequencer)?.outcome).toMatch(/superseded|stale/);
  });

  it("a lifecycle expiration tombstones the object, which then expires itself after the TTL", async () => {
    const key = "lifecycle/old.png";
    const create = await upload(stack, key, { corpus: "filetype-fixture.png" });
    await stack.servers.s3.send(new DeleteObjectCommand({ Bucket: stack.bucket, Key: key }));
    const expiration = {
      ...removal(stack, key),
      eventName: "LifecycleExpiration:Delete",
      principalId: "s3.amazonaws.com",
      lifecycle: true,
    };
    const handle = stack.handler({ tombstoneTtlSeconds: 30 * 86_400 });
    await handle(toS3Notification([create]));
    const before = Math.floor(Date.now() / 1000);
    await handle(toS3Notification([expiration]));

    const { record, audit } = await stack.store.getObject(stack.bucket, key);
    expect(record).toMatchObject({ status: "deleted", sequencer: expiration.sequencer });
    expect(audit.map((entry) => entry.eventName)).toEqual([
      "ObjectCreated:Put",
      "LifecycleExpiration:Delete",
    ]);
    const { Item } = await stack.servers.dynamodb.send(
      new GetItemCommand({
        TableName: stack.tableName,
        Key: marshall(recordKey(stack.bucket, key)),
        ConsistentRead: true,
      }),
    );
    const expiresAt = Number(Item?.[TTL_ATTRIBUTE]?.N);
    expect(expiresAt - before).toBeGreaterThanOrEqual(30 * 86_400);
    expect(expiresAt - before).toBeLessThan(30 * 86_400 + 60);
  });

  it("an object overwritten between event and read is superseded: audited, no record, no failure", async () => {
    const key = "superseded/a.png";
    const event = await upload(stack, key, { corpus: "filetype-fixture.png" });
    await stack.servers.s3.send(
      new PutObjectCommand({
        Bucket: stack.bucket,
        Key: key,
        Body: await readFile(corpusFile("filetype-fixture.gif")),
      }),
    );
    await expect(stack.handler()(toS3Notification([event]))).resolves.toBeUndefined();
    const { record, audit } = await stack.store.getObject(stack.bucket, key);
    expect(record).toBeUndefined();
    expect(audit.map((entry) => entry.outcome)).toEqual(["superseded"]);
  });

  it("an object deleted before its create event is read is superseded", async () => {
    const key = "superseded/gone.png";
    const event = await upload(stack, key, { corpus: "filetype-fixture.png" });
    await stack.servers.s3.send(new DeleteObjectCommand({ Bucket: stack.bucket, Key: key }));
    await stack.handler()(toS3Notification([event]));
    const { record, audit } = await stack.store.getObject(stack.bucket, key);
    expect(record).toBeUndefined();
    expect(audit[0]?.outcome).toBe("superseded");
  });
});

describe("bad files and policy", () => {
  it.each(["sharp-corrupt-header.jpg", "musicmetadata-CWE-835.wma"])(
    "corrupt %s: an error record, and the invocation succeeds",
    async (name) => {
      const event = await upload(stack, `corrupt/${name}`, { corpus: name });
      await expect(stack.handler()(toS3Notification([event]))).resolves.toBeUndefined();
      const { record, audit } = await stack.store.getObject(stack.bucket, event.key);
      expect(record?.status).toBe("error");
      expect(record?.reason).toBeTruthy();
      expect(audit[0]?.outcome).toBe("error");
      const problems = await stack.store.listProblems(stack.bucket, today());
      expect(problems.items.map((item) => item.key)).toContain(event.key);
    },
  );

  it("a policy rejection is recorded with reasons and tags the object", async () => {
    const policy = { ...DEFAULT_POLICY, allowedCategories: ["image" as const], tagRejected: true };
    const event = await upload(stack, "rejected/archive.zip", { corpus: "filetype-fixture.zip" });
    await stack.handler({ policy })(toS3Notification([event]));
    const { record, audit } = await stack.store.getObject(stack.bucket, event.key);
    expect(record?.status).toBe("rejected");
    expect(record?.reasons?.[0]).toMatch(/application\/zip \(archive\) is not allowed/);
    expect(record?.archive?.kind).toBe("zip");
    expect(record?.taggedRejected).toBe(true);
    expect(audit[0]?.outcome).toBe("rejected");
    const tags = await stack.servers.s3.send(
      new GetObjectTaggingCommand({ Bucket: stack.bucket, Key: event.key }),
    );
    expect(tags.TagSet).toEqual([{ Key: "catalog-status", Value: "rejected" }]);
  });

  it("a size rejection reads no body", async () => {
    const policy = { ...DEFAULT_POLICY, maxSizeBytes: 1000, tagRejected: false };
    const event = await upload(stack, "rejected/big.pdf", { corpus: "filetype-fixture.pdf" });
    await stack.handler({ policy })(toS3Notification([event]));
    const { record } = await stack.store.getObject(stack.bucket, event.key);
    expect(record?.status).toBe("rejected");
    expect(record?.bytesRead).toBe(0);
    expect(record?.format).toBeUndefined();
    expect(record?.taggedRejected).toBe(false);
    const tags = await stack.servers.s3.send(
      new GetObjectTaggingCommand({ Bucket: stack.bucket, Key: event.key }),
    );
    expect(tags.TagSet).toEqual([]);
  });
});

describe("delivery paths", () => {
  it("SQS: batchItemFailures holds exactly the poison message", async () => {
    const good = await upload(stack, "sqs/good.png", { corpus: "filetype-fixture.png" });
    const other = await upload(stack, "sqs/other.gif", { corpus: "filetype-fixture.gif" });
    const response = await stack.handler()(
      sqsBatch([
        { messageId: "m-good", body: notificationBody([good]) },
        { messageId: "m-poison", body: "{not json" },
        { messageId: "m-test", body: JSON.stringify({ Event: "s3:TestEvent", Bucket: stack.bucket }) },
        { messageId: "m-other", body: notificationBody([other]) },
      ]),
    );
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: "m-poison" }] });
    expect((await stack.store.getObject(stack.bucket, good.key)).record?.status).toBe("ok");
    expect((await stack.store.getObject(stack.bucket, other.key)).record?.status).toBe("ok");
  });

  it("s3:TestEvent is ignored", async () => {
    await expect(
      stack.handler()({
        Service: "Amazon S3",
        Event: "s3:TestEvent",
        Time: new Date().toISOString(),
        Bucket: stack.bucket,
      }),
    ).resolves.toBeUndefined();
  });

  it("EventBridge Object Created is processed like a notification", async () => {
    const event = await upload(stack, "eventbridge/a.png", { corpus: "filetype-fixture.png" });
    await stack.handler()({
      version: "0",
      id: "e1",
      "detail-type": "Object Created",
      source: "aws.s3",
      account: "123456789012",
      time: event.eventTime,
      region: "us-east-1",
      resources: [`arn:aws:s3:::${stack.bucket}`],
      detail: {
        version: "0",
        bucket: { name: stack.bucket },
        object: { key: event.key, size: event.size, etag: event.eTag, sequencer: event.sequencer },
        "request-id": "REQEB",
        requester: "123456789012",
        "source-ip-address": "198.51.100.8",
        reason: "PutObject",
      },
    });
    const { record } = await stack.store.getObject(stack.bucket, event.key);
    expect(record?.status).toBe("ok");
  });

  it("a payload of no known shape fails the invocation", async () => {
    await expect(stack.handler()({ hello: "world" })).rejects.toThrow();
  });
});

describe("the five query patterns over what the handler wrote", () => {
  it("get, folder, category, duplicates and problems", async () => {
    const handle = stack.handler();
    const a = await upload(stack, "queries/photos/a.jpg", { corpus: "filetype-fixture.jpg" });
    const b = await upload(stack, "queries/photos/b.jpg", { corpus: "filetype-fixture.jpg" });
    const c = await upload(stack, "queries/docs/c.pdf", { corpus: "filetype-fixture.pdf" });
    const bad = await upload(stack, "queries/bad.jpg", { corpus: "sharp-corrupt-header.jpg" });
    await handle(toS3Notification([a, b, c, bad]));

    const got = await stack.store.getObject(stack.bucket, a.key);
    expect(got.record?.image?.width).toBeGreaterThan(0);
    expect(got.audit).toHaveLength(1);

    const folder = await stack.store.listFolder(stack.bucket, "queries/photos/");
    expect(folder.items.map((item) => item.key)).toEqual([a.key, b.key]);

    const images = await stack.store.listByCategory(stack.bucket, "image", today(), { limit: 1000 });
    expect(images.items.map((item) => item.key)).toEqual(expect.arrayContaining([a.key, b.key, bad.key]));
    expect(images.items.map((item) => item.key)).not.toContain(c.key);

    const sha = got.record?.sha256 as string;
    expect((await stack.store.listByHash(sha)).items.map((item) => item.key)).toEqual(
      expect.arrayContaining([a.key, b.key]),
    );
    const groups = await stack.store.listDuplicateGroups(today(), { limit: 1000 });
    expect(groups.items.map((group) => group.sha256)).toContain(sha);

    const problems = await stack.store.listProblems(stack.bucket, today(), { limit: 1000 });
    expect(problems.items.map((item) => item.key)).toContain(bad.key);
    expect(problems.items.map((item) => item.key)).not.toContain(a.key);
  });
});
