import type { BlockReader } from "../../byte-source/block-reader.js";
import { ContentError } from "../../errors.js";
import { boundedLength, MAX_STRUCTURE_BYTES } from "../../limits.js";
import { textDecoder } from "../../text-decoder.js";
import type { MediaInfo } from "../../types.js";

/*
 * FLV: the file header, the `onMetaData` script tag (AMF0) that encoders put
 * first, and the first audio/video tag headers. Written by hand because no
 * range-reading library decodes FLV; everything needed sits in the first tags.
 */

/** Tags looked at before giving up on metadata and codec flags. */
const MAX_TAGS = 16;

/** AMF0 values decoded before the script data is considered hostile. */
const MAX_AMF_VALUES = 10_000;

/** AMF nesting depth accepted. */
const MAX_AMF_DEPTH = 16;

const VIDEO_CODECS: Readonly<Record<number, string>> = {
  2: "Sorenson H.263",
  3: "Screen video",
  4: "VP6",
  5: "VP6 alpha",
  6: "Screen video 2",
  7: "AVC",
  12: "HEVC",
};

const AUDIO_CODECS: Readonly<Record<number, string>> = {
  0: "PCM",
  1: "ADPCM",
  2: "MP3",
  3: "PCM",
  4: "Nellymoser",
  5: "Nellymoser",
  6: "Nellymoser",
  7: "G.711 A-law",
  8: "G.711 mu-law",
  10: "AAC",
  11: "Speex",
  14: "MP3",
};

/** Sound rates of the audio tag header; AAC always signals 44.1 kHz there. */
const SOUND_RATES = [5512, 11025, 22050, 44100];

type AmfValue = number | boolean | string | null | undefined | AmfValue[] | { [key: string]: AmfValue };

/** A cursor over AMF0 script data with bounds on count and depth. */
class AmfReader {
  private at = 0;
  private count = 0;
  private readonly view: DataView;
  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private need(length: number): void {
    if (this.at + length > this.bytes.byteLength) throw new ContentError("FLV: script data truncated");
  }

  private shortString(): string {
    this.need(2);
    const length = this.view.getUint16(this.at);
    this.at += 2;
    this.need(length);
    const text = textDecoder().decode(this.bytes.subarray(this.at, this.at + length));
    this.at += length;
    return text;
  }

  private properties(depth: number): { [key: string]: AmfValue } {
    const out: { [key: string]: AmfValue } = {};
    for (;;) {
      const key = this.shortString();
      this.need(1);
      if (key === "" && this.bytes[this.at] === 9) {
        this.at += 1;
        return out;
      }
      out[key] = this.value(depth + 1);
    }
  }

  value(depth = 0): AmfValue {
    if (++this.count > MAX_AMF_VALUES || depth > MAX_AMF_DEPTH)
      throw new ContentError("FLV: script data too complex");
    this.need(1);
    const marker = this.bytes[this.at++];
    switch (marker) {
      case 0:
        this.need(8);
        this.at += 8;
        return this.view.getFloat64(this.at - 8);
      case 1:
        this.need(1);
        return this.bytes[this.at++] !== 0;
      case 2:
        return this.shortString();
      case 3:
        return this.properties(depth);
      case 5:
      case 6:
        return null;
      case 8:
        // ECMA array: a count hint, then properties like an object.
        this.need(4);
        this.at += 4;
        return this.properties(depth);
      case 10: {
        this.need(4);
        const length = boundedLength(this.view.getUint32(this.at), MAX_AMF_VALUES, "FLV strict array");
        this.at += 4;
        return Array.from({ length }, () => this.value(depth + 1));
      }
      case 11:
        this.need(10);
        this.at += 10;
        return this.view.getFloat64(this.at - 10);
      case 12: {
        this.need(4);
        const length = this.view.getUint32(this.at);
        this.at += 4;
        this.need(length);
        this.at += length;
        return undefined;
      }
      default:
        throw new ContentError(`FLV: unsupported AMF0 marker ${marker}`);
    }
  }
}

