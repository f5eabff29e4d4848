import { describe, expect, it } from "vitest";
import { keyedSortKey, MAX_SORT_KEY_BYTES } from "../../src/store/keys.js";

const TIME = "2024-05-01T10:00:00.000Z#";
const bytes = (text: string) => Buffer.byteLength(text);

describe("index sort keys that hold an object key", () => {
  it("are the prefix and the key when they fit", () => {
    expect(keyedSortKey(TIME, "photos/a.jpg")).toBe(`${TIME}photos/a.jpg`);
  });

  it.each([
    ["ASCII", "a/".repeat(512)],
    ["two-byte characters", "é".repeat(512)],
    ["four-byte characters", "📷".repeat(256)],
  ])("stay within 1,024 bytes for a 1,024-byte key of %s, cut at a character boundary", (_what, key) => {
    // Prepare
    expect(bytes(key)).toBe(1024);
    // Act
    const sortKey = keyedSortKey(TIME, key);
    // Assess
    expect(bytes(sortKey)).toBeLessThanOrEqual(MAX_SORT_KEY_BYTES);
    expect(sortKey.startsWith(TIME)).toBe(true);
    expect(sortKey).not.toContain("\ufffd");
    expect(key.startsWith(sortKey.slice(TIME.length, sortKey.lastIndexOf("~")))).toBe(true);
  });

  it("stay distinct for long keys that differ only at the end", () => {
    const base = "x".repeat(1020);
    expect(keyedSortKey(TIME, `${base}.one`)).not.toBe(keyedSortKey(TIME, `${base}.two`));
  });
});
