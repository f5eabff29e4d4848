import { createRequire } from "node:module";

// s3rver is CommonJS without type declarations; its error module only defines the class.
const require = createRequire(import.meta.url);

/**
 * s3rver's error class: thrown from a handler or middleware, it is answered
 * as S3's XML error document, with the HTTP status s3rver's table gives the
 * code (500 for a code the table lacks, so such answers set `status`
 * themselves), and `detail` as extra elements.
 *
 * @example
 * throw new S3Error("NoSuchBucket", "The specified bucket does not exist", { BucketName: bucket });
 */
export const S3Error = require("s3rver/lib/models/error.js") as new (
  code: string,
  message?: string,
  detail?: Record<string, string>,
) => Error & { status: number };

/**
 * S3's 412 answer to a request whose `condition` header (If-Match,
 * If-None-Match, If-Unmodified-Since) does not hold.
 */
export const preconditionFailed = (condition: string): Error =>
  new S3Error("PreconditionFailed", "At least one of the pre-conditions you specified did not hold", {
    Condition: condition,
  });

/** S3's 404 answer for a key that holds no object; `detail` adds elements such as the key. */
export const noSuchKey = (detail?: Record<string, string>): Error =>
  new S3Error("NoSuchKey", "The specified key does not exist.", detail);

/** The S3 XML namespace, the `@` attributes of an answer's root element. */
export const S3_XMLNS = { xmlns: "http://s3.amazonaws.com/doc/2006-03-01/" } as const;
