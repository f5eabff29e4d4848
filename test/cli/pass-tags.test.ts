/**
 * An object a policy rejected and tagged `catalog-status=rejected` loses that
 * tag when a catalog pass accepts it, keeping the tags its owner set; the
 * record says whether it was tagged, so objects never tagged cost no request.
 * The built CLI (and, to count requests, the pass itself) against the
 * embedded servers, with the records read back from DynamoDB and the tags from S3.
 */
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import {
  CreateBucketCommand,
  GetObjectTaggingCommand,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BACKFILL_RULE,
  type PassRule,
  type PassSummary,
  REPROCESS_RULE,
  runCatalogPass,
} from "../../src/cli/catalog-pass.js";
import { createProgress } from "../../src/cli/progress.js";
import { DEFAULT_POLICY, type Policy } from "../../src/policy/policy.js";
import { CatalogStore } from "../../src/store/catalog-store.js";
import { recordKey } from "../../src/store/keys.js";
import { runCatalog } from "../support/cli.js";
import { REPO_ROOT } from "../support/corpus.js";
import { countingClient } from "../support/counting-client.js";
import { startServers, type TestServers } from "../support/servers.js";

let servers: TestServers;
let store: CatalogStore;
let local: string[];
let folder: string;
let buckets = 0;

/** Rejects anything over 10 bytes, and tags what it rejects. */
const TAGGING_POLICY = { maxSizeBytes: 10, tagRejected: true };
const NOTE = "a note of more than ten bytes\n";

/** A bucket of its own per case, holding one text file its owner tagged. */
async function freshBucket(): Promise<string> {
  const bucket = `tag-case-${buckets++}`;
  await servers.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await servers.s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: "notes/a.txt", Body: NOTE, Tagging: "team=blue" }),
  );
  return bucket;
}

async function tagsOf(bucket: string): Promise<Record<string, string>> {
  const tags = await servers.s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: "notes/a.txt" }));
  return Object.fromEntries((tags.TagSet ?? []).map((tag) => [tag.Key as string, tag.Value as string]));
}

/** Makes the stored record look written by an older extractor (and, with `legacy`, before it said whether it tagged). */
async function ageRecord(bucket: string, options: { legacy?: boolean } = {}): Promise<void> {
  const { pk, sk } = recordKey(bucket, "notes/a.txt");
  await servers.dynamodb.send(
    new UpdateItemCommand({
      TableName: "catalog",
      Key: { pk: { S: pk }, sk: { S: sk } },
      UpdateExpression: `SET extractorVersion = :old${options.legacy ? " REMOVE taggedRejected" : ""}`,
      ExpressionAttributeValues: { ":old": { S: "0.0.1" } },
    }),
  );
}

async function pass(args: string[]): Promise<PassSummary> {
  const result = await runCatalog([...args, "--json", ...local], { timeoutMs: 60_000 });
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as PassSummary;
}

/** A reprocess (or, with its rule, a backfill) of `bucket` in process, under `policy`, through `s3`. */
async function reprocess(
  bucket: string,
  s3: S3Client,
  policy: Policy,
  rule: PassRule = REPROCESS_RULE,
): Promise<PassSummary> {
  return runCatalogPass({
    target: {
      mode: "local",
      s3,
      dynamodb: servers.dynamodb,
      store,
      tableName: "catalog",
      bucket,
      close: () => {},
    },
    bucket,
    prefix: "",
    eventName: "Catalog:Reprocess",
    principalId: "catalog-reprocess",
    rule,
    policy,
    concurrency: 1,
    excludePrefixes: ["_derived/"],
    progress: createProgress({ label: "reprocess", total: 0, enabled: false }),
    onError: (key, error) => expect.fail(`${key}: ${String(error)}`),
    stopRequested: () => false,
  });
}

beforeAll(async () => {
  expect(existsSync(join(REPO_ROOT, "dist/cli/main.js")), "run `npm run build` first").toBe(true);
  servers = await startServers();
  store = new CatalogStore(servers.dynamodb, { tableName: "catalog" });
  await store.createTable();
  local = ["--s3-endpoint", servers.s3Endpoint, "--dynamodb-endpoint", servers.dynamodbEndpoint];
  folder = await mkdtemp(join(tmpdir(), "pass-tags-"));
});

