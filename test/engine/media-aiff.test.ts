import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { BlockReader } from "../../src/engine/byte-source/block-reader.js";
import { BufferSource } from "../../src/engine/byte-source/byte-source.js";
import { extract } from "../../src/engine/engine.js";
import { ContentError } from "../../src/engine/errors.js";
import { aiffShortfall, readAiffChunks } from "../../src/engine/extractors/media/aiff.js";
import { corpusFile, expectedEntries } from "../support/corpus.js";
import { extractCorpusFile, extractCut } from "../support/engine.js";

const corpusAiffs = expectedEntries().filter((entry) => /\.aiff?$/i.test(entry.name));

async function walk(bytes: Uint8Array) {
  const reader = new BlockReader(new BufferSource(bytes), { blockSize: 4096 });
  return { chunks: await readAiffChunks(reader), reader };
}

describe("AIFF chunk walk", () => {
  it("finds COMM and SSND past ANNO, NAME and APPL chunks, reading headers only", async () => {
    // Prepare: COMM, NAME, AUTH, (c), APPL, then 88200 bytes of sound data and an ID3 chunk.
    const bytes = new Uint8Array(readFileSync(corpusFile("musicmetadata-No_Sanctuary_Here.aiff")));
    // Act
    const { chunks, reader } = await walk(bytes);
    // Assess
    expect(chunks).toEqual({
      form: "AIFF",
      channels: 2,
      sampleFrames: 22_050,
      dataOffset: 164,
      dataSize: 88_200,
    });
    expect(aiffShortfall(chunks, bytes.byteLength)).toBeUndefined();
    expect(reader.stats.bytesRead).toBeLessThan(88_200 / 4);
  });

  it("reads an AIFC file's chunks the same way", async () => {
    const { chunks } = await walk(new Uint8Array(readFileSync(corpusFile("filetype-fixture.aif"))));
    expect(chunks).toEqual({
      form: "AIFC",
      channels: 2,
      sampleFrames: 23_493,
      dataOffset: 162,
      dataSize: 46_986,
      codec: "A-law",
    });
  });

  it.each([
    ["no FORM header", new TextEncoder().encode("not an aiff file at all")],
    ["a FORM file of another type", new TextEncoder().encode("FORM\0\0\0\x10ILBMBMHD")],
    ["an empty file", new Uint8Array(0)],
  ])("rejects %s as content", async (_, bytes) => {
    await expect(walk(bytes)).rejects.toBeInstanceOf(ContentError);
  });
});

describe("an AIFF file cut short before the end of its SSND chunk", () => {
  // [file, bytes kept, where its sound data starts, bytes per sample frame, sample rate]
  it.each([
    ["filetype-fixture.aif", 23_574, 162, 2, 8000],
    ["musicmetadata-M1F1-int8-AFsp.aif", 23_561, 136, 2, 8000],
    ["musicmetadata-No_Sanctuary_Here.aiff", 56_503, 164, 4, 44_100],
  ] as const)(
    "%s cut to %i bytes lasts as long as the sample frames left",
    async (name, length, dataOffset, frameBytes, sampleRate) => {
      // Act
      const result = await extractCut(name, length);
      // Assess
      const present = length - dataOffset;
      expect(result.status).toBe("partial");
      expect(result.reason).toBe("truncated: the file is shorter than its header states");
      expect(result.media?.duration).toBeCloseTo(Math.floor(present / frameBytes) / sampleRate, 9);
      expect(result.warnings).toEqual([
        expect.stringMatching(
          new RegExp(`^AIFF: cut short: the SSND chunk promises \\d+ bytes, the file has ${present};`),
        ),
      ]);
      expect(result.bytesRead).toBeLessThanOrEqual(length);
    },
  );

  it.each(corpusAiffs.map((entry) => [entry.name] as const))(
    "%s, whole, is not taken for a cut file",
    async (name) => {
      const result = await extractCorpusFile(name);
      expect(result.status).toBe("ok");
      expect(result.warnings.filter((warning) => warning.includes("cut short"))).toEqual([]);
    },
  );

  it.each([12, 20, 30, 40, 130, 140, 150])("an AIFF file cut at %i bytes never throws", async (cut) => {
    const bytes = readFileSync(corpusFile("musicmetadata-M1F1-int8-AFsp.aif")).subarray(0, cut);
    const result = await extract(new BufferSource(new Uint8Array(bytes), "cut.aif"), {
      budget: { maxMillis: 2000 },
    });
    expect(["ok", "partial", "error"]).toContain(result.status);
    if (result.status !== "ok") expect(result.reason).toBeTruthy();
  });
});

/**
 * An AIFC file as Python's aifc module writes it: FVER, a COMM chunk naming
 * `compression` with `compressorName` (a Pascal string, padded to even length),
 * then `frames` one-byte mono sample frames at 8 kHz.
 */
function aifc(compression: string, compressorName: string, frames: number) {
  const text = (value: string) => new Uint8Array(Buffer.from(value, "latin1"));
  const name = text(compressorName);
  const commSize = 22 + 1 + name.byteLength + ((1 + name.byteLength) & 1);
  const ssndSize = 8 + frames;
  const length = 12 + 12 + 8 + commSize + 8 + ssndSize;
  const bytes = new Uint8Array(length);
  const view = new DataView(bytes.buffer);
  bytes.set(text("FORM"));
  view.setUint32(4, length - 8);
  bytes.set(text("AIFCFVER"), 8);
  view.setUint32(16, 4);
  view.setUint32(20, 0xa2805140);
  bytes.set(text("COMM"), 24);
  view.setUint32(28, commSize);
  view.setUint16(32, 1);
  view.setUint32(34, frames);
  view.setUint16(38, 8);
  // 8000 as an 80-bit extended float: exponent 16383 + 12, mantissa 8000 << 51.
  view.setUint16(40, 16_383 + 12);
  view.setUint32(42, 8000 << 19);
  bytes.set(text(compression), 50);
  bytes[54] = name.byteLength;
  bytes.set(name, 55);
  const ssnd = 32 + commSize;
  bytes.set(text("SSND"), ssnd);
  view.setUint32(ssnd + 4, ssndSize);
  return bytes;
}

