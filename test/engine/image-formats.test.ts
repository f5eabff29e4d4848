import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { BufferSource } from "../../src/engine/byte-source/byte-source.js";
import { extract } from "../../src/engine/engine.js";
import { TIFF_EXIF_HEAD_BYTES } from "../../src/engine/extractors/image/tiff.js";
import { readXmp, xmpDate } from "../../src/engine/extractors/image/xmp.js";
import { concatBytes } from "../support/bytes.js";
import { corpusFile } from "../support/corpus.js";

/** Runs the whole engine over bytes held in memory, as an upload of that name would. */
function extractBytes(bytes: Uint8Array, name: string) {
  return extract(new BufferSource(bytes, name), { name });
}

describe("an image header the size reader cannot place", () => {
  it("is called damaged, with its format, rather than an unsupported file type", async () => {
    // Prepare: the JP2's file type box renamed ('ftyp' to 'atyp'); its signature box still says JPEG 2000.
    const jp2 = new Uint8Array(readFileSync(corpusFile("filetype-fixture.jp2")));
    jp2[16] = 0x61;

    // Act
    const result = await extractBytes(jp2, "scan.jp2");

    // Assess
    expect(result.format.mime).toBe("image/jp2");
    expect(result.status).toBe("error");
    expect(result.reason).toBe("JPEG 2000: damaged header (no size can be read)");
  });
});

describe("JPEG XR", () => {
  const jxr = readFileSync(corpusFile("filetype-fixture.jxr"));

  it("reads the size from tags 0xBC80/0xBC81 of the first directory", async () => {
    // Act
    const result = await extractBytes(jxr, "photo.jxr");

    // Assess
    expect(result.format.mime).toBe("image/vnd.ms-photo");
    expect(result.status).toBe("ok");
    expect(result.image).toMatchObject({ width: 200, height: 133 });
    expect(result.image?.exif?.software).toBe("Adobe Photoshop CS6 (Macintosh)");
  });

  it("reports a file cut inside the image data as partial, keeping the size", async () => {
    // Act
    const result = await extractBytes(jxr.subarray(0, jxr.byteLength - 100), "cut.jxr");

    // Assess
    expect(result.status).toBe("partial");
    expect(result.reason).toMatch(/^truncated: JPEG XR image data ends at 72036/);
    expect(result.image).toMatchObject({ width: 200, height: 133 });
  });

  it("reports a first-directory offset past the end as an error", async () => {
    // Prepare
    const corrupt = Uint8Array.from(jxr);
    new DataView(corrupt.buffer).setUint32(4, 0x7fff_fff0, true);

    // Act
    const result = await extractBytes(corrupt, "corrupt.jxr");

    // Assess
    expect(result.status).toBe("error");
    expect(result.reason).toMatch(/TIFF directory: truncated/);
    expect(result.image).toBeUndefined();
  });

  it("reports a directory without size tags as an error", async () => {
    // Prepare: rename tag 0xBC80 (ImageWidth) to an unknown tag.
    const corrupt = Uint8Array.from(jxr);
    const view = new DataView(corrupt.buffer);
    const ifd = view.getUint32(4, true);
    for (let i = 0; i < view.getUint16(ifd, true); i++) {
      const at = ifd + 2 + i * 12;
      if (view.getUint16(at, true) === 0xbc80) view.setUint16(at, 0xbc7f, true);
    }

    // Act
    const result = await extractBytes(corrupt, "corrupt.jxr");

    // Assess
    expect(result.status).toBe("error");
    expect(result.reason).toBe("JPEG XR: the directory states no image size");
  });
});

/** An APP1 segment carrying `packet` under the XMP namespace identifier. */
function xmpSegment(packet: string): Uint8Array {
  const payload = new TextEncoder().encode(`http://ns.adobe.com/xap/1.0/\0${packet}`);
  const segment = new Uint8Array(4 + payload.byteLength);
  segment.set([0xff, 0xe1]);
  new DataView(segment.buffer).setUint16(2, 2 + payload.byteLength);
  segment.set(payload, 4);
  return segment;
}

/** `jpeg` with `segment` inserted right after its start-of-image marker. */
function withSegmentAfterSoi(jpeg: Uint8Array, segment: Uint8Array): Uint8Array {
  const out = new Uint8Array(jpeg.byteLength + segment.byteLength);
  out.set(jpeg.subarray(0, 2));
  out.set(segment, 2);
  out.set(jpeg.subarray(2), 2 + segment.byteLength);
  return out;
}

const DESCRIPTION = (inner: string) =>
  `<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">${inner}</rdf:RDF></x:xmpmeta>`;

