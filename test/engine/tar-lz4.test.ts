/**
 * Tarballs compressed with lz4 (.tar.lz4): the tar inside is walked as the
 * frames decode, as a .tar.gz is. The compressed bytes come from the lz4
 * tool itself, with each of the frame shapes it writes (independent and
 * linked blocks, the four block sizes, legacy frames, a declared content
 * size), and the names are checked against bsdtar's listing; a changed byte
 * is caught by the frame's checksums.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { BufferSource } from "../../src/engine/byte-source/byte-source.js";
import { extract } from "../../src/engine/engine.js";
import { ContentError } from "../../src/engine/errors.js";
import { decodeBlock } from "../../src/engine/extractors/archive/lz4.js";
import { XxHash32, xxHash32 } from "../../src/engine/extractors/archive/xxhash32.js";
import { bsdtarList } from "../support/bsdtar.js";
import { randomTar, textTar, zerosTar } from "../support/tar.js";
import { describeWith } from "../support/tools.js";

/** `bytes` compressed by lz4 from stdin, with `args` (-BD links blocks, -B4 makes them 64 KiB, -l legacy). */
function lz4(bytes: Uint8Array, ...args: string[]): Buffer {
  const run = spawnSync("lz4", ["-c", "-q", ...args], { input: bytes, maxBuffer: 64 * 1024 * 1024 });
  if (run.status !== 0) throw new Error(`lz4 failed: ${run.stderr}`);
  return run.stdout;
}

const extractNamed = (bytes: Uint8Array, name: string) => extract(new BufferSource(bytes, name), { name });

describeWith("lz4", "bsdtar")("lz4 tarballs", () => {
  it.each([
    { shape: "independent 4 MiB blocks (lz4's default)", args: [] },
    { shape: "linked 64 KiB blocks", args: ["-BD", "-B4"] },
    { shape: "linked 256 KiB blocks with block checksums", args: ["-BD", "-B5", "-BX"] },
    { shape: "a legacy frame", args: ["-l"] },
    { shape: "no content checksum", args: ["--no-frame-crc", "-B6"] },
  ])("lists every entry in bsdtar's order, from $shape", async ({ args }) => {
    // Prepare: 2,000 small files, 1.9 MB of tar.
    const tar = textTar(2000);
    const bytes = lz4(tar, ...args);

    // Act
    const result = await extractNamed(bytes, "docs.tar.lz4");

    // Assess
    expect(result.status).toBe("ok");
    expect(result.warnings).toEqual([]);
    expect(result.format).toMatchObject({ mime: "application/x-lz4", category: "archive" });
    const listed = bsdtarList(bytes, "docs.tar.lz4");
    expect(result.archive).toMatchObject({ kind: "lz4", entries: listed.length, nestedArchives: 0 });
    expect(result.archive?.sample).toEqual(listed.slice(0, 20));
    expect(result.archive?.uncompressedSize).toBe(tar.byteLength);
    expect(result.archive?.estimated).toBeUndefined();
  });

  it("reads frames one after another, passing over a skippable frame between them", async () => {
    // Prepare: a tar cut in two, each part its own frame, and a skippable frame (magic 0x184D2A5x) between.
    const tar = textTar(500);
    const half = Math.floor(tar.byteLength / 2);
    const skippable = Buffer.from([0x53, 0x2a, 0x4d, 0x18, 5, 0, 0, 0, 1, 2, 3, 4, 5]);
    const bytes = Buffer.concat([lz4(tar.subarray(0, half)), skippable, lz4(tar.subarray(half), "-BD")]);

    // Act
    const result = await extractNamed(bytes, "docs.tar.lz4");

    // Assess
    expect(result.status).toBe("ok");
    expect(result.archive).toMatchObject({ kind: "lz4", entries: 500, uncompressedSize: tar.byteLength });
    expect(result.warnings).toEqual([]);
  });

  it("checks a declared content size against what the frames decode to", async () => {
    // Prepare: a file compressed from a path, so lz4 writes its size in the frame header.
    const tar = textTar(300);
    const bytes = lz4(tar, "--content-size");

    // Act
    const result = await extractNamed(bytes, "docs.tar.lz4");

    // Assess
    expect(result.status).toBe("ok");
    expect(result.archive).toMatchObject({ entries: 300, uncompressedSize: tar.byteLength });
    expect(result.archive?.estimated).toBeUndefined();
  });

  it("lists a file cut short as far as it goes, and says its data ends early", async () => {
    // Prepare: the first half of 300 entries in 64 KiB blocks.
    const tar = randomTar(300, 8192);
    const bytes = lz4(tar, "-B4");
    const cut = bytes.subarray(0, Math.floor(bytes.byteLength / 2));

    // Act
    const result = await extractNamed(cut, "parts.tar.lz4");

    // Assess
    expect(result.status).toBe("partial");
    expect(result.reason).toBe("truncated: the lz4 data ends before its end");
    expect(result.archive?.entries).toBeGreaterThan(140);
    expect(result.archive?.entries).toBeLessThan(160);
    expect(result.archive?.estimated).toBe(true);
    expect(result.warnings).toContainEqual("partial tar listing: the lz4 data is damaged (truncated)");
  });

  it("flags a bomb by what its few bytes expand to", async () => {
    // Prepare: one 64 MiB file of zeros, 257 kB compressed (lz4 packs at most 255 to 1).
    const tar = zerosTar(64 * 1024 * 1024);
    const bytes = lz4(tar);

    // Act
    const result = await extractNamed(bytes, "zeros.tar.lz4");

    // Assess
    expect(result.status).toBe("ok");
    expect(result.archive).toMatchObject({ kind: "lz4", entries: 1, bomb: true, sample: ["zeros.bin"] });
  });

  it("is one entry of its decoded size when no tar is inside, and names damage", async () => {
    const text = Buffer.from("a line of a log\n".repeat(5000));
    const plain = await extractNamed(lz4(text), "app.log.lz4");
    expect(plain.status).toBe("ok");
    expect(plain.archive).toMatchObject({ kind: "lz4", entries: 1, uncompressedSize: text.byteLength });

    // A frame whose only block's copy reaches 4 KiB back from its second byte.
    const frame = lz4(Buffer.from("x"), "--no-frame-crc");
    const header = frame.subarray(0, 7);
    const block = Buffer.from([0x10, 0x61, 0x00, 0x10]);
    const size = Buffer.alloc(4);
    size.writeUInt32LE(block.byteLength);
    const damaged = Buffer.concat([header, size, block, Buffer.alloc(4)]);
    const result = await extractNamed(damaged, "bad.lz4");
    expect(result.status).toBe("ok");
    expect(result.warnings).toEqual(["the lz4 data is damaged (lz4: a copy reaches before the content)"]);
  });

  it.each([
    { checksum: "the content checksum", args: [], message: "lz4: the content checksum does not match" },
    {
      checksum: "a block's checksum",
      args: ["-BX", "--no-frame-crc"],
      message: "lz4: a block's checksum does not match",
    },
  ])("catches a changed literal, which still decodes, by $checksum", async ({ args, message }) => {
    // Prepare: random bytes stay literals; one of them changed in the middle of the only block.
    const content = randomBytes(20_000);
    const bytes = lz4(content, "-B4", ...args);
    const middle = Math.floor(bytes.byteLength / 2);
    bytes[middle] = (bytes[middle] as number) ^ 0x01;

    // Act
    const result = await extractNamed(bytes, "random.bin.lz4");

    // Assess
    expect(result.status).toBe("ok");
    expect(result.warnings).toEqual([`the lz4 data is damaged (${message})`]);
  });

  it("refuses a frame whose header's checksum does not match its descriptor", async () => {
    const bytes = lz4(Buffer.from("a line of a log\n".repeat(100)));
    bytes[6] = (bytes[6] as number) ^ 0xff;
    const result = await extractNamed(bytes, "app.log.lz4");
    expect(result.warnings).toEqual([
      "the lz4 data is damaged (lz4: the frame header's checksum does not match)",
    ]);
  });
});

