import { existsSync, readFileSync } from "node:fs";
import { deflateSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { parseNameTable } from "../../src/engine/extractors/font/name-table.js";
import {
  BufferSource,
  type ExtractionResult,
  extract,
  FileSource,
  type FontInfo,
} from "../../src/engine/index.js";
import { corpusFile } from "../support/corpus.js";
import {
  type FontTables,
  fvarTable,
  maxpTable,
  nameTable,
  os2Table,
  sfnt,
  utf16be,
  windowsNames,
  woff,
  woff2,
} from "../support/font.js";

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
 * What Font Awesome's `name` table says beside its names (IDs 7, 8, 9, 14; it
 * has no licence text, ID 13), as exiftool 12.57 reads it from the TTF and
 * the OTF (Trademark, Manufacturer, Designer, LicenseInfoURL) and fontTools
 * 4.38 from all four (`TTFont(path)["name"].getDebugName(id)`).
 */
const FONT_AWESOME_RIGHTS = {
  copyright: FONT_AWESOME_COPYRIGHT,
  trademark: "Please refer to the Copyright section for the font trademark attribution notices.",
  vendor: "Fort Awesome",
  designer: "Dave Gandy",
  licenseUrl: "http://fontawesome.io/license/",
};

/**
 * OS/2 and maxp as fontTools 4.38 reads them (`font["OS/2"].fsType`,
 * `.achVendID`, `font["maxp"].numGlyphs`; exiftool reads neither table): the
 * TrueType builds say preview & print (fsType 4) and have 557 glyphs, the
 * CFF one installable (0) and 540.
 */
const PREVIEW_AND_PRINT = { usage: "preview-and-print", noSubsetting: false, bitmapOnly: false, fsType: 4 };
const FONT_AWESOME_TRUETYPE = {
  ...FONT_AWESOME,
  fullName: "FontAwesome Regular",
  ...FONT_AWESOME_RIGHTS,
  vendorId: "pyrs",
  embedding: PREVIEW_AND_PRINT,
  glyphs: 557,
};

/**
 * Names verified with `fc-scan --format "%{family} %{style} %{fullname}"`
 * (fontconfig 2.14); version is name ID 5 (fc-scan prints head.fontRevision
 * 262341 = 4.003 instead). The EOT's names are its header's, checked with xxd:
 * that header has no copyright, and the embedded font is not read; its fsType
 * (bytes 32-33, little-endian: 04 00) is the TTF's.
 */
