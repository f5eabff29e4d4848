import type { BlockReader, ByteRange } from "../../byte-source/block-reader.js";
import { ContentError, LimitExceededError } from "../../errors.js";
import { boundedLength, cleanString } from "../../limits.js";
import { textDecoder } from "../../text-decoder.js";
import type { ExifInfo } from "../../types.js";
import { readExactly, viewOf } from "./byte-reading.js";
import { RECORD_TAGS } from "./exif.js";
import { MAX_XMP_PACKET_BYTES } from "./xmp.js";

/** What a TIFF (or TIFF-based RAW) says about its main image. */
export interface TiffHeader {
  /** Absent only when no directory states a size (some RAW variants keep it in maker tags). */
  width?: number;
  height?: number;
  bitDepth?: number;
  colorType?: string;
  orientation?: number;
  /** IFD0's own Make/Model/Software, read without exifr (see {@link readTiffHeader}). */
  strings: Pick<ExifInfo, "make" | "model" | "software">;
  /** Directories in the main chain; undefined when the chain loops or is longer than we follow. */
  pages?: number;
  /** Where the main image's first or last strip or tile ends, whichever is further: past the file's end, the file is cut. */
  dataEnd?: number;
  /**
   * The bytes exifr needs: the head of the file, then copies of the IFD0,
   * Exif and GPS directories and of the values the record uses that lie past it.
   */
  exif: Uint8Array;
  /** Where IFD0's XMP packet (tag 700) lies, within the file (read only if needed). */
  xmp?: ByteRange;
}

/** Entries one directory may declare (real files stay in the low hundreds). */
const MAX_IFD_ENTRIES = 4096;
/** Directories followed along the main chain (pages of a multi-page TIFF). */
const MAX_TIFF_PAGES = 64;
/** SubIFDs of IFD0 looked at when choosing the full-resolution image (DNG, ARW, NEF). */
const MAX_SUB_IFDS = 8;
/** Longest IFD0 string read directly. */
const MAX_ASCII_BYTES = 256;
/** Head handed to exifr; IFD0 and the Exif IFD of RAW files sit well inside it. */
export const TIFF_EXIF_HEAD_BYTES = 128 * 1024;
/**
 * Bytes of directories and values copied for exifr from past the head: the
 * record's values are strings of at most a few hundred bytes and rationals.
 */
const MAX_FAR_BYTES = 256 * 1024;
/** Values copied for exifr from past the head (the record uses about twenty tags). */
const MAX_FAR_VALUES = 64;

const TAG = {
  newSubfileType: 254,
  width: 256,
  height: 257,
  bitsPerSample: 258,
  photometric: 262,
  orientation: 274,
  make: 271,
  model: 272,
  software: 305,
  subIfds: 330,
  stripOffsets: 273,
  stripByteCounts: 279,
  tileOffsets: 324,
  tileByteCounts: 325,
  exifIfd: 34665,
  gpsIfd: 34853,
  xmp: 700,
  jpegXrWidth: 0xbc80,
  jpegXrHeight: 0xbc81,
  jpegXrImageOffset: 0xbcc0,
  jpegXrImageBytes: 0xbcc1,
  jpegXrAlphaOffset: 0xbcc2,
  jpegXrAlphaBytes: 0xbcc3,
} as const;

const TYPE_SIZES: Record<number, number> = {
  1: 1,
  2: 1,
  3: 2,
  4: 4,
  5: 8,
  6: 1,
  7: 1,
  8: 2,
  9: 4,
  10: 8,
  11: 4,
  12: 8,
  13: 4,
};

const PHOTOMETRIC: Record<number, string> = {
  0: "grayscale",
  1: "grayscale",
  2: "rgb",
  3: "palette",
  4: "mask",
  5: "cmyk",
  6: "ycbcr",
  8: "lab",
  32803: "cfa",
  34892: "linear-raw",
};

interface Entry {
  tag: number;
  /** Absolute offset of the 12-byte entry itself. */
  at: number;
  type: number;
  count: number;
  /** Absolute offset of the value: inside the entry when it fits in 4 bytes. */
  valueOffset: number;
  /** Bytes of the value. */
  size: number;
}

interface Directory {
  offset: number;
  /** Offset just past the entries and the next-directory pointer. */
  end: number;
  /** The first entry of each tag. */
  entries: Map<number, Entry>;
  /** Every entry, in file order (duplicates included). */
  all: Entry[];
  next: number;
}

