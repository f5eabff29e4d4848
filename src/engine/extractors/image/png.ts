import type { BlockReader } from "../../byte-source/block-reader.js";
import { ContentError } from "../../errors.js";
import { boundedLength, MAX_STRUCTURE_BYTES } from "../../limits.js";
import { fourCC, readExactly, startsWith, viewOf } from "./byte-reading.js";

/** What the PNG chunks before the image data say. */
export interface PngHeader {
  bitDepth: number;
  colorType: string;
  /** acTL frame count (APNG). */
  frames?: number;
  /** The TIFF structure of an eXIf chunk. */
  exif?: Uint8Array;
}

/** Chunks walked before the first IDAT; real files have a few dozen at most. */
const MAX_PNG_CHUNKS = 1024;

const EXIF_PREFIX = [0x45, 0x78, 0x69, 0x66, 0x00, 0x00]; // "Exif\0\0"
const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const COLOR_TYPES: Record<number, string> = {
  0: "grayscale",
  2: "rgb",
  3: "palette",
  4: "grayscale-alpha",
  6: "rgba",
};

/**
 * Reads IHDR and the ancillary chunks before the first IDAT (acTL for APNG,
 * eXIf), skipping chunk payloads by their declared length.
 *
 * @example
 * const { bitDepth, frames } = await readPngHeader(ctx.reader);
 */
export async function readPngHeader(reader: BlockReader): Promise<PngHeader> {
  const head = await readExactly(reader, 0, 33, "PNG header");
  if (!startsWith(head, SIGNATURE) || fourCC(head, 12) !== "IHDR")
    throw new ContentError("PNG: missing IHDR");
  const header: PngHeader = {
    bitDepth: head[24] as number,
    colorType: COLOR_TYPES[head[25] as number] ?? `color type ${head[25]}`,
  };
  let offset = 33;
  for (let chunk = 0; chunk < MAX_PNG_CHUNKS && offset + 8 <= reader.size; chunk++) {
    const chunkHead = await readExactly(reader, offset, 8, "PNG chunk");
    const length = boundedLength(viewOf(chunkHead).getUint32(0), 0x7fffffff, "PNG chunk length");
    const type = fourCC(chunkHead, 4);
    if (type === "IDAT" || type === "IEND") break;
    if (type === "acTL" && length >= 8) {
      header.frames = viewOf(await readExactly(reader, offset + 8, 4, "PNG acTL")).getUint32(0);
    } else if (type === "eXIf" && !header.exif) {
      const size = boundedLength(length, MAX_STRUCTURE_BYTES, "PNG eXIf chunk");
      const payload = await readExactly(reader, offset + 8, size, "PNG eXIf chunk");
      // The chunk holds the TIFF structure alone, yet some writers keep JPEG APP1's "Exif\0\0" before it.
      header.exif = startsWith(payload, EXIF_PREFIX) ? payload.subarray(EXIF_PREFIX.length) : payload;
    }
    offset += 12 + length;
  }
  return header;
}

/** True when the file ends with the IEND chunk (its fixed 12 bytes). */
export function endsWithIend(tail: Uint8Array): boolean {
  return tail.byteLength >= 12 && fourCC(tail, tail.byteLength - 8) === "IEND";
}
