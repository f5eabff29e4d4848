import { rmSync } from "node:fs";
import { BlockReader } from "../../src/engine/byte-source/block-reader.js";
import { BufferSource, type ByteSource, FileSource } from "../../src/engine/byte-source/byte-source.js";
import { extract } from "../../src/engine/engine.js";
import { parseTaggedAudio } from "../../src/engine/extractors/media/tagged-audio.js";
import type { ExtractionResult, FormatInfo } from "../../src/engine/types.js";
import { corpusFile, cutCopy } from "./corpus.js";

/**
 * The engine's own answer for a local file's format: `extract({ detectOnly })`,
 * which `catalog extract --detect-only` printed before `detectFile` existed.
 *
 * @example
 * expect(await detectFile(path)).toEqual(await engineDetection(path));
 */
export async function engineDetection(path: string): Promise<FormatInfo> {
  const source = await FileSource.open(path);
  try {
    return (await extract(source, { name: path, detectOnly: true })).format;
  } finally {
    await source.close();
  }
}

/**
 * A corpus audio file opened under a block reader, with what music-metadata
 * alone makes of it (no fallback readers): the reference a fallback is
 * checked against. The caller closes `source`.
 *
 * @example
 * const { source, reader, parsed } = await musicMetadataOf("a.mp3", "audio/mpeg", "MPEG");
 * try { expect(parsed.media?.duration).toBeDefined(); } finally { await source.close(); }
 */
export async function musicMetadataOf(name: string, parserMime: string, container: string) {
  const source = await FileSource.open(corpusFile(name));
  try {
    const reader = new BlockReader(source);
    const parsed = await parseTaggedAudio(
      reader,
      parserMime,
      container,
      new AbortController().signal,
      () => {},
      () => {},
    );
    return { source, reader, parsed };
  } catch (error) {
    await source.close();
    throw error;
  }
}

/**
 * The engine's answer for a corpus file, whole.
 *
 * @example
 * const result = await extractCorpusFile("musicmetadata-testcase.flac");
 */
export async function extractCorpusFile(name: string): Promise<ExtractionResult> {
  const source = await FileSource.open(corpusFile(name));
  return await extract(source, { name }).finally(() => source.close());
}

/**
 * The engine's answer for `bytes` in memory, uploaded under `name` (the name,
 * and any declared type in `options`, are what detection compares with).
 *
 * @example
 * const result = await extractNamed(bytes, "setup.msi", { declaredMime: "application/x-msi" });
 */
export function extractNamed(
  bytes: Uint8Array,
  name: string,
  options: Parameters<typeof extract>[1] = {},
): Promise<ExtractionResult> {
  return extract(new BufferSource(bytes, name), { name, ...options });
}

/**
 * The engine's answer for the first `length` bytes of a corpus file, as a
 * file cut short in a download or upload would give it (the cut copy is
 * written to a temporary folder, never into the corpus, and removed).
 *
 * @example
 * const result = await extractCut("musicmetadata-testcase.flac", 20_000);
 */
export async function extractCut(name: string, length: number): Promise<ExtractionResult> {
  const { path, dir } = cutCopy(name, length);
  try {
    const source = await FileSource.open(path);
    return await extract(source, { name }).finally(() => source.close());
  } finally {
    rmSync(dir, { recursive: true });
  }
}

/**
 * Bytes in memory read as a remote source is (an object in S3, by ranges):
 * not `inMemory`, so walks bound their reads as they would against S3.
 *
 * @example
 * await extract(new RangedSource(tar, "spread.tar"), { budget: { maxRequests: 4 } });
 */
export class RangedSource implements ByteSource {
  readonly size: number;
  private readonly inner: BufferSource;

  constructor(
    bytes: Uint8Array,
    readonly name = "ranged",
  ) {
    this.inner = new BufferSource(bytes, name);
    this.size = bytes.byteLength;
  }

  read(offset: number, length: number): Promise<Uint8Array> {
    return this.inner.read(offset, length);
  }
}
