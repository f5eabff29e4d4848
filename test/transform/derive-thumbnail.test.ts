import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { BufferSource, extract } from "../../src/engine/index.js";
import type { ExtractionResult } from "../../src/engine/types.js";
import type { DerivedPrecondition, DerivedWriter } from "../../src/pipeline/ports.js";
import { deriveThumbnail, MAX_THUMBNAIL_WRITE_ATTEMPTS } from "../../src/transform/derive-thumbnail.js";
import { corpusFile } from "../support/corpus.js";
import { pixelBombPng } from "./pixel-bomb.js";

/**
 * A writer that keeps what it was given in memory and answers as S3 does: the
 * ETag is the MD5 of the bytes, a HEAD gives it with the user metadata, and a
 * PUT whose precondition does not hold is `changed`.
 */
function recording() {
  const written: { bucket: string; key: string; bytes: number; contentType: string }[] = [];
  const contents: Uint8Array[] = [];
  const puts: DerivedPrecondition[] = [];
  const stored = new Map<string, { eTag: string; size: number; userMetadata: Record<string, string> }>();
  const writer: DerivedWriter = {
    head: async (_bucket, key) => stored.get(key),
    put: async (bucket, key, bytes, contentType, options = {}) => {
      const there = stored.get(key);
      const { precondition } = options;
      if (precondition) puts.push(precondition);
      if (precondition && "ifNoneMatch" in precondition && there) return { outcome: "changed" };
      if (precondition && "ifMatch" in precondition && there?.eTag !== precondition.ifMatch) {
        return { outcome: "changed" };
      }
      written.push({ bucket, key, bytes: bytes.byteLength, contentType });
      contents.push(bytes);
      const eTag = createHash("md5").update(bytes).digest("hex");
      stored.set(key, { eTag, size: bytes.byteLength, userMetadata: { ...options.userMetadata } });
      return { outcome: "written", eTag };
    },
    delete: async () => "deleted",
  };
  return { writer, written, contents, puts, stored };
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
      { bucket: "b", key: "p/a.jpg", sequencer: "0055AED6DCD90281E5", eTag: "e1", source, extraction },
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
        await deriveThumbnail(
          { bucket: "b", key: "a.png", sequencer, eTag: "e1", source, extraction },
          settings,
        ),
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
      { bucket: "b", key: "a.png", sequencer: "01", eTag: "e1", source, extraction },
      { writer, derivedPrefix: "_derived/", limits: { maxInputBytes: 1000 } },
    );
    expect(step.thumbnail).toBeUndefined();
    expect(step.warnings).toEqual([
      `thumbnail: not made: ${bytes.byteLength} bytes is over the limit of 1000 bytes`,
    ]);
    expect(source.bytesRead).toBe(0);
    expect(written).toEqual([]);
  });

  it("a bomb whose header the engine reported is refused before the image is read", async () => {
    const bytes = pixelBombPng(100_000, 100_000);
    const { source, extraction } = await prepared(bytes, "bomb.png");
    const { writer, written } = recording();
    const step = await deriveThumbnail(
      { bucket: "b", key: "bomb.png", sequencer: "01", eTag: "e1", source, extraction },
      { writer, derivedPrefix: "_derived/" },
    );
    expect(step.warnings).toEqual([
      "thumbnail: not made: the image claims 100000x100000 pixels, over the limit of 100000000",
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
    const step = await deriveThumbnail(
      { bucket: "b", key: "bomb.png", sequencer: "01", eTag: "e1", source, extraction: blind },
      { writer, derivedPrefix: "_derived/" },
    );
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
      { bucket: "b", key: name, sequencer: "01", eTag: "e1", source, extraction },
      { writer, derivedPrefix: "_derived/" },
    );
    expect(step).toEqual({ warnings: [], bytesRead: 0, readRequests: 0, attempted: false });
    expect(source.bytesRead).toBe(0);
    expect(written).toEqual([]);
  });
});

