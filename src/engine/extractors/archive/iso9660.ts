/**
 * ISO 9660 images (.iso: CD and DVD images, installation media): the volume
 * descriptors from sector 16 on (the primary one's label, publisher,
 * application and dates; a Joliet supplementary one's long names), then the
 * directory tree, one read per directory, for the listing. Names come from
 * the Joliet tree when there is one, else from Rock Ridge `NM` entries, else
 * the 8.3 names themselves, as libarchive's bsdtar reads them. A tree of more
 * than 256 directories (or 16 MiB of them) is listed that far, `estimated`.
 * Written by hand: the format is fixed-offset records (ECMA-119), and the npm
 * readers of ISO images read whole files or do not list.
 */
import type { BlockReader } from "../../byte-source/block-reader.js";
import { ContentError } from "../../errors.js";
import { cleanString } from "../../limits.js";
import type { ArchiveInfo } from "../../types.js";
import { u32 } from "../bytes.js";
import { isArchiveName } from "./archive-names.js";

const SECTOR = 2048;
const DESCRIPTORS_START = 16 * SECTOR;
/** Descriptors read at most before the set terminator; real images have two to four. */
const MAX_DESCRIPTORS = 32;
const TYPE_PRIMARY = 1;
const TYPE_SUPPLEMENTARY = 2;
const TYPE_TERMINATOR = 255;
/** Joliet's escape sequences, UCS-2 levels 1 to 3 (at byte 88 of a supplementary descriptor). */
const JOLIET_ESCAPES = ["%/@", "%/C", "%/E"];
/** Directories read at most: one request each when the image is read by ranges. */
const MAX_DIRECTORY_READS = 256;
/** Bytes of one directory read at most; a directory of thousands of files is a few hundred KiB. */
const MAX_DIRECTORY_BYTES = 4 * 1024 * 1024;
/** Bytes of all directories read at most, whatever their number. */
const MAX_DIRECTORIES_BYTES = 16 * 1024 * 1024;

/** What the primary volume descriptor says of the image. */
export interface IsoVolume {
  label?: string;
  publisher?: string;
  application?: string;
  created?: string;
  modified?: string;
}

interface Directory {
  extent: number;
  length: number;
  path: string;
}

export interface IsoListing {
  volume: IsoVolume;
  entries: number;
  totalSize: number;
  sample: string[];
  nestedArchives: number;
  /** Why the listing stopped before the whole tree, when it did. */
  stopReason?: string;
}

function ascii(bytes: Uint8Array): string {
  return String.fromCharCode(...bytes);
}

/** A descriptor's d-characters, space-padded. */
function field(bytes: Uint8Array, at: number, length: number): string | undefined {
  return cleanString(ascii(bytes.subarray(at, at + length)).trim()) || undefined;
}

/**
 * A descriptor's 17-byte date ("YYYYMMDDHHMMSScc" and a signed offset from
 * GMT in 15-minute steps), as ISO 8601 in UTC; undefined when unset (zeros).
 */
function descriptorDate(bytes: Uint8Array, at: number): string | undefined {
  const digits = ascii(bytes.subarray(at, at + 16));
  const match = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})\d{2}$/.exec(digits);
  if (!match || match[1] === "0000") return undefined;
  const [, year, month, day, hour, minute, second] = match.map(Number) as number[];
  const offset = ((bytes[at + 16] ?? 0) << 24) >> 24;
  const time =
    Date.UTC(year as number, (month as number) - 1, day, hour, minute, second) - offset * 15 * 60_000;
  const date = new Date(time);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString().replace(".000Z", "Z");
}

/** The root directory record of a descriptor (at byte 156): its extent and length. */
function rootOf(descriptor: Uint8Array): Directory {
  return { extent: u32(descriptor, 156 + 2), length: u32(descriptor, 156 + 10), path: "" };
}

/** A Rock Ridge alternate name (`NM` entries, joined) from a record's system use area. */
function rockRidgeName(area: Uint8Array): string | undefined {
  let name: number[] | undefined;
  for (let at = 0; at + 4 <= area.byteLength; ) {
    const length = area[at + 2] as number;
    if (length < 4 || at + length > area.byteLength) break;
    if (area[at] === 0x4e && area[at + 1] === 0x4d) {
      // NM: version, flags (bit 1 ".", bit 2 "..": not a name), then the name's bytes.
      const flags = area[at + 4] as number;
      if ((flags & 0x06) === 0) name = [...(name ?? []), ...area.subarray(at + 5, at + length)];
    }
    at += length;
  }
  return name ? new TextDecoder().decode(Uint8Array.from(name)) : undefined;
}

/** A record's name as written: UCS-2 big-endian in a Joliet tree, else ASCII with its ";1" version cut. */
function recordName(raw: Uint8Array, joliet: boolean): string {
  if (joliet) {
    let text = "";
    for (let i = 0; i + 1 < raw.byteLength; i += 2)
      text += String.fromCharCode(((raw[i] as number) << 8) | (raw[i + 1] as number));
    return text.replace(/;\d+$/, "");
  }
  return ascii(raw).replace(/;\d+$/, "").replace(/\.$/, "");
}

