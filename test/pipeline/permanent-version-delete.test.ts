/**
 * A permanent delete of one version (`ObjectRemoved:Delete` with a versionId)
 * in a versioned bucket, through the pipeline into the embedded DynamoDB.
 * s3rver has no versioning, so the bucket is the replay harness's in-memory
 * {@link VersionedBucket}: pinned reads of a deleted version and unpinned
 * reads under a delete marker fail as S3's 404/405 do.
 */
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ObjectEvent } from "../../src/events/s3-event.js";
import type { ObjectStorage } from "../../src/pipeline/ports.js";
import { processObject } from "../../src/pipeline/process-object.js";
import { DEFAULT_POLICY } from "../../src/policy/policy.js";
import { CatalogStore } from "../../src/store/catalog-store.js";
import { type Version, VersionedBucket } from "../reliability/replay-harness.js";
import { startServers, type TestServers } from "../support/servers.js";

const BUCKET = "versioned";

let servers: TestServers;
let store: CatalogStore;
let keys = 0;

beforeAll(async () => {
  servers = await startServers();
  store = new CatalogStore(servers.dynamodb, { tableName: "permanent-version-delete" });
  await store.ensureTable();
});
afterAll(() => servers.stop());

/** One key's history: versions put in order, events built and applied to the bucket as they happen. */
class KeyHistory {
  readonly key = `doc ${++keys}.txt`;
  readonly bucket = new VersionedBucket();
  private readonly created = new Map<string, Version>();
  private sequence = 0x10;

  put(versionId: string): ObjectEvent {
    const body = Buffer.from(`${this.key}\n${versionId}\n`);
    const version = { versionId, body, eTag: createHash("md5").update(body).digest("hex") };
    this.created.set(versionId, version);
    return this.apply({
      ...this.stamp(),
      kind: "created",
      eventName: "ObjectCreated:Put",
      versionId,
      eTag: version.eTag,
      size: body.byteLength,
    });
  }

  deleteVersion(versionId: string): ObjectEvent {
    return this.apply({
      ...this.stamp(),
      kind: "removed",
      eventName: "ObjectRemoved:Delete",
      versionId,
      deleteMarker: false,
    });
  }

  deleteMarker(versionId: string): ObjectEvent {
    return this.apply({
      ...this.stamp(),
      kind: "removed",
      eventName: "ObjectRemoved:DeleteMarkerCreated",
      versionId,
      deleteMarker: true,
    });
  }

  eTagOf(versionId: string): string | undefined {
    return this.created.get(versionId)?.eTag;
  }

  deliver(event: ObjectEvent) {
    return processObject(event, { storage: this.bucket, catalog: store, policy: DEFAULT_POLICY });
  }

  state() {
    return store.getObject(BUCKET, this.key);
  }

  private apply(event: ObjectEvent): ObjectEvent {
    this.bucket.apply(event, this.created);
    return event;
  }

  private stamp() {
    this.sequence += 0x10;
    return {
      bucket: BUCKET,
      key: this.key,
      sequencer: this.sequence.toString(16).toUpperCase().padStart(18, "0"),
      eventTime: new Date(Date.UTC(2026, 0, 1, 0, 0, this.sequence)).toISOString(),
    };
  }
}

