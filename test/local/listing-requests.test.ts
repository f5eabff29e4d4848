/**
 * S3's order of keys: by their UTF-8 bytes, which JavaScript's own string
 * order (UTF-16 code units) breaks for code points past U+FFFF against
 * U+E000-U+FFFF. `compareKeys` must order every pair as their bytes do.
 */
import { describe, expect, it } from "vitest";
import { compareKeys } from "../../src/local/listing-requests.js";

const KEYS = [
  "",
  "a",
  "a-b/1.txt",
  "a.txt",
  "a/1.txt",
  "a/",
  "ab",
  "\u0000",
  "\u007f",
  "é",
  "\u07ff",
  "\u0800",
  "\ud7ff",
  "\ue000",
  "\uff5e.txt",
  "\uffff",
  "\u{10000}",
  "\u{1f600}.txt",
  "\u{1f601}",
  "\u{10ffff}",
  "a\u{1f600}",
  "a\uff5e",
  "a\ue000b",
];

const sign = (value: number) => Math.sign(value);

describe("compareKeys", () => {
  it("orders every pair of keys as their UTF-8 bytes", () => {
    for (const a of KEYS)
      for (const b of KEYS) {
        const bytes = Buffer.compare(Buffer.from(a), Buffer.from(b));
        expect(sign(compareKeys(a, b)), `${JSON.stringify(a)} against ${JSON.stringify(b)}`).toBe(bytes);
      }
  });

  it("sorts past U+FFFF after U+E000-U+FFFF, unlike JavaScript's own order", () => {
    const keys = ["\u{1f600}", "\uff5e", "\ue000", "z"];
    expect([...keys].sort()).toEqual(["z", "\u{1f600}", "\ue000", "\uff5e"]);
    expect([...keys].sort(compareKeys)).toEqual(["z", "\ue000", "\uff5e", "\u{1f600}"]);
  });
});
