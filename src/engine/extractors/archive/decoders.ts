/**
 * Streaming decoders for {@link ForwardDecompressor}: gzip from Node's zlib,
 * zstd from fzstd (pure JavaScript), xz from xz-decompress (xz-embedded built
 * to WebAssembly). Node.js 20 has no zstd or xz of its own, and the native
 * bindings (liblzma, libzstd) would need a build for Lambda's arm64 beside the
 * one for the laptop. The two libraries are loaded only when such a file comes.
 */
import { Readable } from "node:stream";
import { constants, createGunzip } from "node:zlib";
import { ContentError, TruncatedError } from "../../errors.js";
import type { Decoder, DecoderRun } from "./forward-decompressor.js";

/** gzip, as gunzip reads it: members in a row read as one stream. */
export const gunzip: Decoder = (compressed, cut) => {
  // With Z_SYNC_FLUSH an input cut by the walk's bound ends the stream with what it held; the whole file
  // is finished with Z_FINISH, which fails a member that ends before its trailer (a file cut short).
  const stream = createGunzip({
    finishFlush: cut ? constants.Z_SYNC_FLUSH : constants.Z_FINISH,
    chunkSize: 64 * 1024,
  });
  // One chunk in flight at a time: the output's back-pressure reaches the fetches.
  const source = Readable.from(compressed, { highWaterMark: 1 });
  source.on("error", (error) => stream.destroy(error));
  source.pipe(stream);
  return {
    output: gzipOutput(stream[Symbol.asyncIterator]()),
    close() {
      source.destroy();
      stream.destroy();
    },
  };
};

/** zlib's output, its "unexpected end of file" (Z_BUF_ERROR at the finish) named as a cut. */
async function* gzipOutput(output: AsyncIterator<Uint8Array>): AsyncGenerator<Uint8Array> {
  for (;;) {
    let next: IteratorResult<Uint8Array>;
    try {
      next = await output.next();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "Z_BUF_ERROR") throw new TruncatedError("truncated");
      throw new ContentError(`gzip: ${(error as Error).message}`);
    }
    if (next.done) return;
    yield next.value;
  }
}

/** A generator's run: closing it ends the generator, running its `finally` blocks. */
export function runOf(output: AsyncGenerator<Uint8Array>): DecoderRun {
  return {
    output,
    close() {
      output.return(undefined).catch(() => undefined);
    },
  };
}

/**
 * What a hand-written decoder keeps of its input, refilled: the bytes of
 * `bytes` from `from` on (those it has not read yet), followed by `more`.
 */
export function unreadThen(bytes: Uint8Array, from: number, more: Uint8Array): Uint8Array<ArrayBuffer> {
  const unread = bytes.subarray(from);
  const joined = new Uint8Array(unread.byteLength + more.byteLength);
  joined.set(unread);
  joined.set(more, unread.byteLength);
  return joined;
}

/**
 * The compressed input of a hand-driven decoder, taken a few bytes or a
 * block at a time (lz4), or as it comes (LZMA), with what a stream left
 * unread given back for the next one.
 */
export class CompressedInput {
  private bytes: Uint8Array = new Uint8Array(0);
  private at = 0;
  /** True once the source has nothing more. */
  done = false;

  constructor(private readonly source: AsyncIterator<Uint8Array>) {}

  /** `length` bytes, or fewer where the input ends. */
  async take(length: number): Promise<Uint8Array> {
    while (this.bytes.byteLength - this.at < length && !this.done) {
      const next = await this.source.next();
      if (next.done) this.done = true;
      else {
        this.bytes = unreadThen(this.bytes, this.at, next.value);
        this.at = 0;
      }
    }
    const taken = this.bytes.subarray(this.at, this.at + length);
    this.at += taken.byteLength;
    return taken;
  }

