/**
 * Extraction engine benchmark: `catalog extract` against exiftool, `file` and
 * sha256sum on the same files, in the same run, one process each.
 *
 *   npx tsx bench/extract.bench.ts [--runs 3] [--no-write]
 *
 * Inputs: the shared corpus plus a few generated files of 10 MiB and more
 * (a long WAV, a big ZIP, a many-page PDF, a large JPEG with EXIF, a big CSV,
 * a big tar) in bench/out/, to show that big files cost kilobytes.
 */
import { execFileSync, spawnSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { CORPUS_DIR, REPO_ROOT } from "../test/support/corpus.js";
import { type Figure, percentile, recordSection } from "./results.js";

const args = process.argv.slice(2);
const runs = Number(args[args.indexOf("--runs") + 1] ?? 3) || 3;
const write = !args.includes("--no-write");
const MiB = 1024 * 1024;

const workDir = join(REPO_ROOT, "bench/out/extract");
const largeDir = join(workDir, "large");
const allDir = join(workDir, "all");

function makeLargeFiles(): void {
  mkdirSync(largeDir, { recursive: true });
  // A 24 MiB PCM WAV (16-bit stereo 44.1 kHz, ~142 s of silence).
  const wavPath = join(largeDir, "long.wav");
  if (!existsSync(wavPath)) {
    const dataBytes = 24 * MiB;
    const header = Buffer.alloc(44);
    header.write("RIFF", 0);
    header.writeUInt32LE(36 + dataBytes, 4);
    header.write("WAVEfmt ", 8);
    header.writeUInt32LE(16, 16);
    header.writeUInt16LE(1, 20);
    header.writeUInt16LE(2, 22);
    header.writeUInt32LE(44_100, 24);
    header.writeUInt32LE(44_100 * 4, 28);
    header.writeUInt16LE(4, 32);
    header.writeUInt16LE(16, 34);
    header.write("data", 36);
    header.writeUInt32LE(dataBytes, 40);
    writeFileSync(wavPath, Buffer.concat([header, Buffer.alloc(dataBytes)]));
  }
  // A 12 MiB JPEG with EXIF: a real camera file followed by trailing data.
  const jpegPath = join(largeDir, "large-exif.jpg");
  if (!existsSync(jpegPath)) {
    const camera = readFileSync(join(CORPUS_DIR, "exifpy-Canon_40D.jpg"));
    writeFileSync(jpegPath, Buffer.concat([camera, Buffer.alloc(12 * MiB, 0x55)]));
  }
  // A PDF with 4,000 pages of text (~12 MiB), classic xref table.
  const pdfPath = join(largeDir, "many-pages.pdf");
  if (!existsSync(pdfPath)) writeFileSync(pdfPath, manyPagePdf(4000));
  // A 20 MiB CSV.
  const csvPath = join(largeDir, "big.csv");
  if (!existsSync(csvPath)) {
    const rows: string[] = ["id,name,city,amount,created"];
    let size = 0;
    for (let i = 0; size < 20 * MiB; i++) {
      const row = `${i},customer ${i % 977},city ${i % 131},${(i * 7.31).toFixed(2)},2026-11-${String((i % 28) + 1).padStart(2, "0")}`;
      rows.push(row);
      size += row.length + 1;
    }
    writeFileSync(csvPath, `${rows.join("\n")}\n`);
  }
  // A 12 MiB ZIP of 3,000 stored entries and a 12 MiB tar of 500 entries (Python's stdlib writes them).
  const zipPath = join(largeDir, "big.zip");
  const tarPath = join(largeDir, "big.tar");
  if (!existsSync(zipPath) || !existsSync(tarPath)) {
    execFileSync("python3", [
      "-c",
      `import zipfile, tarfile, io, random
random.seed(7)
with zipfile.ZipFile(${JSON.stringify(zipPath)}, "w", zipfile.ZIP_STORED) as z:
    for i in range(3000):
        z.writestr(f"dir{i % 30}/file{i}.bin", random.randbytes(4200))
with tarfile.open(${JSON.stringify(tarPath)}, "w") as t:
    for i in range(500):
        data = random.randbytes(24000)
        info = tarfile.TarInfo(f"dir{i % 10}/entry{i}.bin"); info.size = len(data)
        t.addfile(info, io.BytesIO(data))`,
    ]);
  }
}

function manyPagePdf(pages: number): Buffer {
  const chunks: string[] = [];
  const offsets: number[] = [];
  let length = 0;
  const push = (text: string) => {
    chunks.push(text);
    length += Buffer.byteLength(text, "latin1");
  };
  const object = (id: number, body: string) => {
    offsets[id] = length;
    push(`${id} 0 obj\n${body}\nendobj\n`);
  };
  push("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n");
  const firstPage = 4;
  const kids = Array.from({ length: pages }, (_, i) => `${firstPage + i * 2} 0 R`).join(" ");
  object(1, "<< /Type /Catalog /Pages 2 0 R >>");
  object(2, `<< /Type /Pages /Count ${pages} /Kids [${kids}] >>`);
  object(3, "<< /Title (A benchmark of many pages) /Author (s3-metadata-catalog) /Producer (bench) >>");
  const line = "BT /F1 10 Tf 72 720 Td (The quick brown fox jumps over the lazy dog.) Tj ET\n";
  const content = line.repeat(36);
  for (let i = 0; i < pages; i++) {
    const pageId = firstPage + i * 2;
    object(pageId, `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents ${pageId + 1} 0 R >>`);
    object(pageId + 1, `<< /Length ${content.length} >>\nstream\n${content}endstream`);
  }
  const count = firstPage + pages * 2;
  const xrefAt = length;
  push(`xref\n0 ${count}\n0000000000 65535 f \n`);
  for (let id = 1; id < count; id++) push(`${String(offsets[id]).padStart(10, "0")} 00000 n \n`);
  push(`trailer\n<< /Size ${count} /Root 1 0 R /Info 3 0 R >>\nstartxref\n${xrefAt}\n%%EOF\n`);
  return Buffer.from(chunks.join(""), "latin1");
}

/** One folder with every input, so each tool runs once over the same files. */
function gatherInputs(): string[] {
  mkdirSync(allDir, { recursive: true });
  for (const dir of [CORPUS_DIR, largeDir]) {
    for (const name of readdirSync(dir)) {
      const target = join(allDir, name);
      if (!existsSync(target)) copyFileSync(join(dir, name), target);
    }
  }
  return readdirSync(allDir).sort();
}

/** Median wall time of `runs` runs of a command, in milliseconds, and its last stdout. */
function time(command: string, argv: string[]): { ms: number; stdout: string } {
  const samples: number[] = [];
  let stdout = "";
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    const result = spawnSync(command, argv, { cwd: allDir, maxBuffer: 512 * MiB, encoding: "utf8" });
    samples.push(performance.now() - started);
    if (result.error) throw result.error;
    stdout = result.stdout;
  }
  return { ms: percentile(samples, 50), stdout };
}

