/**
 * Pins the behaviour of the embedded servers that the rest of the suite relies
 * on (and the quirks it works around), as documented in test/support/servers.ts.
 */
import { existsSync, readdirSync } from "node:fs";
import { Readable } from "node:stream";
import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  PutItemCommand,
  QueryCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
  waitUntilTableExists,
} from "@aws-sdk/client-dynamodb";
import {
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteBucketCorsCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketCorsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutBucketCorsCommand,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServers, type TestServers } from "../support/servers.js";

const BUCKET = "servers-test";
let servers: TestServers;

beforeAll(async () => {
  servers = await startServers();
  await servers.s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
});
afterAll(() => servers?.stop());

async function body(key: string, range?: string): Promise<{ text: string; contentRange?: string }> {
  const response = await servers.s3.send(
    new GetObjectCommand({ Bucket: BUCKET, Key: key, ...(range && { Range: range }) }),
  );
  const text = await response.Body!.transformToString();
  return { text, ...(response.ContentRange && { contentRange: response.ContentRange }) };
}

async function errorOf(work: Promise<unknown>): Promise<{ name: string; status?: number }> {
  try {
    await work;
  } catch (error) {
    const e = error as { name: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, ...(e.$metadata?.httpStatusCode && { status: e.$metadata.httpStatusCode }) };
  }
  return { name: "no error" };
}

