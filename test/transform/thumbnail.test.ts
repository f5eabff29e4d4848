import { readFile } from "node:fs/promises";
import sharp from "sharp";
import { thumbHashToApproximateAspectRatio } from "thumbhash";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_THUMBNAIL_LIMITS,
  MAX_CONCURRENT_RENDERS,
  renderThumbnail,
  ThumbnailError,
  thumbnailKeyFor,
} from "../../src/transform/thumbnail.js";
import { corpusFile, expectedEntries } from "../support/corpus.js";
import { pixelBombPng } from "./pixel-bomb.js";

/** The thumbnail size the oracle's dimensions and orientation call for: rotated, fit in 256, never enlarged. */
function expectedSize(name: string): { width: number; height: number } {
  const entry = expectedEntries().find((candidate) => candidate.name === name);
  if (!entry) throw new Error(`${name} is not in expected.jsonl`);
  const {
    ImageWidth: width,
    ImageHeight: height,
    Orientation: orientation,
  } = entry as unknown as {
    ImageWidth: number;
    ImageHeight: number;
    Orientation?: number;
  };
  const [w, h] = orientation !== undefined && orientation >= 5 ? [height, width] : [width, height];
  const scale = Math.min(1, DEFAULT_THUMBNAIL_LIMITS.maxSide / Math.max(w, h));
  return { width: Math.round(w * scale), height: Math.round(h * scale) };
}

describe("renderThumbnail over corpus images", () => {
  it.each([
    // EXIF orientation 6: stored landscape, shown portrait (and the other way round).
    "exifpy-portrait_6.jpg",
    "exifpy-landscape_6.jpg",
    "exifpy-landscape_3.jpg",
    "filetype-fixture.jpg",
    "filetype-fixture.png",
    "filetype-fixture.gif",
    "filetype-fixture.webp",
    "sharp-animated-loop-3.gif",
    "sharp-animated-loop-3.webp",
    "exifpy-mountains.avif",
    "filetype-fixture-bali.tif",
    "sharp-Channel_digital_image_CMYK_color_no_profile.jpg",
  ])("%s becomes a WebP of the oriented size, longest side at most 256", async (name) => {
    const thumbnail = await renderThumbnail(await readFile(corpusFile(name)));

    const written = await sharp(thumbnail.bytes).metadata();
    expect(written.format).toBe("webp");
    expect({ width: written.width, height: written.height }).toEqual({
      width: thumbnail.width,
      height: thumbnail.height,
    });
    const expected = expectedSize(name);
    // libvips rounds the shrink factor its own way: one pixel either way.
    expect(Math.abs(thumbnail.width - expected.width)).toBeLessThanOrEqual(1);
    expect(Math.abs(thumbnail.height - expected.height)).toBeLessThanOrEqual(1);
    expect(Math.max(thumbnail.width, thumbnail.height)).toBeLessThanOrEqual(256);
    // The thumbnail is already upright: no orientation left for a viewer to apply twice.
    expect(written.orientation ?? 1).toBe(1);
    expect(written.pages ?? 1).toBe(1);
  });

  it.each([
    // Its EXIF holds a 1,378-byte preview of the original (IFD1), which EXIF written on top would carry along.
    "exifpy-Canon_40D.jpg",
    "exifpy-45-gps_ifd.jpg",
  ])("%s: the label is the only metadata the thumbnail carries", async (name) => {
    const thumbnail = await renderThumbnail(
      await readFile(corpusFile(name)),
      {},
      {
        description: 's3 event sequencer 01 <&">',
      },
    );

    const written = await sharp(thumbnail.bytes).metadata();
    expect(written.exif).toBeUndefined();
    expect(written.icc).toBeUndefined();
    const xmp = written.xmp?.toString("utf8") ?? "";
    expect(xmp).toContain('<rdf:li xml:lang="x-default">s3 event sequencer 01 &#60;&#38;&#34;&#62;</rdf:li>');
    expect(xmp).not.toMatch(/Canon|GPS|exif:/i);
  });

  it("portrait_6 comes out 192x256: the rotation is applied, not just recorded", async () => {
    const thumbnail = await renderThumbnail(await readFile(corpusFile("exifpy-portrait_6.jpg")));
    expect([thumbnail.width, thumbnail.height]).toEqual([192, 256]);
  });

  it("the placeholder is a ThumbHash with the thumbnail's aspect ratio", async () => {
    const thumbnail = await renderThumbnail(await readFile(corpusFile("exifpy-landscape_6.jpg")));
    expect(thumbnail.placeholder).toMatch(/^[A-Za-z0-9+/]+=*$/);
    const hash = Buffer.from(thumbnail.placeholder as string, "base64");
    expect(hash.byteLength).toBeLessThanOrEqual(40);
    expect(thumbHashToApproximateAspectRatio(hash)).toBeCloseTo(thumbnail.width / thumbnail.height, 0);
  });

  it("no placeholder when not asked for", async () => {
    const thumbnail = await renderThumbnail(await readFile(corpusFile("filetype-fixture.png")), {
      placeholder: false,
    });
    expect(thumbnail.placeholder).toBeUndefined();
  });
});

