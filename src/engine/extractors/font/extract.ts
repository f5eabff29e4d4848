/**
 * Font headers read by hand: fontkit and opentype.js want the whole font in
 * memory, while the names need only the table directory and the `name` table
 * (or, for EOT, its own header). Every offset and length comes through
 * boundedLength and every read through the budgeted reader.
 */
import { createBrotliDecompress, inflateSync } from "node:zlib";
import { ContentError } from "../../errors.js";
import { boundedLength, cleanString, MAX_STRUCTURE_BYTES } from "../../limits.js";
import type { FontInfo, Sections } from "../../types.js";
import type { ExtractContext } from "../extractor.js";
import { parseNameTable } from "./name-table.js";

/** A name table beyond this is not a name table. */
const MAX_NAME_TABLE_BYTES = 1024 * 1024;

/** Tables in one font (the format's field is 16 bits; real fonts have a few dozen). */
const MAX_TABLES = 4096;

/** Faces listed in a collection. */
const MAX_FACES = 65_536;

const SFNT_FLAVOURS = new Set([
  0x00010000, 0x4f54544f /* OTTO */, 0x74727565 /* true */, 0x74797031 /* typ1 */,
]);
const TAG_NAME = 0x6e616d65;

function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

async function readExactly(
  ctx: ExtractContext,
  offset: number,
  length: number,
  what: string,
): Promise<Uint8Array> {
  const bytes = await ctx.reader.read(offset, length);
  if (bytes.length < length)
    throw new ContentError(`${what}: truncated at ${offset + bytes.length} of ${offset + length}`);
  return bytes;
}

/** Names of the sfnt font whose offset table starts at `base`. */
async function sfntNames(ctx: ExtractContext, base: number): Promise<FontInfo> {
  const header = await readExactly(ctx, base, 12, "offset table");
  const flavour = viewOf(header).getUint32(0);
  if (!SFNT_FLAVOURS.has(flavour))
    throw new ContentError(`not an sfnt font (flavour 0x${flavour.toString(16)})`);
  const tables = boundedLength(viewOf(header).getUint16(4), MAX_TABLES, "table count");
  const directory = viewOf(await readExactly(ctx, base + 12, tables * 16, "table directory"));
  for (let i = 0; i < tables; i++) {
    if (directory.getUint32(i * 16) !== TAG_NAME) continue;
    const offset = boundedLength(directory.getUint32(i * 16 + 8), ctx.reader.size, "name table offset");
    const length = boundedLength(directory.getUint32(i * 16 + 12), MAX_NAME_TABLE_BYTES, "name table length");
    return parseNameTable(await readExactly(ctx, offset, length, "name table"));
  }
  ctx.warn("font has no name table");
  return {};
}

/** TrueType collection: face count, then the first face's names. */
async function collectionNames(ctx: ExtractContext): Promise<FontInfo> {
  const header = viewOf(await readExactly(ctx, 0, 16, "collection header"));
  const faces = boundedLength(header.getUint32(8), MAX_FACES, "face count");
  ctx.partial.font = { faces };
  if (faces === 0) return { faces };
  const first = header.getUint32(12);
  return { ...(await sfntNames(ctx, first)), faces };
}

/** WOFF 1: each table is zlib-compressed on its own, so only `name` is inflated. */
async function woffNames(ctx: ExtractContext): Promise<FontInfo> {
  const header = viewOf(await readExactly(ctx, 0, 44, "WOFF header"));
  const tables = boundedLength(header.getUint16(12), MAX_TABLES, "table count");
  const directory = viewOf(await readExactly(ctx, 44, tables * 20, "WOFF table directory"));
  for (let i = 0; i < tables; i++) {
    if (directory.getUint32(i * 20) !== TAG_NAME) continue;
    const offset = boundedLength(directory.getUint32(i * 20 + 4), ctx.reader.size, "name table offset");
    const stored = boundedLength(directory.getUint32(i * 20 + 8), MAX_NAME_TABLE_BYTES, "name table length");
    const original = boundedLength(
      directory.getUint32(i * 20 + 12),
      MAX_NAME_TABLE_BYTES,
      "name table length",
    );
    const bytes = await readExactly(ctx, offset, stored, "WOFF name table");
    if (stored >= original) return parseNameTable(bytes.subarray(0, original));
    try {
      return parseNameTable(inflateSync(bytes, { maxOutputLength: original }));
    } catch (error) {
      throw new ContentError("WOFF name table does not inflate", { cause: error });
    }
  }
  ctx.warn("font has no name table");
  return {};
}

