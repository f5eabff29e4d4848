import { createHash } from "node:crypto";
import { EndOfStreamError } from "strtok3";
import { BlockReader } from "./byte-source/block-reader.js";
import type { ByteSource } from "./byte-source/byte-source.js";
import { refineCfbFormat } from "./detect/cfb-format.js";
import { type DetectHints, detectFormat } from "./detect/detect.js";
import { refineZipFormat } from "./detect/zip-container.js";
import { describeError, LimitExceededError, type LimitKind, SourceError } from "./errors.js";
import type { ExtractContext } from "./extractors/extractor.js";
import { extractorFor, loadExtractor } from "./extractors/registry.js";
import { type Budget, DEFAULT_BUDGET, HEAD_WINDOW_BYTES } from "./limits.js";
import type { ExtractionResult, ExtractionStatus, FormatInfo, Sections } from "./types.js";
import { EXTRACTOR_VERSION } from "./version.js";

/** Options for one extraction. */
export interface ExtractOptions extends DetectHints {
  /** Also compute the SHA-256 of the whole content (reads every byte). @default false */
  hash?: boolean;
  /** Stop after detection: no extractor runs. @default false */
  detectOnly?: boolean;
  /** Overrides of {@link DEFAULT_BUDGET}. */
  budget?: Partial<Budget>;
  /** Read granularity; S3 sources want larger blocks than local files. @default 16 KiB */
  blockSize?: number;
  /** Name shown in `source`; defaults to the byte source's name. */
  sourceName?: string;
}

const HASH_CHUNK_BYTES = 1024 * 1024;

/**
 * Extracts one file's metadata, reading only what its format needs.
 *
 * Content problems never throw: a corrupt file yields `status: "error"` with a
 * `reason`, a limit yields `"partial"` with what was decoded and `limit` naming
 * the bound (`"error"` if nothing was decoded yet). Only
 * {@link SourceError} (the medium failed) propagates, so callers can retry.
 *
 * @example
 * const source = await FileSource.open("IMG_0001.jpg");
 * try {
 *   const result = await extract(source, { name: "IMG_0001.jpg" });
 *   console.log(result.format.mime, result.image?.exif?.gps);
 * } finally {
 *   await source.close();
 * }
 */
export async function extract(source: ByteSource, options: ExtractOptions = {}): Promise<ExtractionResult> {
  const started = performance.now();
  const budget: Budget = { ...DEFAULT_BUDGET, ...options.budget };
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), budget.maxMillis);
  const reader = new BlockReader(source, {
    ...(options.blockSize !== undefined && { blockSize: options.blockSize }),
    budget,
    signal: deadline.signal,
    deadline: started + budget.maxMillis,
  });
  const warnings: string[] = [];
  let format: FormatInfo = {
    mime: "application/octet-stream",
    ext: "bin",
    category: "other",
    mismatch: false,
  };
  let sections: Sections = {};
  let status: ExtractionStatus = "ok";
  let reason: string | undefined;
  let limit: LimitKind | undefined;
  let sha256: string | undefined;

  try {
    format = await withDeadline(detectFormat(reader, options), deadline.signal);
    if (!options.detectOnly && source.size > 0) {
      const head = await reader.read(0, Math.min(source.size, HEAD_WINDOW_BYTES / 4));
      let extractor = extractorFor(format, head);
      if (extractor && format.mime === "application/zip") {
        // The archive plan fetches the tail, where the central directory may show a document package.
        await reader.prefetch(extractor.plan(source.size));
        format = await withDeadline(
          refineZipFormat(reader, format, options, budget.maxEntries),
          deadline.signal,
        );
        extractor = extractorFor(format, head);
      }
      if (extractor) {
        const ctx: ExtractContext = {
          reader,
          format,
          budget,
          signal: deadline.signal,
          warn: (message) => warnings.push(message),
          partial: {},
        };
        try {
          await reader.prefetch(extractor.plan(source.size));
          const run = await loadExtractor(extractor);
          sections = { ...ctx.partial, ...(await withDeadline(run(ctx), deadline.signal)) };
          // A compound file's directory names its application: a Word document is application/msword,
          // a Windows Installer package application/x-msi.
          format = await refineCfbFormat(format, sections, options);
        } catch (error) {
          sections = ctx.partial;
          throw error;
        }
      }
    }
  } catch (error) {
    if (error instanceof SourceError) {
      clearTimeout(timer);
      throw error;
    }
    ({ status, reason } = classify(error, Object.keys(sections).length > 0));
    if (error instanceof LimitExceededError) limit = error.limit;
  }
  clearTimeout(timer);
  // An extractor may catch a refused read and finish with what it has; the budget still cut it short.
  limit ??= reader.limitReached;

  if (options.hash) sha256 = await hashAll(reader);
  const stats = reader.stats;
  return {
    source: options.sourceName ?? source.name,
    size: source.size,
    status,
    ...(reason !== undefined && { reason }),
    ...(limit !== undefined && { limit }),
    warnings,
    format,
    ...sections,
    ...(sha256 !== undefined && { sha256 }),
    bytesRead: stats.bytesRead,
    readRequests: stats.requests,
    durationMs: Math.round((performance.now() - started) * 100) / 100,
    extractorVersion: EXTRACTOR_VERSION,
  };
}

function classify(error: unknown, hasSections: boolean): { status: ExtractionStatus; reason: string } {
  if (error instanceof LimitExceededError) {
    return { status: hasSections ? "partial" : "error", reason: `limit reached: ${error.message}` };
  }
  if (error instanceof EndOfStreamError) {
    return { status: hasSections ? "partial" : "error", reason: "truncated: unexpected end of file" };
  }
  return { status: hasSections ? "partial" : "error", reason: describeError(error) };
}

function withDeadline<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new LimitExceededError("time", "time budget exhausted"));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new LimitExceededError("time", "time budget exhausted"));
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

/**
 * SHA-256 of the whole content, reusing the blocks extraction already
 * fetched: a small object costs no extra request, a large one one request
 * per missing megabyte.
 */
async function hashAll(reader: BlockReader): Promise<string> {
  const hash = createHash("sha256");
  for (let offset = 0; offset < reader.size; offset += HASH_CHUNK_BYTES) {
    const chunk = await reader.readThrough(offset, HASH_CHUNK_BYTES);
    hash.update(chunk);
    if (chunk.byteLength < Math.min(HASH_CHUNK_BYTES, reader.size - offset)) break;
  }
  return hash.digest("hex");
}
