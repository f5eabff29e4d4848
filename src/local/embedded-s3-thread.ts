/**
 * Entry of the embedded S3 server's worker thread (see server-thread.ts):
 * s3rver with the local stack's fixes, announcing every object change to the
 * owning {@link EmbeddedS3} on the main thread.
 */

import { AsyncLocalStorage } from "node:async_hooks";
import { createHash } from "node:crypto";
import type { EventEmitter } from "node:events";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import type { IncomingHttpHeaders } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { basename, dirname, join } from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ObjectEvent } from "../events/s3-event.js";
import {
  type CreatingRequest,
  createdEventFields,
  type EmbeddedS3Options,
  type ObjectAnnouncement,
  type ObjectReceipt,
  PutDeleteGate,
  SequencerClock,
} from "./embedded-s3.js";
import { decodeKeyPath, encodeKeyPath } from "./key-path.js";
import { LOOPBACK } from "./local-defaults.js";
import { foreignRequestReason, hostnameOf } from "./loopback-guard.js";
import { serveOnThread } from "./server-thread.js";

interface S3rverStore {
  getResourcePath(bucket: string, key: string | undefined, resource: string): string;
  getMetadata(bucket: string, key: string): Promise<Record<string, string>>;
  putMetadata(bucket: string, key: string, metadata: Record<string, string>, md5?: string): Promise<void>;
  putObject(object: S3rverObject): Promise<{ size: number; md5: string }>;
  putPart(bucket: string, uploadId: string, partNumber: string, content: Readable): Promise<unknown>;
  putObjectMultipart(
    bucket: string,
    uploadId: string,
    parts: { number: number; etag: string }[],
  ): Promise<{ size: number; md5: string }>;
  getObject(bucket: string, key: string, options?: unknown): Promise<unknown>;
  deleteObject(bucket: string, key: string): Promise<void>;
  copyObject(
    srcBucket: string,
    srcKey: string,
    destBucket: string,
    destKey: string,
    replacementMetadata: Record<string, string> | null,
  ): Promise<Record<string, string>>;
  getBucket(bucket: string): Promise<unknown>;
  putBucket(bucket: string): Promise<unknown>;
  deleteBucket(bucket: string): Promise<unknown>;
  getSubresource(bucket: string, key: string | undefined, type: string): Promise<unknown>;
  putSubresource(bucket: string, key: string | undefined, resource: { type: string }): Promise<unknown>;
  deleteSubresource(bucket: string, key: string | undefined, type: string): Promise<unknown>;
}
interface S3rverObject {
  bucket: string;
  key: string;
  content: Buffer | Readable;
  metadata: Record<string, string>;
}
interface S3rverRecord {
  eventTime: string;
  eventName: string;
  requestParameters: { sourceIPAddress?: string };
  responseElements: { "x-amz-request-id"?: string };
  s3: { bucket: { name: string }; object: { key: string; size?: number; eTag?: string } };
}
interface KoaContext {
  path: string;
  method: string;
  query: Record<string, unknown>;
  headers: IncomingHttpHeaders;
  body?: unknown;
  type?: string;
  status: number;
}
type KoaMiddleware = (ctx: KoaContext, next: () => Promise<void>) => Promise<void>;
interface S3rverInstance extends EventEmitter {
  store: S3rverStore;
  middleware: KoaMiddleware[];
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
type S3rverConstructor = new (options: {
  address: string;
  port: number;
  silent: boolean;
  directory: string;
  configureBuckets?: { name: string; configs: unknown[] }[];
  allowMismatchedSignatures?: boolean;
  vhostBuckets?: boolean;
}) => S3rverInstance;
interface FilesystemStoreClass {
  encodeKeyPath(key: string): string;
  decodeKeyPath(path: string): string;
}

// s3rver is CommonJS without type declarations.
const require = createRequire(import.meta.url);
const S3rver = require("s3rver") as S3rverConstructor;
const FilesystemStore = require("s3rver/lib/stores/filesystem.js") as FilesystemStoreClass;
const S3Object = require("s3rver/lib/models/object.js") as { ALLOWED_METADATA: string[] };
const { DUMMY_ACCOUNT } = require("s3rver/lib/models/account.js") as {
  DUMMY_ACCOUNT: { id: number; displayName: string };
};
const S3Error = require("s3rver/lib/models/error.js") as new (
  code: string,
  message: string,
  detail?: Record<string, string>,
) => Error;

/** S3's highest part number. */
const MAX_PART_NUMBER = 10_000;
/** The upload IDs s3rver issues: 16 random bytes in hex. */
const UPLOAD_ID = /^[0-9a-f]{32}$/;

// s3rver offers no hook for its key-to-path mapping; replacing the two static
// methods it calls everywhere is the narrowest fix (see key-path.ts for why).
// This module is loaded on the server's thread, so the patch applies where s3rver runs.
FilesystemStore.encodeKeyPath = encodeKeyPath;
FilesystemStore.decodeKeyPath = decodeKeyPath;

/**
 * s3rver 3.7.1 encrypts ListObjectsV2 continuation tokens with single DES,
 * which OpenSSL 3 (Node.js 17 and later) no longer provides: every truncated
 * listing answered InternalError, so a folder past 1,000 keys could not be
 * listed, browsed or backfilled. Triple DES with the one key repeated three
 * times computes single DES and is still available; the token is private to
 * s3rver, and only this server's thread sees the substitution.
 */
const crypto = require("node:crypto") as typeof import("node:crypto");
const { createCipheriv, createDecipheriv } = crypto;
const asTripleDes = (algorithm: string, key: Buffer): [string, Buffer] =>
  algorithm.toLowerCase() === "des" && key.length === 8
    ? ["des-ede3-cbc", Buffer.concat([key, key, key])]
    : [algorithm, key];
Object.assign(crypto, {
  createCipheriv: (algorithm: string, key: Buffer, iv: Buffer) =>
    createCipheriv(...asTripleDes(algorithm, key), iv),
  createDecipheriv: (algorithm: string, key: Buffer, iv: Buffer) =>
    createDecipheriv(...asTripleDes(algorithm, key), iv),
});

/**
 * s3rver routes `/:bucket/:key+`, whose pattern cannot match an empty path
 * segment, so a key such as `a//b` or `/x` answers 404. Encoding the key's
 * slashes as `%2F` before routing gives the router one segment, which it
 * decodes back to the same key; signatures are computed from that decoded
 * key, so they still match what the client signed.
 */
async function keepEmptyKeySegments(ctx: KoaContext, next: () => Promise<void>): Promise<void> {
  const match = /^(\/[^/]+\/)(.*)$/s.exec(ctx.path);
  if (match?.[2]?.includes("//") || match?.[2]?.startsWith("/")) {
    ctx.path = `${match[1]}${match[2].replaceAll("/", "%2F")}`;
  }
  await next();
}

/**
 * Refuses, before s3rver sees them, requests from web pages of other sites
 * and requests addressed to a name other than loopback (see
 * loopback-guard.ts): s3rver serves anonymous requests, its browser POST
 * upload among them, to any page that can reach it. The answer is S3's
 * AccessDenied, as XML.
 */
async function refuseForeignRequests(ctx: KoaContext, next: () => Promise<void>): Promise<void> {
  const reason = foreignRequestReason(ctx.headers);
  if (reason) throw new S3Error("AccessDenied", reason);
  await next();
}

/** Methods that change nothing: answered while the server refuses changes. */
const READ_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * Once the stack is stopping, refuses every request that would change an
 * object with S3's 503 ServiceUnavailable (SDKs and the AWS CLI retry it,
 * then report it), so a client that keeps uploading cannot keep the stack
 * from stopping; reads are answered as before, and so are single-object
 * writes under the derived prefix, which the handler finishing its queued
 * events makes (thumbnails). `refuse()` resolves once the changes already
 * under way have been answered: they sit outside the announcer's middleware,
 * so by then every one of their events has reached the dispatcher's queue.
 */
