/**
 * A result names the bound that cut its extraction short in `limit`, so a
 * caller can act on it (the pipeline judges a spent time budget) without
 * matching the words of `reason` or `warnings`.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { BufferSource, type ByteSource } from "../../src/engine/byte-source/byte-source.js";
import { extract } from "../../src/engine/engine.js";
import { cleanString, MAX_FIELD_CHARS } from "../../src/engine/limits.js";
import { concatBytes } from "../support/bytes.js";
import { corpusFile } from "../support/corpus.js";
import { RangedSource } from "../support/engine.js";
import { tarEntry, tarOf } from "../support/tar.js";

const JPEG = readFileSync(corpusFile("exifpy-Canon_40D.jpg"));

/** A buffer whose every read is answered `delayMs` later, as a remote store would. */
class LatentSource implements ByteSource {
  readonly size: number;
  private readonly inner: BufferSource;
  constructor(
    bytes: Uint8Array,
    readonly name: string,
    private readonly delayMs: number,
  ) {
    this.inner = new BufferSource(bytes, name);
    this.size = bytes.byteLength;
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    return this.inner.read(offset, length);
  }
}

/** A tar of `count` files of `size` bytes each: one header per entry, spread through the archive. */
function spreadTar(count: number, size: number): Uint8Array {
  return new Uint8Array(tarOf(Array.from({ length: count }, (_, i) => tarEntry(`file-${i}.bin`, size))));
}

/** A portable ASCII ("odc") cpio of `count` files of `size` bytes each, ended by its trailer. */
function odcCpio(count: number, size: number): Uint8Array {
  const octal = (value: number, width: number) => value.toString(8).padStart(width, "0");
  const record = (name: string, fileSize: number) => {
    const fixed = [0, 1, 0o100644, 0, 0, 1, 0].map((field) => octal(field, 6)).join("");
    const header = `070707${fixed}${octal(0, 11)}${octal(name.length + 1, 6)}${octal(fileSize, 11)}`;
    return concatBytes(header, name, "\0", new Uint8Array(fileSize));
  };
  const files = Array.from({ length: count }, (_, i) => record(`file-${i}.bin`, size));
  return concatBytes(...files, record("TRAILER!!!", 0));
}

/** A RAR 4 archive of `count` stored files of `size` bytes each (checksums are not read, so left zero). */
function rar4(count: number, size: number): Uint8Array {
  const u16 = (value: number) => Buffer.from([value & 0xff, value >> 8]);
  const u32 = (value: number) => {
    const bytes = Buffer.alloc(4);
    bytes.writeUInt32LE(value);
    return bytes;
  };
  const main = concatBytes(u16(0), "\x73", u16(0), u16(13), new Uint8Array(6));
  const file = (name: string) =>
    concatBytes(
      ...[u16(0), "\x74", u16(0x8000), u16(32 + name.length), u32(size), u32(size), "\x02", u32(0)],
      ...[u32(0), "\x1d\x30", u16(name.length), u32(0x20), name, new Uint8Array(size)],
    );
  const files = Array.from({ length: count }, (_, i) => file(`file-${i}.bin`));
  return concatBytes("Rar!\x1a\x07\x00", main, ...files, u16(0), "\x7b", u16(0x4000), u16(7));
}

