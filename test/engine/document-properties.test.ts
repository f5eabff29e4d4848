import { describe, expect, it } from "vitest";
import { BufferSource, extract } from "../../src/engine/index.js";
import { MAX_FIELD_CHARS } from "../../src/engine/limits.js";
import {
  buildCfb,
  buildPowerPointStreams,
  buildWorkbookStream,
  fileTimeOf,
  type SummaryProperty,
  summaryInformationStream,
} from "../support/cfb.js";
import { buildZip } from "../support/zip.js";

/**
 * A document's subject and keywords, wherever its format states them: OOXML
 * core properties, ODF meta.xml, a legacy Office file's SummaryInformation,
 * the RTF info group and an EPUB's package document, in files built by hand. exiftool (12.57) reads the same values
 * from files built alike: Subject and Keywords for OOXML, CFB and RTF (but for
 * cp:value children, which it lists apart and without the text beside them),
 * Subject and one Keyword tag per element for ODF, the Subject list for EPUB.
 * A legacy Office file's other SummaryInformation properties are here too
 * (exiftool: Title, Author, LastModifiedBy, CreateDate, ModifyDate, Pages,
 * Words), with DocumentSummaryInformation's slide count (Slides).
 */

function run(bytes: Uint8Array, name: string) {
  return extract(new BufferSource(bytes, name), { name });
}

const CONTENT_TYPES =
  '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">' +
  '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>';

function docx(properties: string): Uint8Array {
  const core =
    '<?xml version="1.0"?><cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" ' +
    `xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>Report</dc:title>${properties}</cp:coreProperties>`;
  return buildZip([
    { name: "[Content_Types].xml", content: CONTENT_TYPES },
    { name: "word/document.xml", content: "<w:document/>" },
    { name: "docProps/core.xml", content: core },
  ]);
}

function odt(meta: string): Uint8Array {
  const xml =
    '<?xml version="1.0"?><office:document-meta xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" ' +
    'xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" xmlns:dc="http://purl.org/dc/elements/1.1/">' +
    `<office:meta><dc:title>Minutes</dc:title>${meta}</office:meta></office:document-meta>`;
  return buildZip([
    { name: "mimetype", content: "application/vnd.oasis.opendocument.text", method: "store" },
    { name: "content.xml", content: "<office:document-content/>" },
    { name: "meta.xml", content: xml },
  ]);
}

function epub(metadata: string): Uint8Array {
  const container =
    '<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">' +
    '<rootfiles><rootfile full-path="content.opf" media-type="application/oebps-package+xml"/></rootfiles></container>';
  const opf =
    '<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" xmlns:dc="http://purl.org/dc/elements/1.1/" ' +
    `version="3.0" unique-identifier="id"><metadata><dc:title>Book</dc:title>${metadata}</metadata></package>`;
  return buildZip([
    { name: "mimetype", content: "application/epub+zip", method: "store" },
    { name: "META-INF/container.xml", content: container },
    { name: "content.opf", content: opf },
  ]);
}

/** An RTF file whose info group holds `info`, in the ANSI code page `codePage`. */
function rtf(info: string, codePage = 1252): Uint8Array {
  const text = `{\\rtf1\\ansi\\ansicpg${codePage}\\deff0{\\fonttbl{\\f0 Arial;}}{\\info{\\title Notes}${info}}\\pard Body\\par}`;
  return new TextEncoder().encode(text);
}

describe("OOXML subject and keywords", () => {
  it("are read from dc:subject and cp:keywords as written", async () => {
    const result = await run(
      docx("<dc:subject>Relatório trimestral</dc:subject><cp:keywords>finance; Q3, résumé</cp:keywords>"),
      "report.docx",
    );
    expect(result.status).toBe("ok");
    expect(result.document).toMatchObject({
      kind: "ooxml",
      title: "Report",
      subject: "Relatório trimestral",
      keywords: "finance; Q3, résumé",
    });
  });

  it.each([
    [
      "text, then a value per language",
      '<cp:keywords xml:lang="en-US">budget plan<cp:value xml:lang="fr-FR">budget</cp:value>' +
        '<cp:value xml:lang="de-DE">Haushalt</cp:value></cp:keywords>',
      "budget plan, budget, Haushalt",
    ],
    [
      "values alone",
      "<cp:keywords><cp:value>one</cp:value><cp:value>two</cp:value></cp:keywords>",
      "one, two",
    ],
  ])("join cp:keywords written as %s", async (_label, keywords, expected) => {
    const result = await run(docx(keywords), "report.docx");
    expect(result.document?.keywords).toBe(expected);
  });

  it.each([
    ["absent", ""],
    ["empty", "<dc:subject/><cp:keywords>  </cp:keywords>"],
  ])("are left out when %s", async (_label, properties) => {
    const result = await run(docx(properties), "report.docx");
    expect(result.status).toBe("ok");
    expect(result.document).toMatchObject({ kind: "ooxml", title: "Report" });
    expect(result.document).not.toHaveProperty("subject");
    expect(result.document).not.toHaveProperty("keywords");
  });
});

