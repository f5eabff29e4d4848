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
import { ContentError, TruncatedError } from "../../errors.js";
import { CompressedInput, runOf } from "./decoders.js";
import type { Decoder } from "./forward-decompressor.js";
import { LzmaDecoder, streamLzma } from "./lzma.js";

const MAGIC = [0x4c, 0x5a, 0x49, 0x50];
const HEADER_BYTES = 6;
/** A member's trailer: CRC32 (4), data size (8), member size (8). */
export const LZIP_TRAILER_BYTES = 20;

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
  const input = new CompressedInput(compressed[Symbol.asyncIterator]());
  try {
    for (let member = 0; ; member++) {
      const header = await input.take(HEADER_BYTES);
      if (header.byteLength < HEADER_BYTES) {
        if ((member > 0 && header.byteLength === 0) || cut) return;
        throw new TruncatedError(member === 0 ? "lzip: truncated header" : "lzip: truncated member");
      }
      if (!isLzipMember(header)) {
        if (member === 0) throw new ContentError("lzip: not an lzip member");
        return;
      }
      if (header[4] !== 1) throw new ContentError(`lzip: unknown version ${header[4]}`);
      const dictionarySize = lzipDictionarySize(header[5] as number);
      const lzma = new LzmaDecoder({ lc: 3, lp: 0, pb: 2, dictionarySize });
      const content = streamLzma(lzma, input, cut);
      let crc = 0;
      for (;;) {
        const next = await content.next();
        if (next.done) {
          if (!next.value) return;
          break;
        }
        crc = crc32(next.value, crc);
        yield next.value;
      }
      const trailer = await input.take(LZIP_TRAILER_BYTES);
      if (trailer.byteLength < LZIP_TRAILER_BYTES) {
        if (cut) return;
        throw new TruncatedError("lzip: truncated trailer");
      }
      const fields = new DataView(trailer.buffer, trailer.byteOffset, LZIP_TRAILER_BYTES);
      if (fields.getUint32(0, true) !== crc >>> 0)
        throw new ContentError("lzip: a member's CRC32 does not match its content");
      if (Number(fields.getBigUint64(4, true)) !== lzma.total)
        throw new ContentError("lzip: a member's data size does not match its content");
    }
  } finally {
    await input.close();
  }
}
