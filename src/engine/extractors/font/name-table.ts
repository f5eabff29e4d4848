import { ContentError } from "../../errors.js";
import { cleanString, MAX_LICENSE_CHARS } from "../../limits.js";
import { textDecoder } from "../../text-decoder.js";
import type { FontInfo } from "../../types.js";

/** English (United States), the language most fonts name themselves in first. */
const WINDOWS_EN_US = 0x0409;

/** The name IDs read (OpenType `name` table, "Name IDs"). */
const NAME_IDS = {
  copyright: 0,
  family: 1,
  subfamily: 2,
  fullName: 4,
  version: 5,
  trademark: 7,
  manufacturer: 8,
  designer: 9,
  license: 13,
  licenseUrl: 14,
  typographicFamily: 16,
  typographicSubfamily: 17,
} as const;

const WANTED_IDS: ReadonlySet<number> = new Set(Object.values(NAME_IDS));

interface NameRecord {
  platform: number;
  encoding: number;
  language: number;
  nameId: number;
  value: string;
}

function decodeName(bytes: Uint8Array, platform: number, encoding: number): string | undefined {
  // Windows and Unicode platforms store UTF-16BE; Mac Roman is the Mac platform's script 0.
  if (platform === 3 || platform === 0) return textDecoder("utf-16be").decode(bytes);
  if (platform === 1 && encoding === 0) return textDecoder("macintosh").decode(bytes);
  return undefined;
}

/** Lower is better: Windows English, other Windows, Unicode, Mac English. */
function rank(record: NameRecord): number {
  if (record.platform === 3) return record.language === WINDOWS_EN_US ? 0 : 1;
  if (record.platform === 0) return 2;
  return record.language === 0 ? 3 : 4;
}

/**
 * Decodes the OpenType `name` table into a font's names, preferring the
 * Windows platform (UTF-16BE, US English first), then the Unicode platform
 * (UTF-16BE), then the Mac platform (Mac Roman, English first); the
 * typographic family and subfamily (IDs 16, 17) win over the legacy ones (1, 2).
 * Beside the names come what a team shipping the font needs: copyright (0),
 * trademark (7), manufacturer (8, as `vendor`), designer (9), licence (13,
 * kept up to {@link MAX_LICENSE_CHARS}) and licence URL (14).
 *
 * @example
 * parseNameTable(await reader.read(nameOffset, nameLength))
 * // { family: "Noto Sans", subfamily: "Bold", fullName: "Noto Sans Bold", version: "Version 2.013",
 * //   designer: "Monotype Design Team", license: "This Font Software is licensed under the SIL Open Font License, Version 1.1. ..." }
 */
export function parseNameTable(table: Uint8Array): FontInfo {
  if (table.length < 6) throw new ContentError("name table: shorter than its header");
  const view = new DataView(table.buffer, table.byteOffset, table.byteLength);
  const count = view.getUint16(2);
  const storage = view.getUint16(4);
  const records: NameRecord[] = [];
  for (let i = 0; i < count; i++) {
    const at = 6 + i * 12;
    if (at + 12 > table.length) break;
    const nameId = view.getUint16(at + 6);
    if (!WANTED_IDS.has(nameId)) continue;
    const platform = view.getUint16(at);
    const encoding = view.getUint16(at + 2);
    const start = storage + view.getUint16(at + 10);
    const end = start + view.getUint16(at + 8);
    if (end > table.length) continue;
    const value = decodeName(table.subarray(start, end), platform, encoding);
    if (value === undefined) continue;
    records.push({ platform, encoding, language: view.getUint16(at + 4), nameId, value });
  }
  const best = (nameId: number, maxChars?: number): string | undefined => {
    const candidates = records.filter((record) => record.nameId === nameId && cleanString(record.value));
    candidates.sort((a, b) => rank(a) - rank(b));
    return cleanString(candidates[0]?.value, maxChars);
  };
  const family = best(NAME_IDS.typographicFamily) ?? best(NAME_IDS.family);
  const subfamily = best(NAME_IDS.typographicSubfamily) ?? best(NAME_IDS.subfamily);
  const fullName = best(NAME_IDS.fullName);
  const version = best(NAME_IDS.version);
  const copyright = best(NAME_IDS.copyright);
  const trademark = best(NAME_IDS.trademark);
  const vendor = best(NAME_IDS.manufacturer);
  const designer = best(NAME_IDS.designer);
  const license = best(NAME_IDS.license, MAX_LICENSE_CHARS);
  const licenseUrl = best(NAME_IDS.licenseUrl);
  return {
    ...(family && { family }),
    ...(subfamily && { subfamily }),
    ...(fullName && { fullName }),
    ...(version && { version }),
    ...(copyright && { copyright }),
    ...(trademark && { trademark }),
    ...(vendor && { vendor }),
    ...(designer && { designer }),
    ...(license && { license }),
    ...(licenseUrl && { licenseUrl }),
  };
}
