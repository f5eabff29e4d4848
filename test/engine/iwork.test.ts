import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { BufferSource, extract } from "../../src/engine/index.js";
import { corpusFile } from "../support/corpus.js";
import { buildZip } from "../support/zip.js";

/** A ZIP of empty entries with these names. */
function zipOf(names: readonly string[]): Uint8Array {
  return buildZip(names.map((name) => ({ name, content: "", method: "store" as const })));
}

/** The entries every single-file iWork '13 document has, whatever the application. */
const SINGLE_FILE = [
  "Index/Document.iwa",
  "Index/DocumentStylesheet.iwa",
  "Index/Metadata.iwa",
  "Metadata/Properties.plist",
  "Metadata/DocumentIdentifier",
  "preview.jpg",
];

describe("iWork documents", () => {
  it("a zipped Keynote bundle from the corpus is Keynote, as exiftool (12.57) calls it, its listing kept", async () => {
    // Arrange: `file` says application/zip; exiftool says KEY from the bundle's folder name.
    const bytes = readFileSync(corpusFile("tika-testKeynote2018.key"));

    // Act
    const result = await extract(new BufferSource(bytes, "talk.key"), {
      name: "talk.key",
      declaredMime: "application/vnd.apple.keynote",
    });

    // Assess
    expect(result.status).toBe("ok");
    expect(result.format).toEqual({
      mime: "application/vnd.apple.keynote",
      ext: "key",
      category: "document",
      mismatch: false,
      declaredMime: "application/vnd.apple.keynote",
      declaredExt: "key",
    });
    expect(result.archive).toMatchObject({ kind: "zip", entries: 7, uncompressedSize: 78300 });
  });

  it.each([
    ["Keynote, by its slides", [...SINGLE_FILE, "Index/Slide.iwa", "Index/Slide-1234.iwa"], "key"],
    [
      "Numbers, by its data list",
      [...SINGLE_FILE, "Index/Tables/DataList.iwa", "Index/CalculationEngine.iwa"],
      "numbers",
    ],
    ["Pages, when neither shows", SINGLE_FILE, "pages"],
    ["Keynote '09, by its index.apxl", ["index.apxl", "QuickLook/Thumbnail.jpg"], "key"],
    [
      "a zipped Numbers bundle, by its folder's name",
      ["Budget.numbers/Index.zip", "Budget.numbers/Data/"],
      "numbers",
    ],
  ])("a single file is named %s", async (_label, names, ext) => {
    // Act: named with no extension, so the entries alone decide.
    const result = await extract(new BufferSource(zipOf(names), "document"), { name: "document" });

    // Assess
    expect(result.format).toMatchObject({
      mime: `application/vnd.apple.${ext === "key" ? "keynote" : ext}`,
      ext,
    });
    expect(result.format.category).toBe("document");
  });

  it("Pages '09, whose entries do not say which application wrote it, is a zip its declared type agrees with", async () => {
    // Act
    const result = await extract(
      new BufferSource(zipOf(["index.xml", "QuickLook/Thumbnail.jpg"]), "notes.pages"),
      {
        name: "notes.pages",
        declaredMime: "application/vnd.apple.pages",
      },
    );

    // Assess
    expect(result.format).toMatchObject({ mime: "application/zip", category: "archive", mismatch: false });
  });

  it("a Keynote document declared as a Word document is a mismatch", async () => {
    // Act
    const result = await extract(
      new BufferSource(zipOf([...SINGLE_FILE, "Index/Slide.iwa"]), "report.docx"),
      {
        name: "report.docx",
        declaredMime: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
      },
    );

    // Assess
    expect(result.format).toMatchObject({ mime: "application/vnd.apple.keynote", mismatch: true });
    expect(result.format.mismatchReason).toMatch(/content is application\/vnd\.apple\.keynote/);
  });
});
