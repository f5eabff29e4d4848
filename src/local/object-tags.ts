/**
 * An object's tag set, as S3 keeps it: it belongs to the object a request
 * created, not to the key. PutObject and CreateMultipartUpload give the new
 * object the tags of their `x-amz-tagging` header (none without one);
 * CopyObject gives it the source's tags, or the header's with
 * `x-amz-tagging-directive: REPLACE`; a delete takes the tags with the object.
 *
 * s3rver kept tags by key, and only those PutObjectTagging set: it ignored
 * the header, and an object put or copied over a tagged one, or put again
 * after a delete, carried the old object's tags, so a file rejected once and
 * replaced by an accepted one stayed tagged `catalog-status=rejected`.
 *
 * {@link readObjectTagging} reads and checks the headers when the request
 * arrives; the code that stores the object asks {@link requestedTagging}
 * which tags it gets and writes them with it.
 */

import { AsyncLocalStorage } from "node:async_hooks";
import type { KoaMiddleware } from "./embedded-s3-thread.js";
import { S3Error } from "./s3-error.js";
import { putsObject } from "./write-conditions.js";

/** S3's limits on one object's tags. */
const MAX_TAGS = 10;
const MAX_TAG_KEY_LENGTH = 128;
const MAX_TAG_VALUE_LENGTH = 256;

/** The tags a request gives the object it stores: the source's (a copy's default), or else `document`'s. */
export interface RequestedTagging {
  fromSource: boolean;
  /** A tagging document; undefined for no tags. */
  document: string | undefined;
}

const requests = new AsyncLocalStorage<RequestedTagging>();

/** A 400 answer: s3rver's table of codes lacks InvalidTag and gives BadRequest the 403 of a CORS refusal. */
const refused = (code: string, message: string): Error =>
  Object.assign(new S3Error(code, message), { status: 400 });

const escapeXml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The tagging document (as s3rver stores and answers it) of an
 * `x-amz-tagging` header, a URL query such as `a=1&b=two`; undefined for no
 * tags. A header S3 would refuse throws its error.
 *
 * @example
 * taggingDocument("team=web") // "<Tagging><TagSet><Tag><Key>team</Key><Value>web</Value></Tag></TagSet></Tagging>"
 */
export function taggingDocument(header: string | undefined): string | undefined {
  if (header === undefined || header === "") return undefined;
  const tags = [...new URLSearchParams(header)];
  if (tags.length > MAX_TAGS) throw refused("BadRequest", `Object tags cannot be greater than ${MAX_TAGS}`);
  const seen = new Set<string>();
  for (const [key, value] of tags) {
    if (key.length === 0 || key.length > MAX_TAG_KEY_LENGTH)
      throw refused(
        "InvalidTag",
        `The TagKey you have provided is invalid (1 to ${MAX_TAG_KEY_LENGTH} characters)`,
      );
    if (value.length > MAX_TAG_VALUE_LENGTH)
      throw refused("InvalidTag", `The TagValue you have provided is too long, max ${MAX_TAG_VALUE_LENGTH}`);
    if (seen.has(key)) throw refused("InvalidTag", "Cannot provide multiple Tags with the same key");
    seen.add(key);
  }
  const set = tags
    .map(([key, value]) => `<Tag><Key>${escapeXml(key)}</Key><Value>${escapeXml(value)}</Value></Tag>`)
    .join("");
  return `<Tagging><TagSet>${set}</TagSet></Tagging>`;
}

const headerText = (value: string | string[] | undefined) => (Array.isArray(value) ? value.join(",") : value);

/**
 * Koa middleware: notes which tags the object a PutObject or CopyObject
 * stores is to get, for {@link requestedTagging}, and checks the
 * `x-amz-tagging` of a CreateMultipartUpload (its headers, kept with the
 * upload, give the completed object its tags). A header or directive S3
 * refuses is its error, before any byte is stored.
 */
export const readObjectTagging: KoaMiddleware = async (ctx, next) => {
  const header = headerText(ctx.headers["x-amz-tagging"]);
  if (ctx.method === "POST" && "uploads" in ctx.query) {
    taggingDocument(header);
    return next();
  }
  if (!putsObject(ctx)) return next();
  if (ctx.headers["x-amz-copy-source"] === undefined) {
    return requests.run({ fromSource: false, document: taggingDocument(header) }, next);
  }
  const directive = headerText(ctx.headers["x-amz-tagging-directive"]) ?? "COPY";
  if (directive !== "COPY" && directive !== "REPLACE")
    throw new S3Error("InvalidArgument", "Unknown tagging directive.");
  const requested: RequestedTagging =
    directive === "COPY"
      ? { fromSource: true, document: undefined }
      : { fromSource: false, document: taggingDocument(header) };
  await requests.run(requested, next);
};

/**
 * The tags the request being answered gives the object it stores; for a
 * store without such a request (a browser POST upload), none.
 */
export function requestedTagging(): RequestedTagging {
  return requests.getStore() ?? { fromSource: false, document: undefined };
}
