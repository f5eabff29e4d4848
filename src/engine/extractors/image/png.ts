import type { BlockReader, ByteRange } from "../../byte-source/block-reader.js";
import { ContentError } from "../../errors.js";
import { boundedLength, cleanString, MAX_STRUCTURE_BYTES, TAIL_WINDOW_BYTES } from "../../limits.js";
import { textDecoder } from "../../text-decoder.js";
import type { ExifInfo } from "../../types.js";
import { fourCC, readExactly, startsWith, viewOf } from "./byte-reading.js";
import { MAX_XMP_PACKET_BYTES } from "./xmp.js";

/** What the PNG chunks after IHDR say. */
export interface PngChunks {
  /** acTL frame count (APNG). */
  frames?: number;
  /** An APNG's play time in seconds: its fcTL delays added up, when the walk reached IEND. */
  duration?: number;
  /** The TIFF structure of an eXIf chunk. */
  exif?: Uint8Array;
  /** True when that eXIf chunk follows the image data, where some readers do not look. */
  exifAfterData?: boolean;
  /** What the tEXt and uncompressed iTXt chunks before the image data say under the keywords the PNG specification names. */
  text?: Pick<ExifInfo, "software" | "copyright" | "artist" | "title">;
  /** Where the packet of an uncompressed `XML:com.adobe.xmp` iTXt chunk before the image data lies (read only if needed). */
  xmp?: ByteRange;
  /**
   * In an APNG that ends before IEND: the frames another fcTL follows (so
   * their data is whole), and their delays added up in seconds.
   */
  whole?: { frames: number; duration: number };
}

/**
 * The predefined text keywords (PNG specification 11.3.4.2) the record keeps,
 * and the fields they fill. "Creation Time" is left out: its format is free.
 */
const TEXT_KEYWORDS: Readonly<Record<string, keyof NonNullable<PngChunks["text"]>>> = {
  Software: "software",
  Copyright: "copyright",
  Author: "artist",
  Title: "title",
};

/** Longest text chunk read: a keyword, a few header bytes and a field's worth of text. */
const MAX_TEXT_CHUNK_BYTES = 4096;

/** Chunks walked before the first IDAT, or back from IEND; real files have a few dozen at most. */
const MAX_PNG_CHUNKS = 1024;

/**
 * Chunk headers an APNG's walk reads in all, and how far into the file: fcTL
 * chunks sit between the frames' data, so its duration needs every chunk
 * header up to IEND. Past either bound, no duration.
 */
const MAX_APNG_CHUNKS = 4096;
const APNG_WALK_BYTES = 1024 * 1024;

/** The tail the image plan fetches; the reader rounds it out to whole blocks. */
const PLANNED_TAIL_BYTES = 1024;

const EXIF_PREFIX = [0x45, 0x78, 0x69, 0x66, 0x00, 0x00]; // "Exif\0\0"
const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const COLOR_TYPES: Record<number, string> = {
  0: "grayscale",
  2: "rgb",
  3: "palette",
  4: "grayscale-alpha",
  6: "rgba",
};

/** The signature and the IHDR chunk; the chunks after it start here. */
const IHDR_END = 33;

/**
 * The bit depth and colour type an IHDR chunk states, from the file's first 33 bytes.
 *
 * @example
 * pngPixelFormat(await reader.read(0, 33)) // { bitDepth: 8, colorType: "rgb" }
 */
export function pngPixelFormat(head: Uint8Array): { bitDepth: number; colorType: string } {
  if (head.byteLength < IHDR_END || !startsWith(head, SIGNATURE) || fourCC(head, 12) !== "IHDR")
    throw new ContentError("PNG: missing IHDR");
  return {
    bitDepth: head[24] as number,
    colorType: COLOR_TYPES[head[25] as number] ?? `color type ${head[25]}`,
  };
}

/**
 * One walk over the chunks after IHDR, skipping payloads by their declared
 * length. Before the first IDAT: acTL (APNG), eXIf, and the text chunks
 * under the keywords in {@link TEXT_KEYWORDS}; with no eXIf there,
 * one is looked for among the chunks after the image data, as exiftool does.
 * An animated PNG's walk goes on to IEND, adding up the fcTL delays
 * (`delay_num / delay_den`, a zero denominator meaning hundredths); a still
 * image's stops at its data.
 *
 * @example
 * const { frames, duration, exif } = await readPngChunks(ctx.reader);
 */