afterAll(async () => {
  await servers?.stop();
  if (folder) await rm(folder, { recursive: true, force: true });
});

describe("a reprocess that accepts an object the catalog rejected and tagged", () => {
  it("removes the catalog's tag and keeps its owner's", async () => {
    // Prepare: cataloged under a policy that rejects and tags it.
    const bucket = await freshBucket();
    const policyFile = join(folder, "reject-and-tag.json");
    await writeFile(policyFile, JSON.stringify(TAGGING_POLICY));
    expect(await pass(["backfill", "--policy-file", policyFile, "--bucket", bucket])).toMatchObject({
      cataloged: 1,
      errors: 0,
    });
    expect(await store.getRecord(bucket, "notes/a.txt")).toMatchObject({
      status: "rejected",
      taggedRejected: true,
    });
    expect(await tagsOf(bucket)).toEqual({ team: "blue", "catalog-status": "rejected" });
    await ageRecord(bucket);

    // Act: a reprocess under the default policy, which accepts it.
    expect(await pass(["reprocess", "--bucket", bucket])).toMatchObject({ cataloged: 1, errors: 0 });

    // Assess
    const record = await store.getRecord(bucket, "notes/a.txt");
    expect(record?.status).toBe("ok");
    expect(record?.taggedRejected).toBeUndefined();
    expect(await tagsOf(bucket)).toEqual({ team: "blue" });
  });
});

describe("what a reprocess asks S3 about tags", () => {
  it("nothing, for an object rejected under a policy that did not tag", async () => {
    // Prepare
    const bucket = await freshBucket();
    await reprocess(bucket, servers.s3, { ...DEFAULT_POLICY, maxSizeBytes: 10 }, BACKFILL_RULE);
    expect(await store.getRecord(bucket, "notes/a.txt")).toMatchObject({
      status: "rejected",
      taggedRejected: false,
    });
    await ageRecord(bucket);

    // Act
    const { client, sent } = countingClient(servers.s3);
    expect(await reprocess(bucket, client, DEFAULT_POLICY)).toMatchObject({ cataloged: 1, errors: 0 });

    // Assess
    expect((await store.getRecord(bucket, "notes/a.txt"))?.status).toBe("ok");
    expect(sent.filter((name) => name.includes("Tagging"))).toEqual([]);
  });

  it("its tags, once, for a rejected record written before records said whether they tagged", async () => {
    // Prepare: rejected and tagged, its record then stripped of what says so.
    const bucket = await freshBucket();
    await backfillRejecting(bucket);
    await ageRecord(bucket, { legacy: true });

    // Act
    const { client, sent } = countingClient(servers.s3);
    expect(await reprocess(bucket, client, DEFAULT_POLICY)).toMatchObject({ cataloged: 1, errors: 0 });

    // Assess: read, then written without the catalog's tag.
    expect(sent.filter((name) => name.includes("Tagging"))).toEqual([
      "GetObjectTaggingCommand",
      "PutObjectTaggingCommand",
    ]);
    expect(await tagsOf(bucket)).toEqual({ team: "blue" });
  });

  it("nothing, when it rejects the object again and the tag stays", async () => {
    // Prepare
    const bucket = await freshBucket();
    await backfillRejecting(bucket);
    await ageRecord(bucket);

    // Act: still rejected, under a policy that does not tag.
    const { client, sent } = countingClient(servers.s3);
    await reprocess(bucket, client, { ...DEFAULT_POLICY, maxSizeBytes: 10 });

    // Assess: the tag is still there, and the record still says so.
    expect(sent.filter((name) => name.includes("Tagging"))).toEqual([]);
    expect(await store.getRecord(bucket, "notes/a.txt")).toMatchObject({
      status: "rejected",
      taggedRejected: true,
    });
    expect(await tagsOf(bucket)).toEqual({ team: "blue", "catalog-status": "rejected" });
  });
});

/** Catalogs the bucket's object in process under the policy that rejects and tags it. */
async function backfillRejecting(bucket: string): Promise<void> {
  await reprocess(bucket, servers.s3, { ...DEFAULT_POLICY, ...TAGGING_POLICY }, BACKFILL_RULE);
  expect(await tagsOf(bucket)).toEqual({ team: "blue", "catalog-status": "rejected" });
}
