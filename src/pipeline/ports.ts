import type { ByteSource } from "../engine/byte-source/byte-source.js";
import type {
  AuditEntryInput,
  EventStamp,
  ObjectRecordInput,
  TombstoneInput,
  WriteResult,
} from "../store/types.js";

/**
 * What the pipeline needs from the world, as interfaces: the Lambda handler,
 * the worker and the local stack plug S3, DynamoDB and Powertools in; tests
 * plug in the embedded servers. The pipeline imports no adapter.
 */

/** An object version to read, pinned so metadata describes the version the event names. */
export interface ObjectRef {
  bucket: string;
  key: string;
  /** ETag from the event, with or without quotes; reads are pinned to it. */
  eTag?: string;
  /** Version from the event; preferred over the ETag for pinning when present. */
  versionId?: string;
  /** Size from the event, when it gave one. */
  size?: number;
  /**
   * When `size` is known and at most this, the object is fetched whole with
   * one GET whose headers stand in for HeadObject: one request instead of a
   * HEAD and several ranged GETs, for objects that will be read whole anyway
   * (hashed, thumbnailed) or are smaller than one block.
   */
  fetchWholeUpTo?: number;
}

/** What an opened object has cost so far: body bytes and GET requests (HEAD not counted). */
export interface FetchCounter {
  bytes: number;
  requests: number;
}

/** System metadata of the object (HeadObject). */
export interface ObjectHead {
  size: number;
  /** Without quotes. */
  eTag: string;
  versionId?: string;
  contentType?: string;
  /** ISO 8601. */
  lastModified?: string;
  /** S3 omits the header for STANDARD; the S3 adapter fills it in. */
  storageClass?: string;
  /** `x-amz-meta-*` headers, names lower-case without the prefix. */
  userMetadata: Record<string, string>;
  /** The checksum S3 stored at upload (`SHA256`, `CRC32C`, ...), base64, with its `FULL_OBJECT`/`COMPOSITE` type. */
  checksum?: { algorithm: string; value: string; type?: string };
}

/** Reads objects and tags them. `open` throws `SourceChangedError` when the pinned version is gone. */
export interface ObjectStorage {
  open(ref: ObjectRef): Promise<{ source: ByteSource; head: ObjectHead; fetched?: FetchCounter }>;
  /** Sets these tags, keeping the object's others; a `null` value removes that tag. */
  tag(
    bucket: string,
    key: string,
    tags: Record<string, string | null>,
    options?: { versionId?: string },
  ): Promise<void>;
}

/** A derived artefact as HeadObject shows it. */
export interface DerivedHead {
  /** Without quotes. */
  eTag: string;
  size: number;
  /** `x-amz-meta-*` headers, names lower-case without the prefix. */
  userMetadata: Record<string, string>;
}

/**
 * What a conditional PUT expects the key to hold: the object with this ETag
 * (`If-Match`), or none (`If-None-Match: *`).
 */
export type DerivedPrecondition = { ifMatch: string } | { ifNoneMatch: "*" };

/** What a PUT of a derived artefact did. */
export type DerivedPut =
  /** Stored; `eTag` (unquoted) is the one the store gave it, when it gave one. */
  | { outcome: "written"; eTag?: string }
  /**
   * Not stored: the key no longer holds what the precondition expected (S3's
   * 412 PreconditionFailed, 409 ConditionalRequestConflict when a delete
   * finished during the write, or 404 for `If-Match` on a key emptied since).
   */
  | { outcome: "changed" }
  /** Not stored: the store does not do conditional writes (501 NotImplemented). */
  | { outcome: "unsupported" };

/**
 * Writes derived artefacts (thumbnails) into the bucket, under a prefix that
 * raises no event. `delete` of a missing key succeeds, as on S3.
 */
export interface DerivedWriter {
  /** HeadObject of `key`; undefined when the key holds no object. */
  head(bucket: string, key: string): Promise<DerivedHead | undefined>;
  /**
   * PutObject of `bytes` under `key`, with `userMetadata` as its
   * `x-amz-meta-*` headers and, when given, a `precondition` on what the key
   * holds.
   */
  put(
    bucket: string,
    key: string,
    bytes: Uint8Array,
    contentType: string,
    options?: { userMetadata?: Record<string, string>; precondition?: DerivedPrecondition },
  ): Promise<DerivedPut>;
  /**
   * Removes the object under `key`; with `ifMatch` (an ETag), only if the
   * object there still has it. Resolves `"kept"` when another object has
   * taken the key since (S3's 412), `"deleted"` when none is left there, and
   * `"unsupported"` when the store does not do conditional deletes (501), in
   * which case nothing was deleted.
   */
  delete(
    bucket: string,
    key: string,
    options?: { ifMatch?: string },
  ): Promise<"deleted" | "kept" | "unsupported">;
}

/** The catalog writes the pipeline makes (implemented by `CatalogStore`). */
export interface CatalogWriter {
  putRecord(input: ObjectRecordInput): Promise<WriteResult>;
  putTombstone(input: TombstoneInput): Promise<WriteResult>;
  putAudit(input: AuditEntryInput): Promise<unknown>;
  /** The permanent delete of this version, if one has been processed (its sequencer and time). */
  deletedVersion(bucket: string, key: string, versionId: string): Promise<EventStamp | undefined>;
}

/** Structured logging; Powertools Logger fits as is. */
export interface PipelineLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** A log sink that drops everything. */
export const SILENT_LOGGER: PipelineLogger = { info() {}, warn() {}, error() {} };