describe("XMP orientation", () => {
  it.each([
    [
      "attribute form",
      '<rdf:Description xmlns:tiff="http://ns.adobe.com/tiff/1.0/" tiff:Orientation="6"/>',
      6,
    ],
    ["element form", "<rdf:Description><tiff:Orientation> 8 </tiff:Orientation></rdf:Description>", 8],
    ["single quotes", "<rdf:Description tiff:Orientation = '3'/>", 3],
    [
      "another prefix bound to the TIFF namespace",
      '<rdf:Description xmlns:t="http://ns.adobe.com/tiff/1.0/"><t:Orientation>5</t:Orientation></rdf:Description>',
      5,
    ],
    ["no TIFF property", '<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/"/>', undefined],
    ["an EXIF-namespace look-alike", '<rdf:Description exif:Orientation="6"/>', undefined],
  ])("reads %s", (_, inner, expected) => {
    // Act
    const { orientation } = readXmp(new TextEncoder().encode(DESCRIPTION(inner)), () => {});

    // Assess
    expect(orientation).toBe(expected);
  });

  it.each(["0", "9", "6.5", "up"])("ignores tiff:Orientation=%j with a warning", (value) => {
    // Prepare
    const warnings: string[] = [];
    const packet = DESCRIPTION(`<rdf:Description tiff:Orientation="${value}"/>`);

    // Act
    const { orientation } = readXmp(new TextEncoder().encode(packet), (m) => warnings.push(m));

    // Assess
    expect(orientation).toBeUndefined();
    expect(warnings).toEqual([`XMP orientation ${value} is not 1-8`]);
  });

  it("scans a hostile 64 KiB packet of open elements and finds no orientation", () => {
    // Prepare
    const packet = new TextEncoder().encode(`<tiff:Orientation>${"<tiff:Orientation>".repeat(3600)}`);
    const warnings: string[] = [];

    // Act: nothing counts a regular expression's steps; one that backtracks catastrophically hangs here,
    // and vitest's per-test timeout (vitest.config.ts) ends the test.
    const reading = readXmp(packet, (message) => warnings.push(message));

    // Assess
    expect(reading).toEqual({});
    expect(warnings).toEqual([]);
  });

  const noExif = readFileSync(corpusFile("exifpy-image01137.jpg"));

  it("takes the orientation from XMP when the JPEG has no EXIF orientation", async () => {
    // Prepare: the fixture's XMP says 1; make it say 6.
    const bytes = Buffer.from(noExif);
    const at = bytes.indexOf("<tiff:Orientation>1<");
    bytes.write("6", at + "<tiff:Orientation>".length, "latin1");

    // Act
    const result = await extractBytes(bytes, "xmp.jpg");

    // Assess
    expect(result.status).toBe("ok");
    expect(result.image).toMatchObject({ width: 88, height: 64, orientation: 6 });
  });

  it("keeps the EXIF orientation when both state one", async () => {
    // Prepare: the fixture's EXIF says 6; a leading XMP segment says 3.
    const jpeg = readFileSync(corpusFile("exifpy-portrait_6.jpg"));
    const segment = xmpSegment(DESCRIPTION('<rdf:Description tiff:Orientation="3"/>'));

    // Act
    const result = await extractBytes(withSegmentAfterSoi(jpeg, segment), "both.jpg");

    // Assess
    expect(result.image?.orientation).toBe(6);
  });

  it("reports an XMP segment running past the end of the file as an error", async () => {
    // Prepare: the segment declares more bytes than the file holds.
    const segment = xmpSegment(DESCRIPTION('<rdf:Description tiff:Orientation="3"/>'));
    const jpeg = withSegmentAfterSoi(Uint8Array.of(0xff, 0xd8), segment);
    new DataView(jpeg.buffer).setUint16(4, 0xfff0);

    // Act
    const result = await extractBytes(jpeg, "cut.jpg");

    // Assess
    expect(result.status).toBe("error");
    expect(result.reason).toMatch(/truncated/);
  });
});

