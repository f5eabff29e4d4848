/**
 * Conditional writes, as S3 checks them: PutObject, CopyObject and
 * CompleteMultipartUpload with `If-None-Match: *` store the object only
 * when the key holds none, and with `If-Match: <etag>` only when it holds
 * that one; otherwise S3 answers 412 PreconditionFailed (404 NoSuchKey for
 * `If-Match` on a key that holds nothing) and stores nothing. s3rver
 * ignored both headers, so a create-only upload silently replaced the
 * object it was meant to leave alone.
 *
 * {@link readWriteConditions} reads the headers when the request arrives;
 * the code that puts an object in place calls {@link checkWriteConditions}
 * with the key's current ETag, in the key's turn, just before it does.
 */

import { AsyncLocalStorage } from "node:async_hooks";
import type { KoaContext, KoaMiddleware } from "./embedded-s3-thread.js";
import { preconditionFailed, S3Error } from "./s3-error.js";

/** The preconditions of the write being answered. */
interface WriteConditions {
  /** `If-None-Match: *`: the key must hold no object. */
  absent: boolean;
  /** `If-Match`: the ETag (unquoted) the key's object must have. */
  eTag?: string;
}

const requested = new AsyncLocalStorage<WriteConditions>();

const unquoted = (eTag: string) => eTag.trim().replace(/^"(.*)"$/, "$1");

/**
 * Whether the request is a PutObject or a CopyObject: a PUT of a key that is
 * not about its tags or a part of a multipart upload.
 */
export function putsObject(ctx: KoaContext): boolean {
  return ctx.method === "PUT" && !["tagging", "partNumber", "uploadId"].some((name) => name in ctx.query);
}

/**
 * Koa middleware: notes the `If-None-Match` and `If-Match` of a request
 * that writes an object (PutObject, CopyObject, CompleteMultipartUpload)
 * for {@link checkWriteConditions}.
 */
export const readWriteConditions: KoaMiddleware = async (ctx, next) => {
  const writesObject = putsObject(ctx) || (ctx.method === "POST" && "uploadId" in ctx.query);
  const noneMatch = ctx.headers["if-none-match"];
  const match = ctx.headers["if-match"];
  if (!writesObject || (noneMatch === undefined && match === undefined)) return next();
  await requested.run(
    { absent: noneMatch?.trim() === "*", ...(match !== undefined && { eTag: unquoted(match) }) },
    next,
  );
};

/**
 * Throws S3's error when the write being answered has a precondition that
 * the key's object does not meet; `current` gives that object's ETag
 * (unquoted; undefined when the key holds none), and is called only for a
 * write with a precondition.
 *
 * @example
 * await checkWriteConditions(() => currentETag(bucket, key)); // PreconditionFailed for If-None-Match: * on an existing key
 */
export async function checkWriteConditions(current: () => Promise<string | undefined>): Promise<void> {
  const conditions = requested.getStore();
  if (!conditions) return;
  const eTag = await current();
  if (conditions.absent && eTag !== undefined) throw preconditionFailed("If-None-Match");
  if (conditions.eTag === undefined) return;
  if (eTag === undefined) throw new S3Error("NoSuchKey", "The specified key does not exist.");
  if (conditions.eTag !== eTag) throw preconditionFailed("If-Match");
}
