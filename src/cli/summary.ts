import type { ExtractionResult, FormatInfo } from "../engine/types.js";
import { formatBytes } from "./format.js";
import { terminalSafe } from "./terminal-text.js";

/** `count` and `noun`, plural unless one: `1 line`, `3 sheets`, `2 entries`. */
function counted(count: number, noun: string, plural = `${noun}s`): string {
  return `${count} ${count === 1 ? noun : plural}`;
}

/**
 * The few facts a person wants first, for terminal output: one line of four
 * tab-separated fields (source, type, size, facts), the status and its
 * reason after the facts when it is not `ok`.
 */
export function summarise(result: ExtractionResult): string {
  const facts: string[] = [];
  if (result.image) facts.push(`${result.image.width}x${result.image.height}`);
  if (result.image?.exif?.model) facts.push(result.image.exif.model);
  if (result.media?.model) facts.push(result.media.model);
  if (result.media?.duration !== undefined) facts.push(`${result.media.duration.toFixed(2)} s`);
  if (result.media?.codecs.length) facts.push(result.media.codecs.join("+"));
  if (result.pdf?.pages !== undefined) facts.push(counted(result.pdf.pages, "page"));
  const document = result.document;
  if (document?.pages !== undefined) facts.push(counted(document.pages, "page"));
  if (document?.slides !== undefined) facts.push(counted(document.slides, "slide"));
  if (document?.sheets !== undefined) facts.push(counted(document.sheets, "sheet"));
  if (result.pdf?.title ?? document?.title) facts.push(JSON.stringify(result.pdf?.title ?? document?.title));
  if (result.font) {
    const name = result.font.fullName ?? result.font.family;
    if (name) facts.push(JSON.stringify(name));
    if (result.font.glyphs !== undefined) facts.push(counted(result.font.glyphs, "glyph"));
  }
  if (result.executable) {
    const { format, architecture, type, product, productVersion } = result.executable;
    facts.push([format, architecture, type].filter(Boolean).join(" "));
    const named = [product, productVersion].filter(Boolean).join(" ");
    if (named) facts.push(JSON.stringify(named));
  }
  if (result.package) {
    const { name, version, architecture } = result.package;
    const named = [name, version].filter(Boolean).join(" ");
    if (named) facts.push(architecture ? `${named} (${architecture})` : named);
  }
  if (result.archive?.entries !== undefined) facts.push(counted(result.archive.entries, "entry", "entries"));
  if (result.text) facts.push(result.text.encoding, counted(result.text.lines, "line"));
  if (result.format.mismatch) facts.push("type mismatch");
  if (result.sha256) facts.push(`sha256 ${result.sha256}`);
  const status =
    result.status === "ok" ? "" : `[${result.status}${result.reason ? `: ${result.reason}` : ""}]`;
  const told = [facts.join(", "), status].filter(Boolean).join(" ");
  return [result.source, result.format.mime, formatBytes(result.size), told].map(terminalSafe).join("\t");
}

/**
 * What `extract --detect-only` prints for a file on a terminal: its name, type and category, and
 * the SHA-256 when `--hash` asked for one.
 *
 * @example
 * summariseDetection({ source: "a.jpg", format }); // "a.jpg\timage/jpeg\timage"
 */
export function summariseDetection(result: { source: string; format: FormatInfo; sha256?: string }): string {
  const { mime, category, mismatch } = result.format;
  return [
    result.source,
    mime,
    category,
    ...(mismatch ? ["type mismatch"] : []),
    ...(result.sha256 ? [`sha256 ${result.sha256}`] : []),
  ]
    .map(terminalSafe)
    .join("\t");
}
