import { readFileSync } from "node:fs";
import { deflateSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { BufferSource, FileSource } from "../../src/engine/byte-source/byte-source.js";
import { extract } from "../../src/engine/engine.js";
import { type PdfDict, PdfParser, PdfRef, type PdfString } from "../../src/engine/extractors/pdf/lexer.js";
import { decodeTextString, parsePdfDate } from "../../src/engine/extractors/pdf/text-string.js";
import type { ExtractionResult } from "../../src/engine/types.js";
import { corpusFile, type ExpectedEntry, expectedEntries } from "../support/corpus.js";

const pdfs = expectedEntries().filter((entry) => entry.mime === "application/pdf");

/** Files carrying an /Encrypt dictionary in their trailer. */
const ENCRYPTED = new Set([
  "pdfjs-empty_protected.pdf",
  "pdfjs-issue17215.pdf",
  "pdfjs-issue19484_1.pdf",
  "pdfjs-issue3371.pdf",
  "pdfjs-issue9972-1.pdf",
  "pdfjs-print_protection.pdf",
]);

/**
 * Where we knowingly differ from exiftool, and why. Keys are `file:field`.
 * exiftool merges XMP into its output, so its "Creator" is often XMP
 * dc:creator (the author), and its "Producer" is XMP pdf:Producer even where
 * the information dictionary was edited after the packet.
 */
const ORACLE_DISAGREEMENTS: Record<string, string> = {
  "pdfjs-issue17215.pdf:producer":
    "an incremental update rewrote the /Info Producer (PDFsharp …(Original: …)) 19 s after xmp:MetadataDate, so /Info wins; exiftool shows the XMP value",
  "pdfjs-issue3214.pdf:creator":
    "the packet's dc:creator is `()`, the PDF syntax of an empty string that iText 2 copied from /Info as it is written: the engine reads no author there, exiftool shows the two characters",
};

async function run(name: string): Promise<ExtractionResult> {
  const source = await FileSource.open(corpusFile(name));
  try {
    return await extract(source, { name });
  } finally {
    await source.close();
  }
}

/** exiftool's string for a tag, or undefined when absent or blank (we do not report blanks). */
function oracleText(entry: ExpectedEntry, tag: string): string | undefined {
  const value = entry[tag];
  if (typeof value !== "string" && typeof value !== "number") return undefined;
  const text = String(value).trim();
  return text.length > 0 ? text : undefined;
}

describe("pdf extractor over the corpus", () => {
  it("covers every PDF in the corpus", () => {
    expect(pdfs.length).toBeGreaterThanOrEqual(31);
  });

  it.each(pdfs.map((entry) => [entry.name, entry] as const))("%s", async (name, entry) => {
    const result = await run(name);
    expect(result.format.mime).toBe("application/pdf");
    expect(result.pdf).toBeDefined();
    const pdf = result.pdf!;
    expect(pdf.encrypted).toBe(ENCRYPTED.has(name));
    expect(pdf.version).toMatch(/^\d\.\d$/);
    if (entry.PageCount !== undefined) expect(pdf.pages).toBe(entry.PageCount);

    const fields = [
      ["Title", "title"],
      ["Author", "author"],
      ["Producer", "producer"],
    ] as const;
    for (const [tag, field] of fields) {
      const expected = oracleText(entry, tag);
      if (expected === undefined || ORACLE_DISAGREEMENTS[`${name}:${field}`]) continue;
      expect(pdf[field], `${tag}`).toBe(expected);
    }
    const creator = oracleText(entry, "Creator");
    if (creator !== undefined && !ORACLE_DISAGREEMENTS[`${name}:creator`]) {
      expect([pdf.creator, pdf.author]).toContain(creator);
    }
    if (result.status !== "ok") expect(result.reason).toBeTruthy();
  });

  it("reads only part of the larger corpus files", async () => {
    const result = await run("pdfjs-issue9972-1.pdf");
    expect(result.status).toBe("ok");
    expect(result.bytesRead).toBeLessThan(result.size);
  });

  it("decodes dates, UTF-16 strings and versions", async () => {
    const printed = await run("filetype-fixture-printed.pdf");
    expect(printed.pdf).toMatchObject({
      version: "1.7",
      created: "2020-05-13T13:32:27+02:00",
      modified: "2020-05-13T13:32:27+02:00",
    });
    const japanese = await run("pdfjs-issue2884_reduced.pdf");
    expect(japanese.pdf?.title).toBe("あいち電子調達共同システム");
    const pdf2 = await run("pdfjs-bug1937438_af_from_latex.pdf");
    expect(pdf2.pdf?.version).toBe("2.0");
  });

  it("weighs the XMP packet against the information dictionary by their dates", async () => {
    // /Info and XMP agree on the title; the packet's author is `()`, an empty PDF string copied into it.
    const ghostscript = await run("pdfjs-issue3214.pdf");
    expect(ghostscript.pdf).toMatchObject({ title: "Test Document" });
    expect(ghostscript.pdf).not.toHaveProperty("author");
    // /Info was edited after xmp:MetadataDate: its producer stands, XMP's is older.
    const edited = await run("pdfjs-issue17215.pdf");
    expect(edited.pdf?.producer).toMatch(/^PDFsharp/);
  });

  it("detects linearization from the first object", async () => {
    expect((await run("pdfjs-rotation.pdf")).pdf?.linearized).toBe(true);
    expect((await run("pdfjs-issue6204.pdf")).pdf?.linearized).toBe(false);
  });

  it("opens files protected by an owner password only, and decrypts their strings", async () => {
    const rc4 = await run("pdfjs-issue17215.pdf"); // R3, RC4 128
    expect(rc4.pdf?.author).toBe("Evangelos Vlachogiannis");
    const aes128 = await run("pdfjs-issue9972-1.pdf"); // R4, AESV2
    expect(aes128.pdf?.title).toBe("IBM-PDFs.graffle");
    const aes256 = await run("pdfjs-empty_protected.pdf"); // R6, AESV3
    expect(aes256.pdf?.producer).toMatch(/^Adobe Acrobat Pro/);
    expect(aes256.pdf?.pages).toBe(1);
    const shortKey = await run("pdfjs-issue19484_1.pdf"); // R4, RC4 with a 40-bit key Acrobat pads to 16 bytes
    expect(shortKey.status).toBe("ok");
    expect(shortKey.pdf).toMatchObject({
      pages: 1,
      producer: "Adobe Acrobat Pro (64-bit) 24.5.20399",
      created: "2025-02-08T20:53:52-06:00",
    });
  });

  it("reports encryption without strings when a user password is needed", async () => {
    for (const name of ["pdfjs-issue3371.pdf", "pdfjs-print_protection.pdf"]) {
      const result = await run(name);
      expect(result.pdf?.encrypted).toBe(true);
      expect(result.pdf?.title).toBeUndefined();
      expect(result.pdf?.producer).toBeUndefined();
      expect(result.warnings.join(" ")).toMatch(/password/);
    }
  });

  it("counts the pages of a linearized file whose page tree is encrypted from its linearization dictionary", async () => {
    // Prepare: the same file as written, and with bytes appended since, which /L no longer describes.
    const bytes = readFileSync(corpusFile("pdfjs-issue3371.pdf"));
    const appended = Buffer.concat([bytes, Buffer.from("\n% appended\n", "latin1")]);
    // Act
    const whole = await extract(new BufferSource(bytes, "locked.pdf"));
    const changed = await extract(new BufferSource(appended, "locked.pdf"));
    // Assess
    expect(whole.pdf).toMatchObject({ encrypted: true, linearized: true, pages: 1 });
    expect(whole.warnings).toContain("page count taken from the linearization dictionary");
    expect(changed.pdf?.pages).toBeUndefined();
    expect(changed.warnings.join(" ")).toMatch(/page tree unreadable without the password/);
  });

  it("repairs files whose xref is broken by scanning for objects, with a warning", async () => {
    for (const name of ["pdfjs-GHOSTSCRIPT-698804-1-fuzzed.pdf", "pdfjs-helloworld-bad.pdf"]) {
      const result = await run(name);
      expect(result.pdf?.pages).toBe(1);
      expect(result.warnings.join(" ")).toMatch(/scanning/);
    }
  });

  it("reports a file with no usable structure as not ok, with a reason", async () => {
    const result = await run("pdfjs-bug1020226.pdf");
    expect(result.status).not.toBe("ok");
    expect(result.reason).toBeTruthy();
    expect(result.pdf?.version).toBe("1.4");
  });

  it("warns about a page count no file of that size can hold", async () => {
    const result = await run("pdfjs-poppler-67295-0.pdf");
    expect(result.pdf?.pages).toBe(9999999999);
    expect(result.warnings.join(" ")).toMatch(/implausible/);
  });
});

describe("pdf extractor on damaged input", () => {
  const samples = [
    "filetype-fixture.pdf",
    "pdfjs-issue3214.pdf",
    "pdfjs-labelled_pages.pdf",
    "pdfjs-issue9972-1.pdf",
  ];
  const cases = samples.flatMap((name) => {
    const bytes = readFileSync(corpusFile(name));
    return [16, 200, 1024, Math.floor(bytes.length / 2), bytes.length - 40, bytes.length - 5].map(
      (cut) => [name, cut, bytes] as const,
    );
  });

  // A loop that ignores the 2 s budget never returns: vitest's per-test timeout (vitest.config.ts, 30 s) ends it.
  it.each(cases)("%s cut at %i never throws and never hangs", async (name, cut, bytes) => {
    const result = await extract(new BufferSource(bytes.subarray(0, cut), name), {
      name,
      budget: { maxMillis: 2000 },
    });
    expect(["ok", "partial", "error"]).toContain(result.status);
    if (result.status !== "ok") expect(result.reason).toBeTruthy();
  });

  it("calls a file cut short partial, with its reason, never ok", async () => {
    // Prepare: a linearized file cut where its first page's objects are whole, and two plain ones cut in half.
    const cut = async (name: string, length: (size: number) => number) => {
      const bytes = readFileSync(corpusFile(name));
      return extract(new BufferSource(bytes.subarray(0, length(bytes.length)), name), { name });
    };
    // Act
    const linearized = await cut("filetype-fixture.pdf", () => 3000);
    const halves = await Promise.all(
      ["pdfjs-issue3214.pdf", "pdfjs-labelled_pages.pdf"].map((name) => cut(name, (size) => size >> 1)),
    );
    // Its last 40 bytes gone, the file ends in the trailer of its update, the revision before it whole.
    const update = await cut("pdfjs-attachment.pdf", (size) => size - 40);
    const noEnd = await cut("pdfjs-issue3214.pdf", (size) => size - 40);
    // Assess: what was read is kept.
    expect(linearized).toMatchObject({
      status: "partial",
      reason: "truncated: the file has 3000 bytes of the 7945 its linearization dictionary states",
      pdf: { linearized: true, version: "1.3" },
    });
    for (const half of halves) expect(half.status).toBe("partial");
    expect(update).toMatchObject({
      status: "partial",
      reason: "truncated: an update after the last %%EOF is cut short",
      pdf: { pages: 1 },
    });
    expect(noEnd).toMatchObject({
      status: "partial",
      reason: "truncated: no startxref or %%EOF at the end of the file",
      pdf: { pages: 14, title: "Test Document" },
    });
  });

  it("survives bytes flipped all over a file", async () => {
    const original = readFileSync(corpusFile("pdfjs-page_with_number.pdf"));
    for (let seed = 1; seed <= 40; seed++) {
      const bytes = Uint8Array.from(original);
      for (let i = 0; i < 30; i++) bytes[(seed * 7919 * (i + 1)) % bytes.length] = (seed * 31 + i) & 0xff;
      const result = await extract(new BufferSource(bytes, "flipped.pdf"), { budget: { maxMillis: 2000 } });
      expect(["ok", "partial", "error"]).toContain(result.status);
    }
  });
});

interface GeneratedPdf {
  bytes: Uint8Array;
  pages: number;
}

/**
 * Writes a valid PDF of `pages` pages, each with a content stream of about
 * `pageBytes`, under a two-level page tree of at most 50 kids a node (as real
 * producers balance it), with either a classic xref table or an xref stream
 * whose catalog, page tree root and info sit in an object stream at the end.
 */
function generatePdf(pages: number, options: { xrefStream: boolean; pageBytes: number; title: string }) {
  const chunks: Buffer[] = [];
  let length = 0;
  const offsets: number[] = [];
  const push = (text: string | Buffer) => {
    const chunk = typeof text === "string" ? Buffer.from(text, "latin1") : text;
    chunks.push(chunk);
    length += chunk.length;
  };
  push("%PDF-1.5\n%\xe2\xe3\xcf\xd3\n");
  const firstPage = 4;
  const perNode = 50;
  const nodes = Math.ceil(pages / perNode);
  const firstNode = firstPage + 2 * pages;
  const filler = "0 0 m 100 100 l S\n".repeat(Math.ceil(options.pageBytes / 18));
  for (let i = 0; i < pages; i++) {
    const page = firstPage + 2 * i;
    const parent = firstNode + Math.floor(i / perNode);
    offsets[page] = length;
    push(
      `${page} 0 obj\n<</Type/Page/Parent ${parent} 0 R/MediaBox[0 0 612 792]/Contents ${page + 1} 0 R>>\nendobj\n`,
    );
    offsets[page + 1] = length;
    push(`${page + 1} 0 obj\n<</Length ${filler.length}>>\nstream\n${filler}\nendstream\nendobj\n`);
  }
  const kids: string[] = [];
  for (let n = 0; n < nodes; n++) {
    const node = firstNode + n;
    const first = n * perNode;
    const count = Math.min(perNode, pages - first);
    const leaves = Array.from({ length: count }, (_, i) => `${firstPage + 2 * (first + i)} 0 R`);
    kids.push(`${node} 0 R`);
    offsets[node] = length;
    push(`${node} 0 obj\n<</Type/Pages/Parent 2 0 R/Count ${count}/Kids[${leaves.join(" ")}]>>\nendobj\n`);
  }
  const size = firstNode + nodes;
  const catalog = "<</Type/Catalog/Pages 2 0 R>>";
  const tree = `<</Type/Pages/Count ${pages}/Kids[${kids.join(" ")}]>>`;
  const info = `<</Title(${options.title})/Author(Writer \\(test\\))/CreationDate(D:20240131120000+01'00')>>`;
  if (!options.xrefStream) {
    for (const [num, body] of [catalog, tree, info].entries()) {
      offsets[num + 1] = length;
      push(`${num + 1} 0 obj\n${body}\nendobj\n`);
    }
    const xrefAt = length;
    push(`xref\n0 ${size}\n0000000000 65535 f \n`);
    for (let num = 1; num < size; num++) push(`${String(offsets[num]).padStart(10, "0")} 00000 n \n`);
    push(`trailer\n<</Size ${size}/Root 1 0 R/Info 3 0 R>>\nstartxref\n${xrefAt}\n%%EOF\n`);
    return { bytes: new Uint8Array(Buffer.concat(chunks)), pages } satisfies GeneratedPdf;
  }
  const objStm = size;
  const xrefNum = size + 1;
  const bodies = [catalog, tree, info];
  let header = "";
  let body = "";
  for (const [i, text] of bodies.entries()) {
    header += `${i + 1} ${body.length} `;
    body += `${text}\n`;
  }
  const streamData = deflateSync(Buffer.from(header + body, "latin1"));
  offsets[objStm] = length;
  push(
    `${objStm} 0 obj\n<</Type/ObjStm/N 3/First ${header.length}/Filter/FlateDecode/Length ${streamData.length}>>\nstream\n`,
  );
  push(streamData);
  push("\nendstream\nendobj\n");
  const xrefAt = length;
  const rows = Buffer.alloc((xrefNum + 1) * 6);
  const row = (num: number, type: number, a: number, b: number) => {
    rows.writeUInt8(type, num * 6);
    rows.writeUInt32BE(a, num * 6 + 1);
    rows.writeUInt8(b, num * 6 + 5);
  };
  row(0, 0, 0, 255);
  for (let i = 0; i < 3; i++) row(i + 1, 2, objStm, i);
  for (let num = firstPage; num <= objStm; num++) row(num, 1, offsets[num] as number, 0);
  row(xrefNum, 1, xrefAt, 0);
  // PNG Up predictor, as Acrobat writes: each row prefixed with filter type 2 and differenced.
  const predicted = Buffer.alloc((xrefNum + 1) * 7);
  for (let r = 0; r <= xrefNum; r++) {
    predicted[r * 7] = 2;
    for (let c = 0; c < 6; c++) {
      const up = r > 0 ? (rows[(r - 1) * 6 + c] as number) : 0;
      predicted[r * 7 + 1 + c] = ((rows[r * 6 + c] as number) - up) & 0xff;
    }
  }
  const xrefData = deflateSync(predicted);
  push(
    `${xrefNum} 0 obj\n<</Type/XRef/Size ${xrefNum + 1}/W[1 4 1]/Root 1 0 R/Info 3 0 R/Filter/FlateDecode` +
      `/DecodeParms<</Columns 6/Predictor 12>>/Length ${xrefData.length}>>\nstream\n`,
  );
  push(xrefData);
  push(`\nendstream\nendobj\nstartxref\n${xrefAt}\n%%EOF\n`);
  return { bytes: new Uint8Array(Buffer.concat(chunks)), pages } satisfies GeneratedPdf;
}

describe("pdf extractor on large generated files", () => {
  it.each([
    ["a classic xref table", false],
    ["an xref stream and object streams", true],
  ])("reads a few tens of KiB of a 5,000-page file with %s", async (_label, xrefStream) => {
    const { bytes, pages } = generatePdf(5000, { xrefStream, pageBytes: 600, title: "Large (generated)" });
    expect(bytes.length).toBeGreaterThan(3 * 1024 * 1024);
    const result = await extract(new BufferSource(bytes, "large.pdf"));
    expect(result.status).toBe("ok");
    expect(result.warnings).toEqual([]);
    expect(result.pdf).toMatchObject({
      pages,
      version: "1.5",
      title: "Large (generated)",
      author: "Writer (test)",
      created: "2024-01-31T12:00:00+01:00",
      encrypted: false,
      linearized: false,
    });
    // Measured: 57,562 bytes in 3 requests (table), 35,884 in 2 (stream), for files of about 4 MB.
    expect(result.bytesRead).toBeLessThan(64 * 1024);
    expect(result.readRequests).toBeLessThanOrEqual(4);
  });

  it("follows /Prev to an older section and prefers the newest objects", async () => {
    const { bytes } = generatePdf(3, { xrefStream: false, pageBytes: 10, title: "Old" });
    const original = Buffer.from(bytes);
    const oldXref = Number(/startxref\n(\d+)/.exec(original.toString("latin1"))?.[1]);
    const infoAt = original.length;
    const update = Buffer.from(`3 0 obj\n<</Title(New)>>\nendobj\n`, "latin1");
    const xrefAt = infoAt + update.length;
    const table = Buffer.from(
      `xref\n3 1\n${String(infoAt).padStart(10, "0")} 00000 n \ntrailer\n<</Size 10/Root 1 0 R/Info 3 0 R/Prev ${oldXref}>>\nstartxref\n${xrefAt}\n%%EOF\n`,
      "latin1",
    );
    const result = await extract(new BufferSource(Buffer.concat([original, update, table]), "updated.pdf"));
    expect(result.status).toBe("ok");
    expect(result.pdf).toMatchObject({ pages: 3, title: "New" });
  });

  it("falls back to scanning when startxref points nowhere", async () => {
    const { bytes } = generatePdf(20, { xrefStream: true, pageBytes: 50, title: "Scanned" });
    const text = Buffer.from(bytes)
      .toString("latin1")
      .replace(/startxref\n\d+/, "startxref\n999999999");
    const result = await extract(new BufferSource(Buffer.from(text, "latin1"), "broken.pdf"));
    expect(result.pdf).toMatchObject({ pages: 20, title: "Scanned" });
    expect(result.warnings.join(" ")).toMatch(/scanning/);
  });

  it("calls a file cut before its trailer truncated, keeping what the scan found", async () => {
    // Prepare: every object whole, the xref table, trailer and %%EOF cut off.
    const { bytes } = generatePdf(3, { xrefStream: false, pageBytes: 50, title: "Cut" });
    const text = Buffer.from(bytes).toString("latin1");
    const cut = Buffer.from(text.slice(0, text.lastIndexOf("xref")), "latin1");
    // Act
    const result = await extract(new BufferSource(cut, "cut.pdf"));
    // Assess
    expect(result.status).toBe("partial");
    expect(result.reason).toBe("truncated: no startxref or %%EOF at the end of the file");
    expect(result.pdf).toMatchObject({ pages: 3 });
    expect(result.warnings.join(" ")).toMatch(/scanning/);
  });

  it("keeps a file repaired by scanning ok when it ends with %%EOF", async () => {
    const { bytes } = generatePdf(3, { xrefStream: false, pageBytes: 50, title: "Whole" });
    const text = Buffer.from(bytes)
      .toString("latin1")
      .replace(/startxref\n\d+/, "startxref\n999999999");
    const result = await extract(new BufferSource(Buffer.from(text, "latin1"), "repaired.pdf"));
    expect(result.status).toBe("ok");
    expect(result.pdf).toMatchObject({ pages: 3, title: "Whole" });
  });

  it("stops when an object stream's /Length points into the stream itself", async () => {
    const { bytes } = generatePdf(2, { xrefStream: true, pageBytes: 10, title: "Cycle" });
    const text = Buffer.from(bytes).toString("latin1");
    const cyclic = text.replace(/(\/Type\/ObjStm[^>]*\/Length )\d+/, "$11 0 R");
    const result = await extract(new BufferSource(Buffer.from(cyclic, "latin1"), "cycle.pdf"));
    expect(result.status).not.toBe("ok");
    expect(result.reason).toMatch(/depends on itself/);
  });

  it("stops a /Prev chain that loops", async () => {
    const { bytes } = generatePdf(2, { xrefStream: false, pageBytes: 10, title: "Loop" });
    const text = Buffer.from(bytes).toString("latin1");
    const xrefAt = /startxref\n(\d+)/.exec(text)?.[1];
    const looped = text.replace("/Info 3 0 R>>", `/Info 3 0 R/Prev ${xrefAt}>>`);
    const result = await extract(new BufferSource(Buffer.from(looped, "latin1"), "loop.pdf"));
    expect(result.pdf).toMatchObject({ pages: 2, title: "Loop" });
    expect(result.warnings.join(" ")).toMatch(/loops/);
  });
});

describe("pdf syntax", () => {
  it("parses literal strings with escapes, hex strings, names and references", () => {
    const source = "<</T(a\\(b\\)\\n\\101\\\r\nc)/H<48 65 6C6C 6F7>/N/A#20B/R 12 0 R/Num -1.5/A[1 2 0 R 3]>>";
    const dict = new PdfParser(Buffer.from(source, "latin1"), 0, true).parseValue() as PdfDict;
    expect(dict.get("A")).toEqual([1, new PdfRef(2, 0), 3]);
    expect(Buffer.from((dict.get("T") as PdfString).bytes).toString("latin1")).toBe("a(b)\nAc");
    expect(Buffer.from((dict.get("H") as PdfString).bytes).toString("latin1")).toBe("Hellop");
    expect(dict.name("N")).toBe("A B");
    expect(dict.get("R")).toEqual(new PdfRef(12, 0));
    expect(dict.number("Num")).toBe(-1.5);
  });

  it("refuses hostile nesting instead of exhausting the stack", () => {
    const deep = Buffer.from(`${"[".repeat(10_000)}${"]".repeat(10_000)}`);
    expect(() => new PdfParser(deep, 0, true).parseValue()).toThrow(/nested/);
  });

  it.each([
    ["D:20240131120000+01'00'", "2024-01-31T12:00:00+01:00"],
    ["D:20240131120000-05'30", "2024-01-31T12:00:00-05:30"],
    ["D:20240131120000Z", "2024-01-31T12:00:00Z"],
    ["D:19991231", "1999-12-31T00:00:00"],
    ["D:2024", "2024-01-01T00:00:00"],
    ["20240131120000", "2024-01-31T12:00:00"],
    ["D:20241331", undefined],
    ["yesterday", undefined],
  ])("reads the date %s", (text, iso) => {
    expect(parsePdfDate(text)).toBe(iso);
  });

  it("decodes text strings in UTF-16BE, UTF-8 and PDFDocEncoding", () => {
    expect(decodeTextString(Uint8Array.of(0xfe, 0xff, 0x30, 0x42, 0x00, 0x41))).toBe("あA");
    expect(decodeTextString(Uint8Array.of(0xef, 0xbb, 0xbf, 0xc3, 0xa9))).toBe("é");
    expect(decodeTextString(Uint8Array.of(0x93, 0x41, 0x84, 0xa0, 0xe9))).toBe("ﬁA—€é");
  });

  it.each([
    ["UTF-16BE, language only", [0xfe, 0xff, 0, 0x1b, 0x65, 0x6e, 0, 0x1b, 0, 0x48, 0, 0x69], "Hi"],
    [
      "UTF-16BE, language and country, mid-string",
      [0xfe, 0xff, 0, 0x48, 0, 0x1b, 0x64, 0x65, 0x44, 0x45, 0, 0x1b, 0, 0x69],
      "Hi",
    ],
    ["UTF-8", [0xef, 0xbb, 0xbf, 0x1b, 0x66, 0x72, 0x1b, 0xc3, 0xa9], "é"],
  ])("drops the language escapes of a %s text string", (_label, bytes, text) => {
    expect(decodeTextString(Uint8Array.from(bytes))).toBe(text);
  });
});
