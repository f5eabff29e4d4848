/**
 * What the headers of single-stream compressors and solid archives state
 * cheaply: a declared content size (xz index, zstd/lz4 frame headers, lzip trailers), an
 * encryption flag (7z, RAR), and RAR 4's entry listing. Nothing here
 * decompresses. Hand-written because
 * the npm decoders for these formats decompress whole streams and none reads
 * a header by range.
 */
import type { BlockReader } from "../../byte-source/block-reader.js";
import { crc32 } from "../../crc.js";
import { ContentError, type LimitKind } from "../../errors.js";
import { boundedLength, cleanString, MAX_FIELD_CHARS, MAX_STRUCTURE_BYTES } from "../../limits.js";
import type { ArchiveInfo } from "../../types.js";
import { utf8OrLatin1 } from "../bytes.js";
import { isLzipMember, LZIP_TRAILER_BYTES } from "./lzip.js";
import { stopAtReadLimit } from "./tar.js";

/** Fields a header walk may establish; `kind`, `encrypted` and `sample` always come back. */
export type HeaderFacts = Pick<ArchiveInfo, "kind" | "encrypted" | "sample"> &
  Partial<Pick<ArchiveInfo, "entries" | "uncompressedSize" | "estimated">>;

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function startsWith(bytes: Uint8Array, signature: readonly number[]): boolean {
  return signature.every((byte, i) => bytes[i] === byte);
}

/** xz multibyte integer (7 bits per byte, little-endian groups). */
function readVarint(bytes: Uint8Array, at: number): { value: number; next: number } {
  let value = 0;
  for (let i = 0; i < 9; i++) {
    const byte = bytes[at + i];
    if (byte === undefined) throw new ContentError("xz index truncated");
    value += (byte & 0x7f) * 2 ** (7 * i);
    if ((byte & 0x80) === 0) return { value, next: at + i + 1 };
  }
  throw new ContentError("xz index integer too long");
}

/**
 * xz: the stream footer at the end points back to the index, which lists every
 * block's uncompressed size. Only the last stream is read; earlier streams of
 * a concatenated file make the figure an estimate.
 */
export async function readXz(reader: BlockReader): Promise<HeaderFacts> {
  const facts: HeaderFacts = { kind: "xz", encrypted: false, sample: [] };
  const tail = await reader.tail(4096);
  let end = tail.byteLength;
  // Stream padding: multiples of four zero bytes after the footer.
  while (end >= 4 && tail[end - 1] === 0 && tail[end - 2] === 0 && tail[end - 3] === 0 && tail[end - 4] === 0)
    end -= 4;
  if (end < 12 || tail[end - 2] !== 0x59 || tail[end - 1] !== 0x5a) {
    throw new ContentError("xz stream footer not found (truncated)");
  }
  const footerOffset = reader.size - (tail.byteLength - end) - 12;
  const backwardSize = (view(tail).getUint32(end - 8, true) + 1) * 4;
  const indexSize = boundedLength(backwardSize, MAX_STRUCTURE_BYTES, "xz index");
  const index = await reader.read(footerOffset - indexSize, indexSize);
  if (index[0] !== 0x00) throw new ContentError("xz index indicator missing");
  let { value: records, next } = readVarint(index, 1);
  records = boundedLength(records, indexSize, "xz index records");
  let uncompressed = 0;
  let blocksBytes = 0;
  for (let i = 0; i < records; i++) {
    const unpadded = readVarint(index, next);
    const size = readVarint(index, unpadded.next);
    blocksBytes += Math.ceil(unpadded.value / 4) * 4;
    uncompressed += size.value;
    next = size.next;
  }
  facts.uncompressedSize = uncompressed;
  const streamBytes = 12 + blocksBytes + indexSize + 12;
  if (streamBytes < footerOffset + 12) facts.estimated = true;
  return facts;
}

