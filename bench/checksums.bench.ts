/**
 * Throughput of the checksums the embedded S3 server computes over every
 * byte it stores (src/local/checksums.ts): CRC32 by zlib (Node.js 20.15 and
 * later) and by table (older releases), CRC32C and CRC64NVME by table,
 * SHA-256 by OpenSSL; compared on the same bytes, in the same run, with
 * `sha256sum` and `cksum` (GNU coreutils' CRC) reading a file of them.
 * Figures are MB/s (10^6 bytes), the median of the runs, fed in 64 KiB
 * pieces as a request body arrives.
 *
 *   npx tsx bench/checksums.bench.ts [--mib 64] [--runs 5] [--no-record]
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type Checksum,
  type ChecksumAlgorithm,
  crc32ByTable,
  createChecksum,
} from "../src/local/checksums.js";
import { type Figure, percentile, positiveIntFlag, recordSection } from "./results.js";

const args = process.argv.slice(2);
const mib = positiveIntFlag(args, "--mib", 64);
const runs = positiveIntFlag(args, "--runs", 5);
const bytes = randomBytes(mib * 1024 * 1024);
const PIECE = 64 * 1024;

/** MB/s of one pass of `make()`'s checksum over `bytes`, the median of `runs`. */
function rate(make: () => Checksum): number {
  const samples: number[] = [];
  for (let run = 0; run < runs; run++) {
    const started = performance.now();
    const checksum = make();
    for (let offset = 0; offset < bytes.length; offset += PIECE)
      checksum.update(bytes.subarray(offset, offset + PIECE));
    checksum.digest();
    samples.push(bytes.length / 1e6 / ((performance.now() - started) / 1000));
  }
  return percentile(samples, 50);
}

/** MB/s of a command reading a file of `bytes`, the median of `runs` (its start-up included). */
function commandRate(command: string, file: string): number | undefined {
  const samples: number[] = [];
  try {
    for (let run = 0; run < runs; run++) {
      const started = performance.now();
      execFileSync(command, [file], { stdio: ["ignore", "ignore", "ignore"] });
      samples.push(bytes.length / 1e6 / ((performance.now() - started) / 1000));
    }
  } catch {
    return undefined;
  }
  return percentile(samples, 50);
}

const ours: [string, () => Checksum][] = [
  ["CRC32 (what createChecksum uses here)", () => createChecksum("crc32")],
  ["CRC32 by table (Node.js before 20.15)", crc32ByTable],
  ...(["crc32c", "crc64nvme", "sha256"] as ChecksumAlgorithm[]).map((algorithm): [string, () => Checksum] => [
    algorithm.toUpperCase(),
    () => createChecksum(algorithm),
  ]),
];
const figures: Figure[] = [[`input`, `${mib} MiB of random bytes, in 64 KiB pieces, ${runs} runs`]];
for (const [label, make] of ours) figures.push([label, `${rate(make).toFixed(0)} MB/s`]);

const folder = mkdtempSync(join(tmpdir(), "checksums-bench-"));
try {
  const file = join(folder, "input.bin");
  writeFileSync(file, bytes);
  for (const command of ["sha256sum", "cksum"]) {
    const measured = commandRate(command, file);
    figures.push([
      `${command} (peer, from a file)`,
      measured === undefined ? "not installed" : `${measured.toFixed(0)} MB/s`,
    ]);
  }
} finally {
  rmSync(folder, { recursive: true, force: true });
}

for (const [label, value] of figures) console.log(`${label.padEnd(42)} ${value}`);
if (!args.includes("--no-record")) {
  recordSection(
    "Checksums",
    `npx tsx bench/checksums.bench.ts${args.length ? ` ${args.join(" ")}` : ""}`,
    figures,
    "The embedded S3 server checks a declared checksum, or computes S3's default CRC64NVME, over every byte of every upload; current SDKs declare CRC32. The peers read the bytes from a (cached) file and include their process start-up.",
  );
}
