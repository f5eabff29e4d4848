import { cleanString } from "../../limits.js";

/**
 * The text of the root `<svg>` element's first `<title>` child, as exiftool
 * reports it as Title; a `<title>` of a nested element names that element
 * only and is not taken.
 *
 * Written by hand rather than with fast-xml-parser: the text is a head window
 * that may end mid-document, only the root's direct children matter, and SVG
 * is attacker-controlled, so nothing here reads a DTD, expands a declared
 * entity (only XML's five and character references are decoded) or fetches
 * anything. One pass over `text`, so its cost is bounded by the window.
 *
 * @example
 * readSvgTitle('<svg xmlns="http://www.w3.org/2000/svg"><title>Q3 &amp; Q4</title></svg>', 0) // "Q3 & Q4"
 */
export function readSvgTitle(text: string, rootStart: number): string | undefined {
  const rootEnd = tagEnd(text, rootStart);
  if (rootEnd === undefined || text[rootEnd - 1] === "/") return undefined;
  let depth = 1;
  let at = rootEnd + 1;
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
    const name = /^<([^\s/>]+)/.exec(text.slice(open, open + 256))?.[1] ?? "";
    const selfClosing = text[end - 1] === "/";
    if (depth === 1 && localName(name) === "title") {
      return selfClosing ? undefined : titleText(text, at, name);
    }
    if (!selfClosing) depth++;
  }
  return undefined;
}

/**
 * Where the root element opens: the first element after the XML declaration,
 * comments, processing instructions and a DOCTYPE, or undefined when that
 * element is not `<svg>` or the prolog does not end in `text`. An `<svg>`
 * quoted in a leading comment or written in an entity value of the internal
 * DTD subset is text, not the root, and must not lend it a size or a title.
 *
 * @example
 * findSvgRoot('<!-- <svg width="1"> --><svg width="10">') // 25
 */
export function findSvgRoot(text: string): number | undefined {
  let at = 0;
  for (;;) {
    const open = text.indexOf("<", at);
    if (open < 0) return undefined;
    const skipped = text.startsWith("<!DOCTYPE", open) ? doctypeEnd(text, open) : skipMarkup(text, open);
    if (skipped === undefined) return /^<svg[\s>]/.test(text.slice(open, open + 5)) ? open : undefined;
    if (skipped < 0) return undefined;
    at = skipped;
  }
}

/**
 * Where a DOCTYPE ends, -1 when cut: its internal subset (in brackets) may
 * hold `>` and `]` in quoted values and comments, so those are stepped over.
 */
function doctypeEnd(text: string, open: number): number {
  let quote: string | undefined;
  let inSubset = false;
  for (let at = open + "<!DOCTYPE".length; at < text.length; at++) {
    const char = text[at];
    if (quote) {
      if (char === quote) quote = undefined;
    } else if (char === '"' || char === "'") quote = char;
    else if (inSubset && text.startsWith("<!--", at)) {
      const end = text.indexOf("-->", at + 4);
      if (end < 0) return -1;
      at = end + 2;
    } else if (char === "[") inSubset = true;
    else if (char === "]") inSubset = false;
    else if (char === ">" && !inSubset) return at + 1;
  }
  return -1;
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
