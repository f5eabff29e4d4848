/**
 * Small readings of bytes from a file that several extractors share: a
 * chunk's four-character code, and a search for a short byte sequence (a
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
