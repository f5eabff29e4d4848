import { describe, expect, it } from "vitest";
import { BlockReader } from "../../src/engine/byte-source/block-reader.js";
import { BufferSource } from "../../src/engine/byte-source/byte-source.js";
import { mediaDataShortfall } from "../../src/engine/extractors/media/iso-bmff.js";
import { concatBytes } from "../support/bytes.js";
import { expectedEntries } from "../support/corpus.js";
import { extractCorpusFile, extractCut } from "../support/engine.js";

const corpusMovies = expectedEntries().filter((entry) => /\.(mp4|m4a|mov|3gp)$/i.test(entry.name));

/** A box of `type` around `body`, or declaring `declared` bytes of body where it should differ. */
function box(type: string, body: Uint8Array, declared = body.byteLength): Uint8Array {
  const size = new Uint8Array(4);
  new DataView(size.buffer).setUint32(0, declared + 8);
  return concatBytes(size, type, body);
}

function shortfallOf(bytes: Uint8Array) {
  return mediaDataShortfall(new BlockReader(new BufferSource(bytes), { blockSize: 4096 }));
}

describe("media data the top-level boxes declare", () => {
  it("counts the mdat bytes declared and those present when the file ends inside one", async () => {
    const bytes = concatBytes(
      box("ftyp", new Uint8Array(20)),
      box("moov", new Uint8Array(100)),
      box("mdat", new Uint8Array(500)),
      box("mdat", new Uint8Array(300), 1000),
    );
    expect(await shortfallOf(bytes)).toEqual({ promised: 1500, present: 800 });
  });

  it("says nothing of a file whose boxes all end inside it", async () => {
    const bytes = concatBytes(box("moov", new Uint8Array(100)), box("mdat", new Uint8Array(500)));
    expect(await shortfallOf(bytes)).toBeUndefined();
  });

  it("stops at a movie fragment: a fragmented movie's moov states no duration to scale", async () => {
    const bytes = concatBytes(
      box("moov", new Uint8Array(100)),
      box("moof", new Uint8Array(50)),
      box("mdat", new Uint8Array(300), 1000),
    );
    expect(await shortfallOf(bytes)).toBeUndefined();
  });
});

describe("an MP4 or QuickTime file whose moov comes first, cut short inside its mdat", () => {
  // [file, where its mdat box starts, its size]: ftyp, moov, (wide or free,) then mdat.
  it.each([
    ["musicmetadata-testcase.m4a", 1216, 9331],
    ["filetype-fixture-imovie.mp4", 1283, 54_207],
    ["filetype-fixture2.3gp", 1880, 78_088],
  ] as const)(
    "%s cut in half lasts its stated duration times the share of mdat bytes left",
    async (name, mdat, size) => {
      // Prepare
      const full = await extractCorpusFile(name);
      const length = Math.floor(full.size / 2);
      const present = length - mdat - 8;
      // Act
      const result = await extractCut(name, length);
      // Assess
      expect(full.status).toBe("ok");
      expect(result.status).toBe("partial");
      expect(result.reason).toBe("truncated: the file is shorter than its header states");
      expect(result.warnings).toEqual([
        `ISO-BMFF: cut short: the mdat box promises ${size - 8} bytes, the file has ${present}; duration counts those`,
      ]);
      expect(result.media?.duration).toBeCloseTo(((full.media?.duration ?? 0) * present) / (size - 8), 9);
      expect(result.bytesRead).toBeLessThanOrEqual(length);
    },
  );

  it("musicmetadata-testcase.m4a cut in half keeps its tags and category", async () => {
    const result = await extractCut("musicmetadata-testcase.m4a", 5273);
    expect(result.format.category).toBe("audio");
    expect(result.media?.tags?.title).toBeDefined();
  });

  it.each(corpusMovies.map((entry) => [entry.name] as const))(
    "%s, whole, is not taken for a cut file",
    async (name) => {
      const result = await extractCorpusFile(name);
      expect(result.warnings.filter((warning) => warning.includes("cut short"))).toEqual([]);
      expect(result.reason ?? "").not.toMatch(/header states/);
    },
  );
});