class WriteRefusal {
  private refusing = false;
  private inFlight = 0;
  private drained: (() => void)[] = [];

  constructor(private readonly derivedPrefix: string | undefined) {}

  readonly middleware: KoaMiddleware = async (ctx, next) => {
    if (READ_METHODS.has(ctx.method)) return next();
    if (this.refusing && !this.isDerivedWrite(ctx))
      throw new S3Error("ServiceUnavailable", "The server is stopping and accepts no more changes.");
    this.inFlight++;
    try {
      await next();
    } finally {
      if (--this.inFlight === 0) for (const resolve of this.drained.splice(0)) resolve();
    }
  };

  async refuse(): Promise<void> {
    this.refusing = true;
    if (this.inFlight > 0) await new Promise<void>((resolve) => this.drained.push(resolve));
  }

  /** A PUT or DELETE of one object (no copy, multipart or batch delete) under the derived prefix. */
  private isDerivedWrite(ctx: KoaContext): boolean {
    if (!this.derivedPrefix || (ctx.method !== "PUT" && ctx.method !== "DELETE")) return false;
    if (ctx.headers["x-amz-copy-source"] !== undefined) return false;
    if (["uploadId", "uploads", "partNumber", "delete"].some((name) => name in ctx.query)) return false;
    return addressOf(ctx)?.key?.startsWith(this.derivedPrefix) === true;
  }
}

