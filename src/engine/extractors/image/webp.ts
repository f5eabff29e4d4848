import type { BlockReader } from "../../byte-source/block-reader.js";
import { ContentError } from "../../errors.js";
import { boundedLength, MAX_STRUCTURE_BYTES } from "../../limits.js";
import { fourCC, readExactly, startsWith, viewOf } from "./byte-reading.js";

/** What the WebP chunk list says. */
export interface WebpStructure {
  animated: boolean;
  alpha: boolean;
  /** ANMF chunks; undefined when the walk stopped before the end. */
  frames?: number;
  /** Sum of the ANMF frames' durations in milliseconds; with `frames`, when the animation has any. */
  durationMs?: number;
  /** The TIFF structure of the EXIF chunk. */
  exif?: Uint8Array;
  /** Set when the RIFF size or a chunk runs past the end of the file. */
  truncated?: string;
  /** In an animation cut short: the ANMF frames whole before the cut, and their durations in milliseconds. */
  whole?: { frames: number; durationMs: number };
}

/**
 * Chunk headers are read one by one (8 bytes each, mostly from cached
 * blocks). Past this offset the walk goes on only to find an EXIF chunk the
 * VP8X flags promise, and stops counting frames.
 */
const WEBP_FRAME_WALK_BYTES = 1024 * 1024;
/** Chunk headers read in all; an animation can have thousands of frames. */
const MAX_WEBP_CHUNKS = 4096;

const VP8X_ANIMATION = 0x02;
const VP8X_EXIF = 0x08;
const VP8X_ALPHA = 0x10;

/**
 * Walks the RIFF chunks of a WebP: VP8X flags, ANMF frames, the EXIF chunk.
 *
 * @example
 * const { animated, frames, exif } = await readWebpStructure(ctx.reader);
 */
export async function readWebpStructure(reader: BlockReader): Promise<WebpStructure> {
  const riff = await readExactly(reader, 0, 12, "WebP header");
  if (fourCC(riff, 0) !== "RIFF" || fourCC(riff, 8) !== "WEBP")
    throw new ContentError("WebP: bad RIFF header");
  const declaredEnd = viewOf(riff).getUint32(4, true) + 8;
  const structure: WebpStructure = { animated: false, alpha: false };
  if (declaredEnd > reader.size)
    structure.truncated = `RIFF declares ${declaredEnd} bytes, the file has ${reader.size}`;
  const end = Math.min(declaredEnd, reader.size);
  let wantExif = false;
  let frames = 0;
  let durationMs = 0;
  let counting = true;
  let offset = 12;
  for (let chunk = 0; offset + 8 <= end; chunk++) {
    if (chunk >= MAX_WEBP_CHUNKS || (offset > WEBP_FRAME_WALK_BYTES && !wantExif)) {
      counting = false;
      break;
    }
    if (offset > WEBP_FRAME_WALK_BYTES) counting = false;
    const head = await readExactly(reader, offset, 8, "WebP chunk");
    const type = fourCC(head, 0);
    const size = viewOf(head).getUint32(4, true);
    if (offset + 8 + size > reader.size) {
      structure.truncated ??= `chunk '${type}' at offset ${offset} runs past the end of the file`;
      break;
    }
    if (type === "VP8X" && size >= 10) {
      const flags = (await readExactly(reader, offset + 8, 1, "WebP VP8X"))[0] as number;
      structure.animated = (flags & VP8X_ANIMATION) !== 0;
      structure.alpha = (flags & VP8X_ALPHA) !== 0;
      wantExif = (flags & VP8X_EXIF) !== 0;
    } else if (type === "ANMF") {
      frames += 1;
      // ANMF payload: X, Y, width - 1, height - 1, then the frame's duration, 24-bit little-endian ms.
      if (counting && size >= 16) {
        const duration = await readExactly(reader, offset + 8 + 12, 3, "WebP ANMF");
        durationMs +=
          (duration[0] as number) | ((duration[1] as number) << 8) | ((duration[2] as number) << 16);
      }
    } else if (type === "EXIF" && !structure.exif) {
      const payload = await readExactly(
        reader,
        offset + 8,
        boundedLength(size, MAX_STRUCTURE_BYTES, "WebP EXIF chunk"),
        "WebP EXIF chunk",
      );
      // Some writers keep the JPEG APP1 "Exif\0\0" prefix in the chunk.
      structure.exif = startsWith(payload, [0x45, 0x78, 0x69, 0x66, 0, 0]) ? payload.subarray(6) : payload;
      wantExif = false;
    }
    offset += 8 + size + (size & 1);
  }
  if (counting && !structure.truncated) {
    structure.frames = structure.animated ? frames : 1;
    if (structure.animated && frames > 0) structure.durationMs = durationMs;
  }
  // The walk stops at the chunk the file ends inside, so the frames it counted are whole.
  if (counting && structure.truncated && structure.animated && frames > 0)
    structure.whole = { frames, durationMs };
  return structure;
}
