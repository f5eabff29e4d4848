import { ContentError, LimitExceededError } from "../../errors.js";
import {
  ARCHIVE_SAMPLE_ENTRIES,
  BOMB_RATIO,
  BOMB_UNCOMPRESSED_BYTES,
  cleanString,
  HEAD_WINDOW_BYTES,
} from "../../limits.js";
import type { ArchiveInfo, PackageInfo, Sections } from "../../types.js";
import type { ExtractContext } from "../extractor.js";
import { describeNpmPackage, NPM_MANIFEST, NPM_MANIFEST_BYTES } from "../package/npm.js";
import { describeZipPackage } from "../package/zip-packages.js";
import { isArchiveName } from "./archive-names.js";
import { bunzip2 } from "./bzip2.js";
import { walkCpio } from "./cpio.js";
import { gunzip, unxz, unzstd } from "./decoders.js";
import { type Decoder, ForwardDecompressor } from "./forward-decompressor.js";
import { parseGzipHeader } from "./gzip.js";
import { isoArchive, readIso9660 } from "./iso9660.js";
import { unlz4 } from "./lz4.js";
import { unlzip } from "./lzip.js";
import { readLzmaAlone, unlzma } from "./lzma-alone.js";
import { unlzw } from "./lzw.js";
import { readSevenZip } from "./seven-zip.js";
import {
  type HeaderFacts,
  kindOnly,
  readLz4,
  readLzip,
  readRar,
  readXz,
  readZstd,
} from "./stream-headers.js";
import {
  isTarHeader,
  type RangeRead,
  settleEnd,
  type TarBodies,
  type TarListing,
  walkTar,
  walkTarKeeping,
} from "./tar.js";
import { readZipDirectory, type ZipDirectory } from "./zip-directory.js";

/**
 * Compressed bytes of a tarball (gzip, xz, zstd, lz4, compress) decompressed to walk the tar
 * inside, the extraction's byte budget allowing (but never fewer than the
 * first 256 KiB): a tarball up to this size is counted whole, a larger one
 * from its first part and extrapolated.
 */
const TARBALL_WALK_INPUT_BYTES = 8 * 1024 * 1024;
/**
 * The same bound for decoders slower than gzip's, whatever holds the stream
 * (a tarball object, a Debian package's data member): bzip2 decodes some 2-4
 * MB of compressed bytes a second in JavaScript (bzip2 itself, in C, about
 * 2-5 times that), and lzip's and .lzma's LZMA about 3 MB (35 MB of content; xz's
 * WebAssembly decoder 2.5 times that), so 2 MiB keeps a .tar.bz2 or .tar.lz
 * to a second or two of a 1 GB function's time.
 */
const SLOW_DECODER_INPUT_BYTES = new Map<Decoder, number>([
  [bunzip2, 2 * 1024 * 1024],
  [unlzip, 2 * 1024 * 1024],
  [unlzma, 2 * 1024 * 1024],
]);
const TARBALL_WALK_MIN_INPUT_BYTES = 256 * 1024;
/** Compressed bytes fetched a read at a time. */
const TARBALL_WALK_CHUNK_BYTES = 1024 * 1024;
/** Decompressed bytes that walk may produce: a bomb's expansion ends here. */
const TARBALL_WALK_OUTPUT_BYTES = 256 * 1024 * 1024;
/** Bytes a tar header walk may read beyond the planned windows before it extrapolates. */
const TAR_WALK_READ_BYTES = 768 * 1024;
/** A warning is added when at least this many entries are archives themselves. */
const MANY_NESTED_ARCHIVES = 10;

/** Ratio and bomb flag from declared sizes: nothing is ever expanded to find out. */
export function assess(uncompressed: number | undefined, size: number): Pick<ArchiveInfo, "ratio" | "bomb"> {
  if (uncompressed === undefined || size <= 0) return {};
  const ratio = Math.round((uncompressed / size) * 1000) / 1000;
  return { ratio, bomb: ratio > BOMB_RATIO || uncompressed > BOMB_UNCOMPRESSED_BYTES };
}

/**
 * The count of entries that are archives themselves (every directory entry of
 * a zip; every entry a tar or cpio walk read), with a warning when there are
 * many.
 */