/** zstd: the first frame's Frame_Content_Size, when the encoder wrote one (RFC 8878 3.1.1.1). */
export function readZstd(head: Uint8Array): HeaderFacts {
  const facts: HeaderFacts = { kind: "zstd", encrypted: false, sample: [] };
  if (head.byteLength < 6) throw new ContentError("zstd frame header truncated");
  const descriptor = head[4] as number;
  const sizeFlag = descriptor >> 6;
  const singleSegment = (descriptor & 0x20) !== 0;
  const dictionaryBytes = [0, 1, 2, 4][descriptor & 0x03] as number;
  const sizeBytes = [singleSegment ? 1 : 0, 2, 4, 8][sizeFlag] as number;
  if (sizeBytes === 0) return facts;
  const at = 5 + (singleSegment ? 0 : 1) + dictionaryBytes;
  if (at + sizeBytes > head.byteLength) throw new ContentError("zstd frame header truncated");
  const data = view(head);
  const size =
    sizeBytes === 1
      ? data.getUint8(at)
      : sizeBytes === 2
        ? data.getUint16(at, true) + 256
        : sizeBytes === 4
          ? data.getUint32(at, true)
          : Number(data.getBigUint64(at, true));
  facts.uncompressedSize = size;
  // Later frames of a concatenated file are not read.
  facts.estimated = true;
  return facts;
}

/** LZ4 frame: the optional Content Size after the frame descriptor's flags (a legacy frame has none). */
export function readLz4(head: Uint8Array): HeaderFacts {
  const facts: HeaderFacts = { kind: "lz4", encrypted: false, sample: [] };
  if (head.byteLength < 7) throw new ContentError("lz4 frame header truncated");
  if (view(head).getUint32(0, true) === 0x184c2102) return facts;
  const flags = head[4] as number;
  if ((flags & 0x08) !== 0) {
    if (head.byteLength < 14) throw new ContentError("lz4 frame header truncated");
    facts.uncompressedSize = Number(view(head).getBigUint64(6, true));
    facts.estimated = true;
  }
  return facts;
}

/** A header (6), the shortest LZMA stream (an end marker, 5 bytes and more) and a trailer (20). */
const LZIP_MIN_MEMBER_BYTES = 36;
/** Members whose trailers are read, from the end; a file of more (plzip writes one per 16 MiB) is extrapolated. */
const LZIP_MEMBERS_READ = 16;

/**
 * lzip: each member's trailer, at its end, states its data size and its own
 * size, so the members are walked back from the end of the file, two small
 * reads each (the trailer, and the magic number where it says the member
 * begins). A file of more than {@link LZIP_MEMBERS_READ} members is
 * extrapolated from those read.
 */
export async function readLzip(reader: BlockReader): Promise<HeaderFacts> {
  const facts: HeaderFacts = { kind: "lzip", encrypted: false, sample: [] };
  let end = reader.size;
  let data = 0;
  for (let members = 0; end > 0; members++) {
    if (members === LZIP_MEMBERS_READ) {
      facts.estimated = true;
      data = Math.round((data * reader.size) / (reader.size - end));
      break;
    }
    if (end < LZIP_MIN_MEMBER_BYTES)
      throw new ContentError("lzip trailer not found (truncated, or data after the last member)");
    const trailer = view(await reader.read(end - LZIP_TRAILER_BYTES, LZIP_TRAILER_BYTES));
    const memberSize = Number(trailer.getBigUint64(12, true));
    if (memberSize < LZIP_MIN_MEMBER_BYTES || memberSize > end)
      throw new ContentError("lzip trailer not found (truncated, or data after the last member)");
    if (!isLzipMember(await reader.read(end - memberSize, 4)))
      throw new ContentError("lzip member size does not lead to a member");
    data += Number(trailer.getBigUint64(4, true));
    end -= memberSize;
  }
  facts.uncompressedSize = data;
  return facts;
}

const RAR4_FILE = 0x74;
const RAR4_MAIN = 0x73;
const RAR4_END = 0x7b;
/** LHD_UNICODE: the name is UTF-8, or an OEM name followed by RAR's compressed UTF-16 form. */
const RAR4_UNICODE_NAME = 0x0200;

/**
 * Bytes of a RAR 4 name read for the sample: a name field may hold 65,535, and
 * {@link MAX_FIELD_CHARS} characters take at most four UTF-8 bytes each. In
 * RAR's compressed UTF-16 form, which follows an OEM copy of the name, a
 * name of more than about 900 characters may be cut here, and is sampled as
 * far as the bound holds.
 */
const RAR4_NAME_READ_BYTES = 4 * MAX_FIELD_CHARS;

