/**
 * Detection of formats that have no magic number: is the head text, in which
 * encoding, and which kind of text (JSON, XML, HTML, CSV, subtitles ...).
 *
 * Encoding names follow `file --mime-encoding` (us-ascii, utf-8, utf-16le,
 * utf-16be, iso-8859-1), with `windows-1252` where `file` says `unknown-8bit`
 * (single-byte text using 0x80-0x9F, which ISO-8859-1 leaves to controls).
 * Where `file` has no better answer than those two for text in another legacy
 * character set (Cyrillic, Greek, Hebrew, Arabic, Big5, EUC-KR ...), the set
 * is named by its WHATWG label (`windows-1251`, `ibm866`, `big5` ...): see
 * {@link legacyCharset}.
 */

import { Buffer, isAscii, isUtf8 } from "node:buffer";
import { isSvgDocument } from "../extractors/image/svg.js";
import { textDecoder } from "../text-decoder.js";
import { declaredCharset } from "./declared-charset.js";
import { legacyCharset } from "./legacy-charset.js";

/**
 * Bytes text sniffing looks at when no magic number matched, and the text
 * extractor decides the encoding on: one window, so that the extractor reads
 * a file as the encoding detection judged it text in.
 */
export const TEXT_SNIFF_BYTES = 8 * 1024;

/** Result of sniffing bytes that carry no magic number. */
export interface TextSniff {
  mime: string;
  ext: string;
  /**
   * us-ascii, utf-8, utf-16le, utf-16be, utf-32le, utf-32be, iso-8859-1 or
   * windows-1252: text in another legacy set is read as one of the last two
   * here, since its type does not depend on which (the text extractor names
   * the set).
   */
  encoding: string;
  bom: boolean;
}

/** How a text is encoded, from its first bytes. */
export interface TextEncoding {
  /** The name reported on records (see the module note). */
  encoding: string;
  bom: boolean;
  /** Bytes the BOM occupies at offset 0 (0 without one). */
  bomLength: number;
  /** Label for `TextDecoder` (UTF-32 has none: decoded by hand). */
  decoderLabel: string;
}

/** Share of "binary" control bytes above which single-byte data is not text. */
const MAX_CONTROL_RATIO = 0.005;

/** Lines looked at for the delimiter and subtitle heuristics. */
const SAMPLE_LINES = 20;

function bomEncoding(head: Uint8Array): TextEncoding | undefined {
  const [b0, b1, b2, b3] = head;
  if (b0 === 0xef && b1 === 0xbb && b2 === 0xbf) {
    return { encoding: "utf-8", bom: true, bomLength: 3, decoderLabel: "utf-8" };
  }
  if (b0 === 0xff && b1 === 0xfe && b2 === 0 && b3 === 0 && head.length >= 4) {
    return { encoding: "utf-32le", bom: true, bomLength: 4, decoderLabel: "utf-32le" };
  }
  if (b0 === 0 && b1 === 0 && b2 === 0xfe && b3 === 0xff) {
    return { encoding: "utf-32be", bom: true, bomLength: 4, decoderLabel: "utf-32be" };
  }
  if (b0 === 0xff && b1 === 0xfe)
    return { encoding: "utf-16le", bom: true, bomLength: 2, decoderLabel: "utf-16le" };
  if (b0 === 0xfe && b1 === 0xff)
    return { encoding: "utf-16be", bom: true, bomLength: 2, decoderLabel: "utf-16be" };
  return undefined;
}

/**
 * Validates UTF-8. A sequence cut by the end of the window is accepted when
 * the window is not the whole file. Node's `isAscii` and `isUtf8` (simdutf)
 * do the byte work: a hand-written loop over every byte of the window was
 * the largest part of detecting a text file.
 */
function utf8Status(bytes: Uint8Array, complete: boolean): "ascii" | "utf-8" | "invalid" {
  if (isAscii(bytes)) return "ascii";
  if (isUtf8(bytes)) return "utf-8";
  if (complete) return "invalid";
  const cut = cutSequenceLength(bytes);
  return cut > 0 && isUtf8(bytes.subarray(0, bytes.length - cut)) ? "utf-8" : "invalid";
}

/**
 * Length of a multibyte sequence cut short by the end of `bytes` (its lead
 * byte and the continuation bytes that made it in), or 0 when the bytes do not
 * end that way.
 */
function cutSequenceLength(bytes: Uint8Array): number {
  for (let back = 1; back <= 3 && back <= bytes.length; back++) {
    const b = bytes[bytes.length - back] as number;
    if ((b & 0xc0) === 0x80) continue;
    const need = b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : 0;
    return need >= back ? back : 0;
  }
  return 0;
}

/** Bytes `file` treats as binary in text: C0 controls other than \a\b\t\n\v\f\r and ESC, and DEL. */
function isBinaryControl(b: number): boolean {
  return b < 0x07 || (b >= 0x0e && b <= 0x1a) || (b >= 0x1c && b <= 0x1f) || b === 0x7f;
}

function controlRatio(bytes: Uint8Array): number {
  if (bytes.length === 0) return 0;
  let controls = 0;
  for (let i = 0; i < bytes.length; i++) if (isBinaryControl(bytes[i] as number)) controls++;
  return controls / bytes.length;
}

/** Decoded text holds few binary controls and no NUL. */
function isTextual(text: string): boolean {
  let controls = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0) return false;
    if (isBinaryControl(code)) controls++;
  }
  return controls <= text.length * MAX_CONTROL_RATIO;
}

/**
 * Code units a UTF-16 or UTF-32 text without a BOM needs before it is taken
 * for one when most of its characters are not ASCII: fewer are as likely to
 * be binary numbers that happen to read as letters.
 */
const MIN_UNITS_WITHOUT_BOM = 32;

