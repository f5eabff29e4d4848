/**
 * An LZMA (LZMA1) decoder, for the compressed headers of 7z archives: 7-Zip
 * packs an archive's file list with LZMA by default. It follows Igor Pavlov's
 * reference decoder (LzmaSpec.cpp in the LZMA SDK, public domain), decoding a
 * stream whose unpacked size is known into one buffer. Written by hand because
 * Node.js has no LZMA1, xz-decompress reads only LZMA2 inside .xz, the lzma1
 * package's types are its TypeScript sources (which fail this project's strict
 * checks), and LZMA-JS loads its code through a computed require that a bundle
 * cannot follow.
 */
import { ContentError } from "../../errors.js";

const BIT_MODEL_TOTAL = 1 << 11;
const MOVE_BITS = 5;
const TOP = 1 << 24;
const POS_BITS_MAX = 4;
const STATES = 12;
const LEN_TO_POS_STATES = 4;
const END_POS_MODEL_INDEX = 14;
const FULL_DISTANCES = 1 << (END_POS_MODEL_INDEX >> 1);
const ALIGN_BITS = 4;
const MATCH_MIN_LEN = 2;

/** The range decoder over the compressed bytes. */
class RangeDecoder {
  private range = 0xffffffff;
  private code = 0;
  private at = 0;

  constructor(private readonly input: Uint8Array) {
    if (this.next() !== 0) throw new ContentError("LZMA stream does not start with a zero byte");
    for (let i = 0; i < 4; i++) this.code = ((this.code << 8) | this.next()) >>> 0;
    if (this.code === this.range) throw new ContentError("LZMA stream is corrupt");
  }

  private next(): number {
    const byte = this.input[this.at++];
    if (byte === undefined) throw new ContentError("LZMA stream is truncated");
    return byte;
  }

  private normalize(): void {
    if (this.range < TOP) {
      this.range = (this.range << 8) >>> 0;
      this.code = ((this.code << 8) | this.next()) >>> 0;
    }
  }

  bit(probs: Uint16Array, index: number): number {
    const p = probs[index] as number;
    const bound = (this.range >>> 11) * p;
    let bit: number;
    if (this.code < bound) {
      this.range = bound;
      probs[index] = p + ((BIT_MODEL_TOTAL - p) >>> MOVE_BITS);
      bit = 0;
    } else {
      this.range -= bound;
      this.code -= bound;
      probs[index] = p - (p >>> MOVE_BITS);
      bit = 1;
    }
    this.normalize();
    return bit;
  }

  direct(count: number): number {
    let result = 0;
    for (let i = 0; i < count; i++) {
      this.range >>>= 1;
      let bit = 1;
      if (this.code < this.range) bit = 0;
      else this.code -= this.range;
      this.normalize();
      result = result * 2 + bit;
    }
    return result;
  }

  /** A bit tree of `bits` levels at `offset` in `probs`, most significant bit first. */
  tree(probs: Uint16Array, offset: number, bits: number): number {
    let m = 1;
    for (let i = 0; i < bits; i++) m = (m << 1) + this.bit(probs, offset + m);
    return m - (1 << bits);
  }

  /** The same tree read least significant bit first. */
  reverseTree(probs: Uint16Array, offset: number, bits: number): number {
    let m = 1;
    let symbol = 0;
    for (let i = 0; i < bits; i++) {
      const bit = this.bit(probs, offset + m);
      m = (m << 1) + bit;
      symbol |= bit << i;
    }
    return symbol;
  }
}

/** Match lengths: a choice, then 3 bits (low, mid, per position state) or 8 (high). */
class LengthDecoder {
  private readonly choice = new Uint16Array(2).fill(BIT_MODEL_TOTAL >> 1);
  private readonly low = new Uint16Array((1 << POS_BITS_MAX) << 3).fill(BIT_MODEL_TOTAL >> 1);
  private readonly mid = new Uint16Array((1 << POS_BITS_MAX) << 3).fill(BIT_MODEL_TOTAL >> 1);
  private readonly high = new Uint16Array(256).fill(BIT_MODEL_TOTAL >> 1);

  decode(rc: RangeDecoder, posState: number): number {
    if (rc.bit(this.choice, 0) === 0) return rc.tree(this.low, posState << 3, 3);
    if (rc.bit(this.choice, 1) === 0) return 8 + rc.tree(this.mid, posState << 3, 3);
    return 16 + rc.tree(this.high, 0, 8);
  }
}

/**
 * Decodes `size` bytes of a raw LZMA stream with the 5-byte `properties` a
 * 7z coder (or a .lzma header) carries: lc/lp/pb and the dictionary size.
 *
 * @example
 * decodeLzma(Uint8Array.of(0x5d, 0, 0, 0x10, 0), packed, 218) // the 218 bytes of a 7z header
 */
