import type { BlockReader, ByteRange } from "../byte-source/block-reader.js";
import type { Budget } from "../limits.js";
import type { FormatInfo, Sections } from "../types.js";

/** What an extractor gets: the reader (cached, counted, budgeted) and what detection found. */
export interface ExtractContext {
  reader: BlockReader;
  format: FormatInfo;
  budget: Readonly<Budget>;
  /** Aborted when the time budget runs out; pass it to libraries that accept one. */
  signal: AbortSignal;
  /** Records a recoverable oddity; the result keeps status `ok` (or `partial`). */
  warn(message: string): void;
  /**
   * Sections decoded so far. An extractor that decodes in stages writes here as
   * it goes, so a later content error or limit still leaves a `partial` result.
   */
  partial: Sections;
}

/** The lazily loaded part of an extractor. Bad content throws ContentError or LimitExceededError. */
export type ExtractFunction = (ctx: ExtractContext) => Promise<Sections>;

/**
 * An extractor is plain data plus lazy code: which formats it claims, which
 * byte ranges it wants up front, and a loader for the code that decodes them.
 * The engine merges every plan into as few reads as it can, and a cold start
 * loads only the extractors a file needs.
 *
 * @example
 * export const imageExtractor: ExtractorDescriptor = {
 *   id: "image",
 *   mimes: ["image/jpeg", "image/png"],
 *   plan: (size) => [{ offset: 0, length: Math.min(size, 64 * 1024) }],
 *   load: async () => (await import("./extract.js")).extractImage,
 * };
 */
export interface ExtractorDescriptor {
  id: string;
  /** Detected MIME types this extractor handles. */
  mimes: readonly string[];
  /** Optional claim over the object's first 16 KiB, for content detection did not name. */
  sniff?(head: Uint8Array, format: FormatInfo): boolean;
  /** Ranges to fetch before `extract` runs (clamped to the object). */
  plan(size: number): ByteRange[];
  load(): Promise<ExtractFunction>;
}

/** Head of the object, for plans. */
export function headRange(size: number, length: number): ByteRange {
  return { offset: 0, length: Math.min(size, length) };
}

/** Tail of the object, for plans of formats indexed at the end. */
export function tailRange(size: number, length: number): ByteRange {
  const wanted = Math.min(size, length);
  return { offset: size - wanted, length: wanted };
}
