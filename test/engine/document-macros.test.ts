import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { BufferSource, extract } from "../../src/engine/index.js";
import { buildCfb, type CfbNode } from "../support/cfb.js";
import { corpusFile } from "../support/corpus.js";
import { buildZip, type Part } from "../support/zip.js";

/**
 * Macros in legacy Office (CFB) files and OpenDocument packages, built byte by
 * byte in the layouts Office and LibreOffice write; the corpus holds none.
 */

function run(bytes: Uint8Array, name: string) {
  return extract(new BufferSource(bytes, name), { name });
}

/** A VBA project's storages and streams ([MS-OVBA] 2.2.1), contents beside the point. */
function vbaProject(root: string, modules: readonly string[] = ["ThisDocument"]): CfbNode {
  return {
    name: root,
    children: [
      {
        name: "VBA",
        children: [
          { name: "dir", content: "compressed dir stream" },
          { name: "_VBA_PROJECT", content: "\xcc\x61\xff\xff\x00" },
          ...modules.map((module) => ({ name: module, content: "Attribute VB_Name" })),
        ],
      },
      { name: "PROJECT", content: 'ID="{00000000-0000-0000-0000-000000000000}"' },
      { name: "PROJECTwm", content: "ThisDocument\0" },
    ],
  };
}

/** Word's main stream, long enough to be read: a FIB whose flags say not encrypted. */
const WORD_DOCUMENT: CfbNode = { name: "WordDocument", content: new Uint8Array(4096) };
/** Excel's main stream, long enough to be read: a BIFF8 BOF record, then nothing of note. */
const WORKBOOK: CfbNode = {
  name: "Workbook",
  content: Buffer.concat([Buffer.from([0x09, 0x08, 0x10, 0x00, 0x00, 0x06, 0x05, 0x00]), Buffer.alloc(4096)]),
};

/** A binary Visio drawing's main stream; its content is not read. */
const VISIO_DOCUMENT: CfbNode = { name: "VisioDocument", content: new Uint8Array(5000) };

describe("legacy Office macros", () => {
  it.each([
    [
      "a Word document's Macros storage",
      [WORD_DOCUMENT, { name: "1Table", content: "table" }, vbaProject("Macros")],
      "Microsoft Word",
    ],
    [
      "an Excel workbook's _VBA_PROJECT_CUR storage",
      [WORKBOOK, vbaProject("_VBA_PROJECT_CUR", ["ThisWorkbook", "Sheet1", "Module1"])],
      "Microsoft Excel",
    ],
    [
      "a project in an embedded object's storage",
      [WORD_DOCUMENT, { name: "ObjectPool", children: [vbaProject("_1234567890")] }],
      "Microsoft Word",
    ],
    [
      "names in another case",
      [
        WORD_DOCUMENT,
        {
          name: "MACROS",
          children: [
            {
              name: "vba",
              children: [
                { name: "DIR", content: "d" },
                { name: "_vba_project", content: "p" },
              ],
            },
          ],
        },
      ],
      "Microsoft Word",
    ],
  ] as const)("are reported for %s", async (_label, tree, application) => {
    const result = await run(buildCfb(tree), "report.doc");
    expect(result.status).toBe("ok");
    expect(result.document).toEqual({ kind: "cfb", application, encrypted: false, macros: true });
  });

  it.each([
    ["with a VBA project", [VISIO_DOCUMENT, vbaProject("_VBA_PROJECT_CUR")], true],
    ["without one", [VISIO_DOCUMENT], false],
  ] as const)("are told for a binary Visio drawing %s", async (_label, tree, macros) => {
    const result = await run(buildCfb(tree), "drawing.vsd");
    expect(result.status).toBe("ok");
    expect(result.format).toMatchObject({ mime: "application/vnd.visio", mismatch: false });
    expect(result.document).toEqual({
      kind: "cfb",
      application: "Microsoft Visio",
      ...(macros && { macros: true }),
    });
  });

  it.each([
    ["a plain Word document", [WORD_DOCUMENT, { name: "1Table", content: "table" }]],
    ["a plain Excel workbook", [WORKBOOK]],
    [
      "a VBA storage without the dir and _VBA_PROJECT streams",
      [
        WORD_DOCUMENT,
        { name: "Macros", children: [{ name: "VBA", children: [{ name: "Module1", content: "x" }] }] },
      ],
    ],
    ["an empty VBA storage", [WORD_DOCUMENT, { name: "Macros", children: [{ name: "VBA", children: [] }] }]],
    ["a stream named VBA", [WORD_DOCUMENT, { name: "VBA", content: "not a storage" }]],
  ] as const)("are absent for %s", async (_label, tree) => {
    const result = await run(buildCfb(tree), "report.doc");
    expect(result.status).toBe("ok");
    expect(result.document?.kind).toBe("cfb");
    expect(result.document).not.toHaveProperty("macros");
  });

  /** Root entries that push a project's entry ids to where the test wants them. */
  const fillers = (count: number): CfbNode[] =>
    Array.from({ length: count }, (_, i) => ({ name: `Filler${i}`, content: "" }));

  it("are reported for a VBA storage whose streams lie past the directory sectors read", async () => {
    // Ids are breadth first: the root's 126 children take 1-126, VBA 127 (the last
    // entry of the 32nd sector), and its streams from 128 on go unread.
    const tree = [...fillers(124), WORD_DOCUMENT, vbaProject("Macros")];
    const result = await run(buildCfb(tree), "report.doc");
    expect(result.document).toMatchObject({ kind: "cfb", macros: true });
  });

  // The directory is read up to 512 sectors (2,048 entries of a 512-byte-sector file); it once stopped at 32.
  it("are reported for a project whose VBA storage lies past the first 128 entries", async () => {
    const tree = [...fillers(200), WORD_DOCUMENT, vbaProject("Macros")];
    const result = await run(buildCfb(tree), "report.doc");
    expect(result.document).toMatchObject({ kind: "cfb", macros: true });
  });

  it.each([
    "filetype-fixture.doc.cfb",
    "filetype-fixture.xls.cfb",
    "filetype-fixture-password-protected.xls",
    "tika-testWORD_protected_passtika.docx",
  ])("are absent from the corpus's %s, which carries none", async (name) => {
    const result = await run(readFileSync(corpusFile(name)), name);
    expect(result.document?.kind).toBe("cfb");
    expect(result.document).not.toHaveProperty("macros");
  });
});

