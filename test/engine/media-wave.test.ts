import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { BlockReader } from "../../src/engine/byte-source/block-reader.js";
import { BufferSource } from "../../src/engine/byte-source/byte-source.js";
import { extract } from "../../src/engine/engine.js";
import { ContentError } from "../../src/engine/errors.js";
import { readWaveChunks, waveDuration, waveShortfall } from "../../src/engine/extractors/media/riff-wave.js";
import { corpusFile, expectedEntries } from "../support/corpus.js";
import { extractCut, musicMetadataOf } from "../support/engine.js";

interface Chunk {
  id: string;
  body: Uint8Array;
  /** Size written in the header when it should differ from the body's. */
  declared?: number;
}

/** A RIFF file from its chunks, each padded to an even size as the format requires. */
function buildRiff(chunks: readonly Chunk[], form = "RIFF"): Uint8Array {
  const length =
    12 + chunks.reduce((sum, chunk) => sum + 8 + chunk.body.byteLength + (chunk.body.byteLength & 1), 0);
  const bytes = new Uint8Array(length);
  const view = new DataView(bytes.buffer);
  const ascii = (text: string, at: number) => bytes.set(new TextEncoder().encode(text), at);
  ascii(form, 0);
  view.setUint32(4, form === "RIFF" ? length - 8 : 0xffff_ffff, true);
  ascii("WAVE", 8);
  let at = 12;
  for (const chunk of chunks) {
    ascii(chunk.id, at);
    view.setUint32(at + 4, chunk.declared ?? chunk.body.byteLength, true);
    bytes.set(chunk.body, at + 8);
    at += 8 + chunk.body.byteLength + (chunk.body.byteLength & 1);
  }
  return bytes;
}

/** A WAVEFORMATEX `fmt ` chunk. */
function fmt(
  formatTag: number,
  channels: number,
  sampleRate: number,
  bitsPerSample: number,
  byteRate?: number,
): Chunk {
  const body = new Uint8Array(16);
  const view = new DataView(body.buffer);
  const blockAlign = (channels * bitsPerSample) / 8;
  view.setUint16(0, formatTag, true);
  view.setUint16(2, channels, true);
  view.setUint32(4, sampleRate, true);
  view.setUint32(8, byteRate ?? sampleRate * blockAlign, true);
  view.setUint16(12, blockAlign, true);
  view.setUint16(14, bitsPerSample, true);
  return { id: "fmt ", body };
}

function uint32Chunk(id: string, value: number): Chunk {
  const body = new Uint8Array(4);
  new DataView(body.buffer).setUint32(0, value, true);
  return { id, body };
}

/** One second of 16-bit stereo PCM at 44.1 kHz. */
const ONE_SECOND_PCM = 44_100 * 4;

/** Offset of the `data` chunk header, found by following the chunk sizes from the start. */
function dataHeaderAt(bytes: Uint8Array): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = 12; at + 8 <= bytes.byteLength; ) {
    const size = view.getUint32(at + 4, true);
    if (String.fromCharCode(...bytes.subarray(at, at + 4)) === "data") return at;
    at += 8 + size + (size & 1);
  }
  throw new Error("no data chunk");
}

/** A copy of `bytes` whose `data` chunk declares `size`, as a streaming writer leaves it. */
function withDataSize(bytes: Uint8Array, size: number): Uint8Array {
  const copy = bytes.slice();
  new DataView(copy.buffer).setUint32(dataHeaderAt(copy) + 4, size, true);
  return copy;
}

const PLACEHOLDER_WARNING = /data chunk size \d+ is a placeholder/;

async function walk(bytes: Uint8Array) {
  const reader = new BlockReader(new BufferSource(bytes), { blockSize: 4096 });
  const chunks = await readWaveChunks(reader);
  return { chunks, stated: waveDuration(chunks, bytes.byteLength), reader };
}

