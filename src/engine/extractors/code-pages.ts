/**
 * Windows code page numbers, as legacy formats state them (an RTF
 * `\ansicpg`, a property set's PIDSI_CODEPAGE), turned into TextDecoder
 * labels. Most are `windows-<n>` in the WHATWG Encoding Standard; the
 * double-byte East Asian pages, the Unicode pages and a few others go by
 * other names.
 */

/** Code pages whose WHATWG encoding label is not `windows-<n>`. */
const CODE_PAGE_LABELS: ReadonlyMap<number, string> = new Map([
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
 * The TextDecoder label of a Windows code page; Windows-1252 when the page
 * is absent or has no decoder here.
 *
 * @example
 * encodingOfCodePage(932) // "shift_jis"
 * encodingOfCodePage(1251) // "windows-1251"
 * encodingOfCodePage(undefined) // "windows-1252"
 */
export function encodingOfCodePage(codePage: number | undefined): string {
  if (codePage === undefined) return "windows-1252";
  const label = CODE_PAGE_LABELS.get(codePage) ?? `windows-${codePage}`;
  try {
    new TextDecoder(label);
    return label;
  } catch {
    return "windows-1252";
  }
}
