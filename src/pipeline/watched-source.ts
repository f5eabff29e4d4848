import type { ByteSource } from "../engine/byte-source/byte-source.js";
import { SourceError } from "../engine/errors.js";
import type { ExtractionResult } from "../engine/types.js";

/** How the engine words a spent time budget, in a result's reason or warnings. */
const TIME_LIMIT_TEXT = "time budget exhausted";

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
   * read that failed, or a time budget spent waiting on the source (a read
   * still outstanding when the budget ran out, or reads outstanding for over
   * half of it). A budget spent while the source answered promptly is the
   * file's own cost: undefined. Only a result that says the budget ran out
   * is judged: the hash pass follows the extraction outside its budget, so a
   * long one over a large object is no fault, however it makes the whole call
   * outlast the budget.
   */
  faultOf(result: Pick<ExtractionResult, "reason" | "warnings">): SourceError | undefined {
    if (this.fault) return this.fault;
    const ranOutOfTime = [result.reason, ...result.warnings].some((text) => text?.includes(TIME_LIMIT_TEXT));
    if (!ranOutOfTime) return undefined;
    const cut = Math.min(this.deadline, performance.now());
    const outstanding = this.reads.some((read) => read.start < cut && (read.end ?? cut) >= cut);
    const waitedMs = Math.round(this.waitedUntil(cut));
    if (outstanding || waitedMs * 2 > this.maxMillis) {
      return new SourceTooSlowError(
        this.name,
        `the ${this.maxMillis} ms extraction budget ran out waiting for the bytes (${waitedMs} ms waiting${outstanding ? ", a read still outstanding" : ""})`,
      );
    }
    return undefined;
  }

  /** Milliseconds before `cut` during which at least one read was outstanding (overlaps count once). */
  private waitedUntil(cut: number): number {
    let total = 0;
    let coveredTo = Number.NEGATIVE_INFINITY;
    for (const read of [...this.reads].sort((a, b) => a.start - b.start)) {
      const from = Math.max(read.start, coveredTo);
      const to = Math.min(read.end ?? cut, cut);
      if (to > from) total += to - from;
      coveredTo = Math.max(coveredTo, to);
    }
    return total;
  }

  close(): Promise<void> {
    return this.inner.close?.() ?? Promise.resolve();
  }
}
