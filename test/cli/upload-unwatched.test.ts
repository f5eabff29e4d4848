/**
 * `catalog upload --wait` into a bucket the local stack does not watch: the
 * stack counts the change as left out (its `/api/health`), so the upload
 * says at once that no record will come, rather than failing after its
 * timeout, and counts the file as uploaded.
 */
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateBucketCommand, HeadObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, expect, it } from "vitest";
import { cliFlags, type LocalCatalog, startLocalCatalog } from "../server/local-catalog.js";
import { runCatalog } from "../support/cli.js";
import { REPO_ROOT } from "../support/corpus.js";

let catalog: LocalCatalog;
let folder: string;

beforeAll(async () => {
  expect(existsSync(join(REPO_ROOT, "dist/cli/main.js")), "run `npm run build` first").toBe(true);
  catalog = await startLocalCatalog({ listen: true });
  await catalog.stack.s3Client.send(new CreateBucketCommand({ Bucket: "elsewhere" }));
  folder = await mkdtemp(join(tmpdir(), "catalog-unwatched-"));
  await writeFile(join(folder, "a+b.txt"), "a and b\n");
}, 60_000);

afterAll(async () => {
  await catalog?.close();
  if (folder) await rm(folder, { recursive: true, force: true });
});

it("says at once that a bucket the stack does not watch gets no record, and keeps the upload", async () => {
  // Act: a minute's timeout, which the answer must not wait out.
  const started = Date.now();
  const flags = [...cliFlags(catalog), "--api", catalog.url as string];
  const result = await runCatalog([
    "upload",
    join(folder, "a+b.txt"),
    "--wait",
    "--timeout",
    "60",
    ...flags.slice(2),
    "--bucket",
    "elsewhere",
  ]);
  // Assess
  expect(Date.now() - started).toBeLessThan(30_000);
  expect(result.code, result.stderr).toBe(0);
  expect(result.stdout).toBe("uploaded s3://elsewhere/a+b.txt (8 B)\n");
  expect(result.stderr).toMatch(
    /^catalog upload: no record will come: the local stack catalogs another bucket, not s3:\/\/elsewhere\/ \(`catalog backfill s3:\/\/elsewhere\/ [^`]*` catalogs what it holds\)\n$/,
  );
  const head = await catalog.stack.s3Client.send(
    new HeadObjectCommand({ Bucket: "elsewhere", Key: "a+b.txt" }),
  );
  expect(head.ContentLength).toBe(8);
});
