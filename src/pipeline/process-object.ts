import { extract } from "../engine/engine.js";
import { SourceChangedError } from "../engine/errors.js";
import { type Budget, DEFAULT_BUDGET } from "../engine/limits.js";
import type { Category, ExtractionResult } from "../engine/types.js";
import { EXTRACTOR_VERSION } from "../engine/version.js";
import type { ObjectEvent } from "../events/s3-event.js";
import { evaluate, type Policy, precheck } from "../policy/policy.js";
import type { AuditOutcome, EventStamp, RecordStatus, ThumbnailRef, WriteOutcome } from "../store/types.js";
import { deleteThumbnail, deriveThumbnail, type ThumbnailSettings } from "../transform/derive-thumbnail.js";
import {
  type CatalogWriter,
  type ObjectHead,
  type ObjectStorage,
  type PipelineLogger,
  SILENT_LOGGER,
} from "./ports.js";
import { WatchedSource } from "./watched-source.js";

/** S3 charges per request: blocks this large make most small objects one GET. */
export const S3_BLOCK_BYTES = 64 * 1024;

/**
 * Objects up to this size that will be read whole anyway (hashed) are
 * fetched with one GET and kept in memory for extraction, hash and
 * thumbnail alike; larger ones are read by ranges. Bounds the memory one
 * object in flight can hold.
 */
export const WHOLE_OBJECT_MAX_BYTES = 16 * 1024 * 1024;

/** Tag set on objects the policy rejects, when the policy asks for it. */
export const REJECTED_TAG = { "catalog-status": "rejected" } as const;

/** What the pipeline needs, passed in by the adapter that runs it. */
export interface PipelineDeps {
  storage: ObjectStorage;
  catalog: CatalogWriter;
  policy: Policy;
  logger?: PipelineLogger;
  /** Told about every processed object (the handler turns this into metrics). */
  onOutcome?: (outcome: ObjectOutcome) => void;
  /** Overrides of the engine's per-object budget. */
  budget?: Partial<Budget>;
  /** Thumbnails of images, written under the derived prefix; none when absent. */
  thumbnails?: ThumbnailSettings;
}

/**
 * What became of one event. Bad files end here as data (`error`,
 * `rejected`); only infrastructure faults throw instead.
 */
export interface ObjectOutcome {
  bucket: string;
  key: string;
  eventName: string;
  sequencer: string;
  eventTime: string;
  outcome: AuditOutcome;
  /** The status written, when a record or tombstone was written. */
  status?: RecordStatus;
  reasons: string[];
  mime?: string;
  category?: Category;
  /** Bytes fetched from S3 for this object (body reads; HEAD not included). */
  bytesRead: number;
  /** Ranged GETs made for this object. */
  readRequests: number;
  /** Wall time of the whole pipeline for this object. */
  durationMs: number;
  /** Wall time of the engine alone. */
  extractionMs?: number;
  /** Wall time of rendering the thumbnail, when one was made. */
  thumbnailMs?: number;
  /** Content hash of the record written (or found written by an earlier delivery), when it has one. */
  sha256?: string;
}

/**
 * Runs one object event through the pipeline: read pinned → policy pre-check
 * → extract → policy → thumbnail (when enabled) → untag if no longer
 * rejected (when a pass says the object was tagged) → conditional record
 * write → tag if rejected (when the policy asks) → audit. Removals write a
 * tombstone. An object changed since the event is `superseded` (audited, no
 * record). A bad file never throws; storage and catalog faults do, so the
 * platform retries (every write is idempotent, so a retry is safe). S3 too
 * slow to deliver the bytes within the extraction's time budget is such a
 * fault, not a time limit of the file.
 *
 * @example
 * const outcome = await processObject(event, { storage, catalog, policy: DEFAULT_POLICY });
 * console.log(outcome.outcome); // "created"
 */
export async function processObject(event: ObjectEvent, deps: PipelineDeps): Promise<ObjectOutcome> {
  const started = performance.now();
  const outcome =
    event.kind === "removed"
      ? await processRemoval(event, deps, started)
      : await processCreation(event, deps, started);
  const logger = deps.logger ?? SILENT_LOGGER;
  logger.info("object processed", {
    bucket: outcome.bucket,
    key: outcome.key,
    eventName: outcome.eventName,
    outcome: outcome.outcome,
    status: outcome.status,
    ...(outcome.reasons.length > 0 && { reasons: outcome.reasons }),
    mime: outcome.mime,
    bytesRead: outcome.bytesRead,
    readRequests: outcome.readRequests,
    durationMs: outcome.durationMs,
  });
  deps.onOutcome?.(outcome);
  return outcome;
}

