/**
 * cpio (portable ASCII "odc" and "newc") header walk, skipping bodies by
 * seeking. Hand-written: no npm cpio reader seeks. The old binary format is
 * recognised by the caller and reported by kind only.
 */

import { ContentError, LimitExceededError } from "../../errors.js";
import { boundedLength, cleanString } from "../../limits.js";
import { textDecoder } from "../../text-decoder.js";
import { utf8OrLatin1 } from "../bytes.js";
import { isArchiveName } from "./archive-names.js";
import { type RangeRead, stopAtReadLimit, type TarListing, type TarWalkOptions } from "./tar.js";

const TRAILER = "TRAILER!!!";
/** Longest name a header may declare (Linux's PATH_MAX, NUL included); a longer one is damage. */
const MAX_NAME_BYTES = 4096;

function field(header: Uint8Array, start: number, length: number, radix: 8 | 16): number {
  const digits = textDecoder("latin1").decode(header.subarray(start, start + length));
  const pattern = radix === 8 ? /^[0-7]+$/ : /^[0-9a-fA-F]+$/;
  if (!pattern.test(digits)) throw new ContentError(`bad cpio header field "${digits}"`);
  return Number.parseInt(digits, radix);
}

/**
 * Walks an ASCII cpio archive's headers up to the entry bound. A read the
 * byte, request or time budget refuses, or a damaged header past the first,
 * ends the walk with what it found and says why in `stopReason`.
 *
 * @example
 * const listing = await walkCpio((offset, length) => reader.read(offset, length), { maxEntries: 1000, sampleSize: 20 });
 */
export async function walkCpio(read: RangeRead, options: TarWalkOptions): Promise<TarListing> {
  const listing: TarListing = { entries: 0, totalSize: 0, sample: [], nestedArchives: 0, incomplete: true };
  let offset = 0;
  // A budget that refuses any read, a header's or a name's, ends the walk but keeps its listing.
  const readWithinBudget = stopAtReadLimit(read, listing);
  for (;;) {
    const header = await readWithinBudget(offset, 110);
    if (!header) return listing;
    const magic = textDecoder("latin1").decode(header.subarray(0, 6));
    const newc = magic === "070701" || magic === "070702";
    if (!newc && magic !== "070707") {
      if (offset === 0) throw new ContentError("not an ASCII cpio archive");
      // Every cpio ends with its TRAILER!!! entry: data that ends before it is cut short.
      listing.truncated = header.byteLength < 6;
      listing.stopReason = listing.truncated
        ? "archive ends without a trailer (truncated)"
        : `bad cpio header at byte ${offset}`;
      return listing;
    }
    const headerBytes = newc ? 110 : 76;
    if (header.byteLength < headerBytes) {
      listing.stopReason = "archive ends inside a header (truncated)";
      listing.truncated = true;
      return listing;
    }
    let nameSize: number;
    let fileSize: number;
    try {
      nameSize = boundedLength(
        newc ? field(header, 94, 8, 16) : field(header, 59, 6, 8),
        MAX_NAME_BYTES,
        "cpio name",
      );
      fileSize = newc ? field(header, 54, 8, 16) : field(header, 65, 11, 8);
    } catch (error) {
      // Damage past the first header ends the walk with what it found, as a bad tar header does.
      if (offset === 0 || !(error instanceof ContentError || error instanceof LimitExceededError))
        throw error;
      listing.stopReason = `${error.message} at byte ${offset}`;
      return listing;
    }
    const nameBytes = await readWithinBudget(offset + headerBytes, nameSize);
    if (!nameBytes) return listing;
    // No character set is stated: UTF-8 where the bytes are valid UTF-8, else Latin-1, as tar's names.
    const nameEnd = nameBytes.indexOf(0);
    const name = utf8OrLatin1(nameEnd < 0 ? nameBytes : nameBytes.subarray(0, nameEnd));
    if (name === TRAILER) {
      listing.incomplete = false;
      return listing;
    }
    // Checked past the trailer, so that an archive of exactly the budget is whole.
    if (listing.entries >= options.maxEntries) {
      listing.stopReason = `listing stopped at the entry budget of ${options.maxEntries}`;
      listing.limit = "entries";
      return listing;
    }
    listing.entries += 1;
    listing.totalSize += fileSize;
    if (isArchiveName(name)) listing.nestedArchives += 1;
    const clean = cleanString(name);
    if (clean && listing.sample.length < options.sampleSize) listing.sample.push(clean);
    const pad = (n: number) => (newc ? Math.ceil(n / 4) * 4 : n);
    offset = pad(offset + headerBytes + nameSize) + pad(fileSize);
  }
}
