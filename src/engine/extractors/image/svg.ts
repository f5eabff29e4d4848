import { cleanString } from "../../limits.js";
import { doctypeEnd } from "../document/xml-fields.js";

/** The namespace an SVG root and its title are in. */
const SVG_NAMESPACE = "http://www.w3.org/2000/svg";

/** The attributes image-size reads from a root start tag to size an SVG. */
const SIZE_ATTRIBUTES = ["width", "height", "viewBox"] as const;

/** The root element's start tag, as {@link findSvgRoot} found it. */
export interface SvgRoot {
  /** Offset of the `<` that opens the start tag. */
  start: number;
  /** Offset of the `>` that closes it. */
  end: number;
  /** The qualified name: `svg`, or `prefix:svg` with the prefix bound to the SVG namespace. */
  name: string;
  /** The start tag's attributes, first occurrence of each, with references decoded. */
  attributes: Map<string, string>;
  /** Namespace declarations in scope for the root's children, by prefix (`""` for the default). */
  namespaces: Map<string, string>;
}

/**
 * The text of the root element's first `title` child in the SVG namespace,
 * as exiftool reports it as Title; a `<title>` of a nested element names that
 * element only, and one in another namespace (`<dc:title>`) is not SVG's.
 *
 * Written by hand rather than with fast-xml-parser: the text is a head window
 * that may end mid-document, only the root's direct children matter, and SVG
 * is attacker-controlled, so nothing here reads a DTD, expands a declared
 * entity (only XML's five and character references are decoded) or fetches
 * anything. One pass over `text`, so its cost is bounded by the window.
 *
 * @example
 * const text = '<svg xmlns="http://www.w3.org/2000/svg"><title>Q3 &amp; Q4</title></svg>';
 * readSvgTitle(text, findSvgRoot(text)!) // "Q3 & Q4"
 */
export function readSvgTitle(text: string, root: SvgRoot): string | undefined {
  if (text[root.end - 1] === "/") return undefined;
  let depth = 1;
  let at = root.end + 1;
  while (depth > 0) {
    const open = text.indexOf("<", at);
    if (open < 0) return undefined;
    const skipped = skipMarkup(text, open);
    if (skipped !== undefined) {
      if (skipped < 0) return undefined;
      at = skipped;
      continue;
    }
    const end = tagEnd(text, open);
    if (end === undefined) return undefined;
    at = end + 1;
    if (text[open + 1] === "/") {
      depth--;
      continue;
    }
    const name = elementName(text, open);
    const selfClosing = text[end - 1] === "/";
    if (depth === 1 && localName(name) === "title") {
      const own = declarations(startTagAttributes(text.slice(open + 1 + name.length, end)));
      if (namespaceOf(name, [own, root.namespaces]) === SVG_NAMESPACE) {
        return selfClosing ? undefined : titleText(text, at, name);
      }
    }
    if (!selfClosing) depth++;
  }
  return undefined;
}

/**
 * The root element, when it is SVG's: the first element after the XML
 * declaration, comments, processing instructions and a DOCTYPE, named `svg`
 * in the SVG namespace, either unprefixed (a missing default declaration
 * counts as SVG's, as hand-written files often omit it) or with a prefix the
 * start tag binds to it (`<svg:svg xmlns:svg="http://www.w3.org/2000/svg">`).
 * Undefined when that element is anything else or its start tag or the prolog
 * does not end in `text`. An `<svg>` quoted in a leading comment or written
 * in an entity value of the internal DTD subset is text, not the root, and
 * must not lend it a size or a title.
 *
 * @example
 * findSvgRoot('<!-- <svg width="1"> --><svg width="10">')?.start // 24
 */
export function findSvgRoot(text: string): SvgRoot | undefined {
  const open = rootOpen(text);
  return open === undefined ? undefined : rootAt(text, open);
}

