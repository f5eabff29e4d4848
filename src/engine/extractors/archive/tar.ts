/**
 * tar (v7, ustar, GNU, pax) header walk: one 512-byte header per entry, bodies
 * skipped by seeking, so a large tar costs one small read per entry. Written
 * by hand because the tar libraries on npm (tar, tar-stream) consume a stream
 * end to end and cannot seek past bodies.
 */

import { ContentError, LimitExceededError, type LimitKind } from "../../errors.js";
import { cleanString } from "../../limits.js";
import { textDecoder } from "../../text-decoder.js";
import { utf8OrLatin1 } from "../bytes.js";
import { isArchiveName } from "./archive-names.js";

const BLOCK = 512;
/**
 * An old GNU sparse header ('S'): byte 482 says its map of data runs goes on
 * in extension blocks after it, each holding 21 runs and, at byte 504, the
 * same flag; the file's real size is at 483.
 */
const GNU_SPARSE_EXTENDED = 482;
const GNU_SPARSE_REAL_SIZE = 483;
const GNU_SPARSE_BLOCK_EXTENDED = 504;
/** Extension blocks followed before the map counts as damage: 21 runs each, a million runs in all. */
const MAX_SPARSE_BLOCKS = 50_000;

/** Sizes above this in a header are treated as damage rather than trusted (pax allows more; 1 PiB is plenty). */
const MAX_ENTRY_SIZE = 2 ** 50;

/** Reads up to `length` bytes at `offset`; fewer only at the end of the data. */
export type RangeRead = (offset: number, length: number) => Promise<Uint8Array>;

/** What a tar walk established. */
export interface TarListing {
  entries: number;
  /** Sum of the entries' declared sizes. */
  totalSize: number;
  sample: string[];
  /** Entries read whose names say they are archives themselves, sampled or not. */
  nestedArchives: number;
  /** True when the walk stopped before the end-of-archive marker. */
  incomplete: boolean;
  /** Why the walk stopped early. */
  stopReason?: string;
  /** True when the data ends inside a header or an entry's body: the archive was cut short. */
  truncated?: boolean;
  /**
   * Where the walk looked for a header and found the data's end. Data ending
   * short of it cut the last entry's body (see {@link settleEnd}); ending at it,
   * the archive only lacks its end-of-archive marker, as some writers leave it out.
   */
  endOfData?: number;
  /** The budget that stopped the walk early (`entries`, or the read budget that refused a read). */
  limit?: LimitKind;
  /** Set when the walk stopped to bound its reads: the byte offset of the next header it did not read. */
  offset?: number;
  /** True when the walk stopped only to bound its reads, so counts may be extrapolated. */
  boundedByReads?: boolean;
}

export interface TarWalkOptions {
  maxEntries: number;
  sampleSize: number;
  /**
   * Asked before each header read, and after a read that came back short;
   * true ends the walk, whose counts the caller may then extrapolate.
   */
  readAllowanceSpent?: () => boolean;
  /** Told of each entry counted: its name, type flag, and where its body lies and how long it is. */
  onEntry?: (entry: TarEntry) => void;
}

/** One entry as {@link walkTar} counts it. */
export interface TarEntry {
  name: string;
  /** The header's type flag: "0" (or NUL) a file, "5" a folder, "2" a symbolic link ... */
  type: string;
  bodyOffset: number;
  size: number;
}

/**
 * A name field up to its NUL: the header states no character set, so UTF-8
 * where the bytes are valid UTF-8 (as tar writes names on UTF-8 systems),
 * else Latin-1 (see {@link utf8OrLatin1}), never replacement characters.
 */
function nameText(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  return utf8OrLatin1(end < 0 ? bytes : bytes.subarray(0, end));
}

function text(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  return textDecoder("utf-8").decode(end < 0 ? bytes : bytes.subarray(0, end));
}

function octal(field: Uint8Array): number {
  // GNU base-256: the high bit of the first byte marks a big-endian binary number.
  if (((field[0] ?? 0) & 0x80) !== 0) {
    let value = (field[0] ?? 0) & 0x7f;
    for (let i = 1; i < field.length; i++) value = value * 256 + (field[i] ?? 0);
    return value;
  }
  const digits = text(field).trim();
  if (digits === "") return 0;
  if (!/^[0-7]+$/.test(digits)) return Number.NaN;
  return Number.parseInt(digits, 8);
}

/**
 * True when a 512-byte block is a tar header whose checksum holds: summed
 * over unsigned bytes as POSIX says, or over signed ones as some old tars
 * (HP-UX's, early Sun's) wrote it, which GNU tar and Python's tarfile accept
 * too; the two differ only for a header with bytes over 0x7F (a Latin-1 name).
 *
 * @example
 * isTarHeader(firstBlock) // true for any ustar/GNU/v7 tar
 */
