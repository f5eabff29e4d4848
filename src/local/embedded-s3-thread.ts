/**
 * Entry of the embedded S3 server's worker thread (see server-thread.ts):
 * s3rver with the local stack's fixes, announcing every object change to the
 * owning {@link EmbeddedS3} on the main thread.
 */

import { AsyncLocalStorage } from "node:async_hooks";
import type { EventEmitter } from "node:events";
import { mkdir, readFile, rm, stat } from "node:fs/promises";
import type { IncomingHttpHeaders, Server } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { dirname } from "node:path";
import { Readable } from "node:stream";
import { unquoteETag } from "../events/etag.js";
import type { ObjectEvent } from "../events/s3-event.js";
import { bucketNameProblem } from "../s3/bucket-name.js";
import { MAX_KEY_BYTES } from "../s3/object-key.js";
import { absent, Turns, temporaryPath, writeHashed } from "./atomic-files.js";
import { withoutAwsChunked } from "./aws-chunked.js";
import type { ChecksumAlgorithm } from "./checksums.js";
import { closeHttpServer } from "./close-http-server.js";
import { checkContentMd5, readContentMd5 } from "./content-md5.js";
import {
  type CreatingRequest,
  createdEventFields,
  type EmbeddedS3Options,
  type ObjectAnnouncement,
  type ObjectReceipt,
  PutDeleteGate,
  SequencerClock,
} from "./embedded-s3.js";
import { listKeys, listObjectsRequests } from "./embedded-s3-listing.js";
import {
  addressOf,
  copyUploadParts,
  multipartRequests,
  multipartUpload,
  removeUpload,
  storeUploadedParts,
  sweepUploadLeftovers,
  uploadDirectory,
} from "./embedded-s3-multipart.js";
import { bucketVersioningRequests } from "./embedded-s3-versions.js";
import { decodeKeyPath, encodeKeyPath } from "./key-path.js";
import { ListedObjectFields } from "./listed-object-fields.js";
import { LOOPBACK } from "./local-defaults.js";
import { foreignRequestReason, hostnameOf } from "./loopback-guard.js";
import {
  COMMIT_RESOURCE,
  type FileChange,
  replaceObjectFiles,
  sweepObjectLeftovers,
} from "./object-files.js";
import { PARTS_RESOURCE, partRange, readPartNumber, type StoredPart } from "./object-parts.js";
import { readObjectTagging, requestedTagging, taggingDocument } from "./object-tags.js";
import { checkReadConditions, readReadConditions } from "./read-conditions.js";
import { noSuchKey, S3Error } from "./s3-error.js";
import { serveOnThread } from "./server-thread.js";
import {
  answerChecksums,
  answerRead,
  answerWritten,
  askedMultipartChecksum,
  type Checksummed,
  checkMultipartChecksum,
  checksumFields,
  checksummed,
  checksummedParts,
  DEFAULT_CHECKSUM_ALGORITHM,
  isChecksumField,
  listedPartChecksums,
  multipartChecksum,
  noteCompleteRequest,
  requestedAlgorithm,
  type StoredChecksum,
  storedChecksum,
  withoutChecksumFields,
} from "./stored-checksums.js";
import { readUploadBody, receivedBody } from "./upload-body.js";
import { checkDeleteConditions, checkWriteConditions, readWriteConditions } from "./write-conditions.js";