/** Different characters outside ASCII a text's window has at least (or a third of its characters outside ASCII, if fewer): binary tables repeat a few. */
const MIN_WIDE_DISTINCT = 16;

/** Share of characters in ASCII (spaces, digits, line ends) that a UTF-16 or UTF-32 text in any script shows. */
const MIN_WIDE_ASCII_SHARE = 0.04;

/** Share of characters beyond the BMP above which UTF-32 is more likely numbers: text rarely leaves the BMP. */
const MAX_WIDE_ASTRAL_SHARE = 0.1;

/** Characters no text holds: unassigned, private use, lone surrogates, and controls but tab and line ends. */
const NOT_IN_TEXT = /[\p{Cn}\p{Co}\p{Cs}\0-\x08\x0e-\x1a\x1c-\x1f\x7f-\x9f]/u;

/** An encoding found without a BOM, decoded with `decoderLabel` (its own name unless another label stands in). */
function withoutBom(encoding: string, decoderLabel = encoding): TextEncoding {
  return { encoding, bom: false, bomLength: 0, decoderLabel };
}

/** `bytes` decoded in `label`, or undefined where they hold a sequence not valid in it. */
function decodedStrictly(label: string, bytes: Uint8Array, complete: boolean): string | undefined {
  try {
    return textDecoder(label, { fatal: true }).decode(bytes, { stream: !complete });
  } catch {
    return undefined;
  }
}

function isPrintableAscii(byte: number): boolean {
  return (byte >= 0x20 && byte <= 0x7e) || (byte >= 0x09 && byte <= 0x0d);
}

/**
 * Whether text decoded as UTF-16 or UTF-32 from bytes without a BOM reads as
 * text. No character may be unassigned, private use, a lone surrogate or a
 * control, which binary numbers soon give. Some characters must be ASCII,
 * spaces or line ends among them: text in any script has those
 * ({@link MIN_WIDE_ASCII_SHARE}). Few may lie beyond the BMP. The others must
 * be varied ({@link MIN_WIDE_DISTINCT}), where a table of numbers repeats a
 * few, and at least a third of them must have a byte outside printable
 * ASCII: ASCII strings read two bytes at a time (a binary's symbol table,
 * "GLIBC_2.34") make CJK ideographs of printable bytes only, where a
 * Cyrillic letter has 0x04 and most ideographs a byte above 0x7F.
 */
function readsAsWideText(text: string): boolean {
  if (text.length === 0 || NOT_IN_TEXT.test(text)) return false;
  let chars = 0;
  let ascii = 0;
  let spaces = 0;
  let astral = 0;
  let foreign = 0;
  const distinct = new Set<number>();
  for (const char of text) {
    const code = char.codePointAt(0) as number;
    chars++;
    if (code < 0x80) {
      ascii++;
      if (code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09) spaces++;
      continue;
    }
    if (distinct.size < MIN_WIDE_DISTINCT) distinct.add(code);
    if (code > 0xffff) astral++;
    else if (!isPrintableAscii(code >> 8) || !isPrintableAscii(code & 0xff)) foreign++;
  }
  const wide = chars - ascii;
  return (
    spaces > 0 &&
    ascii >= chars * MIN_WIDE_ASCII_SHARE &&
    astral <= chars * MAX_WIDE_ASTRAL_SHARE &&
    distinct.size >= Math.min(MIN_WIDE_DISTINCT, wide / 3) &&
    foreign * 3 >= wide - astral
  );
}

/**
 * UTF-16 without a BOM. Text in Latin-1's range has a NUL in one byte of
 * most pairs, and is taken from two pairs on (a JSON string such as ["é"]).
 * Text in another script (Cyrillic, CJK) has NULs only in its ASCII spaces,
 * digits and line ends (and in a few ideographs such as U+4E00): it needs
 * {@link MIN_UNITS_WITHOUT_BOM} pairs, more NULs in the high byte than in the
 * low one, surrogates paired, and the text to read as such (see
 * {@link readsAsWideText}).
 */
function utf16WithoutBom(head: Uint8Array, complete: boolean): TextEncoding | undefined {
  const pairs = Math.floor(head.length / 2);
  if (pairs < 2) return undefined;
  let evenZero = 0;
  let oddZero = 0;
  for (let i = 0; i + 1 < head.length; i += 2) {
    if (head[i] === 0) evenZero++;
    if (head[i + 1] === 0) oddZero++;
  }
  const decode = (label: string, strict: boolean): TextEncoding | undefined => {
    let text: string;
    try {
      text = textDecoder(label, { fatal: strict }).decode(head.subarray(0, pairs * 2), { stream: !complete });
    } catch {
      // A lone surrogate: not UTF-16.
      return undefined;
    }
    return (strict ? readsAsWideText(text) : isTextual(text)) ? withoutBom(label) : undefined;
  };
  if (evenZero >= pairs * 0.6 && oddZero === 0) return decode("utf-16be", false);
  if (oddZero >= pairs * 0.6 && evenZero === 0) return decode("utf-16le", false);
  if (pairs < MIN_UNITS_WITHOUT_BOM || (complete && head.length % 2 !== 0)) return undefined;
  if (oddZero < evenZero) return decode("utf-16be", true);
  if (evenZero < oddZero) return decode("utf-16le", true);
  return undefined;
}

/**
 * UTF-32 without a BOM: {@link MIN_UNITS_WITHOUT_BOM} units or more, the top
 * byte of every unit NUL and the next at most 0x10 (so every unit is a code
 * point), and the text they make reading as such (see {@link readsAsWideText}).
 */
