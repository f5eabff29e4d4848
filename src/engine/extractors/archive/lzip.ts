/**
 * lzip members (the lzip manual's "File format": "LZIP", a version byte, the
 * coded dictionary size, an LZMA stream with lc=3 lp=0 pb=2 ended by its
 * marker, then a trailer of CRC32, data size and member size) for
 * {@link ForwardDecompressor}, on the streaming {@link LzmaDecoder}: no npm
 * package decodes LZMA1 as a stream without a native addon. Each member's
 * CRC32 and data size are checked against its content, so damage that still
 * decodes is caught at the member's end.
 */
import { crc32 } from "../../crc.js";
import { ContentError } from "../../errors.js";
import { runOf, unreadThen } from "./decoders.js";
import type { Decoder } from "./forward-decompressor.js";
import { LzmaDecoder } from "./lzma.js";

const MAGIC = [0x4c, 0x5a, 0x49, 0x50];
const HEADER_BYTES = 6;
const TRAILER_BYTES = 20;
/** Decompressed bytes decoded between hand-overs. */
const OUTPUT_STEP_BYTES = 64 * 1024;

/**
 * The dictionary size a header's coded byte gives: 2^(bits 0-4), less
 * (bits 5-7)/16 of it, from 4 KiB to 512 MiB.
 *
 * @example
 * lzipDictionarySize(0x17) // 8 MiB, lzip -6's
 */
export function lzipDictionarySize(coded: number): number {
  const exponent = coded & 0x1f;
  if (exponent < 12 || exponent > 29) throw new ContentError(`lzip: invalid dictionary size (2^${exponent})`);
  const base = 2 ** exponent;
  return base - (base / 16) * (coded >>> 5);
}

/** Whether `bytes` begin with an lzip member's magic number. */
export function isLzipMember(bytes: Uint8Array): boolean {
  return MAGIC.every((byte, i) => bytes[i] === byte);
}

/** lzip members, one after another, as lzip -d reads them; bytes after the last member that are not a member are ignored, as lzip ignores them. */
export const unlzip: Decoder = (compressed, cut) => runOf(lzipOutput(compressed, cut));

async function* lzipOutput(compressed: AsyncIterable<Uint8Array>, cut: boolean): AsyncGenerator<Uint8Array> {
  const source = compressed[Symbol.asyncIterator]();
  let pending: Uint8Array = new Uint8Array(0);
  let done = false;
  /** At least `length` bytes in `pending`, unless the input ends first. */
  const fill = async (length: number): Promise<boolean> => {
    while (pending.byteLength < length && !done) {
      const next = await source.next();
      if (next.done) done = true;
      else pending = unreadThen(pending, 0, next.value);
    }
    return pending.byteLength >= length;
  };
  try {
    for (let member = 0; ; member++) {
      if (!(await fill(HEADER_BYTES))) {
        if (member > 0 && pending.byteLength === 0) return;
        if (cut) return;
        throw new ContentError(member === 0 ? "lzip: truncated header" : "lzip: truncated member");
      }
      if (!isLzipMember(pending)) {
        if (member === 0) throw new ContentError("lzip: not an lzip member");
        return;
      }
      if (pending[4] !== 1) throw new ContentError(`lzip: unknown version ${pending[4]}`);
      const lzma = new LzmaDecoder({
        lc: 3,
        lp: 0,
        pb: 2,
        dictionarySize: lzipDictionarySize(pending[5] as number),
      });
      lzma.feed(pending.subarray(HEADER_BYTES));
      pending = new Uint8Array(0);
      let crc = 0;
      for (;;) {
        let stop: string;
        try {
          stop = lzma.decode(lzma.total + OUTPUT_STEP_BYTES, done);
        } catch (error) {
          // The input bound cut the stream: its content ends with what was decoded.
          if (!(cut && done && error instanceof ContentError && /truncated/.test(error.message))) throw error;
          yield* lzma.take();
          return;
        }
        for (const chunk of lzma.take()) {
          crc = crc32(chunk, crc);
          yield chunk;
        }
        if (stop === "end") break;
        if (stop === "input") {
          const next = await source.next();
          if (next.done) done = true;
          else lzma.feed(next.value);
        }
      }
      pending = lzma.takeUnread();
      if (!(await fill(TRAILER_BYTES))) {
        if (cut) return;
        throw new ContentError("lzip: truncated trailer");
      }
      const trailer = new DataView(pending.buffer, pending.byteOffset, TRAILER_BYTES);
      if (trailer.getUint32(0, true) !== crc >>> 0)
        throw new ContentError("lzip: a member's CRC32 does not match its content");
      if (Number(trailer.getBigUint64(4, true)) !== lzma.total)
        throw new ContentError("lzip: a member's data size does not match its content");
      pending = pending.subarray(TRAILER_BYTES);
    }
  } finally {
    await source.return?.(undefined);
  }
}
