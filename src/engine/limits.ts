import { ContentError, LimitExceededError } from "./errors.js";

/**
 * Named bounds on untrusted input. Every length decoded from a file goes
 * through {@link boundedLength}; every extraction runs under a {@link Budget}.
 */

/**
 * Head window the extractors' plans fetch up front and read their headers
 * from. `sniff` is handed only its first quarter (16 KiB).
 */
export const HEAD_WINDOW_BYTES = 64 * 1024;

/** Tail window for formats whose index sits at the end (ZIP, PDF, ID3v1, MP4 moov). */
export const TAIL_WINDOW_BYTES = 64 * 1024;

/** Largest single structure (an EXIF block, a ZIP central directory, a PDF object) we will buffer. */
export const MAX_STRUCTURE_BYTES = 4 * 1024 * 1024;

/** Text statistics are exact up to this many bytes, then extrapolated. */
export const TEXT_EXACT_BYTES = 1024 * 1024;

/** Longest metadata string kept on a record; longer ones are truncated. */
export const MAX_FIELD_CHARS = 1024;

/**
 * Longest font licence text (name ID 13) kept on a record; longer ones are
 * truncated. Fonts that quote their licence whole (the SIL Open Font License,
 * about 4,400 characters; the Bitstream Vera licence in DejaVu's, 4,765; the
 * Apache License 2.0, about 11,000) keep it whole. At three UTF-8 bytes a
 * character at worst that is 48 KiB, within the store's 64 KiB record bound,
 * so the store does not cut it again; each KiB of it is a DynamoDB write unit.
 */
export const MAX_LICENSE_CHARS = 16 * 1024;

/** Entries names kept in `archive.sample`. */
export const ARCHIVE_SAMPLE_ENTRIES = 20;

/** Declared uncompressed/compressed ratio above which an archive is flagged as a bomb. */
export const BOMB_RATIO = 100;

/** Declared uncompressed size above which an archive is flagged as a bomb regardless of ratio. */
export const BOMB_UNCOMPRESSED_BYTES = 10 * 1024 ** 3;

/** Per-extraction budget. */
export interface Budget {
  /** Bytes fetched from the source, all reads included. */
  maxBytes: number;
  /** Read calls made to the source. */
  maxRequests: number;
  /** Wall time for one file, in milliseconds. */
  maxMillis: number;
  /** Archive/directory entries listed. */
  maxEntries: number;
  /** Nesting depth of containers (zip in zip, PDF object references). */
  maxDepth: number;
}

export const DEFAULT_BUDGET: Readonly<Budget> = Object.freeze({
  maxBytes: 16 * 1024 * 1024,
  maxRequests: 256,
  maxMillis: 10_000,
  maxEntries: 100_000,
  maxDepth: 8,
});

/**
 * Checks a length or offset decoded from a file before it is used to allocate or read.
 *
 * @example
 * const length = boundedLength(view.getUint32(4), MAX_STRUCTURE_BYTES, "EXIF block");
 */
export function boundedLength(value: number, max: number, what: string): number {
  if (!Number.isFinite(value) || value < 0) {
    throw new LimitExceededError("length", `${what}: invalid length ${value}`);
  }
  if (value > max) {
    throw new LimitExceededError("length", `${what}: length ${value} exceeds the limit of ${max}`);
  }
  return value;
}

/**
 * `fields` without those that have no value: a record keeps no `undefined`,
 * which DynamoDB's marshalling would refuse.
 *
 * @example
 * definedFields<PackageInfo>({ format: "rpm", name: "hello", vendor: undefined }) // { format: "rpm", name: "hello" }
 */
export function definedFields<T extends object>(fields: T): T {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as T;
}

/** Truncates a metadata string to {@link MAX_FIELD_CHARS} and strips NUL characters. */
export function cleanString(value: unknown, max = MAX_FIELD_CHARS): string | undefined {
  if (value === undefined || value === null) return undefined;
  let text = (typeof value === "string" ? value : String(value)).replace(/\0+/g, "").trim();
  if (text.length === 0) return undefined;
  if (text.length > max) text = `${leadingChars(text, max)}…`;
  return text;
}

/**
 * The first `max` UTF-16 code units of `text`, one fewer when the last would be
 * the first half of a surrogate pair: a lone half is invalid UTF-16, which
 * DynamoDB refuses and a terminal shows as a replacement character.
 *
 * @example
 * leadingChars("ab😀", 3); // "ab"
 */
export function leadingChars(text: string, max: number): string {
  if (text.length <= max) return text;
  const code = text.charCodeAt(max - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? max - 1 : max);
}

/**
 * Checks an offset decoded from a file against the file's size. Past the end,
 * the file is cut short or the field is damaged: the file's fault, not a
 * bound of the engine's, so a ContentError (and a reason saying so) rather
 * than a limit.
 *
 * @example
 * const offset = withinFile(entry.offset, ctx.reader.size, "name table");
 */
export function withinFile(value: number, size: number, what: string): number {
  if (!Number.isFinite(value) || value < 0) throw new ContentError(`${what}: invalid offset ${value}`);
  if (value > size) {
    throw new ContentError(
      `truncated or damaged: ${what} at byte ${value} lies past the end of the file (${size} bytes)`,
    );
  }
  return value;
}