// s3rver's types, as far as this server uses them; embedded-s3-multipart.ts imports them as types only.
export interface S3rverStore {
  getBucketPath(bucket: string): string;
  getResourcePath(bucket: string, key: string | undefined, resource: string): string;
  listObjects(
    bucket: string,
    options: { prefix?: string; delimiter?: string; startAfter?: string; maxKeys?: number },
  ): Promise<{ objects: unknown[]; commonPrefixes: string[]; isTruncated: boolean }>;
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
  existsObject(bucket: string, key: string): Promise<boolean>;
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
export interface S3rverObject {
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
export interface KoaContext {
  path: string;
  method: string;
  query: Record<string, unknown>;
  headers: IncomingHttpHeaders;
  body?: unknown;
  type?: string;
  status: number;
  /** Sets a header of the answer. */
  set(name: string, value: string): void;
}
export type KoaMiddleware = (ctx: KoaContext, next: () => Promise<void>) => Promise<void>;
interface S3rverInstance extends EventEmitter {
  store: S3rverStore;
  middleware: KoaMiddleware[];
  run(): Promise<AddressInfo>;
  /** The HTTP server `run` started. */
  httpServer: Server;
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

// s3rver offers no hook for its key-to-path mapping; replacing the two static
// methods it calls everywhere is the narrowest fix (see key-path.ts for why).
// This module is loaded on the server's thread, so the patch applies where s3rver runs.
FilesystemStore.encodeKeyPath = encodeKeyPath;
FilesystemStore.decodeKeyPath = decodeKeyPath;

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
 * s3rver turns a bucket's name into its folder with `path.join(root, name)`
 * and checks names only when a bucket is created, so a request naming the
 * bucket `..`, or `..%2F..%2Fdir`, reached folders outside its own: a
 * DeleteBucket removed one (s3rver's `fs.remove`), a PutObject wrote into
 * one. A request naming a bucket, or copying from one, whose name S3's rules
 * refuse is answered with S3's InvalidBucketName before s3rver sees it; those
 * rules leave a name no way out of the data folder.
 */
async function refuseBadBucketNames(ctx: KoaContext, next: () => Promise<void>): Promise<void> {
  const bucket = addressOf(ctx)?.bucket;
  if (bucket !== undefined) refuseBucketName(bucket);
  const copySource = ctx.headers["x-amz-copy-source"];
  if (typeof copySource === "string") refuseBucketName(copySourceBucket(copySource));
  await next();
}

function refuseBucketName(name: string): void {
  const problem = bucketNameProblem(name);
  if (problem)
    throw new S3Error("InvalidBucketName", `The specified bucket is not valid: ${problem}.`, {
      BucketName: name,
    });
}

/** The bucket of an `x-amz-copy-source` (`[/]bucket/key`, URL-encoded), decoded. */
function copySourceBucket(header: string): string {
  const name = header.replace(/^\//, "").split("/")[0] ?? "";
  try {
    return decodeURIComponent(name);
  } catch {
    return name;
  }
}

/**
 * Refuses a write (PutObject, CopyObject, CreateMultipartUpload and the
 * rest) to a key over {@link MAX_KEY_BYTES} with S3's KeyTooLongError, as
 * S3 does; s3rver stored it, so an object that S3 could never hold was
 * stored and cataloged here.
 */
async function refuseLongKeys(ctx: KoaContext, next: () => Promise<void>): Promise<void> {
  const key = ctx.method === "PUT" || ctx.method === "POST" ? addressOf(ctx)?.key : undefined;
  if (key !== undefined && Buffer.byteLength(key) > MAX_KEY_BYTES)
    throw new S3Error("KeyTooLongError", "Your key is too long", {
      Size: String(Buffer.byteLength(key)),
      MaxSizeAllowed: String(MAX_KEY_BYTES),
    });
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
 * also stops `catalog backfill` from recovering after the crash. Here an
 * object's ETag and metadata files are replaced together, each whole (see
 * object-files.ts). The metadata file's text keeps s3rver's fields (its
 * allowed headers and `x-amz-meta-*`) and the object's checksum (see
 * stored-checksums.ts).
 */
function metadataText(metadata: Record<string, string>): string {
  const kept = Object.fromEntries(
    Object.entries(metadata).filter(
      ([name]) =>
        S3Object.ALLOWED_METADATA.includes(name) || name.startsWith("x-amz-meta-") || isChecksumField(name),
    ),
  );
  return JSON.stringify(kept, null, 2);
}

/** The files of `key` that hold its ETag (when `md5` is given) and its metadata, as they are to change. */
function metadataChanges(
  store: S3rverStore,
  bucket: string,
  key: string,
  metadata: Record<string, string>,
  md5?: string,
): FileChange[] {
  return [
    ...(md5 ? [{ path: store.getResourcePath(bucket, key, "object.md5"), text: md5 }] : []),
    { path: store.getResourcePath(bucket, key, "metadata.json"), text: metadataText(metadata) },
  ];
}

/**
 * s3rver's putObject streams the body into the object's file in place and
 * reports it stored once the body has been hashed, not written. Two PUTs of
 * one key at once (a key uploaded many times quickly) therefore interleave
 * their bytes in one file, and the metadata of whichever finishes last names
 * an MD5 that matches neither: readers, the pipeline among them, get bytes
 * that are no upload at all. S3 makes each PUT atomic. Here each body goes to
 * a file of its own, written out before the PUT is answered; then, one PUT of
 * the key at a time, it and the new metadata replace the object's files as
 * one change, which a crash cannot leave half made (see object-files.ts).
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
function putObjectsAtomically(store: S3rverStore, turns: Turns, listed: ListedObjectFields): void {
  /**
   * Stores `object` as one whole; `answer` runs in the key's turn, once the object and its metadata are in place.
   * The object's ETag is the MD5 of its bytes unless `eTag` gives another (a multipart upload's). Its checksum
   * is the one its request declared, or else what `checksum` computes over the bytes (by default S3's CRC64NVME).
   * Its tags are `tagging` (a tagging document), none without it: the tags of the object it replaces go.
   */
  const storeObject = async <T>(
    object: S3rverObject,
    answer: (stored: { size: number; md5: string }) => Promise<T>,
    options: {
      eTag?: (md5: string) => string;
      checksum?: (content: AsyncIterable<Buffer>) => Checksummed;
      tagging?: string | undefined;
      parts?: StoredPart[];
    } = {},
  ): Promise<T> => {
    const path = store.getResourcePath(object.bucket, object.key, "object");
    await mkdir(dirname(path), { recursive: true });
    const temporary = temporaryPath(path);
    const received = receivedBody(object.content);
    const bytes = Buffer.isBuffer(received.content) ? Readable.from([received.content]) : received.content;
    const computed = received.declaresChecksum
      ? undefined
      : (options.checksum ?? ((content) => checksummed(content, DEFAULT_CHECKSUM_ALGORITHM)))(bytes);
    const { size, md5 } = await writeHashed(computed ? Readable.from(computed.content) : bytes, temporary);
    let checksum: StoredChecksum;
    try {
      const declared = received.check();
      checkContentMd5(md5);
      checksum = declared ? { ...declared, type: "FULL_OBJECT" } : (computed as Checksummed).result();
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
    const digest = options.eTag ? options.eTag(md5) : md5;
    const metadata = {
      ...withoutChecksumFields(withoutAwsChunked(object.metadata)),
      ...checksumFields(checksum),
    };
    return turns.run(path, async () => {
      try {
        await checkWriteConditions(() => storedETag(store, object.bucket, object.key));
      } catch (error) {
        await rm(temporary, { force: true });
        throw error;
      }
      const resource = (name: string) => store.getResourcePath(object.bucket, object.key, name);
      try {
        // The old object's tags and parts go unless this one has its own; the body last (see object-files.ts).
        await replaceObjectFiles(resource(COMMIT_RESOURCE), [
          ...metadataChanges(store, object.bucket, object.key, metadata, digest),
          { path: resource("tagging.xml"), ...(options.tagging !== undefined && { text: options.tagging }) },
          { path: resource(PARTS_RESOURCE), ...(options.parts && { text: JSON.stringify(options.parts) }) },
          { path, temporary },
        ]);
      } finally {
        // Its size, date, ETag and checksum are new (or, if the write stopped midway, unknown).
        listed.forget(object.bucket, object.key);
      }
      answerWritten(checksum);
      return answer({ size, md5: digest });
    });
  };
  store.putObject = (object) =>
    storeObject(object, async (stored) => stored, { tagging: requestedTagging().document });
  // In the upload's turn, which UploadPart takes to add a part and AbortMultipartUpload to remove them all.
  store.putObjectMultipart = async (bucket, uploadId, parts) => {
    const directory = uploadDirectory(store, bucket, uploadId);
    return turns.run(directory, async () => {
      const upload = await multipartUpload(store, bucket, uploadId, parts);
      // What its CreateMultipartUpload asked for (s3rver kept that request's headers as the upload's metadata).
      const plan = multipartChecksum(upload.metadata);
      const listed = listedPartChecksums(plan.algorithm);
      // A COMPOSITE checksum is made of the parts': S3 wants each listed, to check it.
      const unlisted = parts.find((part) => !listed.has(part.number));
      if (askedMultipartChecksum(upload.metadata)?.type === "COMPOSITE" && unlisted) {
        throw new S3Error(
          "InvalidRequest",
          `The upload was created using a ${plan.algorithm} checksum. The complete request must include the checksum for each part. It was missing for part ${unlisted.number} in the request.`,
        );
      }
      const parted = checksummedParts(
        parts.map((part, index) => ({
          file: upload.partFiles[index] as string,
          number: part.number,
          listed: listed.get(part.number),
        })),
        plan,
      );
      const stored = await storeObject(
        { bucket, key: upload.key, content: Readable.from(parted.content), metadata: upload.metadata },
        async (stored) => stored,
        {
          eTag: () => upload.eTag,
          checksum: () => parted,
          tagging: taggingDocument(upload.metadata["x-amz-tagging"]),
          parts: upload.parts,
        },
      );
      await removeUpload(directory);
      return stored;
    });
  };
  // Metadata read inside `reading` is noted there: how getObject tells its caller the object's stored checksum.
  const reading = new AsyncLocalStorage<{ checksum?: StoredChecksum }>();
  const getMetadata = store.getMetadata.bind(store);
  store.getMetadata = async (bucket, key) => {
    const metadata = await getMetadata(bucket, key);
    const read = reading.getStore();
    if (read) read.checksum = storedChecksum(metadata);
    return metadata;
  };
  const getObject = store.getObject.bind(store);
  store.getObject = (bucket, key, options) =>
    turns.run(store.getResourcePath(bucket, key, "object"), async () => {
      const part = await partRange(
        store.getResourcePath(bucket, key, "object"),
        store.getResourcePath(bucket, key, PARTS_RESOURCE),
      );
      // A part of an object that does not exist: s3rver's answer for no object.
      if (part === undefined) return null;
      const range = part === "whole" ? options : part;
      const read: { checksum?: StoredChecksum } = {};
      const object = (await reading.run(read, () => getObject(bucket, key, range))) as {
        metadata: Record<string, string>;
        content?: Readable;
      } | null;
      if (object) {
        try {
          checkReadConditions(object.metadata);
        } catch (error) {
          object.content?.destroy();
          throw error;
        }
        answerRead(read.checksum);
      }
      return object && Object.assign(object, { storedChecksum: read.checksum });
    });
  store.copyObject = async (srcBucket, srcKey, destBucket, destKey, replacementMetadata) => {
    const source = (await store.getObject(srcBucket, srcKey)) as {
      content: Readable;
      metadata: Record<string, string>;
      storedChecksum?: StoredChecksum;
    } | null;
    // Deleted since s3rver checked that it exists.
    if (!source) throw noSuchKey({ Key: srcKey });
    // The algorithm the copy asks for, else the source's: a copy is a new object, its checksum over its bytes.
    const asked = copyRequests.getStore()?.checksumAlgorithm;
    const algorithm = asked ?? source.storedChecksum?.algorithm ?? DEFAULT_CHECKSUM_ALGORITHM;
    const tagging = requestedTagging();
    const sourceTags = store.getResourcePath(srcBucket, srcKey, "tagging.xml");
    return storeObject(
      {
        bucket: destBucket,
        key: destKey,
        content: source.content,
        metadata: replacementMetadata ?? source.metadata,
      },
      // Read in the turn: the answer (and the copy's event) describes this copy, not a later PUT.
      () => getMetadata(destBucket, destKey),
      {
        checksum: (content) => checksummed(content, algorithm),
        tagging: tagging.fromSource ? await readFile(sourceTags, "utf8").catch(absent) : tagging.document,
      },
    );
  };
}

/** The ETag (unquoted) of the object stored under `key`; undefined when there is none. */
async function storedETag(store: S3rverStore, bucket: string, key: string): Promise<string | undefined> {
  const eTag = await readFile(store.getResourcePath(bucket, key, "object.md5"), "utf8").catch(absent);
  if (eTag !== undefined) return eTag.trim();
  // An object stored without its ETag file (by s3rver itself) exists all the same; no ETag matches it.
  return (await stat(store.getResourcePath(bucket, key, "object")).catch(absent)) ? "" : undefined;
}

/** A CopyObject's `x-amz-checksum-algorithm`, the algorithm the copy's checksum is to be in. */
const copyRequests = new AsyncLocalStorage<{ checksumAlgorithm?: ChecksumAlgorithm }>();

/**
 * Koa middleware: notes the checksum algorithm a CopyObject asks for (its
 * `x-amz-checksum-algorithm`) for the copy's store; one S3 does not know
 * is S3's InvalidRequest.
 */
async function readCopyChecksumAlgorithm(ctx: KoaContext, next: () => Promise<void>): Promise<void> {
  const header = ctx.headers["x-amz-checksum-algorithm"];
  if (ctx.method !== "PUT" || ctx.headers["x-amz-copy-source"] === undefined || header === undefined)
    return next();
  await copyRequests.run({ checksumAlgorithm: requestedAlgorithm(header) }, next);
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
    refuseBadBucketNames,
    refuseLongKeys,
    keepEmptyKeySegments,
    decodeCopySource,
    readContentMd5,
    readUploadBody,
    checkMultipartChecksum,
    readCopyChecksumAlgorithm,
    readObjectTagging,
    readWriteConditions,
    readReadConditions,
    readPartNumber,
    noteCompleteRequest,
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
    replaceObjectFiles(
      store.getResourcePath(bucket, key, COMMIT_RESOURCE),
      metadataChanges(store, bucket, key, metadata, md5),
    );
  await sweepUploadLeftovers(store, options.directory);
  await sweepObjectLeftovers(options.directory);
  const turns = new Turns();
  const listed = new ListedObjectFields(store);
  putObjectsAtomically(store, turns, listed);
  const deleteBucket = store.deleteBucket.bind(store);
  store.deleteBucket = (bucket) => deleteBucket(bucket).finally(() => listed.forgetBucket(bucket));
  storeUploadedParts(store, turns);
  // Just before s3rver's router (its last middleware), after the one that writes answers out as XML.
  const router = server.middleware.at(-1);
  if (router?.name !== "dispatch") throw new Error("s3rver's router is not its last middleware");
  server.middleware.splice(
    -1,
    0,
    answerChecksums,
    listObjectsRequests(store, listed),
    bucketVersioningRequests(store, listed),
    multipartRequests(store, turns),
    copyUploadParts(store),
    closeUnsentReads(store),
    deleteRequests(store),
  );
  // Its other caller, DeleteBucket, asks whether the bucket holds any object.
  store.listObjects = async (bucket, options) => {
    const page = await listKeys(store.getBucketPath(bucket), {
      prefix: options.prefix,
      delimiter: options.delimiter,
      after: options.startAfter,
      maxKeys: Math.min(options.maxKeys ?? 1000, 1000),
    });
    return {
      objects: page.keys.map((key) => ({ key })),
      commonPrefixes: page.commonPrefixes,
      isTruncated: page.truncated,
    };
  };
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
    if (request && metadata.etag) request.copiedETag = unquoteETag(metadata.etag);
    return metadata;
  };
  const deleteObject = store.deleteObject.bind(store);
  // Deletions are reported from the store, so DeleteObjects (which s3rver does not announce) is covered.
  store.deleteObject = async (bucket, key) => {
    await gate.delete(async () => {
      // No put runs while a delete holds the gate: the ETag checked is the one removed.
      await checkDeleteConditions(() => storedETag(store, bucket, key));
      try {
        // The body first: once it is gone so is the object, and a crash leaves no body without its
        // metadata; the next start sweeps what stays beside no body (see object-files.ts).
        await rm(store.getResourcePath(bucket, key, "object"), { force: true });
        // The tags and parts go with the object, before s3rver removes the folder the delete leaves empty.
        await rm(store.getResourcePath(bucket, key, "tagging.xml"), { force: true });
        await rm(store.getResourcePath(bucket, key, PARTS_RESOURCE), { force: true });
        await deleteObject(bucket, key);
      } finally {
        listed.forget(bucket, key);
      }
    });
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
  return {
    port: address.port,
    close: () => closeHttpServer(server.httpServer),
    refuseWrites: () => refusal.refuse(),
  };
}

/** The most objects one DeleteObjects may name, on S3. */
const MAX_DELETE_OBJECTS = 1000;

/** The DeleteObjects request being answered, as s3rver's handler has parsed it. */
const deleting = new AsyncLocalStorage<{
  request: { body?: { Delete?: { Object?: unknown; Quiet?: unknown } } };
}>();

/**
 * DeleteObjects as S3 answers it, around s3rver's handler (which parses the
 * request body):
 *
 * - a request naming more than {@link MAX_DELETE_OBJECTS} objects deletes
 *   none and is S3's MalformedXML (400); s3rver deleted them all. The check
 *   sits in the store's `existsObject`, which s3rver's handler calls for
 *   every key once the body is parsed and before it deletes any;
 * - with `<Quiet>true</Quiet>` the answer lists only the keys it could not
 *   delete (none here); s3rver listed every key.
 */
function deleteRequests(store: S3rverStore): KoaMiddleware {
  const existsObject = store.existsObject.bind(store);
  store.existsObject = async (bucket, key) => {
    const objects = deleting.getStore()?.request.body?.Delete?.Object;
    if (Array.isArray(objects) && objects.length > MAX_DELETE_OBJECTS)
      throw new S3Error(
        "MalformedXML",
        "The XML you provided was not well-formed or did not validate against our published schema",
      );
    return existsObject(bucket, key);
  };
  return async (ctx, next) => {
    if (ctx.method !== "POST" || !("delete" in ctx.query)) return next();
    const request = (ctx as unknown as { request: { body?: { Delete?: { Quiet?: unknown } } } }).request;
    await deleting.run({ request }, next);
    const body = ctx.body as { DeleteResult?: { Deleted?: unknown } } | undefined;
    if (String(request.body?.Delete?.Quiet).toLowerCase() === "true" && body?.DeleteResult) {
      body.DeleteResult.Deleted = undefined;
    }
  };
}

/**
 * s3rver answers a GET whose If-None-Match or If-Modified-Since holds with
 * 304 after opening the object's file, and never closes that stream: one
 * file descriptor lost per answer, for good. Koa middleware that closes,
 * once the request is answered, every object stream it opened and did not
 * send (a copy's source has been read to its end by then).
 */
function closeUnsentReads(store: S3rverStore): KoaMiddleware {
  const opened = new AsyncLocalStorage<Readable[]>();
  const getObject = store.getObject.bind(store);
  store.getObject = async (bucket, key, options) => {
    const object = (await getObject(bucket, key, options)) as { content?: Readable } | null;
    if (object?.content) opened.getStore()?.push(object.content);
    return object;
  };
  return (ctx, next) => {
    const streams: Readable[] = [];
    return opened.run(streams, async () => {
      try {
        await next();
      } finally {
        for (const stream of streams) if (ctx.body !== stream) stream.destroy();
      }
    });
  };
}

serveOnThread(async (data, send) => {
  const announcer = new Announcer(send);
  const { port, close, refuseWrites } = await start(data as EmbeddedS3Options, announcer);
  return { port, close, refuseWrites, receive: (body) => announcer.receipt(body as ObjectReceipt) };
});