function positive(value: AmfValue): number | undefined {
  return typeof value === "number" && Number.isFinite(value) && value > 0 ? value : undefined;
}

/**
 * Decodes an FLV file's header, `onMetaData` and first audio/video tag headers.
 *
 * @example
 * await readFlvHeader(reader, ctx.warn) // { container: "FLV", codecs: ["Sorenson H.263"], duration: 0.717, width: 268, ... }
 */
export async function readFlvHeader(
  reader: BlockReader,
  warn: (message: string) => void,
): Promise<MediaInfo> {
  const header = await reader.read(0, 9);
  if (header.byteLength < 9 || header[0] !== 0x46 || header[1] !== 0x4c || header[2] !== 0x56) {
    throw new ContentError("FLV: missing signature");
  }
  const media: MediaInfo = { container: "FLV", codecs: [] };
  const hasVideo = ((header[4] as number) & 0x01) !== 0;
  const hasAudio = ((header[4] as number) & 0x04) !== 0;
  let offset = new DataView(header.buffer, header.byteOffset).getUint32(5) + 4;
  let metadata: { [key: string]: AmfValue } | undefined;
  let videoCodec: string | undefined;
  let audioCodec: string | undefined;
  for (let count = 0; count < MAX_TAGS && offset + 11 <= reader.size; count++) {
    const tag = await reader.read(offset, 11);
    if (tag.byteLength < 11) break;
    const type = (tag[0] as number) & 0x1f;
    const size = ((tag[1] as number) << 16) | ((tag[2] as number) << 8) | (tag[3] as number);
    if (type === 18 && !metadata) {
      const body = await reader.read(offset + 11, boundedLength(size, MAX_STRUCTURE_BYTES, "FLV script tag"));
      try {
        const amf = new AmfReader(body);
        if (amf.value() === "onMetaData") {
          const value = amf.value();
          if (value && typeof value === "object" && !Array.isArray(value)) metadata = value;
        }
      } catch (error) {
        if (!(error instanceof ContentError)) throw error;
        warn(error.message);
      }
    } else if (type === 9 && !videoCodec && size > 0) {
      const flags = (await reader.read(offset + 11, 1))[0] ?? 0;
      videoCodec = VIDEO_CODECS[flags & 0x0f] ?? `video codec ${flags & 0x0f}`;
    } else if (type === 8 && !audioCodec && size > 0) {
      const flags = (await reader.read(offset + 11, 1))[0] ?? 0;
      const format = flags >> 4;
      audioCodec = AUDIO_CODECS[format] ?? `audio codec ${format}`;
      if (format !== 10) media.sampleRate = SOUND_RATES[(flags >> 2) & 3];
      media.channels = flags & 1 ? 2 : 1;
    }
    const done = (!hasVideo || videoCodec !== undefined) && (!hasAudio || audioCodec !== undefined);
    if (metadata && done) break;
    offset += 11 + size + 4;
  }

  if (metadata) {
    const duration = positive(metadata.duration);
    const width = positive(metadata.width);
    const height = positive(metadata.height);
    const frameRate = positive(metadata.framerate) ?? positive(metadata.videoframerate);
    const sampleRate = positive(metadata.audiosamplerate);
    const kbps = (positive(metadata.videodatarate) ?? 0) + (positive(metadata.audiodatarate) ?? 0);
    if (duration !== undefined) media.duration = duration;
    if (width !== undefined && height !== undefined) Object.assign(media, { width, height });
    if (frameRate !== undefined) media.frameRate = frameRate;
    if (sampleRate !== undefined && sampleRate > 100) media.sampleRate = sampleRate;
    if (typeof metadata.stereo === "boolean") media.channels = metadata.stereo ? 2 : 1;
    if (kbps > 0) media.bitrate = Math.round(kbps * 1000);
  }
  if (videoCodec) media.codecs.push(videoCodec);
  if (audioCodec) media.codecs.push(audioCodec);
  return media;
}
