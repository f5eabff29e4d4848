/**
 * Thumbnails: a WebP preview of an image, longest side at most 256 px, with
 * the EXIF orientation applied, rendered by sharp (libvips). Pure: bytes in,
 * bytes out; where the image comes from and where the thumbnail goes is the
 * caller's business (see `derive-thumbnail.ts`).
 *
 * sharp cannot read by ranges (a decoder needs the whole compressed image),
 * so callers hand it the whole object, capped by {@link ThumbnailLimits.maxInputBytes};
 * decoded size is capped separately by {@link ThumbnailLimits.maxInputPixels},
 * which libvips checks against the header before decoding anything.
 */
import { CatalogError } from "../engine/errors.js";

/** Bounds on one thumbnail; every one of them is a named limit, not an ad-hoc check. */
export interface ThumbnailLimits {
  /** Longest side of the thumbnail; smaller images keep their size. @default 256 */
  maxSide: number;
  /** Objects larger than this are not read for a thumbnail. @default 50 MiB */
  maxInputBytes: number;
  /** Images whose header claims more pixels are refused before decoding (decompression bombs). @default 100 megapixels */
  maxInputPixels: number;
  /** Wall time sharp may spend; libvips stops the pipeline past it. Whole seconds. @default 10 s */
  timeoutMs: number;
  /** WebP quality, 1-100. @default 75 */
  quality: number;
  /** Also compute a ThumbHash placeholder string (a few dozen bytes). @default true */
  placeholder: boolean;
}

export const DEFAULT_THUMBNAIL_LIMITS: ThumbnailLimits = {
  maxSide: 256,
  maxInputBytes: 50 * 1024 * 1024,
  maxInputPixels: 100_000_000,
  timeoutMs: 10_000,
  quality: 75,
  placeholder: true,
};

/**
 * Formats the thumbnail step tries. Raster formats only: SVG would make
 * librsvg interpret a document (and sharp renders it at its own size); HEIC
 * is listed because sharp builds with a HEVC decoder can read it, and the
 * prebuilt one cannot, which then becomes a warning rather than silence.
 */
export const THUMBNAIL_MIMES: ReadonlySet<string> = new Set([
  "image/jpeg",
  "image/png",
  "image/apng",
  "image/gif",
  "image/webp",
  "image/avif",
  "image/tiff",
  "image/heic",
  "image/heif",
]);

/** Content type of every thumbnail. */
export const THUMBNAIL_CONTENT_TYPE = "image/webp";

/** What a thumbnail says about itself. */
export interface ThumbnailLabel {
  /** Text stored as the thumbnail's XMP description (`dc:description`); none when absent. */
  description?: string;
}

/** A rendered thumbnail. */
export interface Thumbnail {
  bytes: Uint8Array;
  width: number;
  height: number;
  /** ThumbHash of the thumbnail, base64, when asked for. */
  placeholder?: string;
  /** Time sharp took, milliseconds. */
  durationMs: number;
}

/** An image could not be made into a thumbnail; a warning on the record, never its error. */
export class ThumbnailError extends CatalogError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ThumbnailError";
  }
}

/**
 * Where the thumbnail of `key` lives: `<derivedPrefix>thumbnails/<key>.webp`.
 *
 * @example
 * thumbnailKeyFor("_derived/", "photos/a b.jpg") // "_derived/thumbnails/photos/a b.jpg.webp"
 */
export function thumbnailKeyFor(derivedPrefix: string, key: string): string {
  return `${derivedPrefix}thumbnails/${key}.webp`;
}

/**
 * Renders at once per process. The handler processes several objects concurrently; a decoded image can
 * take up to `maxInputPixels` x 4 bytes, so renders queue rather than multiply that by the concurrency.
 */
export const MAX_CONCURRENT_RENDERS = 2;
let rendering = 0;
const waiting: (() => void)[] = [];

async function withRenderSlot<T>(render: () => Promise<T>): Promise<T> {
  // A finished render hands its slot straight to the next in line, so no newcomer can slip in between.
  if (rendering < MAX_CONCURRENT_RENDERS) rendering += 1;
  else await new Promise<void>((resolve) => waiting.push(resolve));
  try {
    return await render();
  } finally {
    const next = waiting.shift();
    if (next) next();
    else rendering -= 1;
  }
}

type Sharp = typeof import("sharp")["default"];
let sharpModule: Promise<Sharp> | undefined;

/**
 * Loads sharp and ThumbHash now rather than with the first image, for
 * long-running processes (see `preloadExtractors`). Rejects when sharp is
 * not available; rendering then reports it per image as before.
 *
 * @example
 * void preloadThumbnailer().catch(() => {});
 */
export async function preloadThumbnailer(): Promise<void> {
  await Promise.all([loadSharp(), loadThumbHash()]);
}

/**
 * sharp is a native module loaded on first use, so objects that are not
 * images never pay its start-up, and a deployment that ships without it
 * still catalogs (with a warning per image) instead of failing to start.
 */
