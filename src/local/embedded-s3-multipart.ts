/**
 * S3's multipart upload API on the embedded S3 server (see
 * embedded-s3-thread.ts, which installs it into s3rver): part and upload
 * checks as S3 makes them, parts stored whole, S3's multipart ETag, and the
 * calls s3rver lacks (AbortMultipartUpload, ListParts, ListMultipartUploads,
 * UploadPartCopy); at start, what a stop or crash left of unfinished uploads
 * is swept away.
 *
 * s3rver's types are declared by the thread's module, whose import starts
 * the server: they are imported as types only, which leaves no import in
 * the compiled code.
 */

import { AsyncLocalStorage } from "node:async_hooks";
import { createHash } from "node:crypto";
import { readdir, readFile, rename, rm, stat } from "node:fs/promises";
import { basename, join } from "node:path";
import { Readable } from "node:stream";
import { absent, type Turns, temporaryPath, writeFileAtomically, writeHashed } from "./atomic-files.js";
import { checkContentMd5 } from "./content-md5.js";
import type { KoaContext, KoaMiddleware, S3rverStore } from "./embedded-s3-thread.js";
import { compareKeys, encodingOf, OWNER, pageSize, pagingNumber, queryText } from "./listing-requests.js";
import type { StoredPart } from "./object-parts.js";
import { noSuchKey, S3_XMLNS, S3Error } from "./s3-error.js";
import { answerWritten, askedMultipartChecksum, checkPartChecksum, checksummed } from "./stored-checksums.js";
import { type DeclaredChecksum, receivedBody } from "./upload-body.js";

/** S3's highest part number. */
const MAX_PART_NUMBER = 10_000;
/** The upload IDs s3rver issues: 16 random bytes in hex. */
const UPLOAD_ID = /^[0-9a-f]{32}$/;
/** What a part's MD5 file holds once written whole: the hex MD5 of its bytes. */
const PART_MD5 = /^[0-9a-f]{32}$/;

/** S3's smallest part but the last of a completed upload: 5 MiB. */
const MIN_PART_SIZE = 5 * 1024 * 1024;

/**
 * S3's NoSuchUpload. Unlike S3's, these errors name no value from the
 * request: s3rver copies an error's details into response headers, where
 * text a header cannot carry would fail the answer.
 */
function noSuchUpload(): Error {
  return new S3Error(
    "NoSuchUpload",
    "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.",
  );
}

/**
 * The folder of a multipart upload. s3rver joined the request's `uploadId`
 * (and UploadPart's `partNumber`) to its uploads folder as given, so
 * `uploadId=../../x` wrote a part, or read a key and metadata, anywhere the
 * process may; upload IDs are the 32 hex digits s3rver issues, and any
 * other is an upload that does not exist.
 */
export function uploadDirectory(store: S3rverStore, bucket: string, uploadId: string): string {
  if (!UPLOAD_ID.test(uploadId)) throw noSuchUpload();
  return join(store.getResourcePath(bucket, undefined, "uploads"), uploadId);
}

/**
 * The key a multipart upload was started for; NoSuchUpload when the upload
 * does not exist (never started, aborted or completed) or when `key`, the
 * key a request names, is another (S3 keeps an upload to its key; s3rver
 * completed it under its own key and announced the request's).
 */
async function uploadKey(directory: string, key?: string): Promise<string> {
  let uploaded: string;
  try {
    uploaded = await readFile(join(directory, "key"), "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") throw noSuchUpload();
    throw error;
  }
  if (key !== undefined && uploaded !== key) throw noSuchUpload();
  return uploaded;
}

/**
 * Removes a multipart upload's folder, in the upload's turn. It is renamed
 * away first: a part still being received has its file in the folder, and
 * a file created while the folder was being emptied would leave it behind.
 */
export async function removeUpload(directory: string): Promise<void> {
  const removed = `${directory}.${process.pid}.${Math.random().toString(36).slice(2)}.removed`;
  await rename(directory, removed);
  await rm(removed, { recursive: true, force: true });
}

