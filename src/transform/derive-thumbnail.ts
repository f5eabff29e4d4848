/**
 * The pipeline's transform step for one object: decide whether it gets a
 * thumbnail, look at its key under the derived prefix, and, unless the key
 * already holds one for this object version or a newer event, read it whole
 * through its pinned source, render and write. Every way this can go wrong
 * with the *content* is a warning for the record; only faults reading the
 * source (which the pipeline retries or records as superseded) escape.
 *
 * Every event of a key writes its thumbnail under the same key, so writes
 * move only forward in event order: each thumbnail carries its event's
 * sequencer in user metadata, a HEAD reads it before the write, a thumbnail
 * of a newer event is never replaced, and the PUT is conditional on what the
 * HEAD saw, so a writer that got in between is seen on the next look.
 */
import type { ByteSource } from "../engine/byte-source/byte-source.js";
import { SourceError } from "../engine/errors.js";
import type { ExtractionResult } from "../engine/types.js";
import { compareSequencers, isSequencer } from "../events/sequencer.js";
import type { DerivedHead, DerivedPrecondition, DerivedPut, DerivedWriter } from "../pipeline/ports.js";
import type { ThumbnailRef } from "../store/types.js";
import {
  DEFAULT_THUMBNAIL_LIMITS,
  renderThumbnail,
  THUMBNAIL_CONTENT_TYPE,
  THUMBNAIL_MIMES,
  type Thumbnail,
  ThumbnailError,
  type ThumbnailLimits,
  thumbnailKeyFor,
} from "./thumbnail.js";

/**
 * User metadata of a thumbnail (`x-amz-meta-event-sequencer`): the sequencer
 * of the event that wrote it. A HEAD answers it, where the XMP description
 * inside the WebP would take a GET.
 */
export const THUMBNAIL_SEQUENCER_METADATA = "event-sequencer";

/**
 * User metadata of a thumbnail (`x-amz-meta-source-etag`): the ETag of the
 * object version it was made from, so a retry of the same event keeps a
 * thumbnail only when it shows the same content.
 */
export const THUMBNAIL_SOURCE_METADATA = "source-etag";

/**
 * User metadata of a thumbnail: its width and height in pixels and its
 * ThumbHash placeholder, so that a thumbnail kept or shared (see
 * {@link ThumbnailStep.sharedWith}) is named from a HEAD without reading and
 * rendering the image again. One written before these were kept is rendered
 * once more to describe it.
 */
export const THUMBNAIL_WIDTH_METADATA = "thumbnail-width";
export const THUMBNAIL_HEIGHT_METADATA = "thumbnail-height";
export const THUMBNAIL_PLACEHOLDER_METADATA = "thumbnail-placeholder";

/**
 * Looks at the thumbnail key (a HEAD, then a conditional PUT) at most this
 * many times while other writers keep changing it in between; then the
 * record goes without a thumbnail and says why.
 */
export const MAX_THUMBNAIL_WRITE_ATTEMPTS = 4;

/** How thumbnails are made and where they go; absent from the pipeline's deps means no thumbnails. */
export interface ThumbnailSettings {
  writer: DerivedWriter;
  /** Key prefix of derived artefacts, excluded from events (e.g. `"_derived/"`). */
  derivedPrefix: string;
  limits?: Partial<ThumbnailLimits>;
}

/** What the step did for one object. */
export interface ThumbnailStep {
  /**
   * This event's thumbnail, when the key holds one: written now, or kept as
   * an earlier delivery of the same event wrote it.
   */
  thumbnail?: ThumbnailRef;
  /**
   * Set with `thumbnail` when the key holds the thumbnail of another event
   * (this sequencer) made from the same object version: a newer event's, or
   * the one the record this event replaces names (see `replacing` of
   * {@link deriveThumbnail}). It shows this content, so the record names it
   * (a backfill after the table was lost finds the thumbnails its pipeline
   * made, a reprocess those of the records it rewrites), but it stays that
   * event's: a refused record never withdraws it.
   */
  sharedWith?: string;
  /**
   * The sequencer of the newer event whose thumbnail the key holds, when that
   * is why none was written. Not a warning: this event's record is stale, or
   * about to be replaced by that newer event's.
   */
  newerThumbnail?: string;
  /** Why there is none (or anything odd on the way), each prefixed `thumbnail: `. */
  warnings: string[];
  /** Bytes fetched from the source for the thumbnail. */
  bytesRead: number;
  readRequests: number;
  /** Whether the object was one the step applies to (an image format sharp may read). */
  attempted: boolean;
}

