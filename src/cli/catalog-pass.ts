import type { S3Client } from "@aws-sdk/client-s3";
import { EXTRACTOR_VERSION } from "../engine/version.js";
import { unquoteETag } from "../events/etag.js";
import type { ObjectEvent } from "../events/s3-event.js";
import type { ObjectStorage } from "../pipeline/ports.js";
import type { Policy } from "../policy/policy.js";
import type { CatalogRecord } from "../store/types.js";
import type { Progress } from "./progress.js";
import type { Target } from "./target.js";

/** One object as ListObjectsV2 reports it. */
export interface ListedObject {
  key: string;
  size: number;
  /** Without quotes. */
  eTag: string;
  lastModified?: string;
}

/**
 * Every object under a prefix, page by page (ListObjectsV2 continuation
 * tokens), in key order; only one page is held at a time.
 *
 * @example
 * for await (const page of listObjectPages(s3, "uploads", "photos/")) console.log(page.length);
 */
export async function* listObjectPages(
  s3: S3Client,
  bucket: string,
  prefix: string,
): AsyncGenerator<ListedObject[]> {
  // The SDK command and the pipeline are imported when a pass runs, not when the CLI starts.
  const { ListObjectsV2Command } = await import("@aws-sdk/client-s3");
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        ...(prefix && { Prefix: prefix }),
        ...(token && { ContinuationToken: token }),
      }),
    );
    yield (page.Contents ?? []).flatMap((object) =>
      object.Key === undefined
        ? []
        : [
            {
              key: object.Key,
              size: object.Size ?? 0,
              eTag: unquoteETag(object.ETag ?? ""),
              ...(object.LastModified && { lastModified: object.LastModified.toISOString() }),
            },
          ],
    );
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
}

/**
 * The sequencer a catalog pass writes with, given what is stored.
 *
 * Record writes are conditional on the stored sequencer being smaller, and
 * S3 compares sequencers by right-padding the shorter with zeros. So:
 * - no record: `"0"`, the smallest sequencer there is. The write lands (there
 *   is nothing to beat), and any real S3 event for the key, now or later,
 *   still wins over it: a pass never hides an upload.
 * - a record: the stored sequencer followed by `"01"`. Right-padded, the
 *   stored one reads `S00…` and ours `S01…`, so ours is the smallest value
 *   above it: the write wins over the record it means to replace, yet an S3
 *   event newer than that record (its sequencer is above `S` at an earlier
 *   digit) still wins over ours, as it should.
 *
 * @example
 * passSequencer(undefined) // "0"
 * passSequencer("0055AED6DCD90281E5") // "0055AED6DCD90281E501"
 */
export function passSequencer(stored: string | undefined): string {
  return stored === undefined ? "0" : `${stored}01`;
}

/**
 * True when `version` (dotted numbers, e.g. `1.2.0`) is older than `current`;
 * a record with no version is older than any.
 *
 * @example
 * isOlderVersion("1.0.0", "1.10.0") // true
 */
export function isOlderVersion(version: string | undefined, current: string = EXTRACTOR_VERSION): boolean {
  if (version === undefined) return true;
  const a = version.split(".").map((part) => Number.parseInt(part, 10) || 0);
  const b = current.split(".").map((part) => Number.parseInt(part, 10) || 0);
  for (let index = 0; index < Math.max(a.length, b.length); index++) {
    const difference = (a[index] ?? 0) - (b[index] ?? 0);
    if (difference !== 0) return difference < 0;
  }
  return false;
}

/** What a pass does with one listed object. */
export type PassDecision =
  | { action: "process"; sequencer: string; eventTime: string }
  | { action: "skip"; why: "cataloged" | "current" | "uncataloged" | "excluded" };

/** Decides from the listed object and its stored record (if any). */
export type PassRule = (object: ListedObject, record: CatalogRecord | undefined) => PassDecision;

/**
 * Backfill: catalog what the catalog lacks. An object whose record has the
 * same ETag is done (which also makes a rerun after Ctrl-C redo nothing);
 * one with no record, a tombstone, or another ETag is processed. Its event
 * time is the object's LastModified, its upload time, so time-range queries
 * file it where it belongs.
 */
