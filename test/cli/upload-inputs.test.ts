/**
 * What `catalog upload` makes of what a folder can hold besides plain files
 * (symbolic links, loops, sockets and FIFOs, names that are not UTF-8) and
 * of keys S3 would refuse: the built CLI against the embedded S3 server,
 * the keys listed back over HTTP.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateBucketCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CatalogStore } from "../../src/store/catalog-store.js";
import { runCatalog } from "../support/cli.js";
import { REPO_ROOT } from "../support/corpus.js";
import { startServers, type TestServers } from "../support/servers.js";

let servers: TestServers;
let root: string;
let local: string[];
let buckets = 0;

async function freshBucket(): Promise<string> {
  const bucket = `inputs-case-${buckets++}`;
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
  root = await mkdtemp(join(tmpdir(), "catalog-upload-inputs-"));
  const mixed = join(root, "mixed");
  await mkdir(join(mixed, "sub"), { recursive: true });
  await mkdir(join(root, "elsewhere"));
  await writeFile(join(mixed, "plain.txt"), "plain\n");
  await writeFile(join(root, "elsewhere", "target.txt"), "target\n");
  await symlink(join(root, "elsewhere", "target.txt"), join(mixed, "link-to-file.txt"));
  await symlink(join(root, "elsewhere"), join(mixed, "link-to-folder"));
  await symlink(join(root, "nowhere"), join(mixed, "dangling"));
  await symlink("loop-b", join(mixed, "loop-a"));
  await symlink("loop-a", join(mixed, "loop-b"));
  await symlink("..", join(mixed, "sub", "up"));
  // A name with a byte that is not UTF-8, as another system's tools can leave behind.
  await writeFile(Buffer.from(join(mixed, "latin1-caf\xe9.txt"), "latin1"), "latin-1\n");
  execFileSync("mkfifo", [join(mixed, "fifo")]);
  // A folder with links to itself, to the folders above it and to one beside it.
  const outer = join(root, "nest", "outer");
  const tree = join(outer, "tree");
  await mkdir(join(tree, "deep"), { recursive: true });
  await mkdir(join(outer, "beside"));
  await writeFile(join(root, "nest", "above.txt"), "above\n");
  await writeFile(join(outer, "side.txt"), "side\n");
  await writeFile(join(outer, "beside", "b.txt"), "b\n");
  await writeFile(join(tree, "a.txt"), "a\n");
  await symlink(".", join(tree, "self"));
  await symlink("..", join(tree, "up"));
  await symlink("../..", join(tree, "top"));
  await symlink(outer, join(tree, "absolute-up"));
  await symlink("../beside", join(tree, "beside"));
  await symlink("..", join(tree, "deep", "back"));
});

afterAll(async () => {
  await servers?.stop();
  if (root) await rm(root, { recursive: true, force: true });
});

describe.concurrent("catalog upload: what a folder holds besides plain files", () => {
  it("follows links to files and folders, says what it skips and why, and exits 1", async () => {
    const bucket = await freshBucket();
    const result = await runCatalog(["upload", join(root, "mixed"), "--bucket", bucket, ...local]);
    expect(result.code).toBe(1);
    expect(await keysIn(bucket)).toEqual([
      "mixed/link-to-file.txt",
      "mixed/link-to-folder/target.txt",
      "mixed/plain.txt",
    ]);
    const mixed = join(root, "mixed");
    expect(result.stderr.trimEnd().split("\n")).toEqual([
      `catalog upload: ${mixed}/dangling: skipped: broken symbolic link`,
      `catalog upload: ${mixed}/fifo: skipped: not a file or directory`,
      `catalog upload: ${mixed}/latin1-caf\ufffd.txt: skipped: its name is not UTF-8, as S3 keys must be`,
      `catalog upload: ${mixed}/loop-a: skipped: symbolic link loop`,
      `catalog upload: ${mixed}/loop-b: skipped: symbolic link loop`,
      `catalog upload: ${mixed}/sub/up: skipped: symbolic link to a folder it is in`,
      "catalog: 6 file(s) or folder(s) skipped; the 3 other(s) uploaded",
    ]);
  });

  it("sends the paths that are there when one named is missing, names it, and exits 1", async () => {
    const bucket = await freshBucket();
    const missing = join(root, "no-such-file.jpg");
    const result = await runCatalog([
      "upload",
      missing,
      join(root, "mixed", "plain.txt"),
      "--bucket",
      bucket,
      ...local,
    ]);
    expect(result.code).toBe(1);
    expect(await keysIn(bucket)).toEqual(["plain.txt"]);
    expect(result.stderr.trimEnd().split("\n")).toEqual([
      `catalog upload: ${missing}: skipped: no such file or directory`,
      "catalog: 1 file(s) or folder(s) skipped; the 1 other(s) uploaded",
    ]);
  });

  it("skips a link to the folder or to a folder above it, and follows one to a folder beside it", async () => {
    const bucket = await freshBucket();
    const tree = join(root, "nest", "outer", "tree");
    const result = await runCatalog(["upload", tree, "--bucket", bucket, ...local]);
    expect(result.code).toBe(1);
    expect(await keysIn(bucket)).toEqual(["tree/a.txt", "tree/beside/b.txt"]);
    expect(result.stderr.trimEnd().split("\n")).toEqual([
      `catalog upload: ${tree}/absolute-up: skipped: symbolic link to a folder it is in`,
      `catalog upload: ${tree}/deep/back: skipped: symbolic link to a folder it is in`,
      `catalog upload: ${tree}/self: skipped: symbolic link to a folder it is in`,
      `catalog upload: ${tree}/top: skipped: symbolic link to a folder it is in`,
      `catalog upload: ${tree}/up: skipped: symbolic link to a folder it is in`,
      "catalog: 5 file(s) or folder(s) skipped; the 2 other(s) uploaded",
    ]);
  });

  it("refuses a key over S3's 1,024 bytes in one line, before anything is sent", async () => {
    const bucket = await freshBucket();
    const prefix = "é".repeat(505); // 1,010 bytes, and the folder's own name on top
    const result = await runCatalog([
      "upload",
      join(root, "mixed", "plain.txt"),
      join(root, "elsewhere"),
      "--prefix",
      prefix,
      "--bucket",
      bucket,
      ...local,
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `catalog: ${join(root, "elsewhere", "target.txt")}: its key would be 1031 bytes, over S3's limit of 1024: use a shorter --prefix or shorter names\n`,
    );
    expect(await keysIn(bucket)).toEqual([]);
  });

  it("takes a key of exactly 1,024 bytes", async () => {
    const bucket = await freshBucket();
    const prefix = "d".repeat(1014); // "d…d/" + "plain.txt" is 1,024 bytes
    const result = await runCatalog([
      "upload",
      join(root, "mixed", "plain.txt"),
      "--prefix",
      prefix,
      "--bucket",
      bucket,
      ...local,
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(await keysIn(bucket)).toEqual([`${prefix}/plain.txt`]);
  });

  it("names a symbolic link loop given as an argument in one line", async () => {
    const result = await runCatalog(["upload", join(root, "mixed", "loop-a"), ...local]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`catalog: ${join(root, "mixed", "loop-a")}: symbolic link loop\n`);
  });
});
