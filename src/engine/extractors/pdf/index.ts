import type { ExtractorDescriptor } from "../extractor.js";

// Placeholder until the pdf extractor lands.
export const pdfExtractor: ExtractorDescriptor = {
  id: "pdf",
  mimes: [],
  plan: () => [],
  load: async () => async () => ({}),
};