const ODT = "application/vnd.oasis.opendocument.text";

function manifest(paths: readonly string[]): string {
  const entries = ["/", ...paths].map(
    (path) => `<manifest:file-entry manifest:full-path="${path}" manifest:media-type="text/xml"/>`,
  );
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3">' +
    `${entries.join("")}</manifest:manifest>`
  );
}

/** An .odt with `extra` entries, its manifest listing `listed` (by default, the extra entries). */
function odt(extra: readonly Part[], listed: readonly string[] = extra.map((part) => part.name)): Uint8Array {
  return buildZip([
    { name: "mimetype", content: ODT, method: "store" },
    { name: "content.xml", content: "<office:document-content/>" },
    ...extra,
    { name: "META-INF/manifest.xml", content: manifest(["content.xml", ...listed]) },
  ]);
}

const LIBRARY_CONTAINER: Part = {
  name: "Basic/script-lc.xml",
  content:
    '<library:libraries xmlns:library="http://openoffice.org/2000/library"><library:library library:name="Standard" library:link="false"/></library:libraries>',
};

function library(modules: readonly string[]): Part {
  const elements = modules.map((module) => `<library:element library:name="${module}"/>`).join("");
  return {
    name: "Basic/Standard/script-lb.xml",
    content: `<library:library xmlns:library="http://openoffice.org/2000/library" library:name="Standard">${elements}</library:library>`,
  };
}

const MODULE: Part = {
  name: "Basic/Standard/Module1.xml",
  content:
    '<script:module xmlns:script="http://openoffice.org/2000/script" script:name="Module1" script:language="StarBasic">Sub Main\nShell("calc")\nEnd Sub</script:module>',
};