export const BACKFILL_RULE: PassRule = (object, record) => {
  if (record && record.status !== "deleted" && record.etag === object.eTag) {
    return { action: "skip", why: "cataloged" };
  }
  return {
    action: "process",
    sequencer: passSequencer(record?.sequencer),
    eventTime: object.lastModified ?? new Date().toISOString(),
  };
};

/**
 * Reprocess: re-extract records made by an older extractor. Objects with no
 * record (or a record of another ETag) are backfill's work and are left
 * alone. The record keeps its event time: re-extracting does not re-upload.
 */
export const REPROCESS_RULE: PassRule = (object, record) => {
  if (!record || record.status === "deleted" || record.etag !== object.eTag) {
    return { action: "skip", why: "uncataloged" };
  }
  if (!isOlderVersion(record.extractorVersion)) return { action: "skip", why: "current" };
  return { action: "process", sequencer: passSequencer(record.sequencer), eventTime: record.eventTime };
};

/**
 * Counts of a pass, printed at the end (`--json` prints this object).
 * `scanned` is `cataloged + skipped + errors`: the objects the pass reached.
 */
export interface PassSummary {
  /** Objects the pass looked at; an interrupted pass reached fewer than it listed. */
  scanned: number;
  /** Objects listed so far; above `scanned` only when the pass was interrupted. */
  listed: number;
  cataloged: number;
  skipped: number;
  errors: number;
  /** Objects skipped because they are not cataloged at their current ETag (reprocess only). */
  uncataloged: number;
  interrupted: boolean;
  seconds: number;
}

/** Options of {@link runCatalogPass}. */
export interface PassOptions {
  target: Target;
  bucket: string;
  prefix: string;
  /** The S3 event name the audit records, e.g. `Catalog:Backfill`. */
  eventName: string;
  principalId: string;
  rule: PassRule;
  policy: Policy;
  concurrency: number;
  /** Keys under these prefixes are never processed (derived files). */
  excludePrefixes: readonly string[];
  /**
   * Thumbnails written under `derivedPrefix`, as the pipeline writes them: for every image
   * (`"all"`), or only where the record being replaced has one (`"kept"`: a reprocess against a stack
   * that may not write them keeps what its function made). None when absent: the new record has none.
   */
  thumbnails?: { derivedPrefix: string; for: "all" | "kept" };
  progress: Progress;
  /** Told about each object that failed with an infrastructure fault. */
  onError: (key: string, error: unknown) => void;
  /** Checked between chunks; true stops the pass after the objects in flight. */
  stopRequested: () => boolean;
}

/**
 * Walks a bucket prefix and runs the same pipeline the Lambda runs, in
 * process, on the objects the rule selects: a chunk of listed objects has
 * its records looked up (bounded concurrency), then the selected ones go
 * through `processEvents` with the target's S3 client as storage and its
 * store as catalog. Events look like S3's own, with this pass's event name
 * and principal, so the audit history says where each write came from.
 *
 * @example
 * const summary = await runCatalogPass({ target, bucket, prefix: "", eventName: "Catalog:Backfill", ... });
 */
