import type { BlockReader } from "../byte-source/block-reader.js";
import { SourceError } from "../errors.js";
import { readZipDirectory, type ZipEntry } from "../extractors/archive/zip-directory.js";
import { readZipEntry } from "../extractors/archive/zip-entry.js";
import type { FormatInfo } from "../types.js";
import { categoryOf } from "./category.js";
import { compareDeclared, type DetectHints } from "./detect.js";

/**
 * Zip-based document formats told from the central directory, for a file
 * detection could only call `application/zip`. file-type walks the local
 * headers from the head of the file and gives up on some it cannot follow
 * (ZIP64 sizes in them, for one); the directory at the tail lists the same
 * names. Detection itself stays within its head window, so this runs on the
 * extraction path only, once the extractor's plan has fetched the tail.
 */

/** Bytes of a `mimetype` entry read: the longest type named below is 55 bytes. */
const MAX_MIMETYPE_ENTRY_BYTES = 256;

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
]);

/** OOXML main-part folders, in the order file-type weighs them. */
const OOXML_FOLDERS = [
  ["word/", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"],
  ["ppt/", "application/vnd.openxmlformats-officedocument.presentationml.presentation", "pptx"],
  ["xl/", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"],
] as const;

/**
 * The document format a ZIP's entry names show: an OOXML package by its
 * `[Content_Types].xml` and main-part folder (the rule file-type applies to
 * local headers), an ODF or EPUB package by the text of its `mimetype` entry.
 *
 * @example
 * typeFromZipEntries(["[Content_Types].xml", "word/document.xml"]);
 * // { mime: "application/vnd.openxmlformats-officedocument.wordprocessingml.document", ext: "docx" }
 */
export function typeFromZipEntries(
  names: readonly string[],
  mimetype?: string,
): { mime: string; ext: string } | undefined {
  if (mimetype !== undefined) {
    const ext = PACKAGE_MIMETYPES.get(mimetype.trim());
    if (ext) return { mime: mimetype.trim(), ext };
  }
  if (!names.includes("[Content_Types].xml")) return undefined;
  for (const [folder, mime, ext] of OOXML_FOLDERS) {
    if (names.some((name) => name.startsWith(folder))) return { mime, ext };
  }
  return undefined;
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
  let found: { mime: string; ext: string } | undefined;
  try {
    const directory = await readZipDirectory(reader, { maxEntries });
    const names = directory.entries.map((entry) => entry.name);
    found = typeFromZipEntries(names, await mimetypeOf(reader, directory.entries));
  } catch (error) {
    if (error instanceof SourceError) throw error;
    return format;
  }
  if (!found) return format;
  return { ...found, category: categoryOf(found.mime), ...(await compareDeclared(found, hints)) };
}

/** The text of the package's `mimetype` entry, when it has a small readable one. */
async function mimetypeOf(reader: BlockReader, entries: readonly ZipEntry[]): Promise<string | undefined> {
  const entry = entries.find((candidate) => candidate.name === "mimetype");
  if (!entry || entry.encrypted || entry.compressedSize > MAX_MIMETYPE_ENTRY_BYTES) return undefined;
  try {
    return new TextDecoder("utf-8").decode(await readZipEntry(reader, entry, MAX_MIMETYPE_ENTRY_BYTES));
  } catch (error) {
    // A damaged `mimetype` entry leaves the other names to decide.
    if (error instanceof SourceError) throw error;
    return undefined;
  }
}
