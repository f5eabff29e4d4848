/**
 * Tarballs compressed with lzip (.tar.lz) and as LZMA-alone streams
 * (.tar.lzma): the tar inside is walked as the LZMA stream decodes, as a
 * .tar.xz is, and the size comes from the lzip members' trailers or the
 * .lzma header. The compressed bytes come from the lzip tool itself, at its
 * levels and with the dictionary and member sizes it can be given, and the
 * names are checked against bsdtar's listing.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { mulberry32 } from "../../bench/fuzz-inputs.js";
import { BufferSource } from "../../src/engine/byte-source/byte-source.js";
import { extract } from "../../src/engine/engine.js";
import { ContentError } from "../../src/engine/errors.js";
import { lzipDictionarySize, unlzip } from "../../src/engine/extractors/archive/lzip.js";
import { LzmaDecoder, MAX_HISTORY_BYTES } from "../../src/engine/extractors/archive/lzma.js";
import { bsdtarList } from "../support/bsdtar.js";
import { randomTar, textTar, zerosTar } from "../support/tar.js";
import { describeWith } from "../support/tools.js";

/** `bytes` compressed by lzip from stdin, with `args` (-0 to -9, -s dictionary size, -b member size). */
function lzip(bytes: Uint8Array, ...args: string[]): Buffer {
  const run = spawnSync("lzip", ["-c", "-q", ...args], { input: bytes, maxBuffer: 256 * 1024 * 1024 });
  if (run.status !== 0) throw new Error(`lzip failed: ${run.stderr}`);
  return run.stdout;
}

