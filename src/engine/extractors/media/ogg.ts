import type { BlockReader } from "../../byte-source/block-reader.js";
import { TAIL_WINDOW_BYTES } from "../../limits.js";
import { indexOfBytes, lastIndexOfBytes } from "../bytes.js";

/*
 * Ogg facts music-metadata leaves out when it stops after the first pages (as
 * it does without `duration: true`, which would read every page): the last
 * page's granule position and whether the file ends cut short, found in the
 * tail; Opus's pre-skip; and Theora's picture size and frame rate.
 */

const CAPTURE = [0x4f, 0x67, 0x67, 0x53]; // "OggS"

/** Smaller first try at the tail; Ogg pages are usually a few KiB. */
const FIRST_TAIL_BYTES = 16 * 1024;

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

/** What the last pages of an Ogg file say about its end. */
export interface OggEnd {
  /**
   * The granule position of the last whole page of the first logical stream
   * found in the tail (for audio codecs, the samples up to its end).
   */
  granule?: bigint;
  /**
   * How the file shows it was cut short: it ends inside its last page, or
   * its last page, whole, is not marked as the end of its stream.
   */
  cut?: "inside a page" | "without an end-of-stream page";
}

/** The page header's flag for a logical stream's last page. */
const END_OF_STREAM = 0x04;

/**
 * Reads the last pages of an Ogg file from its tail: the granule position of
 * the first logical stream's last whole page, and whether the file's last
 * page is whole and ends a stream. Bytes after the last page (an ID3v1 tag
 * some taggers append) are passed over.
 *
 * @example
 * await readOggEnd(reader) // { granule: 139_520n }
 */
export async function readOggEnd(reader: BlockReader): Promise<OggEnd | undefined> {
  const first = await reader.read(0, 27);
  if (first.byteLength < 27 || indexOfBytes(first, CAPTURE) !== 0) return undefined;
  const serial = new DataView(first.buffer, first.byteOffset).getUint32(14, true);
  let end: OggEnd | undefined;
  for (const window of [FIRST_TAIL_BYTES, TAIL_WINDOW_BYTES]) {
    const tail = await reader.tail(window);
    end = undefined;
    for (
      let at = lastIndexOfBytes(tail, CAPTURE, tail.byteLength);
      at >= 0;
      at = lastIndexOfBytes(tail, CAPTURE, at - 1)
    ) {
      if (at + 27 > tail.byteLength) {
        end ??= { cut: "inside a page" };
        continue;
      }
      const view = new DataView(tail.buffer, tail.byteOffset + at, 27);
      if (view.getUint8(4) !== 0) continue;
      const whole = pageEnd(tail, at) <= tail.byteLength;
      if (!end) {
        const endsStream = (view.getUint8(5) & END_OF_STREAM) !== 0;
        end = whole ? (endsStream ? {} : { cut: "without an end-of-stream page" }) : { cut: "inside a page" };
      }
      const granule = view.getBigInt64(6, true);
      if (whole && view.getUint32(14, true) === serial && granule >= 0n) return { ...end, granule };
    }
    if (tail.byteLength >= reader.size) break;
  }
  return end;
}

/** Where the page at `at` ends, by its segment table; past the bytes when the table is cut. */
function pageEnd(bytes: Uint8Array, at: number): number {
  const segments = bytes[at + 26] as number;
  const bodyAt = at + 27 + segments;
  if (bodyAt > bytes.byteLength) return Number.POSITIVE_INFINITY;
  let end = bodyAt;
  for (let i = at + 27; i < bodyAt; i++) end += bytes[i] as number;
  return end;
}
