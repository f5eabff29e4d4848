/**
 * The `OS/2`, `maxp` and `fvar` tables, decoded by hand for the reason the
 * rest of the font extractor is: fontkit and opentype.js parse a whole font
 * held in memory, and these need a few fixed fields of three small tables.
 * Oddities (a table too short, an axis past the end) are warnings.
 */
import type { FontAxis, FontEmbedding, FontInfo } from "../../types.js";

/** Axes kept from `fvar` (real variable fonts have one to a dozen or so). */
const MAX_AXES = 64;

/** fsType usage bits, from least to most restrictive (OpenType spec, OS/2 table, fsType). */
const USAGE_BITS = [
  [0x0008, "editable"],
  [0x0004, "preview-and-print"],
  [0x0002, "restricted-license"],
] as const;
const NO_SUBSETTING = 0x0100;
const BITMAP_ONLY = 0x0200;

type Warn = (message: string) => void;

function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A four-byte tag as text when it is printable ASCII, trailing spaces trimmed (OpenType "Tag"). */
function tagText(bytes: Uint8Array): string | undefined {
  if (bytes.length !== 4 || bytes.some((byte) => byte < 0x20 || byte > 0x7e)) return undefined;
  const text = String.fromCharCode(...bytes).trimEnd();
  return text.length > 0 ? text : undefined;
}

/**
 * A 16.16 fixed-point value as the shortest decimal that reads back as the
 * same value, as fontTools prints it: 0x000E6666 is 14.4, not 14.399993896484375.
 */
function fixed(raw: number): number {
  const value = raw / 65536;
  for (let digits = 0; digits < 6; digits++) {
    const rounded = Number(value.toFixed(digits));
    if (Math.round(rounded * 65536) === raw) return rounded;
  }
  return value;
}

/**
 * Embedding permissions from an `OS/2` table's fsType. The specification
 * allows one usage bit; fonts made before OS/2 version 3 could set several,
 * where the least restrictive applies, and some later ones still do.
 *
 * @example
 * embeddingOf(0x0104, warn) // { usage: "preview-and-print", noSubsetting: true, bitmapOnly: false, fsType: 260 }
 */
export function embeddingOf(fsType: number, warn: Warn): FontEmbedding {
  const set = USAGE_BITS.filter(([bit]) => (fsType & bit) !== 0);
  const usage = set[0]?.[1] ?? "installable";
  if (set.length > 1) {
    const hex = `0x${fsType.toString(16).padStart(4, "0")}`;
    warn(`OS/2 fsType ${hex} sets more than one usage permission; the least restrictive, ${usage}, applies`);
  }
  return {
    usage,
    noSubsetting: (fsType & NO_SUBSETTING) !== 0,
    bitmapOnly: (fsType & BITMAP_ONLY) !== 0,
    fsType,
  };
}

/**
 * The `OS/2` table's embedding permissions (fsType, offset 8) and vendor code
 * (achVendID, offset 58): both are in every version of the table, from 0 on.
 *
 * @example
 * parseOs2(os2Table, ctx.warn) // { vendorId: "GOOG", embedding: { usage: "installable", ... } }
 */
export function parseOs2(table: Uint8Array, warn: Warn): Pick<FontInfo, "vendorId" | "embedding"> {
  if (table.length < 10) {
    warn(`OS/2 table: ${table.length} bytes, too short for fsType`);
    return {};
  }
  const embedding = embeddingOf(viewOf(table).getUint16(8), warn);
  const vendorId = table.length >= 62 ? tagText(table.subarray(58, 62)) : undefined;
  return { ...(vendorId && { vendorId }), embedding };
}

/**
 * The glyph count from a `maxp` table (version 0.5 or 1.0, numGlyphs at offset 4).
 *
 * @example
 * parseMaxp(maxpTable, ctx.warn) // { glyphs: 557 }
 */
export function parseMaxp(table: Uint8Array, warn: Warn): Pick<FontInfo, "glyphs"> {
  if (table.length < 6) {
    warn(`maxp table: ${table.length} bytes, too short for numGlyphs`);
    return {};
  }
  return { glyphs: viewOf(table).getUint16(4) };
}

/**
 * A variable font's axes (tag, minimum, default, maximum) and named-instance
 * count from its `fvar` table. Axis records are `axisSize` bytes apart, as the
 * header says, so a later version with longer records still reads.
 *
 * @example
 * parseFvar(fvarTable, ctx.warn)
 * // { axes: [{ tag: "wght", min: 100, default: 400, max: 900 }], instances: 9 }
 */
export function parseFvar(table: Uint8Array, warn: Warn): Pick<FontInfo, "axes" | "instances"> {
  if (table.length < 16) {
    warn(`fvar table: ${table.length} bytes, shorter than its header`);
    return {};
  }
  const view = viewOf(table);
  const major = view.getUint16(0);
  if (major !== 1) {
    warn(`fvar table: version ${major}.${view.getUint16(2)} is not one this reads`);
    return {};
  }
  const axesOffset = view.getUint16(4);
  const axisCount = view.getUint16(8);
  const axisSize = view.getUint16(10);
  const instances = view.getUint16(12);
  if (axisSize < 20) {
    warn(`fvar table: axis records of ${axisSize} bytes, shorter than the 20 an axis takes`);
    return { instances };
  }
  if (axisCount > MAX_AXES) warn(`fvar table: ${axisCount} axes, the first ${MAX_AXES} kept`);
  const axes: FontAxis[] = [];
  for (let i = 0; i < Math.min(axisCount, MAX_AXES); i++) {
    const at = axesOffset + i * axisSize;
    if (at + 20 > table.length) {
      warn(`fvar table: axis ${i + 1} of ${axisCount} lies past the table's end`);
      break;
    }
    const tag = tagText(table.subarray(at, at + 4));
    if (tag === undefined) {
      warn(`fvar table: axis ${i + 1} has a tag that is not printable ASCII`);
      continue;
    }
    axes.push({
      tag,
      min: fixed(view.getInt32(at + 4)),
      default: fixed(view.getInt32(at + 8)),
      max: fixed(view.getInt32(at + 12)),
    });
  }
  return { ...(axes.length > 0 && { axes }), instances };
}
