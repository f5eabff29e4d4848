import { textDecoder } from "../../text-decoder.js";

/**
 * The little read from XMP packets: the orientation some editors record only
 * there (tiff:Orientation) when they drop or never wrote the EXIF block.
 *
 * A bounded regular expression rather than exifr's XMP parser: exifr's
 * parser makes repeated regex passes whose cost grows with tag nesting
 * (about 0.3 s for a hostile 64 KiB packet, synchronously, so the time
 * budget cannot stop it), while one value needs one linear scan.
 */

/** Namespace URI of the TIFF properties in XMP. */
const TIFF_NAMESPACE = "http://ns.adobe.com/tiff/1.0/";

/** Largest packet scanned: one JPEG APP1 segment holds at most 64 KiB. */
export const MAX_XMP_PACKET_BYTES = 64 * 1024;

const TIFF_PREFIX = /xmlns:([A-Za-z_][\w.-]{0,63})\s*=\s*["']http:\/\/ns\.adobe\.com\/tiff\/1\.0\/["']/;

/**
 * tiff:Orientation from an XMP packet, in attribute form
 * (`tiff:Orientation="6"`) or element form (`<tiff:Orientation>6</tiff:Orientation>`),
 * under whatever prefix the packet binds to the TIFF namespace. Values other
 * than 1-8 are reported through `warn` and ignored.
 *
 * @example
 * xmpOrientation(new TextEncoder().encode('<rdf:Description tiff:Orientation="6"/>'), console.warn) // 6
 */
export function xmpOrientation(packet: Uint8Array, warn: (message: string) => void): number | undefined {
  // latin1 never fails and keeps ASCII names and digits as they are, whatever the packet's encoding.
  const text = textDecoder("latin1").decode(packet.subarray(0, MAX_XMP_PACKET_BYTES));
  if (!text.includes(TIFF_NAMESPACE) && !text.includes("tiff:Orientation")) return undefined;
  const prefix = (TIFF_PREFIX.exec(text)?.[1] ?? "tiff").replace(/\./g, "\\.");
  const property = new RegExp(
    `${prefix}:Orientation\\s*=\\s*["']\\s*([^"'<]{1,16}?)\\s*["']|<${prefix}:Orientation>\\s*([^<]{1,16}?)\\s*</`,
  );
  const match = property.exec(text);
  if (!match) return undefined;
  const raw = match[1] ?? match[2] ?? "";
  const value = Number(raw);
  if (Number.isInteger(value) && value >= 1 && value <= 8) return value;
  warn(`XMP orientation ${raw} is not 1-8`);
  return undefined;
}
