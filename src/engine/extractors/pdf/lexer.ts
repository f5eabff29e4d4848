import { ContentError } from "../../errors.js";

/**
 * PDF object syntax (ISO 32000-2 §7.2–7.3): a tokenizer and a recursive
 * parser over an in-memory window of the file. The extractor reads a window at
 * an offset and parses one object from it; when the object runs past the end of
 * the window the parser throws {@link NeedMoreBytes} so the caller can read a
 * larger window, which keeps reads proportional to the objects actually needed.
 */

/** A PDF name object (`/Type`), with `#xx` escapes decoded. */
export class PdfName {
  constructor(readonly value: string) {}
}

/** A PDF string object: raw bytes, decoded to text only where the caller knows it is text. */
export class PdfString {
  constructor(readonly bytes: Uint8Array) {}
}

/** An indirect reference `num gen R`. */
export class PdfRef {
  constructor(
    readonly num: number,
    readonly gen: number,
  ) {}
}

/** A dictionary; keys are names without the slash. */
export class PdfDict {
  readonly entries = new Map<string, PdfValue>();
  get(key: string): PdfValue | undefined {
    return this.entries.get(key);
  }
  /** The value of `key` when it is a name, else undefined. */
  name(key: string): string | undefined {
    const value = this.entries.get(key);
    return value instanceof PdfName ? value.value : undefined;
  }
  /** The value of `key` when it is a finite number, else undefined. */
  number(key: string): number | undefined {
    const value = this.entries.get(key);
    return typeof value === "number" && Number.isFinite(value) ? value : undefined;
  }
}

export type PdfValue = null | boolean | number | PdfName | PdfString | PdfRef | PdfDict | PdfValue[];

/** An indirect object `num gen obj … endobj`, with where its stream data starts when it has one. */
export interface IndirectObject {
  num: number;
  gen: number;
  value: PdfValue;
  /** Offset in the parsed window of the first byte after the `stream` keyword's end of line. */
  streamStart?: number;
}

/** The window ended inside an object: read more and parse again. */
export class NeedMoreBytes extends Error {
  constructor() {
    super("object continues past the bytes read");
    this.name = "NeedMoreBytes";
  }
}

/** Arrays and dictionaries nested deeper than this are treated as corrupt (a stack-exhaustion guard). */
export const MAX_NESTING = 100;

const WHITESPACE = new Set([0x00, 0x09, 0x0a, 0x0c, 0x0d, 0x20]);
const DELIMITERS = new Set([0x28, 0x29, 0x3c, 0x3e, 0x5b, 0x5d, 0x7b, 0x7d, 0x2f, 0x25]);

/** True for PDF whitespace bytes. */
export function isWhitespace(byte: number): boolean {
  return WHITESPACE.has(byte);
}

function isRegular(byte: number): boolean {
  return !WHITESPACE.has(byte) && !DELIMITERS.has(byte);
}

function hexValue(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  if (byte >= 0x41 && byte <= 0x46) return byte - 0x37;
  if (byte >= 0x61 && byte <= 0x66) return byte - 0x57;
  return -1;
}

/**
 * Parses PDF objects from a byte window.
 *
 * @example
 * const parser = new PdfParser(new TextEncoder().encode("<</Count 3>>"));
 * const dict = parser.parseValue() as PdfDict; // dict.number("Count") === 3
 */
export class PdfParser {
  pos: number;

  /** `atEnd`: the window ends at the end of the file, so running out is corruption, not a short read. */
  constructor(
    readonly bytes: Uint8Array,
    start = 0,
    readonly atEnd = false,
  ) {
    this.pos = start;
  }

  private outOfBytes(): never {
    if (this.atEnd) throw new ContentError("truncated: object runs past the end of the file");
    throw new NeedMoreBytes();
  }

  /** Skips whitespace and comments. */
  skipSpace(): void {
    const bytes = this.bytes;
    while (this.pos < bytes.length) {
      const byte = bytes[this.pos] as number;
      if (WHITESPACE.has(byte)) {
        this.pos++;
      } else if (byte === 0x25) {
        while (this.pos < bytes.length && bytes[this.pos] !== 0x0a && bytes[this.pos] !== 0x0d) this.pos++;
      } else {
        return;
      }
    }
  }

  /** Reads a run of regular characters (a keyword or a number) without consuming what follows. */
  private regularRun(): string {
    const start = this.pos;
    while (this.pos < this.bytes.length && isRegular(this.bytes[this.pos] as number)) this.pos++;
    // A run touching the window's end may continue past it.
    if (this.pos >= this.bytes.length && !this.atEnd) this.outOfBytes();
    return latin1(this.bytes.subarray(start, this.pos));
  }

  /** The next keyword or number token as text, or undefined when a delimiter comes first. */
  peekKeyword(): string | undefined {
    const saved = this.pos;
    this.skipSpace();
    if (this.pos >= this.bytes.length) {
      this.pos = saved;
      return undefined;
    }
    const word = this.regularRun();
    this.pos = saved;
    return word.length > 0 ? word : undefined;
  }