  /** The bytes not taken yet, or else the source's next chunk; empty once the input has ended. */
  async next(): Promise<Uint8Array> {
    if (this.at < this.bytes.byteLength) return this.take(this.bytes.byteLength - this.at);
    const next = this.done ? undefined : await this.source.next();
    if (!next || next.done) {
      this.done = true;
      return new Uint8Array(0);
    }
    return next.value;
  }

  /** Puts `bytes`, taken but not used, back before what is left. */
  giveBack(bytes: Uint8Array): void {
    if (bytes.byteLength === 0) return;
    this.bytes = unreadThen(bytes, 0, this.bytes.subarray(this.at));
    this.at = 0;
  }

  /** Whether no byte is left, waiting for the source if need be. */
  async atEnd(): Promise<boolean> {
    if (this.at < this.bytes.byteLength) return false;
    if ((await this.take(1)).byteLength === 0) return true;
    // Given back: the byte just taken is still in the buffer.
    this.at -= 1;
    return false;
  }

  async close(): Promise<void> {
    await this.source.return?.(undefined);
  }
}

/** Decompressed bytes handed on at a time by the hand-driven decoders. */
const OUTPUT_CHUNK_BYTES = 64 * 1024;

/** Decoded bytes, written one at a time, gathered into chunks to hand on. */
export class OutputChunks {
  private chunk = new Uint8Array(OUTPUT_CHUNK_BYTES);
  private filled = 0;
  private readonly full: Uint8Array[] = [];

  writeByte(byte: number): void {
    if (this.filled === OUTPUT_CHUNK_BYTES) {
      this.full.push(this.chunk);
      this.chunk = new Uint8Array(OUTPUT_CHUNK_BYTES);
      this.filled = 0;
    }
    this.chunk[this.filled++] = byte;
  }

  /** Writes `from[start..end)`; byte by byte, as most strings an LZW code names are a few bytes long. */
  write(from: Uint8Array, start: number, end: number): void {
    for (let at = start; at < end; at++) {
      if (this.filled === OUTPUT_CHUNK_BYTES) {
        this.full.push(this.chunk);
        this.chunk = new Uint8Array(OUTPUT_CHUNK_BYTES);
        this.filled = 0;
      }
      this.chunk[this.filled++] = from[at] as number;
    }
  }

  /** Whether a chunk is full, for {@link takeFull}: cheaper to ask after every string than to start a generator. */
  get hasFull(): boolean {
    return this.full.length > 0;
  }

  /** The chunks filled since the last call. */
  *takeFull(): Generator<Uint8Array> {
    while (this.full.length > 0) yield this.full.shift() as Uint8Array;
  }

  /** Everything written since the last call, the chunk being filled included. */
  *take(): Generator<Uint8Array> {
    yield* this.takeFull();
    if (this.filled > 0) yield this.chunk.slice(0, this.filled);
    this.filled = 0;
  }
}

/** Bytes stored as they are (a Debian package's plain `control.tar`), through the same interface. */
export const stored: Decoder = (compressed) =>
  runOf(
    (async function* () {
      yield* compressed;
    })(),
  );

/**
 * Compressed bytes handed to fzstd at a time. fzstd decodes every block a
 * push completes before returning, and an RLE block of up to 2 MiB takes
 * four bytes: small pushes keep what one push may expand to near 64 MiB.
 */
const ZSTD_PUSH_BYTES = 128;

/** zstd frames, one after another, as zstd -d reads them. */
export const unzstd: Decoder = (compressed, cut) => runOf(zstdOutput(compressed, cut));

async function* zstdOutput(compressed: AsyncIterable<Uint8Array>, cut: boolean): AsyncGenerator<Uint8Array> {
  const { Decompress } = await import("fzstd");
  const pending: Uint8Array[] = [];
  const stream = new Decompress((data) => {
    if (data.byteLength > 0) pending.push(data);
  });
  const push = (bytes: Uint8Array, final: boolean) => {
    try {
      stream.push(bytes, final);
    } catch (error) {
      throw final ? new TruncatedError("truncated") : new ContentError((error as Error).message);
    }
  };
  for await (const bytes of compressed) {
    for (let at = 0; at < bytes.byteLength; at += ZSTD_PUSH_BYTES) {
      push(bytes.subarray(at, at + ZSTD_PUSH_BYTES), false);
      while (pending.length > 0) yield pending.shift() as Uint8Array;
    }
  }
  // A frame cut by the input bound is not finished: the content ends with what it held.
  if (!cut) push(new Uint8Array(0), true);
  yield* pending;
}

