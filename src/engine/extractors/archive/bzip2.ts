/**
 * bzip2 for {@link ForwardDecompressor}, from seek-bzip (pure JavaScript:
 * Node.js has no bzip2 of its own, and a native binding would need a build
 * for Lambda's arm64 beside the one for the laptop). seek-bzip's public calls
 * decode a whole buffer at once, which would hold a whole file and all it
 * expands to, and fail a file cut short with nothing. Its block reader is
 * driven here one block at a time instead, over a window of the compressed
 * bytes that always holds more than any block takes, so memory stays at a
 * block or two (a block's output is written at once: 900 kB of text, up to
 * some 46 MB for a run of one byte) and a file cut by the walk's input bound
 * ends with the whole blocks it holds, as a gzip one does.
 */
import { ContentError, TruncatedError } from "../../errors.js";
import { OutputChunks, runOf, unreadThen } from "./decoders.js";
import type { Decoder } from "./forward-decompressor.js";

/**
 * Compressed bytes kept ahead of a block before it is decoded: a block holds
 * at most 900,000 symbols of at most 20 bits each (2.15 MiB) and its tables,
 * so a block that is not whole within this much is damaged, not waiting for
 * bytes.
 */
const BLOCK_LOOKAHEAD_BYTES = 2.5 * 1024 * 1024;

/** The parts of seek-bzip's block reader (lib/index.js, 2.0.0) driven here. */
interface BunzipReader {
  /** Reads the next block's header, tables and symbols; false at the stream's end marker. */
  _init_block(): boolean;
  /** Undoes the block's transforms, writing its bytes to the output; throws on a CRC mismatch. */
  _read_bunzip(): void;
  reader: { read(bits: number): number };
  streamCRC: number;
}
type BunzipClass = new (input: ByteSource, output: ByteSink) => BunzipReader;

interface ByteSource {
  readByte(): number;
  read(buffer: Uint8Array, offset: number, length: number): number;
}
interface ByteSink {
  writeByte(byte: number): void;
}

/** The bit reader asked for a byte past the compressed bytes at hand. */
class OutOfInput extends Error {}

async function loadBunzip(): Promise<BunzipClass> {
  return (await import("seek-bzip")).default as BunzipClass;
}

/** Why seek-bzip refused a block, in the engine's words. */
function bzip2Failure(error: unknown): ContentError {
  const message = error instanceof Error ? error.message : String(error);
  return new ContentError(`bzip2: ${message.replace(/^Data error: /, "")}`);
}

/**
 * The compressed bytes at hand, read a byte at a time by seek-bzip's bit
 * reader: the window is refilled between blocks, never during one.
 */
class Window implements ByteSource {
  bytes = new Uint8Array(0);
  at = 0;

  get ahead(): number {
    return this.bytes.byteLength - this.at;
  }

  /** Appends `more`, dropping what was read. */
  append(more: Uint8Array): void {
    this.bytes = unreadThen(this.bytes, this.at, more);
    this.at = 0;
  }

  readByte(): number {
    if (this.at >= this.bytes.byteLength) throw new OutOfInput();
    return this.bytes[this.at++] as number;
  }

  read(buffer: Uint8Array, offset: number, length: number): number {
    const count = Math.min(length, this.ahead);
    buffer.set(this.bytes.subarray(this.at, this.at + count), offset);
    this.at += count;
    return count;
  }
}

/** bzip2 streams, one after another (pbzip2 and lbzip2 write many), as bzip2 -d reads them. */
export const bunzip2: Decoder = (compressed, cut) => runOf(bzip2Output(compressed, cut));

async function* bzip2Output(compressed: AsyncIterable<Uint8Array>, cut: boolean): AsyncGenerator<Uint8Array> {
  const Bunzip = await loadBunzip();
  const source = compressed[Symbol.asyncIterator]();
  const input = new Window();
  // A block's bytes, as seek-bzip writes them one at a time.
  const output = new OutputChunks();
  let inputDone = false;

  /** Fetches until {@link BLOCK_LOOKAHEAD_BYTES} lie ahead of the reader or the input ends. */
  const fill = async () => {
    while (!inputDone && input.ahead < BLOCK_LOOKAHEAD_BYTES) {
      const next = await source.next();
      if (next.done) inputDone = true;
      else input.append(next.value);
    }
  };
  /** Runs a step of the block reader, telling a cut end from damage. */
  const step = <T>(run: () => T): T | undefined => {
    try {
      return run();
    } catch (error) {
      if (!(error instanceof OutOfInput)) throw bzip2Failure(error);
      // Bytes the input bound left out: the content ends with the blocks before.
      if (inputDone && cut) return undefined;
      throw inputDone
        ? new TruncatedError("truncated")
        : new ContentError("bzip2: a block longer than bzip2 writes");
    }
  };

  await fill();
  // A block is read whole before any of its bytes are written, so a cut block writes nothing.
  let bunzip = step(() => new Bunzip(input, output));
  try {
    while (bunzip !== undefined) {
      await fill();
      const stream = bunzip;
      const more = step(() => {
        const block = stream._init_block();
        if (block) stream._read_bunzip();
        return block;
      });
      if (more === undefined) return;
      if (more) {
        yield* output.take();
        continue;
      }
      const stated = step(() => stream.reader.read(32) >>> 0);
      if (stated === undefined) return;
      if (stated !== stream.streamCRC)
        throw new ContentError("bzip2: the stream's CRC does not match its blocks");
      // Another stream may follow; anything else after the end is ignored, as bzip2 -d ignores trailing garbage.
      await fill();
      if (String.fromCharCode(...input.bytes.subarray(input.at, input.at + 3)) !== "BZh") return;
      bunzip = step(() => new Bunzip(input, output));
    }
  } finally {
    await source.return?.(undefined);
  }
}