makeLargeFiles();
const names = gatherInputs();
const catalog = join(REPO_ROOT, "bin/catalog");
const hasExiftool = spawnSync("exiftool", ["-ver"]).status === 0;

const extracted = time("node", [catalog, "extract", "--json", "--concurrency", "4", ...names]);
const exiftool = hasExiftool ? time("exiftool", ["-j", "-n", "-fast", "-q", ...names]) : undefined;
/**
 * Median wall times of commands run round-robin, so a burst of load on the
 * machine falls on all of them alike rather than on whichever ran then.
 */
function timeInterleaved(
  rounds: number,
  commands: Record<string, [string, string[]]>,
): Record<string, number> {
  const samples: Record<string, number[]> = {};
  for (let round = 0; round < rounds; round++) {
    for (const [label, [command, argv]] of Object.entries(commands)) {
      const started = performance.now();
      const result = spawnSync(command, argv, { cwd: allDir, maxBuffer: 512 * MiB, encoding: "utf8" });
      const ms = performance.now() - started;
      samples[label] = [...(samples[label] ?? []), ms];
      if (result.error) throw result.error;
      if (result.status !== 0) throw new Error(`${command} exited ${result.status}: ${result.stderr}`);
    }
  }
  return Object.fromEntries(Object.entries(samples).map(([label, ms]) => [label, percentile(ms, 50)]));
}

// Each of these takes well under a second: more rounds than --runs buy a steadier median.
const detectRounds = Math.max(runs, 9);
const detect = timeInterleaved(detectRounds, {
  detectOnly: ["node", [catalog, "extract", "--json", "--detect-only", ...names]],
  file: ["file", ["--mime-type", "-b", ...names]],
  oneFile: ["node", [catalog, "extract", "--json", "--detect-only", "filetype-fixture.png"]],
  nodeAlone: ["node", ["-e", ""]],
});
const detectOnly = { ms: detect.detectOnly as number };
const file = { ms: detect.file as number };
const hashed = time("node", [catalog, "extract", "--json", "--hash", "--detect-only", ...names]);
const sha = time("sha256sum", names);

interface Line {
  source: string;
  size: number;
  status: string;
  bytesRead: number;
  readRequests: number;
}
const results = extracted.stdout
  .trim()
  .split("\n")
  .map((line) => JSON.parse(line) as Line);
const bytes = results.map((r) => r.bytesRead);
const large = results.filter((r) => r.size >= 10 * MiB);
const totalBytes = names.reduce((sum, name) => sum + statSync(join(allDir, name)).size, 0);

