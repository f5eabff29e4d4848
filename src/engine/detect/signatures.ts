import { fourcc } from "../extractors/bytes.js";
import { textDecoder } from "../text-decoder.js";

/**
 * Leading signatures that identify a format even when file-type declines the
 * file. file-type validates beyond the magic number and answers `undefined`
 * for a damaged PNG or Matroska file; for a catalog "a PNG, and it is broken"
 * is the useful answer, so the extractor gets to say what is wrong. Also the
 * few formats file-type does not know (DSDIFF, gettext catalogs, compiled
 * Python, RF64 and BW64 WAVE, Sun/NeXT audio, lz4's legacy frames,
 * LZMA-alone streams, Netpbm images) live here.
 */
interface Signature {
  mime: string;
  ext: string;
  offset: number;
  bytes: readonly number[];
}

const ascii = (text: string): number[] => [...text].map((char) => char.charCodeAt(0));

const SIGNATURES: readonly Signature[] = [
  { mime: "image/png", ext: "png", offset: 0, bytes: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] },
  { mime: "image/jpeg", ext: "jpg", offset: 0, bytes: [0xff, 0xd8, 0xff] },
  { mime: "image/gif", ext: "gif", offset: 0, bytes: ascii("GIF8") },
  // file-type also reads the first IFD, which some writers put at the end of the file.
  { mime: "image/tiff", ext: "tif", offset: 0, bytes: [0x49, 0x49, 0x2a, 0x00] },
  { mime: "image/tiff", ext: "tif", offset: 0, bytes: [0x4d, 0x4d, 0x00, 0x2a] },
  { mime: "video/matroska", ext: "mkv", offset: 0, bytes: [0x1a, 0x45, 0xdf, 0xa3] },
  {
    mime: "video/x-ms-asf",
    ext: "asf",
    offset: 0,
    bytes: [0x30, 0x26, 0xb2, 0x75, 0x8e, 0x66, 0xcf, 0x11, 0xa6, 0xd9, 0x00, 0xaa, 0x00, 0x62, 0xce, 0x6c],
  },
  { mime: "audio/x-dff", ext: "dff", offset: 0, bytes: ascii("FRM8") },
  { mime: "audio/basic", ext: "au", offset: 0, bytes: ascii(".snd") },
  { mime: "audio/x-dsf", ext: "dsf", offset: 0, bytes: ascii("DSD ") },
  { mime: "application/pdf", ext: "pdf", offset: 0, bytes: ascii("%PDF-") },
  { mime: "application/zip", ext: "zip", offset: 0, bytes: [0x50, 0x4b, 0x03, 0x04] },
  { mime: "application/gzip", ext: "gz", offset: 0, bytes: [0x1f, 0x8b] },
  // lz4's legacy frame (lz4 -l; the Linux kernel's compressed initramfs), which file-type does not know.
  { mime: "application/x-lz4", ext: "lz4", offset: 0, bytes: [0x02, 0x21, 0x4c, 0x18] },
  { mime: "audio/mpeg", ext: "mp3", offset: 0, bytes: ascii("ID3") },
  // A gettext message catalog (GNU gettext's .mo), written in either byte order.
  { mime: "application/x-gettext-translation", ext: "mo", offset: 0, bytes: [0xde, 0x12, 0x04, 0x95] },
  { mime: "application/x-gettext-translation", ext: "mo", offset: 0, bytes: [0x95, 0x04, 0x12, 0xde] },
];

/**
 * A cpio "newc" (SVR4) header, with or without CRC: the magic, then thirteen
 * 8-digit hex fields. file-type knows only the older "odc" and binary cpio,
 * while newc is what initramfs images and RPM payloads are written in. The
 * whole fixed header is checked, not the six-digit magic alone, which text
 * may start with.
 */
const NEWC_CPIO_HEADER = /^07070[12][0-9A-Fa-f]{104}/;
const NEWC_CPIO_HEADER_BYTES = 110;

/** The first Python 3 magic number whose .pyc header holds the source's size (Python 3.3). */
const PYC_SOURCE_SIZE_MAGIC = 3210;
/** The first whose header holds a flags word (PEP 552, Python 3.7). */
const PYC_FLAGS_MAGIC = 3392;

