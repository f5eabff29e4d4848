import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { BlockReader } from "../../src/engine/byte-source/block-reader.js";
import { BufferSource, FileSource } from "../../src/engine/byte-source/byte-source.js";
import { extract } from "../../src/engine/engine.js";
import { ContentError, LimitExceededError } from "../../src/engine/errors.js";
import {
  BITRATE_ESTIMATE_WARNING,
  estimateMpegDuration,
  mpegFramesDuration,
  parseMpegFrameHeader,
  readMpegFrameLayout,
} from "../../src/engine/extractors/media/mpeg-frames.js";
import { concatBytes } from "../support/bytes.js";
import { corpusFile, expectedEntries } from "../support/corpus.js";
import { extractCorpusFile, extractCut, musicMetadataOf } from "../support/engine.js";

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

/** An ID3v1 tag; zero-filled it names genre 0 (Blues), so music-metadata reads it as a tag. */
function id3v1({ genre = 0 } = {}): Uint8Array {
  const tag = new Uint8Array(128);
  tag.set([0x54, 0x41, 0x47]);
  tag[127] = genre;
  return tag;
}

function u32le(value: number): Uint8Array {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, value, true);
  return bytes;
}

function u32be(value: number): Uint8Array {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, value);
  return bytes;
}

/** One APEv2 item: value size, flags, NUL-terminated key, value. */
function apeItem(key: string, value: string): Uint8Array {
  return concatBytes(u32le(value.length), u32le(0), key, "\0", value);
}

/**
 * An APE tag around `items`: a 32-byte footer (and header, when asked) whose
 * size counts the items and the footer, never the header.
 */
function apeTag(items: Uint8Array, { header = true, version = 2000, declared = items.byteLength + 32 } = {}) {
  const block = (isHeader: boolean) =>
    concatBytes(
      "APETAGEX",
      u32le(version),
      u32le(declared),
      u32le(1),
      u32le((header ? 0x8000_0000 : 0) | (isHeader ? 0x2000_0000 : 0)),
      new Uint8Array(8),
    );
  return concatBytes(header ? block(true) : new Uint8Array(0), items, block(false));
}

/** A Lyrics3v2 block: LYRICSBEGIN, fields, the size of both as six digits, LYRICS200. */
function lyrics3v2(lyrics: string, declared?: string): Uint8Array {
  const body = `LYRICSBEGININD0000210LYR${String(lyrics.length).padStart(5, "0")}${lyrics}`;
  return concatBytes(body, declared ?? String(body.length).padStart(6, "0"), "LYRICS200");
}

/** The ID3v1 tag at the end of `bytes`, and what precedes it. */
function splitId3v1(bytes: Uint8Array): { body: Uint8Array; tag: Uint8Array } {
  return { body: bytes.subarray(0, bytes.byteLength - 128), tag: bytes.subarray(bytes.byteLength - 128) };
}

function estimate(bytes: Uint8Array) {
  return estimateMpegDuration(new BlockReader(new BufferSource(bytes), { blockSize: 4096 }));
}

function layoutOf(bytes: Uint8Array) {
  return readMpegFrameLayout(new BlockReader(new BufferSource(bytes), { blockSize: 4096 }));
}