/**
 * RAR's compressed UTF-16 form of a name (unrar's `EncodeFileName::Decode`,
 * libarchive's `read_header`), or undefined where it is malformed. `oem` is
 * the name before the NUL, `encoded` what follows it: a high byte, then flag
 * bytes, each announcing four operations (two bits each, high bits first)
 * whose operands follow it:
 *
 * - 0: one byte, a character below U+0100;
 * - 1: one byte, a character in the high byte's page;
 * - 2: two bytes, a whole little-endian UTF-16 unit;
 * - 3: a length byte: `length & 0x7f` plus 2 characters copied from the OEM
 *   name at the same positions, as they are or, when `length & 0x80` is set,
 *   plus the next byte (a correction, modulo 256) in the high byte's page.
 *
 * Written here because the npm RAR readers (node-unrar-js, libarchive.js:
 * unrar and libarchive in WebAssembly) take the whole archive, where this
 * walk reads its headers by range. Bounded by the field: every pass consumes
 * a byte of `encoded` and a run copies only positions of `oem` not yet
 * decoded, so the work is at most the field's length. An operation whose
 * operands the field lacks, a run past the OEM name (a writer copies only
 * what the OEM name holds), an unpaired surrogate or an empty result is
 * malformed. When `cut`, the field stops at the read bound rather than at
 * its end: what was decoded is kept, marked with an ellipsis.
 */
function decodeRar4Unicode(oem: Uint8Array, encoded: Uint8Array, cut: boolean): string | undefined {
  const highByte = encoded[0];
  if (highByte === undefined) return undefined;
  const units: number[] = [];
  let at = 1;
  let flags = 0;
  let flagBits = 0;
  while (at < encoded.byteLength) {
    if (flagBits === 0) {
      flags = encoded[at++] as number;
      flagBits = 8;
      // A last flag byte announces four operations whether or not the name needs them all.
      if (at === encoded.byteLength) break;
    }
    flagBits -= 2;
    const operation = (flags >> flagBits) & 3;
    const first = encoded[at] as number;
    const operands = operation === 2 || (operation === 3 && (first & 0x80) !== 0) ? 2 : 1;
    if (at + operands > encoded.byteLength) {
      if (cut) break;
      return undefined;
    }
    const second = encoded[at + 1] as number;
    at += operands;
    if (operation === 0) units.push(first);
    else if (operation === 1) units.push((highByte << 8) | first);
    else if (operation === 2) units.push(first | (second << 8));
    else {
      const count = (first & 0x7f) + 2;
      if (units.length + count > oem.byteLength) return undefined;
      for (let i = 0; i < count; i++) {
        const byte = oem[units.length] as number;
        units.push(operands === 2 ? (highByte << 8) | ((byte + second) & 0xff) : byte);
      }
    }
  }
  // unrar and libarchive end the name at a decoded NUL, as the OEM name ends at its own.
  const nul = units.indexOf(0);
  const whole = nul >= 0 || !cut;
  let name = String.fromCharCode(...(nul < 0 ? units : units.slice(0, nul)));
  // The read bound may split a surrogate pair, whose first half is dropped as a split UTF-8 character is.
  if (!whole && /[\ud800-\udbff]$/.test(name)) name = name.slice(0, -1);
  // An unpaired surrogate (category Cs under the u flag) is no name a writer could have had.
  if (name.length === 0 || /\p{Cs}/u.test(name)) return undefined;
  return whole ? name : `${name}…`;
}

/**
 * A RAR 4 file name. A name flagged {@link RAR4_UNICODE_NAME} either is
 * UTF-8 or, behind a NUL, adds RAR's own compressed UTF-16 form
 * ({@link decodeRar4Unicode}) to a name in the writer's OEM code page, and is
 * then that form decoded, or its OEM part where the form is malformed. An
 * OEM name, and an unflagged name (in the writer's character set, which
 * unrar and libarchive on Linux take to be the locale's, UTF-8 today), is
 * read up to its first NUL as the gzip header's name is
 * ({@link utf8OrLatin1}): a name that is not UTF-8 is kept as Latin-1. A name
 * cut at the read bound may end inside a character, which is dropped rather
 * than taken for non-UTF-8; a compressed form cut there keeps what it holds.
 * Folders are separated by `/` ({@link withSlashes}).
 */
function rar4Name(bytes: Uint8Array, unicode: boolean, cut: boolean): string {
  const end = bytes.indexOf(0);
  if (end < 0) return withSlashes(utf8OrLatin1(bytes, { cut }));
  const oem = bytes.subarray(0, end);
  return withSlashes(
    (unicode ? decodeRar4Unicode(oem, bytes.subarray(end + 1), cut) : undefined) ?? utf8OrLatin1(oem),
  );
}

/**
 * RAR 4 separates folders with `\` whatever system wrote the archive (RAR
 * for Unix too), and unrar and libarchive list every `\` of a RAR 4 name as
 * `/`, so a name reads as a path does in the other formats' listings. (RAR 5
 * writes `/`.)
 */
