import { Readable } from "node:stream";
import { constants, createGunzip, type Gunzip } from "node:zlib";
import { ContentError, describeError, LimitExceededError } from "../../errors.js";
import { cleanString } from "../../limits.js";
import { utf8OrLatin1 } from "../bytes.js";

const FLAG_HCRC = 0x02;
const FLAG_EXTRA = 0x04;
const FLAG_NAME = 0x08;
const FLAG_COMMENT = 0x10;

/** What a gzip member header and the file's last four bytes state (RFC 1952). */
export interface GzipHeader {
  originalName?: string;
  /** MTIME, the original file's modification time, as ISO 8601 in UTC; absent when 0 (none). */
  modified?: string;
  /**
   * ISIZE: the last member's uncompressed size modulo 2^32. For a multi-member
   * file it is only the last member's; past 4 GiB it has wrapped.
   */
  isize: number;
}

function zeroTerminated(head: Uint8Array, start: number): { value: string; next: number } {
  const end = head.indexOf(0, start);
  if (end < 0) throw new ContentError("gzip header field runs past the head window");
  // RFC 1952 says ISO 8859-1 for FNAME; tools on UTF-8 systems write UTF-8 anyway.
  return { value: utf8OrLatin1(head.subarray(start, end)), next: end + 1 };
}

/**
 * Decodes the first member's header from the head window and ISIZE from the tail.
 *
 * @example
 * parseGzipHeader(head, tail) // { originalName: "report.tar", modified: "2013-08-19T22:26:00Z", isize: 10240 }
 */
export function parseGzipHeader(head: Uint8Array, tail: Uint8Array): GzipHeader {
  if (head.byteLength < 10 || head[0] !== 0x1f || head[1] !== 0x8b)
    throw new ContentError("not a gzip stream");
  if (head[2] !== 8) throw new ContentError(`gzip compression method ${head[2]} is not deflate`);
  const data = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const flags = head[3] as number;
  const mtime = data.getUint32(4, true);
  let at = 10;
  if (flags & FLAG_EXTRA) at += 2 + (at + 2 <= head.byteLength ? data.getUint16(at, true) : 0);
  let originalName: string | undefined;
  if (flags & FLAG_NAME) {
    const field = zeroTerminated(head, at);
    originalName = cleanString(field.value);
    at = field.next;
  }
  if (flags & FLAG_COMMENT) at = zeroTerminated(head, at).next;
  if (flags & FLAG_HCRC) at += 2;
  if (tail.byteLength < 4) throw new ContentError("gzip stream too short for its trailer");
  const isize = new DataView(tail.buffer, tail.byteOffset + tail.byteLength - 4, 4).getUint32(0, true);
  return {
    ...(originalName && { originalName }),
    // Whole seconds: written without fractions, as the PDF and XMP dates are.
    ...(mtime > 0 && { modified: new Date(mtime * 1000).toISOString().replace(".000Z", "Z") }),
    isize,
  };
}

/** Compressed bytes of a {@link ForwardInflater}'s first fetch: the head window every extraction reads. */
const FIRST_CHUNK_BYTES = 64 * 1024;

/** Where a {@link ForwardInflater} gets its compressed bytes, and how many it may take. */
export interface InflaterInput {
  /** Reads up to `length` compressed bytes at `offset`. */
  read(offset: number, length: number): Promise<Uint8Array>;
  /** The compressed file's size. */
  size: number;
  /** Compressed bytes to fetch at most; less than `size` cuts the content short. */
  maxInput: number;
  /** Compressed bytes fetched a read at a time, at most (the first reads are smaller). */
  chunkBytes: number;
  /** Inflated bytes to produce at most. */
  maxOutput: number;
  /** The extraction's deadline: once aborted, the next read refuses and inflating stops. */
  signal?: AbortSignal;
}

/**
 * A gzip file's inflated content as a forward-only range read, for a tar
 * header walk, which never looks back: compressed bytes are fetched a chunk
 * at a time as the walk moves on, inflated as a stream (whose back-pressure
 * keeps a bomb from inflating ahead of the walk), and what lies behind the
 * walk is dropped, so memory stays at a few chunks whatever the size of the
 * archive. Multi-member files read as one stream, as gunzip reads them.
 *
 * @example
 * const inflater = new ForwardInflater({ read, size, maxInput: 8 << 20, chunkBytes: 1 << 20, maxOutput: 256 << 20 });
 * const firstHeader = await inflater.read(0, 512);
 * inflater.close();
 */
export class ForwardInflater {
  /** Compressed bytes fetched so far. */
  consumed = 0;
  /** Inflated bytes produced so far. */
  produced = 0;
  /** Why inflating failed (damaged deflate data), when it did: the content ends there. */
  failure?: string;
  private ended = false;
  private window: Uint8Array = new Uint8Array(0);
  private windowStart = 0;
  private readonly gunzip: Gunzip;
  private readonly source: Readable;
  private readonly output: AsyncIterator<Buffer>;

  constructor(private readonly input: InflaterInput) {
    // With Z_SYNC_FLUSH a cut input ends the stream with what it held rather than failing it.
    this.gunzip = createGunzip({ finishFlush: constants.Z_SYNC_FLUSH, chunkSize: 64 * 1024 });
    // One chunk in flight at a time: the output's back-pressure reaches the fetches.
    this.source = Readable.from(this.compressed(), { highWaterMark: 1 });
    this.source.on("error", (error) => this.gunzip.destroy(error));
    this.source.pipe(this.gunzip);
    this.output = this.gunzip[Symbol.asyncIterator]();
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
   * Up to `length` inflated bytes at `offset`, fewer only where the content
   * ends; `offset` never goes below an earlier read's. A refused fetch (the
   * extraction's read budget) is thrown for the walk to handle.
   */
  async read(offset: number, length: number): Promise<Uint8Array> {
    if (offset < this.windowStart) throw new RangeError("ForwardInflater reads forward only");
    const end = offset + length;
    this.dropBefore(offset);
    while (this.windowStart + this.window.byteLength < end && !this.ended) {
      if (this.produced >= this.input.maxOutput) break;
      // Inflating a bomb's output between two fetches reads nothing, so the deadline is checked here.
      if (this.input.signal?.aborted) {
        this.close();
        throw new LimitExceededError("time", "time budget exhausted while inflating");
      }
      let next: IteratorResult<Buffer>;
      try {
        next = await this.output.next();
      } catch (error) {
        if (error instanceof LimitExceededError) throw error;
        this.failure = describeError(error);
        this.ended = true;
        break;
      }
      if (next.done) {
        this.ended = true;
        break;
      }
      const chunk = next.value;
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

  /** Stops inflating and fetching. */
  close(): void {
    this.ended = true;
    this.source.destroy();
    this.gunzip.destroy();
  }

  /**
   * The compressed input: the head window's 64 KiB first (already read for
   * detection), then fetches doubling up to `chunkBytes`, so a gzip with no
   * tar inside costs little beyond its first block and a big tarball few requests.
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
