import { describe, expect, it } from "vitest";
import { extractCorpusFile, extractCut } from "../support/engine.js";

// sharp-animated-loop-3.gif and .webp: 10 frames of 3 s, the last one 15 s.
// filetype-fixture.apng: 20 frames of 75 ms, whose fcTL chunks start at 53, 4728, 8993, ... 28560, 31246.
describe("an animation cut short lasts as long as its whole frames", () => {
  it.each([
    // [file, bytes kept, whole frames, their duration, the reason the format gives]
    ["sharp-animated-loop-3.gif", 3_000, 2, 6, "truncated: GIF ends before its trailer"],
    ["sharp-animated-loop-3.gif", 7_000, 7, 21, "truncated: GIF ends before its trailer"],
    ["sharp-animated-loop-3.webp", 2_000, 2, 6, "truncated: RIFF declares 8440 bytes, the file has 2000"],
    ["sharp-animated-loop-3.webp", 8_000, 8, 24, "truncated: RIFF declares 8440 bytes, the file has 8000"],
    ["filetype-fixture.apng", 4_800, 1, 0.075, "truncated: no PNG IEND chunk at the end"],
    ["filetype-fixture.apng", 30_000, 8, 0.6, "truncated: no PNG IEND chunk at the end"],
    ["filetype-fixture.apng", 60_000, 19, 1.425, "truncated: no PNG IEND chunk at the end"],
  ] as const)("%s cut to %i bytes: %i whole frames, %d s", async (name, length, frames, duration, reason) => {
    // Act
    const result = await extractCut(name, length);

    // Assess
    expect(result.status).toBe("partial");
    expect(result.reason).toBe(reason);
    expect(result.image).toMatchObject({ animated: true, duration });
    const noun = frames === 1 ? "frame; duration counts it" : "frames; duration counts those";
    const format = { gif: "GIF", webp: "WebP", apng: "APNG" }[name.split(".").pop() as string];
    expect(result.warnings).toContain(`${format}: cut short: ${frames} whole ${noun}`);
    expect(result.bytesRead).toBeLessThanOrEqual(length);
  });

  it.each([
    ["sharp-animated-loop-3.gif", 1_000],
    ["sharp-animated-loop-3.webp", 600],
    ["filetype-fixture.apng", 100],
  ])("%s cut to %i bytes, before a second frame starts, states no duration", async (name, length) => {
    const result = await extractCut(name, length);
    expect(result.status).toBe("partial");
    expect(result.image?.duration).toBeUndefined();
    expect(result.warnings.filter((warning) => warning.includes("cut short"))).toEqual([]);
  });

  it.each([
    ["sharp-animated-loop-3.gif", 10, 42],
    ["sharp-animated-loop-3.webp", 10, 42],
    ["sharp-big-height.webp", 97, 19.4],
    ["filetype-fixture.apng", 20, 1.5],
  ])("%s, whole, keeps its %i frames and %d s", async (name, frames, duration) => {
    const result = await extractCorpusFile(name);
    expect(result.status).toBe("ok");
    expect(result.image).toMatchObject({ frames, animated: true, duration });
    expect(result.warnings).toEqual([]);
  });
});
