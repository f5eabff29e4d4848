/**
 * A backfill stopped part-way (Ctrl-C) says how far it got: `scanned` counts
 * the objects it reached, not the ones it had listed, and a second run
 * catalogs exactly the rest; a stop that comes once the last object is under
 * way leaves a complete pass. Real S3 and DynamoDB servers, objects put
 * straight into S3 so that no event catalogs them first.
 */
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, expect, it } from "vitest";
import { BACKFILL_RULE, type PassSummary, runCatalogPass } from "../../src/cli/catalog-pass.js";
import type { Target } from "../../src/cli/target.js";
import { DEFAULT_POLICY } from "../../src/policy/policy.js";
import { type HandlerStack, startStack } from "../lambda/fixtures.js";

const OBJECTS = 40;
let stack: HandlerStack;
let target: Target;

beforeAll(async () => {
  stack = await startStack();
  target = {
    mode: "local",
    s3: stack.servers.s3,
    dynamodb: stack.servers.dynamodb,
    store: stack.store,
    tableName: stack.tableName,
    bucket: stack.bucket,
    close() {},
  };
  for (let index = 0; index < OBJECTS; index++) {
    await stack.servers.s3.send(
      new PutObjectCommand({
        Bucket: stack.bucket,
        Key: `old/${String(index).padStart(2, "0")}.txt`,
        Body: `file ${index}\n`,
      }),
    );
  }
}, 60_000);

afterAll(async () => {
  await stack?.servers.stop();
});

function backfill(stopRequested: () => boolean): Promise<PassSummary> {
  return runCatalogPass({
    target,
    bucket: stack.bucket,
    prefix: "old/",
    eventName: "Catalog:Backfill",
    principalId: "catalog-backfill",
    rule: BACKFILL_RULE,
    policy: DEFAULT_POLICY,
    concurrency: 1,
    excludePrefixes: [],
    progress: { setTotal() {}, increment() {}, stop() {} },
    onError: () => {},
    stopRequested,
  });
}

it("counts only the objects an interrupted pass reached, and the rerun catalogs the rest", async () => {
  // Act: stop asked for once the first chunk has been decided.
  let checks = 0;
  const first = await backfill(() => ++checks > 1);
  const second = await backfill(() => false);

  // Assess
  expect(first.interrupted).toBe(true);
  expect(first.listed).toBe(OBJECTS);
  expect(first.scanned).toBeLessThan(OBJECTS);
  expect(first.scanned).toBe(first.cataloged + first.skipped + first.errors);
  expect(first.cataloged).toBe(first.scanned);
  expect(second).toMatchObject({
    interrupted: false,
    listed: OBJECTS,
    scanned: OBJECTS,
    skipped: first.cataloged,
    cataloged: OBJECTS - first.cataloged,
    errors: 0,
  });
}, 60_000);

it("is complete, not interrupted, when the stop comes while the last chunk of the listing is under way", async () => {
  // Act: 40 objects at concurrency 1 make chunks of 16, 16 and 8; the stop comes after the third has begun.
  let checks = 0;
  const summary = await backfill(() => ++checks > 3);

  // Assess
  expect(summary).toMatchObject({ interrupted: false, listed: OBJECTS, scanned: OBJECTS, errors: 0 });
}, 60_000);