/**
 * Whether a text is an SVG document by the rule {@link findSvgRoot} applies,
 * so that detection names SVG exactly what the SVG extractor can read: true
 * when the root is `svg` in the SVG namespace, false when the root is another
 * element (`<x:svg xmlns:x="urn:other">` is XML), undefined when the prolog
 * or the root's start tag does not end in `text` and so cannot tell.
 *
 * @example
 * isSvgDocument('<x:svg xmlns:x="urn:other"/>') // false
 */
export function isSvgDocument(text: string): boolean | undefined {
  const open = rootOpen(text);
  if (open === undefined || tagEnd(text, open) === undefined) return undefined;
  return rootAt(text, open) !== undefined;
}

/** Offset of the `<` opening the first element past the prolog, undefined when there is none in `text`. */
function rootOpen(text: string): number | undefined {
  let at = 0;
  for (;;) {
    const open = text.indexOf("<", at);
    if (open < 0) return undefined;
    const skipped = text.startsWith("<!DOCTYPE", open) ? doctypeEnd(text, open) : skipMarkup(text, open);
    if (skipped === undefined) return open;
    if (skipped < 0) return undefined;
    at = skipped;
  }
}

/** The root element opening at `open`, if it is `svg` in the SVG namespace. */
function rootAt(text: string, open: number): SvgRoot | undefined {
  const name = elementName(text, open);
  if (localName(name) !== "svg") return undefined;
  const end = tagEnd(text, open);
  if (end === undefined) return undefined;
  const attributes = startTagAttributes(text.slice(open + 1 + name.length, end));
  const namespaces = declarations(attributes);
  // Without a default declaration an unprefixed root is taken as SVG's, and so are its unprefixed children.
  if (!name.includes(":") && !namespaces.has("")) namespaces.set("", SVG_NAMESPACE);
  if (namespaceOf(name, [namespaces]) !== SVG_NAMESPACE) return undefined;
  return { start: open, end, name, attributes, namespaces };
}

/**
 * The root's sizing attributes as an unprefixed start tag, for image-size:
 * it reads `width`, `height` and `viewBox` from the first `<svg ` it meets in
 * its first 1000 characters, so it is given only those, already parsed (a
 * long root tag, a prefixed name, or `width=` quoted in another attribute's
 * value would otherwise mislead it).
 *
 * @example
 * svgSizingTag(findSvgRoot('<s:svg xmlns:s="http://www.w3.org/2000/svg" width="4" height="3">')!)
 * // '<svg width="4" height="3">'
 */
export function svgSizingTag(root: SvgRoot): string {
  const attributes = SIZE_ATTRIBUTES.flatMap((name) => {
    const value = root.attributes.get(name);
    return value === undefined || value.includes('"') ? [] : [` ${name}="${value}"`];
  });
  return `<svg${attributes.join("")}>`;
}

/** The qualified name of the element whose start tag opens at `open`. */
function elementName(text: string, open: number): string {
  return /^<([^\s/>]+)/.exec(text.slice(open, open + 256))?.[1] ?? "";
}

/**
 * A start tag's attributes, from the text between its name and its `>`, in
 * one pass: names, then values in single or double quotes. Malformed parts
 * (a name without a value, a stray quoted string) are stepped over.
 */