/**
 * Lists an ISO 9660 image: its volume's facts and its files and folders,
 * walked breadth-first from the root, within the entry budget and
 * {@link MAX_DIRECTORY_READS} directories.
 */
export async function readIso9660(
  reader: BlockReader,
  options: { maxEntries: number; sampleSize: number },
): Promise<IsoListing> {
  let primary: Uint8Array | undefined;
  let joliet: Uint8Array | undefined;
  for (let i = 0; i < MAX_DESCRIPTORS; i++) {
    const offset = DESCRIPTORS_START + i * SECTOR;
    if (offset + SECTOR > reader.size) break;
    const descriptor = await reader.read(offset, SECTOR);
    if (ascii(descriptor.subarray(1, 6)) !== "CD001") break;
    const type = descriptor[0];
    if (type === TYPE_TERMINATOR) break;
    if (type === TYPE_PRIMARY) primary ??= descriptor;
    if (type === TYPE_SUPPLEMENTARY && JOLIET_ESCAPES.includes(ascii(descriptor.subarray(88, 91))))
      joliet ??= descriptor;
  }
  if (!primary) throw new ContentError("ISO 9660 image has no primary volume descriptor");
  const volume: IsoVolume = {};
  const set = (key: keyof IsoVolume, value: string | undefined) => {
    if (value) volume[key] = value;
  };
  set("label", field(primary, 40, 32));
  set("publisher", field(primary, 318, 128));
  set("application", field(primary, 574, 128));
  set("created", descriptorDate(primary, 813));
  set("modified", descriptorDate(primary, 830));

  const listing: IsoListing = { volume, entries: 0, totalSize: 0, sample: [], nestedArchives: 0 };
  const useJoliet = joliet !== undefined;
  const queue: Directory[] = [rootOf(joliet ?? primary)];
  const seen = new Set<number>();
  let reads = 0;
  let bytesRead = 0;
  while (queue.length > 0) {
    const directory = queue.shift() as Directory;
    if (seen.has(directory.extent)) continue;
    seen.add(directory.extent);
    if (reads >= MAX_DIRECTORY_READS || bytesRead >= MAX_DIRECTORIES_BYTES) {
      listing.stopReason = `listing stopped after ${reads} directories to bound reads`;
      return listing;
    }
    reads++;
    const start = directory.extent * SECTOR;
    if (start >= reader.size) {
      listing.stopReason = `directory ${directory.path || "/"} lies past the end of the image (truncated)`;
      return listing;
    }
    const bytes = await reader.read(
      start,
      Math.min(directory.length, MAX_DIRECTORY_BYTES, reader.size - start),
    );
    bytesRead += bytes.byteLength;
    let pendingSize = 0;
    for (let at = 0; at < bytes.byteLength; ) {
      const length = bytes[at] as number;
      if (length === 0) {
        // Records never cross a sector: the rest of this one is padding.
        at = (Math.floor(at / SECTOR) + 1) * SECTOR;
        continue;
      }
      if (length < 34 || at + length > bytes.byteLength) {
        listing.stopReason = `damaged directory record in ${directory.path || "/"}`;
        return listing;
      }
      const record = bytes.subarray(at, at + length);
      at += length;
      const nameLength = record[32] as number;
      const raw = record.subarray(33, 33 + nameLength);
      if (nameLength === 1 && ((raw[0] as number) === 0 || (raw[0] as number) === 1)) continue;
      const flags = record[25] as number;
      const size = u32(record, 10);
      // A file of several extents has a record for each; all but the last set bit 7.
      if ((flags & 0x80) !== 0) {
        pendingSize += size;
        continue;
      }
      const systemUse = record.subarray(33 + nameLength + (nameLength % 2 === 0 ? 1 : 0));
      const name = (useJoliet ? undefined : rockRidgeName(systemUse)) ?? recordName(raw, useJoliet);
      const path = `${directory.path}${name}`;
      if (listing.entries >= options.maxEntries) {
        listing.stopReason = `listing stopped at the entry budget of ${options.maxEntries}`;
        return listing;
      }
      listing.entries++;
      if ((flags & 0x02) !== 0) {
        queue.push({ extent: u32(record, 2), length: size, path: `${path}/` });
      } else {
        listing.totalSize += pendingSize + size;
        if (isArchiveName(name)) listing.nestedArchives++;
      }
      pendingSize = 0;
      if (listing.sample.length < options.sampleSize) {
        const clean = cleanString(path);
        if (clean) listing.sample.push(clean);
      }
    }
  }
  return listing;
}

/** The archive section of an ISO image, from {@link readIso9660}. */
export function isoArchive(listing: IsoListing): ArchiveInfo {
  return {
    kind: "iso9660",
    entries: listing.entries,
    uncompressedSize: listing.totalSize,
    encrypted: false,
    sample: listing.sample,
    nestedArchives: listing.nestedArchives,
    ...listing.volume,
    ...(listing.stopReason && { estimated: true }),
  };
}
