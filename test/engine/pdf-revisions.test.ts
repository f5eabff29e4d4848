import { describe, expect, it } from "vitest";
import { BufferSource } from "../../src/engine/byte-source/byte-source.js";
import { extract } from "../../src/engine/engine.js";

/**
 * PDFs written by hand, object by object, to pin down which revision and
 * which object each field comes from: incremental updates, cross-reference
 * offsets that no longer match the file, and the ways a title is written.
 */

/** One revision: object bodies by number (without `obj`/`endobj`) and its trailer entries. */
interface Revision {
  objects: Record<number, string>;
  trailer: string;
}

/**
 * A PDF whose first revision is `revisions[0]`, each later one appended as an
 * incremental update with its own classic xref section linked by /Prev.
 */
function buildPdf(revisions: readonly Revision[]): string {
  let text = "%PDF-1.4\n%\xe2\xe3\xcf\xd3\n";
  let prev: number | undefined;
  let size = 1;
  for (const revision of revisions) {
    const offsets: [number, number][] = [];
    for (const [num, body] of Object.entries(revision.objects)) {
      offsets.push([Number(num), text.length]);
      text += `${num} 0 obj\n${body}\nendobj\n`;
      size = Math.max(size, Number(num) + 1);
    }
    const xrefAt = text.length;
    text += prev === undefined ? "xref\n0 1\n0000000000 65535 f \n" : "xref\n";
    for (const [num, offset] of offsets) text += `${num} 1\n${String(offset).padStart(10, "0")} 00000 n \n`;
    const link = prev === undefined ? "" : `/Prev ${prev}`;
    text += `trailer\n<</Size ${size}${link}${revision.trailer}>>\nstartxref\n${xrefAt}\n%%EOF\n`;
    prev = xrefAt;
  }
  return text;
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
