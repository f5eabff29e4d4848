/**
 * `catalog upload --prefix` names a folder: the keys the built CLI writes to
 * the embedded S3 server, listed back over HTTP, for the prefixes people type;
 * and a `--wait` that could never see a record says so before uploading.
 */
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateBucketCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CatalogStore } from "../../src/store/catalog-store.js";
import { runCatalog } from "../support/cli.js";
import { REPO_ROOT } from "../support/corpus.js";
import { startServers, type TestServers } from "../support/servers.js";

let servers: TestServers;
let folder: string;
let local: string[];
let buckets = 0;

/** A bucket of its own per case, so its listing is exactly what that upload wrote. */
async function freshBucket(): Promise<string> {
  const bucket = `prefix-case-${buckets++}`;
  await servers.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  return bucket;
}

async function keysIn(bucket: string): Promise<string[]> {
  const listing = await servers.s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  return (listing.Contents ?? []).map((object) => object.Key as string).sort();
}

beforeAll(async () => {
  expect(existsSync(join(REPO_ROOT, "dist/cli/main.js")), "run `npm run build` first").toBe(true);
  servers = await startServers();
  await new CatalogStore(servers.dynamodb, { tableName: "catalog" }).createTable();
  local = ["--s3-endpoint", servers.s3Endpoint, "--dynamodb-endpoint", servers.dynamodbEndpoint];
  folder = await mkdtemp(join(tmpdir(), "catalog-prefix-"));
  await writeFile(join(folder, "notes.txt"), "notes\n");
  await mkdir(join(folder, "photos", "2024"), { recursive: true });
  await writeFile(join(folder, "photos", "2024", "a.txt"), "a\n");
});

afterAll(async () => {
  await servers?.stop();
  if (folder) await rm(folder, { recursive: true, force: true });
});

