/** tar archives built block by block, for tests that need a layout the corpus lacks. */
import { randomBytes } from "node:crypto";

/**
 * A ustar header block for an entry of `size` bytes; `type` "L" is a GNU
 * long name for the next entry, "x" pax records. The name is written in
 * `encoding`, as a tar on a system of that character set writes it.
 */
export function tarHeader(name: string, size: number, type = "0", encoding: BufferEncoding = "utf8"): Buffer {
  const header = Buffer.alloc(512);
  header.write(name, 0, encoding);
  header.write("0000644\0", 100);
  header.write("0000000\0", 108);
  header.write("0000000\0", 116);
  header.write(`${size.toString(8).padStart(11, "0")}\0`, 124);
  header.write("00000000000\0", 136);
  header.write(" ".repeat(8), 148);
  header.write(type, 156);
  header.write("ustar\u000000", 257);
  const sum = header.reduce((total, byte) => total + byte, 0);
  header.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148);
  return header;
}

/** One entry: its header, then `content` (zeros of `size` when absent) padded to whole blocks. */
export function tarEntry(name: string, size: number, content?: Uint8Array): Buffer {
  const body = Buffer.alloc(Math.ceil(size / 512) * 512);
  if (content) body.set(content.subarray(0, size));
  return Buffer.concat([tarHeader(name, size), body]);
}

/** A tar of `entries`, ended by the two zero blocks of the end-of-archive marker. */
export function tarOf(entries: readonly Buffer[]): Buffer {
  return Buffer.concat([...entries, Buffer.alloc(1024)]);
}

/** A tar of `count` files of `size` random bytes each (`data/part-0.bin` ...), which no compressor packs. */
export function randomTar(count: number, size: number): Buffer {
  return tarOf(
    Array.from({ length: count }, (_, i) => tarEntry(`data/part-${i}.bin`, size, randomBytes(size))),
  );
}

/** A tar of `count` small text files (`docs/0000.txt` ...), which every compressor packs tightly. */
export function textTar(count: number): Buffer {
  return tarOf(
    Array.from({ length: count }, (_, i) => {
      const body = Buffer.from(`line ${i} of a small text file\n`.repeat(1 + (i % 40)));
      return tarEntry(`docs/${String(i).padStart(4, "0")}.txt`, body.byteLength, body);
    }),
  );
}

/** A tar of one file, `zeros.bin`, of `size` zeros: a bomb once compressed. */
export function zerosTar(size: number): Buffer {
  const tar = Buffer.alloc(512 + Math.ceil(size / 512) * 512 + 1024);
  tarHeader("zeros.bin", size).copy(tar);
  return tar;
}
