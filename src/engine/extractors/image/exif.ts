import exifr from "exifr";
import { cleanString } from "../../limits.js";
import type { ExifInfo, GpsPosition } from "../../types.js";

/** What the EXIF block of an image says, in the result's terms. */
export interface ExifReading {
  /** EXIF Orientation 1-8, when stated and valid. */
  orientation?: number;
  exif?: ExifInfo;
  /** PixelXDimension/PixelYDimension: a fallback only, the image's own header wins. */
  pixelWidth?: number;
  pixelHeight?: number;
}

/**
 * exifr options for a buffer we already cut out of the file. Only TIFF-based
 * blocks are decoded (IFD0, Exif, GPS); XMP, ICC, IPTC, maker notes and
 * thumbnails stay off because they cost time and carry nothing we store.
 * Values are not revived: dates stay the camera's local-time strings, which
 * {@link takenAtOf} turns into ISO 8601 without inventing a time zone.
 */
const EXIFR_OPTIONS = {
  tiff: true,
  ifd0: {},
  exif: true,
  gps: true,
  interop: false,
  ifd1: false,
  makerNote: false,
  userComment: false,
  xmp: false,
  icc: false,
  iptc: false,
  jfif: false,
  ihdr: false,
  translateKeys: true,
  translateValues: false,
  reviveValues: false,
  sanitize: true,
  mergeOutput: true,
  silentErrors: true,
} as const;

type ExifTags = Record<string, unknown>;

/**
 * Decodes an EXIF (TIFF-structured) block with exifr. `block` must be bytes
 * already read and bounded by the caller: exifr gets a buffer, never a path or
 * URL, because it has no reader for S3 ranges and would otherwise open files.
 *
 * @example
 * const { orientation, exif } = await readExif(tiffBytes, ctx.warn);
 */
export async function readExif(block: Uint8Array, warn: (message: string) => void): Promise<ExifReading> {
  let tags: ExifTags | undefined;
  try {
    // A fresh copy: exifr reads `.buffer` in places and must not see the reader's shared blocks,
    // and the copy is where impossible entry counts are neutralised.
    const copy = block.slice();
    const neutralised = neutraliseOversizedEntries(copy);
    if (neutralised > 0)
      warn(`EXIF: ${neutralised} entr${neutralised === 1 ? "y" : "ies"} pointing past the block ignored`);
    tags = (await exifr.parse(copy, EXIFR_OPTIONS)) as ExifTags | undefined;
  } catch (error) {
    warn(`EXIF could not be decoded: ${error instanceof Error ? error.message : String(error)}`);
    return {};
  }
  if (!tags) return {};
  return exifReadingOf(tags, warn);
}

/** Bytes per value of each TIFF field type (1-13); others are unknown. */
const TIFF_TYPE_BYTES = [0, 1, 1, 2, 4, 8, 1, 1, 2, 4, 8, 4, 8, 4] as const;

/** IFD pointer tags inside IFD0: Exif, GPS, Interoperability (via Exif). */
const IFD_POINTER_TAGS = new Set([0x8769, 0x8825, 0xa005]);

/**
 * Sets to zero the count of every IFD entry whose values would lie outside
 * the block, or whose field type is unknown (so its size is too), in place,
 * and returns how many it changed.
 *
 * exifr allocates `new Uint32Array(count)` (or an Array) from the count in
 * the file before checking that the values fit, so one flipped bit in a
 * 10 KiB JPEG made it reserve 16 GiB (test/fixtures/regressions/). Walking
 * the directories first is cheap: a few hundred entries at most.
 */
