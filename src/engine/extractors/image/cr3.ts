import type { BlockReader } from "../../byte-source/block-reader.js";
import { ContentError } from "../../errors.js";
import { boundedLength, MAX_STRUCTURE_BYTES } from "../../limits.js";
import { readExactly, viewOf } from "./byte-reading.js";
import { type Box, type BoxList, childBoxes } from "./iso-boxes.js";

/** Canon's metadata box inside `moov`: uuid 85c0b687-820f-11e0-8111-f4ce462b6a48. */
const CANON_UUID = [
  0x85, 0xc0, 0xb6, 0x87, 0x82, 0x0f, 0x11, 0xe0, 0x81, 0x11, 0xf4, 0xce, 0x46, 0x2b, 0x6a, 0x48,
] as const;

/** The TIFF structures a CR3 keeps in its Canon `uuid` box, each a complete TIFF block. */
export interface Cr3Metadata {
  /** CMT1: IFD0 (Make, Model, Orientation, ImageWidth/ImageHeight). */
  ifd0?: Uint8Array;
  /** CMT2: the Exif IFD (dates, exposure, lens), as the first directory of its own block. */
  exifIfd?: Uint8Array;
  /** CMT4: the GPS IFD, likewise. */
  gpsIfd?: Uint8Array;
  /** Set when the box listing stops at a box that runs past the end of the file. */
  truncated?: string;
}

/**
 * Finds the CMT1/CMT2/CMT4 boxes of a Canon CR3 (ISO BMFF, brand "crx "):
 * `moov`, found in the top-level box listing, holds Canon's `uuid` box, whose
 * children are TIFF blocks. Only `moov` is read; the image data is skipped.
 *
 * @example
 * const list = await listTopLevelBoxes(ctx.reader, { keep: ["moov"], maxWalked: ctx.budget.maxEntries });
 * const { ifd0, exifIfd } = await readCr3Metadata(ctx.reader, list);
 */
export async function readCr3Metadata(reader: BlockReader, list: BoxList): Promise<Cr3Metadata> {
  const { boxes, truncated } = list;
  const moov = boxes.find((box) => box.type === "moov");
  if (!moov) {
    if (truncated) throw new ContentError(`truncated: ${truncated}`);
    throw new ContentError("CR3: no moov box");
  }
  const length = boundedLength(moov.end - moov.offset, MAX_STRUCTURE_BYTES, "CR3 moov box");
  const bytes = await readExactly(reader, moov.offset, length, "CR3 moov box");
  const payload = (box: Box) => bytes.subarray(box.start - moov.offset, box.end - moov.offset);
  const canon = childBoxes(bytes, moov.start - moov.offset, moov.offset).find(
    (box) =>
      box.type === "uuid" && CANON_UUID.every((byte, i) => bytes[box.start - moov.offset + i] === byte),
  );
  if (!canon) throw new ContentError("CR3: no Canon metadata box in moov");
  const metadata: Cr3Metadata = truncated ? { truncated } : {};
  const children = childBoxes(payload(canon), CANON_UUID.length, canon.start);
  for (const box of children) {
    if (box.type === "CMT1") metadata.ifd0 ??= payload(box);
    else if (box.type === "CMT2") metadata.exifIfd ??= asSubIfd(payload(box), EXIF_IFD_POINTER);
    else if (box.type === "CMT4") metadata.gpsIfd ??= asSubIfd(payload(box), GPS_IFD_POINTER);
  }
  return metadata;
}

const EXIF_IFD_POINTER = 0x8769;
const GPS_IFD_POINTER = 0x8825;

/**
 * CMT2 and CMT4 are TIFF blocks whose first directory is the Exif (or GPS)
 * IFD, where exifr would read the tags as IFD0 tags and leave them unnamed.
 * Appending an IFD0 that points to that directory, and pointing the header
 * at it, makes it a sub-IFD; no other offset moves.
 */
function asSubIfd(block: Uint8Array, pointerTag: number): Uint8Array | undefined {
  if (block.byteLength < 8) return undefined;
  const order = viewOf(block).getUint16(0);
  if (order !== 0x4949 && order !== 0x4d4d) return undefined;
  const little = order === 0x4949;
  // An IFD starts on a word boundary.
  const ifd0 = block.byteLength + (block.byteLength % 2);
  const out = new Uint8Array(ifd0 + 2 + 12 + 4);
  out.set(block);
  const view = viewOf(out);
  const original = view.getUint32(4, little);
  view.setUint32(4, ifd0, little);
  view.setUint16(ifd0, 1, little);
  view.setUint16(ifd0 + 2, pointerTag, little);
  view.setUint16(ifd0 + 4, 4, little); // LONG
  view.setUint32(ifd0 + 6, 1, little);
  view.setUint32(ifd0 + 10, original, little);
  view.setUint32(ifd0 + 14, 0, little); // no next directory
  return out;
}
