import type { BlockReader } from "../../byte-source/block-reader.js";
import { ContentError } from "../../errors.js";
import { boundedLength, cleanString } from "../../limits.js";
import { textDecoder } from "../../text-decoder.js";
import type { MediaInfo } from "../../types.js";
import { fourcc } from "../bytes.js";

/*
 * Amiga 8SVX sound (EA IFF 85), read by hand: it shares AIFF's `FORM`
 * container, so it is detected as AIFF is (as `file` and shared-mime-info
 * name it), but music-metadata parses only AIFF and AIFC and throws on it.
 * The chunks are few and small: `VHDR` (counts and rate), `CHAN` (stereo),
 * the text chunks `NAME`, `AUTH`, `(c) ` and `ANNO`, then `BODY`, the samples.
 */

/** Chunks visited before the walk gives up. */
const MAX_8SVX_CHUNKS = 256;

/** The longest text chunk read (a name, an author, a copyright line). */
const MAX_TEXT_CHUNK_BYTES = 4096;

/** `CHAN`'s value for a stereo voice: left (2) and right (4). */
const CHAN_STEREO = 6;

/** `VHDR`'s sCompression values. */
const COMPRESSIONS: Record<number, string> = { 0: "PCM S8", 1: "Fibonacci delta" };

/** Whether `head` (at least 12 bytes) opens an 8SVX file. */
export function is8svx(head: Uint8Array): boolean {
  return head.byteLength >= 12 && fourcc(head, 0) === "FORM" && fourcc(head, 8) === "8SVX";
}

/**
 * The sound an 8SVX file holds: its rate, channels, encoding, and duration
 * from the one-shot and repeat sample counts of its highest octave (the
 * samples of one channel), or, when both are zero, from the `BODY` size of
 * uncompressed data; and the title, author and copyright its text chunks give.
 *
 * @example
 * await read8svx(reader) // { container: "8SVX", codecs: ["PCM S8"], sampleRate: 44100, channels: 2, duration: 0.000113 }
 */
export async function read8svx(reader: BlockReader): Promise<MediaInfo> {
  const head = await reader.read(0, 12);
  if (!is8svx(head)) throw new ContentError("8SVX: missing FORM 8SVX header");
  let header: { samples: number; rate: number; octaves: number; compression: number } | undefined;
  let channels = 1;
  let bodySize: number | undefined;
  const tags: NonNullable<MediaInfo["tags"]> = {};
  let at = 12;
  for (let visited = 0; at + 8 <= reader.size && bodySize === undefined; visited++) {
    if (visited >= MAX_8SVX_CHUNKS)
      throw new ContentError(`8SVX: more than ${MAX_8SVX_CHUNKS} chunks before BODY`);
    const chunk = await reader.read(at, 8);
    if (chunk.byteLength < 8) break;
    const id = fourcc(chunk, 0);
    const size = new DataView(chunk.buffer, chunk.byteOffset, 8).getUint32(4);
    const body = at + 8;
    if (id === "VHDR" && size >= 20) {
      const vhdr = await reader.read(body, 20);
      if (vhdr.byteLength < 20) throw new ContentError("8SVX: VHDR chunk cut short");
      const view = new DataView(vhdr.buffer, vhdr.byteOffset, 20);
      header = {
        samples: view.getUint32(0) + view.getUint32(4),
        rate: view.getUint16(12),
        octaves: vhdr[14] as number,
        compression: vhdr[15] as number,
      };
    } else if (id === "CHAN" && size >= 4) {
      const chan = await reader.read(body, 4);
      if (chan.byteLength === 4 && new DataView(chan.buffer, chan.byteOffset, 4).getUint32(0) === CHAN_STEREO)
        channels = 2;
    } else if (id === "NAME" || id === "AUTH" || id === "(c) ") {
      const text = cleanString(
        textDecoder("latin1").decode(await reader.read(body, Math.min(size, MAX_TEXT_CHUNK_BYTES))),
      );
      if (text) tags[id === "NAME" ? "title" : id === "AUTH" ? "artist" : "copyright"] = text;
    } else if (id === "BODY") {
      bodySize = Math.min(size, reader.size - body);
    }
    at = body + boundedLength(size, Number.MAX_SAFE_INTEGER, `8SVX ${id.trim()} chunk`) + (size & 1);
  }
  if (!header) throw new ContentError("8SVX: no VHDR chunk");
  const media: MediaInfo = {
    container: "8SVX",
    codecs: [COMPRESSIONS[header.compression] ?? `compression ${header.compression}`],
    channels,
    ...(header.rate > 0 && { sampleRate: header.rate }),
    ...(Object.keys(tags).length > 0 && { tags }),
  };
  // The counts are per channel; uncompressed data of one octave is one byte per sample per channel.
  const samples =
    header.samples > 0
      ? header.samples
      : header.compression === 0 && header.octaves <= 1 && bodySize !== undefined
        ? Math.floor(bodySize / channels)
        : 0;
  if (samples > 0 && header.rate > 0) media.duration = samples / header.rate;
  return media;
}
