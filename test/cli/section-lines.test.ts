import { describe, expect, it } from "vitest";
import { sectionLines } from "../../src/cli/section-lines.js";

describe("a record section as lines", () => {
  it("aligns the fields, names nested ones by their path and rounds fractions", () => {
    const lines = sectionLines("media", {
      container: "mp42/mp41/isom",
      codecs: ["MPEG-4/AAC", "avc1"],
      duration: 0.06665546642026124,
      channels: 2,
      gps: { latitude: 40.7128, longitude: -74.006 },
      tags: { title: "fixture", year: undefined },
    });

    expect(lines).toEqual([
      "media",
      "  container      mp42/mp41/isom",
      "  codecs         MPEG-4/AAC, avc1",
      "  duration       0.0666555",
      "  channels       2",
      "  gps.latitude   40.7128",
      "  gps.longitude  -74.006",
      "  tags.title     fixture",
    ]);
  });

  it("puts a long list an item a line and says how many more --json has", () => {
    const sample = Array.from({ length: 14 }, (_, index) => `folder/file-${index}.txt`);

    const lines = sectionLines("archive", { kind: "zip", encrypted: false, sample });

    expect(lines.slice(0, 4)).toEqual(["archive", "  kind       zip", "  encrypted  false", "  sample"]);
    expect(lines.slice(4, 14)).toEqual(sample.slice(0, 10).map((name) => `    ${name}`));
    expect(lines.slice(14)).toEqual(["    … and 4 more (--json shows all)"]);
  });

  it("writes an empty list as a dash", () => {
    expect(sectionLines("archive", { sample: [] })).toEqual(["archive", "  sample  -"]);
  });

  it("writes a list of objects an object a line, as name-value pairs, however short", () => {
    const lines = sectionLines("font", {
      glyphs: 3,
      axes: [{ tag: "wght", min: 100, default: 400, max: 900 }],
      instances: 0,
    });

    expect(lines).toEqual([
      "font",
      "  glyphs     3",
      "  axes",
      "    tag wght, min 100, default 400, max 900",
      "  instances  0",
    ]);
  });

  it("cuts text past 200 characters and says how long it is, never inside a surrogate pair", () => {
    const license = "x".repeat(4_765);
    const emoji = `${"y".repeat(199)}\u{1F600}tail`;

    const [, licenseLine, emojiLine] = sectionLines("font", { license, designer: emoji });

    expect(licenseLine).toBe(`  license   ${"x".repeat(200)}… (4,765 characters; --json shows all)`);
    expect(emojiLine).toBe(`  designer  ${"y".repeat(199)}… (205 characters; --json shows all)`);
    expect(sectionLines("font", { vendor: "v".repeat(200) })).toEqual([
      "font",
      `  vendor  ${"v".repeat(200)}`,
    ]);
  });
});