function utf32WithoutBom(head: Uint8Array, complete: boolean): TextEncoding | undefined {
  const units = Math.floor(head.length / 4);
  if (units < MIN_UNITS_WITHOUT_BOM || (complete && head.length % 4 !== 0)) return undefined;
  for (const littleEndian of [true, false]) {
    const [top, next] = littleEndian ? [3, 2] : [0, 1];
    let fits = true;
    for (let i = 0; fits && i + 3 < head.length; i += 4)
      fits = head[i + top] === 0 && (head[i + next] as number) <= 0x10;
    if (!fits) continue;
    const label = littleEndian ? "utf-32le" : "utf-32be";
    if (readsAsWideText(decodeUtf32(head.subarray(0, units * 4), littleEndian))) return withoutBom(label);
  }
  return undefined;
}

/** Shifts into JIS X 0208 (ESC $ @, ESC $ B) that 7-bit text needs before it is taken for ISO-2022-JP. */
const MIN_ISO_2022_JP_SHIFTS = 2;

/**
 * ISO-2022-JP (JIS, as Japanese mail is sent): ASCII bytes in which ESC $ B
 * or ESC $ @ shifts into JIS X 0208 and ESC ( B or ESC ( J back out, at least
 * {@link MIN_ISO_2022_JP_SHIFTS} times, and every shift and character valid
 * (TextDecoder knows the set). A terminal's colour codes are ESC [.
 */
function iso2022Jp(bytes: Uint8Array, complete: boolean): TextEncoding | undefined {
  let shifts = 0;
  for (let i = bytes.indexOf(0x1b); i >= 0 && i + 2 < bytes.length; i = bytes.indexOf(0x1b, i + 1))
    if (bytes[i + 1] === 0x24 && (bytes[i + 2] === 0x42 || bytes[i + 2] === 0x40)) shifts++;
  if (shifts < MIN_ISO_2022_JP_SHIFTS || decodedStrictly("iso-2022-jp", bytes, complete) === undefined)
    return undefined;
  return withoutBom("iso-2022-jp");
}

/** Shifts into KS X 1001 (SO) that 7-bit text with ISO-2022-KR's designation needs before it is taken for it. */
const MIN_ISO_2022_KR_SHIFTS = 2;

/** ISO-2022-KR's designation of KS X 1001 (ESC $ ) C), which comes once, before the first SO. */
const ISO_2022_KR_DESIGNATION = Uint8Array.of(0x1b, 0x24, 0x29, 0x43);

/**
 * ISO-2022-KR (Korean mail, RFC 1557): 7-bit bytes with the designation
 * ESC $ ) C before the first SO, at least {@link MIN_ISO_2022_KR_SHIFTS}
 * SOs, and every shifted pair a KS X 1001 character. Looked for before the
 * share of control bytes, of which SO and SI are two: the text they shift
 * must then hold no other binary control.
 */
function iso2022Kr(bytes: Uint8Array, complete: boolean): TextEncoding | undefined {
  const designation = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).indexOf(
    ISO_2022_KR_DESIGNATION,
  );
  if (designation < 0) return undefined;
  const firstShift = bytes.indexOf(0x0e);
  if (firstShift >= 0 && firstShift < designation) return undefined;
  let shifts = 0;
  for (let i = firstShift; i >= 0; i = bytes.indexOf(0x0e, i + 1)) shifts++;
  if (shifts < MIN_ISO_2022_KR_SHIFTS || !isAscii(bytes)) return undefined;
  const text = decodedStrictly("iso-2022-kr", bytes, complete);
  return text !== undefined && isTextual(text) ? withoutBom("iso-2022-kr") : undefined;
}

/** GB2312 characters between `~{` and `~}` that ASCII text needs before it is taken for HZ. */
const MIN_HZ_CHARACTERS = 8;

/** A run of HZ's GB2312 mode: `~{`, 7-bit byte pairs, `~}`. */
const HZ_RUN = /~\{((?:[\x21-\x7e][\x21-\x7e])*?)~\}/g;

/**
 * HZ (Chinese as Usenet and mail sent it, RFC 1843): ASCII text that reads
 * as HZ without a fault (each `~` opens or closes a run, doubles a tilde or
 * ends a line), with runs from `~{` to `~}` holding at least
 * {@link MIN_HZ_CHARACTERS} GB2312 characters between them, most of them
 * Chinese. A `~` elsewhere (a path under `~/`, a C `~x`) is no HZ, and
 * neither is a stray `~{` in code. Nor are runs of letters and digits only,
 * which read as Chinese too (`AB` is 0xC1C2): GB2312's punctuation rows and
 * a third of its trail bytes fall on ASCII's punctuation.
 */
function hz(bytes: Uint8Array, complete: boolean): TextEncoding | undefined {
  if (bytes.indexOf(0x7e) < 0) return undefined;
  const ascii = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("latin1");
  if (!ascii.includes("~{")) return undefined;
  const decoder = textDecoder("hz-gb-2312", { fatal: true });
  let characters = 0;
  let han = 0;
  let punctuation = false;
  try {
    for (const [, run = ""] of ascii.matchAll(HZ_RUN)) {
      const chars = decoder.decode(Buffer.from(`~{${run}~}`, "latin1"));
      characters += chars.length;
      han += chars.match(/\p{Script=Han}/gu)?.length ?? 0;
      punctuation ||= /[^0-9A-Za-z]/.test(run);
    }
  } catch {
    return undefined;
  }
  if (characters < MIN_HZ_CHARACTERS || han * 2 < characters || !punctuation) return undefined;
  return decodedStrictly("hz-gb-2312", bytes, complete) === undefined ? undefined : withoutBom("hz-gb-2312");
}

/** EBCDIC text: 0x40 is its space and ASCII spaces are absent. Not readable as ASCII-family text. */
function looksEbcdic(bytes: Uint8Array): boolean {
  let at = 0;
  let space = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b === 0x40) at++;
    else if (b === 0x20) space++;
  }
  return space === 0 && at > bytes.length * 0.05;
}

