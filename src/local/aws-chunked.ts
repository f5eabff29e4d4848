/**
 * The `aws-chunked` content encoding of S3 uploads (SigV4 streaming): the
 * body is a run of chunks, each `<size in hex>[;chunk-signature=<sig>]\r\n`,
 * its bytes and `\r\n`; a chunk of size 0 ends it, followed by trailing
 * headers (`x-amz-checksum-crc32:<base64>\r\n`, with the signed variants an
 * `x-amz-trailer-signature:` too) and an empty line. SDKs send every
 * streamed upload this way since early 2025; s3rver predates it and stored
 * the framing inside the object.
 *
 * Chunk and trailer signatures are read past, not checked: s3rver checks no
 * payload signature either (it checks the request's headers only).
 */

import { S3Error } from "./s3-error.js";

/** The longest chunk-size line read: a size and one signature fit many times over. */
export const MAX_CHUNK_LINE_BYTES = 4096;
/** The most trailer bytes read after the last chunk: a few checksums and a signature. */
export const MAX_TRAILER_BYTES = 16 * 1024;

/** The name of the encoding in `Content-Encoding`. */
const AWS_CHUNKED = "aws-chunked";

/**
 * Whether a request's headers say its body is aws-chunked: its
 * `x-amz-content-sha256` names a streaming payload, or its
 * `Content-Encoding` lists aws-chunked.
 */
export function isAwsChunked(headers: Record<string, string | string[] | undefined>): boolean {
  const payload = headers["x-amz-content-sha256"];
  if (typeof payload === "string" && payload.startsWith("STREAMING-")) return true;
  return contentEncodings(headers["content-encoding"]).includes(AWS_CHUNKED);
}

function contentEncodings(header: string | string[] | undefined): string[] {
  if (header === undefined) return [];
  return [header]
    .flat()
    .flatMap((value) => value.split(","))
    .map((value) => value.trim().toLowerCase())
    .filter((value) => value !== "");
}

/**
 * `metadata` as S3 stores it for an upload: without aws-chunked in its
 * `content-encoding` (the encoding of the request, not of the object), and
 * without `content-encoding` when that was all it said.
 *
 * @example
 * withoutAwsChunked({ "content-encoding": "gzip,aws-chunked" }); // { "content-encoding": "gzip" }
 */
export function withoutAwsChunked(metadata: Record<string, string>): Record<string, string> {
  const encodings = contentEncodings(metadata["content-encoding"]);
  if (!encodings.includes(AWS_CHUNKED)) return metadata;
  const { "content-encoding": _, ...rest } = metadata;
  const kept = encodings.filter((encoding) => encoding !== AWS_CHUNKED);
  return kept.length > 0 ? { ...rest, "content-encoding": kept.join(",") } : rest;
}

/** S3's answer to a body that ends before its framing does. */
function incompleteBody(): Error {
  return new S3Error(
    "IncompleteBody",
    "You did not provide the number of bytes specified by the Content-Length HTTP header.",
  );
}

function malformedChunk(): Error {
  return new S3Error("InvalidRequest", "The request body is not valid aws-chunked encoding.");
}

/** S3's MalformedTrailerError, which s3rver's table of codes lacks (so its status is set here). */
export function malformedTrailer(): Error {
  return Object.assign(
    new S3Error(
      "MalformedTrailerError",
      "The request contained trailing data that was not well-formed or did not conform to our published schema.",
    ),
    { status: 400 },
  );
}

const CRLF = Buffer.from("\r\n");

/**
 * The bytes an aws-chunked `body` carries, without its framing; its
 * trailing headers (names in lower case) are put in `trailers` once the
 * last chunk has been read. Framing that is not aws-chunked, or a body that
 * ends inside it, throws S3's error, so whoever reads the bytes stores none;
 * the rest of `body` is read and dropped first, as it is when the bytes'
 * reader stops early, so the connection can carry the next request.
 *
 * @example
 * const trailers = new Map<string, string>();
 * await writeHashed(Readable.from(decodeAwsChunked(request, trailers)), path);
 * trailers.get("x-amz-checksum-crc32"); // "DUoRhQ=="
 */
export async function* decodeAwsChunked(
  body: AsyncIterable<Buffer>,
  trailers: Map<string, string>,
): AsyncGenerator<Buffer> {
  const source = body[Symbol.asyncIterator]();
  try {
    yield* decode(source, trailers);
  } finally {
    // A request whose body is left unread holds its connection, which then answers no other request.
    for (;;) if ((await source.next().catch(() => ({ done: true }))).done) break;
  }
}

/** {@link decodeAwsChunked} of the body `source` iterates. */
async function* decode(source: AsyncIterator<Buffer>, trailers: Map<string, string>): AsyncGenerator<Buffer> {
  let buffered: Buffer = Buffer.alloc(0);
  let ended = false;
  /** Reads more of the body into `buffered`; false once it has ended. */
  const fill = async (): Promise<boolean> => {
    if (ended) return false;
    const next = await source.next();
    if (next.done) {
      ended = true;
      return false;
    }
    buffered = buffered.length === 0 ? next.value : Buffer.concat([buffered, next.value]);
    return true;
  };
  /** The next line, without its CRLF; `undefined` when the body ends first; `tooLong()` past `limit` bytes. */
  const line = async (limit: number, tooLong: () => Error): Promise<string | undefined> => {
    for (;;) {
      const end = buffered.indexOf(CRLF);
      if (end >= 0 && end <= limit) {
        const text = buffered.subarray(0, end).toString("latin1");
        buffered = buffered.subarray(end + CRLF.length);
        return text;
      }
      if (end > limit || buffered.length > limit + CRLF.length) throw tooLong();
      if (!(await fill())) return undefined;
    }
  };

  for (;;) {
    const header = await line(MAX_CHUNK_LINE_BYTES, malformedChunk);
    if (header === undefined) throw incompleteBody();
    const size = /^([0-9a-fA-F]{1,12})(;.*)?$/.exec(header)?.[1];
    if (size === undefined) throw malformedChunk();
    let left = Number.parseInt(size, 16);
    if (left === 0) break;
    while (left > 0) {
      if (buffered.length === 0 && !(await fill())) throw incompleteBody();
      const piece = buffered.subarray(0, left);
      buffered = buffered.subarray(piece.length);
      left -= piece.length;
      yield piece;
    }
    const end = await line(0, malformedChunk);
    if (end === undefined) throw incompleteBody();
  }
  // Trailers, one per line, until the body ends: some clients end them with an empty line, some do not.
  let read = 0;
  for (;;) {
    const trailer = await line(MAX_TRAILER_BYTES - read, malformedTrailer);
    if (trailer === undefined) {
      if (buffered.length > 0) throw malformedTrailer();
      return;
    }
    read += trailer.length + CRLF.length;
    if (trailer === "") continue;
    const colon = trailer.indexOf(":");
    if (colon <= 0) throw malformedTrailer();
    trailers.set(trailer.slice(0, colon).trim().toLowerCase(), trailer.slice(colon + 1).trim());
  }
}