describe("s3rver", () => {
  it("listens on a random port of 127.0.0.1", () => {
    expect(servers.s3Endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(servers.s3Endpoint).not.toBe("http://127.0.0.1:4568");
  });

  const nastyKeys = [
    "red flower.jpg",
    "a+b.txt",
    "100%.txt",
    "%41%20not-decoded",
    "dir/ünïcödé 日本語 🎉.txt",
    "deep/ sp ace /+/%/x",
  ];
  it.each(nastyKeys)("round-trips key %j through put, head, ranged get, list and delete", async (key) => {
    const content = `0123456789 ${key}`;
    const put = await servers.s3.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: content, Metadata: { owner: "tester" } }),
    );
    const head = await servers.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    expect(head.ContentLength).toBe(Buffer.byteLength(content));
    expect(head.ETag).toBe(put.ETag);
    expect(head.Metadata).toEqual({ owner: "tester" });
    expect(await body(key, "bytes=2-5")).toEqual({
      text: "2345",
      contentRange: `bytes 2-5/${Buffer.byteLength(content)}`,
    });
    const listed = await servers.s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: key }));
    expect(listed.Contents?.map((c) => c.Key)).toContain(key);
    await servers.s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
    expect(await errorOf(servers.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key })))).toEqual({
      name: "NotFound",
      status: 404,
    });
  });

  it("answers 404 for a missing key: NoSuchKey on GET, NotFound on HEAD", async () => {
    expect(await errorOf(servers.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "missing" })))).toEqual({
      name: "NoSuchKey",
      status: 404,
    });
    expect(await errorOf(servers.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "missing" })))).toEqual(
      {
        name: "NotFound",
        status: 404,
      },
    );
  });

  it("answers a GET or HEAD whose If-Match or If-Unmodified-Since does not hold with 412, as S3 does", async () => {
    const { ETag } = await servers.s3.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: "pinned", Body: "v1" }),
    );
    const other = '"00000000000000000000000000000000"';
    const long = new Date(Date.now() - 3_600_000);
    const refused = { name: "PreconditionFailed", status: 412 };
    expect(
      await errorOf(servers.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "pinned", IfMatch: other }))),
    ).toEqual(refused);
    expect(
      await errorOf(
        servers.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "pinned", IfMatch: other })),
      ),
    ).toMatchObject({ status: 412 }); // a HEAD answer has no body to name the error
    // Checked before the range: 412, not 416.
    expect(
      await errorOf(
        servers.s3.send(
          new GetObjectCommand({ Bucket: BUCKET, Key: "pinned", IfMatch: other, Range: "bytes=100-200" }),
        ),
      ),
    ).toEqual(refused);
    expect(
      await errorOf(
        servers.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "pinned", IfUnmodifiedSince: long })),
      ),
    ).toEqual(refused);
    // If-Match that holds wins over If-Unmodified-Since that does not, as on S3.
    const get = await servers.s3.send(
      new GetObjectCommand({ Bucket: BUCKET, Key: "pinned", IfMatch: ETag, IfUnmodifiedSince: long }),
    );
    expect(await get.Body?.transformToString()).toBe("v1");
  });

  it.skipIf(!existsSync("/proc/self/fd"))(
    "answers 304 to a GET whose If-None-Match or If-Modified-Since holds, and keeps no file open for it",
    async () => {
      const { ETag } = await servers.s3.send(
        new PutObjectCommand({ Bucket: BUCKET, Key: "cached", Body: "cached" }),
      );
      const openFiles = () => readdirSync("/proc/self/fd").length;
      const before = openFiles();
      for (let i = 0; i < 100; i++) {
        const conditions =
          i % 2 === 0 ? { IfNoneMatch: ETag } : { IfModifiedSince: new Date(Date.now() + 60_000) };
        expect(
          await errorOf(
            servers.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "cached", ...conditions })),
          ),
        ).toMatchObject({ status: 304 });
      }
      // Sockets come and go; a file held per answer would add a hundred.
      expect(openFiles() - before).toBeLessThan(20);
    },
  );

  it("answers a quiet DeleteObjects with the keys it could not delete only, as S3 does", async () => {
    const keys = ["batch/a.txt", "batch/b.txt", "batch/c.txt"];
    for (const Key of keys) await servers.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: Key }));
    const objects = (names: string[]) => names.map((Key) => ({ Key }));
    const quiet = await servers.s3.send(
      new DeleteObjectsCommand({
        Bucket: BUCKET,
        Delete: { Objects: objects(keys.slice(0, 2)), Quiet: true },
      }),
    );
    expect(quiet.Deleted ?? []).toEqual([]);
    expect(quiet.Errors ?? []).toEqual([]);
    const verbose = await servers.s3.send(
      new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Objects: objects(keys.slice(2)) } }),
    );
    expect(verbose.Deleted?.map((deleted) => deleted.Key)).toEqual(["batch/c.txt"]);
    const left = await servers.s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: "batch/" }));
    expect(left.KeyCount).toBe(0);
  });

  it("refuses a DeleteObjects of more than 1,000 keys with MalformedXML and deletes none, as S3 does", async () => {
    // Prepare: two objects among 1,001 keys; 1,000 is still one request's worth.
    for (const Key of ["limit/first.txt", "limit/last.txt"])
      await servers.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: Key }));
    const keys = Array.from({ length: 999 }, (_, index) => ({ Key: `limit/absent-${index}.txt` }));
    const batch = [{ Key: "limit/first.txt" }, ...keys, { Key: "limit/last.txt" }];

    // Act
    const refused = await errorOf(
      servers.s3.send(new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Objects: batch } })),
    );
    const listed = await servers.s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: "limit/" }));
    const accepted = await servers.s3.send(
      new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Objects: batch.slice(1) } }),
    );

    // Assess
    expect(refused).toEqual({ name: "MalformedXML", status: 400 });
    expect(listed.Contents?.map((object) => object.Key)).toEqual(["limit/first.txt", "limit/last.txt"]);
    expect(accepted.Deleted).toHaveLength(1000);
    const left = await servers.s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: "limit/" }));
    expect(left.Contents?.map((object) => object.Key)).toEqual(["limit/first.txt"]);
  });

  it("ignores versionId (no versioning)", async () => {
    await servers.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: "versioned", Body: "v1" }));
    const get = await servers.s3.send(
      new GetObjectCommand({ Bucket: BUCKET, Key: "versioned", VersionId: "v9" }),
    );
    expect(get.VersionId).toBeUndefined();
    expect(await get.Body!.transformToString()).toBe("v1");
  });

  it("sees bucket and CORS changes at once (bucket lookups are remembered between requests)", async () => {
    const bucket = "servers-test-config";
    await servers.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await servers.s3.send(new HeadBucketCommand({ Bucket: bucket }));
    expect((await errorOf(servers.s3.send(new GetBucketCorsCommand({ Bucket: bucket }))))?.name).toBe(
      "NoSuchCORSConfiguration",
    );
    const rule = { AllowedMethods: ["GET"], AllowedOrigins: ["http://127.0.0.1:3000"] };
    await servers.s3.send(
      new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: { CORSRules: [rule] } }),
    );
    const cors = await servers.s3.send(new GetBucketCorsCommand({ Bucket: bucket }));
    expect(cors.CORSRules).toMatchObject([rule]);
    await servers.s3.send(new DeleteBucketCorsCommand({ Bucket: bucket }));
    expect((await errorOf(servers.s3.send(new GetBucketCorsCommand({ Bucket: bucket }))))?.name).toBe(
      "NoSuchCORSConfiguration",
    );
    await servers.s3.send(new DeleteBucketCommand({ Bucket: bucket }));
    expect((await errorOf(servers.s3.send(new HeadBucketCommand({ Bucket: bucket }))))?.status).toBe(404);
    await servers.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await servers.s3.send(new HeadBucketCommand({ Bucket: bucket }));
  });

  it("serves ranges: clipped at the end, 416 past it, but bytes=0-0 returns everything", async () => {
    await servers.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: "ranges", Body: "abcdefghij" }));
    expect(await body("ranges", "bytes=1-1")).toEqual({ text: "b", contentRange: "bytes 1-1/10" });
    expect(await body("ranges", "bytes=7-100")).toEqual({ text: "hij", contentRange: "bytes 7-9/10" });
    expect(await body("ranges", "bytes=0-0")).toEqual({ text: "abcdefghij", contentRange: "bytes 0-9/10" });
    expect(await errorOf(body("ranges", "bytes=10-20"))).toEqual({ name: "InvalidRange", status: 416 });
  });

  it("stores 1,024-byte keys with or without slashes (long segments are split on disk)", async () => {
    const segmented = `${"k".repeat(300)}/${"k".repeat(300)}/`.padEnd(1024, "z");
    const oneSegment = "k".repeat(1024);
    for (const key of [segmented, oneSegment]) {
      expect(Buffer.byteLength(key)).toBe(1024);
      await servers.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: `long ${key.length}` }));
      expect((await body(key)).text).toBe(`long ${key.length}`);
    }
  });

  it("refuses a key over 1,024 bytes with KeyTooLongError, as S3 does, for a put, a copy and an upload", async () => {
    const key = `${"é".repeat(511)}xyz`;
    expect(Buffer.byteLength(key)).toBe(1025);
    // Each refusal is awaited as it is made: one left pending while another is awaited would be unhandled.
    const refusals = [
      () => servers.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: "x" })),
      () =>
        servers.s3.send(new CopyObjectCommand({ Bucket: BUCKET, Key: key, CopySource: `${BUCKET}/ranges` })),
      () => servers.s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key })),
    ];
    for (const refusal of refusals) {
      expect(await errorOf(refusal())).toEqual({ name: "KeyTooLongError", status: 400 });
    }
    const listed = await servers.s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: "é" }));
    expect(listed.KeyCount).toBe(0);
  });

  it("stores streamed uploads intact: the SDK's default aws-chunked framing is decoded", async () => {
    const stream = () => Readable.from([Buffer.from("hello")]);
    await servers.s3.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: "stream-ok", Body: stream(), ContentLength: 5 }),
    );
    expect((await body("stream-ok")).text).toBe("hello");
  });
});

