import { ContentError } from "../../errors.js";
import { cleanString } from "../../limits.js";
import { textDecoder } from "../../text-decoder.js";
import type { PdfInfo } from "../../types.js";
import { metadataXmlParser, withoutDoctype } from "../document/xml-fields.js";

/**
 * The XMP packet of a PDF's /Metadata stream (ISO 16684-1), read for the
 * fields the document information dictionary also holds. Properties are
 * matched by namespace URI, not prefix: writers bind `xap:` or `xmp:` to the
 * same schema, and an attacker may bind `dc:` to anything. Both RDF forms are
 * read: a property as a child element and as an attribute of rdf:Description.
 */

/** What an XMP packet states of the Info dictionary's fields; dates are ISO 8601, as the PDF dates beside them. */
export type XmpFields = Pick<
  PdfInfo,
  "title" | "author" | "subject" | "keywords" | "producer" | "creator" | "created" | "modified"
> & {
  /** xmp:MetadataDate: when the packet itself was last written. */
  metadataDate?: string;
  /**
   * pdf:Author, where exiftool and some other writers mirror the dictionary's
   * /Author; `author` is dc:creator, the packet's own author field.
   */
  pdfAuthor?: string;
};

const RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#";
const DC = "http://purl.org/dc/elements/1.1/";
const XMP = "http://ns.adobe.com/xap/1.0/";
const PDF = "http://ns.adobe.com/pdf/1.3/";

/** Elements between the document root and rdf:RDF: x:xmpmeta, its older x:xapmeta, or none. */
const MAX_RDF_DEPTH = 2;

const parser = metadataXmlParser({ keepPrefixes: true });

type XmlNode = { [key: string]: unknown };
/** Namespace prefix ("" for the default namespace) → URI, as declared on the way down. */
type Scope = ReadonlyMap<string, string>;

interface Element {
  /** Namespace URI followed by the local name, or undefined when the prefix is undeclared. */
  name: string | undefined;
  value: unknown;
  scope: Scope;
}

/**
 * Reads the fields of an XMP packet. A packet that is not XML throws a
 * ContentError; one without RDF gives no fields.
 *
 * @example
 * parseXmp(streamBytes); // { title: "Q3", author: "Ann; Bo", producer: "LibreOffice", created: "2024-01-31T12:00:00+01:00" }
 */
export function parseXmp(bytes: Uint8Array): XmpFields {
  let root: unknown;
  try {
    root = parser.parse(withoutDoctype(decodePacket(bytes)));
  } catch (error) {
    throw new ContentError("malformed XMP packet", { cause: error });
  }
  const properties = new Map<string, Element>();
  for (const rdf of findRdf(root, new Map(), 0)) {
    for (const description of children(rdf.value, rdf.scope)) {
      if (description.name !== `${RDF}Description` || !isNode(description.value)) continue;
      for (const property of propertiesOf(description.value, description.scope)) {
        // Several descriptions may state one property; the first wins, as in exiftool.
        if (property.name && !properties.has(property.name)) properties.set(property.name, property);
      }
    }
  }
  const items = (name: string) => {
    const property = properties.get(name);
    return property ? itemsOf(property.value, property.scope) : [];
  };
  const single = (name: string) => stated(items(name)[0]?.text);
  const date = (name: string) => parseXmpDate(single(name));
  const authors = items(`${DC}creator`)
    .map((item) => stated(item.text))
    .filter((item): item is string => item !== undefined);
  const fields: XmpFields = {
    title: alternative(items(`${DC}title`)),
    // Joined as the Office and EPUB extractors join several creators.
    author: cleanString(authors.join("; ")),
    subject: alternative(items(`${DC}description`)),
    keywords: single(`${PDF}Keywords`),
    producer: single(`${PDF}Producer`),
    creator: single(`${XMP}CreatorTool`),
    created: date(`${XMP}CreateDate`),
    modified: date(`${XMP}ModifyDate`),
    metadataDate: date(`${XMP}MetadataDate`),
    pdfAuthor: single(`${PDF}Author`),
  };
  for (const key of Object.keys(fields) as (keyof XmpFields)[]) {
    if (fields[key] === undefined) delete fields[key];
  }
  return fields;
}

/**
 * A property's text, or undefined when it states nothing: empty, or `()`,
 * the PDF syntax of an empty string, which some writers (iText 2) copy from
 * the dictionary into the packet as it is.
 */
function stated(text: string | undefined): string | undefined {
  const value = cleanString(text);
  return value === "()" ? undefined : value;
}

/**
 * XMP may be UTF-8 or UTF-16; the BOM or the zero byte beside the first `<`
 * tells which. The rare UTF-32 packet is not recognised: it is read as UTF-8
 * (big-endian) or UTF-16LE (little-endian).
 */
function decodePacket(bytes: Uint8Array): string {
  const [first, second] = [bytes[0], bytes[1]];
  if ((first === 0xfe && second === 0xff) || (first === 0x00 && second === 0x3c)) {
    return textDecoder("utf-16be").decode(bytes);
  }
  if ((first === 0xff && second === 0xfe) || (first === 0x3c && second === 0x00)) {
    return textDecoder("utf-16le").decode(bytes);
  }
  return textDecoder("utf-8").decode(bytes);
}

