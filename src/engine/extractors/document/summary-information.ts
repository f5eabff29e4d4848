import { cleanString, definedFields } from "../../limits.js";
import { textDecoder } from "../../text-decoder.js";
import type { DocumentInfo } from "../../types.js";
import { u16, u32 } from "../bytes.js";
import { encodingOfCodePage } from "../code-pages.js";
import type { StreamBytes } from "./workbook-globals.js";

/**
 * The SummaryInformation and DocumentSummaryInformation property sets of a
 * legacy Office file ([MS-OLEPS]: a PropertySetStream whose first
 * PropertySet has the PIDSI_* or PIDDSI_* property ids). Written by hand: no
 * library reads a property set through ranged reads of a compound file's
 * sector chains.
 */

/** Bytes of a stream read at most; Office writes a few hundred, a thumbnail (PIDSI_THUMBNAIL) aside. */
export const MAX_SUMMARY_BYTES = 64 * 1024;

/** FMTID_SummaryInformation, {F29F85E0-4FF9-1068-AB91-08002B27B3D9}, as stored (GUID byte order). */
const FMTID_SUMMARY_INFORMATION = Uint8Array.of(
  0xe0,
  0x85,
  0x9f,
  0xf2,
  0xf9,
  0x4f,
  0x68,
  0x10,
  0xab,
  0x91,
  0x08,
  0x00,
  0x2b,
  0x27,
  0xb3,
  0xd9,
);
/** FMTID_DocSummaryInformation, {D5CDD502-2E9C-101B-9397-08002B2CF9AE}, as stored. */
const FMTID_DOC_SUMMARY_INFORMATION = Uint8Array.of(
  0x02,
  0xd5,
  0xcd,
  0xd5,
  0x9c,
  0x2e,
  0x1b,
  0x10,
  0x93,
  0x97,
  0x08,
  0x00,
  0x2b,
  0x2c,
  0xf9,
  0xae,
);
const PIDSI_CODEPAGE = 1;
const PIDSI_TITLE = 2;
const PIDSI_SUBJECT = 3;
const PIDSI_AUTHOR = 4;
const PIDSI_KEYWORDS = 5;
const PIDSI_TEMPLATE = 7;
const PIDSI_LASTAUTHOR = 8;
const PIDSI_CREATE_DTM = 12;
const PIDSI_LASTSAVE_DTM = 13;
const PIDSI_PAGECOUNT = 14;
const PIDSI_WORDCOUNT = 15;
const PIDDSI_SLIDECOUNT = 7;
const VT_I2 = 0x0002;
const VT_I4 = 0x0003;
const VT_LPSTR = 0x001e;
const VT_LPWSTR = 0x001f;
const VT_FILETIME = 0x0040;
/** CP_WINUNICODE: VT_LPSTR values are UTF-16LE. */
const CODE_PAGE_UTF16 = 1200;
/** Seconds from the FILETIME epoch (1601-01-01) to the Unix epoch. */
const FILETIME_UNIX_EPOCH_SECONDS = 11_644_473_600n;
const FILETIME_TICKS_PER_SECOND = 10_000_000n;
/**
 * Seconds since 1970 of 10000-01-01T00:00:00Z: the first instant the ISO form
 * cannot write with four digits. No compound file was saved before 1970
 * either; a FILETIME outside those years (zero among them) is damage or a
 * placeholder, not a date.
 */
const LAST_DATE_SECONDS = 253_402_300_800n;

/**
 * What the SummaryInformation set states, in DocumentInfo's terms: PIDSI_TITLE,
 * _SUBJECT and _KEYWORDS as themselves, PIDSI_AUTHOR as `creator`,
 * _LASTAUTHOR as `lastModifiedBy`, _CREATE_DTM and _LASTSAVE_DTM as `created`
 * and `modified`, _PAGECOUNT and _WORDCOUNT as `pages` and `words` (Word's
 * counts, and PowerPoint's words; other writers leave them out or use the ids
 * for something else). Strings cleaned and bounded, times in ISO 8601 UTC to
 * the second (as OOXML core properties write them), counts non-negative.
 */
