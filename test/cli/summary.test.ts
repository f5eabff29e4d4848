import { describe, expect, it } from "vitest";
import { summarise } from "../../src/cli/summary.js";
import type { ExtractionResult } from "../../src/engine/types.js";

function result(sections: Partial<ExtractionResult>): ExtractionResult {
  return {
    source: "file",
    size: 2048,
    status: "ok",
    warnings: [],
    format: { mime: "video/quicktime", ext: "mov", category: "video", mismatch: false },
    bytesRead: 2048,
    readRequests: 1,
    durationMs: 1,
    extractorVersion: "test",
    ...sections,
  };
}

describe("summarise", () => {
  it("names the device a video was recorded with, as it names a photo's camera", () => {
    const photo = result({
      image: { width: 640, height: 480, exif: { make: "Canon", model: "Canon EOS 40D" } },
    });
    const video = result({
      media: { container: "qt", codecs: ["avc1"], duration: 2, make: "Apple", model: "iPhone 15 Pro" },
    });
    expect(summarise(photo).split("\t")[3]).toBe("640x480, Canon EOS 40D");
    expect(summarise(video).split("\t")[3]).toBe("iPhone 15 Pro, 2.00 s, avc1");
  });
});
