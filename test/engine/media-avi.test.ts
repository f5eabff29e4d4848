import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { BlockReader } from "../../src/engine/byte-source/block-reader.js";
import { BufferSource } from "../../src/engine/byte-source/byte-source.js";
import { aviShortfall } from "../../src/engine/extractors/media/avi.js";
import { corpusFile, expectedEntries } from "../support/corpus.js";
import { extractCorpusFile, extractCut } from "../support/engine.js";

const corpusAvis = expectedEntries().filter((entry) => /\.avi$/i.test(entry.name));

// filetype-fixture.avi: hdrl (12-8862), INFO, JUNK, then the movi list at 9920 (42428 bytes after
// its list type, from 9932: one video frame and four audio chunks), then idx1 at 52360, 80 bytes.
const FIXTURE = "filetype-fixture.avi";
const MOVI_DATA = 9932;
const MOVI_BYTES = 42_428;
const WHOLE_DURATION = 0.042;

function shortfallOf(bytes: Uint8Array) {
  return aviShortfall(new BlockReader(new BufferSource(bytes), { blockSize: 4096 }));
}

describe("what a cut AVI file lacks", () => {
  const avi = new Uint8Array(readFileSync(corpusFile(FIXTURE)));

  it("is nothing for the whole file", async () => {
    expect(await shortfallOf(avi)).toBeUndefined();
  });

  it("is frames, with the movi bytes declared and present, when the file ends inside its movi list", async () => {
    expect(await shortfallOf(avi.subarray(0, 30_000))).toEqual({
      lacks: "frames",
      promised: MOVI_BYTES,
      present: 30_000 - MOVI_DATA,
    });
  });

  it("is the index alone when the file ends after its movi list", async () => {
    expect(await shortfallOf(avi.subarray(0, 52_360))).toEqual({
      lacks: "index",
      promised: 52_440,
      present: 52_352,
    });
  });

  it("is every frame when the file ends before its movi list", async () => {
    expect(await shortfallOf(avi.subarray(0, 9_000))).toEqual({ lacks: "frames" });
  });

  it("is nothing when the RIFF size is 0, as a streaming writer leaves it", async () => {
    const streamed = avi.slice(0, 30_000);
    streamed.set([0, 0, 0, 0], 4);
    expect(await shortfallOf(streamed)).toBeUndefined();
  });
});

describe("an AVI file cut short", () => {
  it.each([13_112, 26_224, 39_336, 47_203])(
    "cut to %i bytes, inside its movi list, lasts as long as the movi bytes left",
    async (length) => {
      // Act
      const result = await extractCut(FIXTURE, length);

      // Assess
      const present = length - MOVI_DATA;
      expect(result.status).toBe("partial");
      expect(result.reason).toBe("truncated: the file is shorter than its header states");
      expect(result.media?.duration).toBeCloseTo((WHOLE_DURATION * present) / MOVI_BYTES, 9);
      expect(result.media).toMatchObject({ width: 640, height: 356 });
      expect(result.warnings).toEqual([
        `AVI: cut short: the movi list promises ${MOVI_BYTES} bytes, the file has ${present}; duration counts those`,
      ]);
      expect(result.bytesRead).toBeLessThanOrEqual(length);
    },
  );

  it.each([52_360, 52_400])(
    "cut to %i bytes, inside or before its index, keeps its duration",
    async (length) => {
      const result = await extractCut(FIXTURE, length);
      expect(result.status).toBe("partial");
      expect(result.reason).toBe("truncated: the file is shorter than its header states");
      expect(result.media?.duration).toBe(WHOLE_DURATION);
      expect(result.warnings).toEqual([
        `AVI: cut short: the RIFF list promises 52440 bytes, the file has ${length - 8}; the frames are whole, the index after them is not`,
      ]);
    },
  );

  it.each([24, 5_244, 9_000])("cut to %i bytes, before its movi list, states no duration", async (length) => {
    const result = await extractCut(FIXTURE, length);
    expect(result.status).toBe("partial");
    expect(result.reason).toBe("truncated: the file is shorter than its header states");
    expect(result.media?.duration).toBeUndefined();
    expect(result.warnings).toEqual(["AVI: cut short: the file ends before its movi list; no duration"]);
  });

  it.each(corpusAvis.map((entry) => [entry.name] as const))(
    "%s, whole, is not taken for a cut file",
    async (name) => {
      const result = await extractCorpusFile(name);
      expect(result.status).toBe("ok");
      expect(result.warnings).toEqual([]);
    },
  );
});
