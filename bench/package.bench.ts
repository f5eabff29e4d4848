/**
 * Package descriptions: the engine's package section and file count for a
 * Debian, an RPM and a Windows Installer package, against the tools that
 * read them on the same file in the same run (`dpkg-deb -f` and `dpkg-deb
 * -c`; `rpm -qp --qf` and `rpm -qlp`; msitools' `msiinfo export` of the
 * Property and the File table: two processes each, as a script would run
 * them). The packages are built in a temporary folder from the AWS SDK's
 * packages in node_modules (3,000 and more small files): .deb with xz
 * (dpkg-deb's default), gzip and zstd, an .rpm with rpmbuild, and an .msi
 * with wixl. The engine's reads
 * (requests and bytes, as it would make them of S3) are printed beside it.
 * Times are medians: the engine's in this process, warm (a first run is
 * not counted), the tools' as processes, start-up included.
 *
 *   npx tsx bench/package.bench.ts [--runs 5] [--no-record]
 *
 * Needs dpkg-deb (every Debian has it), rpmbuild (Debian's rpm package),
 * wixl and msiinfo (Debian's wixl and msitools).
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileSource } from "../src/engine/byte-source/byte-source.js";
import { extract } from "../src/engine/engine.js";
import { REPO_ROOT } from "../test/support/corpus.js";
import { buildInstaller, type InstallerFolder } from "../test/support/wix.js";
import { type Figure, percentile, positiveIntFlag, recordSection } from "./results.js";

const args = process.argv.slice(2);
const runs = positiveIntFlag(args, "--runs", 5);
const folder = mkdtempSync(join(tmpdir(), "package-bench-"));
const sdk = join(REPO_ROOT, "node_modules/@aws-sdk");

interface Package {
  name: string;
  path: string;
  /** The tool's commands: one printing the fields, one the file list. */
  fields: [string, string[]];
  list: [string, string[]];
  /** Lines the list prints before its files (msiinfo's table header). */
  headerLines?: number;
}

/** The tree at `path` as an installer's folder: its files (relative to `root`) and its folders. */
function installerFolder(root: string, path: string, name: string): InstallerFolder {
  const entries = readdirSync(path, { withFileTypes: true });
  return {
    name,
    files: entries
      .filter((entry) => entry.isFile())
      .map((entry) => join(path, entry.name).slice(root.length + 1)),
    folders: entries
      .filter((entry) => entry.isDirectory())
      .map((entry) => installerFolder(root, join(path, entry.name), entry.name)),
  };
}

function makePackages(): Package[] {
  const root = join(folder, "deb");
  mkdirSync(join(root, "DEBIAN"), { recursive: true });
  mkdirSync(join(root, "usr/lib/node_modules"), { recursive: true });
  writeFileSync(
    join(root, "DEBIAN/control"),
    "Package: aws-sdk-bench\nVersion: 3.0.0-1\nArchitecture: all\nMaintainer: Bench <bench@example.org>\nDescription: the AWS SDK's packages\n",
  );
  execFileSync("cp", ["-r", sdk, join(root, "usr/lib/node_modules/@aws-sdk")]);
  const packages: Package[] = [];
  for (const compression of ["xz", "gzip", "zstd"]) {
    const path = join(folder, `aws-sdk-${compression}.deb`);
    execFileSync("dpkg-deb", ["--root-owner-group", `-Z${compression}`, "--build", root, path], {
      stdio: "pipe",
    });
    packages.push({
      name: `.deb, data.tar.${compression === "gzip" ? "gz" : compression === "zstd" ? "zst" : "xz"}`,
      path,
      fields: ["dpkg-deb", ["-f", path]],
      list: ["dpkg-deb", ["-c", path]],
    });
  }
  const top = join(folder, "rpm");
  const spec = join(folder, "bench.spec");
  writeFileSync(
    spec,
    "Name: aws-sdk-bench\nVersion: 3.0.0\nRelease: 1\nSummary: the AWS SDK's packages\nLicense: Apache-2.0\nBuildArch: noarch\n" +
      `%description\nbench\n%install\nmkdir -p %{buildroot}/usr/lib/node_modules\ncp -r ${sdk} %{buildroot}/usr/lib/node_modules/\n` +
      "%files\n/usr/lib/node_modules/@aws-sdk\n",
  );
  execFileSync(
    "rpmbuild",
    ["-bb", "--quiet", "--define", `_topdir ${top}`, "--define", "__os_install_post %{nil}", spec],
    { stdio: "pipe" },
  );
  const rpm = join(top, "RPMS/noarch/aws-sdk-bench-3.0.0-1.noarch.rpm");
  const msiRoot = join(folder, "msi");
  mkdirSync(msiRoot);
  execFileSync("cp", ["-r", sdk, join(msiRoot, "@aws-sdk")]);
  buildInstaller(folder, "aws-sdk-bench.msi", msiRoot, {
    name: "aws-sdk-bench",
    version: "3.0.0",
    manufacturer: "Bench",
    description: "the AWS SDK's packages",
    arch: "x64",
    folder: installerFolder(msiRoot, join(msiRoot, "@aws-sdk"), "@aws-sdk"),
  });
  const msi = join(folder, "aws-sdk-bench.msi");
  const quiet = ["--nosignature", "--nodigest"];
  packages.push({
    name: ".rpm (its header)",
    path: rpm,
    fields: ["rpm", ["-qp", ...quiet, "--qf", "%{NAME} %{VERSION}-%{RELEASE} %{ARCH}\\n", rpm]],
    list: ["rpm", ["-qlp", ...quiet, rpm]],
  });
  packages.push({
    name: ".msi (its database)",
    path: msi,
    fields: ["msiinfo", ["export", msi, "Property"]],
    list: ["msiinfo", ["export", msi, "File"]],
    headerLines: 3,
  });
  return packages;
}

