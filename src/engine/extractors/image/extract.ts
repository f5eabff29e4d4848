import { imageSize } from "image-size";
import type { ByteRange } from "../../byte-source/block-reader.js";
import { BlockReader } from "../../byte-source/block-reader.js";
import { BufferSource } from "../../byte-source/byte-source.js";
import { NETPBM_HEADER_BYTES, readNetpbmHeader } from "../../detect/signatures.js";
import { ContentError, LimitExceededError } from "../../errors.js";
import { boundedLength, HEAD_WINDOW_BYTES, MAX_STRUCTURE_BYTES, withinFile } from "../../limits.js";
import { textDecoder } from "../../text-decoder.js";
import type { ExifInfo, ImageInfo, Sections } from "../../types.js";
import type { ExtractContext } from "../extractor.js";
import { decodeMoov, type MovieHeader } from "../media/iso-bmff.js";
import { readExactly, startsWith, viewOf } from "./byte-reading.js";
import { readCr3Metadata } from "./cr3.js";
import { readExif } from "./exif.js";
import { readGifStructure } from "./gif.js";
import {
  type BoxList,
  childBoxes,
  exifItemLocation,
  listTopLevelBoxes,
  noteBoxWalkEnd,
  readExifPayload,
} from "./iso-boxes.js";
import { endsWithEndMarker, readJpegHeader } from "./jpeg.js";
import { endsWithIend, pngPixelFormat, readPngChunks } from "./png.js";
import { readPsdHeader } from "./psd.js";
import { findSvgRoot, readSvgTitle, svgSizingTag } from "./svg.js";
import { readJpegXrHeader, readTiffHeader } from "./tiff.js";
import { readWebpStructure } from "./webp.js";
import { readXmp } from "./xmp.js";

/** Format families this extractor decodes, keyed by detected MIME type. */
export type ImageKind =
  | "jpeg"
  | "png"
  | "gif"
  | "webp"
  | "tiff"
  | "raf"
  | "bmp"
  | "ico"
  | "psd"
  | "svg"
  | "heif"
  | "jxl"
  | "jp2"
  | "j2c"
  | "jxr"
  | "cr3"
  | "netpbm"
  | "other";

/** MIME type (as detection names it) to format family. */
export const IMAGE_KINDS: Readonly<Record<string, ImageKind>> = {
  "image/jpeg": "jpeg",
  "image/png": "png",
  "image/apng": "png",
  "image/gif": "gif",
  "image/webp": "webp",
  "image/tiff": "tiff",
  "image/x-adobe-dng": "tiff",
  "image/x-canon-cr2": "tiff",
  "image/x-nikon-nef": "tiff",
  "image/x-sony-arw": "tiff",
  "image/x-olympus-orf": "tiff",
  "image/x-panasonic-rw2": "tiff",
  "image/x-fujifilm-raf": "raf",
  "image/x-canon-cr3": "cr3",
  "image/bmp": "bmp",
  "image/x-ms-bmp": "bmp",
  "image/x-icon": "ico",
  "image/vnd.microsoft.icon": "ico",
  "image/vnd.adobe.photoshop": "psd",
  "image/svg+xml": "svg",
  "image/avif": "heif",
  "image/heic": "heif",
  "image/heif": "heif",
  "image/heic-sequence": "heif",
  "image/heif-sequence": "heif",
  "image/jxl": "jxl",
  "image/jp2": "jp2",
  "image/jpx": "jp2",
  "image/j2c": "j2c",
  "image/x-jp2-codestream": "j2c",
  // file-type names JPEG XR by its registered type, the `mime` table by the older one.
  "image/vnd.ms-photo": "jxr",
  "image/jxr": "jxr",
  "image/x-portable-bitmap": "netpbm",
  "image/x-portable-graymap": "netpbm",
  "image/x-portable-pixmap": "netpbm",
  "image/x-portable-arbitrarymap": "netpbm",
  "image/icns": "other",
  "image/ktx": "other",
};

/** Tail bytes searched for JPEG's end-of-image marker. */
const JPEG_TAIL_BYTES = 1024;

/**
 * Decodes an image's dimensions, depth, frames and EXIF from its headers,
 * reading the head window and following offsets through the reader; pixel
 * data is never read. Dimensions go to `ctx.partial` as soon as they are
 * known, so a truncated file still yields a `partial` result with them.
 *
 * @example
 * const { image } = await extractImage(ctx);
 * // image = { width: 4032, height: 3024, orientation: 6, exif: { make: "Apple", ... } }
 */
