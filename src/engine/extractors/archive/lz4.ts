/**
 * LZ4 frames (lz4_Frame_format.md, as `lz4` and `tar --lz4` write them) for
 * {@link ForwardDecompressor}. Written by hand: the npm `lz4` package builds a
 * native addon when installed (one for Lambda's arm64 beside the laptop's),
 * and the pure-JavaScript ones decode a whole buffer at once. The format is
 * small: a frame header, then blocks of at most 4 MiB, each stored or a run
 * of LZ4 sequences (literals, then a copy from up to 64 KiB back, reaching
 * into earlier blocks when the frame links them), then an end mark.
 * The xxHash32 checksums a frame carries (its header's, each block's, the
 * content's) are checked, so damage that still decodes is caught.
 */
import { ContentError, TruncatedError } from "../../errors.js";
import { CompressedInput, runOf } from "./decoders.js";
import type { Decoder } from "./forward-decompressor.js";
import { XxHash32, xxHash32 } from "./xxhash32.js";

const FRAME_MAGIC = 0x184d2204;
const LEGACY_MAGIC = 0x184c2102;
/** 0x184D2A50 to 0x184D2A5F: a frame of bytes that are not content, skipped whole. */
const SKIPPABLE_MASK = 0xfffffff0;
const SKIPPABLE_MAGIC = 0x184d2a50;
/** How far back a copy may reach. */
const WINDOW_BYTES = 64 * 1024;
/** A legacy frame's blocks are 8 MiB of content each. */
const LEGACY_BLOCK_BYTES = 8 * 1024 * 1024;
/** Block Maximum Size by its BD code (4-7). */
const BLOCK_MAX_BYTES = [0, 0, 0, 0, 64 * 1024, 256 * 1024, 1024 * 1024, 4 * 1024 * 1024];

function uint32(bytes: Uint8Array, at = 0): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(at, true);
}

/**
 * Decodes one block of LZ4 sequences into `out` from `start`, where the
 * `start` bytes before it are the content that precedes it (the window of a
 * linked frame, or nothing). Returns where the block's content ends.
 *
 * @example
 * const end = decodeBlock(sequences, out, 0, out.byteLength); // out.subarray(0, end) is the block's content
 */
export function decodeBlock(block: Uint8Array, out: Uint8Array, start: number, limit: number): number {
  let at = 0;
  let to = start;
  for (;;) {
    if (at >= block.byteLength) throw new ContentError("lz4: a block ends inside a sequence");
    const token = block[at++] as number;
    let literals = token >>> 4;
    if (literals === 15) {
      for (let more = 255; more === 255; ) {
        if (at >= block.byteLength) throw new ContentError("lz4: a block ends inside a length");
        more = block[at++] as number;
        literals += more;
      }
    }
    if (at + literals > block.byteLength) throw new ContentError("lz4: literals run past the block");
    if (to + literals > limit) throw new ContentError("lz4: a block expands past its maximum size");
    out.set(block.subarray(at, at + literals), to);
    at += literals;
    to += literals;
    // The last sequence is literals only.
    if (at === block.byteLength) return to;
    if (at + 2 > block.byteLength) throw new ContentError("lz4: a block ends inside a sequence");
    const offset = (block[at] as number) | ((block[at + 1] as number) << 8);
    at += 2;
    let length = (token & 15) + 4;
    if ((token & 15) === 15) {
      for (let more = 255; more === 255; ) {
        if (at >= block.byteLength) throw new ContentError("lz4: a block ends inside a length");
        more = block[at++] as number;
        length += more;
      }
    }
    if (offset === 0 || offset > to) throw new ContentError("lz4: a copy reaches before the content");
    if (to + length > limit) throw new ContentError("lz4: a block expands past its maximum size");
    let from = to - offset;
    if (offset >= length) {
      out.copyWithin(to, from, from + length);
      to += length;
    } else {
      // An overlapping copy repeats what it has just written, byte by byte.
      for (const end = to + length; to < end; ) out[to++] = out[from++] as number;
    }
  }
}

/** LZ4 frames, one after another, as lz4 -d reads them (skippable frames skipped, legacy frames read). */
export const unlz4: Decoder = (compressed, cut) => runOf(lz4Output(compressed, cut));

