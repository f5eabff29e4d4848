import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { BlockReader } from "../../src/engine/byte-source/block-reader.js";
import { BufferSource } from "../../src/engine/byte-source/byte-source.js";
import { extract } from "../../src/engine/engine.js";
import { mediaDataShortfall } from "../../src/engine/extractors/media/iso-bmff.js";
import { concatBytes } from "../support/bytes.js";
import { corpusFile, expectedEntries } from "../support/corpus.js";
import { extractCorpusFile, extractCut } from "../support/engine.js";

const corpusMovies = expectedEntries().filter((entry) => /\.(mp4|m4a|mov|3gp)$/i.test(entry.name));

/** A box of `type` around `body`, or declaring `declared` bytes of body where it should differ. */
function box(type: string, body: Uint8Array, declared = body.byteLength): Uint8Array {
  const size = new Uint8Array(4);
  new DataView(size.buffer).setUint32(0, declared + 8);
  return concatBytes(size, type, body);
}

async function walkOf(bytes: Uint8Array) {
  const reader = new BlockReader(new BufferSource(bytes), { blockSize: 4096 });
  return mediaDataShortfall(reader, 100_000);
}

async function shortfallOf(bytes: Uint8Array) {
  return (await walkOf(bytes)).shortfall;
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

  it("counts the mdat bytes a whole movie holds, over all its mdat boxes, for its average bitrate", async () => {
    const bytes = concatBytes(
      box("ftyp", new Uint8Array(20)),
      box("mdat", new Uint8Array(500)),
      box("moov", new Uint8Array(100)),
      box("mdat", new Uint8Array(300)),
    );
    expect(await walkOf(bytes)).toEqual({ mediaData: 800 });
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

  it.each([
    ["filetype-fixture-imovie.mp4", 6_504_973],
    ["filetype-fixture2.3gp", 64_573],
  ])("%s cut in half keeps the whole movie's average bitrate, %i", async (name, avgBitrate) => {
    // Prepare
    const full = await extractCorpusFile(name);
    // Act
    const result = await extractCut(name, Math.floor(full.size / 2));
    // Assess: the mdat bytes left over the duration they last, give or take rounding.
    expect(full.media?.bitrate).toBe(avgBitrate);
    expect(Math.abs((result.media?.bitrate ?? 0) - avgBitrate)).toBeLessThanOrEqual(1);
  });

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

/**
 * filetype-fixture-imovie.mp4 (ftyp, moov, wide, mdat) rebuilt with `padding`
 * empty `free` boxes after its ftyp and its moov moved to the end of the file,
 * as a fragmented movie with many moof/mdat pairs puts its moov after them.
 */
function movieWithMoovLast(padding: number): Uint8Array {
  const fixture = readFileSync(corpusFile("filetype-fixture-imovie.mp4"));
  const ftyp = fixture.subarray(0, 28);
  const moov = fixture.subarray(28, 1275);
  const rest = fixture.subarray(1275);
  expect([ftyp, moov, rest].map((part) => part.toString("latin1", 4, 8))).toEqual(["ftyp", "moov", "wide"]);
  const free = Array.from({ length: padding }, () => box("free", new Uint8Array()));
  return concatBytes(ftyp, ...free, rest, moov);
}

describe("an MP4 whose moov follows more than a thousand top-level boxes", () => {
  const movie = movieWithMoovLast(1500);

  it("reads the moov past them: picture size and frame rate, as in the original", async () => {
    // Prepare
    const original = await extractCorpusFile("filetype-fixture-imovie.mp4");
    // Act
    const result = await extract(new BufferSource(movie, "moov-last.mp4"), { name: "moov-last.mp4" });
    // Assess
    expect(result.status).toBe("ok");
    expect(result.warnings).toEqual([]);
    expect(result.limit).toBeUndefined();
    expect(result.media?.width).toBe(original.media?.width);
    expect(result.media?.height).toBe(original.media?.height);
    expect(result.media?.frameRate).toBe(original.media?.frameRate);
    expect(result.media?.width).toBeGreaterThan(0);
  });

  it("says so, and names the entry budget, when the budget ends the box listing before the moov", async () => {
    const result = await extract(new BufferSource(movie, "moov-last.mp4"), {
      name: "moov-last.mp4",
      budget: { maxEntries: 1000 },
    });
    expect(result.status).toBe("ok");
    expect(result.limit).toBe("entries");
    // The thousand boxes walked are the ftyp and 999 empty free boxes.
    expect(result.warnings).toEqual([
      `ISO-BMFF: box listing stopped at byte ${28 + 999 * 8} of ${movie.byteLength}: entry budget of 1000 boxes reached; boxes past it were not looked at`,
    ]);
    expect(result.media?.frameRate).toBeUndefined();
  });
});
