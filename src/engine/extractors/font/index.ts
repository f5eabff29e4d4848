import type { ExtractorDescriptor } from "../extractor.js";

// Placeholder until the font extractor lands.
export const fontExtractor: ExtractorDescriptor = {
  id: "font",
  mimes: [],
  plan: () => [],
  load: async () => async () => ({}),
};