describe("XMP date taken and camera", () => {
  it.each([
    [
      "exif:DateTimeOriginal before photoshop:DateCreated and xmp:CreateDate",
      '<rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:CreateDate="2020-01-03T00:00:00Z" photoshop:DateCreated="2020-01-02"><exif:DateTimeOriginal>2020-01-01T10:11:12.5+09:00</exif:DateTimeOriginal></rdf:Description>',
      "2020-01-01T10:11:12.5+09:00",
    ],
    [
      "photoshop:DateCreated, to the day, before xmp:CreateDate",
      '<rdf:Description xmp:CreateDate="2020-01-03T00:00:00Z" photoshop:DateCreated="2020-01-02"/>',
      "2020-01-02",
    ],
    [
      "xmp:CreateDate stopping at minutes",
      '<rdf:Description xmp:CreateDate="2020-01-03T04:05"/>',
      "2020-01-03T04:05:00",
    ],
    [
      "xmp:CreateDate under another prefix",
      '<rdf:Description xmlns:xap="http://ns.adobe.com/xap/1.0/" xap:CreateDate="2020-01-03T04:05:06-03:00"/>',
      "2020-01-03T04:05:06-03:00",
    ],
    ["an EXIF-style date", '<rdf:Description xmp:CreateDate="2020:01:03 04:05:06"/>', "2020-01-03T04:05:06"],
    [
      "a year alone, then the next candidate",
      '<rdf:Description photoshop:DateCreated="2003" xmp:CreateDate="2003-05-06T07:08:09Z"/>',
      "2003-05-06T07:08:09Z",
    ],
    [
      "only dates that change with edits",
      '<rdf:Description xmp:ModifyDate="2020-01-03T04:05:06Z" xmp:MetadataDate="2020-01-03T04:05:06Z"/>',
      undefined,
    ],
    ["a look-alike prefix", '<rdf:Description myxmp:CreateDate="2020-01-03T04:05:06Z"/>', undefined],
  ])("takes %s", (_, inner, expected) => {
    // Act
    const { takenAt } = readXmp(new TextEncoder().encode(DESCRIPTION(inner)), () => {});

    // Assess
    expect(takenAt).toBe(expected);
  });

  it.each([
    ["2005-09-07T15:07:40-07:00", "2005-09-07T15:07:40-07:00"],
    ["2009-08-04T10:35:03Z", "2009-08-04T10:35:03Z"],
    ["2003-08-31", "2003-08-31"],
    ["2003-08", undefined],
    ["2003-13-01", undefined],
    ["2003-01-01T25:00:00Z", undefined],
    ["0000-00-00T00:00:00", undefined],
  ])("xmpDate(%j) is %j", (value, expected) => {
    expect(xmpDate(value)).toBe(expected);
  });

  it("fills the camera of a JPEG without EXIF from tiff:Make and tiff:Model", async () => {
    // Prepare: a JPEG with no EXIF block and an XMP packet naming the camera in both forms.
    const jpeg = readFileSync(corpusFile("exifpy-landscape_1.jpg"));
    const segment = xmpSegment(
      DESCRIPTION(
        '<rdf:Description xmlns:tiff="http://ns.adobe.com/tiff/1.0/" tiff:Make="Nikon" xmp:CreateDate="2021-02-03T04:05:06+01:00"><tiff:Model>Cámara 1</tiff:Model></rdf:Description>',
      ),
    );

    // Act
    const result = await extractBytes(withSegmentAfterSoi(jpeg, segment), "camera.jpg");

    // Assess
    expect(result.status).toBe("ok");
    expect(result.image?.exif).toMatchObject({
      make: "Nikon",
      model: "Cámara 1",
      takenAt: "2021-02-03T04:05:06+01:00",
    });
  });

  it("keeps the EXIF camera and date when the XMP packet states others", async () => {
    // Prepare: the fixture's EXIF names a Canon EOS 40D taken 2008-05-30 15:56:01.
    const jpeg = readFileSync(corpusFile("exifpy-Canon_40D.jpg"));
    const segment = xmpSegment(
      DESCRIPTION(
        '<rdf:Description tiff:Make="Other" tiff:Model="Else" xmp:CreateDate="2021-02-03T04:05:06Z"/>',
      ),
    );

    // Act
    const result = await extractBytes(withSegmentAfterSoi(jpeg, segment), "both.jpg");

    // Assess
    expect(result.image?.exif).toMatchObject({
      make: "Canon",
      model: "Canon EOS 40D",
      takenAt: "2008-05-30T15:56:01.00",
    });
  });
});

