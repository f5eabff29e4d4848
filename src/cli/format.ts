import type { FormatInfo } from "../engine/types.js";
import type { RecordSummary } from "../store/types.js";
import { displayWidth, jsonTerminalSafe, terminalSafe } from "./terminal-text.js";

/**
 * Bytes in binary units, one decimal: `532 B`, `1.5 KiB`, `2.1 MiB`.
 *
 * @example
 * formatBytes(1536) // "1.5 KiB"
 */
export function formatBytes(bytes: number | undefined): string {
  if (bytes === undefined) return "-";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/**
 * Rows as left-aligned columns separated by two spaces; the last column is
 * not padded, so long reasons do not push trailing blanks. Columns are sized
 * by the width the terminal gives the text (see {@link displayWidth}), so
 * names with combining accents, CJK characters or emoji stay aligned.
 *
 * @example
 * formatTable([["NAME", "SIZE"], ["a.jpg", "10 B"]]) // "NAME   SIZE\na.jpg  10 B"
 */
export function formatTable(table: readonly (readonly string[])[]): string {
  // Cells hold keys and metadata: shown, never acted on by the terminal.
  const rows = table.map((row) => row.map(terminalSafe));
  const cellWidths = rows.map((row) => row.map(displayWidth));
  const widths: number[] = [];
  for (const row of cellWidths) {
    row.forEach((width, column) => {
      widths[column] = Math.max(widths[column] ?? 0, width);
    });
  }
  return rows
    .map((row, index) =>
      row
        .map((cell, column) =>
          column === row.length - 1
            ? cell
            : cell + " ".repeat((widths[column] ?? 0) - (cellWidths[index]?.[column] ?? 0)),
        )
        .join("  "),
    )
    .join("\n");
}

/** The widest TYPE cell of a table: the common types fit whole (`application/vnd.oasis.opendocument.text`). */
export const TYPE_COLUMN_WIDTH = 44;

/**
 * A MIME type for a table's TYPE column: whole when it fits `width`, else its
 * top-level type and the last dot-separated parts of its subtype that fit, the
 * parts that tell one vendor type from another (Office's all begin
 * `application/vnd.openxmlformats-officedocument.`); `--json` keeps it whole.
 *
 * @example
 * shortMime("application/vnd.openxmlformats-officedocument.wordprocessingml.document")
 * // "application/…wordprocessingml.document"
 */
export function shortMime(mime: string, width = TYPE_COLUMN_WIDTH): string {
  const characters = Array.from(mime);
  if (characters.length <= width) return mime;
  const slash = mime.indexOf("/");
  const top = slash >= 0 && slash + 2 < width ? mime.slice(0, slash + 1) : "";
  const parts = mime.slice(top.length).split(".");
  for (let first = 1; first < parts.length; first++) {
    const tail = parts.slice(first).join(".");
    if (Array.from(tail).length + top.length + 1 <= width) return `${top}…${tail}`;
  }
  // No whole part fits: the characters either side of the middle.
  const head = Math.ceil((width - 1) / 2);
  return `${characters.slice(0, head).join("")}…${characters.slice(characters.length - (width - 1 - head)).join("")}`;
}

/**
 * An object's status as a listing row shows it: with `type mismatch` when
 * the content contradicts the declared type or extension (the dashboard's
 * "Mismatch"), and the reason when the status is not `ok`. `why: true` gives
 * the mismatch's reason too, where the line has room for it.
 *
 * @example
 * statusText({ status: "ok", mismatch: true }) // "ok, type mismatch"
 * statusText({ status: "rejected", reason: "size over 100 MiB" }) // "rejected (size over 100 MiB)"
 */
export function statusText(
  summary: Pick<RecordSummary, "status" | "reason" | "mismatch" | "mismatchReason">,
  { why = false }: { why?: boolean } = {},
): string {
  const reasons = [
    ...(summary.status !== "ok" && summary.reason ? [summary.reason] : []),
    ...(why && summary.mismatch && summary.mismatchReason ? [summary.mismatchReason] : []),
  ];
  return `${summary.status}${summary.mismatch ? ", type mismatch" : ""}${reasons.length > 0 ? ` (${reasons.join("; ")})` : ""}`;
}

/**
 * One line for a cataloged object: where it is, what it is, how big, and its
 * status with the reason when it is not `ok`, and why when its type is a
 * mismatch (from a summary's `mismatch` or a record's `format`).
 *
 * @example
 * summaryLine({ bucket: "uploads", key: "a.jpg", size: 2048, mime: "image/jpeg", status: "ok", eventTime })
 * // "s3://uploads/a.jpg  image/jpeg  2.0 KiB  ok"
 */
export function summaryLine(
  record: Pick<
    RecordSummary,
    "bucket" | "key" | "size" | "mime" | "status" | "reason" | "mismatch" | "mismatchReason"
  > & { format?: Pick<FormatInfo, "mismatch" | "mismatchReason"> },
): string {
  const format = record.format;
  const status = format?.mismatch
    ? statusText({ ...record, mismatch: true, mismatchReason: format.mismatchReason }, { why: true })
    : statusText(record, { why: true });
  return terminalSafe(
    `s3://${record.bucket}/${record.key}  ${record.mime ?? "-"}  ${formatBytes(record.size)}  ${status}`,
  );
}

/** Writes a value as pretty JSON with a final newline (what `--json` prints). */
export function printJson(value: unknown): void {
  process.stdout.write(`${jsonTerminalSafe(JSON.stringify(value, null, 2))}\n`);
}
