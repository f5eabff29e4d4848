import { describe, expect, it } from "vitest";
import { formatTable, shortMime, TYPE_COLUMN_WIDTH } from "../../src/cli/format.js";

describe("shortMime", () => {
  it("keeps the common types whole", () => {
    for (const mime of [
      "image/jpeg",
      "application/pdf",
      "application/vnd.oasis.opendocument.text",
      "application/vnd.debian.binary-package",
      "application/x-redhat-package-manager",
    ]) {
      expect(shortMime(mime)).toBe(mime);
    }
  });

  it("keeps the top-level type and the subtype's last parts, which tell Office's types apart", () => {
    expect(shortMime("application/vnd.openxmlformats-officedocument.wordprocessingml.document")).toBe(
      "application/…wordprocessingml.document",
    );
    expect(shortMime("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")).toBe(
      "application/…spreadsheetml.sheet",
    );
    expect(shortMime("application/vnd.openxmlformats-officedocument.presentationml.presentation")).toBe(
      "application/…presentationml.presentation",
    );
    expect(shortMime("application/vnd.microsoft.portable-executable")).toBe(
      "application/…microsoft.portable-executable",
    );
    expect(shortMime("application/vnd.ms-powerpoint.presentation.macroenabled.12")).toBe(
      "application/…presentation.macroenabled.12",
    );
  });

  it("cuts the middle of a type with no part short enough, and never exceeds the width", () => {
    const long = `application/x-${"a".repeat(60)}`;
    const short = shortMime(long);
    expect(Array.from(short)).toHaveLength(TYPE_COLUMN_WIDTH);
    expect(short.startsWith("application/x-aaa")).toBe(true);
    expect(short).toContain("…");
    expect(shortMime("a.b.c.d", 5)).toBe("…c.d");
    expect(shortMime("application/vnd.ms-word.document.macroenabled.12")).toBe(
      "application/…document.macroenabled.12",
    );
  });

  it("keeps a listing of Office documents within a terminal's width", () => {
    const table = formatTable([
      ["NAME", "SIZE", "TYPE", "STATUS"],
      [
        "report.docx",
        "12.0 KiB",
        shortMime("application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        "ok",
      ],
    ]);
    for (const line of table.split("\n")) expect(line.length).toBeLessThanOrEqual(80);
  });
});
