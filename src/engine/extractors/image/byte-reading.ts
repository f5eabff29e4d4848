import type { BlockReader } from "../../byte-source/block-reader.js";
import { ContentError } from "../../errors.js";

/**
 * Reads exactly `length` bytes or fails with a {@link ContentError}: image
 * structures are fixed-size, so a short read means the file is truncated.
 *
 * @example
 * const ihdr = await readExactly(ctx.reader, 8, 25, "PNG IHDR");
 */
export async function readExactly(
  reader: BlockReader,
  offset: number,
  length: number,
  what: string,
): Promise<Uint8Array> {
  if (offset < 0 || offset + length > reader.size) {
    throw new ContentError(`${what}: truncated (needs bytes ${offset}-${offset + length} of ${reader.size})`);
  }
  const bytes = await reader.read(offset, length);
  if (bytes.byteLength < length) throw new ContentError(`${what}: truncated at offset ${offset}`);
  return bytes;
}

/** A DataView over exactly the bytes of `bytes` (which may be a subarray). */
export function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Four ASCII characters at `offset` (a chunk or box type). */
export function fourCC(bytes: Uint8Array, offset: number): string {
  return String.fromCharCode(
    bytes[offset] ?? 0,
    bytes[offset + 1] ?? 0,
    bytes[offset + 2] ?? 0,
    bytes[offset + 3] ?? 0,
  );
}

/** True when `bytes` starts with `prefix` at `offset`. */
export function startsWith(bytes: Uint8Array, prefix: readonly number[], offset = 0): boolean {
  return prefix.every((byte, i) => bytes[offset + i] === byte);
}
