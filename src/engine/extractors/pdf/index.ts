import type { ExtractorDescriptor } from "../extractor.js";
import { headRange, tailRange } from "../extractor.js";

/** Head window: the header and a linearization dictionary. Kept in step with `extract.ts`. */
const HEAD_BYTES = 1024;
/** Tail window: `startxref`, the trailer and usually the last xref rows. Kept in step with `extract.ts`. */
const TAIL_BYTES = 16 * 1024;

/**
 * PDF: page count, version, document information, encryption and
 * linearization, read from the head, the tail and the few objects they lead to.
 *
 * @example
 * const result = await extract(await FileSource.open("report.pdf"));
 * result.pdf?.pages; // 14
 */
export const pdfExtractor: ExtractorDescriptor = {
  id: "pdf",
  mimes: ["application/pdf"],
  // Some producers put junk before the header; readers accept it within the first KiB.
  sniff: (head) => Buffer.from(head.subarray(0, HEAD_BYTES)).includes("%PDF-"),
  plan: (size) => [headRange(size, HEAD_BYTES), tailRange(size, TAIL_BYTES)],
  load: async () => (await import("./extract.js")).extractPdf,
};