/**
 * A TIFF directory walker over the reader. image-size's TIFF handler needs
 * IFD0 inside one contiguous buffer, and TIFF writers often put IFD0 at the
 * end of the file; this follows offsets with small ranged reads instead.
 */
class TiffWalker {
  constructor(
    private readonly reader: BlockReader,
    readonly littleEndian: boolean,
  ) {}

  async directory(offset: number): Promise<Directory> {
    const countBytes = await readExactly(this.reader, offset, 2, "TIFF directory");
    const count = boundedLength(
      viewOf(countBytes).getUint16(0, this.littleEndian),
      MAX_IFD_ENTRIES,
      "TIFF directory entries",
    );
    const bytes = await readExactly(this.reader, offset + 2, count * 12 + 4, "TIFF directory");
    const view = viewOf(bytes);
    const entries = new Map<number, Entry>();
    const all: Entry[] = [];
    for (let i = 0; i < count; i++) {
      const at = i * 12;
      const tag = view.getUint16(at, this.littleEndian);
      const type = view.getUint16(at + 2, this.littleEndian);
      const valueCount = view.getUint32(at + 4, this.littleEndian);
      const size = (TYPE_SIZES[type] ?? 1) * valueCount;
      const valueOffset = size <= 4 ? offset + 2 + at + 8 : view.getUint32(at + 8, this.littleEndian);
      const entry = { tag, at: offset + 2 + at, type, count: valueCount, valueOffset, size };
      all.push(entry);
      if (!entries.has(tag)) entries.set(tag, entry);
    }
    const end = offset + 2 + count * 12 + 4;
    return { offset, end, entries, all, next: view.getUint32(count * 12, this.littleEndian) };
  }

  /** An ASCII entry, bounded; undefined when absent or out of the file. */
  async ascii(directory: Directory, tag: number): Promise<string | undefined> {
    const entry = directory.entries.get(tag);
    if (entry?.type !== 2 || entry.count === 0) return undefined;
    const length = Math.min(entry.count, MAX_ASCII_BYTES);
    if (entry.valueOffset + length > this.reader.size) return undefined;
    const bytes = await readExactly(this.reader, entry.valueOffset, length, "TIFF string");
    return cleanString(textDecoder("latin1").decode(bytes));
  }

  /** The `index`th value of a SHORT/LONG entry. */
  async integer(directory: Directory, tag: number, index = 0): Promise<number | undefined> {
    const entry = directory.entries.get(tag);
    if (!entry || index >= entry.count) return undefined;
    const size = entry.type === 3 ? 2 : entry.type === 4 || entry.type === 13 ? 4 : 0;
    if (size === 0) return undefined;
    const bytes = viewOf(
      await readExactly(this.reader, entry.valueOffset + index * size, size, "TIFF value"),
    );
    return size === 2 ? bytes.getUint16(0, this.littleEndian) : bytes.getUint32(0, this.littleEndian);
  }
}

/**
 * Reads the TIFF header and directories of a TIFF or TIFF-based RAW (DNG,
 * NEF, ARW, CR2, ORF, RW2): the main image's size is that of the first
 * full-resolution directory (NewSubfileType bit 0 clear) among IFD0, its
 * SubIFDs and the rest of the chain, since RAW files keep a preview in IFD0;
 * when every directory is marked reduced, the largest one's.
 * Make, Model and Software are also read here, because exifr drops the whole
 * IFD0 when any value offset points past the end of a cut-short file.
 *
 * @example
 * const tiff = await readTiffHeader(ctx.reader, ctx.warn);
 * const { exif } = await readExif(tiff.exif, ctx.warn);
 */
