import { describe, expect, it } from "vitest";
import { keyedSortKey, MAX_SORT_KEY_BYTES } from "../../src/store/keys.js";

const PREFIX = "COPY#uploads#";
const bytes = (text: string) => Buffer.byteLength(text);

describe("sort keys that hold an object key", () => {
  it("are the prefix and the key when they fit", () => {
    expect(keyedSortKey(PREFIX, "photos/a.jpg")).toBe(`${PREFIX}photos/a.jpg`);
  });

  it.each([
    ["ASCII", "a/".repeat(512)],
    ["two-byte characters", "é".repeat(512)],
    ["four-byte characters", "📷".repeat(256)],
  ])("stay within 1,024 bytes for a 1,024-byte key of %s, cut at a character boundary", (_what, key) => {
    // Prepare
    expect(bytes(key)).toBe(1024);
    // Act
    const sortKey = keyedSortKey(PREFIX, key);
    // Assess
    expect(bytes(sortKey)).toBeLessThanOrEqual(MAX_SORT_KEY_BYTES);
    expect(sortKey.startsWith(PREFIX)).toBe(true);
    expect(sortKey).not.toContain("\ufffd");
    expect(key.startsWith(sortKey.slice(PREFIX.length, sortKey.lastIndexOf("~")))).toBe(true);
  });

  it("stay distinct for long keys that differ only at the end", () => {
    const base = "x".repeat(1020);
    expect(keyedSortKey(PREFIX, `${base}.one`)).not.toBe(keyedSortKey(PREFIX, `${base}.two`));
  });
});
