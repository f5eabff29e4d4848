import { ContentError } from "../../errors.js";
import type { DocumentInfo } from "../../types.js";
import { child, count, parseXml, text, type XmlNode } from "./xml-fields.js";
import type { ZipPackage } from "./zip-package.js";

/**
 * OpenDocument (odt, ods, odp ...): meta.xml, and encryption from the manifest
 * (encrypted packages keep an unencrypted manifest with `encryption-data`).
 *
 * @example
 * await readOdf(pkg, false) // { kind: "odf", title: "Minutes", creator: "Jürgen", pages: 3, words: 812, encrypted: false }
 */
export async function readOdf(pkg: ZipPackage, spreadsheet: boolean): Promise<DocumentInfo> {
  const info: DocumentInfo = { kind: "odf", encrypted: false };
  const manifest = await pkg.part("META-INF/manifest.xml");
  if (manifest && new TextDecoder().decode(manifest).includes("encryption-data")) info.encrypted = true;
  let meta: XmlNode | undefined;
  try {
    const metaBytes = await pkg.part("meta.xml");
    if (!metaBytes) return info;
    meta = child(child(parseXml(metaBytes), "document-meta"), "meta");
  } catch (error) {
    // In an encrypted package meta.xml may itself be ciphertext: then the flag is all there is.
    if (info.encrypted && error instanceof ContentError) return info;
    throw error;
  }
  const title = text(meta, "title");
  const creator = text(meta, "creator") ?? text(meta, "initial-creator");
  const initialCreator = text(meta, "initial-creator");
  const created = text(meta, "creation-date");
  const modified = text(meta, "date");
  const application = text(meta, "generator");
  const language = text(meta, "language");
  const statistic = child(meta, "document-statistic");
  const attribute = (name: string) => count(statistic?.[`@_${name}`] as string | undefined);
  const pages = attribute("page-count");
  const words = attribute("word-count");
  // table-count is a sheet count only in a spreadsheet; elsewhere it counts tables.
  const sheets = spreadsheet ? attribute("table-count") : undefined;
  Object.assign(info, {
    ...(title && { title }),
    // meta:initial-creator is the author; dc:creator the last one to save.
    ...((initialCreator ?? creator) && { creator: initialCreator ?? creator }),
    ...(initialCreator && creator && creator !== initialCreator && { lastModifiedBy: creator }),
    ...(created && { created }),
    ...(modified && { modified }),
    ...(application && { application }),
    ...(language && { language }),
    ...(pages !== undefined && { pages }),
    ...(words !== undefined && { words }),
    ...(sheets !== undefined && { sheets }),
  });
  return info;
}