/**
 * Makes and stores the thumbnail of one extracted object, if it is an image.
 * The object is read whole through its pinned source: one more GET (the
 * engine read only the ranges it needed) unless the source fetched it whole
 * when it was opened, and never over `maxInputBytes`; a header claiming more
 * than `maxInputPixels` is refused before that read. The write moves only
 * forward in event order (see {@link placeInOrder}), and the image is read
 * and rendered only when there is a thumbnail to write: a late retry that
 * meets a newer event's thumbnail, a redelivery that meets its own, and a
 * backfill or reprocess that meets one made from the same object version
 * (a newer event's, or the one the record it replaces names) cost a HEAD.
 *
 * @throws {SourceError} when reading the pinned object fails (including
 *   `SourceChangedError` when it was overwritten meanwhile).
 * @example
 * const step = await deriveThumbnail({ bucket, key, sequencer, eTag: head.eTag, source, extraction },
 *   { writer, derivedPrefix: "_derived/" });
 * step.thumbnail?.key // "_derived/thumbnails/photos/a.jpg.webp"
 */
export async function deriveThumbnail(
  target: {
    bucket: string;
    key: string;
    sequencer: string;
    /** ETag (unquoted) of the object version read. */
    eTag: string;
    source: ByteSource;
    extraction: ExtractionResult;
    /**
     * The thumbnail the record this event is to replace names, when the caller read that record
     * first (a catalog pass). Its event is older than this one, yet when the key still holds it
     * and it was made from the same object version, it is what this event would write.
     */
    replacing?: { key: string; eTag: string };
  },
  settings: ThumbnailSettings,
): Promise<ThumbnailStep> {
  const { bucket, key, sequencer, source, extraction } = target;
  const limits = { ...DEFAULT_THUMBNAIL_LIMITS, ...settings.limits };
  const skipped = (warning?: string): ThumbnailStep => ({
    warnings: warning ? [`thumbnail: ${warning}`] : [],
    bytesRead: 0,
    readRequests: 0,
    attempted: warning !== undefined,
  });
  if (!THUMBNAIL_MIMES.has(extraction.format.mime) || extraction.status === "error") return skipped();

  const declared = extraction.image;
  if (declared && declared.width * declared.height > limits.maxInputPixels) {
    return skipped(
      `not made: the image claims ${declared.width}x${declared.height} pixels, over the limit of ${limits.maxInputPixels}`,
    );
  }
  if (source.size > limits.maxInputBytes) {
    return skipped(`not made: ${source.size} bytes is over the limit of ${limits.maxInputBytes} bytes`);
  }

  let read = { bytesRead: 0, readRequests: 0, attempted: true };
  let rendered: Thumbnail | undefined;
  const render = async (): Promise<Thumbnail> => {
    if (rendered) return rendered;
    const image = await source.read(0, source.size);
    read = { bytesRead: image.byteLength, readRequests: 1, attempted: true };
    // Naming the event in the thumbnail gives each event's thumbnail an ETag of its own, even when
    // the image is the same as before (deleted and uploaded again): a conditional delete of the
    // previous record's thumbnail then never matches this one.
    rendered = await renderThumbnail(image, limits, { description: `s3 event sequencer ${sequencer}` });
    return rendered;
  };
  // What reading or rendering the image threw: the source's faults escape, a bad image is a warning.
  const notMade = (error: unknown): ThumbnailStep => {
    if (!(error instanceof ThumbnailError)) throw error;
    return { ...read, warnings: [`thumbnail: not made: ${error.message}`] };
  };

  const thumbnailKey = thumbnailKeyFor(settings.derivedPrefix, key);
  let placed: Placement;
  try {
    placed = await placeInOrder(
      { bucket, key: thumbnailKey },
      { [THUMBNAIL_SEQUENCER_METADATA]: sequencer, [THUMBNAIL_SOURCE_METADATA]: target.eTag },
      async () => describedBy(await render()),
      settings.writer,
      target.replacing?.key === thumbnailKey ? target.replacing.eTag : undefined,
    );
  } catch (error) {
    return notMade(error);
  }
  if ("unwritten" in placed) {
    // A thumbnail is optional: the record is written without it and a reprocess can make it again.
    const error = placed.unwritten;
    const message = error instanceof SourceError ? error.message : String((error as Error)?.message ?? error);
    return { ...read, warnings: [`thumbnail: not written: ${message}`] };
  }
  if ("newer" in placed) return { ...read, warnings: [], newerThumbnail: placed.newer };
  if ("contended" in placed) {
    return {
      ...read,
      warnings: [
        `thumbnail: not written: ${thumbnailKey} was changed by other writers ${MAX_THUMBNAIL_WRITE_ATTEMPTS} times in a row`,
      ],
    };
  }
  let looks = "written" in placed ? rendered : shapeIn(placed.kept.userMetadata);
  if (!looks) {
    try {
      looks = await render();
    } catch (error) {
      return notMade(error);
    }
  }
  const stored = "written" in placed ? placed.written : placed.kept;
  return {
    ...read,
    warnings: [],
    ...("sharedWith" in placed && { sharedWith: placed.sharedWith }),
    thumbnail: {
      key: thumbnailKey,
      ...(stored.eTag !== undefined && { eTag: stored.eTag }),
      size: stored.size,
      width: looks.width,
      height: looks.height,
      ...(looks.placeholder !== undefined && { placeholder: looks.placeholder }),
      ...(rendered && { durationMs: rendered.durationMs }),
    },
  };
}