export function neutraliseOversizedEntries(block: Uint8Array): number {
  if (block.byteLength < 8) return 0;
  const view = new DataView(block.buffer, block.byteOffset, block.byteLength);
  const order = view.getUint16(0);
  if (order !== 0x4949 && order !== 0x4d4d) return 0;
  const little = order === 0x4949;
  const u16 = (at: number) => view.getUint16(at, little);
  const u32 = (at: number) => view.getUint32(at, little);
  const pending = [u32(4)];
  const visited = new Set<number>();
  let changed = 0;
  while (pending.length > 0 && visited.size < 16) {
    const ifd = pending.pop() as number;
    if (visited.has(ifd) || ifd < 8 || ifd + 2 > block.byteLength) continue;
    visited.add(ifd);
    const entries = u16(ifd);
    for (let i = 0; i < entries; i++) {
      const entry = ifd + 2 + i * 12;
      if (entry + 12 > block.byteLength) break;
      const tag = u16(entry);
      const type = u16(entry + 2);
      const count = u32(entry + 4);
      const unit = TIFF_TYPE_BYTES[type as 1] ?? 0;
      const bytes = unit * count;
      const fits = unit > 0 && (bytes <= 4 || u32(entry + 8) + bytes <= block.byteLength);
      if (!fits) {
        view.setUint32(entry + 4, 0, little);
        changed++;
      } else if (IFD_POINTER_TAGS.has(tag) && count === 1) {
        pending.push(u32(entry + 8));
      }
    }
    const nextAt = ifd + 2 + entries * 12;
    if (nextAt + 4 <= block.byteLength) pending.push(u32(nextAt));
  }
  return changed;
}

/** String fields: the field, exifr's name for the tag, and the tag's number. */
const STRING_FIELDS: readonly (readonly [keyof ExifInfo, string, number])[] = [
  ["make", "Make", 271],
  ["model", "Model", 272],
  ["lens", "LensModel", 42036],
  ["software", "Software", 305],
  ["title", "ImageDescription", 270],
  ["artist", "Artist", 315],
  ["copyright", "Copyright", 33432],
];

/**
 * Tags, by directory, whose values {@link exifReadingOf} turns into fields
 * (Orientation, ExposureTime, FNumber, ISO, the DateTimeOriginal and
 * DateTimeDigitized families,
 * FocalLength, PixelX/YDimension, GPS position and altitude): the values a
 * reader that cannot hand exifr the whole file must fetch, and all it need fetch.
 */
export const RECORD_TAGS: Readonly<Record<"ifd0" | "exif" | "gps", ReadonlySet<number>>> = {
  ifd0: new Set([274, ...STRING_FIELDS.map(([, , code]) => code)]),
  exif: new Set([
    ...STRING_FIELDS.map(([, , code]) => code),
    33434,
    33437,
    34855,
    36867,
    36868,
    36881,
    36882,
    37386,
    37521,
    37522,
    40962,
    40963,
  ]),
  gps: new Set([1, 2, 3, 4, 5, 6]),
};

