import { describe, expect, it } from "vitest";
import { CRC32_TABLE, crc32, tableCrc } from "../../src/engine/crc.js";
import { BufferSource, extract } from "../../src/engine/index.js";
import { textDecoder } from "../../src/engine/text-decoder.js";
import { buildCfb, summaryInformationStream } from "../support/cfb.js";
import { buildZip } from "../support/zip.js";

const ascii = (text: string) => new TextEncoder().encode(text);

/** "Café München £5" in code page 437 (and 850, which agrees on these letters): é 0x82, ü 0x81, £ 0x9C. */
const CAFE_437 = Uint8Array.of(...ascii("Caf"), 0x82, ...ascii(" M"), 0x81, ...ascii("nchen "), 0x9c, 0x35);
const CAFE = "Café München £5";

describe("the DOS code pages 437, 850 and 855", () => {
  it.each([
    // Each byte's character from Unicode's mapping tables (MAPPINGS/VENDORS/MICSFT/PC/CP437.TXT, CP850.TXT, CP855.TXT).
    ["ibm437", [0x80, 0x9b, 0x9e, 0xb0, 0xc9, 0xe1, 0xe3, 0xf8, 0xfe, 0xff], "Ç¢₧░╔ßπ°■\u00a0"],
    ["ibm850", [0x80, 0x9b, 0x9e, 0xb0, 0xc9, 0xe1, 0xe3, 0xf0, 0xfe, 0xff], "Çø×░╔ßÒ\u00ad■\u00a0"],
    ["ibm855", [0x80, 0x8b, 0xa0, 0xb9, 0xc9, 0xe1, 0xef, 0xf0, 0xfe, 0xff], "ђІа╣╔р№\u00ad■\u00a0"],
  ])("%s decodes the upper half by its table and the lower half as ASCII", (label, upper, expected) => {
    // Act
    const decoder = textDecoder(label);

    // Assess
    expect(decoder.decode(Uint8Array.from(upper))).toBe(expected);
    expect(decoder.decode(ascii("plain name.txt"))).toBe("plain name.txt");
    expect(decoder.encoding).toBe(label);
  });

  it("gives every byte one character, so a name never loses a byte", () => {
    for (const label of ["IBM437", "ibm850", "ibm855"]) {
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

/** An Info-ZIP Unicode Path extra field (APPNOTE 4.6.9): version 1, the CRC-32 of the legacy name, the UTF-8 name. */
function unicodePathField(legacy: Uint8Array, name: string, crc = crc32(legacy)): Uint8Array {
  const utf8 = Buffer.from(name, "utf8");
  const field = Buffer.alloc(9 + utf8.byteLength);
  field.writeUInt16LE(0x7075, 0);
  field.writeUInt16LE(5 + utf8.byteLength, 2);
  field.writeUInt8(1, 4);
  field.writeUInt32LE(crc, 5);
  utf8.copy(field, 9);
  return field;
}

async function sampleOf(zip: Uint8Array): Promise<readonly string[] | undefined> {
  const result = await extract(new BufferSource(zip, "names.zip"), { name: "names.zip" });
  expect(result.status).toBe("ok");
  return result.archive?.sample;
}

describe("ZIP entry names without the UTF-8 flag", () => {
  it("reads a name that is not UTF-8 as CP437, as the spec says and Windows' compressed folders write it", async () => {
    // Arrange: Python's zipfile lists this entry as "Café München £5.txt" too.
    const zip = buildZip(
      [{ name: "", nameBytes: Uint8Array.of(...CAFE_437, ...ascii(".txt")), content: "x" }],
      {
        utf8: false,
      },
    );

    // Act / Assess
    expect(await sampleOf(zip)).toEqual([`${CAFE}.txt`]);
  });

  it("reads a name that is valid UTF-8 as UTF-8, as Info-ZIP's zip on Linux and macOS write it without the flag", async () => {
    // `zip` 3.0 in a UTF-8 locale stores "café.txt" so; bsdtar lists it as "café.txt".
    const zip = buildZip([{ name: "café.txt", content: "x" }], { utf8: false });
    expect(await sampleOf(zip)).toEqual(["café.txt"]);
  });

  it("takes the Unicode Path field's name when its CRC is the legacy name's, as WinZip writes it", async () => {
    // Arrange: the legacy name holds "?" where CP437 has no character for the letters.
    const legacy = ascii("??.txt");
    const zip = buildZip(
      [{ name: "", nameBytes: legacy, centralExtra: unicodePathField(legacy, "日本.txt"), content: "x" }],
      { utf8: false },
    );

    // Act / Assess
    expect(await sampleOf(zip)).toEqual(["日本.txt"]);
  });

  it("keeps the legacy name when the Unicode Path field is stale, left by a tool that renamed the entry", async () => {
    const legacy = ascii("renamed.txt");
    const stale = unicodePathField(legacy, "original.txt", crc32(ascii("original.txt")));
    const zip = buildZip([{ name: "", nameBytes: legacy, centralExtra: stale, content: "x" }], {
      utf8: false,
    });
    expect(await sampleOf(zip)).toEqual(["renamed.txt"]);
  });

  it("keeps the legacy name when the field is cut short or its name is not UTF-8", async () => {
    // Arrange
    const kept = ascii("kept.txt");
    const short = Uint8Array.of(0x75, 0x70, 3, 0, 1, 0, 0);
    const also = ascii("also.txt");
    const notUtf8 = unicodePathField(also, "x");
    notUtf8[9] = 0xff;
    const zip = buildZip(
      [
        { name: "", nameBytes: kept, centralExtra: short, content: "x" },
        { name: "", nameBytes: also, centralExtra: notUtf8, content: "y" },
      ],
      { utf8: false },
    );

    // Act / Assess
    expect(await sampleOf(zip)).toEqual(["kept.txt", "also.txt"]);
  });

  it("ignores the field where the UTF-8 flag is set, since the name is UTF-8 already", async () => {
    const legacy = ascii("flagged.txt");
    const zip = buildZip([
      { name: "flagged.txt", centralExtra: unicodePathField(legacy, "other.txt"), content: "x" },
    ]);
    expect(await sampleOf(zip)).toEqual(["flagged.txt"]);
  });
});

describe("CRC-32 of a name", () => {
  it.each([
    ["", 0],
    ["123456789", 0xcbf43926], // the CRC catalogue's check value for CRC-32/ISO-HDLC
    ["hello world", 0x0d4a1185],
  ])("of %j is the same by zlib and by table", (text, expected) => {
    expect(crc32(ascii(text))).toBe(expected);
    expect(tableCrc(CRC32_TABLE, ascii(text))).toBe(expected);
  });
});