describe("OpenDocument subject and keywords", () => {
  it("join every meta:keyword with a comma", async () => {
    const result = await run(
      odt(
        "<dc:subject>Ata da reunião</dc:subject><meta:keyword>budget</meta:keyword>" +
          "<meta:keyword>Köln</meta:keyword><meta:keyword>Haushalt 2024</meta:keyword>",
      ),
      "minutes.odt",
    );
    expect(result.status).toBe("ok");
    expect(result.document).toMatchObject({
      kind: "odf",
      title: "Minutes",
      subject: "Ata da reunião",
      keywords: "budget, Köln, Haushalt 2024",
    });
  });

  it("keep a single keyword as it is", async () => {
    const result = await run(odt("<meta:keyword>solo</meta:keyword>"), "minutes.odt");
    expect(result.document?.keywords).toBe("solo");
  });

  it("are left out when absent", async () => {
    const result = await run(odt(""), "minutes.odt");
    expect(result.document).toMatchObject({ kind: "odf", title: "Minutes" });
    expect(result.document).not.toHaveProperty("subject");
    expect(result.document).not.toHaveProperty("keywords");
  });

  it("are bounded as one field however many keywords there are", async () => {
    const many = Array.from({ length: 500 }, (_, i) => `<meta:keyword>keyword${i}</meta:keyword>`).join("");
    const result = await run(odt(many), "minutes.odt");
    const keywords = result.document?.keywords ?? "";
    expect(keywords.startsWith("keyword0, keyword1, ")).toBe(true);
    expect(keywords).toHaveLength(MAX_FIELD_CHARS + 1);
    expect(keywords.endsWith("…")).toBe(true);
  });
});

/** A Word 97-2003 file whose SummaryInformation holds `properties` in `codePage`. */
function doc(codePage: number | undefined, properties: readonly SummaryProperty[]): Uint8Array {
  return buildCfb([
    { name: "WordDocument", content: new Uint8Array(4096) },
    { name: "\u0005SummaryInformation", content: summaryInformationStream(codePage, properties) },
  ]);
}

const PIDSI_TITLE = 2;
const PIDSI_SUBJECT = 3;
const PIDSI_KEYWORDS = 5;
/** "Отчёт" in Windows-1251, NUL-terminated. */
const REPORT_1251 = Uint8Array.of(0xce, 0xf2, 0xf7, 0xb8, 0xf2, 0);
/** "日本語" in Shift-JIS (code page 932), NUL-terminated. */
const NIHONGO_932 = Uint8Array.of(0x93, 0xfa, 0x96, 0x7b, 0x8c, 0xea, 0);

