import { ContentError } from "../../errors.js";
import { boundedLength, MAX_STRUCTURE_BYTES } from "../../limits.js";
import { latin1, NeedMoreBytes, PdfDict, PdfParser } from "./lexer.js";

/**
 * Cross-reference sections (ISO 32000-2 §7.5.4, §7.5.8): classic `xref`
 * tables, read lazily because their rows have a fixed width (only the rows of
 * the objects we look up are read), and cross-reference streams, decoded whole.
 *
 * Within one section both kinds keep the first row listing an object number.
 * The standard forbids a second one; Acrobat (PDF Reference 1.7, implementation
 * note 15) and pdf.js read the first, so a damaged table names the same object
 * here as in the viewers. Which section wins across a file's updates is
 * `PdfFile`'s business.
 */

/** Where one object lives. */
export type XrefEntry =
  | { type: "free" }
  | { type: "offset"; offset: number; gen: number }
  | { type: "compressed"; stream: number; index: number };

/** One cross-reference section with its trailer dictionary. */
export interface XrefSection {
  trailer: PdfDict;
  /** The entry for an object number, or undefined when this section does not list it. */
  lookup(num: number): Promise<XrefEntry | undefined>;
}

/** Reads bytes of the file; returns fewer only at its end. */
export type ReadBytes = (offset: number, length: number) => Promise<Uint8Array>;

/** Object numbers past this are corrupt (the format's practical limit is 8,388,607). */
export const MAX_OBJECT_NUMBER = 16_777_216;

/** Subsections of one classic table; more means a corrupt or hostile table. */
const MAX_SUBSECTIONS = 65_536;

interface Subsection {
  start: number;
  count: number;
  /** File offset of the first row. */
  at: number;
  rowBytes: number;
}

/**
 * Reads a classic table at `offset` (which must start with `xref`), its
 * subsection headers and its trailer, but none of its rows.
 *
 * @example
 * const section = await readXrefTable(read, 116, fileSize);
 * const entry = await section.lookup(1); // { type: "offset", offset: 15, gen: 0 }
 */
export async function readXrefTable(read: ReadBytes, offset: number, size: number): Promise<XrefSection> {
  const head = await read(offset, 64);
  const headText = latin1(head);
  if (!headText.startsWith("xref")) throw new ContentError(`no xref table at offset ${offset}`);
  let pos = offset + 4;
  const subsections: Subsection[] = [];
  while (true) {
    if (subsections.length > MAX_SUBSECTIONS) throw new ContentError("too many xref subsections");
    if (pos >= size) throw new ContentError("xref table has no trailer");
    const line = latin1(await read(pos, 64));
    const lead = /^\s*/.exec(line)?.[0].length ?? 0;
    const rest = line.slice(lead);
    if (rest.startsWith("trailer")) {
      const trailer = await readDictAt(read, pos + lead + 7, size);
      return tableSection(read, subsections, trailer);
    }
    const header = /^(\d{1,10})[ \t]+(\d{1,10})[ \t]*\r?\n?/.exec(rest);
    if (!header) throw new ContentError(`bad xref subsection header at offset ${pos + lead}`);
    let start = boundedLength(Number(header[1]), MAX_OBJECT_NUMBER, "xref subsection start");
    const count = boundedLength(Number(header[2]), MAX_OBJECT_NUMBER, "xref subsection count");
    let at = pos + lead + header[0].length;
    const rows = latin1(await read(at, 64));
    const skip = /^\s*/.exec(rows)?.[0].length ?? 0;
    at += skip;
    const rowBytes = rowWidth(rows.slice(skip));
    // A common producer bug: "1 n" for a table that starts with the free head of object 0.
    if (start === 1 && /^0{10} 65535 f/.test(rows.slice(skip))) start = 0;
    if (count > 0) subsections.push({ start, count, at, rowBytes });
    pos = at + count * rowBytes;
  }
}

/** Width of a row: 20 by the standard, 19 or 21 in files with a one- or three-byte line end. */
function rowWidth(rows: string): number {
  const match = /^\d{10} \d{5} [nf]([ \r\n]*)/.exec(rows);
  if (!match) return 20;
  const width = 18 + (match[1]?.length ?? 2);
  return width >= 19 && width <= 21 ? width : 20;
}

