/**
 * LZMA-alone streams (.lzma: LZMA Utils' format, which `xz --format=lzma`
 * still writes and dpkg still reads as `data.tar.lzma`): a 13-byte header
 * (the properties byte, the dictionary size, the uncompressed size or all
 * ones when unknown) and one raw LZMA stream, ended by its marker or its
 * stated size. No checksum: damage shows only where the stream stops making
 * sense. Decoded by the streaming {@link LzmaDecoder}.
 */
import { ContentError } from "../../errors.js";
import { CompressedInput, runOf } from "./decoders.js";
import type { Decoder } from "./forward-decompressor.js";
import { LzmaDecoder, lzmaProperties, streamLzma } from "./lzma.js";
import type { HeaderFacts } from "./stream-headers.js";

const HEADER_BYTES = 13;
const UNKNOWN_SIZE = 0xffffffffffffffffn;

/** The header's properties and, when it states one, the uncompressed size. */
function readHeader(header: Uint8Array): { decoder: LzmaDecoder; size?: number } {
  const view = new DataView(header.buffer, header.byteOffset, HEADER_BYTES);
  const stated = view.getBigUint64(5, true);
  const size = stated === UNKNOWN_SIZE ? undefined : Number(stated);
  const properties = lzmaProperties(header[0] as number, view.getUint32(1, true));
  return { decoder: new LzmaDecoder(properties, size), ...(size !== undefined && { size }) };
}

/**
 * The size an LZMA-alone header states, when it states one (a file written
 * from a pipe does not).
 *
 * @example
 * readLzmaAlone(head) // { kind: "lzma", encrypted: false, sample: [], uncompressedSize: 3665920 }
 */
export function readLzmaAlone(head: Uint8Array): HeaderFacts {
  if (head.byteLength < HEADER_BYTES) throw new ContentError("lzma header truncated");
  const { size } = readHeader(head.subarray(0, HEADER_BYTES));
  return {
    kind: "lzma",
    encrypted: false,
    sample: [],
    ...(size !== undefined && { uncompressedSize: size }),
  };
}

/** One LZMA-alone stream, as `xz --format=lzma -d` and `unlzma` read it. */
export const unlzma: Decoder = (compressed, cut) => runOf(lzmaAloneOutput(compressed, cut));

async function* lzmaAloneOutput(
  compressed: AsyncIterable<Uint8Array>,
  cut: boolean,
): AsyncGenerator<Uint8Array> {
  const input = new CompressedInput(compressed[Symbol.asyncIterator]());
  try {
    const header = await input.take(HEADER_BYTES);
    if (header.byteLength < HEADER_BYTES) {
      if (cut) return;
      throw new ContentError("lzma: truncated header");
    }
    yield* streamLzma(readHeader(header).decoder, input, cut);
  } finally {
    await input.close();
  }
}
