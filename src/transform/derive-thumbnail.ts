/**
 * The pipeline's transform step for one object: decide whether it gets a
 * thumbnail, read it whole through its pinned source, render, write under
 * the derived prefix. Every way this can go wrong with the *content* is a
 * warning for the record; only faults reading the source (which the
 * pipeline retries or records as superseded) escape.
 */
import type { ByteSource } from "../engine/byte-source/byte-source.js";
import { SourceError } from "../engine/errors.js";
import type { ExtractionResult } from "../engine/types.js";
import type { DerivedWriter } from "../pipeline/ports.js";
import type { ThumbnailRef } from "../store/types.js";
import {
  DEFAULT_THUMBNAIL_LIMITS,
  renderThumbnail,
  THUMBNAIL_CONTENT_TYPE,
  THUMBNAIL_MIMES,
  ThumbnailError,
  type ThumbnailLimits,
  thumbnailKeyFor,
} from "./thumbnail.js";

/** How thumbnails are made and where they go; absent from the pipeline's deps means no thumbnails. */
export interface ThumbnailSettings {
  writer: DerivedWriter;
  /** Key prefix of derived artefacts, excluded from events (e.g. `"_derived/"`). */
  derivedPrefix: string;
  limits?: Partial<ThumbnailLimits>;
}

/** What the step did for one object. */
export interface ThumbnailStep {
  /** The written thumbnail, when there is one. */
  thumbnail?: ThumbnailRef;
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
 * The object is read with one more pinned GET (the engine read only the
 * ranges it needed), never over `maxInputBytes`; a header claiming more
 * than `maxInputPixels` is refused before that read.
 *
 * @throws {SourceError} when reading the pinned object fails (including
 *   `SourceChangedError` when it was overwritten meanwhile).
 * @example
 * const step = await deriveThumbnail({ bucket, key, source, extraction }, { writer, derivedPrefix: "_derived/" });
 * step.thumbnail?.key // "_derived/thumbnails/photos/a.jpg.webp"
 */
export async function deriveThumbnail(
  target: {
    bucket: string;
    key: string;
    sequencer: string;
    source: ByteSource;
    extraction: ExtractionResult;
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

  const image = await source.read(0, source.size);
  const read = { bytesRead: image.byteLength, readRequests: 1, attempted: true };
  let rendered: Awaited<ReturnType<typeof renderThumbnail>>;
  try {
    // Naming the event in the thumbnail gives each event's thumbnail an ETag of its own, even when
    // the image is the same as before (deleted and uploaded again): a conditional delete of the
    // previous record's thumbnail then never matches this one.
    rendered = await renderThumbnail(image, limits, { description: `s3 event sequencer ${sequencer}` });
  } catch (error) {
    if (!(error instanceof ThumbnailError)) throw error;
    return { ...read, warnings: [`thumbnail: not made: ${error.message}`] };
  }

  const thumbnailKey = thumbnailKeyFor(settings.derivedPrefix, key);
  let written: { eTag?: string };
  try {
    written = await settings.writer.put(bucket, thumbnailKey, rendered.bytes, THUMBNAIL_CONTENT_TYPE);
  } catch (error) {
    // A thumbnail is optional: the record is written without it and a reprocess can make it again.
    const message = error instanceof SourceError ? error.message : String((error as Error)?.message ?? error);
    return { ...read, warnings: [`thumbnail: not written: ${message}`] };
  }
  return {
    ...read,
    warnings: [],
    thumbnail: {
      key: thumbnailKey,
      ...(written.eTag !== undefined && { eTag: written.eTag }),
      size: rendered.bytes.byteLength,
      width: rendered.width,
      height: rendered.height,
      ...(rendered.placeholder !== undefined && { placeholder: rendered.placeholder }),
      durationMs: rendered.durationMs,
    },
  };
}

/**
 * Removes the thumbnail a replaced or deleted record named. Every event of
 * a key writes its thumbnail under the same key, so a newer event may have
 * put its own there already: the delete is conditional on the ETag the
 * record kept, and a thumbnail with another ETag stays (not an error). A
 * record written before thumbnails kept their ETag gets a plain delete.
 * Best effort: a failure is returned as a warning, since the lifecycle rule
 * on the derived prefix expires the thumbnail anyway.
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
  try {
    await settings.writer.delete(bucket, thumbnail.key, {
      ...(thumbnail.eTag !== undefined && { ifMatch: thumbnail.eTag }),
    });
    return undefined;
  } catch (error) {
    return `thumbnail: not deleted: ${(error as Error)?.message ?? String(error)}`;
  }
}
