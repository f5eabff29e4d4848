/**
 * Thumbnails move only forward in event order. Every event of a key writes
 * its thumbnail under one key; a handler of an older event that runs late
 * (an asynchronous retry in a versioned bucket, its read pinned to its own
 * version) or races a newer one must neither replace the newer event's
 * thumbnail nor leave its own behind once its record is refused, and a
 * record never names a thumbnail other than the one at the key.
 *
 * Thumbnails and records live in the embedded S3 and DynamoDB servers. The
 * versioned source is the replay harness's in-memory bucket, since the
 * embedded S3 keeps one version of each object; interleavings are forced by
 * holding one handler at a port (its record write, or its thumbnail's look)
 * while another runs.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { passSequencer } from "../../src/cli/catalog-pass.js";
import type { ObjectEvent } from "../../src/events/s3-event.js";
import { toS3Notification } from "../../src/events/s3-event.js";
import type { CatalogWriter, DerivedWriter, ObjectStorage } from "../../src/pipeline/ports.js";
import { type ObjectOutcome, type PipelineDeps, processObject } from "../../src/pipeline/process-object.js";
import { DEFAULT_POLICY } from "../../src/policy/policy.js";
import { S3DerivedWriter } from "../../src/s3/s3-derived-writer.js";
import type { CatalogRecord } from "../../src/store/types.js";
import { thumbnailKeyFor } from "../../src/transform/thumbnail.js";
import { type HandlerStack, nextSequencer, startStack, upload } from "../lambda/fixtures.js";
import { type Version, VersionedBucket } from "../reliability/replay-harness.js";
import { corpusFile } from "../support/corpus.js";
import { startUnconditionalS3, type UnconditionalS3 } from "../support/unconditional-s3.js";

let stack: HandlerStack;
let unconditional: UnconditionalS3;

beforeAll(async () => {
  stack = await startStack();
  unconditional = await startUnconditionalS3(stack.servers.s3Endpoint);
});
afterAll(async () => {
  await unconditional?.close();
  await stack?.servers.stop();
});

/** 256x192 and 192x256 thumbnails: which event's image a thumbnail shows is told by its shape. */
const LANDSCAPE = "exifpy-landscape_6.jpg";
const PORTRAIT = "exifpy-portrait_6.jpg";

/** A versioned bucket whose versions are corpus images, and the events S3 sends for it. */
class VersionedKey {
  readonly storage = new VersionedBucket();
  private readonly created = new Map<string, Version>();
  private versions = 0;

  constructor(readonly key: string) {}

  async put(corpus: string): Promise<ObjectEvent> {
    const body = await readFile(corpusFile(corpus));
    const version = {
      versionId: `v${++this.versions}`,
      body,
      eTag: createHash("md5").update(body).digest("hex"),
    };
    this.created.set(version.versionId, version);
    return this.apply({
      kind: "created",
      eventName: "ObjectCreated:Put",
      versionId: version.versionId,
      eTag: version.eTag,
      size: body.byteLength,
    });
  }

  deleteMarker(): ObjectEvent {
    return this.apply({
      kind: "removed",
      eventName: "ObjectRemoved:DeleteMarkerCreated",
      versionId: `marker${++this.versions}`,
      deleteMarker: true,
    });
  }

  private apply(fields: Partial<ObjectEvent> & Pick<ObjectEvent, "kind" | "eventName">): ObjectEvent {
    const event: ObjectEvent = {
      bucket: stack.bucket,
      key: this.key,
      sequencer: nextSequencer(),
      eventTime: new Date().toISOString(),
      ...fields,
    };
    this.storage.apply(event, this.created);
    return event;
  }
}

/** The pipeline over `storage`, the embedded DynamoDB and thumbnails written through `s3`. */
function deps(storage: ObjectStorage, s3: S3Client = stack.servers.s3): PipelineDeps {
  return {
    storage,
    catalog: stack.store,
    policy: DEFAULT_POLICY,
    thumbnails: { writer: new S3DerivedWriter(s3), derivedPrefix: "_derived/" },
  };
}

