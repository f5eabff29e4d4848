/**
 * The character set a document names for itself: the `encoding` of an XML
 * declaration, or an HTML `<meta charset>` or `<meta http-equiv="Content-Type"
 * content="...; charset=...">` within the bytes the WHATWG HTML standard's
 * prescan looks through.
 *
 * Written here because the packages that do this (html-encoding-sniffer,
 * whatwg-encoding) bring iconv-lite's tables into the function's bundle, while
 * `TextDecoder` already knows every label the standard does.
 */

import { Buffer } from "node:buffer";
import { textDecoder } from "../text-decoder.js";

/** Bytes of the head the WHATWG prescan looks through for a `<meta>` naming the set (HTML, 13.2.3.2). */
export const PRESCAN_BYTES = 1024;

/** Names documents use for sets the Encoding Standard knows under other labels only. */
const EXTRA_LABELS: ReadonlyMap<string, string> = new Map([
  ["maccyrillic", "x-mac-cyrillic"],
  ["mac-cyrillic", "x-mac-cyrillic"],
  ["cp437", "ibm437"],
  ["cp850", "ibm850"],
  ["cp855", "ibm855"],
]);

/**
 * Sets the Encoding Standard maps to "replacement", which a document may not
 * declare, though {@link textDecoder} reads them where their bytes show them.
 */
const NOT_DECLARABLE = new Set(["iso-2022-kr", "hz-gb-2312"]);

/** `name="value"`, `name='value'` or `name=value` inside a start tag. */
const ATTRIBUTE = /([^\s"'<>/=]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))/g;

/**
 * The set a label names, by its Encoding Standard name (`cp1251` and
 * `Windows-1251` are `windows-1251`; `latin1` and `iso-8859-1` are
 * `windows-1252`), or undefined for a label neither the standard nor
 * {@link textDecoder} knows. As the standard's prescan says, UTF-16 named in
 * a document that could be read as ASCII means UTF-8, and x-user-defined
 * windows-1252.
 *
 * @example
 * encodingForLabel(" KOI8-R ") // "koi8-r"
 */
export function encodingForLabel(label: string): string | undefined {
  const lower = label.trim().toLowerCase();
  // Node.js has no decoder for x-user-defined (bytes above 0x7F to private-use characters).
  if (lower === "x-user-defined") return "windows-1252";
  let name: string;
  try {
    name = textDecoder(EXTRA_LABELS.get(lower) ?? lower).encoding;
  } catch {
    // RangeError: a label no decoder has, or one of the "replacement" sets no document may use.
    return undefined;
  }
  if (NOT_DECLARABLE.has(name)) return undefined;
  return name === "utf-16le" || name === "utf-16be" ? "utf-8" : name;
}

/** The set a `<meta>` start tag names, by `charset` or by `http-equiv="content-type"` and `content`. */
function metaCharset(tag: string): string | undefined {
  const attributes = new Map<string, string>();
  for (const match of tag.matchAll(ATTRIBUTE)) {
    const name = (match[1] as string).toLowerCase();
    // The first of two attributes with one name counts, as the HTML tokenizer keeps it.
    if (!attributes.has(name)) attributes.set(name, match[2] ?? match[3] ?? match[4] ?? "");
  }
  const charset = attributes.get("charset");
  if (charset !== undefined) return charset;
  if (attributes.get("http-equiv")?.trim().toLowerCase() !== "content-type") return undefined;
  return /charset\s*=\s*["']?([^\s"';]+)/i.exec(attributes.get("content") ?? "")?.[1];
}

/**
 * The set the head of a document names for itself, by its Encoding Standard
 * name (see {@link encodingForLabel}), or undefined when it names none or
 * one no decoder knows. Whether the bytes agree with it is the caller's to
 * check. The head is read as ASCII, which every set a declaration can name
 * in an ASCII-compatible document writes markup in.
 *
 * @example
 * declaredCharset(new TextEncoder().encode('<?xml version="1.0" encoding="koi8-r"?><rss/>')) // "koi8-r"
 */
export function declaredCharset(head: Uint8Array): string | undefined {
  const text = Buffer.from(head.buffer, head.byteOffset, Math.min(head.length, PRESCAN_BYTES)).toString(
    "latin1",
  );
  // An XML declaration is the document's first thing (XML 1.0, 2.8 and 4.3.3).
  const xml = /^<\?xml\s[^>]*?\bencoding\s*=\s*(?:"([^"]*)"|'([^']*)')/.exec(text);
  if (xml) return encodingForLabel(xml[1] ?? xml[2] ?? "");
  for (const [tag] of text.matchAll(/<meta[\s/][^>]*>/gi)) {
    const label = metaCharset(tag);
    // A label no decoder knows is passed over, and the prescan goes on to the next <meta>.
    const name = label === undefined ? undefined : encodingForLabel(label);
    if (name) return name;
  }
  return undefined;
}