async function processRemoval(
  event: ObjectEvent,
  deps: PipelineDeps,
  started: number,
): Promise<ObjectOutcome> {
  // In a versioned bucket a plain Delete with a versionId removes that version only; a
  // delete marker (or an unversioned delete) hides the object whatever its version.
  const permanentVersionDelete =
    event.versionId !== undefined && !event.deleteMarker && event.eventName.endsWith(":Delete");
  const write = await deps.catalog.putTombstone({
    bucket: event.bucket,
    key: event.key,
    sequencer: event.sequencer,
    eventTime: event.eventTime,
    ...(event.versionId !== undefined && { versionId: event.versionId }),
    ...(permanentVersionDelete && { onlyVersion: event.versionId }),
  });
  const tombstoned = write.outcome === "created" || write.outcome === "updated";
  // A version delete finds its own tombstone (`duplicate`) only when a delivery stopped after writing
  // it: that retry must still look at what became current.
  const lookForCurrent = permanentVersionDelete && (tombstoned || write.outcome === "duplicate");
  const outcome: AuditOutcome = tombstoned ? "deleted" : write.outcome;
  const reasons: string[] = [];
  // Only the delete that actually tombstoned a record removes the thumbnail that record named: a stale
  // one (an older version's delete) must not take the current version's thumbnail with it. A newer
  // event of the key may have written its own thumbnail there meanwhile, which the delete, conditional
  // on the replaced thumbnail's ETag, leaves alone. It goes before the current version is cataloged,
  // which writes that version's own thumbnail under the same key.
  if (write.replacedThumbnail && deps.thumbnails) {
    const warning = await deleteThumbnail(event.bucket, write.replacedThumbnail, deps.thumbnails);
    if (warning) {
      reasons.push(warning);
      (deps.logger ?? SILENT_LOGGER).warn(warning, { bucket: event.bucket, key: event.key });
    }
  }
  if (lookForCurrent) {
    const current = await catalogCurrentVersion(event, deps, started);
    if (current) {
      return finish(event, deps, started, {
        ...current,
        outcome: "restored",
        reasons: [
          `version ${event.versionId} permanently deleted; version ${current.versionId ?? "(unknown)"} is current again`,
          ...reasons,
          ...current.reasons,
        ],
      });
    }
  }
  return finish(event, deps, started, {
    outcome,
    ...((outcome === "deleted" || lookForCurrent) && { status: "deleted" as const }),
    reasons,
    bytesRead: 0,
    readRequests: 0,
  });
}

/**
 * After a permanent delete tombstoned the current version, S3 has made the
 * next-newest version current (or nothing, when none is left or a delete
 * marker is on top): catalog it exactly as a creation is cataloged, by an
 * unpinned read. It is written under the delete's sequencer: the delete is
 * the event that made it current, so a later put or delete marker of the key
 * (a higher sequencer) still wins in either delivery order, a late create of
 * an older version is stale, and a redelivery of the delete finds a record of
 * another version and changes nothing. What the read sees may already be a
 * later state than the delete left; that state's own event carries a higher
 * sequencer and rewrites it when it arrives.
 *
 * Returns undefined when nothing is current (the tombstone stays) or a
 * later event already holds the record. The creation path's audit entry is
 * not written: the delete's own entry says what happened, so the key keeps
 * one entry per event and a redelivery only counts on it.
 */
