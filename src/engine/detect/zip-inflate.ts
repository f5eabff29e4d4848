import { inflateRawSync } from "node:zlib";
import { ZipHandler } from "@tokenizer/inflate";

/**
 * The most a ZIP entry may inflate to during detection: file-type's own limit
 * (`maximumZipEntrySizeInBytes` in file-type/core.js), with the message prefix
 * file-type treats as "not this subtype, still a zip".
 */
export const MAX_INFLATED_ZIP_ENTRY_BYTES = 1024 * 1024;

/** What ZipHandler hands its inflate hook: the entry's local header, as far as it is read here. */
interface LocalHeader {
  compressedMethod: number;
}

/**
 * Inflates one ZIP entry the way file-type's own `ZipHandler.prototype.inflate`
 * does (stored entries pass through, deflate is bounded by the same limit and
 * fails with the same message, other methods are refused), but with one
 * synchronous zlib call instead of a web-streams pipeline.
 *
 * Why by hand: file-type looks inside ZIP-based files (OOXML, ODF, EPUB, JAR)
 * by inflating their first entries, and does it through `DecompressionStream`.
 * Setting that pipeline up for an entry of a few hundred bytes cost more than
 * anything else in detecting such a file (measured in bench/RESULTS.md,
 * "Extraction engine"). @tokenizer/inflate has no option for it; file-type
 * itself replaces this prototype method to add its limit, so the hook is the
 * one the library intends to be replaced. The entry's compressed bytes are
 * already in memory (at most the detection window), so a synchronous inflate
 * blocks for no longer than the stream would have.
 */
async function inflateEntry(
  header: LocalHeader,
  data: Uint8Array,
  next: (inflated: Uint8Array) => unknown,
): Promise<unknown> {
  if (header.compressedMethod === 0) return next(data);
  if (header.compressedMethod !== 8) {
    throw new Error(`Unsupported ZIP compression method: ${header.compressedMethod}`);
  }
  let inflated: Buffer;
  try {
    inflated = inflateRawSync(data, { maxOutputLength: MAX_INFLATED_ZIP_ENTRY_BYTES });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") {
      throw new Error(`ZIP entry decompressed data exceeds ${MAX_INFLATED_ZIP_ENTRY_BYTES} bytes`);
    }
    // Truncated or corrupt deflate data: Z_BUF_ERROR / Z_DATA_ERROR, which file-type treats as "still a zip".
    throw error;
  }
  return next(new Uint8Array(inflated.buffer, inflated.byteOffset, inflated.byteLength));
}

// Installed once, when detection loads; file-type's module (imported first by detect.ts) has set its own by then.
(ZipHandler.prototype as unknown as { inflate: typeof inflateEntry }).inflate = inflateEntry;
