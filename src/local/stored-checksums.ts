/**
 * The checksum S3 keeps with every object, on the embedded S3 server (see
 * embedded-s3-thread.ts): the one a PUT declared (checked, see
 * upload-body.ts), or a CRC64NVME of the bytes when it declared none (S3's
 * default for new objects since 2025); a copy's in the algorithm asked
 * for, or the source's; a multipart upload's in the algorithm and type its
 * CreateMultipartUpload named. S3 gives it back in the answer to the write,
 * and on GET and HEAD of the whole object when the request asks for it
 * (`x-amz-checksum-mode: ENABLED`, which current SDKs send by default on
 * GetObject and then check the body against). A pipeline that reads the
 * stored checksum (the catalog's records keep it, and a full-object SHA-256
 * saves hashing) sees on this server what it sees on S3.
 *
 * The checksum lives in the object's metadata file, under the names of its
 * headers; s3rver's object model keeps only the metadata it knows, so
 * s3rver itself never answers with them.
 */

import { AsyncLocalStorage } from "node:async_hooks";
import { createReadStream } from "node:fs";
import { type ChecksumAlgorithm, createChecksum, isChecksumAlgorithm } from "./checksums.js";
import type { KoaContext, KoaMiddleware } from "./embedded-s3-thread.js";
import { S3Error } from "./s3-error.js";

/** FULL_OBJECT: a checksum of the bytes. COMPOSITE: a multipart upload's checksum of its parts' checksums, `<base64>-<parts>`. */
export type ChecksumType = "FULL_OBJECT" | "COMPOSITE";

export interface StoredChecksum {
  algorithm: ChecksumAlgorithm;
  /** Base64, as S3 writes it; a composite one ends in `-<parts>`. */
  value: string;
  type: ChecksumType;
}

/** What S3 computes for an object whose upload named no checksum. */
export const DEFAULT_CHECKSUM_ALGORITHM: ChecksumAlgorithm = "crc64nvme";

const FIELD_PREFIX = "x-amz-checksum-";
const TYPE_FIELD = "x-amz-checksum-type";

/** The algorithm whose value a metadata field (`x-amz-checksum-<algorithm>`) holds; none for any other field. */
function fieldAlgorithm(name: string): ChecksumAlgorithm | undefined {
  const algorithm = name.slice(FIELD_PREFIX.length);
  return name.startsWith(FIELD_PREFIX) && isChecksumAlgorithm(algorithm) ? algorithm : undefined;
}

/** Whether a metadata field is one a stored checksum is kept under. */
export function isChecksumField(name: string): boolean {
  return name === TYPE_FIELD || fieldAlgorithm(name) !== undefined;
}

/** The metadata fields that keep `checksum`: `{ "x-amz-checksum-crc32": "…", "x-amz-checksum-type": "FULL_OBJECT" }`. */
export function checksumFields(checksum: StoredChecksum): Record<string, string> {
  return { [`${FIELD_PREFIX}${checksum.algorithm}`]: checksum.value, [TYPE_FIELD]: checksum.type };
}

/** `metadata` without the fields of a checksum: what an object's new checksum replaces. */
export function withoutChecksumFields(metadata: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(metadata).filter(([name]) => !isChecksumField(name)));
}

/** The checksum an object's metadata file keeps; none for objects stored before checksums were. */
export function storedChecksum(metadata: Record<string, string>): StoredChecksum | undefined {
  for (const [name, value] of Object.entries(metadata)) {
    const algorithm = fieldAlgorithm(name);
    if (algorithm === undefined) continue;
    const type = metadata[TYPE_FIELD] === "COMPOSITE" ? "COMPOSITE" : "FULL_OBJECT";
    return { algorithm, value, type };
  }
  return undefined;
}

/** An object's bytes on their way to its file, and the checksum of them once all have passed. */
export interface Checksummed {
  content: AsyncIterable<Buffer>;
  /** Call once the content has been read to its end. */
  result(): StoredChecksum;
}

/** `content` passed through, with its full-object checksum in `algorithm`. */
export function checksummed(content: AsyncIterable<Buffer>, algorithm: ChecksumAlgorithm): Checksummed {
  const checksum = createChecksum(algorithm);
  async function* bytes(): AsyncGenerator<Buffer> {
    for await (const piece of content) {
      checksum.update(piece);
      yield piece;
    }
  }
  let value: string | undefined;
  return {
    content: bytes(),
    result: () => {
      value ??= checksum.digest();
      return { algorithm, value, type: "FULL_OBJECT" };
    },
  };
}

/** How a multipart upload's object is checksummed, as its CreateMultipartUpload asked. */
export interface MultipartChecksum {
  algorithm: ChecksumAlgorithm;
  type: ChecksumType;
}

