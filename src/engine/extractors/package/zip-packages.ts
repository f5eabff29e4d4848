/**
 * Packages that are ZIP files: Python wheels (`*.dist-info/METADATA` and
 * `WHEEL`, the core metadata specification) and Java archives (Maven's
 * `META-INF/maven/<group>/<artifact>/pom.properties`, else the manifest's
 * OSGi and `Implementation-*` attributes). Only those small entries are read.
 */
import type { BlockReader } from "../../byte-source/block-reader.js";
import { cleanString, definedFields } from "../../limits.js";
import type { PackageInfo } from "../../types.js";
import type { ZipEntry } from "../archive/zip-directory.js";
import { readZipEntry } from "../archive/zip-entry.js";
import { first, headerFields } from "./fields.js";

/** Bytes of a metadata entry read at most; a wheel's METADATA carries its README, rarely past 100 KiB. */
const MAX_METADATA_BYTES = 1024 * 1024;

const WHEEL_METADATA = /^[^/]+\.dist-info\/METADATA$/;
const WHEEL_TAGS = /^[^/]+\.dist-info\/WHEEL$/;
const JAR_MANIFEST = "META-INF/MANIFEST.MF";
const POM_PROPERTIES = /^META-INF\/maven\/[^/]+\/[^/]+\/pom\.properties$/;

async function entryText(reader: BlockReader, entry: ZipEntry): Promise<string> {
  return new TextDecoder().decode(await readZipEntry(reader, entry, MAX_METADATA_BYTES));
}

/** A wheel's core metadata, and the platforms its tags name (`any`, `manylinux_2_17_x86_64`, ...). */
async function describeWheel(reader: BlockReader, metadata: ZipEntry, tags?: ZipEntry): Promise<PackageInfo> {
  const fields = headerFields(await entryText(reader, metadata), "space");
  // Project-URL: "Homepage, https://...", one line per link; Home-page is the older field.
  const links = (fields.get("project-url") ?? []).map((value) => value.split(/,\s*/, 2) as [string, string?]);
  const homepage =
    first(fields, "home-page") ??
    cleanString(links.find(([label]) => /^home\s*-?page$/i.test(label))?.[1]) ??
    cleanString(links[0]?.[1]);
  let architecture: string | undefined;
  if (tags) {
    const platforms = new Set(
      (headerFields(await entryText(reader, tags), "space").get("tag") ?? []).map((tag) => tag.split("-")[2]),
    );
    architecture = cleanString([...platforms].filter(Boolean).join(", "));
  }
  return definedFields<PackageInfo>({
    format: "wheel",
    name: first(fields, "name"),
    version: first(fields, "version"),
    architecture,
    summary: first(fields, "summary"),
    maintainer: first(fields, "maintainer", "maintainer-email", "author", "author-email"),
    license: first(fields, "license-expression", "license"),
    homepage,
  });
}

/** A Java archive's identity: its one Maven pom.properties, else its manifest's attributes. */
async function describeJar(reader: BlockReader, manifest?: ZipEntry, pom?: ZipEntry): Promise<PackageInfo> {
  const attributes = manifest ? headerFields(await entryText(reader, manifest), "direct") : new Map();
  let name: string | undefined;
  let version: string | undefined;
  if (pom) {
    // java.util.Properties: key=value lines, # comments.
    const properties = new Map<string, string>();
    for (const line of (await entryText(reader, pom)).split(/\r?\n/)) {
      const match = /^\s*([^#!=:\s]+)\s*[=:]\s*(.*)$/.exec(line);
      if (match) properties.set(match[1] as string, (match[2] as string).trim());
    }
    const group = properties.get("groupId");
    const artifact = properties.get("artifactId");
    if (artifact) name = cleanString(group ? `${group}:${artifact}` : artifact);
    version = cleanString(properties.get("version"));
  }
  // An OSGi symbolic name may carry directives: "org.example.core;singleton:=true".
  name ??= cleanString(first(attributes, "bundle-symbolicname")?.split(";")[0]?.trim());
  name ??= first(attributes, "automatic-module-name", "implementation-title", "specification-title");
  version ??= first(attributes, "bundle-version", "implementation-version", "specification-version");
  return definedFields<PackageInfo>({
    format: "jar",
    name,
    version,
    summary: first(attributes, "bundle-description", "bundle-name"),
    vendor: first(attributes, "bundle-vendor", "implementation-vendor", "specification-vendor"),
    license: first(attributes, "bundle-license"),
    homepage: first(attributes, "bundle-docurl", "implementation-url"),
  });
}

/**
 * The package a ZIP is, when its entries make it one: a wheel (a
 * `.dist-info/METADATA` at the top), or a Java archive with a Maven
 * `pom.properties` or a manifest naming it. Undefined otherwise, and for a
 * JAR whose manifest names nothing.
 *
 * @example
 * await describeZipPackage(reader, directory.entries) // { format: "wheel", name: "requests", version: "2.32.3", ... }
 */
export async function describeZipPackage(
  reader: BlockReader,
  entries: readonly ZipEntry[],
): Promise<PackageInfo | undefined> {
  const metadata = entries.filter((entry) => WHEEL_METADATA.test(entry.name));
  // One dist-info at the top is a wheel; several would be a bundle of them, which is no one package.
  if (metadata.length === 1) {
    const tags = entries.find((entry) => WHEEL_TAGS.test(entry.name));
    return describeWheel(reader, metadata[0] as ZipEntry, tags);
  }
  const manifest = entries.find((entry) => entry.name === JAR_MANIFEST);
  const poms = entries.filter((entry) => POM_PROPERTIES.test(entry.name));
  if (!manifest && poms.length !== 1) return undefined;
  // A fat JAR holds the pom.properties of everything shaded into it: then none of them names it.
  const info = await describeJar(reader, manifest, poms.length === 1 ? poms[0] : undefined);
  return info.name || info.version ? info : undefined;
}
