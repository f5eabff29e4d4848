/**
 * `catalog backfill` and `catalog reprocess` make thumbnails as the pipeline
 * they stand in for does, under the derived prefix the flags name: the built
 * CLI (and, for what only AWS decides, the pass itself) against the embedded
 * servers, with the records read back from DynamoDB and the thumbnails from S3.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import { UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import {
  CreateBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type PassSummary, REPROCESS_RULE, runCatalogPass } from "../../src/cli/catalog-pass.js";
import { createProgress } from "../../src/cli/progress.js";
import type { Target } from "../../src/cli/target.js";
import { toS3Notification } from "../../src/events/s3-event.js";
import { createHandler } from "../../src/lambda/handler.js";
import { DEFAULT_POLICY } from "../../src/policy/policy.js";
import { CatalogStore } from "../../src/store/catalog-store.js";
import { recordKey } from "../../src/store/keys.js";
import { runCatalog } from "../support/cli.js";
import { corpusFile, REPO_ROOT } from "../support/corpus.js";
import { startServers, type TestServers } from "../support/servers.js";

let servers: TestServers;
let store: CatalogStore;
let local: string[];
let photo: Buffer;
let buckets = 0;
let tables = 0;

/** A bucket of its own per case, holding a photo and a text file. */
async function freshBucket(): Promise<string> {
  const bucket = `thumbnail-case-${buckets++}`;
  await servers.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await servers.s3.send(new PutObjectCommand({ Bucket: bucket, Key: "photos/a.jpg", Body: photo }));
  await servers.s3.send(new PutObjectCommand({ Bucket: bucket, Key: "notes.txt", Body: "notes\n" }));
  return bucket;
}

async function keysIn(bucket: string): Promise<string[]> {
  const listed = await servers.s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  return (listed.Contents ?? []).map((object) => object.Key as string);
}

/** Makes the stored record look written by an extractor older than this one, for reprocess to pick. */
async function ageRecord(bucket: string, key: string): Promise<void> {
  const { pk, sk } = recordKey(bucket, key);
  await servers.dynamodb.send(
    new UpdateItemCommand({
      TableName: "catalog",
      Key: { pk: { S: pk }, sk: { S: sk } },
      UpdateExpression: "SET extractorVersion = :old",
      ExpressionAttributeValues: { ":old": { S: "0.0.1" } },
    }),
  );
}

/**
 * Runs the Lambda handler on the event S3 would send for `key` as it is now, with an S3 sequencer,
 * so its thumbnail carries a real event's sequencer and the object's ETag.
 */
async function catalogByEvent(bucket: string, key: string, sequencer: string): Promise<void> {
  process.env.POWERTOOLS_METRICS_DISABLED = "true";
  const head = await servers.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  const handler = createHandler({
    s3: servers.s3,
    dynamodb: servers.dynamodb,
    tableName: "catalog",
    policy: DEFAULT_POLICY,
    logger: new Logger({ serviceName: "test", logLevel: "SILENT" }),
    metrics: new Metrics({ namespace: "Test", serviceName: "test" }),
  });
  await handler(
    toS3Notification([
      {
        kind: "created",
        eventName: "ObjectCreated:Put",
        bucket,
        key,
        size: head.ContentLength ?? 0,
        eTag: (head.ETag ?? "").replaceAll('"', ""),
        sequencer,
        eventTime: new Date().toISOString(),
      },
    ]),
  );
}

/** A table of its own: the catalog as a lost (or new) table leaves it, with no records. */
async function freshTable(): Promise<string> {
  const tableName = `catalog-lost-${tables++}`;
  await new CatalogStore(servers.dynamodb, { tableName }).createTable();
  return tableName;
}

const THUMBNAIL_KEY = "_derived/thumbnails/photos/a.jpg.webp";

async function thumbnailHead(bucket: string) {
  const head = await servers.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: THUMBNAIL_KEY }));
  return { eTag: head.ETag?.replaceAll('"', ""), metadata: head.Metadata };
}

async function pass(args: string[]): Promise<PassSummary> {
  const result = await runCatalog([...args, "--json", ...local]);
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as PassSummary;
}

beforeAll(async () => {
  expect(existsSync(join(REPO_ROOT, "dist/cli/main.js")), "run `npm run build` first").toBe(true);
  servers = await startServers();
  store = new CatalogStore(servers.dynamodb, { tableName: "catalog" });
  await store.createTable();
  local = ["--s3-endpoint", servers.s3Endpoint, "--dynamodb-endpoint", servers.dynamodbEndpoint];
  photo = await readFile(corpusFile("exifpy-Canon_40D.jpg"));
});

