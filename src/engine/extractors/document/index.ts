import { MIMETYPE_PACKAGE_MIMES, OOXML_PACKAGE_MIMES } from "../../detect/zip-container.js";
import { HEAD_WINDOW_BYTES, TAIL_WINDOW_BYTES } from "../../limits.js";
import type { ExtractorDescriptor } from "../extractor.js";
import { headRange, tailRange } from "../extractor.js";

/** PostScript and EPS, as detection names them: read from their structuring comments. */
export const POSTSCRIPT_MIMES: ReadonlySet<string> = new Set([
  "application/postscript",
  "application/eps",
  "image/x-eps",
]);

/**
 * Office and e-book documents: OOXML (Visio's packages included),
 * OpenDocument and EPUB through the ZIP central directory and their small
 * metadata parts; legacy CFB, RTF, MOBI and PostScript/EPS (structuring
 * comments) from their headers; a SQLite database's header, for its kind and
 * whether the file holds the pages it counts.
 *
 * The plan asks for the head (RTF info group, CFB header and first sectors,
 * MOBI record 0, the first zip local headers, PostScript header comments) and
 * the tail (the ZIP End Of Central Directory and, for most packages, the
 * directory and docProps parts; a PostScript trailer's `(atend)` values).
 */
export const documentExtractor: ExtractorDescriptor = {
  id: "document",
  mimes: [
    // The packages detection names, from its own tables: OOXML by main part, ODF and EPUB by `mimetype`.
    ...OOXML_PACKAGE_MIMES,
    ...MIMETYPE_PACKAGE_MIMES,
    "application/x-cfb",
    "application/msword",
    "application/vnd.ms-excel",
    "application/vnd.ms-powerpoint",
    "application/rtf",
    "text/rtf",
    "application/x-mobipocket-ebook",
    "application/x-sqlite3",
    "application/vnd.sqlite3",
    ...POSTSCRIPT_MIMES,
  ],
  plan: (size) => [headRange(size, HEAD_WINDOW_BYTES), tailRange(size, TAIL_WINDOW_BYTES)],
  load: async () => (await import("./extract.js")).extractDocument,
};