describe("the thumbnail's write moves only forward in event order", () => {
  const OLDER = "0055AED6DCD90281E5";
  const NEWER = "0055AED6DCD90281E7";
  const derive = async (writer: DerivedWriter, sequencer: string, eTag = "source-1") => {
    const bytes = await readFile(corpusFile("filetype-fixture.png"));
    const { source, extraction } = await prepared(bytes, "a.png");
    return deriveThumbnail(
      { bucket: "b", key: "a.png", sequencer, eTag, source, extraction },
      { writer, derivedPrefix: "_derived/" },
    );
  };

  it("an empty key is written with If-None-Match: *, the thumbnail labelled with its event, source and shape", async () => {
    const { writer, puts, stored } = recording();
    const step = await derive(writer, OLDER);
    expect(puts).toEqual([{ ifNoneMatch: "*" }]);
    expect(step.thumbnail?.placeholder).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(stored.get("_derived/thumbnails/a.png.webp")?.userMetadata).toEqual({
      "event-sequencer": OLDER,
      "source-etag": "source-1",
      "thumbnail-width": String(step.thumbnail?.width),
      "thumbnail-height": String(step.thumbnail?.height),
      "thumbnail-placeholder": step.thumbnail?.placeholder,
    });
    expect(step.thumbnail?.eTag).toBe(stored.get("_derived/thumbnails/a.png.webp")?.eTag);
  });

  it("an older event's thumbnail is replaced with If-Match on the ETag seen", async () => {
    const { writer, puts } = recording();
    const older = await derive(writer, OLDER);
    const newer = await derive(writer, NEWER, "source-2");
    expect(puts).toEqual([{ ifNoneMatch: "*" }, { ifMatch: older.thumbnail?.eTag }]);
    expect(newer.thumbnail?.eTag).not.toBe(older.thumbnail?.eTag);
  });

  it("a newer event's thumbnail stays: nothing written, no thumbnail claimed, no warning", async () => {
    const { writer, written } = recording();
    await derive(writer, NEWER, "source-2");
    const step = await derive(writer, OLDER);
    expect(written).toHaveLength(1);
    expect(step.thumbnail).toBeUndefined();
    expect(step.warnings).toEqual([]);
    expect(step.newerThumbnail).toBe(NEWER);
  });

  it("this event's thumbnail is kept when made from the same object, replaced when from another", async () => {
    const { writer, written } = recording();
    const first = await derive(writer, OLDER);
    const again = await derive(writer, OLDER);
    expect(written).toHaveLength(1);
    // Named from the HEAD alone: the image is neither read nor rendered again.
    const { durationMs: _, ...described } = first.thumbnail ?? {};
    expect(again.thumbnail).toEqual(described);
    expect(again).toMatchObject({ bytesRead: 0, readRequests: 0, attempted: true, warnings: [] });
    // The same sequencer over other content: a catalog pass writes "0" for every object it finds uncataloged.
    await derive(writer, OLDER, "source-2");
    expect(written).toHaveLength(2);
  });

  it("a late retry that meets a newer event's thumbnail, of other content, reads nothing", async () => {
    const { writer } = recording();
    await derive(writer, NEWER, "source-2");
    const late = await derive(writer, OLDER);
    expect(late).toEqual({
      bytesRead: 0,
      readRequests: 0,
      attempted: true,
      warnings: [],
      newerThumbnail: NEWER,
    });
  });

  it("a newer event's thumbnail of the same object is shared as it is, without rendering", async () => {
    const { writer, written } = recording();
    const newer = await derive(writer, NEWER);
    const backfill = await derive(writer, OLDER);
    expect(written).toHaveLength(1);
    const { durationMs: _, ...described } = newer.thumbnail ?? {};
    expect(backfill).toEqual({
      bytesRead: 0,
      readRequests: 0,
      attempted: true,
      warnings: [],
      sharedWith: NEWER,
      thumbnail: described,
    });
  });

  it("a kept thumbnail written before its shape was in its metadata is rendered once to describe it", async () => {
    const { writer, written, stored } = recording();
    const first = await derive(writer, OLDER);
    const there = stored.get("_derived/thumbnails/a.png.webp");
    if (!there) throw new Error("no thumbnail stored");
    there.userMetadata = { "event-sequencer": OLDER, "source-etag": "source-1" };
    const again = await derive(writer, OLDER);
    expect(written).toHaveLength(1);
    expect(again.readRequests).toBe(1);
    expect(again.thumbnail).toMatchObject({
      eTag: first.thumbnail?.eTag,
      width: first.thumbnail?.width,
      height: first.thumbnail?.height,
      placeholder: first.thumbnail?.placeholder,
    });
  });

  it("a key other writers keep changing is looked at a bounded number of times, then left with a warning", async () => {
    const { writer } = recording();
    let heads = 0;
    const contended: DerivedWriter = {
      ...writer,
      head: async (...args) => {
        heads++;
        return writer.head(...args);
      },
      put: async () => ({ outcome: "changed" }),
    };
    const step = await derive(contended, OLDER);
    expect(heads).toBe(MAX_THUMBNAIL_WRITE_ATTEMPTS);
    expect(step.thumbnail).toBeUndefined();
    expect(step.warnings).toEqual([
      `thumbnail: not written: _derived/thumbnails/a.png.webp was changed by other writers ${MAX_THUMBNAIL_WRITE_ATTEMPTS} times in a row`,
    ]);
  });

  it("a store without conditional writes (501) gets the same PUT without its condition", async () => {
    const { writer, written } = recording();
    const unconditional: DerivedWriter = {
      ...writer,
      put: async (bucket, key, bytes, contentType, options = {}) =>
        options.precondition
          ? { outcome: "unsupported" }
          : writer.put(bucket, key, bytes, contentType, { ...options }),
    };
    const step = await derive(unconditional, OLDER);
    expect(written).toHaveLength(1);
    expect(step.thumbnail?.key).toBe("_derived/thumbnails/a.png.webp");
  });
});