/**
 * Removes, when the server starts, what a stop or a crash left of uploads
 * that no request can ever complete, and keeps every upload in progress
 * (S3 keeps one until it is aborted):
 *
 * - a folder {@link removeUpload} renamed away and did not finish removing;
 * - an upload whose `key` or `metadata` is missing or unreadable: s3rver
 *   writes both in place, after creating the folder, and answers
 *   CreateMultipartUpload only once both are written, so no client has its
 *   ID; such an upload could not be completed (or, without a key, named);
 * - in an upload kept, the temporary files of parts and MD5s being written
 *   (see {@link storeUploadedParts}), and a part file without its MD5 or an
 *   MD5 without its part: a part is there only with both, so either alone
 *   can never be completed, and UploadPart of its number replaces it.
 *
 * This runs before the server answers any request, so nothing it removes is
 * being written.
 */
export async function sweepUploadLeftovers(store: S3rverStore, directory: string): Promise<void> {
  const entries = await readdir(directory, { withFileTypes: true });
  for (const bucket of entries.filter((entry) => entry.isDirectory())) {
    const uploads = store.getResourcePath(bucket.name, undefined, "uploads");
    for (const name of await namesIn(uploads)) {
      const upload = join(uploads, name);
      if (name.endsWith(".removed")) await rm(upload, { recursive: true, force: true });
      else if (UPLOAD_ID.test(name)) {
        if (await startedWhole(upload)) await removeUnfinishedParts(upload);
        else await rm(upload, { recursive: true, force: true });
      }
    }
  }
}

/** The names in the folder `path`; none when it does not exist or is a file. */
async function namesIn(path: string): Promise<string[]> {
  return readdir(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT" || error.code === "ENOTDIR") return [];
    throw error;
  });
}

/** Whether the upload in `directory` has the key and the metadata CreateMultipartUpload writes. */
async function startedWhole(directory: string): Promise<boolean> {
  try {
    const [key, metadata] = await Promise.all([
      readFile(join(directory, "key"), "utf8"),
      readFile(join(directory, "metadata"), "utf8"),
    ]);
    JSON.parse(metadata);
    return key !== "";
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (error instanceof SyntaxError || code === "ENOENT" || code === "ENOTDIR") return false;
    throw error;
  }
}

/** Removes from an upload's folder every file that is not its key, its metadata or a whole part. */
async function removeUnfinishedParts(directory: string): Promise<void> {
  const names = new Set(await namesIn(directory));
  const md5s = new Map<string, string>();
  for (const name of names) {
    if (!/^[1-9]\d*\.md5$/.test(name)) continue;
    md5s.set(name.slice(0, -".md5".length), await readFile(join(directory, name), "utf8"));
  }
  const whole = (part: string) => names.has(part) && PART_MD5.test(md5s.get(part) ?? "");
  for (const name of names) {
    if (name === "key" || name === "metadata") continue;
    const part = name.endsWith(".md5") ? name.slice(0, -".md5".length) : name;
    if (/^[1-9]\d*$/.test(part) && whole(part)) continue;
    await rm(join(directory, name), { recursive: true, force: true });
  }
}

/**
 * UploadPart with S3's checks and S3's atomicity. The upload must exist
 * (s3rver created a folder for any ID it was given) and the part number be
 * a whole number from 1 to 10,000 (s3rver used the text as a file name).
 * s3rver wrote the part over the file of an earlier upload of that number
 * and its MD5 after the last byte: a retried part whose connection broke
 * left the earlier part's MD5 beside half of the new bytes, and completing
 * with the earlier ETag assembled them. Here the bytes go to a file of
 * their own; in the upload's turn, if the upload still exists, it replaces
 * the part and its MD5 is written. A part received after its upload was
 * aborted or completed is dropped (NoSuchUpload), so it cannot bring the
 * upload's folder back.
 */
