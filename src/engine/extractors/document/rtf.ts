import { cleanString } from "../../limits.js";
import { textDecoder } from "../../text-decoder.js";
import type { DocumentInfo } from "../../types.js";
import { codePageOfCharset, decoderOfCodePage, encodingOfCodePage } from "../code-pages.js";

const FIELDS = ["title", "subject", "author", "operator", "keywords"] as const;
type Field = (typeof FIELDS)[number];

/** Characters of the info group read at most; writers put a few hundred there. */
const MAX_INFO_CHARS = 16 * 1024;

/** The code pages of the RTF header's `\mac`, `\pc` and `\pca` character sets (Mac Roman, DOS 437 and 850). */
const HEADER_CODE_PAGES: Readonly<Record<string, number>> = { mac: 10000, pc: 437, pca: 850 };

/** Groups open at once followed at most: Word nests a few dozen deep; past this the walk ends. */
const MAX_GROUP_DEPTH = 256;
/** Fonts of the font table kept at most; a file's text uses a few, Word declares some hundred. */
const MAX_FONTS = 4096;
/** ANSI_CHARSET: the font's text is in the document's ANSI code page, which `\ansicpg` names. */
const ANSI_CHARSET = 0;

/**
 * Control words and symbols that stand for a character of the text (RTF 1.9.1,
 * "Special Characters"): Word writes a title's curly quotes and dashes so in
 * files saved without `\uN`. `\par` and `\line` end a line, as exiftool reads them.
 */
const CHARACTER_WORDS: ReadonlyMap<string, number> = new Map([
  ["par", 0x0a],
  ["line", 0x0a],
  ["tab", 0x09],
  ["endash", 0x2013],
  ["emdash", 0x2014],
  ["enspace", 0x2002],
  ["emspace", 0x2003],
  ["qmspace", 0x2005],
  ["lquote", 0x2018],
  ["rquote", 0x2019],
  ["ldblquote", 0x201c],
  ["rdblquote", 0x201d],
  ["bullet", 0x2022],
  ["zwnj", 0x200c],
  ["zwj", 0x200d],
  ["ltrmark", 0x200e],
  ["rtlmark", 0x200f],
]);
/** `\~` a no-break space, `\_` a non-breaking hyphen; `\-` (an optional hyphen) shows nothing. */
const CHARACTER_SYMBOLS: ReadonlyMap<string, number> = new Map([
  ["~", 0xa0],
  ["_", 0x2011],
]);

/**
 * One RTF token: a `\'hh` byte, a control word with its parameter (the
 * space that ends it is part of it), a control symbol, a brace, or a run of
 * literal text.
 */
const RTF_TOKEN = /\\'([0-9a-fA-F]{2})|\\([a-zA-Z]{1,32})(-?\d{1,10})? ?|\\([^a-zA-Z])|([{}])|([^\\{}]+)/g;

/** A font-table entry: the character set and code page it declares. */
interface Font {
  charset?: number;
  codePage?: number;
}

/**
 * The state a group inherits from its parent and gives back on `}`: the
 * `\ucN` fallback length, the current font (`\fN`), and what the group is:
 * the font table, the info group, one of its fields (whose text is read), or
 * an ignorable destination (`{\*...}`) inside a field (whose text is not).
 */
interface Group {
  uc: number;
  font: number | undefined;
  kind: "fonts" | "info" | "field" | "ignored" | undefined;
}

/**
 * A field's text as it is decoded: bytes are gathered while their code page
 * stays the same and decoded together, because in a double-byte code page
 * (Shift-JIS, GBK, Big5) one character is a lead and a trail byte, written as
 * two escapes or as an escape and a literal character.
 */
class FieldText {
  /** True once a `\uN` character was read: Word's Unicode form of a field. */
  unicode = false;
  private out = "";
  private pending: number[] = [];
  private pendingEncoding = "";

  constructor(readonly field: Field) {}

  byte(value: number, encoding: string): void {
    if (encoding !== this.pendingEncoding) this.flush();
    this.pendingEncoding = encoding;
    this.pending.push(value);
  }

  char(code: number): void {
    this.flush();
    this.out += String.fromCharCode(code);
  }

  text(): string {
    this.flush();
    return this.out;
  }

  private flush(): void {
    if (this.pending.length > 0)
      this.out += textDecoder(this.pendingEncoding).decode(Uint8Array.from(this.pending));
    this.pending = [];
  }
}

