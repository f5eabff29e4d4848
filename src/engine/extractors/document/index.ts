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
 * comments) from their headers.
 *
 * The plan asks for the head (RTF info group, CFB header and first sectors,
 * MOBI record 0, the first zip local headers, PostScript header comments) and
 * the tail (the ZIP End Of Central Directory and, for most packages, the
 * directory and docProps parts; a PostScript trailer's `(atend)` values).
 */
export const documentExtractor: ExtractorDescriptor = {
  id: "document",
  mimes: [
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.template",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.template",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.openxmlformats-officedocument.presentationml.slideshow",
    "application/vnd.openxmlformats-officedocument.presentationml.template",
    "application/vnd.ms-word.document.macroenabled.12",
    "application/vnd.ms-word.template.macroenabled.12",
    "application/vnd.ms-excel.sheet.macroenabled.12",
    "application/vnd.ms-excel.template.macroenabled.12",
    "application/vnd.ms-excel.sheet.binary.macroenabled.12",
    "application/vnd.ms-excel.addin.macroenabled.12",
    "application/vnd.ms-powerpoint.presentation.macroenabled.12",
    "application/vnd.ms-powerpoint.slideshow.macroenabled.12",
    "application/vnd.ms-powerpoint.template.macroenabled.12",
    "application/vnd.ms-powerpoint.addin.macroenabled.12",
    "application/vnd.ms-visio.drawing",
    "application/vnd.ms-visio.drawing.macroenabled.12",
    "application/vnd.ms-visio.template",
    "application/vnd.ms-visio.template.macroenabled.12",
    "application/vnd.ms-visio.stencil",
    "application/vnd.ms-visio.stencil.macroenabled.12",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.text-template",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.spreadsheet-template",
    "application/vnd.oasis.opendocument.presentation",
    "application/vnd.oasis.opendocument.presentation-template",
    "application/vnd.oasis.opendocument.graphics",
    "application/vnd.oasis.opendocument.graphics-template",
    "application/vnd.oasis.opendocument.chart",
    "application/vnd.oasis.opendocument.chart-template",
    "application/vnd.oasis.opendocument.formula",
    "application/vnd.oasis.opendocument.formula-template",
    "application/vnd.oasis.opendocument.image",
    "application/vnd.oasis.opendocument.image-template",
    "application/vnd.oasis.opendocument.text-master",
    "application/vnd.oasis.opendocument.text-master-template",
    "application/vnd.oasis.opendocument.text-web",
    "application/vnd.oasis.opendocument.base",
    "application/vnd.oasis.opendocument.database",
    "application/epub+zip",
    "application/x-cfb",
    "application/msword",
    "application/vnd.ms-excel",
    "application/vnd.ms-powerpoint",
    "application/rtf",
    "text/rtf",
    "application/x-mobipocket-ebook",
    ...POSTSCRIPT_MIMES,
  ],
  plan: (size) => [headRange(size, HEAD_WINDOW_BYTES), tailRange(size, TAIL_WINDOW_BYTES)],
  load: async () => (await import("./extract.js")).extractDocument,
};
