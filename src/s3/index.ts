/**
 * The S3 adapter of the engine: a pinned object version as a byte source,
 * its HeadObject metadata, and tagging.
 *
 * @example
 * import { S3ByteSource } from "./s3/index.js";
 */
export { type ObjectHead, type ObjectRef, S3ByteSource, tagObject } from "./s3-byte-source.js";
