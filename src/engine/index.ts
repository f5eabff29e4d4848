/**
 * The extraction engine: what a file is and what its content says, reading
 * only the bytes it needs. Imports nothing from AWS; adapters supply a
 * {@link ByteSource}.
 *
 * @example
 * import { extract, FileSource } from "s3-metadata-catalog/engine";
 * const source = await FileSource.open("report.pdf");
 * const result = await extract(source);
 * await source.close();
 */
export {
  BlockReader,
  type BlockReaderOptions,
  type ByteRange,
  type ReadStats,
} from "./byte-source/block-reader.js";
export { BufferSource, type ByteSource, FileSource } from "./byte-source/byte-source.js";
export { categoryOf } from "./detect/category.js";
export { type DetectHints, detectFormat } from "./detect/detect.js";
export { type ExtractOptions, extract } from "./engine.js";
export * from "./errors.js";
export { type Budget, DEFAULT_BUDGET } from "./limits.js";
export type * from "./types.js";
export { EXTRACTOR_VERSION } from "./version.js";
