/**
 * GetObject and HeadObject with `partNumber` on the embedded S3 server, as
 * S3 answers them; s3rver ignored the parameter and sent the whole object.
 *
 * - Of an object a multipart upload made, part N is the bytes that part
 *   held: 206, its `Content-Range` within the object, and the object's
 *   number of parts in `x-amz-mp-parts-count`. The parts' numbers and sizes
 *   are kept beside the object when the upload completes (a small file,
 *   {@link PARTS_RESOURCE}), and go when the object is replaced or deleted.
 * - An object stored whole (PutObject, CopyObject) is one part: part 1 is
 *   all of it (206, no parts count), as S3 answers.
 * - A part the object does not have is InvalidPartNumber (416); a number
 *   that is no whole number from 1 to 10,000 is InvalidArgument; a
 *   `partNumber` with a `Range` header is InvalidRequest (both 400).
 *
 * {@link readPartNumber} reads the request; the store's getObject, in the
 * object's turn, calls {@link partRange} so the part's range and the
 * object's bytes come from the same version of it.
 */

import { AsyncLocalStorage } from "node:async_hooks";
import { readFile, stat } from "node:fs/promises";
import { absent } from "./atomic-files.js";
import { addressOf } from "./embedded-s3-multipart.js";
import type { KoaMiddleware } from "./embedded-s3-thread.js";
import { queryText } from "./listing-requests.js";
import { S3Error } from "./s3-error.js";

/** The name of the resource, beside an object, that lists a multipart object's parts. */
export const PARTS_RESOURCE = "parts.json";

/** S3's highest part number. */
const MAX_PART_NUMBER = 10_000;

/** One part of a completed multipart upload, as kept in {@link PARTS_RESOURCE}. */
export interface StoredPart {
  number: number;
  size: number;
}

/** The part a GET or HEAD asks for, and the number of parts its object turned out to have. */
interface PartRead {
  number: number;
  count?: number;
}

const partReads = new AsyncLocalStorage<PartRead>();

/**
 * Koa middleware: notes the part a GET or HEAD of an object asks for, for
 * {@link partRange}, refusing a number S3 refuses and a `partNumber` sent
 * with a `Range`; once answered, tells the object's number of parts when it
 * has several.
 */
export const readPartNumber: KoaMiddleware = async (ctx, next) => {
  const text = queryText(ctx, "partNumber");
  const readsObject = (ctx.method === "GET" || ctx.method === "HEAD") && addressOf(ctx)?.key !== undefined;
  if (text === undefined || !readsObject || "uploadId" in ctx.query) return next();
  if (ctx.headers.range !== undefined)
    throw new S3Error("InvalidRequest", "Cannot specify both Range header and partNumber query parameter");
  if (!/^[1-9]\d{0,4}$/.test(text) || Number(text) > MAX_PART_NUMBER)
    throw new S3Error(
      "InvalidArgument",
      `Part number must be an integer between 1 and ${MAX_PART_NUMBER}, inclusive`,
      { ArgumentName: "partNumber" },
    );
  const read: PartRead = { number: Number(text) };
  await partReads.run(read, next);
  if (read.count !== undefined) ctx.set("x-amz-mp-parts-count", String(read.count));
};

/**
 * The byte range (inclusive) of the part the request being answered asks
 * for, in the object whose file is `objectPath` and whose parts list is
 * `partsPath`: `"whole"` when it asks for none, or for the one part of an
 * empty object; undefined when it asks for one and there is no object. Throws S3's
 * InvalidPartNumber for a part the object does not have. Call it in the
 * object's turn.
 */
export async function partRange(
  objectPath: string,
  partsPath: string,
): Promise<{ start: number; end: number } | "whole" | undefined> {
  const read = partReads.getStore();
  if (!read) return "whole";
  const object = await stat(objectPath).catch(absent);
  if (!object) return undefined;
  // Its one part holds no bytes, and a range of none would be unsatisfiable.
  if (object.size === 0 && read.number === 1) return "whole";
  const listed = await readFile(partsPath, "utf8").catch(absent);
  const parts: StoredPart[] = listed === undefined ? [{ number: 1, size: object.size }] : JSON.parse(listed);
  const index = parts.findIndex((part) => part.number === read.number);
  if (index < 0) {
    const error = new S3Error("InvalidPartNumber", "The requested partnumber is not satisfiable", {
      PartNumberRequested: String(read.number),
      ActualPartCount: String(parts.length),
    });
    // s3rver's table of statuses lacks this code.
    error.status = 416;
    throw error;
  }
  // S3 gives the count only for an object a multipart upload made.
  if (listed !== undefined) read.count = parts.length;
  const start = parts.slice(0, index).reduce((sum, part) => sum + part.size, 0);
  return { start, end: start + (parts[index] as StoredPart).size - 1 };
}
