import { describe, expect, it } from "vitest";
import { parseBucketName, parsePositiveInt, parseSince } from "../../src/cli/options.js";
import { bucketNameProblem } from "../../src/s3/bucket-name.js";

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
    ["2026-01-02T10:00-0300", "2026-01-02T13:00:00.000Z"],
  ])("%j is %s", (value, instant) => {
    expect(parseSince(value, NOW)).toBe(instant);
  });

  it("reads a date with a time and no offset as UTC, as it reads a date alone, wherever it runs", () => {
    const zone = process.env.TZ;
    process.env.TZ = "Asia/Tokyo";
    try {
      expect(parseSince("2026-01-02", NOW)).toBe("2026-01-02T00:00:00.000Z");
      expect(parseSince("2026-01-02T00:00", NOW)).toBe("2026-01-02T00:00:00.000Z");
      expect(parseSince("2026-01-02 10:30:15.5", NOW)).toBe("2026-01-02T10:30:15.500Z");
    } finally {
      if (zone === undefined) delete process.env.TZ;
      else process.env.TZ = zone;
    }
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
    expect(() => parseSince(value, NOW)).toThrow(/expected a duration like 7d, 12h, 30m, 2w or a date/);
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

describe("bucket names, as S3 names general purpose buckets", () => {
  it.each([
    "uploads",
    "abc",
    "a".repeat(63),
    "my.photos-2024",
    "1photos9",
    "192.168.5.4x",
    "xn-photos",
    "photos-s3",
  ])("%j is one", (name) => {
    expect(bucketNameProblem(name)).toBeUndefined();
    expect(parseBucketName(name)).toBe(name);
  });

  it.each([
    ["ab", "a name has 3 to 63 characters, this one 2"],
    ["a".repeat(64), "a name has 3 to 63 characters, this one 64"],
    ["Bad_Bucket", "only lowercase letters, digits, '.' and '-' are allowed"],
    ["Uploads", "only lowercase letters, digits, '.' and '-' are allowed"],
    ["up loads", "only lowercase letters, digits, '.' and '-' are allowed"],
    ["uplöads", "only lowercase letters, digits, '.' and '-' are allowed"],
    ["-uploads", "a name begins and ends with a letter or digit"],
    ["uploads.", "a name begins and ends with a letter or digit"],
    ["my..photos", "a name has no two '.' in a row"],
    ["192.168.5.4", "a name is not an IP address"],
    ["xn--photos", "names beginning with 'xn--' are reserved by S3"],
    ["sthree-configurator", "names beginning with 'sthree-' are reserved by S3"],
    ["amzn-s3-demo-photos", "names beginning with 'amzn-s3-demo-' are reserved by S3"],
    ["photos-s3alias", "names ending with '-s3alias' are reserved by S3"],
    ["photos--ol-s3", "names ending with '--ol-s3' are reserved by S3"],
    ["photos.mrap", "names ending with '.mrap' are reserved by S3"],
    ["photos--use1-az4--x-s3", "names ending with '--x-s3' are reserved by S3"],
    ["photos--table-s3", "names ending with '--table-s3' are reserved by S3"],
  ])("%j is not: %s", (name, problem) => {
    expect(bucketNameProblem(name)).toBe(problem);
    expect(() => parseBucketName(name)).toThrow(`not an S3 bucket name: ${problem}`);
  });
});
