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
  return result;
}