/**
 * Virtual-hosted-style addressing on this machine: `<bucket>.localhost`.
 * s3rver's own rule takes any host name that is not an IP address or
 * `localhost` for the bucket's whole name (`uploads.localhost` meant a bucket
 * of that name, which cannot exist), and it would also take a rebinding
 * page's name for one; its rule is turned off and this one applies instead.
 */
async function addressBucketsByHostname(ctx: KoaContext, next: () => Promise<void>): Promise<void> {
  const hostname = ctx.headers.host === undefined ? undefined : hostnameOf(ctx.headers.host);
  if (hostname?.endsWith(".localhost")) ctx.path = `/${hostname.slice(0, -".localhost".length)}${ctx.path}`;
  await next();
}

/**
 * S3 reads `x-amz-copy-source` as `bucket/key`, URL-encoded, optionally
 * followed by `?versionId=`; the AWS CLI and SDKs encode every character
 * but letters, digits and `-_.~/`. s3rver decodes it with decodeURI, which
 * leaves `%2B` (`+`), `%26`, `%3D`, `%2C`, `%40`, `%3F` and the like
 * encoded, so `aws s3 mv` of a key with a `+` answered NoSuchKey. The
 * header is decoded here as S3 decodes it and handed on in the form
 * decodeURI turns back into the same text; a malformed one is S3's
 * InvalidArgument instead of an internal error. There are no versions
 * here, so a `versionId` names the only one.
 */
async function decodeCopySource(ctx: KoaContext, next: () => Promise<void>): Promise<void> {
  const header = ctx.headers["x-amz-copy-source"];
  if (typeof header === "string") {
    let source: string;
    try {
      source = decodeURIComponent(header.replace(/\?versionId=[^&]*$/, ""));
    } catch {
      throw new S3Error("InvalidArgument", "Invalid copy source encoding.", {
        ArgumentName: "x-amz-copy-source",
      });
    }
    ctx.headers["x-amz-copy-source"] = encodeURI(source);
  }
  await next();
}

/**
 * s3rver's own putMetadata writes the metadata file in place: a process
 * killed mid-write leaves it empty, and from then on every ListObjects of
 * the bucket fails with InternalError (JSON.parse of the empty file), which
 * also stops `catalog backfill` from recovering after the crash. Writing a
 * temporary file and renaming it over the old one makes the write atomic;
 * the fields kept are s3rver's (its allowed headers and `x-amz-meta-*`).
 */
async function writeMetadataAtomically(
  store: S3rverStore,
  bucket: string,
  key: string,
  metadata: Record<string, string>,
  md5?: string,
): Promise<void> {
  const kept = Object.fromEntries(
    Object.entries(metadata).filter(
      ([name]) => S3Object.ALLOWED_METADATA.includes(name) || name.startsWith("x-amz-meta-"),
    ),
  );
  if (md5) await writeFileAtomically(store.getResourcePath(bucket, key, "object.md5"), md5);
  await writeFileAtomically(
    store.getResourcePath(bucket, key, "metadata.json"),
    JSON.stringify(kept, null, 2),
  );
}