export async function readPngChunks(reader: BlockReader): Promise<PngChunks> {
  const found: PngChunks = {};
  let seconds = 0;
  // Frames another fcTL has closed, and their delays: what an APNG cut short shows.
  let closed = { frames: -1, seconds: 0 };
  let inData = false;
  let count = 0;
  let ranOut = true;
  for await (const chunk of chunkHeaders(reader, IHDR_END)) {
    count++;
    if (chunk.type === "IEND") {
      // Rounded to the microsecond: added-up fractions such as 7/100 leave binary noise.
      if (isAnimated(found)) found.duration = Math.round(seconds * 1e6) / 1e6;
      ranOut = false;
      break;
    }
    if (!inData) {
      if (count > MAX_PNG_CHUNKS) break;
      boundedLength(chunk.length, 0x7fffffff, "PNG chunk length");
    } else if (count > MAX_APNG_CHUNKS || chunk.offset > APNG_WALK_BYTES) {
      ranOut = false;
      break;
    }
    if (chunk.type === "IDAT" && !inData) {
      inData = true;
      if (!found.exif) {
        const trailing = await readTrailingExif(reader, chunk.offset, chunk.offset + 12 + chunk.length);
        if (trailing) {
          found.exif = withoutExifPrefix(trailing);
          found.exifAfterData = true;
        }
      }
      if (!isAnimated(found)) {
        ranOut = false;
        break;
      }
    } else if (chunk.type === "acTL" && !inData && chunk.length >= 8) {
      found.frames = viewOf(await readExactly(reader, chunk.offset + 8, 4, "PNG acTL")).getUint32(0);
    } else if (chunk.type === "eXIf" && !inData && !found.exif) {
      const size = boundedLength(chunk.length, MAX_STRUCTURE_BYTES, "PNG eXIf chunk");
      found.exif = withoutExifPrefix(await readExactly(reader, chunk.offset + 8, size, "PNG eXIf chunk"));
    } else if ((chunk.type === "tEXt" || chunk.type === "iTXt") && !inData) {
      const payload = await reader.read(chunk.offset + 8, Math.min(chunk.length, MAX_TEXT_CHUNK_BYTES));
      const packetAt = chunk.type === "iTXt" && !found.xmp ? xmpPacketStart(payload) : undefined;
      if (packetAt !== undefined) {
        const length = Math.min(chunk.length - packetAt, MAX_XMP_PACKET_BYTES);
        found.xmp = { offset: chunk.offset + 8 + packetAt, length };
        continue;
      }
      const entry = textEntry(chunk.type, payload);
      const field = entry && TEXT_KEYWORDS[entry.keyword];
      if (entry && field && found.text?.[field] === undefined)
        found.text = { ...found.text, [field]: entry.text };
    } else if (chunk.type === "fcTL" && chunk.length >= 26) {
      const delay = viewOf(await readExactly(reader, chunk.offset + 8 + 20, 4, "PNG fcTL"));
      closed = { frames: closed.frames + 1, seconds };
      seconds += delay.getUint16(0) / (delay.getUint16(2) || 100);
    }
  }
  if (ranOut && isAnimated(found) && closed.frames > 0)
    found.whole = { frames: closed.frames, duration: Math.round(closed.seconds * 1e6) / 1e6 };
  return found;
}

/**
 * A tEXt chunk's keyword and Latin-1 text, or an iTXt chunk's keyword and
 * UTF-8 text when it is stored uncompressed; undefined for anything else
 * (a compressed iTXt, a keyword with no separator, empty text).
 */
function textEntry(type: string, payload: Uint8Array): { keyword: string; text: string } | undefined {
  const separator = payload.indexOf(0);
  if (separator < 1 || separator > 79) return undefined;
  const keyword = textDecoder("latin1").decode(payload.subarray(0, separator));
  let body = payload.subarray(separator + 1);
  let encoding = "latin1";
  if (type === "iTXt") {
    // Compression flag and method, then a language tag and a translated keyword, each NUL-ended.
    if (body[0] !== 0) return undefined;
    const language = body.indexOf(0, 2);
    const translated = language < 0 ? -1 : body.indexOf(0, language + 1);
    if (translated < 0) return undefined;
    body = body.subarray(translated + 1);
    encoding = "utf-8";
  }
  const text = cleanString(textDecoder(encoding, { fatal: false }).decode(body));
  return text === undefined ? undefined : { keyword, text };
}

const XMP_KEYWORD = [...new TextEncoder().encode("XML:com.adobe.xmp\0")];

/**
 * Where the text of an iTXt chunk under the XMP keyword starts in its
 * payload, when it is stored uncompressed (as Adobe's and exiftool's writers
 * store it); undefined for any other chunk.
 */