/** Single-byte text in no other set: windows-1252, named iso-8859-1 when it leaves 0x80-0x9F unused. */
function latin1Encoding(bytes: Uint8Array): TextEncoding {
  let c1 = false;
  for (let i = 0; i < bytes.length && !c1; i++)
    c1 = (bytes[i] as number) >= 0x80 && (bytes[i] as number) <= 0x9f;
  // WHATWG's "iso-8859-1" label decodes as windows-1252, which is identical outside 0x80-0x9F.
  return c1 ? withoutBom("windows-1252") : withoutBom("iso-8859-1", "windows-1252");
}

/**
 * The set an XML declaration or HTML `<meta>` in `head` names, when `bytes`
 * (not UTF-8) read in it without a decoding error. A browser believes such a
 * declaration, and it is often the only evidence for markup whose text is a
 * small part of its bytes.
 */
function declaredEncoding(bytes: Uint8Array, complete: boolean, head: Uint8Array): TextEncoding | undefined {
  const name = declaredCharset(head);
  if (name === undefined || name === "utf-8") return undefined;
  if (name === "windows-1252") return latin1Encoding(bytes);
  return decodedStrictly(name, bytes, complete) === undefined ? undefined : withoutBom(name);
}

/**
 * Decides whether bytes are text and how they are encoded. `complete` says the
 * bytes are the whole file (a multibyte sequence may otherwise be cut at the end).
 * A set the document declares (see {@link declaredCharset}) is looked for in
 * `declaredIn`, the bytes themselves unless they are a later part of the file.
 * With `nameLegacySet: false`, text in a legacy set is answered iso-8859-1 or
 * windows-1252 without asking {@link legacyCharset} which set it is.
 *
 * @example
 * detectTextEncoding(new TextEncoder().encode("héllo"), true)
 * // { encoding: "utf-8", bom: false, bomLength: 0, decoderLabel: "utf-8" }
 */
export function detectTextEncoding(
  head: Uint8Array,
  complete: boolean,
  { nameLegacySet = true, declaredIn = head }: { nameLegacySet?: boolean; declaredIn?: Uint8Array } = {},
): TextEncoding | undefined {
  if (head.length === 0) return undefined;
  const withBom = bomEncoding(head);
  // A BOM is two or three bytes: binary data may start with them by chance.
  if (withBom) return isTextual(decodeText(head, withBom, complete)) ? withBom : undefined;
  if (head.includes(0)) return utf32WithoutBom(head, complete) ?? utf16WithoutBom(head, complete);
  const korean = iso2022Kr(head, complete);
  if (korean) return korean;
  if (controlRatio(head) > MAX_CONTROL_RATIO) return undefined;
  const utf8 = utf8Status(head, complete);
  if (utf8 === "ascii")
    return iso2022Jp(head, complete) ?? hz(head, complete) ?? withoutBom("us-ascii", "utf-8");
  if (utf8 === "utf-8") return withoutBom("utf-8");
  if (looksEbcdic(head)) return undefined;
  if (!nameLegacySet) return latin1Encoding(head);
  const declared = declaredEncoding(head, complete, declaredIn);
  if (declared) return declared;
  const legacy = legacyCharset(head);
  if (legacy) return withoutBom(legacy);
  return latin1Encoding(head);
}

/**
 * Decodes bytes in a detected encoding (BOM skipped). A trailing partial
 * character is dropped unless `complete`.
 *
 * @example
 * decodeText(bytes, detectTextEncoding(bytes, true)!, true)
 */
export function decodeText(bytes: Uint8Array, encoding: TextEncoding, complete: boolean): string {
  const body = bytes.subarray(encoding.bomLength);
  if (encoding.decoderLabel.startsWith("utf-32"))
    return decodeUtf32(body, encoding.decoderLabel === "utf-32le");
  // stream: true keeps a cut sequence back instead of emitting U+FFFD for it.
  return textDecoder(encoding.decoderLabel).decode(body, { stream: !complete });
}

/** UTF-32 has no TextDecoder; it is rare enough that a plain loop will do. */
export function decodeUtf32(bytes: Uint8Array, littleEndian: boolean): string {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const parts: string[] = [];
  for (let i = 0; i + 3 < bytes.length; i += 4) {
    const code = view.getUint32(i, littleEndian);
    parts.push(code <= 0x10ffff && (code < 0xd800 || code > 0xdfff) ? String.fromCodePoint(code) : "\ufffd");
  }
  return parts.join("");
}

/**
 * How far a text reads as one JSON value: `complete` when the value ends and
 * only whitespace follows, `cut` when the text ends inside the value with
 * nothing wrong before (a document longer than the window sniffed),
 * `broken` at the first character no JSON text could have there.
 * `structured` says a `,` or `:` was read in its place before that: a
 * broken text that got so far is JSON written wrong, not prose.
 */
interface JsonScan {
  end: "complete" | "cut" | "broken";
  structured: boolean;
}

/** What may come next in a JSON text; `first-` also allows the container to close empty. */
type JsonExpect = "value" | "first-value" | "key" | "first-key" | "colon" | "next" | "done";

const JSON_NUMBER = /-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;

/**
 * Index after the string opening at `start`, `-1` when the text ends inside
 * it, `-2` at a raw control character (JSON escapes them; a log's line break is one).
 */
function jsonStringEnd(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x5c) i++;
    else if (code === 0x22) return i + 1;
    else if (code < 0x20) return -2;
  }
  return -1;
}

/**
 * Scans a text as JSON's grammar without building values. By hand because
 * `JSON.parse` answers only "valid" or a message whose wording varies: it
 * cannot tell a document cut by the window from one that is not JSON at all,
 * nor say how far the text was JSON (a TOML `[[table]]` or a log's
 * `[2024-05-01 10:00:00]` breaks at once, `{"a": 1,}` near its end).
 */
