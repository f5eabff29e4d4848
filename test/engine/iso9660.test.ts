/**
 * ISO 9660 images made by xorriso (Debian's xorriso, which CI installs):
 * detected by the magic number at byte 32,769, described by the primary
 * volume descriptor, and listed from the directory tree with the names
 * libarchive's bsdtar gives (Joliet, Rock Ridge, or 8.3).
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { BufferSource } from "../../src/engine/byte-source/byte-source.js";
import { extract } from "../../src/engine/engine.js";
import { bsdtarList } from "../support/bsdtar.js";
import { RangedSource } from "../support/engine.js";
import { describeWith } from "../support/tools.js";

let work: string;
let tree: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "iso-test-"));
  tree = join(work, "tree");
  for (let d = 0; d < 12; d++) {
    const folder = join(tree, `folder-${d}`, "nested level with a long name");
    mkdirSync(folder, { recursive: true });
    for (let f = 0; f < 15; f++)
      writeFileSync(join(folder, `file number ${f}.txt`), `content ${d} ${f}\n`.repeat(f));
  }
  writeFileSync(join(tree, "relatório-ü.txt"), "ünïcode\n");
  writeFileSync(join(tree, "backup.tar.gz"), "not really");
  mkdirSync(join(tree, "empty"));
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

/** An image of the tree, made by xorriso with `options` (Rock Ridge, Joliet, neither). */
function makeIso(name: string, options: string[]): Buffer {
  const path = join(work, name);
  execFileSync(
    "xorriso",
    [
      "-as",
      "mkisofs",
      "-quiet",
      "-V",
      "CATALOG_TEST",
      "-publisher",
      "Example Publisher",
      "-A",
      "catalog tests",
      ...options,
      "-o",
      path,
      tree,
    ],
    { stdio: "pipe" },
  );
  return readFileSync(path);
}

/** The bytes of every file under `folder`. */
function treeBytes(folder: string): number {
  return readdirSync(folder, { withFileTypes: true }).reduce((sum, entry) => {
    const path = join(folder, entry.name);
    return sum + (entry.isDirectory() ? treeBytes(path) : statSync(path).size);
  }, 0);
}

/** What bsdtar lists, without the root it names ".". */
function listed(bytes: Buffer): string[] {
  return bsdtarList(bytes, "image.iso").filter((name) => name !== ".");
}