/** A name next to `path` for a file written before it takes `path`'s place; it never names an object or a part. */
function temporaryPath(path: string): string {
  return `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
}

/** Writes `text` to `path` through a temporary file, so a reader or a crash never sees half of it. */
async function writeFileAtomically(path: string, text: string): Promise<void> {
  const temporary = temporaryPath(path);
  await writeFile(temporary, text);
  await rename(temporary, path);
}

/** Writes `content` to the new file `path` and returns its size and hex MD5; on failure the file is removed. */
async function writeHashed(content: Buffer | Readable, path: string): Promise<{ size: number; md5: string }> {
  const md5 = createHash("md5");
  let size = 0;
  try {
    await pipeline(
      Buffer.isBuffer(content) ? Readable.from([content]) : content,
      new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          md5.update(chunk);
          size += chunk.length;
          callback(null, chunk);
        },
      }),
      createWriteStream(path),
    );
  } catch (error) {
    await rm(path, { force: true });
    throw error;
  }
  return { size, md5: md5.digest("hex") };
}

/**
 * Runs tasks one at a time per name (an object's file, a multipart upload's
 * folder), in the order they were asked for; a failed task does not stop the next.
 */
class Turns {
  private readonly last = new Map<string, Promise<unknown>>();

  run<T>(name: string, task: () => Promise<T>): Promise<T> {
    const previous = this.last.get(name) ?? Promise.resolve();
    const turn = previous.then(task, task);
    const settled = turn.catch(() => undefined);
    this.last.set(name, settled);
    void settled.then(() => {
      if (this.last.get(name) === settled) this.last.delete(name);
    });
    return turn;
  }
}

/**
 * s3rver's putObject streams the body into the object's file in place and
 * reports it stored once the body has been hashed, not written. Two PUTs of
 * one key at once (a key uploaded many times quickly) therefore interleave
 * their bytes in one file, and the metadata of whichever finishes last names
 * an MD5 that matches neither: readers, the pipeline among them, get bytes
 * that are no upload at all. S3 makes each PUT atomic. Here each body goes to
 * a file of its own, written out before the PUT is answered; then, one PUT of
 * the key at a time, it is renamed over the object and its metadata written.
 * GET and HEAD of the key (s3rver's getObject: metadata, then the file
 * opened) take the same turn, so none sees one upload's bytes under
 * another's ETag; an open file keeps its bytes when a later PUT replaces it.
 *
 * s3rver's copyObject had the same flaws and one more: it copies the file in
 * place outside any turn, and a GET or HEAD that finds no MD5 file (a copy
 * that replaces metadata has none) hashes the half-copied file and saves
 * that MD5, which the copy then answers and keeps. S3 makes a copy atomic
 * too, so a copy here is a PUT of the source's bytes: read through the
 * source's turn (its metadata and an open file that keep together), written
 * to a file of its own, and renamed over the destination in the
 * destination's turn, with the MD5 of the bytes copied.
 */
function putObjectsAtomically(store: S3rverStore, turns: Turns): void {
  /**
   * Stores `object` as one whole; `answer` runs in the key's turn, once the object and its metadata are in place.
   * The object's ETag is the MD5 of its bytes unless `eTag` gives another (a multipart upload's).
   */
  const storeObject = async <T>(
    object: S3rverObject,
    answer: (stored: { size: number; md5: string }) => Promise<T>,
    eTag?: (md5: string) => string,
  ): Promise<T> => {
    const path = store.getResourcePath(object.bucket, object.key, "object");
    await mkdir(dirname(path), { recursive: true });
    const temporary = temporaryPath(path);
    const { size, md5 } = await writeHashed(object.content, temporary);
    const digest = eTag ? eTag(md5) : md5;
    return turns.run(path, async () => {
      await rename(temporary, path);
      await store.putMetadata(object.bucket, object.key, object.metadata, digest);
      return answer({ size, md5: digest });
    });
  };
  store.putObject = (object) => storeObject(object, async (stored) => stored);
  // In the upload's turn, which UploadPart takes to add a part and AbortMultipartUpload to remove them all.
  store.putObjectMultipart = async (bucket, uploadId, parts) => {
    const directory = uploadDirectory(store, bucket, uploadId);
    return turns.run(directory, async () => {
      const upload = await multipartUpload(store, bucket, uploadId, parts);
      const stored = await storeObject(
        {
          bucket,
          key: upload.key,
          content: Readable.from(concatenated(upload.partFiles)),
          metadata: upload.metadata,
        },
        async (stored) => stored,
        () => upload.eTag,
      );
      await removeUpload(directory);
      return stored;
    });
  };
  const getObject = store.getObject.bind(store);
  store.getObject = (bucket, key, options) =>
    turns.run(store.getResourcePath(bucket, key, "object"), () => getObject(bucket, key, options));
  const getMetadata = store.getMetadata.bind(store);
  store.copyObject = async (srcBucket, srcKey, destBucket, destKey, replacementMetadata) => {
    const source = (await store.getObject(srcBucket, srcKey)) as {
      content: Readable;
      metadata: Record<string, string>;
    } | null;
    // Deleted since s3rver checked that it exists.
    if (!source) throw new S3Error("NoSuchKey", "The specified key does not exist.", { Key: srcKey });
    return storeObject(
      {
        bucket: destBucket,
        key: destKey,
        content: source.content,
        metadata: replacementMetadata ?? source.metadata,
      },
      // Read in the turn: the answer (and the copy's event) describes this copy, not a later PUT.
      () => getMetadata(destBucket, destKey),
    );
  };
}

/** The bytes of `files`, one after the other. */
async function* concatenated(files: readonly string[]): AsyncGenerator<Buffer> {
  for (const file of files) yield* createReadStream(file);
}

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
function uploadDirectory(store: S3rverStore, bucket: string, uploadId: string): string {
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
async function removeUpload(directory: string): Promise<void> {
  const removed = `${directory}.${process.pid}.${Math.random().toString(36).slice(2)}.removed`;
  await rename(directory, removed);
  await rm(removed, { recursive: true, force: true });
}

/**
 * Removes what {@link removeUpload} left when the server stopped halfway
 * through: a folder renamed away that no request can name any more, which
 * would otherwise stay in the data folder for good.
 */
async function removeHalfRemovedUploads(store: S3rverStore, directory: string): Promise<void> {
  const entries = await readdir(directory, { withFileTypes: true });
  for (const bucket of entries.filter((entry) => entry.isDirectory())) {
    const uploads = store.getResourcePath(bucket.name, undefined, "uploads");
    const names = await readdir(uploads).catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT" || error.code === "ENOTDIR") return [];
      throw error;
    });
    for (const name of names.filter((name) => name.endsWith(".removed"))) {
      await rm(join(uploads, name), { recursive: true, force: true });
    }
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
function storeUploadedParts(store: S3rverStore, turns: Turns): void {
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
    let written: { size: number; md5: string };
    try {
      written = await writeHashed(content, temporary);
    } catch (error) {
      // The folder was removed before the part's file was opened.
      if ((error as NodeJS.ErrnoException).code === "ENOENT") throw noSuchUpload();
      throw error;
    }
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
function copyUploadParts(store: S3rverStore): KoaMiddleware {
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
    if (!source) throw new S3Error("NoSuchKey", "The specified key does not exist.");
    if (!source.content || (range && range.end >= source.size)) {
      source.content?.destroy();
      throw new S3Error("InvalidRange", "The requested range is not satisfiable");
    }
    const content = range
      ? Readable.from(firstBytes(source.content, range.end - range.start + 1))
      : source.content;
    let md5: string;
    try {
      ({ md5 } = (await store.putPart(
        bucket,
        String(ctx.query.uploadId),
        String(ctx.query.partNumber),
        content,
      )) as {
        md5: string;
      });
    } finally {
      source.content.destroy();
    }
    ctx.type = "application/xml";
    ctx.body = [
      '<?xml version="1.0" encoding="UTF-8"?>',
      `<CopyPartResult><LastModified>${new Date().toISOString()}</LastModified><ETag>"${md5}"</ETag></CopyPartResult>`,
    ].join("\n");
  };
}

/** A multipart upload ready to complete: the object's key and metadata, its parts' files in order and its ETag. */
interface CompletedUpload {
  directory: string;
  key: string;
  metadata: Record<string, string>;
  partFiles: string[];
  eTag: string;
}

/**
 * Checks a CompleteMultipartUpload's part list against the parts uploaded,
 * as S3 does, and computes the object's ETag as S3 does:
 * `<hex MD5 of the parts' binary MD5s, concatenated>-<number of parts>`.
 * s3rver stored the MD5 of the whole content instead (what S3 gives a
 * single PUT), so a client or a catalog record comparing ETags with S3's
 * saw another value, and it assembled whatever part files it found,
 * whatever ETags the request listed.
 */
async function multipartUpload(
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
    const uploaded = await readFile(join(directory, `${part.number}.md5`), "utf8").catch(
      (error: NodeJS.ErrnoException) => {
        if (error.code === "ENOENT") return undefined;
        throw error;
      },
    );
    if (uploaded === undefined || uploaded.toLowerCase() !== part.etag.toLowerCase()) throw invalidPart(part);
    digests.push(Buffer.from(uploaded, "hex"));
  }
  const eTag = `${createHash("md5").update(Buffer.concat(digests)).digest("hex")}-${parts.length}`;
  return {
    directory,
    key,
    metadata,
    partFiles: parts.map((part) => join(directory, String(part.number))),
    eTag,
  };
}

