import type { ExtractorDescriptor } from "../extractor.js";

// Placeholder until the executable extractor lands.
export const executableExtractor: ExtractorDescriptor = {
  id: "executable",
  mimes: [],
  plan: () => [],
  load: async () => async () => ({}),
};
