/**
 * 7z listings: the header at the end of the archive, unpacked from LZMA as
 * 7-Zip packs it by default, gives entries, names, sizes and encryption.
 * Archives are made by 7-Zip itself (`7zz`, Debian's 7zip) and listed by
 * libarchive's bsdtar too, whose listing the engine's must match. The LZMA
 * decoder is checked against xz's own LZMA1 streams (`xz --format=lzma`).
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { mulberry32 } from "../../bench/fuzz-inputs.js";
import { BufferSource } from "../../src/engine/byte-source/byte-source.js";
import { extract } from "../../src/engine/engine.js";
import { ContentError } from "../../src/engine/errors.js";
import { decodeLzma } from "../../src/engine/extractors/archive/lzma.js";
import { bsdtarList } from "../support/bsdtar.js";
import { describeWith } from "../support/tools.js";

let folder: string;
beforeAll(() => {
  folder = mkdtempSync(join(tmpdir(), "seven-zip-test-"));
  const tree = join(folder, "tree");
  mkdirSync(join(tree, "docs", "old"), { recursive: true });
  writeFileSync(join(tree, "docs", "notes.txt"), "notes\n".repeat(100));
  writeFileSync(join(tree, "docs", "relatório-ü.txt"), "olá\n");
  writeFileSync(join(tree, "docs", "old", "empty.txt"), "");
  writeFileSync(join(tree, "data.bin"), randomBytes(20_000));
});
afterAll(() => rmSync(folder, { recursive: true, force: true }));

/** An archive of the test tree made by 7-Zip with `switches`, as bytes. */
function sevenZip(name: string, switches: string[]): Buffer {
  const path = join(folder, name);
  execFileSync("7zz", ["a", "-bd", "-bso0", "-bsp0", ...switches, path, "docs", "data.bin"], {
    cwd: join(folder, "tree"),
  });
  return readFileSync(path);
}

const TREE_BYTES = 600 + 5 + 0 + 20_000;

function extract7z(bytes: Uint8Array) {
  return extract(new BufferSource(bytes, "archive.7z"), { name: "archive.7z" });
}

describeWith("7zz", "bsdtar")("7z listings", () => {
  it.each([
    ["7-Zip's defaults (LZMA2 content, an LZMA-packed header)", []],
    ["a header left unpacked", ["-mhc=off"]],
    ["each file in a block of its own", ["-ms=off"]],
    ["LZMA content", ["-m0=LZMA"]],
  ])("lists entries, names and sizes as bsdtar does: %s", async (_, switches) => {
    // Prepare
    const bytes = sevenZip(`tree-${switches.join("")}.7z`, switches);

    // Act
    const result = await extract7z(bytes);

    // Assess
    expect(result.status).toBe("ok");
    expect(result.format.mime).toBe("application/x-7z-compressed");
    expect(result.archive).toMatchObject({
      kind: "7z",
      entries: 6,
      uncompressedSize: TREE_BYTES,
      encrypted: false,
    });
    expect([...(result.archive?.sample ?? [])].sort()).toEqual(bsdtarList(bytes, "listed.7z").sort());
    expect(result.warnings).toEqual([]);
  });

  it("says content encrypted with a password is encrypted, and still lists the names", async () => {
    const bytes = sevenZip("content.7z", ["-psecret"]);

    const result = await extract7z(bytes);

    expect(result.archive).toMatchObject({ entries: 6, encrypted: true });
    expect([...(result.archive?.sample ?? [])].sort()).toEqual(bsdtarList(bytes, "listed.7z").sort());
  });

  it("says an archive whose names are encrypted is encrypted, and lists nothing", async () => {
    const result = await extract7z(sevenZip("names.7z", ["-psecret", "-mhe=on"]));

    expect(result.status).toBe("ok");
    expect(result.archive).toMatchObject({ kind: "7z", encrypted: true, sample: [] });
    expect(result.archive?.entries).toBeUndefined();
  });

  it("samples the first 20 names of a long list", async () => {
    const many = join(folder, "many");
    mkdirSync(many);
    for (let i = 0; i < 300; i++)
      writeFileSync(join(many, `file-${String(i).padStart(3, "0")}.txt`), `${i}\n`);
    const path = join(folder, "many.7z");
    execFileSync("7zz", ["a", "-bd", "-bso0", "-bsp0", path, "."], { cwd: many });

    const result = await extract7z(readFileSync(path));

    expect(result.archive?.entries).toBe(300);
    expect(result.archive?.sample).toHaveLength(20);
  });

  it("calls a damaged header damaged, and an archive cut before its header truncated", async () => {
    const bytes = sevenZip("damaged.7z", []);
    const damaged = Buffer.from(bytes);
    damaged[damaged.byteLength - 10] = (damaged[damaged.byteLength - 10] as number) ^ 0xff;

    const broken = await extract7z(damaged);
    const cut = await extract7z(bytes.subarray(0, bytes.byteLength - 40));

    expect(broken.status).toBe("error");
    expect(broken.reason).toMatch(/CRC32 mismatch/);
    expect(cut.status).toBe("error");
    expect(cut.reason).toMatch(/truncated/);
  });

  it("never throws and never hangs on an archive cut or damaged anywhere", async () => {
    const bytes = sevenZip("fuzzed.7z", []);
    for (let i = 0; i < bytes.byteLength; i += 97) {
      const damaged = Buffer.from(bytes);
      damaged[i] = (damaged[i] as number) ^ 0x5a;
      const result = await extract(new BufferSource(damaged, "x.7z"), { budget: { maxMillis: 2000 } });
      expect(["ok", "partial", "error"]).toContain(result.status);
      const cut = await extract(new BufferSource(bytes.subarray(0, i + 1), "x.7z"), {
        budget: { maxMillis: 2000 },
      });
      expect(["ok", "partial", "error"]).toContain(cut.status);
    }
  });
});