describeWith("xorriso", "bsdtar")("ISO 9660 images", () => {
  it.each([
    ["Rock Ridge and Joliet", ["-R", "-J"]],
    ["Joliet only", ["--norock", "-J"]],
    ["Rock Ridge only", ["-R"]],
    ["8.3 names only", ["--norock"]],
  ])("are detected, described and listed as bsdtar lists them (%s)", async (_, options) => {
    // Prepare
    const bytes = makeIso("image.iso", options);
    const names = listed(bytes);

    // Act
    const result = await extract(new BufferSource(bytes, "image.iso"), { name: "image.iso" });

    // Assess
    expect(result.status).toBe("ok");
    expect(result.warnings).toEqual([]);
    expect(result.format).toMatchObject({
      mime: "application/x-iso9660-image",
      ext: "iso",
      category: "archive",
      mismatch: false,
    });
    expect(result.archive).toMatchObject({
      kind: "iso9660",
      entries: names.length,
      encrypted: false,
      label: "CATALOG_TEST",
      publisher: "EXAMPLE PUBLISHER",
      application: "CATALOG TESTS",
      nestedArchives: 1,
    });
    expect(result.archive?.sample).toHaveLength(20);
    for (const name of result.archive?.sample ?? []) expect(names).toContain(name);
    // The dates are the image's making, to the second.
    const created = Date.parse(result.archive?.created ?? "");
    expect(Math.abs(created - Date.now())).toBeLessThan(10 * 60_000);
    expect(result.archive?.estimated).toBeUndefined();
  });

  it("sums the files' sizes and is listed the same when read by ranges, as a large object is", async () => {
    const bytes = makeIso("ranged.iso", ["-R", "-J"]);
    const whole = await extract(new BufferSource(bytes, "a.iso"), { name: "a.iso" });
    const ranged = await extract(new RangedSource(bytes, "a.iso"), { name: "a.iso" });
    expect(ranged.archive).toEqual(whole.archive);
    expect(whole.archive?.uncompressedSize).toBe(treeBytes(tree));
  });

  it("lists an image cut short as far as its directories go, and says so", async () => {
    // Prepare: the descriptors and the first directories survive, the rest is gone.
    const bytes = makeIso("cut.iso", ["-R", "-J"]);
    const cut = bytes.subarray(0, 64 * 1024);

    // Act
    const result = await extract(new BufferSource(cut, "cut.iso"), { name: "cut.iso" });

    // Assess
    expect(result.status).toBe("ok");
    expect(result.archive?.label).toBe("CATALOG_TEST");
    expect(result.archive?.estimated).toBe(true);
    expect(result.archive?.entries).toBeLessThan(listed(bytes).length);
    expect(result.warnings).toEqual([
      expect.stringMatching(
        /^partial ISO 9660 listing: directory .* lies past the end of the image \(truncated\)$/,
      ),
    ]);
  });

  it("stops after 256 directories, one read each, and says the listing is partial", async () => {
    // Prepare: 300 folders of one file each.
    const many = join(work, "many");
    for (let d = 0; d < 300; d++) {
      mkdirSync(join(many, `d${d}`), { recursive: true });
      writeFileSync(join(many, `d${d}/f.txt`), "x");
    }
    const path = join(work, "many.iso");
    execFileSync("xorriso", ["-as", "mkisofs", "-quiet", "-R", "-o", path, many], { stdio: "pipe" });

    // Act
    const result = await extract(new RangedSource(readFileSync(path), "many.iso"), { name: "many.iso" });

    // Assess: the root and 255 folders read; their 255 files and the 300 folders listed.
    expect(result.status).toBe("ok");
    expect(result.archive?.estimated).toBe(true);
    expect(result.archive?.entries).toBe(300 + 255);
    expect(result.warnings).toEqual([
      "partial ISO 9660 listing: listing stopped after 256 directories to bound reads",
    ]);
  });

  it("are found under any name, and a binary file without the magic number is not one", async () => {
    const bytes = makeIso("named.iso", ["-R"]);
    const renamed = await extract(new BufferSource(bytes, "disk.img"), { name: "disk.img" });
    expect(renamed.format.mime).toBe("application/x-iso9660-image");

    const other = randomBytes(64 * 1024);
    other.write("CD002", 32769, "latin1");
    const plain = await extract(new BufferSource(other, "blob.bin"), { name: "blob.bin" });
    expect(plain.format.mime).toBe("application/octet-stream");
  });

  it("never loops on a directory that names an ancestor as its child", async () => {
    // Prepare: a 8.3-only image whose first subfolder's record points back at the root's extent.
    const bytes = Buffer.from(makeIso("loop.iso", ["--norock"]));
    const rootExtent = bytes.readUInt32LE(16 * 2048 + 156 + 2);
    const root = rootExtent * 2048;
    // Records of the root: ".", "..", then the first entry; make every folder point at the root.
    for (let at = root; at < root + 2048 && bytes[at] !== 0; at += bytes[at] as number) {
      if (((bytes[at + 25] as number) & 0x02) !== 0) bytes.writeUInt32LE(rootExtent, at + 2);
    }

    // Act
    const result = await extract(new BufferSource(bytes, "loop.iso"), { name: "loop.iso" });

    // Assess: each folder is read once; the listing ends.
    expect(result.status).toBe("ok");
    expect(result.archive?.entries).toBeGreaterThan(0);
  });
});