/**
 * A compiled Python module (.pyc), which file-type does not know. The magic
 * number is a two-byte version followed by `\r\n`: 3000-4095 for Python 3,
 * whose 3.7-and-later header is 16 bytes (magic, a flags word of 0-3, then
 * the source's time and size or its hash) before the marshalled code object
 * (type byte `c`, 0xE3 with its reference flag), 3.3-3.6's 12 (magic, time,
 * size) and 3.0-3.2's 8; Python 2.7's is 62211 with an 8-byte header.
 * Checking the header's shape, not the magic alone, keeps text whose first
 * line is one character ending in `\r\r\n` out.
 */
function isPythonBytecode(head: Uint8Array): boolean {
  if (head.byteLength < 17 || head[2] !== 0x0d || head[3] !== 0x0a) return false;
  const code = (at: number) => head[at] === 0xe3 || head[at] === 0x63;
  const version = (head[0] as number) | ((head[1] as number) << 8);
  if (version === 62211) return code(8);
  if (version < 3000 || version >= 4096) return false;
  // Python 3.0-3.2 (magic below 3210): the time after the magic, then the code.
  if (version < PYC_SOURCE_SIZE_MAGIC) return code(8);
  // Python 3.3-3.6 (up to 3392): the source's time and size.
  if (version < PYC_FLAGS_MAGIC) return code(12);
  const flags = new DataView(head.buffer, head.byteOffset + 4, 4).getUint32(0, true);
  return flags <= 3 && code(16);
}

/**
 * A WAVE file in a 64-bit RIFF: EBU's RF64 and its successor BW64 (broadcast
 * recordings over 4 GiB), which file-type does not know; the WAVE reader
 * takes their `ds64` sizes.
 */
function isWave64(head: Uint8Array): boolean {
  if (head.byteLength < 12) return false;
  const form = fourcc(head, 0);
  return (form === "RF64" || form === "BW64") && fourcc(head, 8) === "WAVE";
}

/** The 13 bytes that begin an LZMA-alone stream. */
export const LZMA_ALONE_HEADER_BYTES = 13;

/**
 * An LZMA-alone header's fields: the properties byte (lc, lp, pb), the
 * dictionary size, and the uncompressed size, undefined when unknown (all
 * ones: written from a pipe). Read by detection here and by the `.lzma`
 * decoder, which runs on what these fields say.
 */
export function lzmaAloneHeader(head: Uint8Array): { properties: number; dictionary: number; size?: bigint } {
  const view = new DataView(head.buffer, head.byteOffset, LZMA_ALONE_HEADER_BYTES);
  const size = view.getBigUint64(5, true);
  return {
    properties: head[0] as number,
    dictionary: view.getUint32(1, true),
    ...(size !== 0xffffffffffffffffn && { size }),
  };
}

/**
 * An LZMA-alone stream (.lzma, as `xz --format=lzma` and LZMA Utils write
 * it; Debian's `data.tar.lzma`), which has no magic number: a properties
 * byte, a dictionary size, an uncompressed size and the range coder's first
 * byte, always 0. Checked as liblzma's decoder checks a header before it
 * accepts one: a properties byte that names lc, lp and pb (under 225), a
 * dictionary of 2^n or 2^n + 2^(n-1) bytes, at least 4 KiB, and a size that
 * is unknown (all ones) or under 256 GiB.
 */
function isLzmaAlone(head: Uint8Array): boolean {
  if (head.byteLength <= LZMA_ALONE_HEADER_BYTES || head[LZMA_ALONE_HEADER_BYTES] !== 0) return false;
  const { properties, dictionary, size } = lzmaAloneHeader(head);
  const power = dictionary === 0 ? 0 : 31 - Math.clz32(dictionary);
  const standard = dictionary === 2 ** power || dictionary === 2 ** power + 2 ** (power - 1);
  return properties < 9 * 5 * 5 && dictionary >= 4096 && standard && (size === undefined || size < 2n ** 38n);
}