describe("legacy Office (CFB) subject and keywords", () => {
  it.each([
    ["Windows-1252", 1252, [{ id: PIDSI_SUBJECT, value: "Relatório" }], "Relatório"],
    ["Windows-1251, as bytes", 1251, [{ id: PIDSI_SUBJECT, value: REPORT_1251 }], "Отчёт"],
    ["code page 932 (Shift-JIS), as bytes", 932, [{ id: PIDSI_SUBJECT, value: NIHONGO_932 }], "日本語"],
    ["code page 1200 (UTF-16)", 1200, [{ id: PIDSI_SUBJECT, value: "Отчёт" }], "Отчёт"],
    ["VT_LPWSTR", 1252, [{ id: PIDSI_SUBJECT, value: "Отчёт", wide: true }], "Отчёт"],
    // Windows-1252 as RTF falls back to; exiftool (12.57) decodes such a set as UTF-8 instead.
    ["no code page (Windows-1252)", undefined, [{ id: PIDSI_SUBJECT, value: "Relatório" }], "Relatório"],
  ] as const)("read the subject in %s", async (_label, codePage, properties, subject) => {
    const keywords = { id: PIDSI_KEYWORDS, value: "finance; Q3" };
    const result = await run(doc(codePage, [...properties, keywords]), "report.doc");
    expect(result.status).toBe("ok");
    expect(result.warnings).toEqual([]);
    expect(result.document).toMatchObject({
      kind: "cfb",
      application: "Microsoft Word",
      subject,
      keywords: "finance; Q3",
    });
  });

  it("are left out when the set has neither", async () => {
    const result = await run(doc(1252, [{ id: PIDSI_TITLE, value: "Report" }]), "report.doc");
    expect(result.document).toEqual({
      kind: "cfb",
      application: "Microsoft Word",
      encrypted: false,
      title: "Report",
    });
  });

  it("are left out, with a warning, when the set is damaged, and the rest is kept", async () => {
    const damaged = summaryInformationStream(1252, [{ id: PIDSI_SUBJECT, value: "Lost" }]);
    damaged.writeUInt32LE(0x7fffffff, 52); // the property count
    const bytes = buildCfb([
      { name: "WordDocument", content: new Uint8Array(4096) },
      { name: "\u0005SummaryInformation", content: damaged },
    ]);
    const result = await run(bytes, "report.doc");
    expect(result.document).toEqual({ kind: "cfb", application: "Microsoft Word", encrypted: false });
    expect(result.warnings).toEqual([
      "SummaryInformation property set lists more properties than it holds: document properties not read",
    ]);
  });
});

const PIDSI_AUTHOR = 4;
const PIDSI_LASTAUTHOR = 8;
const PIDSI_CREATE_DTM = 12;
const PIDSI_LASTSAVE_DTM = 13;
const PIDSI_PAGECOUNT = 14;
const PIDSI_WORDCOUNT = 15;
const PIDSI_APPNAME = 18;
const PIDDSI_SLIDECOUNT = 7;

/** Every property the reader maps, as Word writes them (the counts too), and an APPNAME the directory contradicts. */
const EVERY_PROPERTY: readonly SummaryProperty[] = [
  { id: PIDSI_TITLE, value: "Relatório trimestral" },
  { id: PIDSI_AUTHOR, value: "Jürgen Weiß" },
  { id: PIDSI_LASTAUTHOR, value: "Ana" },
  { id: PIDSI_CREATE_DTM, fileTime: fileTimeOf("2017-08-02T09:09:18Z") },
  { id: PIDSI_LASTSAVE_DTM, fileTime: fileTimeOf("2017-08-04T09:27:53Z") },
  { id: PIDSI_PAGECOUNT, i4: 4 },
  { id: PIDSI_WORDCOUNT, i4: 913 },
  { id: PIDSI_APPNAME, value: "Microsoft Word" },
];

const EVERY_FIELD = {
  title: "Relatório trimestral",
  creator: "Jürgen Weiß",
  lastModifiedBy: "Ana",
  created: "2017-08-02T09:09:18Z",
  modified: "2017-08-04T09:27:53Z",
};

function summary(properties: readonly SummaryProperty[]) {
  return { name: "\u0005SummaryInformation", content: summaryInformationStream(1252, properties) };
}

function presentation(properties: readonly SummaryProperty[], slides: readonly SummaryProperty[]) {
  const { currentUser, document } = buildPowerPointStreams([{ document: {} }]);
  return buildCfb([
    { name: "Current User", content: currentUser },
    { name: "PowerPoint Document", content: document },
    summary(properties),
    {
      name: "\u0005DocumentSummaryInformation",
      content: summaryInformationStream(1252, slides, { fmtid: "documentSummary" }),
    },
  ]);
}

