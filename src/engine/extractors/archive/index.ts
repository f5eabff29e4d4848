import type { ExtractorDescriptor } from "../extractor.js";

// Placeholder until the archive extractor lands.
export const archiveExtractor: ExtractorDescriptor = {
  id: "archive",
  mimes: [],
  plan: () => [],
  load: async () => async () => ({}),
};
