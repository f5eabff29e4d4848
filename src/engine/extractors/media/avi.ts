import type { BlockReader } from "../../byte-source/block-reader.js";
import { ContentError } from "../../errors.js";
import { boundedLength, cleanString, MAX_STRUCTURE_BYTES } from "../../limits.js";
import { textDecoder } from "../../text-decoder.js";
import type { MediaInfo } from "../../types.js";
import { fourcc } from "../bytes.js";

/*
 * AVI headers (RIFF `hdrl`: `avih`, then one `strl` with `strh` and `strf` per
 * stream), decoded by hand: music-metadata reads RIFF/WAVE only, and the
 * header list sits at the start of the file, ahead of the `movi` data, and so
 * does the INFO list whose copyright is read. The top-level chunk headers up
 * to `movi` also tell what a file cut short lacks.
 */

/** Chunks visited inside `hdrl`, all levels together. */
const MAX_HEADER_CHUNKS = 4096;

/** WAVEFORMATEX format tags seen in AVI audio streams. */
const AUDIO_FORMATS: Readonly<Record<number, string>> = {
  1: "PCM",
  2: "ADPCM",
  3: "IEEE float",
  6: "A-law",
  7: "mu-law",
  17: "IMA ADPCM",
  80: "MPEG-1 Layer 2",
  85: "MPEG-1 Layer 3",
  255: "AAC",
  353: "WMA",
  8192: "AC-3",
  8193: "DTS",
};

/**
 * Decodes an AVI file's header list.
 *
 * @example
 * await readAviHeader(reader) // { container: "AVI", codecs: ["H264", "AAC"], width: 640, height: 356, ... }
 */
export async function readAviHeader(reader: BlockReader): Promise<MediaInfo> {
  const riff = await reader.read(0, 24);
  if (riff.byteLength < 24 || fourcc(riff, 0) !== "RIFF" || fourcc(riff, 8) !== "AVI ") {
    throw new ContentError("AVI: missing RIFF AVI header");
  }
  if (fourcc(riff, 12) !== "LIST" || fourcc(riff, 20) !== "hdrl")
    throw new ContentError("AVI: hdrl list missing");
  const listSize = boundedLength(
    new DataView(riff.buffer, riff.byteOffset).getUint32(16, true),
    MAX_STRUCTURE_BYTES,
    "AVI hdrl",
  );
  const hdrl = await reader.read(24, listSize - 4);
  const media: MediaInfo = { container: "AVI", codecs: [] };
  let microsPerFrame = 0;
  let totalFrames = 0;
  let visited = 0;

  const walk = (start: number, end: number, streamType: { value?: string }): void => {
    let at = start;
    while (at + 8 <= end) {
      if (++visited > MAX_HEADER_CHUNKS) throw new ContentError("AVI: too many header chunks");
      const view = new DataView(hdrl.buffer, hdrl.byteOffset + at, end - at);
      const id = fourcc(hdrl, at);
      const size = view.getUint32(4, true);
      const bodyEnd = Math.min(end, at + 8 + size);
      const body = new DataView(hdrl.buffer, hdrl.byteOffset + at + 8, bodyEnd - at - 8);
      if (id === "LIST" && body.byteLength >= 4) {
        walk(at + 12, bodyEnd, {});
      } else if (id === "avih" && body.byteLength >= 40) {
        microsPerFrame = body.getUint32(0, true);
        totalFrames = body.getUint32(16, true);
        const width = body.getUint32(32, true);
        const height = body.getUint32(36, true);
        if (width > 0 && height > 0) Object.assign(media, { width, height });
      } else if (id === "strh" && body.byteLength >= 32) {
        streamType.value = fourcc(hdrl, at + 8);
        const scale = body.getUint32(20, true);
        const rate = body.getUint32(24, true);
        if (streamType.value === "vids" && scale > 0 && rate > 0) media.frameRate = rate / scale;
      } else if (id === "strf") {
        decodeStreamFormat(streamType.value, body, hdrl.subarray(at + 8, bodyEnd), media);
      }
      // Chunks are padded to an even size.
      at += 8 + size + (size & 1);
    }
  };
  walk(0, hdrl.byteLength, {});

  if (microsPerFrame > 0 && totalFrames > 0) media.duration = (microsPerFrame * totalFrames) / 1_000_000;
  if (media.frameRate === undefined && microsPerFrame > 0) media.frameRate = 1_000_000 / microsPerFrame;
  const copyright = await readInfoCopyright(reader, 20 + listSize + (listSize & 1));
  if (copyright) media.tags = { copyright };
  return media;
}

/** Top-level chunks looked at after `hdrl` for an INFO list (writers put JUNK padding between). */
const MAX_CHUNKS_BEFORE_INFO = 8;

/** An INFO list beyond this holds more than short text fields. */
const MAX_INFO_BYTES = 64 * 1024;