describe("legacy Office (CFB) title, authors, dates and counts", () => {
  it("are read from a Word file's SummaryInformation, pages and words with them", async () => {
    const result = await run(doc(1252, EVERY_PROPERTY), "report.doc");
    expect(result.status).toBe("ok");
    expect(result.warnings).toEqual([]);
    expect(result.document).toEqual({
      kind: "cfb",
      application: "Microsoft Word",
      encrypted: false,
      ...EVERY_FIELD,
      pages: 4,
      words: 913,
    });
  });

  it("leave the counts out for a workbook, which Excel does not write, and keep the directory's application", async () => {
    const bytes = buildCfb([
      { name: "Workbook", content: buildWorkbookStream([{ name: "Sheet1", type: "worksheet" }]) },
      summary(EVERY_PROPERTY),
    ]);
    const result = await run(bytes, "book.xls");
    expect(result.warnings).toEqual([]);
    expect(result.format.mime).toBe("application/vnd.ms-excel");
    expect(result.document).toEqual({
      kind: "cfb",
      application: "Microsoft Excel",
      encrypted: false,
      ...EVERY_FIELD,
    });
  });

  it("give a presentation its words and, from DocumentSummaryInformation, its slides, but no pages", async () => {
    const result = await run(presentation(EVERY_PROPERTY, [{ id: PIDDSI_SLIDECOUNT, i4: 12 }]), "deck.ppt");
    expect(result.status).toBe("ok");
    expect(result.warnings).toEqual([]);
    expect(result.document).toEqual({
      kind: "cfb",
      application: "Microsoft PowerPoint",
      encrypted: false,
      ...EVERY_FIELD,
      words: 913,
      slides: 12,
    });
  });

  it("never let APPNAME name a compound file the directory does not show", async () => {
    const bytes = buildCfb([{ name: "Contents", content: "data" }, summary(EVERY_PROPERTY)]);
    const result = await run(bytes, "unknown.bin");
    expect(result.format.mime).toBe("application/x-cfb");
    expect(result.document).toEqual({ kind: "cfb", ...EVERY_FIELD });
  });

  it.each([
    ["zero", 0n, undefined],
    ["a second before 1970", fileTimeOf("1969-12-31T23:59:59Z"), undefined],
    ["1970 itself", fileTimeOf("1970-01-01T00:00:00Z"), "1970-01-01T00:00:00Z"],
    ["a fraction of a second, cut", fileTimeOf("2017-08-02T09:09:18.750Z") + 9_999n, "2017-08-02T09:09:18Z"],
    ["the last second of 9999", fileTimeOf("9999-12-31T23:59:59.999Z") + 9_999n, "9999-12-31T23:59:59Z"],
    ["the year 10000", fileTimeOf("+010000-01-01T00:00:00Z"), undefined],
    ["the largest FILETIME", 0xffff_ffff_ffff_ffffn, undefined],
  ])("read a FILETIME of %s", async (_label, fileTime, expected) => {
    const result = await run(
      doc(1252, [
        { id: PIDSI_CREATE_DTM, fileTime },
        { id: PIDSI_LASTSAVE_DTM, fileTime },
      ]),
      "report.doc",
    );
    expect(result.warnings).toEqual([]);
    expect(result.document?.created).toBe(expected);
    expect(result.document?.modified).toBe(expected);
  });

  it("leave out a property of another type than the set's, a negative count, and keep a zero one", async () => {
    const result = await run(
      doc(1252, [
        { id: PIDSI_TITLE, i4: 7 },
        { id: PIDSI_AUTHOR, fileTime: fileTimeOf("2017-08-02T09:09:18Z") },
        { id: PIDSI_LASTAUTHOR, value: "Ana", wide: true },
        { id: PIDSI_CREATE_DTM, value: "2017-08-02T09:09:18Z" },
        { id: PIDSI_LASTSAVE_DTM, i4: 1_500_000_000 },
        { id: PIDSI_PAGECOUNT, value: "4" },
        { id: PIDSI_WORDCOUNT, i4: -1 },
      ]),
      "report.doc",
    );
    expect(result.warnings).toEqual([]);
    expect(result.document).toEqual({
      kind: "cfb",
      application: "Microsoft Word",
      encrypted: false,
      lastModifiedBy: "Ana",
    });
    const zero = await run(doc(1252, [{ id: PIDSI_PAGECOUNT, i4: 0 }]), "report.doc");
    expect(zero.document?.pages).toBe(0);
  });

  it("clean and bound what the file states", async () => {
    const result = await run(
      doc(1252, [
        { id: PIDSI_TITLE, value: `  ${"x".repeat(MAX_FIELD_CHARS + 100)}` },
        { id: PIDSI_AUTHOR, value: "   " },
        { id: PIDSI_LASTAUTHOR, value: "Ana\0hidden" },
      ]),
      "report.doc",
    );
    expect(result.document?.title).toBe(`${"x".repeat(MAX_FIELD_CHARS)}…`);
    expect(result.document).not.toHaveProperty("creator");
    expect(result.document?.lastModifiedBy).toBe("Ana");
  });

  it("leave the slides out, with a warning, when DocumentSummaryInformation is damaged, and keep the rest", async () => {
    const bytes = presentation([{ id: PIDSI_TITLE, value: "Deck" }], []);
    const damaged = Buffer.from(bytes);
    // The FMTID of the document summary set, wherever buildCfb put the stream.
    const at = damaged.indexOf(Buffer.from("02d5cdd59c2e1b10939708002b2cf9ae", "hex"));
    damaged[at] = 0x03;
    const result = await run(damaged, "deck.ppt");
    expect(result.status).toBe("ok");
    expect(result.document).toEqual({
      kind: "cfb",
      application: "Microsoft PowerPoint",
      encrypted: false,
      title: "Deck",
    });
    expect(result.warnings).toEqual([
      "DocumentSummaryInformation property set begins with another set: slide count not read",
    ]);
  });
});