async function durationOf(bytes: Uint8Array, name: string): Promise<number | undefined> {
  const result = await extract(new BufferSource(bytes, name), { name });
  expect(result.status, result.reason).toBe("ok");
  return result.media?.duration;
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
      audioStart: tag.byteLength,
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

  it.each([
    ["an APEv2 tag with a header", apeTag(apeItem("Title", "Appended"))],
    ["an APEv2 tag without a header", apeTag(apeItem("Title", "Appended"), { header: false })],
    ["an APEv1 tag", apeTag(apeItem("Title", "Appended"), { header: false, version: 1000 })],
    ["a Lyrics3v2 block", lyrics3v2("La la la\r\nla la")],
    ["a Lyrics3v2 block after an APEv2 tag", concatBytes(apeTag(apeItem("Title", "x")), lyrics3v2("La"))],
    ["an APEv2 tag after a Lyrics3v2 block", concatBytes(lyrics3v2("La"), apeTag(apeItem("Title", "x")))],
  ])("leaves %s before the ID3v1 tag out of the audio", async (_, trailer) => {
    // Prepare
    const frames = concatBytes(id3v2(new Uint8Array(100)), cbrFrames(40));
    // Act
    const plain = await estimate(concatBytes(frames, id3v1()));
    const tagged = await estimate(concatBytes(frames, trailer, id3v1()));
    // Assess
    expect(tagged).toEqual(plain);
    expect(tagged?.audioEnd).toBe(frames.byteLength);
  });

  it("leaves an APEv2 tag out of the audio when no ID3v1 tag follows it", async () => {
    const frames = cbrFrames(40);
    const found = await estimate(concatBytes(frames, apeTag(apeItem("Artist", "Someone"))));
    expect(found?.audioEnd).toBe(frames.byteLength);
    expect(found?.duration).toBeCloseTo((40 * FRAME_128K * 8) / 128_000, 9);
  });

  it("takes bytes that only look like a Lyrics3v2 end, with no six-digit size, for audio", async () => {
    const trailer = lyrics3v2("La", "00x012");
    const frames = cbrFrames(40);
    const found = await estimate(concatBytes(frames, trailer, id3v1()));
    expect(found?.audioEnd).toBe(frames.byteLength + trailer.byteLength);
  });

  it.each([
    ["an APE tag claiming more than the file holds", apeTag(apeItem("Title", "x"), { declared: 1_000_000 })],
    ["a Lyrics3v2 block claiming more than the file holds", lyrics3v2("La", "999999")],
  ])("refuses %s", async (_, trailer) => {
    const bytes = concatBytes(cbrFrames(3), trailer, id3v1());
    await expect(estimate(bytes)).rejects.toBeInstanceOf(LimitExceededError);
  });

  it("refuses an APE tag smaller than its own footer", async () => {
    const bytes = concatBytes(cbrFrames(3), apeTag(new Uint8Array(0), { header: false, declared: 8 }));
    await expect(estimate(bytes)).rejects.toBeInstanceOf(ContentError);
  });

  it("refuses an ID3v2 tag that claims more than the file holds", async () => {
    const bytes = concatBytes(id3v2(new Uint8Array(10), 1_000_000), cbrFrames(3));
    await expect(estimate(bytes)).rejects.toBeInstanceOf(LimitExceededError);
  });
});

/** Corpus MP3s cut short before the length their Info header states (see the last describe). */
const CUT_SHORT_MPEGS = new Set([
  "musicmetadata-bug-utf16bom-encoding.mp3",
  "musicmetadata-issue-362.apev1.mp3",
]);

