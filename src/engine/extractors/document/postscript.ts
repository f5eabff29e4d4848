/**
 * PostScript and EPS: the Document Structuring Conventions' header comments
 * (`%%Title:`, `%%Creator:`, `%%For:`, `%%CreationDate:`, `%%BoundingBox:`,
 * `%%Pages:`) and, for values deferred with `(atend)`, the trailer's.
 * Written by hand: they are plain comment lines no metadata library reads by range.
 */
import type { BlockReader } from "../../byte-source/block-reader.js";
import { ContentError } from "../../errors.js";
import { cleanString, HEAD_WINDOW_BYTES, TAIL_WINDOW_BYTES } from "../../limits.js";
import { textDecoder } from "../../text-decoder.js";
import type { DocumentInfo, ImageInfo } from "../../types.js";

/** What the structuring comments of a PostScript file state. */
export interface PostScriptReading {
  document: DocumentInfo;
  /** The bounding box's size in points, as exiftool reports ImageWidth/ImageHeight. */
  bounds?: Pick<ImageInfo, "width" | "height">;
  /** Why the file is cut short, when its own structure says so (see {@link truncation}). */
  truncated?: string;
}

/** The DOS EPS binary header: a PostScript section among TIFF/WMF previews. */
const DOS_EPS_MAGIC = [0xc5, 0xd0, 0xd3, 0xc6];
const DOS_EPS_HEADER_BYTES = 30;
/** Where the DOS EPS header states each section's offset, its length following (little-endian 32-bit). */
const DOS_EPS_SECTIONS: ReadonlyArray<readonly [string, number]> = [
  ["PostScript", 4],
  ["WMF preview", 12],
  ["TIFF preview", 20],
];

const KEYS = ["Title", "Creator", "For", "CreationDate", "BoundingBox", "Pages"] as const;
type Key = (typeof KEYS)[number];
type Comments = Partial<Record<Key, string>>;

/**
 * Reads the structuring comments of the head window (and of the tail window
 * for `(atend)` values) of a PostScript file or of a DOS EPS binary's
 * PostScript section.
 *
 * @example
 * const { document, bounds } = await readPostScript(ctx.reader);
 * // document = { kind: "eps", title: "earth", application: "Adobe Illustrator 88(TM) 1.6" }
 * // bounds = { width: 275, height: 275 }
 */
export async function readPostScript(reader: BlockReader): Promise<PostScriptReading> {
  const section = await postScriptSection(reader);
  const { start, end } = section;
  const head = latin1(await reader.read(start, Math.min(end - start, HEAD_WINDOW_BYTES)));
  const header = headerComments(head);
  const deferred = KEYS.filter((key) => header[key] === "(atend)");
  const tail = await tailText(reader, start, end);
  const trailer = deferred.length > 0 ? trailerComments(tail) : ({} as Comments);
  // A trailer that defers a value again states nothing.
  const value = (key: Key) => {
    const stated = header[key] === "(atend)" ? trailer[key] : header[key];
    return stated === "(atend)" ? undefined : stated;
  };

  const document: DocumentInfo = { kind: /^%!PS-Adobe-\d+\.\d+\s+EPSF-/.test(head) ? "eps" : "postscript" };
  const title = cleanString(textValue(value("Title")));
  const application = cleanString(textValue(value("Creator")));
  const creator = cleanString(textValue(value("For")));
  const created = dscDate(textValue(value("CreationDate")));
  // DSC 3.0: `%%Pages: <count> [<page order>]`, the order being -1, 0 or 1.
  const pagesMatch = /^(\d+)(?:\s+-?[01])?$/.exec(value("Pages") ?? "");
  const pages = pagesMatch ? Number(pagesMatch[1]) : undefined;
  if (title) document.title = title;
  if (application) document.application = application;
  if (creator) document.creator = creator;
  if (created) document.created = created;
  if (pages !== undefined && Number.isSafeInteger(pages)) document.pages = pages;
  const bounds = boundingBox(value("BoundingBox"));
  const truncated = section.cut ?? truncation(head, tail, deferred.length > 0);
  return { document, ...(bounds && { bounds }), ...(truncated && { truncated }) };
}

/**
 * Why a PostScript file is cut short, from what must come last in it. A file
 * whose tail holds `%%EOF` or `%%Trailer` ended where its writer ended it.
 * One without either is cut when its header promised a trailer by deferring a
 * value with `(atend)`, or when it is a DSC 3.0 document (not an EPS or a
 * resource file, which the conventions spare), which ends with both. Earlier
 * conventions (`%!PS-Adobe-2.0`, plain `%!PS`) require neither, so such a
 * file is never judged cut by its end.
 */
function truncation(head: string, tail: string, deferred: boolean): string | undefined {
  if (tail.includes("%%EOF") || tail.includes("%%Trailer")) return undefined;
  if (deferred) return "values deferred to the trailer with (atend), and no %%Trailer or %%EOF";
  if (/^%!PS-Adobe-3\.\d[ \t]*(?:\r|\n)/.test(head))
    return "a DSC 3.0 document ends with no %%Trailer or %%EOF";
  return undefined;
}

