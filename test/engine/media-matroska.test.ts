import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { BlockReader } from "../../src/engine/byte-source/block-reader.js";
import { BufferSource } from "../../src/engine/byte-source/byte-source.js";
import { matroskaShortfall } from "../../src/engine/extractors/media/matroska.js";
import { corpusFile, expectedEntries } from "../support/corpus.js";
import { extractCorpusFile, extractCut } from "../support/engine.js";

// The damaged fixture is an error either way; media.test.ts covers it.
const corpusMatroska = expectedEntries().filter(
  (entry) => /\.(mkv|webm|mka)$/i.test(entry.name) && !entry.name.includes("corrupt"),
);

const CUT_REASON = "truncated: the file is shorter than its header states";

function shortfallOf(bytes: Uint8Array) {
  return matroskaShortfall(new BlockReader(new BufferSource(bytes), { blockSize: 4096 }));
}

// musicmetadata-My_Baby_Boy.webm: TimestampScale 62499 ns; its Segment (data from 48, 12627 bytes)
// holds one Cluster at 5414 (to 12142) whose blocks start at 2560, 5120 and 7680 ticks (the last ends
// at 11709, a BlockGroup follows to 12142), then Cues and Tags (12164 to 12675).
const BOY = "musicmetadata-My_Baby_Boy.webm";
const TICK = 62_499 / 1e9;

describe("what a cut Matroska file lacks", () => {
  const mkv = new Uint8Array(readFileSync(corpusFile("filetype-fixture.mkv")));

  it("is nothing for the whole file", async () => {
    expect(await shortfallOf(mkv)).toBeUndefined();
  });

  it("counts the Segment's bytes and the blocks of the Cluster the file ends inside", async () => {
    // filetype-fixture.mkv: one Cluster (1108 to 38018) with an audio block at 0, a 36 KB video
    // frame at 23 ms (to 37467), then audio blocks at 23 ms (to 37482) and 46 ms (to 37718).
    expect(await shortfallOf(mkv.subarray(0, 37_600))).toEqual({
      element: "Segment",
      promised: 37_988,
      present: 37_600 - 59,
      blocksUntil: 0.023,
    });
  });

  it("counts the last Cluster's bytes when the Segment's size is unknown, from the tail read up front", async () => {
    const live = new Uint8Array(readFileSync(corpusFile(BOY)));
    live.set([0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], 40);
    expect(await shortfallOf(live)).toBeUndefined();
    expect(await shortfallOf(live.subarray(0, 12_000))).toEqual({
      element: "Cluster",
      promised: 6722,
      present: 12_000 - 5420,
      blocksUntil: 7680 * TICK,
    });
  });
});

describe("a Matroska/WebM file cut short", () => {
  it.each([
    [11_407, 2560],
    [12_000, 7680],
  ])(
    "cut to %i bytes, inside its last Cluster, lasts until its last whole block (%i ticks)",
    async (length, ticks) => {
      // Act
      const result = await extractCut(BOY, length);

      // Assess
      expect(result.status).toBe("partial");
      expect(result.reason).toBe(CUT_REASON);
      expect(result.media?.duration).toBeCloseTo(ticks * TICK, 9);
      expect(result.media).toMatchObject({ codecs: ["OPUS"], sampleRate: 16_000 });
      expect(result.warnings).toEqual([
        `Matroska: cut short: the Segment promises 12627 bytes, the file has ${length - 48}; duration runs to the last whole block`,
      ]);
      expect(result.bytesRead).toBeLessThanOrEqual(length);
    },
  );

  it("cut inside a video frame, lasts until the block before it", async () => {
    const result = await extractCut("filetype-fixture.mkv", 20_000);
    expect(result.status).toBe("partial");
    expect(result.media?.duration).toBe(0);
    expect(result.media).toMatchObject({ width: 640, height: 356 });
  });

  it("cut after its last Cluster, inside its Tags, keeps its stated duration", async () => {
    const result = await extractCut(BOY, 12_400);
    expect(result.status).toBe("partial");
    expect(result.reason).toBe(CUT_REASON);
    expect(result.media?.duration).toBeCloseTo(0.506491896, 9);
    expect(result.warnings).toEqual([
      "Matroska: cut short: the Segment promises 12627 bytes, the file has 12352; its clusters are whole",
    ]);
  });

  it.each([1_267, 3_168, 5_000])(
    "cut to %i bytes, before its first Cluster, states no duration",
    async (length) => {
      const result = await extractCut(BOY, length);
      expect(result.status).toBe("partial");
      expect(result.reason).toBe(CUT_REASON);
      expect(result.media?.duration).toBeUndefined();
      expect(result.warnings).toEqual([
        `Matroska: cut short: the Segment promises 12627 bytes, the file has ${length - 48}; no cluster found near its end, so no duration`,
      ]);
    },
  );

  it.each([
    [BOY, 11_900, 12_674],
    ["filetype-fixture.webm", 588, 4_760],
  ])(
    "%s cut anywhere from %i to %i bytes gives the cut as its reason, never the parser's",
    async (name, from, to) => {
      // The parser fails on many of these cuts (an element length past the end, at times a TypeError of its own).
      for (let length = from; length < to; length += 37) {
        const result = await extractCut(name, length);
        expect(result.status, `${length} bytes`).toBe("partial");
        expect(result.reason, `${length} bytes`).toBe(CUT_REASON);
      }
    },
  );

  it.each(corpusMatroska.map((entry) => [entry.name] as const))(
    "%s, whole, is not taken for a cut file",
    async (name) => {
      const result = await extractCorpusFile(name);
      expect(result.status).toBe("ok");
      expect(result.warnings).toEqual([]);
    },
  );
});