function xmpPacketStart(payload: Uint8Array): number | undefined {
  if (!startsWith(payload, XMP_KEYWORD) || payload[XMP_KEYWORD.length] !== 0) return undefined;
  // Compression flag and method, then a language tag and a translated keyword, each NUL-ended.
  const language = payload.indexOf(0, XMP_KEYWORD.length + 2);
  const translated = language < 0 ? -1 : payload.indexOf(0, language + 1);
  return translated < 0 ? undefined : translated + 1;
}

function isAnimated(found: PngChunks): boolean {
  return found.frames !== undefined && found.frames > 1;
}

/** The header (offset, payload length, type) of each chunk from `offset` on, while one fits in the file. */
async function* chunkHeaders(
  reader: BlockReader,
  offset: number,
): AsyncGenerator<{ offset: number; length: number; type: string }> {
  while (offset + 8 <= reader.size) {
    const head = await readExactly(reader, offset, 8, "PNG chunk");
    const length = viewOf(head).getUint32(0);
    yield { offset, length, type: fourCC(head, 4) };
    offset += 12 + length;
  }
}

/** The chunk holds the TIFF structure alone, yet some writers keep JPEG APP1's "Exif\0\0" before it. */
function withoutExifPrefix(payload: Uint8Array): Uint8Array {
  return startsWith(payload, EXIF_PREFIX) ? payload.subarray(EXIF_PREFIX.length) : payload;
}

/**
 * The payload of the first eXIf chunk between the image data (starting at
 * `dataStart`) and IEND. Walking forward would mean reading every IDAT
 * header, spread over the whole file; instead the chunk chain is followed
 * backwards from IEND within a tail window, each chunk found by the one
 * length that makes it end where its successor starts. An eXIf chunk larger
 * than the tail window is not found.
 */
async function readTrailingExif(
  reader: BlockReader,
  dataStart: number,
  firstDataEnd: number,
): Promise<Uint8Array | undefined> {
  // One IDAT running up to IEND, as most encoders but libpng write it: nothing follows the data.
  if (firstDataEnd === reader.size - 12 && endsWithIend(await reader.tail(12))) return undefined;
  // First the whole blocks the planned tail brought in (free), then one read of the engine's tail window.
  const cachedBlocks = Math.floor(Math.max(0, reader.size - PLANNED_TAIL_BYTES) / reader.blockSize);
  const planned = Math.min(reader.size - cachedBlocks * reader.blockSize, TAIL_WINDOW_BYTES);
  for (const window of [planned, TAIL_WINDOW_BYTES]) {
    const span = Math.min(window, reader.size - dataStart);
    const found = chainFromIend(await reader.tail(span), reader.size - span, dataStart);
    if (found.exif || found.reachedData || span === reader.size - dataStart) return found.exif;
  }
  return undefined;
}

/** Follows chunks back from the IEND that ends `tail` (file offset `base`) to the image data. */
function chainFromIend(
  tail: Uint8Array,
  base: number,
  dataStart: number,
): { exif?: Uint8Array; reachedData: boolean } {
  // A file that does not end with IEND is reported as truncated by the caller; there is no chain to follow.
  if (!endsWithIend(tail)) return { reachedData: true };
  let exif: Uint8Array | undefined;
  let end = tail.byteLength - 12;
  for (let chunk = 0; chunk < MAX_PNG_CHUNKS; chunk++) {
    const start = chunkEndingAt(tail, end);
    if (start === undefined) return { ...(exif && { exif }), reachedData: false };
    const type = fourCC(tail, start + 4);
    if (type === "IDAT" || base + start <= dataStart) break;
    // Walking backwards, the last one seen is the first in the file.
    if (type === "eXIf") exif = tail.subarray(start + 8, end - 4);
    end = start;
  }
  return { ...(exif && { exif }), reachedData: true };
}

/**
 * The start of the chunk that ends at `end`: the nearest offset whose length
 * field says so and whose type is four ASCII letters. One pass over the
 * window at most per call, and each call starts below the last one's answer.
 */
function chunkEndingAt(bytes: Uint8Array, end: number): number | undefined {
  const view = viewOf(bytes);
  for (let start = end - 12; start >= 0; start--) {
    if (view.getUint32(start) === end - start - 12 && isChunkType(bytes, start + 4)) return start;
  }
  return undefined;
}

function isChunkType(bytes: Uint8Array, offset: number): boolean {
  for (let i = offset; i < offset + 4; i++) {
    const letter = (bytes[i] as number) | 0x20;
    if (letter < 0x61 || letter > 0x7a) return false;
  }
  return true;
}

/** True when the file ends with the IEND chunk (its fixed 12 bytes). */
export function endsWithIend(tail: Uint8Array): boolean {
  return tail.byteLength >= 12 && fourCC(tail, tail.byteLength - 8) === "IEND";
}