const CORPUS_FONTS = [
  ["filetype-fixture.ttf", "font/ttf", FONT_AWESOME_TRUETYPE],
  [
    "filetype-fixture.otf",
    "font/otf",
    {
      ...FONT_AWESOME,
      fullName: "FontAwesome",
      ...FONT_AWESOME_RIGHTS,
      vendorId: "pyrs",
      embedding: { usage: "installable", noSubsetting: false, bitmapOnly: false, fsType: 0 },
      glyphs: 540,
    },
  ],
  ["filetype-fixture.woff", "font/woff", FONT_AWESOME_TRUETYPE],
  ["filetype-fixture.woff2", "font/woff2", FONT_AWESOME_TRUETYPE],
  [
    "filetype-fixture.eot",
    "application/vnd.ms-fontobject",
    { ...FONT_AWESOME, fullName: "FontAwesome Regular", embedding: PREVIEW_AND_PRINT },
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

  /*
   * exiftool 12.57's Designer, Manufacturer, Trademark and LicenseInfoURL,
   * from `exiftool -j -G1 -a` on the corpus (expected.jsonl does not record
   * them); it reads no WOFF, WOFF2 or EOT names.
   */
  it.each([
    ["filetype-fixture.otf", "designer", "Dave Gandy"],
    ["filetype-fixture.otf", "vendor", "Fort Awesome"],
    ["filetype-fixture.otf", "licenseUrl", "http://fontawesome.io/license/"],
    [
      "filetype-fixture.otf",
      "trademark",
      "Please refer to the Copyright section for the font trademark attribution notices.",
    ],
    ["filetype-fixture.ttf", "designer", "Dave Gandy"],
    ["filetype-fixture.ttf", "vendor", "Fort Awesome"],
    ["filetype-fixture.ttf", "licenseUrl", "http://fontawesome.io/license/"],
    [
      "filetype-fixture.ttf",
      "trademark",
      "Please refer to the Copyright section for the font trademark attribution notices.",
    ],
  ] as const)("%s: %s %j, as exiftool reads it", async (name, field, value) => {
    const result = await extractFile(corpusFile(name));
    expect(result.font?.[field]).toBe(value);
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

describe("font structures", () => {
  it("counts the faces of a collection and names the first", async () => {
    const ttf = new Uint8Array(readFileSync(corpusFile("filetype-fixture.ttf")));
    const result = await extract(new BufferSource(collectionOf(ttf, 3), "fonts.ttc"));
    expect(result.format.mime).toBe("font/collection");
    expect(result.font).toEqual({ ...FONT_AWESOME_TRUETYPE, faces: 3 });
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
      // exiftool's Manufacturer and LicenseInfoURL; fontTools' achVendID, fsType and numGlyphs.
      vendor: "DejaVu fonts team",
      license: expect.any(String),
      licenseUrl: "http://dejavu.sourceforge.net/wiki/index.php/License",
      vendorId: "PfEd",
      embedding: { usage: "installable", noSubsetting: false, bitmapOnly: false, fsType: 0 },
      glyphs: 6196,
    });
    // exiftool's License (`exiftool -b -License`): the whole Bitstream Vera and Arev licence, 4,765 characters.
    const license = result.font?.license ?? "";
    expect(license).toHaveLength(4765);
    expect(
      license.startsWith("Fonts are (c) Bitstream (see below). DejaVu changes are in public domain."),
    ).toBe(true);
    expect(license.endsWith("For further information, contact: tavmjong @ free\n. fr.")).toBe(true);
  });
});

/** The tables of a font that states everything a team shipping it asks about. */
function shippingTables(overrides: FontTables = {}): FontTables {
  return {
    name: windowsNames({
      0: "Copyright 2024 Nobody Type",
      1: "Test Variable",
      2: "Regular",
      7: "Test is a trademark of Nobody Type.",
      8: "Nobody Type",
      9: "A. Designer",
      13: "This Font Software is licensed under the SIL Open Font License, Version 1.1.",
      14: "https://openfontlicense.org",
    }),
    "OS/2": os2Table(0x0108, "NOBD"),
    maxp: maxpTable(3),
    fvar: fvarTable(
      [
        { tag: "wght", min: 100, default: 400, max: 900 },
        { tag: "opsz", min: 8, default: 14.4, max: 144 },
        { tag: "slnt", min: -10, default: 0, max: 0 },
      ],
      5,
    ),
    ...overrides,
  };
}

/**
 * The built variable font as fontTools 4.38 reads it from each of the three
 * containers (`ttx -t fvar` prints the opsz default, 16.16 fixed 0x000E6666,
 * as 14.4).
 */
const SHIPPING_FONT: FontInfo = {
  family: "Test Variable",
  subfamily: "Regular",
  copyright: "Copyright 2024 Nobody Type",
  trademark: "Test is a trademark of Nobody Type.",
  vendor: "Nobody Type",
  designer: "A. Designer",
  license: "This Font Software is licensed under the SIL Open Font License, Version 1.1.",
  licenseUrl: "https://openfontlicense.org",
  vendorId: "NOBD",
  embedding: { usage: "editable", noSubsetting: true, bitmapOnly: false, fsType: 0x0108 },
  glyphs: 3,
  axes: [
    { tag: "wght", min: 100, default: 400, max: 900 },
    { tag: "opsz", min: 8, default: 14.4, max: 144 },
    { tag: "slnt", min: -10, default: 0, max: 0 },
  ],
  instances: 5,
};

describe("what a font says about shipping it", () => {
  it.each([
    ["OpenType", "font/otf", sfnt],
    ["WOFF", "font/woff", woff],
    ["WOFF2", "font/woff2", (tables: FontTables) => woff2(tables)],
  ] as const)(
    "reads licence, vendor, embedding, glyphs and axes from a variable %s font",
    async (_, mime, build) => {
      const result = await extract(new BufferSource(build(shippingTables()), "variable.font"));
      expect(result.format.mime).toBe(mime);
      expect(result.status).toBe("ok");
      expect(result.warnings).toEqual([]);
      expect(result.font).toEqual(SHIPPING_FONT);
    },
  );

  // The OpenType spec's OS/2 fsType: bits 1-3 the usage permission, none of them installable; bit 8 no subsetting, bit 9 bitmaps only.
  it.each([
    ["0x0000", "installable", false, false],
    ["0x0002", "restricted-license", false, false],
    ["0x0004", "preview-and-print", false, false],
    ["0x0008", "editable", false, false],
    ["0x0100", "installable", true, false],
    ["0x0200", "installable", false, true],
    ["0x0302", "restricted-license", true, true],
    ["0x0204", "preview-and-print", false, true],
  ])("fsType %s: %s, no subsetting %s, bitmap only %s", async (hex, usage, noSubsetting, bitmapOnly) => {
    const fsType = Number(hex);
    const font = sfnt(shippingTables({ "OS/2": os2Table(fsType) }));
    const result = await extract(new BufferSource(font, "embedding.otf"));
    expect(result.warnings).toEqual([]);
    expect(result.font?.embedding).toEqual({ usage, noSubsetting, bitmapOnly, fsType });
  });

  it("takes the least restrictive of several usage permissions, and says so", async () => {
    const font = sfnt(shippingTables({ "OS/2": os2Table(0x0006) }));
    const result = await extract(new BufferSource(font, "two-permissions.otf"));
    expect(result.status).toBe("ok");
    expect(result.font?.embedding?.usage).toBe("preview-and-print");
    expect(result.warnings).toEqual([
      "OS/2 fsType 0x0006 sets more than one usage permission; the least restrictive, preview-and-print, applies",
    ]);
    const all = await extract(
      new BufferSource(sfnt(shippingTables({ "OS/2": os2Table(0x000e) })), "all.otf"),
    );
    expect(all.font?.embedding?.usage).toBe("editable");
  });

  it("keeps a licence text whole up to 16,384 characters and cuts a longer one", async () => {
    const clause = "Permission is hereby granted, free of charge, to any person obtaining a copy. ";
    const whole = clause.repeat(64).trim(); // 4,991 characters: more than the 1,024 other names keep
    const long = clause.repeat(256).trim(); // 19,967 characters
    const read = async (license: string) =>
      (
        await extract(
          new BufferSource(sfnt(shippingTables({ name: windowsNames({ 1: "Long", 13: license }) })), "l.otf"),
        )
      ).font?.license;
    expect(await read(whole)).toBe(whole);
    expect(await read(long)).toBe(`${long.slice(0, 16_384)}…`);
  });

  it("has no embedding for a font without an OS/2 table, and no axes for a static one", async () => {
    const { "OS/2": _, fvar: __, ...tables } = shippingTables();
    const result = await extract(new BufferSource(sfnt(tables, 0x00010000), "mac.ttf"));
    expect(result.status).toBe("ok");
    expect(result.warnings).toEqual([]);
    expect(result.font).not.toHaveProperty("embedding");
    expect(result.font).not.toHaveProperty("axes");
    expect(result.font).not.toHaveProperty("instances");
    expect(result.font?.glyphs).toBe(3);
  });

  it("keeps a variable font's instance count when it has no named instances or its axes cannot be read", async () => {
    const none = sfnt(
      shippingTables({ fvar: fvarTable([{ tag: "wght", min: 300, default: 300, max: 700 }], 0) }),
    );
    expect((await extract(new BufferSource(none, "v.otf"))).font).toMatchObject({
      axes: [{ tag: "wght", min: 300, default: 300, max: 700 }],
      instances: 0,
    });
    const fvar = fvarTable([{ tag: "wght", min: 300, default: 300, max: 700 }], 2);
    new DataView(fvar.buffer).setUint16(10, 8); // axisSize shorter than an axis record
    const result = await extract(new BufferSource(sfnt(shippingTables({ fvar })), "v.otf"));
    expect(result.font).not.toHaveProperty("axes");
    expect(result.font?.instances).toBe(2);
    expect(result.warnings).toEqual([
      "fvar table: axis records of 8 bytes, shorter than the 20 an axis takes",
    ]);
  });

  it("keeps the first 64 axes of a font that lists more", async () => {
    const axes = Array.from({ length: 70 }, (_, i) => ({
      tag: `X${String(i).padStart(3, "0")}`,
      min: 0,
      default: 0,
      max: i,
    }));
    const result = await extract(
      new BufferSource(sfnt(shippingTables({ fvar: fvarTable(axes, 0) })), "v.otf"),
    );
    expect(result.font?.axes).toHaveLength(64);
    expect(result.font?.axes?.[63]).toEqual({ tag: "X063", min: 0, default: 0, max: 63 });
    expect(result.warnings).toEqual(["fvar table: 70 axes, the first 64 kept"]);
  });

  it("reads the same names, designer and licence from the Mac platform when there are no Windows ones", () => {
    const mac = (id: number, text: string): [number, number, number, number, Uint8Array] => [
      1,
      0,
      0,
      id,
      new TextEncoder().encode(text),
    ];
    const table = nameTable([
      mac(1, "Mac Family"),
      mac(8, "Mac Foundry"),
      mac(9, "Mac Designer"),
      mac(13, "Mac licence"),
      [3, 1, 0x0409, 9, utf16be("Windows Designer")],
    ]);
    expect(parseNameTable(table)).toEqual({
      family: "Mac Family",
      vendor: "Mac Foundry",
      designer: "Windows Designer",
      license: "Mac licence",
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
    const broken = new Uint8Array(readFileSync(corpusFile("filetype-fixture.woff")));
    const view = new DataView(broken.buffer);
    for (let i = 0; i < view.getUint16(12); i++) {
      const at = 44 + i * 20;
      if (view.getUint32(at) !== 0x6e616d65) continue;
      const offset = view.getUint32(at + 4);
      broken.set(deflateSync(new Uint8Array(8)).subarray(0, 2), offset); // valid zlib header, then garbage
      broken.fill(0xff, offset + 2, offset + 12);
    }
    const result = await extract(new BufferSource(broken, "broken.woff"));
    expect(result.status).toBe("error");
    expect(result.reason).toMatch(/inflate/);
  });

  it("never throws on built fonts cut short or corrupted, in any container", async () => {
    for (const font of [sfnt(shippingTables()), woff(shippingTables()), woff2(shippingTables())]) {
      for (let cut = 1; cut < font.length; cut += 13) {
        const result = await extract(new BufferSource(font.subarray(0, cut), "cut.font"));
        expect(["ok", "partial", "error"]).toContain(result.status);
      }
      for (let i = 4; i < font.length; i += 5) {
        const corrupt = font.slice();
        corrupt[i] = (corrupt[i] as number) ^ 0xff;
        const result = await extract(new BufferSource(corrupt, "corrupt.font"));
        expect(["ok", "partial", "error"]).toContain(result.status);
      }
    }
  });

  it("warns about an OS/2 table too short for fsType and keeps the rest", async () => {
    const font = sfnt(shippingTables({ "OS/2": new Uint8Array(8) }));
    const result = await extract(new BufferSource(font, "short-os2.otf"));
    expect(result.status).toBe("ok");
    expect(result.warnings).toEqual(["OS/2 table: 8 bytes, too short for fsType"]);
    expect(result.font).not.toHaveProperty("embedding");
    expect(result.font).toMatchObject({ family: "Test Variable", glyphs: 3, instances: 5 });
  });

  it("calls a table whose offset is past the end of the file truncated or damaged, not a limit", async () => {
    // Prepare: maxp's offset moved past the end, as a download cut before the table would leave it.
    const font = sfnt(shippingTables());
    const view = new DataView(font.buffer);
    for (let i = 0; i < view.getUint16(4); i++) {
      const at = 12 + i * 16;
      if (view.getUint32(at) === 0x6d617870 /* maxp */) view.setUint32(at + 8, font.length + 1000);
    }
    // Act
    const result = await extract(new BufferSource(font, "maxp-far.otf"));
    // Assess
    expect(result.status).toBe("partial");
    expect(result.reason).toBe(
      `truncated or damaged: maxp table at byte ${font.length + 1000} lies past the end of the file (${font.length} bytes)`,
    );
    expect(result.limit).toBeUndefined();
    expect(result.font).toMatchObject({ family: "Test Variable" });
  });

  it("keeps the names, partial, when a later table lies past the end of the file", async () => {
    const font = sfnt(shippingTables());
    const view = new DataView(font.buffer);
    for (let i = 0; i < view.getUint16(4); i++) {
      const at = 12 + i * 16;
      if (view.getUint32(at) === 0x6d617870 /* maxp */) view.setUint32(at + 8, font.length - 2);
    }
    const result = await extract(new BufferSource(font, "maxp-past-end.otf"));
    expect(result.status).toBe("partial");
    expect(result.reason).toMatch(/maxp table: truncated/);
    expect(result.font).toMatchObject({ family: "Test Variable", license: SHIPPING_FONT.license });
    expect(result.font?.embedding?.usage).toBe("editable");
    expect(result.font).not.toHaveProperty("glyphs");
  });

  it("does not read a WOFF2 table under a transform the format reserves, and says so", async () => {
    const font = woff2(shippingTables(), { name: 1 });
    const result = await extract(new BufferSource(font, "transformed-name.woff2"));
    expect(result.status).toBe("ok");
    expect(result.warnings).toEqual([
      "WOFF2 name table is transformed (version 1): not read",
      "font has no name table",
    ]);
    expect(result.font).not.toHaveProperty("family");
    expect(result.font).toMatchObject({ glyphs: 3, instances: 5, vendorId: "NOBD" });
  });
});

describe("fonts cut short", () => {
  // Each states where its data ends: WOFF and WOFF2 their total length, EOT its EOTSize, an sfnt its table directory.
  it.each([
    ["filetype-fixture.otf", 93888],
    ["filetype-fixture.woff", 71508],
    ["filetype-fixture.woff2", 56780],
    ["filetype-fixture.eot", 60767],
  ])("%s is ok whole and partial, its names kept, when its last bytes are gone", async (file, end) => {
    const bytes = readFileSync(corpusFile(file));
    const whole = await extract(new BufferSource(bytes, file), { name: file });
    expect(whole.status).toBe("ok");
    for (const lost of [1, 100]) {
      const length = bytes.byteLength - lost;
      const cut = await extract(new BufferSource(bytes.subarray(0, length), file), { name: file });
      expect(cut.status).toBe("partial");
      expect(cut.reason).toBe(`truncated: the font's data ends at ${end}, the file has ${length} bytes`);
      expect(cut.font?.family).toBe(whole.font?.family);
    }
  });
});