export async function extractImage(ctx: ExtractContext): Promise<Sections> {
  const kind = IMAGE_KINDS[ctx.format.mime] ?? kindOfUnnamed(await head(ctx, 4));
  const image = await DECODERS[kind](ctx);
  return image ? { image } : {};
}

type Decoder = (ctx: ExtractContext) => Promise<ImageInfo | undefined>;

const DECODERS: Record<ImageKind, Decoder> = {
  jpeg: decodeJpeg,
  png: decodePng,
  gif: decodeGif,
  webp: decodeWebp,
  tiff: decodeTiff,
  raf: decodeRaf,
  bmp: decodeBmp,
  ico: decodeIco,
  psd: decodePsd,
  svg: decodeSvg,
  heif: decodeHeif,
  jxl: decodeJxl,
  jp2: decodeJp2,
  j2c: decodeJ2c,
  jxr: decodeJxr,
  cr3: decodeCr3,
  netpbm: decodeNetpbm,
  other: async (ctx) => publish(ctx, sizeOf(await head(ctx), ctx.format.mime)),
};

/** Content detection did not name: the descriptor's sniff claimed it as TIFF or SVG. */
function kindOfUnnamed(first: Uint8Array): ImageKind {
  return startsWith(first, [0x49, 0x49, 0x2a, 0x00]) || startsWith(first, [0x4d, 0x4d, 0x00, 0x2a])
    ? "tiff"
    : "svg";
}

async function head(ctx: ExtractContext, length = HEAD_WINDOW_BYTES): Promise<Uint8Array> {
  return ctx.reader.read(0, Math.min(ctx.reader.size, length));
}

/**
 * image-size over bytes we hold; its TypeErrors become content errors.
 * It reads through `new DataView(bytes.buffer, offset)` with no length, so
 * over a view into a larger buffer (a cached block, a pooled Buffer) a short
 * file would be sized from bytes past its end; it gets a buffer of its own.
 */
function sizeOf(bytes: Uint8Array, what: string): ImageInfo & { images?: number } {
  const exact =
    bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
  let size: ReturnType<typeof imageSize>;
  try {
    size = imageSize(exact);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // image-size's word for a header it cannot place ("unsupported file type: undefined") says nothing
    // of the file, whose type detection already placed: its header is damaged.
    throw new ContentError(
      /^unsupported file type/i.test(message)
        ? `${what}: damaged header (no size can be read)`
        : `${what}: ${message}`,
    );
  }
  if (!size.width || !size.height) throw new ContentError(`${what}: no dimensions`);
  return {
    width: size.width,
    height: size.height,
    ...(size.images && { images: size.images.length }),
  };
}

/** Records what is known so far; a later content error still leaves a partial result. */
function publish(ctx: ExtractContext, image: ImageInfo): ImageInfo {
  const { width, height, orientation, bitDepth, colorType, frames, animated, duration, exif } = image;
  const clean: ImageInfo = {
    width,
    height,
    ...(orientation !== undefined && { orientation }),
    ...(bitDepth !== undefined && { bitDepth }),
    ...(colorType !== undefined && { colorType }),
    ...(frames !== undefined && { frames }),
    ...(animated !== undefined && { animated }),
    ...(duration !== undefined && { duration }),
    ...(exif !== undefined && { exif }),
  };
  ctx.partial.image = clean;
  return clean;
}

async function withExif(
  ctx: ExtractContext,
  image: ImageInfo,
  block: Uint8Array | undefined,
): Promise<ImageInfo> {
  if (!block) return publish(ctx, image);
  publish(ctx, image);
  const reading = await readExif(block, ctx.warn);
  const merged: ImageInfo = { ...image };
  if (reading.orientation !== undefined) merged.orientation = reading.orientation;
  if (reading.exif) merged.exif = reading.exif;
  return publish(ctx, merged);
}

/**
 * Fills from the XMP packet what the EXIF block left out: the orientation,
 * the date taken (EXIF's two dates come first, see {@link ExifInfo.takenAt})
 * and the camera. `packet` is the bytes, or where they lie, read only when
 * something is missing, so a camera JPEG whose EXIF says it all costs no read.
 */