afterAll(async () => {
  await servers?.stop();
});

describe.concurrent("catalog passes and thumbnails", () => {
  it("backfill against the local stack makes the thumbnail the pipeline would", async () => {
    const bucket = await freshBucket();
    expect(await pass(["backfill", "--bucket", bucket])).toMatchObject({ cataloged: 2, errors: 0 });
    const record = await store.getRecord(bucket, "photos/a.jpg");
    expect(record?.thumbnailKey).toBe("_derived/thumbnails/photos/a.jpg.webp");
    expect(record?.warnings ?? []).toEqual([]);
    const head = await servers.s3.send(
      new HeadObjectCommand({ Bucket: bucket, Key: "_derived/thumbnails/photos/a.jpg.webp" }),
    );
    expect(head.ContentType).toBe("image/webp");
    expect((await store.getRecord(bucket, "notes.txt"))?.thumbnailKey).toBeUndefined();
  });

  it("backfill --no-thumbnails writes none", async () => {
    const bucket = await freshBucket();
    expect(await pass(["backfill", "--no-thumbnails", "--bucket", bucket])).toMatchObject({ cataloged: 2 });
    expect((await store.getRecord(bucket, "photos/a.jpg"))?.thumbnailKey).toBeUndefined();
    expect(await keysIn(bucket)).toEqual(["notes.txt", "photos/a.jpg"]);
  });

  it("--derived-prefix puts thumbnails under the stack's prefix and leaves its keys alone", async () => {
    const bucket = await freshBucket();
    await servers.s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: "thumbs/thumbnails/old.jpg.webp", Body: "webp" }),
    );
    expect(await pass(["backfill", "--derived-prefix", "thumbs/", "--bucket", bucket])).toMatchObject({
      cataloged: 2,
      skipped: 1,
    });
    expect((await store.getRecord(bucket, "photos/a.jpg"))?.thumbnailKey).toBe(
      "thumbs/thumbnails/photos/a.jpg.webp",
    );
    expect(await store.getRecord(bucket, "thumbs/thumbnails/old.jpg.webp")).toBeUndefined();
  });

  it("CATALOG_DERIVED_PREFIX names it too", async () => {
    const bucket = await freshBucket();
    const result = await runCatalog(["backfill", "--json", "--bucket", bucket, ...local], {
      env: { ...process.env, CATALOG_DERIVED_PREFIX: "art/derived/" },
    });
    expect(result.code, result.stderr).toBe(0);
    expect((await store.getRecord(bucket, "photos/a.jpg"))?.thumbnailKey).toBe(
      "art/derived/thumbnails/photos/a.jpg.webp",
    );
  });

  it("reprocess keeps the record's thumbnail as it is", async () => {
    const bucket = await freshBucket();
    await pass(["backfill", "--bucket", bucket]);
    const made = await thumbnailHead(bucket);
    await ageRecord(bucket, "photos/a.jpg");
    expect(await pass(["reprocess", "--bucket", bucket])).toMatchObject({ cataloged: 1, errors: 0 });
    const record = await store.getRecord(bucket, "photos/a.jpg");
    expect(record?.extractorVersion).not.toBe("0.0.1");
    expect(record).toMatchObject({ thumbnailKey: THUMBNAIL_KEY, thumbnailEtag: made.eTag });
    expect(await thumbnailHead(bucket)).toEqual(made);
  });

  it("reprocess names the thumbnail an S3 event's handler made, neither rendered nor written again", async () => {
    // Prepare: the pipeline cataloged the photo on its S3 event; an extractor release later, it is old.
    const bucket = await freshBucket();
    await catalogByEvent(bucket, "photos/a.jpg", "0055AED6DCD90281E5");
    const made = await thumbnailHead(bucket);
    const before = await store.getRecord(bucket, "photos/a.jpg");
    await ageRecord(bucket, "photos/a.jpg");

    // Act
    expect(await pass(["reprocess", "--bucket", bucket])).toMatchObject({ cataloged: 1, errors: 0 });

    // Assess: S3 holds the event's thumbnail unchanged, and the new record describes it as the old one did.
    expect(await thumbnailHead(bucket)).toEqual(made);
    const record = await store.getRecord(bucket, "photos/a.jpg");
    expect(record).toMatchObject({
      sequencer: "0055AED6DCD90281E501",
      thumbnailKey: THUMBNAIL_KEY,
      thumbnailEtag: made.eTag,
      thumbnailSize: before?.thumbnailSize,
      thumbnailWidth: before?.thumbnailWidth,
      thumbnailHeight: before?.thumbnailHeight,
      thumbHash: before?.thumbHash,
    });
    expect(record?.warnings ?? []).toEqual([]);
  });

  it("a pass that keeps thumbnails (against AWS) makes one only where the record had one", async () => {
    const bucket = await freshBucket();
    await pass(["backfill", "--bucket", bucket]);
    await servers.s3.send(new PutObjectCommand({ Bucket: bucket, Key: "photos/b.jpg", Body: photo }));
    await pass(["backfill", "--no-thumbnails", "--bucket", bucket]);
    await ageRecord(bucket, "photos/a.jpg");
    await ageRecord(bucket, "photos/b.jpg");
    const target: Target = {
      mode: "aws",
      s3: servers.s3,
      dynamodb: servers.dynamodb,
      store,
      tableName: "catalog",
      bucket,
      close: () => {},
    };
    const summary = await runCatalogPass({
      target,
      bucket,
      prefix: "photos/",
      eventName: "Catalog:Reprocess",
      principalId: "catalog-reprocess",
      rule: REPROCESS_RULE,
      policy: DEFAULT_POLICY,
      concurrency: 2,
      excludePrefixes: ["_derived/"],
      thumbnails: { derivedPrefix: "_derived/", for: "kept" },
      progress: createProgress({ label: "reprocess", total: 0, enabled: false }),
      onError: (key, error) => expect.fail(`${key}: ${String(error)}`),
      stopRequested: () => false,
    });
    expect(summary).toMatchObject({ cataloged: 2, errors: 0 });
    expect((await store.getRecord(bucket, "photos/a.jpg"))?.thumbnailKey).toBe(
      "_derived/thumbnails/photos/a.jpg.webp",
    );
    expect((await store.getRecord(bucket, "photos/b.jpg"))?.thumbnailKey).toBeUndefined();
    expect(await keysIn(bucket)).not.toContain("_derived/thumbnails/photos/b.jpg.webp");
  });
});

