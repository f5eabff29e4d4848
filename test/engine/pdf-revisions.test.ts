import { describe, expect, it } from "vitest";
import { BufferSource } from "../../src/engine/byte-source/byte-source.js";
import { extract } from "../../src/engine/engine.js";

/**
 * PDFs written by hand, object by object, to pin down which revision and
 * which object each field comes from: incremental updates, which of several
 * cross-reference rows for an object is read, offsets that no longer match the
 * file, and the ways a title is written.
 */

/** One revision: object bodies by number (without `obj`/`endobj`) and its trailer entries. */
interface Revision {
  objects: Record<number, string>;
  trailer: string;
}

/**
 * A cross-reference row: object `num` starts at offset `at`, is free, or (in a
 * stream only) has a row of another type.
 */
type Row = readonly [num: number, at: number | "free" | { type: number }];

/** A PDF written piece by piece; each piece is appended, and `object`, `table` and `stream` return where it starts. */
class PdfWriter {
  text = "%PDF-1.5\n%\xe2\xe3\xcf\xd3\n";

  object(num: number, body: string): number {
    const at = this.text.length;
    this.text += `${num} 0 obj\n${body}\nendobj\n`;
    return at;
  }

  /** A classic section with one subsection a row, in the order given (so a repeated number is two subsections). */
  table(rows: readonly Row[], trailer: string): number {
    const at = this.text.length;
    this.text += "xref\n";
    for (const [num, where] of rows) {
      if (typeof where === "object") throw new Error("a classic table row is in use or free");
      const row = where === "free" ? "0000000000 65535 f" : `${String(where).padStart(10, "0")} 00000 n`;
      this.text += `${num} 1\n${row} \n`;
    }
    this.text += `trailer\n<<${trailer}>>\n`;
    return at;
  }

  /** An unencoded cross-reference stream, object `num`, whose /Index has one range a row, in the order given. */
  stream(num: number, rows: readonly Row[], entries: string): number {
    const data = Buffer.alloc(rows.length * 7);
    for (const [i, [, where]] of rows.entries()) {
      const type = where === "free" ? 0 : typeof where === "number" ? 1 : where.type;
      data.writeUInt8(type, i * 7);
      data.writeUInt32BE(typeof where === "number" ? where : 0, i * 7 + 1);
    }
    const index = rows.map(([row]) => `${row} 1`).join(" ");
    return this.object(
      num,
      `<</Type/XRef/W[1 4 2]/Index[${index}]/Length ${data.length}${entries}>>\nstream\n${data.toString("latin1")}\nendstream`,
    );
  }

  /** The `startxref` tail that makes `section` the newest. */
  end(section: number): void {
    this.text += `startxref\n${section}\n%%EOF\n`;
  }
}

/**
 * A PDF whose first revision is `revisions[0]`, each later one appended as an
 * incremental update with its own classic xref section linked by /Prev.
 */
function buildPdf(revisions: readonly Revision[]): string {
  const pdf = new PdfWriter();
  let prev: number | undefined;
  let size = 1;
  for (const revision of revisions) {
    const rows: Row[] = prev === undefined ? [[0, "free"]] : [];
    for (const [num, body] of Object.entries(revision.objects)) {
      rows.push([Number(num), pdf.object(Number(num), body)]);
      size = Math.max(size, Number(num) + 1);
    }
    const link = prev === undefined ? "" : `/Prev ${prev}`;
    prev = pdf.table(rows, `/Size ${size}${link}${revision.trailer}`);
    pdf.end(prev);
  }
  return pdf.text;
}

function extractPdf(text: string) {
  return extract(new BufferSource(new Uint8Array(Buffer.from(text, "latin1")), "built.pdf"));
}

const ORIGINAL: Revision = {
  objects: {
    1: "<</Type/Catalog/Pages 2 0 R>>",
    2: "<</Type/Pages/Count 1/Kids[3 0 R]>>",
    3: "<</Type/Page/Parent 2 0 R>>",
    4: "<</Title(Old title)/Producer(First writer)>>",
  },
  trailer: "/Root 1 0 R/Info 4 0 R",
};

/** An update that adds a page under a new page tree root and a new Info dictionary. */
const UPDATE: Revision = {
  objects: {
    1: "<</Type/Catalog/Pages 6 0 R>>",
    5: "<</Title(New title)>>",
    6: "<</Type/Pages/Count 2/Kids[3 0 R 7 0 R]>>",
    7: "<</Type/Page/Parent 6 0 R>>",
  },
  trailer: "/Root 1 0 R/Info 5 0 R",
};

describe("PDF incremental updates", () => {
  it("take the title from the newest trailer's /Info and the page count from the newest page tree", async () => {
    const result = await extractPdf(buildPdf([ORIGINAL, UPDATE]));
    expect(result.warnings).toEqual([]);
    expect(result.pdf).toMatchObject({ pages: 2, title: "New title" });
    // The old Info dictionary is no longer the document's: nothing of it is kept.
    expect(result.pdf?.producer).toBeUndefined();
  });
});

