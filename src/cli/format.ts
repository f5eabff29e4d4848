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

/**
 * One line for a cataloged object: where it is, what it is, how big, and its
 * status with the reason when it is not `ok`.
 *
 * @example
 * summaryLine({ bucket: "uploads", key: "a.jpg", size: 2048, mime: "image/jpeg", status: "ok", eventTime })
 * // "s3://uploads/a.jpg  image/jpeg  2.0 KiB  ok"
 */
export function summaryLine(
  record: Pick<RecordSummary, "bucket" | "key" | "size" | "mime" | "status" | "reason">,
): string {
  const reason = record.status !== "ok" && record.reason ? ` (${record.reason})` : "";
  return terminalSafe(
    `s3://${record.bucket}/${record.key}  ${record.mime ?? "-"}  ${formatBytes(record.size)}  ${record.status}${reason}`,
  );
}

/** Writes a value as pretty JSON with a final newline (what `--json` prints). */
export function printJson(value: unknown): void {
  process.stdout.write(`${jsonTerminalSafe(JSON.stringify(value, null, 2))}\n`);
}