function nestedArchives(nested: number, ctx: ExtractContext): number {
  if (nested >= MANY_NESTED_ARCHIVES) ctx.warn(`${nested} entries are archives themselves (nested archives)`);
  return nested;
}

/** A ZIP's listing, and the package it is when it is one (a Python wheel, a Java archive). */
async function extractZip(ctx: ExtractContext): Promise<Sections> {
  const directory = await readZipDirectory(ctx.reader, { maxEntries: ctx.budget.maxEntries });
  const archive = zipListing(ctx, directory);
  ctx.partial.archive = archive;
  let pkg: PackageInfo | undefined;
  try {
    pkg = await describeZipPackage(ctx.reader, directory.entries);
  } catch (error) {
    // A metadata entry that is damaged, or states a size no metadata has, costs the package section only.
    const unreadable =
      error instanceof ContentError || (error instanceof LimitExceededError && error.limit === "length");
    if (!unreadable) throw error;
    ctx.warn(`package metadata unreadable: ${(error as Error).message}`);
  }
  return { archive, ...(pkg && { package: pkg }) };
}

function zipListing(ctx: ExtractContext, directory: ZipDirectory): ArchiveInfo {
  const files = directory.entries.filter((entry) => !entry.directory);
  let uncompressed = files.reduce((sum, entry) => sum + entry.uncompressedSize, 0);
  let entries = directory.entries.length;
  if (directory.truncated) {
    ctx.warn(`partial ZIP listing: ${directory.stopReason}`);
    // Extrapolate from the listed share so that a bomb hiding past the bound still shows.
    if (directory.totalEntries > entries && entries > 0) {
      uncompressed = Math.round((uncompressed * directory.totalEntries) / entries);
      entries = directory.totalEntries;
    }
  }
  const sample: string[] = [];
  for (const entry of directory.entries.slice(0, ARCHIVE_SAMPLE_ENTRIES)) {
    const name = cleanString(entry.name);
    if (name) sample.push(name);
  }
  return {
    kind: "zip",
    entries,
    uncompressedSize: uncompressed,
    ...assess(uncompressed, ctx.reader.size),
    encrypted: directory.entries.some((entry) => entry.encrypted),
    sample,
    nestedArchives: nestedArchives(
      directory.entries.filter((entry) => isArchiveName(entry.name)).length,
      ctx,
    ),
    ...(directory.truncated && { estimated: true }),
  };
}

/**
 * Where an archive lies in the object: all of it, or one member of a
 * container (a Debian package's `data.tar.xz`).
 */
export interface Region {
  offset: number;
  size: number;
}

function wholeObject(ctx: ExtractContext): Region {
  return { offset: 0, size: ctx.reader.size };
}

/**
 * Ends the extraction of an archive that was cut short, keeping its listing:
 * the record is partial, with the reason, for all that the listing read is
 * whole as far as it goes.
 */
function cutShort(ctx: ExtractContext, archive: ArchiveInfo, why: string): never {
  ctx.partial.archive = archive;
  // The walks' stop reasons say "(truncated)" for their warnings; the reason says it first.
  throw new ContentError(`truncated: ${why.replace(/ \(truncated\)$/, "")}`);
}

/** The listing of a tar or cpio walk: partial, with what it listed, when the archive was cut short. */
function fromListing(
  kind: string,
  listing: TarListing,
  ctx: ExtractContext,
  size = ctx.reader.size,
): ArchiveInfo {
  const archive = listingInfo(kind, listing, ctx, size);
  if (listing.truncated) cutShort(ctx, archive, `the ${kind} ${listing.stopReason}`);
  return archive;
}

function listingInfo(kind: string, listing: TarListing, ctx: ExtractContext, size: number): ArchiveInfo {
  if (listing.stopReason) ctx.warn(`partial ${kind} listing: ${listing.stopReason}`);
  if (listing.limit) ctx.reader.noteLimit(listing.limit);
  // A walk stopped to bound its reads saw a prefix of the archive; scale by how far it got.
  const scale = listing.boundedByReads && listing.offset ? Math.max(1, size / listing.offset) : 1;
  return {
    kind,
    entries: Math.round(listing.entries * scale),
    uncompressedSize: Math.round(listing.totalSize * scale),
    encrypted: false,
    sample: listing.sample,
    nestedArchives: nestedArchives(listing.nestedArchives, ctx),
    ...(listing.incomplete && { estimated: true }),
  };
}

