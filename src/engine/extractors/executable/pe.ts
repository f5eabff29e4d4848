/**
 * What a Windows executable (PE/COFF) says about itself beyond its header:
 * the subsystem it runs under, whether it carries an Authenticode signature
 * or is a .NET assembly (its data directories), and the strings of its
 * version resource (company, product, versions, description), which
 * Explorer's Details tab and exiftool show. Written by hand: the structures
 * are a handful of fixed tables ([MS-PE] and the VS_VERSIONINFO resource
 * format), read here by range so an installer of hundreds of megabytes
 * costs a few small reads; the npm PE readers load the whole file.
 */

import { cleanString, definedFields } from "../../limits.js";
import { textDecoder } from "../../text-decoder.js";
import type { ExecutableInfo } from "../../types.js";
import { u16, u32 } from "../bytes.js";
import type { ExtractContext } from "../extractor.js";

const SUBSYSTEMS: Record<number, string> = {
  1: "native",
  2: "windows-gui",
  3: "windows-console",
  5: "os2-console",
  7: "posix-console",
  9: "windows-ce-gui",
  10: "efi-application",
  11: "efi-boot-service-driver",
  12: "efi-runtime-driver",
  13: "efi-rom",
  14: "xbox",
  16: "windows-boot-application",
};

/** Data directory indexes ([MS-PE] "Optional Header Data Directories"). */
const RESOURCE_DIRECTORY = 2;
const CERTIFICATE_TABLE = 4;
const CLR_RUNTIME_HEADER = 14;
/** The resource type of a version resource. */
const RT_VERSION = 16;
/** WIN_CERTIFICATE's revision 2.0 and its PKCS#7 SignedData type: an Authenticode signature. */
const WIN_CERT_REVISION_2 = 0x0200;
const WIN_CERT_TYPE_PKCS_SIGNED_DATA = 0x0002;
/** Section table entries read at most (the PE loader's own limit). */
const MAX_SECTIONS = 96;
/** Entries of one resource directory looked through for the one wanted. */
const MAX_RESOURCE_ENTRIES = 4096;
/** Bytes of a version resource read at most; one is a few KiB. */
const MAX_VERSION_BYTES = 64 * 1024;
/** VS_FIXEDFILEINFO's signature. */
const FIXED_FILE_INFO_SIGNATURE = 0xfeef04bd;

interface Section {
  address: number;
  virtualSize: number;
  rawSize: number;
  rawOffset: number;
}

/** Where an RVA lies in the file, through the section that maps it; undefined outside every section's raw data. */
function fileOffset(sections: readonly Section[], rva: number): number | undefined {
  for (const section of sections) {
    const span = Math.max(section.virtualSize, section.rawSize);
    if (rva >= section.address && rva < section.address + span) {
      const within = rva - section.address;
      return within < section.rawSize ? section.rawOffset + within : undefined;
    }
  }
  return undefined;
}

/** The strings of a version resource (VS_VERSIONINFO), and its fixed file and product versions. */
interface VersionStrings {
  strings: Map<string, string>;
  fileVersion?: string;
  productVersion?: string;
}

/** `a.b.c.d` from a version's two 32-bit halves. */
function fourPart(high: number, low: number): string {
  return `${high >>> 16}.${high & 0xffff}.${low >>> 16}.${low & 0xffff}`;
}

/**
 * Reads a VS_VERSIONINFO block: every block is a length, a value length, a
 * type (1: text), a UTF-16 key, then its value and its children, each
 * aligned to 4 bytes from the resource's start. The root's value is a
 * VS_FIXEDFILEINFO; the strings are the children of the first StringTable
 * of the StringFileInfo block.
 */
function readVersionInfo(bytes: Uint8Array): VersionStrings {
  const utf16 = textDecoder("utf-16le");
  const found: VersionStrings = { strings: new Map() };
  const align = (at: number) => (at + 3) & ~3;
  /** The UTF-16 text from `at` up to a NUL or `end`, and where it ends (after the NUL). */
  const text = (at: number, end: number): [string, number] => {
    let stop = at;
    while (stop + 1 < end && u16(bytes, stop) !== 0) stop += 2;
    return [utf16.decode(bytes.subarray(at, stop)), Math.min(end, stop + 2)];
  };
  interface Block {
    key: string;
    value: number;
    valueLength: number;
    children: number;
    end: number;
  }
  const block = (at: number, limit: number): Block | undefined => {
    if (at + 6 > limit) return undefined;
    const length = u16(bytes, at);
    const end = Math.min(limit, at + length);
    if (length < 6 || end <= at + 6) return undefined;
    const valueLength = u16(bytes, at + 2);
    const textual = u16(bytes, at + 4) === 1;
    const [key, afterKey] = text(at + 6, end);
    const value = align(afterKey);
    // A text value's length counts characters (some writers count bytes: the text ends at its NUL either way).
    const valueBytes = textual ? valueLength * 2 : valueLength;
    return { key, value, valueLength, children: align(Math.min(end, value + valueBytes)), end };
  };
  const childrenOf = (parent: Block): Block[] => {
    const children: Block[] = [];
    for (let at = parent.children; at < parent.end; ) {
      const child = block(at, parent.end);
      if (!child) break;
      children.push(child);
      at = align(child.end);
    }
    return children;
  };
  const root = block(0, bytes.byteLength);
  if (root?.key !== "VS_VERSION_INFO") return found;
  if (
    root.valueLength >= 52 &&
    root.value + 52 <= root.end &&
    u32(bytes, root.value) === FIXED_FILE_INFO_SIGNATURE
  ) {
    found.fileVersion = fourPart(u32(bytes, root.value + 8), u32(bytes, root.value + 12));
    found.productVersion = fourPart(u32(bytes, root.value + 16), u32(bytes, root.value + 20));
  }
  const stringFileInfo = childrenOf(root).find((child) => child.key === "StringFileInfo");
  const table = stringFileInfo && childrenOf(stringFileInfo)[0];
  for (const entry of table ? childrenOf(table) : []) {
    if (entry.valueLength === 0 || entry.value >= entry.end) continue;
    const [value] = text(entry.value, entry.end);
    const cleaned = cleanString(value);
    if (cleaned) found.strings.set(entry.key, cleaned);
  }
  return found;
}