function scanJson(text: string): JsonScan {
  const closers: string[] = [];
  let expect: JsonExpect = "value";
  let structured = false;
  const broken = (): JsonScan => ({ end: "broken", structured });
  const cut = (): JsonScan => ({ end: "cut", structured });
  const afterValue = (): JsonExpect => (closers.length > 0 ? "next" : "done");
  let i = 0;
  while (i < text.length) {
    const ch = text[i] as string;
    if (ch === " " || ch === "\t" || ch === "\n" || ch === "\r") {
      i++;
      continue;
    }
    if (expect === "done") return broken();
    if (expect === "colon") {
      if (ch !== ":") return broken();
      structured = true;
      expect = "value";
      i++;
    } else if (
      expect === "next" ||
      ((expect === "first-key" || expect === "first-value") && ch === closers.at(-1))
    ) {
      if (ch === ",") {
        structured = true;
        expect = closers.at(-1) === "}" ? "key" : "value";
      } else if (ch === closers.at(-1)) {
        closers.pop();
        expect = afterValue();
      } else {
        return broken();
      }
      i++;
    } else if (ch === '"') {
      const end = jsonStringEnd(text, i);
      if (end === -1) return cut();
      if (end === -2) return broken();
      i = end;
      if (expect === "key" || expect === "first-key") expect = "colon";
      else expect = afterValue();
    } else if (expect === "key" || expect === "first-key") {
      return broken();
    } else if (ch === "{" || ch === "[") {
      closers.push(ch === "{" ? "}" : "]");
      expect = ch === "{" ? "first-key" : "first-value";
      i++;
    } else {
      JSON_NUMBER.lastIndex = i;
      const number = JSON_NUMBER.exec(text)?.[0];
      const literal = ["true", "false", "null"].find((word) => word[0] === ch);
      const token = number ?? (literal && text.startsWith(literal, i) ? literal : undefined);
      if (token === undefined) {
        // A literal or a number's sign cut by the end of the text.
        return literal?.startsWith(text.slice(i)) || text.slice(i) === "-" ? cut() : broken();
      }
      i += token.length;
      // A number cut after its point or exponent mark ("1.", "2e-") by the end of the text.
      if (number && text.length - i < 4 && /^(\.|[eE][+-]?)$/.test(text.slice(i))) return cut();
      expect = afterValue();
    }
  }
  return expect === "done" ? { end: "complete", structured } : cut();
}

/**
 * JSON is a text that is one JSON value; one that breaks off where the
 * window ends, unless the window is the whole file; and JSON written wrong
 * (a trailing comma, JSON Lines) that read as JSON as far as a `,` or `:`.
 */
function jsonKind(text: string, complete: boolean): boolean {
  const scan = scanJson(text);
  if (scan.end === "complete") return true;
  if (scan.end === "cut" && !complete) return true;
  return scan.structured;
}

/** Name of the first element, after the XML declaration, comments, PIs and doctype. */
function rootElement(text: string): { name?: string; doctype?: string } {
  let i = 0;
  let doctype: string | undefined;
  for (let guard = 0; guard < 64; guard++) {
    while (i < text.length && /\s/.test(text[i] as string)) i++;
    if (text.startsWith("<?", i)) {
      const end = text.indexOf("?>", i);
      if (end < 0) return {};
      i = end + 2;
    } else if (text.startsWith("<!--", i)) {
      const end = text.indexOf("-->", i);
      if (end < 0) return {};
      i = end + 3;
    } else if (/^<!doctype/i.test(text.slice(i, i + 9))) {
      const match = /^<!doctype\s+([^\s>[]+)/i.exec(text.slice(i, i + 200));
      doctype = match?.[1]?.toLowerCase();
      // Skip an internal subset in brackets before the closing '>'.
      const bracket = text.indexOf("[", i);
      const close = text.indexOf(">", i);
      if (close < 0) return { ...(doctype && { doctype }) };
      if (bracket >= 0 && bracket < close) {
        const subsetEnd = text.indexOf("]>", bracket);
        i = subsetEnd < 0 ? text.length : subsetEnd + 2;
      } else {
        i = close + 1;
      }
    } else {
      const match = /^<([A-Za-z_][\w.:-]*)/.exec(text.slice(i, i + 256));
      return { ...(match?.[1] && { name: match[1] }), ...(doctype && { doctype }) };
    }
  }
  return {};
}

const HTML_ROOTS = new Set(["html", "head", "body"]);

/**
 * Elements that open an HTML fragment (a page without `<html>`, a template, a
 * saved snippet) and hardly ever an XML document: libmagic's own list (title,
 * table, script, style, `a href`) and the common block and inline elements.
 * Names an XML vocabulary also uses as a root (link, section, header) are left out.
 */
const HTML_FRAGMENT_ROOTS = new Set([
  ...["title", "table", "script", "style", "noscript", "meta", "div", "span", "p", "br", "img", "iframe"],
  ...["form", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6"],
]);

/** Whether the start tag of an undeclared root with no namespace opens an HTML fragment. */
function isHtmlFragment(name: string, opening: string): boolean {
  const lower = name.toLowerCase();
  return HTML_FRAGMENT_ROOTS.has(lower) || (lower === "a" && /\shref\s*=/i.test(opening));
}

function markupKind(text: string): { mime: string; ext: string } | undefined {
  const declared = text.startsWith("<?xml");
  const { name, doctype } = rootElement(text);
  const local = name?.toLowerCase().split(":").pop();
  // SVG is what the SVG extractor can read: a root named svg in the SVG namespace. When the
  // window ends before the root's start tag does, the name or the DOCTYPE has to do.
  if ((local === "svg" || doctype === "svg") && (isSvgDocument(text) ?? true)) {
    return { mime: "image/svg+xml", ext: "svg" };
  }
  if (doctype === "html" || (local && HTML_ROOTS.has(local))) return { mime: "text/html", ext: "html" };
  if (declared) return { mime: "application/xml", ext: "xml" };
  if (name) {
    const at = text.indexOf(`<${name}`);
    const opening = text.slice(at, text.indexOf(">", at) + 1);
    const namespaced = /\sxmlns(:\w+)?=/.test(opening);
    if (!namespaced && isHtmlFragment(name, opening)) return { mime: "text/html", ext: "html" };
    // Without a declaration, ask for evidence that the markup is a document, not a stray tag.
    if (namespaced || text.includes(`</${name}>`)) return { mime: "application/xml", ext: "xml" };
  }
  return undefined;
}

/** Lines of the sample, without one cut at the end of an incomplete window. */
function sampleLines(text: string, complete: boolean, max: number): string[] {
  const lines = text.split(/\r\n|\n|\r/, max + 1);
  if ((!complete || lines.length > max) && lines.length > 1) lines.pop();
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  return lines;
}

/**
 * The first records of delimited text. A newline inside double quotes belongs
 * to the field (RFC 4180), so a record may span lines. A record cut by the end
 * of an incomplete sample is dropped.
 *
 * @example
 * delimitedRecords('a,"x\ny"\n1,2\n', 10, true) // ['a,"x\ny"', "1,2"]
 */
export function delimitedRecords(text: string, max: number, complete: boolean): string[] {
  const records: string[] = [];
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length && records.length < max; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 0x22) quoted = !quoted;
    else if (!quoted && (ch === 0x0a || ch === 0x0d)) {
      records.push(text.slice(start, i));
      if (ch === 0x0d && text.charCodeAt(i + 1) === 0x0a) i++;
      start = i + 1;
    }
  }
  if (records.length < max && start < text.length && complete) records.push(text.slice(start));
  return records.filter((record) => record.trim().length > 0);
}

