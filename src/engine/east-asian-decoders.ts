/**
 * Decoders for East Asian sets Node.js's `TextDecoder` gets wrong or lacks,
 * each built on a decoder it has.
 *
 * - `euc-kr`: the Encoding Standard decodes it as windows-949, KS X 1001
 *   plus the 8,822 Hangul syllables Windows added (똠, 펲, 햏). Node.js 20
 *   hands the label to ICU's strict EUC-KR, which drops a lead byte of those
 *   syllables without a replacement character, even when fatal, and so reads
 *   a Korean text that has one of them with Latin letters in its place.
 * - `iso-2022-kr`: KS X 1001 in 7 bits, as Korean mail was sent (RFC 1557).
 *   The Encoding Standard maps the label to "replacement" (a browser must not
 *   read it), so `TextDecoder` refuses it; a file in it is still text to count.
 * - `hz-gb-2312`: GB2312 in 7 bits, as Chinese Usenet posts and mail were
 *   sent (RFC 1843); "replacement" to the Encoding Standard as well.
 *
 * No library does this without bringing a general converter's tables
 * (iconv-lite's) into the function's bundle. The Korean table is built from
 * Node.js's own KS X 1001 decoding: windows-949's added syllables are every
 * syllable KS X 1001 lacks, in Unicode order, in its added byte pairs in order.
 */

import type { TextDecoding } from "./text-decoder.js";

/** The options of `TextDecoder` these decoders honour. */
interface DecoderOptions {
  fatal?: boolean;
}

/** Code units turned into a string at a time: a spread argument list has a bound. */
const CHUNK = 8192;

/** windows-949 byte pairs: leads 0x81-0xFE, trails 0x41-0xFE (the Encoding Standard's pointer space). */
const TRAILS = 0xfe - 0x41 + 1;

/** windows-949 code points by pointer, 0 where the pair has none. */
let windows949: Uint16Array | undefined;

/** Whether this Node.js reads windows-949's first added syllable (0x81 0x41, 갂) as anything else. */
let euckrFaulty: boolean | undefined;

/** Whether Node.js's euc-kr decoder misreads windows-949's added syllables. */
export function euckrIsFaulty(): boolean {
  euckrFaulty ??= new TextDecoder("euc-kr").decode(Uint8Array.of(0x81, 0x41)) !== "\uac02";
  return euckrFaulty;
}

/**
 * Whether a byte pair is one of the Hangul syllables windows-949 added to
 * EUC-KR: a lead 0x81-0xC6 with a trail outside KS X 1001's 0xA1-0xFE.
 */
export function isWindows949AddedPair(lead: number, trail: number): boolean {
  if (lead < 0x81 || lead > 0xc6) return false;
  const letter = (trail >= 0x41 && trail <= 0x5a) || (trail >= 0x61 && trail <= 0x7a);
  return letter || (trail >= 0x81 && trail <= (lead >= 0xa1 ? 0xa0 : 0xfe));
}

function windows949Table(): Uint16Array {
  if (windows949) return windows949;
  const table = new Uint16Array(126 * TRAILS);
  const native = new TextDecoder("euc-kr");
  const inKsX1001 = new Set<number>();
  const row = new Uint8Array(94 * 2);
  for (let lead = 0xa1; lead <= 0xfe; lead++) {
    for (let trail = 0xa1; trail <= 0xfe; trail++) row.set([lead, trail], (trail - 0xa1) * 2);
    // A row at a time, a tenth of the time pair by pair takes: one code unit a pair, U+FFFD where KS X 1001 has none.
    let chars = native.decode(row);
    if (chars.length !== 94) {
      chars = "";
      for (let at = 0; at < row.length; at += 2)
        chars += native.decode(row.subarray(at, at + 2)).charAt(0) || "\ufffd";
    }
    for (let trail = 0xa1; trail <= 0xfe; trail++) {
      const code = chars.charCodeAt(trail - 0xa1);
      // ICU reads the user-defined rows 0xC9 and 0xFE as private use; the Encoding Standard gives them no character.
      if (code === 0xfffd || (code >= 0xe000 && code <= 0xf8ff)) continue;
      table[(lead - 0x81) * TRAILS + trail - 0x41] = code;
      inKsX1001.add(code);
    }
  }
  // The two signs windows-949 added to KS X 1001, which ICU's EUC-KR lacks.
  table[(0xa2 - 0x81) * TRAILS + 0xe6 - 0x41] = 0x20ac;
  table[(0xa2 - 0x81) * TRAILS + 0xe7 - 0x41] = 0xae;
  let syllable = 0xac00;
  for (let lead = 0x81; lead <= 0xc6; lead++) {
    for (let trail = 0x41; trail <= 0xfe; trail++) {
      if (!isWindows949AddedPair(lead, trail)) continue;
      while (inKsX1001.has(syllable)) syllable++;
      if (syllable > 0xd7a3) break;
      table[(lead - 0x81) * TRAILS + trail - 0x41] = syllable++;
    }
  }
  windows949 = table;
  return table;
}

