import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { CreateBucketCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { expect } from "vitest";
import { CatalogStore } from "../../src/store/catalog-store.js";
import { REPO_ROOT } from "./corpus.js";
import { startServers, type TestServers } from "./servers.js";

const run = promisify(execFile);

/** The `catalog` executable of this checkout. */
export const CATALOG = join(REPO_ROOT, "bin/catalog");

/** How a run of the CLI ended. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the built CLI (`npm run build` first; `npm test` does) from the
 * repository root. A non-zero exit is returned, not thrown: the tests read it.
 *
 * @example
 * const { code, stderr } = await runCatalog(["extract", "missing.jpg"]);
 */
export async function runCatalog(
  args: readonly string[],
  options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<CliRun> {
  try {
    const { stdout, stderr } = await run("node", [CATALOG, ...args], {
      cwd: REPO_ROOT,
      timeout: options.timeoutMs ?? 20_000,
      maxBuffer: 64 * 1024 * 1024,
      ...(options.env && { env: options.env }),
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

/**
 * This process's environment without its AWS_ and CATALOG_ variables, so a
 * CLI run under test chooses its target from what the test gives it only.
 *
 * @example
 * await runCatalog(["ls"], { env: { ...withoutTargetVariables(), CATALOG_TARGET: "aws" } });
 */
export function withoutTargetVariables(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(AWS_|CATALOG_)/.test(name)));
}

/** Embedded servers holding one object that the built CLI has cataloged, and the flags that point `catalog` at them. */
export interface CatalogedObject {
  servers: TestServers;
  /** `--bucket`, `--s3-endpoint` and `--dynamodb-endpoint` for the servers. */
  local: string[];
}

/**
 * Starts the embedded servers, puts `body` at `key` in a new `bucket` and
 * catalogs it with `catalog backfill`, as a user would an object already in
 * a bucket (`npm run build` first).
 *
 * @example
 * const { servers, local } = await catalogOneObject("fonts", "brand/Sans.woff2", font);
 * await runCatalog(["show", "s3://fonts/brand/Sans.woff2", ...local]);
 */
export async function catalogOneObject(
  bucket: string,
  key: string,
  body: Uint8Array | string,
): Promise<CatalogedObject> {
  expect(existsSync(join(REPO_ROOT, "dist/cli/main.js")), "run `npm run build` first").toBe(true);
  const servers = await startServers();
  await new CatalogStore(servers.dynamodb, { tableName: "catalog" }).createTable();
  await servers.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await servers.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  const local = [
    "--bucket",
    bucket,
    "--s3-endpoint",
    servers.s3Endpoint,
    "--dynamodb-endpoint",
    servers.dynamodbEndpoint,
  ];
  const backfill = await runCatalog(["backfill", "--json", ...local]);
  expect(backfill.code, backfill.stderr).toBe(0);
  return { servers, local };
}
