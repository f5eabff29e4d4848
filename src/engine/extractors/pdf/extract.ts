import { ContentError, describeError } from "../../errors.js";
import { cleanString, TAIL_WINDOW_BYTES } from "../../limits.js";
import type { PdfInfo, Sections } from "../../types.js";
import type { ExtractContext } from "../extractor.js";
import { latin1, PdfDict, PdfParser, PdfRef, PdfString, type PdfValue } from "./lexer.js";
import { isBudgetLimit, PdfFile } from "./pdf-file.js";
import { type ScanResult, scanForObjects } from "./scan.js";
import { firstFileId, openWithEmptyPassword } from "./security.js";
import { decodeTextString, parsePdfDate } from "./text-string.js";
import { parseXmp, type XmpFields } from "./xmp.js";

/**
 * PDF metadata read by ranges: header, tail (`startxref`, trailer), the
 * cross-reference chain, then only the catalog, the page tree root, the
 * document information dictionary and the catalog's XMP packet (/Metadata).
 * When the cross-reference data is broken, the same objects are read again
 * through the ones a scan of the file finds (see `scanForObjects`).
 *
 * Hand-written because no PDF library reads by ranges cheaply: pdf.js needs a
 * worker, a range transport and megabytes of code, and the others load the
 * whole file. Only the object syntax, xref tables and streams, object
 * streams, FlateDecode (with its predictors), the two ASCII filters and the
 * standard security handler are implemented.
 */

/** Head bytes holding the `%PDF-x.y` header and, in linearized files, the linearization dictionary. */
export const PDF_HEAD_BYTES = 1024;

/**
 * Tail bytes read up front. `startxref` sits in the last 1 KiB of a well-formed
 * file; one 16 KiB block also covers the trailer and often the last xref rows.
 */
export const PDF_TAIL_BYTES = 16 * 1024;

const INFO_TEXT_FIELDS = [
  ["Title", "title"],
  ["Author", "author"],
  ["Subject", "subject"],
  ["Keywords", "keywords"],
  ["Producer", "producer"],
  ["Creator", "creator"],
] as const;

const INFO_DATE_FIELDS = [
  ["CreationDate", "created"],
  ["ModDate", "modified"],
] as const;

/** Fields both the information dictionary and the XMP packet state. */
const DOCUMENT_FIELDS = [
  "title",
  "author",
  "subject",
  "keywords",
  "producer",
  "creator",
  "created",
  "modified",
] as const;

/**
 * Largest XMP packet read. Real ones are a few KiB, and a few hundred with an
 * embedded thumbnail; past this the information dictionary has to do.
 */
export const MAX_XMP_BYTES = 1024 * 1024;

/**
 * Extracts the `pdf` section.
 *
 * @example
 * const sections = await extractPdf(ctx); // { pdf: { pages: 14, version: "1.4", title: "…", encrypted: false } }
 */
export async function extractPdf(ctx: ExtractContext): Promise<Sections> {
  const { reader } = ctx;
  const head = await reader.read(0, PDF_HEAD_BYTES);
  const headText = latin1(head);
  const header = /%PDF-(\d+\.\d+)/.exec(headText);
  const linearization = linearizationDict(head);
  const pdf: PdfInfo = { encrypted: false, linearized: linearization !== undefined };
  if (header?.[1]) pdf.version = header[1];
  else ctx.warn("no %PDF-x.y header in the first KiB");
  ctx.partial.pdf = pdf;

  let scan: Promise<ScanResult | undefined> | undefined;
  const relocate = async (num: number): Promise<number | undefined> => {
    scan ??= scanForObjects(reader);
    const entry = await (await scan)?.sections[0]?.lookup(num);
    return entry?.type === "offset" ? entry.offset : undefined;
  };
  const file = new PdfFile(reader, {
    maxDepth: ctx.budget.maxDepth,
    warn: (message) => ctx.warn(message),
    relocate,
  });
  try {
    await file.loadXref(await findStartxref(file));
    await readDocument(file, pdf, ctx, linearization);
  } catch (error) {
    if (isBudgetLimit(error)) throw error;
    scan ??= scanForObjects(reader);
    const scanned = await scan;
    if (!scanned) throw new ContentError(`no readable objects: ${describeError(error)}`, { cause: error });
    ctx.warn(
      `cross-reference data is broken (${describeError(error)}); objects were found by scanning the file`,
    );
    if (!scanned.complete) ctx.warn("the file was scanned only at its head and tail");
    file.useSections(scanned.sections);
    file.decryptor = undefined;
    await readDocument(file, pdf, ctx, linearization);
  }
  const declaredSize = linearization?.number("L");
  if (declaredSize !== undefined && declaredSize > file.size) {
    throw new ContentError(
      `truncated: the file has ${file.size} bytes of the ${declaredSize} its linearization dictionary states`,
    );
  }
  // What was read is kept; a file whose end is gone is still called partial, not ok: its lost trailer may
  // have held /Encrypt and /Info, so `encrypted: false` and a missing title prove nothing. One cut in an
  // incremental update reads as the revision before it, whose startxref is the last one left.
  const cut = await truncation(file);
  if (cut) throw new ContentError(cut);
  return { pdf };
}

