import { type FileHandle, open } from "node:fs/promises";
import { SourceError } from "../errors.js";

/**
 * A random-access source of bytes. Implementations know where the bytes live
 * (a file, memory, an S3 object); nothing above them does.
 *
 * `read` returns at most `length` bytes starting at `offset`; fewer only at
 * the end of the source. Faults of the medium throw {@link SourceError}.
 */
export interface ByteSource {
  /** A name for messages and records: a path or `s3://bucket/key`. */
  readonly name: string;
  readonly size: number;
  /**
   * True when every byte is already in memory (a buffer, an object fetched
   * whole), so a read costs no request: a walk that bounds its reads to save
   * requests need not.
   */
  readonly inMemory?: boolean;
  read(offset: number, length: number): Promise<Uint8Array>;
  close?(): Promise<void>;
}

/**
 * Bytes already in memory.
 *
 * @example
 * const source = new BufferSource(await readFile("a.png"), "a.png");
 */
export class BufferSource implements ByteSource {
  readonly size: number;
  readonly inMemory = true;
  constructor(
    private readonly bytes: Uint8Array,
    readonly name = "buffer",
  ) {
    this.size = bytes.byteLength;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    const start = Math.min(Math.max(0, offset), this.size);
    return this.bytes.subarray(start, Math.min(this.size, start + Math.max(0, length)));
  }
}

/**
 * A local file, read with positional reads (no stream, no whole-file load).
 *
 * @example
 * const source = await FileSource.open("movie.mp4");
 * try { ... } finally { await source.close(); }
 */
export class FileSource implements ByteSource {
  private constructor(
    private readonly handle: FileHandle,
    readonly name: string,
    readonly size: number,
  ) {}

  static async open(path: string): Promise<FileSource> {
    const handle = await open(path, "r");
    try {
      const stat = await handle.stat();
      if (!stat.isFile()) throw new SourceError(path, "not a regular file");
      return new FileSource(handle, path, stat.size);
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    const start = Math.min(Math.max(0, offset), this.size);
    const wanted = Math.min(this.size - start, Math.max(0, length));
    const buffer = new Uint8Array(wanted);
    let filled = 0;
    try {
      while (filled < wanted) {
        const { bytesRead } = await this.handle.read(buffer, filled, wanted - filled, start + filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
    } catch (error) {
      throw new SourceError(this.name, `read failed at offset ${start}`, { cause: error });
    }
    return filled === wanted ? buffer : buffer.subarray(0, filled);
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}
