import { describe, expect, it } from "vitest";
import { BufferSource, extract } from "../../src/engine/index.js";
import { textDecoder } from "../../src/engine/text-decoder.js";
import { buildCfb, summaryInformationStream } from "../support/cfb.js";

const ascii = (text: string) => new TextEncoder().encode(text);

/** "Café München £5" in code page 437 (and 850, which agrees on these letters): é 0x82, ü 0x81, £ 0x9C. */
const CAFE_437 = Uint8Array.of(...ascii("Caf"), 0x82, ...ascii(" M"), 0x81, ...ascii("nchen "), 0x9c, 0x35);
const CAFE = "Café München £5";

describe("the DOS code pages 437 and 850", () => {
  it.each([
    // Each byte's character from Unicode's mapping tables (MAPPINGS/VENDORS/MICSFT/PC/CP437.TXT, CP850.TXT).
    ["ibm437", [0x80, 0x9b, 0x9e, 0xb0, 0xc9, 0xe1, 0xe3, 0xf8, 0xfe, 0xff], "Ç¢₧░╔ßπ°■\u00a0"],
    ["ibm850", [0x80, 0x9b, 0x9e, 0xb0, 0xc9, 0xe1, 0xe3, 0xf0, 0xfe, 0xff], "Çø×░╔ßÒ\u00ad■\u00a0"],
  ])("%s decodes the upper half by its table and the lower half as ASCII", (label, upper, expected) => {
    // Act
    const decoder = textDecoder(label);

    // Assess
    expect(decoder.decode(Uint8Array.from(upper))).toBe(expected);
    expect(decoder.decode(ascii("plain name.txt"))).toBe("plain name.txt");
    expect(decoder.encoding).toBe(label);
  });

  it("gives every byte one character, so a name never loses a byte", () => {
    for (const label of ["IBM437", "ibm850"]) {
      const text = textDecoder(label).decode(Uint8Array.from({ length: 256 }, (_, i) => i));
      expect([...text]).toHaveLength(256);
    }
  });

  it("answers for a view into a larger buffer and for no input", () => {
    const bytes = Uint8Array.of(0x41, ...CAFE_437, 0x42);
    expect(textDecoder("ibm437").decode(bytes.subarray(1, bytes.length - 1))).toBe(CAFE);
    expect(textDecoder("ibm437").decode()).toBe("");
  });
});

describe("DOS code pages in documents", () => {
  it.each([
    ["\\pc", "pc.rtf"],
    ["\\pca", "pca.rtf"],
  ])("an RTF whose header says %s reads its fields as exiftool (12.57) reads them", async (charset, name) => {
    // Arrange: no \ansicpg, so the header's character set names the code page.
    const rtf = `{\\rtf1${charset}\\deff0{\\fonttbl{\\f0 Courier;}}{\\info{\\title Caf\\'82 M\\'81nchen \\'9c5}{\\author Jos\\'82 Pe\\'a4a}}\\pard Body\\par}`;

    // Act
    const result = await extract(new BufferSource(ascii(rtf), name), { name });

    // Assess
    expect(result.document).toMatchObject({ kind: "rtf", title: CAFE, creator: "José Peña" });
  });

  it("an RTF's \\ansicpg437 names the same table", async () => {
    const rtf = "{\\rtf1\\ansi\\ansicpg437{\\info{\\title Caf\\'82 M\\'81nchen \\'9c5}}\\pard Body\\par}";
    const result = await extract(new BufferSource(ascii(rtf), "a.rtf"), { name: "a.rtf" });
    expect(result.document).toMatchObject({ kind: "rtf", title: CAFE });
  });

  it("a legacy Word file whose property set states code page 437 reads its title as exiftool (12.57) does", async () => {
    // Arrange
    const bytes = buildCfb([
      { name: "WordDocument", content: new Uint8Array(4096) },
      {
        name: "\u0005SummaryInformation",
        content: summaryInformationStream(437, [{ id: 2, value: Uint8Array.of(...CAFE_437, 0) }]),
      },
    ]);

    // Act
    const result = await extract(new BufferSource(bytes, "cafe.doc"), { name: "cafe.doc" });

    // Assess
    expect(result.document).toMatchObject({ kind: "cfb", title: CAFE });
  });
});
