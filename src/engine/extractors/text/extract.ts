import {
  decodeUtf32,
  delimitedRecords,
  detectDelimited,
  detectTextEncoding,
  splitDelimited,
  TEXT_SNIFF_BYTES,
  type TextEncoding,
} from "../../detect/text-sniff.js";
import { TEXT_EXACT_BYTES } from "../../limits.js";
import { textDecoder } from "../../text-decoder.js";
import type { Sections, TextInfo } from "../../types.js";
import type { ExtractContext } from "../extractor.js";

/** Bytes read per step; the plan has usually fetched them all in one request already. */
const CHUNK_BYTES = 64 * 1024;

/** Decoded text kept for the CSV shape and the large-JSON structural check. */
const SAMPLE_CHARS = 64 * 1024;

/** Records the CSV shape is decided on. */
const CSV_SAMPLE_RECORDS = 50;

/**
 * Whitespace as glibc's `iswspace` defines it in a UTF-8 locale, which is
 * where `POSIXLY_CORRECT=1 wc -w` splits words: ASCII whitespace and the
 * Unicode space and line separators, but not NEL (U+0085, a control) or the
 * no-break spaces (plain `wc -w` of coreutils 9.1 also splits at those).
 */
function isWordSeparator(code: number): boolean {
  if (code <= 0x20) return code === 0x20 || (code >= 0x09 && code <= 0x0d);
  if (code < 0x1680) return false;
  return (
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x2006) ||
    (code >= 0x2008 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x205f ||
    code === 0x3000
  );
}

/**
 * Counts lines, words, characters and line endings over text fed in pieces; a
 * CRLF or a surrogate pair split between two pieces is counted once.
 */
class TextCounter {
  chars = 0;
  words = 0;
  lf = 0;
  crlf = 0;
  cr = 0;
  private inWord = false;
  private pendingCr = false;
  private last = -1;

  feed(text: string): void {
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      // A low surrogate completes a character already counted.
      if (code < 0xdc00 || code > 0xdfff) this.chars++;
      if (this.pendingCr) {
        this.pendingCr = false;
        if (code === 0x0a) {
          this.crlf++;
          this.last = code;
          continue;
        }
        this.cr++;
      }
      if (code === 0x0a) this.lf++;
      else if (code === 0x0d) this.pendingCr = true;
      if (isWordSeparator(code)) {
        this.inWord = false;
      } else if (!this.inWord) {
        this.inWord = true;
        this.words++;
      }
      this.last = code;
    }
  }

  /** Line terminators seen, plus a last line without one. */
  finish(): { lines: number; lineEndings: TextInfo["lineEndings"] } {
    if (this.pendingCr) {
      this.pendingCr = false;
      this.cr++;
    }
    const terminators = this.lf + this.crlf + this.cr;
    const unterminated = this.chars > 0 && this.last !== 0x0a && this.last !== 0x0d ? 1 : 0;
    const kinds = [this.lf, this.crlf, this.cr].filter((count) => count > 0).length;
    let lineEndings: TextInfo["lineEndings"] = "none";
    if (kinds > 1) lineEndings = "mixed";
    else if (this.lf > 0) lineEndings = "lf";
    else if (this.crlf > 0) lineEndings = "crlf";
    else if (this.cr > 0) lineEndings = "cr";
    return { lines: terminators + unterminated, lineEndings };
  }
}

/** A streaming decoder for one encoding, UTF-32 included. */
interface ChunkDecoder {
  decode(bytes: Uint8Array, last: boolean): string;
}

function decoderFor(encoding: TextEncoding, fatal: boolean): ChunkDecoder {
  if (encoding.decoderLabel.startsWith("utf-32")) {
    const little = encoding.decoderLabel === "utf-32le";
    let carry = new Uint8Array(0);
    return {
      decode(bytes) {
        const joined = new Uint8Array(carry.length + bytes.length);
        joined.set(carry);
        joined.set(bytes, carry.length);
        const whole = joined.length - (joined.length % 4);
        carry = joined.slice(whole);
        return decodeUtf32(joined.subarray(0, whole), little);
      },
    };
  }
  const decoder = textDecoder(encoding.decoderLabel, { fatal, ignoreBOM: true });
  return { decode: (bytes, last) => decoder.decode(bytes, { stream: !last }) };
}

/** What text is read as when it is in no set detection names, or stops being UTF-8: every byte is a character. */
const SINGLE_BYTE: TextEncoding = {
  encoding: "windows-1252",
  bom: false,
  bomLength: 0,
  decoderLabel: "windows-1252",
};

