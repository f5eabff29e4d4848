import { describe, expect, it } from "vitest";
import type { ExtractorDescriptor } from "../../src/engine/extractors/extractor.js";
import {
  extractorFor,
  extractors,
  loadExtractor,
  preloadExtractors,
} from "../../src/engine/extractors/registry.js";

describe("extractor registry", () => {
  it("preloads every extractor's code, and each load yields an extract function", async () => {
    await expect(preloadExtractors()).resolves.toBeUndefined();
    for (const extractor of extractors) expect(typeof (await extractor.load())).toBe("function");
  });

  it("gives each MIME type to the first extractor that claims it", () => {
    const jpeg = extractorFor(
      { mime: "image/jpeg", ext: "jpg", category: "image", mismatch: false },
      new Uint8Array(),
    );
    expect(jpeg?.id).toBe("image");
    const pdf = extractorFor(
      { mime: "application/pdf", ext: "pdf", category: "pdf", mismatch: false },
      new Uint8Array(),
    );
    expect(pdf?.id).toBe("pdf");
  });

  it("loads an extractor's code once, and tries again after a failed load", async () => {
    // Prepare
    let loads = 0;
    const run = async () => ({});
    const flaky: ExtractorDescriptor = {
      id: "flaky",
      mimes: [],
      plan: () => [],
      load: async () => {
        loads += 1;
        if (loads === 1) throw new Error("not yet");
        return run;
      },
    };
    // Act
    await expect(loadExtractor(flaky)).rejects.toThrow("not yet");
    const [first, second] = await Promise.all([loadExtractor(flaky), loadExtractor(flaky)]);
    const third = await loadExtractor(flaky);
    // Assess
    expect([first, second, third]).toEqual([run, run, run]);
    expect(loads).toBe(2);
  });
});
