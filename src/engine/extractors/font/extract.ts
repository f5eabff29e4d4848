/**
 * Font headers read by hand: fontkit and opentype.js want the whole font in
 * memory, while what is described here needs only the table directory and
 * four small tables, `name`, `OS/2`, `maxp` and `fvar` (or, for EOT, its own
 * header). Every offset and length comes through boundedLength and every read
 * through the budgeted reader.
 */
import { createBrotliDecompress, inflateSync } from "node:zlib";
import { ContentError } from "../../errors.js";
import { boundedLength, cleanString, MAX_STRUCTURE_BYTES, withinFile } from "../../limits.js";
import { textDecoder } from "../../text-decoder.js";
import type { FontInfo, Sections } from "../../types.js";
import type { ExtractContext } from "../extractor.js";
import { embeddingOf, parseFvar, parseMaxp, parseOs2 } from "./font-tables.js";
import { parseNameTable } from "./name-table.js";

/** Tables in one font (the format's field is 16 bits; real fonts have a few dozen). */
const MAX_TABLES = 4096;

/** Faces listed in a collection. */
const MAX_FACES = 65_536;

const SFNT_FLAVOURS = new Set([
  0x00010000, 0x4f54544f /* OTTO */, 0x74727565 /* true */, 0x74797031 /* typ1 */,
]);

/** A table read here beyond this is not one: name tables run to tens of KiB, the others to far less. */
const MAX_TABLE_BYTES = 1024 * 1024;

/** The tables read, `name` first: the names are kept when a later table turns out damaged. */
const WANTED_TABLES = ["name", "OS/2", "maxp", "fvar"] as const;
type WantedTable = (typeof WANTED_TABLES)[number];

function isWanted(tag: string): tag is WantedTable {
  return (WANTED_TABLES as readonly string[]).includes(tag);
}

/** One of the font's tables, whole, or undefined when the font has none. */
type TableReader = (tag: WantedTable) => Promise<Uint8Array | undefined>;

/** What each table other than `name` adds, read in this order. */
const TABLE_PARSERS: ReadonlyArray<
  [WantedTable, (table: Uint8Array, warn: (message: string) => void) => FontInfo]
> = [
  ["OS/2", parseOs2],
  ["maxp", parseMaxp],
  ["fvar", parseFvar],
];

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
    throw new ContentError(
      `${what}: truncated (needs bytes ${offset}-${offset + length} of ${ctx.reader.size})`,
    );
  return bytes;
}

function tagOf(view: DataView, at: number): string {
  return String.fromCharCode(
    view.getUint8(at),
    view.getUint8(at + 1),
    view.getUint8(at + 2),
    view.getUint8(at + 3),
  );
}

/**
 * Describes one face from its tables: names first, then embedding and vendor
 * code, glyph count and variation axes, each kept in `ctx.partial` as it is
 * read so that a damaged later table leaves the earlier ones.
 */
async function describeFace(ctx: ExtractContext, read: TableReader, extra: FontInfo = {}): Promise<FontInfo> {
  const name = await read("name");
  if (!name) ctx.warn("font has no name table");
  let described: FontInfo = name ? parseNameTable(name) : {};
  ctx.partial.font = { ...described, ...extra };
  for (const [tag, parse] of TABLE_PARSERS) {
    const table = await read(tag);
    if (!table) continue;
    described = { ...described, ...parse(table, (message) => ctx.warn(message)) };
    ctx.partial.font = { ...described, ...extra };
  }
  return { ...described, ...extra };
}

/** The tables of the sfnt font whose offset table starts at `base`. */
async function sfntTables(ctx: ExtractContext, base: number): Promise<TableReader> {
  const header = await readExactly(ctx, base, 12, "offset table");
  const flavour = viewOf(header).getUint32(0);
  if (!SFNT_FLAVOURS.has(flavour))
    throw new ContentError(`not an sfnt font (flavour 0x${flavour.toString(16)})`);
  const tables = boundedLength(viewOf(header).getUint16(4), MAX_TABLES, "table count");
  const directory = viewOf(await readExactly(ctx, base + 12, tables * 16, "table directory"));
  const found = new Map<WantedTable, { offset: number; length: number }>();
  for (let i = 0; i < tables; i++) {
    const tag = tagOf(directory, i * 16);
    if (!isWanted(tag) || found.has(tag)) continue;
    found.set(tag, { offset: directory.getUint32(i * 16 + 8), length: directory.getUint32(i * 16 + 12) });
  }
  return async (tag) => {
    const entry = found.get(tag);
    if (!entry) return undefined;
    const offset = withinFile(entry.offset, ctx.reader.size, `${tag} table`);
    const length = boundedLength(entry.length, MAX_TABLE_BYTES, `${tag} table length`);
    return readExactly(ctx, offset, length, `${tag} table`);
  };
}