describe("WAVE chunk walk", () => {
  it("finds fmt and data behind a large JUNK and bext set, reading headers only", async () => {
    // Prepare
    const bytes = buildRiff([
      { id: "JUNK", body: new Uint8Array(30_001) },
      { id: "bext", body: new Uint8Array(602) },
      fmt(1, 2, 44_100, 16),
      { id: "data", body: new Uint8Array(ONE_SECOND_PCM) },
    ]);
    // Act
    const { chunks, stated, reader } = await walk(bytes);
    // Assess
    expect(chunks).toMatchObject({ formatTag: 1, channels: 2, sampleRate: 44_100, byteRate: ONE_SECOND_PCM });
    expect(chunks.dataOffset).toBe(12 + 8 + 30_002 + 8 + 602 + 8 + 16 + 8);
    expect(stated).toEqual({ duration: 1, warnings: [] });
    expect(reader.stats.bytesRead).toBeLessThan(ONE_SECOND_PCM / 4);
  });

  it("keeps walking past data for a fmt chunk that follows it", async () => {
    const bytes = buildRiff([
      { id: "data", body: new Uint8Array(ONE_SECOND_PCM / 2) },
      fmt(1, 2, 44_100, 16),
    ]);
    const { stated } = await walk(bytes);
    expect(stated?.duration).toBe(0.5);
  });

  it("cuts a data size that runs past the end of the file to what is there, and names both sizes", async () => {
    // Prepare: the header claims ten seconds, one is present.
    const bytes = buildRiff([
      fmt(1, 2, 44_100, 16),
      { id: "data", body: new Uint8Array(ONE_SECOND_PCM), declared: 10 * ONE_SECOND_PCM },
    ]);
    // Act
    const { chunks, stated } = await walk(bytes);
    const result = await extract(new BufferSource(bytes, "cut.wav"), { name: "cut.wav" });
    // Assess
    expect(stated?.duration).toBe(1);
    expect(waveShortfall(chunks, bytes.byteLength)).toEqual({
      promised: 10 * ONE_SECOND_PCM,
      present: ONE_SECOND_PCM,
    });
    expect(result.status).toBe("partial");
    expect(result.media?.duration).toBe(1);
    expect(result.warnings).toEqual([
      `WAVE: cut short: the data chunk promises ${10 * ONE_SECOND_PCM} bytes, the file has ${ONE_SECOND_PCM}; duration counts those`,
    ]);
  });

  it("counts a compressed format's samples from its fact chunk", async () => {
    // Prepare: IMA ADPCM, whose byte rate says nothing exact about the sample count.
    const bytes = buildRiff([
      fmt(0x11, 1, 44_100, 4, 22_311),
      uint32Chunk("fact", 22_050),
      { id: "data", body: new Uint8Array(11_264) },
    ]);
    // Act
    const { stated } = await walk(bytes);
    // Assess
    expect(stated?.duration).toBe(0.5);
  });

  it("reports an empty data chunk as no audio, with a warning", async () => {
    const bytes = buildRiff([
      fmt(1, 2, 48_000, 24),
      { id: "data", body: new Uint8Array(0) },
      { id: "umid", body: new Uint8Array(24) },
    ]);
    const { stated } = await walk(bytes);
    expect(stated).toEqual({ duration: 0, warnings: ["WAVE: the data chunk is empty"] });
  });

  it("takes an RF64 file's data size from its ds64 chunk", async () => {
    // Prepare
    const ds64 = new Uint8Array(28);
    new DataView(ds64.buffer).setBigUint64(8, BigInt(2 * ONE_SECOND_PCM), true);
    const bytes = buildRiff(
      [
        { id: "ds64", body: ds64 },
        fmt(1, 2, 44_100, 16),
        { id: "data", body: new Uint8Array(2 * ONE_SECOND_PCM), declared: 0xffff_ffff },
      ],
      "RF64",
    );
    // Act
    const { chunks, stated } = await walk(bytes);
    // Assess
    expect(chunks.form).toBe("RF64");
    expect(stated?.duration).toBe(2);
  });

  it.each([0, 0xffff_ffff])(
    "takes a placeholder data size of %i as audio running to the end of the file, in whole frames",
    async (placeholder) => {
      // Prepare: one second of 16-bit stereo, then half a frame a recorder cut off mid-write.
      const bytes = buildRiff([
        fmt(1, 2, 44_100, 16),
        { id: "data", body: new Uint8Array(ONE_SECOND_PCM + 2), declared: placeholder },
      ]);
      // Act
      const { chunks, stated } = await walk(bytes);
      // Assess
      expect(chunks.dataRunsToEnd).toBe(true);
      expect(stated?.duration).toBe(1);
      expect(stated?.warnings).toHaveLength(1);
      expect(stated?.warnings[0]).toMatch(PLACEHOLDER_WARNING);
    },
  );

  it("keeps an empty data chunk empty when a chunk follows its header", async () => {
    // Prepare: the chunk after the empty data fits in the file, so the 0 is a real size.
    const bytes = buildRiff([
      fmt(1, 2, 44_100, 16),
      { id: "data", body: new Uint8Array(0) },
      { id: "LIST", body: new Uint8Array(ONE_SECOND_PCM) },
    ]);
    // Act
    const { chunks, stated } = await walk(bytes);
    // Assess
    expect(chunks.dataRunsToEnd).toBeUndefined();
    expect(stated).toEqual({ duration: 0, warnings: ["WAVE: the data chunk is empty"] });
  });

  it("takes audio that happens to read as a chunk id for audio when its size overruns the file", async () => {
    // Prepare: loud samples whose bytes are printable ASCII, then a size no chunk could have here.
    const audio = new Uint8Array(ONE_SECOND_PCM);
    audio.set(new TextEncoder().encode("pZpZ"));
    new DataView(audio.buffer).setUint32(4, ONE_SECOND_PCM, true);
    const bytes = buildRiff([fmt(1, 2, 44_100, 16), { id: "data", body: audio, declared: 0 }]);
    // Act
    const { stated } = await walk(bytes);
    // Assess
    expect(stated?.duration).toBe(1);
  });

  it("calls a placeholder data chunk with no byte after its header empty", async () => {
    const bytes = buildRiff([fmt(1, 2, 44_100, 16), { id: "data", body: new Uint8Array(0), declared: 0 }]);
    const { stated } = await walk(bytes);
    expect(stated).toEqual({ duration: 0, warnings: ["WAVE: the data chunk is empty"] });
  });

  it("measures a compressed stream by its byte rate when its fact count is a placeholder too", async () => {
    // Prepare: IMA ADPCM at 22300 bytes/s whose writer left both fact and data at 0.
    const bytes = buildRiff([
      fmt(0x11, 1, 44_100, 4, 22_300),
      uint32Chunk("fact", 0),
      { id: "data", body: new Uint8Array(22_300), declared: 0 },
    ]);
    // Act
    const { stated } = await walk(bytes);
    // Assess
    expect(stated?.duration).toBe(1);
    expect(stated?.warnings[0]).toMatch(PLACEHOLDER_WARNING);
  });

  it("reads a ds64 data size over an RF64 placeholder, and the placeholder only without ds64", async () => {
    // Prepare: the same RF64 file with and without its ds64 chunk (renamed out of the way).
    const ds64 = new Uint8Array(28);
    new DataView(ds64.buffer).setBigUint64(8, BigInt(ONE_SECOND_PCM / 2), true);
    const file = (id: string) =>
      buildRiff(
        [
          { id, body: ds64 },
          fmt(1, 2, 44_100, 16),
          { id: "data", body: new Uint8Array(ONE_SECOND_PCM), declared: 0xffff_ffff },
        ],
        "RF64",
      );
    // Act
    const declared = await walk(file("ds64"));
    const missing = await walk(file("JUNK"));
    // Assess
    expect(declared.stated?.duration).toBe(0.5);
    expect(missing.stated?.duration).toBe(1);
    expect(missing.stated?.warnings[0]).toMatch(PLACEHOLDER_WARNING);
  });

  it.each([
    ["no RIFF header", new TextEncoder().encode("not a wave file at all")],
    ["a RIFF file of another form", new TextEncoder().encode("RIFF\x10\0\0\0AVI LIST")],
    ["an empty file", new Uint8Array(0)],
  ])("rejects %s as content", async (_, bytes) => {
    await expect(walk(bytes)).rejects.toBeInstanceOf(ContentError);
  });

  it("gives up on a file of endless tiny chunks instead of reading each", async () => {
    const bytes = buildRiff(Array.from({ length: 2000 }, () => ({ id: "pad ", body: new Uint8Array(2) })));
    await expect(walk(bytes)).rejects.toThrow(/more than 1024 chunks/);
  });

  it("ends the walk with what it found at a truncated or garbled header", async () => {
    const whole = buildRiff([fmt(1, 2, 44_100, 16), { id: "data", body: new Uint8Array(64) }]);
    const garbled = whole.slice();
    garbled.set([0, 1, 2, 3], 12 + 8 + 16);
    for (const bytes of [whole.subarray(0, 12 + 8 + 16 + 5), garbled]) {
      const { chunks, stated } = await walk(bytes);
      expect(chunks.sampleRate).toBe(44_100);
      expect(stated).toBeUndefined();
    }
  });
});