async function withXmp(
  ctx: ExtractContext,
  image: ImageInfo,
  packet: Uint8Array | ByteRange | undefined,
  what: string,
): Promise<ImageInfo> {
  const { orientation, exif } = image;
  if (!packet || (orientation !== undefined && exif?.takenAt && exif.make && exif.model)) return image;
  const bytes =
    packet instanceof Uint8Array ? packet : await readExactly(ctx.reader, packet.offset, packet.length, what);
  // A bad XMP orientation is worth a warning only when it is the one the record would use.
  const xmp = readXmp(bytes, orientation === undefined ? ctx.warn : () => {});
  const filled: ExifInfo = { ...exif };
  for (const field of ["takenAt", "make", "model"] as const) {
    const value = xmp[field];
    if (filled[field] === undefined && value !== undefined) filled[field] = value;
  }
  return publish(ctx, {
    ...image,
    ...(orientation === undefined && xmp.orientation !== undefined && { orientation: xmp.orientation }),
    ...(Object.keys(filled).length > 0 && { exif: filled }),
  });
}

/** Says an animation cut short lasts as long as the frames whole in it. */
function warnWholeFrames(ctx: ExtractContext, format: string, frames: number): void {
  ctx.warn(
    `${format}: cut short: ${frames} whole frame${frames === 1 ? "" : "s"}; duration counts ${frames === 1 ? "it" : "those"}`,
  );
}

function truncated(message: string): never {
  throw new ContentError(`truncated: ${message}`);
}

async function decodeJpeg(ctx: ExtractContext): Promise<ImageInfo> {
  const header = await readJpegHeader(ctx.reader);
  const withExifBlock = await withExif(
    ctx,
    { width: header.width, height: header.height, bitDepth: header.bitDepth, colorType: header.colorType },
    header.exif,
  );
  const image = await withXmp(ctx, withExifBlock, header.xmp, "JPEG XMP packet");
  if (!endsWithEndMarker(await ctx.reader.tail(JPEG_TAIL_BYTES))) truncated("no JPEG end-of-image marker");
  return image;
}

/** The signature and the IHDR chunk, which holds the size. */
const PNG_IHDR_END = 33;

async function decodePng(ctx: ExtractContext): Promise<ImageInfo> {
  if (ctx.reader.size < PNG_IHDR_END) truncated("PNG ends inside its IHDR chunk");
  const bytes = await head(ctx);
  const size = sizeOf(bytes, "PNG");
  // Published with the size, its IHDR neighbour: a damaged chunk further on must not cost them.
  const pixelFormat = pngPixelFormat(bytes);
  publish(ctx, { ...size, ...pixelFormat });
  const chunks = await readPngChunks(ctx.reader);
  if (chunks.exifAfterData) ctx.warn("PNG: eXIf chunk after the image data (may be ignored by some readers)");
  const image = await withExif(
    ctx,
    {
      width: size.width,
      height: size.height,
      ...pixelFormat,
      frames: chunks.frames ?? 1,
      animated: chunks.frames !== undefined && chunks.frames > 1,
      ...(chunks.duration !== undefined && { duration: chunks.duration }),
      ...(chunks.whole && { duration: chunks.whole.duration }),
    },
    chunks.exif,
  );
  // The EXIF block, when there is one, is the more precise record: text chunks fill only what it leaves out.
  const withText = chunks.text ? publish(ctx, { ...image, exif: { ...chunks.text, ...image.exif } }) : image;
  const withPacket = await withXmp(ctx, withText, chunks.xmp, "PNG XMP packet");
  if (chunks.whole) warnWholeFrames(ctx, "APNG", chunks.whole.frames);
  if (!endsWithIend(await ctx.reader.tail(12))) truncated("no PNG IEND chunk at the end");
  return withPacket;
}

async function decodeGif(ctx: ExtractContext): Promise<ImageInfo> {
  const size = sizeOf(await head(ctx), "GIF");
  publish(ctx, size);
  const structure = await readGifStructure(ctx.reader);
  const image = publish(ctx, {
    width: size.width,
    height: size.height,
    bitDepth: structure.bitDepth,
    colorType: "palette",
    ...(structure.complete && { frames: structure.frames }),
    ...((structure.complete || structure.frames > 1) && { animated: structure.frames > 1 }),
    ...(structure.complete && structure.frames > 1 && { duration: structure.delayCentiseconds / 100 }),
    ...(structure.truncated && structure.frames > 1 && { duration: structure.whole.delayCentiseconds / 100 }),
  });
  if (structure.truncated && structure.frames > 1) warnWholeFrames(ctx, "GIF", structure.whole.frames);
  if (structure.truncated) truncated("GIF ends before its trailer");
  return image;
}

