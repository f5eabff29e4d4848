import { describe, expect, it } from "vitest";
import { parsePositiveInt, parseSince } from "../../src/cli/options.js";

const NOW = Date.parse("2026-03-10T12:00:00.000Z");

describe("parseSince", () => {
  it.each([
    ["7d", "2026-03-03T12:00:00.000Z"],
    ["12h", "2026-03-10T00:00:00.000Z"],
    ["30m", "2026-03-10T11:30:00.000Z"],
    ["2w", "2026-02-24T12:00:00.000Z"],
    [" 1 d ", "2026-03-09T12:00:00.000Z"],
    ["0d", "2026-03-10T12:00:00.000Z"],
    ["2024-02-29", "2024-02-29T00:00:00.000Z"],
    ["2026-01-02T10:00:00Z", "2026-01-02T10:00:00.000Z"],
    ["2026-01-02T10:00:00+02:00", "2026-01-02T08:00:00.000Z"],
  ])("%j is %s", (value, instant) => {
    expect(parseSince(value, NOW)).toBe(instant);
  });

  it.each([
    "12", // Date.parse: December 2001
    "1 2 3", // Date.parse: 2003-01-01
    "tuesday 3", // Date.parse: 2001-03-01
    "May 5", // Date.parse: 2001-05-05
    "2024-02-30", // Date.parse: 2024-03-01
    "2023-02-29",
    "2024-13-01",
    "-5d",
    "1.5d",
    "7y",
    "",
  ])("refuses %j", (value) => {
    expect(() => parseSince(value, NOW)).toThrow(/expected a duration like 7d, 12h, 30m or a date/);
  });

  it("refuses a duration no date reaches back to, in words", () => {
    expect(() => parseSince("99999999999999999999d", NOW)).toThrow(
      "'99999999999999999999d' goes back further than any date",
    );
  });
});

describe("parsePositiveInt", () => {
  it.each([
    ["1", 1],
    ["8", 8],
    ["007", 7],
    [String(Number.MAX_SAFE_INTEGER), Number.MAX_SAFE_INTEGER],
  ])("%j is %d", (value, expected) => {
    expect(parsePositiveInt(value)).toBe(expected);
  });

  it.each(["0", "-1", "1e3", "0x10", "2.0", "1_000", "+3", "", "zero", "99999999999999999999"])(
    "refuses %j",
    (value) => {
      expect(() => parsePositiveInt(value)).toThrow(`expected a positive integer, got '${value}'`);
    },
  );
});