async function catalogCurrentVersion(
  event: ObjectEvent,
  deps: PipelineDeps,
  started: number,
): Promise<(Omit<OutcomeBody, "outcome"> & { versionId?: string }) | undefined> {
  const catalog = withoutAudit(deps.catalog);
  let versionId: string | undefined;
  const storage: ObjectStorage = {
    open: async (ref) => {
      const opened = await deps.storage.open(ref);
      versionId = opened.head.versionId;
      return opened;
    },
    tag: (...args) => deps.storage.tag(...args),
  };
  const current = await processCreation(
    {
      kind: "created",
      eventName: event.eventName,
      bucket: event.bucket,
      key: event.key,
      sequencer: event.sequencer,
      eventTime: event.eventTime,
    },
    { ...deps, catalog, storage },
    started,
  );
  // Superseded: no version is current. Stale: a later event of the key is already cataloged, and the
  // record is that event's, not this delete's.
  if (current.outcome === "superseded" || current.outcome === "stale") return undefined;
  // The body of the creation's outcome; the event's own fields and outcome are the delete's.
  const { bucket, key, eventName, sequencer, eventTime, durationMs, outcome, ...body } = current;
  return { ...body, ...(versionId !== undefined && { versionId }) };
}

async function processCreation(
  event: ObjectEvent,
  deps: PipelineDeps,
  started: number,
): Promise<ObjectOutcome> {
  const { policy } = deps;
  let opened: Awaited<ReturnType<ObjectStorage["open"]>>;
  try {
    opened = await deps.storage.open({
      bucket: event.bucket,
      key: event.key,
      ...(event.eTag !== undefined && { eTag: event.eTag }),
      ...(event.versionId !== undefined && { versionId: event.versionId }),
      ...(event.size !== undefined && { size: event.size, fetchWholeUpTo: wholeFetchLimit(event, policy) }),
    });
  } catch (error) {
    if (error instanceof SourceChangedError) return superseded(event, deps, started, error);
    throw error;
  }
  const { source, head, fetched } = opened;
  try {
    const early = precheck(policy, { key: event.key, size: head.size });
    let extraction: ExtractionResult | undefined;
    let reasons = early;
    if (early.length === 0) {
      // The engine reports a spent time budget as the file's cost; whether S3 spent it instead is told here.
      const watched = new WatchedSource(source, deps.budget?.maxMillis ?? DEFAULT_BUDGET.maxMillis);
      try {
        extraction = await extract(watched, {
          blockSize: S3_BLOCK_BYTES,
          // S3's stored full-object SHA-256 saves reading every byte again.
          hash: fullObjectSha256(head.checksum) === undefined && head.size <= policy.hashMaxBytes,
          ...(head.contentType !== undefined && { declaredMime: head.contentType }),
          name: event.key,
          sourceName: `s3://${event.bucket}/${event.key}`,
          ...(deps.budget && { budget: deps.budget }),
        });
        const fault = watched.faultOf(extraction);
        if (fault) throw fault;
      } catch (error) {
        if (error instanceof SourceChangedError) return superseded(event, deps, started, error);
        throw error;
      }
      reasons = evaluate(policy, {
        key: event.key,
        size: head.size,
        format: extraction.format,
        ...(extraction.document?.macros && { macros: true }),
      });
    }
    // The thumbnail is written before the record, so a record never names a thumbnail that is not there.
    let derived: Awaited<ReturnType<typeof deriveThumbnail>> | undefined;
    if (extraction && reasons.length === 0 && deps.thumbnails) {
      try {
        derived = await deriveThumbnail(
          {
            bucket: event.bucket,
            key: event.key,
            sequencer: event.sequencer,
            eTag: head.eTag,
            source,
            extraction,
            ...(event.replacedThumbnail && { replacing: event.replacedThumbnail }),
          },
          deps.thumbnails,
        );
      } catch (error) {
        if (error instanceof SourceChangedError) return superseded(event, deps, started, error);
        throw error;
      }
    }
    const status: Exclude<RecordStatus, "deleted"> =
      reasons.length > 0 ? "rejected" : (extraction?.status ?? "error");
    const allReasons = extraction?.reason ? [...reasons, extraction.reason] : reasons;
    // What the storage fetched is the truth (a whole-object GET serves every later read from memory);
    // a storage that does not count is summed from the steps instead.
    const bytesRead = fetched?.bytes ?? (extraction?.bytesRead ?? 0) + (derived?.bytesRead ?? 0);
    const readRequests = fetched?.requests ?? (extraction?.readRequests ?? 0) + (derived?.readRequests ?? 0);
    const versionId = head.versionId ?? event.versionId;
    // The tag goes before the record that stops saying so: the record replaced, rejected and tagged,
    // stays until the tag is gone, so a pass that fails here finds the object again on its next run.
    if (status !== "rejected" && event.taggedRejected) await untagRejected(event, deps, versionId);
    const write = await deps.catalog.putRecord({
      ...systemMetadata(event, head),
      sequencer: event.sequencer,
      eventTime: event.eventTime,
      status,
      reasons: allReasons,
      ...(extraction && { extraction }),
      bytesRead,
      readRequests,
      durationMs: elapsed(started),
      extractorVersion: extraction?.extractorVersion ?? EXTRACTOR_VERSION,
      ...(derived?.thumbnail && { thumbnail: derived.thumbnail }),
      ...(derived && derived.warnings.length > 0 && { transformWarnings: derived.warnings }),
      // Still rejected under a policy that does not tag: a tag put there before stays, and is known.
      ...(status === "rejected" && { taggedRejected: policy.tagRejected || event.taggedRejected === true }),
    });
    if (derived?.newerThumbnail !== undefined) {
      (deps.logger ?? SILENT_LOGGER).info("thumbnail left to a newer event", {
        bucket: event.bucket,
        key: event.key,
        sequencer: event.sequencer,
        newerSequencer: derived.newerThumbnail,
      });
    }
    // A newer event of the key holds the record (or its tombstone): the thumbnail this event wrote
    // would outlive it as an orphan, or stand under the newer record. It goes, conditional on its ETag,
    // so one a newer event has written over it since stays. One shared with a newer event is not ours.
    if (
      write.outcome === "stale" &&
      derived?.thumbnail &&
      derived.sharedWith === undefined &&
      deps.thumbnails
    ) {
      await withdrawThumbnail(event, derived.thumbnail, deps.thumbnails, deps.logger ?? SILENT_LOGGER);
    }
    if (versionId !== undefined && (write.outcome === "created" || write.outcome === "updated")) {
      const deletion = await deps.catalog.deletedVersion(event.bucket, event.key, versionId);
      if (deletion) {
        return deletedMeanwhile(event, deps, started, { versionId, deletion, bytesRead, readRequests });
      }
    }
    if (status === "rejected" && policy.tagRejected && write.outcome !== "stale") {
      await tagRejected(event, deps, versionId);
    }
    // The content replaced had a thumbnail and this one has none (not an image, rejected, not renderable):
    // the old one would outlive it, showing what the object no longer is. Conditional on its ETag, as
    // on a delete: a newer event's thumbnail written there meanwhile stays.
    if (write.replacedThumbnail && !derived?.thumbnail && deps.thumbnails) {
      const warning = await deleteThumbnail(event.bucket, write.replacedThumbnail, deps.thumbnails);
      if (warning) (deps.logger ?? SILENT_LOGGER).warn(warning, { bucket: event.bucket, key: event.key });
    }
    return finish(event, deps, started, {
      outcome: creationOutcome(write.outcome, status),
      status,
      reasons: allReasons,
      ...(extraction && { mime: extraction.format.mime, category: extraction.format.category }),
      bytesRead,
      readRequests,
      ...(extraction && { extractionMs: extraction.durationMs }),
      ...(derived?.thumbnail?.durationMs !== undefined && { thumbnailMs: derived.thumbnail.durationMs }),
      ...(write.sha256 !== undefined && { sha256: write.sha256 }),
    });
  } finally {
    await source.close?.();
  }
}

