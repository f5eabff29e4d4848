import type { BlockReader } from "../byte-source/block-reader.js";
import { ContentError, SourceError } from "../errors.js";
import { readZipDirectory, type ZipEntry } from "../extractors/archive/zip-directory.js";
import { readZipEntry } from "../extractors/archive/zip-entry.js";
import { child, parseXml, type XmlNode } from "../extractors/document/xml-fields.js";
import { TAIL_WINDOW_BYTES } from "../limits.js";
import { textDecoder } from "../text-decoder.js";
import type { FormatInfo } from "../types.js";
import { categoryOf } from "./category.js";
import { compareDeclared, type DetectHints } from "./detect.js";
import { MAX_INFLATED_ZIP_ENTRY_BYTES } from "./zip-inflate.js";

/**
 * Zip-based document formats told from the central directory, for a file
 * file-type could only call `application/zip`. file-type walks the local
 * headers from the head of the file and gives up on some it cannot follow
 * (ZIP64 sizes in them, for one, or a `[Content_Types].xml` stored past the
 * detection window); the directory at the tail lists the same names.
 * Detection looks at a bounded tail ({@link zipPackageType}); extraction,
 * once the extractor's plan has fetched the tail, at the whole directory
 * ({@link refineZipFormat}).
 */

/** Bytes of a `mimetype` entry read: the longest type named below is 56 bytes. */
const MAX_MIMETYPE_ENTRY_BYTES = 256;

/**
 * Compressed bytes of `[Content_Types].xml` read to name an OOXML package. A
 * few KiB in real packages (a 500-slide deck's is under 10 KiB deflated); a
 * larger one leaves the main-part folder to decide.
 */
const MAX_CONTENT_TYPES_COMPRESSED_BYTES = 64 * 1024;

/**
 * Central-directory bytes detection lists: about a thousand entries, more
 * than office documents and e-books carry. A longer directory is left to the
 * extraction path, which lists it whole.
 */
const DETECTION_DIRECTORY_BYTES = TAIL_WINDOW_BYTES;

/** The content type of a VBA project part (MS-OFFMACRO2), lower-case as {@link parseContentTypes} gives it. */
export const VBA_PROJECT_CONTENT_TYPE = "application/vnd.ms-office.vbaproject";

/** A detected type: media type and canonical extension. */
interface PackageType {
  mime: string;
  ext: string;
}

/** What an ODF or EPUB `mimetype` entry may say, and the extension that goes with it. */
const PACKAGE_MIMETYPES: ReadonlyMap<string, string> = new Map([
  ["application/epub+zip", "epub"],
  ["application/vnd.oasis.opendocument.text", "odt"],
  ["application/vnd.oasis.opendocument.text-template", "ott"],
  ["application/vnd.oasis.opendocument.spreadsheet", "ods"],
  ["application/vnd.oasis.opendocument.spreadsheet-template", "ots"],
  ["application/vnd.oasis.opendocument.presentation", "odp"],
  ["application/vnd.oasis.opendocument.presentation-template", "otp"],
  ["application/vnd.oasis.opendocument.graphics", "odg"],
  ["application/vnd.oasis.opendocument.graphics-template", "otg"],
  ["application/vnd.oasis.opendocument.chart", "odc"],
  ["application/vnd.oasis.opendocument.chart-template", "otc"],
  ["application/vnd.oasis.opendocument.formula", "odf"],
  ["application/vnd.oasis.opendocument.formula-template", "otf"],
  ["application/vnd.oasis.opendocument.image", "odi"],
  ["application/vnd.oasis.opendocument.image-template", "oti"],
  ["application/vnd.oasis.opendocument.text-master", "odm"],
  ["application/vnd.oasis.opendocument.text-master-template", "otm"],
  ["application/vnd.oasis.opendocument.text-web", "oth"],
  // A Base database (LibreOffice writes `base`; `database` is its deprecated alias), where macros often live.
  ["application/vnd.oasis.opendocument.base", "odb"],
  ["application/vnd.oasis.opendocument.database", "odb"],
]);

