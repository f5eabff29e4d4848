import { textDecoder } from "../text-decoder.js";

/**
 * Windows code page numbers, as legacy formats state them (an RTF
 * `\ansicpg` or font's `\fcharset`, a property set's PIDSI_CODEPAGE), turned into TextDecoder
 * labels. Most are `windows-<n>` in the WHATWG Encoding Standard; the
 * double-byte East Asian pages, the Unicode pages and a few others go by
 * other names.
 */

/** Code pages whose WHATWG encoding label is not `windows-<n>`. */
const CODE_PAGE_LABELS: ReadonlyMap<number, string> = new Map([
  [437, "ibm437"], // DOS; decoded by text-decoder.ts, not TextDecoder
  [850, "ibm850"], // DOS Latin-1; likewise
  [855, "ibm855"], // DOS Cyrillic; likewise
  [932, "shift_jis"],
  [936, "gbk"],
  [949, "euc-kr"],
  [950, "big5"],
  [1200, "utf-16le"],
  [1201, "utf-16be"],
  [10000, "macintosh"],
  [10007, "x-mac-cyrillic"],
  [20866, "koi8-r"],
  [20932, "euc-jp"],
  [21866, "koi8-u"],
  [28591, "iso-8859-1"],
  [28592, "iso-8859-2"],
  [28593, "iso-8859-3"],
  [28594, "iso-8859-4"],
  [28595, "iso-8859-5"],
  [28596, "iso-8859-6"],
  [28597, "iso-8859-7"],
  [28598, "iso-8859-8"],
  [28599, "iso-8859-9"],
  [28603, "iso-8859-13"],
  [28605, "iso-8859-15"],
  [50220, "iso-2022-jp"],
  [51932, "euc-jp"],
  [54936, "gb18030"],
  [65001, "utf-8"],
]);

/**
 * The code page of each Windows character set (a font's `lfCharSet`, an RTF
 * `\fcharsetN`), as the RTF specification (1.9.1, `\fcharset`) and
 * Windows' TranslateCharsetInfo pair them. DEFAULT_CHARSET (1) and
 * OEM_CHARSET (255) name whatever the system uses, so they have none here.
 */
const CHARSET_CODE_PAGES: ReadonlyMap<number, number> = new Map([
  [0, 1252], // ANSI
  [2, 42], // Symbol: glyph indexes, no text encoding
  [77, 10000], // Mac Roman
  [78, 10001], // Mac Japanese
  [79, 10003], // Mac Korean
  [80, 10008], // Mac Simplified Chinese
  [81, 10002], // Mac Traditional Chinese
  [83, 10005], // Mac Hebrew
  [84, 10004], // Mac Arabic
  [85, 10006], // Mac Greek
  [86, 10081], // Mac Turkish
  [87, 10021], // Mac Thai
  [88, 10029], // Mac Central European
  [89, 10007], // Mac Cyrillic
  [128, 932], // Shift-JIS
  [129, 949], // Korean (Unified Hangul)
  [130, 1361], // Korean (Johab)
  [134, 936], // Simplified Chinese (GBK)
  [136, 950], // Traditional Chinese (Big5)
  [161, 1253], // Greek
  [162, 1254], // Turkish
  [163, 1258], // Vietnamese
  [177, 1255], // Hebrew
  [178, 1256], // Arabic
  [186, 1257], // Baltic
  [204, 1251], // Cyrillic
  [222, 874], // Thai
  [238, 1250], // Central European
  [254, 437], // PC 437
]);

/**
 * The code page of a Windows character set, undefined for one that names
 * none (DEFAULT_CHARSET, OEM_CHARSET) or is unknown.
 *
 * @example
 * codePageOfCharset(128) // 932
 * codePageOfCharset(1) // undefined
 */
export function codePageOfCharset(charset: number): number | undefined {
  return CHARSET_CODE_PAGES.get(charset);
}

/**
 * The TextDecoder label of a Windows code page, undefined when TextDecoder
 * has no decoder for it.
 *
 * @example
 * decoderOfCodePage(1251) // "windows-1251"
 * decoderOfCodePage(42) // undefined
 */
export function decoderOfCodePage(codePage: number): string | undefined {
  const label = CODE_PAGE_LABELS.get(codePage) ?? `windows-${codePage}`;
  try {
    textDecoder(label);
    return label;
  } catch {
    return undefined;
  }
}

/**
 * The TextDecoder label of a Windows code page; Windows-1252 when the page
 * is absent or has no decoder here.
 *
 * @example
 * encodingOfCodePage(932) // "shift_jis"
 * encodingOfCodePage(1251) // "windows-1251"
 * encodingOfCodePage(undefined) // "windows-1252"
 */
export function encodingOfCodePage(codePage: number | undefined): string {
  return (codePage !== undefined && decoderOfCodePage(codePage)) || "windows-1252";
}
