import type { BlockReader } from "../../byte-source/block-reader.js";
import { ContentError } from "../../errors.js";
import { boundedLength, MAX_STRUCTURE_BYTES } from "../../limits.js";

/*
 * ASF Stream Properties objects, read by hand because music-metadata lists
 * ASF streams without their picture size or audio format. They sit in the
 * Header Object at the start of the file.
 */

/** Objects looked at inside the Header Object. */
const MAX_HEADER_OBJECTS = 1024;

function guid(text: string): string {
  // Stored with the first three groups little-endian.
  const hex = text.replace(/-/g, "");
  const swap = (part: string) => part.match(/../g)?.reverse().join("") ?? "";
  return (
    swap(hex.slice(0, 8)) +
    swap(hex.slice(8, 12)) +
    swap(hex.slice(12, 16)) +
    hex.slice(16)
  ).toLowerCase();
}

const HEADER_OBJECT = guid("75B22630-668E-11CF-A6D9-00AA0062CE6C");
const STREAM_PROPERTIES = guid("B7DC0791-A9B7-11CF-8EE6-00C00C205365");
const AUDIO_MEDIA = guid("F8699E40-5B4D-11CF-A8FD-00805F5C442B");
const VIDEO_MEDIA = guid("BC19EFC0-5B4D-11CF-A8FD-00805F5C442B");

function hexAt(bytes: Uint8Array, at: number): string {
  return Array.from(bytes.subarray(at, at + 16), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** What an ASF file's first audio and video stream declare. */
export interface AsfStreams {
  width?: number;
  height?: number;
  sampleRate?: number;
  channels?: number;
}

/**
 * Reads the first audio and video Stream Properties objects of an ASF header.
 *
 * @example
 * await readAsfStreams(reader) // { width: 640, height: 356, sampleRate: 44100, channels: 2 }
 */
export async function readAsfStreams(reader: BlockReader): Promise<AsfStreams> {
  const top = await reader.read(0, 30);
  if (top.byteLength < 30 || hexAt(top, 0) !== HEADER_OBJECT)
    throw new ContentError("ASF: missing header object");
  const view = new DataView(top.buffer, top.byteOffset, top.byteLength);
  const size = boundedLength(Number(view.getBigUint64(16, true)), MAX_STRUCTURE_BYTES, "ASF header object");
  const header = await reader.read(0, size);
  const streams: AsfStreams = {};
  let at = 30;
  for (let count = 0; count < MAX_HEADER_OBJECTS && at + 24 <= header.byteLength; count++) {
    const objectView = new DataView(header.buffer, header.byteOffset + at, header.byteLength - at);
    const objectSize = Number(objectView.getBigUint64(16, true));
    if (objectSize < 24) throw new ContentError(`ASF: object at ${at} has size ${objectSize}`);
    if (hexAt(header, at) === STREAM_PROPERTIES && at + 78 <= header.byteLength) {
      const type = hexAt(header, at + 24);
      const data = new DataView(
        header.buffer,
        header.byteOffset + at + 78,
        Math.min(objectSize, header.byteLength - at) - 78,
      );
      if (type === AUDIO_MEDIA && streams.sampleRate === undefined && data.byteLength >= 8) {
        streams.channels = data.getUint16(2, true);
        streams.sampleRate = data.getUint32(4, true);
      } else if (type === VIDEO_MEDIA && streams.width === undefined && data.byteLength >= 8) {
        streams.width = data.getUint32(0, true);
        streams.height = data.getUint32(4, true);
      }
    }
    at += objectSize;
  }
  return streams;
}