/** Maps exifr's merged tag object onto {@link ExifReading}; exported for tests of hostile values. */
export function exifReadingOf(tags: ExifTags, warn: (message: string) => void): ExifReading {
  const exif: ExifInfo = {};
  // Tag numbers too: some writers put IFD0 tags in the Exif IFD, where exifr leaves them unnamed.
  for (const [field, tag, code] of STRING_FIELDS) {
    const raw = tags[tag] ?? tags[String(code)];
    const value = typeof raw === "string" ? cleanString(raw) : undefined;
    if (value !== undefined) (exif as Record<string, unknown>)[field] = value;
  }
  const takenAt = takenAtOf(tags.DateTimeOriginal, tags.OffsetTimeOriginal, tags.SubSecTimeOriginal);
  if (takenAt) exif.takenAt = takenAt;
  else if (tags.DateTimeOriginal !== undefined) warn("EXIF DateTimeOriginal is not a valid date");
  // Without DateTimeOriginal, DateTimeDigitized (exifr's CreateDate) is when the picture was recorded:
  // the same moment for a camera, the scan's for a scanner. DateTime (0x0132) is left out: editors rewrite it.
  const digitized = takenAt
    ? undefined
    : takenAtOf(tags.CreateDate, tags.OffsetTimeDigitized, tags.SubSecTimeDigitized);
  if (digitized) exif.takenAt = digitized;

  const numbers: [keyof ExifInfo, string][] = [
    ["exposureTime", "ExposureTime"],
    ["fNumber", "FNumber"],
    ["iso", "ISO"],
    ["focalLength", "FocalLength"],
  ];
  for (const [field, tag] of numbers) {
    const value = positiveNumber(tags[tag]);
    if (value !== undefined) (exif as Record<string, unknown>)[field] = value;
  }

  const gps = gpsOf(tags);
  if (gps) exif.gps = gps;
  else if (tags.GPSLatitude !== undefined && tags.GPSLongitude !== undefined) {
    warn("EXIF GPS position is out of range");
  }

  const reading: ExifReading = {};
  const orientation = tags.Orientation;
  if (
    typeof orientation === "number" &&
    Number.isInteger(orientation) &&
    orientation >= 1 &&
    orientation <= 8
  ) {
    reading.orientation = orientation;
  } else if (orientation !== undefined) {
    warn(`EXIF orientation ${String(orientation)} is not 1-8`);
  }
  if (Object.keys(exif).length > 0) reading.exif = exif;
  const pixelWidth = positiveNumber(tags.ExifImageWidth);
  const pixelHeight = positiveNumber(tags.ExifImageHeight);
  if (pixelWidth && pixelHeight) {
    reading.pixelWidth = pixelWidth;
    reading.pixelHeight = pixelHeight;
  }
  return reading;
}

const EXIF_DATE = /^(\d{4}):(\d{2}):(\d{2})[ T](\d{2}):(\d{2}):(\d{2})/;
const EXIF_OFFSET = /^[+-]\d{2}:\d{2}$/;

/**
 * EXIF dates are local wall-clock time with no zone; OffsetTimeOriginal (EXIF
 * 2.31) supplies the zone when a camera records it. Without it the ISO string
 * has no offset rather than a guessed `Z`.
 *
 * @example
 * takenAtOf("2022:02:16 12:55:41", "+01:00") // "2022-02-16T12:55:41+01:00"
 */
export function takenAtOf(date: unknown, offset?: unknown, subSeconds?: unknown): string | undefined {
  if (typeof date !== "string") return undefined;
  const match = EXIF_DATE.exec(date.trim());
  if (!match) return undefined;
  const [, year, month, day, hour, minute, second] = match.map(Number) as number[];
  if (
    !year ||
    !month ||
    month > 12 ||
    !day ||
    day > 31 ||
    (hour as number) > 23 ||
    (minute as number) > 59 ||
    (second as number) > 60
  ) {
    return undefined;
  }
  let iso = `${match[1]}-${match[2]}-${match[3]}T${match[4]}:${match[5]}:${match[6]}`;
  const fraction = typeof subSeconds === "number" ? String(subSeconds) : subSeconds;
  if (typeof fraction === "string" && /^\d{1,9}$/.test(fraction.trim())) iso += `.${fraction.trim()}`;
  if (typeof offset === "string" && EXIF_OFFSET.test(offset.trim())) iso += offset.trim();
  return iso;
}

function positiveNumber(value: unknown): number | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  return typeof first === "number" && Number.isFinite(first) && first > 0 ? first : undefined;
}

function gpsOf(tags: ExifTags): GpsPosition | undefined {
  const { latitude: lat, longitude: lon } = tags;
  if (typeof lat !== "number" || typeof lon !== "number") return undefined;
  if (!Number.isFinite(lat) || !Number.isFinite(lon) || Math.abs(lat) > 90 || Math.abs(lon) > 180) {
    return undefined;
  }
  const gps: GpsPosition = { lat, lon };
  const altitude = tags.GPSAltitude;
  if (typeof altitude === "number" && Number.isFinite(altitude)) {
    const ref = tags.GPSAltitudeRef;
    const below = ref === 1 || (ref instanceof Uint8Array && ref[0] === 1);
    gps.altitude = below ? -altitude : altitude;
  }
  return gps;
}
