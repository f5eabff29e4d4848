import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { RequestError } from "./errors.js";

/** Length of the tag, in base64url characters (128 bits of HMAC-SHA256). */
const TAG_CHARS = 22;

/**
 * Signs the store's paging cursors on their way out and checks them on their
 * way back. The store passes a cursor's start key to DynamoDB as it is, and
 * DynamoDB answers a start key of the wrong shape with a validation error: a
 * 500 for what is a caller's mistake. A tag over the listing and the cursor
 * lets the API refuse, with a 400, every cursor it did not issue for that
 * listing (edited, truncated, or taken from another folder), before the store
 * sees it. The key lives as long as the process, so a cursor does not outlive
 * a restart; the message says to start again from the first page.
 *
 * @example
 * const cursors = new CursorSeal();
 * const sealed = cursors.seal("folder:photos/", page.cursor);
 * cursors.open("folder:photos/", sealed); // page.cursor
 * cursors.open("folder:docs/", sealed); // throws RequestError 400
 */
export class CursorSeal {
  readonly #key: Buffer;

  constructor(key: Buffer = randomBytes(32)) {
    this.#key = key;
  }

  /** The API cursor for a store cursor of `listing`; undefined stays undefined (no next page). */
  seal(listing: string, cursor: string | undefined): string | undefined {
    return cursor === undefined ? undefined : `${cursor}.${this.#tag(listing, cursor)}`;
  }

  /** The store cursor inside an API cursor of `listing`, or a 400 naming the parameter. */
  open(listing: string, sealed: string | undefined, name = "cursor"): string | undefined {
    if (sealed === undefined) return undefined;
    const dot = sealed.lastIndexOf(".");
    const cursor = sealed.slice(0, dot);
    const tag = Buffer.from(sealed.slice(dot + 1));
    const expected = Buffer.from(this.#tag(listing, cursor));
    if (dot <= 0 || tag.length !== expected.length || !timingSafeEqual(tag, expected))
      throw new RequestError(
        400,
        `'${name}' is not a cursor this listing issued (from another listing, altered, or from before a restart): leave it out to start from the first page`,
      );
    return cursor;
  }

  #tag(listing: string, cursor: string): string {
    return createHmac("sha256", this.#key)
      .update(`${listing}\n${cursor}`)
      .digest("base64url")
      .slice(0, TAG_CHARS);
  }
}
