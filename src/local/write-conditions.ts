/**
 * Conditional writes, as S3 checks them: PutObject, CopyObject and
 * CompleteMultipartUpload with `If-None-Match: *` store the object only
 * when the key holds none, and with `If-Match: <etag>` only when it holds
 * that one; otherwise S3 answers 412 PreconditionFailed (404 NoSuchKey for
 * `If-Match` on a key that holds nothing) and stores nothing. s3rver
 * ignored both headers, so a create-only upload silently replaced the
 * object it was meant to leave alone. Of two writes whose condition holds
 * when they arrive, the first to finish wins and the other is 412, as on S3.
 * S3's 409 ConditionalRequestConflict, for a delete that finishes while a
 * conditional write is under way, never arises here: a delete waits for the
 * writes in flight (`PutDeleteGate`), so the write finishes first.
 *
 * DeleteObject with `If-Match` (an ETag, or `*` for any object) removes
 * the object only when the key holds a matching one: 412 PreconditionFailed
 * when it holds another, 404 NoSuchKey when it holds none (S3's conditional
 * deletes, general purpose buckets, since September 2025). s3rver ignored the
 * header and deleted whatever the key held.
 *
 * {@link readWriteConditions} reads the headers when the request arrives;
 * the code that puts an object in place calls {@link checkWriteConditions}
 * with the key's current ETag, in the key's turn, just before it does, and
 * the code that removes one calls {@link checkDeleteConditions} likewise.
 */

import { AsyncLocalStorage } from "node:async_hooks";
import { unquoteETag } from "../events/etag.js";
import { addressOf } from "./embedded-s3-multipart.js";
import type { KoaContext, KoaMiddleware } from "./embedded-s3-thread.js";
import { ifMatchETags, meetsIfMatch } from "./read-conditions.js";
import { noSuchKey, preconditionFailed } from "./s3-error.js";

/** The preconditions of the write being answered. */
interface WriteConditions {
  /** `If-None-Match: *`: the key must hold no object. */
  absent: boolean;
  /** `If-Match`: the ETag (unquoted) the key's object must have. */
  eTag?: string;
}

/** The precondition of the DeleteObject being answered. */
interface DeleteConditions {
  /** `If-Match`: the ETags (unquoted) one of which the key's object must have; `*` matches any. */
  eTags: string[];
  /** Whether the store looked at the key's object; s3rver skips the store when the key holds none. */
  checked: boolean;
}

const requested = new AsyncLocalStorage<WriteConditions>();
const deleteRequested = new AsyncLocalStorage<DeleteConditions>();

/**
 * Whether the request is a PutObject or a CopyObject: a PUT of a key that is
 * not about its tags or a part of a multipart upload.
 */
export function putsObject(ctx: KoaContext): boolean {
  return ctx.method === "PUT" && !["tagging", "partNumber", "uploadId"].some((name) => name in ctx.query);
}

/** Whether the request is a DeleteObject: a DELETE of a key that is not about its tags or a multipart upload. */
function deletesObject(ctx: KoaContext): boolean {
  if (ctx.method !== "DELETE" || ["tagging", "uploadId"].some((name) => name in ctx.query)) return false;
  return addressOf(ctx)?.key !== undefined;
}

/**
 * Koa middleware: notes the `If-None-Match` and `If-Match` of a request
 * that writes an object (PutObject, CopyObject, CompleteMultipartUpload)
 * for {@link checkWriteConditions}, and the `If-Match` of a DeleteObject
 * for {@link checkDeleteConditions}.
 */
export const readWriteConditions: KoaMiddleware = async (ctx, next) => {
  const noneMatch = ctx.headers["if-none-match"];
  const match = ctx.headers["if-match"];
  if (match !== undefined && deletesObject(ctx)) {
    const conditions: DeleteConditions = { eTags: ifMatchETags(match), checked: false };
    await deleteRequested.run(conditions, next);
    // s3rver answers 204 without asking the store when the key holds nothing: no object to match.
    if (!conditions.checked) throw noSuchKey();
    return;
  }
  const writesObject = putsObject(ctx) || (ctx.method === "POST" && "uploadId" in ctx.query);
  if (!writesObject || (noneMatch === undefined && match === undefined)) return next();
  await requested.run(
    { absent: noneMatch?.trim() === "*", ...(match !== undefined && { eTag: unquoteETag(match) }) },
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
 * await checkWriteConditions(() => storedETag(store, bucket, key)); // PreconditionFailed for If-None-Match: * on an existing key
 */
export async function checkWriteConditions(current: () => Promise<string | undefined>): Promise<void> {
  const conditions = requested.getStore();
  if (!conditions) return;
  const eTag = await current();
  if (conditions.absent && eTag !== undefined) throw preconditionFailed("If-None-Match");
  if (conditions.eTag === undefined) return;
  if (eTag === undefined) throw noSuchKey();
  if (conditions.eTag !== eTag) throw preconditionFailed("If-Match");
}

/**
 * Throws S3's error when the DeleteObject being answered has an `If-Match`
 * that the key's object does not meet; `current` gives that object's ETag
 * (unquoted; undefined when the key holds none), and is called only for a
 * delete with a precondition. Call it in the key's turn, just before the
 * object is removed, so no write can come between the check and the delete.
 *
 * @example
 * await checkDeleteConditions(() => storedETag(store, bucket, key)); // PreconditionFailed for If-Match naming another ETag
 */
export async function checkDeleteConditions(current: () => Promise<string | undefined>): Promise<void> {
  const conditions = deleteRequested.getStore();
  if (!conditions) return;
  conditions.checked = true;
  const eTag = await current();
  if (eTag === undefined) throw noSuchKey();
  if (!meetsIfMatch(conditions.eTags, eTag)) throw preconditionFailed("If-Match");
}
