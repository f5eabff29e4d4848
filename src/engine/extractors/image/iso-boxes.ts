import type { BlockReader } from "../../byte-source/block-reader.js";
import { ContentError, LimitExceededError, type LimitKind } from "../../errors.js";
import { boundedLength, MAX_STRUCTURE_BYTES } from "../../limits.js";
import type { ExtractContext } from "../extractor.js";
import { fourCC, readExactly, viewOf } from "./byte-reading.js";

/** One box (ISO BMFF / JPEG 2000 / JPEG XL container) at its place in the file. */
export interface Box {
  type: string;
  /** Offset of the box header. */
  offset: number;
  /** Offset of the payload (after the 8- or 16-byte header). */
  start: number;
  /** Offset just past the box. */
  end: number;
}

/**
 * Boxes one listing keeps. The cap is on boxes kept, not walked: a JPEG XL
 * may split its codestream over hundreds of `jxlp` boxes and put its `Exif`
 * box after them, and walking past a box costs one small header read, which
 * the request and byte budgets bound. Keeping only the types asked for
 * bounds memory whatever the file holds.
 */
const MAX_KEPT_BOXES = 256;

/** What to keep from a listing, and how many box headers to walk at most. */
export interface BoxListOptions {
  /** Box types kept; the others are walked past. */
  keep: readonly string[];
  /** Box headers walked before the listing stops (the budget's `maxEntries`). */
  maxWalked: number;
}

/**
 * How a walk over a file's top-level boxes ended early, when a bound ended it
 * (boxes walked or kept, or a read the budget refused): a box sought may lie
 * past where it stopped. Both walkers, this module's listing and the movie
 * walk of media/iso-bmff.ts, report it so.
 */
export interface BoxWalkEnd {
  /** Where the walk stopped and why. */
  stopped?: string;
  /** The bound named in `stopped`. */
  limit?: LimitKind;
}

/**
 * The end of a walk that `limit` stopped at byte `offset` of a file of `size` bytes.
 *
 * @example
 * boxWalkStopped(4096, 9000, "entry budget of 10 boxes reached", "entries").stopped
 * // "box listing stopped at byte 4096 of 9000: entry budget of 10 boxes reached"
 */
export function boxWalkStopped(offset: number, size: number, why: string, limit: LimitKind): BoxWalkEnd {
  return { stopped: `box listing stopped at byte ${offset} of ${size}: ${why}`, limit };
}

/** Tells the extraction that a bound ended a box walk of a `format` file: a warning, and the limit. */
export function noteBoxWalkEnd(ctx: ExtractContext, format: string, end: BoxWalkEnd): void {
  if (end.stopped) ctx.warn(`${format}: ${end.stopped}; boxes past it were not looked at`);
  if (end.limit) ctx.reader.noteLimit(end.limit);
}

/** The top-level boxes asked for, and why the list stopped before the end of the file. */
export interface BoxList extends BoxWalkEnd {
  boxes: Box[];
  /** Set when a box header is cut short, or a box is smaller than its header or ends past the file. */
  truncated?: string;
}

/**
 * Lists the top-level boxes of the types in `keep` by reading their 8-16 byte
 * headers only, so the media data between them is skipped, not read. A box
 * that runs past the end of the file means the file was cut short; the boxes
 * before it are still listed. A bound that ends the walk early (boxes walked
 * or kept, or a read the budget refuses) ends it with what was found, and
 * `stopped` says where.
 *
 * @example
 * const { boxes, stopped } = await listTopLevelBoxes(ctx.reader, { keep: ["Exif"], maxWalked: 100_000 });
 * const exifBox = boxes.find((box) => box.type === "Exif");
 */
export async function listTopLevelBoxes(reader: BlockReader, options: BoxListOptions): Promise<BoxList> {
  const boxes: Box[] = [];
  let offset = 0;
  let walked = 0;
  const stop = (why: string, limit: LimitKind): BoxList => ({
    boxes,
    ...boxWalkStopped(offset, reader.size, why, limit),
  });
  while (offset < reader.size) {
    if (walked >= options.maxWalked) return stop(`entry budget of ${walked} boxes reached`, "entries");
    if (reader.size - offset < 8) return { boxes, truncated: `box header cut short at offset ${offset}` };
    let header: Uint8Array;
    let large: DataView | undefined;
    try {
      header = await readExactly(reader, offset, 8, "box header");
      if (viewOf(header).getUint32(0) === 1)
        large = viewOf(await readExactly(reader, offset + 8, 8, "box size"));
    } catch (error) {
      if (!(error instanceof LimitExceededError)) throw error;
      return stop(error.message, error.limit);
    }
    const type = fourCC(header, 4);
    let size = viewOf(header).getUint32(0);
    let headerSize = 8;
    if (large) {
      size = large.getUint32(0) * 2 ** 32 + large.getUint32(4);
      headerSize = 16;
    } else if (size === 0) {
      size = reader.size - offset; // the last box runs to the end of the file
    }
    if (size < headerSize) return { boxes, truncated: `box '${type}' at offset ${offset} has size ${size}` };
    const end = offset + size;
    if (end > reader.size) {
      return {
        boxes,
        truncated: `box '${type}' at offset ${offset} ends at ${end}, past the end of the file`,
      };
    }
    walked += 1;
    if (options.keep.includes(type)) {
      if (boxes.length >= MAX_KEPT_BOXES) return stop(`more than ${MAX_KEPT_BOXES} boxes kept`, "entries");
      boxes.push({ type, offset, start: offset + headerSize, end });
    }
    offset = end;
  }
  return { boxes };
}

