import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { BlockReader } from "../byte-source/block-reader.js";
import type { ByteSource } from "../byte-source/byte-source.js";
import { SourceError } from "../errors.js";
import { DEFAULT_BUDGET } from "../limits.js";
import type { FormatInfo } from "../types.js";
import { type DetectHints, detectFormat } from "./detect.js";

/**
 * Bytes read up front: most files are told apart within them, so detection
 * costs one read. Beyond it (file-type walking ZIP local headers, skipping an
 * ID3 tag), reads go back to the file.
 */
export const DETECT_HEAD_BYTES = 16 * 1024;

/** What `extract(source, { detectOnly: true })` reports when detection fails on the content. */
const UNKNOWN_FORMAT: FormatInfo = Object.freeze({
  mime: "application/octet-stream",
  ext: "bin",
  category: "other",
  mismatch: false,
});

/**
 * A local file read with synchronous positional reads. Detection of many
 * small files spends more on the promise and thread-pool round trip of each
 * asynchronous read than on the read itself (a page-cache hit is
 * microseconds), so this source reads synchronously and keeps the head it
 * read first.
 */
class SyncFileSource implements ByteSource {
  private constructor(
    private readonly fd: number,
    readonly name: string,
    readonly size: number,
    private readonly head: Uint8Array,
  ) {}

  /** Opens `path` and reads its head; the caller closes it. */
  static open(path: string): SyncFileSource {
    const fd = openSync(path, "r");
    try {
      const info = fstatSync(fd);
      if (!info.isFile()) throw new SourceError(path, "not a regular file");
      const head = new Uint8Array(Math.min(info.size, DETECT_HEAD_BYTES));
      const filled = readFully(fd, head, 0, path);
      return new SyncFileSource(fd, path, info.size, head.subarray(0, filled));
    } catch (error) {
      closeSync(fd);
      throw error;
    }
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    const start = Math.min(Math.max(0, offset), this.size);
    const wanted = Math.min(this.size - start, Math.max(0, length));
    if (start + wanted <= this.head.byteLength) return this.head.subarray(start, start + wanted);
    const buffer = new Uint8Array(wanted);
    return buffer.subarray(0, readFully(this.fd, buffer, start, this.name));
  }

  close(): Promise<void> {
    closeSync(this.fd);
    return Promise.resolve();
  }
}

function readFully(fd: number, buffer: Uint8Array, position: number, name: string): number {
  let filled = 0;
  try {
    while (filled < buffer.byteLength) {
      const count = readSync(fd, buffer, filled, buffer.byteLength - filled, position + filled);
      if (count === 0) break;
      filled += count;
    }
  } catch (error) {
    throw new SourceError(name, `read failed at offset ${position}`, { cause: error });
  }
  return filled;
}

/**
 * Detects a local file's format the way `extract(source, { detectOnly: true })`
 * does, with the same reader, window, budget and hints (the path is the name),
 * but with one synchronous read of the head instead of a chain of small
 * asynchronous ones. Bad content is data: detection that fails on it answers
 * `application/octet-stream`. A file that cannot be opened or read throws (a
 * {@link SourceError}, or the `fs` error naming the path).
 *
 * @example
 * const format = await detectFile("photos/IMG_0001.jpg");
 * // { mime: "image/jpeg", ext: "jpg", category: "image", declaredExt: "jpg", mismatch: false }
 */
export async function detectFile(path: string, hints: DetectHints = { name: path }): Promise<FormatInfo> {
  const source = SyncFileSource.open(path);
  try {
    const started = performance.now();
    const reader = new BlockReader(source, {
      budget: DEFAULT_BUDGET,
      deadline: started + DEFAULT_BUDGET.maxMillis,
    });
    return await detectFormat(reader, hints);
  } catch (error) {
    if (error instanceof SourceError) throw error;
    return { ...UNKNOWN_FORMAT };
  } finally {
    await source.close();
  }
}