/**
 * Why the file is cut short, when its end says so: it ends at no `%%EOF`
 * (junk may follow one) and no `startxref`, or objects or a trailer follow
 * its last `%%EOF`, an incremental update cut short.
 */
async function truncation(file: PdfFile): Promise<string | undefined> {
  // The window findStartxref read first, then the wider one only when junk may hide the end in it.
  let tail = latin1(await file.reader.tail(PDF_TAIL_BYTES));
  if (!tail.includes("%%EOF") && !tail.includes("startxref") && file.size > PDF_TAIL_BYTES)
    tail = latin1(await file.reader.tail(TAIL_WINDOW_BYTES));
  const eof = tail.lastIndexOf("%%EOF");
  if (eof < 0)
    return tail.includes("startxref") ? undefined : "truncated: no startxref or %%EOF at the end of the file";
  return /\b(?:obj|endobj|xref|trailer)\b/.test(tail.slice(eof + 5))
    ? "truncated: an update after the last %%EOF is cut short"
    : undefined;
}

/** The offset `startxref` names, from the tail window (then a wider one, past trailing junk). */
async function findStartxref(file: PdfFile): Promise<number> {
  for (const window of [PDF_TAIL_BYTES, TAIL_WINDOW_BYTES]) {
    const tail = await file.reader.tail(window);
    const text = latin1(tail);
    const at = text.lastIndexOf("startxref");
    if (at >= 0) {
      const match = /^startxref\s+(\d{1,15})/.exec(text.slice(at));
      if (!match) throw new ContentError("startxref is not followed by an offset");
      const offset = Number(match[1]);
      if (offset >= file.size) throw new ContentError(`startxref ${offset} points past the end of the file`);
      return offset;
    }
    if (tail.length >= file.size) break;
  }
  throw new ContentError("no startxref in the tail of the file");
}

/** The first object, when it is a linearization parameter dictionary. */
function linearizationDict(head: Uint8Array): PdfDict | undefined {
  const text = latin1(head);
  const first = /(?<![0-9])\d{1,8}\s+\d{1,5}\s+obj\b/.exec(text);
  if (!first) return undefined;
  try {
    const object = new PdfParser(head, first.index).parseIndirectObject();
    return object.value instanceof PdfDict && object.value.get("Linearized") !== undefined
      ? object.value
      : undefined;
  } catch {
    return undefined; // a first object longer than the head is no linearization dictionary
  }
}

/**
 * The page count a linearization dictionary states (/N), trusted only while
 * its /L still equals the file's length: an incremental update appended
 * since may have added or removed pages. The dictionary holds no strings and
 * is never encrypted, so it is readable when the page tree is not.
 */
function linearizedPageCount(linearization: PdfDict | undefined, size: number): number | undefined {
  const pages = linearization?.number("N");
  if (linearization?.number("L") !== size || pages === undefined) return undefined;
  return Number.isInteger(pages) && pages >= 0 ? pages : undefined;
}

