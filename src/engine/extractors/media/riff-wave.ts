import type { BlockReader } from "../../byte-source/block-reader.js";
import { ContentError } from "../../errors.js";
import { boundedLength } from "../../limits.js";
import { fourcc, u32 } from "../bytes.js";

/*
 * RIFF/WAVE chunk headers, walked by hand as a fallback for files where
 * music-metadata states no duration, and to tell a file that ends before its
 * `data` chunk does. Only the 8-byte chunk headers and the small `fmt `,
 * `fact` and `ds64` bodies are read; every other body, the audio above all,
 * is skipped by offset.
 */

/** Chunks visited before the walk gives up (a file of tiny chunks would otherwise cost one read each). */
export const MAX_WAVE_CHUNKS = 1024;

/** `fmt ` bytes read: WAVEFORMATEX up to and including wBitsPerSample. */
const FORMAT_BYTES = 16;

/** Format tags whose data size divided by the byte rate is the duration; others prefer `fact`. */
const UNCOMPRESSED_FORMATS: ReadonlySet<number> = new Set([
  0x0001, // PCM
  0x0003, // IEEE float
  0x0006, // A-law
  0x0007, // mu-law
  0xfffe, // WAVE_FORMAT_EXTENSIBLE (its sub-format is PCM or float in practice)
]);

/** What a WAVE file's chunk headers declare. */
export interface WaveChunks {
  /** `RIFF`, `RF64` or `BW64`. */
  form: string;
  formatTag?: number;
  channels?: number;
  sampleRate?: number;
  /** Average bytes per second. */
  byteRate?: number;
  blockAlign?: number;
  /** Where the `data` body starts. */
  dataOffset?: number;
  /** The `data` size as declared (RF64: from `ds64`). */
  dataSize?: number;
  /**
   * True when the declared `data` size is a writer's placeholder (0 or
   * 0xFFFFFFFF with no `ds64`) and no chunk follows the data header: the
   * audio runs to the end of the file.
   */
  dataRunsToEnd?: boolean;
  /** Sample frames per channel, from the `fact` chunk. */
  factSamples?: number;
}

/** Placeholder a streaming writer leaves in a 32-bit size it cannot fill (RF64 moves the real one to `ds64`). */
const UNKNOWN_SIZE = 0xffff_ffff;

/** A chunk id is four printable ASCII characters; anything else means the walk lost its footing. */
function isChunkId(bytes: Uint8Array, at: number): boolean {
  if (bytes.byteLength < at + 4) return false;
  for (let i = at; i < at + 4; i++) {
    const byte = bytes[i] as number;
    if (byte < 0x20 || byte > 0x7e) return false;
  }
  return true;
}

/**
 * Whether a chunk header that fits in the file starts at `at`. This is what
 * tells a genuinely empty `data` chunk (its 0-byte body is followed by the next
 * chunk at once, as in a BWF file whose recorder wrote no audio) from a
 * streaming writer's placeholder 0 (audio samples follow the header, up to the
 * end of the file). Audio rarely passes for a header: its first four bytes
 * would all have to be printable ASCII (silence, the usual start of a
 * recording, is zeros) and the next four a size that stays within the file.
 */
async function chunkFits(reader: BlockReader, at: number): Promise<boolean> {
  const header = await reader.read(at, 8);
  if (header.byteLength < 8 || !isChunkId(header, 0)) return false;
  const size = new DataView(header.buffer, header.byteOffset, 8).getUint32(4, true);
  return at + 8 + size <= reader.size;
}

/**
 * Walks a WAVE file's chunk headers from the start, skipping bodies by offset.
 * Stops once both `fmt ` and `data` are known, at a `data` chunk whose size is
 * a placeholder (see {@link WaveChunks.dataRunsToEnd}), at the end of the file,
 * or at a header that is cut or names no chunk, with what was found; a walk
 * that would visit more than `maxChunks` ({@link MAX_WAVE_CHUNKS} unless
 * given) throws a ContentError instead.
 *
 * @example
 * await readWaveChunks(reader) // { form: "RIFF", formatTag: 1, channels: 2, sampleRate: 48000, byteRate: 288000, dataOffset: 16384, dataSize: 0 }
 */