describe("decodeBlock", () => {
  it("repeats an overlapping copy and reads lengths past 15 from the bytes after", () => {
    // "ab", then a copy of 30 bytes from 2 back (15 + 11 + 4), then "z".
    const block = Uint8Array.from([0x2f, 0x61, 0x62, 0x02, 0x00, 11, 0x10, 0x7a]);
    const out = new Uint8Array(64);
    const end = decodeBlock(block, out, 0, 64);
    expect(Buffer.from(out.subarray(0, end)).toString()).toBe(`${"ab".repeat(16)}z`);
  });

  it("refuses a block that would expand past its bound instead of writing past it", () => {
    const block = Uint8Array.from([0x1f, 0x61, 0x01, 0x00, 200, 0x10, 0x7a]);
    expect(() => decodeBlock(block, new Uint8Array(64), 0, 64)).toThrow(ContentError);
  });
});

describe("xxHash32", () => {
  it("gives XXH32's published values, fed whole or in pieces of any size", () => {
    const text = (value: string) => new TextEncoder().encode(value);
    expect(xxHash32(new Uint8Array(0))).toBe(0x02cc5d05);
    expect(xxHash32(text("a"))).toBe(0x550d7456);
    expect(xxHash32(text("abc"))).toBe(0x32d153ff);
    expect(xxHash32(text("Nobody inspects the spammish repetition"))).toBe(0xe2293b2f);
    const long = randomBytes(10_007);
    for (const piece of [1, 3, 15, 16, 17, 4096]) {
      const hash = new XxHash32();
      for (let at = 0; at < long.byteLength; at += piece) hash.update(long.subarray(at, at + piece));
      expect(hash.digest()).toBe(xxHash32(long));
    }
  });
});
