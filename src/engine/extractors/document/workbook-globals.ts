import { LimitExceededError } from "../../errors.js";
import { boundedLength } from "../../limits.js";
import { u16, u32 } from "../bytes.js";

/**
 * The globals substream of a legacy Excel (BIFF5/BIFF8) Workbook stream,
 * walked record by record for its FILEPASS and BOUNDSHEET records
 * ([MS-XLS] 2.1.4, 2.4.28, 2.4.117). Written by hand: no library reads BIFF
 * through ranged reads of a compound file's sector chains.
 */

/**
 * Bytes of the globals substream walked at most. The sheet list comes early;
 * what makes the globals long is the shared string table after it.
 */
export const MAX_GLOBALS_BYTES = 256 * 1024;
/** Largest record body BIFF8 allows ([MS-XLS] 2.1.4). */
const MAX_RECORD_BYTES = 8224;

const BOF = 0x0809;
const EOF = 0x000a;
const FILEPASS = 0x002f;
const BOUNDSHEET = 0x0085;
/** BOF `dt`: the substream that follows. */
const BOF_GLOBALS = 0x0005;
/** Sheets that hold code: a VBA module (BIFF5/7; [MS-XLS] 2.4.21 lists no such BOF) and an Excel 4.0 macro sheet. */
const BOF_CODE_SHEETS: ReadonlySet<number> = new Set([0x0006, 0x0040]);
/** BoundSheet8 `dt` of sheets that hold code ([MS-XLS] 2.4.28): an Excel 4.0 macro sheet, a VBA module. */
const SHEET_CODE_TYPES: ReadonlySet<number> = new Set([0x01, 0x06]);

/** A stream's bytes by position, whatever sector chain holds them. */
export interface StreamBytes {
  readonly size: number;
  /** Up to `length` bytes at `position`; fewer at the end of the stream or of its chain. */
  read(position: number, length: number): Promise<Uint8Array>;
}

/** What the globals substream tells about the workbook. */
export interface WorkbookGlobals {
  /** A FILEPASS record was read; undefined when the stream does not begin with the globals' BOF. */
  encrypted?: boolean;
  /** BOUNDSHEET records read. */
  sheets: number;
  /**
   * Of those, sheets that hold code, whatever their hidden state: Excel 4.0
   * (XLM) macro sheets, and the VBA module sheets of Excel 5/95 workbooks.
   */
  macroSheets: number;
}

/**
 * Walks the globals substream from its BOF record to its EOF record (at most
 * {@link MAX_GLOBALS_BYTES}) and counts the sheets and macro sheets its
 * BOUNDSHEET records list. A BOUNDSHEET's type byte tells a macro sheet
 * (`dt` 0x01) or a VBA module sheet (`dt` 0x06), except in an encrypted
 * workbook: after FILEPASS only record headers, BOF records and a
 * BOUNDSHEET's stream position stay in the clear ([MS-XLS] 2.2.10), so
 * there the type comes from the BOF record (`dt` 0x0040, or 0x0006 for a
 * module) each position points to. A walk cut short by the read budget, a
 * record running past the stream or an oversized length keeps what it read
 * and says so through `warn`.
 *
 * @example
 * await readWorkbookGlobals(stream, ctx.warn) // { encrypted: false, sheets: 2, macroSheets: 1 }
 */
export async function readWorkbookGlobals(
  stream: StreamBytes,
  warn: (message: string) => void,
): Promise<WorkbookGlobals> {
  const globals: WorkbookGlobals = { sheets: 0, macroSheets: 0 };
  /** Stream positions of the sheets' BOF records, kept when their types are encrypted. */
  const hidden: number[] = [];
  try {
    const bof = await stream.read(0, 8);
    if (bof.byteLength < 8 || u16(bof, 0) !== BOF || u16(bof, 6) !== BOF_GLOBALS) {
      warn("Workbook stream does not begin with a workbook globals BOF record");
      return globals;
    }
    globals.encrypted = false;
    const end = Math.min(stream.size, MAX_GLOBALS_BYTES);
    let position = 4 + boundedLength(u16(bof, 2), MAX_RECORD_BYTES, "BIFF BOF record");
    for (;;) {
      if (position >= end) {
        if (position < stream.size) {
          if (globals.sheets === 0) warn(`no sheet listed in the first ${end} bytes of the Workbook globals`);
        } else {
          warn("Workbook stream ends before the globals' EOF record");
        }
        break;
      }
      const header = await stream.read(position, 4);
      if (header.byteLength < 4) {
        warn(`Workbook stream ends inside a record header at byte ${position}`);
        break;
      }
      const type = u16(header, 0);
      const length = boundedLength(u16(header, 2), MAX_RECORD_BYTES, "BIFF record");
      if (type === EOF) break;
      const body = position + 4;
      if (body + length > stream.size) {
        warn(
          `Workbook record 0x${type.toString(16).padStart(4, "0")} at byte ${position} runs past the stream`,
        );
        break;
      }
      if (type === FILEPASS) globals.encrypted = true;
      if (type === BOUNDSHEET && length >= 6) {
        const sheet = await stream.read(body, 6);
        if (sheet.byteLength < 6) break;
        globals.sheets += 1;
        if (globals.encrypted) hidden.push(u32(sheet, 0));
        else if (SHEET_CODE_TYPES.has(sheet[5] as number)) globals.macroSheets += 1;
      }
      position = body + length;
    }
    for (const at of hidden) {
      if (at + 8 > stream.size) continue;
      const sheetBof = await stream.read(at, 8);
      if (sheetBof.byteLength === 8 && u16(sheetBof, 0) === BOF && BOF_CODE_SHEETS.has(u16(sheetBof, 6))) {
        globals.macroSheets += 1;
      }
    }
  } catch (error) {
    if (!(error instanceof LimitExceededError)) throw error;
    warn(`Workbook globals read in part, macro sheets may go unseen: ${error.message}`);
  }
  return globals;
}
