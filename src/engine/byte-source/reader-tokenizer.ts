import { AbstractTokenizer, EndOfStreamError, type IReadChunkOptions } from "strtok3";
import type { BlockReader } from "./block-reader.js";

/**
 * A strtok3 random-access tokenizer over a {@link BlockReader}: the bridge
 * that lets file-type and music-metadata read through the same cache,
 * counters and budget as every other extractor.
 *
 * @example
 * const type = await fileTypeFromTokenizer(new ReaderTokenizer(reader));
 */
export class ReaderTokenizer extends AbstractTokenizer {
  readonly fileInfo: { size: number; path?: string; mimeType?: string };

  /**
   * @param limit - Bytes visible to the tokenizer; a reader of the first
   *   `limit` bytes sees the end of the file there. Bounds what a library that
   *   scans forward (file-type walking ZIP local headers) can read.
   */
  constructor(
    private readonly reader: BlockReader,
    info: { mimeType?: string; path?: string } = {},
    limit = Number.POSITIVE_INFINITY,
  ) {
    super();
    this.fileInfo = { size: Math.min(reader.size, limit), ...info };
  }

  supportsRandomAccess(): boolean {
    return true;
  }

  setPosition(position: number): void {
    this.position = position;
  }

  async readBuffer(target: Uint8Array, options?: IReadChunkOptions): Promise<number> {
    const normalized = this.normalizeOptions(target, options);
    const count = await this.copy(target, normalized);
    this.position = normalized.position + count;
    return count;
  }

  async peekBuffer(target: Uint8Array, options?: IReadChunkOptions): Promise<number> {
    return this.copy(target, this.normalizeOptions(target, options));
  }

  private async copy(
    target: Uint8Array,
    options: { position: number; length: number; mayBeLess?: boolean },
  ): Promise<number> {
    const end = Math.min(this.fileInfo.size, options.position + options.length);
    const bytes = await this.reader.read(options.position, Math.max(0, end - options.position));
    target.set(bytes, 0);
    if (bytes.byteLength < options.length && !options.mayBeLess) throw new EndOfStreamError();
    return bytes.byteLength;
  }
}
