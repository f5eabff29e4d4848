/**
 * LZMA-alone streams (.lzma: LZMA Utils' format, which `xz --format=lzma`
 * still writes and dpkg still reads as `data.tar.lzma`): a 13-byte header
 * (the properties byte, the dictionary size, the uncompressed size or all
 * ones when unknown) and one raw LZMA stream, ended by its marker or its
 * stated size. No checksum: damage shows only where the stream stops making
 * sense. Decoded by the streaming {@link LzmaDecoder}.
 */
import { LZMA_ALONE_HEADER_BYTES, lzmaAloneHeader } from "../../detect/signatures.js";
import { ContentError } from "../../errors.js";
import { CompressedInput, runOf } from "./decoders.js";
import type { Decoder } from "./forward-decompressor.js";
import { LzmaDecoder, lzmaProperties, streamLzma } from "./lzma.js";
import type { HeaderFacts } from "./stream-headers.js";

/** The header's properties and, when it states one, the uncompressed size. */
function readHeader(header: Uint8Array): { decoder: LzmaDecoder; size?: number } {
  const fields = lzmaAloneHeader(header);
  const size = fields.size === undefined ? undefined : Number(fields.size);
  const properties = lzmaProperties(fields.properties, fields.dictionary);
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
  if (head.byteLength < LZMA_ALONE_HEADER_BYTES) throw new ContentError("lzma header truncated");
  const { size } = readHeader(head.subarray(0, LZMA_ALONE_HEADER_BYTES));
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
    const header = await input.take(LZMA_ALONE_HEADER_BYTES);
    if (header.byteLength < LZMA_ALONE_HEADER_BYTES) {
      if (cut) return;
      throw new ContentError("lzma: truncated header");
    }
    yield* streamLzma(readHeader(header).decoder, input, cut);
  } finally {
    await input.close();
  }
}
