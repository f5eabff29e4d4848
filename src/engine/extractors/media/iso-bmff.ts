import type { BlockReader } from "../../byte-source/block-reader.js";
import { ContentError } from "../../errors.js";
import { boundedLength, cleanString, MAX_STRUCTURE_BYTES } from "../../limits.js";

/*
 * A bounded walk of an ISO-BMFF / QuickTime `moov` box, written by hand because
 * music-metadata's MP4 parser reports neither video dimensions nor frame rate,
 * and for QuickTime files (`qt  ` brand) often no duration or audio format.
 * Only top-level box headers are read on the way to `moov`, so a `moov` stored
 * after a large `mdat` costs one header read per box, never the media body.
 */

/** Top-level boxes visited before giving up on finding `moov`. */
const MAX_TOP_LEVEL_BOXES = 1024;

/** Nested boxes visited inside `moov`, all levels together. */
const MAX_MOOV_BOXES = 20_000;

/** Containers whose children the walk descends into. */
const CONTAINER_BOXES = new Set(["moov", "trak", "mdia", "minf", "stbl", "edts"]);

/** One track as its `tkhd`, `mdhd`, `hdlr`, `stsd` and `stts` boxes describe it. */
export interface MovieTrack {
  /** `hdlr` handler type: `vide`, `soun`, `text`, `meta`, `hint` ... */
  handler?: string;
  /** Sample entry four-character code of the first `stsd` entry (`avc1`, `mp4a`, `jpeg` ...). */
  codec?: string;
  /** Presentation size from `tkhd` (16.16 fixed point, rounded). */
  width?: number;
  height?: number;
  /** Coded size from a visual sample entry, used when `tkhd` states none. */
  codedWidth?: number;
  codedHeight?: number;
  sampleRate?: number;
  channels?: number;
  /** `mdhd` timescale (units per second) and duration in those units. */
  timescale?: number;
  mediaDuration?: number;
  /** Samples and their summed durations from `stts`, for the frame rate. */
  sampleCount?: number;
  sampleTicks?: number;
}

/** What the `moov` box states. */
export interface MovieHeader {
  /** `mvhd` duration in seconds, absent when zero (fragmented files). */
  duration?: number;
  tracks: MovieTrack[];
  /** 3GPP asset boxes in the movie's `udta` (`titl`, `auth`), which music-metadata does not read. */
  title?: string;
  artist?: string;
}

/** Longest 3GPP asset string decoded, in bytes. */
const MAX_ASSET_STRING_BYTES = 4096;

/**
 * A 3GPP asset string box body (TS 26.244 section 8): version and flags, a
 * pad bit and packed ISO-639-2 language in two bytes, then a string that is
 * UTF-16 when it starts with a BOM and UTF-8 otherwise, NUL-terminated.
 */
function assetString(content: Uint8Array): string | undefined {
  if (content.byteLength <= 6) return undefined;
  const bytes = content.subarray(6, 6 + MAX_ASSET_STRING_BYTES);
  const bigEndian = bytes[0] === 0xfe && bytes[1] === 0xff;
  const littleEndian = bytes[0] === 0xff && bytes[1] === 0xfe;
  let text: string;
  if (bigEndian || littleEndian) {
    text = new TextDecoder(bigEndian ? "utf-16be" : "utf-16le").decode(bytes.subarray(2));
  } else {
    text = new TextDecoder("utf-8").decode(bytes);
  }
  const end = text.indexOf("\0");
  return cleanString(end >= 0 ? text.slice(0, end) : text);
}

function fourcc(bytes: Uint8Array, at: number): string {
  return String.fromCharCode(...bytes.subarray(at, at + 4));
}

/**
 * Finds the `moov` box by following top-level box sizes and decodes it.
 * Returns undefined when the file has no `moov` box.
 *
 * @example
 * const movie = await readMovieHeader(reader);
 * movie?.tracks.find((t) => t.handler === "vide")?.width // 1920
 */
export async function readMovieHeader(reader: BlockReader): Promise<MovieHeader | undefined> {
  let offset = 0;
  for (let count = 0; count < MAX_TOP_LEVEL_BOXES && offset + 8 <= reader.size; count++) {
    const header = await reader.read(offset, 16);
    if (header.byteLength < 8) break;
    const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
    const type = fourcc(header, 4);
    let size = view.getUint32(0);
    let headerSize = 8;
    if (size === 1) {
      if (header.byteLength < 16) throw new ContentError(`ISO-BMFF: box ${type} truncated at ${offset}`);
      size = Number(view.getBigUint64(8));
      headerSize = 16;
    } else if (size === 0) {
      size = reader.size - offset;
    }
    if (size < headerSize) throw new ContentError(`ISO-BMFF: box ${type} at ${offset} has size ${size}`);
    if (type === "moov") {
      const length = boundedLength(size - headerSize, MAX_STRUCTURE_BYTES, "moov box");
      const body = await reader.read(offset + headerSize, length);
      if (body.byteLength < length) throw new ContentError("ISO-BMFF: moov box truncated");
      return decodeMoov(body);
    }
    offset += size;
  }
  return undefined;
}

/**
 * Decodes the children of a `moov` box body (the bytes after its header).
 *
 * @example
 * decodeMoov(moovBody).duration // 13.347
 */
