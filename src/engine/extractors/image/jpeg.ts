import type { BlockReader, ByteRange } from "../../byte-source/block-reader.js";
import { ContentError } from "../../errors.js";
import { boundedLength, MAX_STRUCTURE_BYTES } from "../../limits.js";
import { readExactly, startsWith, viewOf } from "./byte-reading.js";
import { MAX_XMP_PACKET_BYTES } from "./xmp.js";

/** What the JPEG markers before the first scan say. */
export interface JpegHeader {
  width: number;
  height: number;
  bitDepth: number;
  colorType: string;
  /** The TIFF structure inside the APP1 `Exif` segment, when there is one. */
  exif?: Uint8Array;
  /** Where the packet of the APP1 XMP segment lies, when there is one (read only if needed). */
  xmp?: ByteRange;
}

/** Marker segments walked before giving up on finding a frame header. */
const MAX_JPEG_SEGMENTS = 1024;

const EXIF_ID = [0x45, 0x78, 0x69, 0x66, 0x00, 0x00]; // "Exif\0\0"
const XMP_ID = [...new TextEncoder().encode("http://ns.adobe.com/xap/1.0/\0")];

const TIFF_LITTLE = [0x49, 0x49, 0x2a, 0x00]; // "II*\0"
const TIFF_BIG = [0x4d, 0x4d, 0x00, 0x2a]; // "MM\0*"

const COLOR_BY_COMPONENTS: Record<number, string> = { 1: "grayscale", 3: "ycbcr", 4: "cmyk" };

/**
 * Walks the JPEG marker segments from `base` (0 for a JPEG file; the preview's
 * offset inside a RAF) to the frame header, reading only segment headers,
 * the Exif APP1 payload and the SOF; the XMP APP1 packet is only located. A
 * large Exif thumbnail or ICC profile before the SOF costs one more ranged
 * read instead of a bigger head window, which is why this walks the markers
 * itself instead of handing image-size a contiguous buffer that must reach
 * the SOF.
 *
 * @example
 * const { width, height, exif } = await readJpegHeader(ctx.reader);
 */
export async function readJpegHeader(reader: BlockReader, base = 0): Promise<JpegHeader> {
  const soi = await readExactly(reader, base, 2, "JPEG start marker");
  if (!startsWith(soi, [0xff, 0xd8])) throw new ContentError("JPEG: missing start-of-image marker");
  let exif: Uint8Array | undefined;
  let unusableExif: Uint8Array | undefined;
  let xmp: ByteRange | undefined;
  let position = base + 2;
  for (let segment = 0; segment < MAX_JPEG_SEGMENTS; segment++) {
    const head = await readExactly(reader, position, 4, "JPEG marker");
    if (head[0] !== 0xff) throw new ContentError(`JPEG: expected a marker at offset ${position}`);
    const marker = head[1] as number;
    if (marker === 0xff) {
      position += 1; // fill byte
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      position += 2; // stand-alone markers carry no length
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) break; // end of image or start of scan before any frame header
    const length = viewOf(head).getUint16(2);
    if (length < 2) throw new ContentError(`JPEG: segment length ${length} at offset ${position}`);
    if (isStartOfFrame(marker)) {
      const sof = viewOf(await readExactly(reader, position + 4, 6, "JPEG frame header"));
      const components = sof.getUint8(5);
      const width = sof.getUint16(3);
      const height = sof.getUint16(1);
      if (width === 0) throw new ContentError("JPEG: frame header gives a width of 0");
      const exifBlock = exif ?? unusableExif;
      return {
        width,
        height,
        bitDepth: sof.getUint8(0),
        colorType: COLOR_BY_COMPONENTS[components] ?? `${components} components`,
        ...(exifBlock && { exif: exifBlock }),
        ...(xmp && { xmp }),
      };
    }
    if (marker === 0xe1 && length > 8 + EXIF_ID.length) {
      const id = await readExactly(reader, position + 4, Math.min(length - 2, XMP_ID.length), "JPEG APP1");
      if (!exif && startsWith(id, EXIF_ID)) {
        const payload = boundedLength(length - 2 - EXIF_ID.length, MAX_STRUCTURE_BYTES, "JPEG Exif segment");
        const block = await readExactly(reader, position + 4 + EXIF_ID.length, payload, "JPEG Exif segment");
        // A segment that holds no TIFF structure (an editor's leftover) must not hide a later, valid one;
        // it is decoded only when no other comes, so the record still warns about it.
        if (startsWith(block, TIFF_LITTLE) || startsWith(block, TIFF_BIG)) exif = block;
        else unusableExif ??= block;
      } else if (!xmp && startsWith(id, XMP_ID)) {
        const packet = boundedLength(length - 2 - XMP_ID.length, MAX_XMP_PACKET_BYTES, "JPEG XMP segment");
        xmp = { offset: position + 4 + XMP_ID.length, length: packet };
      }
    }
    position += 2 + length;
  }
  throw new ContentError("JPEG: no frame header before the image data");
}

/** SOF0-SOF15 except DHT (C4), JPG (C8) and DAC (CC). */
function isStartOfFrame(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

/** JPEG's end-of-image marker, which also ends JPEG 2000 codestreams (EOC). */
const END_MARKER = [0xff, 0xd9];

/**
 * True when an end-of-image marker sits in `tail`, the file's last bytes. Entropy-
 * coded data never contains FF D9, so its absence in the tail means the scan
 * was cut off (trailers such as MPF append whole JPEGs, which end in FF D9 too).
 */
export function endsWithEndMarker(tail: Uint8Array): boolean {
  for (let i = tail.byteLength - 2; i >= 0; i--) {
    if (tail[i] === END_MARKER[0] && tail[i + 1] === END_MARKER[1]) return true;
  }
  return false;
}
