import type { BlockReader } from "../../byte-source/block-reader.js";
import { ContentError } from "../../errors.js";
import { fourcc, u32 } from "../bytes.js";
import { leadingTagsEnd } from "./mpeg-frames.js";

/*
 * FLAC stream facts music-metadata does not report: where the frames start
 * and the block sizes STREAMINFO states, and the number the last frame header
 * near the end of the file carries. music-metadata reads only the metadata
 * blocks, and no maintained library decodes a frame header without decoding
 * the audio, so the header (RFC 9639 section 9.1) is read here by hand. And
 * whether a VORBIS_COMMENT block can hold the comments it counts, checked
 * before music-metadata allocates for them.
 */

/** Metadata blocks visited before the walk gives up. */
const MAX_METADATA_BLOCKS = 1024;

/** Tails searched for a frame header, shortest first: the first one is in the tail the engine reads up front. */
const FRAME_SEARCH_TAILS = [16 * 1024, 64 * 1024] as const;

/** STREAMINFO and where the audio frames start. */
export interface FlacStream {
  /** Offset of the first frame: after the ID3v2 tags, the `fLaC` marker and every metadata block. */
  audioStart: number;
  minBlockSize: number;
  maxBlockSize: number;
  sampleRate: number;
  channels: number;
  bitsPerSample: number;
  /** Samples per channel STREAMINFO states; 0 when the encoder did not know. */
  totalSamples: number;
}

/**
 * Reads STREAMINFO and walks the metadata block headers to the first frame;
 * in a file that ends inside them, `audioStart` lies at or past its end.
 *
 * @example
 * await readFlacStream(reader) // { audioStart: 8346, minBlockSize: 4096, maxBlockSize: 4096, sampleRate: 44100, channels: 2, bitsPerSample: 16, totalSamples: 44100 }
 */
export async function readFlacStream(reader: BlockReader): Promise<FlacStream> {
  const start = await leadingTagsEnd(reader);
  const head = await reader.read(start, 4 + 4 + 34);
  if (head.byteLength < 42 || fourcc(head, 0) !== "fLaC" || (head[4] as number) & 0x7f) {
    throw new ContentError("FLAC: no fLaC marker followed by STREAMINFO");
  }
  const view = new DataView(head.buffer, head.byteOffset + 8, 34);
  // Sample rate (20 bits), channels - 1 (3), bits per sample - 1 (5), total samples (36).
  const packed = view.getUint32(10);
  const stream: Omit<FlacStream, "audioStart"> = {
    minBlockSize: view.getUint16(0),
    maxBlockSize: view.getUint16(2),
    sampleRate: packed >>> 12,
    channels: ((packed >>> 9) & 0x07) + 1,
    bitsPerSample: ((packed >>> 4) & 0x1f) + 1,
    totalSamples: (packed & 0x0f) * 2 ** 32 + view.getUint32(14),
  };
  let audioStart = reader.size;
  for await (const block of metadataBlocks(reader, start + 4)) {
    const end = block.data + block.length;
    // A file cut inside its metadata blocks (a large picture, padding) holds no frame at all.
    audioStart = block.last || end >= reader.size ? end : reader.size;
  }
  return { ...stream, audioStart };
}

/** One metadata block header: the block's type, where its data starts, its length, and whether it is the last. */
interface MetadataBlock {
  type: number;
  data: number;
  length: number;
  last: boolean;
}

/**
 * The metadata block headers from `at` (just past `fLaC`), up to the last
 * block, the end of the file, or a header the file ends inside.
 */
async function* metadataBlocks(reader: BlockReader, at: number): AsyncGenerator<MetadataBlock> {
  for (let blocks = 0; ; blocks++) {
    if (blocks >= MAX_METADATA_BLOCKS)
      throw new ContentError(`FLAC: more than ${MAX_METADATA_BLOCKS} metadata blocks`);
    const header = await reader.read(at, 4);
    if (header.byteLength < 4) return;
    const length = ((header[1] as number) << 16) | ((header[2] as number) << 8) | (header[3] as number);
    const last = ((header[0] as number) & 0x80) !== 0;
    yield { type: (header[0] as number) & 0x7f, data: at + 4, length, last };
    at += 4 + length;
    if (last || at >= reader.size) return;
  }
}

