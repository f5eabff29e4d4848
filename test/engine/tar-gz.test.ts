/**
 * Tarballs (.tar.gz, .tgz): the tar inside is walked as the gzip stream
 * inflates, so a tarball is counted whole up to the walk's input bound and
 * extrapolated past it, and a bomb stops inflating at the output bound.
 * Expected counts are what `bsdtar -tf` lists for the same bytes.
 */
import { randomBytes } from "node:crypto";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { BufferSource } from "../../src/engine/byte-source/byte-source.js";
import { extract } from "../../src/engine/engine.js";
import { gunzip } from "../../src/engine/extractors/archive/decoders.js";
import { ForwardDecompressor } from "../../src/engine/extractors/archive/forward-decompressor.js";
import { randomTar, tarHeader } from "../support/tar.js";

describe("tarball listings", () => {
  it("counts every entry of a tarball whose content is far past the first MiB", async () => {
    // Prepare: 300 entries in 2.6 MB of content that does not compress.
    const bytes = new Uint8Array(gzipSync(randomTar(300, 8 * 1024)));

    // Act
    const result = await extract(new BufferSource(bytes, "parts.tar.gz"), { name: "parts.tar.gz" });

    // Assess
    expect(result.status).toBe("ok");
    expect(result.archive).toMatchObject({ kind: "gzip", entries: 300, nestedArchives: 0 });
    expect(result.archive?.estimated).toBeUndefined();
    expect(result.archive?.sample).toHaveLength(20);
    expect(result.archive?.sample[0]).toBe("data/part-0.bin");
    expect(result.warnings).toEqual([]);
  });

  it("extrapolates from the share of the content it walked when the input bound stops it", async () => {
    // Prepare: 400 equal entries in 3.3 MB; a 1 MiB byte budget lets the walk inflate about a third.
    const bytes = new Uint8Array(gzipSync(randomTar(400, 8 * 1024)));

    // Act
    const result = await extract(new BufferSource(bytes, "parts.tgz"), {
      name: "parts.tgz",
      budget: { maxBytes: 1024 * 1024 },
    });

    // Assess: equal entries, so the estimate lands close to the truth.
    expect(result.archive).toMatchObject({ kind: "gzip", estimated: true });
    expect(result.archive?.entries).toBeGreaterThan(380);
    expect(result.archive?.entries).toBeLessThan(420);
    expect(result.warnings).toEqual([
      expect.stringMatching(/^tar entries counted in the first \d+ decompressed bytes, then extrapolated$/),
    ]);
    expect(result.limit).toBeUndefined();
    expect(result.bytesRead).toBeLessThanOrEqual(1024 * 1024);
  });

  it("keeps the entries before a cut and says the archive is truncated", async () => {
    // Prepare: the compressed stream cut halfway, as an interrupted upload leaves it.
    const whole = gzipSync(randomTar(100, 8 * 1024));
    const cut = new Uint8Array(whole.subarray(0, Math.floor(whole.byteLength / 2)));

    // Act
    const result = await extract(new BufferSource(cut, "cut.tar.gz"), { name: "cut.tar.gz" });

    // Assess: the member ends before its trailer, so the record is partial, with the entries before the cut.
    expect(result.status).toBe("partial");
    expect(result.reason).toBe("truncated: the gzip data ends before its end");
    expect(result.archive).toMatchObject({ kind: "gzip", estimated: true });
    expect(result.archive?.entries).toBeGreaterThan(40);
    expect(result.archive?.entries).toBeLessThan(60);
    expect(result.warnings).toEqual(["partial tar listing: the gzip data is damaged (truncated)"]);
  });

  it("keeps the entries before damaged deflate data and names the damage", async () => {
    // Prepare: a stored-looking run of bytes overwritten in the middle of the compressed stream.
    const bytes = new Uint8Array(gzipSync(randomTar(100, 8 * 1024)));
    bytes.fill(0xff, bytes.byteLength / 2, bytes.byteLength / 2 + 64);

    // Act
    const result = await extract(new BufferSource(bytes, "damaged.tar.gz"), { name: "damaged.tar.gz" });

    // Assess
    expect(result.status).toBe("ok");
    expect(result.archive).toMatchObject({ kind: "gzip", estimated: true });
    expect(result.archive?.entries).toBeLessThan(100);
    expect(result.warnings.join("\n")).toMatch(
      /^partial tar listing: (the gzip data is damaged \(.+\)|bad tar header)/,
    );
  });

  it("stops inflating a bomb of many members at the output bound, flags it, and lists its one entry", async () => {
    // Prepare: a header, then 1 GiB of zeros as 1,024 gzip members of 1 MiB each: about 1 MB on disk.
    const zeros = gzipSync(Buffer.alloc(1024 * 1024));
    const bytes = new Uint8Array(
      Buffer.concat([
        gzipSync(tarHeader("huge.bin", 1024 ** 3)),
        ...Array.from({ length: 1024 }, () => zeros),
      ]),
    );

    // Act
    const result = await extract(new BufferSource(bytes, "bomb.tar.gz"), { name: "bomb.tar.gz" });

    // Assess: the walk met its bound inside the entry's body; ISIZE, the last member's, says nothing of the whole.
    expect(result.status).toBe("ok");
    expect(result.archive).toMatchObject({
      kind: "gzip",
      entries: 1,
      sample: ["huge.bin"],
      estimated: true,
      bomb: true,
    });
    // What was inflated before the bound, not the trailer's 1 MiB, is the size it reports: a floor.
    expect(result.archive?.uncompressedSize).toBeGreaterThanOrEqual(256 * 1024 * 1024);
    expect(result.warnings).toContain(
      "gzip ISIZE is smaller than the content already inflated: multi-member or wrapped past 4 GiB",
    );
    expect(result.warnings).toContainEqual(expect.stringMatching(/then extrapolated$/));
  });
});

