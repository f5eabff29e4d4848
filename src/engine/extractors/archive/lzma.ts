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
import { ContentError, TruncatedError } from "../../errors.js";
import { type CompressedInput, unreadThen } from "./decoders.js";

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

/**
 * Input bytes a symbol (a literal or a match) may take at most: xz-embedded's
 * LZMA_IN_REQUIRED is 21, with room to spare. A streaming decode stops for
 * more input when fewer are left, so no symbol starts that cannot finish.
 */
const SYMBOL_INPUT_BYTES = 32;

/** The range decoder over the compressed bytes, refilled as they come. */
class RangeDecoder {
  private range = 0xffffffff;
  private code = 0;
  private input: Uint8Array = new Uint8Array(0);
  private at = 0;

  /** Reads the stream's first five bytes (a zero, then the code); again after a sync flush marker. */
  init(): void {
    this.range = 0xffffffff;
    this.code = 0;
    if (this.next() !== 0) throw new ContentError("LZMA stream does not start with a zero byte");
    for (let i = 0; i < 4; i++) this.code = ((this.code << 8) | this.next()) >>> 0;
    if (this.code === this.range) throw new ContentError("LZMA stream is corrupt");
  }

  /** Adds compressed bytes after those not read yet. */
  feed(more: Uint8Array): void {
    this.input = this.at === this.input.byteLength ? more : unreadThen(this.input, this.at, more);
    this.at = 0;
  }

  /** Bytes fed and not read yet. */
  get available(): number {
    return this.input.byteLength - this.at;
  }

  /** The bytes fed and not read yet (what follows the stream, once it has ended), taken. */
  takeUnread(): Uint8Array {
    const unread = this.input.subarray(this.at);
    this.at = this.input.byteLength;
    return unread;
  }

