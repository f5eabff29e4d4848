import { HEAD_WINDOW_BYTES } from "../../limits.js";
import { textDecoder } from "../../text-decoder.js";
import type { ExtractorDescriptor } from "../extractor.js";
import { headRange, tailRange } from "../extractor.js";

/** Tail bytes planned up front: JPEG's end-of-image marker and PNG's IEND tell a cut-off file. */
const IMAGE_TAIL_BYTES = 1024;

/**
 * Images: dimensions, depth, frames and EXIF (camera, exposure, date, GPS)
 * from headers only. JPEG, PNG/APNG, GIF, WebP, TIFF and TIFF-based RAW, RAF, CR3,
 * BMP, ICO, PSD, SVG, HEIC/HEIF/AVIF, JPEG XL, JPEG 2000, JPEG XR and Netpbm (PBM,
 * PGM, PPM, PAM); ICNS and KTX give their dimensions only.
 *
 * The plan asks for the head window (headers, and for most photos the whole
 * EXIF block) and a small tail (end markers); EXIF or TIFF directories that
 * lie further in are read on demand.
 */
export const imageExtractor: ExtractorDescriptor = {
  id: "image",
  mimes: [
    "image/jpeg",
    "image/png",
    "image/apng",
    "image/gif",
    "image/webp",
    "image/tiff",
    "image/x-adobe-dng",
    "image/x-canon-cr2",
    "image/x-nikon-nef",
    "image/x-sony-arw",
    "image/x-olympus-orf",
    "image/x-panasonic-rw2",
    "image/x-fujifilm-raf",
    "image/x-canon-cr3",
    "image/bmp",
    "image/x-ms-bmp",
    "image/x-icon",
    "image/vnd.microsoft.icon",
    "image/vnd.adobe.photoshop",
    "image/svg+xml",
    "image/avif",
    "image/heic",
    "image/heif",
    "image/heic-sequence",
    "image/heif-sequence",
    "image/jxl",
    "image/jp2",
    "image/jpx",
    "image/j2c",
    "image/x-jp2-codestream",
    "image/vnd.ms-photo",
    "image/jxr",
    "image/icns",
    "image/ktx",
    "image/x-portable-bitmap",
    "image/x-portable-graymap",
    "image/x-portable-pixmap",
    "image/x-portable-arbitrarymap",
  ],
  sniff: (head, format) =>
    format.mime === "application/octet-stream" && (looksLikeTiff(head) || looksLikeSvg(head)),
  plan: (size) => [headRange(size, HEAD_WINDOW_BYTES), tailRange(size, IMAGE_TAIL_BYTES)],
  load: async () => (await import("./extract.js")).extractImage,
};

const SVG_ROOT = /^\s*(<\?xml[^>]*>\s*)?(<!--[\s\S]*?-->\s*|<!DOCTYPE[^>]*>\s*)*<svg[\s>]/i;

/**
 * An SVG root element (after an optional XML declaration, comments and
 * doctype) at the start of text that detection left unnamed.
 *
 * @example
 * looksLikeSvg(new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg"/>')) // true
 */
export function looksLikeSvg(head: Uint8Array): boolean {
  const text = textDecoder("utf-8", { fatal: false }).decode(head.subarray(0, 4096));
  return SVG_ROOT.test(text.replace(/^\uFEFF/, ""));
}

/**
 * A TIFF header. file-type names a TIFF only when it can also read the first
 * directory, which some writers put at the end of the file.
 *
 * @example
 * looksLikeTiff(Uint8Array.of(0x4d, 0x4d, 0x00, 0x2a)) // true
 */
export function looksLikeTiff(head: Uint8Array): boolean {
  const [a, b, c, d] = head;
  return (
    (a === 0x49 && b === 0x49 && c === 0x2a && d === 0) || (a === 0x4d && b === 0x4d && c === 0 && d === 0x2a)
  );
}
