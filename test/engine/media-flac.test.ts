import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { BlockReader } from "../../src/engine/byte-source/block-reader.js";
import { BufferSource, FileSource } from "../../src/engine/byte-source/byte-source.js";
import { extract } from "../../src/engine/engine.js";
import {
  flacCommentCountProblem,
  flacShortfall,
  lastFrameFirstSample,
  readFlacStream,
} from "../../src/engine/extractors/media/flac.js";
import { corpusFile, expectedEntries } from "../support/corpus.js";
import { extractCorpusFile, extractCut } from "../support/engine.js";

const corpusFlacs = expectedEntries().filter((entry) => /\.flac$/i.test(entry.name));

async function streamOf(path: string) {
  const source = await FileSource.open(path);
  const reader = new BlockReader(source);
  try {
    const stream = await readFlacStream(reader);
    return {
      stream,
      last: await lastFrameFirstSample(reader, stream),
      shortfall: await flacShortfall(reader, stream),
    };
  } finally {
    await source.close();
  }
}

describe("FLAC frame headers near the end", () => {
  // [file, where the frames start, samples STREAMINFO states, first sample of the last frame]
  it.each([
    ["musicmetadata-testcase.flac", 8282, 44_100, 10 * 4096],
    ["musicmetadata-libFLAC.flac", 86, 220_500, 53 * 4096],
    ["musicmetadata-flac-multiple-album-artists-tags.flac", 8286, 44_100, 9 * 4608],
    ["musicmetadata-test-unknown-duration.flac", 8288, 0, undefined],
  ] as const)(
    "%s: the frames start at %i; of %i samples, the last frame starts at %s",
    async (name, audioStart, totalSamples, lastFirst) => {
      // Act
      const { stream, last, shortfall } = await streamOf(corpusFile(name));
      // Assess
      expect(stream).toMatchObject({ audioStart, totalSamples });
      if (lastFirst !== undefined) expect(last).toBe(lastFirst);
      expect(shortfall).toBeUndefined();
    },
  );
});

describe("a FLAC file cut short before the samples its STREAMINFO states", () => {
  it("musicmetadata-testcase.flac cut in half lasts as long as its whole frames", async () => {
    // Act: 17369 of 34739 bytes; the header of frame 3 (samples from 12288) is the last one left.
    const result = await extractCut("musicmetadata-testcase.flac", 17_369);
    // Assess
    expect(result.status).toBe("partial");
    expect(result.reason).toBe("truncated: the file is shorter than its header states");
    expect(result.media?.duration).toBeCloseTo(12_288 / 44_100, 9);
    expect(result.warnings).toEqual([
      "FLAC: cut short: STREAMINFO promises 44100 samples, the file has 12288; duration counts those",
    ]);
    expect(result.media?.tags?.title).toBeDefined();
  });

  it.each([120, 200, 341, 500, 613, 668])(
    "musicmetadata-libFLAC.flac cut to %i bytes lasts a whole number of 4096-sample frames, fewer than it states",
    async (length) => {
      const result = await extractCut("musicmetadata-libFLAC.flac", length);
      const samples = Math.round((result.media?.duration ?? -1) * 44_100);
      expect(result.status).toBe("partial");
      expect(samples % 4096).toBe(0);
      expect(samples).toBeLessThan(220_500 - 4096);
      expect(samples).toBeLessThanOrEqual((220_500 * (length - 86)) / (682 - 86) + 4096);
    },
  );

  it("a file cut inside its metadata blocks holds no audio", async () => {
    // musicmetadata-flac-multiple-album-artists-tags.flac: 8046 bytes of padding end at 8286.
    const result = await extractCut("musicmetadata-flac-multiple-album-artists-tags.flac", 4214);
    expect(result.status).toBe("partial");
    expect(result.media?.duration).toBe(0);
    expect(result.warnings).toEqual([
      "FLAC: cut short: STREAMINFO promises 44100 samples, the file has 0; duration counts those",
    ]);
  });

  it("a file cut inside its last frame is not told from a whole one", async () => {
    // The last frame of musicmetadata-testcase.flac (3140 samples) starts within its last 2.5 KB.
    const result = await extractCut("musicmetadata-testcase.flac", 34_739 - 100);
    expect(result.status).toBe("ok");
    expect(result.media?.duration).toBe(1);
  });

  it.each(corpusFlacs.map((entry) => [entry.name] as const))(
    "%s, whole, is not taken for a cut file",
    async (name) => {
      const result = await extractCorpusFile(name);
      expect(result.status).toBe("ok");
      expect(result.warnings.filter((warning) => warning.includes("cut short"))).toEqual([]);
    },
  );

  it.each([4, 8, 42, 50, 90, 8282, 8290])(
    "musicmetadata-testcase.flac cut at %i bytes never throws",
    async (cut) => {
      const result = await extractCut("musicmetadata-testcase.flac", cut);
      expect(["ok", "partial", "error"]).toContain(result.status);
      if (result.status !== "ok") expect(result.reason).toBeTruthy();
    },
  );
});

describe("a FLAC file whose VORBIS_COMMENT block states more comments than it holds", () => {
  /** The corpus file with the comment count of its VORBIS_COMMENT block (after a 32-byte vendor string) set. */
  function withCommentCount(count: number): Uint8Array {
    const bytes = new Uint8Array(readFileSync(corpusFile("musicmetadata-testcase.flac")));
    // fLaC, STREAMINFO (4 + 34), then the VORBIS_COMMENT header (4), the vendor's length (4) and its 32 bytes.
    const countAt = 4 + 38 + 4 + 4 + 32;
    expect(bytes[42]).toBe(4);
    new DataView(bytes.buffer).setUint32(countAt, count, true);
    return bytes;
  }

  it("is partial with what STREAMINFO states, and the count as the reason, without parsing the comments", async () => {
    // Act: music-metadata would make an array of 16,777,215 slots (128 MiB) before reading the first.
    const result = await extract(new BufferSource(withCommentCount(0xff_ffff), "damaged.flac"));
    // Assess
    expect(result.status).toBe("partial");
    expect(result.reason).toBe(
      "damaged: FLAC: the VORBIS_COMMENT block states 16777215 comments, more than its 176 bytes can hold",
    );
    expect(result.media).toEqual({
      container: "FLAC",
      codecs: ["FLAC"],
      duration: 1,
      sampleRate: 44_100,
      channels: 1,
    });
  });

  it("is read as usual when the count fits its block, and no corpus FLAC is refused", async () => {
    // 176 bytes: 8 for the two lengths, 32 for the vendor, 136 for 34 comments of 4 bytes at least.
    const fits = await extract(new BufferSource(withCommentCount(34), "fits.flac"));
    expect(fits.reason ?? "").not.toContain("VORBIS_COMMENT");
    for (const entry of corpusFlacs) {
      const source = await FileSource.open(corpusFile(entry.name));
      try {
        expect(await flacCommentCountProblem(new BlockReader(source)), entry.name).toBeUndefined();
      } finally {
        await source.close();
      }
    }
  });
});