/** Bytes of an in-memory source a tar walk takes at a time. */
const IN_MEMORY_WINDOW_BYTES = 1024 * 1024;

/**
 * Reads of a source whose bytes are all in memory, a window at a time,
 * checking the time budget on each (a walk over memory yields only to
 * microtasks, so no timer would stop it).
 */
function inMemoryRead(ctx: ExtractContext, region: Region): RangeRead {
  const { source } = ctx.reader;
  let window: Uint8Array = new Uint8Array(0);
  let windowStart = 0;
  return async (offset, length) => {
    ctx.reader.checkTime();
    if (offset < windowStart || offset + length > windowStart + window.byteLength) {
      const wanted = Math.min(Math.max(length, IN_MEMORY_WINDOW_BYTES), Math.max(0, region.size - offset));
      window = await source.read(region.offset + offset, wanted);
      windowStart = offset;
    }
    return window.subarray(offset - windowStart, offset - windowStart + length);
  };
}

/**
 * The entries of a plain tar: the whole object, or a region of it (a
 * package's uncompressed `data.tar`).
 */
export async function listTar(ctx: ExtractContext, region: Region = wholeObject(ctx)): Promise<ArchiveInfo> {
  if (ctx.reader.source.inMemory) {
    // Every byte is already here (an object the policy hashes is fetched whole): a header costs
    // no request, so the walk counts to the end, within the entry and time budgets.
    const listing = await walkTar(inMemoryRead(ctx, region), {
      maxEntries: ctx.budget.maxEntries,
      sampleSize: ARCHIVE_SAMPLE_ENTRIES,
    });
    settleEnd(listing, region.size);
    return fromListing("tar", listing, ctx, region.size);
  }
  // One header per entry, each possibly in its own block: a tar of many small files would cost a
  // read per entry, so the walk stops after TAR_WALK_READ_BYTES and extrapolates.
  const startBytes = ctx.reader.stats.bytesRead;
  const listing = await walkTar(regionRead(ctx, region), {
    maxEntries: ctx.budget.maxEntries,
    sampleSize: ARCHIVE_SAMPLE_ENTRIES,
    readAllowanceSpent: () => ctx.reader.stats.bytesRead - startBytes > TAR_WALK_READ_BYTES,
  });
  settleEnd(listing, region.size);
  return fromListing("tar", listing, ctx, region.size);
}

/** Reads within a region, at offsets relative to its start, never past its end. */
export function regionRead(ctx: ExtractContext, region: Region): RangeRead {
  return (offset, length) =>
    ctx.reader.read(region.offset + offset, Math.max(0, Math.min(length, region.size - offset)));
}

async function extractCpio(ctx: ExtractContext, head: Uint8Array): Promise<ArchiveInfo> {
  // The old binary cpio (magic 070707 octal as a 16-bit word) is rare: kind only.
  if (head[0] === 0xc7 || head[1] === 0xc7) return { ...kindOnly("cpio") };
  const listing = await walkCpio((offset, length) => ctx.reader.read(offset, length), {
    maxEntries: ctx.budget.maxEntries,
    sampleSize: ARCHIVE_SAMPLE_ENTRIES,
  });
  return fromListing("cpio", listing, ctx);
}

/**
 * gzip: the header's original name and modification time, ISIZE from the
 * trailer, and for a tarball its entries (see {@link listCompressedTar}).
 */