export async function runCatalogPass(options: PassOptions): Promise<PassSummary> {
  const { target, progress } = options;
  const [{ processEvents }, { S3ByteSource, tagObject }, { S3DerivedWriter }] = await Promise.all([
    import("../pipeline/process-events.js"),
    import("../s3/s3-byte-source.js"),
    import("../s3/s3-derived-writer.js"),
  ]);
  const started = Date.now();
  const storage: ObjectStorage = {
    open: (ref) => S3ByteSource.open(target.s3, ref),
    tag: (bucket, key, tags, tagOptions) => tagObject(target.s3, bucket, key, tags, tagOptions),
  };
  const thumbnails = options.thumbnails && {
    writer: new S3DerivedWriter(target.s3),
    derivedPrefix: options.thumbnails.derivedPrefix,
  };
  const summary: PassSummary = {
    scanned: 0,
    listed: 0,
    cataloged: 0,
    skipped: 0,
    errors: 0,
    uncataloged: 0,
    interrupted: false,
    seconds: 0,
  };
  // Big enough to keep every worker busy, small enough that Ctrl-C stops soon.
  const chunkSize = Math.max(16, options.concurrency * 4);
  for await (const page of listObjectPages(target.s3, options.bucket, options.prefix)) {
    summary.listed += page.length;
    progress.setTotal(summary.listed);
    for (let start = 0; start < page.length; start += chunkSize) {
      if (options.stopRequested()) {
        summary.interrupted = true;
        break;
      }
      const chunk = page.slice(start, start + chunkSize);
      summary.scanned += chunk.length;
      const decisions = await mapBounded(chunk, options.concurrency, async (object) => {
        if (options.excludePrefixes.some((prefix) => object.key.startsWith(prefix))) {
          return { decision: { action: "skip", why: "excluded" } as const, thumbnail: false };
        }
        const record = await target.store.getRecord(options.bucket, object.key);
        const thumbnail =
          options.thumbnails !== undefined &&
          (options.thumbnails.for === "all" || record?.thumbnailKey !== undefined);
        // The pipeline keeps the thumbnail the record names when it shows the object as it is now:
        // a reprocess of a bucket that has its thumbnails costs a HEAD per image, not a render and a PUT.
        const replaced =
          record?.thumbnailKey !== undefined && record.thumbnailEtag !== undefined
            ? { key: record.thumbnailKey, eTag: record.thumbnailEtag }
            : undefined;
        // A record that rejected this very object may have left the tag on it, which an acceptance removes.
        const taggedRejected =
          record?.status === "rejected" && record.etag === object.eTag && record.taggedRejected !== false;
        return { decision: options.rule(object, record), thumbnail, replaced, taggedRejected };
      });
      // Objects that get a thumbnail, and those that do not, go through the pipeline apart.
      const events: ObjectEvent[] = [];
      const thumbnailed: ObjectEvent[] = [];
      chunk.forEach((object, index) => {
        const { decision, thumbnail, replaced, taggedRejected } = decisions[index] as {
          decision: PassDecision;
          thumbnail: boolean;
          replaced?: { key: string; eTag: string };
          taggedRejected?: boolean;
        };
        if (decision.action === "skip") {
          summary.skipped++;
          if (decision.why === "uncataloged") summary.uncataloged++;
          progress.increment();
          return;
        }
        (thumbnail ? thumbnailed : events).push({
          kind: "created",
          eventName: options.eventName,
          bucket: options.bucket,
          key: object.key,
          size: object.size,
          eTag: object.eTag,
          sequencer: decision.sequencer,
          eventTime: decision.eventTime,
          principalId: options.principalId,
          ...(replaced && { replacedThumbnail: replaced }),
          ...(taggedRejected && { taggedRejected }),
        });
      });
      const pipeline = {
        storage,
        catalog: target.store,
        policy: options.policy,
        onOutcome: () => progress.increment(),
      };
      const results = [
        ...(events.length > 0
          ? await processEvents(events, pipeline, { concurrency: options.concurrency })
          : []),
        ...(thumbnailed.length > 0 && thumbnails
          ? await processEvents(
              thumbnailed,
              { ...pipeline, thumbnails },
              { concurrency: options.concurrency },
            )
          : []),
      ];
      for (const result of results) {
        if (result.ok) {
          // "stale": a real S3 event wrote the key meanwhile; "superseded": the object changed under us.
          if (result.outcome.outcome === "stale" || result.outcome.outcome === "superseded")
            summary.skipped++;
          else summary.cataloged++;
        } else {
          summary.errors++;
          progress.increment();
          options.onError(result.event.key, result.error);
        }
      }
    }
    // A stop asked for during this page's last chunk counts only if another page follows: the check
    // above, at that page's first chunk, tells a pass that reached everything from one cut short.
    if (summary.interrupted) break;
  }
  // An interrupted pass leaves its total open: the rest of the listing was never read.
  progress.setTotal(summary.listed, !summary.interrupted);
  summary.seconds = Math.round((Date.now() - started) / 100) / 10;
  return summary;
}

/** `items.map(work)` with at most `limit` running at once, results in input order. */
async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
