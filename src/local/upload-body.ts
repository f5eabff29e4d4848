/**
 * The body of PutObject and UploadPart as S3 reads it: decoded when it is
 * sent aws-chunked (see aws-chunked.ts), and checked against the checksum
 * it declares, in an `x-amz-checksum-<algorithm>` header or in the trailer
 * `x-amz-trailer` names. SDKs and the AWS CLI send both with every upload
 * since early 2025; s3rver stored the chunk framing inside the object and
 * ignored the checksum, where S3 stores the bytes and refuses a body whose
 * checksum does not match them (BadDigest).
 *
 * {@link readUploadBody} reads the headers when the request arrives; the
 * code that writes a body reads it through {@link receivedBody} and calls
 * its `check()` once written, before the body takes the object's or the
 * part's place, as it calls checkContentMd5 (content-md5.ts), which then
 * sees the MD5 of the decoded bytes, as on S3.
 */

import { AsyncLocalStorage } from "node:async_hooks";
import { Readable } from "node:stream";
import { decodeAwsChunked, isAwsChunked, malformedTrailer } from "./aws-chunked.js";
import {
  CHECKSUM_BYTES,
  type Checksum,
  type ChecksumAlgorithm,
  createChecksum,
  isChecksumAlgorithm,
} from "./checksums.js";
import type { KoaMiddleware } from "./embedded-s3-thread.js";
import { S3Error } from "./s3-error.js";

/** How the request being answered sends its body, and the checksum it declares for it. */
interface DeclaredBody {
  chunked: boolean;
  /** `x-amz-decoded-content-length`: the size of the body without its aws-chunked framing. */
  decodedLength?: number;
  checksum?: {
    algorithm: ChecksumAlgorithm;
    /** The value of its header; none when it comes in the trailer. */
    value?: string;
  };
}

const declared = new AsyncLocalStorage<DeclaredBody>();

const CHECKSUM_HEADER = "x-amz-checksum-";
/** Headers that start like a checksum's but name none: what a multipart upload uses, what GET returns. */
const NOT_CHECKSUMS = new Set(["x-amz-checksum-algorithm", "x-amz-checksum-type", "x-amz-checksum-mode"]);

function invalidRequest(message: string): Error {
  return new S3Error("InvalidRequest", message);
}

/** Whether `value` is base64 of the size `algorithm`'s checksums have. */
function isChecksumValue(algorithm: ChecksumAlgorithm, value: string): boolean {
  return (
    /^[A-Za-z0-9+/]*={0,2}$/.test(value) &&
    value.length % 4 === 0 &&
    Buffer.from(value, "base64").length === CHECKSUM_BYTES[algorithm]
  );
}

/** The declared checksum of a request with these headers; InvalidRequest when they declare it wrongly. */
function declaredChecksum(headers: Record<string, string | string[] | undefined>): DeclaredBody["checksum"] {
  const found: NonNullable<DeclaredBody["checksum"]>[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (!name.startsWith(CHECKSUM_HEADER) || NOT_CHECKSUMS.has(name)) continue;
    const algorithm = name.slice(CHECKSUM_HEADER.length);
    if (!isChecksumAlgorithm(algorithm)) continue;
    if (typeof value !== "string" || !isChecksumValue(algorithm, value))
      throw invalidRequest(`Value for ${name} header is invalid.`);
    found.push({ algorithm, value });
  }
  const trailer = headers["x-amz-trailer"];
  if (trailer !== undefined) {
    const name = String(trailer).trim().toLowerCase();
    const algorithm = name.slice(CHECKSUM_HEADER.length);
    if (!name.startsWith(CHECKSUM_HEADER) || !isChecksumAlgorithm(algorithm))
      throw invalidRequest("The value specified in the x-amz-trailer header is not supported");
    found.push({ algorithm });
  }
  if (found.length > 1)
    throw invalidRequest(
      "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.",
    );
  return found[0];
}