/** The VORBIS_COMMENT metadata block type (RFC 9639 section 8.1). */
const VORBIS_COMMENT = 4;

/**
 * What is wrong with the comment count of a FLAC file's VORBIS_COMMENT block,
 * when it states more comments than the block can hold (each takes at least
 * its 4-byte length). music-metadata makes an array as long as the stated
 * count before it reads one comment, 8 bytes a slot: a damaged count of
 * 16,777,215 in a block of 176 bytes costs 128 MiB. Undefined for a sound
 * block, or one too short to state a count, which music-metadata reports
 * itself without that cost.
 *
 * @example
 * await flacCommentCountProblem(reader) // "FLAC: the VORBIS_COMMENT block states 16777215 comments, more than its 176 bytes can hold"
 */
export async function flacCommentCountProblem(reader: BlockReader): Promise<string | undefined> {
  for await (const block of metadataBlocks(reader, (await leadingTagsEnd(reader)) + 4)) {
    if (block.type !== VORBIS_COMMENT) continue;
    const vendor = await reader.read(block.data, 4);
    if (vendor.byteLength < 4) return undefined;
    const vendorLength = u32(vendor, 0);
    const commentBytes = block.length - 8 - vendorLength;
    if (commentBytes < 0) return undefined;
    const count = await reader.read(block.data + 4 + vendorLength, 4);
    if (count.byteLength < 4) return undefined;
    const stated = u32(count, 0);
    return stated > commentBytes / 4
      ? `FLAC: the VORBIS_COMMENT block states ${stated} comments, more than its ${block.length} bytes can hold`
      : undefined;
  }
  return undefined;
}

/** Block sizes by the 4-bit code of a frame header; 0 reserved, 6 and 7 stated after the number. */
const BLOCK_SIZES = [0, 192, 576, 1152, 2304, 4608, -8, -16, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768];

/** Sample rates by the 4-bit code; 0 from STREAMINFO, 12 to 14 stated after the number, 15 invalid. */
const SAMPLE_RATES = [0, 88200, 176400, 192000, 8000, 16000, 22050, 24000, 32000, 44100, 48000, 96000];

/** Bits per sample by the 3-bit code; 0 from STREAMINFO, 3 reserved. */
const SAMPLE_SIZES = [0, 8, 12, -1, 16, 20, 24, 32];

/** CRC-8 of a frame header: polynomial x^8 + x^2 + x + 1, initial value 0, no reflection. */
function crc8(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x80 ? ((crc << 1) ^ 0x07) & 0xff : (crc << 1) & 0xff;
  }
  return crc;
}

/**
 * The first sample of the frame whose header starts at `at`, when a valid
 * header starts there: the sync code, no reserved value, a matching CRC-8,
 * and rate, size and channels that agree with STREAMINFO.
 */
