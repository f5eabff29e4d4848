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

  /**
   * Skips `length` bytes, or to the end of the file when fewer are left.
   * strtok3 refuses any length past Number's safe integers before it clamps,
   * yet EBML's "unknown size" (all length bits set, 2^56 - 1) is exactly such a
   * length: music-metadata skips a live WebM's Cluster by it and would fail a
   * file that is whole. The size here is always known, so the end is the answer.
   */
  override async ignore(length: number): Promise<number> {
    if (!(length >= 0)) throw new RangeError("ignore length must be ≥ 0 bytes");
    const skipped = Math.min(length, Math.max(0, this.fileInfo.size - this.position));
    this.position += skipped;
    return skipped;
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
    const count = await this.reader.readInto(
      options.position,
      target.subarray(0, Math.max(0, end - options.position)),
    );
    if (count < options.length && !options.mayBeLess) throw new EndOfStreamError();
    return count;
  }
}
