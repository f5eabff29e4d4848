import { describe, expect, it } from "vitest";
import { BlockReader } from "../../src/engine/byte-source/block-reader.js";
import { BufferSource, FileSource } from "../../src/engine/byte-source/byte-source.js";
import { extract } from "../../src/engine/engine.js";
import { LimitExceededError } from "../../src/engine/errors.js";
import {
  BITRATE_ESTIMATE_WARNING,
  estimateMpegDuration,
  parseMpegFrameHeader,
} from "../../src/engine/extractors/media/mpeg-frames.js";
import { concatBytes } from "../support/bytes.js";
import { corpusFile, expectedEntries } from "../support/corpus.js";
import { musicMetadataOf } from "../support/engine.js";

/** MPEG-1 Layer III, 128 kbit/s, 44.1 kHz, no padding: 417-byte frames of 1152 samples. */
const HEADER_128K = [0xff, 0xfb, 0x90, 0x44] as const;
const FRAME_128K = 417;

/** `count` frames of 128 kbit/s audio with no Xing or VBRI header. */
function cbrFrames(count: number): Uint8Array {
  const bytes = new Uint8Array(count * FRAME_128K);
  for (let i = 0; i < count; i++) bytes.set(HEADER_128K, i * FRAME_128K);
  return bytes;
}

/** An ID3v2.3 tag whose body is `body`, its size written as the format's syncsafe integer. */
function id3v2(body: Uint8Array, declared = body.byteLength): Uint8Array {
  const syncsafe = [21, 14, 7, 0].map((shift) => (declared >> shift) & 0x7f);
  return Uint8Array.from([0x49, 0x44, 0x33, 3, 0, 0, ...syncsafe, ...body]);
}

function id3v1(): Uint8Array {
  const tag = new Uint8Array(128);
  tag.set([0x54, 0x41, 0x47]);
  return tag;
}

function estimate(bytes: Uint8Array) {
  return estimateMpegDuration(new BlockReader(new BufferSource(bytes), { blockSize: 4096 }));
}

describe("MPEG audio frame header", () => {
  it.each([
    [
      "MPEG-1 Layer III 128k",
      [0xff, 0xfb, 0x90, 0x44],
      { layer: 3, bitrate: 128_000, sampleRate: 44_100, length: 417 },
    ],
    [
      "MPEG-1 Layer III 320k, padded",
      [0xff, 0xfb, 0xe2, 0x04],
      { layer: 3, bitrate: 320_000, sampleRate: 44_100, length: 1045 },
    ],
    [
      "MPEG-2 Layer III 64k 22.05 kHz",
      [0xff, 0xf3, 0x80, 0xc4],
      { layer: 3, bitrate: 64_000, sampleRate: 22_050, length: 208 },
    ],
    [
      "MPEG-1 Layer II 192k 48 kHz",
      [0xff, 0xfd, 0xa4, 0x04],
      { layer: 2, bitrate: 192_000, sampleRate: 48_000, length: 576 },
    ],
    [
      "MPEG-1 Layer I 384k 44.1 kHz",
      [0xff, 0xff, 0xc0, 0x00],
      { layer: 1, bitrate: 384_000, sampleRate: 44_100, length: 416 },
    ],
  ])("decodes %s", (_, bytes, header) => {
    expect(parseMpegFrameHeader(Uint8Array.from(bytes), 0)).toMatchObject(header);
  });

  it.each([
    ["no sync", [0xff, 0x1b, 0x90, 0x44]],
    ["a reserved version", [0xff, 0xeb, 0x90, 0x44]],
    ["a reserved layer", [0xff, 0xf9, 0x90, 0x44]],
    ["a free-format bitrate", [0xff, 0xfb, 0x00, 0x44]],
    ["a bad bitrate", [0xff, 0xfb, 0xf0, 0x44]],
    ["a reserved sample rate", [0xff, 0xfb, 0x9c, 0x44]],
    ["a reserved emphasis", [0xff, 0xfb, 0x90, 0x46]],
    ["fewer than four bytes", [0xff, 0xfb, 0x90]],
  ])("refuses %s", (_, bytes) => {
    expect(parseMpegFrameHeader(Uint8Array.from(bytes), 0)).toBeUndefined();
  });
});

