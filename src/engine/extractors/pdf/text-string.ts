import { textDecoder } from "../../text-decoder.js";

/**
 * PDF text strings (ISO 32000-2 §7.9.2): UTF-16BE with a byte order mark,
 * UTF-8 with one (PDF 2.0), or else PDFDocEncoding; and PDF dates (§7.9.4).
 */

/** PDFDocEncoding code points that differ from ISO-8859-1 (the rest match it). */
const PDF_DOC_ENCODING: Record<number, number> = {
  24: 0x02d8,
  25: 0x02c7,
  26: 0x02c6,
  27: 0x02d9,
  28: 0x02dd,
  29: 0x02db,
  30: 0x02da,
  31: 0x02dc,
  128: 0x2022,
  129: 0x2020,
  130: 0x2021,
  131: 0x2026,
  132: 0x2014,
  133: 0x2013,
  134: 0x0192,
  135: 0x2044,
  136: 0x2039,
  137: 0x203a,
  138: 0x2212,
  139: 0x2030,
  140: 0x201e,
  141: 0x201c,
  142: 0x201d,
  143: 0x2018,
  144: 0x2019,
  145: 0x201a,
  146: 0x2122,
  147: 0xfb01,
  148: 0xfb02,
  149: 0x0141,
  150: 0x0152,
  151: 0x0160,
  152: 0x0178,
  153: 0x017d,
  154: 0x0131,
  155: 0x0142,
  156: 0x0153,
  157: 0x0161,
  158: 0x017e,
  160: 0x20ac,
};

/**
 * Language escapes of Unicode text strings (§7.9.2.2.2): ESC, an ISO 639
 * language code and optional ISO 3166 country code of two bytes each, ESC.
 * Decoded as UTF-16 those bytes are one or two code units; as UTF-8, two or
 * four ASCII letters. They mark the language of what follows and are no text.
 */
const UTF16_LANGUAGE_ESCAPE = /\u001b[^\u001b]{1,2}\u001b/g;
const UTF8_LANGUAGE_ESCAPE = /\u001b(?:[A-Za-z]{2}){1,2}\u001b/g;

/**
 * Decodes a PDF text string's bytes.
 *
 * @example
 * decodeTextString(Uint8Array.of(0xfe, 0xff, 0x00, 0x41)); // "A"
 */
export function decodeTextString(bytes: Uint8Array): string {
  if (bytes[0] === 0xfe && bytes[1] === 0xff) {
    return textDecoder("utf-16be").decode(bytes.subarray(2)).replace(UTF16_LANGUAGE_ESCAPE, "");
  }
  // Not allowed by the standard, but some producers write little-endian with its mark.
  if (bytes[0] === 0xff && bytes[1] === 0xfe) {
    return textDecoder("utf-16le").decode(bytes.subarray(2)).replace(UTF16_LANGUAGE_ESCAPE, "");
  }
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    return textDecoder("utf-8").decode(bytes.subarray(3)).replace(UTF8_LANGUAGE_ESCAPE, "");
  }
  let text = "";
  for (const byte of bytes) text += String.fromCharCode(PDF_DOC_ENCODING[byte] ?? byte);
  return text;
}

/**
 * Converts a PDF date (`D:YYYYMMDDHHmmSSOHH'mm'`, every part after the year
 * optional) to ISO 8601. Without a zone the result has no offset (local time,
 * as the file states it). Returns undefined when the text is not a date.
 *
 * @example
 * parsePdfDate("D:20240131120000+01'00'"); // "2024-01-31T12:00:00+01:00"
 */
export function parsePdfDate(text: string): string | undefined {
  const match =
    /^\s*(?:D:)?(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?\s*(?:([Zz])|([+-])\s*(\d{2})'?\s*(?:(\d{2})'?)?)?/.exec(
      text,
    );
  if (!match) return undefined;
  const [, year, month = "01", day = "01", hour = "00", minute = "00", second = "00"] = match;
  const zulu = match[7];
  const sign = match[8];
  const offsetHours = match[9];
  const offsetMinutes = match[10] ?? "00";
  const ranges: [string, number, number][] = [
    [month, 1, 12],
    [day, 1, 31],
    [hour, 0, 23],
    [minute, 0, 59],
    [second, 0, 59],
  ];
  if (ranges.some(([value, min, max]) => Number(value) < min || Number(value) > max)) return undefined;
  let iso = `${year}-${month}-${day}T${hour}:${minute}:${second}`;
  if (zulu) {
    iso += "Z";
  } else if (sign && offsetHours && Number(offsetHours) <= 14 && Number(offsetMinutes) <= 59) {
    iso +=
      Number(offsetHours) === 0 && Number(offsetMinutes) === 0
        ? "Z"
        : `${sign}${offsetHours}:${offsetMinutes}`;
  }
  return iso;
}
