/**
 * Tarball listings: the engine's count of a tarball's entries, walked as the
 * stream decompresses (src/engine/extractors/archive/forward-decompressor.ts),
 * against `bsdtar -tf` and GNU `tar -tf` listing the same file, in the same run.
 * The tarballs are made in a temporary folder: the AWS SDK's packages from
 * node_modules (many small files) as .tar.gz, .tar.xz, .tar.zst, .tar.lz4, .tar.bz2, .tar.lz and .tar.Z
 * (and as a 7z archive, listed from its LZMA-packed header, for comparison),
 * TypeScript's package as .tar.bz2 and .tar.lz (past their smaller input bound), 6 MiB
 * of random data in 48 files (content that does not compress), a multi-member
 * bomb (a header, then 1 GiB of zeros as 1 MiB members), a zstd and a bzip2 one, which
 * the engine stops decompressing at its bound, a
 * 20 MB tarball past the walk's 8 MiB input bound, whose count is
 * extrapolated, and a plain 20 MB .gz with no tar inside. The engine's reads
 * (requests and bytes, as it would make them of S3) are printed beside it.
 * Times are the median of the runs: the engine's in this process, warm (a
 * first run is not counted), the tools' as processes, start-up included.
 *
 *   npx tsx bench/tarball.bench.ts [--runs 5] [--no-record]
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { FileSource } from "../src/engine/byte-source/byte-source.js";
import { extract } from "../src/engine/engine.js";
import { REPO_ROOT } from "../test/support/corpus.js";
import { tarEntry, tarHeader, tarOf } from "../test/support/tar.js";
import { type Figure, percentile, positiveIntFlag, recordSection } from "./results.js";

const args = process.argv.slice(2);
const runs = positiveIntFlag(args, "--runs", 5);
const folder = mkdtempSync(join(tmpdir(), "tarball-bench-"));

/** The tarballs, each written to the temporary folder. */
function makeTarballs(): { name: string; path: string }[] {
  const sdk = join(folder, "aws-sdk.tar.gz");
  execFileSync("tar", ["czf", sdk, "-C", join(REPO_ROOT, "node_modules"), "@aws-sdk"]);
  const random = join(folder, "random.tar.gz");
  const parts = Array.from({ length: 48 }, (_, i) =>
    tarEntry(`part-${i}.bin`, 128 * 1024, randomBytes(128 * 1024)),
  );
  writeFileSync(random, gzipSync(tarOf(parts)));
  const bomb = join(folder, "bomb.tar.gz");
  const zeros = gzipSync(Buffer.alloc(1024 * 1024));
  writeFileSync(
    bomb,
    Buffer.concat([gzipSync(tarHeader("huge.bin", 1024 ** 3)), ...Array(1024).fill(zeros)]),
  );
  // Past the walk's 8 MiB input bound: 20 MB that does not compress, then the SDK tarball inside.
  const large = join(folder, "large.tar.gz");
  writeFileSync(
    large,
    gzipSync(
      tarOf([
        tarEntry("random.bin", 20_000_000, randomBytes(20_000_000)),
        tarEntry("sdk.tar.gz", statSync(sdk).size),
      ]),
    ),
  );
  // The same packages as .tar.xz and .tar.zst (decoded by xz-decompress and fzstd), and a zstd bomb.
  const sdkXz = join(folder, "aws-sdk.tar.xz");
  execFileSync("tar", ["cJf", sdkXz, "-C", join(REPO_ROOT, "node_modules"), "@aws-sdk"]);
  const sdkZstd = join(folder, "aws-sdk.tar.zst");
  execFileSync("tar", ["--zstd", "-cf", sdkZstd, "-C", join(REPO_ROOT, "node_modules"), "@aws-sdk"]);
  // The same packages as a 7z archive (7-Zip's defaults): listed from its LZMA-packed header, not decompressed.
  // ("./": a name that starts with @ names a list file to 7-Zip.)
  const sdk7z = join(folder, "aws-sdk.7z");
  execFileSync("7zz", ["a", "-bd", "-bso0", "-bsp0", sdk7z, "./@aws-sdk"], {
    cwd: join(REPO_ROOT, "node_modules"),
  });
  // And as .tar.bz2 (decoded by seek-bzip, block by block); TypeScript's package, 3 MB as .tar.bz2, is past
  // bzip2's 2 MiB input bound and counted in part.
  const sdkBzip2 = join(folder, "aws-sdk.tar.bz2");
  execFileSync("tar", ["cjf", sdkBzip2, "-C", join(REPO_ROOT, "node_modules"), "@aws-sdk"]);
  const sdkLz4 = join(folder, "aws-sdk.tar.lz4");
  execFileSync("tar", ["-I", "lz4", "-cf", sdkLz4, "-C", join(REPO_ROOT, "node_modules"), "@aws-sdk"]);
  const sdkCompress = join(folder, "aws-sdk.tar.Z");
  execFileSync("tar", ["-Zcf", sdkCompress, "-C", join(REPO_ROOT, "node_modules"), "@aws-sdk"]);
  // And as .tar.lz (decoded by the engine's LZMA, as the stream arrives); TypeScript's package, 2.1 MB as
  // .tar.lz, is past lzip's 2 MiB input bound.
  const sdkLzip = join(folder, "aws-sdk.tar.lz");
  execFileSync("tar", ["--lzip", "-cf", sdkLzip, "-C", join(REPO_ROOT, "node_modules"), "@aws-sdk"]);
  const typescriptLzip = join(folder, "typescript.tar.lz");
  execFileSync("tar", ["--lzip", "-cf", typescriptLzip, "-C", join(REPO_ROOT, "node_modules"), "typescript"]);
  const typescriptBzip2 = join(folder, "typescript.tar.bz2");
  execFileSync("tar", ["cjf", typescriptBzip2, "-C", join(REPO_ROOT, "node_modules"), "typescript"]);
  const zstdBomb = join(folder, "bomb.tar.zst");
  const bombTar = Buffer.alloc(512 + 1024 ** 3 + 1024);
  tarHeader("huge.bin", 1024 ** 3).copy(bombTar);
  writeFileSync(zstdBomb, execFileSync("zstd", ["-c", "-q", "-1"], { input: bombTar, maxBuffer: 1 << 26 }));
  const bzip2Bomb = join(folder, "bomb.tar.bz2");
  writeFileSync(bzip2Bomb, execFileSync("bzip2", ["-c", "-9"], { input: bombTar, maxBuffer: 1 << 26 }));
  // A plain .gz with no tar inside: only its first block need be inflated.
  const plain = join(folder, "plain.gz");
  writeFileSync(plain, gzipSync(randomBytes(20_000_000), { level: 1 }));
  return [
    { name: "AWS SDK packages", path: sdk },
    { name: "random data", path: random },
    { name: "AWS SDK packages, xz", path: sdkXz },
    { name: "AWS SDK packages, zstd", path: sdkZstd },
    { name: "AWS SDK packages, lz4", path: sdkLz4 },
    { name: "AWS SDK packages, bzip2", path: sdkBzip2 },
    { name: "AWS SDK packages, compress", path: sdkCompress },
    { name: "TypeScript's package, bzip2, past the input bound", path: typescriptBzip2 },
    { name: "AWS SDK packages, lzip", path: sdkLzip },
    { name: "TypeScript's package, lzip, past the input bound", path: typescriptLzip },
    { name: "AWS SDK packages, 7z (its header)", path: sdk7z },
    { name: "bomb, 1 GiB of zeros", path: bomb },
    { name: "bomb, 1 GiB of zeros, zstd", path: zstdBomb },
    { name: "bomb, 1 GiB of zeros, bzip2", path: bzip2Bomb },
    { name: "past the input bound (2 entries)", path: large },
    { name: "plain .gz, no tar inside", path: plain },
  ];
}

