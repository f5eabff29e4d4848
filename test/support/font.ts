/**
 * Fonts built from their tables, for the cases the corpus has no file for
 * (variable fonts, each embedding permission, long licences). Each builder
 * writes what the OpenType, WOFF 1 and WOFF 2 specifications lay out; the
 * fonts they make read back with fontTools 4.38 (`TTFont(path)`) as the
 * tests say.
 */
import { brotliCompressSync, deflateSync } from "node:zlib";

export type FontTables = Record<string, Uint8Array>;

/** One `name` record: platform, encoding, language, name ID, the string's stored bytes. */
export type NameRecord = [
  platform: number,
  encoding: number,
  language: number,
  id: number,
  bytes: Uint8Array,
];

export function utf16be(text: string): Uint8Array {
  const out = new Uint8Array(text.length * 2);
  const view = new DataView(out.buffer);
  for (let i = 0; i < text.length; i++) view.setUint16(i * 2, text.charCodeAt(i));
  return out;
}

/** A `name` table (format 0) with the given records, strings stored as given. */
export function nameTable(records: readonly NameRecord[]): Uint8Array {
  const storageStart = 6 + records.length * 12;
  const total = storageStart + records.reduce((sum, record) => sum + record[4].length, 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  view.setUint16(2, records.length);
  view.setUint16(4, storageStart);
  let offset = 0;
  records.forEach(([platform, encoding, language, id, bytes], i) => {
    const at = 6 + i * 12;
    view.setUint16(at, platform);
    view.setUint16(at + 2, encoding);
    view.setUint16(at + 4, language);
    view.setUint16(at + 6, id);
    view.setUint16(at + 8, bytes.length);
    view.setUint16(at + 10, offset);
    out.set(bytes, storageStart + offset);
    offset += bytes.length;
  });
  return out;
}

/** A `name` table of Windows English (3, 1, 0x0409) records, by name ID. */
export function windowsNames(names: Record<number, string>): Uint8Array {
  return nameTable(Object.entries(names).map(([id, text]) => [3, 1, 0x0409, Number(id), utf16be(text)]));
}

/** An `OS/2` table of version 4 (96 bytes) with the given fsType and achVendID; other fields zero. */
export function os2Table(fsType: number, vendorId = "TEST"): Uint8Array {
  const out = new Uint8Array(96);
  const view = new DataView(out.buffer);
  view.setUint16(0, 4);
  view.setUint16(4, 400); // usWeightClass
  view.setUint16(6, 5); // usWidthClass
  view.setUint16(8, fsType);
  out.set(
    Array.from(vendorId.padEnd(4).slice(0, 4), (char) => char.charCodeAt(0)),
    58,
  );
  return out;
}

/** A `maxp` table of version 0.5 (CFF outlines: only numGlyphs). */
export function maxpTable(glyphs: number): Uint8Array {
  const out = new Uint8Array(6);
  const view = new DataView(out.buffer);
  view.setUint32(0, 0x00005000);
  view.setUint16(4, glyphs);
  return out;
}

export interface AxisSpec {
  tag: string;
  min: number;
  default: number;
  max: number;
}

/** An `fvar` table (version 1.0) with these axes and `instances` named instances (coordinates at the defaults). */
export function fvarTable(axes: readonly AxisSpec[], instances: number): Uint8Array {
  const axisSize = 20;
  const instanceSize = 4 + axes.length * 4;
  const out = new Uint8Array(16 + axes.length * axisSize + instances * instanceSize);
  const view = new DataView(out.buffer);
  view.setUint16(0, 1);
  view.setUint16(4, 16);
  view.setUint16(6, 2);
  view.setUint16(8, axes.length);
  view.setUint16(10, axisSize);
  view.setUint16(12, instances);
  view.setUint16(14, instanceSize);
  const fixed = (value: number) => Math.round(value * 65536);
  axes.forEach((axis, i) => {
    const at = 16 + i * axisSize;
    out.set(
      Array.from(axis.tag, (char) => char.charCodeAt(0)),
      at,
    );
    view.setInt32(at + 4, fixed(axis.min));
    view.setInt32(at + 8, fixed(axis.default));
    view.setInt32(at + 12, fixed(axis.max));
    view.setUint16(at + 18, 256 + i); // axisNameID
  });
  for (let i = 0; i < instances; i++) {
    const at = 16 + axes.length * axisSize + i * instanceSize;
    view.setUint16(at, 300 + i); // subfamilyNameID
    for (const [a, axis] of axes.entries()) view.setInt32(at + 4 + a * 4, fixed(axis.default));
  }
  return out;
}

function padded(length: number): number {
  return (length + 3) & ~3;
}

function checksum(bytes: Uint8Array): number {
  const words = new Uint8Array(padded(bytes.length));
  words.set(bytes);
  const view = new DataView(words.buffer);
  let sum = 0;
  for (let at = 0; at < words.length; at += 4) sum = (sum + view.getUint32(at)) >>> 0;
  return sum;
}

/** An sfnt font (flavour `OTTO` unless given) of these tables: directory sorted by tag, tables 4-byte aligned. */
export function sfnt(tables: FontTables, flavour = 0x4f54544f): Uint8Array {
  const tags = Object.keys(tables).sort();
  const headerSize = 12 + tags.length * 16;
  const total = headerSize + tags.reduce((sum, tag) => sum + padded((tables[tag] as Uint8Array).length), 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  view.setUint32(0, flavour);
  view.setUint16(4, tags.length);
  const power = 2 ** Math.floor(Math.log2(tags.length));
  view.setUint16(6, power * 16);
  view.setUint16(8, Math.log2(power));
  view.setUint16(10, tags.length * 16 - power * 16);
  let offset = headerSize;
  tags.forEach((tag, i) => {
    const table = tables[tag] as Uint8Array;
    const at = 12 + i * 16;
    out.set(
      Array.from(tag, (char) => char.charCodeAt(0)),
      at,
    );
    view.setUint32(at + 4, checksum(table));
    view.setUint32(at + 8, offset);
    view.setUint32(at + 12, table.length);
    out.set(table, offset);
    offset += padded(table.length);
  });
  return out;
}

/** A WOFF 1 font of these tables, each zlib-compressed unless that makes it no smaller (then stored as it is). */
export function woff(tables: FontTables, flavour = 0x4f54544f): Uint8Array {
  const tags = Object.keys(tables).sort();
  const compressed = tags.map((tag) => {
    const table = tables[tag] as Uint8Array;
    const deflated = new Uint8Array(deflateSync(table));
    return deflated.length < table.length ? deflated : table;
  });
  const headerSize = 44 + tags.length * 20;
  const total = headerSize + compressed.reduce((sum, bytes) => sum + padded(bytes.length), 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  view.setUint32(0, 0x774f4646);
  view.setUint32(4, flavour);
  view.setUint32(8, total);
  view.setUint16(12, tags.length);
  view.setUint32(16, sfnt(tables, flavour).length);
  view.setUint16(20, 1);
  let offset = headerSize;
  tags.forEach((tag, i) => {
    const table = tables[tag] as Uint8Array;
    const stored = compressed[i] as Uint8Array;
    const at = 44 + i * 20;
    out.set(
      Array.from(tag, (char) => char.charCodeAt(0)),
      at,
    );
    view.setUint32(at + 4, offset);
    view.setUint32(at + 8, stored.length);
    view.setUint32(at + 12, table.length);
    view.setUint32(at + 16, checksum(table));
    out.set(stored, offset);
    offset += padded(stored.length);
  });
  return out;
}

/** WOFF 2's index for the known tags these fonts use; any other is written out after flag 63. */
const WOFF2_KNOWN_TAGS: Record<string, number> = { maxp: 4, name: 5, "OS/2": 6, fvar: 47 };

function base128(value: number): number[] {
  const bytes = [value & 0x7f];
  for (let rest = Math.floor(value / 128); rest > 0; rest = Math.floor(rest / 128))
    bytes.unshift(0x80 | (rest & 0x7f));
  return bytes;
}

/**
 * A WOFF 2 font of these tables, all with the null transform (none of them
 * is `glyf`, `loca` or `hmtx`), compressed as one brotli stream. `transform`
 * sets a table's 2-bit transform version, to make one the format reserves.
 */
export function woff2(
  tables: FontTables,
  transform: Record<string, number> = {},
  flavour = 0x4f54544f,
): Uint8Array {
  const tags = Object.keys(tables).sort();
  const directory: number[] = [];
  for (const tag of tags) {
    const known = WOFF2_KNOWN_TAGS[tag];
    const version = (transform[tag] ?? 0) << 6;
    if (known === undefined) directory.push(version | 63, ...Array.from(tag, (char) => char.charCodeAt(0)));
    else directory.push(version | known);
    directory.push(...base128((tables[tag] as Uint8Array).length));
    if (transform[tag]) directory.push(...base128((tables[tag] as Uint8Array).length));
  }
  const stream = Buffer.concat(tags.map((tag) => tables[tag] as Uint8Array));
  const compressed = new Uint8Array(brotliCompressSync(stream));
  const total = padded(48 + directory.length + compressed.length);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  view.setUint32(0, 0x774f4632);
  view.setUint32(4, flavour);
  view.setUint32(8, total);
  view.setUint16(12, tags.length);
  view.setUint32(16, sfnt(tables, flavour).length);
  view.setUint32(20, compressed.length);
  view.setUint16(24, 1);
  out.set(directory, 48);
  out.set(compressed, 48 + directory.length);
  return out;
}
