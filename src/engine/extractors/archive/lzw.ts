/**
 * compress(1)'s LZW streams (.Z, .tar.Z, .taz) for {@link ForwardDecompressor}.
 * Written by hand: no npm package decodes them as a stream, and the format
 * is small. After a three-byte header (1F 9D, then the widest code in bits
 * and the block-mode flag), codes of 9 bits and up are packed low bit first;
 * each new code names the previous string plus one byte, and the width grows
 * by a bit each time the table fills its range. compress writes codes eight at
 * a time, so when the width grows or the table is cleared (code 256, in block
 * mode) the rest of the current group of eight is padding, as gzip's unlzw.c
 * and ncompress read it. The stream has no end marker and no checksum: it
 * ends with the last whole code.
 */
import { ContentError } from "../../errors.js";
import { OutputChunks, runOf, unreadThen } from "./decoders.js";
import type { Decoder } from "./forward-decompressor.js";

const INIT_BITS = 9;
const CLEAR = 256;
const BLOCK_MODE = 0x80;

/**
 * Where the current group of eight codes ends: the rest of it is padding when
 * the width grows or the table is cleared. Groups are counted from where the
 * current width began.
 */
function groupEnd(pos: number, groupStart: number, bits: number): number {
  const group = bits * 8;
  return groupStart + Math.ceil((pos - groupStart) / group) * group;
}

/** compress streams, as uncompress (or gzip -d) reads them. */
export const unlzw: Decoder = (compressed) => runOf(lzwOutput(compressed));

async function* lzwOutput(compressed: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  let bytes = new Uint8Array(0);
  /** The next code's first bit in `bytes`, and where the current width's groups of eight began (may be negative). */
  let pos = 0;
  let groupStart = 0;
  let header: { maxBits: number; blockMode: boolean } | undefined;

  let bits = INIT_BITS;
  let maxCode = (1 << bits) - 1;
  let maxMaxCode = 0;
  let freeEntry = 0;
  const prefix = new Uint16Array(1 << 16);
  const suffix = new Uint8Array(1 << 16);
  for (let code = 0; code < 256; code++) suffix[code] = code;
  const stack = new Uint8Array(1 << 16);
  let oldCode = -1;
  let finalByte = 0;

  const output = new OutputChunks();
  for await (const more of compressed) {
    // Keep only the bytes from the next code on.
    const drop = Math.min(pos >>> 3, bytes.byteLength);
    bytes = unreadThen(bytes, drop, more);
    pos -= drop * 8;
    groupStart -= drop * 8;
    if (header === undefined) {
      if (bytes.byteLength < 3) continue;
      if (bytes[0] !== 0x1f || bytes[1] !== 0x9d) throw new ContentError("compress: not an LZW stream");
      const flags = bytes[2] as number;
      const maxBits = flags & 0x1f;
      if (maxBits < INIT_BITS || maxBits > 16) throw new ContentError(`compress: ${maxBits}-bit codes`);
      header = { maxBits, blockMode: (flags & BLOCK_MODE) !== 0 };
      maxMaxCode = 1 << maxBits;
      freeEntry = header.blockMode ? CLEAR + 1 : 256;
      pos = groupStart = 24;
    }
    const { maxBits, blockMode } = header;
    while (pos + bits <= bytes.byteLength * 8) {
      if (freeEntry > maxCode) {
        pos = groupStart = groupEnd(pos, groupStart, bits);
        bits++;
        maxCode = bits === maxBits ? maxMaxCode : (1 << bits) - 1;
        continue;
      }
      // The code's bits, low first, from at most three bytes.
      const at = pos >>> 3;
      const word = (bytes[at] as number) | ((bytes[at + 1] ?? 0) << 8) | ((bytes[at + 2] ?? 0) << 16);
      let code = (word >>> (pos & 7)) & ((1 << bits) - 1);
      pos += bits;
      if (oldCode === -1) {
        if (code >= 256) throw new ContentError("compress: the first code is not a byte");
        oldCode = finalByte = code;
        output.writeByte(code);
        continue;
      }
      if (code === CLEAR && blockMode) {
        freeEntry = CLEAR;
        pos = groupStart = groupEnd(pos, groupStart, bits);
        bits = INIT_BITS;
        maxCode = (1 << bits) - 1;
        continue;
      }
      const incoming = code;
      let top = stack.byteLength;
      if (code >= freeEntry) {
        // The string being defined by this very code: the previous one plus its own first byte.
        if (code > freeEntry) throw new ContentError("compress: a code not yet defined");
        stack[--top] = finalByte;
        code = oldCode;
      }
      while (code >= 256) {
        stack[--top] = suffix[code] as number;
        code = prefix[code] as number;
      }
      finalByte = suffix[code] as number;
      stack[--top] = finalByte;
      output.write(stack, top, stack.byteLength);
      if (freeEntry < maxMaxCode) {
        prefix[freeEntry] = oldCode;
        suffix[freeEntry] = finalByte;
        freeEntry++;
      }
      oldCode = incoming;
      if (output.hasFull) yield* output.takeFull();
    }
  }
  if (header === undefined) throw new ContentError("compress: header truncated");
  yield* output.take();
}