/** WOFF 2's known-table tags, by the 6-bit index its directory uses. */
const WOFF2_TAGS = (
  "cmap head hhea hmtx maxp name OS/2 post cvt  fpgm glyf loca prep CFF  VORG EBDT EBLC gasp hdmx kern LTSH PCLT VDMX " +
  "vhea vmtx BASE GDEF GPOS GSUB EBSC JSTF MATH CBDT CBLC COLR CPAL SVG  sbix acnt avar bdat bloc bsln cvar fdsc feat " +
  "fmtx fvar gvar hsty just lcar mort morx opbd prop trak Zapf Silf Glat Gloc Feat Sill"
)
  .match(/.{4}\s?/g)
  ?.map((tag) => tag.slice(0, 4)) as string[];

/** UIntBase128 from the WOFF 2 spec: at most five bytes, no leading zero byte. */
function readBase128(bytes: Uint8Array, at: { pos: number }): number {
  let value = 0;
  for (let i = 0; i < 5; i++) {
    if (at.pos >= bytes.length) throw new ContentError("WOFF2 table directory: truncated");
    const byte = bytes[at.pos++] as number;
    if (i === 0 && byte === 0x80)
      throw new ContentError("WOFF2 table directory: leading zero in UIntBase128");
    value = value * 128 + (byte & 0x7f);
    if ((byte & 0x80) === 0) return value;
  }
  throw new ContentError("WOFF2 table directory: UIntBase128 longer than 5 bytes");
}