describe("Canon CR3", () => {
  const cr3 = readFileSync(corpusFile("filetype-fixture.cr3"));
  /** The fixture ends inside its last top-level box; its boxes up to this offset are whole. */
  const WHOLE_BOXES_END = 96800;
  const complete = cr3.subarray(0, WHOLE_BOXES_END);
  const at = (type: string) => complete.indexOf(type) - 4; // box offset from its type's first occurrence

  it("reads size, camera, orientation and date from the CMT boxes of a whole file", async () => {
    // Act
    const result = await extractBytes(complete, "IMG_0001.CR3");

    // Assess
    expect(result.format.mime).toBe("image/x-canon-cr3");
    expect(result.status).toBe("ok");
    expect(result.warnings).toEqual([]);
    expect(result.image).toEqual({
      width: 6720,
      height: 4480,
      orientation: 6,
      exif: {
        make: "Canon",
        model: "Canon EOS R",
        lens: "EF24-105mm f/4L IS USM",
        takenAt: "2019-12-05T13:32:49.54+08:00",
        exposureTime: 0.008,
        fNumber: 4,
        iso: 100,
        focalLength: 105,
      },
    });
  });

  it("reports the cut-short fixture as partial, keeping what the metadata boxes state", async () => {
    // Act
    const result = await extractBytes(cr3, "cut.cr3");

    // Assess
    expect(result.status).toBe("partial");
    expect(result.reason).toMatch(
      /^truncated: box 'uuid' at offset 96800 ends at \d+, past the end of the file$/,
    );
    expect(result.image).toMatchObject({ width: 6720, height: 4480, orientation: 6 });
  });

  it("reports a file cut inside moov as an error", async () => {
    // Act
    const result = await extractBytes(complete.subarray(0, at("CMT2")), "cut.cr3");

    // Assess
    expect(result.status).toBe("error");
    expect(result.reason).toMatch(/^truncated: box 'moov' at offset 24 ends at 31240/);
  });

  it("reports a moov without Canon's uuid box as an error", async () => {
    // Prepare: change one byte of the uuid.
    const corrupt = Uint8Array.from(complete);
    const uuidStart = at("CNCV") - 16;
    corrupt[uuidStart] = (corrupt[uuidStart] ?? 0) ^ 0xff;

    // Act
    const result = await extractBytes(corrupt, "corrupt.cr3");

    // Assess
    expect(result.status).toBe("error");
    expect(result.reason).toBe("CR3: no Canon metadata box in moov");
  });

  it("falls back to CMT2's pixel dimensions when CMT1 is corrupt, with a warning", async () => {
    // Prepare: point CMT1's first directory past its end.
    const corrupt = Uint8Array.from(complete);
    new DataView(corrupt.buffer).setUint32(at("CMT1") + 8 + 4, 0xffff, true);

    // Act
    const result = await extractBytes(corrupt, "corrupt.cr3");

    // Assess
    expect(result.status).toBe("ok");
    expect(result.warnings).toEqual([expect.stringMatching(/^CR3: CMT1 could not be read \(TIFF directory/)]);
    expect(result.image).toMatchObject({ width: 6720, height: 4480 });
    expect(result.image?.exif).toMatchObject({ lens: "EF24-105mm f/4L IS USM" });
    expect(result.image?.exif?.make).toBeUndefined();
  });
});

/** A big-endian TIFF structure whose first directory states Orientation 6 and Make "Acme". */
function orientedTiff(): Uint8Array {
  const bytes = Buffer.alloc(8 + 2 + 2 * 12 + 4 + 5);
  bytes.write("MM", 0, "latin1");
  bytes.writeUInt16BE(42, 2);
  bytes.writeUInt32BE(8, 4);
  bytes.writeUInt16BE(2, 8);
  // Make: ASCII, 5 bytes, after the directory.
  bytes.writeUInt16BE(0x010f, 10);
  bytes.writeUInt16BE(2, 12);
  bytes.writeUInt32BE(5, 14);
  bytes.writeUInt32BE(38, 18);
  // Orientation: SHORT 6, in the entry.
  bytes.writeUInt16BE(0x0112, 22);
  bytes.writeUInt16BE(3, 24);
  bytes.writeUInt32BE(1, 26);
  bytes.writeUInt16BE(6, 30);
  bytes.write("Acme\0", 38, "latin1");
  return new Uint8Array(bytes);
}

/** A PNG chunk with a zero CRC (nothing here checks it). */
function pngChunk(type: string, data: Uint8Array): Uint8Array {
  const chunk = Buffer.alloc(12 + data.byteLength);
  chunk.writeUInt32BE(data.byteLength, 0);
  chunk.write(type, 4, "latin1");
  chunk.set(data, 8);
  return new Uint8Array(chunk);
}

/** A 20 x 30 RGBA PNG with `exif` as its eXIf chunk. */
function pngWithExif(exif: Uint8Array): Uint8Array {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(20, 0);
  ihdr.writeUInt32BE(30, 4);
  ihdr.set([8, 6, 0, 0, 0], 8);
  return new Uint8Array(
    Buffer.concat([
      Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a),
      pngChunk("IHDR", ihdr),
      pngChunk("eXIf", exif),
      pngChunk("IDAT", new Uint8Array(4)),
      pngChunk("IEND", new Uint8Array(0)),
    ]),
  );
}

describe("PNG eXIf", () => {
  it("reads the TIFF structure the chunk holds", async () => {
    const result = await extractBytes(pngWithExif(orientedTiff()), "a.png");
    expect(result.image).toMatchObject({ width: 20, height: 30, orientation: 6, exif: { make: "Acme" } });
  });

  it("reads it after an Exif APP1 prefix some writers copy from JPEG (ImageMagick's reader skips it too)", async () => {
    const prefixed = Buffer.concat([Buffer.from("Exif\0\0", "latin1"), orientedTiff()]);
    const result = await extractBytes(pngWithExif(new Uint8Array(prefixed)), "a.png");
    expect(result.warnings).toEqual([]);
    expect(result.image).toMatchObject({ orientation: 6, exif: { make: "Acme" } });
  });
});

