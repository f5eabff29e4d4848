import { describeError, LimitExceededError, TruncatedError } from "../../errors.js";

/** Compressed bytes of a {@link ForwardDecompressor}'s first fetch: the head window every extraction reads. */
const FIRST_CHUNK_BYTES = 64 * 1024;
/** How far each step of {@link ForwardDecompressor.drain} asks to read; nothing read is kept. */
const DRAIN_STEP_BYTES = 64 * 1024;

/** A running decoder: its output, and how to stop it. */
export interface DecoderRun {
  output: AsyncIterator<Uint8Array>;
  close(): void;
}

/**
 * A compression format's decoder, started over the compressed bytes. `cut`
 * says the input stops before the file does (the walk's input bound): the
 * decoder then ends with what the input held, as at the end of a stream,
 * instead of failing on the missing rest.
 */
export type Decoder = (compressed: AsyncIterable<Uint8Array>, cut: boolean) => DecoderRun;

/** Where a {@link ForwardDecompressor} gets its compressed bytes, and how many it may take. */
export interface DecompressorInput {
  /** Reads up to `length` compressed bytes at `offset`. */
  read(offset: number, length: number): Promise<Uint8Array>;
  /** The compressed file's size. */
  size: number;
  /** Compressed bytes to fetch at most; less than `size` cuts the content short. */
  maxInput: number;
  /** Compressed bytes fetched a read at a time, at most (the first reads are smaller). */
  chunkBytes: number;
  /** Decompressed bytes to produce at most. */
  maxOutput: number;
  /** The extraction's deadline: once aborted, the next read refuses and decoding stops. */
  signal?: AbortSignal;
  /** The format's decoder (gzip, zstd, xz). */
  decoder: Decoder;
}

/**
 * A compressed file's content as a forward-only range read, for a tar header
 * walk, which never looks back: compressed bytes are fetched a chunk at a time
 * as the walk moves on, decoded as a stream (whose back-pressure keeps a bomb
 * from expanding ahead of the walk), and what lies behind the walk is dropped,
 * so memory stays at a few chunks whatever the size of the archive.
 *
 * @example
 * const content = new ForwardDecompressor({ read, size, maxInput: 8 << 20, chunkBytes: 1 << 20, maxOutput: 256 << 20, decoder: gunzip });
 * const firstHeader = await content.read(0, 512);
 * content.close();
 */
export class ForwardDecompressor {
  /** Compressed bytes fetched so far. */
  consumed = 0;
  /** Decompressed bytes produced so far. */
  produced = 0;
  /** Why decoding failed (damaged data), when it did: the content ends there. */
  failure?: string;
  /** True when the failure is the file ending inside the stream, before its end marker or trailer. */
  cutShort = false;
  private ended = false;
  private window: Uint8Array = new Uint8Array(0);
  private windowStart = 0;
  private readonly run: DecoderRun;

  constructor(private readonly input: DecompressorInput) {
    this.run = input.decoder(this.compressed(), Math.min(input.size, input.maxInput) < input.size);
  }

  /**
   * True when the content was cut by a bound, input or output, rather than
   * by the end of the file: a walk that meets its end should extrapolate,
   * not call the archive truncated.
   */
  get bounded(): boolean {
    if (this.produced >= this.input.maxOutput) return true;
    return this.ended && this.failure === undefined && this.input.maxInput < this.input.size;
  }

  /**
   * Up to `length` decompressed bytes at `offset`, fewer only where the
   * content ends; `offset` never goes below an earlier read's. A refused
   * fetch (the extraction's read budget) is thrown for the walk to handle.
   */
  async read(offset: number, length: number): Promise<Uint8Array> {
    if (offset < this.windowStart) throw new RangeError("ForwardDecompressor reads forward only");
    const end = offset + length;
    this.dropBefore(offset);
    while (this.windowStart + this.window.byteLength < end && !this.ended) {
      if (this.produced >= this.input.maxOutput) break;
      // Expanding a bomb's output between two fetches reads nothing, so the deadline is checked here.
      if (this.input.signal?.aborted) {
        this.close();
        throw new LimitExceededError("time", "time budget exhausted while decompressing");
      }
      let next: IteratorResult<Uint8Array>;
      try {
        next = await this.run.output.next();
      } catch (error) {
        if (error instanceof LimitExceededError) throw error;
        this.failure = describeError(error);
        this.cutShort = error instanceof TruncatedError;
        this.ended = true;
        break;
      }
      if (next.done) {
        this.ended = true;
        break;
      }
      const chunk = next.value;
      if (chunk.byteLength === 0) continue;
      this.produced += chunk.byteLength;
      if (this.window.byteLength === 0) {
        // Nothing kept: the chunk, from `offset` on, is the window, uncopied (an entry's body is passed over whole).
        const from = Math.min(chunk.byteLength, Math.max(0, offset - (this.produced - chunk.byteLength)));
        this.window = chunk.subarray(from);
        this.windowStart = this.produced - this.window.byteLength;
        continue;
      }
      const joined = new Uint8Array(this.window.byteLength + chunk.byteLength);
      joined.set(this.window);
      joined.set(chunk, this.window.byteLength);
      this.window = joined;
      this.dropBefore(offset);
    }
    return this.window.subarray(offset - this.windowStart, Math.max(0, end - this.windowStart));
  }

  /**
   * Decompresses the rest of the content, keeping none of it, so that
   * `produced` is its whole size. True when the content ended where the file
   * does, undamaged; false when a bound or damage stopped it first.
   */
  async drain(): Promise<boolean> {
    while (!this.ended && this.produced < this.input.maxOutput)
      await this.read(this.produced, DRAIN_STEP_BYTES);
    return this.ended && this.failure === undefined && !this.bounded;
  }

  /** Stops decoding and fetching. */
  close(): void {
    this.ended = true;
    this.run.close();
  }

  /**
   * The compressed input: the head window's 64 KiB first (already read for
   * detection), then fetches doubling up to `chunkBytes`, so a compressed
   * file with no tar inside costs little beyond its first block and a big
   * tarball few requests.
   */
  private async *compressed(): AsyncGenerator<Uint8Array> {
    const end = Math.min(this.input.size, this.input.maxInput);
    for (let at = 0, chunk = Math.min(FIRST_CHUNK_BYTES, this.input.chunkBytes); at < end; ) {
      const bytes = await this.input.read(at, Math.min(chunk, end - at));
      chunk = Math.min(chunk * 2, this.input.chunkBytes);
      if (bytes.byteLength === 0) return;
      at += bytes.byteLength;
      this.consumed = at;
      yield bytes;
    }
  }

  private dropBefore(offset: number): void {
    const drop = Math.min(offset - this.windowStart, this.window.byteLength);
    if (drop <= 0) return;
    // The window always ends at `produced`: bytes behind the walk (an entry's body) are not kept.
    this.window = this.window.subarray(drop);
    this.windowStart += drop;
  }
}
