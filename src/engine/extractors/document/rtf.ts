import { cleanString } from "../../limits.js";
import type { DocumentInfo } from "../../types.js";

const FIELDS = ["title", "subject", "author", "operator", "keywords"] as const;

function ansiDecoder(codePage: string) {
  try {
    return new TextDecoder(codePage);
  } catch {
    return new TextDecoder("windows-1252");
  }
}

/** Decodes RTF text: `\'hh` in the document's ANSI code page, `\uN` Unicode (with its fallback skipped). */
function decodeRtfText(raw: string, codePage: string): string {
  const decoder = ansiDecoder(codePage);
  let out = "";
  let pending: number[] = [];
  const flush = () => {
    if (pending.length > 0) out += decoder.decode(new Uint8Array(pending));
    pending = [];
  };
  const token =
    /\\'([0-9a-fA-F]{2})|\\u(-?\d+) ?(?:\\'[0-9a-fA-F]{2}|[^\\{}])?|\\([\\{}])|\\[a-zA-Z]+-?\d* ?|([^\\]+)/g;
  for (const match of raw.matchAll(token)) {
    if (match[1] !== undefined) {
      pending.push(Number.parseInt(match[1], 16));
      continue;
    }
    flush();
    if (match[2] !== undefined) {
      const code = Number(match[2]);
      out += String.fromCharCode(code < 0 ? code + 65536 : code);
    } else if (match[3] !== undefined) out += match[3];
    else if (match[4] !== undefined) out += match[4].replace(/[\r\n]/g, "");
  }
  flush();
  return out;
}

function creatim(info: string, word: string): string | undefined {
  const match = new RegExp(
    `\\{\\\\${word}\\\\yr(\\d+)\\\\mo(\\d+)\\\\dy(\\d+)(?:\\\\hr(\\d+))?(?:\\\\min(\\d+))?`,
  ).exec(info);
  if (!match) return undefined;
  const [, yr, mo, dy, hr = "0", min = "0"] = match;
  const pad = (value: string | undefined) => String(value).padStart(2, "0");
  return `${yr}-${pad(mo)}-${pad(dy)}T${pad(hr)}:${pad(min)}:00`;
}

/**
 * RTF: the `{\info ...}` group of the head window (title, subject, author,
 * operator, keywords, creation and revision times). Where a field appears
 * twice, the `\ud` (Unicode) form wins over the ANSI one.
 *
 * @example
 * readRtf(head) // { kind: "rtf", creator: "VMazel", created: "2004-10-28T10:19:00" }
 */
export function readRtf(head: Uint8Array): DocumentInfo {
  const info: DocumentInfo = { kind: "rtf" };
  const source = new TextDecoder("latin1").decode(head);
  const start = source.indexOf("{\\info");
  if (start < 0) return info;
  const codePage = `windows-${/\\ansicpg(\d+)/.exec(source)?.[1] ?? "1252"}`;
  const infoGroup = source.slice(start, start + 16 * 1024);
  const values: Partial<Record<(typeof FIELDS)[number], string>> = {};
  for (const field of FIELDS) {
    const matches = [
      ...infoGroup.matchAll(
        new RegExp(`\\{\\\\${field} ?((?:[^{}\\\\]|\\\\[^a-zA-Z]|\\\\[a-zA-Z]+-?\\d* ?)*)\\}`, "g"),
      ),
    ];
    const best = matches.find((match) => match[1]?.includes("\\u")) ?? matches[0];
    const value = best ? cleanString(decodeRtfText(best[1] ?? "", codePage)) : undefined;
    if (value) values[field] = value;
  }
  const created = creatim(infoGroup, "creatim");
  const modified = creatim(infoGroup, "revtim");
  Object.assign(info, {
    ...(values.title && { title: values.title }),
    ...(values.subject && { subject: values.subject }),
    ...(values.keywords && { keywords: values.keywords }),
    ...(values.author && { creator: values.author }),
    ...(values.operator && { lastModifiedBy: values.operator }),
    ...(created && { created }),
    ...(modified && { modified }),
  });
  return info;
}
