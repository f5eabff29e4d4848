/**
 * What the engine decodes text with: `TextDecoder`, except where Node.js
 * gets windows-1252 or euc-kr wrong (euc-kr: see east-asian-decoders.ts).
 *
 * Node.js 20.18.3 and later 20.x, 22.13 and later and 24 decode windows-1252
 * (and `latin1`, `iso-8859-1`, `ascii`, which name it in the WHATWG
 * Encoding Standard) through a Latin-1 fast path, so bytes 0x80-0x9F come out
 * as C1 control characters instead of the euro sign, curly quotes, dashes,
 * `Œ`, `Š`, `Ž`, `™` and `Ÿ` (nodejs/node#56542, #60888). That is the most
 * common legacy character set there is: a Word title with an apostrophe, an
 * RTF author, a Windows text file would lose those characters. Where the
 * running Node.js has the fault, windows-1252 is decoded here from the
 * standard's table; where it has not, `TextDecoder` is used as it is.
 */

import { euckrIsFaulty, HzDecoder, Iso2022KrDecoder, Windows949Decoder } from "./east-asian-decoders.js";

/** The decoding part of TextDecoder, which the decoders below and in east-asian-decoders.ts have. */
export interface TextDecoding {
  readonly encoding: string;
  decode(input?: ArrayBufferView | ArrayBuffer | null, options?: { stream?: boolean }): string;
}

/** WHATWG index-windows-1252 for bytes 0x80-0x9F; the rest of the set is Latin-1. */
const WINDOWS_1252_C1 = Uint16Array.of(
  0x20ac,
  0x81,
  0x201a,
  0x192,
  0x201e,
  0x2026,
  0x2020,
  0x2021,
  0x2c6,
  0x2030,
  0x160,
  0x2039,
  0x152,
  0x8d,
  0x17d,
  0x8f,
  0x90,
  0x2018,
  0x2019,
  0x201c,
  0x201d,
  0x2022,
  0x2013,
  0x2014,
  0x2dc,
  0x2122,
  0x161,
  0x203a,
  0x153,
  0x9d,
  0x17e,
  0x178,
);

/**
 * The DOS code pages 437 (the original IBM PC's, which the ZIP specification
 * names for entry names without the UTF-8 flag), 850 (DOS Latin-1, RTF's
 * `\pca`) and 855 (DOS Cyrillic, the Serbian, Macedonian, Bulgarian and
 * Ukrainian letters besides Russian's): bytes 0x80-0xFF, as Unicode's mapping
 * tables give them; the lower half is ASCII. The Encoding Standard, and so
 * TextDecoder, has none of them, and a general converter (iconv-lite) would
 * bring every one of its tables into the function's bundle for three pages of
 * 128 characters.
 */
const DOS_CODE_PAGES: ReadonlyMap<string, string> = new Map([
  [
    "ibm437",
    // 0x80-0x9F, 0xA0-0xBF, 0xC0-0xDF, 0xE0-0xFF
    "ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒ" +
      "áíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐" +
      "└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀" +
      "αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u00a0",
  ],
  [
    "ibm850",
    // 0x80-0x9F, 0xA0-0xBF, 0xC0-0xDF, 0xE0-0xFF
    "ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜø£Ø×ƒ" +
      "áíóúñÑªº¿®¬½¼¡«»░▒▓│┤ÁÂÀ©╣║╗╝¢¥┐" +
      "└┴┬├─┼ãÃ╚╔╩╦╠═╬¤ðÐÊËÈıÍÎÏ┘┌█▄¦Ì▀" +
      "ÓßÔÒõÕµþÞÚÛÙýÝ¯´\u00ad±‗¾¶§÷¸°¨·¹³²■\u00a0",
  ],
  [
    "ibm855",
    // 0x80-0x9F, 0xA0-0xBF, 0xC0-0xDF, 0xE0-0xFF
    "ђЂѓЃёЁєЄѕЅіІїЇјЈљЉњЊћЋќЌўЎџЏюЮъЪ" +
      "аАбБцЦдДеЕфФгГ«»░▒▓│┤хХиИ╣║╗╝йЙ┐" +
      "└┴┬├─┼кК╚╔╩╦╠═╬¤лЛмМнНоОп┘┌█▄Пя▀" +
      "ЯрРсСтТуУжЖвВьЬ№\u00adыЫзЗшШэЭщЩчЧ§■\u00a0",
  ],
]);

