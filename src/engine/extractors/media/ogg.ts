import type { BlockReader } from "../../byte-source/block-reader.js";
import { TAIL_WINDOW_BYTES } from "../../limits.js";

/*
 * Ogg facts music-metadata leaves out when it stops after the first pages (as
 * it does without `duration: true`, which would read every page): the last
 * page's granule position, found in the tail, and Theora's picture size.
 */

const CAPTURE = [0x4f, 0x67, 0x67, 0x53]; // "OggS"

/** Smaller first try at the tail; Ogg pages are usually a few KiB. */
const FIRST_TAIL_BYTES = 16 * 1024;

function indexOfBytes(haystack: Uint8Array, needle: readonly number[], from = 0): number {
  outer: for (let i = from; i + needle.length <= haystack.byteLength; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

function lastIndexOfBytes(haystack: Uint8Array, needle: readonly number[], before: number): number {
  outer: for (let i = Math.min(before, haystack.byteLength - needle.length); i >= 0; i--) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/** Picture size and frame rate from a Theora identification header. */
export interface TheoraPicture {
  width: number;
  height: number;
  frameRate?: number;
}

/**
 * Finds a Theora identification header (`\x80theora`) in the head window.
 *
 * @example
 * theoraPicture(head) // { width: 400, height: 300, frameRate: 29.97 }
 */
export function theoraPicture(head: Uint8Array): TheoraPicture | undefined {
  const at = indexOfBytes(head, [0x80, 0x74, 0x68, 0x65, 0x6f, 0x72, 0x61]);
  if (at < 0 || at + 30 > head.byteLength) return undefined;
  const view = new DataView(head.buffer, head.byteOffset + at + 7, 23);
  // VMAJ VMIN VREV, FMBW FMBH (16), PICW PICH (24), PICX PICY (8), FRN FRD (32), all big-endian.
  const width = (view.getUint8(7) << 16) | view.getUint16(8);
  const height = (view.getUint8(10) << 16) | view.getUint16(11);
  const numerator = view.getUint32(15);
  const denominator = view.getUint32(19);
  if (width === 0 || height === 0) return undefined;
  return { width, height, ...(numerator > 0 && denominator > 0 && { frameRate: numerator / denominator }) };
}

/**
 * The Opus pre-skip (samples at 48 kHz to drop at the start), from `OpusHead`.
 *
 * @example
 * opusPreSkip(head) // 312
 */
export function opusPreSkip(head: Uint8Array): number | undefined {
  const at = indexOfBytes(head, [0x4f, 0x70, 0x75, 0x73, 0x48, 0x65, 0x61, 0x64]);
  if (at < 0 || at + 12 > head.byteLength) return undefined;
  return new DataView(head.buffer, head.byteOffset + at + 10, 2).getUint16(0, true);
}

/**
 * The granule position of the last page of the first logical stream, read
 * from the tail of the file. For audio codecs it counts samples.
 *
 * @example
 * const granule = await lastGranulePosition(reader); // 139_520n
 */
export async function lastGranulePosition(reader: BlockReader): Promise<bigint | undefined> {
  const first = await reader.read(0, 27);
  if (first.byteLength < 27 || indexOfBytes(first, CAPTURE) !== 0) return undefined;
  const serial = new DataView(first.buffer, first.byteOffset).getUint32(14, true);
  for (const window of [FIRST_TAIL_BYTES, TAIL_WINDOW_BYTES]) {
    const tail = await reader.tail(window);
    for (
      let at = lastIndexOfBytes(tail, CAPTURE, tail.byteLength);
      at >= 0;
      at = lastIndexOfBytes(tail, CAPTURE, at - 1)
    ) {
      if (at + 27 > tail.byteLength) continue;
      const view = new DataView(tail.buffer, tail.byteOffset + at, 27);
      const granule = view.getBigInt64(6, true);
      if (view.getUint8(4) === 0 && view.getUint32(14, true) === serial && granule >= 0n) return granule;
    }
    if (tail.byteLength >= reader.size) break;
  }
  return undefined;
}
