/**
 * `catalog backfill` and `catalog reprocess --exclude` skip keys under the
 * prefixes given on top of the derived prefix, never in its place: the built
 * CLI against the embedded servers, the catalog read back from DynamoDB.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { CreateBucketCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PassSummary } from "../../src/cli/catalog-pass.js";
import { CatalogStore } from "../../src/store/catalog-store.js";
import { runCatalog } from "../support/cli.js";
import { REPO_ROOT } from "../support/corpus.js";
import { startServers, type TestServers } from "../support/servers.js";

let servers: TestServers;
let store: CatalogStore;
let local: string[];
let buckets = 0;

const KEYS = ["_derived/thumbnails/keep/a.txt.webp", "keep/a.txt", "tmp/b.txt"];

/** A bucket of its own per case, holding a thumbnail, a file to keep and one under `tmp/`. */
async function freshBucket(): Promise<string> {
  const bucket = `exclude-case-${buckets++}`;
  await servers.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  for (const key of KEYS) {
    await servers.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `${key}\n` }));
  }
  return bucket;
}

beforeAll(async () => {
  expect(existsSync(join(REPO_ROOT, "dist/cli/main.js")), "run `npm run build` first").toBe(true);
  servers = await startServers();
  store = new CatalogStore(servers.dynamodb, { tableName: "catalog" });
  await store.createTable();
  local = ["--s3-endpoint", servers.s3Endpoint, "--dynamodb-endpoint", servers.dynamodbEndpoint];
});

afterAll(async () => {
  await servers?.stop();
});

describe.concurrent("--exclude adds to the derived prefix", () => {
  it("backfill --exclude tmp/ catalogs neither the thumbnail nor tmp/", async () => {
    const bucket = await freshBucket();
    const result = await runCatalog([
      "backfill",
      "--exclude",
      "tmp/",
      "--json",
      "--bucket",
      bucket,
      ...local,
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout) as PassSummary).toMatchObject({ cataloged: 1, skipped: 2, errors: 0 });
    const cataloged = await Promise.all(
      KEYS.map(async (key) => (await store.getRecord(bucket, key)) !== undefined),
    );
    expect(cataloged).toEqual([false, true, false]);
  });

  it("reprocess --exclude tmp/ counts only the file kept as not cataloged", async () => {
    const bucket = await freshBucket();
    const result = await runCatalog([
      "reprocess",
      "--exclude",
      "tmp/",
      "--json",
      "--bucket",
      bucket,
      ...local,
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout) as PassSummary).toMatchObject({
      cataloged: 0,
      skipped: 3,
      uncataloged: 1,
    });
  });

  it("reprocess names the backfill that catalogs what it found uncataloged, with the flags that reach this stack", async () => {
    const bucket = await freshBucket();
    const result = await runCatalog(["reprocess", "--exclude", "tmp/", "--bucket", bucket, ...local]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(
      `not cataloged 1 (run 'catalog backfill s3://${bucket}/ ${local.join(" ")}')`,
    );
  });
});
