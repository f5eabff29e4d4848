import type { BlockReader } from "../../byte-source/block-reader.js";
import { ContentError, LimitExceededError, type LimitKind } from "../../errors.js";
import { boundedLength, cleanString, MAX_STRUCTURE_BYTES } from "../../limits.js";
import { textDecoder } from "../../text-decoder.js";
import type { GpsPosition } from "../../types.js";
import { fourcc } from "../bytes.js";
import { type BoxWalkEnd, boxWalkStopped, childBoxes } from "../image/iso-boxes.js";

/*
 * A bounded walk of an ISO-BMFF / QuickTime `moov` box, written by hand because
 * music-metadata's MP4 parser reports neither video dimensions nor frame rate,
 * and for QuickTime files (`qt  ` brand) often no duration or audio format.
 * Only top-level box headers are read on the way to `moov`, so a `moov` stored
 * after a large `mdat` costs one header read per box, never the media body.
 * The same headers tell how many `mdat` bytes a file cut short lacks.
 */

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
  /** 3GPP asset boxes in the movie's `udta` (`titl`, `auth`, `cprt`), which music-metadata does not read. */
  title?: string;
  artist?: string;
  copyright?: string;
  /**
   * Where it was recorded: an ISO 6709 point from the QuickTime metadata key
   * `com.apple.quicktime.location.ISO6709` (phones) or a `udta` `©xyz` box.
   */
  location?: GpsPosition;
  /**
   * The recording device's maker and model, as exiftool reads them: the
   * QuickTime metadata keys `com.apple.quicktime.make`/`.model` (Apple's
   * devices and software), else Android's `com.android.manufacturer`/`.model`,
   * else the `udta` boxes `©mak`/`©mod`, else `manu`/`modl` (cameras).
   */
  make?: string;
  model?: string;
}

/** The metadata key phones record a movie's location under (QuickTime `keys`/`ilst`). */
const LOCATION_KEY = "com.apple.quicktime.location.ISO6709";

/**
 * Where a movie's device maker and model are read from, best first: each
 * source is a QuickTime metadata key or a `udta` box type, for make then model.
 */
const DEVICE_SOURCES: ReadonlyArray<{ make: string; model: string }> = [
  { make: "com.apple.quicktime.make", model: "com.apple.quicktime.model" },
  { make: "com.android.manufacturer", model: "com.android.model" },
  { make: "\u00a9mak", model: "\u00a9mod" },
  { make: "manu", model: "modl" },
];

/** The QuickTime metadata keys decoded from a `meta` box's `keys`/`ilst`. */
const METADATA_KEYS = new Set([LOCATION_KEY, ...DEVICE_SOURCES.flatMap(({ make, model }) => [make, model])]);

/** `udta` boxes that hold a device's make or model. */
const DEVICE_USER_DATA = new Set(DEVICE_SOURCES.slice(2).flatMap(({ make, model }) => [make, model]));

/**
 * A point written in ISO 6709 (`+12.3456-098.7654+010.500/`): latitude and
 * longitude in decimal degrees, or as degrees and minutes (DDMM.M, DDDMM.M)
 * or with seconds (DDMMSS.S, DDDMMSS.S), then an optional altitude in metres.
 * Undefined when the text is no such point or lies outside the globe.
 *
 * @example
 * iso6709("+12.3456-098.7654+010.500/") // { lat: 12.3456, lon: -98.7654, altitude: 10.5 }
 */
export function iso6709(text: string): GpsPosition | undefined {
  const match = /^([+-])(\d+(?:\.\d+)?)([+-])(\d+(?:\.\d+)?)(?:([+-]\d+(?:\.\d+)?))?/.exec(text.trim());
  if (!match) return undefined;
  const degrees = (sign: string, value: string, degreeDigits: number): number | undefined => {
    const whole = value.split(".")[0]?.length ?? 0;
    const number = Number(value);
    let result: number;
    if (whole === degreeDigits) result = number;
    else if (whole === degreeDigits + 2) result = Math.trunc(number / 100) + (number % 100) / 60;
    else if (whole === degreeDigits + 4)
      result = Math.trunc(number / 10_000) + (Math.trunc(number / 100) % 100) / 60 + (number % 100) / 3600;
    else return undefined;
    return sign === "-" ? -result : result;
  };
  const lat = degrees(match[1] as string, match[2] as string, 2);
  const lon = degrees(match[3] as string, match[4] as string, 3);
  if (lat === undefined || lon === undefined || Math.abs(lat) > 90 || Math.abs(lon) > 180) return undefined;
  const position: GpsPosition = { lat: round(lat), lon: round(lon) };
  if (match[5] !== undefined) position.altitude = Number(match[5]);
  return position;
}

/** Degrees to the sixth decimal (about 0.1 m): what minutes and seconds convert to, without binary noise. */
const round = (value: number) => Math.round(value * 1e6) / 1e6;

