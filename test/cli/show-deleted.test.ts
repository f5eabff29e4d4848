/**
 * What `catalog show` says of an object's time, live and once deleted: the
 * built CLI against a local catalog whose pipeline cataloged an upload and
 * then its delete, read back from the embedded DynamoDB.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { DeleteObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliFlags, type LocalCatalog, startLocalCatalog } from "../server/local-catalog.js";
import { runCatalog } from "../support/cli.js";
import { REPO_ROOT } from "../support/corpus.js";

const KEPT = "times/kept.txt";
const GONE = "times/gone.txt";

let catalog: LocalCatalog;
let local: string[];

beforeAll(async () => {
  expect(existsSync(join(REPO_ROOT, "dist/cli/main.js")), "run `npm run build` first").toBe(true);
  catalog = await startLocalCatalog();
  const { stack } = catalog;
  for (const key of [KEPT, GONE])
    await stack.s3Client.send(new PutObjectCommand({ Bucket: stack.bucket, Key: key, Body: "text" }));
  await stack.dispatcher.idle();
  await stack.s3Client.send(new DeleteObjectCommand({ Bucket: stack.bucket, Key: GONE }));
  await stack.dispatcher.idle();
  local = cliFlags(catalog);
}, 60_000);

afterAll(async () => {
  await catalog?.close();
});

describe("catalog show, the object's time", () => {
  it("says when a live object was uploaded", async () => {
    // Prepare
    const record = await catalog.stack.store.getRecord(catalog.stack.bucket, KEPT);
    // Act
    const shown = await runCatalog(["show", KEPT, ...local]);
    // Assess
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain(`\n  uploaded   ${record?.eventTime} (sequencer ${record?.sequencer})\n`);
    expect(shown.stdout).not.toMatch(/^ {2}deleted /m);
  });

  it("says when a deleted object was deleted, not that it was uploaded then", async () => {
    // Prepare: the tombstone's time is the delete's, as its history says.
    const { record, audit } = await catalog.stack.store.getObject(catalog.stack.bucket, GONE);
    expect(record?.status).toBe("deleted");
    const deleted = audit.find((entry) => entry.eventName.startsWith("ObjectRemoved"));
    expect(record?.eventTime).toBe(deleted?.eventTime);
    // Act
    const shown = await runCatalog(["show", GONE, ...local]);
    // Assess
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain(`\n  deleted    ${record?.eventTime} (sequencer ${record?.sequencer})\n`);
    expect(shown.stdout).not.toMatch(/^ {2}uploaded /m);
  });
});