/** A thumbnail's size and placeholder, as its user metadata keeps them. */
type Shape = Pick<Thumbnail, "width" | "height" | "placeholder">;

/** The bytes to write and the user metadata that describes them. */
function describedBy(thumbnail: Thumbnail): { bytes: Uint8Array; userMetadata: Record<string, string> } {
  return {
    bytes: thumbnail.bytes,
    userMetadata: {
      [THUMBNAIL_WIDTH_METADATA]: String(thumbnail.width),
      [THUMBNAIL_HEIGHT_METADATA]: String(thumbnail.height),
      ...(thumbnail.placeholder !== undefined && { [THUMBNAIL_PLACEHOLDER_METADATA]: thumbnail.placeholder }),
    },
  };
}

/** The shape a stored thumbnail's user metadata states; undefined for one written before it was kept. */
function shapeIn(userMetadata: Record<string, string>): Shape | undefined {
  const width = Number(userMetadata[THUMBNAIL_WIDTH_METADATA]);
  const height = Number(userMetadata[THUMBNAIL_HEIGHT_METADATA]);
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) return undefined;
  const placeholder = userMetadata[THUMBNAIL_PLACEHOLDER_METADATA];
  return { width, height, ...(placeholder !== undefined && { placeholder }) };
}

/** Where {@link placeInOrder} left the key. */
type Placement =
  /** The key holds this event's thumbnail, written now, with this ETag and size. */
  | { written: { eTag?: string; size: number } }
  /**
   * The key already holds a thumbnail of this object version: this event's,
   * from an earlier delivery, or (with `sharedWith`, its sequencer) a newer
   * event's or the replaced record's.
   */
  | { kept: DerivedHead; sharedWith?: string }
  /** The key holds the thumbnail of a newer event, of this sequencer. */
  | { newer: string }
  /** Other writers changed the key between every look and write. */
  | { contended: true }
  /** The store failed a HEAD or a PUT of the key, with this error. */
  | { unwritten: unknown };

/**
 * Puts a thumbnail under its key unless a newer event's is there, asking
 * `content` for it only when it is to be written (what `content` throws
 * escapes; a HEAD or PUT the store fails ends as `unwritten`). Before each PUT a
 * HEAD reads the sequencer the thumbnail there carries
 * ({@link THUMBNAIL_SEQUENCER_METADATA}):
 * - a newer event's: nothing is written (a late retry of an older event,
 *   hours later, or a handler that lost a race to a newer one); made from
 *   the same object version, it shows what this event's would, so it is
 *   named as shared rather than left out (a backfill, whose sequencer is
 *   the smallest there is, meets the thumbnails of every real event);
 * - this event's, made from the same object version: kept as it is. An
 *   earlier delivery of the event wrote it and may have written its record
 *   too, which names that ETag;
 * - an older event's with the ETag `replacedETag` (the thumbnail the record
 *   this event replaces names), made from the same object version: shared,
 *   as a newer event's is. A catalog pass writes with the smallest sequencer
 *   above that record's, so no event of the key lies between the two; a
 *   newer one that removes or replaces this thumbnail does so by replacing
 *   either record, conditional on this ETag, which both name. Any other
 *   older event's is not kept even when made from the same object: a delete
 *   between the two events, handled late, would take it from under this
 *   event's record (each event's thumbnail has an ETag of its own for that);
 * - an older event's otherwise, one without the metadata (written before it
 *   was kept), or none: replaced with `If-Match` on the ETag seen, or written
 *   with `If-None-Match: *`. S3 refuses the PUT when another writer got in
 *   between (412; 409 or 404 when it was a delete); the key is looked at
 *   again, at most {@link MAX_THUMBNAIL_WRITE_ATTEMPTS} times.
 *
 * A store without conditional writes (501 NotImplemented, as some
 * S3-compatible stores answer) gets the same PUT without its condition,
 * right after the HEAD: a late retry meets no writer in between, so it still
 * never replaces a newer thumbnail; only two handlers racing within that one
 * round trip can leave the older one's thumbnail, as before this ordering.
 * Stores that ignore the condition headers behave the same way.
 */
