/**
 * Which legacy (pre-Unicode) character set single-byte-looking text is in,
 * when it is neither ASCII nor UTF-8: Cyrillic, Greek, Hebrew, Arabic, Central
 * European code pages, or a multibyte East Asian one.
 *
 * chardet (ICU's detector) decides most of them; it knows no IBM866 or IBM855
 * (DOS) or x-mac-cyrillic, and a Russian text in any of them gets a wrong or
 * weak answer, so the Cyrillic code pages are chosen here first, by Russian
 * letter frequencies (Ukrainian's own letters counted as the Russian ones
 * nearest them). The one library that also knows those three (jschardet)
 * adds over 1 MiB to the Lambda bundle.
 *
 * Markup is judged by its text: the English of tag names, attributes and
 * links is evidence for no set.
 */

import { analyse } from "chardet";
import { isWindows949AddedPair } from "../east-asian-decoders.js";
import { textDecoder } from "../text-decoder.js";

/** Bytes above 0x7F needed before a character set is guessed: fewer say too little about any. */
export const MIN_HIGH_BYTES = 16;

/** chardet confidence (0-100) from which any answer of its is taken; the least for a multibyte set. */
const MIN_CHARDET_CONFIDENCE = 50;

/**
 * chardet confidence (0-100) from which its first answer for a single-byte set
 * is taken. Its confidence for a set is how alike the text's trigrams are to
 * the language's, which a Czech or Croatian text reaches only at 30 to 50 (the
 * ISO-8859-1 recogniser scores the same text 18 to 32). Below
 * {@link MIN_CHARDET_CONFIDENCE} the answer has to beat the Latin-1 reading:
 * outrank it and read the text differently.
 */
const MIN_SINGLE_BYTE_CONFIDENCE = 25;

/** Score (0-1) a Cyrillic code page needs: letter frequencies alike and the high bytes read as letters. */
const MIN_CYRILLIC_SCORE = 0.75;

/** Tags that make bytes markup. */
const MIN_TAGS = 5;

/** Bytes a tag may run to before its `<` is taken for one in text. */
const MAX_TAG_BYTES = 100;

/** What opens a CDATA section, whose content is text however it is marked up. */
const CDATA_OPEN = Uint8Array.from("<![CDATA[", (char) => char.charCodeAt(0));

/** chardet's answers taken, by its name, as the name `TextDecoder` and the record use. */
const CHARDET_ENCODINGS = new Map(
  [
    "Shift_JIS",
    "Big5",
    "EUC-JP",
    "EUC-KR",
    "GB18030",
    "ISO-8859-2",
    "ISO-8859-5",
    "ISO-8859-6",
    "ISO-8859-7",
    "ISO-8859-8",
    "ISO-8859-9",
    "windows-1250",
    "windows-1251",
    "windows-1253",
    "windows-1254",
    "windows-1255",
    "windows-1256",
    "KOI8-R",
  ].map((name) => [name, name.toLowerCase()]),
);

/** chardet's multibyte sets: a weak answer for one (10 is common) says only that no byte pair broke its rules. */
const MULTIBYTE = new Set(["shift_jis", "big5", "euc-jp", "euc-kr", "gb18030"]);

/**
 * Cyrillic single-byte code pages, each tried as a decoding of the text. KOI8-U
 * is KOI8-R with the Ukrainian letters where KOI8-R has box drawing: it comes
 * after it, so that a text neither letter tells apart keeps the older name.
 */
const CYRILLIC_CODE_PAGES = [
  "windows-1251",
  "koi8-r",
  "koi8-u",
  "ibm866",
  "ibm855",
  "x-mac-cyrillic",
  "iso-8859-5",
] as const;

/**
 * Ukrainian and Belarusian letters (і ї є ґ ў, either case), counted as the
 * Russian letter nearest in sound: a Ukrainian text then reads as many
 * letters as a Russian one, and a code page that has them (KOI8-U rather
 * than KOI8-R) reads it with more letters than one that has box drawing there.
 */
const FOLDED_LETTERS: ReadonlyMap<number, number> = new Map([
  [0x456, 8],
  [0x406, 8],
  [0x457, 8],
  [0x407, 8],
  [0x454, 5],
  [0x404, 5],
  [0x491, 3],
  [0x490, 3],
  [0x45e, 19],
  [0x40e, 19],
]);

/** Russian letters а-я (ё counted as е), per mille of running text. */
const RUSSIAN_LETTERS = [
  80, 16, 45, 17, 30, 85, 9, 17, 74, 12, 35, 44, 32, 67, 110, 28, 47, 55, 63, 26, 3, 10, 5, 14, 7, 4, 0.4, 19,
  17, 3, 6, 20,
];