export async function readTiffHeader(
  reader: BlockReader,
  warn: (message: string) => void,
): Promise<TiffHeader> {
  const header = await readExactly(reader, 0, 8, "TIFF header");
  const order = String.fromCharCode(header[0] ?? 0, header[1] ?? 0);
  if (order !== "II" && order !== "MM") throw new ContentError("TIFF: bad byte-order mark");
  const littleEndian = order === "II";
  const view = viewOf(header);
  const magic = view.getUint16(2, littleEndian);
  if (magic === 43) throw new ContentError("BigTIFF is not decoded");
  // 42 is TIFF; ORF uses 0x4F52/0x5352 and RW2 0x55 with the same layout.
  if (magic !== 42 && magic !== 0x4f52 && magic !== 0x5352 && magic !== 0x55) {
    throw new ContentError(`TIFF: unknown magic number ${magic}`);
  }
  const walker = new TiffWalker(reader, littleEndian);
  const ifd0 = await walker.directory(view.getUint32(4, littleEndian));

  const chain: Directory[] = [ifd0];
  const seen = new Set<number>([ifd0.offset]);
  let pages: number | undefined;
  for (let next = ifd0.next; ; ) {
    if (next === 0 || next >= reader.size) {
      pages = chain.length;
      break;
    }
    if (seen.has(next) || chain.length >= MAX_TIFF_PAGES) break;
    seen.add(next);
    chain.push(await walker.directory(next));
    next = (chain[chain.length - 1] as Directory).next;
  }

  const subIfds: Directory[] = [];
  const subEntry = ifd0.entries.get(TAG.subIfds);
  for (let i = 0; subEntry && i < Math.min(subEntry.count, MAX_SUB_IFDS); i++) {
    const offset = await walker.integer(ifd0, TAG.subIfds, i);
    if (offset !== undefined && offset > 0 && offset < reader.size)
      subIfds.push(await walker.directory(offset));
  }

  const candidates = [ifd0, ...subIfds, ...chain.slice(1)];
  let main: Directory | undefined;
  let mainSize: [number, number] | undefined;
  for (const directory of candidates) {
    const width = await walker.integer(directory, TAG.width);
    const height = await walker.integer(directory, TAG.height);
    if (!width || !height) continue;
    const subfile = (await walker.integer(directory, TAG.newSubfileType)) ?? 0;
    if ((subfile & 1) === 0) {
      main = directory;
      mainSize = [width, height];
      break;
    }
    if (!mainSize || width * height > mainSize[0] * mainSize[1]) {
      main = directory;
      mainSize = [width, height];
    }
  }

  const strings: TiffHeader["strings"] = {};
  for (const field of ["make", "model", "software"] as const) {
    const value = await walker.ascii(ifd0, TAG[field]);
    if (value !== undefined) strings[field] = value;
  }
  const result: TiffHeader = { exif: await exifBlock(reader, walker, ifd0, warn), strings };
  if (pages !== undefined) result.pages = pages;
  const xmp = ifd0.entries.get(TAG.xmp);
  if (xmp && xmp.size > 4 && xmp.valueOffset < reader.size) {
    const length = Math.min(xmp.size, MAX_XMP_PACKET_BYTES, reader.size - xmp.valueOffset);
    result.xmp = { offset: xmp.valueOffset, length };
  }
  const dataEnd = main && (await imageDataEnd(walker, main, reader.size));
  if (dataEnd !== undefined) result.dataEnd = dataEnd;
  const orientation = await walker.integer(ifd0, TAG.orientation);
  if (orientation !== undefined && orientation >= 1 && orientation <= 8) result.orientation = orientation;
  if (main && mainSize) {
    [result.width, result.height] = mainSize;
    const bits = await walker.integer(main, TAG.bitsPerSample);
    if (bits) result.bitDepth = bits;
    const photometric = await walker.integer(main, TAG.photometric);
    if (photometric !== undefined)
      result.colorType = PHOTOMETRIC[photometric] ?? `photometric ${photometric}`;
  }
  return result;
}

/**
 * Where a directory's image data ends, from its first and last strip or tile
 * (writers lay them out in order, so a cut file loses the last one first):
 * two values of each array rather than all of them, which can run to
 * thousands. An offset or count array that itself runs past the end of the
 * file ends where it does.
 */
async function imageDataEnd(
  walker: TiffWalker,
  directory: Directory,
  fileSize: number,
): Promise<number | undefined> {
  let end: number | undefined;
  for (const [offsetsTag, countsTag] of [
    [TAG.stripOffsets, TAG.stripByteCounts],
    [TAG.tileOffsets, TAG.tileByteCounts],
  ] as const) {
    const offsets = directory.entries.get(offsetsTag);
    const counts = directory.entries.get(countsTag);
    if (!offsets || !counts || offsets.count === 0) continue;
    const arraysEnd = Math.max(offsets.valueOffset + offsets.size, counts.valueOffset + counts.size);
    if (arraysEnd > fileSize) return arraysEnd;
    for (const index of new Set([0, offsets.count - 1])) {
      const offset = await walker.integer(directory, offsetsTag, index);
      const count = await walker.integer(directory, countsTag, index);
      if (offset !== undefined && count !== undefined) end = Math.max(end ?? 0, offset + count);
    }
  }
  return end;
}