/**
 * Splits one CSV record on a delimiter, honouring double-quoted fields (a
 * quoted newline, from a record {@link delimitedRecords} kept whole, included).
 *
 * @example
 * splitDelimited('a,"b,c",d', ",") // ["a", "b,c", "d"]
 */
export function splitDelimited(line: string, delimiter: string): string[] {
  const fields: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i] as string;
    if (quoted) {
      if (ch === '"') {
        if (line[i + 1] === '"') {
          field += '"';
          i++;
        } else {
          quoted = false;
        }
      } else {
        field += ch;
      }
    } else if (ch === '"' && field.trim() === "") {
      quoted = true;
    } else if (ch === delimiter) {
      fields.push(field);
      field = "";
    } else {
      field += ch;
    }
  }
  fields.push(field);
  return fields;
}

const DELIMITERS = [",", "\t", ";", "|"] as const;

/**
 * The delimiter and column count of delimited text, when every sampled record
 * (from {@link delimitedRecords}) has the same number of fields (two or more).
 *
 * @example
 * detectDelimited(["a,b,c", "1,2,3", "4,5,6"]) // { delimiter: ",", columns: 3 }
 */
export function detectDelimited(
  records: readonly string[],
): { delimiter: string; columns: number } | undefined {
  const rows = records.filter((record) => record.trim().length > 0);
  if (rows.length < 2) return undefined;
  let best: { delimiter: string; columns: number } | undefined;
  for (const delimiter of DELIMITERS) {
    if (!rows.every((row) => row.includes(delimiter))) continue;
    const counts = rows.map((row) => splitDelimited(row, delimiter).length);
    const columns = counts[0] as number;
    if (columns < 2 || !counts.every((count) => count === columns)) continue;
    // Two records with one comma each is as likely prose as a table.
    if (rows.length < 3 && columns < 3) continue;
    if (delimiter === ",") {
      // Prose puts a space after its commas; tables rarely do.
      const fields = rows.flatMap((row) => splitDelimited(row, ",").slice(1));
      const spaced = fields.filter((field) => /^ \S/.test(field)).length;
      if (spaced > fields.length / 2) continue;
    }
    if (!best || columns > best.columns) best = { delimiter, columns };
  }
  return best;
}

const SRT_TIMING = /^\d{1,2}:\d{2}:\d{2}[,.]\d{1,3}\s+-->\s+\d{1,2}:\d{2}:\d{2}[,.]\d{1,3}/;

function isSubRip(lines: readonly string[]): boolean {
  const first = lines.findIndex((line) => line.trim().length > 0);
  if (first < 0) return false;
  return /^\d+\s*$/.test(lines[first] as string) && SRT_TIMING.test(lines[first + 1] ?? "");
}

/** A TOML key: bare, or quoted; dotted keys join them with dots. */
const TOML_KEY = String.raw`(?:[\w-]+|"[^"\n]*"|'[^'\n]*')(?:\s*\.\s*(?:[\w-]+|"[^"\n]*"|'[^'\n]*'))*`;
const TOML_TABLE = new RegExp(String.raw`^\s*(\[\[\s*${TOML_KEY}\s*\]\]|\[\s*${TOML_KEY}\s*\])\s*(#.*)?$`);
const TOML_PAIR = new RegExp(String.raw`^\s*${TOML_KEY}\s*=\s*(.*)$`);
/** How a TOML value starts: a string, number, date, boolean, array or inline table. */
const TOML_VALUE = /^("|'|[+-]?(\d|inf\b|nan\b)|true\b|false\b|\[|\{)/;

/** Brackets a line opens and does not close, strings and comment left out. */
function openBrackets(line: string): number {
  const bare = line.replace(/"(?:\\.|[^"\\])*"|'[^']*'/g, "").replace(/#.*/, "");
  return (bare.match(/\[/g)?.length ?? 0) - (bare.match(/]/g)?.length ?? 0);
}

