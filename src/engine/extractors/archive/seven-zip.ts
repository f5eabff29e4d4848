/**
 * 7z listings (7zFormat.txt in the LZMA SDK): the signature header points at
 * the next header, at the end of the archive, which 7-Zip usually packs with
 * LZMA (an "encoded header": a small streams description of where the packed
 * header lies and how to unpack it). The header lists the files (names,
 * empty streams, folders) and the streams' unpacked sizes; an AES coder in a
 * folder means encrypted content, in the encoded header's folder encrypted
 * names. Written by hand: npm's 7z readers run the 7-Zip binary or unpack
 * whole archives, and none reads a header by range.
 */
import type { BlockReader } from "../../byte-source/block-reader.js";
import { crc32 } from "../../crc.js";
import { ContentError } from "../../errors.js";
import { boundedLength, cleanString, MAX_STRUCTURE_BYTES } from "../../limits.js";
import { textDecoder } from "../../text-decoder.js";
import { u32 } from "../bytes.js";
import { decodeLzma } from "./lzma.js";
import type { HeaderFacts } from "./stream-headers.js";

const SIGNATURE = [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c];

const K_END = 0x00;
const K_HEADER = 0x01;
const K_ARCHIVE_PROPERTIES = 0x02;
const K_ADDITIONAL_STREAMS_INFO = 0x03;
const K_MAIN_STREAMS_INFO = 0x04;
const K_FILES_INFO = 0x05;
const K_PACK_INFO = 0x06;
const K_UNPACK_INFO = 0x07;
const K_SUBSTREAMS_INFO = 0x08;
const K_SIZE = 0x09;
const K_CRC = 0x0a;
const K_FOLDER = 0x0b;
const K_CODERS_UNPACK_SIZE = 0x0c;
const K_NUM_UNPACK_STREAM = 0x0d;
const K_EMPTY_STREAM = 0x0e;
const K_EMPTY_FILE = 0x0f;
const K_NAME = 0x11;
const K_ENCODED_HEADER = 0x17;

const CODER_COPY = "00";
const CODER_LZMA = "030101";
const CODER_AES = "06f10701";

/** A header unpacked from LZMA may be this large at most. */
const MAX_UNPACKED_HEADER_BYTES = 16 * 1024 * 1024;

/** Reads the header's bytes in order: its bytes, 7z NUMBERs, 32-bit words. */
class Cursor {
  at = 0;
  constructor(private readonly bytes: Uint8Array) {}

  byte(): number {
    const value = this.bytes[this.at++];
    if (value === undefined) throw new ContentError("7z header ends early (truncated or damaged)");
    return value;
  }

  /** A 7z NUMBER: the first byte's leading one bits say how many bytes follow, low first. */
  number(): number {
    const first = this.byte();
    let mask = 0x80;
    let value = 0;
    for (let i = 0; i < 8; i++) {
      if ((first & mask) === 0) return value + (first & (mask - 1)) * 2 ** (8 * i);
      value += this.byte() * 2 ** (8 * i);
      mask >>= 1;
    }
    return value;
  }

  /** A count that a header this size can hold: at most one per byte left. */
  count(what: string): number {
    const value = this.number();
    if (value > this.bytes.byteLength - this.at + 1)
      throw new ContentError(`7z ${what} count ${value} is impossible`);
    return value;
  }

  take(length: number): Uint8Array {
    if (length > this.bytes.byteLength - this.at)
      throw new ContentError("7z header ends early (truncated or damaged)");
    const out = this.bytes.subarray(this.at, this.at + length);
    this.at += length;
    return out;
  }

  expect(id: number, where: string): void {
    const found = this.byte();
    if (found !== id)
      throw new ContentError(
        `7z ${where}: property 0x${found.toString(16)} where 0x${id.toString(16)} was due`,
      );
  }

  /** `count` bits, most significant first. */
  bits(count: number): boolean[] {
    const bytes = this.take(Math.ceil(count / 8));
    return Array.from({ length: count }, (_, i) => ((bytes[i >> 3] as number) & (0x80 >> (i & 7))) !== 0);
  }

