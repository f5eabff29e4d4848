import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parserReason } from "../../src/engine/extractors/media/extract.js";
import { BufferSource, extract } from "../../src/engine/index.js";
import { corpusFile } from "../support/corpus.js";

describe("reasons from the media parser", () => {
  it.each([
    // Messages music-metadata 11 throws, as they come, and the reason a record gets.
    ["Matroska", new Error("Invalid element length: 323"), "Matroska: Invalid element length: 323"],
    [
      "MP4",
      new Error("Atom size exceeds remaining bytes: 1247 > 672"),
      "truncated or damaged: MP4: Atom size exceeds remaining bytes: 1247 > 672",
    ],
    ["ASF", new Error("Invalid ASF header object size: 0"), "Invalid ASF header object size: 0"],
    [
      "MPEG",
      new Error("ID3v2 tag size 4598 exceeds remaining file size 690"),
      "truncated or damaged: ID3v2 tag size 4598 exceeds remaining file size 690",
    ],
    [
      "Ogg",
      new RangeError("Offset is outside the bounds of the DataView"),
      "truncated or damaged: Ogg: Offset is outside the bounds of the DataView",
    ],
    [
      "Ogg",
      new Error("pageConsumer should be initialized"),
      "Ogg: a page comes before the first page of its stream",
    ],
  ])("names the %s container where the message does not: %s", (container, error, expected) => {
    expect(parserReason(error, container)).toBe(expected);
  });

  it("says in words that an Ogg file's first page does not begin its stream", async () => {
    // Arrange: the first page's "beginning of stream" flag cleared, as a damaged header byte would.
    const opus = new Uint8Array(readFileSync(corpusFile("filetype-fixture.opus")));
    expect(opus[5]).toBe(0x02);
    opus[5] = 0;

    // Act
    const result = await extract(new BufferSource(opus, "voice.opus"), { name: "voice.opus" });

    // Assess
    expect(result.status).toBe("error");
    expect(result.reason).toBe("Ogg: a page comes before the first page of its stream");
  });

  it("calls an MP3 cut inside its ID3v2 tag truncated or damaged, its type still known", async () => {
    // Arrange
    const mp3 = new Uint8Array(readFileSync(corpusFile("musicmetadata-id3v2.3.mp3"))).subarray(0, 700);

    // Act
    const result = await extract(new BufferSource(mp3, "song.mp3"), { name: "song.mp3" });

    // Assess
    expect(result.status).toBe("error");
    expect(result.format).toMatchObject({ mime: "audio/mpeg", category: "audio" });
    expect(result.reason).toMatch(
      /^truncated or damaged: ID3v2 tag size \d+ exceeds remaining file size 690$/,
    );
  });

  it("says music-metadata failed on damaged data where it trips over it, the movie read without it", async () => {
    // Arrange: one byte of the QuickTime fixture's movie header changed, on which the parser throws a TypeError.
    const mov = new Uint8Array(readFileSync(corpusFile("filetype-fixture.mov")));
    mov[2108] = 101;

    // Act
    const result = await extract(new BufferSource(mov, "clip.mov"), { name: "clip.mov" });

    // Assess
    expect(result.status).toBe("ok");
    expect(result.media).toBeDefined();
    expect(result.warnings).toEqual([expect.stringMatching(/^music-metadata failed on damaged data: \S/)]);
  });
});