export async function readWaveChunks(reader: BlockReader, maxChunks = MAX_WAVE_CHUNKS): Promise<WaveChunks> {
  const head = await reader.read(0, 12);
  const form = fourcc(head, 0);
  if (head.byteLength < 12 || !["RIFF", "RF64", "BW64"].includes(form) || fourcc(head, 8) !== "WAVE") {
    throw new ContentError("WAVE: missing RIFF WAVE header");
  }
  const chunks: WaveChunks = { form };
  let dataSize64: number | undefined;
  let at = 12;
  for (let visited = 0; at + 8 <= reader.size; visited++) {
    if (visited >= maxChunks)
      throw new ContentError(`WAVE: more than ${maxChunks} chunks before fmt and data`);
    const header = await reader.read(at, 8);
    if (header.byteLength < 8 || !isChunkId(header, 0)) break;
    const id = fourcc(header, 0);
    const size = new DataView(header.buffer, header.byteOffset, 8).getUint32(4, true);
    const body = at + 8;
    if (id === "fmt " && size >= FORMAT_BYTES) {
      const format = await reader.read(body, FORMAT_BYTES);
      if (format.byteLength < FORMAT_BYTES) break;
      const view = new DataView(format.buffer, format.byteOffset, FORMAT_BYTES);
      chunks.formatTag = view.getUint16(0, true);
      chunks.channels = view.getUint16(2, true);
      chunks.sampleRate = view.getUint32(4, true);
      chunks.byteRate = view.getUint32(8, true);
      chunks.blockAlign = view.getUint16(12, true);
    } else if (id === "fact" && size >= 4) {
      const fact = await reader.read(body, 4);
      if (fact.byteLength === 4) chunks.factSamples = u32(fact, 0);
    } else if (id === "ds64" && size >= 16) {
      // RF64/BW64: 64-bit RIFF size, then the 64-bit data size the `data` header leaves as 0xFFFFFFFF.
      const ds64 = await reader.read(body, 16);
      if (ds64.byteLength === 16) {
        const declared = new DataView(ds64.buffer, ds64.byteOffset, 16).getBigUint64(8, true);
        dataSize64 = Number(declared);
      }
    } else if (id === "data") {
      chunks.dataOffset = body;
      chunks.dataSize = size === UNKNOWN_SIZE && dataSize64 !== undefined ? dataSize64 : size;
      if (size === UNKNOWN_SIZE && dataSize64 === undefined) chunks.dataRunsToEnd = true;
      else if (size === 0 && !(await chunkFits(reader, body))) chunks.dataRunsToEnd = true;
      // Whatever follows streamed audio is more audio: no chunk after it can be found.
      if (chunks.dataRunsToEnd) break;
    }
    if (chunks.dataOffset !== undefined && chunks.formatTag !== undefined) break;
    const skip = id === "data" ? (chunks.dataSize as number) : size;
    // A chunk reaching past the end ends the walk; only `data` may legitimately be cut short.
    at = body + boundedLength(skip, Number.MAX_SAFE_INTEGER, `WAVE ${id.trim()} chunk`) + (skip & 1);
  }
  return chunks;
}

/** A duration worked out from chunk headers, with what the caller should warn about. */
export interface WaveDuration {
  duration: number;
  warnings: string[];
}

/**
 * The duration a WAVE file's chunk headers state: the `fact` sample count for
 * compressed formats, otherwise the `data` size over the byte rate, with a
 * data size that runs past the end of the file cut to what is there (see
 * {@link waveShortfall}), and a placeholder size replaced by the bytes up to
 * the end of the file (PCM: whole sample frames), with a warning.
 *
 * @example
 * waveDuration({ form: "RIFF", formatTag: 1, byteRate: 192000, dataOffset: 44, dataSize: 384000 }, 384044)
 * // { duration: 2, warnings: [] }
 */
export function waveDuration(chunks: WaveChunks, fileSize: number): WaveDuration | undefined {
  const warnings: string[] = [];
  const compressed = chunks.formatTag !== undefined && !UNCOMPRESSED_FORMATS.has(chunks.formatTag);
  // A writer that could not fill in the data size could not count the samples either.
  const factIsPlaceholder = chunks.dataRunsToEnd === true && chunks.factSamples === 0;
  if (compressed && chunks.factSamples !== undefined && chunks.sampleRate && !factIsPlaceholder) {
    return { duration: chunks.factSamples / chunks.sampleRate, warnings };
  }
  if (chunks.dataOffset === undefined || chunks.dataSize === undefined || !chunks.byteRate) return undefined;
  const present = Math.max(0, fileSize - chunks.dataOffset);
  if (chunks.dataRunsToEnd && present > 0) {
    // A recording cut off mid-write may end inside a sample frame; only whole frames play.
    const blockAlign = compressed ? 0 : (chunks.blockAlign ?? 0);
    const audio = blockAlign > 0 ? present - (present % blockAlign) : present;
    warnings.push(
      `WAVE: data chunk size ${chunks.dataSize} is a placeholder; duration counts the ${audio} bytes to the end of the file`,
    );
    return { duration: audio / chunks.byteRate, warnings };
  }
  const dataSize = Math.min(chunks.dataSize, present);
  if (dataSize === 0) warnings.push("WAVE: the data chunk is empty");
  return { duration: dataSize / chunks.byteRate, warnings };
}

/**
 * The bytes a `data` chunk declares and the bytes the file holds of it, when
 * the file ends first (a placeholder size aside): the file is cut short.
 *
 * @example
 * waveShortfall({ form: "RIFF", dataOffset: 44, dataSize: 1764000 }, 176444) // { promised: 1764000, present: 176400 }
 */
export function waveShortfall(
  chunks: WaveChunks,
  fileSize: number,
): { promised: number; present: number } | undefined {
  if (chunks.dataOffset === undefined || chunks.dataSize === undefined || chunks.dataRunsToEnd)
    return undefined;
  const present = Math.max(0, fileSize - chunks.dataOffset);
  return chunks.dataSize > present ? { promised: chunks.dataSize, present } : undefined;
}

/**
 * How long the audio bytes a WAVE file holds last, when its byte rate says so
 * exactly (PCM, float, A-law, mu-law: whole sample frames); undefined for a
 * compressed format, whose duration is scaled to those bytes instead.
 *
 * @example
 * uncompressedDuration({ form: "RIFF", formatTag: 1, byteRate: 176400, blockAlign: 4 }, 88201) // 0.5
 */
export function uncompressedDuration(chunks: WaveChunks, bytes: number): number | undefined {
  if (chunks.formatTag === undefined || !UNCOMPRESSED_FORMATS.has(chunks.formatTag) || !chunks.byteRate)
    return undefined;
  const blockAlign = chunks.blockAlign ?? 0;
  return (blockAlign > 0 ? bytes - (bytes % blockAlign) : bytes) / chunks.byteRate;
}
