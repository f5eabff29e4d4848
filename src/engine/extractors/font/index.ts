import { TAIL_WINDOW_BYTES } from "../../limits.js";
import type { ExtractorDescriptor } from "../extractor.js";
import { headRange, tailRange } from "../extractor.js";

/** The table directory (and the EOT header, which holds the names) sits in the first few KiB. */
const FONT_HEAD_BYTES = 16 * 1024;

/**
 * Fonts: TrueType/OpenType, collections, WOFF, WOFF2 and EOT. Names come from
 * the `name` table (the EOT header for EOT).
 *
 * The plan asks for the head (the table directory) and the tail, where
 * compilers usually put `name` after the glyph data, so most fonts cost one
 * or two reads.
 */
export const fontExtractor: ExtractorDescriptor = {
  id: "font",
  mimes: [
    "font/ttf",
    "font/otf",
    "font/collection",
    "font/woff",
    "font/woff2",
    "font/sfnt",
    "application/font-sfnt",
    "application/vnd.ms-fontobject",
  ],
  plan: (size) => [headRange(size, FONT_HEAD_BYTES), tailRange(size, TAIL_WINDOW_BYTES)],
  load: async () => (await import("./extract.js")).extractFont,
};