/**
 * TOML (a Pipfile, a pyproject.toml or Cargo.toml without its name): every
 * line a comment, a table header or a key set to a typed value (an array or
 * a multi-line string may go on over the following lines), with a header
 * and a value besides. An INI file's bare values (`envlist = py39, py310`,
 * `Description=Foo`), its `;` comments, or a `[section name]`, are not
 * TOML. Either an array of tables (`[[package]]`) or a quoted string is
 * asked for as well, so a git config of numbers and booleans stays text.
 */
function isToml(lines: readonly string[]): boolean {
  let tables = 0;
  let pairs = 0;
  let arrayOfTables = false;
  let strings = false;
  let depth = 0;
  let multiline: string | undefined;
  for (const line of lines) {
    if (multiline) {
      if (line.includes(multiline)) multiline = undefined;
      continue;
    }
    if (depth > 0) {
      depth += openBrackets(line);
      continue;
    }
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("#")) continue;
    if (TOML_TABLE.test(line)) {
      tables++;
      arrayOfTables ||= trimmed.startsWith("[[");
      continue;
    }
    const value = TOML_PAIR.exec(line)?.[1];
    if (value === undefined || !TOML_VALUE.test(value)) return false;
    pairs++;
    strings ||= /^["']/.test(value);
    const quotes = /^("""|''')/.exec(value)?.[1];
    if (quotes && !value.slice(3).includes(quotes)) multiline = quotes;
    else if (value.startsWith("[")) depth = openBrackets(value);
  }
  return tables > 0 && pairs > 0 && (arrayOfTables || strings);
}

/**
 * C preprocessor directives. A C or C++ source's `# define`, `# include`,
 * `# if` lines are not headings.
 */
const PREPROCESSOR_LINE =
  /^#\s*(include|include_next|import|define|undef|if|ifdef|ifndef|elif|elifdef|elifndef|else|endif|pragma|error|warning|line)\b/;

/**
 * The lines of a text outside its fenced code blocks, and whether it has
 * one: a fenced shell or C snippet says nothing about the text around it.
 */
function outsideFences(lines: readonly string[]): { prose: string[]; fence: boolean } {
  const prose: string[] = [];
  let fences = 0;
  let fenced = false;
  for (const line of lines) {
    if (/^ {0,3}(```|~~~)/.test(line)) {
      fences++;
      fenced = !fenced;
    } else if (!fenced) {
      prose.push(line);
    }
  }
  // A fence still open at the end of the sample holds a block longer than the sample (a licence text).
  return { prose, fence: fences >= 2 || fenced };
}

/**
 * ATX headings among lines outside code. A `#` line next to another is part
 * of a block of comments (shell, Make, CMake, INI and .conf files write them
 * so), and a preprocessor directive is C's: neither is a heading. Where such
 * lines outnumber the headings, the lone `# ...` lines are comments too.
 */
function atxHeadings(prose: readonly string[]): number {
  const hashed = (i: number) => prose[i]?.startsWith("#") ?? false;
  const headings = prose.filter(
    (line, i) =>
      /^#{1,6}[ \t]+\S/.test(line) && !PREPROCESSOR_LINE.test(line) && !hashed(i - 1) && !hashed(i + 1),
  ).length;
  const comments = prose.filter((line) => line.startsWith("#")).length - headings;
  return comments > headings ? 0 : headings;
}

/** reStructuredText's directives (`.. note::`) and roles (`:command:`x``), which Markdown has not. */
function isRestructuredText(prose: readonly string[], text: string): boolean {
  return prose.some((line) => /^\s*\.\. [\w|:-]+::/.test(line)) || /:[a-z][\w.-]*:`[^`\n]+`/.test(text);
}

/**
 * Code in braces outside any fence (C, CSS, a brace-structured configuration
 * such as ALSA's): lines, not indented as a Markdown code block is, that
 * open a block at their end or only close one. Markdown leaves its braces
 * inside code blocks.
 */
function isBlockCode(prose: readonly string[]): boolean {
  return prose.filter((line) => /^ {0,3}(\S.*\{|\}[;,)]?)\s*$/.test(line)).length >= 3;
}

/**
 * Markdown only on two kinds of evidence: a heading (ATX or setext) and a
 * list, link, emphasis, inline code or code fence; or a code fence and a list
 * or link. Each is read as CommonMark reads it where code and configuration
 * files look alike: strong emphasis is not inside a word (C's `__x` and
 * `__attribute__`), a list's `*` is not a C comment's margin, a link's `[`
 * does not follow an expression (`table[i](x)`), and a GNU-style
 * `` `quote' `` is not inline code.
 */
function isMarkdown(lines: readonly string[], text: string): boolean {
  const { prose, fence } = outsideFences(lines);
  if (isRestructuredText(prose, text) || isBlockCode(prose)) return false;
  const heading = atxHeadings(prose) > 0;
  const setext = prose.some(
    (line, i) => i > 0 && /^(=+|-{3,})\s*$/.test(line) && /\S/.test(prose[i - 1] ?? ""),
  );
  const cComments = /^\s*\/\*/m.test(text);
  const bullet = cComments ? /^ {0,3}([-+]|\d+\.)\s+\S|^\*\s+\S/ : /^ {0,3}([-*+]|\d+\.)\s+\S/;
  const list = prose.filter((line) => bullet.test(line)).length >= 2;
  const link =
    /(?<![\w\])])\[[^\]\n]+\]\([^)\s]+\)/.test(text) ||
    prose.some((line) => /^ {0,3}\[[^\]]+\]:\s*\S/.test(line));
  const strong =
    /(?<![\w*])\*\*(?![\s*])[^\n]*?[^\s*]\*\*(?![\w*])/.test(text) ||
    /(?<![\w_])__(?![\s_])[^_\n]*\s[^_\n]*[^\s_]__(?![\w_])/.test(text);
  const code = /`[^`\n]+`/.test(text.replace(/`[^`'\n]*'/g, ""));
  const emphasis = strong || code;
  const anchors = Number(heading || setext) + Number(fence);
  const support = Number(list) + Number(link) + Number(emphasis) + Number(fence);
  return anchors > 0 && support + Number(heading || setext) >= 2 && (heading || setext || link || list);
}

/**
 * Interpreters a `#!` line names, and the type of a script for each: the
 * `mime` table's type for the script's usual extension (.sh, .csh, .pl, .js,
 * .php, .lua, .tcl), else shared-mime-info's (Python, Ruby, awk). Version
 * suffixes are dropped (python3.11, perl5.36).
 */
const INTERPRETERS: ReadonlyMap<string, { mime: string; ext: string }> = new Map(
  [
    [["sh", "bash", "dash", "ash", "ksh", "mksh", "zsh", "busybox"], "application/x-sh", "sh"],
    [["csh", "tcsh"], "application/x-csh", "csh"],
    [["perl"], "application/x-perl", "pl"],
    [["python", "pypy"], "text/x-python", "py"],
    [["ruby"], "application/x-ruby", "rb"],
    [["node", "nodejs", "deno", "bun"], "text/javascript", "js"],
    [["php"], "application/x-httpd-php", "php"],
    [["lua", "luajit"], "text/x-lua", "lua"],
    [["tclsh", "wish", "expect"], "application/x-tcl", "tcl"],
    [["awk", "gawk", "mawk", "nawk"], "text/x-awk", "awk"],
  ].flatMap(([names, mime, ext]) =>
    (names as string[]).map((name) => [name, { mime: mime as string, ext: ext as string }]),
  ),
);

/**
 * The script a `#!` line names: `#!/bin/sh`, `#!/usr/bin/env python3`,
 * `#!/usr/bin/env -S node --flag`. Undefined for an interpreter not known.
 *
 * @example
 * scriptKind("#!/usr/bin/env python3\nprint(1)\n") // { mime: "text/x-python", ext: "py" }
 */
export function scriptKind(text: string): { mime: string; ext: string } | undefined {
  const line = /^#!\s*(\S+)([^\r\n]*)/.exec(text);
  if (!line) return undefined;
  const words = [line[1] as string, ...(line[2] as string).trim().split(/\s+/)];
  let program = (words[0] as string).split("/").pop() ?? "";
  if (program === "env") {
    // env's options (-S, -i) come before the program; an assignment (A=b) may too.
    program =
      words.slice(1).find((word) => word !== "" && !word.startsWith("-") && !word.includes("=")) ?? "";
    program = program.split("/").pop() ?? "";
  }
  return INTERPRETERS.get(program.replace(/[\d.]+$/, ""));
}

/** The kind of a decoded text (BOM already removed). */
function textKind(text: string, complete: boolean): { mime: string; ext: string } {
  // A #! line names the script's language; its comments would otherwise read as Markdown headings.
  const script = scriptKind(text);
  if (script) return script;
  const start = text.trimStart();
  if (start.startsWith("{") || start.startsWith("[")) {
    if (jsonKind(start, complete)) return { mime: "application/json", ext: "json" };
  }
  if (start.startsWith("<")) {
    const markup = markupKind(start);
    if (markup) return markup;
  }
  if (/^WEBVTT(\s|$)/.test(start)) return { mime: "text/vtt", ext: "vtt" };
  if (/^BEGIN:VCALENDAR\r?$/im.test(start.slice(0, 64))) return { mime: "text/calendar", ext: "ics" };
  if (/^BEGIN:VCARD\r?$/im.test(start.slice(0, 64))) return { mime: "text/vcard", ext: "vcf" };
  const lines = sampleLines(start, complete, SAMPLE_LINES);
  if (isSubRip(lines)) return { mime: "application/x-subrip", ext: "srt" };
  if (isToml(sampleLines(start, complete, 200))) return { mime: "application/toml", ext: "toml" };
  const delimited = detectDelimited(delimitedRecords(start, SAMPLE_LINES, complete));
  if (delimited) {
    return delimited.delimiter === "\t"
      ? { mime: "text/tab-separated-values", ext: "tsv" }
      : { mime: "text/csv", ext: "csv" };
  }
  if (isMarkdown(sampleLines(start, complete, 200), start)) return { mime: "text/markdown", ext: "md" };
  return { mime: "text/plain", ext: "txt" };
}

/**
 * Sniffs the head of a file that carries no magic number. Undefined means
 * "not text" (the caller keeps `application/octet-stream`).
 *
 * @example
 * sniffText(new TextEncoder().encode('{"a": 1}'), 8)
 * // { mime: "application/json", ext: "json", encoding: "us-ascii", bom: false }
 */
export function sniffText(head: Uint8Array, size: number): TextSniff | undefined {
  const complete = head.length >= size;
  // Naming a legacy set takes chardet's statistics over the whole window
  // (about 1 µs a byte, several times that before the JIT warms up), and the
  // kinds of text are told apart by ASCII: markup, brackets, delimiters,
  // which read the same in every single-byte set. In an East Asian multibyte
  // set a second byte may fall in ASCII's range; a JSON text that then
  // breaks is still JSON once it has read as JSON as far as a `,` or `:`.
  const encoding = detectTextEncoding(head, complete, { nameLegacySet: false });
  if (!encoding) return undefined;
  const text = decodeText(head, encoding, complete);
  return { ...textKind(text, complete), encoding: encoding.encoding, bom: encoding.bom };
}