  /** A digests block: which of `count` items carry a CRC32, then those CRCs. */
  digests(count: number): (number | undefined)[] {
    const allDefined = this.byte() !== 0;
    const defined = allDefined ? new Array<boolean>(count).fill(true) : this.bits(count);
    return defined.map((has) => {
      if (!has) return undefined;
      return u32(this.take(4), 0);
    });
  }
}

interface Coder {
  id: string;
  properties: Uint8Array;
}

interface Folder {
  coders: Coder[];
  /** Unpacked size of the folder's final output (the stream no other coder reads). */
  unpackSize: number;
  crc?: number;
}

interface StreamsInfo {
  packPos: number;
  packSizes: number[];
  folders: Folder[];
  /** The unpacked size of each file stream, folder by folder. */
  streamSizes: number[];
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** A folder's coders, and how many output streams they have in all, and which ones feed another coder. */
function readFolder(cursor: Cursor): { coders: Coder[]; outStreams: number; boundOut: Set<number> } {
  const coders: Coder[] = [];
  let inStreams = 0;
  let outStreams = 0;
  const count = cursor.count("coder");
  if (count === 0 || count > 64) throw new ContentError(`7z folder of ${count} coders`);
  for (let i = 0; i < count; i++) {
    const flags = cursor.byte();
    const id = hex(cursor.take(flags & 0x0f));
    const complex = (flags & 0x10) !== 0;
    inStreams += complex ? cursor.count("coder stream") : 1;
    outStreams += complex ? cursor.count("coder stream") : 1;
    const properties = (flags & 0x20) !== 0 ? cursor.take(cursor.count("property byte")) : new Uint8Array(0);
    coders.push({ id, properties });
  }
  const boundOut = new Set<number>();
  for (let i = 0; i < outStreams - 1; i++) {
    cursor.number();
    boundOut.add(cursor.number());
  }
  const packed = inStreams - (outStreams - 1);
  if (packed > 1) for (let i = 0; i < packed; i++) cursor.number();
  return { coders, outStreams, boundOut };
}

function readStreamsInfo(cursor: Cursor): StreamsInfo {
  const info: StreamsInfo = { packPos: 0, packSizes: [], folders: [], streamSizes: [] };
  let id = cursor.byte();
  if (id === K_PACK_INFO) {
    info.packPos = cursor.number();
    const count = cursor.count("pack stream");
    for (let t = cursor.byte(); t !== K_END; t = cursor.byte()) {
      if (t === K_SIZE) info.packSizes = Array.from({ length: count }, () => cursor.number());
      else if (t === K_CRC) cursor.digests(count);
      else throw new ContentError(`7z pack info: unknown property 0x${t.toString(16)}`);
    }
    id = cursor.byte();
  }
  if (id === K_UNPACK_INFO) {
    cursor.expect(K_FOLDER, "unpack info");
    const count = cursor.count("folder");
    if (cursor.byte() !== 0) throw new ContentError("7z folders stored outside the header are not read");
    const shapes = Array.from({ length: count }, () => readFolder(cursor));
    cursor.expect(K_CODERS_UNPACK_SIZE, "unpack info");
    for (const shape of shapes) {
      const sizes = Array.from({ length: shape.outStreams }, () => cursor.number());
      const main = sizes.findIndex((_, i) => !shape.boundOut.has(i));
      info.folders.push({ coders: shape.coders, unpackSize: sizes[main] ?? 0 });
    }
    for (let t = cursor.byte(); t !== K_END; t = cursor.byte()) {
      if (t !== K_CRC) throw new ContentError(`7z unpack info: unknown property 0x${t.toString(16)}`);
      cursor.digests(count).forEach((crc, i) => {
        const folder = info.folders[i];
        if (folder && crc !== undefined) folder.crc = crc;
      });
    }
    id = cursor.byte();
  }
  // Without substreams, each folder is one file's stream.
  let perFolder = info.folders.map(() => 1);
  info.streamSizes = info.folders.map((folder) => folder.unpackSize);
  if (id === K_SUBSTREAMS_INFO) {
    let t = cursor.byte();
    if (t === K_NUM_UNPACK_STREAM) {
      perFolder = info.folders.map(() => cursor.count("substream"));
      t = cursor.byte();
    }
    if (t === K_SIZE) {
      info.streamSizes = [];
      info.folders.forEach((folder, i) => {
        const streams = perFolder[i] as number;
        if (streams === 0) return;
        let sum = 0;
        for (let s = 1; s < streams; s++) {
          const size = cursor.number();
          info.streamSizes.push(size);
          sum += size;
        }
        info.streamSizes.push(Math.max(0, folder.unpackSize - sum));
      });
      t = cursor.byte();
    } else {
      info.streamSizes = info.folders.flatMap((folder, i) => (perFolder[i] === 1 ? [folder.unpackSize] : []));
    }
    while (t !== K_END) {
      if (t !== K_CRC) throw new ContentError(`7z substreams: unknown property 0x${t.toString(16)}`);
      // A CRC for each stream whose folder does not already give it (a folder of one stream with a CRC).
      const unknown = info.folders.reduce(
        (sum, folder, i) =>
          sum + (perFolder[i] === 1 && folder.crc !== undefined ? 0 : (perFolder[i] as number)),
        0,
      );
      cursor.digests(unknown);
      t = cursor.byte();
    }
    id = cursor.byte();
  }
  if (id !== K_END) throw new ContentError(`7z streams info: unknown property 0x${id.toString(16)}`);
  return info;
}

/**
 * The first `count` names of a names property: UTF-16LE, each ended by a NUL
 * character. Only they are decoded, not the whole list of a large archive.
 */
function firstNames(bytes: Uint8Array, count: number): string[] {
  let end = 0;
  for (let found = 0; end + 1 < bytes.byteLength && found < count; end += 2) {
    if (bytes[end] === 0 && bytes[end + 1] === 0) found++;
  }
  return textDecoder("utf-16le").decode(bytes.subarray(0, end)).split("\0", count);
}

/**
 * What the file list states: how many entries, and the first names, a
 * folder's (an empty stream that is no empty file) ending in `/`, as bsdtar
 * lists them.
 */
function readFilesInfo(cursor: Cursor, sampleSize: number): { entries: number; names: string[] } {
  const entries = cursor.count("file");
  let names: string[] = [];
  let emptyStream: boolean[] = [];
  let emptyFile: boolean[] = [];
  for (let type = cursor.byte(); type !== K_END; type = cursor.byte()) {
    const size = cursor.number();
    const property = new Cursor(
      cursor.take(boundedLength(size, MAX_UNPACKED_HEADER_BYTES, "7z file property")),
    );
    if (type === K_EMPTY_STREAM) emptyStream = property.bits(entries);
    else if (type === K_EMPTY_FILE) emptyFile = property.bits(emptyStream.filter(Boolean).length);
    else if (type === K_NAME && property.byte() === 0)
      names = firstNames(property.take(size - 1), sampleSize);
  }
  const sample: string[] = [];
  let empties = 0;
  names.forEach((name, i) => {
    const folder = emptyStream[i] === true && emptyFile[empties] !== true;
    if (emptyStream[i]) empties++;
    const clean = cleanString(folder ? `${name}/` : name);
    if (clean) sample.push(clean);
  });
  return { entries, names: sample };
}

/** Whether any of the folders encrypts with AES. */
function anyAes(folders: readonly Folder[]): boolean {
  return folders.some((folder) => folder.coders.some((coder) => coder.id === CODER_AES));
}

/**
 * The packed header an encoded header describes, unpacked: read at its pack
 * position, then decoded by its folder's single coder (LZMA, or stored);
 * undefined for another coder (7-Zip packs headers with LZMA unless told
 * otherwise).
 */
async function unpackHeader(reader: BlockReader, streams: StreamsInfo): Promise<Uint8Array | undefined> {
  const folder = streams.folders[0];
  const packSize = streams.packSizes[0];
  if (!folder || packSize === undefined || streams.folders.length !== 1 || folder.coders.length !== 1) {
    throw new ContentError("7z encoded header is not one packed stream of one coder");
  }
  const coder = folder.coders[0] as Coder;
  const offset = 32 + streams.packPos;
  if (offset + packSize > reader.size)
    throw new ContentError("7z packed header lies past the end (truncated)");
  const packed = await reader.read(offset, boundedLength(packSize, MAX_STRUCTURE_BYTES, "7z packed header"));
  const size = boundedLength(folder.unpackSize, MAX_UNPACKED_HEADER_BYTES, "7z header");
  let header: Uint8Array;
  if (coder.id === CODER_LZMA) header = decodeLzma(coder.properties, packed, size);
  else if (coder.id === CODER_COPY) header = packed.subarray(0, size);
  else return undefined;
  if (folder.crc !== undefined && crc32(header) !== folder.crc)
    throw new ContentError("7z header CRC32 mismatch");
  return header;
}

/** A 7z header's facts, and why there are no more when the header could not be read whole. */
export interface SevenZipListing {
  facts: HeaderFacts;
  /** Set when the file list could not be read (a header packed by a coder this reader lacks). */
  stopReason?: string;
}

/**
 * 7z: entries, the first names, the unpacked size, and whether content or
 * names are encrypted (an AES coder). An archive whose names are encrypted
 * gives only that.
 *
 * @example
 * await readSevenZip(reader, head, { sampleSize: 20 }) // { facts: { kind: "7z", entries: 4, uncompressedSize: 5006, encrypted: false, sample: ["d", ...] } }
 */
export async function readSevenZip(
  reader: BlockReader,
  head: Uint8Array,
  options: { sampleSize: number },
): Promise<SevenZipListing> {
  const facts: HeaderFacts = { kind: "7z", encrypted: false, sample: [] };
  if (head.byteLength < 32 || !SIGNATURE.every((byte, i) => head[i] === byte)) {
    throw new ContentError("7z signature header truncated");
  }
  const data = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const nextOffset = Number(data.getBigUint64(12, true));
  const nextSize = Number(data.getBigUint64(20, true));
  const at = 32 + nextOffset;
  if (nextSize === 0) return { facts: { ...facts, entries: 0, uncompressedSize: 0 } };
  if (at + nextSize > reader.size) throw new ContentError("7z next header lies past the end (truncated)");
  let header = await reader.read(at, boundedLength(nextSize, MAX_STRUCTURE_BYTES, "7z header"));
  if (crc32(header) !== data.getUint32(28, true))
    throw new ContentError("7z next header CRC32 mismatch (damaged)");
  // An encoded header unpacks to a header, which may itself be encoded; 7-Zip nests one level.
  for (let depth = 0; header[0] === K_ENCODED_HEADER; depth++) {
    if (depth >= 4) throw new ContentError("7z encoded headers nested too deep");
    const cursor = new Cursor(header);
    cursor.byte();
    const streams = readStreamsInfo(cursor);
    if (anyAes(streams.folders)) {
      // Encrypted names: nothing past the signature is readable without the password.
      facts.encrypted = true;
      return { facts };
    }
    const unpacked = await unpackHeader(reader, streams);
    if (!unpacked) {
      const coder = streams.folders[0]?.coders[0]?.id ?? "";
      return {
        facts,
        stopReason: `the file list is packed with coder ${coder}, which this reader does not unpack`,
      };
    }
    header = unpacked;
  }
  const cursor = new Cursor(header);
  cursor.expect(K_HEADER, "header");
  let id = cursor.byte();
  if (id === K_ARCHIVE_PROPERTIES) {
    for (let type = cursor.byte(); type !== K_END; type = cursor.byte()) cursor.take(cursor.number());
    id = cursor.byte();
  }
  if (id === K_ADDITIONAL_STREAMS_INFO) {
    readStreamsInfo(cursor);
    id = cursor.byte();
  }
  let main: StreamsInfo | undefined;
  if (id === K_MAIN_STREAMS_INFO) {
    main = readStreamsInfo(cursor);
    id = cursor.byte();
  }
  let files = { entries: 0, names: [] as string[] };
  if (id === K_FILES_INFO) {
    files = readFilesInfo(cursor, options.sampleSize);
    id = cursor.byte();
  }
  if (id !== K_END) throw new ContentError(`7z header: unknown property 0x${id.toString(16)}`);
  return {
    facts: {
      ...facts,
      entries: files.entries,
      uncompressedSize: (main?.streamSizes ?? []).reduce((sum, size) => sum + size, 0),
      encrypted: anyAes(main?.folders ?? []),
      sample: files.names,
    },
  };
}
