import type { ByteSource } from "../engine/byte-source/byte-source.js";
import { SourceError } from "../engine/errors.js";
import type { ExtractionResult } from "../engine/types.js";

/**
 * A read that takes this long (or half the time budget, if less) is a slow
 * read: a healthy S3 answers a ranged GET in tens of milliseconds. Only slow
 * reads count as waiting on the source, so a file whose extractor makes many
 * prompt reads until its budget runs out is recorded with its time limit, as
 * the file's cost, instead of being retried for a fault that never clears.
 */
export const SLOW_READ_MS = 500;

/**
 * The engine's time budget ran out because the source did not deliver the
 * bytes, not because the file is costly: transient, so the invocation fails
 * and is retried (then parked) instead of recording a time limit.
 */
export class SourceTooSlowError extends SourceError {
  constructor(source: string, message: string, options?: ErrorOptions) {
    super(source, message, options);
    this.name = "SourceTooSlowError";
  }
}

/**
 * A byte source that remembers how its reads went: the first
 * {@link SourceError} any read threw (an extractor may have caught it and
 * reported a truncated file instead), and when each read was outstanding, so
 * the time spent waiting on the source within a time budget can be told.
 *
 * @example
 * const watched = new WatchedSource(source, budget.maxMillis);
 * const result = await extract(watched, { budget });
 * const fault = watched.faultOf(result);
 * if (fault) throw fault;
 */
export class WatchedSource implements ByteSource {
  readonly name: string;
  readonly size: number;
  readonly inMemory: boolean;
  /** The first source fault a read threw, whether or not its caller passed it on. */
  fault: SourceError | undefined;
  private readonly reads: { start: number; end?: number }[] = [];
  private readonly deadline: number;

  /** `maxMillis`: the time budget of the extraction about to start. */
  constructor(
    private readonly inner: ByteSource,
    private readonly maxMillis: number,
  ) {
    this.name = inner.name;
    this.size = inner.size;
    this.inMemory = inner.inMemory === true;
    this.deadline = performance.now() + maxMillis;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    const read: { start: number; end?: number } = { start: performance.now() };
    this.reads.push(read);
    try {
      return await this.inner.read(offset, length);
    } catch (error) {
      if (error instanceof SourceError) this.fault ??= error;
      throw error;
    } finally {
      read.end = performance.now();
    }
  }

  /**
   * The source's fault behind an extraction's `result`, if there was one: a
   * read that failed, or a time budget spent waiting on the source (a slow
   * read, see {@link SLOW_READ_MS}, still outstanding when the budget ran out,
   * or slow reads outstanding for over half of it). A budget spent while the
   * source answered promptly is the file's own cost: undefined. Only a result
   * whose `limit` is `"time"` is judged: the hash pass follows the extraction
   * outside its budget, so a long one over a large object is no fault, however
   * it makes the whole call outlast the budget.
   */
  faultOf(result: Pick<ExtractionResult, "limit">): SourceError | undefined {
    if (this.fault) return this.fault;
    if (result.limit !== "time") return undefined;
    const cut = Math.min(this.deadline, performance.now());
    const slowMs = Math.min(SLOW_READ_MS, this.maxMillis / 2);
    // Reads as long as they had lasted by the cut: one still outstanding there counts for what it took so far.
    const slow = this.reads.filter(
      (read) => read.start < cut && Math.min(read.end ?? cut, cut) - read.start >= slowMs,
    );
    const outstanding = slow.some((read) => (read.end ?? cut) >= cut);
    const waitedMs = Math.round(waitedUntil(slow, cut));
    if (outstanding || waitedMs * 2 > this.maxMillis) {
      return new SourceTooSlowError(
        this.name,
        `the ${this.maxMillis} ms extraction budget ran out waiting for the bytes (${waitedMs} ms waiting${outstanding ? ", a read still outstanding" : ""})`,
      );
    }
    return undefined;
  }

  close(): Promise<void> {
    return this.inner.close?.() ?? Promise.resolve();
  }
}

/** Milliseconds before `cut` during which at least one of `reads` was outstanding (overlaps count once). */
function waitedUntil(reads: readonly { start: number; end?: number }[], cut: number): number {
  let total = 0;
  let coveredTo = Number.NEGATIVE_INFINITY;
  for (const read of [...reads].sort((a, b) => a.start - b.start)) {
    const from = Math.max(read.start, coveredTo);
    const to = Math.min(read.end ?? cut, cut);
    if (to > from) total += to - from;
    coveredTo = Math.max(coveredTo, to);
  }
  return total;
}
