import { ContentError } from "../../errors.js";
import type { DocumentInfo } from "../../types.js";
import { child, joined, parseXml, text, texts, type XmlNode } from "./xml-fields.js";
import type { ZipPackage } from "./zip-package.js";

/**
 * EPUB: META-INF/container.xml names the OPF package, whose `<metadata>` holds
 * Dublin Core fields.
 *
 * @example
 * await readEpub(pkg) // { kind: "epub", title: "Moby-Dick", creator: "Herman Melville", language: "en" }
 */
export async function readEpub(pkg: ZipPackage): Promise<DocumentInfo> {
  const info: DocumentInfo = { kind: "epub" };
  const containerBytes = await pkg.part("META-INF/container.xml");
  if (!containerBytes) throw new ContentError("EPUB without META-INF/container.xml");
  const rootfiles = child(child(parseXml(containerBytes), "container"), "rootfiles")?.rootfile;
  const rootfile = (Array.isArray(rootfiles) ? rootfiles[0] : rootfiles) as XmlNode | undefined;
  const opfPath = rootfile?.["@_full-path"];
  if (typeof opfPath !== "string") throw new ContentError("EPUB container names no package document");
  const opfEntry = packageEntryName(pkg, opfPath);
  const opfBytes = opfEntry === undefined ? undefined : await pkg.part(opfEntry);
  if (!opfBytes) throw new ContentError(`EPUB package document ${opfPath} is missing`);
  const metadata = child(child(parseXml(opfBytes), "package"), "metadata");
  const metas = elements(metadata?.meta);
  const title = mainTitle(metadata, metas) ?? text(metadata, "title");
  // dc:subject may repeat, one topic each.
  const subject = joined(texts(metadata, "subject"));
  const creators = texts(metadata, "creator");
  const language = text(metadata, "language");
  const created = text(metadata, "date");
  // EPUB 3: <meta property="dcterms:modified">2024-01-01T00:00:00Z</meta>.
  const modified = metas.find((meta) => meta["@_property"] === "dcterms:modified")?.["#text"];
  Object.assign(info, {
    ...(title && { title }),
    ...(subject && { subject }),
    ...(creators.length > 0 && { creator: creators.join("; ") }),
    ...(language && { language }),
    ...(created && { created }),
    ...(typeof modified === "string" && { modified }),
  });
  return info;
}

function elements(value: unknown): XmlNode[] {
  return (Array.isArray(value) ? value : [value]).filter(
    (item): item is XmlNode => typeof item === "object" && item !== null,
  );
}

/**
 * EPUB 3 may give several dc:title elements and say which is which through
 * refinements (`<meta refines="#t1" property="title-type">main</meta>`); the
 * main one is the book's title wherever it stands. Undefined when none is
 * refined as main, and then the first title is.
 */
function mainTitle(metadata: XmlNode | undefined, metas: XmlNode[]): string | undefined {
  const mainIds = new Set(
    metas
      .filter((meta) => meta["@_property"] === "title-type" && texts({ meta }, "meta")[0] === "main")
      .map((meta) => meta["@_refines"])
      .filter((refines): refines is string => typeof refines === "string" && refines.startsWith("#"))
      .map((refines) => refines.slice(1)),
  );
  if (mainIds.size === 0) return undefined;
  const main = elements(metadata?.title).find((title) => mainIds.has(title["@_id"] as string));
  return main ? texts({ title: main }, "title")[0] : undefined;
}

/**
 * The ZIP entry the container's `full-path` names. The attribute is a path
 * relative to the container root (OCF 3.3 §3.5.2.1), percent-encoded where a
 * name needs it; its dot segments are resolved, a `..` above the root staying
 * at the root as RFC 3986 §5.2.4 has it. Writers also leave spaces and lone
 * `%` signs unencoded, so the name as written is tried before the decoded one.
 */
function packageEntryName(pkg: ZipPackage, fullPath: string): string | undefined {
  const written = resolveDotSegments(fullPath.split("/"));
  const decoded = resolveDotSegments(fullPath.split("/").map(decodeSegment));
  return [written, decoded].find((name) => pkg.entry(name) !== undefined);
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment; // a `%` that starts no escape is the character itself
  }
}

function resolveDotSegments(segments: string[]): string {
  const out: string[] = [];
  for (const segment of segments) {
    if (segment === "..") out.pop();
    else if (segment !== "." && segment !== "") out.push(segment);
  }
  return out.join("/");
}
