/**
 * Thumbnails through the real handler against the embedded S3 and DynamoDB
 * servers: what gets one, what gets a warning instead, that derived keys
 * never become records, that a delete takes the thumbnail along, and that it
 * takes only the one its record named when a newer event of the key races it.
 */
import { UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
} from "@aws-sdk/client-s3";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ObjectEvent } from "../../src/events/s3-event.js";
import { toS3Notification } from "../../src/events/s3-event.js";
import type { CatalogWriter, DerivedWriter } from "../../src/pipeline/ports.js";
import { type PipelineDeps, processObject } from "../../src/pipeline/process-object.js";
import { DEFAULT_POLICY } from "../../src/policy/policy.js";
import { S3ByteSource, tagObject } from "../../src/s3/index.js";
import { S3DerivedWriter } from "../../src/s3/s3-derived-writer.js";
import { recordKey } from "../../src/store/keys.js";
import { thumbnailKeyFor } from "../../src/transform/thumbnail.js";
import {
  type HandlerStack,
  notificationBody,
  removal,
  sqsBatch,
  startStack,
  upload,
} from "../lambda/fixtures.js";
import { pixelBombPng } from "./pixel-bomb.js";

let stack: HandlerStack;

beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack.servers.stop());

async function getBytes(key: string): Promise<{ bytes: Uint8Array; contentType?: string }> {
  const output = await stack.servers.s3.send(new GetObjectCommand({ Bucket: stack.bucket, Key: key }));
  return {
    bytes: await (output.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
    ...(output.ContentType && { contentType: output.ContentType }),
  };
}

async function exists(key: string): Promise<boolean> {
  try {
    await stack.servers.s3.send(new HeadObjectCommand({ Bucket: stack.bucket, Key: key }));
    return true;
  } catch {
    return false;
  }
}

async function derivedKeys(): Promise<string[]> {
  const listing = await stack.servers.s3.send(
    new ListObjectsV2Command({ Bucket: stack.bucket, Prefix: "_derived/" }),
  );
  return (listing.Contents ?? []).map((object) => object.Key as string);
}

describe("images get a WebP thumbnail under _derived/thumbnails/", () => {
  it.each([
    ["exifpy-portrait_6.jpg", 192, 256],
    ["exifpy-landscape_6.jpg", 256, 192],
    ["filetype-fixture.png", 200, 133],
    ["filetype-fixture.gif", 200, 133],
    ["filetype-fixture.webp", 200, 133],
    ["exifpy-mountains.avif", 256, 144],
    ["filetype-fixture-bali.tif", 256, 173],
  ])("%s -> %ix%i", async (name, width, height) => {
    const key = `photos/thumbs/${name}`;
    const event = await upload(stack, key, { corpus: name });
    const started = performance.now();
    await stack.handler()(toS3Notification([event]));
    const elapsed = performance.now() - started;

    const { record } = await stack.store.getObject(stack.bucket, key);
    expect(record?.status).toBe("ok");
    expect(record?.thumbnailKey).toBe(`_derived/thumbnails/${key}.webp`);
    const { bytes, contentType } = await getBytes(record?.thumbnailKey as string);
    expect(contentType).toBe("image/webp");
    const metadata = await sharp(bytes).metadata();
    expect(metadata.format).toBe("webp");
    expect([metadata.width, metadata.height]).toEqual([width, height]);
    expect(record).toMatchObject({
      thumbnailWidth: width,
      thumbnailHeight: height,
      thumbnailSize: bytes.byteLength,
    });
    expect(record?.thumbHash).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(record?.warnings ?? []).not.toContainEqual(expect.stringMatching(/^thumbnail/));
    // The whole object is read once more for sharp, and counted.
    expect(record?.bytesRead).toBeGreaterThanOrEqual(record?.size as number);
    // The list views carry the key, so a grid needs no second read.
    const listing = await stack.store.listFolder(stack.bucket, "photos/thumbs/");
    expect(listing.items.find((item) => item.key === key)?.thumbnailKey).toBe(record?.thumbnailKey);
    console.info(
      `${name}: ${record?.size} B -> ${bytes.byteLength} B WebP, handler ${elapsed.toFixed(0)} ms`,
    );
  });
});

describe("no thumbnail, a warning, and still an ok record", () => {
  it("HEIC: the prebuilt sharp has no HEVC decoder", async () => {
    const key = "photos/iphone.heic";
    await stack.handler()(
      toS3Notification([await upload(stack, key, { corpus: "exifpy-iphone_13_pro_max.heic" })]),
    );
    const { record } = await stack.store.getObject(stack.bucket, key);
    expect(record?.status).toBe("ok");
    expect(record?.thumbnailKey).toBeUndefined();
    expect(record?.warnings).toContainEqual(expect.stringMatching(/^thumbnail: not made: .*HEVC/));
    expect(await exists(thumbnailKeyFor("_derived/", key))).toBe(false);
  });

  it("a 1x1 PNG claiming 100000x100000 pixels is refused from its header", async () => {
    const key = "bombs/pixels.png";
    const bomb = pixelBombPng(100_000, 100_000);
    const event = await upload(stack, key, bomb);
    await stack.handler()(toS3Notification([event]));
    const { record } = await stack.store.getObject(stack.bucket, key);
    expect(record?.status).not.toBe("error");
    expect(record?.thumbnailKey).toBeUndefined();
    expect(record?.warnings).toContainEqual(expect.stringMatching(/^thumbnail: not made: .*100000x100000/));
    expect(await exists(thumbnailKeyFor("_derived/", key))).toBe(false);
  });

  it("a corrupt JPEG header", async () => {
    const key = "broken/corrupt-header.jpg";
    await stack.handler()(
      toS3Notification([await upload(stack, key, { corpus: "sharp-corrupt-header.jpg" })]),
    );
    const { record } = await stack.store.getObject(stack.bucket, key);
    expect(record?.thumbnailKey).toBeUndefined();
    expect(record?.status).not.toBe("rejected");
    expect(await exists(thumbnailKeyFor("_derived/", key))).toBe(false);
  });

  it("a failing derived writer leaves a warning and a record without thumbnailKey", async () => {
    const key = "photos/unwritable.png";
    const failing: DerivedWriter = {
      head: async () => undefined,
      put: async () => {
        throw new Error("AccessDenied (403)");
      },
      delete: async () => "deleted",
    };
    await stack.handler({ derived: failing })(
      toS3Notification([await upload(stack, key, { corpus: "filetype-fixture.png" })]),
    );
    const { record } = await stack.store.getObject(stack.bucket, key);
    expect(record?.status).toBe("ok");
    expect(record?.thumbnailKey).toBeUndefined();
    expect(record?.warnings).toContainEqual("thumbnail: not written: AccessDenied (403)");
  });
});

describe("what gets no thumbnail at all", () => {
  it("a rejected image", async () => {
    const key = "rejected/photo.jpg";
    const policy = { ...DEFAULT_POLICY, allowedCategories: ["pdf" as const] };
    await stack.handler({ policy })(
      toS3Notification([await upload(stack, key, { corpus: "exifpy-portrait_6.jpg" })]),
    );
    const { record } = await stack.store.getObject(stack.bucket, key);
    expect(record?.status).toBe("rejected");
    expect(record?.thumbnailKey).toBeUndefined();
    expect(await exists(thumbnailKeyFor("_derived/", key))).toBe(false);
  });

  it("a PDF (first-page rendering needs a PDF rasterizer sharp's prebuilt lacks)", async () => {
    const key = "docs/fixture.pdf";
    await stack.handler()(toS3Notification([await upload(stack, key, { corpus: "filetype-fixture.pdf" })]));
    const { record } = await stack.store.getObject(stack.bucket, key);
    expect(record?.category).toBe("pdf");
    expect(record?.thumbnailKey).toBeUndefined();
    expect(await exists(thumbnailKeyFor("_derived/", key))).toBe(false);
  });

  it("any image when THUMBNAILS is off", async () => {
    const key = "off/photo.png";
    await stack.handler({ thumbnails: false })(
      toS3Notification([await upload(stack, key, { corpus: "filetype-fixture.png" })]),
    );
    const { record } = await stack.store.getObject(stack.bucket, key);
    expect(record?.status).toBe("ok");
    expect(record?.thumbnailKey).toBeUndefined();
    expect(await exists(thumbnailKeyFor("_derived/", key))).toBe(false);
  });
});

describe("the function never feeds on its own output", () => {
  it("an event for a derived key makes no record and no audit entry, direct or through SQS", async () => {
    const key = "_derived/thumbnails/photos/loop.png.webp";
    const direct = await upload(stack, key, { corpus: "filetype-fixture.webp" });
    await expect(stack.handler()(toS3Notification([direct]))).resolves.toBeUndefined();
    const viaSqs = await upload(stack, key, { corpus: "filetype-fixture.webp" });
    const response = await stack.handler()(
      sqsBatch([{ messageId: "m-1", body: notificationBody([viaSqs]) }]),
    );
    expect(response?.batchItemFailures).toEqual([]);
    const { record, audit } = await stack.store.getObject(stack.bucket, key);
    expect(record).toBeUndefined();
    expect(audit).toEqual([]);
    // And no thumbnail of the thumbnail.
    expect(await exists(thumbnailKeyFor("_derived/", key))).toBe(false);
  });

  it("a custom derived prefix is the one skipped", async () => {
    const key = "art/derived/x.png";
    const handle = stack.handler({ derivedPrefix: "art/derived/" });
    await handle(toS3Notification([await upload(stack, key, { corpus: "filetype-fixture.png" })]));
    expect((await stack.store.getObject(stack.bucket, key)).record).toBeUndefined();
    const other = "art/photo.png";
    await handle(toS3Notification([await upload(stack, other, { corpus: "filetype-fixture.png" })]));
    const { record } = await stack.store.getObject(stack.bucket, other);
    expect(record?.thumbnailKey).toBe("art/derived/thumbnails/art/photo.png.webp");
  });

  it("a key that only starts like the prefix is cataloged", async () => {
    const key = "_derivedness.png";
    await stack.handler()(toS3Notification([await upload(stack, key, { corpus: "filetype-fixture.png" })]));
    expect((await stack.store.getObject(stack.bucket, key)).record?.status).toBe("ok");
  });
});

describe("deleting an object deletes its thumbnail", () => {
  it("the tombstone's delete removes _derived/thumbnails/<key>.webp", async () => {
    const key = "photos/to-delete.jpg";
    await stack.handler()(toS3Notification([await upload(stack, key, { corpus: "exifpy-landscape_6.jpg" })]));
    const thumbnail = thumbnailKeyFor("_derived/", key);
    expect(await exists(thumbnail)).toBe(true);

    await stack.servers.s3.send(new DeleteObjectCommand({ Bucket: stack.bucket, Key: key }));
    await stack.handler()(toS3Notification([removal(stack, key)]));
    expect((await stack.store.getObject(stack.bucket, key)).record?.status).toBe("deleted");
    expect(await exists(thumbnail)).toBe(false);
    expect(await derivedKeys()).not.toContain(thumbnail);
  });

  it("a failed thumbnail delete is a warning in the audit entry, not a fault", async () => {
    const key = "photos/undeletable.png";
    await stack.handler()(toS3Notification([await upload(stack, key, { corpus: "filetype-fixture.png" })]));
    const failing: DerivedWriter = {
      head: async () => undefined,
      put: async () => ({ outcome: "written" }),
      delete: async () => {
        throw new Error("SlowDown (503)");
      },
    };
    await expect(
      stack.handler({ derived: failing })(toS3Notification([removal(stack, key)])),
    ).resolves.toBeUndefined();
    const { record, audit } = await stack.store.getObject(stack.bucket, key);
    expect(record?.status).toBe("deleted");
    expect(audit.at(-1)).toMatchObject({
      outcome: "deleted",
      reasons: ["thumbnail: not deleted: SlowDown (503)"],
    });
  });
});

/**
 * Every event of a key writes its thumbnail under the same key. A handler
 * that removes the thumbnail a replaced record named must not take the one a
 * newer event has written there meanwhile. The interleavings are forced by
 * holding one event's record write (the pipeline's own port) while the other
 * event runs; S3 and DynamoDB are the embedded servers throughout.
 */
describe("a newer event's thumbnail survives the removal of the one an older record named", () => {
  const deps = (): PipelineDeps => ({
    storage: {
      open: (ref) => S3ByteSource.open(stack.servers.s3, ref),
      tag: (bucket, key, tags, options) => tagObject(stack.servers.s3, bucket, key, tags, options),
    },
    catalog: stack.store,
    policy: DEFAULT_POLICY,
    thumbnails: { writer: new S3DerivedWriter(stack.servers.s3), derivedPrefix: "_derived/" },
  });
  /** The store, with `before` run ahead of each record write. */
  const holdingRecordWrites = (before: () => Promise<unknown>): CatalogWriter => ({
    putRecord: async (input) => {
      await before();
      return stack.store.putRecord(input);
    },
    putTombstone: (input) => stack.store.putTombstone(input),
    putAudit: (input) => stack.store.putAudit(input),
    deletedVersion: (...args) => stack.store.deletedVersion(...args),
  });
  /** The ETag of the object under `key`, unquoted; undefined when there is none. */
  const eTagOf = async (key: string): Promise<string | undefined> => {
    try {
      const head = await stack.servers.s3.send(new HeadObjectCommand({ Bucket: stack.bucket, Key: key }));
      return head.ETag?.replaceAll('"', "");
    } catch {
      return undefined;
    }
  };

  it.each([
    ["a different image", "races/delete-other.jpg", "exifpy-portrait_6.jpg"],
    ["the same image", "races/delete-same.jpg", "exifpy-landscape_6.jpg"],
  ])("a delete, then an upload of %s", async (_, key, second) => {
    // Prepare: v1 cataloged with its thumbnail; then S3 saw the delete, then the upload of v2.
    await processObject(await upload(stack, key, { corpus: "exifpy-landscape_6.jpg" }), deps());
    const v1 = (await stack.store.getObject(stack.bucket, key)).record;
    const deleted = removal(stack, key);
    const v2 = await upload(stack, key, { corpus: second });

    // Act: v2's handler has written its thumbnail; the delete's handler runs to its end before v2's record is written.
    let deletion: Awaited<ReturnType<typeof processObject>> | undefined;
    const racing = holdingRecordWrites(async () => {
      deletion ??= await processObject(deleted, deps());
    });
    await processObject(v2, { ...deps(), catalog: racing });

    // Assess: the delete tombstoned v1, v2's record replaced the tombstone, and the thumbnail it names is there.
    expect(deletion).toMatchObject({ outcome: "deleted", reasons: [] });
    const { record, audit } = await stack.store.getObject(stack.bucket, key);
    expect(record).toMatchObject({ status: "ok", sequencer: v2.sequencer });
    expect(await exists(record?.thumbnailKey as string)).toBe(true);
    expect(await eTagOf(record?.thumbnailKey as string)).toBe(record?.thumbnailEtag);
    expect(record?.thumbnailEtag).not.toBe(v1?.thumbnailEtag);
    // Leaving the newer thumbnail is no warning.
    expect(audit.find((entry) => entry.sequencer === deleted.sequencer)?.reasons).toBeUndefined();
  });

  it("an overwrite with no thumbnail, with a newer image uploaded after it", async () => {
    // Prepare: v1, an image, cataloged with its thumbnail.
    const key = "races/overwrite.jpg";
    await processObject(await upload(stack, key, { corpus: "exifpy-landscape_6.jpg" }), deps());
    const v2 = await upload(stack, key, { corpus: "filetype-fixture.pdf" });

    // Act: v2 (a PDF) has been read and is about to replace v1's record when v3 (an image) is
    // uploaded and its handler writes its thumbnail; v3's record is written once v2's handler is done.
    let v3: ObjectEvent | undefined;
    let v3Done: ReturnType<typeof processObject> | undefined;
    let atRecord: () => void = () => {};
    const v3AtRecord = new Promise<void>((resolve) => {
      atRecord = resolve;
    });
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const held = holdingRecordWrites(async () => {
      atRecord();
      await released;
    });
    const racing = holdingRecordWrites(async () => {
      if (v3) return;
      v3 = await upload(stack, key, { corpus: "exifpy-portrait_6.jpg" });
      v3Done = processObject(v3, { ...deps(), catalog: held });
      // A v3 that fails before its record write fails this one too, instead of leaving it waiting.
      await Promise.race([v3AtRecord, v3Done]);
    });
    let overwrite: Awaited<ReturnType<typeof processObject>>;
    try {
      overwrite = await processObject(v2, { ...deps(), catalog: racing });
    } finally {
      release();
    }
    await v3Done;

    // Assess: v2's record replaced v1's and removed v1's thumbnail, not v3's; v3's record names v3's.
    expect(overwrite).toMatchObject({ outcome: "updated", reasons: [] });
    const { record } = await stack.store.getObject(stack.bucket, key);
    expect(record).toMatchObject({ status: "ok", sequencer: v3?.sequencer, thumbnailWidth: 192 });
    expect(await exists(record?.thumbnailKey as string)).toBe(true);
    expect(await eTagOf(record?.thumbnailKey as string)).toBe(record?.thumbnailEtag);
  });

  it("a record from before thumbnails kept their ETag still has its thumbnail deleted", async () => {
    // Prepare: a record as an older version of the pipeline wrote it, without thumbnailEtag.
    const key = "races/older-record.png";
    await processObject(await upload(stack, key, { corpus: "filetype-fixture.png" }), deps());
    const { pk, sk } = recordKey(stack.bucket, key);
    await stack.servers.dynamodb.send(
      new UpdateItemCommand({
        TableName: stack.tableName,
        Key: { pk: { S: pk }, sk: { S: sk } },
        UpdateExpression: "REMOVE thumbnailEtag",
      }),
    );
    // Act
    const outcome = await processObject(removal(stack, key), deps());
    // Assess
    expect(outcome).toMatchObject({ outcome: "deleted", reasons: [] });
    expect(await exists(thumbnailKeyFor("_derived/", key))).toBe(false);
  });

  it("a thumbnail already gone (expired by the lifecycle rule) is no warning", async () => {
    const key = "races/expired.png";
    await processObject(await upload(stack, key, { corpus: "filetype-fixture.png" }), deps());
    await stack.servers.s3.send(
      new DeleteObjectCommand({ Bucket: stack.bucket, Key: thumbnailKeyFor("_derived/", key) }),
    );
    const outcome = await processObject(removal(stack, key), deps());
    expect(outcome).toMatchObject({ outcome: "deleted", reasons: [] });
  });
});
