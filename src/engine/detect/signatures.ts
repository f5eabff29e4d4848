import { textDecoder } from "../text-decoder.js";

/**
 * Leading signatures that identify a format even when file-type declines the
 * file. file-type validates beyond the magic number and answers `undefined`
 * for a damaged PNG or Matroska file; for a catalog "a PNG, and it is broken"
 * is the useful answer, so the extractor gets to say what is wrong. Also the
 * few formats file-type does not know (DSDIFF, gettext catalogs, compiled
 * Python, lz4's legacy frames, LZMA-alone streams) live here.
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

/**
 * A compiled Python module (.pyc), which file-type does not know. The magic
 * number is a two-byte version followed by `\r\n`: 3000-4095 for Python 3,
 * whose 3.7-and-later header is 16 bytes (magic, a flags word of 0-3, then
 * the source's time and size or its hash) before the marshalled code object
 * (type byte `c`, 0xE3 with its reference flag); Python 2.7's is 62211 with
 * an 8-byte header. Checking the header's shape, not the magic alone, keeps
 * text whose first line is one character ending in `\r\r\n` out.
 */
function isPythonBytecode(head: Uint8Array): boolean {
  if (head.byteLength < 17 || head[2] !== 0x0d || head[3] !== 0x0a) return false;
  const code = (at: number) => head[at] === 0xe3 || head[at] === 0x63;
  const version = (head[0] as number) | ((head[1] as number) << 8);
  if (version === 62211) return code(8);
  const flags = new DataView(head.buffer, head.byteOffset + 4, 4).getUint32(0, true);
  return version >= 3000 && version < 4096 && flags <= 3 && code(16);
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

/** The format whose signature the head starts with, if any. */
export function matchSignature(head: Uint8Array): { mime: string; ext: string } | undefined {
  if (isPythonBytecode(head)) return { mime: "application/x-python-bytecode", ext: "pyc" };
  if (isLzmaAlone(head)) return { mime: "application/x-lzma", ext: "lzma" };
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