/** The windows-949 character of a byte pair, or 0 when it has none. */
function windows949Char(lead: number, trail: number): number {
  if (lead < 0x81 || lead > 0xfe || trail < 0x41 || trail > 0xfe) return 0;
  return windows949Table()[(lead - 0x81) * TRAILS + trail - 0x41] as number;
}

/** Collects code units and joins them into a string a chunk at a time. */
class Output {
  private readonly units = new Uint16Array(CHUNK);
  private length = 0;
  private text = "";

  push(unit: number): void {
    if (this.length === CHUNK) this.flush();
    this.units[this.length++] = unit;
  }

  pushText(text: string): void {
    this.flush();
    this.text += text;
  }

  finish(): string {
    this.flush();
    return this.text;
  }

  private flush(): void {
    this.text += String.fromCharCode(...this.units.subarray(0, this.length));
    this.length = 0;
  }
}

function bytesOf(input: ArrayBufferView | ArrayBuffer | null | undefined): Uint8Array {
  if (input === undefined || input === null) return new Uint8Array(0);
  return ArrayBuffer.isView(input)
    ? new Uint8Array(input.buffer, input.byteOffset, input.byteLength)
    : new Uint8Array(input);
}

/** Base of the decoders here: `fatal` makes a byte with no character a TypeError, as `TextDecoder` does. */
abstract class HandDecoder implements TextDecoding {
  abstract readonly encoding: string;
  protected readonly fatal: boolean;

  constructor(options: DecoderOptions = {}) {
    this.fatal = options.fatal ?? false;
  }

  abstract decode(input?: ArrayBufferView | ArrayBuffer | null, options?: { stream?: boolean }): string;

  protected error(out: Output): void {
    if (this.fatal) throw new TypeError(`The encoded data was not valid for encoding ${this.encoding}`);
    out.push(0xfffd);
  }
}

/** A decoder of a shifting 7-bit encoding, which holds back a cut escape or half a pair at a streamed chunk's end. */
abstract class ShiftingDecoder extends HandDecoder {
  private pending: number[] = [];

  /** The bytes to decode now: those held back from the chunk before, then `input`'s. */
  protected withPending(input?: ArrayBufferView | ArrayBuffer | null): Uint8Array {
    const fresh = bytesOf(input);
    const bytes = this.pending.length > 0 ? Uint8Array.from([...this.pending, ...fresh]) : fresh;
    this.pending = [];
    return bytes;
  }

  /** Holds back the bytes from `at` on, when streaming, for the next chunk. */
  protected holdBack(bytes: Uint8Array, at: number, stream: boolean | undefined): void {
    if (stream) this.pending = Array.from(bytes.subarray(at));
  }
}

/** euc-kr as the Encoding Standard decodes it: windows-949. */
export class Windows949Decoder extends HandDecoder {
  readonly encoding = "euc-kr";
  private lead = 0;

  decode(input?: ArrayBufferView | ArrayBuffer | null, options?: { stream?: boolean }): string {
    const bytes = bytesOf(input);
    const out = new Output();
    for (let i = 0; i < bytes.length; i++) {
      const byte = bytes[i] as number;
      if (this.lead !== 0) {
        const code = windows949Char(this.lead, byte);
        this.lead = 0;
        if (code !== 0) {
          out.push(code);
          continue;
        }
        this.error(out);
        // An ASCII byte after a lead is read again on its own (Encoding Standard, euc-kr decoder).
        if (byte >= 0x80) continue;
      }
      if (byte < 0x80) out.push(byte);
      else if (byte >= 0x81 && byte <= 0xfe) this.lead = byte;
      else this.error(out);
    }
    if (this.lead !== 0 && !options?.stream) {
      this.lead = 0;
      this.error(out);
    }
    return out.finish();
  }
}

