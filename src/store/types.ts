import type { Category, ExtractionResult, FormatInfo, Sections } from "../engine/types.js";

/** State of an object in the catalog. `deleted` marks a tombstone. */
export type RecordStatus = "ok" | "partial" | "error" | "rejected" | "deleted";

/** What a conditional record write did. */
export type WriteOutcome = "created" | "updated" | "stale" | "duplicate";

/** What processing one event came to, as written in its audit entry. */
export type AuditOutcome =
  | "created"
  | "updated"
  | "duplicate"
  | "stale"
  | "superseded"
  | "deleted"
  /** A permanent delete of the current version: the next-newest version became current and was cataloged. */
  | "restored"
  | "rejected"
  | "error";

/** What S3 says about the object (HeadObject), independent of its content. */
export interface SystemMetadata {
  bucket: string;
  key: string;
  versionId?: string;
  size: number;
  etag: string;
  contentType?: string;
  userMetadata?: Record<string, string>;
  storageClass?: string;
  /** Checksums S3 stores for the object, by algorithm (`sha256`, `crc32c`, ...). */
  checksum?: Record<string, string>;
  lastModified?: string;
}

/** Which event a write comes from: its ordering and its time. */
export interface EventStamp {
  /** The S3 sequencer as received (hex, any case, any length). */
  sequencer: string;
  /** ISO 8601 time of the event. */
  eventTime: string;
}

/**
 * Everything the pipeline knows about one object version, to be written as its record.
 *
 * @example
 * await store.putRecord({ bucket: "b", key: "a.jpg", size: 10, etag: "\"e\"", sequencer: "0A",
 *   eventTime: "2024-05-01T10:00:00.000Z", status: "ok", reasons: [], extraction: result,
 *   bytesRead: 10, readRequests: 1, durationMs: 4, extractorVersion: "1.0.0" });
 */
export interface ObjectRecordInput extends SystemMetadata, EventStamp {
  status: Exclude<RecordStatus, "deleted">;
  /** Why the status is not `ok`: policy reasons first, then the engine's. */
  reasons: string[];
  /** The engine's result; absent when the policy rejected the object before its body was read. */
  extraction?: ExtractionResult;
  /** Hex SHA-256 of the content when known without the engine (S3's full-object checksum). */
  sha256?: string;
  bytesRead: number;
  readRequests: number;
  /** Wall time of the whole pipeline for this object. */
  durationMs: number;
  extractorVersion: string;
  /** The derived thumbnail written for this version, when there is one. */
  thumbnail?: ThumbnailRef;
  /** Warnings of steps after extraction (thumbnail), appended to the engine's. */
  transformWarnings?: string[];
  /** Rejected records only: whether the object carries the tag `catalog-status=rejected`. */
  taggedRejected?: boolean;
}

/**
 * A thumbnail written under the derived prefix.
 *
 * @example
 * const ref: ThumbnailRef = { key: "_derived/thumbnails/a.jpg.webp", size: 11558, width: 192, height: 256 };
 */
export interface ThumbnailRef {
  key: string;
  /**
   * ETag S3 gave the written thumbnail (unquoted). Every event of a key writes
   * its thumbnail under the same key, so removing the one a record named is a
   * delete conditional on this ETag: a newer event's thumbnail stays.
   */
  eTag?: string;
  /** Bytes of the WebP. */
  size: number;
  width: number;
  height: number;
  /** ThumbHash, base64: a blurred preview a page can paint before the thumbnail loads. */
  placeholder?: string;
  /** Time spent rendering it. */
  durationMs?: number;
}

/** A tombstone: the object is gone as of this event. */
export interface TombstoneInput extends EventStamp {
  bucket: string;
  key: string;
  versionId?: string;
  /**
   * When set, only a record of exactly this version is tombstoned: in a
   * versioned bucket, permanently deleting an older version leaves the current one alone.
   */
  onlyVersion?: string;
}

/** One event's entry in an object's history. */
export interface AuditEntryInput extends EventStamp {
  bucket: string;
  key: string;
  eventName: string;
  outcome: AuditOutcome;
  status?: RecordStatus;
  reasons?: string[];
  versionId?: string;
  etag?: string;
  size?: number;
  principalId?: string;
  sourceIPAddress?: string;
  /** S3's x-amz-request-id of the request that caused the event. */
  requestId?: string;
  durationMs: number;
  bytesRead: number;
  readRequests?: number;
  /**
   * Content hash of the record this event wrote or found already written:
   * lets a later delivery find content the object no longer has (see
   * `CatalogStore.putRecord`).
   */
  sha256?: string;
}