export function decodeMoov(body: Uint8Array): MovieHeader {
  const movie: MovieHeader = { tracks: [] };
  let visited = 0;
  const walk = (start: number, end: number, track: MovieTrack | undefined): void => {
    let at = start;
    while (at + 8 <= end) {
      if (++visited > MAX_MOOV_BOXES) throw new ContentError("ISO-BMFF: too many boxes in moov");
      const view = new DataView(body.buffer, body.byteOffset + at, end - at);
      let size = view.getUint32(0);
      const type = fourcc(body, at + 4);
      let headerSize = 8;
      if (size === 1 && at + 16 <= end) {
        size = Number(view.getBigUint64(8));
        headerSize = 16;
      } else if (size === 0) {
        size = end - at;
      }
      if (size < headerSize || at + size > end) {
        throw new ContentError(`ISO-BMFF: box ${type} overruns its parent`);
      }
      const content = body.subarray(at + headerSize, at + size);
      if (type === "trak") {
        const child: MovieTrack = {};
        movie.tracks.push(child);
        walk(at + headerSize, at + size, child);
      } else if (CONTAINER_BOXES.has(type)) {
        walk(at + headerSize, at + size, track);
      } else if (type === "mvhd") {
        decodeMvhd(content, movie);
      } else if (type === "udta" && !track) {
        walk(at + headerSize, at + size, undefined);
      } else if ((type === "titl" || type === "auth") && !track) {
        const field = type === "titl" ? "title" : "artist";
        const value = movie[field] ?? assetString(content);
        if (value !== undefined) movie[field] = value;
      } else if (track) {
        decodeTrackBox(type, content, track);
      }
      at += size;
    }
  };
  walk(0, body.byteLength, undefined);
  return movie;
}

function viewOf(content: Uint8Array): DataView {
  return new DataView(content.buffer, content.byteOffset, content.byteLength);
}

/** Reads the timescale and duration shared by `mvhd` and `mdhd` (version 0: 32-bit, 1: 64-bit). */
function timescaleAndDuration(content: Uint8Array): { timescale: number; duration: number } | undefined {
  const view = viewOf(content);
  const version = content[0];
  if (version === 1 && content.byteLength >= 32) {
    return { timescale: view.getUint32(20), duration: Number(view.getBigUint64(24)) };
  }
  if (content.byteLength >= 20) return { timescale: view.getUint32(12), duration: view.getUint32(16) };
  return undefined;
}

function decodeMvhd(content: Uint8Array, movie: MovieHeader): void {
  const header = timescaleAndDuration(content);
  // All ones means "unknown" in both versions.
  if (header && header.timescale > 0 && header.duration > 0 && header.duration < 0xffffffff) {
    movie.duration = header.duration / header.timescale;
  }
}

function decodeTrackBox(type: string, content: Uint8Array, track: MovieTrack): void {
  const view = viewOf(content);
  switch (type) {
    case "tkhd": {
      const at = content[0] === 1 ? 84 : 72;
      if (content.byteLength >= at + 12) {
        track.width = Math.round(view.getUint32(at + 4) / 65536);
        track.height = Math.round(view.getUint32(at + 8) / 65536);
      }
      break;
    }
    case "mdhd": {
      const header = timescaleAndDuration(content);
      if (header) {
        track.timescale = header.timescale;
        track.mediaDuration = header.duration;
      }
      break;
    }
    case "hdlr":
      // QuickTime puts a second, data-reference `hdlr` (`alis`, `url `) inside `minf`; the media one comes first.
      if (content.byteLength >= 12) track.handler ??= fourcc(content, 8);
      break;
    case "stsd":
      decodeSampleEntry(content, track);
      break;
    case "stts":
      decodeTimeToSample(content, track);
      break;
  }
}

/** The first sample description: its codec, and the size or audio format its entry type carries. */
function decodeSampleEntry(content: Uint8Array, track: MovieTrack): void {
  const view = viewOf(content);
  if (content.byteLength < 16 || view.getUint32(4) === 0) return;
  const entry = content.subarray(8);
  const entryView = viewOf(entry);
  track.codec = fourcc(entry, 4).trim();
  // SampleEntry: size, format, 6 reserved, data reference index; then the type-specific fields.
  if (track.handler === "vide" && entry.byteLength >= 36) {
    track.codedWidth = entryView.getUint16(32);
    track.codedHeight = entryView.getUint16(34);
  } else if (track.handler === "soun" && entry.byteLength >= 36) {
    track.channels = entryView.getUint16(24);
    track.sampleRate = entryView.getUint32(32) / 65536;
  }
}

function decodeTimeToSample(content: Uint8Array, track: MovieTrack): void {
  const view = viewOf(content);
  if (content.byteLength < 8) return;
  const entries = Math.min(view.getUint32(4), Math.floor((content.byteLength - 8) / 8));
  let samples = 0;
  let ticks = 0;
  for (let i = 0; i < entries; i++) {
    const count = view.getUint32(8 + i * 8);
    samples += count;
    ticks += count * view.getUint32(12 + i * 8);
  }
  track.sampleCount = samples;
  track.sampleTicks = ticks;
}
