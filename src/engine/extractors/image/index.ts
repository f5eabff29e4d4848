import type { ExtractorDescriptor } from "../extractor.js";

// Placeholder until the image extractor lands.
export const imageExtractor: ExtractorDescriptor = {
  id: "image",
  mimes: [],
  plan: () => [],
  load: async () => async () => ({}),
};
