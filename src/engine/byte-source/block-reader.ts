import { LimitExceededError, type LimitKind } from "../errors.js";
import type { Budget } from "../limits.js";
import type { ByteSource } from "./byte-source.js";

/** A span of bytes: `[offset, offset + length)`. */
export interface ByteRange {
  offset: number;
  length: number;
}

/** What a reader has fetched from its source. */
export interface ReadStats {
  /** Bytes returned by the source (cache hits are free). */
  bytesRead: number;
  /** Calls made to the source; for S3, ranged GET requests. */
  requests: number;
}

export interface BlockReaderOptions {
  /** Reads are rounded out to blocks of this size. @default 16 KiB */
  blockSize?: number;
  /** Cached blocks beyond this are evicted, oldest first. @default 16 MiB */
  maxCacheBytes?: number;
  /** Largest single request to the source; longer runs are split. @default 8 MiB */
  maxRequestBytes?: number;
  /** Bytes and requests allowed; exceeding either throws {@link LimitExceededError}. */
  budget?: Pick<Budget, "maxBytes" | "maxRequests">;
  /** Aborted when the extraction's time budget runs out. */
  signal?: AbortSignal;
  /**
   * `performance.now()` after which every read, cache hits included, throws.
   * A timer alone is not enough: a parser looping over cached blocks yields
   * only to microtasks, so the timer that aborts `signal` would never run.
   */
  deadline?: number;
  /**
   * The source's first bytes, already read by the caller: reads that fall
   * inside them are answered from memory, as one resolved promise, without
   * the cache. Detection peeks a few bytes at a time dozens of times per file;
   * through the cache each peek is a chain of promises. Bytes served from here
   * are not counted: whoever read them counted them.
   */
  head?: Uint8Array;
}

/**
 * Random access over a {@link ByteSource} with a block cache: reads are
 * rounded out to aligned blocks, missing adjacent blocks are fetched in one
 * request, concurrent readers of a block share one fetch, and every byte and
 * request that reaches the source is counted against a budget.
 *
 * Written here rather than taken from @tokenizer/range because that cache is
 * tied to HTTP and keeps no budget; this one serves files, buffers and S3 alike.
 *
 * @example
 * const reader = new BlockReader(await FileSource.open("a.zip"));
 * await reader.prefetch([{ offset: 0, length: 4096 }, { offset: reader.size - 65536, length: 65536 }]);
 * const eocd = await reader.tail(22);
 */
export class BlockReader {
  readonly name: string;
  readonly size: number;
  readonly blockSize: number;
  private readonly maxCacheBytes: number;
  private readonly maxRequestBytes: number;
  private readonly budget: Pick<Budget, "maxBytes" | "maxRequests">;
  private readonly signal: AbortSignal | undefined;
  private readonly deadline: number;
  private readonly head: Uint8Array | undefined;
  private readonly blocks = new Map<number, Uint8Array>();
  private readonly pending = new Map<number, Promise<void>>();
  private cachedBytes = 0;
  private readonly counters: ReadStats = { bytesRead: 0, requests: 0 };
  private firstLimit: LimitKind | undefined;

  constructor(
    readonly source: ByteSource,
    options: BlockReaderOptions = {},
  ) {
    this.name = source.name;
    this.size = source.size;
    this.blockSize = options.blockSize ?? 16 * 1024;
    this.maxCacheBytes = options.maxCacheBytes ?? 16 * 1024 * 1024;
    this.maxRequestBytes = Math.max(this.blockSize, options.maxRequestBytes ?? 8 * 1024 * 1024);
    this.budget = options.budget ?? {
      maxBytes: Number.POSITIVE_INFINITY,
      maxRequests: Number.POSITIVE_INFINITY,
    };
    this.signal = options.signal;
    this.deadline = options.deadline ?? Number.POSITIVE_INFINITY;
    this.head = options.head;
  }

  /** Bytes and requests that reached the source so far. */
  get stats(): ReadStats {
    return { ...this.counters };
  }

  /**
   * The first bound that cut reading short: the budget (bytes, requests or
   * time) of the first refused read, or a bound an extractor enforced itself
   * and recorded with {@link noteLimit}; undefined while nothing was cut.
   * Kept here because a caller may catch the error or stop early and carry on
   * with what it has (a tar listing stopped at a read limit or at the entry
   * budget): the extraction was still cut short by that bound.
   *
   * @example
   * if (reader.limitReached === "time") console.warn("ran out of time before the whole file was read");
   */
  get limitReached(): LimitKind | undefined {
    return this.firstLimit;
  }

  /**
   * Records a bound that stopped a walk over this source without a refused
   * read (an archive listing that reached the entry budget), so that
   * {@link limitReached} names it. The first bound recorded wins.
   *
   * @example
   * if (listed >= budget.maxEntries) reader.noteLimit("entries");
   */
  noteLimit(limit: LimitKind): void {
    this.firstLimit ??= limit;
  }