async function extractGzip(ctx: ExtractContext, head: Uint8Array): Promise<Sections> {
  const size = ctx.reader.size;
  const header = parseGzipHeader(head, await ctx.reader.tail(4));
  const info: ArchiveInfo = {
    kind: "gzip",
    encrypted: false,
    sample: [],
    ...(header.originalName && { originalName: header.originalName }),
    ...(header.modified && { modified: header.modified }),
  };
  // ISIZE is modulo 2^32 and covers only the last member. A file of 4 GiB or
  // more holds at least that much content, so its ISIZE has wrapped and is not
  // reported; a smaller one is checked against what the walk inflates.
  if (size >= 2 ** 32) {
    info.estimated = true;
    ctx.warn("gzip ISIZE is modulo 2^32; the uncompressed size of a file this large is unknown");
  } else {
    info.uncompressedSize = header.isize;
    Object.assign(info, assess(header.isize, size));
  }
  let manifest: Uint8Array | undefined;
  const archive = await listCompressedTar(ctx, info, {
    decoder: gunzip,
    ...(size < 2 ** 32 && {
      declared: {
        size: header.isize,
        understated:
          "gzip ISIZE is smaller than the content already inflated: multi-member or wrapped past 4 GiB",
      },
    }),
    // `npm pack` puts a package's files under package/, its manifest among them.
    bodies: {
      wanted: (name) => name === NPM_MANIFEST,
      maxBytes: NPM_MANIFEST_BYTES,
      take: (_, body) => {
        manifest = body;
      },
    },
  });
  const pkg = manifest && describeNpmPackage(manifest, ctx);
  return { archive, ...(pkg && { package: pkg }) };
}

/**
 * xz, zstd, lz4, lzip, LZMA-alone, bzip2 and compress: the size an xz index,
 * a zstd or lz4 frame header, lzip trailers or a .lzma header declare (read
 * from the headers alone; bzip2 and compress declare none), and for a tarball its entries (see {@link listCompressedTar}).
 */
async function extractTarball(
  ctx: ExtractContext,
  facts: HeaderFacts,
  decoder: Decoder,
): Promise<ArchiveInfo> {
  const info: ArchiveInfo = withAssessment(facts, ctx.reader.size);
  return listCompressedTar(ctx, info, {
    decoder,
    ...(facts.uncompressedSize !== undefined && {
      declared: {
        size: facts.uncompressedSize,
        understated: `${facts.kind} declared size is smaller than the content already decompressed: more than one stream or frame`,
      },
    }),
  });
}

/**
 * The facts a format keeps at the end of the file (an xz index, lzip
 * trailers). A file cut before them, or with data after them, still decodes
 * from the start, so it is listed as far as it goes, without a declared size.
 */
async function endFacts(
  ctx: ExtractContext,
  kind: string,
  read: (reader: ExtractContext["reader"]) => Promise<HeaderFacts>,
): Promise<HeaderFacts> {
  try {
    return await read(ctx.reader);
  } catch (error) {
    if (!(error instanceof ContentError)) throw error;
    ctx.warn(`${error.message}: no declared size`);
    return { kind, encrypted: false, sample: [], estimated: true };
  }
}

/** How {@link listCompressedTar} decodes a format, and what the format declares. */
export interface CompressedTarFormat {
  decoder: Decoder;
  /** Where the compressed stream lies; the whole object when absent. */
  region?: Region;
  /**
   * The uncompressed size the format declares (gzip ISIZE, xz index, zstd frame header), if it does, and the
   * warning when the content outgrows it.
   */
  declared?: { size: number; understated: string };
  /** Entries whose bodies the walk hands over as it passes them (an npm package's `package.json`). */
  bodies?: TarBodies;
}

/**
 * The entries of a tarball inside a compressed stream, counted by walking the
 * tar headers as the content decompresses (see {@link ForwardDecompressor}):
 * exact for a tarball whose compressed bytes fit the walk's input bound, else
 * counted over a prefix and extrapolated by how much of the content it
 * covered. A stream with no tar inside is one entry.
 */
