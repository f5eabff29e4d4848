import type { ExtractionResult, FormatInfo } from "../engine/types.js";
import { formatBytes } from "./format.js";
import { terminalSafe } from "./terminal-text.js";

/** The few facts a person wants first, on one line, for terminal output. */
export function summarise(result: ExtractionResult): string {
  const facts: string[] = [];
  if (result.image) facts.push(`${result.image.width}x${result.image.height}`);
  if (result.image?.exif?.model) facts.push(result.image.exif.model);
  if (result.media?.model) facts.push(result.media.model);
  if (result.media?.duration !== undefined) facts.push(`${result.media.duration.toFixed(2)} s`);
  if (result.media?.codecs.length) facts.push(result.media.codecs.join("+"));
  if (result.pdf?.pages !== undefined)
    facts.push(`${result.pdf.pages} page${result.pdf.pages === 1 ? "" : "s"}`);
  if (result.pdf?.title ?? result.document?.title)
    facts.push(JSON.stringify(result.pdf?.title ?? result.document?.title));
  if (result.package) {
    const { name, version, architecture } = result.package;
    const named = [name, version].filter(Boolean).join(" ");
    if (named) facts.push(architecture ? `${named} (${architecture})` : named);
  }
  if (result.archive?.entries !== undefined)
    facts.push(`${result.archive.entries} ${result.archive.entries === 1 ? "entry" : "entries"}`);
  if (result.text) facts.push(`${result.text.encoding}, ${result.text.lines} lines`);
  if (result.format.mismatch) facts.push("MISMATCH");
  if (result.sha256) facts.push(`sha256 ${result.sha256}`);
  const status = result.status === "ok" ? "" : ` [${result.status}: ${result.reason ?? ""}]`;
  return [result.source, result.format.mime, formatBytes(result.size), `${facts.join(", ")}${status}`]
    .map(terminalSafe)
    .join("\t");
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
    ...(mismatch ? ["MISMATCH"] : []),
    ...(result.sha256 ? [`sha256 ${result.sha256}`] : []),
  ]
    .map(terminalSafe)
    .join("\t");
}
