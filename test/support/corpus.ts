import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** The shared corpus of real files, beside the repository (as in CI). */
export const CORPUS_DIR = resolve(REPO_ROOT, "../shared/corpus/files");

/** One line of `expected.jsonl`: `file`'s MIME type and exiftool's tags (with `-n`). */
export interface ExpectedEntry {
  name: string;
  size: number;
  sha256: string;
  mime: string;
  FileType?: string;
  MIMEType?: string;
  ImageWidth?: number;
  ImageHeight?: number;
  Duration?: number;
  PageCount?: number;
  Make?: string;
  Model?: string;
  DateTimeOriginal?: string;
  GPSLatitude?: number;
  GPSLongitude?: number;
  Orientation?: number;
  Title?: string | number;
  Author?: string;
  Creator?: string;
  Producer?: string;
  SampleRate?: number;
  AudioSampleRate?: number;
  NumChannels?: number;
  AudioChannels?: number;
  Channels?: number;
  AudioBitrate?: number;
  VideoFrameRate?: number;
  Encoding?: string;
  MIMEEncoding?: string;
  [tag: string]: unknown;
}

let cache: ExpectedEntry[] | undefined;

/** Every corpus file with its oracle values. */
export function expectedEntries(): ExpectedEntry[] {
  cache ??= readFileSync(resolve(CORPUS_DIR, "../expected.jsonl"), "utf8")
    .split("\n")
    .filter((line) => line.trim().length > 0)
    .map((line) => JSON.parse(line) as ExpectedEntry);
  return cache;
}

/** Absolute path of a corpus file. */
export function corpusFile(name: string): string {
  return join(CORPUS_DIR, name);
}

/**
 * A copy of a corpus file's first `length` bytes in a new temporary folder, as
 * an interrupted download or upload leaves it (the corpus itself is never
 * written). The caller removes `dir`.
 *
 * @example
 * const { path, dir } = cutCopy("filetype-fixture.wav", 50_000);
 * try { ... } finally { rmSync(dir, { recursive: true }); }
 */
export function cutCopy(name: string, length: number): { path: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), "cut-"));
  const path = join(dir, name);
  writeFileSync(path, readFileSync(corpusFile(name)).subarray(0, length));
  return { path, dir };
}