function withSlashes(name: string): string {
  return name.replaceAll("\\", "/");
}

/** A RAR header walk: what the headers state, and why the walk stopped short when it did. */
export interface RarListing {
  facts: HeaderFacts;
  /** Set when the listing is partial (`facts.estimated`), for the caller's warning. */
  stopReason?: string;
  /** True when the file ends inside a header or an entry's data: the archive was cut short. */
  truncated?: boolean;
  /** The budget that stopped the walk early (`entries`, or the read budget that refused a read). */
  limit?: LimitKind;
}

/** Offset of RAR 4's first header, the main archive header, after the 7-byte marker block. */
const RAR4_FIRST_HEADER = 7;

/**
 * RAR: version 4 headers are walked (entries, sizes, names, per-file
 * encryption) up to the entry bound; version 5 reports only whether its
 * headers are encrypted. A walk that stops short (entry bound, a read the
 * byte, request or time budget refuses, a damaged header past the first,
 * truncated file) keeps what it listed and says why in `stopReason`, and
 * names a budget in `limit`, as the tar and cpio walks do. A damaged first
 * header means the file is no RAR archive to list.
 */
export async function readRar(
  reader: BlockReader,
  head: Uint8Array,
  options: { maxEntries: number; sampleSize: number },
): Promise<RarListing> {
  const facts: HeaderFacts = { kind: "rar", encrypted: false, sample: [] };
  if (startsWith(head, RAR5_SIGNATURE)) return readRar5(reader, options);
  const listing: RarListing = { facts };
  // A budget that refuses any read, a header's, its 64-bit sizes' or a name's, ends the walk but keeps its listing.
  const readWithinBudget = stopAtReadLimit((offset, length) => reader.read(offset, length), listing);
  let offset = RAR4_FIRST_HEADER;
  let entries = 0;
  let total = 0;
  for (;;) {
    const block = await readWithinBudget(offset, 32);
    if (!block) break;
    if (block.byteLength < 7) {
      listing.stopReason = `archive ends inside the header at byte ${offset} (truncated)`;
      listing.truncated = true;
      break;
    }
    const data = view(block);
    const type = block[2] as number;
    const flags = data.getUint16(3, true);
    const headerSize = data.getUint16(5, true);
    if (headerSize < 7) {
      if (offset === RAR4_FIRST_HEADER) throw new ContentError(`RAR header at ${offset} is too small`);
      // Damage past the first header ends the walk with what it found, as a bad tar or cpio header does.
      listing.stopReason = `RAR header at byte ${offset} is too small (${headerSize} bytes)`;
      break;
    }
    if (type === RAR4_MAIN && (flags & 0x0080) !== 0) {
      // Encrypted headers: nothing past this point is readable without the password.
      facts.encrypted = true;
      return { facts };
    }
    let dataSize = 0;
    if ((flags & 0x8000) !== 0 || type === RAR4_FILE) {
      if (block.byteLength < 11) {
        listing.stopReason = `archive ends inside the header at byte ${offset} (truncated)`;
        listing.truncated = true;
        break;
      }
      dataSize = data.getUint32(7, true);
    }
    if (type === RAR4_FILE && block.byteLength >= 32) {
      // Checked at a file header, not before the end block, so that an archive of exactly the budget is whole.
      if (entries >= options.maxEntries) {
        listing.stopReason = `listing stopped at the entry budget of ${options.maxEntries}`;
        listing.limit = "entries";
        break;
      }
      const large = (flags & 0x0100) !== 0;
      let unpacked = data.getUint32(11, true);
      if (large) {
        const more = await readWithinBudget(offset + 32, 8);
        if (!more) break;
        if (more.byteLength === 8) {
          dataSize += view(more).getUint32(0, true) * 2 ** 32;
          unpacked += view(more).getUint32(4, true) * 2 ** 32;
        }
      }
      const nameLength = data.getUint16(26, true);
      if (facts.sample.length < options.sampleSize) {
        const nameBytes = await readWithinBudget(
          offset + 32 + (large ? 8 : 0),
          Math.min(nameLength, RAR4_NAME_READ_BYTES),
        );
        if (!nameBytes) break;
        const unicode = (flags & RAR4_UNICODE_NAME) !== 0;
        const name = cleanString(rar4Name(nameBytes, unicode, nameBytes.byteLength < nameLength));
        if (name) facts.sample.push(name);
      }
      // Counted once its header is read whole, as the cpio walk counts an entry once its name is.
      entries += 1;
      total += unpacked;
      if ((flags & 0x0004) !== 0) facts.encrypted = true;
    }
    if (type === RAR4_END) break;
    offset += headerSize + dataSize;
    // Archives written without an end block simply stop at the end of the file.
    if (offset >= reader.size) {
      if (offset > reader.size) {
        listing.stopReason = "archive ends inside an entry's data (truncated)";
        listing.truncated = true;
      }
      break;
    }
  }
  facts.entries = entries;
  facts.uncompressedSize = total;
  if (listing.stopReason) facts.estimated = true;
  return listing;
}