/** Code units turned into a string at a time: a spread argument list has a bound. */
const CHUNK = 8192;

let faulty: boolean | undefined;

/** Whether this Node.js decodes windows-1252's 0x80 as a control character rather than the euro sign. */
function windows1252IsFaulty(): boolean {
  faulty ??= new TextDecoder("windows-1252").decode(Uint8Array.of(0x80)) !== "\u20ac";
  return faulty;
}

/** windows-1252 as the Encoding Standard defines it; every byte has a character, so nothing is fatal. */
class Windows1252Decoder implements TextDecoding {
  readonly encoding = "windows-1252";
  private readonly latin1 = new TextDecoder("windows-1252");

  decode(input?: ArrayBufferView | ArrayBuffer | null): string {
    if (input === undefined || input === null) return "";
    const bytes = ArrayBuffer.isView(input)
      ? new Uint8Array(input.buffer, input.byteOffset, input.byteLength)
      : new Uint8Array(input);
    // Text without bytes 0x80-0x9F reads the same either way: the native decoder is faster.
    if (!bytes.some((byte) => byte >= 0x80 && byte < 0xa0)) return this.latin1.decode(bytes);
    let out = "";
    const units = new Uint16Array(Math.min(bytes.byteLength, CHUNK));
    for (let at = 0; at < bytes.byteLength; at += CHUNK) {
      const end = Math.min(bytes.byteLength, at + CHUNK);
      for (let i = at; i < end; i++) {
        const byte = bytes[i] as number;
        units[i - at] = byte >= 0x80 && byte < 0xa0 ? (WINDOWS_1252_C1[byte - 0x80] as number) : byte;
      }
      out += String.fromCharCode(...units.subarray(0, end - at));
    }
    return out;
  }
}

/** A single-byte DOS code page: every byte has a character, so nothing is fatal. */
class DosCodePageDecoder implements TextDecoding {
  constructor(
    readonly encoding: string,
    private readonly upper: string,
  ) {}

  decode(input?: ArrayBufferView | ArrayBuffer | null): string {
    if (input === undefined || input === null) return "";
    const bytes = ArrayBuffer.isView(input)
      ? new Uint8Array(input.buffer, input.byteOffset, input.byteLength)
      : new Uint8Array(input);
    let out = "";
    for (const byte of bytes) out += byte < 0x80 ? String.fromCharCode(byte) : this.upper[byte - 0x80];
    return out;
  }
}

/**
 * A decoder for `label`, as `new TextDecoder(label, options)` would be, with
 * windows-1252 and euc-kr (by any of their labels) decoded right whatever
 * the Node.js version, and the DOS code pages `ibm437`, `ibm850` and
 * `ibm855`, `iso-2022-kr` and `hz-gb-2312` besides (see east-asian-decoders.ts).
 * Throws a RangeError for a label neither knows.
 *
 * @example
 * textDecoder("windows-1252").decode(Uint8Array.of(0x93, 0x41, 0x94)) // "“A”"
 * textDecoder("ibm437").decode(Uint8Array.of(0x63, 0x61, 0x66, 0x82)) // "café"
 */
export function textDecoder(
  label = "utf-8",
  options?: { fatal?: boolean; ignoreBOM?: boolean },
): TextDecoding {
  const name = label.trim().toLowerCase();
  const dos = DOS_CODE_PAGES.get(name);
  if (dos !== undefined) return new DosCodePageDecoder(name, dos);
  if (name === "iso-2022-kr" || name === "csiso2022kr") return new Iso2022KrDecoder(options);
  if (name === "hz-gb-2312") return new HzDecoder(options);
  const decoder = new TextDecoder(label, options);
  if (decoder.encoding === "euc-kr" && euckrIsFaulty()) return new Windows949Decoder(options);
  return decoder.encoding === "windows-1252" && windows1252IsFaulty() ? new Windows1252Decoder() : decoder;
}