/** TrueType collection: face count, then the first face. */
async function collectionFace(ctx: ExtractContext): Promise<FontInfo> {
  const header = viewOf(await readExactly(ctx, 0, 16, "collection header"));
  const faces = boundedLength(header.getUint32(8), MAX_FACES, "face count");
  ctx.partial.font = { faces };
  if (faces === 0) return { faces };
  const first = header.getUint32(12);
  return describeFace(ctx, await sfntTables(ctx, first), { faces });
}

/** WOFF 1: each table is zlib-compressed on its own, so only the tables read are inflated. */
async function woffTables(ctx: ExtractContext): Promise<TableReader> {
  const header = viewOf(await readExactly(ctx, 0, 44, "WOFF header"));
  const tables = boundedLength(header.getUint16(12), MAX_TABLES, "table count");
  const directory = viewOf(await readExactly(ctx, 44, tables * 20, "WOFF table directory"));
  const found = new Map<WantedTable, { offset: number; stored: number; original: number }>();
  for (let i = 0; i < tables; i++) {
    const tag = tagOf(directory, i * 20);
    if (!isWanted(tag) || found.has(tag)) continue;
    found.set(tag, {
      offset: directory.getUint32(i * 20 + 4),
      stored: directory.getUint32(i * 20 + 8),
      original: directory.getUint32(i * 20 + 12),
    });
  }
  return async (tag) => {
    const entry = found.get(tag);
    if (!entry) return undefined;
    const offset = withinFile(entry.offset, ctx.reader.size, `${tag} table`);
    const stored = boundedLength(entry.stored, MAX_TABLE_BYTES, `${tag} table length`);
    const original = boundedLength(entry.original, MAX_TABLE_BYTES, `${tag} table length`);
    const bytes = await readExactly(ctx, offset, stored, `WOFF ${tag} table`);
    if (stored >= original) return bytes.subarray(0, original);
    try {
      return inflateSync(bytes, { maxOutputLength: original });
    } catch (error) {
      throw new ContentError(`WOFF ${tag} table does not inflate`, { cause: error });
    }
  };
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
 * tables read here are never transformed (only `glyf`, `loca` and `hmtx`
 * are), so each is the slice after the tables before it. Only the prefix
 * that ends with the last of them is decompressed, once, on the first read.
 */
async function woff2Tables(ctx: ExtractContext): Promise<TableReader | undefined> {
  const header = viewOf(await readExactly(ctx, 0, 48, "WOFF2 header"));
  const flavour = header.getUint32(4);
  const tables = boundedLength(header.getUint16(12), MAX_TABLES, "table count");
  const compressed = boundedLength(header.getUint32(20), MAX_STRUCTURE_BYTES, "WOFF2 compressed size");
  // 1 flag byte, an optional 4-byte tag, two base-128 numbers of up to 5 bytes: 15 bytes per entry at most.
  const directory = await ctx.reader.read(48, tables * 15);
  const at = { pos: 0 };
  const found = new Map<WantedTable, { start: number; length: number }>();
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
    if (isWanted(tag) && !found.has(tag)) {
      // Transform versions other than glyf's, loca's and hmtx's are reserved: such a table cannot be read.
      if (transformed) ctx.warn(`WOFF2 ${tag} table is transformed (version ${version}): not read`);
      else
        found.set(tag, {
          start: position,
          length: boundedLength(original, MAX_TABLE_BYTES, `${tag} table length`),
        });
    }
    position += stored;
  }
  if (flavour === 0x74746366 /* ttcf */) {
    ctx.warn("WOFF2 collection: face names not read");
    return undefined;
  }
  let data: Promise<Uint8Array> | undefined;
  const end = Math.max(0, ...[...found.values()].map((entry) => entry.start + entry.length));
  return async (tag) => {
    const entry = found.get(tag);
    if (!entry) return undefined;
    data ??= brotliPrefix(
      ctx,
      48 + at.pos,
      compressed,
      boundedLength(end, MAX_STRUCTURE_BYTES * 4, "WOFF2 data up to the tables read"),
    );
    return (await data).subarray(entry.start, entry.start + entry.length);
  };
}

