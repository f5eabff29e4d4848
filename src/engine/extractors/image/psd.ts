import type { BlockReader } from "../../byte-source/block-reader.js";
import { boundedLength, MAX_STRUCTURE_BYTES } from "../../limits.js";
import { fourCC, readExactly, viewOf } from "./byte-reading.js";

/** What a Photoshop file's header and image resources say. */
export interface PsdHeader {
  bitDepth: number;
  colorType: string;
  /** The TIFF structure of image resource 1058 (EXIF data 1). */
  exif?: Uint8Array;
  /** Image resource 1060, the XMP packet. */
  xmp?: Uint8Array;
  /**
   * Where the file must reach to hold its sections: the layer section's end,
   * and the merged image data's when it is raw or RLE (whose row byte counts
   * state its length); ZIP-compressed data states none.
   */
  dataEnd: number;
}

const COLOR_MODES: Record<number, string> = {
  0: "bitmap",
  1: "grayscale",
  2: "palette",
  3: "rgb",
  4: "cmyk",
  7: "multichannel",
  8: "duotone",
  9: "lab",
};

const EXIF_RESOURCE = 1058;
const XMP_RESOURCE = 1060;

/**
 * Reads the PSD header and walks the image resources section for EXIF and XMP.
 *
 * @example
 * const { colorType, exif } = await readPsdHeader(ctx.reader);
 */
export async function readPsdHeader(reader: BlockReader): Promise<PsdHeader> {
  const header = viewOf(await readExactly(reader, 0, 30, "PSD header"));
  const mode = header.getUint16(24);
  const result: PsdHeader = {
    bitDepth: header.getUint16(22),
    colorType: COLOR_MODES[mode] ?? `mode ${mode}`,
    dataEnd: 0,
  };
  const colorModeLength = boundedLength(header.getUint32(26), MAX_STRUCTURE_BYTES, "PSD color mode data");
  const resourcesAt = 30 + colorModeLength;
  const resourcesLength = boundedLength(
    viewOf(await readExactly(reader, resourcesAt, 4, "PSD image resources")).getUint32(0),
    MAX_STRUCTURE_BYTES,
    "PSD image resources",
  );
  const resources = await readExactly(reader, resourcesAt + 4, resourcesLength, "PSD image resources");
  const view = viewOf(resources);
  let at = 0;
  while (at + 12 <= resources.byteLength && fourCC(resources, at) === "8BIM") {
    const id = view.getUint16(at + 4);
    const nameLength = resources[at + 6] as number;
    const sizeAt = at + 6 + ((1 + nameLength + 1) & ~1);
    if (sizeAt + 4 > resources.byteLength) break;
    const size = view.getUint32(sizeAt);
    const dataAt = sizeAt + 4;
    if (dataAt + size > resources.byteLength) break;
    if (id === EXIF_RESOURCE) result.exif ??= resources.subarray(dataAt, dataAt + size);
    if (id === XMP_RESOURCE) result.xmp ??= resources.subarray(dataAt, dataAt + size);
    if (result.exif && result.xmp) break;
    at = dataAt + size + (size & 1);
  }
  result.dataEnd = await imageDataEnd(reader, header, resourcesAt + 4 + resourcesLength);
  return result;
}

/** The image data's compression methods whose length the file states. */
const RAW = 0;
const RLE = 1;

/**
 * Where the merged image data ends, found through the layer and mask section's
 * length; as far as the file shows when it is cut before them.
 */
async function imageDataEnd(reader: BlockReader, header: DataView, layersAt: number): Promise<number> {
  // A large document (PSB, version 2) states the layer section's length and its RLE row counts in twice the bytes.
  const large = header.getUint16(4) === 2;
  const lengthBytes = large ? 8 : 4;
  if (layersAt + lengthBytes > reader.size) return layersAt + lengthBytes;
  const lengthField = viewOf(await readExactly(reader, layersAt, lengthBytes, "PSD layer section"));
  const layersLength = large ? Number(lengthField.getBigUint64(0)) : lengthField.getUint32(0);
  const imageAt = layersAt + lengthBytes + layersLength;
  if (imageAt + 2 > reader.size) return imageAt + 2;
  const compression = viewOf(await readExactly(reader, imageAt, 2, "PSD image data")).getUint16(0);
  const channels = header.getUint16(12);
  const height = header.getUint32(14);
  const width = header.getUint32(18);
  const depth = header.getUint16(22);
  if (compression === RAW) return imageAt + 2 + channels * height * Math.ceil((width * depth) / 8);
  if (compression !== RLE) return imageAt + 2;
  // One byte count per row of each channel, then the rows.
  const countBytes = large ? 4 : 2;
  const tableLength = boundedLength(
    channels * height * countBytes,
    MAX_STRUCTURE_BYTES,
    "PSD RLE row counts",
  );
  const tableAt = imageAt + 2;
  if (tableAt + tableLength > reader.size) return tableAt + tableLength;
  const table = viewOf(await readExactly(reader, tableAt, tableLength, "PSD RLE row counts"));
  let rows = 0;
  for (let at = 0; at < tableLength; at += countBytes)
    rows += large ? table.getUint32(at) : table.getUint16(at);
  return tableAt + tableLength + rows;
}
