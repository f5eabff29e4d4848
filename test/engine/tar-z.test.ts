/**
 * Tarballs compressed with compress(1) (.tar.Z): the tar inside is walked as
 * the LZW codes decode, as a .tar.gz is. The compressed bytes come from
 * ncompress itself, with code widths from 10 to 16 bits, and with the table
 * clears it writes when its ratio falls; the content
 * is checked against gzip -d's and the names against bsdtar's. (ncompress's
 * own uncompress refuses what its -b 9 and -C write, so those are not made.)
 */
import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { expect, it } from "vitest";
import { BufferSource } from "../../src/engine/byte-source/byte-source.js";
import { extract } from "../../src/engine/engine.js";
import { ForwardDecompressor } from "../../src/engine/extractors/archive/forward-decompressor.js";
import { unlzw } from "../../src/engine/extractors/archive/lzw.js";
import { bsdtarList } from "../support/bsdtar.js";
import { randomTar, textTar, zerosTar } from "../support/tar.js";
import { describeWith } from "../support/tools.js";

/** `bytes` compressed by ncompress from stdin, with `args` (-b BITS: the widest code). */
function compress(bytes: Uint8Array, ...args: string[]): Buffer {
  const run = spawnSync("compress", ["-c", ...args], { input: bytes, maxBuffer: 64 * 1024 * 1024 });
  // compress exits 2 when the output is larger than the input, and writes it all the same.
  if (run.status !== 0 && run.status !== 2) throw new Error(`compress failed: ${run.stderr}`);
  return run.stdout;
}

const extractNamed = (bytes: Uint8Array, name: string) => extract(new BufferSource(bytes, name), { name });

/** Every byte a decoder gives for `compressed`, read to its end through ForwardDecompressor. */
async function decodeAll(compressed: Uint8Array): Promise<{ sha256: string; length: number }> {
  const content = new ForwardDecompressor({
    read: async (offset, length) => compressed.subarray(offset, offset + length),
    size: compressed.byteLength,
    maxInput: compressed.byteLength,
    chunkBytes: 64 * 1024,
    maxOutput: 1 << 30,
    decoder: unlzw,
  });
  const hash = createHash("sha256");
  try {
    for (let at = 0; ; ) {
      const bytes = await content.read(at, 256 * 1024);
      if (bytes.byteLength === 0) break;
      hash.update(bytes);
      at += bytes.byteLength;
    }
    expect(content.failure).toBeUndefined();
    return { sha256: hash.digest("hex"), length: content.produced };
  } finally {
    content.close();
  }
}

describeWith("compress", "bsdtar")("compress tarballs", () => {
  it.each([
    { shape: "16-bit codes (compress's default)", args: [] },
    { shape: "12-bit codes", args: ["-b", "12"] },
    { shape: "10-bit codes", args: ["-b", "10"] },
  ])("lists every entry in bsdtar's order, from $shape", async ({ args }) => {
    // Prepare: 2,000 small files, 1.9 MB of tar.
    const tar = textTar(2000);
    const bytes = compress(tar, ...args);

    // Act
    const result = await extractNamed(bytes, "docs.tar.Z");

    // Assess
    expect(result.status).toBe("ok");
    expect(result.warnings).toEqual([]);
    expect(result.format).toMatchObject({ mime: "application/x-compress", category: "archive" });
    const listed = bsdtarList(bytes, "docs.tar.Z");
    expect(result.archive).toMatchObject({ kind: "compress", entries: listed.length, nestedArchives: 0 });
    expect(result.archive?.sample).toEqual(listed.slice(0, 20));
    expect(result.archive?.uncompressedSize).toBe(tar.byteLength);
  });

  it.each([
    ["-b", "16"],
    ["-b", "10"],
  ])("decodes what gzip -d decodes when the table is cleared (compress %s %s)", async (...args) => {
    // Prepare: text, then bytes that do not compress (the ratio falls: compress clears its table), then text.
    const text = Buffer.from(
      Array.from({ length: 60_000 }, (_, i) => `${i} the quick brown fox ${i % 97}\n`).join(""),
    );
    const content = Buffer.concat([text, randomBytes(1_000_000), text]);
    const bytes = compress(content, ...args);
    const gunzipped = spawnSync("gzip", ["-dc"], { input: bytes, maxBuffer: 64 * 1024 * 1024 }).stdout;

    // Act
    const decoded = await decodeAll(bytes);

    // Assess
    expect(gunzipped.equals(content)).toBe(true);
    expect(decoded).toEqual({
      sha256: createHash("sha256").update(content).digest("hex"),
      length: content.byteLength,
    });
  });

  it("lists a file cut short as far as it goes", async () => {
    // Prepare: the first half of 300 entries.
    const tar = randomTar(300, 4096);
    const bytes = compress(tar);
    const cut = bytes.subarray(0, Math.floor(bytes.byteLength / 2));

    // Act
    const result = await extractNamed(cut, "parts.tar.Z");

    // Assess: LZW has no end marker, so the tar's missing end is what tells.
    expect(result.status).toBe("partial");
    expect(result.reason).toBe("truncated: the tar archive ends inside an entry's data");
    expect(result.archive?.entries).toBeGreaterThan(130);
    expect(result.archive?.entries).toBeLessThan(170);
    expect(result.archive?.estimated).toBe(true);
  });

  it("flags a bomb by what its few bytes expand to", async () => {
    // Prepare: one 64 MiB file of zeros, a few kB compressed.
    const tar = zerosTar(64 * 1024 * 1024);
    const bytes = compress(tar);

    // Act
    const result = await extractNamed(bytes, "zeros.tar.Z");

    // Assess
    expect(result.status).toBe("ok");
    expect(result.archive).toMatchObject({ kind: "compress", entries: 1, bomb: true, sample: ["zeros.bin"] });
  });

  it("is one entry of its decoded size when no tar is inside, and names damage", async () => {
    const text = Buffer.from("a line of a log\n".repeat(5000));
    const plain = await extractNamed(compress(text), "app.log.Z");
    expect(plain.status).toBe("ok");
    expect(plain.archive).toMatchObject({ kind: "compress", entries: 1, uncompressedSize: text.byteLength });

    // 16-bit codes in block mode, "a", then code 300 where only 257 may come next.
    const damaged = Buffer.from([0x1f, 0x9d, 0x90, 0x61, 0x58, 0x02, 0, 0, 0, 0, 0, 0]);
    const result = await extractNamed(damaged, "bad.Z");
    expect(result.status).toBe("ok");
    expect(result.warnings).toEqual(["the compress data is damaged (compress: a code not yet defined)"]);
  });
});
