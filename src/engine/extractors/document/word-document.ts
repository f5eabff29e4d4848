import type { StreamBytes } from "./workbook-globals.js";

/** FIB base ([MS-DOC] 2.5.2): wIdent, the Word 97 nFib, and the flags word with fEncrypted and fWhichTblStm. */
const WORD_IDENT = 0xa5ec;
const NFIB_WORD_97 = 0x00c1;
const FLAG_ENCRYPTED = 0x0100;
const FLAG_TABLE_1 = 0x0200;
const FIB_BASE_BYTES = 32;
/** fcDop's place in FibRgFcLcb97, from the start of that blob (31st pair of fc/lcb). */
const FC_DOP = 0xf8;
/** FIB bytes read: the base, fibRgW, fibRgLw and FibRgFcLcb97 up to lcbDop, with room to spare. */
const FIB_READ_BYTES = 512;
/** The Dop97 counts ([MS-DOC] 2.7.2, DopBase): cWords, cCh (characters) and cPg, at these offsets. */
const DOP_WORDS = 38;
const DOP_PAGES = 46;
const DOP_COUNTS_END = 48;

/** What a Word 97+ document's FIB says, and the counts its DOP holds. */
export interface WordDocumentFacts {
  /** fEncrypted: the document is encrypted or obfuscated (its table stream with it). */
  encrypted: boolean;
  /** cPg: pages, as Word counted them when it last saved. */
  pages?: number;
  /** cWords: words, likewise. */
  words?: number;
}

/**
 * The FIB of a legacy Word document (the start of its `WordDocument` stream)
 * and, unless it is encrypted, the page and word counts of its Document
 * Properties (DOP) in the table stream the FIB names (`0Table` or `1Table`).
 * Word writes these counts into the SummaryInformation set as well; other
 * writers (LibreOffice among them) fill in only the DOP, where exiftool reads
 * them too (its MS-DOC group). No counts from a FIB before Word 97's, whose
 * layout differs, or one too short to hold the fields; undefined for a
 * stream too short to hold even the flags.
 *
 * @example
 * await readWordDocument(stream(word), (name) => named(name) && stream(named(name)))
 * // { encrypted: false, pages: 4, words: 913 }
 */
export async function readWordDocument(
  wordDocument: StreamBytes,
  tableStream: (name: "0Table" | "1Table") => StreamBytes | undefined,
): Promise<WordDocumentFacts | undefined> {
  const fib = await wordDocument.read(0, FIB_READ_BYTES);
  if (fib.byteLength < 12) return undefined;
  const data = new DataView(fib.buffer, fib.byteOffset, fib.byteLength);
  // The flags word sits where it does in every Word version's FIB.
  const flags = data.getUint16(0x0a, true);
  const facts: WordDocumentFacts = { encrypted: (flags & FLAG_ENCRYPTED) !== 0 };
  if (facts.encrypted || fib.byteLength < FIB_BASE_BYTES + 2) return facts;
  if (data.getUint16(0, true) !== WORD_IDENT || data.getUint16(2, true) < NFIB_WORD_97) return facts;
  // The FIB after its base: fibRgW (csw 16-bit words), fibRgLw (cslw 32-bit words), then FibRgFcLcb.
  let at = FIB_BASE_BYTES;
  const skip = (unit: number) => {
    if (at + 2 > fib.byteLength) return false;
    at += 2 + data.getUint16(at, true) * unit;
    return true;
  };
  if (!skip(2) || !skip(4) || at + 2 > fib.byteLength) return facts;
  const pairs = data.getUint16(at, true);
  const dopAt = at + 2 + FC_DOP;
  if (pairs * 8 < FC_DOP + 8 || dopAt + 8 > fib.byteLength) return facts;
  const fcDop = data.getUint32(dopAt, true);
  const lcbDop = data.getUint32(dopAt + 4, true);
  const table = tableStream(flags & FLAG_TABLE_1 ? "1Table" : "0Table");
  if (!table || lcbDop < DOP_COUNTS_END || fcDop + DOP_COUNTS_END > table.size) return facts;
  const dop = await table.read(fcDop, DOP_COUNTS_END);
  if (dop.byteLength < DOP_COUNTS_END) return facts;
  const counts = new DataView(dop.buffer, dop.byteOffset, dop.byteLength);
  return { ...facts, pages: counts.getUint16(DOP_PAGES, true), words: counts.getUint32(DOP_WORDS, true) };
}
