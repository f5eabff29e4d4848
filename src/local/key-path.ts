/**
 * How the embedded S3 server maps object keys to file paths.
 *
 * s3rver stores an object at `path.join(root, bucket, ...key.split("/"))`, so
 * on Linux a key such as `../../etc/x` lands outside the data folder, `a//b`
 * and `a/./b` collapse onto `a/b`, and a key segment longer than the file
 * system's 255-byte name limit cannot be stored at all. S3 keys are opaque
 * strings up to 1,024 bytes, so the local stack swaps in this encoding.
 *
 * The encoding is a left-to-right transducer (each output depends only on the
 * input so far), so `encode(prefix)` is always a string prefix of
 * `encode(prefix + rest)` — s3rver's listing prunes directories by comparing
 * encoded prefixes and stays correct. Escapes use `&` + two hex digits:
 * - `&` itself, anywhere;
 * - NUL, anywhere (S3 takes it in a key; no file name can hold it);
 * - `.` at the start of a segment (so no segment is `.` or `..`);
 * - `/` at the start of a segment (so no segment is empty).
 * A segment whose encoded form would exceed {@link MAX_SEGMENT_BYTES} is cut,
 * the cut marked by `&~/`, which decoding removes.
 */

/** Longest directory or file name written, leaving room for s3rver's `._S3rver_metadata.json` suffix. */
export const MAX_SEGMENT_BYTES = 200;

const BREAK = "&~/";

function escapeChar(char: string): string {
  return `&${char.charCodeAt(0).toString(16).padStart(2, "0")}`;
}

/** Key to relative file path. */
export function encodeKeyPath(key: string): string {
  let out = "";
  let segmentBytes = 0;
  for (const char of key) {
    const atSegmentStart = segmentBytes === 0;
    let piece: string;
    if (char === "&" || char === "\0") piece = escapeChar(char);
    else if (atSegmentStart && (char === "." || char === "/")) piece = escapeChar(char);
    else piece = char;
    if (piece === "/") {
      out += piece;
      segmentBytes = 0;
      continue;
    }
    const pieceBytes = Buffer.byteLength(piece);
    if (segmentBytes + pieceBytes > MAX_SEGMENT_BYTES) {
      out += BREAK;
      segmentBytes = 0;
    }
    out += piece;
    segmentBytes += pieceBytes;
  }
  return out;
}

/** Relative file path back to the key. */
export function decodeKeyPath(path: string): string {
  // Every escape and cut starts with `&`; most names hold none, and a listing decodes each name of a folder.
  if (!path.includes("&")) return path;
  return path
    .replaceAll(BREAK, "")
    .replace(/&([0-9a-f]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
}