async function decodeWebp(ctx: ExtractContext): Promise<ImageInfo> {
  const size = sizeOf(await head(ctx), "WebP");
  publish(ctx, size);
  const structure = await readWebpStructure(ctx.reader);
  const image = await withExif(
    ctx,
    {
      width: size.width,
      height: size.height,
      colorType: structure.alpha ? "rgba" : "rgb",
      ...(structure.frames !== undefined && { frames: structure.frames }),
      animated: structure.animated,
      ...(structure.durationMs !== undefined && { duration: structure.durationMs / 1000 }),
      ...(structure.whole && { duration: structure.whole.durationMs / 1000 }),
    },
    structure.exif,
  );
  if (structure.whole) warnWholeFrames(ctx, "WebP", structure.whole.frames);
  if (structure.truncated) truncated(structure.truncated);
  return image;
}

async function decodeTiff(ctx: ExtractContext): Promise<ImageInfo> {
  const tiff = await readTiffHeader(ctx.reader, ctx.warn);
  const reading = await readExif(tiff.exif, ctx.warn);
  // exifr gives up on a whole block when one value offset points past the end (cut RAW files).
  const exif = { ...tiff.strings, ...reading.exif };
  const width = tiff.width ?? reading.pixelWidth;
  const height = tiff.height ?? reading.pixelHeight;
  if (!width || !height) throw new ContentError("TIFF: no directory states the image size");
  // RAW files chain previews and thumbnails, not pages.
  const multiPage = !ctx.format.mime.startsWith("image/x-") && tiff.pages !== undefined;
  const fromDirectories = publish(ctx, {
    width,
    height,
    ...((tiff.orientation ?? reading.orientation) !== undefined && {
      orientation: tiff.orientation ?? reading.orientation,
    }),
    ...(tiff.bitDepth !== undefined && { bitDepth: tiff.bitDepth }),
    ...(tiff.colorType !== undefined && { colorType: tiff.colorType }),
    ...(multiPage && { frames: tiff.pages, animated: false }),
    ...(Object.keys(exif).length > 0 && { exif }),
  });
  const image = await withXmp(ctx, fromDirectories, tiff.xmp, "TIFF XMP packet");
  if (tiff.dataEnd !== undefined && tiff.dataEnd > ctx.reader.size) {
    truncated(`TIFF image data ends at ${tiff.dataEnd}, the file has ${ctx.reader.size} bytes`);
  }
  return image;
}

/** Fujifilm RAF: a big-endian header pointing at a full JPEG preview that carries the EXIF. */
async function decodeRaf(ctx: ExtractContext): Promise<ImageInfo> {
  const header = viewOf(await readExactly(ctx.reader, 0, 92, "RAF header"));
  const jpegOffset = withinFile(header.getUint32(84), ctx.reader.size, "RAF preview");
  const preview = await readJpegHeader(ctx.reader, jpegOffset);
  ctx.warn("RAF: dimensions are those of the embedded JPEG preview");
  return withExif(
    ctx,
    {
      width: preview.width,
      height: preview.height,
      bitDepth: preview.bitDepth,
      colorType: preview.colorType,
    },
    preview.exif,
  );
}

/**
 * PBM, PGM, PPM and PAM, from the header detection read: size, bit depth
 * (what holds maxval), colour type. A raw raster shorter than the header
 * says is a truncated file; plain (text) rasters are not counted.
 */
async function decodeNetpbm(ctx: ExtractContext): Promise<ImageInfo> {
  const header = readNetpbmHeader(await head(ctx, NETPBM_HEADER_BYTES));
  if (!header) throw new ContentError("Netpbm: damaged header (no size can be read)");
  const bitDepth = Math.ceil(Math.log2(header.maxval + 1));
  const image = publish(ctx, {
    width: header.width,
    height: header.height,
    bitDepth,
    ...(header.colorType && { colorType: header.colorType }),
  });
  if (!header.plain) {
    // PBM packs 8 pixels a byte, each row to a whole byte; the others take 1 or 2 bytes a sample.
    const row =
      header.magic === "P4"
        ? Math.ceil(header.width / 8)
        : header.width * header.channels * (header.maxval > 255 ? 2 : 1);
    const raster = row * header.height;
    if (ctx.reader.size - header.headerBytes < raster)
      truncated(
        `Netpbm raster of ${raster} bytes, the file has ${ctx.reader.size - header.headerBytes} after its header`,
      );
  }
  return image;
}

