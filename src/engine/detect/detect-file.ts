import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { BlockReader } from "../byte-source/block-reader.js";
import type { ByteSource } from "../byte-source/byte-source.js";
import { SourceError } from "../errors.js";
import { DEFAULT_BUDGET } from "../limits.js";
import type { FormatInfo } from "../types.js";
import { DETECTION_WINDOW_BYTES, type DetectHints, detectFormat } from "./detect.js";

/**
 * Bytes read up front, in one read: the whole window detection may look at
 * (file-type walking a ZIP's local headers or skipping an ID3 tag stays inside
 * it), so no file costs more than one read. Measured against a 64 KiB head,
 * the larger read of the few big files cost less than sending ZIP scans
 * through the block cache.
 */
export const DETECT_HEAD_BYTES = DETECTION_WINDOW_BYTES;

/** What `extract(source, { detectOnly: true })` reports when detection fails on the content. */
const UNKNOWN_FORMAT: FormatInfo = Object.freeze({
  mime: "application/octet-stream",
  ext: "bin",
  category: "other",
  mismatch: false,
});

/**
 * A local file read with synchronous positional reads. Detecting many small
 * files spent more on each asynchronous read's promise and thread-pool round
 * trip than on the read itself (a page-cache hit takes microseconds).
 */
class SyncFileSource implements ByteSource {
  private constructor(
    readonly fd: number,
    readonly name: string,
    readonly size: number,
  ) {}

  /** Opens a regular file; the caller closes it. */
  static open(path: string): SyncFileSource {
    const fd = openSync(path, "r");
    try {
      const info = fstatSync(fd);
      if (!info.isFile()) throw new SourceError(path, "not a regular file");
      return new SyncFileSource(fd, path, info.size);
    } catch (error) {
      closeSync(fd);
      throw error;
    }
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    const start = Math.min(Math.max(0, offset), this.size);
    const buffer = new Uint8Array(Math.min(this.size - start, Math.max(0, length)));
    return buffer.subarray(0, readFully(this.fd, buffer, start, this.name));
  }

  close(): Promise<void> {
    closeSync(this.fd);
    return Promise.resolve();
  }
}

/**
 * Head buffers of finished detections, reused by the next ones (as many as
 * detections ever ran at once). A fresh 256 KiB buffer per file made garbage
 * collection a tenth of detecting a directory. Safe because a detection's
 * answer holds no bytes of its head: file-type and the text sniffer return
 * strings, and the reader is dropped with the detection.
 */
const spareHeads: Uint8Array[] = [];

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
 * does: the same {@link detectFormat}, window, budget and hints (the path is
 * the name), but with one synchronous read of the head instead of a chain of
 * small asynchronous ones. Bad content is data: detection that fails on it answers
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
    const deadline = performance.now() + DEFAULT_BUDGET.maxMillis;
    const head = spareHeads.pop() ?? new Uint8Array(DETECT_HEAD_BYTES);
    try {
      const window = head.subarray(0, Math.min(source.size, DETECT_HEAD_BYTES));
      const filled = readFully(source.fd, window, 0, path);
      const reader = new BlockReader(source, {
        budget: DEFAULT_BUDGET,
        deadline,
        head: head.subarray(0, filled),
      });
      return await detectFormat(reader, hints);
    } finally {
      spareHeads.push(head);
    }
  } catch (error) {
    if (error instanceof SourceError) throw error;
    return { ...UNKNOWN_FORMAT };
  } finally {
    await source.close();
  }
}