/**
 * exifr reads one contiguous buffer and follows the file's own offsets, so it
 * gets the head of the file followed by copies of what the head misses: the
 * IFD0, Exif and GPS directories and those of their values the record uses
 * ({@link RECORD_TAGS}), wherever in the file they lie (writers put IFD0 after
 * the strips, or its strings before them), with the offsets pointing at them
 * rewritten. Written here because exifr has no ranged reader and no library
 * rewrites TIFF offsets. Other values past the head are not read: their
 * entries are emptied, so that exifr neither decodes zeros nor reports them
 * missing. A value past the end of the file stays as it is, for exifr's
 * reading to report. Copies stay within {@link MAX_FAR_BYTES} and
 * {@link MAX_FAR_VALUES}; a warning says what the budget left out.
 */
async function exifBlock(
  reader: BlockReader,
  walker: TiffWalker,
  ifd0: Directory,
  warn: (message: string) => void,
): Promise<Uint8Array> {
  const block = new RelocatedTiff(
    await reader.read(0, Math.min(reader.size, TIFF_EXIF_HEAD_BYTES)),
    walker.littleEndian,
  );
  const directories: { directory: Directory; wanted: ReadonlySet<number>; pointer?: Entry }[] = [
    { directory: ifd0, wanted: RECORD_TAGS.ifd0 },
  ];
  for (const [tag, wanted] of [
    [TAG.exifIfd, RECORD_TAGS.exif],
    [TAG.gpsIfd, RECORD_TAGS.gps],
  ] as const) {
    const pointer = ifd0.entries.get(tag);
    const offset = await walker.integer(ifd0, tag);
    if (!pointer || pointer.size > 4 || !offset || offset >= reader.size) continue;
    const directory = await directoryOrNone(walker, offset);
    if (directory) directories.push({ directory, wanted, pointer });
  }

  const budget = { bytes: MAX_FAR_BYTES, values: MAX_FAR_VALUES };
  const left = { values: 0, directories: 0 };
  let ifd0Shift = 0;
  for (const { directory, wanted, pointer } of directories) {
    // Where the directory's entries sit in the block, less where they sit in the file.
    let shift = 0;
    const length = directory.end - directory.offset;
    if (!block.holds(directory.offset, length)) {
      if (length > budget.bytes) {
        left.directories++;
        continue;
      }
      budget.bytes -= length;
      const at = block.append(await reader.read(directory.offset, length));
      shift = at - directory.offset;
      block.patch(pointer ? pointer.at + ifd0Shift + 8 : 4, at);
      // The next directory (IFD1, a thumbnail) is not decoded.
      block.patch(directory.end - 4 + shift, 0);
      if (!pointer) ifd0Shift = shift;
    }
    const far: Entry[] = [];
    for (const entry of directory.all) {
      const { valueOffset, size } = entry;
      if (size <= 4 || !(entry.type in TYPE_SIZES) || block.holds(valueOffset, size)) continue;
      if (valueOffset + size > reader.size) continue;
      if (wanted.has(entry.tag) && size <= budget.bytes && budget.values > 0) {
        budget.bytes -= size;
        budget.values--;
        far.push(entry);
        continue;
      }
      if (wanted.has(entry.tag)) left.values++;
      block.patch(entry.at + shift + 4, 0);
    }
    await reader.prefetch(far.map(({ valueOffset, size }) => ({ offset: valueOffset, length: size })));
    for (const entry of far) {
      const at = block.append(await reader.read(entry.valueOffset, entry.size));
      block.patch(entry.at + shift + 8, at);
    }
  }
  if (left.values > 0 || left.directories > 0) {
    const what = [
      left.directories > 0 && `${left.directories} director${left.directories === 1 ? "y" : "ies"}`,
      left.values > 0 && `${left.values} value${left.values === 1 ? "" : "s"}`,
    ].filter(Boolean);
    warn(
      `TIFF: ${what.join(" and ")} stored past the first ${TIFF_EXIF_HEAD_BYTES / 1024} KiB not read: ` +
        `the budget of ${MAX_FAR_VALUES} values and ${MAX_FAR_BYTES / 1024} KiB was reached`,
    );
  }
  return block.bytes();
}

