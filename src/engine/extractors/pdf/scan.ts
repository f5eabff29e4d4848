import type { BlockReader } from "../../byte-source/block-reader.js";
import { decodeStream } from "./filters.js";
import { latin1, PdfDict, PdfParser, PdfRef } from "./lexer.js";
import { isBudgetLimit } from "./pdf-file.js";
import { type XrefEntry, type XrefSection, xrefStreamSection } from "./xref.js";

/**
 * Rebuilds a cross-reference section for a file whose `startxref` or xref
 * data is broken, the way viewers repair files: find every `N G obj` and
 * every trailer in a bounded window. Files larger than the window are
 * scanned at their head and tail only, so the repair stays cheap.
 */

/** Bytes scanned from the head of a broken file. */
export const SCAN_HEAD_BYTES = 4 * 1024 * 1024;
/** Bytes scanned from the tail of a broken file larger than the head window. */
export const SCAN_TAIL_BYTES = 1024 * 1024;

/** What a scan found: sections to read objects through, and whether it covered the whole file. */
export interface ScanResult {
  sections: XrefSection[];
  complete: boolean;
}

/**
 * Scans for objects and trailers; returns undefined when there are none.
 *
 * @example
 * const scanned = await scanForObjects(reader);
 * if (scanned) file.useSections(scanned.sections);
 */
export async function scanForObjects(reader: BlockReader): Promise<ScanResult | undefined> {
  const windows: { offset: number; bytes: Uint8Array }[] = [
    { offset: 0, bytes: await reader.read(0, SCAN_HEAD_BYTES) },
  ];
  const complete = reader.size <= SCAN_HEAD_BYTES;
  if (!complete) {
    const start = Math.max(SCAN_HEAD_BYTES, reader.size - SCAN_TAIL_BYTES);
    windows.push({ offset: start, bytes: await reader.read(start, reader.size - start) });
  }
  const offsets = new Map<number, number>();
  const trailers: PdfDict[] = [];
  const xrefStreams: XrefSection[] = [];
  for (const window of windows) {
    const text = latin1(window.bytes);
    for (const match of text.matchAll(/(?<![0-9])(\d{1,8})[ \t\r\n\f\0]+(\d{1,5})[ \t\r\n\f\0]+obj\b/g)) {
      // Later definitions win, as incremental updates append new versions of objects.
      offsets.set(Number(match[1]), window.offset + match.index);
    }
    for (const match of text.matchAll(/trailer[\s\0]*<</g)) {
      const dict = parseDictAt(window.bytes, match.index + 7);
      if (dict) trailers.push(dict);
    }
    for (const match of text.matchAll(/\/Type\s*\/XRef\b/g)) {
      const section = xrefStreamNear(window.bytes, text, match.index);
      if (section) {
        trailers.push(section.trailer);
        xrefStreams.push(section);
      }
    }
    if (!trailers.some((trailer) => trailer.get("Root"))) {
      // No trailer names the catalog: take the last object that says it is one.
      const catalogs = [...text.matchAll(/\/Type\s*\/Catalog\b/g)];
      const last = catalogs[catalogs.length - 1];
      const owner = last && objectBefore(text, last.index);
      if (owner) {
        const dict = new PdfDict();
        dict.entries.set("Root", new PdfRef(owner, 0));
        trailers.push(dict);
      }
    }
  }
  if (offsets.size === 0) return undefined;
  const trailer = new PdfDict();
  // The last trailer in the file is the newest; fill gaps from older ones.
  for (const candidate of trailers.reverse()) {
    for (const [key, value] of candidate.entries)
      if (!trailer.entries.has(key)) trailer.entries.set(key, value);
  }
  trailer.entries.delete("Prev");
  trailer.entries.delete("XRefStm");
  const scanned: XrefSection = {
    trailer,
    lookup: async (num): Promise<XrefEntry | undefined> => {
      const offset = offsets.get(num);
      return offset === undefined ? undefined : { type: "offset", offset, gen: 0 };
    },
  };
  // Objects found by scanning come first; xref streams still locate objects inside object streams.
  return { sections: [scanned, ...xrefStreams.reverse()], complete };
}

function parseDictAt(bytes: Uint8Array, at: number): PdfDict | undefined {
  try {
    const value = new PdfParser(bytes, at, true).parseValue();
    return value instanceof PdfDict ? value : undefined;
  } catch (error) {
    if (isBudgetLimit(error)) throw error;
    return undefined;
  }
}

/** The object number of the last `N G obj` before `index`. */
function objectBefore(text: string, index: number): number | undefined {
  const before = text.slice(Math.max(0, index - 4096), index);
  const matches = [...before.matchAll(/(?<![0-9])(\d{1,8})\s+\d{1,5}\s+obj\b/g)];
  const last = matches[matches.length - 1];
  return last ? Number(last[1]) : undefined;
}

function xrefStreamNear(bytes: Uint8Array, text: string, index: number): XrefSection | undefined {
  const before = text.slice(Math.max(0, index - 4096), index);
  const matches = [...before.matchAll(/(?<![0-9])\d{1,8}\s+\d{1,5}\s+obj\b/g)];
  const last = matches[matches.length - 1];
  if (!last) return undefined;
  const start = Math.max(0, index - 4096) + last.index;
  try {
    const parser = new PdfParser(bytes, start, true);
    const object = parser.parseIndirectObject();
    if (!(object.value instanceof PdfDict) || object.streamStart === undefined) return undefined;
    const length = object.value.number("Length");
    if (length === undefined || object.streamStart + length > bytes.length) return undefined;
    const data = decodeStream(object.value, bytes.subarray(object.streamStart, object.streamStart + length));
    return xrefStreamSection(object.value, data);
  } catch (error) {
    if (isBudgetLimit(error)) throw error;
    return undefined;
  }
}
