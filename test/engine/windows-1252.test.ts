import { describe, expect, it } from "vitest";
import { BufferSource, extract } from "../../src/engine/index.js";
import { textDecoder } from "../../src/engine/text-decoder.js";
import { buildCfb, summaryInformationStream } from "../support/cfb.js";

/** WHATWG index-windows-1252 for 0x80-0x9F (the five bytes it leaves as controls: 0x81, 0x8D, 0x8F, 0x90, 0x9D). */
const C1 =
  "\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f" +
  "\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178";

/** Every byte value once, in order. */
const ALL_BYTES = Uint8Array.from({ length: 256 }, (_, i) => i);

describe("windows-1252 decoding", () => {
  it.each(["windows-1252", "cp1252", "latin1", "iso-8859-1", "ascii", "us-ascii"])(
    "%s decodes every byte as the Encoding Standard says, whatever the Node.js version",
    (label) => {
      // Act
      const text = textDecoder(label).decode(ALL_BYTES);

      // Assess: Latin-1 but for 0x80-0x9F, which carry the euro sign, quotes, dashes and letters.
      const expected = [...ALL_BYTES].map((byte) =>
        byte >= 0x80 && byte < 0xa0 ? C1[byte - 0x80] : String.fromCharCode(byte),
      );
      expect([...text]).toEqual(expected);
      expect(textDecoder(label).encoding).toBe("windows-1252");
    },
  );

  it("decodes long text in pieces and answers for views into a larger buffer", () => {
    const bytes = new Uint8Array(20_000).fill(0x93);
    const view = new Uint8Array(bytes.buffer, 10, 19_990);
    expect(textDecoder("windows-1252").decode(view)).toBe("\u201c".repeat(19_990));
    expect(textDecoder("windows-1252").decode()).toBe("");
  });

  it("leaves other character sets to TextDecoder", () => {
    expect(textDecoder("windows-1251").decode(Uint8Array.of(0xce, 0xf2, 0x80))).toBe("От\u0402");
    expect(() => textDecoder("no-such-set")).toThrow(RangeError);
  });
});

describe("Windows-1252 text in documents", () => {
  // Word and WordPad write "Bob's "Q3" report – €5" so: ’ “ ” – € are 0x92 0x93 0x94 0x96 0x80.
  const EXPECTED = "Bob\u2019s \u201cQ3\u201d report \u2013 \u20ac5";

  it("an RTF field's \\'hh bytes read as exiftool (12.57) reads them", async () => {
    // Arrange
    const rtf =
      "{\\rtf1\\ansi\\ansicpg1252\\deff0{\\fonttbl{\\f0 Arial;}}{\\info{\\title Bob\\'92s \\'93Q3\\'94 report \\'96 \\'805}}\\pard Body\\par}";

    // Act
    const result = await extract(new BufferSource(new TextEncoder().encode(rtf), "q3.rtf"), {
      name: "q3.rtf",
    });

    // Assess
    expect(result.document).toMatchObject({ kind: "rtf", title: EXPECTED });
  });

  it("a legacy Word file's title in code page 1252 reads as exiftool (12.57) reads it", async () => {
    // Arrange
    const title = Uint8Array.of(
      ...new TextEncoder().encode("Bob"),
      0x92,
      ...new TextEncoder().encode("s "),
      0x93,
      ...new TextEncoder().encode("Q3"),
      0x94,
      ...new TextEncoder().encode(" report "),
      0x96,
      0x20,
      0x80,
      0x35,
      0,
    );
    const bytes = buildCfb([
      { name: "WordDocument", content: new Uint8Array(4096) },
      {
        name: "\u0005SummaryInformation",
        content: summaryInformationStream(1252, [{ id: 2, value: title }]),
      },
    ]);

    // Act
    const result = await extract(new BufferSource(bytes, "q3.doc"), { name: "q3.doc" });

    // Assess
    expect(result.document).toMatchObject({ kind: "cfb", application: "Microsoft Word", title: EXPECTED });
  });
});
