/**
 * Replay and ordering: a fast subset of `bench/replay.bench.ts`. Histories
 * are applied for real to the embedded S3 server, their events delivered
 * duplicated (1-3 times) and shuffled with concurrency to the handler over
 * the embedded DynamoDB server, and the final catalog must equal the last
 * event per key, with one audit entry per distinct event.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ObjectEvent, toS3Notification } from "../../src/events/index.js";
import { LocalStack } from "../../src/local/local-stack.js";
import { CatalogStore } from "../../src/store/catalog-store.js";
import { startServers, type TestServers } from "../support/servers.js";
import {
  applyHistory,
  type Comparison,
  compareCatalog,
  deliverDirect,
  deliverSqs,
  duplicateAndShuffle,
  generateHistory,
  quietHandler,
  replayVersioned,
  runThroughDispatcher,
  seededRandom,
  truthOf,
  VersionedBucket,
} from "./replay-harness.js";

const SEED = 20_261_107;
const EVENTS = 400;
/**
 * Each case drives hundreds of handler runs through the embedded servers:
 * 5-7 s on a quiet two-core machine, several times that on a busy one, where
 * the suite's 30 s default cut one short. A correctness test, not a timing one.
 */
const WORKLOAD = { timeout: 180_000 };

let servers: TestServers;
let tables = 0;

beforeAll(async () => {
  servers = await startServers();
});
afterAll(() => servers.stop());

async function freshTarget(): Promise<{ bucket: string; store: CatalogStore; tableName: string }> {
  tables += 1;
  const bucket = `replay-${tables}`;
  const tableName = `replay-catalog-${tables}`;
  await servers.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const store = new CatalogStore(servers.dynamodb, { tableName });
  await store.ensureTable();
  return { bucket, store, tableName };
}

function expectConverged(comparison: Comparison, events: number): void {
  expect(comparison.mismatches.slice(0, 5)).toEqual([]);
  expect(comparison.events).toBe(events);
  expect(comparison.duplicateAuditEntries).toBe(0);
  expect(comparison.missingAuditEntries).toBe(0);
  expect(comparison.deliveryCountMismatches).toBe(0);
}

describe("unversioned bucket, real objects in the embedded S3 server", WORKLOAD, () => {
  it("direct notifications, duplicated and shuffled, converge on the last event per key", async () => {
    const random = seededRandom(SEED);
    const { bucket, store, tableName } = await freshTarget();
    const events = await applyHistory(servers.s3, bucket, generateHistory(EVENTS, random));
    const deliveries = duplicateAndShuffle(events, random);
    const handler = quietHandler({ s3: servers.s3, dynamodb: servers.dynamodb, tableName });

    const stats = await deliverDirect(handler, deliveries, 16);
    const comparison = await compareCatalog(store, bucket, truthOf(events, deliveries));

    expect(deliveries.length).toBeGreaterThan(events.length);
    expect(stats.retried).toBe(0);
    expectConverged(comparison, events.length);
    // Objects overwritten or deleted later are read after the fact: their events are superseded.
    expect(comparison.outcomes.superseded).toBeGreaterThan(0);
    expect(comparison.outcomes.deleted).toBeGreaterThan(0);
  });

  it("SQS batches of ten, failed items redelivered, converge the same way", async () => {
    const random = seededRandom(SEED + 1);
    const { bucket, store, tableName } = await freshTarget();
    const events = await applyHistory(servers.s3, bucket, generateHistory(EVENTS, random));
    const deliveries = duplicateAndShuffle(events, random);
    const handler = quietHandler({ s3: servers.s3, dynamodb: servers.dynamodb, tableName });

    const stats = await deliverSqs(handler, deliveries, { batchSize: 10, concurrency: 4 });
    const comparison = await compareCatalog(store, bucket, truthOf(events, deliveries));

    expect(stats.invocations).toBeGreaterThanOrEqual(Math.ceil(deliveries.length / 10));
    expectConverged(comparison, events.length);
  });
});

