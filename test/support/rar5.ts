/**
 * RAR 5 archives built by hand, to the format's technical note (rarlab.com,
 * "RAR 5.0 archive format"): RAR itself is the only tool that writes RAR, and
 * it is not free software. Files are stored (method 0), so libarchive's
 * bsdtar can list them and extract their bytes, which checks the builder.
 */
import { crc32 } from "../../src/engine/crc.js";

/** A RAR 5 variable-length integer: 7 bits a byte, low first, the high bit set on all but the last. */
export function vint(value: number): number[] {
  const bytes: number[] = [];
  let rest = value;
  do {
    const low = rest % 128;
    rest = Math.floor(rest / 128);
    bytes.push(rest > 0 ? low | 0x80 : low);
  } while (rest > 0);
  return bytes;
}

/** A block: CRC32, header size, then the header data (type, flags, and the rest) and any data area. */
function block(fields: number[], data: Uint8Array = new Uint8Array(0)): Buffer {
  const sized = Buffer.from([...vint(fields.length), ...fields]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32LE(crc32(sized));
  return Buffer.concat([crc, sized, data]);
}

export interface Rar5Entry {
  name: string;
  /** Stored bytes; none for a folder. */
  content?: Uint8Array;
  directory?: boolean;
  /** Adds a file encryption extra record (type 0x01), as RAR writes for an encrypted file. */
  encrypted?: boolean;
}

/** A file header with its data area. */
function fileBlock(entry: Rar5Entry): Buffer {
  const name = Buffer.from(entry.name, "utf8");
  const content = entry.content ?? new Uint8Array(0);
  const directory = entry.directory === true;
  // Encryption record: type 1, version 0, flags 0, KDF count 15, salt (16), IV (16); enough for a reader to see it.
  const extra = entry.encrypted ? [...vint(36), 0x01, 0, 0, 15, ...new Array(32).fill(0)] : [];
  // A data area (empty for a folder) is always declared, as RAR writes it and libarchive expects.
  const headerFlags = (extra.length > 0 ? 0x0001 : 0) | 0x0002;
  const fields = [
    0x02,
    ...vint(headerFlags),
    ...(extra.length > 0 ? vint(extra.length) : []),
    ...vint(content.byteLength),
    ...vint(directory ? 0x0001 : 0x0004),
    ...vint(content.byteLength),
    ...vint(directory ? 0o40755 : 0o100644),
  ];
  if (!directory) {
    const crc = Buffer.alloc(4);
    crc.writeUInt32LE(crc32(content));
    fields.push(...crc);
  }
  // Compression: version 0, method 0 (store); host OS 1 (Unix); the name, UTF-8, `/` between folders.
  fields.push(...vint(0), ...vint(1), ...vint(name.byteLength), ...name, ...extra);
  return block(fields, directory ? undefined : content);
}

/**
 * A RAR 5 archive of `entries`: signature, main archive header, one file
 * header per entry, end of archive header.
 *
 * @example
 * rar5([{ name: "docs", directory: true }, { name: "docs/a.txt", content: Buffer.from("hi") }])
 */
export function rar5(entries: readonly Rar5Entry[], options: { encryptedHeaders?: boolean } = {}): Buffer {
  const signature = Buffer.from([0x52, 0x61, 0x72, 0x21, 0x1a, 0x07, 0x01, 0x00]);
  if (options.encryptedHeaders) {
    // Archive encryption header: type 4, flags 0, version 0, flags 0, KDF count 15, salt (16).
    return Buffer.concat([
      signature,
      block([0x04, 0, 0, 0, 15, ...new Array(16).fill(7)]),
      Buffer.alloc(64, 9),
    ]);
  }
  return Buffer.concat([
    signature,
    block([0x01, 0x00, 0x00]),
    ...entries.map(fileBlock),
    block([0x05, 0x00, 0x00]),
  ]);
}
