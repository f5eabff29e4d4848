import { ContentError } from "../../errors.js";
import { textDecoder } from "../../text-decoder.js";
import type { DocumentInfo } from "../../types.js";
import { child, count, joined, parseXml, text, texts, type XmlNode } from "./xml-fields.js";
import type { ZipPackage } from "./zip-package.js";

/**
 * Where a package keeps macros: a Basic module (`Basic/<library>/<module>.xml`,
 * or `.pba` when the library has a password) beside its library's
 * `script-lb.xml`, or a script of another language under `Scripts/`
 * (`Scripts/python/hello.py`). The library containers alone
 * (`Basic/script-lc.xml`, an empty library's `script-lb.xml`) hold no code.
 */
const MACRO_PATH = /^(Basic\/[^/]+\/(?!script-lb\.xml$)[^/]+|Scripts\/(.+\/)?[^/]+)$/;

/**
 * OpenDocument (odt, ods, odp ...): meta.xml, encryption from the manifest
 * (encrypted packages keep an unencrypted manifest with `encryption-data`),
 * and whether the package carries macros, by the names of its entries and of
 * the files its manifest lists (entry names stay readable when encrypted).
 *
 * @example
 * await readOdf(pkg, false) // { kind: "odf", title: "Minutes", keywords: "budget, Köln", creator: "Jürgen", pages: 3, words: 812, encrypted: false }
 */
export async function readOdf(pkg: ZipPackage, spreadsheet: boolean): Promise<DocumentInfo> {
  const info: DocumentInfo = { kind: "odf", encrypted: false };
  const manifest = await pkg.part("META-INF/manifest.xml");
  if (manifest && textDecoder().decode(manifest).includes("encryption-data")) info.encrypted = true;
  if ([...pkg.names(), ...manifestPaths(manifest)].some((name) => MACRO_PATH.test(name))) info.macros = true;
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
  const subject = text(meta, "subject");
  // ODF writes one meta:keyword element per keyword.
  const keywords = joined(texts(meta, "keyword"));
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
    ...(subject && { subject }),
    ...(keywords && { keywords }),
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

/**
 * The paths the manifest lists (`manifest:full-path`), which name a module
 * even when the package listing stopped before it; none when the manifest is
 * absent or not XML.
 */
function manifestPaths(manifest: Uint8Array | undefined): string[] {
  if (!manifest) return [];
  let entries: unknown;
  try {
    entries = child(parseXml(manifest), "manifest")?.["file-entry"];
  } catch (error) {
    if (error instanceof ContentError) return [];
    throw error;
  }
  const list = Array.isArray(entries) ? entries : [entries];
  return list
    .map((entry) => (entry as XmlNode | undefined)?.["@_full-path"])
    .filter((path): path is string => typeof path === "string")
    .map((path) => path.replace(/^\//, ""));
}
