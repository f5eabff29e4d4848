import { isAbsolute, join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { decodeKeyPath, encodeKeyPath, MAX_SEGMENT_BYTES } from "../../src/local/key-path.js";

const NASTY_KEYS = [
  "plain.jpg",
  "photos/2026/red flower.jpg",
  "../../../../etc/passwd",
  "../escape",
  "a/../../b",
  "./here",
  "a/./b",
  "a//b",
  "//leading",
  "trailing/",
  "/",
  ".",
  "..",
  ".hidden/.config",
  "a&b&26c",
  "&~/x",
  "unicode/日本語/ファイル.txt",
  "emoji/😀.png",
  "percent%20and+plus",
  "line\nbreak",
  "nul\u0000byte",
  "x".repeat(1024),
  `${"é".repeat(300)}/${"y".repeat(700)}`,
];

describe("encodeKeyPath", () => {
  it.each(NASTY_KEYS.map((key) => [JSON.stringify(key).slice(0, 60), key] as const))(
    "round-trips %s",
    (_, key) => {
      expect(decodeKeyPath(encodeKeyPath(key))).toBe(key);
    },
  );

  it.each(NASTY_KEYS.map((key) => [JSON.stringify(key).slice(0, 60), key] as const))(
    "keeps %s inside the bucket folder with no collapsible segment",
    (_, key) => {
      const encoded = encodeKeyPath(key);
      const root = "/data/bucket";
      const target = join(root, encoded);
      expect(isAbsolute(relative(root, target)) || relative(root, target).startsWith("..")).toBe(false);
      for (const segment of encoded.split("/").slice(0, -1)) {
        expect([".", ".."]).not.toContain(segment);
        expect(segment).not.toBe("");
      }
      for (const segment of encoded.split("/")) {
        expect(Buffer.byteLength(segment)).toBeLessThanOrEqual(MAX_SEGMENT_BYTES + 3);
      }
    },
  );

  it("is injective over keys that path.join would collapse", () => {
    const keys = ["a/b", "a//b", "a/./b", "a/../a/b", "a/b/", "a&2fb"];
    expect(new Set(keys.map(encodeKeyPath)).size).toBe(keys.length);
  });

  it("preserves prefixes, which s3rver's listing relies on", () => {
    for (const key of NASTY_KEYS) {
      for (let cut = 0; cut <= key.length; cut += Math.max(1, Math.floor(key.length / 17))) {
        const prefix = key.slice(0, cut);
        if (prefix.length > 0 && /[\uD800-\uDBFF]$/.test(prefix)) continue;
        expect(encodeKeyPath(key).startsWith(encodeKeyPath(prefix))).toBe(true);
      }
    }
  });
});