async function loadSharp(): Promise<Sharp> {
  sharpModule ??= import("sharp").then(({ default: sharp }) => {
    // A long-lived process (Lambda container, local stack) renders unrelated images: libvips' operation
    // cache would only hold memory.
    sharp.cache(false);
    return sharp;
  });
  return sharpModule.catch((error: unknown) => {
    sharpModule = undefined;
    throw new ThumbnailError(`sharp is not available: ${firstLine(error)}`, { cause: error });
  });
}

/** An XMP packet holding `text` as the image's description (Dublin Core), escaped for XML. */
function xmpDescribing(text: string): string {
  const escaped = text.replace(/[<>&"]/g, (character) => `&#${character.charCodeAt(0)};`);
  return (
    '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">' +
    '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:description><rdf:Alt>' +
    `<rdf:li xml:lang="x-default">${escaped}</rdf:li></rdf:Alt></dc:description></rdf:Description></rdf:RDF></x:xmpmeta>`
  );
}

/**
 * Renders a WebP thumbnail of an encoded image: orientation applied
 * (`rotate()` reads EXIF), longest side at most `maxSide`, first frame of
 * an animation, never enlarged.
 *
 * The image's own metadata is not carried over; `label.description`, when
 * given, is the only metadata written.
 *
 * @throws {ThumbnailError} when the image is refused (too many pixels, too
 *   slow) or cannot be decoded; the message is one line for a record.
 * @example
 * const thumbnail = await renderThumbnail(await readFile("photo.jpg"));
 * await writeFile("photo.webp", thumbnail.bytes); // thumbnail.width <= 256
 */
export async function renderThumbnail(
  image: Uint8Array,
  limits: Partial<ThumbnailLimits> = {},
  label: ThumbnailLabel = {},
): Promise<Thumbnail> {
  const bounds = { ...DEFAULT_THUMBNAIL_LIMITS, ...limits };
  if (image.byteLength > bounds.maxInputBytes) {
    throw new ThumbnailError(`image of ${image.byteLength} bytes exceeds ${bounds.maxInputBytes} bytes`);
  }
  const sharp = await loadSharp();
  return withRenderSlot(async () => {
    const started = performance.now();
    try {
      let pipeline = sharp(image, {
        limitInputPixels: bounds.maxInputPixels,
        // A truncated image still gives a useful preview of what is there; a broken one fails.
        failOn: "error",
      })
        .rotate()
        .resize(bounds.maxSide, bounds.maxSide, { fit: "inside", withoutEnlargement: true })
        .webp({ quality: bounds.quality });
      // XMP, not EXIF: libvips builds the EXIF it writes on the input's, which carries the source's
      // own preview image (IFD1), and a thumbnail must show no more than itself.
      if (label.description !== undefined) pipeline = pipeline.withXmp(xmpDescribing(label.description));
      const { data, info } = await pipeline
        .timeout({ seconds: Math.max(1, Math.ceil(bounds.timeoutMs / 1000)) })
        .toBuffer({ resolveWithObject: true });
      const placeholder = bounds.placeholder ? await thumbHashOf(sharp, data) : undefined;
      return {
        bytes: data,
        width: info.width,
        height: info.height,
        ...(placeholder !== undefined && { placeholder }),
        durationMs: Math.round((performance.now() - started) * 100) / 100,
      };
    } catch (error) {
      if (error instanceof ThumbnailError) throw error;
      throw new ThumbnailError(firstLine(error), { cause: error });
    }
  });
}

let thumbHashModule: Promise<typeof import("thumbhash")> | undefined;

/** Loaded with the first thumbnail, then kept: a repeated `import()` resolves again (see `loadExtractor`). */
function loadThumbHash(): Promise<typeof import("thumbhash")> {
  thumbHashModule ??= import("thumbhash");
  return thumbHashModule;
}

/** ThumbHash wants at most 100x100 RGBA; it is computed from the thumbnail, which costs little. */
async function thumbHashOf(sharp: Sharp, thumbnail: Buffer): Promise<string> {
  const { rgbaToThumbHash } = await loadThumbHash();
  const { data, info } = await sharp(thumbnail)
    .resize(100, 100, { fit: "inside" })
    .ensureAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return Buffer.from(rgbaToThumbHash(info.width, info.height, data)).toString("base64");
}

/** libvips reports one line per failed seek and so on; the record keeps the gist. */
function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const lines = message
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean);
  // For HEIC the useful line ("...not been built in: HEVC...") follows several seek complaints.
  const line = lines.find((line) => /not been built in|exceeds|timeout|unsupported/i.test(line)) ?? lines[0];
  // sharp ends some messages with a colon before a libvips detail it does not always have
  // ("Input buffer has corrupt header:"): a warning should not read as cut off.
  return line?.replace(/\s*:$/, "") || "unknown error";
}
