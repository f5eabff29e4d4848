import type { BlockReader } from "../../byte-source/block-reader.js";
import { ContentError } from "../../errors.js";
import type { MediaInfo } from "../../types.js";
import { fourcc } from "../bytes.js";

/*
 * Sun/NeXT audio (`.au`, `.snd`), read by hand: music-metadata has no parser
 * for it, and its whole description is a 24-byte big-endian header (data
 * offset, data size, encoding, rate, channels) before an optional annotation.
 */

/** The data size a writer that streamed the file, not knowing it, leaves in the header. */
const UNKNOWN_SIZE = 0xffffffff;

/** Codec names and bits per sample of the encodings in use; the ADPCM ones pack samples unevenly. */
const ENCODINGS: Readonly<Record<number, { codec: string; bits?: number }>> = {
  1: { codec: "µ-law", bits: 8 },
  2: { codec: "PCM", bits: 8 },
  3: { codec: "PCM", bits: 16 },
  4: { codec: "PCM", bits: 24 },
  5: { codec: "PCM", bits: 32 },
  6: { codec: "32-bit float", bits: 32 },
  7: { codec: "64-bit float", bits: 64 },
  23: { codec: "G.721 ADPCM", bits: 4 },
  24: { codec: "G.722" },
  25: { codec: "G.723 ADPCM", bits: 3 },
  26: { codec: "G.723 ADPCM", bits: 5 },
  27: { codec: "A-law", bits: 8 },
};

/** A Sun/NeXT audio file's header, and how many of the data bytes it declares the file holds. */
export interface AuHeader {
  media: MediaInfo;
  /** Set when the header declares more data bytes than follow it. */
  shortfall?: { promised: number; present: number };
}

/** Whether `head` (at least 4 bytes) opens a Sun/NeXT audio file. */
export function isAu(head: Uint8Array): boolean {
  return head.byteLength >= 4 && fourcc(head, 0) === ".snd";
}

/**
 * The sound a Sun/NeXT audio file holds: encoding, rate, channels, and the
 * duration of the data its header declares (of the bytes after the header
 * when it declares an unknown size).
 *
 * @example
 * await readAuHeader(reader) // { media: { container: "AU", codecs: ["PCM"], sampleRate: 11025, channels: 2, duration: 1, bitrate: 352800 } }
 */
export async function readAuHeader(reader: BlockReader): Promise<AuHeader> {
  const head = await reader.read(0, 24);
  if (!isAu(head)) throw new ContentError("AU: missing .snd magic number");
  if (head.byteLength < 24) throw new ContentError("truncated: AU header cut short");
  const view = new DataView(head.buffer, head.byteOffset, 24);
  const dataOffset = view.getUint32(4);
  const declared = view.getUint32(8);
  const encoding = view.getUint32(12);
  const sampleRate = view.getUint32(16);
  const channels = view.getUint32(20);
  if (dataOffset < 24) throw new ContentError(`AU: data offset ${dataOffset} lies inside the header`);
  const known = ENCODINGS[encoding];
  const media: MediaInfo = { container: "AU", codecs: [known?.codec ?? `encoding ${encoding}`] };
  if (sampleRate > 0) media.sampleRate = sampleRate;
  if (channels > 0) media.channels = channels;
  const present = Math.max(0, reader.size - dataOffset);
  const promised = declared === UNKNOWN_SIZE ? present : declared;
  if (known?.bits && sampleRate > 0 && channels > 0) {
    media.bitrate = known.bits * sampleRate * channels;
    media.duration = (promised * 8) / media.bitrate;
  }
  return promised > present ? { media, shortfall: { promised, present } } : { media };
}