/**
 * A password-protected .docx, .xlsx or .pptx as Office writes it: a compound
 * file holding the encrypted package and its encryption header, and, unless
 * "encrypt document properties" is on, the property sets in the clear.
 */
function encryptedPackage(...streams: readonly { name: string; content: Uint8Array }[]): Uint8Array {
  return buildCfb([
    { name: "EncryptionInfo", content: new Uint8Array(224) },
    { name: "EncryptedPackage", content: new Uint8Array(8192) },
    ...streams,
  ]);
}

describe("encrypted OOXML (CFB wrapper) properties", () => {
  it("are read from the property sets beside the package, the application and encryption kept", async () => {
    const bytes = encryptedPackage(summary(EVERY_PROPERTY), {
      name: "\u0005DocumentSummaryInformation",
      content: summaryInformationStream(1252, [{ id: PIDDSI_SLIDECOUNT, i4: 12 }], {
        fmtid: "documentSummary",
      }),
    });
    const result = await run(bytes, "deck.pptx");
    expect(result.status).toBe("ok");
    expect(result.warnings).toEqual([]);
    expect(result.format).toMatchObject({ mime: "application/x-cfb", mismatch: false });
    expect(result.document).toEqual({
      kind: "cfb",
      application: "Office Open XML (encrypted)",
      encrypted: true,
      ...EVERY_FIELD,
      pages: 4,
      words: 913,
      slides: 12,
    });
  });

  it("are left out when the wrapper has no property sets", async () => {
    const result = await run(encryptedPackage(), "report.docx");
    expect(result.warnings).toEqual([]);
    expect(result.document).toEqual({
      kind: "cfb",
      application: "Office Open XML (encrypted)",
      encrypted: true,
    });
  });
});

describe("RTF subject and keywords", () => {
  it.each([
    [
      "code page 1252",
      1252,
      "{\\subject Relat\\'f3rio}{\\keywords finan\\'e7as, Q3}",
      "Relatório",
      "finanças, Q3",
    ],
    ["code page 1251", 1251, "{\\subject \\'ce\\'f2\\'f7\\'b8\\'f2}{\\keywords \\'ea\\'e2}", "Отчёт", "кв"],
    [
      "Unicode",
      1252,
      "{\\subject \\u1054?\\u1090?\\u1095?\\u1105?\\u1090?}{\\keywords \\u1082?\\u1074?}",
      "Отчёт",
      "кв",
    ],
  ])("are decoded from %s escapes", async (_label, codePage, info, subject, keywords) => {
    const result = await run(rtf(info, codePage), "notes.rtf");
    expect(result.status).toBe("ok");
    expect(result.document).toMatchObject({ kind: "rtf", title: "Notes", subject, keywords });
  });

  it("are left out when the info group has none", async () => {
    const result = await run(rtf("{\\author Ann}"), "notes.rtf");
    expect(result.document).toMatchObject({ kind: "rtf", title: "Notes", creator: "Ann" });
    expect(result.document).not.toHaveProperty("subject");
    expect(result.document).not.toHaveProperty("keywords");
  });
});

/** `rtf()` with each character of `info` below U+0100 written as the byte of that value, as 8-bit RTF is. */
function rtfBytes(info: string, codePage: number): Uint8Array {
  const text = `{\\rtf1\\ansi\\ansicpg${codePage}\\deff0{\\fonttbl{\\f0 Arial;}}{\\info{\\title Notes}${info}}\\pard Body\\par}`;
  return Uint8Array.from(text, (char) => char.charCodeAt(0));
}

/**
 * RTF text in the code page `\ansicpg` names. Expected text is what
 * TextDecoder reads the bytes as in that code page's encoding (unrtf 0.21.10
 * reads a double-byte code page one byte at a time, so it is no reference).
 */