export function isTarHeader(block: Uint8Array): boolean {
  if (block.byteLength < BLOCK) return false;
  const stored = octal(block.subarray(148, 156));
  if (!Number.isFinite(stored)) return false;
  let sum = 0;
  let high = 0;
  for (let i = 0; i < BLOCK; i++) {
    const byte = i >= 148 && i < 156 ? 0x20 : (block[i] as number);
    sum += byte;
    if (byte > 0x7f) high += 1;
  }
  return sum === stored || sum - 256 * high === stored;
}

function paxRecords(body: Uint8Array): Map<string, string> {
  const records = new Map<string, string>();
  const textBody = textDecoder("utf-8").decode(body);
  for (const match of textBody.matchAll(/^\d+ ([^=\n]+)=([^\n]*)$/gm)) {
    records.set(match[1] as string, match[2] as string);
  }
  return records;
}

/**
 * `read` for a header walk that a refused read ends rather than fails: when
 * the byte, request or time budget refuses one, the returned function records
 * why on `listing` and yields undefined, and the walk returns what it found.
 *
 * @example
 * const readWithinBudget = stopAtReadLimit(read, listing);
 * const header = await readWithinBudget(offset, 512);
 * if (!header) return listing;
 */
export function stopAtReadLimit(
  read: RangeRead,
  listing: Pick<TarListing, "stopReason" | "limit">,
): (offset: number, length: number) => Promise<Uint8Array | undefined> {
  return async (offset, length) => {
    try {
      return await read(offset, length);
    } catch (error) {
      if (!(error instanceof LimitExceededError)) throw error;
      listing.stopReason = `listing stopped at a read limit: ${error.message}`;
      listing.limit = error.limit;
      return undefined;
    }
  };
}

/**
 * Tells, from the size of the data walked, whether a walk that found the
 * data's end where a header should be stopped inside the last entry's body
 * (cut short) or exactly after it (no end-of-archive marker).
 */
export function settleEnd(listing: TarListing, dataSize: number): void {
  if (listing.endOfData === undefined || dataSize >= listing.endOfData) return;
  listing.stopReason = "archive ends inside an entry's data (truncated)";
  listing.truncated = true;
}

/**
 * Walks tar headers through `read`, bounded by entries; a read that hits the
 * byte, request or time budget ends the walk with what it found.
 *
 * @example
 * const listing = await walkTar((offset, length) => reader.read(offset, length), { maxEntries: 1000, sampleSize: 20 });
 */
