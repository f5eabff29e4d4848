import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { BufferSource, type ExtractionResult, extract, FileSource } from "../../src/engine/index.js";
import { corpusFile, expectedEntries } from "../support/corpus.js";

async function extractFile(name: string): Promise<ExtractionResult> {
  const source = await FileSource.open(corpusFile(name));
  try {
    return await extract(source, { name });
  } finally {
    await source.close();
  }
}

const DOCUMENT_FILE = /\.(docx|xlsx|pptx|odt|ods|odp|epub|mobi|rtf)$/;
/** Legacy Office files, some kept under a `.cfb` suffix. */
const LEGACY_OFFICE_FILE = /\.(doc|xls|ppt)(\.cfb)?$/;

/**
 * Oracle rows whose Title/Creator/Author exiftool reported non-empty, for
 * zip-based and text documents; for legacy Office files, every row where it
 * reported one, since an empty string there is a property the file states
 * empty, which the record must leave out rather than keep as "".
 */
const withOracle = expectedEntries().filter((entry) => {
  const values = [entry.Title, entry.Creator, entry.Author];
  if (LEGACY_OFFICE_FILE.test(entry.name)) return values.some((value) => value !== undefined);
  return DOCUMENT_FILE.test(entry.name) && values.some((value) => value !== undefined && value !== "");
});