const RAR5_SIGNATURE = [0x52, 0x61, 0x72, 0x21, 0x1a, 0x07, 0x01, 0x00];
const RAR5_FILE = 2;
const RAR5_ENCRYPTION = 4;
const RAR5_END = 5;
/** Header flags: an extra area, a data area follow the header's common fields. */
const RAR5_HAS_EXTRA = 0x0001;
const RAR5_HAS_DATA = 0x0002;
/** File flags: a directory; a modification time (uint32); a data CRC32 (uint32); the unpacked size is unknown. */
const RAR5_DIRECTORY = 0x0001;
const RAR5_HAS_TIME = 0x0002;
const RAR5_HAS_CRC = 0x0004;
const RAR5_SIZE_UNKNOWN = 0x0008;
/** The extra record of a file whose data is encrypted. */
const RAR5_EXTRA_ENCRYPTION = 0x01;
/** A header may not exceed 2 MB (the format's own limit). */
const RAR5_MAX_HEADER_BYTES = 2 * 1024 * 1024;
/** Bytes read at a header's offset: a file header with a name of a few dozen bytes fits. */
const RAR5_HEADER_READ_BYTES = 256;

/** RAR 5's variable-length integer (7 bits per byte, low first), or undefined past `end`. */
function rar5Vint(
  bytes: Uint8Array,
  at: number,
  end = bytes.byteLength,
): { value: number; next: number } | undefined {
  let value = 0;
  for (let i = 0; i < 10 && at + i < end; i++) {
    const byte = bytes[at + i] as number;
    value += (byte & 0x7f) * 2 ** (7 * i);
    if ((byte & 0x80) === 0) return { value, next: at + i + 1 };
  }
  return undefined;
}

/** A RAR 5 file header's fields the listing keeps. */
interface Rar5File {
  directory: boolean;
  unpacked?: number;
  name: Uint8Array;
  encrypted: boolean;
}

/**
 * The fields of a RAR 5 file header, from `at` (its file flags) to `end`
 * (where its extra area ends), the extra area at `extraStart`; undefined
 * when they run past the header.
 */
function rar5File(header: Uint8Array, at: number, end: number, extraStart: number): Rar5File | undefined {
  const flags = rar5Vint(header, at, end);
  const unpacked = flags && rar5Vint(header, flags.next, end);
  const attributes = unpacked && rar5Vint(header, unpacked.next, end);
  if (!flags || !unpacked || !attributes) return undefined;
  let next = attributes.next;
  if (flags.value & RAR5_HAS_TIME) next += 4;
  if (flags.value & RAR5_HAS_CRC) next += 4;
  const compression = rar5Vint(header, next, end);
  const hostOs = compression && rar5Vint(header, compression.next, end);
  const nameLength = hostOs && rar5Vint(header, hostOs.next, end);
  if (!nameLength || nameLength.next + nameLength.value > extraStart) return undefined;
  let encrypted = false;
  // The extra area: records of size (vint, counting from the type), type (vint), data.
  for (let record = extraStart; record < end; ) {
    const size = rar5Vint(header, record, end);
    const type = size && rar5Vint(header, size.next, end);
    if (!size || !type || size.value === 0) break;
    if (type.value === RAR5_EXTRA_ENCRYPTION) encrypted = true;
    record = size.next + size.value;
  }
  return {
    directory: (flags.value & RAR5_DIRECTORY) !== 0,
    ...((flags.value & RAR5_SIZE_UNKNOWN) === 0 && { unpacked: unpacked.value }),
    name: header.subarray(nameLength.next, nameLength.next + nameLength.value),
    encrypted,
  };
}

/**
 * RAR 5 (WinRAR 5 and later, the format RAR writes by default): the block
 * headers are walked as RAR 4's are, each checked by its CRC32, from the
 * signature to the end of archive header. A file header counts as an entry
 * (folders included, as unrar and bsdtar list them); service headers (a
 * comment, the quick-open index, a recovery record) do not. An archive
 * encryption header means the rest is unreadable without the password.
 * Written by hand for the same reason as RAR 4's walk: npm's RAR readers
 * (unrar builds to WebAssembly) read the whole archive, not headers by range.
 */
