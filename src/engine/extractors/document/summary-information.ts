import { cleanString } from "../../limits.js";
import { u16, u32 } from "../bytes.js";
import type { StreamBytes } from "./workbook-globals.js";

/**
 * The SummaryInformation property set of a legacy Office file ([MS-OLEPS]:
 * a PropertySetStream holding one PropertySet, with the PIDSI_* property
 * ids). Written by hand: no library reads a property set through ranged
 * reads of a compound file's sector chains.
 */

/** Bytes of the stream read at most; Office writes a few hundred, a thumbnail (PIDSI_THUMBNAIL) aside. */
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
const PIDSI_CODEPAGE = 1;
const PIDSI_SUBJECT = 3;
const PIDSI_KEYWORDS = 5;
const VT_I2 = 0x0002;
const VT_LPSTR = 0x001e;
const VT_LPWSTR = 0x001f;
/** CP_WINUNICODE: VT_LPSTR values are UTF-16LE. */
const CODE_PAGE_UTF16 = 1200;

/** Code pages whose WHATWG encoding label is not `windows-<n>`. */
const CODE_PAGE_LABELS: ReadonlyMap<number, string> = new Map([
  [932, "shift_jis"],
  [936, "gbk"],
  [949, "euc-kr"],
  [950, "big5"],
  [1200, "utf-16le"],
  [10000, "macintosh"],
  [20866, "koi8-r"],
  [65001, "utf-8"],
]);

/** What the property set states, each value cleaned and bounded. */
export interface SummaryInformation {
  subject?: string;
  keywords?: string;
}

/**
 * The subject and keywords a SummaryInformation stream states: its first
 * property set must be FMTID_SummaryInformation; strings are read in the
 * set's code page (PIDSI_CODEPAGE, Windows-1252 when absent or unknown), or
 * as UTF-16 for VT_LPWSTR. A set that is damaged yields what was read before
 * the damage, and a warning.
 *
 * @example
 * await readSummaryInformation(stream, warn) // { subject: "Relatório", keywords: "budget, Q3" }
 */
export async function readSummaryInformation(
  stream: StreamBytes,
  warn: (message: string) => void,
): Promise<SummaryInformation> {
  const bytes = await stream.read(0, Math.min(stream.size, MAX_SUMMARY_BYTES));
  const damaged = (why: string) => {
    warn(`SummaryInformation property set ${why}: subject and keywords not read`);
    return {};
  };
  if (bytes.byteLength < 48 || u16(bytes, 0) !== 0xfffe) return damaged("has no valid header");
  if (u32(bytes, 24) < 1 || !FMTID_SUMMARY_INFORMATION.every((byte, i) => bytes[28 + i] === byte))
    return damaged("does not begin with the summary set");
  const set = u32(bytes, 44);
  if (set + 8 > bytes.byteLength) return damaged("lies past the bytes read");
  const count = u32(bytes, set + 4);
  // Each property is at least an id/offset pair and an 8-byte value: a larger count is damage.
  if (set + 8 + count * 8 > bytes.byteLength) return damaged("lists more properties than it holds");
  const offsets = new Map<number, number>();
  for (let i = 0; i < count; i++)
    offsets.set(u32(bytes, set + 8 + i * 8), set + u32(bytes, set + 12 + i * 8));
  const codePageAt = offsets.get(PIDSI_CODEPAGE);
  const codePage =
    codePageAt !== undefined && codePageAt + 6 <= bytes.byteLength && u16(bytes, codePageAt) === VT_I2
      ? u16(bytes, codePageAt + 4)
      : undefined;
  const string = (id: number) => {
    const at = offsets.get(id);
    return at === undefined ? undefined : stringValue(bytes, at, codePage);
  };
  const subject = string(PIDSI_SUBJECT);
  const keywords = string(PIDSI_KEYWORDS);
  return { ...(subject && { subject }), ...(keywords && { keywords }) };
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
  const label = type === VT_LPWSTR || codePage === CODE_PAGE_UTF16 ? "utf-16le" : encodingOf(codePage);
  const text = new TextDecoder(label).decode(bytes.subarray(at + 8, at + 8 + byteLength));
  const end = text.indexOf("\0");
  return cleanString(end >= 0 ? text.slice(0, end) : text);
}

/** The TextDecoder label of a Windows code page, Windows-1252 when there is none. */
function encodingOf(codePage: number | undefined): string {
  if (codePage === undefined) return "windows-1252";
  const label = CODE_PAGE_LABELS.get(codePage) ?? `windows-${codePage}`;
  try {
    new TextDecoder(label);
    return label;
  } catch {
    return "windows-1252";
  }
}
