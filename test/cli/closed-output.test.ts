/**
 * `catalog ... | head -1`: the reader goes away mid-output. A command that
 * only prints stops quietly; one that changes the bucket finishes its work.
 * Neither prints a stack trace.
 */
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateBucketCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { printsOnly } from "../../src/cli/closed-output.js";
import { CatalogStore } from "../../src/store/catalog-store.js";
import { runCatalogClosingOutput } from "../support/cli-closed-output.js";
import { CORPUS_DIR, REPO_ROOT } from "../support/corpus.js";
import { startServers, type TestServers } from "../support/servers.js";

let servers: TestServers;
let folder: string;

beforeAll(async () => {
  expect(existsSync(join(REPO_ROOT, "dist/cli/main.js")), "run `npm run build` first").toBe(true);
  servers = await startServers();
  await servers.s3.send(new CreateBucketCommand({ Bucket: "uploads" }));
  await new CatalogStore(servers.dynamodb, { tableName: "catalog" }).createTable();
  folder = await mkdtemp(join(tmpdir(), "catalog-closed-output-"));
});

afterAll(async () => {
  await servers?.stop();
  if (folder) await rm(folder, { recursive: true, force: true });
});

describe("printsOnly", () => {
  it.each([
    [["ls"], true],
    [["show", "s3://uploads/a.jpg"], true],
    [["find", "--problems"], true],
    [["extract", "a.jpg"], true],
    [["dlq", "ls"], true],
    [["--help"], true],
    [[], true],
    [["upload", "a.jpg"], false],
    [["backfill"], false],
    [["reprocess"], false],
    [["dlq", "replay"], false],
    [["dev"], false],
    [["worker", "--queue", "http://127.0.0.1:9/q"], false],
  ])("catalog %j: %s", (args, expected) => {
    expect(printsOnly(["node", "catalog", ...args])).toBe(expected);
  });
});

describe("catalog CLI: output piped to a reader that stops early", () => {
  it("extract stops quietly with exit code 0", async () => {
    const result = await runCatalogClosingOutput(["extract", CORPUS_DIR, "--json"], 1);
    expect(result.stdout.length).toBeGreaterThan(0);
    expect(result.stderr).toBe("");
    expect({ code: result.code, signal: result.signal }).toEqual({ code: 0, signal: null });
  });

  it("upload goes on to upload every file, and says nothing", async () => {
    const count = 120;
    await Promise.all(
      Array.from({ length: count }, (_, index) =>
        writeFile(join(folder, `file-${String(index).padStart(3, "0")}.txt`), `line ${index}\n`),
      ),
    );
    const result = await runCatalogClosingOutput(
      [
        "upload",
        folder,
        "--prefix",
        "piped",
        "--concurrency",
        "1",
        "--json",
        "--s3-endpoint",
        servers.s3Endpoint,
        "--dynamodb-endpoint",
        servers.dynamodbEndpoint,
      ],
      1,
    );
    expect(result.stderr).toBe("");
    expect({ code: result.code, signal: result.signal }).toEqual({ code: 0, signal: null });
    const listing = await servers.s3.send(new ListObjectsV2Command({ Bucket: "uploads", Prefix: "piped/" }));
    expect(listing.KeyCount).toBe(count);
  });
});
