/**
 * Tarballs compressed with xz (.tar.xz, .txz) and zstd (.tar.zst): the tar
 * inside is walked as the stream decompresses, as a .tar.gz is, so it is
 * counted whole up to the walk's input bound and extrapolated past it, a cut
 * file is listed as far as it goes, and a bomb stops at the output bound.
 * The compressed bytes come from the xz and zstd tools themselves.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { gzipSync } from "node:zlib";
import { expect, it } from "vitest";
import { BufferSource } from "../../src/engine/byte-source/byte-source.js";
import { extract } from "../../src/engine/engine.js";
import { gunzip, unxz, unzstd } from "../../src/engine/extractors/archive/decoders.js";
import { ForwardDecompressor } from "../../src/engine/extractors/archive/forward-decompressor.js";
import { randomTar, tarEntry, tarOf, zerosTar } from "../support/tar.js";
import { describeWith } from "../support/tools.js";

type Tool = "xz" | "zstd";

/** `bytes` compressed by the tool, from stdin (so zstd writes no content size). */
function compress(tool: Tool, bytes: Uint8Array): Uint8Array {
  const args = tool === "xz" ? ["-c", "-0", "-T0"] : ["-c", "-q", "-1"];
  const run = spawnSync(tool, args, { input: bytes, maxBuffer: 64 * 1024 * 1024 });
  if (run.status !== 0) throw new Error(`${tool} failed: ${run.stderr}`);
  return new Uint8Array(run.stdout);
}

const KINDS = [
  { tool: "xz" as const, kind: "xz", name: "parts.tar.xz" },
  { tool: "zstd" as const, kind: "zstd", name: "parts.tar.zst" },
];

describeWith("xz", "zstd").each(KINDS)("$kind tarballs", ({ tool, kind, name }) => {
  it("counts every entry of a tarball whose content is far past the first MiB", async () => {
    // Prepare: 300 entries in 2.6 MB of content that does not compress.
    const tar = randomTar(300, 8 * 1024);
    const bytes = compress(tool, tar);

    // Act
    const result = await extract(new BufferSource(bytes, name), { name });

    // Assess
    expect(result.status).toBe("ok");
    expect(result.archive).toMatchObject({ kind, entries: 300, nestedArchives: 0 });
    expect(result.archive?.sample).toHaveLength(20);
    expect(result.archive?.sample[0]).toBe("data/part-0.bin");
    expect(result.warnings).toEqual([]);
    // Decompressed to its end, so the size is exact whether or not the format declared one (zstd from stdin does not).
    expect(result.archive?.uncompressedSize).toBe(tar.byteLength);
    expect(result.archive?.estimated).toBeUndefined();
  });

  it("sizes a file of several streams or frames by all of them, and says there are several", async () => {
    // Prepare: two compressed tarballs one after the other, as `cat a.tar.zst b.tar.zst` makes. The
    // tar ends at its first end-of-archive marker (tar and bsdtar list the first one's entries),
    // but the file decompresses to both.
    const first = tarOf([tarEntry("first.txt", 5, Buffer.from("first"))]);
    const second = tarOf([tarEntry("second.txt", 6, Buffer.from("second"))]);
    const bytes = Buffer.concat([compress(tool, first), compress(tool, second)]);

    // Act
    const result = await extract(new BufferSource(bytes, name), { name });

    // Assess
    expect(result.status).toBe("ok");
    expect(result.archive).toMatchObject({ kind, entries: 1, sample: ["first.txt"] });
    expect(result.archive?.uncompressedSize).toBe(first.byteLength + second.byteLength);
    expect(result.archive?.estimated).toBeUndefined();
    if (kind === "xz") {
      // Only xz declares a size here (its index, at the end: the last stream's), and it is short.
      expect(result.warnings).toEqual([
        expect.stringMatching(/declared size is smaller .* more than one stream or frame/),
      ]);
    }
  });

  it("extrapolates from the share of the content it walked when the input bound stops it", async () => {
    // Prepare: 300 entries, 2.6 MB compressed, under a byte budget of 1 MiB (the bound is the
    // budget's or 8 MiB, whichever is less).
    const bytes = compress(tool, randomTar(300, 8 * 1024));

    // Act
    const result = await extract(new BufferSource(bytes, name), { name, budget: { maxBytes: 1024 * 1024 } });

    // Assess: counted in the first MiB, scaled by the declared size (xz) or the compressed share (zstd).
    expect(result.status).toBe("ok");
    expect(result.archive?.estimated).toBe(true);
    expect(result.archive?.entries).toBeGreaterThan(270);
    expect(result.archive?.entries).toBeLessThan(330);
    expect(result.warnings).toContainEqual(expect.stringMatching(/then extrapolated$/));
  });

  it("lists a file cut short as far as it goes, and says its data ends early", async () => {
    // Prepare: the first half of a 300-entry tarball.
    const bytes = compress(tool, randomTar(300, 8 * 1024));
    const cut = bytes.subarray(0, Math.floor(bytes.byteLength / 2));

    // Act
    const result = await extract(new BufferSource(cut, name), { name });

    // Assess
    expect(result.status).toBe("partial");
    expect(result.reason).toBe(`truncated: the ${kind} data ends before its end`);
    expect(result.archive?.entries).toBeGreaterThan(100);
    expect(result.archive?.entries).toBeLessThan(300);
    expect(result.archive?.estimated).toBe(true);
    expect(result.warnings).toContainEqual(`partial tar listing: the ${kind} data is damaged (truncated)`);
  });

  it("stops a bomb at the output bound and flags it", async () => {
    // Prepare: one 300 MiB file of zeros, a few kilobytes compressed.
    const tar = zerosTar(300 * 1024 * 1024);
    const bytes = compress(tool, tar);

    // Act
    const result = await extract(new BufferSource(bytes, name), { name });

    // Assess
    expect(result.status).toBe("ok");
    expect(result.archive).toMatchObject({ kind, entries: 1, bomb: true, sample: ["zeros.bin"] });
  });

  it("is one entry when no tar is inside", async () => {
    const bytes = compress(tool, Buffer.from("just a line of text\n".repeat(100)));

    const result = await extract(new BufferSource(bytes, `notes.txt.${tool === "xz" ? "xz" : "zst"}`));

    expect(result.status).toBe("ok");
    expect(result.archive).toMatchObject({ kind, entries: 1 });
    expect(result.warnings).toEqual([]);
  });
});