export type SummaryInformation = Pick<
  DocumentInfo,
  "title" | "subject" | "keywords" | "creator" | "lastModifiedBy" | "created" | "modified" | "pages" | "words"
>;

/**
 * The document properties a SummaryInformation stream states: its first
 * property set must be FMTID_SummaryInformation; strings are read in the
 * set's code page (PIDSI_CODEPAGE, Windows-1252 when absent or unknown), or
 * as UTF-16 for VT_LPWSTR. A property of another type than [MS-OLEPS] gives
 * it is left out, as is a FILETIME outside 1970-9999. A set that is damaged
 * yields nothing, and a warning.
 *
 * @example
 * await readSummaryInformation(stream, warn)
 * // { title: "Relatório", creator: "Ann", created: "2017-08-02T09:09:18Z", pages: 4, words: 913 }
 */
export async function readSummaryInformation(
  stream: StreamBytes,
  warn: (message: string) => void,
): Promise<SummaryInformation> {
  const set = await readPropertySet(stream, FMTID_SUMMARY_INFORMATION, (why) =>
    warn(`SummaryInformation property set ${why}: document properties not read`),
  );
  if (!set) return {};
  const found: SummaryInformation = {
    title: set.string(PIDSI_TITLE),
    subject: set.string(PIDSI_SUBJECT),
    keywords: set.string(PIDSI_KEYWORDS),
    creator: set.string(PIDSI_AUTHOR),
    lastModifiedBy: set.string(PIDSI_LASTAUTHOR),
    created: set.time(PIDSI_CREATE_DTM),
    modified: set.time(PIDSI_LASTSAVE_DTM),
    pages: set.count(PIDSI_PAGECOUNT),
    words: set.count(PIDSI_WORDCOUNT),
  };
  return definedFields(found);
}

/**
 * What a Windows Installer package's SummaryInformation set states ([MS-MSI]'s
 * Summary Information Stream): the product's description (PIDSI_SUBJECT), its
 * manufacturer (PIDSI_AUTHOR), the platform and languages it installs for
 * (PIDSI_TEMPLATE, `x64;1033`) and when the package was made
 * (PIDSI_CREATE_DTM). A damaged set yields nothing, and a warning.
 *
 * @example
 * await readInstallerSummary(stream, warn) // { subject: "Tool installer", author: "Example Ltd.", template: "x64;1033", created: "2026-11-29T11:35:54Z" }
 */
export async function readInstallerSummary(
  stream: StreamBytes,
  warn: (message: string) => void,
): Promise<{ subject?: string; author?: string; template?: string; created?: string }> {
  const set = await readPropertySet(stream, FMTID_SUMMARY_INFORMATION, (why) =>
    warn(`SummaryInformation property set ${why}: the package's summary not read`),
  );
  if (!set) return {};
  const found = {
    subject: set.string(PIDSI_SUBJECT),
    author: set.string(PIDSI_AUTHOR),
    template: set.string(PIDSI_TEMPLATE),
    created: set.time(PIDSI_CREATE_DTM),
  };
  return definedFields(found);
}

/**
 * The slide count (PIDDSI_SLIDECOUNT) a DocumentSummaryInformation stream
 * states, whose first property set must be FMTID_DocSummaryInformation (the
 * user-defined set that may follow is not read). A damaged set yields
 * nothing, and a warning.
 *
 * @example
 * await readDocumentSummaryInformation(stream, warn) // { slides: 12 }
 */
export async function readDocumentSummaryInformation(
  stream: StreamBytes,
  warn: (message: string) => void,
): Promise<{ slides?: number }> {
  const set = await readPropertySet(stream, FMTID_DOC_SUMMARY_INFORMATION, (why) =>
    warn(`DocumentSummaryInformation property set ${why}: slide count not read`),
  );
  const slides = set?.count(PIDDSI_SLIDECOUNT);
  return slides === undefined ? {} : { slides };
}

/** Typed reads of one property set's values by property id; undefined for an absent id or another type. */
interface PropertySet {
  string(id: number): string | undefined;
  time(id: number): string | undefined;
  count(id: number): number | undefined;
}

/**
 * The first property set of a PropertySetStream, when its FMTID is `fmtid`
 * and its property list fits in the bytes read; otherwise undefined, after
 * telling `damaged` why.
 */