  /** Consumes `keyword` (after whitespace) or throws ContentError. */
  expectKeyword(keyword: string): void {
    this.skipSpace();
    if (this.pos >= this.bytes.length) this.outOfBytes();
    const word = this.regularRun();
    if (word !== keyword) throw new ContentError(`expected '${keyword}', found '${word.slice(0, 20)}'`);
  }

  /** Reads a non-negative integer token or throws ContentError. */
  expectInteger(what: string): number {
    this.skipSpace();
    if (this.pos >= this.bytes.length) this.outOfBytes();
    const word = this.regularRun();
    if (!/^\d{1,15}$/.test(word)) throw new ContentError(`expected ${what}, found '${word.slice(0, 20)}'`);
    return Number(word);
  }

  /** Parses one direct object (resolving `n g R` into {@link PdfRef}). */
  parseValue(depth = 0): PdfValue {
    if (depth > MAX_NESTING) throw new ContentError("objects nested too deeply");
    this.skipSpace();
    const bytes = this.bytes;
    if (this.pos >= bytes.length) this.outOfBytes();
    const byte = bytes[this.pos] as number;
    switch (byte) {
      case 0x2f: // '/'
        return this.parseName();
      case 0x28: // '('
        return this.parseLiteralString();
      case 0x3c: // '<'
        if (bytes[this.pos + 1] === 0x3c) return this.parseDict(depth);
        if (this.pos + 1 >= bytes.length) this.outOfBytes();
        return this.parseHexString();
      case 0x5b: // '['
        return this.parseArray(depth);
      case 0x29:
      case 0x3e:
      case 0x5d:
      case 0x7b:
      case 0x7d:
        throw new ContentError(`unexpected '${String.fromCharCode(byte)}' at ${this.pos}`);
      default:
        return this.parseKeywordOrNumber();
    }
  }

  private parseKeywordOrNumber(): PdfValue {
    const word = this.regularRun();
    if (word === "true") return true;
    if (word === "false") return false;
    if (word === "null") return null;
    if (/^[+-]?(\d+\.?\d*|\.\d+)$/.test(word)) {
      const value = Number(word);
      if (/^\d+$/.test(word)) return this.maybeReference(value);
      return value;
    }
    // Producers write odd numbers such as "--5" or "0.0.1"; pdf.js reads them leniently, so do we.
    const lenient = Number.parseFloat(word.replace(/^[+-]+(?=[+-])/, ""));
    if (Number.isFinite(lenient)) return lenient;
    throw new ContentError(`unexpected token '${word.slice(0, 20)}'`);
  }

  /** After an integer, `gen R` makes it a reference; anything else leaves it a number. */
  private maybeReference(num: number): PdfValue {
    const saved = this.pos;
    this.skipSpace();
    const genStart = this.pos;
    while (this.pos < this.bytes.length && isDigit(this.bytes[this.pos] as number)) this.pos++;
    if (this.pos >= this.bytes.length && !this.atEnd) this.outOfBytes();
    if (this.pos > genStart && this.pos - genStart <= 5) {
      const gen = Number(latin1(this.bytes.subarray(genStart, this.pos)));
      this.skipSpace();
      if (this.pos >= this.bytes.length && !this.atEnd) this.outOfBytes();
      if (this.bytes[this.pos] === 0x52 /* R */) {
        const next = this.bytes[this.pos + 1];
        if (next === undefined && !this.atEnd) this.outOfBytes();
        if (next === undefined || !isRegular(next)) {
          this.pos++;
          return new PdfRef(num, gen);
        }
      }
    }
    this.pos = saved;
    return num;
  }

  private parseName(): PdfName {
    this.pos++; // '/'
    const start = this.pos;
    while (this.pos < this.bytes.length && isRegular(this.bytes[this.pos] as number)) this.pos++;
    if (this.pos >= this.bytes.length && !this.atEnd) this.outOfBytes();
    const raw = this.bytes.subarray(start, this.pos);
    if (!raw.includes(0x23)) return new PdfName(latin1(raw));
    const out: number[] = [];
    for (let i = 0; i < raw.length; i++) {
      const high = raw[i] === 0x23 ? hexValue(raw[i + 1] ?? 0) : -1;
      const low = high >= 0 ? hexValue(raw[i + 2] ?? 0) : -1;
      if (high >= 0 && low >= 0) {
        out.push(high * 16 + low);
        i += 2;
      } else {
        out.push(raw[i] as number);
      }
    }
    return new PdfName(latin1(Uint8Array.from(out)));
  }