/** A 20 x 30 RGBA PNG whose chunks after IHDR are `chunks`, then IEND. */
function pngOf(...chunks: Uint8Array[]): Uint8Array {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(20, 0);
  ihdr.writeUInt32BE(30, 4);
  ihdr.set([8, 6, 0, 0, 0], 8);
  return new Uint8Array(
    Buffer.concat([
      Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a),
      pngChunk("IHDR", ihdr),
      ...chunks,
      pngChunk("IEND", new Uint8Array(0)),
    ]),
  );
}

/** `total` bytes of image data cut into IDAT chunks of `each` bytes, as libpng writes them. */
function idatRun(total: number, each: number): Uint8Array[] {
  const data = new Uint8Array(total).map((_, i) => (i * 7919) % 251);
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < total; at += each) chunks.push(pngChunk("IDAT", data.subarray(at, at + each)));
  return chunks;
}

describe("PNG eXIf after the image data (allowed since PNG 1.5's extensions; exiftool reads it)", () => {
  const trailingWarning = "PNG: eXIf chunk after the image data (may be ignored by some readers)";

  it("reads it in a small file, warning as exiftool does", async () => {
    const result = await extractBytes(pngOf(...idatRun(100, 40), pngChunk("eXIf", orientedTiff())), "a.png");
    expect(result.status).toBe("ok");
    expect(result.warnings).toEqual([trailingWarning]);
    expect(result.image).toMatchObject({ width: 20, height: 30, orientation: 6, exif: { make: "Acme" } });
  });

  it("reads it at the end of a 1 MiB file from the tail, without walking the image data", async () => {
    // Prepare: 8 KiB IDATs, a last one of 3000 bytes (past the planned 1 KiB tail), then eXIf and tEXt.
    const big = pngOf(
      ...idatRun(1024 * 1024, 8192),
      pngChunk("IDAT", new Uint8Array(3000)),
      pngChunk("eXIf", orientedTiff()),
      pngChunk("tEXt", new TextEncoder().encode("Comment\0after the eXIf")),
    );

    // Act
    const result = await extractBytes(big, "big.png");

    // Assess
    expect(result.warnings).toEqual([trailingWarning]);
    expect(result.image).toMatchObject({ orientation: 6, exif: { make: "Acme" } });
    expect(result.bytesRead).toBeLessThan(200 * 1024);
    expect(result.readRequests).toBeLessThanOrEqual(4);
  });

  it("costs no read beyond the plan when one IDAT runs up to IEND or the last IDATs lie in the planned tail", async () => {
    // Prepare: 1 MiB files, one with a single IDAT, one with libpng's 8 KiB IDATs; the plan is head + 1 KiB tail.
    for (const chunks of [
      [pngChunk("IDAT", new Uint8Array(1024 * 1024))],
      idatRun(1024 * 1024 - 3000, 8192),
    ]) {
      // Act
      const result = await extractBytes(pngOf(...chunks), "plain.png");

      // Assess: detection's head block, the planned head window and the planned tail blocks, nothing more.
      expect(result.image?.exif).toBeUndefined();
      expect(result.readRequests).toBeLessThanOrEqual(3);
      expect(result.bytesRead).toBeLessThan(100 * 1024);
    }
  });

  it("prefers an eXIf before the image data and does not look further", async () => {
    const later = Buffer.from(orientedTiff());
    later.write("Late", 38, "latin1");
    const result = await extractBytes(
      pngOf(pngChunk("eXIf", orientedTiff()), ...idatRun(100, 40), pngChunk("eXIf", later)),
      "two.png",
    );
    expect(result.warnings).toEqual([]);
    expect(result.image?.exif?.make).toBe("Acme");
  });

  it("takes no eXIf-looking bytes inside the image data for a chunk", async () => {
    // Prepare: an IDAT whose data holds what looks like an eXIf chunk header; the chunk chain from IEND skips it.
    const decoy = Buffer.concat([Buffer.alloc(16), pngChunk("eXIf", orientedTiff()), Buffer.alloc(16)]);
    const result = await extractBytes(pngOf(pngChunk("IDAT", decoy)), "decoy.png");
    expect(result.warnings).toEqual([]);
    expect(result.image?.exif).toBeUndefined();
  });
});

