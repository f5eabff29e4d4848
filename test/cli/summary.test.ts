import { describe, expect, it } from "vitest";
import { summarise, summariseDetection } from "../../src/cli/summary.js";
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

  it("shows the SHA-256 that --hash asked for, after the other facts", () => {
    const hashed = testExtraction({ sha256: "ab".repeat(32), image: { width: 10, height: 20 } });
    expect(summarise(hashed).split("\t")[3]).toBe(`10x20, sha256 ${"ab".repeat(32)}`);
    expect(summarise(testExtraction()).split("\t")[3]).toBe("");
  });
});

describe("summariseDetection", () => {
  it("names the type and category, and the SHA-256 when --hash asked for it", () => {
    const format = testFormat("image/jpeg", "jpg", "image");
    expect(summariseDetection({ source: "a.jpg", format })).toBe("a.jpg\timage/jpeg\timage");
    expect(summariseDetection({ source: "a.jpg", format, sha256: "ab".repeat(32) })).toBe(
      `a.jpg\timage/jpeg\timage\tsha256 ${"ab".repeat(32)}`,
    );
  });
});
