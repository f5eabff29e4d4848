import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  contentTypeOf,
  parseContentTypes,
  typeFromZipEntries,
} from "../../src/engine/detect/zip-container.js";
import { BufferSource, extract } from "../../src/engine/index.js";
import { corpusFile } from "../support/corpus.js";
import { buildZip, type Part } from "../support/zip.js";

/**
 * Office and EPUB packages built by hand in the ZIP layouts writers produce:
 * ZIP64 records, data descriptors, stored and deflated parts, and the paths
 * an EPUB container may name its package document by.
 */

function run(bytes: Uint8Array, name: string) {
  return extract(new BufferSource(bytes, name), { name });
}

function detectOnly(bytes: Uint8Array, name: string, declaredMime?: string) {
  return extract(new BufferSource(bytes, name), {
    name,
    detectOnly: true,
    ...(declaredMime !== undefined && { declaredMime }),
  });
}

const CONTENT_TYPES =
  '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">' +
  '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>';

const CORE =
  '<?xml version="1.0"?><cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" ' +
  'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>Packed</dc:title><dc:creator>Ann</dc:creator></cp:coreProperties>';

function docxParts(options: Partial<Part> = {}, withProperties = true): Part[] {
  const parts: Part[] = [
    { name: "[Content_Types].xml", content: CONTENT_TYPES, ...options },
    { name: "_rels/.rels", content: "<Relationships/>", ...options },
    { name: "word/document.xml", content: "<w:document/>", ...options },
  ];
  if (withProperties) parts.push({ name: "docProps/core.xml", content: CORE, ...options });
  return parts;
}