  /**
   * Reads `length` bytes at `offset`. Returns fewer only at the end of the
   * source; an offset past the end returns an empty array. A span within one
   * block is a view of the cache; a longer one is a new array.
   */
  async read(offset: number, length: number): Promise<Uint8Array> {
    this.checkTime();
    const { start, end } = this.clamp(offset, length);
    if (end <= start) return new Uint8Array(0);
    if (this.head && end <= this.head.byteLength) return this.head.subarray(start, end);
    const blocks = await this.cachedBlocks(start, end);
    if (blocks.length === 1) {
      const base = Math.floor(start / this.blockSize) * this.blockSize;
      return (blocks[0] as Uint8Array).subarray(start - base, end - base);
    }
    const out = new Uint8Array(end - start);
    this.copyBlocks(blocks, start, end, out);
    return out;
  }

  /**
   * Reads `target.byteLength` bytes at `offset` into `target`, copied once
   * from the cache with no array in between; returns how many (fewer only at
   * the end of the source). For a tokenizer, whose caller owns the buffer:
   * file-type peeks up to 256 KiB ahead for every ZIP entry written with a
   * data descriptor (a streamed zip, most JARs), and a new array per peek,
   * copied again into the caller's buffer, made a 228 KB zip of 1,458 such
   * entries allocate 138 MB and take seconds to detect.
   *
   * @example
   * const header = new Uint8Array(30);
   * const count = await reader.readInto(offset, header);
   */
  async readInto(offset: number, target: Uint8Array): Promise<number> {
    this.checkTime();
    const { start, end } = this.clamp(offset, target.byteLength);
    if (end <= start) return 0;
    if (this.head && end <= this.head.byteLength) {
      target.set(this.head.subarray(start, end));
      return end - start;
    }
    this.copyBlocks(await this.cachedBlocks(start, end), start, end, target);
    return end - start;
  }

  private clamp(offset: number, length: number): { start: number; end: number } {
    const start = Math.min(Math.max(0, Math.floor(offset)), this.size);
    return { start, end: Math.min(this.size, start + Math.max(0, Math.floor(length))) };
  }

  /** The cached blocks covering `[start, end)`, fetched as needed and marked recently used. */
  private async cachedBlocks(start: number, end: number): Promise<Uint8Array[]> {
    const first = Math.floor(start / this.blockSize);
    const last = Math.floor((end - 1) / this.blockSize);
    // Concurrent readers may evict a block between the fetch and the copy; fetch again then.
    for (let attempt = 0; ; attempt++) {
      // A span already cached (a tokenizer peeking again and again) skips the fetch and its promises.
      if (attempt > 0 || !this.allCached(first, last)) await this.ensure(first, last);
      const blocks: Uint8Array[] = [];
      for (let index = first; index <= last; index++) {
        const block = this.blocks.get(index);
        if (!block) break;
        blocks.push(block);
      }
      if (blocks.length === last - first + 1) {
        for (const [i, block] of blocks.entries()) {
          // Refresh recency: Map iteration order is insertion order, used as LRU order.
          this.blocks.delete(first + i);
          this.blocks.set(first + i, block);
        }
        return blocks;
      }
      if (attempt >= 2)
        throw new Error(`cache of ${this.name} is too small for a read of ${end - start} bytes`);
    }
  }

  private allCached(first: number, last: number): boolean {
    for (let index = first; index <= last; index++) if (!this.blocks.has(index)) return false;
    return true;
  }

  /** Copies `[start, end)` out of `blocks` (from the one holding `start` on) to the front of `out`. */
  private copyBlocks(blocks: readonly Uint8Array[], start: number, end: number, out: Uint8Array): void {
    const first = Math.floor(start / this.blockSize);
    for (const [i, block] of blocks.entries()) {
      const base = (first + i) * this.blockSize;
      const from = Math.max(start, base) - base;
      const to = Math.min(end, base + block.byteLength) - base;
      out.set(from === 0 && to === block.byteLength ? block : block.subarray(from, to), base + from - start);
    }
  }

  /**
   * Reads a span for a whole-object pass (hashing): blocks already cached are
   * reused, missing runs are fetched straight from the source without being
   * cached and outside the byte/request budget (such a pass reads everything
   * by definition and is opt-in), but still counted.
   */
  async readThrough(offset: number, length: number): Promise<Uint8Array> {
    const start = Math.min(Math.max(0, offset), this.size);
    const end = Math.min(this.size, start + Math.max(0, length));
    const out = new Uint8Array(Math.max(0, end - start));
    let position = start;
    while (position < end) {
      const index = Math.floor(position / this.blockSize);
      const base = index * this.blockSize;
      const cached = this.blocks.get(index);
      if (cached) {
        const to = Math.min(end, base + cached.byteLength);
        out.set(cached.subarray(position - base, to - base), position - start);
        position = to;
        continue;
      }
      let runEnd = Math.min(end, base + this.blockSize);
      while (runEnd < end && !this.blocks.has(Math.floor(runEnd / this.blockSize))) {
        runEnd = Math.min(end, runEnd + this.blockSize);
      }
      const bytes = await this.source.read(position, runEnd - position);
      this.counters.requests += 1;
      this.counters.bytesRead += bytes.byteLength;
      out.set(bytes, position - start);
      if (bytes.byteLength < runEnd - position) return out.subarray(0, position - start + bytes.byteLength);
      position = runEnd;
    }
    return out;
  }