describe("MPEG fallback through extract()", () => {
  const corpusMpegs = expectedEntries().filter(
    (entry) => /\.mp[23]$/i.test(entry.name) && !CUT_SHORT_MPEGS.has(entry.name),
  );

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

  const untrailed = corpusMpegs.filter((entry) => {
    const text = readFileSync(corpusFile(entry.name)).toString("latin1");
    return !text.includes("APETAGEX") && !text.includes("LYRICS200");
  });

  it.each(untrailed.map((entry) => [entry.name] as const))(
    "%s: with no APE or Lyrics3 tag, the audio still ends at the file's end or its ID3v1 tag",
    async (name) => {
      // Prepare
      const bytes = new Uint8Array(readFileSync(corpusFile(name)));
      const hasId3v1 = Buffer.from(bytes.subarray(-128, -125)).toString("latin1") === "TAG";
      // Act
      const found = await estimate(bytes);
      // Assess: that one file is an ID3v2 tag and nothing else.
      if (found === undefined) expect(name).toBe("musicmetadata-id3v2-utf16.mp3");
      else expect(found.audioEnd).toBe(bytes.byteLength - (hasId3v1 ? 128 : 0));
    },
  );

  it("musicmetadata-issue-362.apev1.mp3: its 485-byte APEv2 tag before the ID3v1 tag is not audio", async () => {
    const bytes = new Uint8Array(readFileSync(corpusFile("musicmetadata-issue-362.apev1.mp3")));
    const found = await estimate(bytes);
    expect(found?.audioEnd).toBe(5500 - 128 - 485);
  });

  it.each([
    ["an APEv2 tag", apeTag(concatBytes(apeItem("Title", "Appended"), apeItem("Cover", "x".repeat(20_000))))],
    ["a Lyrics3v2 block", lyrics3v2("La la la\r\n".repeat(300))],
    ["an APEv2 tag and a Lyrics3v2 block", concatBytes(apeTag(apeItem("Title", "x")), lyrics3v2("La"))],
  ])(
    "musicmetadata-outofbounds.mp3 with %s before its ID3v1 tag: the estimate is unchanged",
    async (_, trailer) => {
      // Prepare
      const name = "musicmetadata-outofbounds.mp3";
      const original = new Uint8Array(readFileSync(corpusFile(name)));
      const { body, tag } = splitId3v1(original);
      const tagged = concatBytes(body, trailer, tag);
      // Act
      const expected = await extract(new BufferSource(original, name), { name });
      const result = await extract(new BufferSource(tagged, name), { name });
      // Assess
      expect(result.media?.duration).toBe(expected.media?.duration);
      expect(result.warnings).toContain(BITRATE_ESTIMATE_WARNING);
    },
  );

  it.each([
    ["an APE tag claiming a megabyte", apeTag(apeItem("Title", "x"), { declared: 1_000_000 })],
    ["an APE footer cut short", apeTag(apeItem("Title", "x")).subarray(0, 60)],
    ["a Lyrics3v2 end with no block", concatBytes("000100", "LYRICS200")],
  ])("musicmetadata-outofbounds.mp3 with %s never throws out of extract() or hangs", async (_, trailer) => {
    const name = "musicmetadata-outofbounds.mp3";
    const { body, tag } = splitId3v1(new Uint8Array(readFileSync(corpusFile(name))));
    const result = await extract(new BufferSource(concatBytes(body, trailer, tag), name), {
      name,
      budget: { maxMillis: 2000 },
    });
    expect(["ok", "partial", "error"]).toContain(result.status);
    if (result.status !== "ok") expect(result.reason).toBeTruthy();
    expect(result.durationMs).toBeLessThan(2500);
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

describe("frame layout of a constant-bitrate stream", () => {
  /** `frames` with `text` written `at` bytes into the first one, where a stream-length header would sit. */
  function withHeaderText(frames: Uint8Array, at: number, text: string): Uint8Array {
    const bytes = frames.slice();
    bytes.set(new TextEncoder().encode(text), at);
    return bytes;
  }

  it("finds the first frame, the audio before the tags at the end, and the frame size to count by", async () => {
    // Prepare
    const tag = id3v2(new Uint8Array(100));
    const frames = cbrFrames(40);
    const bytes = concatBytes(tag, frames, apeTag(apeItem("Title", "x")), lyrics3v2("La"), id3v1());
    // Act
    const layout = await layoutOf(bytes);
    // Assess
    expect(layout).toEqual({
      firstFrame: tag.byteLength,
      audioEnd: tag.byteLength + frames.byteLength,
      id3v1Start: bytes.byteLength - 128,
      frameBytes: FRAME_128K,
      samplesPerFrame: 1152,
      sampleRate: 44_100,
    });
    expect(layout && mpegFramesDuration(layout, layout.audioEnd)).toBe((40 * 1152) / 44_100);
  });

  it("sizes frames by the fourth one, padded or not, as music-metadata does", async () => {
    // Prepare: the fourth frame has its padding bit set and one byte more.
    const padded = Uint8Array.from([0xff, 0xfb, 0x92, 0x44]);
    const fourth = concatBytes(padded, new Uint8Array(FRAME_128K + 1 - 4));
    const bytes = concatBytes(cbrFrames(3), fourth, cbrFrames(10));
    // Act
    const layout = await layoutOf(bytes);
    // Assess
    expect(layout?.frameBytes).toBe(FRAME_128K + 1);
  });

  it.each([
    ["a Xing header after stereo side information", 36, "Xing"],
    ["an Info header after stereo side information", 36, "Info"],
    ["an Info header after a CRC and the side information", 38, "Info"],
    ["a VBRI header", 36, "VBRI"],
  ])("is undefined when the first frame carries %s: the stream states its length", async (_, at, text) => {
    const bytes = concatBytes(withHeaderText(cbrFrames(40), at, text), apeTag(apeItem("Title", "x")));
    expect(await layoutOf(bytes)).toBeUndefined();
  });

  it("is undefined when fewer than four frames follow each other", async () => {
    expect(await layoutOf(concatBytes(cbrFrames(3), apeTag(apeItem("Title", "x")), id3v1()))).toBeUndefined();
    expect(await layoutOf(concatBytes(cbrFrames(2), new Uint8Array(2000), cbrFrames(5)))).toBeUndefined();
  });
});

describe("MPEG durations music-metadata states, with tags at the end", () => {
  /** Corpus CBR files with no Xing/Info/VBRI header: music-metadata counts them from their size. */
  const HEADERLESS_CBR = ["musicmetadata-id3v2.2.mp3", "musicmetadata-fl13.mp2"] as const;

  const trailers = [
    ["an APEv2 tag", apeTag(concatBytes(apeItem("Title", "Appended"), apeItem("Cover", "x".repeat(20_000))))],
    ["an APEv1 tag", apeTag(apeItem("Title", "x".repeat(5000)), { header: false, version: 1000 })],
    ["a Lyrics3v2 block", lyrics3v2("La la la\r\n".repeat(300))],
    [
      "an APEv2 tag and a Lyrics3v2 block",
      concatBytes(apeTag(apeItem("Title", "x".repeat(3000))), lyrics3v2("La".repeat(2000))),
    ],
  ] as const;

  const cases = HEADERLESS_CBR.flatMap((name) =>
    trailers.map(([what, trailer]) => [name, what, trailer] as const),
  );

  it.each(cases)(
    "%s with %s before an ID3v1 tag lasts as long as with the ID3v1 tag alone",
    async (name, _, trailer) => {
      // Prepare
      const original = new Uint8Array(readFileSync(corpusFile(name)));
      // Act
      const expected = await durationOf(concatBytes(original, id3v1()), name);
      const duration = await durationOf(concatBytes(original, trailer, id3v1()), name);
      // Assess
      expect(expected).toBe(await durationOf(original, name));
      expect(duration).toBe(expected);
    },
  );

  it.each(cases)("%s with %s at its end lasts as long as the original", async (name, _, trailer) => {
    const original = new Uint8Array(readFileSync(corpusFile(name)));
    expect(await durationOf(concatBytes(original, trailer), name)).toBe(await durationOf(original, name));
  });

  it("leaves out an empty ID3v1 tag music-metadata counts, with the APE tag in front of it", async () => {
    // Prepare: no field and genre 255: music-metadata ignores the tag and counts its bytes as audio.
    const name = "musicmetadata-id3v2.2.mp3";
    const original = new Uint8Array(readFileSync(corpusFile(name)));
    const trailer = apeTag(apeItem("Title", "x".repeat(20_000)));
    // Act
    const duration = await durationOf(concatBytes(original, trailer, id3v1({ genre: 255 })), name);
    // Assess
    expect(duration).toBe(await durationOf(original, name));
  });

  it("counts 3000 frames at 128 kbit/s with a 50 KB APE tag as 78.37 s, not 81.50 s", async () => {
    const tag = apeTag(apeItem("Cover", "x".repeat(50_000 - 32 - 32 - 14)));
    expect(tag.byteLength).toBe(50_000);
    const duration = await durationOf(concatBytes(cbrFrames(3000), tag), "long.mp3");
    expect(duration).toBe((3000 * 1152) / 44_100);
  });

  it("counts from the first frame the next one confirms, where music-metadata also counts a lone sync before it", async () => {
    // Prepare: music-metadata takes a sync-like header inside tag text for the first frame.
    const decoy = concatBytes(Uint8Array.from(HEADER_128K), "TIT2\0\0\0\x05\0\0\0Title", new Uint8Array(600));
    const untagged = concatBytes(id3v2(new Uint8Array(10)), decoy, cbrFrames(40));
    const tagged = concatBytes(untagged, apeTag(apeItem("Cover", "x".repeat(20_000))));
    // Act
    const plain = await durationOf(untagged, "decoy.mp3");
    const duration = await durationOf(tagged, "decoy.mp3");
    // Assess: with no tag at the end, music-metadata's figure stays, decoy bytes and all.
    expect(plain).toBe((41 * 1152) / 44_100);
    expect(duration).toBe((40 * 1152) / 44_100);
  });

  it("counts the frames a cut file holds when its Xing header counts more, tags at the end or not", async () => {
    // Prepare: a Xing header with the frames and bytes flags (music-metadata wants both) counting
    // 100 frames over 40 present, as in a cut file.
    const xing = concatBytes("Xing", Uint8Array.of(0, 0, 0, 3, 0, 0, 0, 100), u32be(100 * FRAME_128K));
    const frames = cbrFrames(40);
    frames.set(xing, 36);
    const tagged = concatBytes(frames, apeTag(apeItem("Cover", "x".repeat(20_000))));
    // Act
    const plain = await extract(new BufferSource(frames, "xing.mp3"), { name: "xing.mp3" });
    const withTag = await extract(new BufferSource(tagged, "xing.mp3"), { name: "xing.mp3" });
    // Assess
    for (const result of [plain, withTag]) {
      expect(result.status).toBe("partial");
      expect(result.media?.duration).toBeCloseTo((40 * 1152) / 44_100, 9);
      expect(result.warnings).toContain(
        `MPEG: cut short: the Xing header promises ${100 * FRAME_128K} bytes, the file has ${40 * FRAME_128K}; duration counts those`,
      );
    }
  });

  it("musicmetadata-issue-362.apev1.mp3: its Info header states its length, so its APE tag changes nothing", async () => {
    // Prepare: a cut file; its Info header counts 3541785 bytes, 3760 of them before the APE tag.
    const name = "musicmetadata-issue-362.apev1.mp3";
    const { source, reader, parsed } = await musicMetadataOf(name, "audio/mpeg", "MPEG");
    try {
      // Act
      const layout = await readMpegFrameLayout(reader);
      const result = await extract(source, { name });
      // Assess
      expect(layout).toBeUndefined();
      expect(result.media?.duration).toBeCloseTo(((parsed.media?.duration ?? 0) * 3760) / 3_541_785, 9);
    } finally {
      await source.close();
    }
  });

  it.each([
    ["an APE tag claiming a megabyte", apeTag(apeItem("Title", "x"), { declared: 1_000_000 })],
    ["an APE tag smaller than its footer", apeTag(new Uint8Array(0), { header: false, declared: 8 })],
    ["an APE footer cut short", apeTag(apeItem("Title", "x".repeat(3000))).subarray(0, 60)],
    ["an APE tag cut at its start", apeTag(apeItem("Title", "x".repeat(3000))).subarray(100)],
    ["a Lyrics3v2 block claiming more than the file holds", lyrics3v2("La", "999999")],
    ["a Lyrics3v2 end with no block", concatBytes("000100", "LYRICS200")],
  ])(
    "musicmetadata-id3v2.2.mp3 with %s before an ID3v1 tag never throws out of extract()",
    async (_, trailer) => {
      // Prepare
      const name = "musicmetadata-id3v2.2.mp3";
      const bytes = concatBytes(new Uint8Array(readFileSync(corpusFile(name))), trailer, id3v1());
      // Act
      const result = await extract(new BufferSource(bytes, name), { name, budget: { maxMillis: 2000 } });
      // Assess
      expect(["ok", "partial", "error"]).toContain(result.status);
      if (result.status !== "ok") expect(result.reason).toBeTruthy();
      if (result.status === "ok") expect(result.media?.duration).toBeGreaterThan(0);
      expect(result.durationMs).toBeLessThan(2500);
    },
  );
});

describe("an APE tag at the end whose size music-metadata cannot follow", () => {
  const corpusMpegs = expectedEntries().filter((entry) => /\.mp[23]$/i.test(entry.name));
  const SKIPPED = /^APE tag at the end \(stated size \d+ bytes\) skipped: /;

  /** A bare APEv2 footer (no header, no items) stating `declared` bytes. */
  function apeFooter(declared: number, { fields = 1, flags = 0 } = {}): Uint8Array {
    return concatBytes(
      "APETAGEX",
      u32le(2000),
      u32le(declared),
      u32le(fields),
      u32le(flags),
      new Uint8Array(8),
    );
  }

  const footers = [
    ["a size larger than the file", (size: number) => apeFooter(size + 32 + 1000)],
    [
      "a size reaching back to the file's first byte, before the audio",
      (size: number) => apeFooter(size + 32),
    ],
  ] as const;

  const cases = corpusMpegs.flatMap((entry) =>
    footers.map(([what, footer]) => [entry.name, what, footer] as const),
  );

  it.each(cases)(
    "%s with an APEv2 footer stating %s keeps its duration and warns",
    async (name, _, footer) => {
      // Prepare
      const original = new Uint8Array(readFileSync(corpusFile(name)));
      const tagged = concatBytes(original, footer(original.byteLength));
      // Act
      const expected = await extract(new BufferSource(original, name), { name });
      const result = await extract(new BufferSource(tagged, name), { name, budget: { maxMillis: 2000 } });
      // Assess
      expect(result.status, result.reason).toBe(expected.status);
      expect(result.media?.container).toBe(expected.media?.container);
      expect(result.media?.codecs).toEqual(expected.media?.codecs);
      expect(result.media?.sampleRate).toBe(expected.media?.sampleRate);
      const duration = expected.media?.duration;
      if (duration === undefined) expect(result.media?.duration).toBeUndefined();
      // A cut file's duration counts its bytes; tags at the end it cannot size count among them.
      else if (CUT_SHORT_MPEGS.has(name)) expect(result.media?.duration).toBeGreaterThanOrEqual(duration);
      else expect(Math.abs((result.media?.duration ?? 0) - duration) / duration).toBeLessThan(0.01);
      if (expected.status === "ok") expect(result.warnings.filter((w) => SKIPPED.test(w))).toHaveLength(1);
    },
  );

  it("names the tag, the size it states and what went wrong", async () => {
    const name = "musicmetadata-notags.mp3";
    const original = new Uint8Array(readFileSync(corpusFile(name)));
    const declared = original.byteLength + 5000;
    const result = await extract(new BufferSource(concatBytes(original, apeFooter(declared)), name), {
      name,
    });
    expect(result.status).toBe("ok");
    expect(result.warnings[0]).toMatch(
      new RegExp(`^APE tag at the end \\(stated size ${declared} bytes\\) skipped: .+`),
    );
  });

  it("still reads the ID3v1 tag after the APE tag it skips", async () => {
    // Prepare
    const name = "musicmetadata-notags.mp3";
    const original = new Uint8Array(readFileSync(corpusFile(name)));
    const tag = id3v1();
    tag.set(new TextEncoder().encode("After the APE tag"), 3);
    // Act
    const result = await extract(
      new BufferSource(concatBytes(original, apeFooter(original.byteLength * 4), tag), name),
      { name },
    );
    // Assess
    expect(result.status, result.reason).toBe("ok");
    expect(result.media?.duration).toBe(await durationOf(concatBytes(original, tag), name));
    expect(result.media?.tags?.title).toBe("After the APE tag");
  });

  it("keeps a FLAC file's stream facts too", async () => {
    const name = "musicmetadata-testcase.flac";
    const original = new Uint8Array(readFileSync(corpusFile(name)));
    const expected = await extract(new BufferSource(original, name), { name });
    const result = await extract(new BufferSource(concatBytes(original, apeFooter(1 << 30)), name), { name });
    expect(result.status, result.reason).toBe("ok");
    // The bitrate alone moves: music-metadata works it out from the file's size, footer included.
    const { bitrate, ...facts } = result.media ?? { container: "", codecs: [] };
    const { bitrate: expectedBitrate, ...expectedFacts } = expected.media ?? { container: "", codecs: [] };
    expect(facts).toEqual(expectedFacts);
    expect(Math.abs((bitrate ?? 0) - (expectedBitrate ?? 0)) / (expectedBitrate ?? 1)).toBeLessThan(0.01);
    expect(result.warnings.some((w) => SKIPPED.test(w))).toBe(true);
  });

  it.each(corpusMpegs.map((entry) => [entry.name] as const))(
    "%s as it is: parsed once, with no tag skipped",
    async (name) => {
      const warnings: string[] = [];
      const { source } = await musicMetadataOf(name, "audio/mpeg", "MPEG");
      try {
        const result = await extract(source, { name });
        warnings.push(...result.warnings);
      } finally {
        await source.close();
      }
      expect(warnings.filter((w) => SKIPPED.test(w))).toEqual([]);
    },
  );

  it.each([
    ["the largest size a footer can state", apeFooter(0xffff_ffff)],
    ["a size smaller than the footer", apeFooter(8)],
    ["a header flag and a size past the start", apeFooter(1 << 24, { flags: 0x8000_0000 })],
    ["a footer flagged as a header", apeFooter(1 << 24, { flags: 0x2000_0000 })],
    ["millions of items in a few bytes", apeFooter(64, { fields: 0xffff_ffff })],
    ["two bad footers in a row", concatBytes(apeFooter(1 << 24), apeFooter(1 << 25))],
    [
      "a bad footer before a Lyrics3v2 end and an ID3v1 tag",
      concatBytes(apeFooter(1 << 24), lyrics3v2("La"), id3v1()),
    ],
  ])("an MP3 ending in %s never throws out of extract() or hangs", async (_, trailer) => {
    for (const name of ["musicmetadata-notags.mp3", "musicmetadata-id3v2.3.mp3"]) {
      const bytes = concatBytes(new Uint8Array(readFileSync(corpusFile(name))), trailer);
      const result = await extract(new BufferSource(bytes, name), { name, budget: { maxMillis: 2000 } });
      expect(["ok", "partial", "error"]).toContain(result.status);
      if (result.status !== "ok") expect(result.reason).toBeTruthy();
      expect(result.durationMs).toBeLessThan(2500);
    }
  });
});

describe("an MP3 cut short before the length its Xing, Info or VBRI header states", () => {
  it("musicmetadata-bug-utf16bom-encoding.mp3: lasts as long as the frames it holds, as exiftool measures it", async () => {
    // Prepare: its Info header counts 4144 frames, 1732439 bytes; 4016 bytes follow its ID3v2 tag.
    const name = "musicmetadata-bug-utf16bom-encoding.mp3";
    const entry = expectedEntries().find((candidate) => candidate.name === name);
    const source = await FileSource.open(corpusFile(name));
    try {
      // Act
      const result = await extract(source, { name });
      // Assess
      expect(result.status).toBe("partial");
      expect(result.reason).toBe("truncated: the file is shorter than its header states");
      expect(result.warnings).toContain(
        "MPEG: cut short: the Info header promises 1732439 bytes, the file has 4016; duration counts those",
      );
      expect(result.media?.duration).toBeCloseTo(Number(entry?.Duration), 3);
      expect(result.media?.tags?.title).toBe("It's All Over You Know");
    } finally {
      await source.close();
    }
  });

  // [file, offset of its first frame, bytes its header counts]
  it.each([
    ["filetype-fixture.mp3", 371, 7821],
    ["musicmetadata-notags.mp3", 0, 12_636],
    ["musicmetadata-chapters.mp3", 2410, 12_636],
    ["musicmetadata-silence-2s-16000_no-tags.CBR-128.mp3", 0, 33_984],
  ] as const)(
    "%s cut in half lasts its stated duration times the share of its bytes left",
    async (name, firstFrame, promised) => {
      // Prepare
      const full = await extractCorpusFile(name);
      const length = Math.floor(full.size / 2);
      // Act
      const result = await extractCut(name, length);
      // Assess
      expect(full.status).toBe("ok");
      expect(result.status).toBe("partial");
      expect(result.warnings).toContainEqual(
        expect.stringMatching(
          new RegExp(
            `^MPEG: cut short: the (Xing|Info) header promises ${promised} bytes, the file has ${length - firstFrame};`,
          ),
        ),
      );
      const expected = ((full.media?.duration ?? 0) * (length - firstFrame)) / promised;
      expect(result.media?.duration).toBeCloseTo(expected, 9);
      expect(result.bytesRead).toBeLessThanOrEqual(length);
    },
  );

  const whole = expectedEntries().filter(
    (entry) => /\.mp[23]$/.test(entry.name) && !CUT_SHORT_MPEGS.has(entry.name),
  );
  it.each(whole.map((entry) => [entry.name] as const))(
    "%s, whole, is not taken for a cut file",
    async (name) => {
      const result = await extractCorpusFile(name);
      expect(result.warnings.filter((warning) => warning.includes("cut short"))).toEqual([]);
      expect(result.reason ?? "").not.toMatch(/header states/);
    },
  );
});