describe("SVG title: the root element's first <title> child, as exiftool reads it", () => {
  const svg = (body: string, prolog = "") =>
    new TextEncoder().encode(
      `${prolog}<svg xmlns="http://www.w3.org/2000/svg" width="10" height="20">${body}</svg>`,
    );

  it("decodes the predefined and numeric entities and CDATA, and folds whitespace", async () => {
    const result = await extractBytes(
      svg(
        "<desc>d</desc><title>\n  A &amp; B &#169; &#x41;<![CDATA[ <x> ]]>\n two </title><title>second</title>",
      ),
      "a.svg",
    );
    expect(result.image).toMatchObject({ width: 10, height: 20, exif: { title: "A & B © A <x> two" } });
  });

  it("expands no entity a DOCTYPE declares and fetches nothing it names", async () => {
    const prolog =
      '<?xml version="1.0"?>\n<!DOCTYPE svg SYSTEM "http://127.0.0.1:9/x.dtd" [<!ENTITY who "Ann"><!ENTITY lol "&who;&who;">]>\n';
    const result = await extractBytes(svg("<title>by &who; &lol;</title>", prolog), "dtd.svg");
    expect(result.image?.exif?.title).toBe("by &who; &lol;");
  });

  it("takes no <title> of a nested element, nor one inside a comment", async () => {
    const result = await extractBytes(
      svg('<!-- <title>commented</title> --><g><title>group</title></g><a href="#"><title>link</title></a>'),
      "nested.svg",
    );
    expect(result.image).toEqual({ width: 10, height: 20 });
  });

  it("reads a title after a long first child, and none from a head window cut inside the title", async () => {
    const late = svg(`<desc>${"d".repeat(30_000)}</desc><title a='>'>Late</title>`);
    expect((await extractBytes(late, "late.svg")).image?.exif?.title).toBe("Late");

    const unclosed = svg(`<title>${"x".repeat(100_000)}`).subarray(0, 90_000);
    const result = await extractBytes(unclosed, "cut.svg");
    expect(result.image?.exif?.title).toBeUndefined();
  });
});

/** An APP1 segment: "Exif\0\0" then `payload`. */
function exifSegment(payload: Uint8Array): Uint8Array {
  const segment = Buffer.alloc(4 + 6 + payload.byteLength);
  segment.set([0xff, 0xe1]);
  segment.writeUInt16BE(2 + 6 + payload.byteLength, 2);
  segment.write("Exif\0\0", 4, "latin1");
  segment.set(payload, 10);
  return new Uint8Array(segment);
}

describe("JPEG with more than one Exif APP1 segment", () => {
  it("reads the first one that holds a TIFF structure", async () => {
    // Prepare: a baseline 30 x 20 frame header after an undecodable Exif segment and a valid one.
    const sof = Uint8Array.of(0xff, 0xc0, 0, 17, 8, 0, 20, 0, 30, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1);
    const jpeg = Buffer.concat([
      Uint8Array.of(0xff, 0xd8),
      exifSegment(new TextEncoder().encode("not a TIFF header")),
      exifSegment(orientedTiff()),
      sof,
      Uint8Array.of(0xff, 0xd9),
    ]);

    // Act
    const result = await extractBytes(new Uint8Array(jpeg), "two-exif.jpg");

    // Assess
    expect(result.image).toMatchObject({ width: 30, height: 20, orientation: 6, exif: { make: "Acme" } });
  });
});

/** An APNG fcTL chunk (26 bytes) whose frame shows for `numerator / denominator` seconds. */
function fcTL(numerator: number, denominator: number): Uint8Array {
  const data = Buffer.alloc(26);
  data.writeUInt16BE(numerator, 20);
  data.writeUInt16BE(denominator, 22);
  return pngChunk("fcTL", data);
}

describe("APNG frames and play time, in one walk over the chunks", () => {
  const acTL = (frames: number) => pngChunk("acTL", Uint8Array.of(0, 0, 0, frames, 0, 0, 0, 0));

  it("adds up the delays before and after the image data, and reads the eXIf after it", async () => {
    // Prepare: the default image's fcTL before IDAT, two more frames after it (a zero denominator is hundredths), then eXIf.
    const png = pngOf(
      acTL(3),
      fcTL(1, 10),
      ...idatRun(100, 40),
      fcTL(7, 0),
      pngChunk("fdAT", new Uint8Array(8)),
      fcTL(1, 2),
      pngChunk("fdAT", new Uint8Array(8)),
      pngChunk("eXIf", orientedTiff()),
    );

    const result = await extractBytes(png, "a.png");

    expect(result.image).toMatchObject({
      frames: 3,
      animated: true,
      duration: 0.67,
      bitDepth: 8,
      colorType: "rgba",
    });
    expect(result.image?.orientation).toBe(6);
  });

  it("gives a still image no duration, whatever fcTL-looking chunks follow its data", async () => {
    const png = pngOf(...idatRun(100, 40), fcTL(5, 1));

    const result = await extractBytes(png, "a.png");

    expect(result.image).toMatchObject({ frames: 1, animated: false });
    expect(result.image?.duration).toBeUndefined();
  });
});