  private parseLiteralString(): PdfString {
    const bytes = this.bytes;
    this.pos++; // '('
    const out: number[] = [];
    let nesting = 1;
    while (true) {
      if (this.pos >= bytes.length) this.outOfBytes();
      const byte = bytes[this.pos++] as number;
      if (byte === 0x28) {
        nesting++;
        out.push(byte);
      } else if (byte === 0x29) {
        if (--nesting === 0) break;
        out.push(byte);
      } else if (byte === 0x5c) {
        if (this.pos >= bytes.length) this.outOfBytes();
        const escaped = bytes[this.pos++] as number;
        switch (escaped) {
          case 0x6e:
            out.push(0x0a);
            break;
          case 0x72:
            out.push(0x0d);
            break;
          case 0x74:
            out.push(0x09);
            break;
          case 0x62:
            out.push(0x08);
            break;
          case 0x66:
            out.push(0x0c);
            break;
          case 0x0d: // a backslash before an end of line continues the string on the next line
            if (bytes[this.pos] === 0x0a) this.pos++;
            break;
          case 0x0a:
            break;
          default:
            if (escaped >= 0x30 && escaped <= 0x37) {
              let code = escaped - 0x30;
              for (let digits = 1; digits < 3; digits++) {
                const next = bytes[this.pos];
                if (next === undefined || next < 0x30 || next > 0x37) break;
                code = code * 8 + (next - 0x30);
                this.pos++;
              }
              out.push(code & 0xff);
            } else {
              out.push(escaped); // \( \) \\ and unknown escapes: the character itself
            }
        }
      } else if (byte === 0x0d) {
        // An unescaped end of line in a string is read as a single line feed.
        if (bytes[this.pos] === 0x0a) this.pos++;
        out.push(0x0a);
      } else {
        out.push(byte);
      }
    }
    return new PdfString(Uint8Array.from(out));
  }

  private parseHexString(): PdfString {
    const bytes = this.bytes;
    this.pos++; // '<'
    const out: number[] = [];
    let high = -1;
    while (true) {
      if (this.pos >= bytes.length) this.outOfBytes();
      const byte = bytes[this.pos++] as number;
      if (byte === 0x3e) break;
      const value = hexValue(byte);
      if (value < 0) {
        if (WHITESPACE.has(byte)) continue;
        throw new ContentError(`bad character in a hex string at ${this.pos - 1}`);
      }
      if (high < 0) {
        high = value;
      } else {
        out.push(high * 16 + value);
        high = -1;
      }
    }
    if (high >= 0) out.push(high * 16); // an odd final digit is followed by an implied 0
    return new PdfString(Uint8Array.from(out));
  }

  private parseArray(depth: number): PdfValue[] {
    this.pos++; // '['
    const items: PdfValue[] = [];
    while (true) {
      this.skipSpace();
      if (this.pos >= this.bytes.length) this.outOfBytes();
      if (this.bytes[this.pos] === 0x5d) {
        this.pos++;
        return items;
      }
      items.push(this.parseValue(depth + 1));
    }
  }

  private parseDict(depth: number): PdfDict {
    this.pos += 2; // '<<'
    const dict = new PdfDict();
    while (true) {
      this.skipSpace();
      if (this.pos + 1 >= this.bytes.length) this.outOfBytes();
      const byte = this.bytes[this.pos];
      if (byte === 0x3e && this.bytes[this.pos + 1] === 0x3e) {
        this.pos += 2;
        return dict;
      }
      if (byte !== 0x2f) {
        // A stray token where a key belongs: skip it, as readers do, but stop at structure.
        if (byte === 0x28 || byte === 0x3c || byte === 0x5b) {
          this.parseValue(depth + 1);
          continue;
        }
        const word = this.regularRun();
        if (word === "endobj" || word === "stream") throw new ContentError("dictionary is not closed");
        if (word.length === 0) this.pos++;
        continue;
      }
      const key = this.parseName().value;
      this.skipSpace();
      if (this.pos + 1 >= this.bytes.length) this.outOfBytes();
      // `/Key >>` with no value: drop the key.
      if (this.bytes[this.pos] === 0x3e && this.bytes[this.pos + 1] === 0x3e) continue;
      dict.entries.set(key, this.parseValue(depth + 1));
    }
  }

  /**
   * Parses `num gen obj <value> [stream]` at the current position. Stops at
   * the stream keyword (its data is read separately) or after the value.
   */
  parseIndirectObject(): IndirectObject {
    const num = this.expectInteger("an object number");
    const gen = this.expectInteger("a generation number");
    this.expectKeyword("obj");
    const value = this.parseValue();
    const object: IndirectObject = { num, gen, value };
    if (value instanceof PdfDict) {
      this.skipSpace();
      if (this.pos + 6 > this.bytes.length) {
        if (!this.atEnd) this.outOfBytes();
        return object;
      }
      if (latin1(this.bytes.subarray(this.pos, this.pos + 6)) === "stream") {
        let start = this.pos + 6;
        if (this.bytes[start] === 0x0d) start++;
        if (this.bytes[start] === 0x0a) start++;
        if (start >= this.bytes.length && !this.atEnd) this.outOfBytes();
        object.streamStart = start;
      }
    }
    return object;
  }
}

function isDigit(byte: number): boolean {
  return byte >= 0x30 && byte <= 0x39;
}

/** Bytes as a string of the same code units (ISO-8859-1), for keyword matching and searching. */
export function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
}