/** Decompresses brotli data fed in chunks, stopping once `wanted` bytes have come out. */
async function brotliPrefix(
  ctx: ExtractContext,
  offset: number,
  compressed: number,
  wanted: number,
): Promise<Uint8Array> {
  const stream = createBrotliDecompress();
  const parts: Buffer[] = [];
  let produced = 0;
  const failed = new Promise<never>((_, reject) => {
    stream.on("error", (error) =>
      reject(new ContentError("WOFF2 data does not decompress", { cause: error })),
    );
  });
  failed.catch(() => undefined);
  stream.on("data", (chunk: Buffer) => {
    parts.push(chunk);
    produced += chunk.length;
  });
  const ended = new Promise<void>((resolve) => stream.on("end", resolve));
  try {
    for (let at = 0; at < compressed && produced < wanted; ) {
      const chunk = await ctx.reader.read(offset + at, Math.min(64 * 1024, compressed - at));
      if (chunk.length === 0) break;
      at += chunk.length;
      await Promise.race([new Promise<void>((resolve) => stream.write(chunk, () => resolve())), failed]);
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (produced < wanted) {
      stream.end();
      await Promise.race([ended, failed]);
    }
  } finally {
    stream.destroy();
  }
  const out = Buffer.concat(parts);
  if (out.length < wanted)
    throw new ContentError(`WOFF2 data: ${out.length} of ${wanted} bytes decompressed`);
  return out.subarray(0, wanted);
}

/**
 * WOFF 2 compresses all tables as one brotli stream, in directory order; the
 * `name` table is never transformed, so it is the slice after the tables
 * before it. Only that prefix is decompressed.
 */
async function woff2Names(ctx: ExtractContext): Promise<FontInfo> {
  const header = viewOf(await readExactly(ctx, 0, 48, "WOFF2 header"));
  const flavour = header.getUint32(4);
  const tables = boundedLength(header.getUint16(12), MAX_TABLES, "table count");
  const compressed = boundedLength(header.getUint32(20), MAX_STRUCTURE_BYTES, "WOFF2 compressed size");
  // 1 flag byte, an optional 4-byte tag, two base-128 numbers of up to 5 bytes: 14 bytes per entry at most.
  const directory = await ctx.reader.read(48, tables * 14);
  const at = { pos: 0 };
  let nameStart: number | undefined;
  let nameLength = 0;
  let position = 0;
  for (let i = 0; i < tables; i++) {
    if (at.pos >= directory.length) throw new ContentError("WOFF2 table directory: truncated");
    const flags = directory[at.pos++] as number;
    let tag: string;
    if ((flags & 0x3f) === 63) {
      tag = String.fromCharCode(...directory.subarray(at.pos, at.pos + 4));
      at.pos += 4;
    } else {
      tag = WOFF2_TAGS[flags & 0x3f] as string;
    }
    const version = flags >> 6;
    const original = readBase128(directory, at);
    const glyphData = tag === "glyf" || tag === "loca";
    const transformed = glyphData ? version === 0 : version !== 0;
    const stored = transformed ? readBase128(directory, at) : original;
    if (tag === "name") {
      nameStart = position;
      nameLength = boundedLength(original, MAX_NAME_TABLE_BYTES, "name table length");
    }
    position += stored;
  }
  if (flavour === 0x74746366 /* ttcf */) {
    ctx.warn("WOFF2 collection: face names not read");
    return {};
  }
  if (nameStart === undefined) {
    ctx.warn("font has no name table");
    return {};
  }
  const wanted = boundedLength(
    nameStart + nameLength,
    MAX_STRUCTURE_BYTES * 4,
    "WOFF2 data before the name table",
  );
  const data = await brotliPrefix(ctx, 48 + at.pos, compressed, wanted);
  return parseNameTable(data.subarray(nameStart, nameStart + nameLength));
}

/**
 * EOT keeps family, style, version and full name in its own header as
 * length-prefixed UTF-16LE strings, so the embedded (possibly MTX-compressed)
 * font is never touched.
 */
async function eotNames(ctx: ExtractContext): Promise<FontInfo> {
  const head = await ctx.reader.read(0, 4096);
  const view = viewOf(head);
  if (head.length < 84 || view.getUint16(34, true) !== 0x504c)
    throw new ContentError("EOT header: bad magic number");
  const strings: string[] = [];
  let pos = 80;
  // Padding, size, string for family, style, version, full name.
  for (let i = 0; i < 4; i++) {
    if (pos + 4 > head.length) throw new ContentError("EOT header: truncated");
    const length = boundedLength(view.getUint16(pos + 2, true), 4096, "EOT name length");
    pos += 4;
    if (pos + length > head.length) throw new ContentError("EOT header: truncated name");
    strings.push(new TextDecoder("utf-16le").decode(head.subarray(pos, pos + length)));
    pos += length;
  }
  const [family, subfamily, version, fullName] = strings.map((value) => cleanString(value));
  return {
    ...(family && { family }),
    ...(subfamily && { subfamily }),
    ...(fullName && { fullName }),
    ...(version && { version }),
  };
}

/**
 * Extracts {@link FontInfo} by the font's own signature (the detected MIME
 * type only routes here).
 *
 * @example
 * const { font } = await extractFont(ctx);
 * // { family: "FontAwesome", subfamily: "Regular", fullName: "FontAwesome Regular", version: "Version 4.3.0 2015" }
 */
export async function extractFont(ctx: ExtractContext): Promise<Sections> {
  const head = await readExactly(ctx, 0, Math.min(ctx.reader.size, 36), "font header");
  if (head.length < 12) throw new ContentError("font: shorter than any font header");
  const magic = viewOf(head).getUint32(0);
  let font: FontInfo;
  if (magic === 0x74746366 /* ttcf */) font = await collectionNames(ctx);
  else if (magic === 0x774f4646 /* wOFF */) font = await woffNames(ctx);
  else if (magic === 0x774f4632 /* wOF2 */) font = await woff2Names(ctx);
  else if (SFNT_FLAVOURS.has(magic)) font = await sfntNames(ctx, 0);
  else if (head.length >= 36 && viewOf(head).getUint16(34, true) === 0x504c) font = await eotNames(ctx);
  else throw new ContentError(`font: unknown signature 0x${magic.toString(16)}`);
  return { font };
}
