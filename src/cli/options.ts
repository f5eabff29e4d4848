import { derivedPrefixProblem } from "../config/config.js";
import { bucketNameProblem } from "../s3/bucket-name.js";
import { CliError } from "./cli-error.js";

/**
 * Commander parser for a positive integer flag: decimal digits only, so
 * `1e3`, `0x10` or `2.0` (which `Number` would read as 1000, 16 and 2) are
 * refused rather than taken for something the user may not have meant.
 *
 * @example
 * parsePositiveInt("8") // 8
 */
export function parsePositiveInt(value: string): number {
  const parsed = /^\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(parsed) || parsed < 1)
    throw new CliError(`expected a positive integer, got '${value}'`);
  return parsed;
}

/**
 * Commander parser for `--starts-with`: the start of names in one folder,
 * which hold no `/`, given once (Commander would keep the last of two without
 * a word). Empty is no filter.
 *
 * @example
 * parseNameStart("IMG_2024", undefined) // "IMG_2024"
 */
export function parseNameStart(value: string, previous: string | undefined): string {
  if (previous !== undefined) throw new CliError("--starts-with is given more than once");
  if (value.includes("/"))
    throw new CliError(
      `a name in a folder holds no '/': give the folder in the location (s3://bucket/folder/) and the start of its names here, got '${value}'`,
    );
  return value;
}

/** Commander parser for a TCP port (0 picks a free one). */
export function parsePort(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65_535) {
    throw new CliError(`expected a port from 0 to 65535, got '${value}'`);
  }
  return parsed;
}

const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

/** The earliest instant a JavaScript Date holds (271,821 BC). */
const EARLIEST_MS = -8.64e15;

/** A calendar date, alone or followed by a time: `2024-05-01`, `2024-05-01T10:00Z`. */
const DATE = /^(\d{4})-(\d{2})-(\d{2})([T ].+)?$/;

/** A time that says its offset from UTC: `Z`, `+09:00`, `-0300`. */
const ZONED = /(?:Z|[+-]\d{2}:?\d{2})$/i;

/**
 * Commander parser for a time ago: `7d`, `12h`, `30m`, `2w`, or a date
 * (`2024-05-01`, with a time if wanted). Returns the ISO instant it denotes.
 * Only dates written year first are taken: `Date.parse` alone reads `12` as
 * December 2001 and `2024-02-30` as the 1st of March. A date or time with no
 * offset is UTC, as the catalog's times are shown: `Date.parse` reads a bare
 * date as UTC but a date with a time as local time, so the same day written
 * two ways began nine hours apart in Tokyo.
 *
 * @example
 * parseSince("2024-05-01") // "2024-05-01T00:00:00.000Z"
 * parseSince("2024-05-01 10:00") // "2024-05-01T10:00:00.000Z"
 */
export function parseSince(value: string, now = Date.now()): string {
  const text = value.trim();
  const relative = /^(\d+)\s*([mhdw])$/.exec(text);
  if (relative) {
    const from = now - Number(relative[1]) * UNIT_MS[relative[2] as keyof typeof UNIT_MS];
    if (!(from >= EARLIEST_MS)) throw new CliError(`'${value}' goes back further than any date`);
    return new Date(from).toISOString();
  }
  const date = DATE.exec(text);
  const absolute = date ? Date.parse(date[4] && !ZONED.test(text) ? `${text}Z` : text) : Number.NaN;
  if (!date || Number.isNaN(absolute) || !isCalendarDay(Number(date[1]), Number(date[2]), Number(date[3]))) {
    throw new CliError(`expected a duration like 7d, 12h, 30m, 2w or a date like 2024-05-01, got '${value}'`);
  }
  return new Date(absolute).toISOString();
}

/** Whether the day exists in that month (`2024-02-30` does not). */
function isCalendarDay(year: number, month: number, day: number): boolean {
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

/** The levels the handler's logger takes. */
export const LOG_LEVELS = ["DEBUG", "INFO", "WARN", "ERROR", "SILENT"] as const;

/** One of {@link LOG_LEVELS}. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * Commander parser for `--log-level`, in any case.
 *
 * @example
 * parseLogLevel("warn") // "WARN"
 */
export function parseLogLevel(value: string): LogLevel {
  const level = value.toUpperCase();
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new CliError(`expected one of ${LOG_LEVELS.join(", ")}, got '${value}'`);
  }
  return level as LogLevel;
}

/**
 * Commander parser for `--bucket`: a name S3 would accept.
 *
 * @example
 * parseBucketName("uploads") // "uploads"
 */
export function parseBucketName(value: string): string {
  const problem = bucketNameProblem(value);
  if (problem) throw new CliError(`not an S3 bucket name: ${problem}`);
  return value;
}

/**
 * Commander parser for `--derived-prefix`: the folder a deployed stack's
 * `derivedPrefix` names, as the function reads it.
 *
 * @example
 * parseDerivedPrefix("thumbs/") // "thumbs/"
 */
export function parseDerivedPrefix(value: string): string {
  const problem = derivedPrefixProblem(value);
  if (problem) throw new CliError(`a derived prefix ${problem}, as the stack's derivedPrefix does`);
  return value;
}