/**
 * The head of a TIFF file with copies of far directories and values appended
 * after it, and 32-bit offsets in it rewritten to point at those copies.
 */
class RelocatedTiff {
  private readonly pieces: Uint8Array[] = [];
  private readonly patches: [at: number, value: number][] = [];
  private length: number;

  constructor(
    private readonly head: Uint8Array,
    private readonly littleEndian: boolean,
  ) {
    this.length = head.byteLength;
  }

  /** True when the file's bytes `[offset, offset + length)` lie in the head. */
  holds(offset: number, length: number): boolean {
    return offset >= 0 && offset + length <= this.head.byteLength;
  }

  /** Appends a copy of `bytes` at an even offset (TIFF values are word-aligned) and returns that offset. */
  append(bytes: Uint8Array): number {
    if (this.length % 2 === 1) {
      this.pieces.push(new Uint8Array(1));
      this.length++;
    }
    const at = this.length;
    this.pieces.push(bytes);
    this.length += bytes.byteLength;
    return at;
  }

  /** Overwrites the 32-bit value at `at` (an offset in the block) once the block is built. */
  patch(at: number, value: number): void {
    this.patches.push([at, value]);
  }

  bytes(): Uint8Array {
    const out = new Uint8Array(this.length);
    out.set(this.head, 0);
    let position = this.head.byteLength;
    for (const piece of this.pieces) {
      out.set(piece, position);
      position += piece.byteLength;
    }
    const view = viewOf(out);
    for (const [at, value] of this.patches) view.setUint32(at, value, this.littleEndian);
    return out;
  }
}

/**
 * An Exif or GPS directory, or none when it is cut short or states too many
 * entries: then it gets no window, and exifr judges what the head holds of it.
 */
async function directoryOrNone(walker: TiffWalker, offset: number): Promise<Directory | undefined> {
  try {
    return await walker.directory(offset);
  } catch (error) {
    if (error instanceof ContentError) return undefined;
    if (error instanceof LimitExceededError && error.limit === "length") return undefined;
    throw error;
  }
}

/** What a JPEG XR (HD Photo) container's first directory says about its main image. */
export interface JpegXrHeader {
  width: number;
  height: number;
  software?: string;
  /** Where the last coded plane (image or alpha) ends, when the directory places them. */
  dataEnd?: number;
}

/**
 * Reads a JPEG XR file's first directory. The container is TIFF's layout
 * with its own magic (little-endian "II" then 0x01BC) and its own size tags
 * (0xBC80/0xBC81), so the same directory walker serves; image-size does not
 * know the format.
 *
 * @example
 * const { width, height } = await readJpegXrHeader(ctx.reader); // 200 x 133
 */
export async function readJpegXrHeader(reader: BlockReader): Promise<JpegXrHeader> {
  const header = viewOf(await readExactly(reader, 0, 8, "JPEG XR header"));
  // The specification allows little-endian only.
  if (header.getUint16(0) !== 0x4949 || header.getUint16(2, true) !== 0x01bc) {
    throw new ContentError("JPEG XR: bad header");
  }
  const walker = new TiffWalker(reader, true);
  const ifd0 = await walker.directory(header.getUint32(4, true));
  const width = await walker.integer(ifd0, TAG.jpegXrWidth);
  const height = await walker.integer(ifd0, TAG.jpegXrHeight);
  if (!width || !height) throw new ContentError("JPEG XR: the directory states no image size");
  const software = await walker.ascii(ifd0, TAG.software);
  let dataEnd: number | undefined;
  for (const [offsetTag, bytesTag] of [
    [TAG.jpegXrImageOffset, TAG.jpegXrImageBytes],
    [TAG.jpegXrAlphaOffset, TAG.jpegXrAlphaBytes],
  ] as const) {
    const offset = await walker.integer(ifd0, offsetTag);
    const bytes = await walker.integer(ifd0, bytesTag);
    if (offset !== undefined && bytes !== undefined) dataEnd = Math.max(dataEnd ?? 0, offset + bytes);
  }
  return {
    width,
    height,
    ...(software !== undefined && { software }),
    ...(dataEnd !== undefined && { dataEnd }),
  };
}