describe("dynalite", () => {
  const TABLE = "servers-test";
  beforeAll(async () => {
    await servers.dynamodb.send(
      new CreateTableCommand({
        TableName: TABLE,
        BillingMode: "PAY_PER_REQUEST",
        AttributeDefinitions: [
          { AttributeName: "pk", AttributeType: "S" },
          { AttributeName: "sk", AttributeType: "S" },
          { AttributeName: "problem", AttributeType: "S" },
        ],
        KeySchema: [
          { AttributeName: "pk", KeyType: "HASH" },
          { AttributeName: "sk", KeyType: "RANGE" },
        ],
        GlobalSecondaryIndexes: [
          {
            IndexName: "problems",
            KeySchema: [
              { AttributeName: "problem", KeyType: "HASH" },
              { AttributeName: "sk", KeyType: "RANGE" },
            ],
            Projection: { ProjectionType: "ALL" },
          },
        ],
      }),
    );
    // Tables are CREATING for a timer tick; wait as a deploy would.
    await waitUntilTableExists(
      { client: servers.dynamodb, maxWaitTime: 30, minDelay: 1 },
      { TableName: TABLE },
    );
  });

  const putIfNewer = (pk: string, sequencer: string, extra: Record<string, { S: string }> = {}) =>
    servers.dynamodb.send(
      new PutItemCommand({
        TableName: TABLE,
        Item: { pk: { S: pk }, sk: { S: "record" }, sequencer: { S: sequencer }, ...extra },
        ConditionExpression: "attribute_not_exists(pk) OR sequencer < :s",
        ExpressionAttributeValues: { ":s": { S: sequencer } },
        ReturnValuesOnConditionCheckFailure: "ALL_OLD",
      }),
    );

  it("enforces conditional writes but returns no Item on failure despite ALL_OLD", async () => {
    await putIfNewer("obj-1", "0005");
    const failure = await putIfNewer("obj-1", "0004").catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ConditionalCheckFailedException);
    expect((failure as ConditionalCheckFailedException).Item).toBeUndefined();
    await expect(putIfNewer("obj-1", "0006")).resolves.toBeDefined();
  });

  it("serves sparse GSIs: only items carrying the index key are listed", async () => {
    await putIfNewer("obj-2", "01", { problem: { S: "error" } });
    await putIfNewer("obj-3", "01");
    const result = await servers.dynamodb.send(
      new QueryCommand({
        TableName: TABLE,
        IndexName: "problems",
        KeyConditionExpression: "problem = :p",
        ExpressionAttributeValues: { ":p": { S: "error" } },
      }),
    );
    expect(result.Items?.map((item) => item.pk?.S)).toEqual(["obj-2"]);
  });

  it("rejects reserved words in expressions without ExpressionAttributeNames", async () => {
    const update = (names?: Record<string, string>) =>
      servers.dynamodb.send(
        new UpdateItemCommand({
          TableName: TABLE,
          Key: { pk: { S: "obj-1" }, sk: { S: "record" } },
          UpdateExpression: names ? "SET #at = :v" : "SET at = :v",
          ExpressionAttributeValues: { ":v": { S: "now" } },
          ...(names && { ExpressionAttributeNames: names }),
        }),
      );
    expect(await errorOf(update())).toMatchObject({ name: "ValidationException" });
    await expect(update({ "#at": "at" })).resolves.toBeDefined();
  });

  it("does not implement transactions", async () => {
    const transact = servers.dynamodb.send(
      new TransactWriteItemsCommand({
        TransactItems: [{ Put: { TableName: TABLE, Item: { pk: { S: "t" }, sk: { S: "t" } } } }],
      }),
    );
    expect(await errorOf(transact)).toMatchObject({ name: "UnknownOperationException", status: 400 });
  });
});
