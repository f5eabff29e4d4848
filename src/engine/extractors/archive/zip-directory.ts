/**
 * ZIP central-directory reader over a {@link BlockReader}: finds the End Of
 * Central Directory in the tail (ZIP64 too) and lists the directory, never the
 * entries' data. Shared by the archive extractor, zip container detection and
 * the zip-based document formats (OOXML, ODF, EPUB), which then read single
 * entries by range.
 *
 * Written by hand rather than through yauzl: yauzl's RandomAccessReader wants
 * a readable stream per range and aborts the whole listing on the first
 * malformed entry, while here a listing must stop at an entry or byte bound and
 * keep what it read. The format (APPNOTE.TXT 4.3.12-4.3.16, 4.5.3) is small and
 * fixed-layout.
 */
import type { BlockReader } from "../../byte-source/block-reader.js";
import { crc32 } from "../../crc.js";
import { ContentError } from "../../errors.js";
import { MAX_STRUCTURE_BYTES } from "../../limits.js";
import { textDecoder } from "../../text-decoder.js";

const EOCD_SIGNATURE = 0x06054b50;
const EOCD_BYTES = 22;
const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
const ZIP64_LOCATOR_BYTES = 20;
const ZIP64_EOCD_SIGNATURE = 0x06064b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const CENTRAL_FIXED_BYTES = 46;
const MAX_COMMENT_BYTES = 0xffff;
const ZIP64_EXTRA = 0x0001;
const AES_EXTRA = 0x9901;
/** Info-ZIP Unicode Path (APPNOTE 4.6.9): the UTF-8 name beside a legacy one. */
const UNICODE_PATH_EXTRA = 0x7075;
const FLAG_ENCRYPTED = 0x0001;
const FLAG_UTF8 = 0x0800;
const HOST_MS_DOS = 0;

/** One central-directory record. Sizes are as declared, never verified. */
export interface ZipEntry {
  name: string;
  /** 0 stored, 8 deflate, 99 AES (the real method is in the AES extra field). */
  method: number;
  compressedSize: number;
  uncompressedSize: number;
  /** Offset of the entry's local header, corrected for data prepended to the archive. */
  localHeaderOffset: number;
  encrypted: boolean;
  directory: boolean;
}

/** What the End Of Central Directory states. */
export interface ZipEnd {
  /** Entries the archive declares. */
  totalEntries: number;
  directoryOffset: number;
  directorySize: number;
  zip64: boolean;
  /** Bytes before the archive proper (self-extracting stubs); added to every declared offset. */
  prefixBytes: number;
}

/** A central-directory listing, possibly cut short by a bound. */
export interface ZipDirectory extends ZipEnd {
  entries: ZipEntry[];
  /** True when the listing stopped before `totalEntries` (entry or byte bound, or a damaged record). */
  truncated: boolean;
  /** Why the listing stopped early, for a warning. */
  stopReason?: string;
}