describe("PDF cross-reference offsets that do not match the file", () => {
  it("find a misplaced object by scanning, with a warning, instead of losing its fields", async () => {
    // Prepare: the newest Info dictionary's row points three bytes past it, into `obj`.
    const text = buildPdf([ORIGINAL, UPDATE]);
    const infoAt = text.lastIndexOf("5 0 obj");
    const shifted = text.replace(
      `5 1\n${String(infoAt).padStart(10, "0")}`,
      `5 1\n${String(infoAt + 3).padStart(10, "0")}`,
    );
    // Act
    const result = await extractPdf(shifted);
    // Assess
    expect(result.status).toBe("ok");
    expect(result.pdf).toMatchObject({ pages: 2, title: "New title" });
    expect(result.warnings).toEqual([
      expect.stringMatching(
        new RegExp(`^xref points object 5 at offset ${infoAt + 3}, .*; read it at ${infoAt}$`),
      ),
    ]);
  });

  it("find the newest version of an object whose row points at another object", async () => {
    // Prepare: object 5's row names object 4's offset (the old Info dictionary).
    const text = buildPdf([ORIGINAL, UPDATE]);
    const oldInfoAt = text.indexOf("4 0 obj");
    const crossed = text.replace(
      `5 1\n${String(text.lastIndexOf("5 0 obj")).padStart(10, "0")}`,
      `5 1\n${String(oldInfoAt).padStart(10, "0")}`,
    );
    const result = await extractPdf(crossed);
    expect(result.pdf).toMatchObject({ title: "New title" });
    expect(result.warnings.join(" ")).toMatch(
      /xref points object 5 at offset \d+, found object 4; read it at/,
    );
  });

  it("say so when the misplaced object is nowhere in the file", async () => {
    const text = buildPdf([ORIGINAL, UPDATE]);
    // Prepare: `5 0 obj` overwritten by a comment of the same length, so no other offset moves.
    const gone = text.replace("5 0 obj\n<</Title(New title)>>", "%%%%%%%\n<</Title(New title)>>");
    const result = await extractPdf(gone);
    expect(result.pdf?.title).toBeUndefined();
    expect(result.warnings.join(" ")).toMatch(/document information unreadable: xref points object 5/);
  });
});

describe("PDF titles", () => {
  it.each<[string, string, Record<number, string>, string]>([
    ["a literal string", "(Plain)", {}, "Plain"],
    ["a hex string", "<506C61696E>", {}, "Plain"],
    ["UTF-16BE with its BOM, in hex", "<FEFF00C9007400E9>", {}, "Été"],
    ["PDFDocEncoding (0x93 is fi, 0xA0 the euro sign)", "(\\223x \\240)", {}, "ﬁx €"],
    ["an indirect object", "8 0 R", { 8: "(Indirect)" }, "Indirect"],
    ["an indirect hex string", "8 0 R", { 8: "<FEFF0041>" }, "A"],
  ])("is read from %s", async (_label, title, more, expected) => {
    const info = { 4: `<</Title ${title}>>`, ...more };
    const result = await extractPdf(buildPdf([{ ...ORIGINAL, objects: { ...ORIGINAL.objects, ...info } }]));
    expect(result.warnings).toEqual([]);
    expect(result.pdf?.title).toBe(expected);
  });
});

/** Writes one cross-reference section of either kind, object 9 when it is a stream. */
type WriteSection = (pdf: PdfWriter, rows: readonly Row[], trailer: string) => number;

const SECTION_KINDS: [string, WriteSection][] = [
  ["a classic table", (pdf, rows, trailer) => pdf.table(rows, trailer)],
  ["an xref stream", (pdf, rows, trailer) => pdf.stream(9, rows, `/Size 10${trailer}`)],
];

/** Catalog, page tree and page, with their rows. */
function pageTree(pdf: PdfWriter): Row[] {
  return [
    [0, "free"],
    [1, pdf.object(1, "<</Type/Catalog/Pages 2 0 R>>")],
    [2, pdf.object(2, "<</Type/Pages/Count 1/Kids[3 0 R]>>")],
    [3, pdf.object(3, "<</Type/Page/Parent 2 0 R>>")],
  ];
}

const INFO_TRAILER = "/Root 1 0 R/Info 4 0 R";