describe.concurrent("catalog upload --prefix is a folder", () => {
  it.each([
    ["docs", ["docs/notes.txt"]],
    ["docs/", ["docs/notes.txt"]],
    ["docs/2024", ["docs/2024/notes.txt"]],
    ["", ["notes.txt"]],
    ["/", ["notes.txt"]],
    ["/docs", ["docs/notes.txt"]],
    ["./docs", ["docs/notes.txt"]],
    ["docs//2024/./", ["docs/2024/notes.txt"]],
    ["relatório final", ["relatório final/notes.txt"]],
  ])("--prefix %j", async (prefix, keys) => {
    const bucket = await freshBucket();
    const result = await runCatalog([
      "upload",
      join(folder, "notes.txt"),
      "--prefix",
      prefix,
      "--json",
      "--bucket",
      bucket,
      ...local,
    ]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(await keysIn(bucket)).toEqual(keys);
    expect(JSON.parse(result.stdout).key).toBe(keys[0]);
  });

  it("puts a directory, with its name and tree, inside the folder", async () => {
    const bucket = await freshBucket();
    const result = await runCatalog([
      "upload",
      join(folder, "photos"),
      join(folder, "notes.txt"),
      "--prefix",
      "in",
      "--bucket",
      bucket,
      ...local,
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(await keysIn(bucket)).toEqual(["in/notes.txt", "in/photos/2024/a.txt"]);
  });

  /** Uploads with `--prefix prefix` into a bucket of its own: the one line of error, once nothing went up. */
  async function refusedPrefix(prefix: string, more: string[] = []): Promise<string> {
    const bucket = await freshBucket();
    const result = await runCatalog([
      "upload",
      join(folder, "notes.txt"),
      "--prefix",
      prefix,
      ...more,
      "--bucket",
      bucket,
      ...local,
    ]);
    expect(result.code).not.toBe(0);
    const lines = result.stderr.split("\n").filter((line) => line.trim() !== "");
    expect(lines, result.stderr).toHaveLength(1);
    expect(await keysIn(bucket)).toEqual([]);
    return lines[0] as string;
  }

  it.each(["..", "../docs", "docs/../../x", "docs/.."])(
    "refuses --prefix %j in one line and uploads nothing",
    async (prefix) => {
      expect(await refusedPrefix(prefix)).toMatch(/--prefix.*'\.\.'/);
    },
  );

  // `aws s3 cp FILE s3://bucket/folder/` is the habit: the URL went into the folder's name, or the files to the root.
  it("refuses an S3 URL as --prefix in one line, naming the flags that mean it, and uploads nothing", async () => {
    expect(await refusedPrefix("s3://uploads/photos/2024")).toBe(
      "catalog: option '--prefix <folder>' argument 's3://uploads/photos/2024' is invalid. It takes a folder of the bucket, not an S3 URL: write --bucket uploads --prefix photos/2024/ instead",
    );
  });

  it("refuses an S3 URL among the paths, as a destination, before uploading any of them", async () => {
    const bucket = await freshBucket();
    const result = await runCatalog([
      "upload",
      join(folder, "notes.txt"),
      `s3://${bucket}/photos/`,
      "--bucket",
      bucket,
      ...local,
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `catalog: 's3://${bucket}/photos/' is an S3 URL: catalog upload takes local files and folders, and where they go as flags (--bucket ${bucket} --prefix photos/)\n`,
    );
    expect(await keysIn(bucket)).toEqual([]);
  });

  it.each([
    ["_derived/zz", "_derived/zz/"],
    ["_derived", "_derived/"],
    ["./_derived//thumbnails", "_derived/thumbnails/"],
  ])(
    "refuses --prefix %j, under the derived prefix, in one line and uploads nothing",
    async (prefix, normalized) => {
      expect(await refusedPrefix(prefix)).toBe(
        `catalog: --prefix '${normalized}' is under '_derived/', where derived files go: nothing there is cataloged`,
      );
    },
  );

  it("refuses a --prefix under the stack's --derived-prefix, and takes _derived/ then", async () => {
    expect(await refusedPrefix("thumbs/x", ["--derived-prefix", "thumbs/"])).toBe(
      "catalog: --prefix 'thumbs/x/' is under 'thumbs/', where derived files go: nothing there is cataloged",
    );
    const bucket = await freshBucket();
    const result = await runCatalog([
      "upload",
      join(folder, "notes.txt"),
      "--prefix",
      "_derived",
      "--bucket",
      bucket,
      ...local,
      "--derived-prefix",
      "thumbs/",
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(await keysIn(bucket)).toEqual(["_derived/notes.txt"]);
  });

  it.each([
    [
      "--derived-prefix",
      "thumbs",
      [],
      /^catalog: option '--derived-prefix <prefix>' argument 'thumbs' is invalid\. a derived prefix must be non-empty, end with "\/"/,
    ],
    [
      "CATALOG_DERIVED_PREFIX",
      "/thumbs/",
      ["CATALOG_DERIVED_PREFIX"],
      /^catalog: CATALOG_DERIVED_PREFIX '\/thumbs\/' must be non-empty, end with "\/" and not start with "\/"$/,
    ],
  ])("refuses a malformed derived prefix from %s in one line", async (_, value, viaEnv, message) => {
    const bucket = await freshBucket();
    const args = ["upload", join(folder, "notes.txt"), "--bucket", bucket, ...local];
    const result = await runCatalog(viaEnv.length > 0 ? args : [...args, "--derived-prefix", value], {
      env: { ...process.env, ...(viaEnv.length > 0 && { CATALOG_DERIVED_PREFIX: value }) },
    });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stderr.trim()).toMatch(message);
    expect(await keysIn(bucket)).toEqual([]);
  });

  it("skips a folder that would land under the derived prefix, as one line, and uploads the rest", async () => {
    const root = await mkdtemp(join(tmpdir(), "catalog-synced-"));
    try {
      await mkdir(join(root, "_derived", "thumbnails"), { recursive: true });
      await writeFile(join(root, "_derived", "thumbnails", "a.jpg.webp"), "webp");
      await writeFile(join(root, "a.txt"), "a\n");
      const bucket = await freshBucket();
      const result = await runCatalog([
        "upload",
        join(root, "_derived"),
        join(root, "a.txt"),
        "--bucket",
        bucket,
        ...local,
      ]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(
        `catalog upload: ${join(root, "_derived")}: skipped: its key would be under '_derived/', where derived files go`,
      );
      expect(await keysIn(bucket)).toEqual(["a.txt"]);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it("takes a folder whose name only begins like the derived prefix", async () => {
    const bucket = await freshBucket();
    const result = await runCatalog([
      "upload",
      join(folder, "notes.txt"),
      "--prefix",
      "_derived-old",
      "--bucket",
      bucket,
      ...local,
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(await keysIn(bucket)).toEqual(["_derived-old/notes.txt"]);
  });
});

describe("catalog upload --wait", () => {
  it("names a table that does not exist in one line, before anything goes up", async () => {
    const bucket = await freshBucket();
    const result = await runCatalog([
      "upload",
      join(folder, "notes.txt"),
      "--wait",
      "--table",
      "no-such-table",
      "--bucket",
      bucket,
      ...local,
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe("catalog: table 'no-such-table' does not exist\n");
    expect(await keysIn(bucket)).toEqual([]);
  });
});