export async function listCompressedTar(
  ctx: ExtractContext,
  info: ArchiveInfo,
  format: CompressedTarFormat,
): Promise<ArchiveInfo> {
  const region = format.region ?? wholeObject(ctx);
  const size = region.size;
  ctx.partial.archive = info;
  const budgetLeft = ctx.budget.maxBytes - ctx.reader.stats.bytesRead;
  const content = new ForwardDecompressor({
    read: regionRead(ctx, region),
    size,
    maxInput: Math.max(
      TARBALL_WALK_MIN_INPUT_BYTES,
      Math.min(SLOW_DECODER_INPUT_BYTES.get(format.decoder) ?? TARBALL_WALK_INPUT_BYTES, budgetLeft),
    ),
    chunkBytes: TARBALL_WALK_CHUNK_BYTES,
    maxOutput: TARBALL_WALK_OUTPUT_BYTES,
    decoder: format.decoder,
    signal: ctx.signal,
  });
  try {
    if (!isTarHeader(await content.read(0, 512))) {
      info.entries = 1;
      if (info.originalName) info.sample = [info.originalName];
      // A format that declares no size (bzip2, compress; zstd or lz4 written from a pipe) is sized by
      // decompressing it within the walk's bounds: exactly when it fits them, else extrapolated from the
      // share it covered, as a count is.
      if (
        format.declared === undefined &&
        info.uncompressedSize === undefined &&
        content.failure === undefined
      ) {
        const whole = await content.drain();
        if (content.failure === undefined && content.produced > 0) {
          info.uncompressedSize = whole
            ? content.produced
            : Math.round((content.produced * size) / Math.max(1, content.consumed));
          Object.assign(info, assess(info.uncompressedSize, size));
          if (!whole) info.estimated = true;
        }
      }
      if (content.cutShort) cutShort(ctx, info, `the ${info.kind} data ends before its end`);
      if (content.failure !== undefined) ctx.warn(`the ${info.kind} data is damaged (${content.failure})`);
      return info;
    }
    const options = {
      maxEntries: ctx.budget.maxEntries,
      sampleSize: ARCHIVE_SAMPLE_ENTRIES,
      readAllowanceSpent: () => content.bounded,
    };
    const read: RangeRead = (offset, length) => content.read(offset, length);
    const listing = await (format.bodies
      ? walkTarKeeping(read, options, format.bodies)
      : walkTar(read, options));
    if (listing.limit) ctx.reader.noteLimit(listing.limit);
    // Its walk met the content's end unless a bound stopped it (then it sets no end of data); content that
    // ends at damage ends the tar there too, which is the damage's doing, not a cut.
    if (content.failure === undefined) settleEnd(listing, content.produced);
    // A tarball walked to its end is decompressed to the end of the file too
    // (past the tar's end marker is mostly padding), so that its size is the
    // content's own, not a header's declaration for the first frame or stream.
    const whole =
      !listing.boundedByReads &&
      !listing.incomplete &&
      listing.stopReason === undefined &&
      content.failure === undefined &&
      (await content.drain());
    const { declared } = format;
    const declaredHolds = declared !== undefined && declared.size >= content.produced;
    if (declared !== undefined && !declaredHolds) {
      ctx.warn(declared.understated);
      // What was decompressed is then the better figure, and a floor: a bomb of many members shows here.
      info.uncompressedSize = content.produced;
      Object.assign(info, assess(content.produced, size));
      info.estimated = true;
    }
    // Compressed bytes that expanded past the bomb ratio are a bomb whatever the trailer says.
    if (content.produced / Math.max(1, content.consumed) > BOMB_RATIO) info.bomb = true;
    let scale = 1;
    if (listing.boundedByReads && listing.offset) {
      // The share of the content the walk covered: by the declared size where it holds, else by compressed bytes.
      const total =
        declaredHolds && declared ? declared.size : (content.produced * size) / Math.max(1, content.consumed);
      scale = Math.max(1, total / listing.offset);
      ctx.warn(`tar entries counted in the first ${listing.offset} decompressed bytes, then extrapolated`);
    } else if (content.failure !== undefined) {
      ctx.warn(`partial tar listing: the ${info.kind} data is damaged (${content.failure})`);
    } else if (listing.stopReason) {
      ctx.warn(`partial tar listing: ${listing.stopReason}`);
    }
    info.entries = Math.round(listing.entries * scale);
    info.sample = listing.sample;
    info.nestedArchives = nestedArchives(listing.nestedArchives, ctx);
    if (listing.incomplete) info.estimated = true;
    if (whole) {
      info.uncompressedSize = content.produced;
      Object.assign(info, assess(content.produced, size));
      delete info.estimated;
    }
    if (content.cutShort) cutShort(ctx, info, `the ${info.kind} data ends before its end`);
    if (listing.truncated && !listing.boundedByReads) cutShort(ctx, info, `the tar ${listing.stopReason}`);
    return info;
  } finally {
    content.close();
  }
}