/** The engine's description of `path`: name, version and file count, and the median time. */
async function ours(path: string): Promise<{ line: string; ms: number }> {
  const samples: number[] = [];
  let line = "";
  for (let run = 0; run <= runs; run++) {
    const source = await FileSource.open(path);
    const started = performance.now();
    const result = await extract(source, { name: path });
    const elapsed = performance.now() - started;
    await source.close();
    // The first run compiles the code it meets: not counted.
    if (run > 0) samples.push(elapsed);
    const { name, version } = result.package ?? {};
    const estimated = result.archive?.estimated ? " (estimated)" : "";
    line = `${name} ${version}, ${result.archive?.entries}${estimated} files (${result.readRequests} reads, ${(result.bytesRead / 1e6).toFixed(2)} MB)`;
  }
  return { line, ms: percentile(samples, 50) };
}

/** The tool's two commands, run in turn, and the median time of the pair; the file list's line count. */
function theirs(pkg: Package): string {
  const samples: number[] = [];
  let files = 0;
  for (let run = 0; run < runs; run++) {
    const started = performance.now();
    execFileSync(pkg.fields[0], pkg.fields[1], { stdio: ["ignore", "pipe", "ignore"] });
    const listed = execFileSync(pkg.list[0], pkg.list[1], {
      maxBuffer: 1 << 28,
      stdio: ["ignore", "pipe", "ignore"],
    });
    samples.push(performance.now() - started);
    files = listed.toString().split("\n").filter(Boolean).length - (pkg.headerLines ?? 0);
  }
  return `${pkg.fields[0]} ${files} files in ${percentile(samples, 50).toFixed(0)} ms`;
}

const figures: Figure[] = [];
try {
  for (const pkg of makePackages()) {
    const size = statSync(pkg.path).size;
    const engine = await ours(pkg.path);
    const line = `engine ${engine.line} in ${engine.ms.toFixed(0)} ms; ${theirs(pkg)}`;
    figures.push([`${pkg.name} (${(size / 1024 ** 2).toFixed(1)} MiB)`, line]);
    console.log(`${pkg.name}: ${line}`);
  }
} finally {
  rmSync(folder, { recursive: true, force: true });
}

if (!args.includes("--no-record")) {
  recordSection(
    "Package descriptions",
    `npx tsx bench/package.bench.ts --runs ${runs}`,
    figures,
    "A .deb's files are its data tarball's entries, walked as it decompresses (within the tarball bounds: 8 MiB of " +
      "compressed input), which `dpkg-deb -c` lists too, folders included; an .rpm's come from its header, whose " +
      "file list `rpm -qlp` prints (files and the folders the package owns), the payload never read; an .msi's from its " +
      "File table, which `msiinfo export` prints, its cabinet never read.",
  );
}