/**
 * The checksum a CreateMultipartUpload with these headers asks for, as S3
 * reads `x-amz-checksum-algorithm` and `x-amz-checksum-type`: CRC32 and
 * CRC32C are COMPOSITE unless FULL_OBJECT is asked for, SHA-1 and SHA-256
 * only COMPOSITE, CRC64NVME only FULL_OBJECT; no algorithm is S3's default
 * CRC64NVME. Anything else is S3's InvalidRequest.
 */
export function multipartChecksum(headers: Record<string, unknown>): MultipartChecksum {
  const algorithmHeader = headers["x-amz-checksum-algorithm"];
  const typeHeader = headers["x-amz-checksum-type"];
  const type = typeHeader === undefined ? undefined : String(typeHeader).toUpperCase();
  if (type !== undefined && type !== "COMPOSITE" && type !== "FULL_OBJECT")
    throw new S3Error("InvalidRequest", "Value for x-amz-checksum-type header is invalid.");
  if (algorithmHeader === undefined) {
    if (type === "COMPOSITE")
      throw new S3Error(
        "InvalidRequest",
        "The x-amz-checksum-type header requires x-amz-checksum-algorithm.",
      );
    return { algorithm: DEFAULT_CHECKSUM_ALGORITHM, type: "FULL_OBJECT" };
  }
  const algorithm = requestedAlgorithm(algorithmHeader);
  const fullOnly = algorithm === "crc64nvme";
  const compositeOnly = algorithm === "sha1" || algorithm === "sha256";
  const chosen: ChecksumType = type === undefined ? (fullOnly ? "FULL_OBJECT" : "COMPOSITE") : type;
  if ((fullOnly && chosen === "COMPOSITE") || (compositeOnly && chosen === "FULL_OBJECT"))
    throw new S3Error(
      "InvalidRequest",
      `The ${chosen} checksum type cannot be used with the ${algorithm} checksum algorithm.`,
    );
  return { algorithm, type: chosen };
}

/**
 * The algorithm an `x-amz-checksum-algorithm` header names (`CRC32`, any
 * case), as CreateMultipartUpload and CopyObject read it; one S3 does not
 * know is its InvalidRequest.
 */
export function requestedAlgorithm(header: unknown): ChecksumAlgorithm {
  const algorithm = String(header).toLowerCase();
  if (!isChecksumAlgorithm(algorithm))
    throw new S3Error(
      "InvalidRequest",
      "Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]",
    );
  return algorithm;
}

/** A part of a multipart upload being completed: its file, its number, and the checksum the request lists for it. */
export interface CompletedPart {
  file: string;
  number: number;
  listed?: string;
}

/**
 * The bytes of a multipart upload's parts, one after the other, with the
 * object's checksum as `plan` asks: over the bytes (FULL_OBJECT), or over
 * the parts' own checksums (COMPOSITE, `<base64>-<parts>`). A part whose
 * checksum the request lists is checked against its bytes: `result()`
 * throws S3's InvalidPart for the first that does not match.
 */
export function checksummedParts(parts: readonly CompletedPart[], plan: MultipartChecksum): Checksummed {
  const whole = plan.type === "FULL_OBJECT" ? createChecksum(plan.algorithm) : undefined;
  const partDigests: Buffer[] = [];
  let mismatched: CompletedPart | undefined;
  async function* bytes(): AsyncGenerator<Buffer> {
    for (const part of parts) {
      const own = whole && part.listed === undefined ? undefined : createChecksum(plan.algorithm);
      for await (const piece of createReadStream(part.file) as AsyncIterable<Buffer>) {
        whole?.update(piece);
        own?.update(piece);
        yield piece;
      }
      if (!own) continue;
      const digest = own.digest();
      partDigests.push(Buffer.from(digest, "base64"));
      if (part.listed !== undefined && part.listed !== digest) mismatched ??= part;
    }
  }
  return {
    content: bytes(),
    result: () => {
      if (mismatched) {
        throw new S3Error(
          "InvalidPart",
          `One or more of the specified parts could not be found. The part may not have been uploaded, or the specified checksum may not match the part's checksum (part ${mismatched.number}).`,
        );
      }
      if (whole) return { algorithm: plan.algorithm, value: whole.digest(), type: "FULL_OBJECT" };
      const composite = createChecksum(plan.algorithm);
      composite.update(Buffer.concat(partDigests));
      return { algorithm: plan.algorithm, value: `${composite.digest()}-${parts.length}`, type: "COMPOSITE" };
    },
  };
}

/** The checksum a CreateMultipartUpload named itself (`x-amz-checksum-algorithm`); none when it left it to S3. */
export function askedMultipartChecksum(metadata: Record<string, unknown>): MultipartChecksum | undefined {
  return metadata["x-amz-checksum-algorithm"] === undefined ? undefined : multipartChecksum(metadata);
}

/**
 * S3's refusal of an UploadPart whose checksum is not the one its upload
 * named: another algorithm, or none for a COMPOSITE upload (whose object
 * checksum is made of its parts'). A part of an upload that named none may
 * carry any.
 */
