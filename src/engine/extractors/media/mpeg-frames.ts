import type { BlockReader } from "../../byte-source/block-reader.js";
import { ContentError } from "../../errors.js";
import { boundedLength } from "../../limits.js";

/*
 * MPEG audio frame headers, read by hand for a constant-bitrate estimate of
 * the duration when music-metadata states none (no Xing/VBRI header and a
 * stream it gave up on), and for a frame count that leaves trailing tags out
 * where music-metadata's own count takes them for audio; and the first
 * frame's Xing, Info or VBRI header, for the bytes a file cut short lacks and
 * a variable-bitrate stream's average bitrate. Only a window after the ID3v2
 * tags is scanned, plus the footers of the tags at the end.
 */

/** Warning that marks a duration worked out from a bitrate rather than stated by the file. */
export const BITRATE_ESTIMATE_WARNING = "duration estimated from the bitrate";

/** Bytes after the ID3v2 tags searched for the first frame. */
export const MPEG_SCAN_BYTES = 64 * 1024;

/** ID3v2 tags skipped in a row at the start (some files carry two or three). */
const MAX_LEADING_TAGS = 4;

const ID3V1_BYTES = 128;

/** APEv2 and Lyrics3v2 blocks stripped in a row before the ID3v1 tag (a file may carry both). */
const MAX_TRAILING_TAGS = 4;

/** APE tag footer: "APETAGEX", version, tag size (items and footer), item count, flags, 8 reserved bytes. */
const APE_FOOTER_BYTES = 32;

/** APE flags bit saying a 32-byte header, which the tag size leaves out, precedes the items. */
const APE_HAS_HEADER = 0x8000_0000;

/** Lyrics3v2 end: the block's size as six ASCII digits, then "LYRICS200". */
const LYRICS3V2_END_BYTES = 15;

/** Frames music-metadata reads before it calls a stream constant-bitrate and sizes its frames by the last. */
const CBR_PROBE_FRAMES = 4;

/** Offset of a VBRI header in its frame: the 4-byte header, then 32 bytes. */
const VBRI_OFFSET = 36;