  /** The last `length` bytes (all of them for a smaller source). */
  tail(length: number): Promise<Uint8Array> {
    const wanted = Math.min(this.size, Math.max(0, length));
    return this.read(this.size - wanted, wanted);
  }

  /**
   * Fetches every block the ranges touch, coalescing adjacent blocks into
   * single requests and issuing the requests concurrently. Extractors call it
   * with their up-front plan so that most small objects cost one request.
   */
  async prefetch(ranges: readonly ByteRange[]): Promise<void> {
    const wanted = new Set<number>();
    for (const range of ranges) {
      const start = Math.min(Math.max(0, range.offset), this.size);
      const end = Math.min(this.size, start + Math.max(0, range.length));
      if (end <= start) continue;
      for (let i = Math.floor(start / this.blockSize); i <= Math.floor((end - 1) / this.blockSize); i++) {
        wanted.add(i);
      }
    }
    const sorted = [...wanted].sort((a, b) => a - b);
    await this.fetchIndices(sorted);
  }

  private async ensure(first: number, last: number): Promise<void> {
    const indices: number[] = [];
    for (let i = first; i <= last; i++) indices.push(i);
    await this.fetchIndices(indices);
  }

  private async fetchIndices(sorted: readonly number[]): Promise<void> {
    const waits: Promise<void>[] = [];
    let run: number[] = [];
    const flush = () => {
      if (run.length > 0) waits.push(this.fetchRun(run));
      run = [];
    };
    const blocksPerRequest = Math.floor(this.maxRequestBytes / this.blockSize);
    for (const index of sorted) {
      if (this.blocks.has(index)) continue;
      const inFlight = this.pending.get(index);
      if (inFlight) {
        flush();
        waits.push(inFlight);
        continue;
      }
      const previous = run[run.length - 1];
      if (previous !== undefined && (index !== previous + 1 || run.length >= blocksPerRequest)) flush();
      run.push(index);
    }
    flush();
    await Promise.all(waits);
  }

  private fetchRun(run: readonly number[]): Promise<void> {
    const first = run[0] as number;
    const offset = first * this.blockSize;
    const length = Math.min(this.size - offset, run.length * this.blockSize);
    const fetched = this.fetch(offset, length).then((bytes) => {
      for (const index of run) {
        const from = (index - first) * this.blockSize;
        this.store(index, bytes.subarray(from, Math.min(bytes.byteLength, from + this.blockSize)));
      }
    });
    const settled = fetched.finally(() => {
      for (const index of run) this.pending.delete(index);
    });
    for (const index of run) this.pending.set(index, settled);
    return settled;
  }

  private async fetch(offset: number, length: number): Promise<Uint8Array> {
    if (this.signal?.aborted) {
      throw this.refuse("time", `time budget exhausted before reading ${this.name}`);
    }
    if (this.counters.requests + 1 > this.budget.maxRequests) {
      throw this.refuse("requests", `read request budget of ${this.budget.maxRequests} exhausted`);
    }
    if (this.counters.bytesRead + length > this.budget.maxBytes) {
      throw this.refuse("bytes", `read budget of ${this.budget.maxBytes} bytes exhausted`);
    }
    this.counters.requests += 1;
    this.counters.bytesRead += length;
    const bytes = await this.source.read(offset, length);
    if (bytes.byteLength < length) {
      // The source shrank under us (or lied about its size): keep what arrived, pad nothing.
      this.counters.bytesRead -= length - bytes.byteLength;
    }
    return bytes;
  }

  /**
   * Throws {@link LimitExceededError} ("time") once the time budget is spent:
   * for a walk that reads its source's memory directly, past this reader.
   */
  checkTime(): void {
    if (this.signal?.aborted || performance.now() > this.deadline) {
      throw this.refuse("time", `time budget exhausted while reading ${this.name}`);
    }
  }

  private refuse(limit: LimitKind, message: string): LimitExceededError {
    this.noteLimit(limit);
    return new LimitExceededError(limit, message);
  }

  private store(index: number, block: Uint8Array): void {
    this.blocks.set(index, block);
    this.cachedBytes += block.byteLength;
    for (const [oldest, bytes] of this.blocks) {
      if (this.cachedBytes <= this.maxCacheBytes) break;
      if (oldest === index) break;
      this.blocks.delete(oldest);
      this.cachedBytes -= bytes.byteLength;
    }
  }
}
