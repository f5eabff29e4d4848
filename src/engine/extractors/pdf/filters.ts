import { constants, inflateSync } from "node:zlib";
import { ContentError } from "../../errors.js";
import { MAX_STRUCTURE_BYTES } from "../../limits.js";
import { PdfDict, PdfName, type PdfValue } from "./lexer.js";

/**
 * Stream filters the extractor needs for the structures it reads
 * (cross-reference streams, object streams, XMP): FlateDecode with PNG and
 * TIFF predictors, and the ASCII filters. Image and font filters are never
 * needed for metadata and are reported as unsupported.
 */

/** Largest decoded stream (an xref stream or an object stream) the extractor will hold. */
export const MAX_DECODED_STREAM_BYTES = MAX_STRUCTURE_BYTES * 4;

/**
 * Applies a stream dictionary's /Filter chain with its /DecodeParms,
 * inflating at most `maxBytes`.
 *
 * @example
 * const data = decodeStream(dict, rawBytes); // inflated and un-predicted xref stream rows
 */
export function decodeStream(
  dict: PdfDict,
  raw: Uint8Array,
  maxBytes = MAX_DECODED_STREAM_BYTES,
): Uint8Array {
  const filters = asArray(dict.get("Filter") ?? dict.get("F"));
  const parms = asArray(dict.get("DecodeParms") ?? dict.get("DP"));
  let data = raw;
  for (const [index, filter] of filters.entries()) {
    if (!(filter instanceof PdfName)) throw new ContentError("stream filter is not a name");
    const parm = parms[index];
    const params = parm instanceof PdfDict ? parm : undefined;
    switch (filter.value) {
      case "FlateDecode":
      case "Fl":
        data = applyPredictor(inflate(data, maxBytes), params);
        break;
      case "ASCIIHexDecode":
      case "AHx":
        data = asciiHexDecode(data);
        break;
      case "ASCII85Decode":
      case "A85":
        data = ascii85Decode(data);
        break;
      case "Crypt":
        break; // decryption, by this filter's crypt filter or the file's, happens before the filters
      default:
        throw new ContentError(`unsupported stream filter ${filter.value}`);
    }
  }
  return data;
}

function asArray(value: PdfValue | undefined): PdfValue[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

function inflate(data: Uint8Array, maxBytes: number): Uint8Array {
  try {
    return inflateSync(data, { maxOutputLength: maxBytes });
  } catch (error) {
    if ((error as { code?: string }).code === "ERR_BUFFER_TOO_LARGE") {
      throw new ContentError(`decoded stream exceeds ${maxBytes} bytes`, { cause: error });
    }
    // Streams cut short (or with a bad checksum) still hold their first rows: keep what inflates.
    try {
      return inflateSync(data, {
        maxOutputLength: maxBytes,
        finishFlush: constants.Z_SYNC_FLUSH,
      });
    } catch (retry) {
      throw new ContentError("corrupt FlateDecode stream", { cause: retry });
    }
  }
}

/** Undoes PNG (10–15) and TIFF (2) predictors; the usual case is 12 (Up) on xref streams. */
function applyPredictor(data: Uint8Array, params: PdfDict | undefined): Uint8Array {
  const predictor = params?.number("Predictor") ?? 1;
  if (predictor <= 1) return data;
  const colors = params?.number("Colors") ?? 1;
  const bitsPerComponent = params?.number("BitsPerComponent") ?? 8;
  const columns = params?.number("Columns") ?? 1;
  if (colors < 1 || colors > 32 || ![1, 2, 4, 8, 16].includes(bitsPerComponent) || columns < 1) {
    throw new ContentError("bad predictor parameters");
  }
  const pixelBytes = Math.max(1, Math.ceil((colors * bitsPerComponent) / 8));
  const rowBytes = Math.ceil((colors * bitsPerComponent * columns) / 8);
  if (rowBytes > MAX_DECODED_STREAM_BYTES) throw new ContentError("predictor row too long");
  if (predictor === 2) return tiffPredictor(data, rowBytes, pixelBytes, bitsPerComponent);
  if (predictor < 10) throw new ContentError(`unsupported predictor ${predictor}`);

  const rows = Math.floor(data.length / (rowBytes + 1));
  const out = new Uint8Array(rows * rowBytes);
  for (let row = 0; row < rows; row++) {
    const type = data[row * (rowBytes + 1)] as number;
    const input = row * (rowBytes + 1) + 1;
    const at = row * rowBytes;
    const above = at - rowBytes;
    for (let i = 0; i < rowBytes; i++) {
      const raw = data[input + i] as number;
      const left = i >= pixelBytes ? (out[at + i - pixelBytes] as number) : 0;
      const up = row > 0 ? (out[above + i] as number) : 0;
      const upLeft = row > 0 && i >= pixelBytes ? (out[above + i - pixelBytes] as number) : 0;
      let value: number;
      switch (type) {
        case 0:
          value = raw;
          break;
        case 1:
          value = raw + left;
          break;
        case 2:
          value = raw + up;
          break;
        case 3:
          value = raw + ((left + up) >> 1);
          break;
        case 4:
          value = raw + paeth(left, up, upLeft);
          break;
        default:
          throw new ContentError(`bad PNG predictor row type ${type}`);
      }
      out[at + i] = value & 0xff;
    }
  }
  return out;
}

function paeth(left: number, up: number, upLeft: number): number {
  const estimate = left + up - upLeft;
  const toLeft = Math.abs(estimate - left);
  const toUp = Math.abs(estimate - up);
  const toUpLeft = Math.abs(estimate - upLeft);
  if (toLeft <= toUp && toLeft <= toUpLeft) return left;
  return toUp <= toUpLeft ? up : upLeft;
}

function tiffPredictor(data: Uint8Array, rowBytes: number, pixelBytes: number, bits: number): Uint8Array {
  if (bits !== 8) throw new ContentError(`unsupported TIFF predictor depth ${bits}`);
  const out = Uint8Array.from(data);
  for (let start = 0; start < out.length; start += rowBytes) {
    const end = Math.min(out.length, start + rowBytes);
    for (let i = start + pixelBytes; i < end; i++)
      out[i] = ((out[i] as number) + (out[i - pixelBytes] as number)) & 0xff;
  }
  return out;
}

function asciiHexDecode(data: Uint8Array): Uint8Array {
  const out: number[] = [];
  let high = -1;
  for (const byte of data) {
    if (byte === 0x3e) break;
    const value = Number.parseInt(String.fromCharCode(byte), 16);
    if (Number.isNaN(value)) continue;
    if (high < 0) {
      high = value;
    } else {
      out.push(high * 16 + value);
      high = -1;
    }
  }
  if (high >= 0) out.push(high * 16);
  return Uint8Array.from(out);
}

function ascii85Decode(data: Uint8Array): Uint8Array {
  const out: number[] = [];
  const group: number[] = [];
  const flush = (count: number) => {
    let value = 0;
    for (let i = 0; i < 5; i++) value = value * 85 + (group[i] ?? 84);
    for (let i = 0; i < count - 1; i++) out.push((value >>> (24 - 8 * i)) & 0xff);
    group.length = 0;
  };
  for (const byte of data) {
    if (byte === 0x7e) break; // '~>' ends the data
    if (byte === 0x7a && group.length === 0) {
      out.push(0, 0, 0, 0);
    } else if (byte >= 0x21 && byte <= 0x75) {
      group.push(byte - 0x21);
      if (group.length === 5) flush(5);
    }
  }
  if (group.length > 1) flush(group.length);
  return Uint8Array.from(out);
}