describe("RTF code pages", () => {
  it.each([
    ["932 (Shift-JIS)", 932, "\\'93\\'fa\\'96\\'7b\\'8c\\'ea", "日本語"],
    ["936 (GBK)", 936, "\\'d6\\'d0\\'ce\\'c4", "中文"],
    ["949 (Korean)", 949, "\\'c7\\'d1\\'b1\\'b9", "한국"],
    ["950 (Big5)", 950, "\\'a4\\'a4\\'a4\\'e5", "中文"],
    ["874 (Thai)", 874, "\\'e4\\'b7\\'c2", "ไทย"],
    ["10000 (Mac Roman)", 10000, "Caf\\'8e cr\\'8fme", "Café crème"],
  ])("decode a subject in code page %s", async (_label, codePage, subject, expected) => {
    const result = await run(rtf(`{\\subject ${subject}}`, codePage), "notes.rtf");
    expect(result.status).toBe("ok");
    expect(result.document).toMatchObject({ kind: "rtf", subject: expected });
  });

  it("decode a double-byte character whose trail byte is written as an escaped or a literal character", async () => {
    // ソフト in Shift-JIS: 83 5C, 83 74, 83 67; the trail bytes are "\\", "t" and "g".
    const result = await run(rtf("{\\subject \\'83\\\\\\'83t\\'83g}", 932), "notes.rtf");
    expect(result.document).toMatchObject({ kind: "rtf", subject: "ソフト" });
  });

  it("decode 8-bit literal text in the code page, not as Windows-1252", async () => {
    const result = await run(rtfBytes("{\\subject \xce\xf2\xf7\xb8\xf2}", 1251), "notes.rtf");
    expect(result.document).toMatchObject({ kind: "rtf", subject: "Отчёт" });
  });

  it.each([
    ["one fallback byte (\\uc1, the default)", "\\u26085?\\u26412?\\u35486?"],
    ["two fallback bytes (\\uc2)", "\\uc2\\u26085\\'93\\'fa\\u26412\\'96\\'7b\\u35486\\'8c\\'ea"],
    ["no fallback (\\uc0)", "\\uc0\\u26085\\u26412\\u35486"],
  ])("skip %s after each \\uN", async (_label, title) => {
    const result = await run(rtf(`{\\subject ${title}}`, 932), "notes.rtf");
    expect(result.document).toMatchObject({ kind: "rtf", subject: "日本語" });
  });

  it.each([
    ["one TextDecoder does not know", 1],
    ["UTF-16, which cannot describe 8-bit text", 1200],
  ])("fall back to Windows-1252 for a code page %s", async (_label, codePage) => {
    const result = await run(rtf("{\\subject Relat\\'f3rio}", codePage), "notes.rtf");
    expect(result.document).toMatchObject({ kind: "rtf", title: "Notes", subject: "Relatório" });
  });
});

/** An RTF file as Word and WordPad write one: `header` control words, a font table of `fonts`, then the info group. */
function rtfWith(header: string, fonts: string, info: string): Uint8Array {
  const text = `{\\rtf1\\ansi${header}{\\fonttbl${fonts}}{\\info${info}}\\pard Body\\par}`;
  return new TextEncoder().encode(text);
}

/**
 * RTF text in the code page of its font's `\fcharsetN`. exiftool (12.57)
 * decodes every `\'hh` in `\ansicpg` alone, one byte at a time, so it reads
 * none of these but the ANSI_CHARSET ones as written.
 */