/** The store, with `before` run ahead of each record write. */
function holdingRecordWrites(before: () => Promise<unknown>): CatalogWriter {
  return {
    putRecord: async (input) => {
      await before();
      return stack.store.putRecord(input);
    },
    putTombstone: (input) => stack.store.putTombstone(input),
    putAudit: (input) => stack.store.putAudit(input),
    deletedVersion: (...args) => stack.store.deletedVersion(...args),
  };
}

/** The thumbnail under `key`'s thumbnail key as S3 holds it; undefined when there is none. */
async function thumbnailAt(key: string) {
  const Key = thumbnailKeyFor("_derived/", key);
  try {
    const got = await stack.servers.s3.send(new GetObjectCommand({ Bucket: stack.bucket, Key }));
    const bytes = await (got.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray();
    const { width, height } = await sharp(bytes).metadata();
    return { eTag: got.ETag?.replaceAll('"', ""), metadata: got.Metadata ?? {}, width, height };
  } catch (error) {
    if ((error as { name?: string }).name === "NoSuchKey") return undefined;
    throw error;
  }
}

async function recordOf(key: string): Promise<CatalogRecord | undefined> {
  return (await stack.store.getObject(stack.bucket, key)).record;
}

/** The record names exactly the thumbnail at the key, and it shows `shape`. */
async function expectNamedThumbnail(key: string, shape: { width: number; height: number }) {
  const record = await recordOf(key);
  const thumbnail = await thumbnailAt(key);
  expect(record).toMatchObject({ thumbnailWidth: shape.width, thumbnailHeight: shape.height });
  expect(thumbnail).toMatchObject({ eTag: record?.thumbnailEtag, ...shape });
}

async function derivedKeysOf(key: string): Promise<string[]> {
  const listing = await stack.servers.s3.send(
    new ListObjectsV2Command({ Bucket: stack.bucket, Prefix: thumbnailKeyFor("_derived/", key) }),
  );
  return (listing.Contents ?? []).map((object) => object.Key as string);
}

const PORTRAIT_SHAPE = { width: 192, height: 256 };
const LANDSCAPE_SHAPE = { width: 256, height: 192 };

describe("an older event's handler never replaces a newer event's thumbnail", () => {
  it("a retry of the older upload after the newer one is cataloged leaves the newer thumbnail", async () => {
    // Prepare: v1 then v2 uploaded; v2's event is handled first, v1's delivery fails and is retried later.
    const history = new VersionedKey("order/late-retry.jpg");
    const v1 = await history.put(LANDSCAPE);
    const v2 = await history.put(PORTRAIT);
    await processObject(v2, deps(history.storage));

    // Act: the retry, its read pinned to v1, which the versioned bucket still holds.
    const late = await processObject(v1, deps(history.storage));

    // Assess: v2's record, naming v2's thumbnail, which is the one at the key.
    expect(late.outcome).toBe("stale");
    expect(await recordOf(history.key)).toMatchObject({ sequencer: v2.sequencer, versionId: "v2" });
    await expectNamedThumbnail(history.key, PORTRAIT_SHAPE);
  });

  it("an older handler run between a newer one's thumbnail and its record writes no thumbnail", async () => {
    // Prepare
    const history = new VersionedKey("order/between.jpg");
    const v1 = await history.put(LANDSCAPE);
    const v2 = await history.put(PORTRAIT);

    // Act: v2's handler has written its thumbnail; v1's runs to its end before v2's record is written.
    let older: ObjectOutcome | undefined;
    let olderRecord: CatalogRecord | undefined;
    const racing = holdingRecordWrites(async () => {
      if (older) return;
      older = await processObject(v1, deps(history.storage));
      olderRecord = await recordOf(history.key);
    });
    const newer = await processObject(v2, { ...deps(history.storage), catalog: racing });

    // Assess: v1's record, while it stood, claimed no thumbnail; v2's names the one at the key.
    expect(older?.outcome).toBe("created");
    expect(olderRecord?.sequencer).toBe(v1.sequencer);
    expect(olderRecord?.thumbnailKey).toBeUndefined();
    expect(olderRecord?.thumbnailEtag).toBeUndefined();
    expect(olderRecord?.warnings ?? []).not.toContainEqual(expect.stringMatching(/^thumbnail/));
    expect(newer.outcome).toBe("updated");
    expect(await recordOf(history.key)).toMatchObject({ sequencer: v2.sequencer });
    await expectNamedThumbnail(history.key, PORTRAIT_SHAPE);
  });

  it("an older handler whose write meets a newer thumbnail written since its look leaves it", async () => {
    // Prepare
    const history = new VersionedKey("order/after-look.jpg");
    const v1 = await history.put(LANDSCAPE);
    const v2 = await history.put(PORTRAIT);

    // Act: v1's handler has looked at the empty thumbnail key; v2's handler runs to its end before
    // v1's conditional write reaches S3.
    const s3Writer = new S3DerivedWriter(stack.servers.s3);
    let newer: ObjectOutcome | undefined;
    const looking: DerivedWriter = {
      head: async (bucket, key) => {
        const there = await s3Writer.head(bucket, key);
        newer ??= await processObject(v2, deps(history.storage));
        return there;
      },
      put: (...args) => s3Writer.put(...args),
      delete: (...args) => s3Writer.delete(...args),
    };
    const older = await processObject(v1, {
      ...deps(history.storage),
      thumbnails: { writer: looking, derivedPrefix: "_derived/" },
    });

    // Assess: S3 refused v1's write (412), the second look found v2's thumbnail, and v1's record is stale.
    expect(newer?.outcome).toBe("created");
    expect(older.outcome).toBe("stale");
    expect(await recordOf(history.key)).toMatchObject({ sequencer: v2.sequencer });
    await expectNamedThumbnail(history.key, PORTRAIT_SHAPE);
  });
});

describe("a handler whose record is refused leaves no thumbnail behind", () => {
  it("a retry of an upload after the key's delete removes the thumbnail it wrote", async () => {
    // Prepare: v1 cataloged with its thumbnail, then deleted (a delete marker): tombstone, thumbnail gone.
    const history = new VersionedKey("order/after-delete.jpg");
    const v1 = await history.put(LANDSCAPE);
    await processObject(v1, deps(history.storage));
    await processObject(history.deleteMarker(), deps(history.storage));
    expect(await thumbnailAt(history.key)).toBeUndefined();

    // Act: v1's event delivered again; its version is still readable under the delete marker.
    const late = await processObject(v1, deps(history.storage));

    // Assess
    expect(late.outcome).toBe("stale");
    expect((await recordOf(history.key))?.status).toBe("deleted");
    expect(await derivedKeysOf(history.key)).toEqual([]);
  });

  it("a redelivery of an event keeps the thumbnail its first delivery wrote", async () => {
    // Prepare: the first delivery wrote the thumbnail, then failed on the record write (a DynamoDB fault).
    const history = new VersionedKey("order/redelivered.jpg");
    const v1 = await history.put(LANDSCAPE);
    const failing: CatalogWriter = {
      ...holdingRecordWrites(async () => {}),
      putRecord: async () => {
        throw new Error("ProvisionedThroughputExceededException");
      },
    };
    await expect(processObject(v1, { ...deps(history.storage), catalog: failing })).rejects.toThrow();
    const first = await thumbnailAt(history.key);

    // Act: the platform delivers the event again; thumbnail PUTs are counted.
    const s3Writer = new S3DerivedWriter(stack.servers.s3);
    let puts = 0;
    const counting: DerivedWriter = {
      head: (...args) => s3Writer.head(...args),
      put: (...args) => {
        puts++;
        return s3Writer.put(...args);
      },
      delete: (...args) => s3Writer.delete(...args),
    };
    const again = await processObject(v1, {
      ...deps(history.storage),
      thumbnails: { writer: counting, derivedPrefix: "_derived/" },
    });

    // Assess: the thumbnail there is kept, not written again, and the record names it.
    expect(again.outcome).toBe("created");
    expect(puts).toBe(0);
    expect((await thumbnailAt(history.key))?.eTag).toBe(first?.eTag);
    await expectNamedThumbnail(history.key, LANDSCAPE_SHAPE);
  });
});

describe("a thumbnail a newer event made from the same object version is shared, never taken", () => {
  it("a late retry of an older upload of the same bytes leaves the newer event's thumbnail", async () => {
    // Prepare: the same image uploaded twice; the second upload's event is handled first.
    const history = new VersionedKey("order/same-bytes.jpg");
    const v1 = await history.put(LANDSCAPE);
    const v2 = await history.put(LANDSCAPE);
    await processObject(v2, deps(history.storage));

    // Act: the first upload's event, retried late, meets v2's thumbnail of the same content.
    const late = await processObject(v1, deps(history.storage));

    // Assess: its record is refused, and the thumbnail it shared stays, v2's, named by v2's record.
    expect(late.outcome).toBe("stale");
    expect(await recordOf(history.key)).toMatchObject({ sequencer: v2.sequencer });
    await expectNamedThumbnail(history.key, LANDSCAPE_SHAPE);
    expect((await thumbnailAt(history.key))?.metadata).toMatchObject({ "event-sequencer": v2.sequencer });
  });
});

/** A writer over the embedded S3 that counts the thumbnail PUTs made through it. */
function countingPuts(): { writer: DerivedWriter; puts: () => number } {
  const s3Writer = new S3DerivedWriter(stack.servers.s3);
  let puts = 0;
  return {
    writer: {
      head: (...args) => s3Writer.head(...args),
      put: (...args) => {
        puts++;
        return s3Writer.put(...args);
      },
      delete: (...args) => s3Writer.delete(...args),
    },
    puts: () => puts,
  };
}

/** The event a catalog pass makes for `event`'s object version over the stored record, as `runCatalogPass` does. */
async function passEventOver(event: ObjectEvent, eventName: string): Promise<ObjectEvent> {
  const record = await recordOf(event.key);
  if (!record) throw new Error(`no record of ${event.key}`);
  return {
    ...event,
    eventName,
    sequencer: passSequencer(record.sequencer),
    eventTime: record.eventTime,
    ...(record.thumbnailKey &&
      record.thumbnailEtag && {
        replacedThumbnail: { key: record.thumbnailKey, eTag: record.thumbnailEtag },
      }),
  };
}

describe("a catalog pass keeps the thumbnail of the record it replaces when it shows the same object", () => {
  it("a reprocess names the pipeline's thumbnail as it is, and a later delete still removes it", async () => {
    // Prepare: the upload cataloged with its thumbnail by the pipeline.
    const history = new VersionedKey("order/reprocessed.jpg");
    const v1 = await history.put(LANDSCAPE);
    await processObject(v1, deps(history.storage));
    const made = await thumbnailAt(history.key);

    // Act
    const counting = countingPuts();
    const reprocessed = await processObject(await passEventOver(v1, "Catalog:Reprocess"), {
      ...deps(history.storage),
      thumbnails: { writer: counting.writer, derivedPrefix: "_derived/" },
    });

    // Assess: the new record names the thumbnail, which was neither written again nor relabelled.
    expect(reprocessed.outcome).toBe("updated");
    expect(counting.puts()).toBe(0);
    expect(await thumbnailAt(history.key)).toEqual(made);
    expect(await recordOf(history.key)).toMatchObject({ sequencer: passSequencer(v1.sequencer) });
    await expectNamedThumbnail(history.key, LANDSCAPE_SHAPE);

    // A second reprocess finds it again through the record the first one wrote.
    const again = countingPuts();
    await processObject(await passEventOver(v1, "Catalog:Reprocess"), {
      ...deps(history.storage),
      thumbnails: { writer: again.writer, derivedPrefix: "_derived/" },
    });
    expect(again.puts()).toBe(0);
    expect(await thumbnailAt(history.key)).toEqual(made);

    // The delete of the key removes it: the records that kept it named its ETag.
    expect(await processObject(history.deleteMarker(), deps(history.storage))).toMatchObject({
      outcome: "deleted",
      reasons: [],
    });
    expect(await derivedKeysOf(history.key)).toEqual([]);
  });

  it("a backfill over a record of an earlier version renders the object as it is now", async () => {
    // Prepare: v1 cataloged with its thumbnail; v2 uploaded while the pipeline was not running.
    const history = new VersionedKey("order/backfilled-over.jpg");
    const v1 = await history.put(LANDSCAPE);
    await processObject(v1, deps(history.storage));
    const v2 = await history.put(PORTRAIT);

    // Act: the backfill's event for v2, over v1's record, which names v1's thumbnail.
    const backfilled = await processObject(
      await passEventOver(v2, "Catalog:Backfill"),
      deps(history.storage),
    );

    // Assess: the thumbnail there showed v1, so v2's is rendered and named.
    expect(backfilled.outcome).toBe("updated");
    await expectNamedThumbnail(history.key, PORTRAIT_SHAPE);
    expect((await thumbnailAt(history.key))?.metadata).toMatchObject({ "source-etag": v2.eTag });
  });

  it("an upload of the same bytes again is rendered anew: only a pass may keep an older event's thumbnail", async () => {
    // Prepare
    const history = new VersionedKey("order/same-bytes-again.jpg");
    const v1 = await history.put(LANDSCAPE);
    await processObject(v1, deps(history.storage));
    const first = await thumbnailAt(history.key);
    const v2 = await history.put(LANDSCAPE);

    // Act
    await processObject(v2, deps(history.storage));

    // Assess: v2's own thumbnail, with an ETag of its own, so a late delete of v1's cannot take it.
    const second = await thumbnailAt(history.key);
    expect(second?.eTag).not.toBe(first?.eTag);
    expect(second?.metadata).toMatchObject({ "event-sequencer": v2.sequencer });
    await expectNamedThumbnail(history.key, LANDSCAPE_SHAPE);
  });
});

describe("uploads in order each replace the thumbnail", () => {
  it("three uploads through the handler: each record names its own thumbnail, labelled with its event", async () => {
    const key = "order/sequence.jpg";
    for (const [corpus, shape] of [
      [LANDSCAPE, LANDSCAPE_SHAPE],
      [PORTRAIT, PORTRAIT_SHAPE],
      ["filetype-fixture.png", { width: 200, height: 133 }],
    ] as const) {
      await stack.handler()(toS3Notification([await upload(stack, key, { corpus })]));
      const record = await recordOf(key);
      await expectNamedThumbnail(key, shape);
      const head = await stack.servers.s3.send(
        new HeadObjectCommand({ Bucket: stack.bucket, Key: record?.thumbnailKey }),
      );
      expect(head.Metadata).toMatchObject({
        "event-sequencer": record?.sequencer,
        "source-etag": record?.etag,
      });
    }
  });
});

describe("a store that answers 501 to conditional requests", () => {
  it("still never lets a late retry replace the newer thumbnail", async () => {
    // Prepare
    const history = new VersionedKey("order/unconditional-late.jpg");
    const v1 = await history.put(LANDSCAPE);
    const v2 = await history.put(PORTRAIT);
    await processObject(v2, deps(history.storage, unconditional.client));
    const refusedBefore = unconditional.refused;

    // Act
    const late = await processObject(v1, deps(history.storage, unconditional.client));

    // Assess: the look alone kept the older thumbnail out.
    expect(late.outcome).toBe("stale");
    expect(unconditional.refused).toBe(refusedBefore);
    await expectNamedThumbnail(history.key, PORTRAIT_SHAPE);
  });

  it("removes a deleted object's thumbnail, and a late retry's, with a look and a plain delete", async () => {
    // Prepare
    const history = new VersionedKey("order/unconditional-delete.jpg");
    const v1 = await history.put(LANDSCAPE);
    await processObject(v1, deps(history.storage, unconditional.client));
    const deleted = await processObject(history.deleteMarker(), deps(history.storage, unconditional.client));
    expect(deleted).toMatchObject({ outcome: "deleted", reasons: [] });
    expect(await thumbnailAt(history.key)).toBeUndefined();

    // Act
    const late = await processObject(v1, deps(history.storage, unconditional.client));

    // Assess
    expect(late.outcome).toBe("stale");
    expect(await derivedKeysOf(history.key)).toEqual([]);
  });
});