function startTagAttributes(tag: string): Map<string, string> {
  const attributes = new Map<string, string>();
  const nameAt = /[^\s=/>"']+/y;
  const spaceAt = /\s*/y;
  const skipSpace = (from: number) => {
    spaceAt.lastIndex = from;
    spaceAt.exec(tag);
    return spaceAt.lastIndex;
  };
  let at = 0;
  while (at < tag.length) {
    const char = tag[at] as string;
    if (char === '"' || char === "'") {
      const close = tag.indexOf(char, at + 1);
      at = close < 0 ? tag.length : close + 1;
      continue;
    }
    nameAt.lastIndex = at;
    const name = nameAt.exec(tag)?.[0];
    if (name === undefined) {
      at += 1;
      continue;
    }
    at = skipSpace(nameAt.lastIndex);
    if (tag[at] !== "=") continue;
    at = skipSpace(at + 1);
    const quote = tag[at];
    if (quote !== '"' && quote !== "'") continue;
    const close = tag.indexOf(quote, at + 1);
    if (close < 0) break;
    if (!attributes.has(name)) attributes.set(name, decodeReferences(tag.slice(at + 1, close)));
    at = close + 1;
  }
  return attributes;
}

/** The namespace declarations among a start tag's attributes, by prefix (`""` for `xmlns`). */
function declarations(attributes: Map<string, string>): Map<string, string> {
  const namespaces = new Map<string, string>();
  for (const [name, value] of attributes) {
    if (name === "xmlns") namespaces.set("", value);
    else if (name.startsWith("xmlns:")) namespaces.set(name.slice(6), value);
  }
  return namespaces;
}

/** The namespace a qualified element name is in, looked up in scopes from the innermost out. */
function namespaceOf(name: string, scopes: readonly Map<string, string>[]): string | undefined {
  const colon = name.indexOf(":");
  const prefix = colon < 0 ? "" : name.slice(0, colon);
  for (const scope of scopes) {
    const namespace = scope.get(prefix);
    if (namespace !== undefined) return namespace;
  }
  return undefined;
}

/** Comments, CDATA, processing instructions and declarations: where they end, -1 when cut, undefined when `open` starts none. */
function skipMarkup(text: string, open: number): number | undefined {
  for (const [start, close] of [
    ["<!--", "-->"],
    ["<![CDATA[", "]]>"],
    ["<?", "?>"],
    ["<!", ">"],
  ] as const) {
    if (text.startsWith(start, open)) {
      const end = text.indexOf(close, open + start.length);
      return end < 0 ? -1 : end + close.length;
    }
  }
  return undefined;
}

/** The `>` closing the tag that opens at `open`, past quoted attribute values (which may hold `>`). */
function tagEnd(text: string, open: number): number | undefined {
  let quote: string | undefined;
  for (let at = open + 1; at < text.length; at++) {
    const char = text[at];
    if (quote) {
      if (char === quote) quote = undefined;
    } else if (char === '"' || char === "'") quote = char;
    else if (char === ">") return at;
  }
  return undefined;
}

function localName(name: string): string {
  return name.slice(name.indexOf(":") + 1);
}

/** The character content up to `</name>`: text and CDATA kept, comments and markup of child elements dropped. */
function titleText(text: string, from: number, name: string): string | undefined {
  let content = "";
  let at = from;
  for (;;) {
    const open = text.indexOf("<", at);
    if (open < 0) return undefined;
    content += decodeReferences(text.slice(at, open));
    if (text.startsWith("<![CDATA[", open)) {
      const end = text.indexOf("]]>", open);
      if (end < 0) return undefined;
      content += text.slice(open + 9, end);
      at = end + 3;
      continue;
    }
    const skipped = skipMarkup(text, open);
    if (skipped !== undefined) {
      if (skipped < 0) return undefined;
      at = skipped;
      continue;
    }
    const end = tagEnd(text, open);
    if (end === undefined) return undefined;
    // `</titlex>` closes a child element, not the title.
    if (text.startsWith(`</${name}`, open) && /[\s>]/.test(text[open + name.length + 2] ?? "")) {
      return cleanString(content.replace(/\s+/g, " "));
    }
    at = end + 1;
  }
}

const PREDEFINED: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

/** XML's predefined entities and character references; any other `&name;` is left as written. */
function decodeReferences(raw: string): string {
  return raw.replace(/&(#x[0-9a-fA-F]{1,6}|#[0-9]{1,7}|[A-Za-z]+);/g, (whole, ref: string) => {
    if (ref[0] !== "#") return PREDEFINED[ref] ?? whole;
    const code = ref[1] === "x" ? Number.parseInt(ref.slice(2), 16) : Number.parseInt(ref.slice(1), 10);
    const valid = code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff);
    return valid ? String.fromCodePoint(code) : whole;
  });
}
