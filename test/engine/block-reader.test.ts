import { describe, expect, it, vi } from "vitest";
import { BlockReader } from "../../src/engine/byte-source/block-reader.js";
import { BufferSource, type ByteSource, FileSource } from "../../src/engine/byte-source/byte-source.js";
import { ReaderTokenizer } from "../../src/engine/byte-source/reader-tokenizer.js";
import { LimitExceededError } from "../../src/engine/errors.js";
import { corpusFile } from "../support/corpus.js";

/** A source that records every call, to check what reaches the medium. */
class RecordingSource implements ByteSource {
  readonly calls: Array<[number, number]> = [];
  readonly name = "recording";
  readonly size: number;
  constructor(private readonly bytes: Uint8Array) {
    this.size = bytes.byteLength;
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    this.calls.push([offset, length]);
    await new Promise((resolve) => setTimeout(resolve, 1));
    return this.bytes.subarray(offset, Math.min(this.size, offset + length));
  }
}

function pattern(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + (i >> 8)) & 0xff;
  return bytes;
}

describe("BlockReader", () => {
  it("returns exactly the requested bytes across block boundaries", async () => {
    const bytes = pattern(10_000);
    const reader = new BlockReader(new BufferSource(bytes), { blockSize: 1024 });
    for (const [offset, length] of [
      [0, 1],
      [1000, 100],
      [1023, 2],
      [0, 10_000],
      [9_990, 50],
      [5_000, 3_333],
    ] as const) {
      expect(await reader.read(offset, length)).toEqual(
        bytes.subarray(offset, Math.min(10_000, offset + length)),
      );
    }
  });

  it("returns an empty array past the end and clamps negative offsets", async () => {
    const reader = new BlockReader(new BufferSource(pattern(100)));
    expect((await reader.read(200, 10)).byteLength).toBe(0);
    expect((await reader.read(-5, 10)).byteLength).toBe(10);
    expect((await reader.tail(1000)).byteLength).toBe(100);
  });

  it("serves repeated reads from the cache", async () => {
    const source = new RecordingSource(pattern(8192));
    const reader = new BlockReader(source, { blockSize: 1024 });
    await reader.read(100, 50);
    await reader.read(120, 10);
    await reader.read(0, 1024);
    expect(source.calls).toEqual([[0, 1024]]);
    expect(reader.stats).toEqual({ bytesRead: 1024, requests: 1 });
  });

  it("coalesces adjacent missing blocks into one request", async () => {
    const source = new RecordingSource(pattern(16_384));
    const reader = new BlockReader(source, { blockSize: 1024 });
    await reader.read(1024, 4096);
    expect(source.calls).toEqual([[1024, 4096]]);
  });

  it("prefetches a plan in as few requests as its ranges allow", async () => {
    const source = new RecordingSource(pattern(100_000));
    const reader = new BlockReader(source, { blockSize: 4096 });
    await reader.prefetch([
      { offset: 0, length: 5000 },
      { offset: 4000, length: 3000 },
      { offset: 100_000 - 2000, length: 2000 },
    ]);
    expect(source.calls).toEqual([
      [0, 8192],
      [94_208, 5_792],
    ]);
    await reader.read(0, 8000);
    await reader.tail(1000);
    expect(source.calls).toHaveLength(2);
  });

  it("shares one fetch between concurrent readers of a block", async () => {
    const source = new RecordingSource(pattern(4096));
    const reader = new BlockReader(source, { blockSize: 4096 });
    await Promise.all([reader.read(0, 10), reader.read(100, 10), reader.read(4000, 96)]);
    expect(source.calls).toHaveLength(1);
  });

  it("evicts the oldest blocks beyond the cache size and still reads correctly", async () => {
    const bytes = pattern(64 * 1024);
    const source = new RecordingSource(bytes);
    const reader = new BlockReader(source, { blockSize: 1024, maxCacheBytes: 4096 });
    for (let offset = 0; offset < bytes.byteLength; offset += 1024) await reader.read(offset, 1024);
    expect(await reader.read(0, 1024)).toEqual(bytes.subarray(0, 1024));
    expect(source.calls).toHaveLength(65);
  });

  it("splits very long runs into requests of at most maxRequestBytes", async () => {
    const source = new RecordingSource(pattern(10_000));
    const reader = new BlockReader(source, { blockSize: 1000, maxRequestBytes: 3000 });
    await reader.read(0, 10_000);
    expect(source.calls.map(([, length]) => length)).toEqual([3000, 3000, 3000, 1000]);
  });

  it("throws LimitExceededError when the byte budget is exhausted", async () => {
    const reader = new BlockReader(new BufferSource(pattern(100_000)), {
      blockSize: 1024,
      budget: { maxBytes: 4096, maxRequests: 100 },
    });
    await reader.read(0, 4096);
    await expect(reader.read(50_000, 10)).rejects.toBeInstanceOf(LimitExceededError);
  });

  it("throws LimitExceededError when the request budget is exhausted", async () => {
    const reader = new BlockReader(new BufferSource(pattern(100_000)), {
      blockSize: 1024,
      budget: { maxBytes: 1e9, maxRequests: 2 },
    });
    await reader.read(0, 1);
    await reader.read(10_000, 1);
    await expect(reader.read(20_000, 1)).rejects.toMatchObject({ limit: "requests" });
  });

  it("names the first bound that cut it short, refused or noted", async () => {
    // Prepare: two requests allowed.
    const reader = new BlockReader(new BufferSource(pattern(100_000)), {
      blockSize: 1024,
      budget: { maxBytes: 1e9, maxRequests: 2 },
    });
    await reader.read(0, 1);
    // Act: a walk notes the entry budget, then a read is refused for requests.
    const before = reader.limitReached;
    reader.noteLimit("entries");
    await reader.read(10_000, 1);
    await expect(reader.read(20_000, 1)).rejects.toMatchObject({ limit: "requests" });
    // Assess
    expect(before).toBeUndefined();
    expect(reader.limitReached).toBe("entries");
  });

  it("stops reading once its signal is aborted", async () => {
    const deadline = new AbortController();
    const reader = new BlockReader(new BufferSource(pattern(10_000)), {
      blockSize: 1024,
      signal: deadline.signal,
    });
    await reader.read(0, 10);
    deadline.abort();
    await expect(reader.read(5000, 10)).rejects.toMatchObject({ limit: "time" });
  });

  it("answers reads inside a head it was given from memory, and the rest from the source", async () => {
    // Prepare
    const bytes = pattern(10_000);
    const source = new RecordingSource(bytes);
    const reader = new BlockReader(source, { blockSize: 1024, head: bytes.slice(0, 4096) });
    // Act
    const inside = await reader.read(100, 3996);
    const callsForInside = source.calls.length;
    const across = await reader.read(4000, 200);
    // Assess
    expect(inside).toEqual(bytes.subarray(100, 4096));
    expect(callsForInside).toBe(0);
    expect(across).toEqual(bytes.subarray(4000, 4200));
    expect(source.calls).toEqual([[3072, 2048]]);
    expect(reader.stats).toEqual({ bytesRead: 2048, requests: 1 });
  });

  it("keeps its deadline for reads answered from the head", async () => {
    const bytes = pattern(1000);
    const reader = new BlockReader(new BufferSource(bytes), { head: bytes, deadline: performance.now() - 1 });
    await expect(reader.read(0, 10)).rejects.toBeInstanceOf(LimitExceededError);
  });

  it("stops serving even cached blocks once its deadline has passed", async () => {
    const reader = new BlockReader(new BufferSource(pattern(10_000)), {
      blockSize: 1024,
      deadline: performance.now() + 30,
    });
    await reader.read(0, 10);
    const spinUntil = performance.now() + 40;
    while (performance.now() < spinUntil) {
      // A parser looping on cached bytes: no timer can run meanwhile.
    }
    await expect(reader.read(0, 10)).rejects.toMatchObject({ limit: "time" });
  });

  it("copies into a caller's buffer what read returns, across blocks, from its head and at the end", async () => {
    // Prepare
    const bytes = pattern(10_000);
    const source = new RecordingSource(bytes);
    const reader = new BlockReader(source, { blockSize: 1024, head: bytes.slice(0, 2048) });
    for (const [offset, length] of [
      [10, 100],
      [2000, 40],
      [1023, 5000],
      [0, 10_000],
      [9_990, 50],
      [20_000, 10],
    ] as const) {
      const target = new Uint8Array(length).fill(0xee);
      // Act
      const count = await reader.readInto(offset, target);
      // Assess
      const expected = bytes.subarray(offset, Math.min(10_000, offset + length));
      expect(count).toBe(expected.byteLength);
      expect(target.subarray(0, count)).toEqual(expected);
      expect(target.subarray(count).every((byte) => byte === 0xee)).toBe(true);
    }
    // Each block came from the source once; the head cost nothing.
    expect(reader.stats.bytesRead).toBe(10_000);
  });

  it("reads a real file identically through FileSource", async () => {
    const source = await FileSource.open(corpusFile("filetype-fixture.png"));
    try {
      const reader = new BlockReader(source, { blockSize: 512 });
      const whole = await reader.read(0, source.size);
      const direct = await source.read(0, source.size);
      expect(whole).toEqual(direct);
      expect(whole.byteLength).toBe(source.size);
    } finally {
      await source.close();
    }
  });
});