/** Child boxes inside a payload already in memory; `base` is the payload's offset in the file. */
export function childBoxes(bytes: Uint8Array, from: number, base: number): Box[] {
  const view = viewOf(bytes);
  const boxes: Box[] = [];
  let offset = from;
  while (offset + 8 <= bytes.byteLength) {
    let size = view.getUint32(offset);
    let headerSize = 8;
    if (size === 1 && offset + 16 <= bytes.byteLength) {
      size = view.getUint32(offset + 8) * 2 ** 32 + view.getUint32(offset + 12);
      headerSize = 16;
    } else if (size === 0) {
      size = bytes.byteLength - offset;
    }
    if (size < headerSize || offset + size > bytes.byteLength) break;
    boxes.push({
      type: fourCC(bytes, offset + 4),
      offset: base + offset,
      start: base + offset + headerSize,
      end: base + offset + size,
    });
    offset += size;
  }
  return boxes;
}

/** Where one HEIF item's bytes are. */
export interface ItemLocation {
  offset: number;
  length: number;
}

/**
 * Finds the Exif item of a HEIF/AVIF `meta` box (its payload in `meta`, which
 * starts at file offset `base`): `iinf` names the item, `iloc` places it.
 * Only items stored in the file itself (construction method 0, one extent)
 * are followed.
 */
export function exifItemLocation(meta: Uint8Array, base: number): ItemLocation | undefined {
  // meta is a FullBox: 4 bytes of version and flags before its children.
  const children = childBoxes(meta, 4, base);
  const iinf = children.find((box) => box.type === "iinf");
  const iloc = children.find((box) => box.type === "iloc");
  if (!iinf || !iloc) return undefined;
  const slice = (box: Box) => meta.subarray(box.start - base, box.end - base);
  const itemId = exifItemId(slice(iinf));
  if (itemId === undefined) return undefined;
  return itemLocation(slice(iloc), itemId);
}

function exifItemId(iinf: Uint8Array): number | undefined {
  const view = viewOf(iinf);
  if (iinf.byteLength < 6) return undefined;
  const version = view.getUint8(0);
  const first = version === 0 ? 6 : 8;
  for (const infe of childBoxes(iinf, first, 0)) {
    if (infe.type !== "infe") continue;
    const at = infe.start;
    const infeVersion = view.getUint8(at);
    if (infeVersion < 2) continue;
    const idSize = infeVersion === 2 ? 2 : 4;
    if (at + 4 + idSize + 2 + 4 > infe.end) continue;
    const id = idSize === 2 ? view.getUint16(at + 4) : view.getUint32(at + 4);
    if (fourCC(iinf, at + 4 + idSize + 2) === "Exif") return id;
  }
  return undefined;
}

function itemLocation(iloc: Uint8Array, wanted: number): ItemLocation | undefined {
  const view = viewOf(iloc);
  let at = 0;
  const need = (bytes: number) => {
    if (at + bytes > iloc.byteLength) throw new ContentError("HEIF: item location box cut short");
  };
  const readSized = (size: number): number => {
    need(size);
    let value = 0;
    for (let i = 0; i < size; i++) value = value * 256 + view.getUint8(at + i);
    at += size;
    return value;
  };
  const version = readSized(1);
  at += 3; // flags
  const sizes = readSized(1);
  const offsetSize = sizes >> 4;
  const lengthSize = sizes & 0x0f;
  const sizes2 = readSized(1);
  const baseOffsetSize = sizes2 >> 4;
  const indexSize = version === 1 || version === 2 ? sizes2 & 0x0f : 0;
  const itemCount = readSized(version < 2 ? 2 : 4);
  for (let item = 0; item < itemCount; item++) {
    const id = readSized(version < 2 ? 2 : 4);
    const constructionMethod = version === 1 || version === 2 ? readSized(2) & 0x0f : 0;
    readSized(2); // data reference index
    const baseOffset = readSized(baseOffsetSize);
    const extentCount = readSized(2);
    const extents: ItemLocation[] = [];
    for (let extent = 0; extent < extentCount; extent++) {
      if (indexSize > 0) readSized(indexSize);
      const offset = readSized(offsetSize);
      const length = readSized(lengthSize);
      extents.push({ offset: baseOffset + offset, length });
    }
    if (id === wanted) {
      if (constructionMethod !== 0 || extents.length !== 1) return undefined;
      return extents[0];
    }
  }
  return undefined;
}

/**
 * The TIFF structure inside an Exif item or box: a 4-byte offset to the TIFF
 * header, then (for some writers) an "Exif\0\0" marker before it.
 */
export async function readExifPayload(
  reader: BlockReader,
  location: ItemLocation,
): Promise<Uint8Array | undefined> {
  const length = boundedLength(location.length, MAX_STRUCTURE_BYTES, "Exif item");
  if (length <= 4) return undefined;
  const bytes = await readExactly(reader, location.offset, length, "Exif item");
  const skip = viewOf(bytes).getUint32(0);
  if (4 + skip >= bytes.byteLength) return undefined;
  return bytes.subarray(4 + skip);
}