/** Bounds for {@link readZipDirectory}. */
export interface ZipDirectoryOptions {
  /** Entries to list at most. */
  maxEntries: number;
  /** Central-directory bytes to read at most. @default MAX_STRUCTURE_BYTES */
  maxDirectoryBytes?: number;
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function readUint64(data: DataView, offset: number): number {
  const value = data.getBigUint64(offset, true);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new ContentError(`ZIP64 value ${value} is out of range`);
  return Number(value);
}

/**
 * Locates and decodes the End Of Central Directory from the last 64 KiB and
 * 22 bytes: the record itself and the longest comment it can carry.
 *
 * @example
 * const end = await readZipEnd(reader); // { totalEntries: 12, directoryOffset: 9876, ... }
 */
export async function readZipEnd(reader: BlockReader): Promise<ZipEnd> {
  const tail = await reader.tail(EOCD_BYTES + MAX_COMMENT_BYTES);
  const tailStart = reader.size - tail.byteLength;
  const data = view(tail);
  // Scan backwards: a comment may itself contain the signature, so prefer the
  // last record whose comment fits in the file (bytes after it are tolerated),
  // and fall back on the last signature when none does.
  let found = -1;
  for (let i = tail.byteLength - EOCD_BYTES; i >= 0; i--) {
    if (data.getUint32(i, true) !== EOCD_SIGNATURE) continue;
    const commentLength = data.getUint16(i + 20, true);
    if (i + EOCD_BYTES + commentLength <= tail.byteLength) {
      found = i;
      break;
    }
    if (found < 0) found = i;
  }
  if (found < 0) throw new ContentError("ZIP End Of Central Directory not found (truncated or not a zip)");
  const eocdOffset = tailStart + found;
  let totalEntries = data.getUint16(found + 10, true);
  let directorySize = data.getUint32(found + 12, true);
  let directoryOffset = data.getUint32(found + 16, true);
  let zip64 = false;
  let directoryEnd = eocdOffset;

  const locatorAt = found - ZIP64_LOCATOR_BYTES;
  if (locatorAt >= 0 && data.getUint32(locatorAt, true) === ZIP64_LOCATOR_SIGNATURE) {
    const recordOffset = readUint64(data, locatorAt + 8);
    const record = await reader.read(recordOffset, 56);
    const recordView = view(record);
    if (record.byteLength === 56 && recordView.getUint32(0, true) === ZIP64_EOCD_SIGNATURE) {
      totalEntries = readUint64(recordView, 32);
      directorySize = readUint64(recordView, 40);
      directoryOffset = readUint64(recordView, 48);
      zip64 = true;
      directoryEnd = recordOffset;
    }
  }
  // Self-extracting archives and zips appended to other data declare offsets
  // relative to the archive's own start; the gap shows how much was prepended.
  let prefixBytes = directoryEnd - (directoryOffset + directorySize);
  if (prefixBytes < 0 || directoryOffset + prefixBytes > reader.size) prefixBytes = 0;
  return { totalEntries, directoryOffset: directoryOffset + prefixBytes, directorySize, zip64, prefixBytes };
}

/**
 * An entry's name. Without the UTF-8 flag the spec says CP437 (APPNOTE
 * appendix D), which Windows' compressed folders, 7-Zip and WinZip write
 * on Western systems; but macOS Archive Utility and Info-ZIP's zip on Linux
 * write UTF-8 without the flag. A legacy name that is valid UTF-8 reads so,
 * as libarchive's bsdtar shows it (a CP437 name with accented letters almost
 * never is), and any other as CP437. An Info-ZIP Unicode Path field, written
 * beside a legacy name by WinZip and Info-ZIP, wins over it while its CRC
 * still matches the name (a tool that renames an entry without knowing the
 * field leaves it stale).
 */
function decodeName(bytes: Uint8Array, utf8Flag: boolean, extra: DataView): string {
  if (utf8Flag) return textDecoder("utf-8").decode(bytes);
  const unicode = unicodePath(extra, bytes);
  if (unicode !== undefined) return unicode;
  try {
    return textDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return textDecoder("ibm437").decode(bytes);
  }
}

/** The name of an Info-ZIP Unicode Path field (version 1) whose CRC is the legacy name's, if there is one. */
function unicodePath(extra: DataView, legacy: Uint8Array): string | undefined {
  for (let at = 0; at + 4 <= extra.byteLength; ) {
    const id = extra.getUint16(at, true);
    const size = extra.getUint16(at + 2, true);
    const body = at + 4;
    if (body + size > extra.byteLength) return undefined;
    if (id === UNICODE_PATH_EXTRA && size > 5 && extra.getUint8(body) === 1) {
      if (extra.getUint32(body + 1, true) !== crc32(legacy)) return undefined;
      const name = new Uint8Array(extra.buffer, extra.byteOffset + body + 5, size - 5);
      try {
        return textDecoder("utf-8", { fatal: true }).decode(name);
      } catch {
        return undefined;
      }
    }
    at = body + size;
  }
  return undefined;
}

/**
 * A name with `/` between folders, by libarchive's rule (bsdtar lists names so):
 * some Windows writers separate folders with `\\` (APPNOTE 4.4.17 says `/`),
 * so every `\\` of a name that has no `/` reads as `/` when the upper byte of
 * "version needed to extract" is 0 (MS-DOS), as nearly every writer leaves it
 * whatever host it runs on. "Version made by" and the UTF-8 flag do not count,
 * and a name that has a `/` keeps its `\\` as a character of a file name.
 * libarchive reads that byte from the local header, which repeats the central
 * directory's; the listing reads only the latter.
 */
function withSlashes(name: string, neededHost: number): string {
  if (neededHost !== HOST_MS_DOS || name.includes("/") || !name.includes("\\")) return name;
  return name.replaceAll("\\", "/");
}

/** Applies the ZIP64 and AES extra fields of one record. */
function applyExtra(entry: ZipEntry, extra: DataView, localOffsetRaw: number): number {
  let localOffset = localOffsetRaw;
  for (let at = 0; at + 4 <= extra.byteLength; ) {
    const id = extra.getUint16(at, true);
    const size = extra.getUint16(at + 2, true);
    const body = at + 4;
    if (body + size > extra.byteLength) break;
    if (id === ZIP64_EXTRA) {
      // Only the fields saturated in the fixed record are present, in this order.
      let field = body;
      const next = (): number | undefined => {
        if (field + 8 > body + size) return undefined;
        const value = readUint64(extra, field);
        field += 8;
        return value;
      };
      if (entry.uncompressedSize === 0xffffffff) entry.uncompressedSize = next() ?? entry.uncompressedSize;
      if (entry.compressedSize === 0xffffffff) entry.compressedSize = next() ?? entry.compressedSize;
      if (localOffset === 0xffffffff) localOffset = next() ?? localOffset;
    } else if (id === AES_EXTRA) {
      entry.encrypted = true;
    }
    at = body + size;
  }
  return localOffset;
}

/**
 * Lists the central directory, bounded by entries and bytes. A listing cut
 * short by a bound or a damaged record comes back with `truncated: true`
 * rather than an error, so callers keep what was read; one stopped at the
 * entry bound also records `entries` as the reader's `limitReached`.
 *
 * @example
 * const directory = await readZipDirectory(reader, { maxEntries: 10_000 });
 * const core = directory.entries.find((entry) => entry.name === "docProps/core.xml");
 */
export async function readZipDirectory(
  reader: BlockReader,
  options: ZipDirectoryOptions,
): Promise<ZipDirectory> {
  const end = await readZipEnd(reader);
  const maxBytes = options.maxDirectoryBytes ?? MAX_STRUCTURE_BYTES;
  const available = Math.max(0, Math.min(end.directorySize, reader.size - end.directoryOffset));
  // An oversized directory is listed in part (a partial result), not refused.
  const wanted = Math.min(available, maxBytes);
  const bytes = await reader.read(end.directoryOffset, wanted);
  const data = view(bytes);
  const entries: ZipEntry[] = [];
  let stopReason: string | undefined;
  let at = 0;
  // A count of 0xffff without ZIP64 may be saturated: then the records themselves say where the list ends.
  const saturated = end.totalEntries === 0xffff && !end.zip64;
  const cut =
    wanted < end.directorySize ? `central directory larger than the ${wanted}-byte bound` : undefined;
  while (saturated || entries.length < end.totalEntries) {
    const atSignature =
      at + CENTRAL_FIXED_BYTES <= bytes.byteLength && data.getUint32(at, true) === CENTRAL_SIGNATURE;
    if (!atSignature) {
      const otherRecord = at + 4 <= bytes.byteLength && data.getUint32(at, true) !== CENTRAL_SIGNATURE;
      if (saturated && (otherRecord || (at >= bytes.byteLength && !cut))) break;
      stopReason =
        cut ??
        (at >= bytes.byteLength
          ? "central directory ends early (truncated)"
          : `bad central-directory record at byte ${at}`);
      break;
    }
    // Checked at a record, so that a saturated count's list of exactly the budget ends whole.
    if (entries.length >= options.maxEntries) {
      stopReason = `listing stopped at the entry budget of ${options.maxEntries}`;
      reader.noteLimit("entries");
      break;
    }
    const flags = data.getUint16(at + 8, true);
    const nameLength = data.getUint16(at + 28, true);
    const extraLength = data.getUint16(at + 30, true);
    const commentLength = data.getUint16(at + 32, true);
    const recordEnd = at + CENTRAL_FIXED_BYTES + nameLength + extraLength + commentLength;
    if (recordEnd > bytes.byteLength) {
      stopReason = cut ?? "central directory ends early (truncated)";
      break;
    }
    const nameStart = at + CENTRAL_FIXED_BYTES;
    const extra = new DataView(bytes.buffer, bytes.byteOffset + nameStart + nameLength, extraLength);
    const name = withSlashes(
      decodeName(bytes.subarray(nameStart, nameStart + nameLength), (flags & FLAG_UTF8) !== 0, extra),
      data.getUint8(at + 7),
    );
    const entry: ZipEntry = {
      name,
      method: data.getUint16(at + 10, true),
      compressedSize: data.getUint32(at + 20, true),
      uncompressedSize: data.getUint32(at + 24, true),
      localHeaderOffset: 0,
      encrypted: (flags & FLAG_ENCRYPTED) !== 0,
      directory: name.endsWith("/"),
    };
    entry.localHeaderOffset = applyExtra(entry, extra, data.getUint32(at + 42, true)) + end.prefixBytes;
    entries.push(entry);
    at = recordEnd;
  }
  const truncated = stopReason !== undefined;
  return { ...end, entries, truncated, ...(stopReason !== undefined && { stopReason }) };
}
