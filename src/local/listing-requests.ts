/**
 * What the embedded S3 server's listings (ListObjects, ListObjectsV2 in
 * embedded-s3-listing.ts; ListParts, ListMultipartUploads in
 * embedded-s3-multipart.ts) read from a request and write into an answer
 * alike: query parameters, paging sizes, `encoding-type`, S3's order of
 * keys and the one owner.
 */

import { createRequire } from "node:module";
import type { KoaContext } from "./embedded-s3-thread.js";
import { S3Error } from "./s3-error.js";

// s3rver is CommonJS without type declarations; these two of its modules only define classes and values.
const require = createRequire(import.meta.url);
const { DUMMY_ACCOUNT } = require("s3rver/lib/models/account.js") as {
  DUMMY_ACCOUNT: { id: number; displayName: string };
};

/** S3's most results in one listing page. */
export const MAX_LISTED = 1000;

/** The owner (and initiator) of every object and upload: s3rver's one account. */
export const OWNER = { ID: String(DUMMY_ACCOUNT.id), DisplayName: DUMMY_ACCOUNT.displayName };

/** A query parameter's text (the first, if given twice); `undefined` when absent. */
export function queryText(ctx: KoaContext, name: string): string | undefined {
  const value = ctx.query[name];
  if (value === undefined) return undefined;
  return String(Array.isArray(value) ? value[0] : value);
}

/** A paging parameter, a whole number from 0 (`undefined` when absent); anything else is InvalidArgument. */
export function pagingNumber(ctx: KoaContext, name: string): number | undefined {
  const text = queryText(ctx, name);
  if (text === undefined) return undefined;
  if (!/^\d{1,10}$/.test(text) || Number(text) > 2 ** 31 - 1) {
    throw new S3Error("InvalidArgument", `Provided ${name} not an integer or within integer range`, {
      ArgumentName: name,
    });
  }
  return Number(text);
}

/** How many results a page of this request holds: its `name` parameter, at most {@link MAX_LISTED}. */
export function pageSize(ctx: KoaContext, name: string): number {
  return Math.min(pagingNumber(ctx, name) ?? MAX_LISTED, MAX_LISTED);
}

/**
 * The request's `encoding-type` (only `url` exists; anything else is
 * InvalidArgument) and how the answer writes keys and prefixes with it.
 */
export function encodingOf(ctx: KoaContext): { encodingType?: "url"; encoded: (text: string) => string } {
  const encodingType = queryText(ctx, "encoding-type");
  if (encodingType === undefined) return { encoded: (text) => text };
  if (encodingType !== "url") {
    throw new S3Error("InvalidArgument", "Invalid Encoding Method specified in Request", {
      ArgumentName: "encoding-type",
    });
  }
  return { encodingType, encoded: encodeURIComponent };
}

/**
 * Orders strings by their UTF-8 bytes, as S3 orders keys. UTF-8's byte order
 * is code point order, which JavaScript's `<` (UTF-16 code units) keeps but
 * for one range: it puts code points past U+FFFF (surrogate pairs, units
 * D800-DFFF) before U+E000-U+FFFF. So units are compared as they are, and at
 * the first that differ surrogates are lifted above the rest. Written out
 * rather than comparing `Buffer.from` copies because a listing compares every
 * key of a folder, and the copies cost more than the comparisons. Keys are
 * well-formed (they are decoded from UTF-8); a lone surrogate sorts as a pair's would.
 *
 * @example
 * compareKeys("a/\u{1f600}", "a/\u{ff5e}") > 0; // f0 9f 98 80 after ef bd 9e, though "\ud83d" < "\uff5e"
 */
export function compareKeys(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let at = 0; at < length; at++) {
    const unitA = a.charCodeAt(at);
    const unitB = b.charCodeAt(at);
    if (unitA !== unitB) return inCodePointOrder(unitA) - inCodePointOrder(unitB);
  }
  return a.length - b.length;
}

/** A UTF-16 unit moved so that surrogates (D800-DFFF) come after E000-FFFF, as their code points do. */
function inCodePointOrder(unit: number): number {
  if (unit < 0xd800) return unit;
  return unit < 0xe000 ? unit + 0x2000 : unit - 0x800;
}