function oracleCreator(entry: (typeof withOracle)[number]): string | undefined {
  const value = entry.Creator ?? entry.Author;
  if (Array.isArray(value)) return value.join("; ");
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** Where this extractor disagrees with exiftool on purpose: the value it reports instead, and why. */
const DISAGREEMENTS: Record<string, { title?: string; creator?: string; why: string }> = {
  // exiftool reports only the EXTH author; the MOBI full name (and EXTH 503 when present) is the title.
  "filetype-fixture.mobi": { title: "Metamorphosis", why: "title from the MOBI header" },
  // ODF: meta:initial-creator is the author; exiftool's Creator is dc:creator, the last to save (our lastModifiedBy).
  "tika-test-columnar.ods": { creator: "henry feldman", why: "initial-creator is the author" },
  // exiftool reads no RTF title; the \info group has one (ANSI and \ud Unicode forms).
  "tika-testRTFJapanese.rtf": { title: "ゾルゲと尾崎、淡々と最期", why: "RTF \\title is decoded" },
};

describe("document extractor against exiftool", () => {
  it("has oracle rows to compare with", () => {
    expect(withOracle.length).toBeGreaterThanOrEqual(15);
  });

  it.each(withOracle.map((entry) => [entry.name, entry] as const))(
    "%s title and creator",
    async (name, entry) => {
      const result = await extractFile(name);
      expect(result.status).toBe("ok");
      const disagreement = DISAGREEMENTS[name];
      const title = typeof entry.Title === "string" && entry.Title !== "" ? entry.Title : undefined;
      expect(result.document?.title).toBe(disagreement?.title ?? title);
      expect(result.document?.creator).toBe(disagreement?.creator ?? oracleCreator(entry));
    },
  );
});

describe("document extractor fields", () => {
  it.each([
    {
      file: "tika-testWORD.docx",
      fields: {
        kind: "ooxml",
        application: "Microsoft Office Word",
        pages: 2,
        words: 122,
        lastModifiedBy: "Nick Burch",
        created: "2008-12-11T16:04:00Z",
      },
    },
    { file: "tika-testPPT.pptx", fields: { kind: "ooxml", slides: 3 } },
    { file: "tika-testEXCEL.xlsx", fields: { kind: "ooxml", sheets: 3, application: "Microsoft Excel" } },
    { file: "filetype-fixture.ods", fields: { kind: "odf", sheets: 3, encrypted: false } },
    { file: "filetype-fixture.odt", fields: { kind: "odf", pages: 1, words: 77, language: "en-US" } },
    { file: "tika-testODTEncrypted.odt", fields: { kind: "odf", encrypted: true } },
    // Subject and keywords as exiftool reads them (Subject, Keywords), which expected.jsonl does not record.
    {
      file: "tika-testWORD_custom_props.docx",
      fields: { kind: "ooxml", subject: "My subject", keywords: "My Keyword" },
    },
    {
      file: "tika-testEXCEL.strict.xlsx",
      fields: { kind: "ooxml", subject: "Spreadsheet for testing", keywords: "Testing Sample Formulas" },
    },
    { file: "tika-testEPUB.epub", fields: { kind: "epub", language: "en", subject: "Tika ePub test" } },
    { file: "filetype-fixture.mobi", fields: { kind: "mobi", title: "Metamorphosis", encrypted: false } },
    {
      file: "tika-testRTFJapanese.rtf",
      fields: { kind: "rtf", title: "ゾルゲと尾崎、淡々と最期", created: "2004-10-28T10:19:00" },
    },
    // Encrypted OOXML is a CFB container holding EncryptionInfo + EncryptedPackage.
    { file: "tika-testWORD_protected_passtika.docx", fields: { kind: "cfb", encrypted: true } },
    { file: "tika-testEXCEL_protected_passtika.xlsx", fields: { kind: "cfb", encrypted: true } },
    // Named .xls but it is an encrypted OOXML package too (EncryptedPackage stream).
    // Its wrapper carries the property sets in the clear; exiftool reads CreateDate and ModifyDate from them.
    {
      file: "filetype-fixture-password-protected.xls",
      fields: {
        kind: "cfb",
        application: "Office Open XML (encrypted)",
        encrypted: true,
        created: "2015-06-05T18:19:34Z",
        modified: "2023-10-20T04:13:17Z",
      },
    },
    // Dates as exiftool reads them from SummaryInformation (CreateDate, ModifyDate), which expected.jsonl does not record.
    {
      file: "filetype-fixture.doc.cfb",
      fields: {
        kind: "cfb",
        application: "Microsoft Word",
        encrypted: false,
        created: "2017-08-02T09:09:18Z",
      },
    },
    {
      file: "filetype-fixture.xls.cfb",
      fields: {
        kind: "cfb",
        application: "Microsoft Excel",
        encrypted: false,
        created: "2017-08-03T09:50:33Z",
        modified: "2017-08-04T09:27:53Z",
      },
    },
  ])("$file", async ({ file, fields }) => {
    const result = await extractFile(file);
    expect(result.status).toBe("ok");
    expect(result.document).toMatchObject(fields);
  });

  it("a Word file whose set has a zero save time and no counts takes the counts from Word's DOP", async () => {
    // exiftool 12.57 shows ModifyDate 0, and Pages 4 and Words 913 from the DOP in the table stream (MS-DOC).
    const result = await extractFile("filetype-fixture.doc.cfb");
    expect(result.document).not.toHaveProperty("modified");
    expect(result.document).toMatchObject({
      application: "Microsoft Word",
      encrypted: false,
      pages: 4,
      words: 913,
    });
  });

  it("an ODT text document does not report table-count as sheets", async () => {
    const result = await extractFile("filetype-fixture.odt");
    expect(result.document?.sheets).toBeUndefined();
  });

  it("reads a docx in at most two requests and well under its size", async () => {
    const result = await extractFile("tika-testWORD.docx");
    expect(result.readRequests).toBeLessThanOrEqual(2);
    expect(result.bytesRead).toBeLessThanOrEqual(result.size);
  });
});

describe("truncated and corrupt documents", () => {
  it("tika-testWORD_truncated.docx (no central directory) is partial with its kind", async () => {
    const result = await extractFile("tika-testWORD_truncated.docx");
    expect(result.status).toBe("partial");
    expect(result.document?.kind).toBe("ooxml");
  });

  it.each([
    "tika-testWORD.docx",
    "filetype-fixture.xlsx",
    "filetype-fixture.pptx",
    "filetype-fixture.odt",
    "tika-testEPUB.epub",
    "filetype-fixture.mobi",
    "tika-testRTFJapanese.rtf",
    "filetype-fixture.doc.cfb",
    "tika-testWORD_protected_passtika.docx",
  ])("%s cut or damaged never throws and never hangs", async (file) => {
    const bytes = readFileSync(corpusFile(file));
    for (const cut of [8, 100, 600, Math.floor(bytes.byteLength / 2), bytes.byteLength - 30]) {
      const result = await extract(new BufferSource(bytes.subarray(0, cut), file), {
        budget: { maxMillis: 2000 },
      });
      expect(["ok", "partial", "error"]).toContain(result.status);
      expect(result.durationMs).toBeLessThan(2000);
    }
    const damaged = Buffer.from(bytes);
    for (let i = 64; i < damaged.byteLength; i += 61) damaged[i] = (damaged[i] as number) ^ 0x5a;
    const result = await extract(new BufferSource(damaged, file), { budget: { maxMillis: 2000 } });
    expect(["ok", "partial", "error"]).toContain(result.status);
  });
});
