/**
 * Version of the extraction logic. Bump it when an extractor starts producing
 * different output, so `catalog reprocess` can find records made by older code.
 */
export const EXTRACTOR_VERSION = "1.0.66";