describe("ForwardDecompressor", () => {
  const content = randomBytes(300 * 1024);
  const compressed = new Uint8Array(gzipSync(content));
  const inflaterOf = (maxOutput = 1 << 30) =>
    new ForwardDecompressor({
      decoder: gunzip,
      read: async (offset, length) => compressed.subarray(offset, offset + length),
      size: compressed.byteLength,
      maxInput: compressed.byteLength,
      chunkBytes: 16 * 1024,
      maxOutput,
    });

  it("refuses to read backwards, having dropped what lies behind", async () => {
    const inflater = inflaterOf();
    try {
      await inflater.read(100_000, 512);
      await expect(inflater.read(0, 512)).rejects.toThrow(RangeError);
    } finally {
      inflater.close();
    }
  });

  it("stops inflating once the extraction's deadline has passed", async () => {
    // Prepare
    const deadline = new AbortController();
    const inflater = new ForwardDecompressor({
      decoder: gunzip,
      read: async (offset, length) => compressed.subarray(offset, offset + length),
      size: compressed.byteLength,
      maxInput: compressed.byteLength,
      chunkBytes: 16 * 1024,
      maxOutput: 1 << 30,
      signal: deadline.signal,
    });
    await inflater.read(0, 512);

    // Act
    deadline.abort();

    // Assess
    await expect(inflater.read(100_000, 512)).rejects.toMatchObject({
      name: "LimitExceededError",
      limit: "time",
    });
  });

  it("stops at its output bound and says the content was cut by it", async () => {
    const inflater = inflaterOf(64 * 1024);
    try {
      const read = await inflater.read(0, 200 * 1024);
      expect(read.byteLength).toBeGreaterThanOrEqual(64 * 1024);
      expect(read.byteLength).toBeLessThan(200 * 1024);
      expect(inflater.bounded).toBe(true);
    } finally {
      inflater.close();
    }
  });
});
