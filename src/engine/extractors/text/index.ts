import { TEXT_EXACT_BYTES } from "../../limits.js";
import type { ExtractorDescriptor } from "../extractor.js";
import { headRange } from "../extractor.js";

/**
 * Text of any kind: encoding, BOM, line endings and exact counts up to
 * {@link TEXT_EXACT_BYTES} (extrapolated beyond), plus CSV shape and JSON
 * validity. SVG is text too, but the image extractor owns it.
 *
 * The plan asks for the counted prefix in one read.
 */
export const textExtractor: ExtractorDescriptor = {
  id: "text",
  mimes: [
    "text/plain",
    "text/csv",
    "text/tab-separated-values",
    "application/json",
    "application/xml",
    "text/xml",
    "text/html",
    "text/markdown",
    "text/vtt",
    "application/x-subrip",
    "text/calendar",
    "text/vcard",
  ],
  // Any other kind of text, such as the text/x-python or application/sql a name tells detection.
  sniff: (_head, format) => format.category === "text",
  plan: (size) => [headRange(size, TEXT_EXACT_BYTES)],
  load: async () => (await import("./extract.js")).extractText,
};