/** The bucket and key a request's path names, decoded as s3rver's router decodes them; no key for the bucket itself. */
function addressOf(ctx: KoaContext): { bucket: string; key?: string } | undefined {
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

/** A query parameter's text (the first, if given twice); `undefined` when absent. */
function queryText(ctx: KoaContext, name: string): string | undefined {
  const value = ctx.query[name];
  if (value === undefined) return undefined;
  return String(Array.isArray(value) ? value[0] : value);
}

/** S3's most results in one listing page. */
const MAX_LISTED = 1000;

/** A paging parameter, a whole number from 0 (`undefined` when absent); anything else is InvalidArgument. */
function pagingNumber(ctx: KoaContext, name: string): number | undefined {
  const text = queryText(ctx, name);
  if (text === undefined) return undefined;
  if (!/^\d{1,10}$/.test(text) || Number(text) > 2 ** 31 - 1) {
    throw new S3Error("InvalidArgument", `Provided ${name} not an integer or within integer range`, {
      ArgumentName: name,
    });
  }
  return Number(text);
}

/** The methods of requests about one multipart upload: abort, list its parts, upload or copy a part, complete it. */
const UPLOAD_METHODS = ["DELETE", "GET", "PUT", "POST"];

/** The owner and initiator of every upload: s3rver's one account. */
const OWNER = { ID: String(DUMMY_ACCOUNT.id), DisplayName: DUMMY_ACCOUNT.displayName };

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
function multipartRequests(store: S3rverStore, turns: Turns): KoaMiddleware {
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
  const maxParts = Math.min(pagingNumber(ctx, "max-parts") ?? MAX_LISTED, MAX_LISTED);
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
      "@": { xmlns: "http://s3.amazonaws.com/doc/2006-03-01/" },
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
 * ListMultipartUploads' answer: the bucket's uploads in progress by key, then
 * by when they were started, a page at a time; with a delimiter, the keys
 * under a common prefix are one entry.
 */
async function listUploads(store: S3rverStore, bucket: string, ctx: KoaContext) {
  const prefix = queryText(ctx, "prefix") ?? "";
  const delimiter = queryText(ctx, "delimiter") ?? "";
  const keyMarker = queryText(ctx, "key-marker") ?? "";
  const uploadIdMarker = keyMarker === "" ? "" : (queryText(ctx, "upload-id-marker") ?? "");
  const maxUploads = Math.min(pagingNumber(ctx, "max-uploads") ?? MAX_LISTED, MAX_LISTED);
  const encodingType = queryText(ctx, "encoding-type");
  if (encodingType !== undefined && encodingType !== "url") {
    throw new S3Error("InvalidArgument", "Invalid Encoding Method specified in Request", {
      ArgumentName: "encoding-type",
    });
  }
  const encoded = (text: string) => (encodingType === "url" ? encodeURIComponent(text) : text);

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
        (a.key < b.key ? -1 : a.key > b.key ? 1 : 0) ||
        a.initiated.getTime() - b.initiated.getTime() ||
        (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
    );
  const markerIndex = uploads.findIndex((upload) => upload.key === keyMarker && upload.id === uploadIdMarker);
  const after =
    markerIndex >= 0
      ? uploads.slice(markerIndex + 1)
      : uploads.filter(
          (upload) =>
            upload.key > keyMarker ||
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
    if (common !== undefined && (common <= keyMarker || prefixes.at(-1) === common)) continue;
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
      "@": { xmlns: "http://s3.amazonaws.com/doc/2006-03-01/" },
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

/**
 * s3rver looks its bucket up on disk (a stat) and reads the bucket's CORS
 * and website configuration files (usually absent: a failed open each) on
 * every request, three file-system calls before it does any work. This
 * server is the only writer of its directory, so bucket facts are kept in
 * memory and dropped whenever the bucket or one of its configurations
 * changes through the API.
 */
function cacheBucketLookups(store: S3rverStore): void {
  const buckets = new Map<string, Promise<unknown>>();
  const configs = new Map<string, Promise<unknown>>();
  const forget = (bucket: string) => {
    buckets.delete(bucket);
    for (const name of configs.keys()) if (name.startsWith(`${bucket}/`)) configs.delete(name);
  };
  const getBucket = store.getBucket.bind(store);
  store.getBucket = (bucket) => {
    let found = buckets.get(bucket);
    if (!found) {
      found = getBucket(bucket);
      buckets.set(bucket, found);
      // Only an existing bucket is remembered: a miss is looked up again next time.
      found.then((value) => value ?? buckets.delete(bucket)).catch(() => buckets.delete(bucket));
    }
    return found;
  };
  const putBucket = store.putBucket.bind(store);
  store.putBucket = (bucket) => putBucket(bucket).finally(() => forget(bucket));
  const deleteBucket = store.deleteBucket.bind(store);
  store.deleteBucket = (bucket) => deleteBucket(bucket).finally(() => forget(bucket));

  const getSubresource = store.getSubresource.bind(store);
  store.getSubresource = (bucket, key, type) => {
    if (key) return getSubresource(bucket, key, type);
    const name = `${bucket}/${type}`;
    let found = configs.get(name);
    if (!found) {
      found = getSubresource(bucket, key, type);
      configs.set(name, found);
      found.catch(() => configs.delete(name));
    }
    return found;
  };
  const putSubresource = store.putSubresource.bind(store);
  store.putSubresource = (bucket, key, resource) =>
    putSubresource(bucket, key, resource).finally(() => configs.delete(`${bucket}/${resource.type}`));
  const deleteSubresource = store.deleteSubresource.bind(store);
  store.deleteSubresource = (bucket, key, type) =>
    deleteSubresource(bucket, key, type).finally(() => configs.delete(`${bucket}/${type}`));
}

/**
 * Announces object changes to the owner and holds each response until the
 * owner has received every change announced so far. In one process the event
 * was emitted before s3rver answered; keeping that order across threads means
 * a client that has its PUT's answer can count on the event being queued
 * (`await put(); await dispatcher.idle()` waits for the record).
 */
class Announcer {
  private announced = 0;
  private received = 0;
  private readonly waiting: { count: number; resolve: () => void }[] = [];

  constructor(private readonly send: (announcement: ObjectAnnouncement) => void) {}

  announce(event: ObjectEvent): void {
    this.announced++;
    this.send({ event, count: this.announced });
  }

  receipt({ received }: ObjectReceipt): void {
    this.received = Math.max(this.received, received);
    for (let index = this.waiting.length - 1; index >= 0; index--) {
      const waiter = this.waiting[index] as { count: number; resolve: () => void };
      if (waiter.count <= this.received) {
        this.waiting.splice(index, 1);
        waiter.resolve();
      }
    }
  }

  /** Koa middleware: answers once the owner has every announcement made before the answer. */
  readonly middleware: KoaMiddleware = async (_ctx, next) => {
    await next();
    const count = this.announced;
    if (count > this.received) await new Promise<void>((resolve) => this.waiting.push({ count, resolve }));
  };
}

async function start(options: EmbeddedS3Options, announcer: Announcer) {
  await mkdir(options.directory, { recursive: true });
  const server = new S3rver({
    address: LOOPBACK,
    port: options.port,
    silent: true,
    directory: options.directory,
    configureBuckets: (options.buckets ?? []).map((name) => ({ name, configs: [] })),
    // See addressBucketsByHostname.
    vhostBuckets: false,
  });
  // s3rver's events say neither which API made an object nor a copy's ETag; each request notes them here.
  const requests = new AsyncLocalStorage<CreatingRequest>();
  const noteRequest: KoaMiddleware = (ctx, next) =>
    requests.run({ completesMultipartUpload: ctx.method === "POST" && "uploadId" in ctx.query }, next);
  const refusal = new WriteRefusal(options.derivedPrefix);
  server.middleware.unshift(
    refuseForeignRequests,
    refusal.middleware,
    announcer.middleware,
    addressBucketsByHostname,
    keepEmptyKeySegments,
    decodeCopySource,
    noteRequest,
  );
  // One clock for every event of this server: sequencers are issued in the order changes happen here.
  const clock = new SequencerClock();
  server.on("event", (notification: { Records: S3rverRecord[] }) => {
    for (const record of notification.Records) {
      if (!record.eventName.startsWith("ObjectCreated:")) continue;
      const object = record.s3.object;
      announcer.announce({
        kind: "created",
        ...createdEventFields({ eventName: record.eventName, eTag: object.eTag }, requests.getStore()),
        bucket: record.s3.bucket.name,
        key: object.key,
        ...(object.size !== undefined && { size: Number(object.size) }),
        sequencer: clock.next(),
        eventTime: record.eventTime,
        principalId: "local",
        sourceIPAddress: (record.requestParameters.sourceIPAddress ?? LOOPBACK).replace(/^::ffff:/, ""),
        ...(record.responseElements["x-amz-request-id"] && {
          requestId: record.responseElements["x-amz-request-id"],
        }),
      });
    }
  });
  const store = server.store;
  cacheBucketLookups(store);
  store.putMetadata = (bucket, key, metadata, md5) =>
    writeMetadataAtomically(store, bucket, key, metadata, md5);
  await removeHalfRemovedUploads(store, options.directory);
  const turns = new Turns();
  putObjectsAtomically(store, turns);
  storeUploadedParts(store, turns);
  // Just before s3rver's router (its last middleware), after the one that writes answers out as XML.
  const router = server.middleware.at(-1);
  if (router?.name !== "dispatch") throw new Error("s3rver's router is not its last middleware");
  server.middleware.splice(-1, 0, multipartRequests(store, turns), copyUploadParts(store));
  const gate = new PutDeleteGate();
  const putObject = store.putObject.bind(store);
  store.putObject = (object) => gate.put(() => putObject(object));
  const putObjectMultipart = store.putObjectMultipart.bind(store);
  store.putObjectMultipart = (bucket, uploadId, parts) =>
    gate.put(() => putObjectMultipart(bucket, uploadId, parts));
  const copyObject = store.copyObject.bind(store);
  // A copy creates its destination's folder as a put does, so a delete must not empty it meanwhile.
  store.copyObject = async (srcBucket, srcKey, destBucket, destKey, replacementMetadata) => {
    const metadata = await gate.put(() =>
      copyObject(srcBucket, srcKey, destBucket, destKey, replacementMetadata),
    );
    const request = requests.getStore();
    if (request && metadata.etag) request.copiedETag = metadata.etag.replace(/^"(.*)"$/, "$1");
    return metadata;
  };
  const deleteObject = store.deleteObject.bind(store);
  // Deletions are reported from the store, so DeleteObjects (which s3rver does not announce) is covered.
  store.deleteObject = async (bucket, key) => {
    await gate.delete(() => deleteObject(bucket, key));
    announcer.announce({
      kind: "removed",
      eventName: "ObjectRemoved:Delete",
      bucket,
      key,
      sequencer: clock.next(),
      eventTime: new Date().toISOString(),
      principalId: "local",
      sourceIPAddress: LOOPBACK,
    });
  };
  const address = await server.run();
  return { port: address.port, close: () => server.close(), refuseWrites: () => refusal.refuse() };
}

serveOnThread(async (data, send) => {
  const announcer = new Announcer(send);
  const { port, close, refuseWrites } = await start(data as EmbeddedS3Options, announcer);
  return { port, close, refuseWrites, receive: (body) => announcer.receipt(body as ObjectReceipt) };
});
