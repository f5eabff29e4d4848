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

describe("summarise: every section with facts says them", () => {
  const facts = (overrides: Parameters<typeof testExtraction>[0]) =>
    summarise(testExtraction(overrides)).split("\t")[3];

  it("counts a document's pages, slides and sheets, one as one", () => {
    expect(facts({ document: { kind: "ooxml", slides: 1, title: "Plan" } })).toBe('1 slide, "Plan"');
    expect(facts({ document: { kind: "ooxml", sheets: 3 } })).toBe("3 sheets");
    expect(
      facts({
        text: {
          encoding: "utf-8",
          bom: false,
          lineEndings: "none",
          lines: 1,
          words: 3,
          chars: 12,
          estimated: false,
        },
      }),
    ).toBe("utf-8, 1 line");
  });

  it("names a font and counts its glyphs, and names an executable's kind and product", () => {
    expect(facts({ font: { family: "DejaVu Sans", fullName: "DejaVu Sans Bold", glyphs: 6253 } })).toBe(
      '"DejaVu Sans Bold", 6253 glyphs',
    );
    expect(
      facts({
        executable: {
          format: "pe",
          architecture: "x86-64",
          type: "executable",
          product: "Tool",
          productVersion: "1.2",
        },
      }),
    ).toBe('pe x86-64 executable, "Tool 1.2"');
  });

  it("says a type mismatch as the other commands do, and a status after the facts or alone", () => {
    const mismatch = testFormat("image/png", "png", "image");
    mismatch.mismatch = true;
    expect(facts({ format: mismatch })).toBe("type mismatch");
    expect(facts({ status: "error", reason: "truncated" })).toBe("[error: truncated]");
    expect(facts({ status: "partial", reason: "limit", image: { width: 2, height: 3 } })).toBe(
      "2x3 [partial: limit]",
    );
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
