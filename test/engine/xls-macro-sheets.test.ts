import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BufferSource, extract } from "../../src/engine/index.js";
import {
  biffRecord,
  buildCfb,
  buildWorkbookStream,
  readCfbWithWarnings,
  STREAM_PLACEMENTS,
  type XlsSheet,
} from "../support/cfb.js";
import { CORPUS_DIR } from "../support/corpus.js";

/**
 * Excel 4.0 (XLM) macro sheets and Excel 5/95 VBA module sheets in legacy
 * .xls files: listed by the BOUNDSHEET records of the Workbook (or Book)
 * stream's globals substream, which the reader follows through the FAT or the
 * mini stream. Workbooks are built byte by byte; the corpus holds no macro
 * sheet.
 */

const SHEET: XlsSheet = { name: "Sheet1", type: "worksheet" };
const MACRO: XlsSheet = { name: "Macro1", type: "macro", state: "veryHidden" };
const MODULE: XlsSheet = { name: "Module1", type: "module" };

function run(bytes: Uint8Array, name = "book.xls") {
  return extract(new BufferSource(bytes, name), { name });
}

/** readCfb on its own, for the warnings it gives. */
function read(bytes: Uint8Array, budget?: { maxBytes: number; maxRequests: number }) {
  return readCfbWithWarnings(bytes, "book.xls", budget);
}

/** A compound file holding `workbook` as its `stream` (Excel 5/95 named it `Book`). */
function xls(workbook: Uint8Array, options: { scattered?: boolean; stream?: string } = {}): Uint8Array {
  const { stream = "Workbook", ...layout } = options;
  return buildCfb([{ name: stream, content: workbook }], layout);
}

/** The stream offset of the `n`th BOUNDSHEET record (0x0085) of a stream built by buildWorkbookStream. */
function boundSheetAt(stream: Buffer, n: number): number {
  let seen = 0;
  for (let at = 0; at + 4 <= stream.byteLength; at += 4 + stream.readUInt16LE(at + 2)) {
    if (stream.readUInt16LE(at) === 0x0085 && seen++ === n) return at;
  }
  throw new Error(`no BOUNDSHEET ${n}`);
}