describe("RTF font character sets", () => {
  it("decode the info text in the default font's charset, not in \\ansicpg", async () => {
    const bytes = rtfWith(
      "\\ansicpg1252\\deff0",
      "{\\f0\\fnil\\fcharset128 MS Mincho;}",
      "{\\title \\'93\\'fa\\'96\\'7b\\'8c\\'ea}",
    );
    const result = await run(bytes, "notes.rtf");
    expect(result.status).toBe("ok");
    expect(result.document).toMatchObject({ kind: "rtf", title: "日本語" });
  });

  it.each([
    ["128 (Shift-JIS)", 128, "\\'93\\'fa\\'96\\'7b", "日本"],
    ["134 (GBK)", 134, "\\'d6\\'d0\\'ce\\'c4", "中文"],
    ["129 (Korean)", 129, "\\'c7\\'d1\\'b1\\'b9", "한국"],
    ["136 (Big5)", 136, "\\'a4\\'a4\\'a4\\'e5", "中文"],
    ["161 (Greek)", 161, "\\'c1\\'e8\\'de\\'ed\\'e1", "Αθήνα"],
    ["162 (Turkish)", 162, "\\'dd\\'fe", "İş"],
    ["177 (Hebrew)", 177, "\\'f9\\'ec\\'e5\\'ed", "שלום"],
    ["178 (Arabic)", 178, "\\'d3\\'e1\\'c7\\'e3", "سلام"],
    ["186 (Baltic)", 186, "\\'d0\\'f4", "Šō"],
    ["204 (Cyrillic)", 204, "\\'ce\\'f2\\'f7\\'b8\\'f2", "Отчёт"],
    ["222 (Thai)", 222, "\\'e4\\'b7\\'c2", "ไทย"],
    ["238 (Central European)", 238, "\\'8a\\'9e", "Šž"],
    ["77 (Mac Roman)", 77, "Caf\\'8e", "Café"],
  ])(
    "decode the text of a font of charset %s where the info group switches to it",
    async (_label, charset, escaped, expected) => {
      const bytes = rtfWith(
        "\\ansicpg1252\\deff0",
        `{\\f0\\froman\\fcharset0 Times New Roman;}{\\f1\\fnil\\fcharset${charset} Other;}`,
        `{\\title{\\f1 ${escaped}}}{\\subject \\f1 ${escaped}}`,
      );
      const result = await run(bytes, "notes.rtf");
      expect(result.document).toMatchObject({ kind: "rtf", title: expected, subject: expected });
    },
  );

  it("give the font back when the group that switched it ends", async () => {
    const bytes = rtfWith(
      "\\ansicpg1252\\deff0",
      "{\\f0\\fcharset0 Arial;}{\\f1\\fcharset204 Arial Cyr;}{\\f2\\fcharset128 MS Gothic;}",
      "{\\title Caf\\'e9 {\\f1 \\'ce\\'f2}{\\f2 \\'93\\'fa} cr\\'e8me}",
    );
    const result = await run(bytes, "notes.rtf");
    expect(result.document).toMatchObject({ kind: "rtf", title: "Café От日 crème" });
  });

  it("read a font table written without a group per font, as TextEdit writes it", async () => {
    const bytes = rtfWith(
      "\\ansicpg1252\\deff1",
      "\\f0\\fswiss\\fcharset0 Helvetica;\\f1\\fnil\\fcharset134 STSong;",
      "{\\title \\'d6\\'d0\\'ce\\'c4}",
    );
    const result = await run(bytes, "notes.rtf");
    expect(result.document).toMatchObject({ kind: "rtf", title: "中文" });
  });

  it("prefer a font's \\cpgN to its charset", async () => {
    const bytes = rtfWith(
      "\\ansicpg1252\\deff0",
      "{\\f0\\fcharset0\\cpg1251 Arial;}",
      "{\\title \\'ce\\'f2}",
    );
    const result = await run(bytes, "notes.rtf");
    expect(result.document).toMatchObject({ kind: "rtf", title: "От" });
  });

  it.each([
    // Word writes its info text in \ansicpg beside a Western default font.
    ["0 (ANSI), which names the \\ansicpg page", 0],
    ["1 (the system's default)", 1],
    ["2 (Symbol), which has no code page", 2],
    ["130 (Johab), which has no decoder here", 130],
  ])("decode the text of a font of charset %s in \\ansicpg", async (_label, charset) => {
    const bytes = rtfWith(
      "\\ansicpg1251\\deff0",
      `{\\f0\\froman\\fcharset${charset} Times New Roman;}`,
      "{\\title \\'ce\\'f2\\'f7\\'b8\\'f2}",
    );
    const result = await run(bytes, "notes.rtf");
    expect(result.document).toMatchObject({ kind: "rtf", title: "Отчёт" });
  });
});

/** `\ucN` by RTF's group rules: a group starts with its parent's value and gives it back on `}`. */
describe("RTF Unicode fallback length", () => {
  it.each([
    [
      "two bytes, set in the header as Word writes it",
      "\\ansicpg932\\uc2\\deff0",
      "\\u26085\\'93\\'fa\\u26412\\'96\\'7b",
    ],
    ["none, set in the header", "\\ansicpg932\\uc0\\deff0", "\\u26085\\u26412"],
  ])("carries a fallback of %s into the info group", async (_label, header, title) => {
    const bytes = rtfWith(header, "{\\f0\\fnil\\fcharset128 MS Mincho;}", `{\\title ${title}}`);
    const result = await run(bytes, "notes.rtf");
    expect(result.document).toMatchObject({ kind: "rtf", title: "日本" });
  });

  it("gives the enclosing group's length back when a nested group that changed it ends", async () => {
    const bytes = rtfWith(
      "\\ansicpg932\\uc2\\deff0",
      "{\\f0\\fnil\\fcharset128 MS Mincho;}",
      "{\\title {\\uc1\\u26085?}\\u26412\\'96\\'7b\\u35486\\'8c\\'ea}",
    );
    const result = await run(bytes, "notes.rtf");
    expect(result.document).toMatchObject({ kind: "rtf", title: "日本語" });
  });
});

