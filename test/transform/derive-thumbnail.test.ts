import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { BufferSource, extract } from "../../src/engine/index.js";
import type { ExtractionResult } from "../../src/engine/types.js";
import type { DerivedWriter } from "../../src/pipeline/ports.js";
import { deriveThumbnail } from "../../src/transform/derive-thumbnail.js";
import { corpusFile } from "../support/corpus.js";
import { pixelBombPng } from "./pixel-bomb.js";

/** A writer that keeps what it was given and answers S3's ETag (the MD5 of the bytes), and a source that counts what was read. */
function recording() {
  const written: { bucket: string; key: string; bytes: number; contentType: string }[] = [];
  const contents: Uint8Array[] = [];
  const writer: DerivedWriter = {
    put: async (bucket, key, bytes, contentType) => {
      written.push({ bucket, key, bytes: bytes.byteLength, contentType });
      contents.push(bytes);
      return { eTag: createHash("md5").update(bytes).digest("hex") };
    },
    delete: async () => "deleted",
  };
  return { writer, written, contents };
}

class CountingSource extends BufferSource {
  bytesRead = 0;
  override async read(offset: number, length: number): Promise<Uint8Array> {
    const bytes = await super.read(offset, length);
    this.bytesRead += bytes.byteLength;
    return bytes;
  }
}

async function prepared(bytes: Uint8Array, name: string) {
  const extraction = await extract(new BufferSource(bytes, name), { name });
  return { source: new CountingSource(bytes, name), extraction };
}

describe("deriveThumbnail", () => {
  it("reads the whole image once and writes one WebP at the derived key", async () => {
    const bytes = await readFile(corpusFile("exifpy-portrait_6.jpg"));
    const { source, extraction } = await prepared(bytes, "a.jpg");
    const { writer, written } = recording();
    const step = await deriveThumbnail(
      { bucket: "b", key: "p/a.jpg", sequencer: "0055AED6DCD90281E5", source, extraction },
      { writer, derivedPrefix: "_derived/" },
    );
    expect(step.thumbnail).toMatchObject({
      key: "_derived/thumbnails/p/a.jpg.webp",
      eTag: expect.stringMatching(/^[0-9a-f]{32}$/),
      width: 192,
      height: 256,
    });
    expect(step).toMatchObject({ bytesRead: bytes.byteLength, readRequests: 1, warnings: [] });
    expect(source.bytesRead).toBe(bytes.byteLength);
    expect(written).toEqual([
      {
        bucket: "b",
        key: "_derived/thumbnails/p/a.jpg.webp",
        bytes: step.thumbnail?.size,
        contentType: "image/webp",
      },
    ]);
  });

  it("each event's thumbnail of the same image has bytes, and so an ETag, of its own", async () => {
    // Prepare: one image, uploaded, deleted and uploaded again (two events of one key).
    const bytes = await readFile(corpusFile("filetype-fixture.png"));
    const { writer, contents } = recording();
    const settings = { writer, derivedPrefix: "_derived/" };
    // Act
    const steps = [];
    for (const sequencer of ["0055AED6DCD90281E5", "0055AED6DCD90281E7"]) {
      const { source, extraction } = await prepared(bytes, "a.png");
      steps.push(
        await deriveThumbnail({ bucket: "b", key: "a.png", sequencer, source, extraction }, settings),
      );
    }
    // Assess: a delete conditional on the first ETag cannot take the second thumbnail.
    expect(steps[0]?.thumbnail?.eTag).not.toBe(steps[1]?.thumbnail?.eTag);
    const xmp = (await sharp(contents[1] as Uint8Array).metadata()).xmp;
    expect(xmp?.toString("utf8")).toContain("s3 event sequencer 0055AED6DCD90281E7");
    expect([steps[0]?.thumbnail?.width, steps[1]?.thumbnail?.width]).toEqual([200, 200]);
  });

  it("an object over maxInputBytes is not read", async () => {
    const bytes = await readFile(corpusFile("filetype-fixture.png"));
    const { source, extraction } = await prepared(bytes, "a.png");
    const { writer, written } = recording();
    const step = await deriveThumbnail(
      { bucket: "b", key: "a.png", sequencer: "01", source, extraction },
      { writer, derivedPrefix: "_derived/", limits: { maxInputBytes: 1000 } },
    );
    expect(step.thumbnail).toBeUndefined();
    expect(step.warnings).toEqual([
      `thumbnail: not made: ${bytes.byteLength} bytes is over the limit of 1000 bytes`,
    ]);
    expect(source.bytesRead).toBe(0);
    expect(written).toEqual([]);
  });

  it("a bomb whose header the engine did not report is still stopped by sharp's pixel limit", async () => {
    const bytes = pixelBombPng(100_000, 100_000);
    const { source, extraction } = await prepared(bytes, "bomb.png");
    // As if the extractor had not read the dimensions: the pre-check has nothing to go on.
    const blind: ExtractionResult = { ...extraction };
    delete blind.image;
    const { writer, written } = recording();
    const started = performance.now();
    const step = await deriveThumbnail(
      { bucket: "b", key: "bomb.png", sequencer: "01", source, extraction: blind },
      { writer, derivedPrefix: "_derived/" },
    );
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(step.warnings).toEqual([expect.stringMatching(/^thumbnail: not made: .*pixel limit/)]);
    expect(written).toEqual([]);
  });

  it.each([
    ["filetype-fixture.pdf"],
    ["filetype-fixture.mp3"],
    // SVG is left alone on purpose: librsvg would interpret a document.
    ["sharp-circle.svg"],
  ])("%s is not an image sharp is given: nothing read, nothing written", async (name) => {
    const bytes = await readFile(corpusFile(name));
    const { source, extraction } = await prepared(bytes, name);
    const { writer, written } = recording();
    const step = await deriveThumbnail(
      { bucket: "b", key: name, sequencer: "01", source, extraction },
      { writer, derivedPrefix: "_derived/" },
    );
    expect(step).toEqual({ warnings: [], bytesRead: 0, readRequests: 0, attempted: false });
    expect(source.bytesRead).toBe(0);
    expect(written).toEqual([]);
  });
});