async function placeInOrder(
  target: { bucket: string; key: string },
  label: { [THUMBNAIL_SEQUENCER_METADATA]: string; [THUMBNAIL_SOURCE_METADATA]: string },
  content: () => Promise<{ bytes: Uint8Array; userMetadata: Record<string, string> }>,
  writer: DerivedWriter,
  replacedETag?: string,
): Promise<Placement> {
  const { bucket, key } = target;
  const sequencer = label[THUMBNAIL_SEQUENCER_METADATA];
  for (let attempt = 0; attempt < MAX_THUMBNAIL_WRITE_ATTEMPTS; attempt++) {
    let there: DerivedHead | undefined;
    try {
      there = await writer.head(bucket, key);
    } catch (error) {
      return { unwritten: error };
    }
    const theirs = there?.userMetadata[THUMBNAIL_SEQUENCER_METADATA];
    if (there && theirs !== undefined && isSequencer(theirs)) {
      const order = compareSequencers(theirs, sequencer);
      const sameSource = there.userMetadata[THUMBNAIL_SOURCE_METADATA] === label[THUMBNAIL_SOURCE_METADATA];
      if (order > 0) return sameSource ? { kept: there, sharedWith: theirs } : { newer: theirs };
      if (order === 0 && sameSource) return { kept: there };
      if (sameSource && there.eTag === replacedETag) return { kept: there, sharedWith: theirs };
    }
    const { bytes, userMetadata } = await content();
    const precondition: DerivedPrecondition = there ? { ifMatch: there.eTag } : { ifNoneMatch: "*" };
    const options = { userMetadata: { ...label, ...userMetadata } };
    let put: DerivedPut;
    try {
      put = await writer.put(bucket, key, bytes, THUMBNAIL_CONTENT_TYPE, { ...options, precondition });
      if (put.outcome === "unsupported")
        put = await writer.put(bucket, key, bytes, THUMBNAIL_CONTENT_TYPE, options);
    } catch (error) {
      return { unwritten: error };
    }
    if (put.outcome === "written") {
      return { written: { ...(put.eTag !== undefined && { eTag: put.eTag }), size: bytes.byteLength } };
    }
  }
  return { contended: true };
}

/**
 * Removes the thumbnail a replaced or deleted record named, or the one a
 * handler wrote for a record that was then refused as stale. Every event of
 * a key writes its thumbnail under the same key, so a newer event may have
 * put its own there already: the delete is conditional on the ETag the
 * record kept, and a thumbnail with another ETag stays (not an error). A
 * record written before thumbnails kept their ETag gets a plain delete.
 * Best effort: a failure is returned as a warning, since the lifecycle rule
 * on the derived prefix expires the thumbnail anyway.
 *
 * A store without conditional deletes (501 NotImplemented) gets a HEAD and,
 * when the key still holds that ETag, a plain delete: a late retry meets no
 * writer in between and removes exactly its own thumbnail; a newer event
 * writing within that one round trip would lose its thumbnail (its record
 * then shows none), where leaving every such thumbnail would orphan it.
 *
 * @example
 * const warning = await deleteThumbnail("uploads", { key: record.thumbnailKey, eTag: record.thumbnailEtag }, settings);
 */
export async function deleteThumbnail(
  bucket: string,
  thumbnail: { key: string; eTag?: string },
  settings: ThumbnailSettings,
): Promise<string | undefined> {
  // A record names only what the pipeline wrote; anything else is not the pipeline's to delete.
  if (!thumbnail.key.startsWith(settings.derivedPrefix)) {
    return `thumbnail: not deleted: ${thumbnail.key} is outside the derived prefix ${settings.derivedPrefix}`;
  }
  const { writer } = settings;
  try {
    const deleted = await writer.delete(bucket, thumbnail.key, {
      ...(thumbnail.eTag !== undefined && { ifMatch: thumbnail.eTag }),
    });
    if (deleted === "unsupported" && (await writer.head(bucket, thumbnail.key))?.eTag === thumbnail.eTag) {
      await writer.delete(bucket, thumbnail.key);
    }
    return undefined;
  } catch (error) {
    return `thumbnail: not deleted: ${(error as Error)?.message ?? String(error)}`;
  }
}