/**
 * The word size, subsystem, signature, .NET and version-resource fields of a PE file,
 * from its optional header at `optionalAt` (`optionalBytes` long, the
 * section table right after it).
 *
 * @example
 * await describePe(ctx, 0x98, 240, 4)
 * // { subsystem: "windows-console", signed: false, product: "Tool", productVersion: "2.4", company: "Example Ltd." }
 */
export async function describePe(
  ctx: ExtractContext,
  optionalAt: number,
  optionalBytes: number,
  sectionCount: number,
): Promise<Partial<ExecutableInfo>> {
  const optional = await ctx.reader.read(optionalAt, optionalBytes);
  if (optional.byteLength < 2) return {};
  const magic = u16(optional, 0);
  const info: Partial<ExecutableInfo> = {};
  if (magic === 0x20b) info.bits = 64;
  else if (magic === 0x10b) info.bits = 32;
  // PE32 and PE32+ differ in where the data directories start.
  const directoriesAt = magic === 0x20b ? 112 : magic === 0x10b ? 96 : undefined;
  if (directoriesAt === undefined || optional.byteLength < directoriesAt) return info;
  const subsystem = SUBSYSTEMS[u16(optional, 68)];
  if (subsystem) info.subsystem = subsystem;
  const count = Math.min(
    u32(optional, directoriesAt - 4),
    Math.floor((optional.byteLength - directoriesAt) / 8),
  );
  const directory = (index: number) =>
    index < count
      ? { rva: u32(optional, directoriesAt + index * 8), size: u32(optional, directoriesAt + index * 8 + 4) }
      : { rva: 0, size: 0 };

  // The certificate table's address is a file offset, not an RVA.
  const certificates = directory(CERTIFICATE_TABLE);
  info.signed = false;
  if (certificates.size >= 8 && certificates.rva + certificates.size <= ctx.reader.size) {
    const header = await ctx.reader.read(certificates.rva, 8);
    info.signed =
      header.byteLength === 8 &&
      u16(header, 4) === WIN_CERT_REVISION_2 &&
      u16(header, 6) === WIN_CERT_TYPE_PKCS_SIGNED_DATA;
  }
  if (directory(CLR_RUNTIME_HEADER).size > 0) info.dotnet = true;

  const resources = directory(RESOURCE_DIRECTORY);
  if (resources.size === 0) return info;
  const table = await ctx.reader.read(optionalAt + optionalBytes, Math.min(sectionCount, MAX_SECTIONS) * 40);
  const sections: Section[] = [];
  for (let at = 0; at + 40 <= table.byteLength; at += 40)
    sections.push({
      virtualSize: u32(table, at + 8),
      address: u32(table, at + 12),
      rawSize: u32(table, at + 16),
      rawOffset: u32(table, at + 20),
    });
  const base = fileOffset(sections, resources.rva);
  if (base === undefined) return info;
  const version = await versionResource(ctx, sections, base);
  if (!version) return info;
  const { strings, fileVersion, productVersion } = readVersionInfo(version);
  const fields = definedFields<Partial<ExecutableInfo>>({
    product: strings.get("ProductName"),
    productVersion: strings.get("ProductVersion") ?? productVersion,
    company: strings.get("CompanyName"),
    description: strings.get("FileDescription"),
    fileVersion: strings.get("FileVersion") ?? fileVersion,
    originalName: strings.get("OriginalFilename"),
    copyright: strings.get("LegalCopyright"),
  });
  return { ...info, ...fields };
}

/**
 * The bytes of the first version resource: the resource tree is three
 * levels of directories (type, name, language), each a header and 8-byte
 * entries whose offsets are from the tree's start (the high bit marks a
 * directory), ending at a data entry that gives the resource's RVA and size.
 */
async function versionResource(
  ctx: ExtractContext,
  sections: readonly Section[],
  base: number,
): Promise<Uint8Array | undefined> {
  let at = 0;
  for (let level = 0; level < 3; level++) {
    const header = await ctx.reader.read(base + at, 16);
    if (header.byteLength < 16) return undefined;
    const entries = Math.min(MAX_RESOURCE_ENTRIES, u16(header, 12) + u16(header, 14));
    const list = await ctx.reader.read(base + at + 16, entries * 8);
    let next: number | undefined;
    for (let i = 0; i + 8 <= list.byteLength; i += 8) {
      const name = u32(list, i);
      // At the top, the entry whose id is RT_VERSION; below it, the first name and the first language.
      if (level === 0 && name !== RT_VERSION) continue;
      next = u32(list, i + 4);
      break;
    }
    if (next === undefined) return undefined;
    const isDirectory = (next & 0x80000000) !== 0;
    if (isDirectory !== level < 2) return undefined;
    at = next & 0x7fffffff;
  }
  const entry = await ctx.reader.read(base + at, 8);
  if (entry.byteLength < 8) return undefined;
  const offset = fileOffset(sections, u32(entry, 0));
  if (offset === undefined) return undefined;
  return ctx.reader.read(offset, Math.min(u32(entry, 4), MAX_VERSION_BYTES));
}