/**
 * Control words that stand for a character. Expected text is exiftool's
 * (12.57) on the same bytes for the words it knows; `\~`, `\_` and `\-` as
 * RTF 1.9.1 defines them (exiftool keeps their second character).
 */
describe("RTF special characters", () => {
  it("are read as the characters they stand for", async () => {
    const result = await run(
      rtf(
        "{\\subject Bob\\rquote s report \\endash  Q3\\emdash final}" +
          "{\\keywords \\ldblquote quoted\\rdblquote  \\bullet  one\\tab two}" +
          "{\\author Ann\\~Lee}{\\operator x\\_y\\-z}",
      ),
      "notes.rtf",
    );
    expect(result.document).toMatchObject({
      kind: "rtf",
      subject: "Bob\u2019s report \u2013 Q3\u2014final",
      keywords: "\u201cquoted\u201d \u2022 one\ttwo",
      creator: "Ann\u00a0Lee",
      lastModifiedBy: "x\u2011yz",
    });
  });

  it("are skipped as the fallback of a \\uN, as a \\'hh byte is", async () => {
    const result = await run(rtf("{\\subject It\\u8217\\rquote s \\u8212\\'97 here}"), "notes.rtf");
    expect(result.document).toMatchObject({ kind: "rtf", subject: "It\u2019s \u2014 here" });
  });
});

describe("RTF without \\ansicpg", () => {
  it.each([
    // exiftool (12.57) on the same bytes: Title "Café crème", Author "René".
    ["\\mac, as Mac Roman", "\\mac", "Café crème", "René"],
    ["\\ansi, as Windows-1252", "\\ansi", "Caf\u017d cr\u008fme", "Ren\u017d"],
  ])("reads its bytes in the set the header names: %s", async (_label, charset, title, creator) => {
    const text = `{\\rtf1${charset}\\deff0{\\fonttbl{\\f0 Geneva;}}{\\info{\\title Caf\\'8e cr\\'8fme}{\\author Ren\\'8e}}\\pard Body\\par}`;
    const result = await run(new TextEncoder().encode(text), "notes.rtf");
    expect(result.document).toEqual({ kind: "rtf", title, creator });
  });
});

describe("RTF field cut off by the end of the head", () => {
  it("is left out, the fields before it kept", async () => {
    const cut = `{\\rtf1\\ansi{\\info{\\author Ann}{\\title ${"\\u26085?".repeat(2000)}`;
    const result = await run(new TextEncoder().encode(cut), "notes.rtf");
    expect(result.status).toBe("ok");
    expect(result.document).toEqual({ kind: "rtf", creator: "Ann" });
  });
});

describe("RTF group nesting", () => {
  it("is followed to a bounded depth: an info group nested deeper is not read, and nothing throws", async () => {
    const nested = (depth: number) =>
      new TextEncoder().encode(
        `{\\rtf1\\ansi${"{".repeat(depth)}{\\info{\\title Deep}}${"}".repeat(depth)}}`,
      );
    const shallow = await run(nested(200), "notes.rtf");
    expect(shallow.document).toEqual({ kind: "rtf", title: "Deep" });
    const deep = await run(nested(10_000), "notes.rtf");
    expect(deep.status).toBe("ok");
    expect(deep.document).toEqual({ kind: "rtf" });
  });
});

describe("EPUB subjects", () => {
  it("join every dc:subject with a comma", async () => {
    const result = await run(
      epub("<dc:subject>Ficção</dc:subject><dc:subject>Whales</dc:subject>"),
      "book.epub",
    );
    expect(result.status).toBe("ok");
    expect(result.document).toMatchObject({ kind: "epub", title: "Book", subject: "Ficção, Whales" });
    expect(result.document).not.toHaveProperty("keywords");
  });

  it("are left out when absent", async () => {
    const result = await run(epub(""), "book.epub");
    expect(result.document).toMatchObject({ kind: "epub", title: "Book" });
    expect(result.document).not.toHaveProperty("subject");
  });
});
