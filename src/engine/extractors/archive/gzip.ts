import { ContentError } from "../../errors.js";
import { cleanString } from "../../limits.js";
import { utf8OrLatin1 } from "../bytes.js";

const FLAG_HCRC = 0x02;
const FLAG_EXTRA = 0x04;
const FLAG_NAME = 0x08;
const FLAG_COMMENT = 0x10;

/** What a gzip member header and the file's last four bytes state (RFC 1952). */
export interface GzipHeader {
  originalName?: string;
  /** MTIME, the original file's modification time, as ISO 8601 in UTC; absent when 0 (none). */
  modified?: string;
  /**
   * ISIZE: the last member's uncompressed size modulo 2^32. For a multi-member
   * file it is only the last member's; past 4 GiB it has wrapped.
   */
  isize: number;
}

function zeroTerminated(head: Uint8Array, start: number): { value: string; next: number } {
  const end = head.indexOf(0, start);
  if (end < 0) throw new ContentError("gzip header field runs past the head window");
  // RFC 1952 says ISO 8859-1 for FNAME; tools on UTF-8 systems write UTF-8 anyway.
  return { value: utf8OrLatin1(head.subarray(start, end)), next: end + 1 };
}

/**
 * Decodes the first member's header from the head window and ISIZE from the tail.
 *
 * @example
 * parseGzipHeader(head, tail) // { originalName: "report.tar", modified: "2013-08-19T22:26:00Z", isize: 10240 }
 */
export function parseGzipHeader(head: Uint8Array, tail: Uint8Array): GzipHeader {
  if (head.byteLength < 10 || head[0] !== 0x1f || head[1] !== 0x8b)
    throw new ContentError("not a gzip stream");
  if (head[2] !== 8) throw new ContentError(`gzip compression method ${head[2]} is not deflate`);
  const data = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const flags = head[3] as number;
  const mtime = data.getUint32(4, true);
  let at = 10;
  if (flags & FLAG_EXTRA) at += 2 + (at + 2 <= head.byteLength ? data.getUint16(at, true) : 0);
  let originalName: string | undefined;
  if (flags & FLAG_NAME) {
    const field = zeroTerminated(head, at);
    originalName = cleanString(field.value);
    at = field.next;
  }
  if (flags & FLAG_COMMENT) at = zeroTerminated(head, at).next;
  if (flags & FLAG_HCRC) at += 2;
  if (tail.byteLength < 4) throw new ContentError("gzip stream too short for its trailer");
  const isize = new DataView(tail.buffer, tail.byteOffset + tail.byteLength - 4, 4).getUint32(0, true);
  return {
    ...(originalName && { originalName }),
    // Whole seconds: written without fractions, as the PDF and XMP dates are.
    ...(mtime > 0 && { modified: new Date(mtime * 1000).toISOString().replace(".000Z", "Z") }),
    isize,
  };
}
