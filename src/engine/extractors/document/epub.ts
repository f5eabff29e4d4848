import { ContentError } from "../../errors.js";
import type { DocumentInfo } from "../../types.js";
import { child, parseXml, text, texts, type XmlNode } from "./xml-fields.js";
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
  const opfBytes = await pkg.part(decodeURI(opfPath));
  if (!opfBytes) throw new ContentError(`EPUB package document ${opfPath} is missing`);
  const metadata = child(child(parseXml(opfBytes), "package"), "metadata");
  const title = text(metadata, "title");
  const creators = texts(metadata, "creator");
  const language = text(metadata, "language");
  const created = text(metadata, "date");
  // EPUB 3: <meta property="dcterms:modified">2024-01-01T00:00:00Z</meta>.
  const metas = metadata?.meta;
  const modified = (Array.isArray(metas) ? metas : [metas])
    .filter((meta): meta is XmlNode => typeof meta === "object" && meta !== null)
    .find((meta) => meta["@_property"] === "dcterms:modified")?.["#text"];
  Object.assign(info, {
    ...(title && { title }),
    ...(creators.length > 0 && { creator: creators.join("; ") }),
    ...(language && { language }),
    ...(created && { created }),
    ...(typeof modified === "string" && { modified }),
  });
  return info;
}
