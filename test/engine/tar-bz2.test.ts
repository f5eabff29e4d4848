/**
 * Tarballs compressed with bzip2 (.tar.bz2, .tbz2): the tar inside is walked
 * as the stream decompresses, block by block, as a .tar.gz is. The compressed
 * bytes come from bzip2 itself; the names are checked against bsdtar's and
 * dpkg-deb's listings of the same files.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { expect, it } from "vitest";
import { BufferSource } from "../../src/engine/byte-source/byte-source.js";
import { extract } from "../../src/engine/engine.js";
import { bunzip2 } from "../../src/engine/extractors/archive/bzip2.js";
import { ForwardDecompressor } from "../../src/engine/extractors/archive/forward-decompressor.js";
import { bsdtarList } from "../support/bsdtar.js";
import { corpusFile } from "../support/corpus.js";
import { randomTar, textTar, zerosTar } from "../support/tar.js";
import { describeWith } from "../support/tools.js";

/** `bytes` compressed by bzip2 (blocks of `level` hundred thousand bytes). */
function bzip2(bytes: Uint8Array, level = 9): Buffer {
  const run = spawnSync("bzip2", ["-c", `-${level}`], { input: bytes, maxBuffer: 64 * 1024 * 1024 });
  if (run.status !== 0) throw new Error(`bzip2 failed: ${run.stderr}`);
  return run.stdout;
}