describe("PNG chunk chains built to mislead the eXIf search", () => {
  const crcFree = (type: string, length: number) => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(length >>> 0, 0);
    head.write(type, 4, "latin1");
    return new Uint8Array(head);
  };

  it("ignores a chunk before IEND whose length would start it before the file", async () => {
    // Prepare: a tEXt header claiming 0xFFFFFFF0 bytes, 8 stray bytes, then IEND.
    const png = pngOf(...idatRun(100, 40), crcFree("tEXt", 0xffff_fff0), new Uint8Array(8));

    // Act
    const result = await extractBytes(png, "before-start.png");

    // Assess
    expect(result.status).toBe("ok");
    expect(result.image).toMatchObject({ width: 20, height: 30 });
    expect(result.image?.exif).toBeUndefined();
  });

  it("stops at a chunk length that would wrap the walk back onto the same chunk (2^32 - 12)", async () => {
    const png = pngOf(crcFree("tEXt", 0xffff_fff4), ...idatRun(100, 40));
    const result = await extractBytes(png, "wrap.png");
    expect(result.status).toBe("partial");
    expect(result.reason).toMatch(/PNG chunk length/);
  });

  it("finds an eXIf next to IEND behind thousands of empty chunks, in bounded reads", async () => {
    // Prepare: 1 MiB of image data, 6000 zero-length private chunks, the eXIf, then IEND.
    const empties = Array.from({ length: 6000 }, () => pngChunk("zzZz", new Uint8Array(0)));
    const png = pngOf(...idatRun(1024 * 1024, 8192), ...empties, pngChunk("eXIf", orientedTiff()));

    // Act
    const result = await extractBytes(png, "empties.png");

    // Assess
    expect(result.image).toMatchObject({ orientation: 6, exif: { make: "Acme" } });
    expect(result.bytesRead).toBeLessThan(200 * 1024);
    expect(result.readRequests).toBeLessThanOrEqual(4);
  });

  it("reads no eXIf from a tail of zero bytes or 0xFF bytes between the data and IEND", async () => {
    for (const fill of [0x00, 0xff]) {
      const png = pngOf(...idatRun(100, 40), new Uint8Array(70_000).fill(fill));
      const result = await extractBytes(png, "filler.png");
      expect(result.status).toBe("ok");
      expect(result.image?.exif).toBeUndefined();
      expect(result.bytesRead).toBeLessThanOrEqual(result.size);
    }
  });
});

describe("PNG cut inside its IHDR chunk", () => {
  it.each([16, 23, 30])(
    "at %i bytes is reported as truncated, not with a byte-reader's message",
    async (cut) => {
      // Prepare: the signature and a cut-short IHDR of a real 20 x 30 PNG (the fuzzer's truncations of the corpus).
      const png = pngOf(...idatRun(100, 40)).subarray(0, cut);

      // Act
      const result = await extractBytes(png, "cut.png");

      // Assess
      expect(result.format.mime).toBe("image/png");
      expect(result.status).toBe("error");
      expect(result.reason).toBe("truncated: PNG ends inside its IHDR chunk");
    },
  );
});

describe("image sizes from a short file held in a larger buffer", () => {
  it("come from the file's own bytes, never from the buffer past its end", async () => {
    // Prepare: a GIF logical screen of 30 x 20 whose file is cut after the width; the height's bytes lie past the view.
    const whole = Buffer.from("GIF89a\x1e\x00\x14\x00\x80\x00\x00", "latin1");
    const cut = new Uint8Array(whole.buffer, whole.byteOffset, 8);

    // Act
    const result = await extractBytes(cut, "cut.gif");

    // Assess
    expect(result.format.mime).toBe("image/gif");
    expect(result.status).toBe("error");
    expect(result.image?.height).toBeUndefined();
  });
});

/** An ISO base media box with a 32-bit size. */
function isoBox(type: string, payload: Uint8Array): Uint8Array {
  const header = Buffer.alloc(8);
  header.writeUInt32BE(8 + payload.byteLength, 0);
  header.write(type, 4, "latin1");
  return concatBytes(new Uint8Array(header), payload);
}

/**
 * exifpy-test_0001.jxl (signature, ftyp, jxll, jxlp, Exif, xml, jxlp) rebuilt
 * with the last jxlp's codestream split over `parts` jxlp boxes and the Exif
 * box moved after them, to the end of the file.
 */
