/**
 * RPM packages: a 96-byte lead, a signature header, then the main header,
 * whose tagged fields describe the package and list its files, then the
 * compressed payload (a cpio archive), which is never read: the header holds
 * every name and size already. Written by hand: the header is a plain index
 * of tags over a data store (the RPM file format, rpm.org), and the npm
 * readers of RPM files unpack the payload.
 */
import { ContentError } from "../../errors.js";
import { ARCHIVE_SAMPLE_ENTRIES, cleanString, definedFields } from "../../limits.js";
import type { ArchiveInfo, PackageInfo, Sections } from "../../types.js";
import { isArchiveName } from "../archive/archive-names.js";
import { assess } from "../archive/extract.js";
import type { ExtractContext } from "../extractor.js";

const LEAD_BYTES = 96;
const HEADER_MAGIC = [0x8e, 0xad, 0xe8, 0x01];
const INDEX_ENTRY_BYTES = 16;
/** rpm's own bounds on a header (hdrchkTags, hdrchkData): more is a damaged or hostile file. */
const MAX_INDEX_ENTRIES = 0xffff;
/** A header's data store read at most; a package of tens of thousands of files needs a few MiB. */
const MAX_HEADER_DATA_BYTES = 32 * 1024 * 1024;

const TYPE_INT16 = 3;
const TYPE_INT32 = 4;
const TYPE_INT64 = 5;
const TYPE_STRING = 6;
const TYPE_STRING_ARRAY = 8;
const TYPE_I18NSTRING = 9;

const TAG = {
  name: 1000,
  version: 1001,
  release: 1002,
  epoch: 1003,
  summary: 1004,
  buildTime: 1006,
  size: 1009,
  vendor: 1011,
  license: 1014,
  packager: 1015,
  group: 1016,
  url: 1020,
  arch: 1022,
  oldFileNames: 1027,
  sourceRpm: 1044,
  dirIndexes: 1116,
  baseNames: 1117,
  dirNames: 1118,
  longSize: 5009,
} as const;

interface IndexEntry {
  type: number;
  offset: number;
  count: number;
}

/** A header: its index by tag and its data store. */
class Header {
  constructor(
    private readonly index: Map<number, IndexEntry>,
    private readonly store: Uint8Array,
  ) {}

  /** Strings of a STRING, STRING_ARRAY or I18NSTRING tag (an I18NSTRING's first is its C locale's). */
  strings(tag: number, max = Number.POSITIVE_INFINITY): string[] | undefined {
    const entry = this.index.get(tag);
    if (!entry || ![TYPE_STRING, TYPE_STRING_ARRAY, TYPE_I18NSTRING].includes(entry.type)) return undefined;
    const count = entry.type === TYPE_STRING ? 1 : Math.min(entry.count, max);
    const strings: string[] = [];
    const decoder = new TextDecoder();
    let at = entry.offset;
    for (let i = 0; i < count; i++) {
      const end = this.store.indexOf(0, at);
      if (at >= this.store.byteLength || end < 0)
        throw new ContentError(`RPM header tag ${tag} runs past its data`);
      strings.push(decoder.decode(this.store.subarray(at, end)));
      at = end + 1;
    }
    return strings;
  }

  string(tag: number): string | undefined {
    return cleanString(this.strings(tag, 1)?.[0]);
  }

  /** The count a tag states (a STRING_ARRAY's strings), without reading them. */
  count(tag: number): number | undefined {
    return this.index.get(tag)?.count;
  }

  /** Integers of an INT16, INT32 or INT64 tag, big-endian as RPM writes them. */
  integers(tag: number, max = Number.POSITIVE_INFINITY): number[] | undefined {
    const entry = this.index.get(tag);
    if (!entry) return undefined;
    const width =
      entry.type === TYPE_INT16 ? 2 : entry.type === TYPE_INT32 ? 4 : entry.type === TYPE_INT64 ? 8 : 0;
    if (width === 0) return undefined;
    const count = Math.min(entry.count, max);
    if (entry.offset + count * width > this.store.byteLength)
      throw new ContentError(`RPM header tag ${tag} runs past its data`);
    const view = new DataView(this.store.buffer, this.store.byteOffset + entry.offset, count * width);
    return Array.from({ length: count }, (_, i) =>
      width === 2
        ? view.getUint16(i * 2)
        : width === 4
          ? view.getUint32(i * 4)
          : Number(view.getBigUint64(i * 8)),
    );
  }
}

