import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { crc32, deflateRawSync, gzipSync } from "node:zlib";
import { describe, expect, it, vi } from "vitest";
import { mulberry32 } from "../../bench/fuzz-inputs.js";
import { readZipDirectory } from "../../src/engine/extractors/archive/zip-directory.js";
import {
  BlockReader,
  BufferSource,
  type ExtractionResult,
  extract,
  FileSource,
} from "../../src/engine/index.js";
import { MAX_FIELD_CHARS } from "../../src/engine/limits.js";
import { corpusFile } from "../support/corpus.js";
import { RangedSource } from "../support/engine.js";
import { tarEntry, tarHeader, tarOf } from "../support/tar.js";
import { buildZip as buildZipOfParts } from "../support/zip.js";

async function extractFile(name: string): Promise<ExtractionResult> {
  const source = await FileSource.open(corpusFile(name));
  try {
    return await extract(source, { name });
  } finally {
    await source.close();
  }
}

interface ZipInput {
  name: string;
  data: Uint8Array;
  deflate?: boolean;
  encrypted?: boolean;
}

/** A minimal ZIP writer for generated cases (local headers, central directory, EOCD). */
function buildZip(inputs: readonly ZipInput[]): { bytes: Uint8Array; directorySize: number } {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const input of inputs) {
    const name = Buffer.from(input.name, "utf8");
    const body = input.deflate ? deflateRawSync(input.data) : Buffer.from(input.data);
    const method = input.deflate ? 8 : 0;
    const flags = 0x0800 | (input.encrypted ? 1 : 0);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(flags, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(body.byteLength, 18);
    local.writeUInt32LE(input.data.byteLength, 22);
    local.writeUInt16LE(name.byteLength, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(flags, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt32LE(body.byteLength, 20);
    central.writeUInt32LE(input.data.byteLength, 24);
    central.writeUInt16LE(name.byteLength, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, body);
    centrals.push(central, name);
    offset += local.byteLength + name.byteLength + body.byteLength;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(inputs.length, 8);
  end.writeUInt16LE(inputs.length, 10);
  end.writeUInt32LE(directory.byteLength, 12);
  end.writeUInt32LE(offset, 16);
  return { bytes: Buffer.concat([...locals, directory, end]), directorySize: directory.byteLength };
}

describe("archive extractor over the corpus", () => {
  // Expected counts from `unzip -l`, `tar -tvf`, `gzip -l`, `xz -lv` on the same files.
  it.each([
    // tar and cpio do not compress: no ratio, no bomb verdict.
    { file: "filetype-fixture.zip", kind: "zip", entries: 1, size: 2248, first: "test.jpg", bomb: false },
    {
      file: "tika-testKeynote2018.key",
      kind: "zip",
      entries: 7,
      size: 78300,
      first: "Presentation.key/",
      bomb: false,
    },
    { file: "filetype-fixture.tar", kind: "tar", entries: 1, size: 2248, first: "test.jpg", bomb: undefined },
    {
      file: "filetype-fixture-ascii.cpio",
      kind: "cpio",
      entries: 1,
      size: 6,
      first: "small",
      bomb: undefined,
    },
    { file: "filetype-fixture.rar", kind: "rar", entries: 1, size: 2248, first: "test.jpg", bomb: false },
    {
      file: "filetype-fixture.tar.gz",
      kind: "gzip",
      entries: 1,
      size: 10240,
      first: "test.jpg",
      bomb: false,
    },
    { file: "filetype-fixture.gz", kind: "gzip", entries: 1, size: 65, first: "README.txt", bomb: false },
    // bsdtar -tf lists the same (7z: its LZMA-packed header unpacked); zstd wrote no content size, so the size is
    // what decompressing the whole file gave (`zstd -dc | wc -c`).
    { file: "filetype-fixture.tar.xz", kind: "xz", entries: 1, size: 10240, first: "test.jpg", bomb: false },
    { file: "filetype-fixture.7z", kind: "7z", entries: 1, size: 2248, first: "test.jpg", bomb: false },
    {
      file: "filetype-fixture.tar.zst",
      kind: "zstd",
      entries: 2,
      size: 3584,
      first: "Users/ardavan/Downloads/._empty.txt",
      bomb: false,
    },
  ])("$file lists $entries entries of $size bytes", async ({ file, kind, entries, size, first, bomb }) => {
    const result = await extractFile(file);
    expect(result.status).toBe("ok");
    expect(result.archive).toMatchObject({ kind, entries, encrypted: false });
    expect(result.archive?.uncompressedSize).toBe(size);
    expect(result.archive?.bomb).toBe(bomb);
    expect(result.archive?.sample[0]).toBe(first);
    expect(result.archive?.estimated).toBeUndefined();
  });

  it.each([
    // lz4 -d gives 1,152 bytes: a text file inside, no tar.
    { file: "filetype-fixture.lz4", kind: "lz4", size: 1152 },
    // Not a tarball, whatever its name: gzip -d gives 304 bytes of text.
    { file: "filetype-fixture.tar.Z", kind: "compress", size: 304 },
  ])("$file is $kind of size $size", async ({ file, kind, size }) => {
    const result = await extractFile(file);
    expect(result.status).toBe("ok");
    expect(result.archive?.kind).toBe(kind);
    expect(result.archive?.uncompressedSize).toBe(size);
  });

  it("reads the gzip header's original name", async () => {
    const result = await extractFile("filetype-fixture.tar.gz");
    expect(result.archive?.originalName).toBe("test.jpg.tar");
  });

  it.each([
    // exiftool -ModifyDate on the same files.
    { file: "filetype-fixture.gz", modified: "2025-05-22T08:29:57Z" },
    { file: "filetype-fixture.tar.gz", modified: "2013-08-28T01:34:01Z" },
  ])("reads the gzip header's modification time of $file", async ({ file, modified }) => {
    const result = await extractFile(file);
    expect(result.archive?.modified).toBe(modified);
  });

  it.each([
    { file: "tika-full_encrypted.7z", encrypted: true },
    { file: "tika-test7Z_protected_passTika.7z", encrypted: true },
    { file: "tika-test-documents-enc.rar", encrypted: true },
    { file: "filetype-fixture.7z", encrypted: false },
    { file: "filetype-fixture.rar", encrypted: false },
  ])("$file encrypted: $encrypted", async ({ file, encrypted }) => {
    const result = await extractFile(file);
    expect(result.status).toBe("ok");
    expect(result.archive?.encrypted).toBe(encrypted);
  });
});

describe("generated gzip streams", () => {
  it("have no modification time when MTIME is 0", async () => {
    // Prepare: zlib writes MTIME 0, as `gzip -n` and most library writers do.
    const bytes = gzipSync(Buffer.from("hello\n"));
    // Act
    const result = await extract(new BufferSource(bytes, "hello.gz"), { name: "hello.gz" });
    // Assess
    expect(result.archive).toMatchObject({ kind: "gzip", entries: 1 });
    expect(result.archive).not.toHaveProperty("modified");
  });
});

describe("generated ZIP archives", () => {
  it("flags a bomb from declared sizes without expanding it", async () => {
    // Prepare: three 64 MiB runs of zeros deflate to ~64 KiB each (ratio ~1000).
    const zeros = new Uint8Array(64 * 1024 * 1024);
    const { bytes } = buildZip(
      ["a.bin", "b.bin", "c.bin"].map((name) => ({ name, data: zeros, deflate: true })),
    );
    // Act
    const result = await extract(new BufferSource(bytes, "bomb.zip"));
    // Assess
    expect(result.archive).toMatchObject({
      kind: "zip",
      entries: 3,
      uncompressedSize: 3 * 64 * 1024 * 1024,
      bomb: true,
    });
    expect(result.archive?.ratio).toBeGreaterThan(100);
    expect(result.bytesRead).toBeLessThanOrEqual(bytes.byteLength);
  });

  it("does not flag an ordinary archive", async () => {
    const { bytes } = buildZip([{ name: "r.bin", data: randomBytes(100_000), deflate: true }]);
    const result = await extract(new BufferSource(bytes, "plain.zip"));
    expect(result.archive?.bomb).toBe(false);
  });

  it("reports the encryption flag and counts nested archives", async () => {
    const entries = Array.from({ length: 12 }, (_, i) => ({ name: `inner-${i}.zip`, data: randomBytes(10) }));
    const { bytes } = buildZip([...entries, { name: "secret.txt", data: randomBytes(10), encrypted: true }]);
    const result = await extract(new BufferSource(bytes, "nested.zip"));
    expect(result.archive).toMatchObject({ entries: 13, encrypted: true, nestedArchives: 12 });
    expect(result.warnings.some((warning) => warning.includes("nested"))).toBe(true);
  });

  it("lists part of a directory over the entry budget and says so", async () => {
    const { bytes } = buildZip(
      Array.from({ length: 50 }, (_, i) => ({ name: `f${i}.txt`, data: randomBytes(100) })),
    );
    const result = await extract(new BufferSource(bytes, "many.zip"), { budget: { maxEntries: 10 } });
    expect(result.status).toBe("ok");
    expect(result.archive).toMatchObject({ entries: 50, estimated: true });
    expect(result.archive?.uncompressedSize).toBe(5000);
    expect(result.warnings.some((warning) => warning.includes("entry budget"))).toBe(true);
  });

  it("reads only the central directory of a 20 MB, 10,000-entry zip", async () => {
    // Prepare: 10,000 stored 2 KiB entries.
    const { bytes, directorySize } = buildZip(
      Array.from({ length: 10_000 }, (_, i) => ({ name: `dir/file-${i}.bin`, data: randomBytes(2048) })),
    );
    // Act: the directory reader alone, then the whole engine (detection included).
    const reader = new BlockReader(new BufferSource(bytes));
    const directory = await readZipDirectory(reader, { maxEntries: 100_000 });
    const full = await extract(new BufferSource(bytes, "big.zip"));
    const detection = await extract(new BufferSource(bytes, "big.zip"), { detectOnly: true });
    // Assess
    expect(directory.entries).toHaveLength(10_000);
    expect(full.archive).toMatchObject({ entries: 10_000, uncompressedSize: 10_000 * 2048 });
    expect(reader.stats.bytesRead).toBeLessThan(1024 * 1024 + directorySize);
    expect(full.bytesRead - detection.bytesRead).toBeLessThan(1024 * 1024 + directorySize);
    console.info(
      `20 MB zip (${bytes.byteLength} bytes, directory ${directorySize}): directory reader ${reader.stats.bytesRead} bytes / ${reader.stats.requests} requests; engine ${full.bytesRead} bytes / ${full.readRequests} requests, of which detection ${detection.bytesRead} bytes`,
    );
  });
});

describe("a streamed ZIP (every entry's sizes in a data descriptor)", () => {
  it("of 1,200 small entries is listed whole, its look-aheads answered without an array each", async () => {
    // Prepare: what a writer to a pipe produces (Python's zipfile, `jar`, Java's ZipOutputStream).
    const bytes = buildZipOfParts(
      Array.from({ length: 1200 }, (_, i) => ({
        name: `logs/day-${i}.txt`,
        content: `entry ${i}\n`.repeat(1 + (i % 7)),
        descriptor: true,
      })),
    );
    // file-type looks up to 256 KiB ahead for each entry's descriptor; every look-ahead
    // used to come back from the reader as a new array, hundreds of times the file's size in all.
    const read = vi.spyOn(BlockReader.prototype, "read");
    try {
      // Act
      const result = await extract(new BufferSource(bytes, "streamed.zip"));
      // Assess
      expect(result.status).toBe("ok");
      expect(result.format).toMatchObject({ mime: "application/zip", ext: "zip" });
      expect(result.archive).toMatchObject({ kind: "zip", entries: 1200 });
      expect(result.bytesRead).toBeLessThanOrEqual(bytes.byteLength);
      const handedOut = await Promise.all(read.mock.results.map((call) => call.value as Promise<Uint8Array>));
      const bytesHandedOut = handedOut.reduce((sum, array) => sum + array.byteLength, 0);
      // What remains is a few reads of the head and the tail (about 3 times the size here; 790 before).
      expect(bytesHandedOut).toBeLessThan(10 * bytes.byteLength);
    } finally {
      read.mockRestore();
    }
  });
});

describe("truncated and corrupt archives", () => {
  const files = [
    "filetype-fixture.zip",
    "tika-testKeynote2018.key",
    "filetype-fixture.tar",
    "filetype-fixture.tar.gz",
    "filetype-fixture.gz",
    "filetype-fixture.tar.xz",
    "filetype-fixture.tar.zst",
    "filetype-fixture.7z",
    "filetype-fixture.rar",
    "tika-test-documents-enc.rar",
    "filetype-fixture.lz4",
    "filetype-fixture.bz2",
    "filetype-fixture.tar.Z",
    "filetype-fixture-ascii.cpio",
  ];
  it.each(files)("%s cut or damaged never throws and never hangs", async (file) => {
    const bytes = readFileSync(corpusFile(file));
    const cuts = [1, 10, 100, 512, Math.floor(bytes.byteLength / 2), bytes.byteLength - 1];
    for (const cut of cuts.filter((length) => length < bytes.byteLength)) {
      const result = await extract(new BufferSource(bytes.subarray(0, cut), file), {
        budget: { maxMillis: 2000 },
      });
      expect(["ok", "partial", "error"]).toContain(result.status);
      expect(result.durationMs).toBeLessThan(2000);
    }
    const damaged = Buffer.from(bytes);
    for (let i = 16; i < damaged.byteLength; i += 97) damaged[i] = (damaged[i] as number) ^ 0xff;
    const result = await extract(new BufferSource(damaged, file), { budget: { maxMillis: 2000 } });
    expect(["ok", "partial", "error"]).toContain(result.status);
  });

  it("a zip without its tail is an error, not a listing", async () => {
    const bytes = readFileSync(corpusFile("tika-testKeynote2018.key"));
    const result = await extract(new BufferSource(bytes.subarray(0, bytes.byteLength - 1000), "cut.key"));
    expect(result.status).toBe("error");
    expect(result.reason).toMatch(/End Of Central Directory/);
  });

  it("a tar cut mid-archive yields a partial listing", async () => {
    const bytes = readFileSync(corpusFile("filetype-fixture.tar"));
    const result = await extract(new BufferSource(bytes.subarray(0, 3000), "cut.tar"));
    expect(result.status).toBe("partial");
    expect(result.reason).toBe("truncated: the tar archive ends inside an entry's data");
    expect(result.archive).toMatchObject({ kind: "tar", entries: 1, estimated: true });
  });

  // Each stream ends with an end marker, trailer or index its decoder must reach; a RAR with its end header.
  it.each([
    ["filetype-fixture.tar.gz", "truncated: the gzip data ends before its end"],
    ["filetype-fixture.tar.xz", "truncated: the xz data ends before its end"],
    ["filetype-fixture.tar.zst", "truncated: the zstd data ends before its end"],
    ["filetype-fixture.bz2", "truncated: the bzip2 data ends before its end"],
    ["filetype-fixture.lz4", "truncated: the lz4 data ends before its end"],
    ["filetype-fixture.rar", "truncated: the RAR archive ends inside an entry's data"],
  ])("%s cut in half or by its last byte is partial, its listing kept", async (file, reason) => {
    const bytes = readFileSync(corpusFile(file));
    for (const length of [Math.floor(bytes.byteLength / 2), bytes.byteLength - 1]) {
      const result = await extract(new BufferSource(bytes.subarray(0, length), file), { name: file });
      expect(result.status).toBe("partial");
      expect(result.reason).toMatch(/^truncated: /);
      expect(result.archive?.kind).toBeDefined();
    }
    const half = await extract(new BufferSource(bytes.subarray(0, bytes.byteLength / 2), file), {
      name: file,
    });
    expect(half.reason).toBe(reason);
  });

  it("a tar that ends right after an entry lacks only its end-of-archive marker and stays ok", async () => {
    // Prepare: two whole entries, no zero blocks after them; and the same cut inside the second's body.
    const entries = Buffer.concat([tarEntry("a.txt", 700), tarEntry("b.txt", 700)]);
    const cut = entries.subarray(0, entries.byteLength - 100);

    // Act
    const unmarked = await extract(new BufferSource(entries, "unmarked.tar"));
    const truncated = await extract(new BufferSource(cut, "cut.tar"));

    // Assess
    expect(unmarked.status).toBe("ok");
    expect(unmarked.archive).toMatchObject({ kind: "tar", entries: 2 });
    expect(unmarked.warnings).toEqual(["partial tar listing: archive ends without an end-of-archive marker"]);
    expect(truncated.status).toBe("partial");
    expect(truncated.reason).toBe("truncated: the tar archive ends inside an entry's data");
    expect(truncated.archive).toMatchObject({ kind: "tar", entries: 2 });
  });
});

describe("tar walks", () => {
  // 25 plain files, then 12 archives: every nested one lies past the 20 names a listing samples.
  const names = [
    ...Array.from({ length: 25 }, (_, i) => `docs/page-${i}.txt`),
    ...Array.from({ length: 12 }, (_, i) => `backups/day-${i}.tar.gz`),
  ];
  const tar = Buffer.concat([...names.map((name) => tarHeader(name, 0)), Buffer.alloc(1024)]);

  it.each([
    ["plain", "nested.tar", tar],
    ["gzip-compressed", "nested.tar.gz", gzipSync(tar)],
  ])(
    "count the %s archive's nested archives among every entry read, not only the sampled names",
    async (_, name, bytes) => {
      // Act
      const result = await extract(new BufferSource(new Uint8Array(bytes), name));
      // Assess
      expect(result.archive).toMatchObject({ entries: 37, nestedArchives: 12 });
      expect(result.archive?.sample).toHaveLength(20);
      expect(result.warnings).toContain("12 entries are archives themselves (nested archives)");
    },
  );

  it.each([
    ["tar", "names.tar", (tar: Buffer) => tar],
    ["gzip", "names.tar.gz", (tar: Buffer) => gzipSync(tar)],
  ])("read a %s name that is not UTF-8 as Latin-1, and a UTF-8 one as UTF-8", async (kind, name, wrap) => {
    // Prepare: GNU tar writes a name's bytes as the system gives them: Latin-1 on an ISO 8859-1 system.
    const tar = Buffer.concat([
      tarHeader("café-latin1.txt", 0, "0", "latin1"),
      tarHeader("café-utf8.txt", 0),
      Buffer.alloc(1024),
    ]);
    // Act
    const result = await extract(new BufferSource(new Uint8Array(wrap(tar)), name));
    // Assess
    expect(result.archive).toMatchObject({ kind, entries: 2, sample: ["café-latin1.txt", "café-utf8.txt"] });
  });

  it("counts every entry of a tar already in memory, where a ranged source extrapolates", async () => {
    // Prepare: 2,000 entries of 4 KiB, 9 MB: past the 768 KiB a walk over ranged reads takes.
    const tar = tarOf(Array.from({ length: 2000 }, (_, i) => tarEntry(`logs/day-${i}.log`, 4096)));

    // Act
    const inMemory = await extract(new BufferSource(tar, "logs.tar"));
    const ranged = await extract(new RangedSource(tar, "logs.tar"));

    // Assess
    expect(inMemory.archive).toMatchObject({ kind: "tar", entries: 2000, uncompressedSize: 2000 * 4096 });
    expect(inMemory.archive?.estimated).toBeUndefined();
    expect(inMemory.warnings).toEqual([]);
    expect(inMemory.limit).toBeUndefined();
    expect(ranged.archive?.estimated).toBe(true);
    expect(ranged.archive?.entries).toBeGreaterThan(1800);
    expect(ranged.archive?.entries).toBeLessThan(2200);
  });

  it("stops a walk over memory at the entry budget", async () => {
    const tar = tarOf(Array.from({ length: 600 }, (_, i) => tarEntry(`f-${i}`, 0)));

    const result = await extract(new BufferSource(tar, "many.tar"), { budget: { maxEntries: 500 } });

    expect(result.limit).toBe("entries");
    expect(result.archive?.entries).toBe(500);
    expect(result.archive?.estimated).toBe(true);
  });

  it("keep the entries already listed when a long name's body is past the byte budget", async () => {
    // Prepare: one file of 300 KiB, then a GNU long-name header claiming 1 MiB. With 192 KiB to
    // read, the header after the first file still fits; the long name's body does not.
    const bytes = Buffer.concat([
      tarHeader("first.txt", 300 * 1024),
      Buffer.alloc(300 * 1024),
      tarHeader("././@LongLink", 1024 * 1024, "L"),
      Buffer.alloc(1024 * 1024),
      tarHeader("second.txt", 0),
      Buffer.alloc(1024),
    ]);
    // Act
    const result = await extract(new RangedSource(bytes, "long.tar"), { budget: { maxBytes: 192 * 1024 } });
    // Assess
    expect(result.limit).toBe("bytes");
    expect(result.archive).toMatchObject({ kind: "tar", entries: 1, sample: ["first.txt"], estimated: true });
    expect(result.warnings).toEqual([
      expect.stringMatching(/^partial tar listing: listing stopped at a read limit/),
    ]);
  });
});

/** Writes `header`'s checksum again after a change, over its bytes taken as signed when `signed`, as old tars did. */
function resum(header: Buffer, signed = false): Buffer {
  header.fill(0x20, 148, 156);
  const sum = header.reduce((total, byte) => total + (signed && byte > 0x7f ? byte - 256 : byte), 0);
  header.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148);
  return header;
}

const octal12 = (value: number) => `${value.toString(8).padStart(11, "0")}\0`;

/**
 * An old GNU sparse entry ('S', as `tar --format=gnu --sparse` writes it):
 * the header maps four data runs, extension blocks of 21 the rest; then the
 * runs' bytes, which are all the entry stores of a file of `realSize`.
 */
function gnuSparseEntry(
  name: string,
  runs: readonly { offset: number; bytes: number }[],
  realSize: number,
): Buffer {
  const stored = runs.reduce((sum, run) => sum + run.bytes, 0);
  const header = tarHeader(name, stored, "S");
  header.write("ustar  \0", 257);
  const writeRun = (block: Buffer, at: number, run: { offset: number; bytes: number }) => {
    block.write(octal12(run.offset), at);
    block.write(octal12(run.bytes), at + 12);
  };
  for (const [i, run] of runs.slice(0, 4).entries()) writeRun(header, 386 + i * 24, run);
  header[482] = runs.length > 4 ? 1 : 0;
  header.write(octal12(realSize), 483);
  const extensions: Buffer[] = [];
  for (let first = 4; first < runs.length; first += 21) {
    const block = Buffer.alloc(512);
    for (const [i, run] of runs.slice(first, first + 21).entries()) writeRun(block, i * 24, run);
    block[504] = first + 21 < runs.length ? 1 : 0;
    extensions.push(block);
  }
  return Buffer.concat([resum(header), ...extensions, Buffer.alloc(Math.ceil(stored / 512) * 512, 0x61)]);
}

/** A pax header block of `records` for the entry after it. */
function paxHeader(records: Record<string, string>): Buffer {
  const body = Object.entries(records)
    .map(([key, value]) => {
      const line = ` ${key}=${value}\n`;
      let length = line.length + 2;
      if (`${length}${line}`.length !== length) length += 1;
      return `${length}${line}`;
    })
    .join("");
  return Buffer.concat([
    tarHeader("./PaxHeaders/entry", body.length, "x"),
    Buffer.alloc(512, 0).fill(body, 0, body.length),
  ]);
}

// CPython's test/testtar.tar holds each of these; tar tvf lists all its 39 entries, the walk stopped at 18.
describe("tar entries of old and sparse kinds", () => {
  it("walks past an old GNU sparse file whose map goes on in extension blocks, counting its real size", async () => {
    // Prepare: 30 runs of 512 bytes, 64 KiB apart: four in the header, 21 then 5 in two extension blocks.
    const runs = Array.from({ length: 30 }, (_, i) => ({ offset: i * 65_536, bytes: 512 }));
    const tar = tarOf([
      tarEntry("before.txt", 100),
      gnuSparseEntry("disk.img", runs, 30 * 65_536),
      tarEntry("after.txt", 200),
    ]);
    // Act
    const result = await extract(new BufferSource(tar, "sparse.tar"));
    // Assess
    expect(result.warnings).toEqual([]);
    expect(result.archive).toMatchObject({
      kind: "tar",
      entries: 3,
      sample: ["before.txt", "disk.img", "after.txt"],
      uncompressedSize: 100 + 30 * 65_536 + 200,
    });
  });

  it("names a pax sparse file by its real name and counts its real size", async () => {
    // Prepare: GNU tar's sparse format 1.0 stores it under a made-up name, the real one in its records.
    const tar = tarOf([
      paxHeader({
        "GNU.sparse.major": "1",
        "GNU.sparse.minor": "0",
        "GNU.sparse.name": "vm/disk.img",
        "GNU.sparse.realsize": "1048576",
      }),
      tarEntry("vm/GNUSparseFile.0/disk.img", 1024),
      tarEntry("after.txt", 10),
    ]);
    // Act
    const result = await extract(new BufferSource(tar, "sparse-pax.tar"));
    // Assess
    expect(result.archive).toMatchObject({
      entries: 2,
      sample: ["vm/disk.img", "after.txt"],
      uncompressedSize: 1_048_586,
    });
  });

  it("takes a header whose checksum an old tar summed over signed bytes", async () => {
    // Prepare: a Latin-1 name, whose bytes over 0x7F sum differently taken as signed (HP-UX's tar).
    const header = resum(tarHeader("misc/regtype-hpux-signed-chksum-äöü", 5, "0", "latin1"), true);
    const tar = tarOf([Buffer.concat([header, Buffer.alloc(512)]), tarEntry("after.txt", 10)]);
    // Act
    const result = await extract(new BufferSource(tar, "old.tar"));
    // Assess
    expect(result.warnings).toEqual([]);
    expect(result.archive).toMatchObject({ entries: 2, uncompressedSize: 15 });
  });
});

/** A cpio "newc" archive (`cpio -H newc`) of the given files, ended by its trailer. */
function newcCpio(files: ReadonlyArray<{ name: string; data: Uint8Array }>): Uint8Array {
  const align = (bytes: Buffer) => Buffer.concat([bytes, Buffer.alloc((4 - (bytes.byteLength % 4)) % 4)]);
  const record = (name: string, data: Uint8Array) => {
    const fields = [1, 0o100644, 0, 0, 1, 0, data.byteLength, 0, 0, 0, 0, name.length + 1, 0];
    const header = `070701${fields.map((field) => field.toString(16).toUpperCase().padStart(8, "0")).join("")}`;
    return Buffer.concat([align(Buffer.from(`${header}${name}\0`, "latin1")), align(Buffer.from(data))]);
  };
  const records = files.map((file) => record(file.name, file.data));
  return new Uint8Array(Buffer.concat([...records, record("TRAILER!!!", new Uint8Array(0))]));
}

describe("cpio in the newc format", () => {
  it("counts nested archives among every entry read, not only the sampled names", async () => {
    // Prepare: 25 plain files, then 12 archives past the 20 sampled names.
    const bytes = newcCpio([
      ...Array.from({ length: 25 }, (_, i) => ({ name: `etc/file-${i}`, data: randomBytes(3) })),
      ...Array.from({ length: 12 }, (_, i) => ({ name: `lib/modules-${i}.cpio`, data: randomBytes(3) })),
    ]);
    // Act
    const result = await extract(new BufferSource(bytes, "nested.cpio"));
    // Assess
    expect(result.archive).toMatchObject({ kind: "cpio", entries: 37, nestedArchives: 12 });
    expect(result.warnings).toContain("12 entries are archives themselves (nested archives)");
  });

  it("is detected by its whole fixed header and listed", async () => {
    // Prepare: what initramfs and RPM payloads are written in; names and sizes chosen to need padding.
    const bytes = newcCpio([
      { name: "init", data: randomBytes(5) },
      { name: "etc/hostname", data: randomBytes(1000) },
      { name: "bin/sh", data: randomBytes(7) },
    ]);
    // Act
    const result = await extract(new BufferSource(bytes, "initramfs.img"), { name: "initramfs.img" });
    // Assess
    expect(result.status).toBe("ok");
    expect(result.format).toMatchObject({ mime: "application/x-cpio", category: "archive" });
    expect(result.archive).toMatchObject({
      kind: "cpio",
      entries: 3,
      uncompressedSize: 1012,
      sample: ["init", "etc/hostname", "bin/sh"],
    });
    expect(result.archive?.estimated).toBeUndefined();
  });

  it("reads a name that is not UTF-8 as Latin-1, as a tar's", async () => {
    // Prepare: the builder writes names in Latin-1, as cpio on an ISO 8859-1 system does.
    const bytes = newcCpio([{ name: "etc/café.conf", data: randomBytes(3) }]);
    // Act
    const result = await extract(new BufferSource(bytes, "latin1.cpio"));
    // Assess
    expect(result.archive).toMatchObject({ kind: "cpio", entries: 1, sample: ["etc/café.conf"] });
  });

  it("keeps the entries already listed when a name's read is past the byte budget", async () => {
    // Prepare: the second header ends at the 16 KiB block boundary at 304 KiB, so its name lies in
    // the next block. The plan's head and tail windows and the header's block take 147,712 bytes;
    // with 156 KiB to read, the header fits and the name's block does not.
    const bytes = newcCpio([
      { name: "first.bin", data: new Uint8Array(311_064) },
      { name: "second.bin", data: new Uint8Array(1024 * 1024) },
      { name: "third", data: new Uint8Array(1) },
    ]);
    // Act
    const result = await extract(new BufferSource(bytes, "budget.cpio"), {
      budget: { maxBytes: 156 * 1024 },
    });
    // Assess
    expect(result.status).toBe("ok");
    expect(result.limit).toBe("bytes");
    expect(result.archive).toMatchObject({
      kind: "cpio",
      entries: 1,
      sample: ["first.bin"],
      estimated: true,
    });
    expect(result.warnings).toEqual([
      expect.stringMatching(/^partial cpio listing: listing stopped at a read limit/),
    ]);
  });

  it("keeps the entries already listed when a later header has a bad field", async () => {
    // Prepare: the second header's file size is not hexadecimal.
    const bytes = Buffer.from(
      newcCpio([
        { name: "init", data: randomBytes(5) },
        { name: "etc/hostname", data: randomBytes(10) },
      ]),
    );
    // The first record: 110 header and 5 name bytes padded to 116, then 5 data bytes padded to 8.
    const second = 116 + 8;
    bytes.write("ZZZZZZZZ", second + 54, "latin1");
    // Act
    const result = await extract(new BufferSource(bytes, "damaged.cpio"), { name: "damaged.cpio" });
    // Assess
    expect(result.status).toBe("ok");
    expect(result.limit).toBeUndefined();
    expect(result.archive).toMatchObject({ kind: "cpio", entries: 1, sample: ["init"], estimated: true });
    expect(result.warnings).toEqual([
      `partial cpio listing: bad cpio header field "ZZZZZZZZ" at byte ${second}`,
    ]);
  });

  it("is not text that merely starts with its six-digit magic", async () => {
    const bytes = new TextEncoder().encode("070701 is a date, 070702 another\nand a second line\n");
    const result = await extract(new BufferSource(bytes, "dates.txt"), { name: "dates.txt" });
    expect(result.format.mime).toBe("text/plain");
  });
});

/** RAR 4's HEAD_CRC: the low 16 bits of the CRC-32 of a header from its type byte on. */
function withHeaderCrc(header: Buffer): Buffer {
  header.writeUInt16LE(crc32(header.subarray(2)) & 0xffff, 0);
  return header;
}

/**
 * A RAR 4 archive: marker, main header, one stored file header per name (no data) and end block, each with
 * its header CRC, so that a RAR reader that checks them (libarchive's does) lists it too.
 */
function rar4(names: ReadonlyArray<{ name: Uint8Array; flags?: number; hostOs?: number }>): Uint8Array {
  const marker = Buffer.from([0x52, 0x61, 0x72, 0x21, 0x1a, 0x07, 0x00]);
  const main = Buffer.alloc(13);
  main.writeUInt8(0x73, 2);
  main.writeUInt16LE(13, 5);
  const files = names.map(({ name, flags = 0, hostOs = 0 }) => {
    const header = Buffer.alloc(32 + name.byteLength);
    header.writeUInt8(0x74, 2);
    header.writeUInt16LE(0x8000 | flags, 3);
    header.writeUInt16LE(32 + name.byteLength, 5);
    header.writeUInt8(hostOs, 15); // 0 MS-DOS, 2 Windows, 3 Unix
    header.writeUInt8(20, 24); // version needed to extract: 2.0
    header.writeUInt8(0x30, 25);
    header.writeUInt16LE(name.byteLength, 26);
    header.set(name, 32);
    return withHeaderCrc(header);
  });
  const end = Buffer.alloc(7);
  end.writeUInt8(0x7b, 2);
  end.writeUInt16LE(0x4000, 3);
  end.writeUInt16LE(7, 5);
  return new Uint8Array(Buffer.concat([marker, withHeaderCrc(main), ...files, withHeaderCrc(end)]));
}

/**
 * One operation of RAR's compressed UTF-16 name form: `[0, low]`, `[1, low]`
 * (in the high byte's page), `[2, low, high]`, or `[3, length]` /
 * `[3, length | 0x80, correction]` (a run of `(length & 0x7f) + 2`
 * characters copied from the OEM name).
 */
type NameOperation = readonly [code: 0 | 1 | 2 | 3, ...operands: number[]];

/** A LHD_UNICODE name field: the OEM name, a NUL, the high byte, then each four operations behind their flag byte. */
function compressedName(
  oem: Uint8Array | string,
  highByte: number,
  operations: readonly NameOperation[],
): Buffer {
  const bytes = [...Buffer.from(oem), 0, highByte];
  for (let i = 0; i < operations.length; i += 4) {
    const group = operations.slice(i, i + 4);
    bytes.push(group.reduce((flags, [code], slot) => flags | (code << (6 - 2 * slot)), 0));
    for (const [, ...operands] of group) bytes.push(...operands);
  }
  return Buffer.from(bytes);
}

/** Operations writing `text` one character at a time, each below U+0100. */
function lowBytes(text: string): NameOperation[] {
  return [...text].map((char) => [0, char.charCodeAt(0)] as const);
}

describe("a RAR 4 header too small to be one", () => {
  const names = ["first.txt", "second.txt", "third.txt"].map((name) => ({ name: Buffer.from(name) }));
  /** Where each header of `rar4(names)` starts: the main one after the marker, then the files'. */
  const mainAt = 7;
  const secondFileAt = mainAt + 13 + (32 + "first.txt".length);

  it("past the first header ends the listing with the entries before it", async () => {
    // Prepare: the second file's header declares a size of 3 bytes, under RAR's 7-byte minimum.
    const bytes = Buffer.from(rar4(names));
    bytes.writeUInt16LE(3, secondFileAt + 5);
    // Act
    const result = await extract(new BufferSource(bytes, "damaged.rar"), { name: "damaged.rar" });
    // Assess
    expect(result.status).toBe("ok");
    expect(result.limit).toBeUndefined();
    expect(result.archive).toMatchObject({ kind: "rar", entries: 1, sample: ["first.txt"], estimated: true });
    expect(result.warnings).toEqual([
      `partial RAR listing: RAR header at byte ${secondFileAt} is too small (3 bytes)`,
    ]);
  });

  it("as the first header makes the file an error", async () => {
    const bytes = Buffer.from(rar4(names));
    bytes.writeUInt16LE(3, mainAt + 5);
    const result = await extract(new BufferSource(bytes, "damaged.rar"), { name: "damaged.rar" });
    expect(result.status).toBe("error");
    expect(result.reason).toBe(`RAR header at ${mainAt} is too small`);
    expect(result.archive).toBeUndefined();
  });
});

describe("RAR 4 names", () => {
  it("are cut to the field bound, as tar, cpio and zip names are", async () => {
    // Prepare: twenty names of the largest size a header (65,535 bytes in all) can hold.
    const long = Buffer.alloc(65_535 - 32, "a");
    const bytes = rar4(Array.from({ length: 20 }, () => ({ name: long })));
    // Act
    const result = await extract(new BufferSource(bytes, "long.rar"), { name: "long.rar" });
    // Assess
    expect(result.archive).toMatchObject({ kind: "rar", entries: 20 });
    expect(result.archive?.sample).toHaveLength(20);
    expect(result.archive?.sample[0]).toBe(`${"a".repeat(MAX_FIELD_CHARS)}…`);
  });

  it("stay UTF-8 when the bound cuts a long name inside a character", async () => {
    const long = Buffer.from("日".repeat(10_000));
    const result = await extract(new BufferSource(rar4([{ name: long, flags: 0x0200 }]), "cjk.rar"), {
      name: "cjk.rar",
    });
    expect(result.archive?.sample).toEqual([`${"日".repeat(MAX_FIELD_CHARS)}…`]);
  });

  it.each([
    {
      label: "UTF-8 without the Unicode flag",
      name: Buffer.from("café.txt"),
      flags: 0,
      expected: "café.txt",
    },
    {
      label: "UTF-8 with the Unicode flag",
      name: Buffer.from("日本.txt"),
      flags: 0x0200,
      expected: "日本.txt",
    },
    {
      label: "up to a NUL without the Unicode flag",
      name: Buffer.from([...Buffer.from("report.txt"), 0x00, 0x00, 0x00, 0x72, 0x65]),
      flags: 0,
      expected: "report.txt",
    },
    {
      label: "bytes that are not UTF-8 as Latin-1",
      name: Buffer.from([0x72, 0xe9, 0x73]),
      flags: 0,
      expected: "rés",
    },
    { label: "surrounding blanks", name: Buffer.from("  notes.txt "), flags: 0, expected: "notes.txt" },
  ])("read $label", async ({ name, flags, expected }) => {
    const result = await extract(new BufferSource(rar4([{ name, flags }]), "names.rar"), {
      name: "names.rar",
    });
    expect(result.status).toBe("ok");
    expect(result.archive?.sample).toEqual([expected]);
  });
});

describe("RAR 4 folder separators", () => {
  const oem = Buffer.from("photos\\2024\\c.jpg");
  // `bsdtar -tf` lists each of these archives as photos/2024/a.jpg, photos/2024/b.jpg, photos/2024/c.jpg
  // (a one-off check with libarchive 3.6.2): RAR 4 writes `\` between folders whatever the host, Unix included.
  it.each([
    ["MS-DOS", 0],
    ["Windows", 2],
    ["Unix", 3],
  ])("lists the `\\` of names written on %s as `/`", async (_, hostOs) => {
    // Prepare: an unflagged name, a UTF-8 one and one in the compressed UTF-16 form (a run copied from the OEM name).
    const bytes = rar4([
      { name: Buffer.from("photos\\2024\\a.jpg"), hostOs },
      { name: Buffer.from("photos\\2024\\b.jpg"), flags: 0x0200, hostOs },
      { name: compressedName(oem, 0, [[3, oem.length - 2]]), flags: 0x0200, hostOs },
    ]);

    // Act
    const result = await extract(new BufferSource(bytes, "photos.rar"), { name: "photos.rar" });

    // Assess
    expect(result.status).toBe("ok");
    expect(result.archive?.sample).toEqual(["photos/2024/a.jpg", "photos/2024/b.jpg", "photos/2024/c.jpg"]);
  });
});

describe("RAR 4 names in RAR's compressed UTF-16 form", () => {
  /** "Привет" in the Cyrillic OEM code page 866 and in windows-1251: code pages an OEM copy of a name may be in. */
  const privetCp866 = Buffer.from([0x8f, 0xe0, 0xa8, 0xa2, 0xa5, 0xe2]);
  const privetCp1251 = Buffer.from([0xcf, 0xf0, 0xe8, 0xe2, 0xe5, 0xf2]);

  // The expected names of well-formed fields are what libarchive's reader (bsdtar -tvf) lists for these headers.
  it.each([
    {
      label: "characters below U+0100, and a run copied from the OEM name",
      name: compressedName(Buffer.from([0x8e, ...Buffer.from("rger.txt")]), 0x00, [
        [0, 0xc4],
        [3, 8 - 2],
      ]),
      expected: "Ärger.txt",
    },
    {
      label: "characters in the high byte's page",
      name: compressedName(Buffer.concat([privetCp866, Buffer.from(".txt")]), 0x04, [
        [1, 0x1f],
        [1, 0x40],
        [1, 0x38],
        [1, 0x32],
        [1, 0x35],
        [1, 0x42],
        [3, 4 - 2],
      ]),
      expected: "Привет.txt",
    },
    {
      label: "a run from the OEM name moved into the high byte's page by a correction",
      // windows-1251 puts А..я at 0xC0..0xFF, Unicode at U+0410..U+044F: 0x50 more, modulo 256, in page 0x04.
      name: compressedName(Buffer.concat([privetCp1251, Buffer.from(".txt")]), 0x04, [
        [3, 0x80 | (6 - 2), 0x50],
        [3, 4 - 2],
      ]),
      expected: "Привет.txt",
    },
    {
      label: "whole UTF-16 units beside a high byte's page",
      name: compressedName("???.txt", 0x65, [
        [1, 0xe5],
        [2, 0x2c, 0x67],
        [2, 0x9e, 0x8a],
        [3, 4 - 2],
      ]),
      expected: "日本語.txt",
    },
    {
      label: "a surrogate pair",
      name: compressedName("?.txt", 0x00, [[2, 0x3d, 0xd8], [2, 0x00, 0xde], ...lowBytes(".txt")]),
      expected: "😀.txt",
    },
    {
      label: "up to a decoded NUL",
      name: compressedName("ab?cd", 0x00, [...lowBytes("ab"), [0, 0x00], ...lowBytes("cd")]),
      expected: "ab",
    },
  ])("are decoded from $label", async ({ name, expected }) => {
    const result = await extract(new BufferSource(rar4([{ name, flags: 0x0200 }]), "unicode.rar"), {
      name: "unicode.rar",
    });
    expect(result.status).toBe("ok");
    expect(result.archive?.sample).toEqual([expected]);
  });

  it("are their OEM part without the Unicode flag", async () => {
    const name = compressedName("???.txt", 0x65, [
      [1, 0xe5],
      [2, 0x2c, 0x67],
      [2, 0x9e, 0x8a],
      [3, 4 - 2],
    ]);
    const result = await extract(new BufferSource(rar4([{ name }]), "oem.rar"), { name: "oem.rar" });
    expect(result.archive?.sample).toEqual(["???.txt"]);
  });

  const japanese = compressedName("???.txt", 0x65, [
    [1, 0xe5],
    [2, 0x2c, 0x67],
    [2, 0x9e, 0x8a],
  ]);
  // libarchive reads such fields on past their end, or skips the entry; the OEM part is what the field surely holds.
  it.each([
    { label: "nothing after the NUL", name: Buffer.from("abc\0"), expected: "abc" },
    { label: "a high byte and no operation", name: compressedName("abc", 0x00, []), expected: "abc" },
    {
      label: "a flag byte with no operands",
      name: Buffer.concat([compressedName("abc", 0x00, []), Buffer.from([0x00])]),
      expected: "abc",
    },
    {
      label: "a whole unit cut to an odd byte",
      name: japanese.subarray(0, japanese.byteLength - 1),
      expected: "???.txt",
    },
    {
      label: "a corrected run without its correction",
      name: compressedName(Buffer.concat([privetCp1251, Buffer.from(".txt")]), 0x04, [
        [1, 0x1f],
        [3, 0x80 | (5 - 2)],
      ]),
      expected: "Ïðèâåò.txt",
    },
    {
      label: "a run past the end of the OEM name",
      name: compressedName("abc", 0x04, [[3, 0x80 | (5 - 2), 0x01]]),
      expected: "abc",
    },
    {
      label: "an unpaired surrogate",
      name: compressedName("?.txt", 0x00, [[2, 0x3d, 0xd8], ...lowBytes(".txt")]),
      expected: "?.txt",
    },
  ])("fall back to the OEM part for $label", async ({ name, expected }) => {
    const result = await extract(new BufferSource(rar4([{ name, flags: 0x0200 }]), "malformed.rar"), {
      name: "malformed.rar",
    });
    expect(result.status).toBe("ok");
    expect(result.warnings).toEqual([]);
    expect(result.archive?.sample).toEqual([expected]);
  });

  it("of random bytes after the NUL never throw and stay a name no longer than the field", async () => {
    // Prepare: 200 fields of up to 64 random bytes behind an OEM name, one archive entry each.
    const random = mulberry32(20_261_128);
    const names = Array.from({ length: 200 }, () => {
      const encoded = Array.from({ length: Math.floor(random() * 65) }, () => Math.floor(random() * 256));
      return { name: Buffer.from([...Buffer.from("name.txt"), 0, ...encoded]), flags: 0x0200 };
    });
    for (const { name, flags } of names) {
      // Act
      const result = await extract(new BufferSource(rar4([{ name, flags }]), "random.rar"), {
        name: "random.rar",
      });
      // Assess
      expect(result.status).toBe("ok");
      const [sampled] = result.archive?.sample ?? [];
      expect(sampled).toBeDefined();
      expect(sampled?.length).toBeLessThanOrEqual(name.byteLength);
      expect(sampled).not.toMatch(/\p{Cs}/u);
    }
  });

  it("keep what the read bound holds of a long name, marked as cut", async () => {
    // Prepare: 3,000 characters in the high byte's page behind a 3,000-byte OEM name, 6,752 bytes in all.
    const name = compressedName(
      "?".repeat(3000),
      0x65,
      Array.from({ length: 3000 }, () => [1, 0xe5] as const),
    );
    // Act
    const result = await extract(new BufferSource(rar4([{ name, flags: 0x0200 }]), "long.rar"), {
      name: "long.rar",
    });
    // Assess: the 4,096 bytes read leave 1,094 for five-byte groups of a flag byte and four
    // characters: 218 groups and three characters of the next.
    expect(result.archive?.sample).toEqual([`${"日".repeat(218 * 4 + 3)}…`]);
  });
});
