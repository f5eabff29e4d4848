import { textDecoder } from "../text-decoder.js";
/**
 * Small readings of bytes from a file that several extractors share: a
 * chunk's four-character code, little-endian integers at any offset, a name
 * in no stated character set, and a search for a short byte sequence (a
 * signature, a chunk or element ID). Uint8Array has no sequence search of
 * its own, and Buffer's reads a negative start as counting from the end,
 * which a backward scan that reaches the start must not do.
 */

/**
 * The four characters at `at`, as RIFF, AIFF and ISO-BMFF name their chunks
 * and boxes; fewer when the bytes end first.
 *
 * @example
 * fourcc(header, 0) // "LIST"
 */
export function fourcc(bytes: Uint8Array, at: number): string {
  return String.fromCharCode(...bytes.subarray(at, at + 4));
}

/**
 * Where `needle` first starts in `haystack` at or after `from`, or -1.
 *
 * @example
 * indexOfBytes(page, [0x4f, 0x67, 0x67, 0x53]) // 0 for a page that starts with "OggS"
 */
export function indexOfBytes(haystack: Uint8Array, needle: readonly number[], from = 0): number {
  outer: for (let i = from; i + needle.length <= haystack.byteLength; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/**
 * Where `needle` last starts in `haystack` at or before `before`, or -1
 * (also for a negative `before`).
 *
 * @example
 * lastIndexOfBytes(tail, [0x1f, 0x43, 0xb6, 0x75], tail.byteLength) // the last Cluster ID in a tail
 */
export function lastIndexOfBytes(haystack: Uint8Array, needle: readonly number[], before: number): number {
  outer: for (let i = Math.min(before, haystack.byteLength - needle.length); i >= 0; i--) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/**
 * The little-endian 16-bit integer at `at`, as the legacy Office formats,
 * RIFF and Vorbis comments store them; read from any offset, aligned or not.
 *
 * @example
 * u16(Uint8Array.of(0x34, 0x12), 0) // 0x1234
 */
export function u16(bytes: Uint8Array, at: number): number {
  return (bytes[at] as number) | ((bytes[at + 1] as number) << 8);
}

/**
 * The little-endian unsigned 32-bit integer at `at` (see {@link u16}).
 *
 * @example
 * u32(Uint8Array.of(0xff, 0xff, 0xff, 0x00), 0) // 16777215
 */
export function u32(bytes: Uint8Array, at: number): number {
  return u16(bytes, at) + u16(bytes, at + 2) * 0x10000;
}

/**
 * A name whose header states no character set (a gzip FNAME, a tar or cpio
 * entry name, a legacy RAR 4 one): UTF-8 when the bytes are valid UTF-8, as tools on UTF-8
 * systems write them, else windows-1252 (TextDecoder's "latin1"), where every
 * byte is a character. `cut` says the bytes stop at a read bound, where a
 * character may be split: its incomplete tail is dropped rather than taken for
 * a sign of another character set.
 *
 * @example
 * utf8OrLatin1(Uint8Array.of(0x63, 0x61, 0x66, 0xc3, 0xa9)) // "café" (UTF-8)
 * utf8OrLatin1(Uint8Array.of(0x63, 0x61, 0x66, 0xe9)) // "café" (windows-1252)
 */
export function utf8OrLatin1(bytes: Uint8Array, options: { cut?: boolean } = {}): string {
  try {
    return textDecoder("utf-8", { fatal: true }).decode(bytes, { stream: options.cut ?? false });
  } catch {
    return textDecoder("latin1").decode(bytes);
  }
}