/**
 * The ICOP field of the RIFF INFO list that follows the header list, as
 * exiftool reads it; the walk stops at the `movi` data. INFO text is
 * NUL-terminated and in no stated character set: Latin-1 keeps every byte.
 */
async function readInfoCopyright(reader: BlockReader, start: number): Promise<string | undefined> {
  let at = start;
  for (let i = 0; i < MAX_CHUNKS_BEFORE_INFO && at + 12 <= reader.size; i++) {
    const header = await reader.read(at, 12);
    if (header.byteLength < 12) return undefined;
    const size = new DataView(header.buffer, header.byteOffset, 12).getUint32(4, true);
    const id = fourcc(header, 0);
    const list = id === "LIST" ? fourcc(header, 8) : undefined;
    if (list === "movi") return undefined;
    if (list === "INFO") {
      // A damaged INFO list costs its copyright, not the stream facts already decoded.
      if (size < 4 || size - 4 > MAX_INFO_BYTES) return undefined;
      const info = await reader.read(at + 12, size - 4);
      for (let field = 0; field + 8 <= info.byteLength; ) {
        const length = new DataView(info.buffer, info.byteOffset + field, 8).getUint32(4, true);
        if (fourcc(info, field) === "ICOP") {
          const text = textDecoder("latin1").decode(info.subarray(field + 8, field + 8 + length));
          return cleanString(text.split("\0")[0]);
        }
        field += 8 + length + (length & 1);
      }
      return undefined;
    }
    at += 8 + size + (size & 1);
  }
  return undefined;
}

/** Top-level chunks looked at for the `movi` list: `hdrl`, then INFO and JUNK padding in the files seen. */
const MAX_CHUNKS_BEFORE_MOVI = 16;

/** What a cut AVI file lacks, from its top-level chunk headers. */
export type AviShortfall =
  /** The file ends before its `movi` list starts: no frame is there. */
  | { lacks: "frames"; promised?: undefined; present?: undefined }
  /** The file ends inside its `movi` list: bytes it declares (after its list type) and bytes present. */
  | { lacks: "frames"; promised: number; present: number }
  /** The frames are whole; the RIFF list's bytes and those present: what follows `movi`, the `idx1` index, is cut. */
  | { lacks: "index"; promised: number; present: number };

/**
 * What an AVI file lacks when it ends before its RIFF list does: its frames
 * (all, or those past the end of its `movi` list), or only the index after
 * them. Only top-level chunk headers are read. A RIFF size of 0 (some
 * streaming writers never fill it in) or one that fits the file says nothing
 * is missing. OpenDML's `AVIX` lists, which follow the first RIFF list in
 * files of a GiB and more, are not followed.
 *
 * @example
 * await aviShortfall(reader) // { lacks: "frames", promised: 42428, present: 16292 }
 */
export async function aviShortfall(reader: BlockReader): Promise<AviShortfall | undefined> {
  const riff = await reader.read(0, 12);
  if (riff.byteLength < 12) return undefined;
  const riffSize = new DataView(riff.buffer, riff.byteOffset, 12).getUint32(4, true);
  if (8 + riffSize <= reader.size) return undefined;
  let at = 12;
  for (let i = 0; i < MAX_CHUNKS_BEFORE_MOVI; i++) {
    if (at + 12 > reader.size) return { lacks: "frames" };
    const header = await reader.read(at, 12);
    const size = new DataView(header.buffer, header.byteOffset, 12).getUint32(4, true);
    if (fourcc(header, 0) === "LIST" && fourcc(header, 8) === "movi") {
      return at + 8 + size > reader.size
        ? { lacks: "frames", promised: size - 4, present: reader.size - (at + 12) }
        : { lacks: "index", promised: riffSize, present: reader.size - 8 };
    }
    at += 8 + size + (size & 1);
  }
  return undefined;
}

function decodeStreamFormat(
  type: string | undefined,
  body: DataView,
  bytes: Uint8Array,
  media: MediaInfo,
): void {
  if (type === "vids" && body.byteLength >= 20) {
    // BITMAPINFOHEADER: size, width, height, planes, bit count, compression.
    const compression = fourcc(bytes, 16).replace(/\0/g, "").trim();
    media.codecs.push(compression || "RGB");
    if (media.width === undefined) {
      media.width = body.getInt32(4, true);
      media.height = Math.abs(body.getInt32(8, true));
    }
  } else if (type === "auds" && body.byteLength >= 16) {
    // WAVEFORMATEX: format tag, channels, samples per second, average bytes per second.
    const tag = body.getUint16(0, true);
    media.codecs.push(AUDIO_FORMATS[tag] ?? `wFormatTag 0x${tag.toString(16).padStart(4, "0")}`);
    media.channels ??= body.getUint16(2, true);
    media.sampleRate ??= body.getUint32(4, true);
  }
}
