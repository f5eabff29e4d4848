import type { BlockReader } from "../../byte-source/block-reader.js";
import { ContentError } from "../../errors.js";
import { readExactly } from "./byte-reading.js";

/** What the GIF block structure says. */
export interface GifStructure {
  bitDepth: number;
  /** Image descriptors seen; exact only when `complete`. */
  frames: number;
  /** Sum of the Graphic Control Extensions' delays, in hundredths of a second; exact only when `complete`. */
  delayCentiseconds: number;
  /** True when the walk reached the trailer. */
  complete: boolean;
  /** True when the walk ran off the end of the file before the trailer. */
  truncated: boolean;
  /** Frames whose image data is whole, and their delays in hundredths of a second: what a cut file shows. */
  whole: { frames: number; delayCentiseconds: number };
}

/**
 * Frames of a GIF are only countable by walking every data sub-block, so the
 * walk is bounded: files up to this size are counted exactly, larger ones
 * report the frames seen in this prefix.
 */
export const GIF_SCAN_BYTES = 1024 * 1024;

/**
 * Counts the image descriptors of a GIF, and adds up their delays, over one bounded read.
 *
 * @example
 * const { frames, complete } = await readGifStructure(ctx.reader);
 */
export async function readGifStructure(reader: BlockReader): Promise<GifStructure> {
  const length = Math.min(reader.size, GIF_SCAN_BYTES);
  const bytes = await readExactly(reader, 0, length, "GIF");
  if (bytes.byteLength < 13) throw new ContentError("GIF: header cut short");
  const packed = bytes[10] as number;
  // Bits per pixel: the global color table's size when there is one, else the declared color resolution.
  const structure: GifStructure = {
    bitDepth: ((packed & 0x80 ? packed : packed >> 4) & 7) + 1,
    frames: 0,
    delayCentiseconds: 0,
    complete: false,
    truncated: false,
    whole: { frames: 0, delayCentiseconds: 0 },
  };
  // The delay a Graphic Control Extension gives the frame that follows it.
  let pendingDelay = 0;
  let at = 13 + (packed & 0x80 ? 3 * 2 ** ((packed & 7) + 1) : 0);
  const skipSubBlocks = (): boolean => {
    for (;;) {
      if (at >= bytes.byteLength) return false;
      const size = bytes[at] as number;
      at += 1 + size;
      if (size === 0) return true;
    }
  };
  while (at < bytes.byteLength) {
    const introducer = bytes[at];
    if (introducer === 0x3b) {
      structure.complete = true;
      return structure;
    }
    if (introducer === 0x21) {
      // A Graphic Control Extension (label F9, block size 4) holds the next frame's delay at bytes 4-5.
      if (bytes[at + 1] === 0xf9 && bytes[at + 2] === 4 && at + 6 <= bytes.byteLength) {
        pendingDelay = (bytes[at + 4] as number) | ((bytes[at + 5] as number) << 8);
        structure.delayCentiseconds += pendingDelay;
      }
      at += 2;
      if (!skipSubBlocks()) break;
    } else if (introducer === 0x2c) {
      structure.frames += 1;
      if (at + 10 > bytes.byteLength) break;
      const local = bytes[at + 9] as number;
      at += 10 + (local & 0x80 ? 3 * 2 ** ((local & 7) + 1) : 0) + 1;
      if (!skipSubBlocks()) break;
      structure.whole.frames += 1;
      structure.whole.delayCentiseconds += pendingDelay;
      pendingDelay = 0;
    } else {
      throw new ContentError(`GIF: unknown block 0x${(introducer ?? 0).toString(16)} at offset ${at}`);
    }
  }
  structure.truncated = length === reader.size;
  return structure;
}