/** The members `lzip -l` counts in `bytes` (it reads a file's trailers, so a file it must be). */
function members(bytes: Uint8Array): number {
  const directory = mkdtempSync(join(tmpdir(), "lzip-"));
  try {
    const path = join(directory, "members.lz");
    writeFileSync(path, bytes);
    const run = spawnSync("lzip", ["-lv", path], { encoding: "utf8" });
    const row = run.stdout.trim().split("\n")[1] ?? "";
    return Number(row.trim().split(/\s+/)[2]);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

/** Everything unlzip decodes from `bytes`, fed in chunks of `chunk` bytes. */
async function decodeAll(bytes: Uint8Array, chunk: number, cut = false): Promise<Buffer> {
  async function* chunks(): AsyncGenerator<Uint8Array> {
    for (let at = 0; at < bytes.byteLength; at += chunk) yield bytes.subarray(at, at + chunk);
  }
  const run = unlzip(chunks(), cut);
  const parts: Uint8Array[] = [];
  for (;;) {
    const next = await run.output.next();
    if (next.done) break;
    parts.push(next.value);
  }
  return Buffer.concat(parts);
}

const extractNamed = (bytes: Uint8Array, name: string) => extract(new BufferSource(bytes, name), { name });

describe("lzip's coded dictionary size", () => {
  it("reads the exponent and the sixteenths taken from it", () => {
    expect(lzipDictionarySize(0x17)).toBe(8 * 1024 * 1024);
    expect(lzipDictionarySize(0x0c)).toBe(4096);
    expect(lzipDictionarySize(0x1d)).toBe(512 * 1024 * 1024);
    // 2^20 less 3/16 of it: lzip's way of writing 832 KiB.
    expect(lzipDictionarySize((3 << 5) | 20)).toBe(1024 * 1024 - 3 * 64 * 1024);
    expect(() => lzipDictionarySize(11)).toThrow(ContentError);
    expect(() => lzipDictionarySize(30)).toThrow(ContentError);
  });
});

describeWith("lzip", "bsdtar")("lzip tarballs", () => {
  it.each([
    { shape: "lzip's default level", args: [] },
    { shape: "level 0 (the fastest)", args: ["-0"] },
    { shape: "level 9 (a 32 MiB dictionary)", args: ["-9"] },
    { shape: "a 4 KiB dictionary, which the content turns over hundreds of times", args: ["-s", "4KiB"] },
  ])("lists every entry in bsdtar's order, from $shape", async ({ args }) => {
    // Prepare: 2,000 small files, 1.9 MB of tar.
    const tar = textTar(2000);
    const bytes = lzip(tar, ...args);

    // Act
    const result = await extractNamed(bytes, "docs.tar.lz");

    // Assess
    expect(result.status).toBe("ok");
    expect(result.warnings).toEqual([]);
    expect(result.format).toMatchObject({ mime: "application/x-lzip", category: "archive" });
    const listed = bsdtarList(bytes, "docs.tar.lz");
    expect(result.archive).toMatchObject({ kind: "lzip", entries: listed.length, nestedArchives: 0 });
    expect(result.archive?.sample).toEqual(listed.slice(0, 20));
    expect(result.archive?.uncompressedSize).toBe(tar.byteLength);
    expect(result.archive?.estimated).toBeUndefined();
  });

  it("decodes byte for byte what lzip -d gives, however the input is split", async () => {
    // Prepare: text, random bytes and runs, with a 4 KiB dictionary so that copies reach across its turn.
    const content = Buffer.concat([
      textTar(300),
      randomBytes(100_000),
      Buffer.alloc(300_000, 7),
      textTar(200),
    ]);
    const bytes = lzip(content, "-s", "4KiB");

    // Act, Assess: one byte at a time, a few, and all at once.
    for (const chunk of [1, 7, 4096, bytes.byteLength]) {
      expect((await decodeAll(bytes, chunk)).equals(content)).toBe(true);
    }
  });

  it("reads members one after another, and sizes them from their trailers", async () => {
    // Prepare: members of at most 100 kB each (lzip -b), as plzip and lzip -b write them.
    const tar = randomTar(60, 8 * 1024);
    const bytes = lzip(tar, "-b", "100kB");
    expect(members(bytes)).toBeGreaterThan(3);

    // Act
    const result = await extractNamed(bytes, "parts.tar.lz");

    // Assess
    expect(result.status).toBe("ok");
    expect(result.warnings).toEqual([]);
    expect(result.archive).toMatchObject({
      entries: bsdtarList(bytes, "parts.tar.lz").length,
      uncompressedSize: tar.byteLength,
    });
    expect(result.archive?.estimated).toBeUndefined();
  });

  it("extrapolates from the share of the content it walked when the input bound stops it", async () => {
    // Prepare: 300 entries, 2.5 MB compressed, past lzip's bound of 2 MiB (it decodes slower than xz).
    const tar = randomTar(300, 8 * 1024);
    const bytes = lzip(tar, "-0");

    // Act
    const result = await extractNamed(bytes, "parts.tar.lz");

    // Assess: the trailer's size holds, so the count is scaled by the share of it walked.
    expect(result.status).toBe("ok");
    expect(result.archive?.estimated).toBe(true);
    expect(result.archive?.entries).toBeGreaterThan(250);
    expect(result.archive?.entries).toBeLessThan(350);
    expect(result.archive?.uncompressedSize).toBe(tar.byteLength);
    expect(result.warnings).toContainEqual(expect.stringMatching(/then extrapolated$/));
  });

  it("lists a file cut short as far as it decodes, and says its data ends early", async () => {
    // Prepare: the first 60% of a 300-entry tarball.
    const bytes = lzip(randomTar(300, 4 * 1024), "-0");
    const cut = bytes.subarray(0, Math.floor(bytes.byteLength * 0.6));

    // Act
    const result = await extractNamed(cut, "parts.tar.lz");

    // Assess: no trailer, so no declared size; about 60% of the entries, and the reason.
    expect(result.status).toBe("partial");
    expect(result.reason).toBe("truncated: the lzip data ends before its end");
    expect(result.archive?.estimated).toBe(true);
    expect(result.archive?.entries).toBeGreaterThan(150);
    expect(result.archive?.entries).toBeLessThan(200);
    expect(result.warnings).toEqual([
      "lzip trailer not found (truncated, or data after the last member): no declared size",
      "partial tar listing: the lzip data is damaged (LZMA stream is truncated)",
    ]);
  });

  it("catches damage that still decodes by the member's CRC32, and never throws anything but a content error", async () => {
    // Prepare: bit flips and byte runs anywhere past the header.
    const content = textTar(200);
    const bytes = lzip(content);
    const random = mulberry32(20_261_129);
    const outcomes = { decoded: 0, refused: 0 };

    for (let round = 0; round < 300; round++) {
      const damaged = Buffer.from(bytes);
      const flips = 1 + Math.floor(random() * 4);
      for (let i = 0; i < flips; i++) {
        const at = 6 + Math.floor(random() * (damaged.byteLength - 26));
        damaged[at] = round % 3 === 0 ? Math.floor(random() * 256) : (damaged[at] as number) ^ (1 << (i % 8));
      }
      // Act
      try {
        const decoded = await decodeAll(damaged, 64 * 1024);
        // Assess: what decodes whole with a matching CRC32 is the content.
        expect(decoded.equals(content)).toBe(true);
        outcomes.decoded++;
      } catch (error) {
        expect(error).toBeInstanceOf(ContentError);
        outcomes.refused++;
      }
    }
    expect(outcomes.refused).toBeGreaterThan(250);
  });

  it("flags a bomb by what its few bytes expand to", async () => {
    // Prepare: one 64 MiB file of zeros, a few kilobytes compressed.
    const bytes = lzip(zerosTar(64 * 1024 * 1024));

    // Act
    const result = await extractNamed(bytes, "zeros.tar.lz");

    // Assess
    expect(result.status).toBe("ok");
    expect(result.archive).toMatchObject({ kind: "lzip", entries: 1, bomb: true, sample: ["zeros.bin"] });
  });

  it("is one entry of the trailer's size when no tar is inside", async () => {
    // Prepare: a log of 3 MB.
    const log = Buffer.from(
      Array.from({ length: 40_000 }, (_, i) => `2026-11-29T14:${i % 60} GET /item/${i} 200\n`).join(""),
    );

    // Act
    const result = await extractNamed(lzip(log), "access.log.lz");

    // Assess
    expect(result.status).toBe("ok");
    expect(result.warnings).toEqual([]);
    expect(result.archive).toMatchObject({ kind: "lzip", entries: 1, uncompressedSize: log.byteLength });
  });

  it("says what is wrong with a file that is not lzip past its magic number", async () => {
    const fake = Buffer.concat([Buffer.from("LZIP\x01\x17"), randomBytes(2000)]);
    const result = await extractNamed(fake, "fake.tar.lz");
    expect(result.status).toBe("ok");
    expect(result.archive).toMatchObject({ kind: "lzip", entries: 1 });
    expect(result.warnings).toContainEqual(expect.stringMatching(/^the lzip data is damaged \(/));
  });
});

/** `bytes` as xz writes an LZMA-alone stream (.lzma): its size unknown in the header, an end marker. */
function lzmaAlone(bytes: Uint8Array, ...args: string[]): Buffer {
  return execFileSync("xz", ["--format=lzma", "-c", ...args], { input: bytes, maxBuffer: 256 * 1024 * 1024 });
}

describeWith("xz", "bsdtar")("LZMA-alone tarballs (.tar.lzma)", () => {
  it.each([
    { shape: "xz's default level", args: [] },
    {
      shape: "a 4 KiB dictionary and other literal settings",
      args: ["--lzma1=preset=6,dict=4KiB,lc=1,lp=2,pb=0"],
    },
  ])("are detected by their header and list every entry in bsdtar's order, from $shape", async ({ args }) => {
    // Prepare: 2,000 small files, 1.9 MB of tar.
    const tar = textTar(2000);
    const bytes = lzmaAlone(tar, ...args);

    // Act: named .bin, so the header alone says what it is.
    const result = await extractNamed(bytes, "docs.bin");

    // Assess: xz states no size in the header, so it is what the stream decodes to.
    expect(result.status).toBe("ok");
    expect(result.format).toMatchObject({ mime: "application/x-lzma", ext: "lzma", category: "archive" });
    const listed = bsdtarList(bytes, "docs.tar.lzma");
    expect(result.archive).toMatchObject({
      kind: "lzma",
      entries: listed.length,
      uncompressedSize: tar.byteLength,
    });
    expect(result.archive?.sample).toEqual(listed.slice(0, 20));
    expect(result.archive?.estimated).toBeUndefined();
  });

  it("stops at the size a header states, as LZMA Utils wrote it, and reads that size from the header", async () => {
    // Prepare: the uncompressed size written into the header (bytes 5-12), as LZMA Utils' lzma did.
    const tar = randomTar(300, 8 * 1024);
    const bytes = Buffer.from(lzmaAlone(tar, "-0"));
    bytes.writeBigUInt64LE(BigInt(tar.byteLength), 5);

    // Act: 2.5 MB, past the 2 MiB input bound.
    const result = await extractNamed(bytes, "parts.tar.lzma");

    // Assess: the count is scaled by the share of the stated size the walk covered.
    expect(result.status).toBe("ok");
    expect(result.archive?.uncompressedSize).toBe(tar.byteLength);
    expect(result.archive?.estimated).toBe(true);
    expect(result.archive?.entries).toBeGreaterThan(270);
    expect(result.archive?.entries).toBeLessThan(330);
  });

  it("keeps text and other formats that begin with the same byte out", async () => {
    const near = [
      Buffer.from("]\0\0\x80\0 and then some text"),
      // A dictionary of 3 × 2^16 + 1 bytes is no encoder's.
      Buffer.concat([Buffer.from([0x5d, 1, 0, 3, 0]), Buffer.alloc(8, 0xff), Buffer.alloc(20)]),
    ];
    for (const bytes of near) {
      const result = await extractNamed(bytes, "near.bin");
      expect(result.format.mime).not.toBe("application/x-lzma");
    }
  });
});

describeWith("lzip")("the LZMA decoder's memory", () => {
  it("keeps at most 64 MiB of history whatever dictionary a header claims", async () => {
    // Prepare: 80 MiB of zeros, 12 kB compressed, its header claiming lzip's largest dictionary (512 MiB).
    const bytes = lzip(Buffer.alloc(80 * 1024 * 1024), "-0");
    bytes[5] = 29;
    const lzma = new LzmaDecoder({ lc: 3, lp: 0, pb: 2, dictionarySize: lzipDictionarySize(29) });
    lzma.feed(bytes.subarray(6));

    // Act: decoded in steps, as the walk decodes it, each step's output dropped.
    while (lzma.decode(lzma.total + 1024 * 1024, true) === "output") lzma.take();

    // Assess
    expect(lzma.total).toBe(80 * 1024 * 1024);
    expect(lzma.historyBytes).toBe(MAX_HISTORY_BYTES);
  });
});