describe("OpenDocument macros", () => {
  it.each([
    ["a Basic module", [LIBRARY_CONTAINER, library(["Module1"]), MODULE], undefined],
    [
      "a password-protected library's module",
      [LIBRARY_CONTAINER, library(["Module1"]), { name: "Basic/Standard/Module1.pba", content: "\x01\x02" }],
      undefined,
    ],
    ["a Python script", [{ name: "Scripts/python/hello.py", content: "def hello(*args): pass" }], undefined],
    [
      "a module the manifest lists and the listing does not show",
      [LIBRARY_CONTAINER, library(["Module1"])],
      [LIBRARY_CONTAINER.name, "Basic/Standard/script-lb.xml", MODULE.name],
    ],
  ] as const)("are reported for %s", async (_label, extra, listed) => {
    const result = await run(odt(extra, listed), "minutes.odt");
    expect(result.format.mime).toBe(ODT);
    expect(result.status).toBe("ok");
    expect(result.document).toMatchObject({ kind: "odf", macros: true });
  });

  it.each([
    ["a library container with no library", [LIBRARY_CONTAINER]],
    ["an empty Standard library", [LIBRARY_CONTAINER, library([])]],
    [
      "folder entries alone",
      [
        { name: "Basic/Standard/", content: "", method: "store" },
        { name: "Scripts/python/", content: "", method: "store" },
      ],
    ],
    [
      "a dialog library, which holds no code",
      [
        { name: "Dialogs/dialog-lc.xml", content: "<library:libraries/>" },
        { name: "Dialogs/Standard/Dialog1.xml", content: "<dlg:window/>" },
      ],
    ],
  ] as const)("are absent for %s", async (_label, extra) => {
    const result = await run(odt(extra), "minutes.odt");
    expect(result.status).toBe("ok");
    expect(result.document?.kind).toBe("odf");
    expect(result.document).not.toHaveProperty("macros");
  });

  // A Base database keeps its macros like any other ODF package; a plain zip would hide them.
  it.each([
    ["application/vnd.oasis.opendocument.base", "odb"],
    ["application/vnd.oasis.opendocument.database", "odb"],
    ["application/vnd.oasis.opendocument.text-master", "odm"],
    ["application/vnd.oasis.opendocument.formula", "odf"],
    ["application/vnd.oasis.opendocument.chart", "odc"],
  ])("are reported for a package whose mimetype is %s (.%s)", async (mime, ext) => {
    const bytes = buildZip([
      { name: "mimetype", content: mime, method: "store" },
      { name: "content.xml", content: "<office:document-content/>" },
      LIBRARY_CONTAINER,
      library(["Module1"]),
      MODULE,
      { name: "META-INF/manifest.xml", content: manifest([MODULE.name]) },
    ]);
    const result = await extract(new BufferSource(bytes, `file.${ext}`), {
      name: `file.${ext}`,
      declaredMime: "application/vnd.oasis.opendocument.database",
    });
    expect(result.format).toMatchObject({ mime, ext, category: "document" });
    expect(result.format.mismatch).toBe(!mime.includes(".base") && !mime.includes(".database"));
    expect(result.document).toMatchObject({ kind: "odf", macros: true });
  });

  it("are reported for an encrypted package, whose entry names stay readable", async () => {
    const encrypted = manifest([MODULE.name]).replace(
      `manifest:full-path="${MODULE.name}" manifest:media-type="text/xml"/>`,
      `manifest:full-path="${MODULE.name}" manifest:media-type="text/xml"><manifest:encryption-data/></manifest:file-entry>`,
    );
    const bytes = buildZip([
      { name: "mimetype", content: ODT, method: "store" },
      { name: MODULE.name, content: "\x8f\x13 ciphertext" },
      { name: "META-INF/manifest.xml", content: encrypted },
    ]);
    const result = await run(bytes, "secret.odt");
    expect(result.document).toMatchObject({ kind: "odf", encrypted: true, macros: true });
  });

  it.each([
    "filetype-fixture.odt",
    "filetype-fixture.ods",
    "tika-LibreOfficeWriter_odt_1.3.odt",
    "tika-test-columnar.ods",
    "tika-testMasterFooter.odp",
    "tika-testODTEncrypted.odt",
    "tika-testODTNoMeta.odt",
    "tika-testOpenOffice2.odt",
  ])("are absent from the corpus's %s, which carries none", async (name) => {
    const result = await run(readFileSync(corpusFile(name)), name);
    expect(result.document?.kind).toBe("odf");
    expect(result.document).not.toHaveProperty("macros");
  });
});