/**
 * Reads encryption, catalog, page count and document information into `pdf`.
 * A missing catalog means the cross-reference data is wrong and throws. The
 * page count, the information dictionary and the XMP packet are read each on
 * its own: one that fails (a page tree in an object stream that does not
 * inflate) costs its own fields, with a warning, not the others'.
 */
async function readDocument(
  file: PdfFile,
  pdf: PdfInfo,
  ctx: ExtractContext,
  linearization: PdfDict | undefined,
): Promise<void> {
  const encryptRef = file.trailerValue("Encrypt");
  pdf.encrypted = encryptRef !== undefined && encryptRef !== null;
  let canDecrypt = !pdf.encrypted;
  // Under /EncryptMetadata false the XMP stream is in the clear, readable without the password.
  let clearMetadata = !pdf.encrypted;
  if (pdf.encrypted) {
    if (encryptRef instanceof PdfRef) file.plainObjects.add(encryptRef.num);
    const encrypt = await file.resolveDict(encryptRef);
    clearMetadata = encrypt?.get("EncryptMetadata") === false;
    const opened = encrypt
      ? openWithEmptyPassword(encrypt, firstFileId(file.trailerValue("ID")))
      : { ok: false as const, reason: "the encryption dictionary is missing" };
    if (opened.ok) {
      file.decryptor = opened.decryptor;
      canDecrypt = true;
    } else {
      ctx.warn(`encrypted (${opened.reason}): document information not decoded`);
    }
  }

  let root: PdfDict | undefined;
  try {
    root = await file.resolveDict(file.trailerValue("Root"));
  } catch (error) {
    if (isBudgetLimit(error) || canDecrypt) throw error;
    // The catalog sits in an encrypted object stream: nothing more to read without the password.
    ctx.warn(`catalog unreadable without the password: ${describeError(error)}`);
    pagesFromLinearization(pdf, ctx, linearization, file.size);
    return;
  }
  if (!root) throw new ContentError("the trailer names no readable /Root catalog");
  const catalogVersion = root.name("Version");
  if (catalogVersion && /^\d+\.\d+$/.test(catalogVersion)) {
    if (!pdf.version || Number(catalogVersion) > Number(pdf.version)) pdf.version = catalogVersion;
  }

  try {
    const pages = await file.resolveDict(root.get("Pages"));
    const count = pages ? await file.resolve(pages.get("Count")) : undefined;
    if (typeof count === "number" && Number.isInteger(count) && count >= 0) {
      pdf.pages = count;
      if (count > file.size) ctx.warn(`page count ${count} is implausible for a file of ${file.size} bytes`);
    } else {
      ctx.warn("the page tree root has no valid /Count");
    }
  } catch (error) {
    if (isBudgetLimit(error)) throw error;
    ctx.warn(`page tree unreadable${canDecrypt ? "" : " without the password"}: ${describeError(error)}`);
    pagesFromLinearization(pdf, ctx, linearization, file.size);
  }

  if (canDecrypt) {
    try {
      const info = await file.resolveDict(file.trailerValue("Info"));
      if (info) await readInfo(file, info, pdf, ctx);
    } catch (error) {
      if (isBudgetLimit(error)) throw error;
      ctx.warn(`document information unreadable: ${describeError(error)}`);
    }
  }
  if (canDecrypt || clearMetadata) {
    const xmp = await readXmp(file, root, ctx, !clearMetadata);
    if (xmp) mergeXmp(pdf, xmp);
  }
}

/**
 * The fields of the catalog's /Metadata stream, or undefined when it has none
 * or it cannot be read (with a warning: the information dictionary may still
 * hold them).
 */
async function readXmp(
  file: PdfFile,
  root: PdfDict,
  ctx: ExtractContext,
  decrypt: boolean,
): Promise<XmpFields | undefined> {
  const ref = root.get("Metadata");
  if (ref === undefined || ref === null) return undefined;
  try {
    if (!(ref instanceof PdfRef)) throw new ContentError("/Metadata is not a reference to a stream");
    const stream = await file.fetch(ref);
    const length = await file.resolve(
      stream.value instanceof PdfDict ? stream.value.get("Length") : undefined,
    );
    if (typeof length === "number" && length > MAX_XMP_BYTES) {
      throw new ContentError(`the stream of ${length} bytes exceeds the limit of ${MAX_XMP_BYTES}`);
    }
    const content = await file.streamContent(ref, { decrypt, maxBytes: MAX_XMP_BYTES });
    if (!content) throw new ContentError("/Metadata is not a stream");
    return parseXmp(content.data);
  } catch (error) {
    if (isBudgetLimit(error)) throw error;
    ctx.warn(`XMP metadata unreadable: ${describeError(error)}`);
    return undefined;
  }
}

