import type { BlockReader } from "../../byte-source/block-reader.js";
import { ContentError } from "../../errors.js";
import { boundedLength, cleanString } from "../../limits.js";
import { textDecoder } from "../../text-decoder.js";
import { fourcc } from "../bytes.js";

/*
 * AIFF/AIFC chunk headers, walked by hand because music-metadata takes the
 * duration from `COMM` alone and says nothing of where `SSND` starts or how
 * far it runs, which is what tells a cut file. Only the 8-byte chunk headers,
 * the first 8 bytes of `SSND` and `COMM` (all of an AIFC `COMM`, for its
 * compression type) are read; the sound data is skipped by offset.
 */

/** Chunks visited before the walk gives up (a file of tiny chunks would otherwise cost one read each). */
export const MAX_AIFF_CHUNKS = 1024;

/** What an AIFF or AIFC file's `COMM` and `SSND` chunk headers declare. */
export interface AiffChunks {
  /** `AIFF` or `AIFC`. */
  form: string;
  channels?: number;
  /** Sample frames the `COMM` chunk counts. */
  sampleFrames?: number;
  /** Where the sound data starts: after the `SSND` header, its offset and block size fields, and its stated offset. */
  dataOffset?: number;
  /** The sound data bytes the `SSND` chunk declares. */
  dataSize?: number;
  /** An AIFC file's codec: named for its compression type, else by the compressor name its `COMM` chunk gives. */
  codec?: string;
}

/*
 * Names for the AIFC compression types in use, so that one codec reads the same
 * in every file: a file's own compressor name is free text ("not compressed",
 * "Alaw 2:1"), and music-metadata names a type whose compressor name is empty
 * from a table whose entries run several columns together with tabs
 * ("µLaw 2:1\t8-bit ITU-T G.711 µ-law\tApple Computer").
 */
const AIFC_CODECS: Readonly<Record<string, string>> = {
  NONE: "PCM",
  twos: "PCM",
  sowt: "PCM (little-endian)",
  raw: "PCM (unsigned)",
  in24: "PCM",
  in32: "PCM",
  fl32: "32-bit float",
  FL32: "32-bit float",
  fl64: "64-bit float",
  FL64: "64-bit float",
  alaw: "A-law",
  ALAW: "A-law",
  ulaw: "µ-law",
  ULAW: "µ-law",
  ima4: "IMA ADPCM",
  MAC3: "MACE 3:1",
  MAC6: "MACE 6:1",
  GSM: "GSM",
  G722: "G.722",
  QDMC: "QDesign",
  QDM2: "QDesign 2",
  Qclp: "QCELP",
};

/** An AIFC `COMM` chunk's codec, from the 4-byte compression type and the Pascal string after it. */
function aifcCodec(comm: Uint8Array): string | undefined {
  if (comm.byteLength < 22) return undefined;
  const type = fourcc(comm, 18).trim();
  const nameLength = comm[22] ?? 0;
  const name =
    nameLength > 0 && comm.byteLength >= 23 + nameLength
      ? textDecoder("latin1").decode(comm.subarray(23, 23 + nameLength))
      : "";
  return AIFC_CODECS[type] ?? cleanString(name, 64) ?? cleanString(type, 4);
}

/**
 * Walks an AIFF or AIFC file's chunk headers from the start, skipping bodies
 * by offset, until both `COMM` and `SSND` are known or the file ends; a
 * truncated header ends the walk with what was found. A walk that would visit
 * more than `maxChunks` ({@link MAX_AIFF_CHUNKS} unless given) throws a
 * ContentError instead.
 *
 * @example
 * await readAiffChunks(reader) // { form: "AIFF", channels: 2, sampleFrames: 23493, dataOffset: 136, dataSize: 46986 }
 */
export async function readAiffChunks(reader: BlockReader, maxChunks = MAX_AIFF_CHUNKS): Promise<AiffChunks> {
  const head = await reader.read(0, 12);
  const form = fourcc(head, 8);
  if (head.byteLength < 12 || fourcc(head, 0) !== "FORM" || (form !== "AIFF" && form !== "AIFC")) {
    throw new ContentError("AIFF: missing FORM AIFF or AIFC header");
  }
  const chunks: AiffChunks = { form };
  let at = 12;
  for (let visited = 0; at + 8 <= reader.size; visited++) {
    if (visited >= maxChunks)
      throw new ContentError(`AIFF: more than ${maxChunks} chunks before COMM and SSND`);
    const header = await reader.read(at, 16);
    if (header.byteLength < 8) break;
    const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
    const id = fourcc(header, 0);
    const size = view.getUint32(4);
    const body = at + 8;
    // COMM: channels (16 bits), sample frames (32 bits), sample size, sample rate ...
    if (id === "COMM" && size >= 6 && header.byteLength >= 14) {
      chunks.channels = view.getUint16(8);
      chunks.sampleFrames = view.getUint32(10);
      // AIFC adds the compression type and its name after the sample rate.
      if (form === "AIFC") {
        const codec = aifcCodec(await reader.read(body, Math.min(size, 23 + 255)));
        if (codec) chunks.codec = codec;
      }
    } else if (id === "SSND" && size >= 8 && header.byteLength >= 16) {
      // SSND: the offset of the first sample frame and a block size, then the sound data.
      const offset = view.getUint32(8);
      chunks.dataOffset = body + 8 + offset;
      chunks.dataSize = Math.max(0, size - 8 - offset);
    }
    if (chunks.sampleFrames !== undefined && chunks.dataOffset !== undefined) break;
    at = body + boundedLength(size, Number.MAX_SAFE_INTEGER, `AIFF ${id.trim()} chunk`) + (size & 1);
  }
  return chunks;
}

/**
 * The sound data bytes an `SSND` chunk declares and the bytes the file holds
 * of them, when the file ends first: the file is cut short.
 *
 * @example
 * aiffShortfall({ form: "AIFF", dataOffset: 136, dataSize: 46986 }, 23561) // { promised: 46986, present: 23425 }
 */
export function aiffShortfall(
  chunks: AiffChunks,
  fileSize: number,
): { promised: number; present: number } | undefined {
  if (chunks.dataOffset === undefined || chunks.dataSize === undefined) return undefined;
  const present = Math.max(0, fileSize - chunks.dataOffset);
  return chunks.dataSize > present ? { promised: chunks.dataSize, present } : undefined;
}

/**
 * The whole sample frames among `bytes` of sound data, when every frame takes
 * the same bytes (PCM, float, A-law, mu-law: the declared data size is a
 * multiple of the frame count); undefined for a format whose frames vary
 * (IMA ADPCM packets, MACE), whose duration is scaled to the bytes instead.
 * Working the frame size out from the sizes spares a table of AIFC compression types.
 *
 * @example
 * aiffFramesIn({ form: "AIFF", sampleFrames: 23493, dataSize: 46986 }, 23425) // 11712
 */
export function aiffFramesIn(chunks: AiffChunks, bytes: number): number | undefined {
  const { sampleFrames, dataSize } = chunks;
  if (!sampleFrames || !dataSize || dataSize % sampleFrames !== 0) return undefined;
  return Math.floor(bytes / (dataSize / sampleFrames));
}