/** The header at `offset`, and the offset just past it (before any padding). */
async function readHeader(ctx: ExtractContext, offset: number, what: string): Promise<[Header, number]> {
  const intro = await ctx.reader.read(offset, 16);
  if (intro.byteLength < 16 || HEADER_MAGIC.some((byte, i) => intro[i] !== byte))
    throw new ContentError(`RPM ${what} header is missing or damaged`);
  const view = new DataView(intro.buffer, intro.byteOffset, 16);
  const entries = view.getUint32(8);
  const dataBytes = view.getUint32(12);
  if (entries > MAX_INDEX_ENTRIES || dataBytes > MAX_HEADER_DATA_BYTES)
    throw new ContentError(
      `RPM ${what} header states ${entries} tags over ${dataBytes} bytes, beyond rpm's bounds`,
    );
  const indexBytes = entries * INDEX_ENTRY_BYTES;
  const end = offset + 16 + indexBytes + dataBytes;
  if (end > ctx.reader.size)
    throw new ContentError(`RPM ${what} header runs past the end of the file (truncated)`);
  const body = await ctx.reader.read(offset + 16, indexBytes + dataBytes);
  const bodyView = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const index = new Map<number, IndexEntry>();
  for (let i = 0; i < entries; i++) {
    const at = i * INDEX_ENTRY_BYTES;
    const entry = {
      type: bodyView.getUint32(at + 4),
      offset: bodyView.getUint32(at + 8),
      count: bodyView.getUint32(at + 12),
    };
    if (entry.offset >= dataBytes && entry.count > 0) continue;
    index.set(bodyView.getUint32(at), entry);
  }
  return [new Header(index, body.subarray(indexBytes)), end];
}

/** The first files' paths: a directory name by index and a base name each, or old-style whole names. */
function samplePaths(header: Header): { count: number; sample: string[]; nested: number } {
  const baseCount = header.count(TAG.baseNames);
  if (baseCount !== undefined) {
    const bases = header.strings(TAG.baseNames, ARCHIVE_SAMPLE_ENTRIES) ?? [];
    const dirIndexes = header.integers(TAG.dirIndexes, ARCHIVE_SAMPLE_ENTRIES) ?? [];
    const dirs = header.strings(TAG.dirNames, Math.max(0, ...dirIndexes) + 1) ?? [];
    const sample = bases.map((base, i) => `${dirs[dirIndexes[i] ?? -1] ?? ""}${base}`);
    const nested = (header.strings(TAG.baseNames) ?? []).filter(isArchiveName).length;
    return { count: baseCount, sample, nested };
  }
  const names = header.strings(TAG.oldFileNames) ?? [];
  return {
    count: names.length,
    sample: names.slice(0, ARCHIVE_SAMPLE_ENTRIES),
    nested: names.filter(isArchiveName).length,
  };
}

/**
 * An RPM package's description and file listing, from its main header.
 *
 * @example
 * const { package: pkg, archive } = await extractRpm(ctx);
 * // pkg: { format: "rpm", name: "hello", version: "2.12.1-1.fc40", architecture: "x86_64", license: "GPL-3.0-or-later", ... }
 */
export async function extractRpm(ctx: ExtractContext): Promise<Sections> {
  const lead = await ctx.reader.read(0, LEAD_BYTES);
  if (lead.byteLength < LEAD_BYTES) throw new ContentError("RPM lead is truncated");
  const [, signatureEnd] = await readHeader(ctx, LEAD_BYTES, "signature");
  // The main header starts on the next 8-byte boundary after the signature.
  const [header] = await readHeader(ctx, Math.ceil(signatureEnd / 8) * 8, "main");

  const version = header.string(TAG.version);
  const release = header.string(TAG.release);
  const epoch = header.integers(TAG.epoch, 1)?.[0];
  const installed = header.integers(TAG.longSize, 1)?.[0] ?? header.integers(TAG.size, 1)?.[0];
  const built = header.integers(TAG.buildTime, 1)?.[0];
  const info = definedFields<PackageInfo>({
    format: "rpm",
    name: header.string(TAG.name),
    version:
      version === undefined
        ? undefined
        : cleanString(`${epoch !== undefined ? `${epoch}:` : ""}${version}${release ? `-${release}` : ""}`),
    architecture: header.string(TAG.arch),
    summary: header.string(TAG.summary),
    maintainer: header.string(TAG.packager),
    vendor: header.string(TAG.vendor),
    license: header.string(TAG.license),
    homepage: header.string(TAG.url),
    section: header.string(TAG.group),
    source: header.string(TAG.sourceRpm),
    installedSize: installed,
    builtAt: built !== undefined && built > 0 ? new Date(built * 1000).toISOString() : undefined,
  });
  ctx.partial.package = info;

  const files = samplePaths(header);
  const sample = files.sample
    .map((name) => cleanString(name))
    .filter((name): name is string => name !== undefined);
  const archive: ArchiveInfo = {
    kind: "rpm",
    entries: files.count,
    encrypted: false,
    sample,
    nestedArchives: files.nested,
    ...(installed !== undefined && { uncompressedSize: installed, ...assess(installed, ctx.reader.size) }),
  };
  return { package: info, archive };
}
