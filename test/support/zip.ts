/** ZIP files built byte by byte in the layouts writers produce, for tests that need a package the corpus lacks. */
import { deflateRawSync } from "node:zlib";

/** One entry of a ZIP built by {@link buildZip}. */
export interface Part {
  name: string;
  content: string;
  /** @default "deflate" */
  method?: "store" | "deflate";
  /** Sizes left zero in the local header and written after the data (general purpose bit 3). */
  descriptor?: boolean;
  /** The name's bytes as stored, in place of `name` in UTF-8 (a legacy CP437 name, say). */
  nameBytes?: Uint8Array;
  /** Extra fields of the central record (each with its ID and size), after any ZIP64 field. */
  centralExtra?: Uint8Array;
}

/** How {@link buildZip} writes the archive as a whole. */
export interface ZipOptions {
  /** Sizes and offsets through ZIP64 extra fields and a ZIP64 end record and locator. */
  zip64?: boolean;
  /** The host system of "version made by" (APPNOTE 4.4.2): 0 MS-DOS, 3 Unix. @default 0 */
  madeBy?: number;
  /** The upper byte of "version needed to extract", in local and central headers alike. @default 0 */
  neededHost?: number;
  /** General purpose bit 11: names are UTF-8. @default true */
  utf8?: boolean;
}

/**
 * A ZIP of `parts` (CRCs left zero: the reader does not check them). `zip64`
 * writes every size and offset through ZIP64 extra fields and ends the archive
 * with a ZIP64 end record and locator, as writers do past 4 GiB or 65535 entries.
 */
export function buildZip(parts: readonly Part[], options: ZipOptions = {}): Uint8Array {
  const chunks: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  const push = (chunk: Buffer) => {
    chunks.push(chunk);
    offset += chunk.byteLength;
  };
  for (const part of parts) {
    const name = part.nameBytes ? Buffer.from(part.nameBytes) : Buffer.from(part.name, "utf8");
    const data = Buffer.from(part.content, "utf8");
    const stored = part.method === "store";
    const body = stored ? data : deflateRawSync(data);
    const flags = (options.utf8 === false ? 0 : 0x0800) | (part.descriptor ? 0x0008 : 0);
    const localAt = offset;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    const needed = ((options.neededHost ?? 0) << 8) | (options.zip64 ? 45 : 20);
    local.writeUInt16LE(needed, 4);
    local.writeUInt16LE(flags, 6);
    local.writeUInt16LE(stored ? 0 : 8, 8);
    if (!part.descriptor) {
      local.writeUInt32LE(options.zip64 ? 0xffffffff : body.byteLength, 18);
      local.writeUInt32LE(options.zip64 ? 0xffffffff : data.byteLength, 22);
    }
    const localExtra = Buffer.alloc(options.zip64 ? 20 : 0);
    if (options.zip64) {
      localExtra.writeUInt16LE(0x0001, 0);
      localExtra.writeUInt16LE(16, 2);
      if (!part.descriptor) {
        localExtra.writeBigUInt64LE(BigInt(data.byteLength), 4);
        localExtra.writeBigUInt64LE(BigInt(body.byteLength), 12);
      }
    }
    local.writeUInt16LE(name.byteLength, 26);
    local.writeUInt16LE(localExtra.byteLength, 28);
    push(local);
    push(name);
    push(localExtra);
    push(body);
    if (part.descriptor) {
      const descriptor = Buffer.alloc(options.zip64 ? 24 : 16);
      descriptor.writeUInt32LE(0x08074b50, 0);
      if (options.zip64) {
        descriptor.writeBigUInt64LE(BigInt(body.byteLength), 8);
        descriptor.writeBigUInt64LE(BigInt(data.byteLength), 16);
      } else {
        descriptor.writeUInt32LE(body.byteLength, 8);
        descriptor.writeUInt32LE(data.byteLength, 12);
      }
      push(descriptor);
    }
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(((options.madeBy ?? 0) << 8) | (options.zip64 ? 45 : 20), 4);
    central.writeUInt16LE(needed, 6);
    central.writeUInt16LE(flags, 8);
    central.writeUInt16LE(stored ? 0 : 8, 10);
    central.writeUInt32LE(options.zip64 ? 0xffffffff : body.byteLength, 20);
    central.writeUInt32LE(options.zip64 ? 0xffffffff : data.byteLength, 24);
    central.writeUInt16LE(name.byteLength, 28);
    central.writeUInt32LE(options.zip64 ? 0xffffffff : localAt, 42);
    const zip64Extra = Buffer.alloc(options.zip64 ? 28 : 0);
    if (options.zip64) {
      zip64Extra.writeUInt16LE(0x0001, 0);
      zip64Extra.writeUInt16LE(24, 2);
      zip64Extra.writeBigUInt64LE(BigInt(data.byteLength), 4);
      zip64Extra.writeBigUInt64LE(BigInt(body.byteLength), 12);
      zip64Extra.writeBigUInt64LE(BigInt(localAt), 20);
    }
    const centralExtra = Buffer.concat([zip64Extra, part.centralExtra ?? new Uint8Array(0)]);
    central.writeUInt16LE(centralExtra.byteLength, 30);
    centrals.push(central, name, centralExtra);
  }
  const directory = Buffer.concat(centrals);
  const directoryAt = offset;
  push(directory);
  const count = parts.length;
  if (options.zip64) {
    const recordAt = offset;
    const record = Buffer.alloc(56);
    record.writeUInt32LE(0x06064b50, 0);
    record.writeBigUInt64LE(44n, 4);
    record.writeUInt16LE(45, 12);
    record.writeUInt16LE(45, 14);
    record.writeBigUInt64LE(BigInt(count), 24);
    record.writeBigUInt64LE(BigInt(count), 32);
    record.writeBigUInt64LE(BigInt(directory.byteLength), 40);
    record.writeBigUInt64LE(BigInt(directoryAt), 48);
    push(record);
    const locator = Buffer.alloc(20);
    locator.writeUInt32LE(0x07064b50, 0);
    locator.writeBigUInt64LE(BigInt(recordAt), 8);
    locator.writeUInt32LE(1, 16);
    push(locator);
  }
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(options.zip64 ? 0xffff : count, 8);
  end.writeUInt16LE(options.zip64 ? 0xffff : count, 10);
  end.writeUInt32LE(options.zip64 ? 0xffffffff : directory.byteLength, 12);
  end.writeUInt32LE(options.zip64 ? 0xffffffff : directoryAt, 16);
  push(end);
  return new Uint8Array(Buffer.concat(chunks));
}