describe("a permanent delete of one version", () => {
  it.each([
    // [what, versions put, version deleted, record after, audit outcome of the delete]
    ["the current one, an older one left: the older is cataloged", ["v1", "v2"], "v2", "v1", "restored"],
    ["the only one: the tombstone stays", ["v1"], "v1", undefined, "deleted"],
    ["an older one: the current record is untouched", ["v1", "v2"], "v1", "v2", "stale"],
  ] as const)("%s", async (_what, versions, deleted, liveAfter, outcome) => {
    const history = new KeyHistory();
    // Each put is delivered while its version is current, as in a live bucket.
    for (const versionId of versions) await history.deliver(history.put(versionId));
    const before = (await history.state()).record;
    const deletion = history.deleteVersion(deleted);

    const result = await history.deliver(deletion);

    const { record, audit } = await history.state();
    expect(result.outcome).toBe(outcome);
    if (liveAfter === undefined) {
      expect(record).toMatchObject({ status: "deleted", versionId: deleted });
      // It keeps the replaced record's sequencer: a permanent delete never outranks another version.
      expect(record?.sequencer).toBe(before?.sequencer);
    } else {
      expect(record).toMatchObject({ status: "ok", versionId: liveAfter, etag: history.eTagOf(liveAfter) });
    }
    if (outcome === "restored") {
      // Written under the delete's sequencer: the delete is the event that made the older version current.
      expect(record?.sequencer).toBe(deletion.sequencer);
      expect(record?.mime).toBe("text/plain");
    }
    if (outcome === "stale") expect(record).toEqual(before);
    const entry = audit.find((item) => item.sequencer === deletion.sequencer);
    expect(entry).toMatchObject({
      eventName: "ObjectRemoved:Delete",
      outcome,
      versionId: deleted,
      deliveries: 1,
    });
    if (outcome === "restored") {
      expect(entry?.status).toBe("ok");
      expect(entry?.reasons?.[0]).toBe(`version ${deleted} permanently deleted; version v1 is current again`);
    }
    // One entry per event: the older version's cataloging adds none of its own.
    expect(audit).toHaveLength(versions.length + 1);
  });

  it("delivered again changes nothing more, and the audit counts the delivery", async () => {
    const history = new KeyHistory();
    await history.deliver(history.put("v1"));
    await history.deliver(history.put("v2"));
    const deletion = history.deleteVersion("v2");
    await history.deliver(deletion);
    const first = await history.state();

    const again = await history.deliver(deletion);

    const second = await history.state();
    expect(again.outcome).toBe("stale");
    // Not rewritten: same item, same processedAt.
    expect(second.record).toEqual(first.record);
    const entry = second.audit.find((item) => item.sequencer === deletion.sequencer);
    expect(entry).toMatchObject({ outcome: "restored", deliveries: 2, lastOutcome: "stale" });
    expect(second.audit).toHaveLength(3);
  });

  it("a delivery cut short after the tombstone is finished by its retry", async () => {
    const history = new KeyHistory();
    await history.deliver(history.put("v1"));
    await history.deliver(history.put("v2"));
    const deletion = history.deleteVersion("v2");
    // The first delivery wrote the tombstone, then its process ended.
    await store.putTombstone({ ...deletion, onlyVersion: "v2" });
    expect((await history.state()).record?.status).toBe("deleted");

    const retry = await history.deliver(deletion);

    expect(retry.outcome).toBe("restored");
    expect((await history.state()).record).toMatchObject({ status: "ok", versionId: "v1" });
  });

  it("a newer put still wins, delivered before or after the delete", async () => {
    for (const order of ["put first", "delete first"] as const) {
      const history = new KeyHistory();
      await history.deliver(history.put("v1"));
      await history.deliver(history.put("v2"));
      const deletion = history.deleteVersion("v2");
      const newer = history.put("v3");

      for (const event of order === "put first" ? [newer, deletion] : [deletion, newer]) {
        await history.deliver(event);
      }

      const { record } = await history.state();
      expect(record, order).toMatchObject({ status: "ok", versionId: "v3", sequencer: newer.sequencer });
    }
  });

  it("a newer delete marker still wins, delivered before or after the delete", async () => {
    for (const order of ["marker first", "delete first"] as const) {
      const history = new KeyHistory();
      await history.deliver(history.put("v1"));
      await history.deliver(history.put("v2"));
      const deletion = history.deleteVersion("v2");
      const marker = history.deleteMarker("m1");

      const outcomes = [];
      for (const event of order === "marker first" ? [marker, deletion] : [deletion, marker]) {
        outcomes.push((await history.deliver(event)).outcome);
      }

      const { record } = await history.state();
      expect(record, order).toMatchObject({ status: "deleted", sequencer: marker.sequencer });
      // Processed after the marker is on top, the delete finds v1 hidden: nothing to restore.
      expect(outcomes, order).not.toContain("restored");
    }
  });

  it("the delete processed before the marker's event restores v1, and the marker then hides it", async () => {
    const history = new KeyHistory();
    await history.deliver(history.put("v1"));
    await history.deliver(history.put("v2"));
    const deletion = history.deleteVersion("v2");
    expect((await history.deliver(deletion)).outcome).toBe("restored");

    const marker = history.deleteMarker("m1");
    await history.deliver(marker);

    expect((await history.state()).record).toMatchObject({ status: "deleted", sequencer: marker.sequencer });
  });

  describe("while a creation of that version is being processed (read before the delete, written after)", () => {
    /**
     * Delivers `creation` with a storage whose read of the version succeeds and
     * then, before the pipeline goes on to write, lets `meanwhile` happen.
     */
    async function deliverAround(
      history: KeyHistory,
      creation: ObjectEvent,
      meanwhile: () => Promise<unknown>,
    ) {
      let happened = false;
      const storage: ObjectStorage = {
        open: async (ref) => {
          const opened = await history.bucket.open(ref);
          if (!happened) {
            happened = true;
            await meanwhile();
          }
          return opened;
        },
        tag: async () => {},
      };
      return processObject(creation, { storage, catalog: store, policy: DEFAULT_POLICY });
    }

    it("the deleted version is not left live: the version current after the delete is cataloged", async () => {
      // Prepare
      const history = new KeyHistory();
      await history.deliver(history.put("v1"));
      const creation = history.put("v2");
      let deletion: ObjectEvent | undefined;
      // Act: v2 is read, then deleted for good and that delete processed (it finds v1's record: stale),
      // then the creation writes v2's record.
      const result = await deliverAround(history, creation, async () => {
        deletion = history.deleteVersion("v2");
        expect((await history.deliver(deletion)).outcome).toBe("stale");
      });
      // Assess
      const { record, audit } = await history.state();
      expect(record).toMatchObject({ status: "ok", versionId: "v1", sequencer: deletion?.sequencer });
      expect(result.outcome).toBe("superseded");
      expect(result.reasons).toEqual([
        "version v2 was permanently deleted while this event was being processed; the version current since then is cataloged",
      ]);
      // One entry per event, each delivered once: the delete applied late writes no entry of its own.
      expect(audit.map((entry) => [entry.versionId, entry.outcome, entry.deliveries])).toEqual([
        ["v1", "created", 1],
        ["v2", "superseded", 1],
        ["v2", "stale", 1],
      ]);
    });

    it("the only version deleted leaves a tombstone", async () => {
      const history = new KeyHistory();
      const creation = history.put("v1");

      await deliverAround(history, creation, () => history.deliver(history.deleteVersion("v1")));

      expect((await history.state()).record).toMatchObject({ status: "deleted", versionId: "v1" });
    });

    it("a newer version put meanwhile stays the record", async () => {
      const history = new KeyHistory();
      await history.deliver(history.put("v1"));
      const creation = history.put("v2");
      let newer: ObjectEvent | undefined;

      await deliverAround(history, creation, async () => {
        newer = history.put("v3");
        await history.deliver(newer);
        await history.deliver(history.deleteVersion("v2"));
      });

      expect((await history.state()).record).toMatchObject({
        status: "ok",
        versionId: "v3",
        sequencer: newer?.sequencer,
      });
    });

    it("a delivery that stopped before looking for the delete is completed by its retry", async () => {
      // Prepare: the first delivery writes v2's record, then fails (a lost connection) before it
      // looks for a delete of v2; the delete was processed in between and found v1's record.
      const history = new KeyHistory();
      await history.deliver(history.put("v1"));
      const creation = history.put("v2");
      const storage: ObjectStorage = {
        open: async (ref) => {
          const opened = await history.bucket.open(ref);
          await history.deliver(history.deleteVersion("v2"));
          return opened;
        },
        tag: async () => {},
      };
      const failing = Object.assign(Object.create(store) as CatalogStore, {
        deletedVersion: async () => {
          throw new Error("connection reset");
        },
      });
      await expect(
        processObject(creation, { storage, catalog: failing, policy: DEFAULT_POLICY }),
      ).rejects.toThrow("connection reset");
      expect((await history.state()).record).toMatchObject({ status: "ok", versionId: "v2" });
      // Act: the platform retries; v2 is gone now, so the read ends superseded.
      const retry = await history.deliver(creation);
      // Assess
      expect(retry.outcome).toBe("superseded");
      expect(retry.reasons).toContain("the permanent delete of version v2 is applied to the catalog");
      expect((await history.state()).record).toMatchObject({ status: "ok", versionId: "v1" });
    });

    it("with no delete meanwhile, the creation is cataloged as usual", async () => {
      const history = new KeyHistory();
      const creation = history.put("v1");

      const result = await deliverAround(history, creation, async () => {});

      expect(result.outcome).toBe("created");
      expect((await history.state()).record).toMatchObject({ status: "ok", versionId: "v1" });
    });
  });
});