/** Bitrates in kbit/s by [MPEG-1 or not][layer 1-3][index 1-14]. */
const BITRATES: Readonly<Record<"v1" | "v2", readonly (readonly number[])[]>> = {
  v1: [
    [32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448],
    [32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384],
    [32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
  ],
  v2: [
    [32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256],
    [8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
    [8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
  ],
};

/** Sample rates by version bits (0 = MPEG 2.5, 2 = MPEG 2, 3 = MPEG 1) and index. */
const SAMPLE_RATES: Readonly<Record<number, readonly number[]>> = {
  0: [11_025, 12_000, 8_000],
  2: [22_050, 24_000, 16_000],
  3: [44_100, 48_000, 32_000],
};

/** One decoded MPEG audio frame header. */
export interface MpegFrameHeader {
  /** Version bits: 0 = MPEG 2.5, 2 = MPEG 2, 3 = MPEG 1. */
  versionBits: number;
  layer: 1 | 2 | 3;
  /** Bits per second. */
  bitrate: number;
  sampleRate: number;
  /** Bytes of the whole frame, header included. */
  length: number;
  /** Audio samples per channel the frame holds (384, 1152 or 576). */
  samplesPerFrame: number;
  padded: boolean;
  mono: boolean;
}

/**
 * Decodes the 4-byte frame header at `at`, or undefined when those bytes are
 * not one (no sync, a reserved version, layer, bitrate, sample rate or emphasis;
 * free-format bitrates are refused too, since they give no frame length).
 *
 * @example
 * parseMpegFrameHeader(Uint8Array.of(0xff, 0xfb, 0x90, 0x44), 0)
 * // { versionBits: 3, layer: 3, bitrate: 128000, sampleRate: 44100, length: 417,
 * //   samplesPerFrame: 1152, padded: false, mono: false }
 */
export function parseMpegFrameHeader(bytes: Uint8Array, at: number): MpegFrameHeader | undefined {
  if (at < 0 || at + 4 > bytes.byteLength) return undefined;
  const b0 = bytes[at] as number;
  const b1 = bytes[at + 1] as number;
  const b2 = bytes[at + 2] as number;
  const b3 = bytes[at + 3] as number;
  if (b0 !== 0xff || (b1 & 0xe0) !== 0xe0) return undefined;
  const versionBits = (b1 >> 3) & 3;
  const layerBits = (b1 >> 1) & 3;
  const bitrateIndex = b2 >> 4;
  const rateIndex = (b2 >> 2) & 3;
  if (versionBits === 1 || layerBits === 0 || bitrateIndex === 0 || bitrateIndex === 15 || rateIndex === 3)
    return undefined;
  if ((b3 & 3) === 2) return undefined;
  const layer = (4 - layerBits) as 1 | 2 | 3;
  const bitrates = BITRATES[versionBits === 3 ? "v1" : "v2"][layer - 1] as readonly number[];
  const bitrate = (bitrates[bitrateIndex - 1] as number) * 1000;
  const sampleRate = (SAMPLE_RATES[versionBits] as readonly number[])[rateIndex] as number;
  const padding = (b2 >> 1) & 1;
  const length =
    layer === 1
      ? (Math.floor((12 * bitrate) / sampleRate) + padding) * 4
      : Math.floor(((layer === 3 && versionBits !== 3 ? 72 : 144) * bitrate) / sampleRate) + padding;
  const samplesPerFrame = layer === 1 ? 384 : layer === 3 && versionBits !== 3 ? 576 : 1152;
  const mono = b3 >> 6 === 3;
  return {
    versionBits,
    layer,
    bitrate,
    sampleRate,
    length,
    samplesPerFrame,
    padded: padding === 1,
    mono,
  };
}

function sameStream(a: MpegFrameHeader, b: MpegFrameHeader): boolean {
  return a.versionBits === b.versionBits && a.layer === b.layer && a.sampleRate === b.sampleRate;
}

/** A constant-bitrate duration estimate and the figures it rests on. */
export interface MpegEstimate {
  duration: number;
  /** The first frame's bitrate, in bits per second. */
  bitrate: number;
  /** Where the audio may start: after the ID3v2 tags at the start of the file. */
  audioStart: number;
  /** Offset of the first frame confirmed by the one after it. */
  firstFrame: number;
  /** Where the audio ends: the file's end, or the start of the tags after it (APEv2, Lyrics3v2, ID3v1). */
  audioEnd: number;
}

/**
 * End of the ID3v2 tags at the start of the file (0 when there are none).
 *
 * @example
 * await leadingTagsEnd(reader) // 2410
 */
export async function leadingTagsEnd(reader: BlockReader): Promise<number> {
  let at = 0;
  for (let tags = 0; tags < MAX_LEADING_TAGS; tags++) {
    const header = await reader.read(at, 10);
    if (header.byteLength < 10 || header[0] !== 0x49 || header[1] !== 0x44 || header[2] !== 0x33) break;
    const sizeBytes = header.subarray(6, 10);
    if (sizeBytes.some((byte) => byte >= 0x80)) break;
    const size = sizeBytes.reduce((sum, byte) => sum * 128 + byte, 0);
    const footer = ((header[5] as number) & 0x10) !== 0 ? 10 : 0;
    at += 10 + boundedLength(size, reader.size, "ID3v2 tag") + footer;
  }
  return at;
}

function ascii(bytes: Uint8Array, from: number, to: number): string {
  return String.fromCharCode(...bytes.subarray(from, to));
}

/**
 * Bytes of the APEv2 (or APEv1) tag or Lyrics3v2 block ending at `end`, 0 when
 * neither does. Only their footers are read: the first ones lie in the tail
 * the engine fetches up front, and only a footer behind a tag larger than that
 * tail costs a read of its own. The sizes they state are bounded by the bytes
 * between the leading tags and `end`.
 */
async function trailingTagLength(reader: BlockReader, audioStart: number, end: number): Promise<number> {
  const room = end - audioStart;
  if (room >= APE_FOOTER_BYTES) {
    const footer = await reader.read(end - APE_FOOTER_BYTES, APE_FOOTER_BYTES);
    if (ascii(footer, 0, 8) === "APETAGEX") {
      const view = new DataView(footer.buffer, footer.byteOffset, APE_FOOTER_BYTES);
      const size = view.getUint32(12, true);
      if (size < APE_FOOTER_BYTES) throw new ContentError(`APE tag: size ${size} is smaller than its footer`);
      const header = (view.getUint32(20, true) & APE_HAS_HEADER) !== 0 ? APE_FOOTER_BYTES : 0;
      return boundedLength(size + header, room, "APE tag");
    }
  }
  if (room >= LYRICS3V2_END_BYTES) {
    const last = await reader.read(end - LYRICS3V2_END_BYTES, LYRICS3V2_END_BYTES);
    const digits = ascii(last, 0, 6);
    if (ascii(last, 6, 15) === "LYRICS200" && /^\d{6}$/.test(digits)) {
      // The stated size runs from "LYRICSBEGIN" up to the digits themselves.
      return boundedLength(Number(digits) + LYRICS3V2_END_BYTES, room, "Lyrics3v2 block");
    }
  }
  return 0;
}

/** True when the file ends with an ID3v1 tag ("TAG" and 125 bytes) after `audioStart`. */
async function hasId3v1(reader: BlockReader, audioStart: number): Promise<boolean> {
  if (reader.size - audioStart < ID3V1_BYTES) return false;
  const tag = await reader.read(reader.size - ID3V1_BYTES, 3);
  return tag[0] === 0x54 && tag[1] === 0x41 && tag[2] === 0x47;
}

/** Where the audio ends: before an ID3v1 tag and the APEv2 and Lyrics3v2 blocks in front of it. */
async function trailingTagsStart(reader: BlockReader, audioStart: number): Promise<number> {
  let end = reader.size - ((await hasId3v1(reader, audioStart)) ? ID3V1_BYTES : 0);
  for (let tags = 0; tags < MAX_TRAILING_TAGS; tags++) {
    const length = await trailingTagLength(reader, audioStart, end);
    if (length === 0) break;
    end -= length;
  }
  return end;
}

/** The first frame in the window after `audioStart` that the next frame header (or the audio's end) confirms. */
async function findFirstFrame(
  reader: BlockReader,
  audioStart: number,
  audioEnd: number,
): Promise<{ at: number; header: MpegFrameHeader } | undefined> {
  const window = await reader.read(audioStart, Math.min(MPEG_SCAN_BYTES, audioEnd - audioStart));
  for (let i = 0; i + 4 <= window.byteLength; i++) {
    if (window[i] !== 0xff) continue;
    const header = parseMpegFrameHeader(window, i);
    if (!header) continue;
    const at = audioStart + i;
    const next = at + header.length;
    let confirmed = next === audioEnd;
    if (!confirmed && next + 4 <= audioEnd) {
      const inWindow = next - audioStart + 4 <= window.byteLength;
      const bytes = inWindow ? window : await reader.read(next, 4);
      const following = parseMpegFrameHeader(bytes, inWindow ? next - audioStart : 0);
      confirmed = following !== undefined && sameStream(header, following);
    }
    if (confirmed) return { at, header };
  }
  return undefined;
}

/**
 * Where an MPEG audio file's audio lies: from the end of the ID3v2 tags in
 * front to the start of the tags at the end (with `appendedTags: "counted"`,
 * to the ID3v1 tag or the file's end; see {@link estimateMpegDuration}), and
 * the first frame in it. Undefined when there is no room for a frame header
 * or no frame.
 */
async function audioSpan(
  reader: BlockReader,
  options: { appendedTags?: "left out" | "counted" },
): Promise<
  { audioStart: number; audioEnd: number; first: { at: number; header: MpegFrameHeader } } | undefined
> {
  const audioStart = await leadingTagsEnd(reader);
  if (reader.size - audioStart < 4) return undefined;
  const audioEnd =
    options.appendedTags === "counted"
      ? reader.size - ((await hasId3v1(reader, audioStart)) ? ID3V1_BYTES : 0)
      : await trailingTagsStart(reader, audioStart);
  if (audioEnd - audioStart < 4) return undefined;
  const first = await findFirstFrame(reader, audioStart, audioEnd);
  return first && { audioStart, audioEnd, first };
}

/**
 * Estimates an MPEG audio file's duration as a constant-bitrate stream, as
 * exiftool and ffmpeg do without a Xing/VBRI header: the bytes from the
 * first frame to the end of the audio (before the APEv2, Lyrics3v2 and ID3v1
 * tags at the end of the file), over the first frame's bitrate. Unlike
 * exiftool, a frame counts as the first only when the next frame header
 * follows at its computed length (or the audio ends there), so sync-like
 * bytes inside a damaged tag are not taken for audio.
 *
 * With `appendedTags: "counted"`, for a stream whose APE tag at the end states
 * a size that does not fit (music-metadata's parse already failed on it), the
 * audio runs to the ID3v1 tag or the file's end, footer included, as
 * music-metadata's own count does; 32 bytes of it weigh less than a frame.
 *
 * @example
 * await estimateMpegDuration(reader) // { duration: 0.496325, bitrate: 320000, audioStart: 2048, firstFrame: 3343, audioEnd: 23196 }
 */
export async function estimateMpegDuration(
  reader: BlockReader,
  options: { appendedTags?: "left out" | "counted" } = {},
): Promise<MpegEstimate | undefined> {
  const span = await audioSpan(reader, options);
  if (!span) return undefined;
  const { audioStart, audioEnd, first } = span;
  const duration = ((audioEnd - first.at) * 8) / first.header.bitrate;
  return { duration, bitrate: first.header.bitrate, audioStart, firstFrame: first.at, audioEnd };
}

/** Where a constant-bitrate stream's frames lie and what one holds, for counting them. */
export interface MpegFrameLayout {
  /** Offset of the first frame. */
  firstFrame: number;
  /** Where the audio ends: before the APEv2, Lyrics3v2 and ID3v1 tags at the end of the file. */
  audioEnd: number;
  /** Where the ID3v1 tag at the end starts; the file's size when there is none. */
  id3v1Start: number;
  /**
   * Bytes per frame for the count: the fourth frame's nominal length, the
   * figure music-metadata divides by, so a file with tags at the end counts
   * as many frames as the same file without them.
   */
  frameBytes: number;
  samplesPerFrame: number;
  sampleRate: number;
}

/**
 * Bytes music-metadata takes a frame to hold: samples / 8 x bitrate / sample
 * rate, plus the padding slot, rounded down (for Layer I not in whole 4-byte
 * slots, unlike the frame's real length).
 */
function nominalFrameBytes(header: MpegFrameHeader): number {
  const slot = header.layer === 1 ? 4 : 1;
  return Math.floor(
    ((header.samplesPerFrame / 8) * header.bitrate) / header.sampleRate + (header.padded ? slot : 0),
  );
}

/** What a stream-length header in the first frame states: its tag, and the frames and bytes it counts. */
interface StreamLengthHeader {
  tag: "Xing" | "Info" | "VBRI";
  /** Frames in the stream, when the header counts them. */
  frames?: number;
  /** Bytes of the stream, the header's own frame included, when the header counts them. */
  bytes?: number;
}

/** Xing/Info flags: a frame count follows, then a byte count. */
const XING_FRAMES = 1;
const XING_BYTES = 2;

/** Which stream-length header the first frame carries (Xing or Info after the side information, VBRI at 36), with its counts. */
async function streamHeaderOf(
  reader: BlockReader,
  at: number,
  header: MpegFrameHeader,
): Promise<StreamLengthHeader | undefined> {
  const sideInfo =
    header.layer !== 3 ? 2 : header.versionBits === 3 ? (header.mono ? 17 : 32) : header.mono ? 9 : 17;
  // The VBRI header runs 18 bytes from its tag to its frame count; Xing 16 to its byte count.
  const bytes = await reader.read(at, Math.max(VBRI_OFFSET + 18, 6 + sideInfo + 16));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u32 = (offset: number) => (offset + 4 <= bytes.byteLength ? view.getUint32(offset) : undefined);
  // music-metadata looks straight after the side information, a CRC or not; the specification puts the CRC first.
  for (const offset of [4 + sideInfo, 6 + sideInfo]) {
    const tag = ascii(bytes, offset, offset + 4);
    if (tag !== "Xing" && tag !== "Info") continue;
    const flags = u32(offset + 4) ?? 0;
    const frames = flags & XING_FRAMES ? u32(offset + 8) : undefined;
    const streamBytes = flags & XING_BYTES ? u32(offset + (flags & XING_FRAMES ? 12 : 8)) : undefined;
    return {
      tag,
      ...(frames !== undefined && { frames }),
      ...(streamBytes !== undefined && { bytes: streamBytes }),
    };
  }
  if (ascii(bytes, VBRI_OFFSET, VBRI_OFFSET + 4) !== "VBRI") return undefined;
  // VBRI: tag, version, delay and quality (2 bytes each), then the byte and frame counts.
  const streamBytes = u32(VBRI_OFFSET + 10);
  const frames = u32(VBRI_OFFSET + 14);
  return {
    tag: "VBRI",
    ...(frames !== undefined && { frames }),
    ...(streamBytes !== undefined && { bytes: streamBytes }),
  };
}

/**
 * Reads the layout of a constant-bitrate MPEG audio stream: its first frame,
 * where its audio ends before the tags at the end of the file, and the frame
 * size and samples to count it by. Undefined when the first frame carries a
 * Xing, Info or VBRI header (the stream states its own length), or when four
 * frames of one stream do not follow each other from the first.
 * The trailing tags are read only after those checks pass.
 *
 * @example
 * const layout = await readMpegFrameLayout(reader);
 * if (layout) mpegFramesDuration(layout, layout.audioEnd) // 78.367 for 3000 frames of 1152 samples at 44.1 kHz
 */
export async function readMpegFrameLayout(reader: BlockReader): Promise<MpegFrameLayout | undefined> {
  const audioStart = await leadingTagsEnd(reader);
  if (reader.size - audioStart < 4) return undefined;
  const first = await findFirstFrame(reader, audioStart, reader.size);
  if (!first || (await streamHeaderOf(reader, first.at, first.header)) !== undefined) return undefined;
  let last = first.header;
  let next = first.at + first.header.length;
  for (let frame = 2; frame <= CBR_PROBE_FRAMES; frame++) {
    const header = parseMpegFrameHeader(await reader.read(next, 4), 0);
    if (!header || !sameStream(first.header, header)) return undefined;
    last = header;
    next += header.length;
  }
  const audioEnd = await trailingTagsStart(reader, audioStart);
  if (next > audioEnd) return undefined;
  const id3v1Start = reader.size - ((await hasId3v1(reader, audioStart)) ? ID3V1_BYTES : 0);
  return {
    firstFrame: first.at,
    audioEnd,
    id3v1Start,
    frameBytes: nominalFrameBytes(last),
    samplesPerFrame: first.header.samplesPerFrame,
    sampleRate: first.header.sampleRate,
  };
}

/**
 * Duration of the frames from the layout's first frame up to `end`, counted
 * as music-metadata counts a constant-bitrate stream: the bytes over the
 * frame size, rounded to whole frames, times the samples per frame.
 *
 * @example
 * mpegFramesDuration(layout, layout.audioEnd) // 78.36734693877551
 */
export function mpegFramesDuration(layout: MpegFrameLayout, end: number): number {
  const frames = Math.round((end - layout.firstFrame) / layout.frameBytes);
  return (frames * layout.samplesPerFrame) / layout.sampleRate;
}

/** Where a variable-bitrate stream's audio lies: its first frame, and the start of the tags at the end. */
export interface MpegAudioExtent {
  firstFrame: number;
  audioEnd: number;
}

/**
 * The extent of a variable-bitrate MPEG audio stream, one whose first frame
 * carries a Xing header (an Info header marks a constant-bitrate one):
 * undefined for any other stream. Its average bitrate is these bytes over
 * the duration the header states, as exiftool and music-metadata work it out,
 * with every tag at the end left out, an ID3v1 tag whose fields are all empty included.
 *
 * @example
 * const extent = await readVbrExtent(reader); // { firstFrame: 371, audioEnd: 8192 }
 */
export async function readVbrExtent(reader: BlockReader): Promise<MpegAudioExtent | undefined> {
  const audioStart = await leadingTagsEnd(reader);
  if (reader.size - audioStart < 4) return undefined;
  const audioEnd = await trailingTagsStart(reader, audioStart);
  if (audioEnd - audioStart < 4) return undefined;
  const first = await findFirstFrame(reader, audioStart, audioEnd);
  if (!first || (await streamHeaderOf(reader, first.at, first.header))?.tag !== "Xing") return undefined;
  return { firstFrame: first.at, audioEnd };
}

/** A stream-length header that counts more audio than the file holds, and the audio that is there. */
export interface MpegShortfall {
  /** The header that states the length: Xing, Info or VBRI. */
  tag: string;
  /** Bytes of audio the header promises, counted from its own frame. */
  promised: number;
  /** Bytes of audio the file holds from that frame up to the tags at its end. */
  present: number;
}

/**
 * Whether the file ends before the stream its Xing, Info or VBRI header
 * counts: the header's byte count, or (with none, and only in an Info
 * header, which marks a constant bitrate) its frame count times the first
 * frame's length, against the bytes from the first frame to the tags at the
 * end of the file. A file cut short this way plays for a share of the
 * duration the header states; a player cannot tell until it gets there.
 * Undefined for a stream with no such header, or one the file holds in full.
 * Headers that count the ID3v2 tags in front of the audio as well pass:
 * the bytes before the first frame are allowed for. With `appendedTags:
 * "counted"` (for tags at the end whose stated sizes do not fit), the audio
 * runs to the ID3v1 tag or the file's end, as in {@link estimateMpegDuration}.
 *
 * @example
 * await readMpegShortfall(reader) // { tag: "Info", promised: 1732439, present: 4016 }
 */
export async function readMpegShortfall(
  reader: BlockReader,
  options: { appendedTags?: "left out" | "counted" } = {},
): Promise<MpegShortfall | undefined> {
  const span = await audioSpan(reader, options);
  if (!span) return undefined;
  const { audioEnd, first } = span;
  const stated = await streamHeaderOf(reader, first.at, first.header);
  if (!stated) return undefined;
  // Without a byte count, only a constant-bitrate stream's frame count says how many bytes it spans.
  const promised =
    stated.bytes ??
    (stated.tag === "Info" && stated.frames ? stated.frames * first.header.length : undefined);
  const present = audioEnd - first.at;
  // A frame's padding byte and tags some encoders count along with the audio fall within the allowance.
  const allowance = first.at + first.header.length;
  if (promised === undefined || promised <= present + allowance) return undefined;
  return { tag: stated.tag, promised, present };
}
