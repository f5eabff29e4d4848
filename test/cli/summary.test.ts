import { describe, expect, it } from "vitest";
import { summarise } from "../../src/cli/summary.js";
import { testExtraction, testFormat } from "../support/records.js";

describe("summarise", () => {
  it("names the device a video was recorded with, as it names a photo's camera", () => {
    const photo = testExtraction({
      image: { width: 640, height: 480, exif: { make: "Canon", model: "Canon EOS 40D" } },
    });
    const video = testExtraction({
      format: testFormat("video/quicktime", "mov", "video"),
      media: { container: "qt", codecs: ["avc1"], duration: 2, make: "Apple", model: "iPhone 15 Pro" },
    });
    expect(summarise(photo).split("\t")[3]).toBe("640x480, Canon EOS 40D");
    expect(summarise(video).split("\t")[3]).toBe("iPhone 15 Pro, 2.00 s, avc1");
  });
});
