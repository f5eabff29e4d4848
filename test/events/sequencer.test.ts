import { describe, expect, it } from "vitest";
import {
  compareSequencers,
  isSequencer,
  SEQUENCER_SORT_WIDTH,
  sequencerSortKey,
} from "../../src/events/sequencer.js";

const sign = (n: number) => Math.sign(n);

describe("compareSequencers", () => {
  it.each([
    // [older, newer]: same length
    ["0055AED6DCD90281E5", "0055AED6DCD90281E6"],
    ["0055AED6DCD90281E5", "0055AED6DCD9028200"],
    // case does not matter
    ["0055aed6dcd90281e5", "0055AED6DCD90281E6"],
    // different lengths: the shorter is right-padded with zeros, then compared as text
    ["0A", "0A01"],
    ["0A", "0B00"],
    // right-padding, not left-padding: "1" becomes "10", which is larger than "0F"
    ["0F", "1"],
    ["0055AED6DCD90281E5", "0055AED6DCD90281E5000001"],
  ])("orders %s before %s", (older, newer) => {
    expect(compareSequencers(older, newer)).toBeLessThan(0);
    expect(compareSequencers(newer, older)).toBeGreaterThan(0);
  });

  it.each([
    ["0055AED6DCD90281E5", "0055aed6dcd90281e5"],
    ["0A", "0A00"],
    ["0", "0000"],
  ])("treats %s and %s as the same event", (a, b) => {
    expect(compareSequencers(a, b)).toBe(0);
  });
});

describe("sequencerSortKey", () => {
  it("is fixed-width upper-case hex", () => {
    const key = sequencerSortKey("0055aed6dcd90281e5");
    expect(key).toHaveLength(SEQUENCER_SORT_WIDTH);
    expect(key).toBe(`0055AED6DCD90281E5${"0".repeat(SEQUENCER_SORT_WIDTH - 18)}`);
  });

  it("gives sequencers that compare equal the same key", () => {
    expect(sequencerSortKey("0a")).toBe(sequencerSortKey("0A00"));
  });

  it("orders like compareSequencers for random sequencers of mixed lengths and case", () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const hex = "0123456789abcdefABCDEF";
    const make = () => {
      const length = 1 + Math.floor(random() * 80); // some longer than the sort width
      let s = "";
      for (let i = 0; i < length; i += 1) s += hex[Math.floor(random() * (random() < 0.5 ? 2 : hex.length))];
      return s;
    };
    for (let i = 0; i < 5000; i += 1) {
      const a = make();
      const b = random() < 0.3 ? `${a}${"0".repeat(Math.floor(random() * 3))}` : make();
      const ka = sequencerSortKey(a);
      const kb = sequencerSortKey(b);
      const byKey = ka < kb ? -1 : ka > kb ? 1 : 0;
      expect({ a, b, order: byKey }).toEqual({ a, b, order: sign(compareSequencers(a, b)) });
    }
  });
});

describe("isSequencer", () => {
  it.each([
    ["0055AED6DCD90281E5", true],
    ["abc", true],
    ["", false],
    ["12G4", false],
    [" 12", false],
    [42, false],
    [undefined, false],
  ])("%j -> %s", (value, expected) => {
    expect(isSequencer(value)).toBe(expected);
  });
});