export function storeUploadedParts(store: S3rverStore, turns: Turns): void {
  store.putPart = async (bucket, uploadId, partNumber, content) => {
    const directory = uploadDirectory(store, bucket, uploadId);
    if (!/^[1-9]\d{0,4}$/.test(partNumber) || Number(partNumber) > MAX_PART_NUMBER) {
      throw new S3Error(
        "InvalidArgument",
        `Part number must be an integer between 1 and ${MAX_PART_NUMBER}, inclusive`,
        { ArgumentName: "partNumber" },
      );
    }
    await uploadKey(directory);
    const part = join(directory, partNumber);
    const temporary = temporaryPath(part);
    const received = receivedBody(content);
    let written: { size: number; md5: string };
    try {
      written = await writeHashed(received.content, temporary);
    } catch (error) {
      // The folder was removed before the part's file was opened.
      if ((error as NodeJS.ErrnoException).code === "ENOENT") throw noSuchUpload();
      throw error;
    }
    let declared: DeclaredChecksum | undefined;
    try {
      declared = received.check();
      checkContentMd5(written.md5);
      // A copied part's checksum is computed here, in the upload's algorithm (see copyUploadParts).
      if (!copyingPart.getStore())
        checkPartChecksum(askedMultipartChecksum(await uploadMetadata(directory)), declared?.algorithm);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
    if (declared) answerWritten(declared);
    return turns.run(directory, async () => {
      try {
        await uploadKey(directory);
      } catch (error) {
        await rm(temporary, { force: true });
        throw error;
      }
      // Without its MD5 a part is not there to complete with, so a crash from here on loses it whole.
      await rm(`${part}.md5`, { force: true });
      await rename(temporary, part);
      await writeFileAtomically(`${part}.md5`, written.md5);
      return written;
    });
  };
}

/** Set while UploadPartCopy stores a part: its bytes come from an object, not with a checksum of the request's. */
const copyingPart = new AsyncLocalStorage<true>();

/** The headers CreateMultipartUpload was sent with, which s3rver keeps as the upload's metadata. */
async function uploadMetadata(directory: string): Promise<Record<string, unknown>> {
  try {
    return JSON.parse(await readFile(join(directory, "metadata"), "utf8")) as Record<string, unknown>;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") throw noSuchUpload();
    throw error;
  }
}

/** At most `count` bytes of `stream`, then it is closed. */
async function* firstBytes(stream: Readable, count: number): AsyncGenerator<Buffer> {
  let left = count;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    if (left <= 0) break;
    const piece = chunk.subarray(0, left);
    left -= piece.length;
    yield piece;
  }
}

/**
 * UploadPartCopy, which s3rver answers NotImplemented: `aws s3 cp` and
 * `aws s3 mv` between keys copy an object of 8 MB or more part by part with
 * it, so neither worked for a big object. The part is read from the source
 * object in its key's turn (a reader never sees half of a PUT), from
 * `x-amz-copy-source-range` when given, and stored as UploadPart stores a
 * part, with the same checks of upload ID and part number.
 */