export async function walkTar(read: RangeRead, options: TarWalkOptions): Promise<TarListing> {
  const listing: TarListing = { entries: 0, totalSize: 0, sample: [], nestedArchives: 0, incomplete: true };
  let offset = 0;
  let longName: string | undefined;
  let pax = new Map<string, string>();
  // A budget that refuses any read, a header's or a long name's, ends the walk but keeps its listing.
  const readWithinBudget = stopAtReadLimit(read, listing);
  const boundedStop = () => {
    listing.stopReason = `listing stopped after ${listing.entries} entries to bound reads; counts extrapolated`;
    listing.offset = offset;
    listing.boundedByReads = true;
    return listing;
  };
  for (;;) {
    if (options.readAllowanceSpent?.()) return boundedStop();
    const header = await readWithinBudget(offset, BLOCK);
    if (!header) return listing;
    if (header.byteLength < BLOCK) {
      // Data that ends because its reader was bounded (an inflated prefix) is not a truncated archive.
      if (options.readAllowanceSpent?.()) return boundedStop();
      if (header.byteLength > 0) {
        listing.stopReason = `archive ends inside the header at byte ${offset} (truncated)`;
        listing.truncated = true;
      } else {
        listing.stopReason = "archive ends without an end-of-archive marker";
        listing.endOfData = offset;
      }
      return listing;
    }
    if (header.every((byte) => byte === 0)) {
      listing.incomplete = false;
      return listing;
    }
    if (!isTarHeader(header)) {
      if (offset === 0) throw new ContentError("not a tar archive: bad header checksum");
      listing.stopReason = `bad tar header checksum at byte ${offset}`;
      return listing;
    }
    // Checked here, past the end-of-archive marker, so that an archive of exactly the budget is whole.
    if (listing.entries >= options.maxEntries) {
      listing.stopReason = `listing stopped at the entry budget of ${options.maxEntries}`;
      listing.limit = "entries";
      return listing;
    }
    const type = String.fromCharCode(header[156] ?? 0);
    const declared = octal(header.subarray(124, 136));
    const size = pax.has("size") ? Number(pax.get("size")) : declared;
    if (!Number.isFinite(size) || size < 0 || size > MAX_ENTRY_SIZE) {
      listing.stopReason = `implausible entry size at byte ${offset}`;
      return listing;
    }
    let bodyOffset = offset + BLOCK;
    // An old GNU sparse file ('S') whose map outgrows its header goes on in 512-byte blocks before its data.
    if (type === "S" && header[GNU_SPARSE_EXTENDED] !== 0) {
      for (let extended = true, blocks = 0; extended; blocks++) {
        if (blocks >= MAX_SPARSE_BLOCKS) {
          listing.stopReason = `implausible sparse map at byte ${offset}`;
          return listing;
        }
        const block = await readWithinBudget(bodyOffset, BLOCK);
        if (!block) return listing;
        if (block.byteLength < BLOCK) {
          listing.stopReason = `archive ends inside a sparse map at byte ${bodyOffset} (truncated)`;
          listing.truncated = true;
          return listing;
        }
        extended = block[GNU_SPARSE_BLOCK_EXTENDED] !== 0;
        bodyOffset += BLOCK;
      }
    }
    offset = bodyOffset + Math.ceil(size / BLOCK) * BLOCK;
    if (type === "L" || type === "x") {
      // Metadata for the next header: its long name (GNU) or its pax records. Small by nature.
      const body = await readWithinBudget(bodyOffset, Math.min(size, 64 * 1024));
      if (!body) return listing;
      if (type === "L") longName = nameText(body);
      else pax = paxRecords(body);
      continue;
    }
    if (type === "K" || type === "g") continue;
    const magic = text(header.subarray(257, 263));
    const prefix = magic.startsWith("ustar") ? nameText(header.subarray(345, 500)) : "";
    const base = nameText(header.subarray(0, 100));
    // A pax sparse file (GNU tar's formats 0.1 and 1.0) keeps its real name and size in its records.
    const name =
      pax.get("GNU.sparse.name") ?? pax.get("path") ?? longName ?? (prefix ? `${prefix}/${base}` : base);
    listing.entries += 1;
    options.onEntry?.({ name, type, bodyOffset, size });
    if (type === "0" || type === "\0" || type === "7") {
      const real = Number(pax.get("GNU.sparse.realsize") ?? pax.get("GNU.sparse.size") ?? size);
      listing.totalSize += Number.isFinite(real) && real >= 0 && real <= MAX_ENTRY_SIZE ? real : size;
    } else if (type === "S") {
      // The size field counts the data stored; the file it makes is its real size.
      const real = octal(header.subarray(GNU_SPARSE_REAL_SIZE, GNU_SPARSE_REAL_SIZE + 12));
      listing.totalSize += Number.isFinite(real) && real >= size && real <= MAX_ENTRY_SIZE ? real : size;
    }
    if (isArchiveName(name)) listing.nestedArchives += 1;
    if (listing.sample.length < options.sampleSize) {
      const clean = cleanString(name);
      if (clean) listing.sample.push(clean);
    }
    longName = undefined;
    pax = new Map();
  }
}

/** Which entries' bodies {@link walkTarKeeping} keeps, and where it gives them. */
export interface TarBodies {
  wanted(name: string): boolean;
  /** Bytes of a body kept at most. */
  maxBytes: number;
  take(name: string, body: Uint8Array): void;
}

/**
 * {@link walkTar} over a forward-only read (a stream as it decompresses),
 * handing over the body of each wanted entry as the walk passes it: the body
 * is read on the way to the next header, since the read never goes back.
 *
 * @example
 * await walkTarKeeping(read, { maxEntries: 10_000, sampleSize: 0 }, { wanted: (name) => name === "./control", maxBytes: 1 << 18, take: (_, body) => { control = body; } });
 */
export async function walkTarKeeping(
  read: RangeRead,
  options: TarWalkOptions,
  bodies: TarBodies,
): Promise<TarListing> {
  let pending: TarEntry | undefined;
  const takePending = async () => {
    if (!pending) return;
    const entry = pending;
    pending = undefined;
    const body = await read(entry.bodyOffset, Math.min(entry.size, bodies.maxBytes));
    bodies.take(entry.name, body.slice());
  };
  const listing = await walkTar(
    async (offset, length) => {
      await takePending();
      return read(offset, length);
    },
    {
      ...options,
      onEntry: (entry) => {
        options.onEntry?.(entry);
        if (bodies.wanted(entry.name)) pending = entry;
      },
    },
  );
  await takePending();
  return listing;
}
