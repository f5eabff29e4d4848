/**
 * A legacy Word file's own counts: the pages and words in the Document
 * Properties (DOP) of its table stream, which some writers leave out of the
 * SummaryInformation set. Layouts from [MS-DOC] 2.5 (FIB) and 2.7 (DOP);
 * exiftool 12.57 reads the same fields as its MS-DOC Pages and Words.
 */
import { describe, expect, it } from "vitest";
import { BufferSource, extract } from "../../src/engine/index.js";
import { buildCfb, summaryInformationStream } from "../support/cfb.js";

interface FibOptions {
  flags?: number;
  nFib?: number;
  fcDop: number;
  lcbDop?: number;
}

/** A Word 97 FIB: base, fibRgW (14 words), fibRgLw (22 longs), FibRgFcLcb97 (93 pairs) with fcDop and lcbDop. */
function wordDocument({ flags = 0, nFib = 0x00c1, fcDop, lcbDop = 544 }: FibOptions): Buffer {
  const bytes = Buffer.alloc(4096);
  bytes.writeUInt16LE(0xa5ec, 0);
  bytes.writeUInt16LE(nFib, 2);
  bytes.writeUInt16LE(flags, 0x0a);
  let at = 32;
  bytes.writeUInt16LE(14, at);
  at += 2 + 14 * 2;
  bytes.writeUInt16LE(22, at);
  at += 2 + 22 * 4;
  bytes.writeUInt16LE(93, at);
  at += 2;
  bytes.writeUInt32LE(fcDop, at + 0xf8);
  bytes.writeUInt32LE(lcbDop, at + 0xfc);
  return bytes;
}

/** A table stream with a DOP at `fcDop` stating `words` and `pages`. */
function tableStream(fcDop: number, words: number, pages: number): Buffer {
  const dop = Buffer.alloc(544);
  dop.writeUInt32LE(words, 38);
  dop.writeUInt16LE(pages, 46);
  return Buffer.concat([Buffer.alloc(fcDop), dop]);
}

async function documentOf(bytes: Uint8Array) {
  const result = await extract(new BufferSource(bytes, "report.doc"), { name: "report.doc" });
  expect(result.status).toBe("ok");
  return result.document;
}

const TABLE_1 = 0x0200;

describe("a legacy Word file's DOP counts", () => {
  it.each([
    ["1Table", TABLE_1],
    ["0Table", 0],
  ])("are read from the %s stream the FIB names", async (table, flags) => {
    // Arrange
    const bytes = buildCfb([
      { name: "WordDocument", content: wordDocument({ flags, fcDop: 1200 }) },
      { name: table, content: tableStream(1200, 913, 4) },
      // The other table stream, which the FIB does not name, says something else.
      { name: table === "1Table" ? "0Table" : "1Table", content: tableStream(1200, 1, 1) },
    ]);

    // Act / Assess
    expect(await documentOf(bytes)).toMatchObject({ application: "Microsoft Word", pages: 4, words: 913 });
  });

  it("give way to the SummaryInformation set's counts where it has them", async () => {
    const bytes = buildCfb([
      { name: "WordDocument", content: wordDocument({ flags: TABLE_1, fcDop: 0 }) },
      { name: "1Table", content: tableStream(0, 913, 4) },
      {
        name: "\u0005SummaryInformation",
        content: summaryInformationStream(1252, [
          { id: 14, i4: 5 },
          { id: 15, i4: 1000 },
        ]),
      },
    ]);
    expect(await documentOf(bytes)).toMatchObject({ pages: 5, words: 1000 });
  });

  it.each([
    ["the document is encrypted (its table stream with it)", { flags: TABLE_1 | 0x0100, fcDop: 0 }, 4],
    ["the FIB is older than Word 97's", { flags: TABLE_1, nFib: 0x0065, fcDop: 0 }, 4],
    ["the DOP lies past the end of the table stream", { flags: TABLE_1, fcDop: 100_000 }, 4],
    ["the DOP is too short to hold the counts", { flags: TABLE_1, fcDop: 0, lcbDop: 20 }, 4],
    ["Word never counted the pages", { flags: TABLE_1, fcDop: 0 }, 0],
  ])("are left out when %s", async (_, fib, pages) => {
    // Arrange
    const bytes = buildCfb([
      { name: "WordDocument", content: wordDocument(fib) },
      { name: "1Table", content: tableStream(0, 913, pages) },
    ]);

    // Act
    const document = await documentOf(bytes);

    // Assess
    expect(document).toMatchObject({ application: "Microsoft Word" });
    expect(document).not.toHaveProperty("pages");
    expect(document).not.toHaveProperty("words");
  });

  it("are left out, the rest kept, when the FIB names a table stream the file lacks", async () => {
    const bytes = buildCfb([{ name: "WordDocument", content: wordDocument({ flags: TABLE_1, fcDop: 0 }) }]);
    const document = await documentOf(bytes);
    expect(document).toEqual({ kind: "cfb", application: "Microsoft Word", encrypted: false });
  });
});