/** The engine's listing of `path`: its entry count, whether estimated, and the median time. */
async function ours(path: string): Promise<{ entries: string; ms: number; peakMiB: number; reads: string }> {
  const samples: number[] = [];
  let entries = "";
  let reads = "";
  let peak = 0;
  for (let run = 0; run <= runs; run++) {
    const source = await FileSource.open(path);
    const before = process.memoryUsage().rss;
    const started = performance.now();
    const result = await extract(source, { name: path });
    const elapsed = performance.now() - started;
    peak = Math.max(peak, process.memoryUsage().rss - before);
    await source.close();
    // The first run compiles the code it meets: not counted.
    if (run > 0) samples.push(elapsed);
    entries = `${result.archive?.entries}${result.archive?.estimated ? " (estimated)" : ""}`;
    reads = `${result.readRequests} reads, ${(result.bytesRead / 1e6).toFixed(2)} MB`;
  }
  return { entries, ms: percentile(samples, 50), peakMiB: peak / 1024 ** 2, reads };
}

/** A tool's listing of `path`, as a line: its entry count and the median time, or why there is none. */
function tool(command: string, toolArgs: string[]): string {
  const samples: number[] = [];
  let lines = 0;
  try {
    for (let run = 0; run < runs; run++) {
      const started = performance.now();
      const output = execFileSync(command, toolArgs, {
        maxBuffer: 1 << 28,
        stdio: ["ignore", "pipe", "ignore"],
      });
      samples.push(performance.now() - started);
      lines = output.toString().split("\n").filter(Boolean).length;
    }
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === "ENOENT";
    return `${command} ${missing ? "not installed" : "refuses it (exit status non-zero)"}`;
  }
  return `${command} ${lines} in ${percentile(samples, 50).toFixed(0)} ms`;
}

const figures: Figure[] = [];
try {
  for (const { name, path } of makeTarballs()) {
    const size = statSync(path).size;
    const engine = await ours(path);
    const bsdtar = tool("bsdtar", ["-tf", path]);
    // GNU tar picks the decompressor by the file's content.
    const gnuTar = tool("tar", ["-tf", path]);
    const line = [
      `engine ${engine.entries} entries in ${engine.ms.toFixed(0)} ms (${engine.reads}; RSS +${engine.peakMiB.toFixed(0)} MiB)`,
      bsdtar,
      gnuTar,
    ].join("; ");
    figures.push([`${name} (${(size / 1024 ** 2).toFixed(1)} MiB)`, line]);
    console.log(`${name}: ${line}`);
  }
} finally {
  rmSync(folder, { recursive: true, force: true });
}

if (!args.includes("--no-record")) {
  recordSection(
    "Tarball listings",
    `npx tsx bench/tarball.bench.ts --runs ${runs}`,
    figures,
    "The engine decompresses at most 8 MiB of compressed input (bzip2 and lzip: 2 MiB) and 256 MiB of output per tarball, then extrapolates; " +
      "the tools list every entry, the bombs' 1 GiB of zeros decompressed whole. RSS is the process's growth over a run, " +
      "the largest of the runs.",
  );
}