/**
 * OOXML packages by the content type of their main part in
 * `[Content_Types].xml` (ECMA-376 Part 1 and MS-OFFMACRO2 for the
 * macro-enabled ones, MS-XLSB for the binary workbook, MS-VSDX for Visio's
 * drawings, templates and stencils), with the media type registered for the
 * file (IANA) and its extension. Media types are
 * case-insensitive; the catalog keeps them lower-case, as file-type and the
 * `mime` table write them (IANA spells `macroEnabled`).
 */
const OOXML_MAIN_PARTS: ReadonlyMap<string, PackageType> = new Map(
  (
    [
      [
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "docx",
      ],
      [
        "application/vnd.ms-word.document.macroenabled.main+xml",
        "application/vnd.ms-word.document.macroenabled.12",
        "docm",
      ],
      [
        "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.template",
        "dotx",
      ],
      [
        "application/vnd.ms-word.template.macroenabledtemplate.main+xml",
        "application/vnd.ms-word.template.macroenabled.12",
        "dotm",
      ],
      [
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "xlsx",
      ],
      [
        "application/vnd.ms-excel.sheet.macroenabled.main+xml",
        "application/vnd.ms-excel.sheet.macroenabled.12",
        "xlsm",
      ],
      [
        "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.template",
        "xltx",
      ],
      [
        "application/vnd.ms-excel.template.macroenabled.main+xml",
        "application/vnd.ms-excel.template.macroenabled.12",
        "xltm",
      ],
      [
        "application/vnd.ms-excel.sheet.binary.macroenabled.main",
        "application/vnd.ms-excel.sheet.binary.macroenabled.12",
        "xlsb",
      ],
      [
        "application/vnd.ms-excel.addin.macroenabled.main+xml",
        "application/vnd.ms-excel.addin.macroenabled.12",
        "xlam",
      ],
      [
        "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "pptx",
      ],
      [
        "application/vnd.ms-powerpoint.presentation.macroenabled.main+xml",
        "application/vnd.ms-powerpoint.presentation.macroenabled.12",
        "pptm",
      ],
      [
        "application/vnd.openxmlformats-officedocument.presentationml.slideshow.main+xml",
        "application/vnd.openxmlformats-officedocument.presentationml.slideshow",
        "ppsx",
      ],
      [
        "application/vnd.ms-powerpoint.slideshow.macroenabled.main+xml",
        "application/vnd.ms-powerpoint.slideshow.macroenabled.12",
        "ppsm",
      ],
      [
        "application/vnd.openxmlformats-officedocument.presentationml.template.main+xml",
        "application/vnd.openxmlformats-officedocument.presentationml.template",
        "potx",
      ],
      [
        "application/vnd.ms-powerpoint.template.macroenabled.main+xml",
        "application/vnd.ms-powerpoint.template.macroenabled.12",
        "potm",
      ],
      [
        "application/vnd.ms-powerpoint.addin.macroenabled.main+xml",
        "application/vnd.ms-powerpoint.addin.macroenabled.12",
        "ppam",
      ],
      ["application/vnd.ms-visio.drawing.main+xml", "application/vnd.ms-visio.drawing", "vsdx"],
      [
        "application/vnd.ms-visio.drawing.macroenabled.main+xml",
        "application/vnd.ms-visio.drawing.macroenabled.12",
        "vsdm",
      ],
      ["application/vnd.ms-visio.template.main+xml", "application/vnd.ms-visio.template", "vstx"],
      [
        "application/vnd.ms-visio.template.macroenabled.main+xml",
        "application/vnd.ms-visio.template.macroenabled.12",
        "vstm",
      ],
      ["application/vnd.ms-visio.stencil.main+xml", "application/vnd.ms-visio.stencil", "vssx"],
      [
        "application/vnd.ms-visio.stencil.macroenabled.main+xml",
        "application/vnd.ms-visio.stencil.macroenabled.12",
        "vssm",
      ],
    ] as const
  ).map(([partType, mime, ext]) => [partType, { mime, ext }]),
);