function frameFirstSample(bytes: Uint8Array, at: number, stream: FlacStream): number | undefined {
  if (at + 6 > bytes.byteLength || bytes[at] !== 0xff || ((bytes[at + 1] as number) & 0xfe) !== 0xf8)
    return undefined;
  const variable = ((bytes[at + 1] as number) & 1) === 1;
  const blockCode = (bytes[at + 2] as number) >> 4;
  const rateCode = (bytes[at + 2] as number) & 0x0f;
  const channelCode = (bytes[at + 3] as number) >> 4;
  const sizeCode = ((bytes[at + 3] as number) >> 1) & 0x07;
  if (blockCode === 0 || rateCode === 15 || channelCode > 10 || ((bytes[at + 3] as number) & 1) !== 0)
    return undefined;
  if ((channelCode < 8 ? channelCode + 1 : 2) !== stream.channels) return undefined;
  const sampleSize = SAMPLE_SIZES[sizeCode] as number;
  if (sampleSize < 0 || (sampleSize > 0 && sampleSize !== stream.bitsPerSample)) return undefined;
  const rate = SAMPLE_RATES[rateCode];
  if (rate !== undefined && rate > 0 && rate !== stream.sampleRate) return undefined;
  // The coded number, in UTF-8's scheme stretched to 7 bytes: a frame number (31 bits, at most 6 bytes)
  // or, in a variable-blocksize stream, a sample number (36 bits). The leading 1 bits count its bytes.
  const lead = bytes[at + 4] as number;
  let ones = 0;
  while (ones < 8 && lead & (0x80 >> ones)) ones++;
  if (ones === 1 || ones === 8 || (!variable && ones > 6)) return undefined;
  const numberBytes = ones === 0 ? 1 : ones;
  let number = ones === 0 ? lead : lead & (0xff >> (ones + 1));
  let end = at + 4 + numberBytes;
  if (end > bytes.byteLength) return undefined;
  for (let i = at + 5; i < end; i++) {
    if (((bytes[i] as number) & 0xc0) !== 0x80) return undefined;
    number = number * 64 + ((bytes[i] as number) & 0x3f);
  }
  let blockSize = BLOCK_SIZES[blockCode] as number;
  const trailing = (blockSize < 0 ? -blockSize / 8 : 0) + (rateCode === 12 ? 1 : rateCode > 12 ? 2 : 0);
  if (end + trailing + 1 > bytes.byteLength) return undefined;
  if (blockSize === -8) blockSize = (bytes[end] as number) + 1;
  else if (blockSize === -16) blockSize = (((bytes[end] as number) << 8) | (bytes[end + 1] as number)) + 1;
  end += trailing;
  if (crc8(bytes.subarray(at, end)) !== bytes[end]) return undefined;
  if (blockSize > stream.maxBlockSize) return undefined;
  const first = variable ? number : number * stream.maxBlockSize;
  return stream.totalSamples > 0 && first >= stream.totalSamples ? undefined : first;
}

/**
 * The first sample of the last frame whose header lies in the file's last
 * 16 KiB, else its last 64 KiB (never before the first frame); undefined when
 * they hold none.
 *
 * @example
 * await lastFrameFirstSample(reader, stream) // 40960
 */
export async function lastFrameFirstSample(
  reader: BlockReader,
  stream: FlacStream,
): Promise<number | undefined> {
  for (const length of FRAME_SEARCH_TAILS) {
    const from = Math.max(stream.audioStart, reader.size - length);
    if (from >= reader.size) return undefined;
    const tail = await reader.read(from, reader.size - from);
    for (let at = tail.byteLength - 6; at >= 0; at--) {
      const first = frameFirstSample(tail, at, stream);
      if (first !== undefined) return first;
    }
    if (from === stream.audioStart) return undefined;
  }
  return undefined;
}

/**
 * The samples STREAMINFO states and those in the whole frames the file holds,
 * when the file ends before its last frame: the last frame header near the
 * end (see {@link lastFrameFirstSample}) starts more than a block before the
 * stated total. The frames before that header are whole; the one it starts
 * may be cut, and a decoder drops a frame whose CRC-16 fails. A file cut
 * inside its last frame is not told from a whole one. Undefined when the
 * total is unknown, no frame header is found, or none is missing.
 *
 * @example
 * await flacShortfall(reader, stream) // { promised: 44100, present: 12288 }
 */
export async function flacShortfall(
  reader: BlockReader,
  stream: FlacStream,
): Promise<{ promised: number; present: number } | undefined> {
  const promised = stream.totalSamples;
  if (promised === 0 || stream.maxBlockSize === 0) return undefined;
  if (reader.size <= stream.audioStart) return { promised, present: 0 };
  const present = await lastFrameFirstSample(reader, stream);
  return present !== undefined && promised - present > stream.maxBlockSize
    ? { promised, present }
    : undefined;
}