/**
 * The legacy character set of text that has at least {@link MIN_HIGH_BYTES}
 * bytes above 0x7F and is not UTF-8, or undefined when none stands out (the
 * caller keeps ISO-8859-1 / windows-1252). Latin-1 answers are left to the caller.
 *
 * @example
 * legacyCharset(windows1256Bytes) // "windows-1256"
 */
export function legacyCharset(bytes: Uint8Array): string | undefined {
  let high = 0;
  for (let i = 0; i < bytes.length; i++) if ((bytes[i] as number) >= 0x80) high++;
  if (high < MIN_HIGH_BYTES) return undefined;
  const cyrillic = cyrillicCodePage(bytes, high);
  if (cyrillic) return cyrillic;
  const text = withoutTags(bytes);
  if (isWindows949Korean(text)) return "euc-kr";
  const [best] = analyse(text);
  const label = best && CHARDET_ENCODINGS.get(best.name);
  if (!label) return undefined;
  if (best.confidence >= MIN_CHARDET_CONFIDENCE) return label;
  if (MULTIBYTE.has(label) || best.confidence < MIN_SINGLE_BYTE_CONFIDENCE) return undefined;
  // ISO-8859-1 and windows-1252 are not in the map: a set named first outranks them.
  return readsAsLatin1(bytes, label) ? undefined : label;
}

/**
 * Korean text with some of the 8,822 Hangul syllables windows-949 added to
 * EUC-KR (똠, 펲, 햏): it reads without a fault as windows-949 (which the
 * `euc-kr` label decodes), and chardet, asked again without those syllables,
 * takes the rest for EUC-KR. chardet's EUC-KR recogniser knows KS X 1001
 * only and counts each added syllable an error: one in twenty double-byte
 * characters puts it out of the running, and Big5 or GB18030, whose byte
 * ranges hold the same pairs as rarer characters, comes first instead. Its
 * statistics (how many of the characters are among the language's most
 * frequent) still judge the KS X 1001 part, whose syllables are the common
 * ones; a Chinese text read this way gives random syllables and Hanja.
 */
function isWindows949Korean(bytes: Uint8Array): boolean {
  const kept = new Uint8Array(bytes.length);
  let length = 0;
  let added = 0;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i] as number;
    if (byte < 0x81 || byte > 0xfe || i + 1 >= bytes.length) {
      kept[length++] = byte;
    } else if (isWindows949AddedPair(byte, bytes[i + 1] as number)) {
      added++;
      i++;
    } else {
      kept[length++] = byte;
      kept[length++] = bytes[++i] as number;
    }
  }
  if (added === 0) return false;
  try {
    textDecoder("euc-kr", { fatal: true }).decode(bytes, { stream: true });
  } catch {
    return false;
  }
  const [best] = analyse(kept.subarray(0, length));
  return best?.name === "EUC-KR" && best.confidence >= MIN_CHARDET_CONFIDENCE;
}

/**
 * The text of markup without its tags, for chardet: the English words of tag
 * and attribute names outweigh a page's Greek or Hebrew in its trigram
 * statistics. ICU's detector does this when its input filter is on, which the
 * chardet port leaves out. A "tag" longer than {@link MAX_TAG_BYTES} is kept
 * as text, and so is the content of a CDATA section. Bytes with fewer than
 * {@link MIN_TAGS} tags, or no text left, are returned as they are.
 */
function withoutTags(bytes: Uint8Array): Uint8Array {
  const text = new Uint8Array(bytes.length);
  let length = 0;
  let tags = 0;
  let tagStart = -1;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i] as number;
    if (tagStart < 0) {
      if (byte !== 0x3c) text[length++] = byte;
      else if (startsWith(bytes, CDATA_OPEN, i)) i += CDATA_OPEN.length - 1;
      else tagStart = i;
    } else if (byte === 0x3e || i - tagStart > MAX_TAG_BYTES) {
      if (byte === 0x3e) {
        tags++;
      } else {
        // No tag runs this long: the '<' was text.
        text.set(bytes.subarray(tagStart, i + 1), length);
        length += i + 1 - tagStart;
      }
      tagStart = -1;
    }
  }
  if (tagStart >= 0) {
    text.set(bytes.subarray(tagStart), length);
    length += bytes.length - tagStart;
  }
  return tags >= MIN_TAGS && length > MAX_TAG_BYTES ? text.subarray(0, length) : bytes;
}