const ESC = 0x1b;
const SO = 0x0e;
const SI = 0x0f;

/**
 * ISO-2022-KR (RFC 1557): ASCII in which SO shifts into KS X 1001, written as
 * byte pairs 0x21-0x7E (its EUC-KR pairs less 0x80), and SI back; the
 * designation ESC $ ) C comes before the first SO. A line starts in ASCII.
 */
export class Iso2022KrDecoder extends ShiftingDecoder {
  readonly encoding = "iso-2022-kr";
  private shifted = false;

  decode(input?: ArrayBufferView | ArrayBuffer | null, options?: { stream?: boolean }): string {
    const bytes = this.withPending(input);
    const out = new Output();
    let i = 0;
    for (; i < bytes.length; i++) {
      const byte = bytes[i] as number;
      if (byte === ESC) {
        if (i + 3 >= bytes.length && options?.stream) break;
        if (bytes[i + 1] === 0x24 && bytes[i + 2] === 0x29 && bytes[i + 3] === 0x43) i += 3;
        else this.error(out);
      } else if (byte === SO) {
        this.shifted = true;
      } else if (byte === SI) {
        this.shifted = false;
      } else if (byte >= 0x80) {
        this.error(out);
      } else if (!this.shifted || byte <= 0x20 || byte === 0x7f) {
        if (byte === 0x0a || byte === 0x0d) this.shifted = false;
        out.push(byte);
      } else {
        if (i + 1 >= bytes.length && options?.stream) break;
        const next = bytes[i + 1] ?? 0;
        const code = next > 0x20 && next < 0x7f ? windows949Char(byte | 0x80, next | 0x80) : 0;
        if (code !== 0) {
          out.push(code);
          i++;
        } else {
          this.error(out);
        }
      }
    }
    this.holdBack(bytes, i, options?.stream);
    if (!options?.stream) this.shifted = false;
    return out.finish();
  }
}

/**
 * HZ (RFC 1843): ASCII in which `~{` shifts into GB2312, written as byte
 * pairs 0x21-0x7E (its EUC-CN pairs less 0x80), and `~}` back; `~~` is a
 * tilde and `~` before a line end joins the lines.
 */
export class HzDecoder extends ShiftingDecoder {
  readonly encoding = "hz-gb-2312";
  private gb = false;
  private readonly gbk: TextDecoding;

  constructor(options: DecoderOptions = {}) {
    super(options);
    this.gbk = new TextDecoder("gbk", { fatal: true });
  }

  decode(input?: ArrayBufferView | ArrayBuffer | null, options?: { stream?: boolean }): string {
    const bytes = this.withPending(input);
    const out = new Output();
    let i = 0;
    for (; i < bytes.length; i++) {
      const byte = bytes[i] as number;
      if (i + 1 >= bytes.length && options?.stream && (byte === 0x7e || (this.gb && byte > 0x20))) break;
      const next = bytes[i + 1];
      if (byte === 0x7e && next === (this.gb ? 0x7d : 0x7b)) {
        this.gb = !this.gb;
        i++;
      } else if (byte >= 0x80) {
        this.error(out);
      } else if (this.gb && byte > 0x20 && byte < 0x7f) {
        const char = this.pair(byte, next);
        if (char === undefined) {
          this.error(out);
        } else {
          out.pushText(char);
          i++;
        }
      } else if (this.gb) {
        // A line end (or a control) in GB mode: taken as its ASCII self, and the line goes on in ASCII.
        if (byte === 0x0a || byte === 0x0d) this.gb = false;
        out.push(byte);
      } else if (byte === 0x7e && next === 0x7e) {
        out.push(0x7e);
        i++;
      } else if (byte === 0x7e && next === 0x0a) {
        i++;
      } else if (byte === 0x7e) {
        this.error(out);
      } else {
        out.push(byte);
      }
    }
    this.holdBack(bytes, i, options?.stream);
    if (!options?.stream) this.gb = false;
    return out.finish();
  }

  /** The GB2312 character of a 7-bit pair, read through the GBK decoder. */
  private pair(first: number, second: number | undefined): string | undefined {
    if (second === undefined || second <= 0x20 || second >= 0x7f) return undefined;
    try {
      const char = this.gbk.decode(Uint8Array.of(first | 0x80, second | 0x80));
      return char.length === 1 ? char : undefined;
    } catch {
      return undefined;
    }
  }
}