describe("Excel 4.0 macro sheets", () => {
  it.each(STREAM_PLACEMENTS)(
    "are reported for a very hidden second sheet %s",
    async (_label, stream, layout) => {
      const result = await run(xls(buildWorkbookStream([SHEET, MACRO], stream), layout));
      expect(result.status).toBe("ok");
      expect(result.document).toEqual({
        kind: "cfb",
        application: "Microsoft Excel",
        encrypted: false,
        macros: true,
      });
    },
  );

  it("are reported when the BOUNDSHEET lies sectors past the start of the Workbook stream", async () => {
    const stream = buildWorkbookStream([SHEET, MACRO], { filler: 5000 });
    expect(boundSheetAt(stream, 1)).toBeGreaterThan(4 * 512);
    const { document, warnings } = await read(xls(stream, { scattered: true }));
    expect(document.macros).toBe(true);
    expect(warnings).toEqual([]);
  });

  it.each([
    ["a worksheet", [SHEET], {}],
    ["a worksheet and a chart", [SHEET, { name: "Chart1", type: "chart" }], {}],
    [
      "hidden worksheets in regular sectors",
      [
        { ...SHEET, state: "veryHidden" },
        { name: "Sheet2", type: "worksheet", state: "hidden" },
      ],
      { filler: 5000 },
    ],
  ] as const)("are absent for %s", async (_label, sheets, stream) => {
    const result = await run(xls(buildWorkbookStream(sheets, stream)));
    expect(result.status).toBe("ok");
    expect(result.document).toEqual({ kind: "cfb", application: "Microsoft Excel", encrypted: false });
  });

  // The same two cases hold for a VBA module sheet, whose BOF and BOUNDSHEET types differ.
  const CODE_SHEETS = [
    ["an Excel 4.0 macro sheet", MACRO, 0x01],
    ["a VBA module sheet", MODULE, 0x06],
  ] as const;

  it.each(CODE_SHEETS)(
    "are reported for %s of an encrypted workbook, from its BOF record",
    async (_label, sheet) => {
      const result = await run(xls(buildWorkbookStream([SHEET, sheet], { encrypted: true, filler: 300 })));
      expect(result.document).toEqual({
        kind: "cfb",
        application: "Microsoft Excel",
        encrypted: true,
        macros: true,
      });
    },
  );

  it.each(CODE_SHEETS)(
    "are not read for %s from an encrypted BOUNDSHEET's type byte, which is ciphertext",
    async (_label, _sheet, type) => {
      const stream = buildWorkbookStream([SHEET], { encrypted: true });
      stream[boundSheetAt(stream, 0) + 4 + 5] = type;
      const result = await run(xls(stream));
      expect(result.document).toEqual({ kind: "cfb", application: "Microsoft Excel", encrypted: true });
    },
  );

  it("are reported when the stream is cut after the macro sheet's BOUNDSHEET", async () => {
    const stream = buildWorkbookStream([SHEET, MACRO]);
    const cut = boundSheetAt(stream, 1) + 4 + stream.readUInt16LE(boundSheetAt(stream, 1) + 2);
    const { document, warnings } = await read(xls(stream.subarray(0, cut)));
    expect(document.macros).toBe(true);
    expect(warnings).toEqual(["Workbook stream ends before the globals' EOF record"]);
  });

  it.each([
    [
      "a BOUNDSHEET whose length runs past the end",
      (stream: Buffer) => stream.subarray(0, boundSheetAt(stream, 1) + 6),
      "runs past the stream",
    ],
    [
      "a record header cut short",
      (stream: Buffer) => stream.subarray(0, boundSheetAt(stream, 1) + 2),
      "inside a record header",
    ],
    [
      "a record longer than BIFF8 allows",
      (stream: Buffer) => {
        const out = Buffer.from(stream);
        out.writeUInt16LE(0xffff, boundSheetAt(out, 1) + 2);
        return out;
      },
      "exceeds the limit of 8224",
    ],
    [
      "a stream that is no workbook globals",
      (stream: Buffer) => Buffer.concat([biffRecord(0x0809, Buffer.alloc(16)), stream.subarray(20)]),
      "does not begin with a workbook globals BOF",
    ],
  ])("leave macros unset, with a warning, for %s", async (_label, damage, warning) => {
    const bytes = xls(damage(buildWorkbookStream([SHEET, MACRO], { filler: 100 })));
    const { document, warnings } = await read(bytes);
    expect(document).not.toHaveProperty("macros");
    expect(warnings).toEqual([expect.stringContaining(warning)]);
    const result = await run(bytes);
    expect(result.status).toBe("ok");
    expect(result.document).not.toHaveProperty("macros");
    expect(result.warnings).toEqual([expect.stringContaining(warning)]);
  });

  it("leave macros unset, with a warning, when the read budget runs out before the sheet list", async () => {
    const bytes = xls(buildWorkbookStream([SHEET, MACRO], { filler: 20_000 }));
    const { document, warnings, reader } = await read(bytes, { maxBytes: 8 * 512, maxRequests: 100 });
    expect(document).toEqual({ kind: "cfb", application: "Microsoft Excel", encrypted: false });
    expect(warnings).toEqual([expect.stringContaining("read budget of 4096 bytes exhausted")]);
    expect(reader.limitReached).toBe("bytes");
  });

  const corpusCfb = readdirSync(CORPUS_DIR).filter((name) =>
    readFileSync(join(CORPUS_DIR, name)).subarray(0, 8).equals(Buffer.from("d0cf11e0a1b11ae1", "hex")),
  );

  it.each(corpusCfb)("are absent from the corpus's %s, read without a warning", async (name) => {
    const bytes = readFileSync(join(CORPUS_DIR, name));
    const result = await run(bytes, name);
    expect(result.status).toBe("ok");
    expect(result.document).not.toHaveProperty("macros");
    expect((await read(bytes)).warnings).toEqual([]);
  });
});

describe("Excel 5/95 VBA module sheets", () => {
  it.each([
    ["a BIFF8 Workbook stream", { name: "Workbook", biff5: false }, [SHEET, MODULE], {}],
    ["an Excel 5/95 Book stream", { name: "Book", biff5: true }, [SHEET, MODULE], {}],
    [
      "a very hidden module in regular sectors",
      { name: "Book", biff5: true },
      [SHEET, { ...MODULE, state: "veryHidden" }],
      { filler: 5000 },
    ],
    [
      "a module beside a chart",
      { name: "Book", biff5: true },
      [SHEET, { name: "Chart1", type: "chart" }, MODULE],
      {},
    ],
  ] as const)("are reported as macros in %s", async (_label, { name, biff5 }, sheets, stream) => {
    // Prepare
    const bytes = xls(buildWorkbookStream(sheets, { ...stream, biff5 }), { stream: name });
    // Act
    const result = await run(bytes);
    const { warnings } = await read(bytes);
    // Assess
    expect(result.status).toBe("ok");
    expect(result.document).toEqual({
      kind: "cfb",
      application: "Microsoft Excel",
      encrypted: false,
      macros: true,
    });
    expect(warnings).toEqual([]);
  });

  it("leave a Book stream of worksheets and charts without macros", async () => {
    const stream = buildWorkbookStream([SHEET, { name: "Chart1", type: "chart" }], { biff5: true });
    const result = await run(xls(stream, { stream: "Book" }));
    expect(result.status).toBe("ok");
    expect(result.document).toEqual({ kind: "cfb", application: "Microsoft Excel", encrypted: false });
  });
});