/**
 * The info group's fields, decoded. Written by hand: the RTF readers on npm
 * build a whole document tree and decode `\'hh` in `\ansicpg` alone. The
 * source is walked from its start, group by group, so that what RTF's group
 * rules carry into `{\info ...}` is known there: the `\ucN` fallback length
 * and the current font, whose font-table entry's `\cpgN` or `\fcharsetN`
 * names the code page of its `\'hh` bytes and literal text (the `\deffN`
 * font's until a `\fN` switches). A font of ANSI_CHARSET, one whose charset
 * names no code page a decoder here reads (DEFAULT, Symbol, Johab, most Mac
 * ones) and text before any font are in `ansi`, the `\ansicpg` page. Word
 * writes its info text in `\ansicpg` while its default Western font declares
 * `\fcharset0`, so ANSI_CHARSET defers to `\ansicpg` rather than meaning
 * Windows-1252. `\uN` is a Unicode character whose `\ucN` fallback (a byte,
 * escape or control word each) is skipped, up to the group's end. Each field
 * is listed as often as it appears, with whether it held a `\uN`.
 */
function readInfoFields(source: string, ansi: string): FieldText[] {
  const fonts = new Map<number, Font>();
  const encodings = new Map<number, string>();
  /** The code page a font's text is decoded in, as a TextDecoder label. */
  const encodingOf = (id: number | undefined): string => {
    if (id === undefined) return ansi;
    let encoding = encodings.get(id);
    if (encoding === undefined) {
      const font = fonts.get(id);
      const charset = font?.charset === ANSI_CHARSET ? undefined : font?.charset;
      const codePage = font?.codePage ?? (charset === undefined ? undefined : codePageOfCharset(charset));
      const label = codePage === undefined ? undefined : decoderOfCodePage(codePage);
      // RTF is 8-bit text: a UTF-16 page cannot describe its bytes.
      encoding = label === undefined || label.startsWith("utf-16") ? ansi : label;
      encodings.set(id, encoding);
    }
    return encoding;
  };
  const fields: FieldText[] = [];
  const stack: Group[] = [];
  let group: Group = { uc: 1, font: undefined, kind: undefined };
  let defaultFont: number | undefined;
  let tableFont: Font | undefined;
  let field: { text: FieldText; group: Group } | undefined;
  let info: Group | undefined;
  /** Set by `{` (and kept by a `\*` after it): the next control word names the group. */
  let groupStart = false;
  let starred = false;
  let skip = 0;
  RTF_TOKEN.lastIndex = 0;
  for (let match = RTF_TOKEN.exec(source); match; match = RTF_TOKEN.exec(source)) {
    const [, hex, word, parameter, symbol, brace, literal] = match;
    if (brace === "{") {
      if (stack.length === MAX_GROUP_DEPTH) break;
      stack.push(group);
      group = { ...group };
      groupStart = true;
      starred = false;
      skip = 0;
      continue;
    }
    if (brace === "}") {
      if (field?.group === group) {
        fields.push(field.text);
        field = undefined;
      }
      const closed = group;
      const parent = stack.pop();
      if (closed === info || parent === undefined) break;
      group = parent;
      groupStart = false;
      skip = 0;
      continue;
    }
    const opening: boolean = groupStart;
    groupStart = symbol === "*" && opening;
    if (opening && symbol === "*") starred = true;
    if (opening && word !== undefined) {
      if (word === "fonttbl") group.kind = "fonts";
      else if (word === "info" && info === undefined) {
        group.kind = "info";
        info = group;
      } else if (group.kind === "info" && (FIELDS as readonly string[]).includes(word)) {
        group.kind = "field";
        field = { text: new FieldText(word as Field), group };
      } else if (group.kind === "field" && starred) group.kind = "ignored";
    }
    const value = parameter === undefined ? undefined : Number(parameter);
    if (group.kind === "fonts") {
      if (word === "f" && value !== undefined) {
        if (!fonts.has(value) && fonts.size < MAX_FONTS) fonts.set(value, {});
        tableFont = fonts.get(value);
      } else if (word === "fcharset" && tableFont) tableFont.charset = value;
      else if (word === "cpg" && tableFont) tableFont.codePage = value;
      continue;
    }
    const text = group.kind === "field" ? field?.text : undefined;
    let run = literal?.replace(/[\r\n]/g, "");
    if (text && skip > 0 && run !== "") {
      // A fallback character is a byte of text, an escape or a control word.
      if (run === undefined) {
        skip--;
        continue;
      }
      const skipped = Math.min(skip, run.length);
      skip -= skipped;
      run = run.slice(skipped);
    }
    if (word === "bin" && value !== undefined && value > 0) {
      // Binary data follows, as many bytes as the parameter says: none of it is RTF.
      RTF_TOKEN.lastIndex = Math.min(source.length, RTF_TOKEN.lastIndex + value);
    } else if (word === "uc" && value !== undefined && value >= 0) group.uc = value;
    else if (word === "f") group.font = value;
    else if (word === "deff" && value !== undefined) {
      defaultFont = value;
      group.font ??= value;
    } else if (word === "plain") group.font = defaultFont;
    if (!text) continue;
    const character = symbol === undefined ? CHARACTER_WORDS.get(word ?? "") : CHARACTER_SYMBOLS.get(symbol);
    if (hex !== undefined) text.byte(Number.parseInt(hex, 16), encodingOf(group.font));
    else if (symbol === "\\" || symbol === "{" || symbol === "}")
      text.byte(symbol.charCodeAt(0), encodingOf(group.font));
    else if (character !== undefined) text.char(character);
    else if (run !== undefined) {
      const encoding = encodingOf(group.font);
      for (let i = 0; i < run.length; i++) text.byte(run.charCodeAt(i), encoding);
    } else if (word === "u" && value !== undefined) {
      text.char(value < 0 ? value + 65536 : value);
      text.unicode = true;
      skip = group.uc;
    }
  }
  return fields;
}

