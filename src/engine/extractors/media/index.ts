import type { ExtractorDescriptor } from "../extractor.js";

// Placeholder until the media extractor lands.
export const mediaExtractor: ExtractorDescriptor = {
  id: "media",
  mimes: [],
  plan: () => [],
  load: async () => async () => ({}),
};
