/**
 * xxHash32 (Yann Collet's XXH32, the checksum of LZ4 frames: header, blocks
 * and content), computed as the bytes arrive. Written by hand: the npm
 * xxhash packages are native addons or WebAssembly builds that hash a whole
 * buffer, and the algorithm is a few lines of 32-bit arithmetic.
 */
const PRIME1 = 0x9e3779b1;
const PRIME2 = 0x85ebca77;
const PRIME3 = 0xc2b2ae3d;
const PRIME4 = 0x27d4eb2f;
const PRIME5 = 0x165667b1;

const rotl = (value: number, bits: number): number => (value << bits) | (value >>> (32 - bits));
const round = (lane: number, input: number): number =>
  Math.imul(rotl((lane + Math.imul(input, PRIME2)) | 0, 13), PRIME1);
const word = (bytes: Uint8Array, at: number): number =>
  (bytes[at] as number) |
  ((bytes[at + 1] as number) << 8) |
  ((bytes[at + 2] as number) << 16) |
  ((bytes[at + 3] as number) << 24);

/**
 * XXH32 with seed 0, fed in pieces.
 *
 * @example
 * const hash = new XxHash32();
 * hash.update(new TextEncoder().encode("abc"));
 * hash.digest(); // 0x32d153ff
 */
export class XxHash32 {
  private v1 = (PRIME1 + PRIME2) | 0;
  private v2 = PRIME2 | 0;
  private v3 = 0;
  private v4 = -PRIME1 | 0;
  private total = 0;
  /** Bytes of a 16-byte stripe not complete yet. */
  private readonly stripe = new Uint8Array(16);
  private held = 0;

  update(bytes: Uint8Array): this {
    this.total += bytes.byteLength;
    let at = 0;
    if (this.held > 0) {
      const taken = Math.min(16 - this.held, bytes.byteLength);
      this.stripe.set(bytes.subarray(0, taken), this.held);
      this.held += taken;
      at = taken;
      if (this.held < 16) return this;
      this.consume(this.stripe, 0);
      this.held = 0;
    }
    for (; at + 16 <= bytes.byteLength; at += 16) this.consume(bytes, at);
    this.stripe.set(bytes.subarray(at), 0);
    this.held = bytes.byteLength - at;
    return this;
  }

  digest(): number {
    let hash =
      this.total >= 16
        ? (rotl(this.v1, 1) + rotl(this.v2, 7) + rotl(this.v3, 12) + rotl(this.v4, 18)) | 0
        : PRIME5;
    hash = (hash + this.total) | 0;
    let at = 0;
    for (; at + 4 <= this.held; at += 4)
      hash = Math.imul(rotl((hash + Math.imul(word(this.stripe, at), PRIME3)) | 0, 17), PRIME4);
    for (; at < this.held; at++)
      hash = Math.imul(rotl((hash + Math.imul(this.stripe[at] as number, PRIME5)) | 0, 11), PRIME1);
    hash = Math.imul(hash ^ (hash >>> 15), PRIME2);
    hash = Math.imul(hash ^ (hash >>> 13), PRIME3);
    return (hash ^ (hash >>> 16)) >>> 0;
  }

  private consume(bytes: Uint8Array, at: number): void {
    this.v1 = round(this.v1, word(bytes, at));
    this.v2 = round(this.v2, word(bytes, at + 4));
    this.v3 = round(this.v3, word(bytes, at + 8));
    this.v4 = round(this.v4, word(bytes, at + 12));
  }
}

/** XXH32 of `bytes`, seed 0. */
export function xxHash32(bytes: Uint8Array): number {
  return new XxHash32().update(bytes).digest();
}