/** The 3GPP asset boxes read, by the field each fills. */
const ASSET_FIELDS: ReadonlyMap<string, "title" | "artist" | "copyright"> = new Map([
  ["titl", "title"],
  ["auth", "artist"],
  ["cprt", "copyright"],
]);

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
    text = textDecoder(bigEndian ? "utf-16be" : "utf-16le").decode(bytes.subarray(2));
  } else {
    text = textDecoder("utf-8").decode(bytes);
  }
  const end = text.indexOf("\0");
  return cleanString(end >= 0 ? text.slice(0, end) : text);
}

/** A top-level box header: its type, where it starts, and its size, header included. */
interface TopLevelBox {
  type: string;
  offset: number;
  size: number;
  headerSize: number;
}

/**
 * Follows the top-level box headers from the start of the file, handing each
 * to `visit` until it returns true, the file ends, or the last box runs past
 * the end of a cut file. Every box is walked, as the image side's listing
 * does (a fragmented movie may put its `moov` after thousands of `moof`/`mdat`
 * pairs): one small header read per box, which the request and byte budgets
 * bound; `maxWalked` headers (the entry budget) or a refused read end the walk
 * with `stopped` saying where, not silently (see {@link BoxWalkEnd}; absent
 * when the walk reached the end of the file or what `visit` looked for).
 */
async function walkTopLevelBoxes(
  reader: BlockReader,
  maxWalked: number,
  visit: (box: TopLevelBox) => boolean,
): Promise<BoxWalkEnd> {
  let offset = 0;
  const stop = (why: string, limit: LimitKind) => boxWalkStopped(offset, reader.size, why, limit);
  for (let walked = 0; offset + 8 <= reader.size; walked++) {
    if (walked >= maxWalked) return stop(`entry budget of ${walked} boxes reached`, "entries");
    let header: Uint8Array;
    try {
      header = await reader.read(offset, 16);
    } catch (error) {
      if (!(error instanceof LimitExceededError)) throw error;
      return stop(error.message, error.limit);
    }
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
    if (visit({ type, offset, size, headerSize })) break;
    offset += size;
  }
  return {};
}

/**
 * Finds the `moov` box by following top-level box sizes and decodes it.
 * `movie` is undefined when the file has no `moov` box, or when a bound
 * (`maxWalked` boxes, the budget's `maxEntries`, or a refused read) ended the
 * walk before one, which `stopped` then says.
 *
 * @example
 * const { movie, stopped } = await readMovieHeader(reader, budget.maxEntries);
 * movie?.tracks.find((t) => t.handler === "vide")?.width // 1920
 */
export async function readMovieHeader(
  reader: BlockReader,
  maxWalked: number,
): Promise<{ movie?: MovieHeader } & BoxWalkEnd> {
  let moov: TopLevelBox | undefined;
  const end = await walkTopLevelBoxes(reader, maxWalked, (box) => {
    if (box.type === "moov") moov = box;
    return moov !== undefined;
  });
  if (!moov) return end;
  const length = boundedLength(moov.size - moov.headerSize, MAX_STRUCTURE_BYTES, "moov box");
  const body = await reader.read(moov.offset + moov.headerSize, length);
  if (body.byteLength < length) throw new ContentError("ISO-BMFF: moov box truncated");
  return { movie: decodeMoov(body) };
}

/**
 * The media data bytes the `mdat` boxes declare and the bytes the file holds
 * of them, when the file ends inside one: a movie whose `moov` comes first,
 * cut short; and, in any movie walked to its end, the `mdat` bytes it holds
 * (`mediaData`, what a movie's average bitrate is counted over). Only
 * top-level box headers are read; the walk stops at the first `moof`, as a
 * fragmented movie's `moov` states no duration those bytes could scale.
 * A walk a bound ended (see {@link readMovieHeader}) tells neither and says where it stopped.
 *
 * @example
 * await mediaDataShortfall(reader, budget.maxEntries) // { shortfall: { promised: 9323, present: 4049 }, mediaData: 4049 }
 */
export async function mediaDataShortfall(
  reader: BlockReader,
  maxWalked: number,
): Promise<{ shortfall?: { promised: number; present: number }; mediaData?: number } & BoxWalkEnd> {
  let promised = 0;
  let present = 0;
  let fragmented = false;
  const end = await walkTopLevelBoxes(reader, maxWalked, (box) => {
    fragmented = box.type === "moof";
    if (box.type === "mdat") {
      const body = box.offset + box.headerSize;
      promised += box.size - box.headerSize;
      present += Math.max(0, Math.min(box.offset + box.size, reader.size) - body);
    }
    return fragmented;
  });
  if (end.stopped || fragmented) return end;
  if (promised <= present) return { ...end, mediaData: present };
  return { shortfall: { promised, present }, mediaData: present };
}

/**
 * Decodes the children of a `moov` box body (the bytes after its header).
 *
 * @example
 * decodeMoov(moovBody).duration // 13.347
 */