const PBM = {
  mime: "image/x-portable-bitmap",
  ext: "pbm",
  colorType: "bilevel",
  channels: 1,
  numbers: 2,
} as const;
const PGM = {
  mime: "image/x-portable-graymap",
  ext: "pgm",
  colorType: "grayscale",
  channels: 1,
  numbers: 3,
} as const;
const PPM = {
  mime: "image/x-portable-pixmap",
  ext: "ppm",
  colorType: "rgb",
  channels: 3,
  numbers: 3,
} as const;

/**
 * The Netpbm formats by magic number, as `file` and the netpbm manual name
 * them: samples per pixel, and how many numbers the header states (a bitmap
 * has no maxval). A PAM's header says both for itself.
 */
const NETPBM_FORMATS = {
  P1: { ...PBM, plain: true },
  P2: { ...PGM, plain: true },
  P3: { ...PPM, plain: true },
  P4: { ...PBM, plain: false },
  P5: { ...PGM, plain: false },
  P6: { ...PPM, plain: false },
  P7: {
    mime: "image/x-portable-arbitrarymap",
    ext: "pam",
    colorType: "",
    channels: 0,
    numbers: 0,
    plain: false,
  },
} as const;

/** Bytes a Netpbm header is looked for in: comments can make it long, but not this long. */
export const NETPBM_HEADER_BYTES = 4096;

/** What a Netpbm header states: the image's size, its largest sample value, and (PAM) its channels. */
export interface NetpbmHeader {
  magic: keyof typeof NETPBM_FORMATS;
  mime: string;
  ext: string;
  width: number;
  height: number;
  /** The largest sample value (1 for a bitmap); the bit depth is what holds it. */
  maxval: number;
  /** "bilevel", "grayscale", "rgb"; a PAM's TUPLTYPE ("RGB_ALPHA"), lower-cased, when it gives one. */
  colorType?: string;
  /** Samples per pixel: 1 for PBM and PGM, 3 for PPM, a PAM's DEPTH. */
  channels: number;
  /** Where the raster begins. */
  headerBytes: number;
  /** Samples are written as decimal text (P1-P3), not bytes. */
  plain: boolean;
}

/**
 * A Netpbm image's header (PBM, PGM, PPM, plain or raw, and PAM), read as
 * the netpbm manual defines it, or undefined when the head is not one:
 * `P1`-`P6`, whitespace, then width, height and (but for bitmaps) maxval as
 * decimal numbers, each after whitespace or `#` comments, the last followed
 * by one whitespace character; or `P7`, a newline, and `WIDTH`, `HEIGHT`,
 * `DEPTH`, `MAXVAL` (and `TUPLTYPE`) lines up to `ENDHDR`. file-type knows
 * none of them. Checking every field, not the two-byte magic, keeps text
 * that begins "P1 " out. Hand-written because image-size, which reads
 * their size, accepts any head that starts with the magic.
 *
 * @example
 * readNetpbmHeader(new TextEncoder().encode("P6\n640 480\n255\n"))
 * // { magic: "P6", mime: "image/x-portable-pixmap", ext: "ppm", width: 640, height: 480, maxval: 255,
 * //   colorType: "rgb", channels: 3, headerBytes: 15, plain: false }
 */
export function readNetpbmHeader(head: Uint8Array): NetpbmHeader | undefined {
  if (head.byteLength < 4 || head[0] !== 0x50) return undefined;
  const magic = `P${String.fromCharCode(head[1] as number)}`;
  if (!(magic in NETPBM_FORMATS)) return undefined;
  const format = NETPBM_FORMATS[magic as keyof typeof NETPBM_FORMATS];
  const text = textDecoder("latin1").decode(head.subarray(0, NETPBM_HEADER_BYTES));
  const fields = format.numbers === 0 ? pamFields(text) : pnmFields(text, format.numbers);
  if (!fields) return undefined;
  const { width, height, maxval = 1 } = fields;
  const colorType = fields.colorType ?? format.colorType;
  if (width < 1 || height < 1 || maxval < 1 || maxval > 65535) return undefined;
  return {
    magic: magic as keyof typeof NETPBM_FORMATS,
    mime: format.mime,
    ext: format.ext,
    width,
    height,
    maxval,
    ...(colorType && { colorType }),
    channels: fields.channels ?? format.channels,
    headerBytes: fields.headerBytes,
    plain: format.plain,
  };
}