async function extractSevenZip(ctx: ExtractContext, head: Uint8Array): Promise<ArchiveInfo> {
  const { facts, stopReason } = await readSevenZip(ctx.reader, head, { sampleSize: ARCHIVE_SAMPLE_ENTRIES });
  if (stopReason) ctx.warn(`no 7z listing: ${stopReason}`);
  return withAssessment(facts, ctx.reader.size);
}

async function extractRar(ctx: ExtractContext, head: Uint8Array): Promise<ArchiveInfo> {
  const { facts, stopReason, limit, truncated } = await readRar(ctx.reader, head, {
    maxEntries: ctx.budget.maxEntries,
    sampleSize: ARCHIVE_SAMPLE_ENTRIES,
  });
  if (stopReason) ctx.warn(`partial RAR listing: ${stopReason}`);
  if (limit) ctx.reader.noteLimit(limit);
  const archive = withAssessment(facts, ctx.reader.size);
  if (truncated) cutShort(ctx, archive, `the RAR ${stopReason}`);
  return archive;
}

async function extractIso(ctx: ExtractContext): Promise<ArchiveInfo> {
  const listing = await readIso9660(ctx.reader, {
    maxEntries: ctx.budget.maxEntries,
    sampleSize: ARCHIVE_SAMPLE_ENTRIES,
  });
  if (listing.stopReason) ctx.warn(`partial ISO 9660 listing: ${listing.stopReason}`);
  if (listing.entries >= ctx.budget.maxEntries) ctx.reader.noteLimit("entries");
  const archive = isoArchive(listing);
  archive.nestedArchives = nestedArchives(listing.nestedArchives, ctx);
  return archive;
}

function withAssessment(facts: HeaderFacts, size: number): ArchiveInfo {
  return { ...facts, ...assess(facts.uncompressedSize, size) };
}

/**
 * Extracts the archive section: entries, declared sizes, ratio, encryption and
 * a bomb flag, from directories and headers only.
 *
 * @example
 * const { archive } = await extractArchive(ctx);
 * // { kind: "zip", entries: 7, uncompressedSize: 78300, ratio: 1.21, bomb: false, encrypted: false, sample: [...], nestedArchives: 0 }
 */
export async function extractArchive(ctx: ExtractContext): Promise<Sections> {
  const head = await ctx.reader.read(0, Math.min(ctx.reader.size, HEAD_WINDOW_BYTES));
  let archive: ArchiveInfo;
  switch (ctx.format.mime) {
    case "application/gzip":
    case "application/x-gzip":
      return extractGzip(ctx, head);
    case "application/x-tar":
      archive = await listTar(ctx);
      break;
    case "application/x-cpio":
      archive = await extractCpio(ctx, head);
      break;
    case "application/x-xz":
      archive = await extractTarball(ctx, await endFacts(ctx, "xz", readXz), unxz);
      break;
    case "application/zstd":
      archive = await extractTarball(ctx, readZstd(head), unzstd);
      break;
    case "application/x-lz4":
      archive = await extractTarball(ctx, readLz4(head), unlz4);
      break;
    case "application/x-7z-compressed":
      archive = await extractSevenZip(ctx, head);
      break;
    case "application/x-rar-compressed":
    case "application/vnd.rar":
      archive = await extractRar(ctx, head);
      break;
    case "application/x-iso9660-image":
      archive = await extractIso(ctx);
      break;
    case "application/x-bzip2":
      archive = await extractTarball(ctx, kindOnly("bzip2"), bunzip2);
      break;
    case "application/x-compress":
      archive = await extractTarball(ctx, kindOnly("compress"), unlzw);
      break;
    case "application/x-lzma":
      archive = await extractTarball(ctx, readLzmaAlone(head), unlzma);
      break;
    case "application/x-lzip":
      archive = await extractTarball(ctx, await endFacts(ctx, "lzip", readLzip), unlzip);
      break;
    default:
      return extractZip(ctx);
  }
  return { archive };
}
