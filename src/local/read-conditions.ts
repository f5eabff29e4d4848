/**
 * The preconditions of a GetObject or HeadObject that s3rver ignored:
 * `If-Match` (the object must have this ETag) and, without it,
 * `If-Unmodified-Since`. S3 answers 412 PreconditionFailed when one does not
 * hold, before it looks at a Range; s3rver sent the object anyway, so a
 * reader pinned to one version of an object got whatever had replaced it.
 * (`If-None-Match` and `If-Modified-Since`, answered 304, s3rver checks.)
 *
 * {@link readReadConditions} reads the headers when the request arrives;
 * the store's getObject calls {@link checkReadConditions} with the object
 * it found, in the key's turn, so the answer describes that object.
 */

import { AsyncLocalStorage } from "node:async_hooks";
import { unquoteETag } from "../events/etag.js";
import type { KoaMiddleware } from "./embedded-s3-thread.js";
import { preconditionFailed } from "./s3-error.js";

interface ReadConditions {
  /** `If-Match`: the ETags (unquoted) one of which the object must have; `*` matches any. */
  eTags?: string[];
  /** `If-Unmodified-Since`, as a time. */
  unmodifiedSince?: number;
}

const requested = new AsyncLocalStorage<ReadConditions>();

/** Query parameters that make a GET or HEAD of a key about something other than the object itself. */
const SUBRESOURCES = ["acl", "tagging", "uploadId", "torrent", "legal-hold", "retention", "attributes"];

/**
 * The ETags (unquoted) an `If-Match` header lists, `*` standing for any object.
 *
 * @example
 * ifMatchETags('"abc", "def"') // ["abc", "def"]
 */
export function ifMatchETags(header: string): string[] {
  return header.split(",").map(unquoteETag);
}

/** Whether an object with `eTag` (unquoted) meets an `If-Match` listing `eTags`. */
export function meetsIfMatch(eTags: readonly string[], eTag: string): boolean {
  return eTags.includes("*") || eTags.includes(eTag);
}

/**
 * Koa middleware: notes the `If-Match` and `If-Unmodified-Since` of a
 * GetObject or HeadObject for {@link checkReadConditions}.
 */
export const readReadConditions: KoaMiddleware = async (ctx, next) => {
  const match = ctx.headers["if-match"];
  const unmodifiedSince = ctx.headers["if-unmodified-since"];
  const readsObject =
    (ctx.method === "GET" || ctx.method === "HEAD") && !SUBRESOURCES.some((name) => name in ctx.query);
  if (!readsObject || (match === undefined && unmodifiedSince === undefined)) return next();
  const since = unmodifiedSince === undefined ? Number.NaN : Date.parse(unmodifiedSince);
  await requested.run(
    {
      ...(match !== undefined && { eTags: ifMatchETags(match) }),
      // A date that does not parse is ignored, as HTTP says.
      ...(!Number.isNaN(since) && { unmodifiedSince: since }),
    },
    next,
  );
};

/**
 * Throws S3's PreconditionFailed when the GET or HEAD being answered has a
 * precondition that the object found, with this `etag` (quoted or not) and
 * `last-modified` in its metadata, does not meet.
 *
 * @example
 * checkReadConditions(object.metadata); // throws PreconditionFailed for an If-Match naming another ETag
 */
export function checkReadConditions(metadata: Record<string, string>): void {
  const conditions = requested.getStore();
  if (!conditions) return;
  if (conditions.eTags) {
    const eTag = unquoteETag(metadata.etag ?? "");
    if (meetsIfMatch(conditions.eTags, eTag)) return;
    throw preconditionFailed("If-Match");
  }
  const modified = Date.parse(metadata["last-modified"] ?? "");
  // HTTP dates have whole seconds: an object modified within the second given is unmodified since.
  if (
    conditions.unmodifiedSince !== undefined &&
    Math.floor(modified / 1000) * 1000 > conditions.unmodifiedSince
  )
    throw preconditionFailed("If-Unmodified-Since");
}
