/**
 * The checksums S3 accepts for an upload (`x-amz-checksum-<algorithm>`, as
 * a header or an aws-chunked trailer), computed over the bytes received so
 * the embedded S3 server can check them as S3 does.
 *
 * CRC32C and CRC64NVME come with no package this project declares (the
 * SDK's own implementations sit in a package it pulls in, not one of ours):
 * table-driven reflected CRCs compute them, CRC32C on the engine's CRC
 * tables (src/engine/crc.ts). CRC32 is zlib's where Node.js has
 * `zlib.crc32` (20.15 and later), native and about nine times the table's
 * speed, and the table's on older releases.
 */

import { createHash, type Hash } from "node:crypto";
import { CRC32_TABLE, crc32, crc32Table, tableCrc } from "../engine/crc.js";

/** S3's checksum algorithms, by the lower-case name their header carries. */
export const CHECKSUM_ALGORITHMS = ["crc32", "crc32c", "crc64nvme", "sha1", "sha256"] as const;
export type ChecksumAlgorithm = (typeof CHECKSUM_ALGORITHMS)[number];

/** Bytes of each algorithm's checksum: what a valid base64 value decodes to. */
export const CHECKSUM_BYTES: Readonly<Record<ChecksumAlgorithm, number>> = {
  crc32: 4,
  crc32c: 4,
  crc64nvme: 8,
  sha1: 20,
  sha256: 32,
};

/** A checksum being computed: feed it the bytes in order, then read it once. */
export interface Checksum {
  update(bytes: Uint8Array): void;
  /** The checksum as S3 writes it: its big-endian bytes in base64. */
  digest(): string;
}

/** Whether `name`, in lower case (as callers pass header names), is one of S3's checksum algorithms. */
export function isChecksumAlgorithm(name: string): name is ChecksumAlgorithm {
  return (CHECKSUM_ALGORITHMS as readonly string[]).includes(name);
}

/**
 * A new checksum of `algorithm`.
 *
 * @example
 * const checksum = createChecksum("crc32");
 * checksum.update(Buffer.from("hello world"));
 * checksum.digest(); // "DUoRhQ=="
 */
export function createChecksum(algorithm: ChecksumAlgorithm): Checksum {
  switch (algorithm) {
    case "crc32":
      return new Crc32Checksum(crc32);
    case "crc32c":
      return new Crc32Checksum((bytes, value) => tableCrc(CRC32C_TABLE, bytes, value));
    case "crc64nvme":
      return new Crc64Nvme();
    case "sha1":
    case "sha256":
      return new Digest(createHash(algorithm));
  }
}

/** The table-driven CRC32 that runs where zlib has none (exported so the tests check it on every Node.js). */
export function crc32ByTable(): Checksum {
  return new Crc32Checksum((bytes, value) => tableCrc(CRC32_TABLE, bytes, value));
}

class Digest implements Checksum {
  constructor(private readonly hash: Hash) {}
  update(bytes: Uint8Array): void {
    this.hash.update(bytes);
  }
  digest(): string {
    return this.hash.digest("base64");
  }
}

/** CRC-32C (Castagnoli), S3's CRC32C. */
const CRC32C_TABLE = crc32Table(0x82f63b78);

/** A 32-bit CRC fed in pieces: `crc` continues a CRC from the value of the bytes before, as zlib's does. */
class Crc32Checksum implements Checksum {
  private value = 0;
  constructor(private readonly crc: (bytes: Uint8Array, value: number) => number) {}
  update(bytes: Uint8Array): void {
    this.value = this.crc(bytes, this.value);
  }
  digest(): string {
    const bytes = Buffer.alloc(4);
    bytes.writeUInt32BE(this.value);
    return bytes.toString("base64");
  }
}

/**
 * The table of CRC-64/NVME (reflected polynomial 0x9a6c9329ac4bc9b5), as
 * two halves: 32-bit arithmetic is what JavaScript numbers do fast.
 */
const CRC64NVME_TABLE = (() => {
  const high = new Uint32Array(256);
  const low = new Uint32Array(256);
  const polynomial = 0x9a6c9329ac4bc9b5n;
  for (let index = 0; index < 256; index++) {
    let crc = BigInt(index);
    for (let bit = 0; bit < 8; bit++) crc = crc & 1n ? (crc >> 1n) ^ polynomial : crc >> 1n;
    high[index] = Number(crc >> 32n);
    low[index] = Number(crc & 0xffffffffn);
  }
  return { high, low };
})();

class Crc64Nvme implements Checksum {
  private high = 0xffffffff;
  private low = 0xffffffff;
  update(bytes: Uint8Array): void {
    const { high: highTable, low: lowTable } = CRC64NVME_TABLE;
    let { high, low } = this;
    for (let offset = 0; offset < bytes.length; offset++) {
      const index = (low ^ (bytes[offset] as number)) & 0xff;
      low = (((low >>> 8) | (high << 24)) ^ (lowTable[index] as number)) >>> 0;
      high = ((high >>> 8) ^ (highTable[index] as number)) >>> 0;
    }
    this.high = high;
    this.low = low;
  }
  digest(): string {
    const bytes = Buffer.alloc(8);
    bytes.writeUInt32BE((this.high ^ 0xffffffff) >>> 0, 0);
    bytes.writeUInt32BE((this.low ^ 0xffffffff) >>> 0, 4);
    return bytes.toString("base64");
  }
}
