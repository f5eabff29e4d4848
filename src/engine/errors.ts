/**
 * The engine's error family. Content problems (a truncated or corrupt file, a
 * limit reached) become data on the result; only {@link SourceError}s, faults
 * of the place the bytes come from, escape the engine so the caller can retry.
 */

/** Base of every error this project throws on purpose. */
export class CatalogError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "CatalogError";
  }
}

/** The file's content is not what its format requires (truncated, corrupt, inconsistent). */
export class ContentError extends CatalogError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ContentError";
  }
}

/**
 * The data ended before its format says it does: a compressed stream's input
 * ran out before its end marker or trailer. Kept apart from other damage so
 * that a file cut short is called partial, not just damaged.
 */
export class TruncatedError extends ContentError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "TruncatedError";
  }
}

/**
 * Which bound an extraction hit: the `Budget`'s `bytes` read, read
 * `requests`, wall `time`, listed `entries` or nesting `depth`, or a `length`
 * decoded from the file over its named limit (see `limits.ts`). A result
 * names it in `limit`.
 *
 * @example
 * if (result.limit === "time") retryLater(result.source);
 */
export type LimitKind = "bytes" | "requests" | "time" | "entries" | "depth" | "length";

/** Input exceeded a named bound (see `limits.ts`); the engine reports a partial result. */
export class LimitExceededError extends CatalogError {
  readonly limit: LimitKind;
  constructor(limit: LimitKind, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "LimitExceededError";
    this.limit = limit;
  }
}

/**
 * Reading the bytes failed for a reason outside the file (I/O, network,
 * throttling). Never turned into a record: the caller retries.
 */
export class SourceError extends CatalogError {
  readonly source: string;
  constructor(source: string, message: string, options?: ErrorOptions) {
    super(`${source}: ${message}`, options);
    this.name = "SourceError";
    this.source = source;
  }
}

/**
 * The object the source was pinned to no longer exists or has changed
 * (S3 404 or 412 on an ETag/version-pinned read). Callers treat it as "superseded".
 */
export class SourceChangedError extends SourceError {
  constructor(source: string, message: string, options?: ErrorOptions) {
    super(source, message, options);
    this.name = "SourceChangedError";
  }
}

/** Text of any thrown value, for a record's `reason`. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}