/**
 * Koa middleware: notes how a PUT that sends a body (not a copy) frames it
 * and which checksum it declares, for {@link receivedBody}; a checksum
 * header that is not one, or two of them, is S3's InvalidRequest.
 */
export const readUploadBody: KoaMiddleware = async (ctx, next) => {
  if (ctx.method !== "PUT" || ctx.headers["x-amz-copy-source"] !== undefined) return next();
  const chunked = isAwsChunked(ctx.headers);
  const checksum = declaredChecksum(ctx.headers);
  if (!chunked && !checksum) return next();
  const length = ctx.headers["x-amz-decoded-content-length"];
  if (chunked && length !== undefined && !/^\d{1,15}$/.test(String(length)))
    throw invalidRequest("Value for x-amz-decoded-content-length header is invalid.");
  await declared.run(
    { chunked, ...(chunked && length !== undefined && { decodedLength: Number(length) }), checksum },
    next,
  );
};

/** A checksum a request declared for its body, and the body's bytes matched. */
export interface DeclaredChecksum {
  algorithm: ChecksumAlgorithm;
  /** Base64, as the request gave it. */
  value: string;
}

/** A request's body as it is written: its bytes, and the checks to make once they all are. */
export interface ReceivedBody {
  content: Buffer | Readable;
  /** Whether the request declared a checksum, which `check()` then returns. */
  declaresChecksum: boolean;
  /**
   * Throws S3's error when the bytes read are not the body the request
   * declared: IncompleteBody for another size, MalformedTrailerError for a
   * missing checksum trailer, BadDigest for another checksum. Returns the
   * checksum declared, which the bytes match.
   */
  check(): DeclaredChecksum | undefined;
}

/**
 * The bytes of `content`, the body of the request being answered, as S3
 * stores them; content that is no request's body (a copy's, a multipart
 * upload's parts) is given back as it is.
 *
 * @example
 * const received = receivedBody(object.content);
 * const { md5 } = await writeHashed(received.content, temporary);
 * received.check(); // throws BadDigest when the CRC32 declared is another
 */
export function receivedBody(content: Buffer | Readable): ReceivedBody {
  const body = declared.getStore();
  if (!body) return { content, declaresChecksum: false, check: () => undefined };
  const trailers = new Map<string, string>();
  const checksum = body.checksum && createChecksum(body.checksum.algorithm);
  let size = 0;
  const source: AsyncIterable<Buffer> = Buffer.isBuffer(content) ? Readable.from([content]) : content;
  const decoded = body.chunked ? decodeAwsChunked(source, trailers) : source;
  // Nothing here ends the loop early: that would destroy the request before its error is answered.
  async function* bytes(): AsyncGenerator<Buffer> {
    for await (const piece of decoded) {
      size += piece.length;
      checksum?.update(piece);
      yield piece;
    }
  }
  return {
    content: Readable.from(bytes()),
    declaresChecksum: body.checksum !== undefined,
    check() {
      if (body.decodedLength !== undefined && size !== body.decodedLength) {
        throw new S3Error(
          "IncompleteBody",
          "You did not provide the number of bytes specified by the Content-Length HTTP header.",
        );
      }
      return body.checksum && checksum ? checkChecksum(body.checksum, checksum, trailers) : undefined;
    },
  };
}

function checkChecksum(
  declaredChecksum: NonNullable<DeclaredBody["checksum"]>,
  computed: Checksum,
  trailers: ReadonlyMap<string, string>,
): DeclaredChecksum {
  const { algorithm } = declaredChecksum;
  const expected = declaredChecksum.value ?? trailers.get(`${CHECKSUM_HEADER}${algorithm}`);
  if (expected === undefined) throw malformedTrailer();
  if (!isChecksumValue(algorithm, expected))
    throw invalidRequest(`Value for ${CHECKSUM_HEADER}${algorithm} trailing header is invalid.`);
  if (computed.digest() !== expected) {
    throw new S3Error(
      "BadDigest",
      `The ${algorithm.toUpperCase()} you specified did not match the calculated checksum.`,
    );
  }
  return { algorithm, value: expected };
}