describe("what renderThumbnail refuses, as ThumbnailError with one line", () => {
  it("a 1x1-byte PNG claiming 100000x100000 pixels, before decoding", async () => {
    const error = await renderThumbnail(pixelBombPng(100_000, 100_000)).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ThumbnailError);
    // sharp names its pixel limit only when the header's size is over it, before it decodes anything.
    expect((error as Error).message).toMatch(/pixel limit/);
  });

  it("a PNG just over a lowered pixel limit, and the same PNG under it renders", async () => {
    const png = await sharp({ create: { width: 300, height: 300, channels: 3, background: "#c33" } })
      .png()
      .toBuffer();
    await expect(renderThumbnail(png, { maxInputPixels: 300 * 300 - 1 })).rejects.toThrow(/pixel limit/);
    await expect(renderThumbnail(png, { maxInputPixels: 300 * 300 })).resolves.toMatchObject({
      width: 256,
      height: 256,
    });
  });

  it("more bytes than maxInputBytes, without handing them to sharp", async () => {
    const bytes = await readFile(corpusFile("filetype-fixture.png"));
    await expect(renderThumbnail(bytes, { maxInputBytes: bytes.byteLength - 1 })).rejects.toThrow(/exceeds/);
  });

  it.each([
    ["sharp-corrupt-header.jpg", /corrupt header|JPEG/i],
    // sharp says "Input buffer has corrupt header:" and nothing after the colon.
    ["filetype-fixture-corrupt.png", /^Input buffer has corrupt header$/],
    // Prebuilt sharp ships libheif without a HEVC decoder (patents): HEIC is a warning, AVIF works.
    ["exifpy-iphone_13_pro_max.heic", /HEVC/],
    ["tika-testHEIF.heic", /HEVC/],
  ])("%s", async (name, message) => {
    const error = await renderThumbnail(await readFile(corpusFile(name))).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ThumbnailError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain("\n");
  });

  it("bytes that are no image at all", async () => {
    await expect(renderThumbnail(new TextEncoder().encode("not an image"))).rejects.toBeInstanceOf(
      ThumbnailError,
    );
  });
});

describe("renders queue for a slot", () => {
  it(`${MAX_CONCURRENT_RENDERS * 4} renders at once, some failing, all settle: failures free their slot`, async () => {
    const good = await readFile(corpusFile("filetype-fixture.png"));
    const bad = new TextEncoder().encode("not an image");
    const inputs = Array.from({ length: MAX_CONCURRENT_RENDERS * 4 }, (_, index) =>
      index % 3 === 0 ? bad : good,
    );
    const results = await Promise.allSettled(inputs.map((input) => renderThumbnail(input)));
    expect(results.map((result) => result.status)).toEqual(
      inputs.map((input) => (input === bad ? "rejected" : "fulfilled")),
    );
    // And the queue is empty again: one more render goes straight through.
    await expect(renderThumbnail(good)).resolves.toMatchObject({ width: 200 });
  });
});

describe("thumbnailKeyFor", () => {
  it.each([
    ["_derived/", "photos/a.jpg", "_derived/thumbnails/photos/a.jpg.webp"],
    ["_derived/", "with space/red flower+1%.jpg", "_derived/thumbnails/with space/red flower+1%.jpg.webp"],
    ["derived-art/", "x.png", "derived-art/thumbnails/x.png.webp"],
  ])("%s + %s", (prefix, key, expected) => {
    expect(thumbnailKeyFor(prefix, key)).toBe(expected);
  });
});