describe("WAVE fallback through extract()", () => {
  const corpusWaves = expectedEntries().filter((entry) => /\.(wav|bwf)$/i.test(entry.name));

  // music-metadata answers a 64-bit RIFF with no format at all; scipy's test-44100Hz-le-1ch-4bytes-rf64.wav
  // is such a file, which `file` calls "MBWF/RF64 audio, mono 44100 Hz".
  it.each(["RF64", "BW64"])("detects a %s file as WAVE and reads its sound from its chunks", async (form) => {
    // Prepare: half a second of stereo PCM whose data size is in its ds64 chunk.
    const ds64 = new Uint8Array(28);
    new DataView(ds64.buffer).setBigUint64(8, BigInt(ONE_SECOND_PCM / 2), true);
    const bytes = buildRiff(
      [
        { id: "ds64", body: ds64 },
        fmt(1, 2, 44_100, 16),
        { id: "data", body: new Uint8Array(ONE_SECOND_PCM / 2), declared: 0xffff_ffff },
      ],
      form,
    );
    // Act
    const result = await extract(new BufferSource(bytes, "broadcast.wav"), { name: "broadcast.wav" });
    // Assess
    expect(result.status).toBe("ok");
    expect(result.format).toMatchObject({
      mime: "audio/wav",
      ext: "wav",
      category: "audio",
      mismatch: false,
    });
    expect(result.media).toMatchObject({ container: "WAVE", sampleRate: 44_100, channels: 2, duration: 0.5 });
  });

  it.each(corpusWaves.map((entry) => [entry.name] as const))(
    "%s: where music-metadata states a duration, the chunk walk states the same",
    async (name) => {
      // Prepare
      const { source, reader, parsed } = await musicMetadataOf(name, "audio/wav", "WAVE");
      try {
        // Act
        const stated = waveDuration(await readWaveChunks(reader), reader.size);
        // Assess
        if (parsed.media?.duration === undefined) expect(name).toBe("musicmetadata-issue-1163.bwf");
        else expect(stated?.duration).toBeCloseTo(parsed.media.duration, 3);
      } finally {
        await source.close();
      }
    },
  );

  it.each(["filetype-fixture.wav", "musicmetadata-riff_adobe_audition.wav"])(
    "%s with its data size zeroed, as a streaming writer leaves it, lasts as long as the original",
    async (name) => {
      // Prepare: the original, and a copy cut just after its audio with the data size set to 0.
      const original = new Uint8Array(readFileSync(corpusFile(name)));
      const dataHeader = dataHeaderAt(original);
      const dataSize = new DataView(original.buffer).getUint32(dataHeader + 4, true);
      const streamed = withDataSize(original.subarray(0, dataHeader + 8 + dataSize), 0);
      // Act
      const expected = await extract(new BufferSource(original, name));
      const result = await extract(new BufferSource(streamed, name));
      // Assess
      expect(result.status).toBe("ok");
      expect(expected.media?.duration).toBeGreaterThan(0);
      expect(result.media?.duration).toBeCloseTo(expected.media?.duration as number, 9);
      expect(result.warnings.some((warning) => PLACEHOLDER_WARNING.test(warning))).toBe(true);
    },
  );

  it("musicmetadata-issue-1163.bwf keeps its empty data chunk: regn, umid, DGDA and ID3 chunks follow it", async () => {
    // Prepare
    const bytes = new Uint8Array(readFileSync(corpusFile("musicmetadata-issue-1163.bwf")));
    // Act
    const result = await extract(new BufferSource(bytes, "musicmetadata-issue-1163.bwf"));
    const { chunks } = await walk(bytes);
    // Assess
    expect(chunks.dataSize).toBe(0);
    expect(chunks.dataRunsToEnd).toBeUndefined();
    expect(result.media?.duration).toBe(0);
    expect(result.warnings).toContain("WAVE: the data chunk is empty");
  });

  it.each([0, 1, 7, 8, 9, 100])(
    "a streamed WAV file cut %i bytes after its data header never throws or hangs",
    async (after) => {
      const original = new Uint8Array(readFileSync(corpusFile("filetype-fixture.wav")));
      const streamed = withDataSize(original, 0);
      const bytes = streamed.subarray(0, dataHeaderAt(streamed) + 8 + after);
      const result = await extract(new BufferSource(bytes, "cut.wav"), { budget: { maxMillis: 2000 } });
      expect(["ok", "partial", "error"]).toContain(result.status);
      if (result.status !== "ok") expect(result.reason).toBeTruthy();
      else expect(result.media?.duration).toBeLessThanOrEqual(after / (22_050 * 4));
      expect(result.durationMs).toBeLessThan(2500);
    },
  );

  it("fills the duration of a WAV file music-metadata leaves without one", async () => {
    // Prepare: music-metadata states no duration for an empty data chunk.
    const bytes = buildRiff([
      { id: "JUNK", body: new Uint8Array(92) },
      fmt(1, 2, 48_000, 24),
      { id: "data", body: new Uint8Array(0) },
      { id: "regn", body: new Uint8Array(92) },
    ]);
    // Act
    const result = await extract(new BufferSource(bytes, "empty.wav"));
    // Assess
    expect(result.status).toBe("ok");
    expect(result.media).toMatchObject({ duration: 0, sampleRate: 48_000, channels: 2 });
    expect(result.warnings).toContain("WAVE: the data chunk is empty");
  });

  it.each([12, 20, 36, 44, 50])("a WAV file cut at %i bytes never throws or hangs", async (cut) => {
    const bytes = buildRiff([
      { id: "JUNK", body: new Uint8Array(10) },
      fmt(1, 2, 44_100, 16),
      { id: "data", body: new Uint8Array(1000) },
    ]).subarray(0, cut);
    const result = await extract(new BufferSource(bytes, "cut.wav"), { budget: { maxMillis: 2000 } });
    expect(["ok", "partial", "error"]).toContain(result.status);
    if (result.status !== "ok") expect(result.reason).toBeTruthy();
    expect(result.durationMs).toBeLessThan(2500);
  });
});