  private next(): number {
    const byte = this.input[this.at++];
    if (byte === undefined) throw new TruncatedError("LZMA stream is truncated");
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

/** lc, lp and pb (literal context bits, literal position bits, position bits) and the dictionary size. */
export interface LzmaProperties {
  lc: number;
  lp: number;
  pb: number;
  dictionarySize: number;
}

/**
 * The properties byte (lc + 9 × (lp + 5 × pb)) and the dictionary size, as a
 * 7z coder, a .lzma header or an lzip header give them.
 */
export function lzmaProperties(byte: number, dictionarySize: number): LzmaProperties {
  if (byte >= 9 * 5 * 5) throw new ContentError(`LZMA properties byte ${byte} is invalid`);
  // As the reference decoder does, a dictionary under 4 KiB is taken as 4 KiB.
  return {
    lc: byte % 9,
    lp: Math.floor(byte / 9) % 5,
    pb: Math.floor(byte / 45),
    dictionarySize: Math.max(4096, dictionarySize),
  };
}

/**
 * The most history a decoder keeps: every lzip level and xz preset uses at
 * most 64 MiB, while a header may claim up to 4 GiB, which a few kilobytes
 * of zeros would then fill. A match reaching further back than this is
 * refused, with its reason, rather than kept in memory.
 */
export const MAX_HISTORY_BYTES = 64 * 1024 * 1024;

/** What {@link LzmaDecoder.decode} stopped for. */
export type LzmaStop = "output" | "input" | "end";

/**
 * An LZMA decoder that runs as its input arrives and hands its output on as
 * it goes. The dictionary (the history matches copy from) grows with the
 * content up to the stream's dictionary size, then turns over: a small
 * stream never costs the 8-32 MiB its header allows. Decoding stops between
 * symbols: when the output asked for is there, when fewer input bytes are
 * left than a symbol may need (until the caller says no more will come), or
 * at the end-of-stream marker.
 *
 * @example
 * const lzma = new LzmaDecoder(lzmaProperties(0x5d, 1 << 23));
 * lzma.feed(compressed);
 * lzma.decode(Infinity, true); // "end" at the marker
 * const content = lzma.take();
 */
export class LzmaDecoder {
  /** Bytes decoded so far. */
  total = 0;
  /** True once the end-of-stream marker is read. */
  ended = false;
  private readonly rc = new RangeDecoder();
  private started = false;
  private readonly lc: number;
  private readonly posMask: number;
  private readonly lpMask: number;
  private readonly dictionarySize: number;
  /** The dictionary size, within {@link MAX_HISTORY_BYTES}. */
  private readonly historySize: number;
  private readonly literals: Uint16Array;
  private readonly isMatch = new Uint16Array(STATES << POS_BITS_MAX).fill(BIT_MODEL_TOTAL >> 1);
  private readonly isRep = new Uint16Array(STATES).fill(BIT_MODEL_TOTAL >> 1);
  private readonly isRepG0 = new Uint16Array(STATES).fill(BIT_MODEL_TOTAL >> 1);
  private readonly isRepG1 = new Uint16Array(STATES).fill(BIT_MODEL_TOTAL >> 1);
  private readonly isRepG2 = new Uint16Array(STATES).fill(BIT_MODEL_TOTAL >> 1);
  private readonly isRep0Long = new Uint16Array(STATES << POS_BITS_MAX).fill(BIT_MODEL_TOTAL >> 1);
  private readonly posSlots = new Uint16Array(LEN_TO_POS_STATES << 6).fill(BIT_MODEL_TOTAL >> 1);
  private readonly posDecoders = new Uint16Array(1 + FULL_DISTANCES - END_POS_MODEL_INDEX).fill(
    BIT_MODEL_TOTAL >> 1,
  );
  private readonly align = new Uint16Array(1 << ALIGN_BITS).fill(BIT_MODEL_TOTAL >> 1);
  private readonly lengths = new LengthDecoder();
  private readonly repLengths = new LengthDecoder();
  private state = 0;
  private rep0 = 0;
  private rep1 = 0;
  private rep2 = 0;
  private rep3 = 0;
  /** The history, written at `dictPos`; once `wrapped`, a ring of `historySize` bytes. */
  private dict: Uint8Array;
  private dictPos = 0;
  private wrapped = false;
  /** Where in `dict` the output not yet taken begins. */
  private flushed = 0;
  private readonly out: Uint8Array[] = [];

  /**
   * @param size the content's size when the container states it (a 7z
   *   header): decoding stops there, and a match past it or an end marker
   *   before it is an error. Without it the stream ends at its marker.
   */
  constructor(
    properties: LzmaProperties,
    private readonly size?: number,
  ) {
    this.lc = properties.lc;
    this.posMask = (1 << properties.pb) - 1;
    this.lpMask = (1 << properties.lp) - 1;
    this.dictionarySize = properties.dictionarySize;
    this.historySize = Math.min(properties.dictionarySize, MAX_HISTORY_BYTES);
    this.literals = new Uint16Array(0x300 << (properties.lc + properties.lp)).fill(BIT_MODEL_TOTAL >> 1);
    this.dict = new Uint8Array(Math.min(this.historySize, size ?? 1 << 20, 1 << 20) || 1);
  }

  /** Adds compressed bytes. */
  feed(bytes: Uint8Array): void {
    this.rc.feed(bytes);
  }

  /** The compressed bytes fed and not read: after the end marker, what follows the stream. */
  takeUnread(): Uint8Array {
    return this.rc.takeUnread();
  }

  /**
   * Decodes until `total` reaches `until` (a match may pass it by up to 272
   * bytes), the end marker, or, unless `final`, too little input.
   */
  decode(until: number, final: boolean): LzmaStop {
    if (!this.started) {
      if (this.rc.available < 5 && !final) return "input";
      this.rc.init();
      this.started = true;
    }
    const { rc, size } = this;
    const limit = size === undefined ? until : Math.min(until, size);
    while (!this.ended) {
      if (this.total >= limit) return "output";
      if (!final && rc.available < SYMBOL_INPUT_BYTES) return "input";
      const posState = this.total & this.posMask;
      if (rc.bit(this.isMatch, (this.state << POS_BITS_MAX) + posState) === 0) {
        this.literal();
        continue;
      }
      let length: number;
      if (rc.bit(this.isRep, this.state) !== 0) {
        if (this.total === 0) throw new ContentError("LZMA stream repeats before any byte");
        if (rc.bit(this.isRepG0, this.state) === 0) {
          if (rc.bit(this.isRep0Long, (this.state << POS_BITS_MAX) + posState) === 0) {
            this.state = this.state < 7 ? 9 : 11;
            this.put(this.back(this.rep0));
            continue;
          }
        } else {
          let dist: number;
          if (rc.bit(this.isRepG1, this.state) === 0) dist = this.rep1;
          else {
            if (rc.bit(this.isRepG2, this.state) === 0) dist = this.rep2;
            else {
              dist = this.rep3;
              this.rep3 = this.rep2;
            }
            this.rep2 = this.rep1;
          }
          this.rep1 = this.rep0;
          this.rep0 = dist;
        }
        length = this.repLengths.decode(rc, posState);
        this.state = this.state < 7 ? 8 : 11;
      } else {
        this.rep3 = this.rep2;
        this.rep2 = this.rep1;
        this.rep1 = this.rep0;
        length = this.lengths.decode(rc, posState);
        this.state = this.state < 7 ? 7 : 10;
        this.rep0 = this.distance(length);
        if (this.rep0 === 0xffffffff) {
          if (size !== undefined)
            throw new ContentError("LZMA stream ends before its stated size (end marker)");
          // lzip's sync flush marker (a length of 3) restarts the range decoder; the end marker has 2.
          if (length === 1) {
            rc.init();
            continue;
          }
          if (length !== 0) throw new ContentError("LZMA stream has an invalid marker");
          this.ended = true;
          return "end";
        }
        if (this.rep0 >= this.dictionarySize || this.rep0 >= this.total)
          throw new ContentError("LZMA stream refers before its start");
        if (this.rep0 >= this.historySize)
          throw new ContentError(
            `LZMA stream refers ${this.rep0 + 1} bytes back, past the ${MAX_HISTORY_BYTES / 2 ** 20} MiB the engine keeps`,
          );
      }
      length += MATCH_MIN_LEN;
      if (size !== undefined && length > size - this.total)
        throw new ContentError("LZMA stream runs past its stated size");
      this.copy(this.rep0, length);
    }
    return "end";
  }

  /** Bytes of history held: it grows with the content, up to the dictionary size or {@link MAX_HISTORY_BYTES}. */
  get historyBytes(): number {
    return this.dict.byteLength;
  }

  /** True at the end marker, or once the stated size is decoded. */
  get complete(): boolean {
    return this.ended || (this.size !== undefined && this.total >= this.size);
  }

  /** The output decoded since the last call, in order. */
  take(): Uint8Array[] {
    if (this.dictPos > this.flushed) {
      this.out.push(this.dict.slice(this.flushed, this.dictPos));
      this.flushed = this.dictPos;
    }
    return this.out.splice(0);
  }

  private literal(): void {
    const { rc, lc } = this;
    const previous = this.total > 0 ? this.back(0) : 0;
    const base = 0x300 * (((this.total & this.lpMask) << lc) + (previous >>> (8 - lc)));
    let symbol = 1;
    if (this.state >= 7) {
      let matchByte = this.back(this.rep0);
      do {
        const matchBit = (matchByte >>> 7) & 1;
        matchByte <<= 1;
        const bit = rc.bit(this.literals, base + ((1 + matchBit) << 8) + symbol);
        symbol = (symbol << 1) | bit;
        if (matchBit !== bit) break;
      } while (symbol < 0x100);
    }
    while (symbol < 0x100) symbol = (symbol << 1) | rc.bit(this.literals, base + symbol);
    this.put(symbol - 0x100);
    this.state = this.state < 4 ? 0 : this.state < 10 ? this.state - 3 : this.state - 6;
  }

  private distance(length: number): number {
    const { rc } = this;
    const lenState = Math.min(length, LEN_TO_POS_STATES - 1);
    const slot = rc.tree(this.posSlots, lenState << 6, 6);
    if (slot < 4) return slot;
    const directBits = (slot >>> 1) - 1;
    let dist = (2 | (slot & 1)) * 2 ** directBits;
    if (slot < END_POS_MODEL_INDEX) return dist + rc.reverseTree(this.posDecoders, dist - slot, directBits);
    dist += rc.direct(directBits - ALIGN_BITS) * 2 ** ALIGN_BITS;
    return dist + rc.reverseTree(this.align, 0, ALIGN_BITS);
  }

  /** The byte `distance` + 1 back in the history (checked against `total` by the caller). */
  private back(distance: number): number {
    const at = this.dictPos - distance - 1;
    return this.dict[at < 0 ? at + this.dict.length : at] as number;
  }

  private put(byte: number): void {
    if (this.dictPos === this.dict.length) this.makeRoom();
    this.dict[this.dictPos++] = byte;
    this.total++;
  }

  /** Repeats `length` bytes from `distance` + 1 back; the hot loop of compressed text, kept to local variables. */
  private copy(distance: number, length: number): void {
    let dict = this.dict;
    let to = this.dictPos;
    let from = to - distance - 1;
    if (from < 0) from += dict.length;
    for (let i = 0; i < length; i++) {
      if (to === dict.length) {
        this.dictPos = to;
        this.makeRoom();
        dict = this.dict;
        to = this.dictPos;
      }
      if (from === dict.length) from = 0;
      dict[to++] = dict[from++] as number;
    }
    this.dictPos = to;
    this.total += length;
  }

  /** The history is full: it grows up to the dictionary size, then turns over once its output is taken. */
  private makeRoom(): void {
    if (!this.wrapped && this.dict.length < this.historySize) {
      const grown = new Uint8Array(Math.min(this.dict.length * 2, this.historySize));
      grown.set(this.dict);
      this.dict = grown;
      return;
    }
    this.out.push(this.dict.slice(this.flushed, this.dictPos));
    this.wrapped = true;
    this.dictPos = 0;
    this.flushed = 0;
  }
}

/** Decompressed bytes decoded between hand-overs by {@link streamLzma}. */
const OUTPUT_STEP_BYTES = 64 * 1024;

/**
 * Runs `lzma` over `input` as the compressed bytes arrive, yielding its
 * output as it goes. At the stream's end (its marker, or its stated size)
 * the bytes after it are given back to `input` and the result is true; when
 * the input bound cut the stream (`cut`), the output ends with what decoded
 * and the result is false.
 *
 * @example
 * const whole = yield* streamLzma(new LzmaDecoder(properties), input, cut);
 */
export async function* streamLzma(
  lzma: LzmaDecoder,
  input: CompressedInput,
  cut: boolean,
): AsyncGenerator<Uint8Array, boolean> {
  for (;;) {
    let stop: LzmaStop;
    try {
      stop = lzma.decode(lzma.total + OUTPUT_STEP_BYTES, input.done);
    } catch (error) {
      if (!(cut && input.done && error instanceof TruncatedError)) throw error;
      yield* lzma.take();
      return false;
    }
    yield* lzma.take();
    if (lzma.complete) {
      input.giveBack(lzma.takeUnread());
      return true;
    }
    if (stop === "input") lzma.feed(await input.next());
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
  const dictionarySize = new DataView(properties.buffer, properties.byteOffset, 5).getUint32(1, true);
  const decoder = new LzmaDecoder(lzmaProperties(properties[0] as number, dictionarySize), size);
  decoder.feed(input);
  decoder.decode(size, true);
  const chunks = decoder.take();
  if (chunks.length === 1) return chunks[0] as Uint8Array;
  return Buffer.concat(chunks);
}