/**
 * Removes the thumbnail an event wrote for a record that was refused as
 * stale. Only with its ETag: a plain delete could take a newer event's
 * thumbnail written there since, so without one (a store that answered no
 * ETag) it stays for the lifecycle rule to expire.
 */
async function withdrawThumbnail(
  event: ObjectEvent,
  thumbnail: ThumbnailRef,
  settings: ThumbnailSettings,
  logger: PipelineLogger,
): Promise<void> {
  if (thumbnail.eTag === undefined) {
    logger.warn(`thumbnail: not deleted: the store gave ${thumbnail.key} no ETag to delete it by`, {
      bucket: event.bucket,
      key: event.key,
    });
    return;
  }
  const warning = await deleteThumbnail(event.bucket, thumbnail, settings);
  if (warning) logger.warn(warning, { bucket: event.bucket, key: event.key });
}

/**
 * How large an object may be and still be fetched in one GET: one block
 * always (a ranged read of the first block would cost the same request),
 * and up to {@link WHOLE_OBJECT_MAX_BYTES} when the policy hashes it (every
 * byte is read then anyway). Nothing is fetched whole for an object the
 * policy turns away on its name or size alone: that one needs only a HEAD.
 */
function wholeFetchLimit(event: ObjectEvent, policy: Policy): number {
  if (event.size === undefined || precheck(policy, { key: event.key, size: event.size }).length > 0) return 0;
  return Math.max(S3_BLOCK_BYTES, Math.min(policy.hashMaxBytes, WHOLE_OBJECT_MAX_BYTES));
}

