/**
 * The checksums the embedded S3 server checks uploads against, each by its
 * catalogued check value (the checksum of the nine ASCII digits
 * "123456789") and by the value S3's documentation and the SDKs give
 * "hello world"; fed in pieces of any size, a checksum is the same.
 */
import { describe, expect, it } from "vitest";
import { CHECKSUM_ALGORITHMS, crc32ByTable, createChecksum } from "../../src/local/checksums.js";

const hex = (base64: string) => Buffer.from(base64, "base64").toString("hex");
const checksumOf = (algorithm: (typeof CHECKSUM_ALGORITHMS)[number], ...pieces: string[]) => {
  const checksum = createChecksum(algorithm);
  for (const piece of pieces) checksum.update(Buffer.from(piece));
  return checksum.digest();
};

describe("createChecksum", () => {
  it.each([
    ["crc32", "cbf43926"],
    ["crc32c", "e3069283"],
    ["crc64nvme", "ae8b14860a799888"],
    ["sha1", "f7c3bc1d808e04732adf679965ccc34ca7ae3441"],
    ["sha256", "15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225"],
  ] as const)("computes %s's check value", (algorithm, expected) => {
    expect(hex(checksumOf(algorithm, "123456789"))).toBe(expected);
  });

  it("gives the CRC32 the SDK sends for hello world", () => {
    expect(checksumOf("crc32", "hello world")).toBe("DUoRhQ==");
  });

  it.each(CHECKSUM_ALGORITHMS)("gives %s the same value fed in pieces", (algorithm) => {
    expect(checksumOf(algorithm, "1", "2345", "", "6789")).toBe(checksumOf(algorithm, "123456789"));
  });

  it("computes CRC32 by table as zlib does, on older Node.js releases", () => {
    const bytes = Buffer.from(Array.from({ length: 100_000 }, (_, index) => (index * 31) & 0xff));
    const table = crc32ByTable();
    table.update(bytes.subarray(0, 777));
    table.update(bytes.subarray(777));
    const native = createChecksum("crc32");
    native.update(bytes);
    expect(table.digest()).toBe(native.digest());
    const check = crc32ByTable();
    check.update(Buffer.from("123456789"));
    expect(hex(check.digest())).toBe("cbf43926");
  });

  it.each([
    ["crc32", "AAAAAA=="],
    ["crc32c", "AAAAAA=="],
    ["crc64nvme", "AAAAAAAAAAA="],
    ["sha1", "2jmj7l5rSw0yVb/vlWAYkK/YBwk="],
  ] as const)("gives %s of no bytes as %s", (algorithm, expected) => {
    expect(checksumOf(algorithm)).toBe(expected);
  });
});
