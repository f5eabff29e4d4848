import type { ExtractorDescriptor } from "../extractor.js";

// Placeholder until the document extractor lands.
export const documentExtractor: ExtractorDescriptor = {
  id: "document",
  mimes: [],
  plan: () => [],
  load: async () => async () => ({}),
};