/** The numbers a Netpbm header states, and a PAM's tuple type. */
interface NetpbmFields {
  width: number;
  height: number;
  maxval?: number;
  colorType?: string;
  channels?: number;
  headerBytes: number;
}

const WHITESPACE = /[ \t\n\v\f\r]/;

/** PBM, PGM, PPM: `count` numbers after the magic, whitespace and comments between them. */
function pnmFields(text: string, count: 2 | 3): NetpbmFields | undefined {
  let at = 2;
  const numbers: number[] = [];
  while (numbers.length < count) {
    // At least one whitespace character or comment parts the magic and each number from the one before.
    const before = at;
    while (at < text.length && (WHITESPACE.test(text[at] as string) || text[at] === "#")) {
      if (text[at] === "#") while (at < text.length && text[at] !== "\n" && text[at] !== "\r") at++;
      else at++;
    }
    if (at === before) return undefined;
    const digits = /^\d{1,10}/.exec(text.slice(at, at + 11))?.[0];
    if (!digits) return undefined;
    numbers.push(Number(digits));
    at += digits.length;
  }
  // The raster begins after exactly one whitespace character.
  if (at >= text.length || !WHITESPACE.test(text[at] as string)) return undefined;
  const [width = 0, height = 0, maxval] = numbers;
  return { width, height, ...(maxval !== undefined && { maxval }), headerBytes: at + 1 };
}

/** PAM: `KEY value` lines from the one after the magic to `ENDHDR`. */
function pamFields(text: string): NetpbmFields | undefined {
  if (text[2] !== "\n") return undefined;
  const end = text.indexOf("\nENDHDR\n");
  if (end < 0) return undefined;
  const values = new Map<string, string>();
  for (const line of text.slice(3, end).split("\n")) {
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("#")) continue;
    const [key = "", ...rest] = trimmed.split(/\s+/);
    if (!/^(WIDTH|HEIGHT|DEPTH|MAXVAL|TUPLTYPE)$/.test(key) || rest.length === 0) return undefined;
    values.set(key, key === "TUPLTYPE" ? rest.join(" ") : (rest[0] as string));
  }
  const number = (key: string) => (/^\d{1,10}$/.test(values.get(key) ?? "") ? Number(values.get(key)) : 0);
  if (number("DEPTH") < 1) return undefined;
  const tuple = values.get("TUPLTYPE")?.toLowerCase();
  return {
    width: number("WIDTH"),
    height: number("HEIGHT"),
    maxval: number("MAXVAL"),
    ...(tuple && { colorType: tuple }),
    channels: number("DEPTH"),
    headerBytes: end + "\nENDHDR\n".length,
  };
}

/** The format whose signature the head starts with, if any. */
export function matchSignature(head: Uint8Array): { mime: string; ext: string } | undefined {
  if (isPythonBytecode(head)) return { mime: "application/x-python-bytecode", ext: "pyc" };
  if (isWave64(head)) return { mime: "audio/wav", ext: "wav" };
  if (isLzmaAlone(head)) return { mime: "application/x-lzma", ext: "lzma" };
  const netpbm = readNetpbmHeader(head);
  if (netpbm) return { mime: netpbm.mime, ext: netpbm.ext };
  const found = SIGNATURES.find(
    (signature) =>
      head.byteLength >= signature.offset + signature.bytes.length &&
      signature.bytes.every((byte, i) => head[signature.offset + i] === byte),
  );
  if (found) return { mime: found.mime, ext: found.ext };
  const header = textDecoder("latin1").decode(head.subarray(0, NEWC_CPIO_HEADER_BYTES));
  if (NEWC_CPIO_HEADER.test(header)) return { mime: "application/x-cpio", ext: "cpio" };
  return undefined;
}
