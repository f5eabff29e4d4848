import { cleanString } from "../../limits.js";
import type { DocumentInfo } from "../../types.js";
import { encodingOfCodePage } from "../code-pages.js";

const FIELDS = ["title", "subject", "author", "operator", "keywords"] as const;

/**
 * One RTF token of a field's text: a `\'hh` byte, a `\uN` character, a
 * `\ucN` fallback length, an escaped `\`, `{` or `}`, another control word
 * (ignored), or a run of literal text.
 */
const RTF_TOKEN = /\\'([0-9a-fA-F]{2})|\\u(-?\d+) ?|\\uc(\d+) ?|\\([\\{}])|\\[a-zA-Z]+-?\d* ?|([^\\]+)/g;

/**
 * Decodes RTF text: `\'hh` escapes and literal text as bytes in the
 * document's ANSI code page, `\uN` as Unicode with its `\ucN` fallback
 * characters (one by default) skipped. Bytes are gathered up to the next
 * `\uN` and decoded together, because in a double-byte code page (Shift-JIS,
 * GBK, Big5) one character is a lead and a trail byte, written as two
 * escapes or as an escape and a literal character.
 */
function decodeRtfText(raw: string, encoding: string): string {
  const decoder = new TextDecoder(encoding);
  let out = "";
  let pending: number[] = [];
  let fallbackLength = 1;
  let skip = 0;
  for (const [, hex, unicode, uc, escaped, literal] of raw.matchAll(RTF_TOKEN)) {
    let text = literal?.replace(/[\r\n]/g, "");
    if (skip > 0 && text !== "") {
      if (text === undefined) {
        skip--;
        continue;
      }
      const skipped = Math.min(skip, text.length);
      skip -= skipped;
      text = text.slice(skipped);
    }
    if (hex !== undefined) pending.push(Number.parseInt(hex, 16));
    else if (escaped !== undefined) pending.push(escaped.charCodeAt(0));
    else if (text !== undefined) for (let i = 0; i < text.length; i++) pending.push(text.charCodeAt(i));
    else if (uc !== undefined) fallbackLength = Number(uc);
    else if (unicode !== undefined) {
      out += decoder.decode(new Uint8Array(pending));
      pending = [];
      const code = Number(unicode);
      out += String.fromCharCode(code < 0 ? code + 65536 : code);
      skip = fallbackLength;
    }
  }
  return out + decoder.decode(new Uint8Array(pending));
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
 * operator, keywords, creation and revision times). Where a field appears
 * twice, the `\ud` (Unicode) form wins over the ANSI one.
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
  const stated = encodingOfCodePage(codePage === undefined ? undefined : Number(codePage));
  // RTF is 7- and 8-bit text, its control words ASCII: a UTF-16 code page cannot describe its bytes.
  const encoding = stated.startsWith("utf-16") ? "windows-1252" : stated;
  const infoGroup = source.slice(start, start + 16 * 1024);
  const values: Partial<Record<(typeof FIELDS)[number], string>> = {};
  for (const field of FIELDS) {
    const matches = [
      ...infoGroup.matchAll(
        new RegExp(`\\{\\\\${field} ?((?:[^{}\\\\]|\\\\[^a-zA-Z]|\\\\[a-zA-Z]+-?\\d* ?)*)\\}`, "g"),
      ),
    ];
    const best = matches.find((match) => match[1]?.includes("\\u")) ?? matches[0];
    const value = best ? cleanString(decodeRtfText(best[1] ?? "", encoding)) : undefined;
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