describe("constant-bitrate duration estimate", () => {
  it("divides the audio bytes between the ID3v2 and ID3v1 tags by the first frame's bitrate", async () => {
    // Prepare
    const tag = id3v2(new Uint8Array(1000));
    const bytes = concatBytes(tag, cbrFrames(40), id3v1());
    // Act
    const found = await estimate(bytes);
    // Assess
    expect(found).toEqual({
      duration: (40 * FRAME_128K * 8) / 128_000,
      bitrate: 128_000,
      firstFrame: tag.byteLength,
      audioEnd: bytes.byteLength - 128,
    });
  });

  it("passes over sync-like bytes the next frame does not confirm", async () => {
    // Prepare: a lone header followed by tag text, as in a damaged tag, then real frames.
    const decoy = concatBytes(
      Uint8Array.from(HEADER_128K),
      new TextEncoder().encode("TIT2\0\0\0\x05\0\0\0Title"),
      new Uint8Array(600),
    );
    const bytes = concatBytes(id3v2(new Uint8Array(10)), decoy, cbrFrames(10));
    // Act
    const found = await estimate(bytes);
    // Assess
    expect(found?.firstFrame).toBe(20 + decoy.byteLength);
    expect(found?.duration).toBeCloseTo((10 * FRAME_128K * 8) / 128_000, 9);
  });

  it("accepts a single frame that ends where the audio ends", async () => {
    const found = await estimate(concatBytes(cbrFrames(1), id3v1()));
    expect(found?.duration).toBeCloseTo((FRAME_128K * 8) / 128_000, 9);
  });

  it("finds nothing in bytes with no frame", async () => {
    expect(await estimate(new Uint8Array(5000).fill(0xff))).toBeUndefined();
    expect(await estimate(id3v2(new Uint8Array(50)))).toBeUndefined();
    expect(await estimate(new Uint8Array(0))).toBeUndefined();
  });

  it("refuses an ID3v2 tag that claims more than the file holds", async () => {
    const bytes = concatBytes(id3v2(new Uint8Array(10), 1_000_000), cbrFrames(3));
    await expect(estimate(bytes)).rejects.toBeInstanceOf(LimitExceededError);
  });
});

describe("MPEG fallback through extract()", () => {
  const corpusMpegs = expectedEntries().filter((entry) => /\.mp[23]$/i.test(entry.name));

  it.each(corpusMpegs.map((entry) => [entry.name] as const))(
    "%s: a duration music-metadata states is kept; where it states none, the estimate is used and flagged",
    async (name) => {
      // Prepare
      const { source, reader, parsed } = await musicMetadataOf(name, "audio/mpeg", "MPEG");
      try {
        const estimated = await estimateMpegDuration(reader);
        // Act
        const result = await extract(source, { name });
        // Assess
        const primary = parsed.media?.duration;
        expect(result.media?.duration).toBe(primary ?? estimated?.duration);
        expect(result.warnings.includes(BITRATE_ESTIMATE_WARNING)).toBe(
          primary === undefined && estimated !== undefined,
        );
      } finally {
        await source.close();
      }
    },
  );

  it("estimates musicmetadata-outofbounds.mp3 from its first confirmed frame and says so", async () => {
    const source = await FileSource.open(corpusFile("musicmetadata-outofbounds.mp3"));
    try {
      const result = await extract(source, { name: "musicmetadata-outofbounds.mp3" });
      expect(result.media?.duration).toBeCloseTo(((23_324 - 3343 - 128) * 8) / 320_000, 6);
      expect(result.warnings).toContain(BITRATE_ESTIMATE_WARNING);
      expect(result.bytesRead).toBeLessThanOrEqual(23_324);
    } finally {
      await source.close();
    }
  });

  it.each([
    ["a tag claiming a megabyte", concatBytes(id3v2(new Uint8Array(10), 1_000_000), cbrFrames(3))],
    ["frames cut mid-way", concatBytes(id3v2(new Uint8Array(10)), cbrFrames(5)).subarray(0, 900)],
    ["a lone header", Uint8Array.from(HEADER_128K)],
  ])("%s never throws out of extract() or hangs", async (_, bytes) => {
    const result = await extract(new BufferSource(bytes, "damaged.mp3"), {
      name: "damaged.mp3",
      budget: { maxMillis: 2000 },
    });
    expect(["ok", "partial", "error"]).toContain(result.status);
    if (result.status !== "ok") expect(result.reason).toBeTruthy();
    expect(result.durationMs).toBeLessThan(2500);
  });
});