/**
 * Takes the XMP packet's fields over the information dictionary's, as PDF
 * readers do (PDF 2.0 deprecates the dictionary for XMP): a field only one of
 * them states comes from it; where both do, XMP wins unless the dictionary's
 * /ModDate is later than xmp:MetadataDate, which means a tool that knows
 * only the dictionary edited the file after the packet was written.
 * `pdf` holds the dictionary's fields when this is called.
 */
function mergeXmp(pdf: PdfInfo, packet: XmpFields): void {
  const xmp = { ...packet, author: packetAuthor(packet, pdf.author) };
  const infoDate = pdf.modified === undefined ? undefined : instant(pdf.modified);
  const xmpDate = xmp.metadataDate === undefined ? undefined : instant(xmp.metadataDate);
  const infoIsNewer = infoDate !== undefined && xmpDate !== undefined && infoDate > xmpDate;
  for (const field of DOCUMENT_FIELDS) {
    const value = xmp[field];
    if (value !== undefined && (pdf[field] === undefined || !infoIsNewer)) pdf[field] = value;
  }
}

/**
 * The author the packet states. exiftool, asked to set Author, writes /Author
 * and pdf:Author and leaves dc:creator as it was: where the packet's two
 * authors differ, the one the dictionary agrees with is the one last set.
 * Otherwise dc:creator, the packet's own author field, and pdf:Author only
 * when the packet has no dc:creator.
 */
function packetAuthor(packet: XmpFields, infoAuthor: string | undefined): string | undefined {
  const { author, pdfAuthor } = packet;
  return pdfAuthor !== undefined && (author === undefined || pdfAuthor === infoAuthor) ? pdfAuthor : author;
}

/**
 * Milliseconds since the epoch of a date in the form `parsePdfDate` and
 * `parseXmpDate` write; one without a zone is taken as UTC, the best guess
 * for a file that does not say.
 */
function instant(iso: string): number | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(Z|([+-])(\d{2}):(\d{2}))?$/.exec(iso);
  if (!match) return undefined;
  const [, year, month, day, hour, minute, second] = match.map(Number) as number[];
  const utc = Date.UTC(year as number, (month as number) - 1, day, hour, minute, second);
  const offset = match[8] ? (match[8] === "-" ? -1 : 1) * (Number(match[9]) * 60 + Number(match[10])) : 0;
  return utc - offset * 60_000;
}

/** Falls back on the linearization dictionary's page count, saying where the figure came from. */
function pagesFromLinearization(
  pdf: PdfInfo,
  ctx: ExtractContext,
  linearization: PdfDict | undefined,
  size: number,
): void {
  const pages = linearizedPageCount(linearization, size);
  if (pages === undefined) return;
  pdf.pages = pages;
  ctx.warn("page count taken from the linearization dictionary");
}

async function readInfo(file: PdfFile, info: PdfDict, pdf: PdfInfo, ctx: ExtractContext): Promise<void> {
  const text = async (key: string): Promise<string | undefined> => {
    const value: PdfValue | undefined = await file.resolve(info.get(key));
    return value instanceof PdfString ? decodeTextString(value.bytes) : undefined;
  };
  for (const [key, field] of INFO_TEXT_FIELDS) {
    const value = cleanString(await text(key));
    if (value !== undefined) pdf[field] = value;
  }
  for (const [key, field] of INFO_DATE_FIELDS) {
    const raw = cleanString(await text(key));
    if (raw === undefined) continue;
    const date = parsePdfDate(raw);
    if (date) pdf[field] = date;
    else ctx.warn(`/${key} is not a PDF date: ${raw.slice(0, 40)}`);
  }
}