export function checkPartChecksum(
  asked: MultipartChecksum | undefined,
  declared: ChecksumAlgorithm | undefined,
): void {
  if (!asked) return;
  if (declared === undefined ? asked.type === "COMPOSITE" : declared !== asked.algorithm) {
    throw new S3Error(
      "InvalidRequest",
      `Checksum Type mismatch occurred, expected checksum Type: ${asked.algorithm}, actual checksum Type: ${declared ?? "null"}`,
    );
  }
}

/** The CompleteMultipartUpload being answered, whose XML s3rver has parsed into `request.body` by the time it completes. */
const completing = new AsyncLocalStorage<{ request?: { body?: unknown } }>();

/** Koa middleware: keeps CompleteMultipartUpload's context at hand for {@link listedPartChecksums}. */
export const noteCompleteRequest: KoaMiddleware = (ctx, next) =>
  ctx.method === "POST" && "uploadId" in ctx.query
    ? completing.run(ctx as unknown as { request?: { body?: unknown } }, next)
    : next();

/** The `Checksum<ALGORITHM>` the CompleteMultipartUpload being answered lists for each part, by part number. */
export function listedPartChecksums(algorithm: ChecksumAlgorithm): Map<number, string> {
  const body = completing.getStore()?.request?.body as
    | { CompleteMultipartUpload?: { Part?: Record<string, unknown> | Record<string, unknown>[] } }
    | undefined;
  const parts = body?.CompleteMultipartUpload?.Part;
  const element = `Checksum${algorithm.toUpperCase()}`;
  const listed = new Map<number, string>();
  for (const part of parts === undefined ? [] : Array.isArray(parts) ? parts : [parts]) {
    const value = part[element];
    if (value !== undefined && value !== "") listed.set(Number(part.PartNumber), String(value));
  }
  return listed;
}

/** The checksums a request's answer may carry: the object's (or part's, with no type) it wrote, or the object's it read. */
interface Answered {
  written?: Omit<StoredChecksum, "type"> & { type?: ChecksumType };
  read?: StoredChecksum;
}
const answered = new AsyncLocalStorage<Answered>();

/** Notes the checksum of the object (or, without a type, the part) the request being answered has written. */
export function answerWritten(checksum: NonNullable<Answered["written"]>): void {
  const answer = answered.getStore();
  if (answer) answer.written = checksum;
}

/** Notes the checksum of the object the request being answered has read. */
export function answerRead(checksum: StoredChecksum | undefined): void {
  const answer = answered.getStore();
  if (answer) answer.read = checksum;
}

/** The XML element names of a checksum in S3's answers: `ChecksumCRC64NVME`, `ChecksumType`. */
function checksumElements(checksum: NonNullable<Answered["written"]>): Record<string, string> {
  return {
    [`Checksum${checksum.algorithm.toUpperCase()}`]: checksum.value,
    ...(checksum.type && { ChecksumType: checksum.type }),
  };
}

/**
 * Koa middleware, in front of s3rver's router, after the one that writes
 * answers out as XML: the checksum of the object written goes into the
 * answer of PutObject and UploadPart (headers), CopyObject, UploadPartCopy
 * and CompleteMultipartUpload (their XML); the stored checksum of an object read
 * into the headers of a GET or HEAD of all of it that asks for checksums.
 * S3 gives none for a range: the SDKs would check the range's bytes
 * against the whole object's checksum.
 */
export const answerChecksums: KoaMiddleware = async (ctx, next) => {
  const answer: Answered = {};
  await answered.run(answer, next);
  if (ctx.status !== 200) return;
  const body = ctx.body as Record<string, Record<string, unknown> | undefined> | undefined;
  if ((ctx.method === "GET" || ctx.method === "HEAD") && answer.read) {
    if (String(ctx.headers["x-amz-checksum-mode"]).toUpperCase() !== "ENABLED") return;
    if (ctx.headers.range !== undefined || "partNumber" in ctx.query) return;
    setChecksumHeaders(ctx, answer.read);
  } else if ((ctx.method === "PUT" || ctx.method === "POST") && answer.written) {
    const result = body?.CopyObjectResult ?? body?.CopyPartResult ?? body?.CompleteMultipartUploadResult;
    if (result) Object.assign(result, checksumElements(answer.written));
    else setChecksumHeaders(ctx, answer.written);
  }
};

function setChecksumHeaders(ctx: KoaContext, checksum: NonNullable<Answered["written"]>): void {
  ctx.set(`${FIELD_PREFIX}${checksum.algorithm}`, checksum.value);
  if (checksum.type) ctx.set(TYPE_FIELD, checksum.type);
}

/** Koa middleware: a CreateMultipartUpload that asks for a checksum S3 would refuse is refused (InvalidRequest). */
export const checkMultipartChecksum: KoaMiddleware = async (ctx, next) => {
  if (ctx.method === "POST" && "uploads" in ctx.query) multipartChecksum(ctx.headers);
  await next();
};