/**
 * The byte range holding PostScript: the whole file, or the section a DOS EPS
 * header names, as much of it as the file holds. The header states each
 * section's offset and length (PostScript, then a WMF and a TIFF preview, a
 * length of 0 for none), so one that ends past the end of the file shows it cut.
 */
async function postScriptSection(reader: BlockReader): Promise<{ start: number; end: number; cut?: string }> {
  const first = await reader.read(0, Math.min(reader.size, DOS_EPS_HEADER_BYTES));
  if (!DOS_EPS_MAGIC.every((byte, i) => first[i] === byte)) return { start: 0, end: reader.size };
  if (first.byteLength < DOS_EPS_HEADER_BYTES) throw new ContentError("truncated: EPS binary header");
  const view = new DataView(first.buffer, first.byteOffset, first.byteLength);
  const start = view.getUint32(4, true);
  const length = view.getUint32(8, true);
  if (start < DOS_EPS_HEADER_BYTES || start >= reader.size) {
    throw new ContentError(
      `EPS: PostScript section at ${start} lies outside the file of ${reader.size} bytes`,
    );
  }
  let cut: string | undefined;
  for (const [name, at] of DOS_EPS_SECTIONS) {
    const sectionStart = view.getUint32(at, true);
    const sectionLength = view.getUint32(at + 4, true);
    if (sectionLength > 0 && sectionStart + sectionLength > reader.size) {
      cut ??= `the EPS ${name} section ends at ${sectionStart + sectionLength}, the file has ${reader.size} bytes`;
    }
  }
  return { start, end: Math.min(start + length, reader.size), ...(cut && { cut }) };
}

function latin1(bytes: Uint8Array): string {
  // DSC comments are 7-bit ASCII; latin1 never fails and keeps one character per byte.
  return textDecoder("latin1").decode(bytes);
}

async function tailText(reader: BlockReader, start: number, end: number): Promise<string> {
  const from = Math.max(start, end - TAIL_WINDOW_BYTES);
  return latin1(await reader.read(from, end - from));
}

/**
 * Header comments: from the first line to `%%EndComments` or the first line
 * that is not a comment. The first occurrence of a key wins, as in exiftool.
 * `%%+` lines continue the previous value.
 */
function headerComments(text: string): Comments {
  const comments: Comments = {};
  let last: Key | undefined;
  for (const line of text.split(/\r\n|\r|\n/).slice(1)) {
    if (!line.startsWith("%") || line.startsWith("%%EndComments")) break;
    last = takeComment(comments, line, last);
  }
  return comments;
}

/** Comments after the last `%%Trailer` of the tail window. */
function trailerComments(text: string): Comments {
  const at = text.lastIndexOf("%%Trailer");
  const comments: Comments = {};
  if (at < 0) return comments;
  let last: Key | undefined;
  for (const line of text.slice(at).split(/\r\n|\r|\n/)) last = takeComment(comments, line, last);
  return comments;
}

function takeComment(comments: Comments, line: string, last: Key | undefined): Key | undefined {
  if (line.startsWith("%%+")) {
    if (last && comments[last] !== undefined) comments[last] = `${comments[last]} ${line.slice(3).trim()}`;
    return last;
  }
  const match = /^%%([A-Za-z]+):\s*(.*)$/.exec(line);
  if (!match) return undefined;
  const key = KEYS.find((name) => name === match[1]);
  if (!key || comments[key] !== undefined) return undefined;
  comments[key] = (match[2] as string).trim();
  return key;
}

/**
 * A DSC text value: one or more PostScript strings, `(...)` with `\` escapes
 * and balanced parentheses, joined by ", " as exiftool does (empty ones
 * dropped); anything else is taken as it stands.
 */
function textValue(value: string | undefined): string | undefined {
  if (value === undefined || !value.startsWith("(")) return value;
  const parts: string[] = [];
  let at = 0;
  while (at < value.length) {
    if (value[at] !== "(") return value;
    const parsed = postScriptString(value, at);
    if (!parsed) return value;
    if (parsed.text.trim()) parts.push(parsed.text.trim());
    at = parsed.end;
    while (value[at] === " " || value[at] === "\t") at++;
  }
  return parts.join(", ");
}

const ESCAPES: Record<string, string> = { n: "\n", r: "\r", t: "\t", b: "\b", f: "\f" };

