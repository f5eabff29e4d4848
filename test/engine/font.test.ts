import { existsSync, readFileSync } from "node:fs";
import { deflateSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { parseNameTable } from "../../src/engine/extractors/font/name-table.js";
import { BufferSource, type ExtractionResult, extract, FileSource } from "../../src/engine/index.js";
import { corpusFile } from "../support/corpus.js";

async function extractFile(path: string): Promise<ExtractionResult> {
  const source = await FileSource.open(path);
  try {
    return await extract(source);
  } finally {
    await source.close();
  }
}

const FONT_AWESOME = { family: "FontAwesome", subfamily: "Regular", version: "Version 4.3.0 2015" };

/** Font Awesome's name ID 0, in every format that keeps the `name` table. */
const FONT_AWESOME_COPYRIGHT = "Copyright Dave Gandy 2015. All rights reserved.";

/**
 * Names verified with `fc-scan --format "%{family} %{style} %{fullname}"`
 * (fontconfig 2.14); version is name ID 5 (fc-scan prints head.fontRevision
 * 262341 = 4.003 instead). The EOT's names are its header's, checked with xxd:
 * that header has no copyright, and the embedded font is not read.
 */
const CORPUS_FONTS = [
  [
    "filetype-fixture.ttf",
    "font/ttf",
    { ...FONT_AWESOME, fullName: "FontAwesome Regular", copyright: FONT_AWESOME_COPYRIGHT },
  ],
  [
    "filetype-fixture.otf",
    "font/otf",
    { ...FONT_AWESOME, fullName: "FontAwesome", copyright: FONT_AWESOME_COPYRIGHT },
  ],
  [
    "filetype-fixture.woff",
    "font/woff",
    { ...FONT_AWESOME, fullName: "FontAwesome Regular", copyright: FONT_AWESOME_COPYRIGHT },
  ],
  [
    "filetype-fixture.woff2",
    "font/woff2",
    { ...FONT_AWESOME, fullName: "FontAwesome Regular", copyright: FONT_AWESOME_COPYRIGHT },
  ],
  [
    "filetype-fixture.eot",
    "application/vnd.ms-fontobject",
    { ...FONT_AWESOME, fullName: "FontAwesome Regular" },
  ],
] as const;

describe("font names over the corpus", () => {
  it.each(CORPUS_FONTS)("%s (%s)", async (name, mime, expected) => {
    const result = await extractFile(corpusFile(name));
    expect(result.format.mime).toBe(mime);
    expect(result.status).toBe("ok");
    expect(result.font).toEqual(expected);
  });

  /*
   * exiftool 12.57's copyright for the fonts it reads, from `exiftool -j -G1 -a
   * -Copyright*` (expected.jsonl does not record the tag). The TTF names its
   * copyright in Windows English only, which exiftool reports as Copyright-en-US.
   */
  it.each([
    ["filetype-fixture.otf", "Copyright Dave Gandy 2015. All rights reserved."],
    ["filetype-fixture.ttf", "Copyright Dave Gandy 2015. All rights reserved."],
  ])("%s: copyright %j, as exiftool reads it", async (name, copyright) => {
    const result = await extractFile(corpusFile(name));
    expect(result.font?.copyright).toBe(copyright);
  });

  it("reports the 5-byte TTC fixture (only its 'ttcf' tag) as truncated, not as a crash", async () => {
    const result = await extractFile(corpusFile("filetype-fixture.ttc"));
    expect(result.format.mime).toBe("font/collection");
    expect(result.status).toBe("error");
    expect(result.reason).toMatch(/shorter|truncated/);
  });

  it("reads a WOFF's name table without fetching the whole font when the font is large", async () => {
    // Pad the fixture's end so the tail window no longer covers the glyph data.
    const woff = readFileSync(corpusFile("filetype-fixture.woff"));
    const padded = new Uint8Array(woff.length + 4 * 1024 * 1024);
    padded.set(woff);
    const result = await extract(new BufferSource(padded, "big.woff"));
    expect(result.font?.family).toBe("FontAwesome");
    expect(result.bytesRead).toBeLessThan(woff.length + 128 * 1024);
  });
});

/** Wraps one sfnt font into a collection of `faces` faces all pointing at it. */
function collectionOf(font: Uint8Array, faces: number): Uint8Array {
  const headerSize = 12 + faces * 4;
  const out = new Uint8Array(headerSize + font.length);
  const view = new DataView(out.buffer);
  out.set([0x74, 0x74, 0x63, 0x66]);
  view.setUint32(4, 0x00010000);
  view.setUint32(8, faces);
  for (let i = 0; i < faces; i++) view.setUint32(12 + i * 4, headerSize);
  out.set(font, headerSize);
  // Table offsets are from the start of the file: shift them past the collection header.
  const tables = view.getUint16(headerSize + 4);
  for (let i = 0; i < tables; i++) {
    const at = headerSize + 12 + i * 16 + 8;
    view.setUint32(at, view.getUint32(at) + headerSize);
  }
  return out;
}

/** A name table with the given records, strings stored as given. */
function nameTable(
  records: ReadonlyArray<
    [platform: number, encoding: number, language: number, id: number, bytes: Uint8Array]
  >,
) {
  const storageStart = 6 + records.length * 12;
  const total = storageStart + records.reduce((sum, record) => sum + record[4].length, 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  view.setUint16(2, records.length);
  view.setUint16(4, storageStart);
  let offset = 0;
  records.forEach(([platform, encoding, language, id, bytes], i) => {
    const at = 6 + i * 12;
    view.setUint16(at, platform);
    view.setUint16(at + 2, encoding);
    view.setUint16(at + 4, language);
    view.setUint16(at + 6, id);
    view.setUint16(at + 8, bytes.length);
    view.setUint16(at + 10, offset);
    out.set(bytes, storageStart + offset);
    offset += bytes.length;
  });
  return out;
}

function utf16be(text: string): Uint8Array {
  const out = new Uint8Array(text.length * 2);
  for (let i = 0; i < text.length; i++) new DataView(out.buffer).setUint16(i * 2, text.charCodeAt(i));
  return out;
}

describe("font structures", () => {
  it("counts the faces of a collection and names the first", async () => {
    const ttf = new Uint8Array(readFileSync(corpusFile("filetype-fixture.ttf")));
    const result = await extract(new BufferSource(collectionOf(ttf, 3), "fonts.ttc"));
    expect(result.format.mime).toBe("font/collection");
    expect(result.font).toEqual({
      ...FONT_AWESOME,
      fullName: "FontAwesome Regular",
      copyright: FONT_AWESOME_COPYRIGHT,
      faces: 3,
    });
  });

  it("prefers Windows English names, then typographic family and subfamily over the legacy ones", () => {
    const table = nameTable([
      [1, 0, 0, 1, new Uint8Array([0x43, 0x61, 0x66, 0x8e])], // Mac Roman "Café"
      [3, 1, 0x040c, 1, utf16be("Famille")],
      [3, 1, 0x0409, 1, utf16be("Family Light")],
      [3, 1, 0x0409, 2, utf16be("Regular")],
      [3, 1, 0x0409, 16, utf16be("Family")],
      [3, 1, 0x0409, 17, utf16be("Light")],
    ]);
    expect(parseNameTable(table)).toEqual({ family: "Family", subfamily: "Light" });
  });

  it("takes the copyright from name ID 0, Windows English first, and none from an empty one", () => {
    const table = nameTable([
      [1, 0, 0, 0, new TextEncoder().encode("(c) Mac")],
      [3, 1, 0x0409, 0, utf16be("\u00a9 2024 Foundry")],
      [3, 1, 0x0409, 1, utf16be("Family")],
    ]);
    expect(parseNameTable(table)).toEqual({ family: "Family", copyright: "\u00a9 2024 Foundry" });
    const blank = nameTable([
      [3, 1, 0x0409, 0, utf16be("  ")],
      [3, 1, 0x0409, 1, utf16be("Family")],
    ]);
    expect(parseNameTable(blank)).toEqual({ family: "Family" });
  });

  it("decodes Mac Roman names when the font has no Windows ones", () => {
    const table = nameTable([
      [1, 0, 0, 1, new Uint8Array([0x43, 0x61, 0x66, 0x8e])],
      [1, 0, 0, 4, new TextEncoder().encode("Cafe Bold")],
    ]);
    expect(parseNameTable(table)).toEqual({ family: "Café", fullName: "Cafe Bold" });
  });

  it("reads system fonts as fc-scan does", async () => {
    const path = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf";
    if (!existsSync(path)) return;
    const result = await extractFile(path);
    expect(result.font).toEqual({
      family: "DejaVu Sans",
      subfamily: "Bold",
      fullName: "DejaVu Sans Bold",
      version: "Version 2.37",
      // exiftool's Copyright, less the final newline every string is trimmed of.
      copyright:
        "Copyright (c) 2003 by Bitstream, Inc. All Rights Reserved.\nCopyright (c) 2006 by Tavmjong Bah. All Rights Reserved.\nDejaVu changes are in public domain",
    });
  });
});

describe("damaged fonts", () => {
  it("never throws and never hangs on fonts cut short or corrupted", async () => {
    for (const [name] of CORPUS_FONTS) {
      const font = new Uint8Array(readFileSync(corpusFile(name)));
      const cuts = [
        1,
        4,
        11,
        12,
        20,
        44,
        48,
        60,
        100,
        300,
        1000,
        5000,
        20_000,
        font.length - 1000,
        font.length - 1,
      ];
      for (const cut of cuts) {
        const result = await extract(new BufferSource(font.subarray(0, cut), name));
        expect(["ok", "partial", "error"]).toContain(result.status);
      }
      for (let i = 4; i < 400; i += 7) {
        const corrupt = font.slice();
        corrupt[i] = (corrupt[i] as number) ^ 0xff;
        const result = await extract(new BufferSource(corrupt, name));
        expect(["ok", "partial", "error"]).toContain(result.status);
      }
    }
  });

  it("reports a WOFF name table that does not inflate as an error", async () => {
    const woff = new Uint8Array(readFileSync(corpusFile("filetype-fixture.woff")));
    const view = new DataView(woff.buffer);
    for (let i = 0; i < view.getUint16(12); i++) {
      const at = 44 + i * 20;
      if (view.getUint32(at) !== 0x6e616d65) continue;
      const offset = view.getUint32(at + 4);
      woff.set(deflateSync(new Uint8Array(8)).subarray(0, 2), offset); // valid zlib header, then garbage
      woff.fill(0xff, offset + 2, offset + 12);
    }
    const result = await extract(new BufferSource(woff, "broken.woff"));
    expect(result.status).toBe("error");
    expect(result.reason).toMatch(/inflate/);
  });
});