export function copyUploadParts(store: S3rverStore): KoaMiddleware {
  return async (ctx, next) => {
    const header = ctx.headers["x-amz-copy-source"];
    if (ctx.method !== "PUT" || !("uploadId" in ctx.query) || typeof header !== "string") return next();
    const bucket = /^\/([^/]+)\//.exec(ctx.path)?.[1];
    if (!bucket || !(await store.getBucket(bucket))) {
      throw new S3Error("NoSuchBucket", "The specified bucket does not exist");
    }
    // decodeCopySource has left the header in the form decodeURI reads.
    const [sourceBucket = "", ...sourceKey] = decodeURI(header).replace(/^\//, "").split("/");
    const rangeHeader = ctx.headers["x-amz-copy-source-range"];
    let range: { start: number; end: number } | undefined;
    if (rangeHeader !== undefined) {
      const match = /^bytes=(\d+)-(\d+)$/.exec(String(rangeHeader));
      if (!match || Number(match[1]) > Number(match[2])) {
        throw new S3Error(
          "InvalidArgument",
          "The x-amz-copy-source-range value must be of the form bytes=first-last.",
          {
            ArgumentName: "x-amz-copy-source-range",
          },
        );
      }
      range = { start: Number(match[1]), end: Number(match[2]) };
    }
    const source = (await store.getObject(sourceBucket, sourceKey.join("/"), range)) as {
      content: Readable | null;
      size: number;
    } | null;
    if (!source) throw noSuchKey();
    if (!source.content || (range && range.end >= source.size)) {
      source.content?.destroy();
      throw new S3Error("InvalidRange", "The requested range is not satisfiable");
    }
    const read = range
      ? Readable.from(firstBytes(source.content, range.end - range.start + 1))
      : source.content;
    // An upload that named its checksum gets each copied part's in it, to list when completing, as S3 answers.
    const uploadId = String(ctx.query.uploadId);
    const asked = askedMultipartChecksum(await uploadMetadata(uploadDirectory(store, bucket, uploadId)));
    const summed = asked && checksummed(read, asked.algorithm);
    let md5: string;
    try {
      ({ md5 } = (await copyingPart.run(true, () =>
        store.putPart(
          bucket,
          uploadId,
          String(ctx.query.partNumber),
          summed ? Readable.from(summed.content) : read,
        ),
      )) as { md5: string });
    } finally {
      source.content.destroy();
    }
    // answerChecksums (stored-checksums.ts) adds the part's checksum, as it does to the other writes' answers.
    if (summed) {
      // A part's checksum, without the object's type (CopyPartResult has none).
      const { algorithm, value } = summed.result();
      answerWritten({ algorithm, value });
    }
    ctx.body = { CopyPartResult: { LastModified: new Date().toISOString(), ETag: JSON.stringify(md5) } };
  };
}

/**
 * S3's answer to completing an upload with a part, other than the last,
 * under {@link MIN_PART_SIZE}: it names the first such part, its size and
 * its ETag (unquoted).
 */
function entityTooSmall(size: number, partNumber: number, eTag: string): Error {
  return new S3Error("EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size", {
    ProposedSize: String(size),
    MinSizeAllowed: String(MIN_PART_SIZE),
    PartNumber: String(partNumber),
    ETag: eTag,
  });
}

/**
 * A multipart upload ready to complete: the object's key and metadata, its parts' files in order, their numbers
 * and sizes, and its ETag.
 */
export interface CompletedUpload {
  directory: string;
  key: string;
  metadata: Record<string, string>;
  partFiles: string[];
  parts: StoredPart[];
  eTag: string;
}

/**
 * Checks a CompleteMultipartUpload's part list against the parts uploaded,
 * as S3 does, and computes the object's ETag as S3 does:
 * `<hex MD5 of the parts' binary MD5s, concatenated>-<number of parts>`.
 * s3rver stored the MD5 of the whole content instead (what S3 gives a
 * single PUT), so a client or a catalog record comparing ETags with S3's
 * saw another value, and it assembled whatever part files it found,
 * whatever ETags the request listed. It also completed uploads whose parts
 * but the last were under S3's 5 MiB (EntityTooSmall on S3), so a client
 * that sent small parts worked here and failed on AWS.
 */
export async function multipartUpload(
  store: S3rverStore,
  bucket: string,
  uploadId: string,
  parts: readonly { number: number; etag: string }[],
): Promise<CompletedUpload> {
  const directory = uploadDirectory(store, bucket, uploadId);
  let key: string;
  let metadata: Record<string, string>;
  try {
    [key, metadata] = await Promise.all([
      readFile(join(directory, "key"), "utf8"),
      readFile(join(directory, "metadata"), "utf8").then(
        (text) => JSON.parse(text) as Record<string, string>,
      ),
    ]);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") throw noSuchUpload();
    throw error;
  }
  // Named by its number only: the ETag is the request's text (see noSuchUpload).
  const invalidPart = (part: { number: number }) =>
    new S3Error(
      "InvalidPart",
      "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
      Number.isInteger(part.number) ? { PartNumber: String(part.number) } : {},
    );
  const digests: Buffer[] = [];
  for (const [index, part] of parts.entries()) {
    if (!Number.isInteger(part.number) || part.number < 1 || part.number > MAX_PART_NUMBER)
      throw invalidPart(part);
    if (index > 0 && part.number <= (parts[index - 1] as { number: number }).number) {
      throw new S3Error(
        "InvalidPartOrder",
        "The list of parts was not in ascending order. The parts list must be specified in order by part number.",
        { UploadId: uploadId },
      );
    }
    const uploaded = await readFile(join(directory, `${part.number}.md5`), "utf8").catch(absent);
    if (uploaded === undefined || uploaded.toLowerCase() !== part.etag.toLowerCase()) throw invalidPart(part);
    digests.push(Buffer.from(uploaded, "hex"));
  }
  const sized: StoredPart[] = [];
  for (const part of parts) {
    const { size } = await stat(join(directory, String(part.number)));
    sized.push({ number: part.number, size });
  }
  // Every part listed but the last: the last may be as small as it likes.
  for (const [index, part] of sized.slice(0, -1).entries()) {
    if (part.size < MIN_PART_SIZE)
      throw entityTooSmall(part.size, part.number, (digests[index] as Buffer).toString("hex"));
  }
  const eTag = `${createHash("md5").update(Buffer.concat(digests)).digest("hex")}-${parts.length}`;
  return {
    directory,
    key,
    metadata,
    partFiles: parts.map((part) => join(directory, String(part.number))),
    parts: sized,
    eTag,
  };
}

/** The bucket and key a request's path names, decoded as s3rver's router decodes them; no key for the bucket itself. */
export function addressOf(ctx: KoaContext): { bucket: string; key?: string } | undefined {
  const decoded = (text: string) => {
    try {
      return decodeURIComponent(text);
    } catch {
      return text;
    }
  };
  const match = /^\/([^/]+)(?:\/(.*))?$/s.exec(ctx.path);
  if (!match?.[1]) return undefined;
  return { bucket: decoded(match[1]), ...(match[2] && { key: decoded(match[2]) }) };
}

/** The methods of requests about one multipart upload: abort, list its parts, upload or copy a part, complete it. */
const UPLOAD_METHODS = ["DELETE", "GET", "PUT", "POST"];

/**
 * S3's multipart API beyond what s3rver has, in front of its router:
 *
 * - AbortMultipartUpload (`DELETE /bucket/key?uploadId=`), which s3rver
 *   refused with MethodNotAllowed: an interrupted `aws s3 cp`, or a failed
 *   lib-storage Upload, could not remove its parts, which then stayed on
 *   disk for good. The upload's folder is removed in the upload's turn, so
 *   a Complete under way finishes first (and the abort then finds no
 *   upload) or finds none; no event is sent, as S3 sends none.
 * - ListParts (`GET /bucket/key?uploadId=`) and ListMultipartUploads
 *   (`GET /bucket?uploads`), which s3rver did not implement, with S3's
 *   paging (`max-parts`, `part-number-marker`; `max-uploads`, `key-marker`,
 *   `upload-id-marker`, `prefix`, `delimiter`, `encoding-type=url`).
 * - UploadPart, UploadPartCopy and CompleteMultipartUpload of an upload
 *   under a key other than its own answer NoSuchUpload, as on S3.
 *
 * s3rver's signature check runs in its router, so it does not see these
 * requests; it lets unsigned requests through anyway.
 */
export function multipartRequests(store: S3rverStore, turns: Turns): KoaMiddleware {
  return async (ctx, next) => {
    const address = addressOf(ctx);
    const uploadId = queryText(ctx, "uploadId");
    const listsUploads = ctx.method === "GET" && address?.key === undefined && "uploads" in ctx.query;
    // Other methods (a CORS preflight among them) are s3rver's to answer.
    const namesUpload =
      uploadId !== undefined && address?.key !== undefined && UPLOAD_METHODS.includes(ctx.method);
    if (!address || (!listsUploads && !namesUpload)) return next();
    const { bucket, key } = address;
    if (!(await store.getBucket(bucket))) {
      throw new S3Error("NoSuchBucket", "The specified bucket does not exist");
    }
    if (listsUploads) {
      ctx.body = await listUploads(store, bucket, ctx);
      return;
    }
    const directory = uploadDirectory(store, bucket, uploadId as string);
    switch (ctx.method) {
      case "DELETE":
        await turns.run(directory, async () => {
          await uploadKey(directory, key);
          await removeUpload(directory);
        });
        ctx.status = 204;
        return;
      case "GET":
        ctx.body = await turns.run(directory, () => listParts(directory, bucket, key as string, ctx));
        return;
      default:
        // UploadPart, UploadPartCopy or CompleteMultipartUpload.
        await uploadKey(directory, key);
        return next();
    }
  };
}

/** ListParts' answer: the parts uploaded so far, in part-number order, a page at a time. */
async function listParts(directory: string, bucket: string, key: string, ctx: KoaContext) {
  await uploadKey(directory, key);
  const maxParts = pageSize(ctx, "max-parts");
  const marker = pagingNumber(ctx, "part-number-marker") ?? 0;
  const names = new Set(await readdir(directory));
  // A part is there once its MD5 is (see storeUploadedParts).
  const numbers = [...names]
    .filter((name) => /^[1-9]\d*$/.test(name) && names.has(`${name}.md5`))
    .map(Number)
    .filter((number) => number > marker)
    .sort((a, b) => a - b);
  const page = numbers.slice(0, maxParts);
  const truncated = page.length > 0 && numbers.length > page.length;
  const parts = await Promise.all(
    page.map(async (number) => {
      const part = join(directory, String(number));
      const [facts, md5] = await Promise.all([stat(part), readFile(`${part}.md5`, "utf8")]);
      return {
        PartNumber: number,
        LastModified: facts.mtime.toISOString(),
        ETag: JSON.stringify(md5),
        Size: facts.size,
      };
    }),
  );
  return {
    ListPartsResult: {
      "@": S3_XMLNS,
      Bucket: bucket,
      Key: key,
      UploadId: basename(directory),
      Initiator: OWNER,
      Owner: OWNER,
      StorageClass: "STANDARD",
      PartNumberMarker: marker,
      // Only when truncated: the SDK's paginator asks for another page while a next marker is given.
      NextPartNumberMarker: truncated ? page.at(-1) : undefined,
      MaxParts: maxParts,
      IsTruncated: truncated,
      Part: parts,
    },
  };
}

/**
 * ListMultipartUploads' answer: the bucket's uploads in progress by key (in S3's order, by UTF-8 bytes), then
 * by when they were started, a page at a time; with a delimiter, the keys
 * under a common prefix are one entry.
 */
async function listUploads(store: S3rverStore, bucket: string, ctx: KoaContext) {
  const prefix = queryText(ctx, "prefix") ?? "";
  const delimiter = queryText(ctx, "delimiter") ?? "";
  const keyMarker = queryText(ctx, "key-marker") ?? "";
  const uploadIdMarker = keyMarker === "" ? "" : (queryText(ctx, "upload-id-marker") ?? "");
  const maxUploads = pageSize(ctx, "max-uploads");
  const { encodingType, encoded } = encodingOf(ctx);

  const root = store.getResourcePath(bucket, undefined, "uploads");
  const ids = await readdir(root).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return [];
    throw error;
  });
  const found = await Promise.all(
    ids
      .filter((id) => UPLOAD_ID.test(id))
      .map(async (id) => {
        const directory = join(root, id);
        try {
          const [key, facts] = await Promise.all([uploadKey(directory), stat(join(directory, "key"))]);
          return { id, key, initiated: facts.mtime };
        } catch {
          // Completed or aborted while listed.
          return undefined;
        }
      }),
  );
  const uploads = found
    .filter((upload) => upload !== undefined)
    .sort(
      (a, b) =>
        compareKeys(a.key, b.key) ||
        a.initiated.getTime() - b.initiated.getTime() ||
        (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
    );
  const markerIndex = uploads.findIndex((upload) => upload.key === keyMarker && upload.id === uploadIdMarker);
  const after =
    markerIndex >= 0
      ? uploads.slice(markerIndex + 1)
      : uploads.filter(
          (upload) =>
            compareKeys(upload.key, keyMarker) > 0 ||
            (uploadIdMarker !== "" && upload.key === keyMarker && upload.id > uploadIdMarker),
        );

  const listed: { id: string; key: string; initiated: Date }[] = [];
  const prefixes: string[] = [];
  let last: { key: string; id?: string } | undefined;
  let truncated = false;
  for (const upload of after) {
    if (!upload.key.startsWith(prefix)) continue;
    const cut = delimiter ? upload.key.indexOf(delimiter, prefix.length) : -1;
    const common = cut >= 0 ? upload.key.slice(0, cut + delimiter.length) : undefined;
    // A common prefix is one entry, listed once, and not again on the page after the one that ended with it.
    if (common !== undefined && (compareKeys(common, keyMarker) <= 0 || prefixes.at(-1) === common)) continue;
    if (listed.length + prefixes.length >= maxUploads) {
      truncated = maxUploads > 0;
      break;
    }
    if (common !== undefined) {
      prefixes.push(common);
      last = { key: common };
    } else {
      listed.push(upload);
      last = { key: upload.key, id: upload.id };
    }
  }
  return {
    ListMultipartUploadsResult: {
      "@": S3_XMLNS,
      Bucket: bucket,
      KeyMarker: encoded(keyMarker),
      UploadIdMarker: uploadIdMarker,
      NextKeyMarker: truncated && last ? encoded(last.key) : undefined,
      NextUploadIdMarker: truncated && last ? (last.id ?? "") : undefined,
      Prefix: encoded(prefix),
      Delimiter: delimiter ? encoded(delimiter) : undefined,
      MaxUploads: maxUploads,
      IsTruncated: truncated,
      EncodingType: encodingType,
      Upload: listed.map((upload) => ({
        Key: encoded(upload.key),
        UploadId: upload.id,
        Initiator: OWNER,
        Owner: OWNER,
        StorageClass: "STANDARD",
        Initiated: upload.initiated.toISOString(),
      })),
      CommonPrefixes: prefixes.map((common) => ({ Prefix: encoded(common) })),
    },
  };
}