async function decodeBmp(ctx: ExtractContext): Promise<ImageInfo> {
  const bytes = await head(ctx);
  const size = sizeOf(bytes, "BMP");
  const view = viewOf(await readExactly(ctx.reader, 0, 30, "BMP header"));
  const dibSize = view.getUint32(14, true);
  const bitDepth = dibSize === 12 ? view.getUint16(24, true) : view.getUint16(28, true);
  const image = publish(ctx, { width: size.width, height: size.height, ...(bitDepth > 0 && { bitDepth }) });
  const declared = view.getUint32(2, true);
  const pixels = view.getUint32(10, true);
  if (declared > ctx.reader.size || pixels >= ctx.reader.size) {
    truncated(`BMP declares ${Math.max(declared, pixels)} bytes, the file has ${ctx.reader.size}`);
  }
  return image;
}

async function decodeIco(ctx: ExtractContext): Promise<ImageInfo> {
  const bytes = await head(ctx);
  const size = sizeOf(bytes, "ICO");
  const count = viewOf(await readExactly(ctx.reader, 0, 6, "ICO header")).getUint16(4, true);
  const image = publish(ctx, { width: size.width, height: size.height, frames: count, animated: false });
  const directory = viewOf(await readExactly(ctx.reader, 6, count * 16, "ICO directory"));
  for (let i = 0; i < count; i++) {
    const end = directory.getUint32(i * 16 + 12, true) + directory.getUint32(i * 16 + 8, true);
    if (end > ctx.reader.size) truncated(`icon ${i + 1} ends at ${end}, past the end of the file`);
  }
  return image;
}

async function decodePsd(ctx: ExtractContext): Promise<ImageInfo> {
  const size = sizeOf(await head(ctx), "PSD");
  publish(ctx, size);
  const header = await readPsdHeader(ctx.reader);
  const image = await withExif(
    ctx,
    { width: size.width, height: size.height, bitDepth: header.bitDepth, colorType: header.colorType },
    header.exif,
  );
  const withPacket = await withXmp(ctx, image, header.xmp, "PSD XMP packet");
  if (header.dataEnd > ctx.reader.size) {
    truncated(`PSD image data ends at ${header.dataEnd}, the file has ${ctx.reader.size} bytes`);
  }
  return withPacket;
}

/**
 * The root element is found here, past any prolog, and image-size is handed
 * only its sizing attributes: it looks for an unprefixed `<svg` in the first
 * 1000 characters, which a long prolog or root tag or a prefixed root defeats.
 * The root's `<title>` is the image's title.
 */
async function decodeSvg(ctx: ExtractContext): Promise<ImageInfo | undefined> {
  const text = textDecoder("utf-8", { fatal: false }).decode(await head(ctx));
  const root = findSvgRoot(text);
  if (root === undefined) {
    ctx.warn("SVG: no <svg> root element in the head window");
    return undefined;
  }
  let size: ReturnType<typeof imageSize>;
  try {
    size = imageSize(new TextEncoder().encode(svgSizingTag(root)));
  } catch {
    ctx.warn("SVG: the root element states no usable width, height or viewBox");
    return undefined;
  }
  if (!size.width || !size.height) {
    ctx.warn("SVG: the root element states no usable width, height or viewBox");
    return undefined;
  }
  const title = readSvgTitle(text, root);
  return publish(ctx, { width: size.width, height: size.height, ...(title && { exif: { title } }) });
}

/**
 * The top-level boxes of the types in `keep`. A listing a bound ended before
 * the end of the file says so: a box sought may lie past where it stopped.
 */
async function listBoxes(ctx: ExtractContext, format: string, keep: readonly string[]): Promise<BoxList> {
  const list = await listTopLevelBoxes(ctx.reader, { keep, maxWalked: ctx.budget.maxEntries });
  noteBoxWalkEnd(ctx, format, list);
  return list;
}

