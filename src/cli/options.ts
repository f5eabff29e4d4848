import { CliError } from "./cli-error.js";

/** Commander parser for a positive integer flag. */
export function parsePositiveInt(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1)
    throw new CliError(`expected a positive integer, got '${value}'`);
  return parsed;
}

/** Commander parser for a TCP port (0 picks a free one). */
export function parsePort(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65_535) {
    throw new CliError(`expected a port from 0 to 65535, got '${value}'`);
  }
  return parsed;
}

/**
 * Commander parser for a time ago: `7d`, `12h`, `30m`, or an ISO date.
 * Returns the ISO instant it denotes.
 */
export function parseSince(value: string, now = Date.now()): string {
  const relative = /^(\d+)\s*([mhdw])$/.exec(value.trim());
  if (relative) {
    const unit = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[
      relative[2] as "m" | "h" | "d" | "w"
    ];
    return new Date(now - Number(relative[1]) * unit).toISOString();
  }
  const absolute = Date.parse(value);
  if (Number.isNaN(absolute))
    throw new CliError(`expected a duration like 7d, 12h, 30m or a date, got '${value}'`);
  return new Date(absolute).toISOString();
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