describe(
  "the local stack: uploads and deletes through its S3, events through its dispatcher",
  WORKLOAD,
  () => {
    let dataDir: string;
    let stack: LocalStack;
    const failures = { count: 0 };

    beforeAll(async () => {
      dataDir = await mkdtemp(join(tmpdir(), "catalog-replay-"));
      stack = await LocalStack.start({
        dataDir,
        s3Port: 0,
        dynamodbPort: 0,
        logLevel: "SILENT",
        onDelivery: (outcome) => {
          if (!outcome.delivered) failures.count++;
        },
      });
    });
    afterAll(async () => {
      await stack?.close();
      await rm(dataDir, { recursive: true, force: true });
    });

    it("converges while events race the uploads, and again after shuffled redeliveries", async () => {
      const random = seededRandom(SEED + 2);
      const run = await runThroughDispatcher(stack, generateHistory(EVENTS / 2, random), random, failures);
      const comparison = await compareCatalog(stack.store, stack.bucket, truthOf(run.events, run.deliveries));

      expect(run.failedDeliveries).toBe(0);
      expectConverged(comparison, EVENTS / 2);
    });
  },
);

describe("versioned bucket, simulated (s3rver has no versioning)", WORKLOAD, () => {
  const target = async () => ({ s3: servers.s3, dynamodb: servers.dynamodb, ...(await freshTarget()) });

  it("new versions and delete markers, shuffled, end in the bucket's current state", async () => {
    const { comparison } = await replayVersioned(await target(), seededRandom(SEED + 3), {
      events: EVENTS,
      permanentDeletes: false,
    });
    expectConverged(comparison, EVENTS);
  });

  it("permanent deletes too, delivered as the history unfolds: the current version stays cataloged", async () => {
    const { comparison, stats } = await replayVersioned(await target(), seededRandom(SEED + 4), {
      events: EVENTS,
      live: true,
    });

    expect(stats.retried).toBe(0);
    expectConverged(comparison, EVENTS);
    // The history reached the paths under test: deletes of the current version with an older one
    // left, and redeliveries of deletes that had already restored it.
    expect(comparison.outcomes.restored).toBeGreaterThan(0);
    expect(comparison.outcomes.deleted).toBeGreaterThan(0);
  });

  it("permanent deletes delivered after the whole history converge the same way", async () => {
    const { comparison } = await replayVersioned(await target(), seededRandom(SEED + 5), { events: EVENTS });
    expectConverged(comparison, EVENTS);
  });

  // A permanent delete of v1 that arrives before v2's create must not outrank it: the delete
  // tombstones only a record of v1, and there is none yet.
  it("a late create of v2 is not hidden by an earlier-delivered permanent delete of v1", async () => {
    const { bucket, store, tableName } = await freshTarget();
    const storage = new VersionedBucket();
    const v2 = Buffer.from("second version\n");
    storage.versions.set("doc.txt", [{ versionId: "v2", body: v2, eTag: "e2" }]);
    const base = { bucket, key: "doc.txt", eventTime: new Date().toISOString() };
    const putV2: ObjectEvent = {
      ...base,
      kind: "created",
      eventName: "ObjectCreated:Put",
      sequencer: "0A02",
      versionId: "v2",
      eTag: "e2",
      size: v2.byteLength,
    };
    const deleteV1: ObjectEvent = {
      ...base,
      kind: "removed",
      eventName: "ObjectRemoved:Delete",
      sequencer: "0A03",
      versionId: "v1",
      deleteMarker: false,
    };
    const handler = quietHandler({ s3: servers.s3, dynamodb: servers.dynamodb, tableName, storage });

    await handler(toS3Notification([deleteV1]));
    await handler(toS3Notification([putV2]));

    const { record } = await store.getObject(bucket, "doc.txt");
    expect(record).toMatchObject({ status: "ok", versionId: "v2" });
  });
});