/** Every media type detection names an OOXML package by (Visio's included), from the table above. */
export const OOXML_PACKAGE_MIMES: ReadonlySet<string> = new Set(
  [...OOXML_MAIN_PARTS.values()].map(({ mime }) => mime),
);

/** Every media type detection names a package by from its `mimetype` entry: OpenDocument's and EPUB. */
export const MIMETYPE_PACKAGE_MIMES: ReadonlySet<string> = new Set(PACKAGE_MIMETYPES.keys());

/**
 * OOXML main-part folders, in the order file-type weighs them (Visio's,
 * which file-type does not weigh, last): the plain type of each, for a
 * package whose content types name no main part.
 */
const OOXML_FOLDERS = [
  ["word/", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"],
  ["ppt/", "application/vnd.openxmlformats-officedocument.presentationml.presentation", "pptx"],
  ["xl/", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"],
  ["visio/", "application/vnd.ms-visio.drawing", "vsdx"],
] as const;

/**
 * An OPC package's `[Content_Types].xml`: content types by extension
 * (`Default`) and by part name (`Override`), all lower-case (OPC compares
 * both case-insensitively), part names without their leading slash so they
 * read as ZIP entry names.
 */
export interface ContentTypes {
  defaults: ReadonlyMap<string, string>;
  overrides: ReadonlyMap<string, string>;
}

/**
 * Reads `[Content_Types].xml` with the parser every metadata part is read
 * with (namespace prefixes dropped, no DTD). Throws a ContentError when the
 * part is not XML.
 *
 * @example
 * parseContentTypes(bytes); // { defaults: Map { "xml" => "application/xml" }, overrides: Map { "word/document.xml" => "..." } }
 */
export function parseContentTypes(bytes: Uint8Array): ContentTypes {
  const types = child(parseXml(bytes), "Types");
  const lower = (value: unknown) => (typeof value === "string" ? value.trim().toLowerCase() : "");
  const defaults = new Map<string, string>();
  const overrides = new Map<string, string>();
  for (const element of elements(types?.Default)) {
    const extension = lower(element["@_Extension"]);
    const contentType = lower(element["@_ContentType"]);
    if (extension && contentType && !defaults.has(extension)) defaults.set(extension, contentType);
  }
  for (const element of elements(types?.Override)) {
    const partName = lower(element["@_PartName"]).replace(/^\//, "");
    const contentType = lower(element["@_ContentType"]);
    if (partName && contentType && !overrides.has(partName)) overrides.set(partName, contentType);
  }
  return { defaults, overrides };
}

function elements(value: unknown): XmlNode[] {
  return (Array.isArray(value) ? value : [value]).filter(
    (item): item is XmlNode => typeof item === "object" && item !== null,
  );
}

/**
 * The content type of the part stored as ZIP entry `name`: its `Override`,
 * else the `Default` for its extension (OPC 10.1.2.4).
 *
 * @example
 * contentTypeOf(types, "word/vbaProject.bin"); // "application/vnd.ms-office.vbaproject"
 */
export function contentTypeOf(types: ContentTypes, name: string): string | undefined {
  const lower = name.toLowerCase();
  const override = types.overrides.get(lower);
  if (override !== undefined) return override;
  const slash = lower.lastIndexOf("/");
  const dot = lower.lastIndexOf(".");
  return dot > slash ? types.defaults.get(lower.slice(dot + 1)) : undefined;
}

/** Apple's iWork documents, by the media types Apple registered with IANA in 2015. */
const IWORK_BY_EXTENSION: ReadonlyMap<string, PackageType> = new Map(
  (
    [
      ["key", "application/vnd.apple.keynote"],
      ["pages", "application/vnd.apple.pages"],
      ["numbers", "application/vnd.apple.numbers"],
    ] as const
  ).map(([ext, mime]) => [ext, { mime, ext }]),
);

/** A document bundle zipped whole: its folder's extension names the application ('13 `Index.zip`, '09 index). */
const IWORK_BUNDLE_INDEX = /^[^/]+\.(key|pages|numbers)\/(?:Index\.zip|index\.(?:xml|apxl)(?:\.gz)?)$/i;
/** A Keynote slide of a single-file '13 document: `Index/Slide.iwa`, `Index/Slide-1234.iwa`. */
const KEYNOTE_SLIDE = /^Index\/Slide(?:-\d+)?\.iwa$/;

/**
 * An iWork document by its entries, as exiftool tells them: a zipped bundle
 * by its folder's extension; a single-file document (iWork '13 and later:
 * `Index/Document.iwa` with its objects) as Keynote when it has slides,
 * Numbers when it has `Index/Tables/DataList.iwa`, else Pages; a Keynote '09
 * file by its `index.apxl`. Pages and Numbers '09 share `index.xml`, told
 * apart only by its root element: they stay a plain zip, which a declared
 * iWork type agrees with.
 */
function iWorkType(names: readonly string[]): PackageType | undefined {
  for (const name of names) {
    const bundle = IWORK_BUNDLE_INDEX.exec(name);
    if (bundle) return IWORK_BY_EXTENSION.get((bundle[1] as string).toLowerCase());
  }
  if (names.includes("Index/Document.iwa")) {
    if (names.some((name) => KEYNOTE_SLIDE.test(name))) return IWORK_BY_EXTENSION.get("key");
    return IWORK_BY_EXTENSION.get(names.includes("Index/Tables/DataList.iwa") ? "numbers" : "pages");
  }
  if (names.some((name) => /^index\.apxl(?:\.gz)?$/i.test(name))) return IWORK_BY_EXTENSION.get("key");
  return undefined;
}

/** What a package's small naming entries say, when they could be read. */
export interface PackageNaming {
  /** The text of an ODF or EPUB `mimetype` entry. */
  mimetype?: string;
  /** An OOXML package's `[Content_Types].xml`. */
  contentTypes?: ContentTypes;
}

/**
 * The document format a ZIP's entries show: an ODF or EPUB package by the
 * text of its `mimetype` entry; an OOXML package (one with a
 * `[Content_Types].xml`) by the content type of its main part, or, when
 * that part's type is unknown or unread, by its main-part folder (the rule
 * file-type applies to local headers); an iWork document by the entries
 * {@link iWorkType} looks for.
 *
 * @example
 * typeFromZipEntries(["[Content_Types].xml", "word/document.xml"]);
 * // { mime: "application/vnd.openxmlformats-officedocument.wordprocessingml.document", ext: "docx" }
 */
export function typeFromZipEntries(
  names: readonly string[],
  naming: PackageNaming = {},
): PackageType | undefined {
  const mimetype = naming.mimetype?.trim();
  if (mimetype !== undefined) {
    const ext = PACKAGE_MIMETYPES.get(mimetype);
    if (ext) return { mime: mimetype, ext };
  }
  if (!names.includes("[Content_Types].xml")) return iWorkType(names);
  if (naming.contentTypes !== undefined) {
    const { overrides, defaults } = naming.contentTypes;
    // The main part has an Override; a writer that gives it a Default instead still names it.
    for (const contentType of [...overrides.values(), ...defaults.values()]) {
      const found = OOXML_MAIN_PARTS.get(contentType);
      if (found) return found;
    }
  }
  for (const [folder, mime, ext] of OOXML_FOLDERS) {
    if (names.some((name) => name.startsWith(folder))) return { mime, ext };
  }
  return undefined;
}

/**
 * The document format a ZIP's central directory shows, reading no more than
 * a bounded tail: the End Of Central Directory and a directory of at most
 * {@link DETECTION_DIRECTORY_BYTES}, then the `mimetype` or
 * `[Content_Types].xml` entry when small. Undefined for a plain zip, for a
 * directory longer than the bound (extraction lists it whole), or for one
 * that cannot be read. Only a failing medium throws.
 *
 * @example
 * await zipPackageType(reader); // { mime: "application/vnd.ms-word.document.macroenabled.12", ext: "docm" }
 */
export async function zipPackageType(reader: BlockReader): Promise<PackageType | undefined> {
  return packageType(reader, {
    // The byte bound is the one that applies: it holds fewer records than this.
    maxEntries: Number.MAX_SAFE_INTEGER,
    maxDirectoryBytes: DETECTION_DIRECTORY_BYTES,
  });
}

/**
 * `format` with a plain zip replaced by the document format its central
 * directory shows, declared type and name compared again; `format` itself
 * for anything else, or when the directory cannot be read (the archive
 * extractor then reports why). Only a failing medium throws.
 *
 * @example
 * format = await refineZipFormat(reader, format, { name: "packed.docx" }, budget.maxEntries);
 */
export async function refineZipFormat(
  reader: BlockReader,
  format: FormatInfo,
  hints: DetectHints,
  maxEntries: number,
): Promise<FormatInfo> {
  if (format.mime !== "application/zip") return format;
  const found = await packageType(reader, { maxEntries });
  if (!found) return format;
  return { ...found, category: categoryOf(found.mime), ...(await compareDeclared(found, hints)) };
}

async function packageType(
  reader: BlockReader,
  bounds: { maxEntries: number; maxDirectoryBytes?: number },
): Promise<PackageType | undefined> {
  try {
    const directory = await readZipDirectory(reader, bounds);
    // A partial listing may lack the entry that decides; extraction lists the whole directory.
    if (bounds.maxDirectoryBytes !== undefined && directory.truncated) return undefined;
    const names = directory.entries.map((entry) => entry.name);
    const [mimetype, contentTypes] = await Promise.all([
      entryBytes(reader, directory.entries, "mimetype", MAX_MIMETYPE_ENTRY_BYTES, MAX_MIMETYPE_ENTRY_BYTES),
      entryBytes(
        reader,
        directory.entries,
        "[Content_Types].xml",
        MAX_CONTENT_TYPES_COMPRESSED_BYTES,
        MAX_INFLATED_ZIP_ENTRY_BYTES,
      ),
    ]);
    const types = contentTypes && contentTypesOrUndefined(contentTypes);
    return typeFromZipEntries(names, {
      ...(mimetype !== undefined && { mimetype: textDecoder("utf-8").decode(mimetype) }),
      ...(types !== undefined && { contentTypes: types }),
    });
  } catch (error) {
    if (error instanceof SourceError) throw error;
    return undefined;
  }
}

/** Content types that are not XML leave the main-part folders to decide. */
function contentTypesOrUndefined(bytes: Uint8Array): ContentTypes | undefined {
  try {
    return parseContentTypes(bytes);
  } catch (error) {
    if (error instanceof ContentError) return undefined;
    throw error;
  }
}

/** The bytes of entry `name`, when the package has a small readable one (its data and its inflation bounded). */
async function entryBytes(
  reader: BlockReader,
  entries: readonly ZipEntry[],
  name: string,
  maxCompressedBytes: number,
  maxBytes: number,
): Promise<Uint8Array | undefined> {
  const entry = entries.find((candidate) => candidate.name === name);
  if (!entry || entry.encrypted || entry.compressedSize > maxCompressedBytes) return undefined;
  try {
    return await readZipEntry(reader, entry, maxBytes);
  } catch (error) {
    // A damaged entry leaves the other names to decide.
    if (error instanceof SourceError) throw error;
    return undefined;
  }
}
