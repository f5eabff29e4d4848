import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { BufferSource, extract } from "../../src/engine/index.js";
import { buildCfb, buildPowerPointStreams } from "../support/cfb.js";
import { corpusFile, expectedEntries } from "../support/corpus.js";

/**
 * Compound files are named by the application their directory shows, as
 * `file` names them: the corpus's Word and Excel files against `file`'s
 * answer, PowerPoint and Visio built byte by byte, and the claims a name or
 * Content-Type makes compared with that type.
 */

function run(bytes: Uint8Array, name: string, declaredMime?: string) {
  return extract(new BufferSource(bytes, name), { name, ...(declaredMime && { declaredMime }) });
}

const corpus = (name: string) => readFileSync(corpusFile(name));

describe("compound files by application", () => {
  it.each(["filetype-fixture.doc.cfb", "filetype-fixture.xls.cfb"])(
    "%s gets the type `file` gives it",
    async (name) => {
      const expected = expectedEntries().find((entry) => entry.name === name);
      const result = await run(corpus(name), name);
      expect(result.status).toBe("ok");
      expect(result.format.mime).toBe(expected?.mime);
      expect(result.format).toMatchObject({ category: "document", mismatch: false });
    },
  );

  it.each([
    ["report.doc", "filetype-fixture.doc.cfb", { mime: "application/msword", ext: "doc" }],
    ["sheet.xls", "filetype-fixture.xls.cfb", { mime: "application/vnd.ms-excel", ext: "xls" }],
  ])("%s is named by its extension with no mismatch", async (name, file, format) => {
    const result = await run(corpus(file), name);
    expect(result.format).toMatchObject({ ...format, declaredExt: name.split(".")[1], mismatch: false });
  });

  it("a PowerPoint file is application/vnd.ms-powerpoint", async () => {
    const { document, currentUser } = buildPowerPointStreams([{ document: {} }]);
    const bytes = buildCfb([
      { name: "Current User", content: currentUser },
      { name: "PowerPoint Document", content: document },
    ]);
    const result = await run(bytes, "deck.ppt");
    expect(result.document?.application).toBe("Microsoft PowerPoint");
    expect(result.format).toMatchObject({
      mime: "application/vnd.ms-powerpoint",
      ext: "ppt",
      mismatch: false,
    });
  });

  it("a binary Visio drawing is application/vnd.visio", async () => {
    const bytes = buildCfb([{ name: "VisioDocument", content: new Uint8Array(4096) }]);
    const result = await run(bytes, "drawing.vsd");
    expect(result.format).toMatchObject({ mime: "application/vnd.visio", ext: "vsd", mismatch: false });
  });

  it("a compound file no application claims stays application/x-cfb", async () => {
    const result = await run(buildCfb([{ name: "Contents", content: "data" }]), "store.cfb");
    expect(result.format).toMatchObject({ mime: "application/x-cfb", ext: "cfb", mismatch: false });
  });
});

describe("claims compared with the application", () => {
  it("a Word document named .xls is a mismatch, which every compound file used to pass", async () => {
    const result = await run(corpus("filetype-fixture.doc.cfb"), "budget.xls");
    expect(result.format).toMatchObject({
      mime: "application/msword",
      mismatch: true,
      mismatchReason: "extension .xls suggests application/vnd.ms-excel but content is application/msword",
    });
  });

  it("an Excel workbook sent as application/msword is a mismatch", async () => {
    const result = await run(corpus("filetype-fixture.xls.cfb"), "sheet.xls", "application/msword");
    expect(result.format).toMatchObject({
      mismatch: true,
      mismatchReason: "declared Content-Type application/msword but content is application/vnd.ms-excel",
    });
  });

  it.each([
    ["report.docx", undefined],
    ["report", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"],
    ["book.xlsm", undefined],
  ])("a password-protected OOXML package claimed as %s (%s) is no mismatch", async (name, declaredMime) => {
    const result = await run(corpus("tika-testWORD_protected_passtika.docx"), name, declaredMime);
    expect(result.document).toMatchObject({ application: "Office Open XML (encrypted)", encrypted: true });
    expect(result.format).toMatchObject({ mime: "application/x-cfb", mismatch: false });
    expect(result.format.mismatchReason).toBeUndefined();
  });

  it("a password-protected OOXML package named .pdf still is one", async () => {
    const result = await run(corpus("tika-testWORD_protected_passtika.docx"), "invoice.pdf");
    expect(result.format).toMatchObject({
      mime: "application/x-cfb",
      mismatch: true,
      mismatchReason: "extension .pdf suggests application/pdf but content is application/x-cfb",
    });
  });
});