/** The PostScript string opening at `start`, or undefined when it does not close. */
function postScriptString(value: string, start: number): { text: string; end: number } | undefined {
  let depth = 0;
  let text = "";
  for (let at = start; at < value.length; at++) {
    const char = value[at] as string;
    if (char === "\\") {
      const next = value[at + 1] ?? "";
      const octal = /^[0-7]{1,3}/.exec(value.slice(at + 1, at + 4));
      if (octal) {
        text += String.fromCharCode(Number.parseInt(octal[0], 8) & 0xff);
        at += octal[0].length;
      } else {
        text += ESCAPES[next] ?? next;
        at++;
      }
      continue;
    }
    if (char === "(" && depth++ === 0) continue;
    if (char === ")" && --depth === 0) return { text, end: at + 1 };
    text += char;
  }
  return undefined;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/**
 * `%%CreationDate` is free text; the forms writers use are read to ISO 8601:
 * PDF-style `D:YYYYMMDDHHmmSS+hh'mm'` (Ghostscript, Cairo), `M/D/YY h:mm AM`
 * (Illustrator), ctime `Wed Mar  4 12:34:56 2010` (dvips), and ISO itself.
 * Other text is left out rather than stored as a date it is not.
 */
function dscDate(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const pad = (n: number | string) => String(n).padStart(2, "0");
  // Day 0 of the next month is the last day of this one, so 2/31 and 2/29 of a common year fail.
  const daysIn = (y: number, mo: number) => new Date(Date.UTC(y, mo, 0)).getUTCDate();
  const stamp = (y: number, mo: number, d: number, h = 0, mi = 0, s = 0, zone = "") =>
    mo >= 1 && mo <= 12 && d >= 1 && d <= daysIn(y, mo) && h <= 23 && mi <= 59 && s <= 60
      ? `${y}-${pad(mo)}-${pad(d)}T${pad(h)}:${pad(mi)}:${pad(s)}${zone}`
      : undefined;
  let m = /^D:(\d{4})(\d\d)?(\d\d)?(\d\d)?(\d\d)?(\d\d)?(?:(Z)|([+-])(\d\d)'?(\d\d)?'?)?/.exec(value);
  if (m) {
    const zone = m[7] ? "Z" : m[8] ? `${m[8]}${m[9]}:${m[10] ?? "00"}` : "";
    return stamp(
      +(m[1] as string),
      +(m[2] ?? 1),
      +(m[3] ?? 1),
      +(m[4] ?? 0),
      +(m[5] ?? 0),
      +(m[6] ?? 0),
      zone,
    );
  }
  m = /^(\d{1,2})\/(\d{1,2})\/(\d{2}|\d{4})(?:,?\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?)?$/.exec(
    value,
  );
  if (m) {
    const short = +(m[3] as string);
    const year = (m[3] as string).length === 2 ? (short >= 70 ? 1900 : 2000) + short : short;
    let hour = +(m[4] ?? 0);
    if (m[7] && hour <= 12) hour = (hour % 12) + (/^p/i.test(m[7]) ? 12 : 0);
    return stamp(year, +(m[1] as string), +(m[2] as string), hour, +(m[5] ?? 0), +(m[6] ?? 0));
  }
  m = /^[A-Z][a-z]{2}\s+([A-Z][a-z]{2})\s+(\d{1,2})\s+(\d{1,2}):(\d{2}):(\d{2})\s+(\d{4})$/.exec(value);
  if (m) {
    const month = MONTHS.indexOf(m[1] as string) + 1;
    return stamp(
      +(m[6] as string),
      month,
      +(m[2] as string),
      +(m[3] as string),
      +(m[4] as string),
      +(m[5] as string),
    );
  }
  m = /^(\d{4})-(\d\d)-(\d\d)(?:[T ](\d\d):(\d\d)(?::(\d\d))?)?(Z|[+-]\d\d:\d\d)?$/.exec(value);
  if (m) {
    return stamp(
      +(m[1] as string),
      +(m[2] as string),
      +(m[3] as string),
      +(m[4] ?? 0),
      +(m[5] ?? 0),
      +(m[6] ?? 0),
      m[7] ?? "",
    );
  }
  return undefined;
}

/**
 * A DSC number: an integer or a plain decimal real; no exponent, radix or `0x` forms.
 * Each digit can belong to one part only: `\d+\.?\d*` lets a dotless run split anywhere,
 * and a long run that fails at its end then costs time quadratic in its length.
 */
const DSC_NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$/;

/** Coordinates past a PostScript integer's range (the spec's type for them) describe no real page. */
const MAX_COORDINATE = 2 ** 31;

/**
 * `llx lly urx ury`: integers by the spec, reals from some writers; sizes rounded to whole points.
 * `Number()` alone would take `0x10`, `1e308` and a difference of two huge reals that is Infinity.
 */
function boundingBox(value: string | undefined): Pick<ImageInfo, "width" | "height"> | undefined {
  const fields = value?.split(/\s+/);
  if (fields?.length !== 4 || !fields.every((field) => DSC_NUMBER.test(field))) return undefined;
  const numbers = fields.map(Number);
  if (numbers.some((n) => Math.abs(n) > MAX_COORDINATE)) return undefined;
  const [llx, lly, urx, ury] = numbers as [number, number, number, number];
  const width = Math.round(urx - llx);
  const height = Math.round(ury - lly);
  return width > 0 && height > 0 ? { width, height } : undefined;
}
