/**
 * Seed files for fuzzing the archive readers the shared corpus covers thinly
 * or not at all: 7z (LZMA, LZMA2, stored and BCJ-filtered folders, packed
 * and plain headers, encrypted names, solid and not), RAR 5, tarballs
 * (.tar, .tar.gz, .tar.xz with one and several blocks, .tar.zst, .tgz,
 * .tar.bz2 with one and two streams, .tar.lz4 with independent, linked and
 * legacy blocks, .tar.Z with 16- and 12-bit codes, .tar.lz with one and two
 * members, .tar.lzma), and
 * Debian, RPM, Windows Installer, Python (wheel), Java (JAR) and npm
 * packages, and ISO 9660 images.
 *
 *   npx tsx bench/make-archive-seeds.ts DIR
 *   npx tsx bench/fuzz.bench.ts --seeds-dir DIR --files '\.(7z|rar|tar|gz|tgz|xz|zst|bz2|tbz2|lz4|lz|lzma|Z|deb|rpm|msi|whl|jar|iso)$' --no-write
 *
 * Needs 7zz, xz, zstd, bzip2, lz4, lzip, compress (ncompress), GNU tar and dpkg-deb on PATH, rpmbuild for the RPM
 * seed, wixl for the installer and xorriso for the ISO ones (as .ci/run
 * installs them). The archives
 * hold the same small tree each time: folders, an empty file, text that
 * compresses well, random bytes that do not, and a non-ASCII name.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { rar5 } from "../test/support/rar5.js";
import { buildInstaller } from "../test/support/wix.js";
import { buildZip } from "../test/support/zip.js";
import { mulberry32 } from "./fuzz-inputs.js";

const out = process.argv[2];
if (!out || out.startsWith("-")) {
  console.error("usage: npx tsx bench/make-archive-seeds.ts DIR");
  process.exit(2);
}
const target = resolve(out);
mkdirSync(target, { recursive: true });

const work = mkdtempSync(join(tmpdir(), "archive-seeds-"));
const tree = join(work, "tree");
const random = mulberry32(7);
const noise = (length: number) => Buffer.from(Array.from({ length }, () => Math.floor(random() * 256)));
const prose = (lines: number) =>
  Array.from({ length: lines }, (_, i) => `line ${i}: the catalog lists what is inside\n`).join("");

mkdirSync(join(tree, "docs/nested"), { recursive: true });
mkdirSync(join(tree, "empty-folder"), { recursive: true });
writeFileSync(join(tree, "docs/readme.txt"), prose(400));
writeFileSync(join(tree, "docs/nested/data.bin"), noise(20_000));
writeFileSync(join(tree, "docs/nested/empty.txt"), "");
writeFileSync(join(tree, "café-ünïcode.txt"), prose(30));
writeFileSync(join(tree, "program.exe"), Buffer.concat([Buffer.from("MZ"), noise(3_000)]));

const run = (command: string, args: string[]) => execFileSync(command, args, { cwd: tree, stdio: "pipe" });
const made: string[] = [];
const keep = (name: string, bytes: Buffer) => {
  writeFileSync(join(target, name), bytes);
  made.push(`${name} (${bytes.byteLength} bytes)`);
};

const sevenZip: [string, string[]][] = [
  ["lzma2-solid.7z", ["-m0=lzma2", "-ms=on"]],
  ["lzma-not-solid.7z", ["-m0=lzma", "-ms=off"]],
  ["stored.7z", ["-m0=copy"]],
  ["plain-header.7z", ["-m0=lzma2", "-mhc=off"]],
  ["bcj.7z", ["-mf=BCJ", "-m0=lzma"]],
  ["encrypted-names.7z", ["-m0=lzma2", "-mhe=on", "-pseed"]],
  ["encrypted-data.7z", ["-m0=lzma2", "-pseed"]],
];
for (const [name, switches] of sevenZip) {
  const path = join(work, name);
  run("7zz", ["a", "-bd", "-y", ...switches, path, "."]);
  keep(name, readFileSync(path));
}

keep(
  "stored.rar",
  rar5([
    { name: "docs", directory: true },
    { name: "docs/readme.txt", content: Buffer.from(prose(40)) },
    { name: "docs/empty.txt", content: new Uint8Array(0) },
    { name: "café.txt", content: Buffer.from(prose(5)), encrypted: true },
  ]),
);
keep(
  "encrypted-headers.rar",
  rar5([{ name: "secret.txt", content: Buffer.from("x") }], { encryptedHeaders: true }),
);

const tarPath = join(work, "tree.tar");
run("tar", ["-cf", tarPath, "."]);
const tar = readFileSync(tarPath);
keep("plain.tar", tar);
keep("gzip.tar.gz", execFileSync("gzip", ["-c", "-9", tarPath]));
keep("gzip.tgz", execFileSync("gzip", ["-c", "-1", tarPath]));
keep("one-block.tar.xz", execFileSync("xz", ["-c", "-6", tarPath]));
keep("many-blocks.tar.xz", execFileSync("xz", ["-c", "--block-size=8KiB", tarPath]));
keep("check-none.tar.xz", execFileSync("xz", ["-c", "--check=none", tarPath]));
keep("zstd.tar.zst", execFileSync("zstd", ["-c", "-q", "-19", tarPath]));
keep("zstd-checksum.tar.zst", execFileSync("zstd", ["-c", "-q", "--check", "-3", tarPath]));
keep("bzip2.tar.bz2", execFileSync("bzip2", ["-c", "-9", tarPath]));
keep("lz4.tar.lz4", execFileSync("lz4", ["-c", "-q", "--content-size", tarPath]));
keep("lz4-linked.tar.lz4", execFileSync("lz4", ["-c", "-q", "-BD", "-B4", "-BX", tarPath]));
keep("lz4-legacy.tar.lz4", execFileSync("lz4", ["-c", "-q", "-l", tarPath]));
keep("compress.tar.Z", execFileSync("compress", ["-c", tarPath]));
keep("compress-12-bit.tar.Z", execFileSync("compress", ["-c", "-b", "12", tarPath]));
keep("lzip.tar.lz", execFileSync("lzip", ["-c", "-q", tarPath]));
keep("lzma-alone.tar.lzma", execFileSync("xz", ["--format=lzma", "-c", tarPath]));
keep("lzip-small-dictionary.tar.lz", execFileSync("lzip", ["-c", "-q", "-s", "4KiB", tarPath]));
// Two members, the tar cut between them, as plzip and lzip -b write them.
keep(
  "two-members.tar.lz",
  Buffer.concat([
    execFileSync("lzip", ["-c", "-q"], { input: tar.subarray(0, 4096) }),
    execFileSync("lzip", ["-c", "-q", "-0"], { input: tar.subarray(4096) }),
  ]),
);
// Two streams, the tar cut between them, as pbzip2 and lbzip2 write one.
keep(
  "two-streams.tbz2",
  Buffer.concat([
    execFileSync("bzip2", ["-c", "-1"], { input: tar.subarray(0, 4096) }),
    execFileSync("bzip2", ["-c", "-1"], { input: tar.subarray(4096) }),
  ]),
);

// Debian packages of the same tree, one per compression dpkg-deb writes.
const debRoot = join(work, "deb");
mkdirSync(join(debRoot, "DEBIAN"), { recursive: true });
writeFileSync(
  join(debRoot, "DEBIAN/control"),
  "Package: seed\nVersion: 1:1.0-1\nArchitecture: all\nMaintainer: Seed <seed@example.org>\nInstalled-Size: 60\nDescription: a seed\n for fuzzing\n",
);
execFileSync("cp", ["-r", tree, join(debRoot, "usr")]);
for (const compression of ["gzip", "xz", "zstd", "none"]) {
  const path = join(work, `seed-${compression}.deb`);
  execFileSync("dpkg-deb", ["--root-owner-group", `-Z${compression}`, "--build", debRoot, path], {
    stdio: "pipe",
  });
  keep(`${compression}.deb`, readFileSync(path));
}

// A wheel and a JAR: ZIPs whose metadata entries name the package.
keep(
  "sample.whl",
  Buffer.from(
    buildZip([
      { name: "seed/__init__.py", content: prose(3) },
      {
        name: "seed-1.0.dist-info/METADATA",
        content:
          "Metadata-Version: 2.1\nName: seed\nVersion: 1.0\nSummary: a seed\nProject-URL: Homepage, https://example.org\n\n# seed\n",
      },
      { name: "seed-1.0.dist-info/WHEEL", content: "Wheel-Version: 1.0\nTag: py3-none-any\n" },
    ]),
  ),
);
keep(
  "sample.jar",
  Buffer.from(
    buildZip([
      {
        name: "META-INF/MANIFEST.MF",
        content: "Manifest-Version: 1.0\r\nBundle-SymbolicName: org.seed\r\nBundle-Version: 1.0\r\n",
      },
      {
        name: "META-INF/maven/org.seed/seed/pom.properties",
        content: "groupId=org.seed\nartifactId=seed\nversion=1.0\n",
      },
      { name: "org/seed/Seed.class", content: "\xca\xfe\xba\xbe" },
    ]),
  ),
);

// An npm package as npm pack lays it out.
const npmRoot = join(work, "npm");
mkdirSync(join(npmRoot, "package"), { recursive: true });
writeFileSync(
  join(npmRoot, "package/package.json"),
  JSON.stringify({ name: "seed", version: "1.0.0", description: "a seed", license: "MIT", author: "Seed" }),
);
writeFileSync(join(npmRoot, "package/index.js"), prose(10));
execFileSync("tar", ["-czf", join(work, "seed.tgz"), "package"], { cwd: npmRoot });
keep("npm-seed-1.0.0.tgz", readFileSync(join(work, "seed.tgz")));

// ISO 9660 images, with Rock Ridge and Joliet names and with 8.3 names only, when xorriso is installed.
for (const [name, options] of [
  ["rock-ridge-joliet.iso", ["-R", "-J"]],
  ["plain.iso", ["--norock"]],
] as const) {
  try {
    const path = join(work, name);
    execFileSync("xorriso", ["-as", "mkisofs", "-quiet", "-V", "SEED", ...options, "-o", path, tree], {
      stdio: "pipe",
    });
    keep(name, readFileSync(path));
  } catch (error) {
    console.error(`no ${name} (xorriso: ${(error as Error).message.split("\n")[0]})`);
  }
}

// An RPM package, when rpmbuild is installed.
try {
  const spec = join(work, "seed.spec");
  writeFileSync(
    spec,
    "Name: seed\nVersion: 1.0\nRelease: 1\nSummary: a seed\nLicense: MIT\nBuildArch: noarch\n%description\nfor fuzzing\n" +
      `%install\nmkdir -p %{buildroot}/opt\ncp -r ${tree} %{buildroot}/opt/seed\n%files\n/opt/seed\n`,
  );
  execFileSync(
    "rpmbuild",
    [
      "-bb",
      "--quiet",
      "--define",
      `_topdir ${join(work, "rpm")}`,
      "--define",
      "__os_install_post %{nil}",
      spec,
    ],
    { stdio: "pipe" },
  );
  keep("seed.rpm", readFileSync(join(work, "rpm/RPMS/noarch/seed-1.0-1.noarch.rpm")));
} catch (error) {
  console.error(`no RPM seed (rpmbuild: ${(error as Error).message.split("\n")[0]})`);
}

// A Windows Installer package of the tree's files, 32- and 64-bit, when wixl is installed.
for (const arch of ["x86", "x64"] as const) {
  try {
    const installer = buildInstaller(work, `seed-${arch}.msi`, tree, {
      name: "Seed",
      version: "1.0.0",
      manufacturer: "Seeds",
      arch,
      folder: {
        name: "Seed",
        files: ["café-ünïcode.txt", "program.exe"],
        folders: [
          {
            name: "docs",
            files: ["docs/readme.txt"],
            folders: [{ name: "nested", files: ["docs/nested/data.bin", "docs/nested/empty.txt"] }],
          },
        ],
      },
    });
    keep(`seed-${arch}.msi`, installer);
  } catch (error) {
    console.error(`no ${arch} installer seed (wixl: ${(error as Error).message.split("\n")[0]})`);
  }
}

rmSync(work, { recursive: true, force: true });
console.log(`${made.length} seeds in ${target}:\n  ${made.join("\n  ")}`);