describe("the limit that ended an extraction", () => {
  it("is absent when nothing was cut short", async () => {
    const result = await extract(new BufferSource(JPEG, "whole.jpg"));
    expect(result.status).toBe("ok");
    expect(result.limit).toBeUndefined();
  });

  it("is the byte budget when reads were refused for bytes", async () => {
    // Prepare: one 1 KiB block allowed, and a JPEG whose EXIF needs more.
    const source = new BufferSource(JPEG, "byte-budget.jpg");
    // Act
    const result = await extract(source, { blockSize: 1024, budget: { maxBytes: 1024 } });
    // Assess
    expect(result.status).not.toBe("ok");
    expect(result.limit).toBe("bytes");
  });

  it("is the request budget when reads were refused for requests", async () => {
    const result = await extract(new BufferSource(JPEG, "request-budget.jpg"), {
      blockSize: 1024,
      budget: { maxRequests: 1 },
    });
    expect(result.status).not.toBe("ok");
    expect(result.limit).toBe("requests");
  });

  it("is the time budget when a tiny one runs out before the bytes come", async () => {
    // Prepare: each read takes 50 ms, the whole budget is 1 ms.
    const source = new LatentSource(JPEG, "time-budget.jpg", 50);
    // Act
    const result = await extract(source, { budget: { maxMillis: 1 } });
    // Assess
    expect(result.status).toBe("error");
    expect(result.reason).toMatch(/limit reached/);
    expect(result.limit).toBe("time");
  });

  it("is named even when the extractor keeps what it listed before a refused read", async () => {
    // Prepare: 40 entries of 100 KiB, so the header walk needs a read per entry beyond the planned windows.
    const tar = spreadTar(40, 100 * 1024);
    // Act
    const result = await extract(new RangedSource(tar, "spread.tar"), { budget: { maxRequests: 4 } });
    // Assess: a listing of the first entries, with the budget that stopped it.
    expect(result.status).toBe("ok");
    expect(result.archive).toMatchObject({ kind: "tar", estimated: true });
    expect(result.warnings.join(" ")).toMatch(/read limit/);
    expect(result.limit).toBe("requests");
  });

  it("is named when a refused read ends a RAR listing, which keeps the entries listed before it", async () => {
    // Prepare: 40 entries of 100 KiB, so the header walk needs a read per entry beyond the planned windows.
    const rar = rar4(40, 100 * 1024);
    // Act
    const result = await extract(new BufferSource(rar, "spread.rar"), { budget: { maxRequests: 4 } });
    // Assess
    expect(result.status).toBe("ok");
    expect(result.archive).toMatchObject({ kind: "rar", estimated: true });
    expect(result.archive?.entries).toBeGreaterThan(0);
    expect(result.archive?.entries).toBeLessThan(40);
    expect(result.archive?.sample).toHaveLength(result.archive?.entries ?? 0);
    expect(result.warnings).toEqual([
      expect.stringMatching(/^partial RAR listing: listing stopped at a read limit: /),
    ]);
    expect(result.limit).toBe("requests");
  });

  describe("the entry budget", () => {
    const listings = [
      { kind: "zip", name: "seven.key", bytes: () => readFileSync(corpusFile("tika-testKeynote2018.key")) },
      { kind: "tar", name: "five.tar", bytes: () => spreadTar(5, 10) },
      { kind: "gzip", name: "five.tar.gz", bytes: () => new Uint8Array(gzipSync(spreadTar(5, 10))) },
      { kind: "cpio", name: "five.cpio", bytes: () => odcCpio(5, 10) },
      { kind: "rar", name: "five.rar", bytes: () => rar4(5, 10) },
    ];

    it.each(listings)(
      "is named when the $kind listing of $name stops at it",
      async ({ kind, name, bytes }) => {
        // Act: a budget of three entries over an archive of five or seven.
        const result = await extract(new BufferSource(bytes(), name), { budget: { maxEntries: 3 } });
        // Assess: the listing is kept and estimated, and says which bound cut it.
        expect(result.status).toBe("ok");
        expect(result.archive).toMatchObject({ kind, estimated: true });
        expect(result.limit).toBe("entries");
        expect(result.warnings).toContainEqual(
          expect.stringMatching(/listing stopped at the entry budget of 3$/),
        );
      },
    );

    it("is not named for a RAR cut inside an entry's data, which warns that it is truncated", async () => {
      // Prepare: the last of five entries loses its last data byte and the end block.
      const whole = rar4(5, 10);
      const cut = whole.subarray(0, whole.length - 8);
      // Act
      const result = await extract(new BufferSource(cut, "cut.rar"));
      // Assess
      expect(result.archive).toMatchObject({ kind: "rar", entries: 5, estimated: true });
      expect(result.warnings).toEqual([
        "partial RAR listing: archive ends inside an entry's data (truncated)",
      ]);
      expect(result.limit).toBeUndefined();
    });

    it.each([
      { kind: "tar", name: "five.tar", bytes: () => spreadTar(5, 10) },
      { kind: "gzip", name: "five.tar.gz", bytes: () => new Uint8Array(gzipSync(spreadTar(5, 10))) },
      { kind: "cpio", name: "five.cpio", bytes: () => odcCpio(5, 10) },
      { kind: "rar", name: "five.rar", bytes: () => rar4(5, 10) },
    ])("is not reached by a $kind listing of exactly the budget", async ({ kind, name, bytes }) => {
      const result = await extract(new BufferSource(bytes(), name), { budget: { maxEntries: 5 } });
      expect(result.status).toBe("ok");
      expect(result.archive).toMatchObject({ kind, entries: 5 });
      expect(result.archive?.estimated).toBeUndefined();
      expect(result.warnings).toEqual([]);
      expect(result.limit).toBeUndefined();
    });

    it("is not named for a tar.gz counted over a prefix and extrapolated, which says so", async () => {
      // Prepare: 4 MB of incompressible tar, past what a 1 MiB byte budget lets the walk inflate.
      const entries = Array.from({ length: 40 }, (_, i) =>
        tarEntry(`file-${i}.bin`, 100 * 1024, randomBytes(100 * 1024)),
      );
      const bytes = new Uint8Array(gzipSync(tarOf(entries)));
      // Act
      const result = await extract(new BufferSource(bytes, "big.tar.gz"), {
        budget: { maxBytes: 1024 * 1024 },
      });
      // Assess
      expect(result.archive).toMatchObject({ kind: "gzip", estimated: true });
      expect(result.warnings).toEqual([
        expect.stringMatching(/^tar entries counted in the first \d+ decompressed bytes, then extrapolated$/),
      ]);
      expect(result.limit).toBeUndefined();
    });

    it("is named when a document package's listing stops at it", async () => {
      const bytes = readFileSync(corpusFile("tika-testWORD.docx"));
      const result = await extract(new BufferSource(bytes, "word.docx"), { budget: { maxEntries: 3 } });
      expect(result.document?.kind).toBe("ooxml");
      expect(result.warnings.join(" ")).toMatch(/entry budget/);
      expect(result.limit).toBe("entries");
    });

    it("gives way to the read budget that stopped a listing first", async () => {
      // Prepare: 40 entries of 100 KiB, whose header walk runs out of requests before it lists 30.
      const tar = spreadTar(40, 100 * 1024);
      // Act
      const result = await extract(new RangedSource(tar, "spread.tar"), {
        budget: { maxRequests: 4, maxEntries: 30 },
      });
      // Assess
      expect(result.limit).toBe("requests");
    });
  });
});

describe("metadata text cut at its limit", () => {
  it("never ends in half of a surrogate pair", () => {
    const title = `${"a".repeat(MAX_FIELD_CHARS - 1)}😀 and more`;
    const cut = cleanString(title) ?? "";
    expect(cut).toBe(`${"a".repeat(MAX_FIELD_CHARS - 1)}…`);
  });

  it("keeps a pair that fits whole", () => {
    const title = `${"a".repeat(MAX_FIELD_CHARS - 2)}😀 and more`;
    expect(cleanString(title)).toBe(`${"a".repeat(MAX_FIELD_CHARS - 2)}😀…`);
  });
});