/**
 * HEIF/AVIF keep their item properties (sizes) and item locations in the
 * `meta` box near the start; the Exif item may sit anywhere, so it is found
 * through `iinf`/`iloc` and read on its own.
 */
async function decodeHeif(ctx: ExtractContext): Promise<ImageInfo> {
  const { boxes, truncated: cut } = await listBoxes(ctx, "HEIF", ["ftyp", "meta", "moov"]);
  const ftyp = boxes.find((box) => box.type === "ftyp");
  const meta = boxes.find((box) => box.type === "meta");
  if (!ftyp || !meta) {
    if (cut) truncated(cut);
    throw new ContentError("HEIF: no meta box");
  }
  const ftypBytes = await readExactly(ctx.reader, ftyp.offset, ftyp.end - ftyp.offset, "HEIF ftyp");
  const metaLength = boundedLength(meta.end - meta.offset, MAX_STRUCTURE_BYTES, "HEIF meta box");
  const metaBytes = await readExactly(ctx.reader, meta.offset, metaLength, "HEIF meta box");
  let size = heifSize(ftypBytes, metaBytes);
  // An image sequence (AVIF avis, HEIF msf1) keeps its frames as a track, timed in `moov`.
  const moov = boxes.find((box) => box.type === "moov");
  if (moov) {
    const moovLength = boundedLength(moov.end - moov.offset, MAX_STRUCTURE_BYTES, "HEIF moov box");
    const moovBytes = await readExactly(ctx.reader, moov.offset, moovLength, "HEIF moov box");
    // The same walk a movie's moov gets: the first picture (or video) track's samples are the frames.
    // A damaged moov costs the timing only (with a warning): the still image is described all the same.
    let movie: MovieHeader | undefined;
    try {
      movie = decodeMoov(moovBytes.subarray(moov.start - moov.offset));
    } catch (error) {
      if (!(error instanceof ContentError)) throw error;
      ctx.warn(error.message);
    }
    const frames = movie?.tracks.find(
      (track) => track.handler === "pict" || track.handler === "vide",
    )?.sampleCount;
    if (frames !== undefined) size = { ...size, frames, animated: frames > 1 };
    if (movie?.duration !== undefined && (frames ?? 2) > 1) size = { ...size, duration: movie.duration };
  }
  publish(ctx, size);
  const payloadStart = meta.start - meta.offset;
  const location = exifItemLocation(metaBytes.subarray(payloadStart), meta.start);
  let block: Uint8Array | undefined;
  if (location) {
    if (location.offset + location.length > ctx.reader.size)
      ctx.warn("HEIF: the Exif item lies past the end of the file");
    else block = await readExifPayload(ctx.reader, location);
  }
  const image = await withExif(ctx, size, block);
  if (cut) truncated(cut);
  return image;
}

/** image-size reads the `ispe` properties; brands it does not list (avis) fall back to a direct scan. */
function heifSize(ftyp: Uint8Array, meta: Uint8Array): ImageInfo {
  const joined = new Uint8Array(ftyp.byteLength + meta.byteLength);
  joined.set(ftyp, 0);
  joined.set(meta, ftyp.byteLength);
  try {
    return sizeOf(joined, "HEIF");
  } catch {
    let best: ImageInfo | undefined;
    const headerSize = meta.byteLength >= 8 && viewOf(meta).getUint32(0) === 1 ? 16 : 8;
    for (const iprp of childBoxes(meta, headerSize + 4, 0).filter((box) => box.type === "iprp")) {
      for (const ipco of childBoxes(meta.subarray(0, iprp.end), iprp.start, 0).filter(
        (b) => b.type === "ipco",
      )) {
        for (const ispe of childBoxes(meta.subarray(0, ipco.end), ipco.start, 0)) {
          if (ispe.type !== "ispe" || ispe.end - ispe.start < 12) continue;
          const view = viewOf(meta);
          const width = view.getUint32(ispe.start + 4);
          const height = view.getUint32(ispe.start + 8);
          if (width && height && (!best || width * height > best.width * best.height))
            best = { width, height };
        }
      }
    }
    if (!best) throw new ContentError("HEIF: no image size property");
    return best;
  }
}