describe.concurrent("a backfill into a table that lost its records, over the thumbnails the pipeline made", () => {
  it("names the thumbnail made from the object as it is now, and leaves it as it was", async () => {
    // Prepare: the pipeline cataloged the photo with its thumbnail; then the records were lost.
    const bucket = await freshBucket();
    await catalogByEvent(bucket, "photos/a.jpg", "0055AED6DCD90281E5");
    const made = await thumbnailHead(bucket);
    const before = await store.getRecord(bucket, "photos/a.jpg");
    const table = await freshTable();

    // Act
    expect(await pass(["backfill", "--bucket", bucket, "--table", table])).toMatchObject({
      cataloged: 2,
      errors: 0,
    });

    // Assess: the new record names that thumbnail as the pipeline's record did; S3 holds it unchanged.
    const record = await new CatalogStore(servers.dynamodb, { tableName: table }).getRecord(
      bucket,
      "photos/a.jpg",
    );
    expect(record).toMatchObject({
      sequencer: "0",
      thumbnailKey: THUMBNAIL_KEY,
      thumbnailEtag: made.eTag,
      thumbnailSize: before?.thumbnailSize,
      thumbnailWidth: before?.thumbnailWidth,
      thumbnailHeight: before?.thumbnailHeight,
    });
    expect(record?.warnings ?? []).toEqual([]);
    expect(await thumbnailHead(bucket)).toEqual(made);
  });

  it("names none made from other content by a newer event, and leaves that one in place", async () => {
    // Prepare: the thumbnail shows the photo; the object was overwritten since, its event never handled.
    const bucket = await freshBucket();
    await catalogByEvent(bucket, "photos/a.jpg", "0055AED6DCD90281E5");
    const made = await thumbnailHead(bucket);
    const other = await readFile(corpusFile("exifpy-portrait_6.jpg"));
    await servers.s3.send(new PutObjectCommand({ Bucket: bucket, Key: "photos/a.jpg", Body: other }));
    const table = await freshTable();

    // Act
    expect(await pass(["backfill", "--bucket", bucket, "--table", table])).toMatchObject({
      cataloged: 2,
      errors: 0,
    });

    // Assess: the record of the new content names no thumbnail, and the newer event's is untouched.
    const record = await new CatalogStore(servers.dynamodb, { tableName: table }).getRecord(
      bucket,
      "photos/a.jpg",
    );
    expect(record?.status).toBe("ok");
    expect(record?.thumbnailKey).toBeUndefined();
    expect(record?.thumbnailEtag).toBeUndefined();
    expect(await thumbnailHead(bucket)).toEqual(made);
  });
});