describe("OOXML packages in other ZIP layouts", () => {
  it.each([
    ["data descriptors", docxParts({ descriptor: true }), {}],
    ["ZIP64 data descriptors", docxParts({ descriptor: true }), { zip64: true }],
    ["stored parts", docxParts({ method: "store" }), {}],
  ] as const)("read their core properties from %s", async (_label, parts, options) => {
    const result = await run(buildZip(parts, options), "packed.docx");
    expect(result.format.mime).toBe(
      "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    );
    expect(result.status).toBe("ok");
    expect(result.warnings).toEqual([]);
    expect(result.document).toEqual({ kind: "ooxml", title: "Packed", creator: "Ann" });
  });

  // file-type cannot walk local headers with ZIP64 sizes and calls the file
  // application/zip; extraction then tells the package from its central directory.
  it("is detected as OOXML with ZIP64 sizes in its local headers", async () => {
    const result = await run(buildZip(docxParts(), { zip64: true }), "packed.docx");
    expect(result.format).toMatchObject({
      mime: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
      ext: "docx",
      category: "document",
      mismatch: false,
    });
    expect(result.warnings).toEqual([]);
    expect(result.document).toEqual({ kind: "ooxml", title: "Packed", creator: "Ann" });
  });

  it("with ZIP64 local headers is named by detection alone, from the directory at its tail", async () => {
    const bytes = buildZip(docxParts(), { zip64: true });
    const result = await detectOnly(bytes, "packed.docx");
    expect(result.format).toMatchObject({
      mime: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
      ext: "docx",
      category: "document",
      mismatch: false,
    });
  });

  it("with a directory longer than detection's bound is named by extraction, which lists it whole", async () => {
    // About 1,500 records of 46 + 40 bytes: more than the 64 KiB detection lists.
    const media = Array.from({ length: 1500 }, (_, i) => ({
      name: `word/media/image-${String(i).padStart(5, "0")}-abcdefghijklmno.png`,
      content: "",
      method: "store" as const,
    }));
    const bytes = buildZip([...docxParts(), ...media], { zip64: true });
    const detected = await detectOnly(bytes, "album.docx");
    const extracted = await run(bytes, "album.docx");
    expect(detected.format.mime).toBe("application/zip");
    expect(detected.bytesRead).toBeLessThanOrEqual(256 * 1024 + 2 * 64 * 1024);
    expect(extracted.format.ext).toBe("docx");
    expect(extracted.document).toEqual({ kind: "ooxml", title: "Packed", creator: "Ann" });
  });

  it("without docProps/ is a valid document with no properties", async () => {
    const result = await run(buildZip(docxParts({}, false)), "bare.docx");
    expect(result.status).toBe("ok");
    expect(result.warnings).toEqual([]);
    expect(result.document).toEqual({ kind: "ooxml" });
  });
});

const ODF_META =
  '<?xml version="1.0"?><office:document-meta xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" ' +
  'xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" xmlns:dc="http://purl.org/dc/elements/1.1/">' +
  "<office:meta><dc:title>Minutes</dc:title><meta:initial-creator>Jürgen</meta:initial-creator>" +
  '<meta:document-statistic meta:page-count="3"/></office:meta></office:document-meta>';

describe("ZIP64 local headers", () => {
  it("leave a plain zip a zip, listed by the archive extractor", async () => {
    const bytes = buildZip(
      [
        { name: "word/notes.txt", content: "not a package: no [Content_Types].xml" },
        { name: "mimetype", content: "text/plain", method: "store" },
      ],
      { zip64: true },
    );
    const result = await run(bytes, "bundle.zip");
    expect(result.format).toMatchObject({ mime: "application/zip", ext: "zip", mismatch: false });
    expect(result.archive).toMatchObject({ kind: "zip", entries: 2 });
    expect(result.document).toBeUndefined();
  });

  it("do not hide an OpenDocument package named by its mimetype entry", async () => {
    const bytes = buildZip(
      [
        { name: "mimetype", content: "application/vnd.oasis.opendocument.text", method: "store" },
        { name: "content.xml", content: "<office:document-content/>" },
        { name: "meta.xml", content: ODF_META },
      ],
      { zip64: true },
    );
    const result = await run(bytes, "minutes.odt");
    expect(result.format).toMatchObject({ mime: "application/vnd.oasis.opendocument.text", ext: "odt" });
    expect(result.document).toMatchObject({ kind: "odf", title: "Minutes", pages: 3 });
  });

  it("still let the declared name be compared with the package found", async () => {
    const result = await run(buildZip(docxParts(), { zip64: true }), "packed.pdf");
    expect(result.format.mime).toBe(
      "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    );
    expect(result.format.mismatch).toBe(true);
    expect(result.format.mismatchReason).toMatch(/extension \.pdf suggests application\/pdf/);
  });
});

describe("OpenDocument meta.xml", () => {
  it.each(["store", "deflate"] as const)("is read when %sd", async (method) => {
    const bytes = buildZip([
      { name: "mimetype", content: "application/vnd.oasis.opendocument.text", method: "store" },
      { name: "content.xml", content: "<office:document-content/>" },
      { name: "meta.xml", content: ODF_META, method },
      { name: "META-INF/manifest.xml", content: "<manifest:manifest/>" },
    ]);
    const result = await run(bytes, "minutes.odt");
    expect(result.format.mime).toBe("application/vnd.oasis.opendocument.text");
    expect(result.warnings).toEqual([]);
    expect(result.document).toMatchObject({ kind: "odf", title: "Minutes", creator: "Jürgen", pages: 3 });
  });
});

const OPF_NS = 'xmlns="http://www.idpf.org/2007/opf" xmlns:dc="http://purl.org/dc/elements/1.1/"';

function container(fullPath: string): string {
  return (
    '<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">' +
    `<rootfiles><rootfile full-path="${fullPath}" media-type="application/oebps-package+xml"/></rootfiles></container>`
  );
}

function opf(metadata: string): string {
  return `<?xml version="1.0"?><package ${OPF_NS} version="3.0" unique-identifier="id"><metadata>${metadata}</metadata></package>`;
}

function epub(fullPath: string, opfName: string, opfXml: string): Uint8Array {
  return buildZip([
    { name: "mimetype", content: "application/epub+zip", method: "store" },
    { name: "META-INF/container.xml", content: container(fullPath) },
    { name: opfName, content: opfXml },
  ]);
}

describe("EPUB package document paths", () => {
  it.each([
    ["a space written as is", "OEBPS/my book.opf", "OEBPS/my book.opf"],
    ["a percent-encoded space", "OEBPS/my%20book.opf", "OEBPS/my book.opf"],
    ["percent-encoded UTF-8", "OEBPS/%E2%82%AC.opf", "OEBPS/€.opf"],
    ["a percent-encoded reserved character", "OEBPS/a%23b.opf", "OEBPS/a#b.opf"],
    ["a percent sign not starting an escape", "OEBPS/100%.opf", "OEBPS/100%.opf"],
    ["a dot segment", "OEBPS/./content.opf", "OEBPS/content.opf"],
    ["a parent segment", "OEBPS/text/../content.opf", "OEBPS/content.opf"],
    ["a parent segment above the root", "../content.opf", "content.opf"],
    ["a leading slash", "/OEBPS/content.opf", "OEBPS/content.opf"],
  ])("find the package document through %s", async (_label, fullPath, entryName) => {
    const bytes = epub(fullPath, entryName, opf("<dc:title>Found</dc:title>"));
    const result = await run(bytes, "book.epub");
    expect(result.format.mime).toBe("application/epub+zip");
    expect(result.status).toBe("ok");
    expect(result.document).toMatchObject({ kind: "epub", title: "Found" });
  });

  it("names a package document that is missing in the error", async () => {
    const result = await run(epub("OEBPS/gone.opf", "OEBPS/other.opf", opf("")), "book.epub");
    expect(result.status).not.toBe("ok");
    expect(result.reason).toMatch(/OEBPS\/gone\.opf/);
  });
});

describe("EPUB 3 title refinements", () => {
  it("take the title refined as the main one, wherever it stands", async () => {
    const metadata =
      '<dc:title id="t0">The Collection</dc:title><dc:title id="t1">Moby-Dick</dc:title>' +
      '<meta refines="#t0" property="title-type">collection</meta>' +
      '<meta refines="#t1" property="title-type">main</meta>' +
      '<meta refines="#t1" property="display-seq">1</meta>';
    const result = await run(epub("content.opf", "content.opf", opf(metadata)), "book.epub");
    expect(result.document).toMatchObject({ kind: "epub", title: "Moby-Dick" });
  });

  it("take the first title when none is refined as main", async () => {
    const metadata =
      '<dc:title id="a">First</dc:title><dc:title id="b">Second</dc:title>' +
      '<meta refines="#b" property="title-type">subtitle</meta>';
    const result = await run(epub("content.opf", "content.opf", opf(metadata)), "book.epub");
    expect(result.document?.title).toBe("First");
  });
});

const XLSB = "application/vnd.ms-excel.sheet.binary.macroEnabled.main";

function typesOf(xml: string) {
  return parseContentTypes(Buffer.from(xml, "utf8"));
}

describe("zip-based formats by entry names", () => {
  it.each([
    [["[Content_Types].xml", "_rels/.rels", "word/document.xml"], undefined, "docx"],
    [["[Content_Types].xml", "ppt/presentation.xml"], undefined, "pptx"],
    [["[Content_Types].xml", "xl/workbook.xml"], undefined, "xlsx"],
    [["[Content_Types].xml", "visio/document.xml"], undefined, "vsdx"],
    // The main part's content type decides over folders; an unknown or unread one leaves them to.
    [
      ["[Content_Types].xml", "xl/workbook.bin"],
      { contentTypes: typesOf(contentTypes("xl/workbook.bin", XLSB)) },
      "xlsb",
    ],
    [
      ["[Content_Types].xml", "word/document.xml"],
      {
        contentTypes: typesOf(
          "<Types><Default Extension='xml' ContentType='application/vnd.ms-word.document.macroEnabled.main+xml'/></Types>",
        ),
      },
      "docm",
    ],
    [
      ["[Content_Types].xml", "word/document.xml"],
      { contentTypes: typesOf(contentTypes("word/document.xml", "application/x-unknown.main+xml")) },
      "docx",
    ],
    [["[Content_Types].xml", "word/document.xml"], { contentTypes: typesOf("not xml") }, "docx"],
    [
      ["[Content_Types].xml", "visio/document.xml"],
      { contentTypes: typesOf(contentTypes("visio/document.xml", VISIO_KINDS[5][0])) },
      "vssm",
    ],
    [["mimetype", "content.xml"], { mimetype: "application/vnd.oasis.opendocument.spreadsheet" }, "ods"],
    [
      ["mimetype", "content.xml"],
      { mimetype: "application/vnd.oasis.opendocument.graphics-template" },
      "otg",
    ],
    [["mimetype", "OEBPS/content.opf"], { mimetype: "application/epub+zip\n" }, "epub"],
    // A folder name alone, or a mimetype entry naming no package format, is a plain zip.
    [["word/document.xml"], undefined, undefined],
    [["[Content_Types].xml", "docs/readme.txt"], undefined, undefined],
    [["mimetype", "a.txt"], { mimetype: "text/plain" }, undefined],
  ] as const)("%j (%j) is %s", (names, texts, ext) => {
    expect(typeFromZipEntries(names, texts)?.ext).toBe(ext);
  });
});

/** `[Content_Types].xml` giving `mainPart` the content type `mainType`, plus `extra` elements. */
function contentTypes(mainPart: string, mainType: string, extra = ""): string {
  return (
    '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">' +
    '<Default Extension="xml" ContentType="application/xml"/>' +
    `<Override PartName="/${mainPart}" ContentType="${mainType}"/>${extra}</Types>`
  );
}

/** A package whose main part `mainPart` has content type `mainType`, with `more` parts after it. */
function ooxml(mainPart: string, mainType: string, more: readonly Part[] = [], extraTypes = ""): Part[] {
  return [
    { name: "[Content_Types].xml", content: contentTypes(mainPart, mainType, extraTypes) },
    { name: "_rels/.rels", content: "<Relationships/>" },
    { name: mainPart, content: "<main/>" },
    ...more,
    { name: "docProps/core.xml", content: CORE },
  ];
}

/** Visio's packages ([MS-VSDX] 2.3.3.3 and its template and stencil variants), as in {@link OOXML_KINDS}. */
const VISIO_KINDS = [
  [
    "application/vnd.ms-visio.drawing.main+xml",
    "visio/document.xml",
    "application/vnd.ms-visio.drawing",
    "vsdx",
  ],
  [
    "application/vnd.ms-visio.drawing.macroEnabled.main+xml",
    "visio/document.xml",
    "application/vnd.ms-visio.drawing.macroenabled.12",
    "vsdm",
  ],
  [
    "application/vnd.ms-visio.template.main+xml",
    "visio/document.xml",
    "application/vnd.ms-visio.template",
    "vstx",
  ],
  [
    "application/vnd.ms-visio.template.macroEnabled.main+xml",
    "visio/document.xml",
    "application/vnd.ms-visio.template.macroenabled.12",
    "vstm",
  ],
  [
    "application/vnd.ms-visio.stencil.main+xml",
    "visio/document.xml",
    "application/vnd.ms-visio.stencil",
    "vssx",
  ],
  [
    "application/vnd.ms-visio.stencil.macroEnabled.main+xml",
    "visio/document.xml",
    "application/vnd.ms-visio.stencil.macroenabled.12",
    "vssm",
  ],
] as const;

/** Main-part content type (as Office writes it), main part, media type and extension of each OOXML kind. */
const OOXML_KINDS = [
  [
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
    "word/document.xml",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "docx",
  ],
  [
    "application/vnd.ms-word.document.macroEnabled.main+xml",
    "word/document.xml",
    "application/vnd.ms-word.document.macroenabled.12",
    "docm",
  ],
  [
    "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml",
    "word/document.xml",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.template",
    "dotx",
  ],
  [
    "application/vnd.ms-word.template.macroEnabledTemplate.main+xml",
    "word/document.xml",
    "application/vnd.ms-word.template.macroenabled.12",
    "dotm",
  ],
  [
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
    "xl/workbook.xml",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "xlsx",
  ],
  [
    "application/vnd.ms-excel.sheet.macroEnabled.main+xml",
    "xl/workbook.xml",
    "application/vnd.ms-excel.sheet.macroenabled.12",
    "xlsm",
  ],
  [
    "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml",
    "xl/workbook.xml",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.template",
    "xltx",
  ],
  [
    "application/vnd.ms-excel.template.macroEnabled.main+xml",
    "xl/workbook.xml",
    "application/vnd.ms-excel.template.macroenabled.12",
    "xltm",
  ],
  [
    "application/vnd.ms-excel.sheet.binary.macroEnabled.main",
    "xl/workbook.bin",
    "application/vnd.ms-excel.sheet.binary.macroenabled.12",
    "xlsb",
  ],
  [
    "application/vnd.ms-excel.addin.macroEnabled.main+xml",
    "xl/workbook.xml",
    "application/vnd.ms-excel.addin.macroenabled.12",
    "xlam",
  ],
  [
    "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
    "ppt/presentation.xml",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "pptx",
  ],
  [
    "application/vnd.ms-powerpoint.presentation.macroEnabled.main+xml",
    "ppt/presentation.xml",
    "application/vnd.ms-powerpoint.presentation.macroenabled.12",
    "pptm",
  ],
  [
    "application/vnd.openxmlformats-officedocument.presentationml.slideshow.main+xml",
    "ppt/presentation.xml",
    "application/vnd.openxmlformats-officedocument.presentationml.slideshow",
    "ppsx",
  ],
  [
    "application/vnd.ms-powerpoint.slideshow.macroEnabled.main+xml",
    "ppt/presentation.xml",
    "application/vnd.ms-powerpoint.slideshow.macroenabled.12",
    "ppsm",
  ],
  [
    "application/vnd.openxmlformats-officedocument.presentationml.template.main+xml",
    "ppt/presentation.xml",
    "application/vnd.openxmlformats-officedocument.presentationml.template",
    "potx",
  ],
  [
    "application/vnd.ms-powerpoint.template.macroEnabled.main+xml",
    "ppt/presentation.xml",
    "application/vnd.ms-powerpoint.template.macroenabled.12",
    "potm",
  ],
  [
    "application/vnd.ms-powerpoint.addin.macroEnabled.main+xml",
    "ppt/presentation.xml",
    "application/vnd.ms-powerpoint.addin.macroenabled.12",
    "ppam",
  ],
  ...VISIO_KINDS,
] as const;

describe("OOXML kinds by the content type of the main part", () => {
  // Local headers file-type can walk, ZIP64 ones it cannot (the central directory decides).
  const layouts = [
    ["plain", {}],
    ["ZIP64", { zip64: true }],
  ] as const;
  const cases = layouts.flatMap(([layout, options]) =>
    OOXML_KINDS.map(
      ([mainType, mainPart, mime, ext]) => [ext, layout, options, mainType, mainPart, mime] as const,
    ),
  );

  it.each(cases)(
    "%s (%s local headers) is named alike by extraction and detection",
    async (ext, _layout, options, mainType, mainPart, mime) => {
      // Prepare
      const bytes = buildZip(ooxml(mainPart, mainType), options);
      // Act
      const extracted = await run(bytes, `file.${ext}`);
      const detected = await detectOnly(bytes, `file.${ext}`, mime);
      // Assess
      for (const format of [extracted.format, detected.format]) {
        expect(format).toMatchObject({ mime, ext, category: "document", mismatch: false });
      }
      expect(extracted.status).toBe("ok");
      expect(extracted.document).toMatchObject({ kind: "ooxml", title: "Packed" });
    },
  );

  it.each([
    ["text", "ott"],
    ["spreadsheet", "ots"],
    ["presentation", "otp"],
    ["graphics", "otg"],
  ])("an OpenDocument %s template with ZIP64 local headers is %s, detected alone too", async (kind, ext) => {
    const mime = `application/vnd.oasis.opendocument.${kind}-template`;
    const bytes = buildZip(
      [
        { name: "mimetype", content: mime, method: "store" },
        { name: "content.xml", content: "<office:document-content/>" },
        { name: "meta.xml", content: ODF_META },
      ],
      { zip64: true },
    );
    const extracted = await run(bytes, `template.${ext}`);
    const detected = await detectOnly(bytes, `template.${ext}`);
    for (const format of [extracted.format, detected.format]) {
      expect(format).toMatchObject({ mime, ext, category: "document", mismatch: false });
    }
    expect(extracted.document).toMatchObject({ kind: "odf", title: "Minutes" });
  });

  it("a macro-enabled main part is named even when [Content_Types].xml comes last", async () => {
    const parts = ooxml("word/document.xml", "application/vnd.ms-word.document.macroEnabled.main+xml");
    const bytes = buildZip([...parts.slice(1), ...parts.slice(0, 1)], { zip64: true });
    expect((await detectOnly(bytes, "m.docm")).format.ext).toBe("docm");
    expect((await run(bytes, "m.docm")).format.ext).toBe("docm");
  });
});

describe("a package's type against what the uploader declared", () => {
  const docm = "application/vnd.ms-word.document.macroEnabled.main+xml";
  const docxMime = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

  it.each([
    ["plain", {}],
    ["ZIP64", { zip64: true }],
  ] as const)(
    "report.docx declared as docx whose content is docm is a mismatch (%s local headers)",
    async (_layout, options) => {
      const bytes = buildZip(
        ooxml("word/document.xml", docm, [{ name: "word/vbaProject.bin", content: "VBA" }]),
        options,
      );
      const result = await extract(new BufferSource(bytes, "report.docx"), {
        name: "report.docx",
        declaredMime: docxMime,
      });
      expect(result.format).toMatchObject({
        mime: "application/vnd.ms-word.document.macroenabled.12",
        ext: "docm",
        declaredExt: "docx",
        mismatch: true,
      });
      expect(result.format.mismatchReason).toBe(
        `declared Content-Type ${docxMime} but content is application/vnd.ms-word.document.macroenabled.12; ` +
          `extension .docx suggests ${docxMime} but content is application/vnd.ms-word.document.macroenabled.12`,
      );
      expect(result.document?.macros).toBe(true);
    },
  );

  it.each([
    ["application/zip", "bundle.zip"],
    ["application/vnd.ms-word.document.macroEnabled.12", "report.docm"],
  ])("a docm declared as %s is no mismatch", async (declaredMime, name) => {
    const bytes = buildZip(ooxml("word/document.xml", docm), { zip64: true });
    const result = await extract(new BufferSource(bytes, name), { name, declaredMime });
    expect(result.format).toMatchObject({ ext: "docm", mismatch: false });
  });
});

describe("OOXML macros", () => {
  const xlsm = "application/vnd.ms-excel.sheet.macroEnabled.main+xml";
  const docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml";
  const vsdm = "application/vnd.ms-visio.drawing.macroEnabled.main+xml";
  const vsdx = "application/vnd.ms-visio.drawing.main+xml";
  const vba = "application/vnd.ms-office.vbaProject";

  it.each([
    [
      "a VBA project where Word writes one",
      "word/document.xml",
      docx,
      [{ name: "word/vbaProject.bin", content: "VBA" }],
      "",
    ],
    [
      "a VBA project where Excel writes one",
      "xl/workbook.xml",
      xlsm,
      [{ name: "xl/vbaProject.bin", content: "VBA" }],
      "",
    ],
    [
      "a VBA project where PowerPoint writes one",
      "ppt/presentation.xml",
      docx,
      [{ name: "ppt/VBAProject.bin", content: "VBA" }],
      "",
    ],
    [
      "a VBA project under another name, by its Override",
      "xl/workbook.xml",
      xlsm,
      [{ name: "xl/code.bin", content: "VBA" }],
      `<Override PartName="/xl/code.bin" ContentType="${vba}"/>`,
    ],
    [
      "a VBA project under another name, by the Default for its extension",
      "xl/workbook.xml",
      xlsm,
      [{ name: "xl/code.vba", content: "VBA" }],
      `<Default Extension="vba" ContentType="${vba}"/>`,
    ],
    [
      "an Override declaring a VBA project the listing does not show",
      "xl/workbook.xml",
      xlsm,
      [],
      `<Override PartName="/xl/vbaProject.bin" ContentType="${vba}"/>`,
    ],
    [
      "an Excel 4.0 macro sheet",
      "xl/workbook.xml",
      xlsm,
      [{ name: "xl/macrosheets/sheet1.xml", content: "<xm:macrosheet/>" }],
      '<Override PartName="/xl/macrosheets/sheet1.xml" ContentType="application/vnd.ms-excel.macrosheet+xml"/>',
    ],
    [
      "a VBA project where Visio writes one",
      "visio/document.xml",
      vsdm,
      [{ name: "visio/vbaProject.bin", content: "VBA" }],
      "",
    ],
    [
      "a VBA project in a Visio drawing that is not macro-enabled, by its Override",
      "visio/document.xml",
      vsdx,
      [{ name: "visio/code.bin", content: "VBA" }],
      `<Override PartName="/visio/code.bin" ContentType="${vba}"/>`,
    ],
  ] as const)("are reported for %s", async (_label, mainPart, mainType, more, extraTypes) => {
    const result = await run(buildZip(ooxml(mainPart, mainType, more, extraTypes)), "book.bin");
    expect(result.status).toBe("ok");
    expect(result.document).toMatchObject({ kind: "ooxml", macros: true });
  });

  it.each([
    ["a plain document", "word/document.xml", docx, [], ""],
    ["a macro-enabled type with no macro part", "xl/workbook.xml", xlsm, [], ""],
    ["a macro-enabled Visio drawing with no macro part", "visio/document.xml", vsdm, [], ""],
    [
      "a Default naming a VBA project for an extension no part has",
      "xl/workbook.xml",
      xlsm,
      [{ name: "xl/printerSettings.bin", content: "DEVMODE" }],
      `<Default Extension="vba" ContentType="${vba}"/>`,
    ],
    [
      "a vbaProject.bin outside the Office folders",
      "word/document.xml",
      docx,
      [{ name: "customXml/vbaProject.bin", content: "data" }],
      "",
    ],
  ] as const)("are absent for %s", async (_label, mainPart, mainType, more, extraTypes) => {
    const result = await run(buildZip(ooxml(mainPart, mainType, more, extraTypes)), "book.bin");
    expect(result.status).toBe("ok");
    expect(result.document?.kind).toBe("ooxml");
    expect(result.document).not.toHaveProperty("macros");
  });

  it("leave the properties read when [Content_Types].xml cannot be inflated", async () => {
    const bytes = buildZip(ooxml("word/document.xml", docx));
    // The first entry's deflate data follows its 30-byte local header and name.
    bytes.fill(0xff, 30 + "[Content_Types].xml".length, 36 + "[Content_Types].xml".length);
    const result = await run(bytes, "report.docx");
    expect(result.status).toBe("ok");
    expect(result.document).toEqual({ kind: "ooxml", title: "Packed", creator: "Ann" });
  });

  it("are absent from the corpus's OOXML files, which carry none", async () => {
    for (const name of ["tika-testWORD.docx", "tika-testEXCEL.xlsx", "tika-testPPT.pptx"]) {
      const result = await extract(new BufferSource(readFileSync(corpusFile(name)), name), { name });
      expect(result.document, name).not.toHaveProperty("macros");
    }
  });
});

/** Visio's extended properties: no <Pages>, its page count in HeadingPairs alone. */
const VISIO_APP =
  '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties" ' +
  'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">' +
  "<Template>BASFLO_M.VSTX</Template><Application>Microsoft Visio</Application>" +
  '<HeadingPairs><vt:vector size="2" baseType="variant"><vt:variant><vt:lpstr>Pages</vt:lpstr></vt:variant>' +
  "<vt:variant><vt:i4>2</vt:i4></vt:variant></vt:vector></HeadingPairs><AppVersion>16.0000</AppVersion></Properties>";

/** A Visio drawing as Visio lays one out: a document part, a page index and two pages, its properties. */
function visioDrawing(mainType: string, more: readonly Part[] = []): Part[] {
  return ooxml("visio/document.xml", mainType, [
    { name: "visio/pages/pages.xml", content: "<Pages/>" },
    { name: "visio/pages/page1.xml", content: "<PageContents/>" },
    { name: "visio/pages/page2.xml", content: "<PageContents/>" },
    { name: "visio/masters/masters.xml", content: "<Masters/>" },
    { name: "visio/masters/master1.xml", content: "<MasterContents/>" },
    { name: "docProps/app.xml", content: VISIO_APP },
    ...more,
  ]);
}

describe("Visio packages", () => {
  const vsdx = "application/vnd.ms-visio.drawing.main+xml";
  const vsdm = "application/vnd.ms-visio.drawing.macroEnabled.main+xml";

  it.each([
    ["plain", {}],
    ["ZIP64", { zip64: true }],
  ] as const)(
    "read a drawing's properties and count its pages (%s local headers)",
    async (_layout, options) => {
      const result = await run(buildZip(visioDrawing(vsdx), options), "flow.vsdx");
      expect(result.status).toBe("ok");
      expect(result.warnings).toEqual([]);
      expect(result.format).toMatchObject({
        mime: "application/vnd.ms-visio.drawing",
        ext: "vsdx",
        category: "document",
        mismatch: false,
      });
      expect(result.document).toEqual({
        kind: "ooxml",
        title: "Packed",
        creator: "Ann",
        application: "Microsoft Visio",
        pages: 2,
      });
    },
  );

  it.each([
    ["plain", {}],
    ["ZIP64", { zip64: true }],
  ] as const)("report a macro-enabled drawing's VBA project (%s local headers)", async (_layout, options) => {
    const vbaPart: Part = { name: "visio/vbaProject.bin", content: "VBA" };
    const bytes = buildZip(visioDrawing(vsdm, [vbaPart]), options);
    const extracted = await run(bytes, "flow.vsdm");
    const detected = await detectOnly(bytes, "flow.vsdm");
    for (const format of [extracted.format, detected.format]) {
      expect(format).toMatchObject({
        mime: "application/vnd.ms-visio.drawing.macroenabled.12",
        ext: "vsdm",
        mismatch: false,
      });
    }
    expect(extracted.document).toMatchObject({ kind: "ooxml", application: "Microsoft Visio", macros: true });
  });

  // `mime` gives .vsdx the legacy .vsd type, and uploaders send it.
  it.each([
    ["application/vnd.visio", false],
    ["application/zip", false],
    ["application/vnd.ms-visio.drawing.macroEnabled.12", true],
  ])("a vsdx declared as %s is a mismatch: %s", async (declaredMime, mismatch) => {
    const bytes = buildZip(visioDrawing(vsdx));
    const result = await extract(new BufferSource(bytes, "flow.vsdx"), { name: "flow.vsdx", declaredMime });
    expect(result.format).toMatchObject({ mime: "application/vnd.ms-visio.drawing", mismatch });
  });

  it("a vsdm named .vsdx is a mismatch, as a docm named .docx is", async () => {
    const bytes = buildZip(visioDrawing(vsdm, [{ name: "visio/vbaProject.bin", content: "VBA" }]));
    const result = await run(bytes, "flow.vsdx");
    expect(result.format).toMatchObject({
      ext: "vsdm",
      declaredExt: "vsdx",
      mismatch: true,
      mismatchReason:
        "extension .vsdx suggests application/vnd.visio but content is application/vnd.ms-visio.drawing.macroenabled.12",
    });
    expect(result.document?.macros).toBe(true);
  });
});

describe("[Content_Types].xml", () => {
  it("is read with any quoting, prefix and case, part names as entry names", () => {
    const types = typesOf(
      "<ct:Types xmlns:ct='http://schemas.openxmlformats.org/package/2006/content-types'>" +
        "<ct:Default Extension='BIN' ContentType='Application/Vnd.MS-Office.VbaProject' />" +
        '<ct:Override  ContentType = "X/Main+XML"  PartName="/Word/Document.xml"/></ct:Types>',
    );
    expect(types.defaults).toEqual(new Map([["bin", "application/vnd.ms-office.vbaproject"]]));
    expect(types.overrides).toEqual(new Map([["word/document.xml", "x/main+xml"]]));
    expect(contentTypeOf(types, "word/document.xml")).toBe("x/main+xml");
    expect(contentTypeOf(types, "xl/vbaProject.BIN")).toBe("application/vnd.ms-office.vbaproject");
    expect(contentTypeOf(types, "xl.bin/noextension")).toBeUndefined();
  });
});