function creationOutcome(write: WriteOutcome, status: RecordStatus): AuditOutcome {
  if (write === "stale" || write === "duplicate") return write;
  if (status === "rejected" || status === "error") return status;
  return write;
}

/** Tagging follows the record write: a retry after a failed tag rewrites nothing and tags again. */
async function tagRejected(
  event: ObjectEvent,
  deps: PipelineDeps,
  versionId: string | undefined,
): Promise<void> {
  try {
    await deps.storage.tag(event.bucket, event.key, { ...REJECTED_TAG }, versionId ? { versionId } : {});
  } catch (error) {
    // Gone since: nothing left to tag, and the next event for the key will be cataloged on its own.
    if (error instanceof SourceChangedError) return;
    throw error;
  }
}

/**
 * Removes the tag {@link tagRejected} put, keeping the object's other tags: one read of its tags,
 * and a write only when it carries the tag.
 */
async function untagRejected(
  event: ObjectEvent,
  deps: PipelineDeps,
  versionId: string | undefined,
): Promise<void> {
  const untagged = Object.fromEntries(Object.keys(REJECTED_TAG).map((name) => [name, null]));
  try {
    await deps.storage.tag(event.bucket, event.key, untagged, versionId ? { versionId } : {});
  } catch (error) {
    // Gone since: nothing left to untag.
    if (error instanceof SourceChangedError) return;
    throw error;
  }
}

/**
 * The version this creation cataloged was permanently deleted after it was
 * read and before its record was written, and that delete, processed in
 * between, found another version's record and changed nothing. The delete is
 * applied now (see {@link applyVersionDelete}); the creation is audited as `superseded`.
 */
async function deletedMeanwhile(
  event: ObjectEvent,
  deps: PipelineDeps,
  started: number,
  found: { versionId: string; deletion: EventStamp; bytesRead: number; readRequests: number },
): Promise<ObjectOutcome> {
  const outcome = await applyVersionDelete(event, found.versionId, found.deletion, deps, started);
  const restored = outcome === "restored" ? "; the version current since then is cataloged" : "";
  return finish(event, deps, started, {
    outcome: "superseded",
    reasons: [
      `version ${found.versionId} was permanently deleted while this event was being processed${restored}`,
    ],
    bytesRead: found.bytesRead,
    readRequests: found.readRequests,
  });
}

/**
 * Applies a permanent delete of `versionId` found by its marker, exactly as if
 * it had been delivered after the creation: the version's record, if it is the
 * one stored, is tombstoned and what S3 holds now as current is cataloged
 * under the delete's sequencer. Otherwise nothing changes (`stale`). The
 * delete's own audit entry already exists, so none is written for it here.
 */
async function applyVersionDelete(
  event: ObjectEvent,
  versionId: string,
  deletion: EventStamp,
  deps: PipelineDeps,
  started: number,
): Promise<AuditOutcome> {
  const removal = await processRemoval(
    {
      kind: "removed",
      eventName: "ObjectRemoved:Delete",
      bucket: event.bucket,
      key: event.key,
      ...deletion,
      versionId,
      deleteMarker: false,
    },
    { ...deps, catalog: withoutAudit(deps.catalog) },
    started,
  );
  return removal.outcome;
}

/** The same writer without audit entries, for a step whose event is audited by its caller. */
function withoutAudit(catalog: CatalogWriter): CatalogWriter {
  return {
    putRecord: (input) => catalog.putRecord(input),
    putTombstone: (input) => catalog.putTombstone(input),
    putAudit: async () => {},
    deletedVersion: (...args) => catalog.deletedVersion(...args),
  };
}

/**
 * The object changed, or its version is gone, since the event. For a version
 * that is gone, a delivery of this creation may have written its record and
 * stopped before looking for the version's permanent delete (see
 * {@link deletedMeanwhile}): the retry, which ends here, applies that delete if
 * it finds one; it changes nothing when the record is another version's.
 */