function isNode(value: unknown): value is XmlNode {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The scope inside `node`, with the namespaces it declares. */
function declare(node: XmlNode, outer: Scope): Scope {
  let scope: Map<string, string> | undefined;
  for (const [key, value] of Object.entries(node)) {
    if (typeof value !== "string") continue;
    const prefix = key === "@_xmlns" ? "" : key.startsWith("@_xmlns:") ? key.slice(8) : undefined;
    if (prefix === undefined) continue;
    scope ??= new Map(outer);
    scope.set(prefix, value);
  }
  return scope ?? outer;
}

/** The expanded name of a qualified name; unprefixed attributes are in no namespace. */
function expand(qualified: string, scope: Scope, attribute: boolean): string | undefined {
  const colon = qualified.indexOf(":");
  if (colon < 0) return attribute ? undefined : `${scope.get("") ?? ""}${qualified}`;
  const uri = scope.get(qualified.slice(0, colon));
  return uri === undefined ? undefined : uri + qualified.slice(colon + 1);
}

/** Child elements of a parsed node, each with its expanded name and scope. */
function children(node: unknown, scope: Scope): Element[] {
  if (!isNode(node)) return [];
  const out: Element[] = [];
  for (const [key, raw] of Object.entries(node)) {
    if (key.startsWith("@_") || key.startsWith("?") || key === "#text") continue;
    for (const value of Array.isArray(raw) ? raw : [raw]) {
      const inner = isNode(value) ? declare(value, scope) : scope;
      out.push({ name: expand(key, inner, false), value, scope: inner });
    }
  }
  return out;
}

/** rdf:RDF elements at the root or under x:xmpmeta. */
function findRdf(node: unknown, scope: Scope, depth: number): Element[] {
  const found: Element[] = [];
  for (const element of children(node, scope)) {
    if (element.name === `${RDF}RDF`) found.push(element);
    else if (depth < MAX_RDF_DEPTH) found.push(...findRdf(element.value, element.scope, depth + 1));
  }
  return found;
}

/** The properties of one rdf:Description: its child elements and its non-RDF attributes. */
function propertiesOf(description: XmlNode, scope: Scope): Element[] {
  const attributes: Element[] = [];
  for (const [key, value] of Object.entries(description)) {
    if (!key.startsWith("@_") || key.startsWith("@_xmlns") || typeof value !== "string") continue;
    const name = expand(key.slice(2), scope, true);
    if (name && !name.startsWith(RDF)) attributes.push({ name, value, scope });
  }
  return [...attributes, ...children(description, scope)];
}

interface Item {
  text: string | undefined;
  lang?: string;
}

/** A property's values: the items of an rdf:Alt, rdf:Seq or rdf:Bag, or its one simple value. */
function itemsOf(value: unknown, scope: Scope): Item[] {
  if (typeof value === "string") return [{ text: value }];
  if (!isNode(value)) return [];
  const container = children(value, scope).find(
    (element) => element.name === `${RDF}Alt` || element.name === `${RDF}Seq` || element.name === `${RDF}Bag`,
  );
  if (!container) return [{ text: textOf(value) }];
  return children(container.value, container.scope)
    .filter((element) => element.name === `${RDF}li`)
    .map((element) => {
      const lang = isNode(element.value) ? element.value["@_xml:lang"] : undefined;
      return { text: textOf(element.value), ...(typeof lang === "string" && { lang }) };
    });
}

function textOf(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  return isNode(value) && typeof value["#text"] === "string" ? value["#text"] : undefined;
}

/** The x-default item of a language alternative, else its first item with text. */
function alternative(items: Item[]): string | undefined {
  const preferred = items.find((item) => item.lang?.toLowerCase() === "x-default");
  if (preferred) return stated(preferred.text);
  for (const item of items) {
    const text = stated(item.text);
    if (text !== undefined) return text;
  }
  return undefined;
}

/**
 * An XMP date (a W3C date-time: `YYYY`, `YYYY-MM`, `YYYY-MM-DD`, or with
 * `Thh:mm[:ss[.s]]` and a zone) in the form PDF dates are given: every part
 * present, fractions dropped, a zero offset written `Z`, no zone when none is
 * stated. Undefined when the text is not such a date.
 *
 * @example
 * parseXmpDate("2023-02-16T11:21:28+00:00"); // "2023-02-16T11:21:28Z"
 */
export function parseXmpDate(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const match =
    /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?\s*(Z|[+-]\d{2}:?\d{2})?)?)?)?$/i.exec(
      text.trim(),
    );
  if (!match) return undefined;
  const [, year, month = "01", day = "01", hour = "00", minute = "00", second = "00", zone] = match;
  const ranges: [string, number, number][] = [
    [month, 1, 12],
    [day, 1, 31],
    [hour, 0, 23],
    [minute, 0, 59],
    [second, 0, 60],
  ];
  if (ranges.some(([value, min, max]) => Number(value) < min || Number(value) > max)) return undefined;
  let iso = `${year}-${month}-${day}T${hour}:${minute}:${second}`;
  if (zone) {
    const offset = zone.toUpperCase() === "Z" ? "Z" : `${zone.slice(0, 3)}:${zone.slice(-2)}`;
    if (offset !== "Z" && (Number(offset.slice(1, 3)) > 14 || Number(offset.slice(4)) > 59)) return undefined;
    iso += offset === "Z" || /^[+-]00:00$/.test(offset) ? "Z" : offset;
  }
  return iso;
}