function startsWith(bytes: Uint8Array, prefix: Uint8Array, at: number): boolean {
  for (let j = 0; j < prefix.length; j++) if (bytes[at + j] !== prefix[j]) return false;
  return true;
}

/**
 * Whether every byte above 0x7F in the text is the same character in the
 * single-byte set `label` as in windows-1252: German read as ISO-8859-2 or
 * ISO-8859-9 is still German, and keeps the Latin-1 name.
 */
function readsAsLatin1(bytes: Uint8Array, label: string): boolean {
  const seen = new Uint8Array(128);
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i] as number;
    if (byte >= 0x80) seen[byte - 0x80] = 1;
  }
  const set = textDecoder(label);
  const latin1 = textDecoder("windows-1252");
  for (let i = 0; i < 128; i++) {
    if (seen[i] === 0) continue;
    const byte = Uint8Array.of(0x80 + i);
    if (set.decode(byte) !== latin1.decode(byte)) return false;
  }
  return true;
}

/**
 * The Cyrillic code page under which the text reads most like Russian: its
 * letters' frequencies closest to Russian's (cosine), times the share of its
 * high bytes that decode to a Cyrillic letter not capitalised mid-word.
 * Undefined unless most high bytes stand next to another, as the letters of
 * a word in a Cyrillic set do, Cyrillic letters outnumber the Latin letters
 * of words that also hold a high byte, and the best score reaches
 * {@link MIN_CYRILLIC_SCORE}.
 */
function cyrillicCodePage(bytes: Uint8Array, high: number): string | undefined {
  const { latin, paired } = highByteNeighbours(bytes);
  // Accented letters in Latin words, or a table of single characters (a keyboard map, a code chart).
  if (paired * 2 < high) return undefined;
  let best: string | undefined;
  let bestScore = MIN_CYRILLIC_SCORE;
  for (const label of CYRILLIC_CODE_PAGES) {
    // Single-byte and all in the BMP: character i is byte i.
    const text = textDecoder(label).decode(bytes);
    const counts = new Array<number>(32).fill(0);
    let letters = 0;
    let afterLetter = false;
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      if ((bytes[i] as number) < 0x80) {
        afterLetter = isAsciiLetter(code);
        continue;
      }
      const foldedLetter = FOLDED_LETTERS.get(code);
      const upper =
        (code >= 0x410 && code <= 0x42f) || code === 0x401 || (foldedLetter !== undefined && code < 0x430);
      const lower =
        (code >= 0x430 && code <= 0x44f) || code === 0x451 || (foldedLetter !== undefined && code >= 0x430);
      if (lower || (upper && !afterLetter)) {
        const folded = foldedLetter ?? (code === 0x401 || code === 0x451 ? 5 : (code - 0x410) % 32);
        counts[folded] = (counts[folded] as number) + 1;
        letters++;
      }
      afterLetter = upper || lower;
    }
    if (letters <= latin) continue;
    const score = cosine(counts, RUSSIAN_LETTERS) * (letters / high);
    if (score > bestScore) {
      best = label;
      bestScore = score;
    }
  }
  return best;
}

function isAsciiLetter(byte: number): boolean {
  return (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a);
}

/**
 * What the bytes above 0x7F stand among, whichever set they are read in.
 * `latin`: ASCII letters in words that also hold a high byte, the accented
 * words of a Latin-script text (café, Straße), which no Cyrillic text writes;
 * words all in ASCII say nothing either way, being the tags, attributes and
 * URLs of markup as often as a Latin-script text's words. `paired`: high
 * bytes next to another high byte.
 */
function highByteNeighbours(bytes: Uint8Array): { latin: number; paired: number } {
  let latin = 0;
  let paired = 0;
  let wordLatin = 0;
  let wordHigh = false;
  for (let i = 0; i <= bytes.length; i++) {
    const byte = i < bytes.length ? (bytes[i] as number) : 0x20;
    if (byte >= 0x80) {
      wordHigh = true;
      if ((bytes[i - 1] ?? 0) >= 0x80 || (bytes[i + 1] ?? 0) >= 0x80) paired++;
    } else if (isAsciiLetter(byte)) {
      wordLatin++;
    } else {
      if (wordHigh) latin += wordLatin;
      wordLatin = 0;
      wordHigh = false;
    }
  }
  return { latin, paired };
}

function cosine(a: readonly number[], b: readonly number[]): number {
  let dot = 0;
  let normA = 0;
  let normB = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    dot += x * y;
    normA += x * x;
    normB += y * y;
  }
  return normA === 0 || normB === 0 ? 0 : dot / Math.sqrt(normA * normB);
}