describe("PDF cross-reference precedence", () => {
  it.each(SECTION_KINDS)(
    "takes the first of two rows for an object in one section of %s",
    async (_label, write) => {
      // Prepare: object 4 written twice, both rows in the same section.
      const pdf = new PdfWriter();
      const rows = pageTree(pdf);
      rows.push([4, pdf.object(4, "<</Title(First row)>>")], [4, pdf.object(4, "<</Title(Second row)>>")]);
      pdf.end(write(pdf, rows, `/Size 5${INFO_TRAILER}`));
      // Act
      const result = await extractPdf(pdf.text);
      // Assess: the row Acrobat and pdf.js read.
      expect(result.warnings).toEqual([]);
      expect(result.pdf?.title).toBe("First row");
    },
  );

  describe.each(SECTION_KINDS)("over an update written as %s", (_label, write) => {
    /** An original classic section listing object 4 as `Old title`, and an update whose section lists `update`. */
    function updated(update: (pdf: PdfWriter) => Row[]): string {
      const pdf = new PdfWriter();
      const rows = pageTree(pdf);
      rows.push([4, pdf.object(4, "<</Title(Old title)>>")]);
      const original = pdf.table(rows, `/Size 5${INFO_TRAILER}`);
      pdf.end(original);
      pdf.end(write(pdf, update(pdf), `/Size 5/Prev ${original}${INFO_TRAILER}`));
      return pdf.text;
    }

    it("takes the newest row for an object", async () => {
      const result = await extractPdf(updated((pdf) => [[4, pdf.object(4, "<</Title(New title)>>")]]));
      expect(result.warnings).toEqual([]);
      expect(result.pdf?.title).toBe("New title");
    });

    it("lets a newer free row delete an object an older section lists", async () => {
      const result = await extractPdf(updated(() => [[4, "free"]]));
      expect(result.status).toBe("ok");
      expect(result.pdf?.pages).toBe(1);
      expect(result.pdf?.title).toBeUndefined();
    });
  });

  it("reads a stream row of a reserved type as the null object, hiding older rows", async () => {
    // Prepare: object 4 in the original table, then an update whose stream gives it type 7.
    const pdf = new PdfWriter();
    const rows = pageTree(pdf);
    rows.push([4, pdf.object(4, "<</Title(Old title)>>")]);
    const original = pdf.table(rows, `/Size 5${INFO_TRAILER}`);
    pdf.end(original);
    pdf.end(pdf.stream(9, [[4, { type: 7 }]], `/Size 10/Prev ${original}${INFO_TRAILER}`));
    // Act
    const result = await extractPdf(pdf.text);
    // Assess
    expect(result.status).toBe("ok");
    expect(result.pdf?.pages).toBe(1);
    expect(result.pdf?.title).toBeUndefined();
  });

  describe("in a hybrid file", () => {
    /**
     * An original section listing object 4 as `Old title`, then an update
     * whose classic table lists `tableRows` and whose /XRefStm stream lists
     * object 4 as `Stream title`.
     */
    function hybrid(tableRows: (pdf: PdfWriter) => Row[]): string {
      const pdf = new PdfWriter();
      const rows = pageTree(pdf);
      rows.push([4, pdf.object(4, "<</Title(Old title)>>")]);
      const original = pdf.table(rows, `/Size 5${INFO_TRAILER}`);
      pdf.end(original);
      const stream = pdf.stream(9, [[4, pdf.object(4, "<</Title(Stream title)>>")]], "/Size 10");
      const table = pdf.table(tableRows(pdf), `/Size 10/Prev ${original}/XRefStm ${stream}${INFO_TRAILER}`);
      pdf.end(table);
      return pdf.text;
    }

    it("reads the /XRefStm stream's row before the /Prev section's", async () => {
      const result = await extractPdf(hybrid(() => []));
      expect(result.warnings).toEqual([]);
      expect(result.pdf?.title).toBe("Stream title");
    });

    it("reads the update's table before its /XRefStm stream", async () => {
      const result = await extractPdf(hybrid((pdf) => [[4, pdf.object(4, "<</Title(Table title)>>")]]));
      expect(result.warnings).toEqual([]);
      expect(result.pdf?.title).toBe("Table title");
    });

    /**
     * A hybrid update whose /XRefStm stream lists nothing of its own and
     * links through its /Prev to an older stream, the only section that
     * lists object 4 (`Older stream title`); the table's /Prev is the
     * original section, which does not.
     */
    function streamWithPrev(
      streamPrev: (sections: { original: number; older: number; itself: number }) => number,
    ): string {
      const pdf = new PdfWriter();
      const original = pdf.table(pageTree(pdf), `/Size 5${INFO_TRAILER}`);
      pdf.end(original);
      const older = pdf.stream(8, [[4, pdf.object(4, "<</Title(Older stream title)>>")]], "/Size 10");
      const prev = streamPrev({ original, older, itself: pdf.text.length });
      const stream = pdf.stream(9, [[9, "free"]], `/Size 10/Prev ${prev}`);
      pdf.end(pdf.table([], `/Size 10/Prev ${original}/XRefStm ${stream}${INFO_TRAILER}`));
      return pdf.text;
    }

    it("follows the /XRefStm stream's own /Prev, as pdf.js does", async () => {
      const result = await extractPdf(streamWithPrev(({ older }) => older));
      expect(result.warnings).toEqual([]);
      expect(result.pdf?.title).toBe("Older stream title");
    });

    it("reads a section the table's and the stream's /Prev both name once, without calling it a loop", async () => {
      const result = await extractPdf(streamWithPrev(({ original }) => original));
      expect(result.warnings).toEqual([]);
      expect(result.pdf?.pages).toBe(1);
      expect(result.pdf?.title).toBeUndefined();
    });

    it("stops at a stream whose /Prev names itself, with a warning", async () => {
      const result = await extractPdf(streamWithPrev(({ itself }) => itself));
      expect(result.status).toBe("ok");
      expect(result.warnings).toEqual(["the /Prev chain of cross-reference sections loops"]);
      expect(result.pdf?.pages).toBe(1);
    });
  });
});