async function readPropertySet(
  stream: StreamBytes,
  fmtid: Uint8Array,
  damaged: (why: string) => void,
): Promise<PropertySet | undefined> {
  const bytes = await stream.read(0, Math.min(stream.size, MAX_SUMMARY_BYTES));
  const fail = (why: string) => {
    damaged(why);
    return undefined;
  };
  if (bytes.byteLength < 48 || u16(bytes, 0) !== 0xfffe) return fail("has no valid header");
  if (u32(bytes, 24) < 1 || !fmtid.every((byte, i) => bytes[28 + i] === byte))
    return fail("begins with another set");
  const set = u32(bytes, 44);
  if (set + 8 > bytes.byteLength) return fail("lies past the bytes read");
  const count = u32(bytes, set + 4);
  // Each property is at least an id/offset pair and an 8-byte value: a larger count is damage.
  if (set + 8 + count * 8 > bytes.byteLength) return fail("lists more properties than it holds");
  const offsets = new Map<number, number>();
  for (let i = 0; i < count; i++)
    offsets.set(u32(bytes, set + 8 + i * 8), set + u32(bytes, set + 12 + i * 8));
  /** Where the value of `id` begins, when it has type `type` and its first `length` bytes were read. */
  const typedValueAt = (id: number, type: number, length: number) => {
    const at = offsets.get(id);
    return at !== undefined && at + length <= bytes.byteLength && u16(bytes, at) === type ? at : undefined;
  };
  const codePageAt = typedValueAt(PIDSI_CODEPAGE, VT_I2, 6);
  const codePage = codePageAt === undefined ? undefined : u16(bytes, codePageAt + 4);
  return {
    string(id) {
      const at = offsets.get(id);
      return at === undefined ? undefined : stringValue(bytes, at, codePage);
    },
    time(id) {
      const at = typedValueAt(id, VT_FILETIME, 12);
      return at === undefined ? undefined : fileTime(bytes, at + 4);
    },
    count(id) {
      const at = typedValueAt(id, VT_I4, 8);
      if (at === undefined) return undefined;
      const value = new DataView(bytes.buffer, bytes.byteOffset + at + 4, 4).getInt32(0, true);
      return value >= 0 ? value : undefined;
    },
  };
}

/**
 * A FILETIME (100-nanosecond ticks since 1601-01-01 UTC) as ISO 8601 to the
 * second, `2017-08-02T09:09:18Z`; undefined outside 1970-9999 (see
 * {@link LAST_DATE_SECONDS}). BigInt because the ticks of any recent date
 * are past what a double holds exactly.
 */
function fileTime(bytes: Uint8Array, at: number): string | undefined {
  const ticks = new DataView(bytes.buffer, bytes.byteOffset + at, 8).getBigUint64(0, true);
  const seconds = ticks / FILETIME_TICKS_PER_SECOND - FILETIME_UNIX_EPOCH_SECONDS;
  if (seconds < 0n || seconds >= LAST_DATE_SECONDS) return undefined;
  return new Date(Number(seconds) * 1000).toISOString().replace(".000Z", "Z");
}

/**
 * A VT_LPSTR (CodePageString: a byte count, then the bytes) or VT_LPWSTR
 * (UnicodeString: a character count, then UTF-16LE) value, up to its NUL;
 * undefined for another type or a length past the bytes read.
 */
function stringValue(bytes: Uint8Array, at: number, codePage: number | undefined): string | undefined {
  if (at + 8 > bytes.byteLength) return undefined;
  const type = u16(bytes, at);
  const length = u32(bytes, at + 4);
  const byteLength = type === VT_LPWSTR ? length * 2 : length;
  if ((type !== VT_LPSTR && type !== VT_LPWSTR) || at + 8 + byteLength > bytes.byteLength) return undefined;
  const label =
    type === VT_LPWSTR || codePage === CODE_PAGE_UTF16 ? "utf-16le" : encodingOfCodePage(codePage);
  const text = textDecoder(label).decode(bytes.subarray(at + 8, at + 8 + byteLength));
  const end = text.indexOf("\0");
  return cleanString(end >= 0 ? text.slice(0, end) : text);
}
