/**
 * The `Content-MD5` header of PutObject and UploadPart, checked as S3 checks
 * it. s3rver ignored it, so a body that did not arrive as its sender hashed
 * it (a client's bug, a proxy's) was stored and answered 200 here, where S3
 * refuses it with BadDigest and stores nothing.
 *
 * {@link readContentMd5} reads the header when the request arrives; the
 * code that writes a body calls {@link checkContentMd5} with the MD5 of what
 * it received, before the body takes the object's or the part's place.
 */

import { AsyncLocalStorage } from "node:async_hooks";
import type { KoaMiddleware } from "./embedded-s3-thread.js";
import { S3Error } from "./s3-error.js";

/** The hex MD5 the request being answered declared for its body. */
const declared = new AsyncLocalStorage<string>();

/** A base64 MD5: 16 bytes. */
const BASE64_MD5 = /^[A-Za-z0-9+/]{22}==$/;

/**
 * Koa middleware: notes the `Content-MD5` of a PUT that sends a body (not a
 * copy) for {@link checkContentMd5}; one that is not 16 bytes in base64 is
 * S3's InvalidDigest.
 */
export const readContentMd5: KoaMiddleware = async (ctx, next) => {
  const header = ctx.headers["content-md5"];
  if (typeof header !== "string" || ctx.method !== "PUT" || ctx.headers["x-amz-copy-source"] !== undefined)
    return next();
  if (!BASE64_MD5.test(header))
    throw new S3Error("InvalidDigest", "The Content-MD5 you specified was not valid.");
  await declared.run(Buffer.from(header, "base64").toString("hex"), next);
};

/**
 * Throws S3's BadDigest when the request declared a `Content-MD5` and `md5`
 * (hex), the MD5 of the body received, is another.
 *
 * @example
 * const { md5 } = await writeHashed(content, temporary);
 * checkContentMd5(md5); // throws BadDigest on a mismatch
 */
export function checkContentMd5(md5: string): void {
  const expected = declared.getStore();
  if (expected !== undefined && expected !== md5.toLowerCase()) {
    throw new S3Error("BadDigest", "The Content-MD5 you specified did not match what we received.");
  }
}