async function* lz4Output(compressed: AsyncIterable<Uint8Array>, cut: boolean): AsyncGenerator<Uint8Array> {
  const input = new CompressedInput(compressed[Symbol.asyncIterator]());
  /** `length` bytes, or the end of the content where the input bound cut them short. */
  const exactly = async (length: number): Promise<Uint8Array | undefined> => {
    const bytes = await input.take(length);
    if (bytes.byteLength === length) return bytes;
    if (cut) return undefined;
    throw new TruncatedError("truncated");
  };
  try {
    // A frame at least, then as many as follow.
    do {
      const magicBytes = await exactly(4);
      if (!magicBytes) return;
      const magic = uint32(magicBytes);
      if ((magic & SKIPPABLE_MASK) >>> 0 === SKIPPABLE_MAGIC) {
        const size = await exactly(4);
        if (!size || !(await exactly(uint32(size)))) return;
        continue;
      }
      if (magic === LEGACY_MAGIC) {
        if (!(yield* legacyFrame(input, exactly))) return;
        continue;
      }
      if (magic !== FRAME_MAGIC) throw new ContentError("lz4: not an LZ4 frame");
      if (!(yield* frame(exactly))) return;
    } while (!(await input.atEnd()));
  } finally {
    await input.close();
  }
}

type Exactly = (length: number) => Promise<Uint8Array | undefined>;

/** One frame after its magic number; false where the input bound cut it. */
async function* frame(exactly: Exactly): AsyncGenerator<Uint8Array, boolean> {
  const descriptor = await exactly(2);
  if (!descriptor) return false;
  const flags = descriptor[0] as number;
  if (flags >>> 6 !== 1) throw new ContentError("lz4: an unknown frame version");
  const linked = (flags & 0x20) === 0;
  const blockChecksums = (flags & 0x10) !== 0;
  const maxBlock = BLOCK_MAX_BYTES[((descriptor[1] as number) >>> 4) & 7] ?? 0;
  if (maxBlock === 0) throw new ContentError("lz4: an unknown block size");
  // Content size (8), dictionary id (4), then the header checksum (1).
  const rest = await exactly(((flags & 0x08) !== 0 ? 8 : 0) + ((flags & 0x01) !== 0 ? 4 : 0) + 1);
  if (!rest) return false;
  const described = new Uint8Array(1 + rest.byteLength);
  described.set(descriptor);
  described.set(rest.subarray(0, -1), 2);
  if (((xxHash32(described) >>> 8) & 0xff) !== rest[rest.byteLength - 1])
    throw new ContentError("lz4: the frame header's checksum does not match");
  const content = (flags & 0x04) !== 0 ? new XxHash32() : undefined;
  // The window the next block's copies may reach into, before where it is written.
  const out = new Uint8Array((linked ? WINDOW_BYTES : 0) + maxBlock);
  let kept = 0;
  for (;;) {
    const header = await exactly(4);
    if (!header) return false;
    const word = uint32(header);
    if (word === 0) break;
    const stored = word >>> 31 === 1;
    const size = word & 0x7fffffff;
    if (size > maxBlock) throw new ContentError("lz4: a block larger than the frame's maximum");
    const block = await exactly(size + (blockChecksums ? 4 : 0));
    if (!block) return false;
    const body = block.subarray(0, size);
    if (blockChecksums && xxHash32(body) !== uint32(block, size))
      throw new ContentError("lz4: a block's checksum does not match");
    let end: number;
    if (stored) {
      out.set(body, kept);
      end = kept + size;
    } else end = decodeBlock(body, out, kept, kept + maxBlock);
    const decoded = out.slice(kept, end);
    content?.update(decoded);
    yield decoded;
    if (linked) {
      // Keep the last 64 KiB of content at the start, for the next block's copies.
      const from = Math.max(0, end - WINDOW_BYTES);
      out.copyWithin(0, from, end);
      kept = end - from;
    }
  }
  // The content checksum, when the frame has one.
  if (!content) return true;
  const checksum = await exactly(4);
  if (!checksum) return false;
  if (uint32(checksum) !== content.digest())
    throw new ContentError("lz4: the content checksum does not match");
  return true;
}

/** A legacy frame (lz4 -l): blocks of sequences, each 8 MiB of content at most, until another magic or the end. */
async function* legacyFrame(input: CompressedInput, exactly: Exactly): AsyncGenerator<Uint8Array, boolean> {
  const out = new Uint8Array(LEGACY_BLOCK_BYTES);
  while (!(await input.atEnd())) {
    const header = await exactly(4);
    if (!header) return false;
    const size = uint32(header);
    // The next frame's magic number ends this one.
    if (size === LEGACY_MAGIC || size === FRAME_MAGIC)
      throw new ContentError("lz4: frames after a legacy frame");
    if (size > LEGACY_BLOCK_BYTES + LEGACY_BLOCK_BYTES / 255 + 16)
      throw new ContentError("lz4: a legacy block larger than 8 MiB");
    const block = await exactly(size);
    if (!block) return false;
    yield out.slice(0, decodeBlock(block, out, 0, LEGACY_BLOCK_BYTES));
  }
  return true;
}