async function decodeJxl(ctx: ExtractContext): Promise<ImageInfo> {
  const bytes = await head(ctx);
  const size = sizeOf(bytes, "JPEG XL");
  publish(ctx, size);
  // A bare codestream (FF 0A) has no boxes and so no EXIF.
  if (startsWith(bytes, [0xff, 0x0a])) return size;
  const { boxes, truncated: cut } = await listBoxes(ctx, "JPEG XL", ["Exif", "brob"]);
  const exifBox = boxes.find((box) => box.type === "Exif");
  if (!exifBox && boxes.some((box) => box.type === "brob"))
    ctx.warn("JPEG XL: metadata is Brotli-compressed (brob) and was not read");
  const block = exifBox
    ? await readExifPayload(ctx.reader, { offset: exifBox.start, length: exifBox.end - exifBox.start })
    : undefined;
  const image = await withExif(ctx, size, block);
  if (cut) truncated(cut);
  return image;
}

async function decodeJp2(ctx: ExtractContext): Promise<ImageInfo> {
  const image = publish(ctx, sizeOf(await head(ctx), "JPEG 2000"));
  const { boxes, truncated: cut } = await listBoxes(ctx, "JPEG 2000", ["jp2c"]);
  if (cut) truncated(cut);
  // The codestream box often runs "to the end of the file" (size 0): its EOC marker tells a cut.
  // A jp2c box that ends where the file does is the file's last box.
  if (boxes.at(-1)?.end === ctx.reader.size && !endsWithEndMarker(await ctx.reader.tail(2))) {
    truncated("no JPEG 2000 end-of-codestream marker");
  }
  return image;
}

async function decodeJ2c(ctx: ExtractContext): Promise<ImageInfo> {
  const image = publish(ctx, sizeOf(await head(ctx), "JPEG 2000 codestream"));
  if (!endsWithEndMarker(await ctx.reader.tail(2))) truncated("no JPEG 2000 end-of-codestream marker");
  return image;
}

async function decodeJxr(ctx: ExtractContext): Promise<ImageInfo> {
  const { width, height, software, dataEnd } = await readJpegXrHeader(ctx.reader);
  const image = publish(ctx, { width, height, ...(software !== undefined && { exif: { software } }) });
  if (dataEnd !== undefined && dataEnd > ctx.reader.size) {
    truncated(`JPEG XR image data ends at ${dataEnd}, the file has ${ctx.reader.size} bytes`);
  }
  return image;
}

/**
 * Canon CR3: CMT1 is a complete TIFF IFD0, read by the TIFF reader over an
 * in-memory source. Its ImageWidth/ImageHeight are the recorded image size,
 * as exiftool reports it (the raw track's sample entry is larger: it counts
 * masked sensor borders). CMT2 and CMT4 carry the Exif and GPS IFDs.
 */
async function decodeCr3(ctx: ExtractContext): Promise<ImageInfo> {
  const list = await listBoxes(ctx, "CR3", ["moov"]);
  const { ifd0, exifIfd, gpsIfd, truncated: cut } = await readCr3Metadata(ctx.reader, list);
  const tiff = ifd0 ? await readCmt1(ifd0, ctx.warn) : undefined;
  const readings = await Promise.all(
    [tiff?.exif, exifIfd, gpsIfd].map((block) => (block ? readExif(block, ctx.warn) : undefined)),
  );
  const [fromCmt1, fromExifIfd] = readings;
  const exif = Object.assign({}, tiff?.strings, ...readings.map((reading) => reading?.exif));
  const width = tiff?.width ?? fromExifIfd?.pixelWidth;
  const height = tiff?.height ?? fromExifIfd?.pixelHeight;
  if (!width || !height) {
    if (cut) truncated(cut);
    throw new ContentError("CR3: the metadata boxes state no image size");
  }
  const orientation = tiff?.orientation ?? fromCmt1?.orientation;
  const image = publish(ctx, {
    width,
    height,
    ...(orientation !== undefined && { orientation }),
    ...(Object.keys(exif).length > 0 && { exif }),
  });
  if (cut) truncated(cut);
  return image;
}

/** A corrupt CMT1 costs its own fields only: CMT2 still states the size and date. */
async function readCmt1(block: Uint8Array, warn: (message: string) => void) {
  try {
    return await readTiffHeader(new BlockReader(new BufferSource(block, "CR3 CMT1")), warn);
  } catch (error) {
    if (!(error instanceof ContentError || error instanceof LimitExceededError)) throw error;
    warn(`CR3: CMT1 could not be read (${error.message})`);
    return undefined;
  }
}
