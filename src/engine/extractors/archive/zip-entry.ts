import { inflateRawSync } from "node:zlib";
import type { BlockReader } from "../../byte-source/block-reader.js";
import { ContentError, LimitExceededError } from "../../errors.js";
import { boundedLength } from "../../limits.js";
import type { ZipEntry } from "./zip-directory.js";

const LOCAL_SIGNATURE = 0x04034b50;
const LOCAL_FIXED_BYTES = 30;
const METHOD_STORED = 0;
const METHOD_DEFLATE = 8;

/**
 * Reads one entry's data by range (its local header, then its compressed
 * bytes) and inflates it, bounded on both sides: the small XML parts document
 * formats keep metadata in, never a whole archive.
 *
 * @example
 * const xml = await readZipEntry(reader, coreEntry, 1024 * 1024);
 * const text = new TextDecoder().decode(xml);
 */
export async function readZipEntry(
  reader: BlockReader,
  entry: ZipEntry,
  maxBytes: number,
): Promise<Uint8Array> {
  if (entry.encrypted) throw new ContentError(`${entry.name} is encrypted`);
  const header = await reader.read(entry.localHeaderOffset, LOCAL_FIXED_BYTES);
  const data = new DataView(header.buffer, header.byteOffset, header.byteLength);
  if (header.byteLength < LOCAL_FIXED_BYTES || data.getUint32(0, true) !== LOCAL_SIGNATURE) {
    throw new ContentError(`${entry.name}: no local header at ${entry.localHeaderOffset}`);
  }
  // The central directory's sizes are authoritative: local ones are zero when a data descriptor follows.
  const start =
    entry.localHeaderOffset + LOCAL_FIXED_BYTES + data.getUint16(26, true) + data.getUint16(28, true);
  const compressedSize = boundedLength(entry.compressedSize, maxBytes, `${entry.name} compressed size`);
  const compressed = await reader.read(start, compressedSize);
  if (compressed.byteLength < compressedSize) throw new ContentError(`${entry.name}: data truncated`);
  if (entry.method === METHOD_STORED) return compressed;
  if (entry.method !== METHOD_DEFLATE) {
    throw new ContentError(`${entry.name}: unsupported compression method ${entry.method}`);
  }
  try {
    return inflateRawSync(compressed, { maxOutputLength: maxBytes });
  } catch (error) {
    if ((error as { code?: string }).code === "ERR_BUFFER_TOO_LARGE") {
      throw new LimitExceededError("length", `${entry.name} inflates beyond ${maxBytes} bytes`, {
        cause: error,
      });
    }
    throw new ContentError(`${entry.name}: corrupt deflate data`, { cause: error });
  }
}
