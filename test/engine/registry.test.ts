import { describe, expect, it } from "vitest";
import { extractorFor, extractors, preloadExtractors } from "../../src/engine/extractors/registry.js";

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
});
