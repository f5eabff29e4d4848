import { readFileSync, statSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { BlockReader } from "../../src/engine/byte-source/block-reader.js";
import { BufferSource, FileSource } from "../../src/engine/byte-source/byte-source.js";
import { extract } from "../../src/engine/engine.js";
import { readOggEnd } from "../../src/engine/extractors/media/ogg.js";
import { concatBytes } from "../support/bytes.js";
import { corpusFile, expectedEntries } from "../support/corpus.js";
import { extractCorpusFile, extractCut } from "../support/engine.js";

const CUT_REASON = "truncated: the file is shorter than its header states";

// Whole Ogg files of the corpus; filetype-fixture.ogv is the first 256 bytes of a video, and
// musicmetadata-no-last-page.oga, as its name says, lacks its last page.
const corpusOggs = expectedEntries().filter(
  (entry) => /\.(ogg|oga|opus|spx)$/i.test(entry.name) && entry.name !== "musicmetadata-no-last-page.oga",
);

function endOf(bytes: Uint8Array) {
  return readOggEnd(new BlockReader(new BufferSource(bytes), { blockSize: 4096 }));
}

describe("the end of an Ogg file", () => {
  // musicmetadata-audio.vorbis.ogg: its last pages run 3997-17342 (granule 44416), 17342-31072
  // (89408) and 31072-42971 (128180, end of stream).
  const vorbis = new Uint8Array(readFileSync(corpusFile("musicmetadata-audio.vorbis.ogg")));

  it("is the last page's granule position, and no cut, for a whole file", async () => {
    expect(await endOf(vorbis)).toEqual({ granule: 128_180n });
  });

  it("is the last whole page's granule position when the file ends inside a page", async () => {
    expect(await endOf(vorbis.subarray(0, 38_000))).toEqual({ granule: 89_408n, cut: "inside a page" });
    // Cut inside the next page's header, then inside its segment table.
    expect(await endOf(vorbis.subarray(0, 31_080))).toEqual({ granule: 89_408n, cut: "inside a page" });
    expect(await endOf(vorbis.subarray(0, 31_100))).toEqual({ granule: 89_408n, cut: "inside a page" });
  });

  it("says the file is cut when its last page, whole, does not end the stream", async () => {
    expect(await endOf(vorbis.subarray(0, 31_072))).toEqual({
      granule: 89_408n,
      cut: "without an end-of-stream page",
    });
  });

  it("passes over bytes after the last page, as an appended ID3v1 tag", async () => {
    const tagged = concatBytes(vorbis, "TAG", new Uint8Array(125));
    expect(await endOf(tagged)).toEqual({ granule: 128_180n });
  });
});

describe("an Ogg file cut short", () => {
  it.each([
    // [file, bytes kept, duration of the whole pages left]
    ["musicmetadata-audio.vorbis.ogg", 38_673, 89_408 / 44_100],
    ["musicmetadata-audio.vorbis.ogg", 21_485, 44_416 / 44_100],
    ["musicmetadata-audio.opus.ogg", 30_000, (96_000 - 312) / 48_000],
    ["filetype-fixture.opus", 5_643, (96_000 - 312) / 48_000],
    ["musicmetadata-audio.speex.ogg", 10_493, 63_651 / 32_000],
  ] as const)("%s cut to %i bytes lasts until its last whole page", async (name, length, duration) => {
    // Act
    const result = await extractCut(name, length);

    // Assess
    expect(result.status).toBe("partial");
    expect(result.reason).toBe(CUT_REASON);
    expect(result.media?.duration).toBeCloseTo(duration, 6);
    expect(result.warnings).toContain(
      "Ogg: cut short: the file ends inside a page; duration counts the whole pages",
    );
    expect(result.bytesRead).toBeLessThanOrEqual(length);
  });

  it.each([
    ["musicmetadata-audio.vorbis.ogg", 10_742],
    ["filetype-fixture.oga", 12_341],
    ["filetype-fixture.opus", 627],
  ] as const)(
    "%s cut to %i bytes, before any whole page of audio, states no duration",
    async (name, length) => {
      const result = await extractCut(name, length);
      expect(result.status).toBe("partial");
      expect(result.reason).toBe(CUT_REASON);
      expect(result.media?.duration).toBeUndefined();
      expect(result.warnings).toContain("Ogg: cut short: the file ends inside a page");
    },
  );

  it.each(["musicmetadata-audio.vorbis.ogg", "musicmetadata-audio.opus.ogg", "filetype-fixture.oga"])(
    "%s cut at a tenth of its length and every tenth after gives the cut as its reason, never the parser's",
    async (name) => {
      const size = statSync(corpusFile(name)).size;
      for (let tenth = 1; tenth < 10; tenth++) {
        const result = await extractCut(name, Math.floor((size * tenth) / 10));
        expect(result.status, `${tenth}/10`).toBe("partial");
        expect(result.reason, `${tenth}/10`).toBe(CUT_REASON);
      }
    },
  );

  it("musicmetadata-no-last-page.oga, whose last page does not end its stream, is partial", async () => {
    // Its last page (12801-13484, granule 270824; pre-skip 104) is whole and lacks the end-of-stream flag.
    const source = await FileSource.open(corpusFile("musicmetadata-no-last-page.oga"));
    const result = await extract(source).finally(() => source.close());
    expect(result.status).toBe("partial");
    expect(result.reason).toBe(CUT_REASON);
    expect(result.media?.duration).toBeCloseTo((270_824 - 104) / 48_000, 6);
    expect(result.warnings).toContain(
      "Ogg: cut short: the file ends without an end-of-stream page; duration counts the whole pages",
    );
  });

  it.each(corpusOggs.map((entry) => [entry.name] as const))(
    "%s, whole, is not taken for a cut file",
    async (name) => {
      const result = await extractCorpusFile(name);
      expect(result.status).toBe("ok");
      expect(result.warnings).toEqual([]);
    },
  );
});
