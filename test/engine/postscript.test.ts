import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { BufferSource, extract } from "../../src/engine/index.js";
import { concatBytes } from "../support/bytes.js";
import { corpusFile, expectedEntries } from "../support/corpus.js";

function extractBytes(bytes: Uint8Array, name: string) {
  return extract(new BufferSource(bytes, name), { name });
}

function u32le(value: number): Uint8Array {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32LE(value);
  return new Uint8Array(bytes);
}

describe("PostScript and EPS document structuring comments against exiftool", () => {
  const rows = expectedEntries().filter((entry) => /\.(e?ps|ai)$/i.test(entry.name));

  it("has oracle rows to compare with", () => {
    expect(rows.map((entry) => entry.name)).toEqual(["filetype-fixture.ps", "filetype-fixture2.eps"]);
  });

  it.each(rows.map((entry) => [entry.name, entry] as const))("%s", async (name, entry) => {
    // Act
    const result = await extractBytes(readFileSync(corpusFile(name)), name);

    // Assess: exiftool's Title is %%Title; its Creator is %%Creator, the producing application.
    expect(result.status).toBe("ok");
    expect(result.document?.title).toBe(entry.Title);
    expect(result.document?.application).toBe(entry.Creator);
    expect(result.image && [result.image.width, result.image.height]).toEqual(
      entry.ImageWidth === undefined ? undefined : [entry.ImageWidth, entry.ImageHeight],
    );
  });
});

describe("PostScript header comments", () => {
  it("reads the corpus EPS in full: kind, author (%%For), creation date, bounding box", async () => {
    const result = await extractBytes(readFileSync(corpusFile("filetype-fixture2.eps")), "earth.eps");
    expect(result.document).toEqual({
      kind: "eps",
      title: "earth",
      application: "Adobe Illustrator 88(TM) 1.6",
      // "(Timothy A. Tedder) ()": exiftool joins the empty second string too, giving a trailing comma.
      creator: "Timothy A. Tedder",
      created: "1988-10-19T14:29:00",
    });
  });

  it("gives a PostScript file without structuring comments its kind alone", async () => {
    const result = await extractBytes(readFileSync(corpusFile("filetype-fixture.ps")), "hello.ps");
    expect(result.document).toEqual({ kind: "postscript" });
    expect(result.image).toBeUndefined();
  });

  it("decodes PostScript string escapes and takes (atend) values from the trailer, as exiftool does", async () => {
    // Prepare: what `exiftool` reads as Title "A (nested) A title", Pages 3, BoundingBox "0 0 612 792".
    const eps = concatBytes(
      "%!PS-Adobe-3.0 EPSF-3.0\r\n",
      "%%Creator: (my app) 2.0\r\n",
      "%%Title: (A \\(nested\\) \\101 title)\r\n",
      "%%CreationDate: D:20100304123456+01'00'\r\n",
      "%%BoundingBox: (atend)\r\n",
      "%%Pages: 3\r\n",
      "%%EndComments\r\n",
      "%%For: (not a header comment)\r\n",
      "showpage\r\n",
      "%%Trailer\r\n",
      "%%BoundingBox: -10 20 602.4 812\r\n",
      "%%EOF\r\n",
    );

    // Act
    const result = await extractBytes(eps, "a.eps");

    // Assess
    expect(result.document).toEqual({
      kind: "eps",
      title: "A (nested) A title",
      application: "(my app) 2.0",
      created: "2010-03-04T12:34:56+01:00",
      pages: 3,
    });
    expect(result.image).toEqual({ width: 612, height: 792 });
  });

  it("reads the PostScript section of a DOS EPS binary (a TIFF preview before it)", async () => {
    // Prepare: the 30-byte DOS EPS header pointing at PostScript after 16 bytes of preview.
    const postscript = concatBytes(
      "%!PS-Adobe-3.0 EPSF-3.0\n%%Title: Plain text title\n%%BoundingBox: 0 0 100 50\n",
    );
    const eps = concatBytes(
      Uint8Array.of(0xc5, 0xd0, 0xd3, 0xc6),
      u32le(46),
      u32le(postscript.byteLength),
      u32le(0),
      u32le(0),
      u32le(30),
      u32le(16),
      Uint8Array.of(0xff, 0xff),
      "II*\0preview data",
      postscript,
    );

    // Act
    const result = await extractBytes(eps, "binary.eps");

    // Assess
    expect(result.format.mime).toBe("application/eps");
    expect(result.document).toEqual({ kind: "eps", title: "Plain text title" });
    expect(result.image).toEqual({ width: 100, height: 50 });
  });

  it("bounds an unending header line and a section offset past the end", async () => {
    const long = concatBytes("%!PS-Adobe-3.0\n%%Title: (", "x".repeat(2_000_000));
    const result = await extractBytes(long, "long.ps");
    expect(result.status).toBe("ok");
    expect(result.bytesRead).toBeLessThan(200 * 1024);
    expect(result.document?.title?.length).toBeLessThanOrEqual(1025);

    const pastEnd = concatBytes(
      Uint8Array.of(0xc5, 0xd0, 0xd3, 0xc6),
      u32le(0x7fff_0000),
      u32le(100),
      "x".repeat(40),
    );
    const cut = await extractBytes(pastEnd, "cut.eps");
    expect(cut.status).toBe("error");
    expect(cut.reason).toMatch(/EPS/);
  });
});