const figures: Figure[] = [
  ["files", `${names.length} (${(totalBytes / MiB).toFixed(1)} MiB; ${large.length} of them >= 10 MiB)`],
  ["catalog extract (median of runs)", `${extracted.ms.toFixed(0)} ms`],
  ["exiftool -j -n -fast", exiftool ? `${exiftool.ms.toFixed(0)} ms` : "not installed"],
  ["extract / exiftool", exiftool ? `${(extracted.ms / exiftool.ms).toFixed(2)} (target <= 0.33)` : "n/a"],
  [
    "catalog extract --detect-only",
    `${detectOnly.ms.toFixed(0)} ms (median of ${detectRounds}, round-robin)`,
  ],
  ["file --mime-type", `${file.ms.toFixed(0)} ms`],
  ["detect-only / file", `${(detectOnly.ms / file.ms).toFixed(2)} (target <= 3)`],
  [
    "detect-only start-up: node -e '' / one file",
    `${(detect.nodeAlone as number).toFixed(0)} ms / ${(detect.oneFile as number).toFixed(0)} ms`,
  ],
  [
    "detect-only per file after start-up",
    `${((detectOnly.ms - (detect.oneFile as number)) / (names.length - 1)).toFixed(2)} ms`,
  ],
  ["catalog extract --hash --detect-only", `${hashed.ms.toFixed(0)} ms`],
  ["sha256sum", `${sha.ms.toFixed(0)} ms`],
  ["bytes read per file: median", `${(percentile(bytes, 50) / 1024).toFixed(1)} KiB (target <= 64 KiB)`],
  ["bytes read per file: p95", `${(percentile(bytes, 95) / 1024).toFixed(1)} KiB`],
  ["bytes read per file: max", `${(Math.max(...bytes) / 1024).toFixed(1)} KiB`],
  [
    "bytes read, files >= 10 MiB",
    large
      .map(
        (r) =>
          `${r.source.split("/").pop()} ${(r.bytesRead / 1024).toFixed(1)} KiB in ${r.readRequests} reads`,
      )
      .join("; "),
  ],
  [
    "max bytes read for a file >= 10 MiB",
    `${(Math.max(...large.map((r) => r.bytesRead)) / 1024).toFixed(1)} KiB (target <= 1024 KiB)`,
  ],
  ["statuses", countBy(results.map((r) => r.status))],
];

function countBy(values: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return [...counts].map(([value, count]) => `${value} ${count}`).join(", ");
}

const DETECT_ONLY_NOTES = [
  "`--detect-only` runs `detectFile` (src/engine/detect/detect-file.ts): one synchronous read of each file's first 256 KiB, then file-type, the text sniffer and the mismatch check over it in memory, from one module pre-linked by `npm run build` (dist/engine/detect/detect-file.bundle.mjs); `catalog` imports only the command it runs. Its answers are the engine's `extract({ detectOnly })` answers, file for file (test/engine/detect-file.test.ts, test/cli/extract.test.ts).",
  "",
  "What the per-file time went to, and what was done about it (cpu profiles of the detect-only run, 2026-11-26): file-type inflated the first entries of ZIP-based files through web streams (DecompressionStream), which cost more than the rest of detecting such a file; entries are now inflated with one zlib call under file-type's own limit (src/engine/detect/zip-inflate.ts). A fresh 256 KiB head per file made garbage collection a tenth of the run; heads are reused. Text sniffing validated UTF-8 with a byte loop; it uses Node's isUtf8/isAscii. Results are written once per event-loop turn rather than once per line. Together: 3.19x to 2.4-2.5x `file` on the same machine.",
  "",
  "What is left is mostly fixed cost. Node's own start (`node -e ''`) is close to what `file` needs for all the files; commander, the detection module and a cold first detection add the rest of the one-file figure; then each file costs file-type's own checks in a process whose JIT has not warmed up. The ratio moves with machine load, since Node's start suffers from it more than `file` does.",
  "",
  "Naming a legacy character set (chardet's statistics, about 1 µs per byte of the 8 KiB window warm, several times that cold) is left to the text extractor: detection read it too, for a type that does not depend on it, and on 2026-11-27 that took detect-only from 2.4-2.5x to 3.1x `file` (322-331 ms against 104-107 ms for `file`); since, detect-only meets no chardet and extraction runs it once per legacy text rather than twice.",
].join("\n");

for (const [label, value] of figures) console.log(`${label.padEnd(40)} ${value}`);
if (write) {
  recordSection(
    "Extraction engine",
    `npx tsx bench/extract.bench.ts --runs ${runs}`,
    figures,
    DETECT_ONLY_NOTES,
  );
}