describeWith("bzip2", "bsdtar")("bzip2 tarballs", () => {
  it("lists every entry, in bsdtar's order, with the size the content decompresses to", async () => {
    // Prepare: 200 entries in 1.7 MB that does not compress, two blocks of 900 kB.
    const tar = randomTar(200, 8 * 1024);
    const bytes = bzip2(tar);

    // Act
    const result = await extract(new BufferSource(bytes, "parts.tar.bz2"), { name: "parts.tar.bz2" });

    // Assess
    expect(result.status).toBe("ok");
    expect(result.format).toMatchObject({ mime: "application/x-bzip2", category: "archive" });
    expect(result.archive).toMatchObject({ kind: "bzip2", entries: 200, nestedArchives: 0 });
    expect(result.archive?.sample).toEqual(bsdtarList(bytes, "parts.tar.bz2").slice(0, 20));
    expect(result.archive?.uncompressedSize).toBe(tar.byteLength);
    expect(result.archive?.estimated).toBeUndefined();
    expect(result.warnings).toEqual([]);
  });

  it("walks on across streams, as pbzip2 and lbzip2 write a tarball", async () => {
    // Prepare: one tar of 2,000 entries cut in three and each part compressed on its own, so that
    // entries straddle the streams' ends; bzip2 -d and bsdtar read the streams as one content.
    const tar = textTar(2000);
    const third = Math.floor(tar.byteLength / 3);
    const bytes = Buffer.concat([
      bzip2(tar.subarray(0, third), 1),
      bzip2(tar.subarray(third, 2 * third), 1),
      bzip2(tar.subarray(2 * third), 1),
    ]);

    // Act
    const result = await extract(new BufferSource(bytes, "docs.tbz2"), { name: "docs.tbz2" });

    // Assess
    expect(result.status).toBe("ok");
    expect(result.archive).toMatchObject({ kind: "bzip2", entries: bsdtarList(bytes, "docs.tbz2").length });
    expect(result.archive?.entries).toBe(2000);
    expect(result.archive?.uncompressedSize).toBe(tar.byteLength);
    expect(result.warnings).toEqual([]);
  });

  it("extrapolates from the share of the content it walked when the input bound stops it", async () => {
    // Prepare: 300 entries, 2.6 MB compressed, past bzip2's bound of 2 MiB (a quarter of gzip's: it decodes slower).
    const bytes = bzip2(randomTar(300, 8 * 1024));

    // Act
    const result = await extract(new BufferSource(bytes, "parts.tar.bz2"), { name: "parts.tar.bz2" });

    // Assess: bzip2 declares no size, so the count is scaled by the compressed share.
    expect(result.status).toBe("ok");
    expect(result.archive?.estimated).toBe(true);
    expect(result.archive?.entries).toBeGreaterThan(250);
    expect(result.archive?.entries).toBeLessThan(350);
    expect(result.warnings).toContainEqual(expect.stringMatching(/then extrapolated$/));
  });

  it("lists a file cut short as far as its whole blocks go, and says its data ends early", async () => {
    // Prepare: the first 75% of a 300-entry tarball: two whole blocks of three, and part of the third.
    const bytes = bzip2(randomTar(300, 8 * 1024));
    const cut = bytes.subarray(0, Math.floor(bytes.byteLength * 0.75));
    // What bzip2 -d makes of it before it stops: the whole blocks, and the entries whose headers they hold.
    const decoded = spawnSync("bzip2", ["-dc"], { input: cut, maxBuffer: 64 * 1024 * 1024 }).stdout;
    const headersHeld = Math.floor((decoded.byteLength - 512) / (512 + 8 * 1024)) + 1;

    // Act
    const result = await extract(new BufferSource(cut, "parts.tar.bz2"), { name: "parts.tar.bz2" });

    // Assess
    expect(result.status).toBe("partial");
    expect(result.reason).toBe("truncated: the bzip2 data ends before its end");
    expect(decoded.byteLength).toBeGreaterThan(1_500_000);
    expect(result.archive?.entries).toBe(headersHeld);
    expect(result.archive?.estimated).toBe(true);
    expect(result.warnings).toContainEqual("partial tar listing: the bzip2 data is damaged (truncated)");
  });

  it("stops at a damaged block with the entries before it, and says why", async () => {
    // Prepare: one byte changed in the second of three blocks.
    const bytes = bzip2(randomTar(300, 8 * 1024));
    const middle = Math.floor(bytes.byteLength / 2);
    bytes.writeUInt8(bytes.readUInt8(middle) ^ 0x40, middle);

    // Act
    const result = await extract(new BufferSource(bytes, "parts.tar.bz2"), { name: "parts.tar.bz2" });

    // Assess: the first block's entries, and the damage named.
    expect(result.status).toBe("ok");
    expect(result.archive?.entries).toBeGreaterThanOrEqual(100);
    expect(result.archive?.entries).toBeLessThan(300);
    expect(result.warnings).toContainEqual(
      expect.stringMatching(/^partial tar listing: the bzip2 data is damaged \(bzip2: /),
    );
  });

  it("flags a bomb by what its few bytes expand to", async () => {
    // Prepare: one 64 MiB file of zeros, a few kilobytes compressed.
    const tar = zerosTar(64 * 1024 * 1024);
    const bytes = bzip2(tar);

    // Act
    const result = await extract(new BufferSource(bytes, "zeros.tar.bz2"), { name: "zeros.tar.bz2" });

    // Assess
    expect(result.status).toBe("ok");
    expect(result.archive).toMatchObject({ kind: "bzip2", entries: 1, bomb: true, sample: ["zeros.bin"] });
  });

  it("is one entry when no tar is inside, of the size bzip2 -d gives", async () => {
    // Prepare: the corpus's bzip2 file (a JPEG inside) and a log of 3 MB, 80 kB compressed.
    const corpus = readFileSync(corpusFile("filetype-fixture.bz2"));
    const log = Buffer.from(
      Array.from({ length: 40_000 }, (_, i) => `2026-11-29T14:${i % 60} GET /item/${i} 200\n`).join(""),
    );

    // Act
    const results = await Promise.all([
      extract(new BufferSource(corpus, "filetype-fixture.bz2")),
      extract(new BufferSource(bzip2(log), "access.log.bz2")),
    ]);

    // Assess
    const decompressed = spawnSync("bzip2", ["-dc"], { input: corpus }).stdout.byteLength;
    expect(results.map((result) => [result.status, result.warnings, result.archive])).toEqual([
      ["ok", [], expect.objectContaining({ kind: "bzip2", entries: 1, uncompressedSize: decompressed })],
      ["ok", [], expect.objectContaining({ kind: "bzip2", entries: 1, uncompressedSize: log.byteLength })],
    ]);
    expect(results[1]?.archive?.estimated).toBeUndefined();
  });

  it("estimates the size of a file past the input bound, and flags a bomb that is no tarball", async () => {
    // Prepare: 3 MB that does not compress, and 40 MiB of zeros (a hundred bytes compressed).
    const random = bzip2(randomBytes(3_000_000), 1);
    const zeros = bzip2(Buffer.alloc(40 * 1024 * 1024), 9);

    // Act
    const large = await extract(new BufferSource(random, "random.bin.bz2"));
    const bomb = await extract(new BufferSource(zeros, "zeros.bin.bz2"));

    // Assess: 2 MiB of the 3 MB decompressed, and scaled by the share it was.
    expect(large.status).toBe("ok");
    expect(large.archive).toMatchObject({ entries: 1, estimated: true, bomb: false });
    expect(large.archive?.uncompressedSize).toBeGreaterThan(2_800_000);
    expect(large.archive?.uncompressedSize).toBeLessThan(3_200_000);
    expect(bomb.status).toBe("ok");
    expect(bomb.archive).toMatchObject({ entries: 1, bomb: true, uncompressedSize: 40 * 1024 * 1024 });
  });

  it("says what is wrong with a file that is not bzip2 past its header", async () => {
    // "BZh" and a level, then bytes that are no block.
    const fake = Buffer.concat([Buffer.from("BZh9"), randomBytes(2000)]);
    const result = await extract(new BufferSource(fake, "fake.tar.bz2"), { name: "fake.tar.bz2" });
    expect(result.status).toBe("ok");
    expect(result.archive).toMatchObject({ kind: "bzip2", entries: 1 });
    expect(result.archive?.uncompressedSize).toBeUndefined();
    expect(result.warnings).toEqual([expect.stringMatching(/^the bzip2 data is damaged \(bzip2: /)]);
  });

  it("answers ForwardDecompressor's ranges in order, skipping what lies between them", async () => {
    // Prepare
    const content = randomBytes(2 * 1024 * 1024);
    const compressed = bzip2(content, 1);
    const content$ = new ForwardDecompressor({
      read: async (offset, length) => compressed.subarray(offset, offset + length),
      size: compressed.byteLength,
      maxInput: compressed.byteLength,
      chunkBytes: 16 * 1024,
      maxOutput: 1 << 30,
      decoder: bunzip2,
    });
    try {
      // Act, Assess
      expect(Buffer.from(await content$.read(0, 512)).equals(content.subarray(0, 512))).toBe(true);
      expect(
        Buffer.from(await content$.read(1_500_000, 1000)).equals(content.subarray(1_500_000, 1_501_000)),
      ).toBe(true);
      expect((await content$.read(content.byteLength - 10, 512)).byteLength).toBe(10);
      expect(content$.produced).toBe(content.byteLength);
      expect(content$.failure).toBeUndefined();
    } finally {
      content$.close();
    }
  });
});