function jxlWithExifLast(parts: number): Uint8Array {
  const fixture = readFileSync(corpusFile("exifpy-test_0001.jxl"));
  const boxes: { type: string; bytes: Uint8Array }[] = [];
  for (let at = 0; at < fixture.byteLength; ) {
    const size = fixture.readUInt32BE(at);
    boxes.push({ type: fixture.toString("latin1", at + 4, at + 8), bytes: fixture.subarray(at, at + size) });
    at += size;
  }
  const [signature, ftyp, jxll, firstPart, exif, xml, lastPart] = boxes;
  expect(boxes.map((box) => box.type)).toEqual(["JXL ", "ftyp", "jxll", "jxlp", "Exif", "xml ", "jxlp"]);
  const codestream = (lastPart?.bytes ?? new Uint8Array()).subarray(12);
  const each = Math.ceil(codestream.byteLength / parts);
  const split = Array.from({ length: parts }, (_, i) => {
    const index = Buffer.alloc(4);
    index.writeUInt32BE(i + 1 + (i === parts - 1 ? 0x80000000 : 0), 0);
    return isoBox("jxlp", concatBytes(new Uint8Array(index), codestream.subarray(i * each, (i + 1) * each)));
  });
  return concatBytes(
    ...[signature, ftyp, jxll, firstPart, xml].map((box) => box?.bytes ?? new Uint8Array()),
    ...split,
    exif?.bytes ?? new Uint8Array(),
  );
}

describe("JPEG XL with many jxlp boxes and its Exif box at the end", () => {
  const jxl = jxlWithExifLast(300);

  it("reads the Exif box past the 300 jxlp boxes before it", async () => {
    const result = await extractBytes(jxl, "parts.jxl");
    expect(result.status).toBe("ok");
    expect(result.warnings).toEqual([]);
    // exiftool: GPSAltitude 2019.847 m, as for the fixture it was built from.
    expect(result.image?.exif?.gps).toMatchObject({ altitude: 2019.847 });
  });

  it("says so when the entry budget ends the box listing before the Exif box", async () => {
    const result = await extract(new BufferSource(jxl, "parts.jxl"), {
      name: "parts.jxl",
      budget: { maxEntries: 100 },
    });
    expect(result.status).toBe("ok");
    expect(result.limit).toBe("entries");
    expect(result.warnings).toEqual([
      expect.stringMatching(
        /^JPEG XL: box listing stopped at byte \d+ of \d+: entry budget of 100 boxes reached; boxes past it were not looked at$/,
      ),
    ]);
    expect(result.image?.exif?.gps).toBeUndefined();
  });
});

/**
 * A little-endian 64 x 48 TIFF whose only directory starts 40 bytes before
 * the end of the head window handed to exifr: its last entries, its
 * next-directory pointer and its Make and Artist values lie past that head.
 */
function tiffWithDirectoryAcrossHead(): Uint8Array {
  const ifd = TIFF_EXIF_HEAD_BYTES - 40;
  const entries = 4;
  const values = ifd + 2 + entries * 12 + 4;
  const make = "Acme\0";
  const artist = "Ada Lovelace\0";
  const bytes = Buffer.alloc(values + make.length + artist.length);
  bytes.write("II", 0, "latin1");
  bytes.writeUInt16LE(42, 2);
  bytes.writeUInt32LE(ifd, 4);
  bytes.writeUInt16LE(entries, ifd);
  const entry = (index: number, tag: number, type: number, count: number, value: number) => {
    const at = ifd + 2 + index * 12;
    bytes.writeUInt16LE(tag, at);
    bytes.writeUInt16LE(type, at + 2);
    bytes.writeUInt32LE(count, at + 4);
    bytes.writeUInt32LE(value, at + 8);
  };
  entry(0, 0x0100, 3, 1, 64); // ImageWidth, SHORT in the entry
  entry(1, 0x0101, 3, 1, 48); // ImageLength
  entry(2, 0x010f, 2, make.length, values); // Make
  entry(3, 0x013b, 2, artist.length, values + make.length); // Artist
  bytes.write(make, values, "latin1");
  bytes.write(artist, values + make.length, "latin1");
  return new Uint8Array(bytes);
}

describe("TIFF directory that starts in the head exifr is given and runs past it", () => {
  it("hands exifr the rest of the directory and the values after it", async () => {
    // Prepare
    const tiff = tiffWithDirectoryAcrossHead();

    // Act
    const result = await extractBytes(tiff, "across.tif");

    // Assess: Artist is read by exifr only, from the entry and value past the head.
    expect(result.status).toBe("ok");
    expect(result.warnings).toEqual([]);
    expect(result.image).toMatchObject({
      width: 64,
      height: 48,
      exif: { make: "Acme", artist: "Ada Lovelace" },
    });
  });
});
