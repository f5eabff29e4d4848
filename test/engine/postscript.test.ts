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
    // A DSC 3.0 document that stops without %%Trailer or %%EOF was cut.
    expect(result.status).toBe("partial");
    expect(result.reason).toBe("truncated: a DSC 3.0 document ends with no %%Trailer or %%EOF");
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

describe("PostScript hostile structuring comments", () => {
  const eps = (...lines: string[]) => concatBytes(`%!PS-Adobe-3.0 EPSF-3.0\n${lines.join("\n")}\n`);

  it.each([
    ["overflowing reals whose difference is infinite", "-1e308 0 1e308 10"],
    ["sizes beyond any PostScript integer", "0 0 100000000000000000000 10"],
    ["hexadecimal and binary literals, which PostScript does not write so", "0 0 0x10 0b11"],
    ["a negative size (corners swapped)", "100 100 0 0"],
    ["three numbers", "0 0 10"],
  ])("gives no size from a bounding box of %s", async (_, box) => {
    const result = await extractBytes(eps(`%%BoundingBox: ${box}`), "box.eps");
    expect(result.status).toBe("ok");
    expect(result.image).toBeUndefined();
  });

  it("checks a bounding box number in time linear in its length (a 60,000-digit field that is no number)", async () => {
    // Prepare: an ambiguous number pattern would try every split of the digits between integer and fraction part.
    const bytes = eps(`%%BoundingBox: 0 0 0 ${"1".repeat(60_000)}x`);

    // Act: nothing counts a regular expression's steps. The test's own timeout stands in: a linear check
    // takes milliseconds, one that tries every split took 14 s over these digits when this was written.
    const result = await extractBytes(bytes, "box.eps");

    // Assess
    expect(result.status).toBe("ok");
    expect(result.image).toBeUndefined();
  }, 5_000);

  it("still reads real-valued and signed boxes as exiftool does", async () => {
    const result = await extractBytes(eps("%%BoundingBox: -10.5 +20 .5 820.25"), "box.eps");
    expect(result.image).toEqual({ width: 11, height: 800 });
  });

  it.each([
    ["3 1", 3],
    ["12 -1", 12],
    ["0 0", 0],
  ])("reads the page count of %s, a count with the DSC 3.0 page order after it", async (pages, count) => {
    const result = await extractBytes(eps(`%%Pages: ${pages}`), "pages.eps");
    expect(result.document?.pages).toBe(count);
  });

  it.each([
    ["a count with a page order that is not -1, 0 or 1", "3 7"],
    ["a count past 2^53", "99999999999999999999"],
    ["a negative count", "-3"],
  ])("gives no page count for %s", async (_, pages) => {
    const result = await extractBytes(eps(`%%Pages: ${pages}`), "pages.eps");
    expect(result.document).toEqual({ kind: "eps" });
  });

  it("leaves out (atend) values when there is no trailer, or the trailer defers them again", async () => {
    const header = ["%%Title: (atend)", "%%BoundingBox: (atend)", "%%Pages: (atend)", "%%EndComments"];
    for (const bytes of [
      eps(...header, "showpage", "%%EOF"),
      eps(...header, "%%Trailer", "%%Title: (atend)", "%%BoundingBox: (atend)", "%%Pages: (atend)"),
    ]) {
      const result = await extractBytes(bytes, "atend.eps");
      expect(result.status).toBe("ok");
      expect(result.document).toEqual({ kind: "eps" });
      expect(result.image).toBeUndefined();
    }
  });

  it("leaves out a creation date that names no real day", async () => {
    for (const date of ["2/31/2010", "D:20100230120000", "2010-04-31"]) {
      const result = await extractBytes(eps(`%%CreationDate: ${date}`), "date.eps");
      expect(result.document?.created, date).toBeUndefined();
    }
    const leap = await extractBytes(eps("%%CreationDate: 2/29/2012"), "leap.eps");
    expect(leap.document?.created).toBe("2012-02-29T00:00:00");
  });

  it("refuses a DOS EPS header whose section starts inside the header or past 2^32, and calls one that runs past the end cut", async () => {
    const header = (start: number, length: number) =>
      concatBytes(
        Uint8Array.of(0xc5, 0xd0, 0xd3, 0xc6),
        u32le(start),
        u32le(length),
        u32le(0),
        u32le(0),
        u32le(0),
        u32le(0),
        Uint8Array.of(0xff, 0xff),
        "%!PS-Adobe-3.0 EPSF-3.0\n%%Title: (inside)\n",
      );
    for (const [start, length] of [
      [4, 20],
      [0xffff_fff0, 0x20],
    ] as const) {
      const result = await extractBytes(header(start, length), "dos.eps");
      expect(result.status, `${start}+${length}`).toBe("error");
      expect(result.reason).toMatch(/^EPS: PostScript section/);
    }
    const pastEnd = await extractBytes(header(30, 0xffff_ffff), "dos.eps");
    expect(pastEnd.status).toBe("partial");
    expect(pastEnd.reason).toBe(
      "truncated: the EPS PostScript section ends at 4294967325, the file has 72 bytes",
    );
    expect(pastEnd.document).toEqual({ kind: "eps", title: "inside" });
  });

  it("bounds megabyte DSC lines without a newline, in the header and in the trailer", async () => {
    // Prepare: a Title deferred to a trailer that lies behind 3 MB of one line, and itself runs 3 MB unclosed.
    const bytes = concatBytes(
      "%!PS-Adobe-3.0 EPSF-3.0\n%%Title: (atend)\n%%CreationDate: Wed",
      " ".repeat(60_000),
      "X\n%%EndComments\n",
      "x".repeat(3_000_000),
      "%%Trailer\n%%Title: (",
      "y".repeat(3_000_000),
    );

    // Act
    const result = await extractBytes(bytes, "long.eps");

    // Assess: the trailer starts before the 64 KiB tail window, so the title is not found; only the two windows were
    // read. Without the trailer in the tail, the deferred title reads as a trailer cut off.
    expect(result.status).toBe("partial");
    expect(result.reason).toBe(
      "truncated: values deferred to the trailer with (atend), and no %%Trailer or %%EOF",
    );
    expect(result.document?.title).toBeUndefined();
    expect(result.document?.created).toBeUndefined();
    expect(result.bytesRead).toBeLessThan(200 * 1024);
  });
});

