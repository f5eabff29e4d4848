/**
 * `catalog upload` when the local stack goes away half-way, or stops taking
 * changes (Ctrl-C on `catalog dev`): the fault is one line, and the line
 * before it says how many files went up and how many did not.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, expect, it } from "vitest";
import { CatalogStore } from "../../src/store/catalog-store.js";
import { CATALOG } from "../support/cli.js";
import { REPO_ROOT } from "../support/corpus.js";
import { startServers, startTestS3, type TestServers } from "../support/servers.js";

let servers: TestServers | undefined;
let folder: string;

beforeAll(async () => {
  expect(existsSync(join(REPO_ROOT, "dist/cli/main.js")), "run `npm run build` first").toBe(true);
  servers = await startServers();
  await servers.s3.send(new CreateBucketCommand({ Bucket: "uploads" }));
  await new CatalogStore(servers.dynamodb, { tableName: "catalog" }).createTable();
  folder = await mkdtemp(join(tmpdir(), "catalog-stack-gone-"));
});

afterAll(async () => {
  await servers?.stop();
  if (folder) await rm(folder, { recursive: true, force: true });
});

it("says how many files went up before the stack stopped answering", async () => {
  // Enough that the upload is still going when the server has closed, however slow the machine.
  const count = 1500;
  await Promise.all(
    Array.from({ length: count }, (_, index) =>
      writeFile(join(folder, `file-${String(index).padStart(3, "0")}.txt`), `line ${index}\n`),
    ),
  );
  const running = servers as TestServers;
  const child = spawn(
    "node",
    [
      CATALOG,
      "upload",
      folder,
      "--concurrency",
      "1",
      "--s3-endpoint",
      running.s3Endpoint,
      "--dynamodb-endpoint",
      running.dynamodbEndpoint,
    ],
    { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] },
  );
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
    if (servers && stdout.split("\n").length > 5) {
      servers = undefined;
      void running.stop();
    }
  });
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.once("close", resolve));

  const uploaded = stdout.split("\n").filter((line) => line.startsWith("uploaded s3://uploads/")).length;
  expect(code).toBe(1);
  expect(uploaded).toBeGreaterThan(4);
  expect(uploaded).toBeLessThan(count);
  // The start it names serves where the upload went, not on the default ports.
  const ports = `--s3-port ${new URL(running.s3Endpoint).port} --dynamodb-port ${new URL(running.dynamodbEndpoint).port}`;
  // A PUT cut off as the server closed may fail on its own first: a line of its own, before these.
  expect(stderr.trimEnd().split("\n").slice(-2)).toEqual([
    `catalog upload: stopped: ${uploaded} of ${count} file(s) uploaded, ${count - uploaded} not`,
    `catalog: the local stack is not running: start it with 'npm start -- ${ports}' (catalog dev ${ports}); nothing answers at ${running.s3Endpoint}`,
  ]);
}, 60_000);

it("stops at the first change the stopping stack refuses, and says so once", async () => {
  // Prepare: a stack of its own, for it never starts taking changes again
  const count = 300;
  const files = await mkdtemp(join(tmpdir(), "catalog-stack-stopping-"));
  const stack = await startTestS3("stack-stopping");
  try {
    await Promise.all(
      Array.from({ length: count }, (_, index) =>
        writeFile(join(files, `file-${String(index).padStart(3, "0")}.txt`), `line ${index}\n`),
      ),
    );
    // Act: upload, and refuse changes as `catalog dev` does on Ctrl-C once a few files are up
    const child = spawn(
      "node",
      [CATALOG, "upload", files, "--concurrency", "1", "--s3-endpoint", stack.s3.endpoint],
      { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    let stderr = "";
    let refusing = false;
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      if (!refusing && stdout.split("\n").length > 5) {
        refusing = true;
        void stack.s3.refuseWrites();
      }
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.once("close", resolve));

    // Assess: no line per refused file, only what went up and why the rest did not
    const uploaded = stdout.split("\n").filter((line) => line.startsWith("uploaded s3://uploads/")).length;
    expect(code).toBe(1);
    expect(uploaded).toBeGreaterThan(4);
    expect(uploaded).toBeLessThan(count);
    const port = new URL(stack.s3.endpoint).port;
    expect(stderr.trimEnd().split("\n")).toEqual([
      `catalog upload: stopped: ${uploaded} of ${count} file(s) uploaded, ${count - uploaded} not`,
      `catalog: the local stack is stopping and accepts no more changes: start it again with 'npm start -- --s3-port ${port}' (catalog dev --s3-port ${port})`,
    ]);
  } finally {
    await stack.stop();
    await rm(files, { recursive: true, force: true });
  }
}, 60_000);