// CPython's aifc writes an empty compressor name, which music-metadata answered with
// a row of its own table, columns joined by tabs ("µLaw 2:1\t8-bit ITU-T G.711 µ-law\tApple Computer").
describe("an AIFC file's codec", () => {
  it.each([
    ["ulaw", "", "µ-law"],
    ["alaw", "", "A-law"],
    ["NONE", "not compressed", "PCM"],
    ["fl32", "32-bit floating point", "32-bit float"],
    ["ALAW", "CCITT G.711 A-law", "A-law"],
    ["QDMX", "Some Future Codec", "Some Future Codec"],
    ["QDMX", "", "QDMX"],
  ])("of type %j named %j is %j", async (compression, compressorName, codec) => {
    // Prepare
    const bytes = aifc(compression, compressorName, 8000);
    // Act
    const result = await extract(new BufferSource(bytes, "sound.aifc"), { name: "sound.aifc" });
    // Assess
    expect(result.status).toBe("ok");
    expect(result.media).toMatchObject({
      container: "AIFF-C",
      codecs: [codec],
      sampleRate: 8000,
      duration: 1,
    });
  });
});

/** An Amiga 8SVX voice as sox writes it: VHDR, an annotation, CHAN, then the samples. */
function eightSvx({
  samples,
  rate,
  stereo,
  name,
}: {
  samples: number;
  rate: number;
  stereo: boolean;
  name?: string;
}) {
  const chunk = (id: string, body: Uint8Array) => {
    const bytes = new Uint8Array(8 + body.byteLength + (body.byteLength & 1));
    bytes.set(new TextEncoder().encode(id));
    new DataView(bytes.buffer).setUint32(4, body.byteLength);
    bytes.set(body, 8);
    return bytes;
  };
  const vhdr = new Uint8Array(20);
  const view = new DataView(vhdr.buffer);
  view.setUint32(0, samples);
  view.setUint16(12, rate);
  vhdr[14] = 1;
  view.setUint32(16, 0x10000);
  const chan = new Uint8Array(4);
  new DataView(chan.buffer).setUint32(0, stereo ? 6 : 2);
  const text = (value: string) => new TextEncoder().encode(value);
  const chunks = [
    chunk("VHDR", vhdr),
    ...(name ? [chunk("NAME", text(name))] : []),
    chunk("ANNO", text("File created by Sound Exchange  ")),
    chunk("CHAN", chan),
    chunk("BODY", new Uint8Array(samples * (stereo ? 2 : 1))),
  ];
  const length = 12 + chunks.reduce((sum, bytes) => sum + bytes.byteLength, 0);
  const bytes = new Uint8Array(length);
  bytes.set(text("FORM"));
  new DataView(bytes.buffer).setUint32(4, length - 8);
  bytes.set(text("8SVX"), 8);
  let at = 12;
  for (const part of chunks) {
    bytes.set(part, at);
    at += part.byteLength;
  }
  return bytes;
}

// CPython's test/sndhdrdata/sndhdr.8svx: `file` says "IFF data, 8SVX 8-bit sampled sound voice" and, as
// shared-mime-info does, audio/x-aiff; music-metadata reads only AIFF and AIFC and threw on it.
describe("Amiga 8SVX sound, in AIFF's FORM container", () => {
  it("is named as AIFF is, with its own extension, and read for its rate, channels, length and name", async () => {
    // Prepare: one second of a stereo voice at 8,363 Hz (a ProTracker C-2), with a NAME chunk.
    const bytes = eightSvx({ samples: 8363, rate: 8363, stereo: true, name: "snare" });
    // Act
    const result = await extract(new BufferSource(bytes, "snare.8svx"), { name: "snare.8svx" });
    // Assess
    expect(result.status).toBe("ok");
    expect(result.format).toMatchObject({
      mime: "audio/aiff",
      ext: "8svx",
      category: "audio",
      mismatch: false,
    });
    expect(result.media).toEqual({
      container: "8SVX",
      codecs: ["PCM S8"],
      channels: 2,
      sampleRate: 8363,
      duration: 1,
      tags: { title: "snare" },
    });
  });

  it("takes the length from the samples when the header counts none", async () => {
    // Prepare: a mono voice whose VHDR counts no samples, 4,410 bytes of them at 44.1 kHz.
    const bytes = eightSvx({ samples: 4410, rate: 44_100, stereo: false });
    new DataView(bytes.buffer).setUint32(20, 0);
    // Act
    const result = await extract(new BufferSource(bytes, "voice.8svx"));
    // Assess
    expect(result.media).toMatchObject({ channels: 1, duration: 0.1 });
  });

  it("without its VHDR chunk is a content error, not a parser's crash", async () => {
    // Prepare: the header renamed out of the way.
    const bytes = eightSvx({ samples: 100, rate: 8000, stereo: false });
    bytes.set(new TextEncoder().encode("XHDR"), 12);
    // Act
    const result = await extract(new BufferSource(bytes, "voice.8svx"));
    // Assess
    expect(result.status).toBe("error");
    expect(result.reason).toMatch(/8SVX: no VHDR chunk/);
  });
});