const NOT_UTF8_BEYOND_HEAD = "text is not valid UTF-8 beyond its first bytes; decoded as single-byte";

interface Pass {
  /** The encoding the text was read in: the sniffed one, or the one decided where ASCII ended. */
  encoding: TextEncoding;
  counter: TextCounter;
  /** Bytes consumed, BOM included. */
  consumed: number;
  nonAscii: boolean;
  c1: boolean;
  sample: string;
  /** The whole decoded text, kept only for JSON that fits {@link TEXT_EXACT_BYTES}. */
  whole?: string;
}

/**
 * The encoding of text whose bytes before `start`, its first byte above 0x7F,
 * are ASCII and are not UTF-8 from there: decided on the bytes from `start`
 * on (up to `end`), as detection decides on a file's head, and with a
 * declaration in the file's head believed when they agree with it. ASCII
 * reads alike in every set this can answer, so what was counted before
 * `start` stands.
 */
async function encodingFrom(
  ctx: ExtractContext,
  start: number,
  end: number,
  head: Uint8Array,
): Promise<TextEncoding> {
  // Within the counted prefix, which the plan has read already.
  const window = await ctx.reader.read(start, Math.min(TEXT_SNIFF_BYTES, end - start));
  const found = detectTextEncoding(window, start + window.length >= ctx.reader.size, { declaredIn: head });
  // A set that reads ASCII as ASCII: not UTF-8, which breaks after the window, nor UTF-16 or UTF-32.
  if (found && !found.decoderLabel.startsWith("utf-")) return found;
  ctx.warn(NOT_UTF8_BEYOND_HEAD);
  return SINGLE_BYTE;
}

/**
 * Reads and counts the exact prefix once. When text sniffed as UTF-8 is ASCII
 * up to a piece that is not UTF-8, the encoding is decided again from there
 * and reading goes on in it. Throws TypeError from a fatal UTF-8 decoder when
 * text that was UTF-8 beyond ASCII breaks later.
 */
async function countPass(
  ctx: ExtractContext,
  sniffed: TextEncoding,
  end: number,
  keepWhole: boolean,
  head: Uint8Array,
): Promise<Pass> {
  let encoding = sniffed;
  let decoder = decoderFor(encoding, encoding.decoderLabel === "utf-8");
  const counter = new TextCounter();
  const pieces: string[] = [];
  let sample = "";
  let nonAscii = false;
  let c1 = false;
  let offset = encoding.bomLength;
  while (offset < end) {
    const chunk = await ctx.reader.read(offset, Math.min(CHUNK_BYTES, end - offset));
    if (chunk.length === 0) break;
    const chunkStart = offset;
    offset += chunk.length;
    const asciiBefore = !nonAscii;
    if (!nonAscii || (!c1 && encoding.decoderLabel === "windows-1252")) {
      for (const byte of chunk) {
        if (byte >= 0x80) {
          nonAscii = true;
          if (byte <= 0x9f) c1 = true;
        }
      }
    }
    const last = offset >= end && end === ctx.reader.size;
    let text: string;
    try {
      text = decoder.decode(chunk, last);
    } catch (error) {
      // Only a fatal UTF-8 decoder throws; one that has read nothing but ASCII holds no partial character.
      if (!(error instanceof TypeError) || !asciiBefore || encoding.bomLength > 0) throw error;
      const start = chunkStart + chunk.findIndex((byte) => byte >= 0x80);
      encoding = await encodingFrom(ctx, start, end, head);
      decoder = decoderFor(encoding, false);
      text = decoder.decode(chunk, last);
    }
    counter.feed(text);
    if (sample.length < SAMPLE_CHARS) sample += text.slice(0, SAMPLE_CHARS - sample.length);
    if (keepWhole) pieces.push(text);
  }
  return {
    encoding,
    counter,
    consumed: offset,
    nonAscii,
    c1,
    sample,
    ...(keepWhole && { whole: pieces.join("") }),
  };
}

/** The name reported for what the pass saw. */
function reportedEncoding(pass: Pass): string {
  const { encoding } = pass;
  if (encoding.decoderLabel === "utf-8" && !encoding.bom) return pass.nonAscii ? "utf-8" : "us-ascii";
  if (encoding.decoderLabel === "windows-1252") return pass.c1 ? "windows-1252" : "iso-8859-1";
  return encoding.encoding;
}

type JsonTop = NonNullable<TextInfo["json"]>["topLevel"];