async function superseded(
  event: ObjectEvent,
  deps: PipelineDeps,
  started: number,
  error: SourceChangedError,
): Promise<ObjectOutcome> {
  const reasons = [error.message];
  if (event.kind === "created" && event.versionId !== undefined) {
    const deletion = await deps.catalog.deletedVersion(event.bucket, event.key, event.versionId);
    if (deletion && (await applyVersionDelete(event, event.versionId, deletion, deps, started)) !== "stale") {
      reasons.push(`the permanent delete of version ${event.versionId} is applied to the catalog`);
    }
  }
  return finish(event, deps, started, {
    outcome: "superseded",
    reasons,
    bytesRead: 0,
    readRequests: 0,
  });
}

type OutcomeBody = Omit<
  ObjectOutcome,
  "bucket" | "key" | "eventName" | "sequencer" | "eventTime" | "durationMs"
>;

/** Writes the event's audit entry and assembles the outcome. */
async function finish(
  event: ObjectEvent,
  deps: PipelineDeps,
  started: number,
  body: OutcomeBody,
): Promise<ObjectOutcome> {
  const durationMs = elapsed(started);
  await deps.catalog.putAudit({
    bucket: event.bucket,
    key: event.key,
    eventName: event.eventName,
    eventTime: event.eventTime,
    sequencer: event.sequencer,
    outcome: body.outcome,
    ...(body.status !== undefined && { status: body.status }),
    ...(body.reasons.length > 0 && { reasons: body.reasons }),
    ...(event.versionId !== undefined && { versionId: event.versionId }),
    ...(event.eTag !== undefined && { etag: event.eTag }),
    ...(event.size !== undefined && { size: event.size }),
    ...(event.principalId !== undefined && { principalId: event.principalId }),
    ...(event.sourceIPAddress !== undefined && { sourceIPAddress: event.sourceIPAddress }),
    ...(event.requestId !== undefined && { requestId: event.requestId }),
    durationMs,
    bytesRead: body.bytesRead,
    readRequests: body.readRequests,
    ...(body.sha256 !== undefined && { sha256: body.sha256 }),
  });
  return {
    bucket: event.bucket,
    key: event.key,
    eventName: event.eventName,
    sequencer: event.sequencer,
    eventTime: event.eventTime,
    ...body,
    durationMs,
  };
}

function systemMetadata(event: ObjectEvent, head: ObjectHead) {
  const lastModified = head.lastModified;
  const checksum = checksumMap(head.checksum);
  const sha256 = fullObjectSha256(head.checksum);
  return {
    bucket: event.bucket,
    key: event.key,
    ...((head.versionId ?? event.versionId) !== undefined && {
      versionId: head.versionId ?? event.versionId,
    }),
    size: head.size,
    etag: head.eTag,
    ...(head.contentType !== undefined && { contentType: head.contentType }),
    userMetadata: head.userMetadata,
    ...(head.storageClass !== undefined && { storageClass: head.storageClass }),
    ...(checksum && { checksum }),
    ...(lastModified !== undefined && { lastModified }),
    ...(sha256 && { sha256 }),
  };
}

/** The stored checksum as the record keeps it: `{ sha256: "<base64>", type: "FULL_OBJECT" }`. */
function checksumMap(checksum: ObjectHead["checksum"]): Record<string, string> | undefined {
  if (!checksum) return undefined;
  return {
    [checksum.algorithm.toLowerCase()]: checksum.value,
    ...(checksum.type && { type: checksum.type }),
  };
}

/**
 * S3's own SHA-256, as hex, when it covers the whole object (a multipart
 * upload's composite checksum, `<base64>-<parts>`, hashes part hashes, not the content).
 */
function fullObjectSha256(checksum: ObjectHead["checksum"]): string | undefined {
  if (checksum?.algorithm.toUpperCase() !== "SHA256") return undefined;
  if ((checksum.type !== undefined && checksum.type !== "FULL_OBJECT") || checksum.value.includes("-"))
    return undefined;
  const bytes = Buffer.from(checksum.value, "base64");
  return bytes.byteLength === 32 ? bytes.toString("hex") : undefined;
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 100) / 100;
}