describe("ReaderTokenizer", () => {
  it("skips to the end for a length past it, however large, as for a file of known size", async () => {
    // Prepare: EBML's "unknown size" (all length bits set) decodes to 2^56 - 1, past Number's safe integers.
    const tokenizer = new ReaderTokenizer(new BlockReader(new BufferSource(pattern(100))));
    tokenizer.setPosition(40);

    // Act
    const skipped = await tokenizer.ignore(2 ** 56 - 1);

    // Assess
    expect(skipped).toBe(60);
    expect(tokenizer.position).toBe(100);
  });

  it("peeks and reads into the caller's buffer, with no array assembled per call", async () => {
    // Prepare: file-type peeks 256 KiB at a time into a buffer of its own.
    const bytes = pattern(10_000);
    const reader = new BlockReader(new BufferSource(bytes), { blockSize: 1024 });
    const tokenizer = new ReaderTokenizer(reader, {}, 8000);
    const read = vi.spyOn(reader, "read");
    const target = new Uint8Array(256 * 1024);
    tokenizer.setPosition(1000);
    // Act
    const peeked = await tokenizer.peekBuffer(target, { mayBeLess: true });
    const header = new Uint8Array(30);
    await tokenizer.readBuffer(header);
    // Assess: the limit ends the visible file at 8000 bytes.
    expect(peeked).toBe(7000);
    expect(target.subarray(0, peeked)).toEqual(bytes.subarray(1000, 8000));
    expect(header).toEqual(bytes.subarray(1000, 1030));
    expect(tokenizer.position).toBe(1030);
    expect(read).not.toHaveBeenCalled();
    await expect(tokenizer.peekBuffer(new Uint8Array(8000))).rejects.toThrow("End-Of-Stream");
  });

  it("still refuses a negative length", async () => {
    const tokenizer = new ReaderTokenizer(new BlockReader(new BufferSource(pattern(10))));
    await expect(tokenizer.ignore(-1)).rejects.toBeInstanceOf(RangeError);
  });
});