export function decodeMoov(body: Uint8Array): MovieHeader {
  const movie: MovieHeader = { tracks: [] };
  // Device names by metadata key or udta box type, chosen between once the walk is done.
  const found = new Map<string, string>();
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
      } else if (ASSET_FIELDS.has(type) && !track) {
        const field = ASSET_FIELDS.get(type) as "title" | "artist" | "copyright";
        const value = movie[field] ?? assetString(content);
        if (value !== undefined) movie[field] = value;
      } else if (type === "\u00a9xyz" && !track) {
        const text = userDataText(content);
        const point = text === undefined ? undefined : iso6709(text);
        if (point && !movie.location) movie.location = point;
      } else if (DEVICE_USER_DATA.has(type) && !track) {
        const text = type.startsWith("\u00a9") ? userDataText(content) : cameraUserDataText(content);
        if (text !== undefined) found.set(type, text);
      } else if (type === "meta" && !track) {
        const values = quickTimeMetadata(content);
        const location = values.get(LOCATION_KEY);
        const point = location === undefined ? undefined : iso6709(location);
        if (point) movie.location = point;
        for (const [key, value] of values) if (key !== LOCATION_KEY) found.set(key, value);
      } else if (track) {
        decodeTrackBox(type, content, track);
      }
      at += size;
    }
  };
  walk(0, body.byteLength, undefined);
  const make = DEVICE_SOURCES.map((source) => found.get(source.make)).find((value) => value !== undefined);
  const model = DEVICE_SOURCES.map((source) => found.get(source.model)).find((value) => value !== undefined);
  if (make !== undefined) movie.make = make;
  if (model !== undefined) movie.model = model;
  return movie;
}

/** Longest user-data text decoded, in bytes. */
const MAX_USER_DATA_TEXT_BYTES = 4096;

/**
 * The first text of a QuickTime user-data text box (`©xyz`, `©mak` ...): a
 * 16-bit length, a 16-bit language, then the text. A Macintosh language code
 * (below 0x400) means Mac Roman text; a packed ISO 639 code means UTF-8.
 */
function userDataText(content: Uint8Array): string | undefined {
  if (content.byteLength <= 4) return undefined;
  const view = viewOf(content);
  const length = Math.min(view.getUint16(0), content.byteLength - 4, MAX_USER_DATA_TEXT_BYTES);
  const language = view.getUint16(2);
  const label = language < 0x400 ? "macintosh" : "utf-8";
  return cleanString(textDecoder(label).decode(content.subarray(4, 4 + length)));
}

/**
 * A camera's `manu`/`modl` box: a string up to its first NUL, after version,
 * flags and a language (four NULs and two bytes) when some makers (Canon) put them first.
 */
function cameraUserDataText(content: Uint8Array): string | undefined {
  let bytes = content.subarray(0, MAX_USER_DATA_TEXT_BYTES + 6);
  if (bytes.byteLength > 6 && bytes[0] === 0 && bytes[1] === 0 && bytes[2] === 0 && bytes[3] === 0) {
    bytes = bytes.subarray(6);
  }
  const end = bytes.indexOf(0);
  return cleanString(textDecoder("utf-8").decode(end >= 0 ? bytes.subarray(0, end) : bytes));
}

/**
 * The values a QuickTime `meta` box holds under {@link METADATA_KEYS}: its
 * `keys` box names each metadata item by a 1-based index, and the `ilst` item
 * of that index holds a `data` box whose value is the text (UTF-8, or UTF-16
 * for type 2). An ISO `meta` box (version and flags before its children) is read alike.
 */
function quickTimeMetadata(meta: Uint8Array): Map<string, string> {
  const values = new Map<string, string>();
  const childrenAt = fourcc(meta, 4) === "hdlr" ? 0 : 4;
  const children = childBoxes(meta, childrenAt, 0);
  const keys = children.find((box) => box.type === "keys");
  const items = children.find((box) => box.type === "ilst");
  if (!keys || !items) return values;
  // keys: version and flags, a count, then entries of size, namespace and name.
  const wanted = new Map<number, string>();
  let index = 0;
  for (let at = keys.start + 8; at + 8 <= keys.end; ) {
    const size = viewOf(meta).getUint32(at);
    if (size < 8 || at + size > keys.end) break;
    index += 1;
    const name = textDecoder("utf-8").decode(meta.subarray(at + 8, at + size));
    if (METADATA_KEYS.has(name)) wanted.set(index, name);
    at += size;
  }
  if (wanted.size === 0) return values;
  for (const item of childBoxes(meta.subarray(0, items.end), items.start, 0)) {
    const name = wanted.get(viewOf(meta).getUint32(item.start - 4));
    if (name === undefined || values.has(name)) continue;
    const data = childBoxes(meta.subarray(0, item.end), item.start, 0).find((box) => box.type === "data");
    // data: a type indicator and a locale (four bytes each), then the value.
    if (!data || data.end - data.start <= 8) continue;
    const label = viewOf(meta).getUint32(data.start) === 2 ? "utf-16be" : "utf-8";
    const text = cleanString(
      textDecoder(label).decode(
        meta.subarray(data.start + 8, Math.min(data.end, data.start + 8 + MAX_USER_DATA_TEXT_BYTES)),
      ),
    );
    if (text !== undefined) values.set(name, text);
  }
  return values;
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
