import type { ExtractorDescriptor } from "../extractor.js";

// Placeholder until the text extractor lands.
export const textExtractor: ExtractorDescriptor = {
  id: "text",
  mimes: [],
  plan: () => [],
  load: async () => async () => ({}),
};
