import { cleanString } from "../../limits.js";
import { textDecoder } from "../../text-decoder.js";
import { takenAtOf } from "./exif.js";

/**
 * The little read from XMP packets, for what editors and scanners record
 * only there when they drop or never wrote the EXIF block: the orientation
 * (tiff:Orientation), the date taken and the camera (tiff:Make, tiff:Model).
 *
 * Bounded regular expressions rather than exifr's XMP parser: exifr's
 * parser makes repeated regex passes whose cost grows with tag nesting
 * (about 0.3 s for a hostile 64 KiB packet, synchronously, so the time
 * budget cannot stop it), while a few values need a few linear scans.
 */

/** What an XMP packet says, in the record's terms. */
export interface XmpReading {
  /** tiff:Orientation 1-8, when stated and valid. */
  orientation?: number;
  /** The first valid of {@link XMP_DATES}, as ISO 8601 with the zone the packet states. */
  takenAt?: string;
  make?: string;
  model?: string;
}

/** Largest packet scanned: one JPEG APP1 segment holds at most 64 KiB. */
export const MAX_XMP_PACKET_BYTES = 64 * 1024;

const NAMESPACES = {
  tiff: "http://ns.adobe.com/tiff/1.0/",
  exif: "http://ns.adobe.com/exif/1.0/",
  photoshop: "http://ns.adobe.com/photoshop/1.0/",
  xmp: "http://ns.adobe.com/xap/1.0/",
} as const;

type Namespace = keyof typeof NAMESPACES;

/**
 * Where the date taken is looked for, in order: when the picture was taken,
 * then when its content was created (a scan's date). xmp:ModifyDate and
 * xmp:MetadataDate are left out: they change with every edit.
 */
const XMP_DATES: readonly (readonly [Namespace, string])[] = [
  ["exif", "DateTimeOriginal"],
  ["photoshop", "DateCreated"],
  ["xmp", "CreateDate"],
];

/**
 * Reads the record's values from an XMP packet, each in attribute form
 * (`tiff:Orientation="6"`) or element form (`<tiff:Orientation>6</tiff:Orientation>`),
 * under whatever prefix the packet binds to the property's namespace. An
 * orientation other than 1-8 is reported through `warn` and ignored.
 *
 * @example
 * readXmp(new TextEncoder().encode('<rdf:Description tiff:Orientation="6" xmp:CreateDate="2020-01-27T14:08:33+01:00"/>'), console.warn)
 * // { orientation: 6, takenAt: "2020-01-27T14:08:33+01:00" }
 */
export function readXmp(packet: Uint8Array, warn: (message: string) => void): XmpReading {
  // latin1 never fails and keeps ASCII names and digits as they are; text values are decoded again as UTF-8.
  const text = textDecoder("latin1").decode(packet.subarray(0, MAX_XMP_PACKET_BYTES));
  const reading: XmpReading = {};
  const orientation = property(text, "tiff", "Orientation");
  if (orientation !== undefined) {
    const value = Number(orientation);
    if (Number.isInteger(value) && value >= 1 && value <= 8) reading.orientation = value;
    else warn(`XMP orientation ${orientation} is not 1-8`);
  }
  for (const [namespace, name] of XMP_DATES) {
    const raw = property(text, namespace, name);
    const takenAt = raw === undefined ? undefined : (xmpDate(raw) ?? takenAtOf(raw));
    if (takenAt) {
      reading.takenAt = takenAt;
      break;
    }
  }
  for (const field of ["make", "model"] as const) {
    const raw = property(text, "tiff", field === "make" ? "Make" : "Model", 256);
    const value = raw === undefined ? undefined : cleanString(utf8(raw));
    if (value !== undefined) reading[field] = value;
  }
  return reading;
}

/**
 * A simple property's value, under the prefix the packet binds to the
 * namespace (or its usual one). The lookbehind keeps `myxmp:CreateDate` from
 * matching `xmp:CreateDate`; values are bounded so that no scan backtracks far.
 */
function property(text: string, namespace: Namespace, name: string, maxLength = 64): string | undefined {
  const uri = NAMESPACES[namespace];
  if (!text.includes(uri) && !text.includes(`${namespace}:${name}`)) return undefined;
  const binding = new RegExp(
    `xmlns:([A-Za-z_][\\w.-]{0,63})\\s*=\\s*["']${uri.replace(/[./]/g, "\\$&")}["']`,
  );
  const prefix = (binding.exec(text)?.[1] ?? namespace).replace(/\./g, "\\.");
  const pattern = new RegExp(
    `(?<![\\w.-])${prefix}:${name}\\s*=\\s*(?:"\\s*([^"<]{1,${maxLength}}?)\\s*"|'\\s*([^'<]{1,${maxLength}}?)\\s*')` +
      `|<${prefix}:${name}>\\s*([^<]{1,${maxLength}}?)\\s*</`,
  );
  const match = pattern.exec(text);
  return match ? (match[1] ?? match[2] ?? match[3]) : undefined;
}

/** The packet was decoded as latin1 to find names; a text value is UTF-8. */
function utf8(latin1: string): string {
  return textDecoder("utf-8", { fatal: false }).decode(Uint8Array.from(latin1, (c) => c.charCodeAt(0)));
}

const XMP_DATE =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?)?$/;

/**
 * An XMP date (ISO 8601 as XMP restricts it) to the record's form: to the
 * day at least, since a year or a month alone says too little of when a
 * picture was taken; seconds added when the packet stops at minutes; the
 * zone kept as written, and none invented when there is none.
 *
 * @example
 * xmpDate("2005-09-07T15:07:40-07:00") // "2005-09-07T15:07:40-07:00"
 * xmpDate("2003-08-31") // "2003-08-31"
 */
export function xmpDate(value: string): string | undefined {
  const match = XMP_DATE.exec(value.trim());
  if (!match) return undefined;
  const [, year, month, day, hour, minute, second = "00", fraction = "", zone = ""] = match;
  if (Number(year) === 0 || !inRange(month, 1, 12) || !inRange(day, 1, 31)) return undefined;
  if (hour === undefined) return `${year}-${month}-${day}`;
  if (!inRange(hour, 0, 23) || !inRange(minute, 0, 59) || !inRange(second, 0, 60)) return undefined;
  return `${year}-${month}-${day}T${hour}:${minute}:${second}${fraction}${zone}`;
}

function inRange(digits: string | undefined, low: number, high: number): boolean {
  const value = Number(digits);
  return value >= low && value <= high;
}