describe("a PostScript file cut short", () => {
  // What Ghostscript's ps2write writes, in short: DSC 3.0, its end marked by %%Trailer and %%EOF.
  const document = concatBytes(
    "%!PS-Adobe-3.0\n%%Creator: GPL Ghostscript 10000 (ps2write)\n%%Pages: 2\n%%EndComments\n",
    "%%Page: 1 1\nshowpage\n".repeat(2),
    "%%Trailer\n%%EOF\n",
  );

  it("is partial when a DSC 3.0 document ends before its %%Trailer and %%EOF, its comments kept", async () => {
    const whole = await extractBytes(document, "whole.ps");
    const cut = await extractBytes(document.subarray(0, document.byteLength - 17), "cut.ps");

    expect(whole.status).toBe("ok");
    expect(cut.status).toBe("partial");
    expect(cut.reason).toBe("truncated: a DSC 3.0 document ends with no %%Trailer or %%EOF");
    expect(cut.document).toEqual(whole.document);
  });

  it("is ok when only %%EOF is lost after the trailer, or the file follows conventions that require neither", async () => {
    // The corpus files: plain %!PS, and DSC 2.0 from Adobe Illustrator 88, which ends with no trailer.
    for (const file of ["filetype-fixture.ps", "filetype-fixture2.eps"]) {
      const bytes = readFileSync(corpusFile(file));
      const result = await extractBytes(bytes.subarray(0, bytes.byteLength / 2), file);
      expect(result.status, file).toBe("ok");
    }
    const result = await extractBytes(document.subarray(0, document.byteLength - 6), "no-eof.ps");
    expect(result.status).toBe("ok");
  });

  it("is partial when a DOS EPS binary's preview ends past the end of the file", async () => {
    // Prepare: the PostScript section first, then a TIFF preview the header says is 64 bytes long, cut to 16.
    const postscript = concatBytes(
      "%!PS-Adobe-3.0 EPSF-3.0\n%%Title: (cut preview)\n%%BoundingBox: 0 0 10 20\n",
    );
    const eps = concatBytes(
      Uint8Array.of(0xc5, 0xd0, 0xd3, 0xc6),
      u32le(30),
      u32le(postscript.byteLength),
      u32le(0),
      u32le(0),
      u32le(30 + postscript.byteLength),
      u32le(64),
      Uint8Array.of(0xff, 0xff),
      postscript,
      "II*\0preview data",
    );

    // Act
    const result = await extractBytes(eps, "preview.eps");

    // Assess
    expect(result.status).toBe("partial");
    expect(result.reason).toBe(
      `truncated: the EPS TIFF preview section ends at ${30 + postscript.byteLength + 64}, the file has ${eps.byteLength} bytes`,
    );
    expect(result.document).toEqual({ kind: "eps", title: "cut preview" });
    expect(result.image).toEqual({ width: 10, height: 20 });
  });
});