/**
 * EOT keeps family, style, version and full name in its own header as
 * length-prefixed UTF-16LE strings, and a copy of the font's fsType, so the
 * embedded (possibly MTX-compressed) font is never touched.
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
    strings.push(textDecoder("utf-16le").decode(head.subarray(pos, pos + length)));
    pos += length;
  }
  const [family, subfamily, version, fullName] = strings.map((value) => cleanString(value));
  return {
    ...(family && { family }),
    ...(subfamily && { subfamily }),
    ...(fullName && { fullName }),
    ...(version && { version }),
    embedding: embeddingOf(view.getUint16(32, true), (message) => ctx.warn(message)),
  };
}

/**
 * Extracts {@link FontInfo} by the font's own signature (the detected MIME
 * type only routes here).
 *
 * @example
 * const { font } = await extractFont(ctx);
 * // { family: "FontAwesome", subfamily: "Regular", fullName: "FontAwesome Regular", version: "Version 4.3.0 2015",
 * //   vendor: "Fort Awesome", designer: "Dave Gandy", licenseUrl: "http://fontawesome.io/license/",
 * //   embedding: { usage: "preview-and-print", noSubsetting: false, bitmapOnly: false, fsType: 4 }, glyphs: 557, ... }
 */
export async function extractFont(ctx: ExtractContext): Promise<Sections> {
  const head = await readExactly(ctx, 0, Math.min(ctx.reader.size, 36), "font header");
  if (head.length < 12) throw new ContentError("font: shorter than any font header");
  const magic = viewOf(head).getUint32(0);
  let font: FontInfo;
  if (magic === 0x74746366 /* ttcf */) font = await collectionFace(ctx);
  else if (magic === 0x774f4646 /* wOFF */) font = await describeFace(ctx, await woffTables(ctx));
  else if (magic === 0x774f4632 /* wOF2 */) {
    const read = await woff2Tables(ctx);
    font = read ? await describeFace(ctx, read) : {};
  } else if (SFNT_FLAVOURS.has(magic)) font = await describeFace(ctx, await sfntTables(ctx, 0));
  else if (head.length >= 36 && viewOf(head).getUint16(34, true) === 0x504c) font = await eotNames(ctx);
  else throw new ContentError(`font: unknown signature 0x${magic.toString(16)}`);
  const end = await declaredEnd(ctx, magic, head);
  if (end !== undefined && end > ctx.reader.size) {
    ctx.partial.font = font;
    throw new ContentError(
      `truncated: the font's data ends at ${end}, the file has ${ctx.reader.size} bytes`,
    );
  }
  return { font };
}

/**
 * Where the font says its data ends: the total length a WOFF or WOFF2 header
 * or an EOT's EOTSize states, or the end of a plain sfnt's furthest table by
 * its directory. A collection's faces share tables and are not checked.
 */
async function declaredEnd(
  ctx: ExtractContext,
  magic: number,
  head: Uint8Array,
): Promise<number | undefined> {
  const view = viewOf(head);
  if (magic === 0x774f4646 || magic === 0x774f4632) return view.getUint32(8);
  if (SFNT_FLAVOURS.has(magic)) {
    const tables = boundedLength(view.getUint16(4), MAX_TABLES, "table count");
    const directory = viewOf(await readExactly(ctx, 12, tables * 16, "table directory"));
    let end = 0;
    for (let i = 0; i < tables; i++)
      end = Math.max(end, directory.getUint32(i * 16 + 8) + directory.getUint32(i * 16 + 12));
    return end;
  }
  if (magic !== 0x74746366 && head.length >= 36 && view.getUint16(34, true) === 0x504c)
    return view.getUint32(0, true);
  return undefined;
}
