/**
 * Thumbnails through the real handler against the embedded S3 and DynamoDB
 * servers: what gets one, what gets a warning instead, that derived keys
 * never become records, and that a delete takes the thumbnail along.
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
} from "@aws-sdk/client-s3";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toS3Notification } from "../../src/events/s3-event.js";
import type { DerivedWriter } from "../../src/pipeline/ports.js";
import { DEFAULT_POLICY } from "../../src/policy/policy.js";
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

  it("a 1x1 PNG claiming 100000x100000 pixels is refused from its header, quickly, without a full read", async () => {
    const key = "bombs/pixels.png";
    const bomb = pixelBombPng(100_000, 100_000);
    const event = await upload(stack, key, bomb);
    const started = performance.now();
    await stack.handler()(toS3Notification([event]));
    expect(performance.now() - started).toBeLessThan(2_000);
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
      put: async () => {
        throw new Error("AccessDenied (403)");
      },
      delete: async () => {},
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
      put: async () => {},
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