/**
 * The head's bytes as a string of one character per byte (U+0000-U+00FF),
 * so that literal text keeps its bytes for the code page to decode.
 * TextDecoder's "latin1" is Windows-1252, which maps 0x80-0x9F elsewhere.
 */
function byteString(bytes: Uint8Array): string {
  let out = "";
  for (let at = 0; at < bytes.byteLength; at += 8192)
    out += String.fromCharCode(...bytes.subarray(at, at + 8192));
  return out;
}

function creatim(info: string, word: string): string | undefined {
  const match = new RegExp(
    `\\{\\\\${word}\\\\yr(\\d+)\\\\mo(\\d+)\\\\dy(\\d+)(?:\\\\hr(\\d+))?(?:\\\\min(\\d+))?`,
  ).exec(info);
  if (!match) return undefined;
  const [, yr, mo, dy, hr = "0", min = "0"] = match;
  const pad = (value: string | undefined) => String(value).padStart(2, "0");
  return `${yr}-${pad(mo)}-${pad(dy)}T${pad(hr)}:${pad(min)}:00`;
}

/**
 * RTF: the `{\info ...}` group of the head window (title, subject, author,
 * operator, keywords, creation and revision times), text decoded as
 * {@link readInfoFields} tells. Where a field appears twice, the `\ud`
 * (Unicode) form wins over the ANSI one.
 *
 * @example
 * readRtf(head) // { kind: "rtf", creator: "VMazel", created: "2004-10-28T10:19:00" }
 */
export function readRtf(head: Uint8Array): DocumentInfo {
  const info: DocumentInfo = { kind: "rtf" };
  const source = byteString(head);
  const start = source.indexOf("{\\info");
  if (start < 0) return info;
  const codePage = /\\ansicpg(\d+)/.exec(source)?.[1];
  // Without \ansicpg, the header's character set names the page, as exiftool reads it: \mac is Mac Roman,
  // \pc code page 437, \pca code page 850, and \ansi (or nothing) Windows-1252.
  const charset = codePage === undefined ? /^\{\\rtf1?\\(mac|pca?)(?![a-zA-Z])/.exec(source)?.[1] : undefined;
  const stated = encodingOfCodePage(
    codePage !== undefined ? Number(codePage) : charset ? HEADER_CODE_PAGES[charset] : undefined,
  );
  // RTF is 7- and 8-bit text, its control words ASCII: a UTF-16 code page cannot describe its bytes.
  const encoding = stated.startsWith("utf-16") ? "windows-1252" : stated;
  const infoGroup = source.slice(start, start + MAX_INFO_CHARS);
  const found = readInfoFields(source.slice(0, start + MAX_INFO_CHARS), encoding);
  const values: Partial<Record<Field, string>> = {};
  for (const field of FIELDS) {
    const texts = found.filter((text) => text.field === field);
    const best = texts.find((text) => text.unicode) ?? texts[0];
    const value = best && cleanString(best.text());
    if (value) values[field] = value;
  }
  const created = creatim(infoGroup, "creatim");
  const modified = creatim(infoGroup, "revtim");
  Object.assign(info, {
    ...(values.title && { title: values.title }),
    ...(values.subject && { subject: values.subject }),
    ...(values.keywords && { keywords: values.keywords }),
    ...(values.author && { creator: values.author }),
    ...(values.operator && { lastModifiedBy: values.operator }),
    ...(created && { created }),
    ...(modified && { modified }),
  });
  return info;
}
