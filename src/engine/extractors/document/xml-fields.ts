/**
 * The few XML reads document metadata needs, over fast-xml-parser: namespace
 * prefixes dropped (documents use `dc:`, `cp:`, `meta:` inconsistently),
 * entities decoded, nothing typed (a title of "2024" stays a string).
 */
import { XMLParser } from "fast-xml-parser";
import { ContentError } from "../../errors.js";
import { cleanString } from "../../limits.js";
import { textDecoder } from "../../text-decoder.js";

/** A parsed element: child elements by local name, attributes as `@_name`, text as `#text`. */
export type XmlNode = { [key: string]: unknown };

/** Names fast-xml-parser refuses outright (prototype pollution); renamed so the rest of the part stays readable. */
const RESERVED_NAMES = new Set(["__proto__", "constructor", "prototype"]);

/**
 * The parser metadata parts are read with: attributes kept, nothing typed,
 * the five XML entities and HTML's named ones decoded (a DTD's never: see
 * withoutDoctype), reserved names renamed. Namespace prefixes are dropped
 * unless the reader resolves namespaces itself (XMP does).
 */
export function metadataXmlParser(options: { keepPrefixes: boolean }): XMLParser {
  return new XMLParser({
    ignoreAttributes: false,
    removeNSPrefix: !options.keepPrefixes,
    parseTagValue: false,
    parseAttributeValue: false,
    processEntities: true,
    htmlEntities: true,
    trimValues: true,
    transformTagName: (name) => (RESERVED_NAMES.has(name) ? `${name}_` : name),
    transformAttributeName: (name) => (RESERVED_NAMES.has(name) ? `${name}_` : name),
  });
}

const parser = metadataXmlParser({ keepPrefixes: false });

/**
 * Parses a small XML part (already bounded by the caller).
 *
 * @example
 * const core = parseXml(coreBytes); // { coreProperties: { title: "Q3 report", creator: "Ann" } }
 */
export function parseXml(bytes: Uint8Array): XmlNode {
  const text = withoutDoctype(textDecoder("utf-8").decode(bytes));
  try {
    return parser.parse(text) as XmlNode;
  } catch (error) {
    throw new ContentError("malformed XML metadata part", { cause: error });
  }
}

/**
 * The text without its DOCTYPE. Metadata parts never need one (OPC forbids
 * DTDs in package parts, XMP packets have none), and an internal subset is where an attacker
 * declares entities: fast-xml-parser would expand `<!ENTITY a "...">` into a
 * title and refuse the whole part over an external one, losing every field.
 * Without the declaration, `&a;` stays as written, as the SVG reader leaves it.
 * Quoted values, comments and the bracketed subset may hold `>`; a DOCTYPE
 * that never ends is left for the parser to reject.
 *
 * @example
 * withoutDoctype('<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>'); // "<a>&x;</a>"
 */
export function withoutDoctype(text: string): string {
  const open = text.search(/<!DOCTYPE/i);
  if (open < 0 || /<[A-Za-z_]/.test(text.slice(0, open))) return text;
  const end = doctypeEnd(text, open);
  return end < 0 ? text : text.slice(0, open) + text.slice(end);
}

/**
 * Where the DOCTYPE that starts at `open` ends (just past its `>`), -1 when
 * cut: its internal subset (in brackets) may hold `>` and `]` in quoted
 * values and comments, so those are stepped over.
 *
 * @example
 * doctypeEnd('<!DOCTYPE a [<!ENTITY x ">">]><a/>', 0); // 30
 */
export function doctypeEnd(text: string, open: number): number {
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

/** The child element `name` of a node (the first when repeated). */
export function child(node: unknown, name: string): XmlNode | undefined {
  if (typeof node !== "object" || node === null) return undefined;
  const value = (node as XmlNode)[name];
  const first = Array.isArray(value) ? value[0] : value;
  return typeof first === "object" && first !== null ? (first as XmlNode) : undefined;
}

function textOf(value: unknown): string | undefined {
  if (typeof value === "string" || typeof value === "number") return String(value);
  if (typeof value === "object" && value !== null) return textOf((value as XmlNode)["#text"]);
  return undefined;
}

/** Every text value of the element `name` under `node` (repeated elements give several). */
export function texts(node: unknown, name: string): string[] {
  if (typeof node !== "object" || node === null) return [];
  const value = (node as XmlNode)[name];
  const list = Array.isArray(value) ? value : [value];
  return list.map((item) => cleanString(textOf(item))).filter((item): item is string => item !== undefined);
}

/** The first text value of `name` under `node`, cleaned. */
export function text(node: unknown, name: string): string | undefined {
  return texts(node, name)[0];
}

/**
 * Several values as one field, joined with ", " as exiftool joins a list and
 * bounded like any other; undefined when there are none.
 *
 * @example
 * joined(["budget", "Köln"]); // "budget, Köln"
 */
export function joined(values: readonly string[]): string | undefined {
  return cleanString(values.join(", "));
}

/** A non-negative integer from an element's text or an attribute value. */
export function count(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d+$/.test(value.trim())) return undefined;
  return Number.parseInt(value, 10);
}