describeWith("xz")("the LZMA decoder", () => {
  const inputs: [string, Buffer][] = [
    ["text", Buffer.from("the quick brown fox jumps over the lazy dog\n".repeat(500))],
    ["random bytes", randomBytes(50_000)],
    ["zeros", Buffer.alloc(200_000)],
    ["one byte", Buffer.from("a")],
  ];
  it.each(
    ["preset=6", "preset=0", "preset=6,lc=0,lp=2,pb=0", "preset=6,lc=4,lp=0,pb=4"].flatMap((options) =>
      inputs.map(([name, data]) => [options, name, data] as const),
    ),
  )("decodes xz's LZMA1 stream (%s) of %s", (options, _, data) => {
    // xz --format=lzma writes the 5 property bytes, an 8-byte size, then the raw stream.
    const lzma = execFileSync("xz", ["--format=lzma", `--lzma1=${options}`, "-c"], { input: data });
    expect(
      Buffer.from(decodeLzma(lzma.subarray(0, 5), lzma.subarray(13), data.byteLength)).equals(data),
    ).toBe(true);
  });

  it("ends every damaged stream with its stated size or a content error, never another exception", () => {
    // Bit flips and byte runs anywhere in the stream: the decoder must not read
    // out of its buffers, loop, or throw anything but the engine's own error.
    const data = Buffer.from(
      Array.from({ length: 300 }, (_, i) => `entry-${i % 17}/file ${i}.txt ${i * 7919}\n`).join(""),
    );
    const lzma = execFileSync("xz", ["--format=lzma", "-c"], { input: data });
    const properties = lzma.subarray(0, 5);
    const random = mulberry32(20_261_129);
    const outcomes = { decoded: 0, refused: 0 };
    for (let round = 0; round < 500; round++) {
      const stream = Buffer.from(lzma.subarray(13));
      const flips = 1 + Math.floor(random() * 8);
      for (let i = 0; i < flips; i++) {
        const at = Math.floor(random() * stream.byteLength);
        stream[at] = round % 3 === 0 ? Math.floor(random() * 256) : (stream[at] as number) ^ (1 << (i % 8));
      }
      try {
        expect(decodeLzma(properties, stream, data.byteLength).byteLength).toBe(data.byteLength);
        outcomes.decoded++;
      } catch (error) {
        expect(error).toBeInstanceOf(ContentError);
        outcomes.refused++;
      }
    }
    expect(outcomes.refused).toBeGreaterThan(0);
    expect(outcomes.decoded + outcomes.refused).toBe(500);
  });

  it("refuses a stream cut short, without reading past it", () => {
    const data = Buffer.from("some text to pack ".repeat(200));
    const lzma = execFileSync("xz", ["--format=lzma", "-c"], { input: data });
    expect(() => decodeLzma(lzma.subarray(0, 5), lzma.subarray(13, 40), data.byteLength)).toThrow(
      /truncated/,
    );
  });
});