async function readRar5(
  reader: BlockReader,
  options: { maxEntries: number; sampleSize: number },
): Promise<RarListing> {
  const facts: HeaderFacts = { kind: "rar", encrypted: false, sample: [] };
  const listing: RarListing = { facts };
  const readWithinBudget = stopAtReadLimit((offset, length) => reader.read(offset, length), listing);
  let offset = RAR5_SIGNATURE.length;
  let entries = 0;
  let total = 0;
  const damaged = (why: string) => {
    // A first header that does not hold means no RAR 5 archive to list; later, damage ends the walk.
    if (offset === RAR5_SIGNATURE.length) throw new ContentError(`RAR 5 ${why} at byte ${offset}`);
    listing.stopReason = `RAR 5 ${why} at byte ${offset}`;
  };
  for (;;) {
    let header = await readWithinBudget(offset, RAR5_HEADER_READ_BYTES);
    if (!header) break;
    const size = rar5Vint(header, 4, Math.min(header.byteLength, 7));
    if (header.byteLength < 7 || !size) {
      if (header.byteLength < 7 && offset !== RAR5_SIGNATURE.length) {
        listing.stopReason = `archive ends inside the header at byte ${offset} (truncated)`;
        listing.truncated = true;
      } else damaged("header size unreadable");
      break;
    }
    const end = size.next + size.value;
    if (size.value < 2 || end > RAR5_MAX_HEADER_BYTES) {
      damaged(`header of ${size.value} bytes`);
      break;
    }
    if (end > header.byteLength) {
      const whole = await readWithinBudget(offset, end);
      if (!whole) break;
      header = whole;
    }
    if (header.byteLength < end) {
      listing.stopReason = `archive ends inside the header at byte ${offset} (truncated)`;
      listing.truncated = true;
      break;
    }
    if (crc32(header.subarray(4, end)) !== view(header).getUint32(0, true)) {
      damaged("header CRC32 mismatch");
      break;
    }
    const type = rar5Vint(header, size.next, end);
    const flags = type && rar5Vint(header, type.next, end);
    const extraSize =
      flags &&
      (flags.value & RAR5_HAS_EXTRA ? rar5Vint(header, flags.next, end) : { value: 0, next: flags.next });
    const dataSize =
      extraSize &&
      (flags.value & RAR5_HAS_DATA
        ? rar5Vint(header, extraSize.next, end)
        : { value: 0, next: extraSize.next });
    if (!type || !flags || !extraSize || !dataSize || extraSize.value > end - dataSize.next) {
      damaged("header fields run past the header");
      break;
    }
    if (type.value === RAR5_ENCRYPTION) {
      // Everything past this header is encrypted: nothing more is readable without the password.
      facts.encrypted = true;
      return { facts };
    }
    if (type.value === RAR5_FILE) {
      if (entries >= options.maxEntries) {
        listing.stopReason = `listing stopped at the entry budget of ${options.maxEntries}`;
        listing.limit = "entries";
        break;
      }
      const file = rar5File(header, dataSize.next, end, end - extraSize.value);
      if (!file) {
        damaged("file header fields run past the header");
        break;
      }
      entries += 1;
      if (!file.directory) total += file.unpacked ?? 0;
      if (file.encrypted) facts.encrypted = true;
      if (facts.sample.length < options.sampleSize) {
        const name = cleanString(utf8OrLatin1(file.name));
        if (name) facts.sample.push(name);
      }
    }
    if (type.value === RAR5_END) break;
    offset += end + dataSize.value;
    // An archive cut after a whole entry simply stops at the end of the file.
    if (offset >= reader.size) {
      // RAR 5 always ends with its end of archive header: a file without it was cut, if only at an entry's end.
      listing.truncated = true;
      listing.stopReason =
        offset > reader.size
          ? "archive ends inside an entry's data (truncated)"
          : "archive ends before its end of archive header (truncated)";
      break;
    }
  }
  facts.entries = entries;
  facts.uncompressedSize = total;
  if (listing.stopReason) facts.estimated = true;
  return listing;
}

/** Kind names for formats whose headers state nothing cheap beyond what they are. */
export function kindOnly(kind: string): HeaderFacts {
  return { kind, encrypted: false, sample: [] };
}