describeWith("xz", "zstd")("the decoders under ForwardDecompressor", () => {
  it.each([
    { format: "gzip", decoder: gunzip, pack: (bytes: Uint8Array) => new Uint8Array(gzipSync(bytes)) },
    { format: "xz", decoder: unxz, pack: (bytes: Uint8Array) => compress("xz", bytes) },
    { format: "zstd", decoder: unzstd, pack: (bytes: Uint8Array) => compress("zstd", bytes) },
  ])(
    "$format: answers ranges in order, skipping what lies between them, and ends at the content's end",
    async ({ decoder, pack }) => {
      // Prepare
      const content = randomBytes(300 * 1024);
      const compressed = pack(content);
      const content$ = new ForwardDecompressor({
        read: async (offset, length) => compressed.subarray(offset, offset + length),
        size: compressed.byteLength,
        maxInput: compressed.byteLength,
        chunkBytes: 16 * 1024,
        maxOutput: 1 << 30,
        decoder,
      });
      try {
        // Act, Assess
        expect(Buffer.from(await content$.read(0, 512)).equals(content.subarray(0, 512))).toBe(true);
        expect(
          Buffer.from(await content$.read(200_000, 1000)).equals(content.subarray(200_000, 201_000)),
        ).toBe(true);
        expect((await content$.read(content.byteLength - 10, 512)).byteLength).toBe(10);
        expect(content$.produced).toBe(content.byteLength);
        expect(content$.bounded).toBe(false);
        expect(content$.failure).toBeUndefined();
      } finally {
        content$.close();
      }
    },
  );

  it("decodes xz tarballs one at a time and never strands a waiting one", async () => {
    // Prepare: four walks at once, two of them closed early, as a deadline or a non-tar would.
    const content = randomBytes(200 * 1024);
    const compressed = compress("xz", content);
    const open = () =>
      new ForwardDecompressor({
        read: async (offset, length) => compressed.subarray(offset, offset + length),
        size: compressed.byteLength,
        maxInput: compressed.byteLength,
        chunkBytes: 16 * 1024,
        maxOutput: 1 << 30,
        decoder: unxz,
      });
    const walks = [open(), open(), open(), open()];

    // Act
    const reads = walks.map(async (walk, i) => {
      try {
        const head = await walk.read(0, 512);
        if (i % 2 === 1) return head.byteLength;
        return (await walk.read(content.byteLength - 100, 512)).byteLength;
      } finally {
        walk.close();
      }
    });

    // Assess: every walk gets its bytes; then a fifth still decodes.
    expect(await Promise.all(reads)).toEqual([100, 512, 100, 512]);
    const fifth = open();
    try {
      expect(Buffer.from(await fifth.read(1000, 100)).equals(content.subarray(1000, 1100))).toBe(true);
    } finally {
      fifth.close();
    }
  });
});
