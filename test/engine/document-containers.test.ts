import { deflateRawSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { typeFromZipEntries } from "../../src/engine/detect/zip-container.js";
import { BufferSource, extract } from "../../src/engine/index.js";

/**
 * Office and EPUB packages built by hand in the ZIP layouts writers produce:
 * ZIP64 records, data descriptors, stored and deflated parts, and the paths
 * an EPUB container may name its package document by.
 */

interface Part {
  name: string;
  content: string;
  /** @default "deflate" */
  method?: "store" | "deflate";
  /** Sizes left zero in the local header and written after the data (general purpose bit 3). */
  descriptor?: boolean;
}

/**
 * A ZIP of `parts` (CRCs left zero: the reader does not check them). `zip64`
 * writes every size and offset through ZIP64 extra fields and ends the archive
 * with a ZIP64 end record and locator, as writers do past 4 GiB or 65535 entries.
 */
function buildZip(parts: readonly Part[], options: { zip64?: boolean } = {}): Uint8Array {
  const chunks: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  const push = (chunk: Buffer) => {
    chunks.push(chunk);
    offset += chunk.byteLength;
  };
  for (const part of parts) {
    const name = Buffer.from(part.name, "utf8");
    const data = Buffer.from(part.content, "utf8");
    const stored = part.method === "store";
    const body = stored ? data : deflateRawSync(data);
    const flags = 0x0800 | (part.descriptor ? 0x0008 : 0);
    const localAt = offset;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(options.zip64 ? 45 : 20, 4);
    local.writeUInt16LE(flags, 6);
    local.writeUInt16LE(stored ? 0 : 8, 8);
    if (!part.descriptor) {
      local.writeUInt32LE(options.zip64 ? 0xffffffff : body.byteLength, 18);
      local.writeUInt32LE(options.zip64 ? 0xffffffff : data.byteLength, 22);
    }
    const localExtra = Buffer.alloc(options.zip64 ? 20 : 0);
    if (options.zip64) {
      localExtra.writeUInt16LE(0x0001, 0);
      localExtra.writeUInt16LE(16, 2);
      if (!part.descriptor) {
        localExtra.writeBigUInt64LE(BigInt(data.byteLength), 4);
        localExtra.writeBigUInt64LE(BigInt(body.byteLength), 12);
      }
    }
    local.writeUInt16LE(name.byteLength, 26);
    local.writeUInt16LE(localExtra.byteLength, 28);
    push(local);
    push(name);
    push(localExtra);
    push(body);
    if (part.descriptor) {
      const descriptor = Buffer.alloc(options.zip64 ? 24 : 16);
      descriptor.writeUInt32LE(0x08074b50, 0);
      if (options.zip64) {
        descriptor.writeBigUInt64LE(BigInt(body.byteLength), 8);
        descriptor.writeBigUInt64LE(BigInt(data.byteLength), 16);
      } else {
        descriptor.writeUInt32LE(body.byteLength, 8);
        descriptor.writeUInt32LE(data.byteLength, 12);
      }
      push(descriptor);
    }
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(options.zip64 ? 45 : 20, 4);
    central.writeUInt16LE(options.zip64 ? 45 : 20, 6);
    central.writeUInt16LE(flags, 8);
    central.writeUInt16LE(stored ? 0 : 8, 10);
    central.writeUInt32LE(options.zip64 ? 0xffffffff : body.byteLength, 20);
    central.writeUInt32LE(options.zip64 ? 0xffffffff : data.byteLength, 24);
    central.writeUInt16LE(name.byteLength, 28);
    central.writeUInt32LE(options.zip64 ? 0xffffffff : localAt, 42);
    const centralExtra = Buffer.alloc(options.zip64 ? 28 : 0);
    if (options.zip64) {
      centralExtra.writeUInt16LE(0x0001, 0);
      centralExtra.writeUInt16LE(24, 2);
      centralExtra.writeBigUInt64LE(BigInt(data.byteLength), 4);
      centralExtra.writeBigUInt64LE(BigInt(body.byteLength), 12);
      centralExtra.writeBigUInt64LE(BigInt(localAt), 20);
    }
    central.writeUInt16LE(centralExtra.byteLength, 30);
    centrals.push(central, name, centralExtra);
  }
  const directory = Buffer.concat(centrals);
  const directoryAt = offset;
  push(directory);
  const count = parts.length;
  if (options.zip64) {
    const recordAt = offset;
    const record = Buffer.alloc(56);
    record.writeUInt32LE(0x06064b50, 0);
    record.writeBigUInt64LE(44n, 4);
    record.writeUInt16LE(45, 12);
    record.writeUInt16LE(45, 14);
    record.writeBigUInt64LE(BigInt(count), 24);
    record.writeBigUInt64LE(BigInt(count), 32);
    record.writeBigUInt64LE(BigInt(directory.byteLength), 40);
    record.writeBigUInt64LE(BigInt(directoryAt), 48);
    push(record);
    const locator = Buffer.alloc(20);
    locator.writeUInt32LE(0x07064b50, 0);
    locator.writeBigUInt64LE(BigInt(recordAt), 8);
    locator.writeUInt32LE(1, 16);
    push(locator);
  }
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(options.zip64 ? 0xffff : count, 8);
  end.writeUInt16LE(options.zip64 ? 0xffff : count, 10);
  end.writeUInt32LE(options.zip64 ? 0xffffffff : directory.byteLength, 12);
  end.writeUInt32LE(options.zip64 ? 0xffffffff : directoryAt, 16);
  push(end);
  return new Uint8Array(Buffer.concat(chunks));
}

function run(bytes: Uint8Array, name: string) {
  return extract(new BufferSource(bytes, name), { name });
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

  it("with ZIP64 local headers stays a zip when only detection runs, which reads no tail", async () => {
    const bytes = buildZip(docxParts(), { zip64: true });
    const result = await extract(new BufferSource(bytes, "packed.docx"), {
      name: "packed.docx",
      detectOnly: true,
    });
    expect(result.format.mime).toBe("application/zip");
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

describe("zip-based formats by entry names", () => {
  it.each([
    [["[Content_Types].xml", "_rels/.rels", "word/document.xml"], undefined, "docx"],
    [["[Content_Types].xml", "ppt/presentation.xml"], undefined, "pptx"],
    [["[Content_Types].xml", "xl/workbook.xml"], undefined, "xlsx"],
    [["mimetype", "content.xml"], "application/vnd.oasis.opendocument.spreadsheet", "ods"],
    [["mimetype", "OEBPS/content.opf"], "application/epub+zip\n", "epub"],
    // A folder name alone, or a mimetype entry naming no package format, is a plain zip.
    [["word/document.xml"], undefined, undefined],
    [["[Content_Types].xml", "docs/readme.txt"], undefined, undefined],
    [["mimetype", "a.txt"], "text/plain", undefined],
  ] as const)("%j (mimetype %j) is %s", (names, mimetype, ext) => {
    expect(typeFromZipEntries(names, mimetype)?.ext).toBe(ext);
  });
});