export function decodeLzma(properties: Uint8Array, input: Uint8Array, size: number): Uint8Array {
  if (properties.byteLength < 5) throw new ContentError("LZMA properties are shorter than 5 bytes");
  let d = properties[0] as number;
  if (d >= 9 * 5 * 5) throw new ContentError(`LZMA properties byte ${d} is invalid`);
  const lc = d % 9;
  d = Math.floor(d / 9);
  const lp = d % 5;
  const pb = Math.floor(d / 5);
  // As the reference decoder does, a dictionary under 4 KiB is taken as 4 KiB.
  const dictionary = Math.max(
    4096,
    new DataView(properties.buffer, properties.byteOffset, 5).getUint32(1, true),
  );

  const out = new Uint8Array(size);
  const rc = new RangeDecoder(input);
  const half = BIT_MODEL_TOTAL >> 1;
  const literals = new Uint16Array(0x300 << (lc + lp)).fill(half);
  const isMatch = new Uint16Array(STATES << POS_BITS_MAX).fill(half);
  const isRep = new Uint16Array(STATES).fill(half);
  const isRepG0 = new Uint16Array(STATES).fill(half);
  const isRepG1 = new Uint16Array(STATES).fill(half);
  const isRepG2 = new Uint16Array(STATES).fill(half);
  const isRep0Long = new Uint16Array(STATES << POS_BITS_MAX).fill(half);
  const posSlots = new Uint16Array(LEN_TO_POS_STATES << 6).fill(half);
  const posDecoders = new Uint16Array(1 + FULL_DISTANCES - END_POS_MODEL_INDEX).fill(half);
  const align = new Uint16Array(1 << ALIGN_BITS).fill(half);
  const lengths = new LengthDecoder();
  const repLengths = new LengthDecoder();

  let pos = 0;
  let state = 0;
  let rep0 = 0;
  let rep1 = 0;
  let rep2 = 0;
  let rep3 = 0;
  const posMask = (1 << pb) - 1;
  const lpMask = (1 << lp) - 1;

  const distance = (length: number): number => {
    const lenState = Math.min(length, LEN_TO_POS_STATES - 1);
    const slot = rc.tree(posSlots, lenState << 6, 6);
    if (slot < 4) return slot;
    const directBits = (slot >>> 1) - 1;
    let dist = (2 | (slot & 1)) * 2 ** directBits;
    if (slot < END_POS_MODEL_INDEX) return dist + rc.reverseTree(posDecoders, dist - slot, directBits);
    dist += rc.direct(directBits - ALIGN_BITS) * 2 ** ALIGN_BITS;
    return dist + rc.reverseTree(align, 0, ALIGN_BITS);
  };

  while (pos < size) {
    const posState = pos & posMask;
    if (rc.bit(isMatch, (state << POS_BITS_MAX) + posState) === 0) {
      const previous = pos > 0 ? (out[pos - 1] as number) : 0;
      const base = 0x300 * (((pos & lpMask) << lc) + (previous >>> (8 - lc)));
      let symbol = 1;
      if (state >= 7) {
        let matchByte = out[pos - rep0 - 1] as number;
        do {
          const matchBit = (matchByte >>> 7) & 1;
          matchByte <<= 1;
          const bit = rc.bit(literals, base + ((1 + matchBit) << 8) + symbol);
          symbol = (symbol << 1) | bit;
          if (matchBit !== bit) break;
        } while (symbol < 0x100);
      }
      while (symbol < 0x100) symbol = (symbol << 1) | rc.bit(literals, base + symbol);
      out[pos++] = symbol - 0x100;
      state = state < 4 ? 0 : state < 10 ? state - 3 : state - 6;
      continue;
    }
    let length: number;
    if (rc.bit(isRep, state) !== 0) {
      if (pos === 0) throw new ContentError("LZMA stream repeats before any byte");
      if (rc.bit(isRepG0, state) === 0) {
        if (rc.bit(isRep0Long, (state << POS_BITS_MAX) + posState) === 0) {
          state = state < 7 ? 9 : 11;
          out[pos] = out[pos - rep0 - 1] as number;
          pos++;
          continue;
        }
      } else {
        let dist: number;
        if (rc.bit(isRepG1, state) === 0) dist = rep1;
        else {
          if (rc.bit(isRepG2, state) === 0) dist = rep2;
          else {
            dist = rep3;
            rep3 = rep2;
          }
          rep2 = rep1;
        }
        rep1 = rep0;
        rep0 = dist;
      }
      length = repLengths.decode(rc, posState);
      state = state < 7 ? 8 : 11;
    } else {
      rep3 = rep2;
      rep2 = rep1;
      rep1 = rep0;
      length = lengths.decode(rc, posState);
      state = state < 7 ? 7 : 10;
      rep0 = distance(length);
      if (rep0 === 0xffffffff) throw new ContentError("LZMA stream ends before its stated size (end marker)");
      if (rep0 >= dictionary || rep0 >= pos) throw new ContentError("LZMA stream refers before its start");
    }
    length += MATCH_MIN_LEN;
    if (length > size - pos) throw new ContentError("LZMA stream runs past its stated size");
    for (let i = 0; i < length; i++, pos++) out[pos] = out[pos - rep0 - 1] as number;
  }
  return out;
}