/** xz-embedded's return codes (xz.h), for the reason a stream failed. */
const XZ_ERRORS = new Map([
  [2, "an unsupported integrity check"],
  [3, "out of memory"],
  [4, "a dictionary over the memory limit"],
  [5, "not an xz stream"],
  [6, "unsupported options (a filter xz-embedded does not decode)"],
  [7, "corrupt data"],
]);
/** xz-embedded's XZ_BUF_ERROR: its input ended inside the stream. */
const XZ_DATA_ENDS_EARLY = 8;

function xzFailure(error: unknown): ContentError {
  const message = error instanceof Error ? error.message : String(error);
  const code = /error code (\d+)/.exec(message)?.[1];
  // Without a code, or with XZ_BUF_ERROR, the stream ended before the data did (xz-decompress reads past its input).
  if (!code || Number(code) === XZ_DATA_ENDS_EARLY) return new TruncatedError("truncated");
  return new ContentError(XZ_ERRORS.get(Number(code)) ?? `error ${code}`);
}

/**
 * One xz stream decodes at a time in this process: xz-decompress shares one
 * WebAssembly instance behind a lock of its own, whose release, on a stream
 * cancelled while waiting for it, would free another stream's hold. Queueing
 * here first means that lock is never contended.
 */
let xzTurn: Promise<void> = Promise.resolve();

type XzStreamClass = typeof import("xz-decompress").XzReadableStream;

/**
 * xz-decompress is a CommonJS module marked `__esModule`: a bundler (esbuild,
 * tsx) hands its exports over as named ones, Node.js's own ESM loader only
 * as the default export.
 */
async function loadXzReadableStream(): Promise<XzStreamClass> {
  const loaded: { XzReadableStream?: XzStreamClass; default?: { XzReadableStream?: XzStreamClass } } =
    await import("xz-decompress");
  const found = loaded.XzReadableStream ?? loaded.default?.XzReadableStream;
  if (!found) throw new Error("xz-decompress exports no XzReadableStream");
  return found;
}

/** xz streams, as xz -d reads them. */
export const unxz: Decoder = (compressed, cut) => runOf(xzOutput(compressed, cut));

async function* xzOutput(compressed: AsyncIterable<Uint8Array>, cut: boolean): AsyncGenerator<Uint8Array> {
  let release = () => {};
  const previous = xzTurn;
  xzTurn = new Promise((resolve) => {
    release = resolve;
  });
  try {
    await previous;
    const XzReadableStream = await loadXzReadableStream();
    const source = compressed[Symbol.asyncIterator]();
    let inputDone = false;
    const input = new ReadableStream<Uint8Array>(
      {
        async pull(controller) {
          const next = await source.next();
          if (next.done) {
            inputDone = true;
            controller.close();
          } else controller.enqueue(next.value);
        },
        async cancel() {
          await source.return?.(undefined);
        },
      },
      { highWaterMark: 0 },
    );
    const reader = new XzReadableStream(input).getReader();
    try {
      for (;;) {
        let next: Awaited<ReturnType<typeof reader.read>>;
        try {
          next = await reader.read();
        } catch (error) {
          // A stream cut by the input bound ends there, as a gzip one does.
          if (cut && inputDone) return;
          throw xzFailure(error);
        }
        if (next.done) return;
        yield next.value;
      }
    } finally {
      await reader.cancel().catch(() => undefined);
    }
  } finally {
    release();
  }
}
