/**
 * Characters a terminal acts on instead of showing: C0 and C1 controls
 * (ESC starts the sequences that move the cursor, clear the screen or set the
 * window title; CSI is one character in C1), DEL, and the invisible
 * formatting characters that reorder or hide text (bidirectional overrides
 * and isolates, zero-width characters, the soft hyphen, the combining
 * grapheme joiner, word joiner, Hangul fillers), and the line and paragraph
 * separators, which some terminals break a line at. The combining grapheme
 * joiner stands apart: in a character class it would read as combining with
 * the character before it.
 */
const ACTIVE =
  /\u034f|[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u115f\u1160\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\u3164\ufeff\uffa0]/g;

/** Same set without the C0 controls, which JSON already escapes. */
const ACTIVE_IN_JSON =
  /\u034f|[\u007f-\u009f\u00ad\u061c\u115f\u1160\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\u3164\ufeff\uffa0]/g;

const escaped = (character: string) => `\\u${character.charCodeAt(0).toString(16).padStart(4, "0")}`;

/**
 * A value for a line of terminal output, with every character the terminal
 * would act on written as a visible `\uXXXX` escape. Object keys, file names
 * and every metadata field come from uploaders and files: printed raw, an
 * EXIF title could rewrite the screen or a key with a newline forge a line.
 *
 * @example
 * terminalSafe("photo\u001b[2J.jpg") // "photo\\u001b[2J.jpg"
 */
export function terminalSafe(text: string): string {
  return text.replace(ACTIVE, escaped);
}

/**
 * JSON text with the characters JSON leaves as they are but a terminal acts
 * on (C1 controls, DEL, bidirectional and zero-width formatting) escaped as
 * `\uXXXX`: the same JSON value, safe to print.
 *
 * @example
 * jsonTerminalSafe(JSON.stringify({ title: "\u202eevil" })) // '{"title":"\\u202eevil"}'
 */
export function jsonTerminalSafe(json: string): string {
  return json.replace(ACTIVE_IN_JSON, escaped);
}

/**
 * Code points a terminal shows two columns wide: East Asian Wide and
 * Fullwidth (Unicode's EastAsianWidth W and F), in blocks. Emoji shown as
 * emoji are wide too, found by their property instead (see displayWidth).
 * The project has no direct dependency that measures text, and this is the
 * whole of what a table needs.
 */
const WIDE: readonly (readonly [number, number])[] = [
  [0x1100, 0x115f], // Hangul Jamo initial consonants
  [0x2e80, 0x303e], // CJK radicals, Kangxi, ideographic description, CJK symbols and punctuation
  [0x3041, 0x33ff], // Hiragana, Katakana, Bopomofo, Hangul compatibility Jamo, Kanbun, CJK compatibility
  [0x3400, 0x4dbf], // CJK extension A
  [0x4e00, 0x9fff], // CJK unified ideographs
  [0xa000, 0xa4cf], // Yi
  [0xa960, 0xa97f], // Hangul Jamo extended A
  [0xac00, 0xd7a3], // Hangul syllables
  [0xf900, 0xfaff], // CJK compatibility ideographs
  [0xfe10, 0xfe19], // vertical forms
  [0xfe30, 0xfe6f], // CJK compatibility forms, small form variants
  [0xff00, 0xff60], // fullwidth ASCII and punctuation
  [0xffe0, 0xffe6], // fullwidth signs
  [0x16fe0, 0x16fe4], // ideographic symbols
  [0x17000, 0x18cff], // Tangut
  [0x1b000, 0x1b2ff], // Kana supplement and extensions, Nushu
  [0x1f200, 0x1f2ff], // enclosed ideographic supplement
  [0x20000, 0x3fffd], // CJK extensions B and later
];

/** Marks and format characters drawn on the character before them, or not at all. */
const ZERO_WIDTH = /^[\p{Mn}\p{Me}\p{Cf}]+$/u;
/** Pictographs a terminal draws as emoji: by default, or when asked with U+FE0F. */
const EMOJI = /^(\p{Emoji_Presentation}|\p{Extended_Pictographic}.*\ufe0f)/u;

const graphemes = new Intl.Segmenter("en", { granularity: "grapheme" });

function isWide(codePoint: number): boolean {
  return WIDE.some(([first, last]) => codePoint >= first && codePoint <= last);
}

/**
 * Columns `text` takes on a terminal: one per user-perceived character
 * (grapheme cluster), two for East Asian wide and fullwidth characters and
 * emoji, none for a combining mark or format character on its own. Measure
 * text after {@link terminalSafe}, whose escapes print as the characters
 * they are written with.
 *
 * @example
 * displayWidth("Cafe\u0301") // 4
 * displayWidth("東京.jpg") // 8
 */
export function displayWidth(text: string): number {
  let width = 0;
  for (const { segment } of graphemes.segment(text)) {
    if (ZERO_WIDTH.test(segment)) continue;
    if (EMOJI.test(segment) || isWide(segment.codePointAt(0) ?? 0)) width += 2;
    else width += 1;
  }
  return width;
}
