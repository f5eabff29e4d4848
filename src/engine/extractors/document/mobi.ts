import type { BlockReader } from "../../byte-source/block-reader.js";
import { ContentError } from "../../errors.js";
import { boundedLength, cleanString, MAX_STRUCTURE_BYTES } from "../../limits.js";
import { textDecoder } from "../../text-decoder.js";
import type { DocumentInfo } from "../../types.js";

const EXTH_AUTHOR = 100;
const EXTH_PUBLISHED = 106;
const EXTH_LANGUAGE = 524;
const EXTH_TITLE = 503;

/**
 * MOBI / Kindle: the PalmDB name, record 0's MOBI header (full name, text
 * encoding, encryption) and its EXTH records (author, title, date, language).
 * Layout per the MobileRead wiki; no npm MOBI reader reads by range.
 *
 * @example
 * await readMobi(reader) // { kind: "mobi", title: "Metamorphosis", creator: "Franz Kafka", encrypted: false }
 */
export async function readMobi(reader: BlockReader): Promise<DocumentInfo> {
  const palm = await reader.read(0, 86);
  if (palm.byteLength < 86) throw new ContentError("PalmDB header truncated");
  const palmView = new DataView(palm.buffer, palm.byteOffset, palm.byteLength);
  const nameEnd = palm.indexOf(0);
  const palmName = cleanString(
    textDecoder("latin1").decode(palm.subarray(0, nameEnd < 0 ? 32 : Math.min(32, nameEnd))),
  );
  const info: DocumentInfo = { kind: "mobi", ...(palmName && { title: palmName }) };
  const recordZero = palmView.getUint32(78, false);
  const record = await reader.read(recordZero, 1024);
  const data = new DataView(record.buffer, record.byteOffset, record.byteLength);
  if (record.byteLength < 132 || textDecoder("latin1").decode(record.subarray(16, 20)) !== "MOBI")
    return info;
  info.encrypted = data.getUint16(12, false) !== 0;
  const headerLength = data.getUint32(20, false);
  const utf8 = data.getUint32(28, false) === 65001;
  const decoder = textDecoder(utf8 ? "utf-8" : "windows-1252");
  const fullNameOffset = data.getUint32(84, false);
  const fullNameLength = boundedLength(data.getUint32(88, false), 4096, "MOBI full name");
  const fullName = cleanString(
    decoder.decode(await reader.read(recordZero + fullNameOffset, fullNameLength)),
  );
  if (fullName) info.title = fullName;
  const hasExth = (data.getUint32(128, false) & 0x40) !== 0;
  if (!hasExth) return info;
  const exthAt = recordZero + 16 + headerLength;
  const exthHead = await reader.read(exthAt, 12);
  if (exthHead.byteLength < 12 || textDecoder("latin1").decode(exthHead.subarray(0, 4)) !== "EXTH")
    return info;
  const exthLength = boundedLength(
    new DataView(exthHead.buffer, exthHead.byteOffset).getUint32(4, false),
    MAX_STRUCTURE_BYTES,
    "EXTH",
  );
  const exth = await reader.read(exthAt, exthLength);
  const exthView = new DataView(exth.buffer, exth.byteOffset, exth.byteLength);
  const records = exthView.getUint32(8, false);
  const authors: string[] = [];
  for (let i = 0, at = 12; i < records && at + 8 <= exth.byteLength; i++) {
    const type = exthView.getUint32(at, false);
    const length = exthView.getUint32(at + 4, false);
    if (length < 8 || at + length > exth.byteLength) break;
    const value = cleanString(decoder.decode(exth.subarray(at + 8, at + length)));
    if (value) {
      if (type === EXTH_AUTHOR) authors.push(value);
      else if (type === EXTH_TITLE) info.title = value;
      else if (type === EXTH_PUBLISHED) info.created = value;
      else if (type === EXTH_LANGUAGE) info.language = value;
    }
    at += length;
  }
  if (authors.length > 0) info.creator = authors.join("; ");
  return info;
}