function jsonTopLevel(text: string): JsonTop {
  const first = text.trimStart()[0];
  if (first === "{") return "object";
  if (first === "[") return "array";
  if (first === '"') return "string";
  if (first === "t" || first === "f") return "boolean";
  if (first === "n") return "null";
  if (first !== undefined && /[-\d]/.test(first)) return "number";
  return undefined;
}

/**
 * A structural check of a JSON prefix: brackets nest and match and strings
 * close before a line of the sample does. Enough to flag a file that is not
 * JSON at all, without parsing more than the prefix.
 */
function jsonPrefixLooksValid(text: string): boolean {
  const stack: string[] = [];
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (ch === "\\") i++;
      else if (ch === '"') inString = false;
      else if (ch === "\n") return false;
      continue;
    }
    if (ch === '"') inString = true;
    else if (ch === "{" || ch === "[") stack.push(ch === "{" ? "}" : "]");
    else if (ch === "}" || ch === "]") {
      if (stack.pop() !== ch) return false;
      if (stack.length === 0 && text.slice(i + 1).trim().length > 0) return false;
    }
  }
  return true;
}

function csvShape(mime: string, sample: string, complete: boolean): TextInfo["csv"] | undefined {
  const records = delimitedRecords(sample, CSV_SAMPLE_RECORDS, complete);
  const found = detectDelimited(records);
  if (found) return found;
  const header = records[0];
  if (header === undefined) return undefined;
  // Ragged rows: fall back to the header line and the delimiter it uses most.
  const candidates = mime === "text/tab-separated-values" ? ["\t"] : [",", ";", "\t", "|"];
  let best = { delimiter: candidates[0] as string, columns: 1 };
  for (const delimiter of candidates) {
    const columns = splitDelimited(header, delimiter).length;
    if (columns > best.columns) best = { delimiter, columns };
  }
  return best;
}

/**
 * Extracts {@link TextInfo}: counts are exact up to {@link TEXT_EXACT_BYTES}
 * and extrapolated from that prefix beyond it (`estimated: true`).
 *
 * @example
 * const sections = await extractText(ctx);
 * // { text: { encoding: "utf-8", bom: false, lineEndings: "lf", lines: 12, words: 80, chars: 512, estimated: false } }
 */
export async function extractText(ctx: ExtractContext): Promise<Sections> {
  const size = ctx.reader.size;
  const end = Math.min(size, TEXT_EXACT_BYTES);
  // The window detection sniffed: the encoding it judged the file text in.
  const head = await ctx.reader.read(0, Math.min(size, TEXT_SNIFF_BYTES));
  let encoding = detectTextEncoding(head, head.length >= size);
  if (!encoding) {
    ctx.warn("content does not look like text; counted as single-byte windows-1252");
    encoding = SINGLE_BYTE;
  }
  const isJson = ctx.format.mime === "application/json";
  const keepWhole = isJson && size <= TEXT_EXACT_BYTES;
  let pass: Pass;
  try {
    pass = await countPass(ctx, encoding, end, keepWhole, head);
  } catch (error) {
    if (!(error instanceof TypeError) || encoding.decoderLabel !== "utf-8") throw error;
    // UTF-8 beyond ASCII, then bytes that are not: read it all again (from cache) as single-byte.
    ctx.warn(NOT_UTF8_BEYOND_HEAD);
    encoding = SINGLE_BYTE;
    pass = await countPass(ctx, encoding, end, keepWhole, head);
  }

  const estimated = size > end;
  const scale = estimated && pass.consumed > 0 ? size / pass.consumed : 1;
  const { lines, lineEndings } = pass.counter.finish();
  const text: TextInfo = {
    encoding: reportedEncoding(pass),
    bom: pass.encoding.bom,
    lineEndings,
    lines: Math.round(lines * scale),
    words: Math.round(pass.counter.words * scale),
    chars: Math.round(pass.counter.chars * scale),
    estimated,
  };
  ctx.partial.text = text;

  if (ctx.format.mime === "text/csv" || ctx.format.mime === "text/tab-separated-values") {
    const csv = csvShape(ctx.format.mime, pass.sample, !estimated && pass.sample.length < SAMPLE_CHARS);
    if (csv) text.csv = csv;
  }
  if (isJson) {
    const topLevel = jsonTopLevel(pass.sample);
    let valid: boolean;
    if (pass.whole !== undefined) {
      try {
        JSON.parse(pass.whole);
        valid = true;
      } catch {
        valid = false;
      }
    } else {
      valid = jsonPrefixLooksValid(pass.sample);
      ctx.warn(`JSON validity checked on the first ${pass.sample.length} characters only`);
    }
    text.json = { valid, ...(topLevel && { topLevel }) };
  }
  return { text };
}