function tableSection(read: ReadBytes, subsections: Subsection[], trailer: PdfDict): XrefSection {
  return {
    trailer,
    async lookup(num) {
      for (const sub of subsections) {
        if (num < sub.start || num >= sub.start + sub.count) continue;
        const row = latin1(await read(sub.at + (num - sub.start) * sub.rowBytes, sub.rowBytes + 2));
        const match = /^\s*(\d{1,10})\s+(\d{1,5})\s+([nf])/.exec(row);
        if (!match) return undefined;
        if (match[3] === "f") return { type: "free" };
        return { type: "offset", offset: Number(match[1]), gen: Number(match[2]) };
      }
      return undefined;
    },
  };
}

/** Reads a dictionary starting at or after `offset`, growing the window as needed. */
export async function readDictAt(read: ReadBytes, offset: number, size: number): Promise<PdfDict> {
  const value = await parseGrowing(read, offset, size, (parser) => parser.parseValue());
  if (!(value instanceof PdfDict)) throw new ContentError(`expected a dictionary at offset ${offset}`);
  return value;
}

/**
 * Runs `parse` over a window at `offset`, reading a larger window whenever the
 * parse runs out of bytes, up to the structure limit.
 */
export async function parseGrowing<T>(
  read: ReadBytes,
  offset: number,
  size: number,
  parse: (parser: PdfParser) => T,
  firstWindow = 2048,
): Promise<T> {
  let window = firstWindow;
  while (true) {
    const bytes = await read(offset, window);
    const atEnd = offset + bytes.length >= size;
    try {
      return parse(new PdfParser(bytes, 0, atEnd));
    } catch (error) {
      if (!(error instanceof NeedMoreBytes)) throw error;
      if (window >= MAX_STRUCTURE_BYTES) {
        throw new ContentError(`object at offset ${offset} is larger than ${MAX_STRUCTURE_BYTES} bytes`);
      }
      window = Math.min(MAX_STRUCTURE_BYTES, window * 4);
    }
  }
}

/**
 * Decodes the rows of a cross-reference stream whose dictionary is `dict`.
 *
 * @example
 * const section = xrefStreamSection(dict, decodeStream(dict, raw));
 */
export function xrefStreamSection(dict: PdfDict, data: Uint8Array): XrefSection {
  const widths = dict.get("W");
  if (!Array.isArray(widths) || widths.length < 3 || !widths.every((w) => typeof w === "number")) {
    throw new ContentError("xref stream has no valid /W");
  }
  const [w0, w1, w2] = (widths as number[]).map((w) => boundedLength(w, 8, "xref stream field width")) as [
    number,
    number,
    number,
  ];
  const rowBytes = w0 + w1 + w2;
  if (rowBytes === 0) throw new ContentError("xref stream rows are empty");
  const size = boundedLength(dict.number("Size") ?? 0, MAX_OBJECT_NUMBER, "xref stream /Size");
  const index = dict.get("Index");
  const ranges: number[] = Array.isArray(index)
    ? index.filter((n): n is number => typeof n === "number")
    : [0, size];
  const entries = new Map<number, XrefEntry>();
  let row = 0;
  const field = (at: number, width: number): number => {
    let value = 0;
    for (let i = 0; i < width; i++) value = value * 256 + (data[at + i] as number);
    return value;
  };
  for (let r = 0; r + 1 < ranges.length; r += 2) {
    const start = boundedLength(ranges[r] as number, MAX_OBJECT_NUMBER, "xref stream /Index start");
    const count = boundedLength(ranges[r + 1] as number, MAX_OBJECT_NUMBER, "xref stream /Index count");
    for (let i = 0; i < count; i++, row++) {
      const at = row * rowBytes;
      if (at + rowBytes > data.length) break;
      const type = w0 === 0 ? 1 : field(at, w0);
      const second = field(at + w0, w1);
      const third = field(at + w0 + w1, w2);
      if (entries.has(start + i)) continue;
      if (type === 0) entries.set(start + i, { type: "free" });
      else if (type === 1) entries.set(start + i, { type: "offset", offset: second, gen: third });
      else if (type === 2) entries.set(start + i, { type: "compressed", stream: second, index: third });
      // Types past 2 are reserved and name the null object (ISO 32000-1 §7.5.8.3), as a free row does.
      else entries.set(start + i, { type: "free" });
    }
  }
  return { trailer: dict, lookup: async (num) => entries.get(num) };
}
