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