/** The stored record of an object (tombstones carry identity and ordering only). */
export interface CatalogRecord extends Partial<Omit<SystemMetadata, "bucket" | "key">>, Sections, EventStamp {
  bucket: string;
  key: string;
  status: RecordStatus;
  reason?: string;
  reasons?: string[];
  warnings?: string[];
  mime?: string;
  category?: Category;
  format?: FormatInfo;
  sha256?: string;
  seqKey: string;
  processedAt: string;
  schemaVersion: number;
  extractorVersion?: string;
  bytesRead?: number;
  readRequests?: number;
  durationMs?: number;
  /** Time the engine spent on the content alone. */
  extractionMs?: number;
  /** True when long fields were cut to keep the item small. */
  truncated?: boolean;
  thumbnailKey?: string;
  /**
   * ETag of the thumbnail this record's event wrote, or of a newer event's made from the same object
   * version (absent on records of older versions).
   */
  thumbnailEtag?: string;
  thumbnailSize?: number;
  thumbnailWidth?: number;
  thumbnailHeight?: number;
  /** ThumbHash of the thumbnail, base64. */
  thumbHash?: string;
  /**
   * Rejected records only: whether the pipeline tagged the object `catalog-status=rejected`
   * (absent on records written before it was kept), so that a reprocess that accepts the object
   * knows to remove the tag without asking S3 for every object it once rejected.
   */
  taggedRejected?: boolean;
}

/** A stored audit entry. */
export interface AuditEntry extends AuditEntryInput {
  seqKey: string;
  processedAt: string;
  /** How many times this event was delivered (1 unless redelivered). */
  deliveries: number;
  /** Outcome of the latest redelivery, when there was one. */
  lastOutcome?: AuditOutcome;
}

/** What the listing indexes hold for each object: enough for a row. */
export interface RecordSummary {
  bucket: string;
  key: string;
  size?: number;
  status: RecordStatus;
  mime?: string;
  category?: Category;
  eventTime: string;
  etag?: string;
  sha256?: string;
  reason?: string;
  thumbnailKey?: string;
  /**
   * Set when the content contradicts the declared type or extension (the
   * record's `format.mismatch`). Not in the indexes: added by
   * `CatalogStore.withTypeMismatches`.
   */
  mismatch?: true;
  /** Why, as the record's `format.mismatchReason` says it. */
  mismatchReason?: string;
}

/** A set of objects with identical content. */
export interface DuplicateGroup {
  sha256: string;
  size?: number;
  /** When the second copy arrived. */
  since: string;
}

/** One page of a listing; pass `cursor` back to get the next. */
export interface Page<T> {
  items: T[];
  /** Opaque; absent on the last page. */
  cursor?: string;
}

/** Paging of a listing. */
export interface PageRequest {
  /** Items per page. @default 100 */
  limit?: number;
  /** From the previous page, asked in the same order. */
  cursor?: string;
  /** Time-ordered listings only: newest first, where they list oldest first by default. */
  newestFirst?: boolean;
  /**
   * `listByCategory` only, in place of a cursor: start right after this
   * object's place in the index (its time, then its key), whether or not it
   * is still there. A count of items to skip would skip one more for each
   * of them deleted or moved meanwhile.
   */
  after?: { key: string; eventTime: string };
}

/** A time range, ISO 8601 at both ends, inclusive. */
export interface TimeRange {
  from: string;
  to: string;
}

/** What a record or tombstone write did, and what it replaced. */
export interface WriteResult {
  outcome: WriteOutcome;
  /** The stored sequencer's sort key after the write was attempted. */
  storedSeqKey?: string;
  /** Content hash the written record holds (lower-case hex), for a record write that was not stale. */
  sha256?: string;
  /**
   * The thumbnail the record this write replaced named, for a record or
   * tombstone write that replaced one: its key and, when the record kept it, its ETag.
   */
  replacedThumbnail?: { key: string; eTag?: string };
}

/** Whether an audit write added an entry or counted a redelivery of one. */
export type AuditWrite = "recorded" | "redelivered";