describe("the data chunk overrun warning", () => {
  // music-metadata warns "Data chunk size exceeds file size" when the data chunk is larger
  // than what follows it, which is true of most whole files: it compares after subtracting.
  it.each([
    "filetype-fixture.wav",
    "musicmetadata-alaw.wav",
    "musicmetadata-dvi_adpcm.wav",
    "musicmetadata-mulaw.wav",
    "musicmetadata-riff_adobe_audition.wav",
  ])("is not given for %s, whose chunks all end inside the file", async (name) => {
    const result = await extract(new BufferSource(readFileSync(corpusFile(name)), name), { name });
    expect(result.warnings.filter((warning) => /data chunk/i.test(warning))).toEqual([]);
  });

  it("is given for musicmetadata-odd-list-type.wav, cut to 100 bytes of a 49 MB data chunk", async () => {
    const name = "musicmetadata-odd-list-type.wav";
    const result = await extract(new BufferSource(readFileSync(corpusFile(name)), name), { name });
    expect(result.status).toBe("partial");
    expect(result.reason).toBe("truncated: the file is shorter than its header states");
    expect(result.warnings).toEqual([
      "WAVE: cut short: the data chunk promises 49503120 bytes, the file has 20; duration counts those",
    ]);
  });
});

describe("a WAVE file cut short before the end of its data chunk", () => {
  // [file, bytes kept, duration of the whole sample frames kept (exiftool's figure also counts the headers)]
  it.each([
    ["filetype-fixture.wav", 54_046, (54_002 - (54_002 % 4)) / 88_200],
    ["musicmetadata-riff_adobe_audition.wav", 44_067, (44_021 - (44_021 % 6)) / 288_000],
    ["musicmetadata-alaw.wav", 4456, 4364 / 88_200],
  ] as const)(
    "%s cut to %i bytes lasts as long as the sample frames left",
    async (name, length, expected) => {
      // Act
      const result = await extractCut(name, length);
      // Assess
      expect(result.status).toBe("partial");
      expect(result.media?.duration).toBeCloseTo(expected, 9);
      expect(result.warnings).toContainEqual(
        expect.stringMatching(/^WAVE: cut short: the data chunk promises \d+ bytes, the file has \d+;/),
      );
    },
  );

  it("musicmetadata-dvi_adpcm.wav cut in half: its fact chunk's samples scaled to the ADPCM bytes left", async () => {
    // Prepare: 4410 samples in 5120 bytes of IMA ADPCM; 2513 of them are left.
    const name = "musicmetadata-dvi_adpcm.wav";
    // Act
    const result = await extractCut(name, 2607);
    // Assess
    expect(result.status).toBe("partial");
    expect(result.media?.duration).toBeCloseTo((0.1 * 2513) / 5120, 9);
  });
});
