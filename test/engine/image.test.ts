import { readFileSync } from "node:fs";
import sharp from "sharp";
import { beforeAll, describe, expect, it } from "vitest";
import { BufferSource, FileSource } from "../../src/engine/byte-source/byte-source.js";
import { extract } from "../../src/engine/engine.js";
import { exifReadingOf, takenAtOf } from "../../src/engine/extractors/image/exif.js";
import { MAX_FIELD_CHARS } from "../../src/engine/limits.js";
import type { ExtractionResult } from "../../src/engine/types.js";
import { concatBytes } from "../support/bytes.js";
import { corpusFile, type ExpectedEntry, expectedEntries } from "../support/corpus.js";

/** Corpus files that are images by name; videos with an ImageWidth tag are someone else's. */
const IMAGE_NAME =
  /\.(jpe?g|png|apng|gif|webp|tiff?|bmp|ico|psd|avif|hei[cf]|jxl|jxr|jp2|j2c|svg|dng|nef|arw|cr2|cr3)$/i;
const images = expectedEntries().filter((entry) => IMAGE_NAME.test(entry.name));

type Aspect = "size" | "camera" | "orientation" | "date";

/**
 * Where the oracle (exiftool) and this extractor disagree for a reason, or
 * what this extractor does not decode. Each is still run, as an expected failure.
 */
const KNOWN_FAILURES: Readonly<Record<Aspect, Readonly<Record<string, string>>>> = {
  size: {},
  camera: {},
  orientation: {},
  date: {
    "exifpy-Reconyx_HC500_Hyperfire.jpg": "the date is in Reconyx maker notes, which are not decoded",
  },
};

/**
 * Files where the oracle's value is right for it but not comparable:
 * exiftool reports no ImageWidth for these cut-short RAW fixtures, while their
 * directories still state the full sensor size, which we report.
 */
const NOT_COMPARED = new Set(["exifpy-sony_alpha_a7iii_raw_image.ARW", "filetype-fixture-sony-zv-e10.arw"]);

const results = new Map<string, ExtractionResult>();

beforeAll(async () => {
  for (const entry of images) {
    const source = await FileSource.open(corpusFile(entry.name));
    try {
      results.set(entry.name, await extract(source, { name: entry.name }));
    } finally {
      await source.close();
    }
  }
});

function result(name: string): ExtractionResult {
  const found = results.get(name);
  if (!found) throw new Error(`no result for ${name}`);
  return found;
}

function table(select: (entry: ExpectedEntry) => boolean): [string, ExpectedEntry][] {
  return images.filter((entry) => select(entry) && !NOT_COMPARED.has(entry.name)).map((e) => [e.name, e]);
}

function split(aspect: Aspect, rows: [string, ExpectedEntry][]) {
  const known = KNOWN_FAILURES[aspect];
  return {
    passing: rows.filter(([name]) => !(name in known)),
    failing: rows.filter(([name]) => name in known),
  };
}

const numeric = (value: unknown): value is number => typeof value === "number";

describe("image extractor against exiftool", () => {
  const dimensions = split(
    "size",
    table((e) => numeric(e.ImageWidth) && numeric(e.ImageHeight)),
  );
  it.each(dimensions.passing)("%s: width and height equal ImageWidth/ImageHeight", (name, entry) => {
    const { image } = result(name);
    expect(image, result(name).reason).toBeDefined();
    expect([image?.width, image?.height]).toEqual([entry.ImageWidth, entry.ImageHeight]);
  });
  it.fails.each(dimensions.failing)("%s: width and height (known failure)", (name, entry) => {
    expect([result(name).image?.width, result(name).image?.height]).toEqual([
      entry.ImageWidth,
      entry.ImageHeight,
    ]);
  });

  const cameras = split(
    "camera",
    table((e) => typeof e.Make === "string"),
  );
  it.each(cameras.passing)("%s: make and model equal Make/Model", (name, entry) => {
    const exif = result(name).image?.exif;
    expect(exif?.make).toBe(entry.Make);
    if (typeof entry.Model === "string") expect(exif?.model).toBe(entry.Model);
  });
  it.fails.each(cameras.failing)("%s: make and model (known failure)", (name, entry) => {
    expect(result(name).image?.exif?.make).toBe(entry.Make);
  });

  it.each(table((e) => numeric(e.GPSLatitude) && numeric(e.GPSLongitude)))(
    "%s: GPS within 1e-5 degrees of GPSLatitude/GPSLongitude",
    (name, entry) => {
      const gps = result(name).image?.exif?.gps;
      expect(gps).toBeDefined();
      expect(Math.abs((gps?.lat ?? Number.NaN) - (entry.GPSLatitude as number))).toBeLessThan(1e-5);
      expect(Math.abs((gps?.lon ?? Number.NaN) - (entry.GPSLongitude as number))).toBeLessThan(1e-5);
    },
  );

  const orientations = split(
    "orientation",
    table((e) => numeric(e.Orientation)),
  );
  it.each(orientations.passing)("%s: orientation equals Orientation", (name, entry) => {
    expect(result(name).image?.orientation).toBe(entry.Orientation);
  });
  it.fails.each(orientations.failing)("%s: orientation (known failure)", (name, entry) => {
    expect(result(name).image?.orientation).toBe(entry.Orientation);
  });

  const dates = split(
    "date",
    table((e) => typeof e.DateTimeOriginal === "string"),
  );
  it.each(dates.passing)("%s: takenAt agrees with DateTimeOriginal", (name, entry) => {
    // exiftool prints "YYYY:MM:DD HH:MM:SS", sometimes with its own offset suffix.
    const local = (entry.DateTimeOriginal as string)
      .slice(0, 19)
      .replace(/^(\d{4}):(\d{2}):(\d{2}) /, "$1-$2-$3T");
    const takenAt = result(name).image?.exif?.takenAt;
    expect(takenAt?.slice(0, 19)).toBe(local);
    expect(takenAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{2}:\d{2})?$/);
  });
  it.fails.each(dates.failing)("%s: takenAt (known failure)", (name) => {
    expect(result(name).image?.exif?.takenAt).toBeDefined();
  });
});

/**
 * exiftool's Title is XMP dc:title and its Creator XMP dc:creator (else EXIF
 * Artist); we read EXIF only: `title` is ImageDescription, `artist` is Artist,
 * trimmed; an SVG's `title` is its root <title> element. Where the two conventions give different answers, what we report
 * instead and why. Every other image with a Title or Creator must agree.
 */
const TITLE_CONVENTIONS: Readonly<Record<string, { title?: string; artist?: string; why: string }>> = {
  "exifpy-BlueSquare.jpg": {
    title: "XMPFiles BlueSquare test file, created in Photoshop CS2, saved as .psd, .jpg, and .tif.",
    why: "dc:title differs from the EXIF ImageDescription, which we report",
  },
  "exifpy-long_description.jpg": {
    why: "dc:title is a photo number; our title is the EXIF ImageDescription, a long caption",
  },
  "exifpy-Pentax_K10D.jpg": {
    why: "dc:creator only: the file has no EXIF Artist (its name is in Copyright, which we report)",
  },
  "filetype-fixture.jpg": {
    artist: "Sindre Sorhus",
    why: "exiftool keeps Artist's trailing spaces; we trim",
  },
};

describe("image title and artist against exiftool's Title and Creator", () => {
  const titled = table((e) => typeof e.Title === "string" || typeof e.Creator === "string");

  it("has oracle rows to compare with", () => {
    expect(titled.length).toBeGreaterThanOrEqual(5);
  });

  it.each(titled)("%s", (name, entry) => {
    const exif = result(name).image?.exif;
    const convention = TITLE_CONVENTIONS[name];
    if (convention?.title !== undefined) expect(exif?.title).toBe(convention.title);
    else if (typeof entry.Title === "string" && !convention) expect(exif?.title).toBe(entry.Title);
    if (convention?.artist !== undefined) expect(exif?.artist).toBe(convention.artist);
    else if (typeof entry.Creator === "string" && !convention) expect(exif?.artist).toBe(entry.Creator);
    if (convention) expect([exif?.title, exif?.artist]).not.toEqual([entry.Title, entry.Creator]);
  });
});

describe("image extractor, beyond the oracle", () => {
  it.each([
    ["filetype-fixture.apng", 20, true],
    ["filetype-fixture.png", 1, false],
    ["sharp-animated-loop-3.gif", 10, true],
    ["filetype-fixture.gif", 1, false],
    ["sharp-animated-loop-3.webp", 10, true],
    ["tika-testWebp_Alpha_Lossy.webp", 1, false],
    ["filetype-fixture.ico", 1, false],
    ["sharp-G31D_MULTI.TIF", 2, false],
    ["filetype-fixture-sequence.avif", 100, true],
  ] as const)("%s has %i frame(s), animated %s", (name, frames, animated) => {
    expect(result(name).image).toMatchObject({ frames, animated });
  });

  // exiftool's Duration agrees for sharp-big-height.webp (97 frames, 19.4 s) and the AVIF sequence (its moov's 4 s); it gives none for the APNG, whose 20 fcTL delays add up to 1.5 s. For the two loop-3 files it
  // gives 3 and 29.712 s; their frames hold nine delays of 3 s and a last of 15 s (GIF Graphic Control
  // Extensions of 300 and 1500 hundredths, WebP ANMF durations of 3000 and 15000 ms): 42 s, as players run them.
  it.each([
    ["sharp-big-height.webp", 19.4],
    ["filetype-fixture-sequence.avif", 4],
    ["filetype-fixture.apng", 1.5],
    ["sharp-animated-loop-3.gif", 42],
    ["sharp-animated-loop-3.webp", 42],
  ] as const)("%s plays for %f s, its frames' delays added up", (name, duration) => {
    expect(result(name).image?.duration).toBeCloseTo(duration, 6);
  });

  it.each([
    "filetype-fixture.gif",
    "tika-testWebp_Alpha_Lossy.webp",
    "filetype-fixture.png",
    "exifpy-mountains.avif",
  ])("%s, a still image, has no duration", (name) => {
    expect(result(name).image).not.toHaveProperty("duration");
  });

  it.each([
    ["filetype-fixture.png", 8, "rgb"],
    ["sharp-Flag_of_the_Netherlands-alpha.png", 2, "palette"],
    ["sharp-Channel_digital_image_CMYK_color_no_profile.jpg", 8, "cmyk"],
    ["filetype-fixture.psd", 8, "rgb"],
    ["filetype-fixture.bmp", 24, undefined],
    ["exifpy-nikon_z_9_high_efficiency_compressed_dx_cropped_max_overexposed.dng", 16, "linear-raw"],
  ] as const)("%s has bit depth %i and colour type %s", (name, bitDepth, colorType) => {
    expect(result(name).image?.bitDepth).toBe(bitDepth);
    expect(result(name).image?.colorType).toBe(colorType);
  });

  it("gives takenAt the offset OffsetTimeOriginal records", () => {
    expect(result("exifpy-iphone_13_pro_max.heic").image?.exif?.takenAt).toBe(
      "2022-02-16T12:55:41.762+01:00",
    );
  });

  it("reads exposure, aperture, ISO, focal length and lens", () => {
    expect(result("exifpy-Sony_alpha_a58.JPG").image?.exif).toMatchObject({
      lens: "70-300mm F4-5.6 SSM",
      exposureTime: 0.01,
      fNumber: 5.6,
      iso: 100,
      focalLength: 300,
    });
  });

  it("signs GPS south and west negative, and altitude from GPSAltitude", () => {
    expect(result("exifpy-Kodak_CX7530.jpg").image?.exif?.gps?.lat).toBeLessThan(0);
    expect(result("exifpy-test_0001.jxl").image?.exif?.gps).toMatchObject({ altitude: 2019.847 });
    expect(result("exifpy-test_0001.jxl").image?.exif?.gps?.lon).toBeLessThan(0);
  });

  it.each(["sharp-check.svg", "sharp-circle.svg", "sharp-struct-image-04-t.svg", "tika-testSVG.svg"])(
    "%s: SVG size from the root element's width/height or viewBox",
    (name) => {
      const expected: Record<string, [number, number]> = {
        "sharp-check.svg": [100, 100],
        "sharp-circle.svg": [8, 8],
        "sharp-struct-image-04-t.svg": [480, 360], // width/height are 100%: the viewBox decides
        "tika-testSVG.svg": [38, 38], // 1cm at 96 dpi
      };
      expect([result(name).image?.width, result(name).image?.height]).toEqual(expected[name]);
    },
  );

  it("reads a TIFF whose first directory sits at the end of the file with few, small reads", () => {
    const tiff = result("filetype-fixture-bali.tif");
    expect(tiff.image).toMatchObject({ width: 725, height: 489 });
    expect(tiff.readRequests).toBeLessThanOrEqual(5);
  });

  it("reads a large JPEG's EXIF and frame header without reading the scan", () => {
    const jpeg = result("exifpy-Reconyx_HC500_Hyperfire.jpg");
    expect(jpeg.image).toMatchObject({ width: 2048, height: 1536 });
    expect(jpeg.bytesRead).toBeLessThan(jpeg.size / 4);
  });
});

/** Cut points: inside the signature, inside headers, inside the body, one byte short. */
function cutPoints(size: number): number[] {
  return [...new Set([1, 4, 12, 40, 200, 1000, Math.floor(size / 3), Math.floor(size / 2), size - 1])].filter(
    (cut) => cut > 0 && cut < size,
  );
}

/** Formats whose end is checkable from headers or end markers: every cut must show. */
const END_CHECKED = [
  "filetype-fixture.jpg",
  "exifpy-DSCN0010.jpg",
  "exifpy-image01137.jpg",
  "filetype-fixture.png",
  "filetype-fixture.apng",
  "filetype-fixture.gif",
  "sharp-animated-loop-3.gif",
  "filetype-fixture.webp",
  "sharp-animated-loop-3.webp",
  "exifpy-iphone_13_pro_max.heic",
  "tika-testHEIF.heic",
  "exifpy-mountains.avif",
  "exifpy-test_0001.jxl",
  "filetype-fixture.bmp",
  "filetype-fixture.ico",
  "filetype-fixture.jp2",
  "sharp-relax.jp2",
  "filetype-fixture.jxr",
  "filetype-fixture.cr3", // the fixture itself is cut short: every prefix is too
];
/** Formats read from directories only (pixel data is not located): cuts must not throw. */
const HEADER_ONLY = ["filetype-fixture-bali.tif", "filetype-fixture-big-endian.tif", "filetype-fixture.psd"];

describe("truncated images", () => {
  const cuts = (names: string[]) =>
    names.flatMap((name) => {
      const bytes = readFileSync(corpusFile(name));
      return cutPoints(bytes.byteLength).map((cut) => [name, cut, bytes] as const);
    });

  it.each(cuts(END_CHECKED))("%s cut at %i is reported as error or partial", async (name, cut, bytes) => {
    const result = await extract(new BufferSource(bytes.subarray(0, cut), name), { name });
    // A cut inside the signature may leave nothing recognisable as an image: then no image section.
    expect(result.status !== "ok" || result.image === undefined, JSON.stringify(result.image)).toBe(true);
    if (result.status !== "ok") expect(result.reason).toBeTruthy();
  });

  it.each(cuts(HEADER_ONLY))("%s cut at %i never throws", async (name, cut, bytes) => {
    const result = await extract(new BufferSource(bytes.subarray(0, cut), name), { name });
    expect(["ok", "partial", "error"]).toContain(result.status);
  });

  it("reports corrupt chunk lengths in a PNG as partial, keeping what its IHDR says", () => {
    const png = result("filetype-fixture-corrupt.png");
    expect(png.status).toBe("partial");
    // exiftool: BitDepth 8, ColorType 2 (RGB).
    expect(png.image).toMatchObject({ width: 1642, height: 1095, bitDepth: 8, colorType: "rgb" });
  });
});

/** A little-endian TIFF block with IFD0 holding one ASCII Make value. */
function tiffWithMake(make: string): Uint8Array {
  const text = new TextEncoder().encode(`${make}\0`);
  const ifdEntries = 1;
  const valueAt = 8 + 2 + ifdEntries * 12 + 4;
  const bytes = new Uint8Array(valueAt + text.byteLength);
  const view = new DataView(bytes.buffer);
  bytes.set([0x49, 0x49, 0x2a, 0x00]);
  view.setUint32(4, 8, true);
  view.setUint16(8, ifdEntries, true);
  view.setUint16(10, 271, true); // Make
  view.setUint16(12, 2, true); // ASCII
  view.setUint32(14, text.byteLength, true);
  view.setUint32(18, valueAt, true);
  view.setUint32(22, 0, true); // no next directory
  bytes.set(text, valueAt);
  return bytes;
}

function pngChunk(type: string, data: Uint8Array): Uint8Array {
  const chunk = new Uint8Array(12 + data.byteLength);
  const view = new DataView(chunk.buffer);
  view.setUint32(0, data.byteLength);
  chunk.set(new TextEncoder().encode(type), 4);
  chunk.set(data, 8);
  return chunk; // CRC left zero: nothing here checks it
}

function pngWithExif(exif: Uint8Array): Uint8Array {
  const ihdr = new Uint8Array(13);
  new DataView(ihdr.buffer).setUint32(0, 3);
  new DataView(ihdr.buffer).setUint32(4, 2);
  ihdr.set([8, 2], 8);
  const parts = [
    Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a),
    pngChunk("IHDR", ihdr),
    pngChunk("eXIf", exif),
    pngChunk("IDAT", new Uint8Array(0)),
    pngChunk("IEND", new Uint8Array(0)),
  ];
  return concatBytes(...parts);
}

describe("hostile EXIF values", () => {
  const hostile = `<script>alert(1)</script>${"A".repeat(1024 * 1024)}`;

  it("truncates a 1 MB Make from a PNG eXIf chunk to the field limit", async () => {
    const png = pngWithExif(tiffWithMake(hostile));
    const result = await extract(new BufferSource(png, "hostile.png"), { name: "hostile.png" });
    expect(result.status).toBe("ok");
    expect(result.image).toMatchObject({ width: 3, height: 2 });
    const make = result.image?.exif?.make ?? "";
    expect(make.startsWith("<script>")).toBe(true);
    expect(make.length).toBeLessThanOrEqual(MAX_FIELD_CHARS + 1);
  });

  it("cleans every string field and drops out-of-range values", () => {
    const warnings: string[] = [];
    const reading = exifReadingOf(
      {
        Make: `\0\0${hostile}`,
        Artist: "\0",
        Orientation: 9,
        latitude: 123,
        longitude: 4,
        GPSLatitude: [1, 2, 3],
        GPSLongitude: [1, 2, 3],
        DateTimeOriginal: "2020:13:45 99:00:00",
        ISO: [200, 0],
        FNumber: -1,
      },
      (message) => warnings.push(message),
    );
    expect(reading.exif?.make?.length).toBeLessThanOrEqual(MAX_FIELD_CHARS + 1);
    expect(reading.exif?.artist).toBeUndefined();
    expect(reading.orientation).toBeUndefined();
    expect(reading.exif?.gps).toBeUndefined();
    expect(reading.exif?.takenAt).toBeUndefined();
    expect(reading.exif?.iso).toBe(200);
    expect(reading.exif?.fNumber).toBeUndefined();
    expect(warnings).toHaveLength(3);
  });

  it.each([
    ["2022:02:16 12:55:41", undefined, undefined, "2022-02-16T12:55:41"],
    ["2022:02:16 12:55:41", "+01:00", "762", "2022-02-16T12:55:41.762+01:00"],
    ["2022:02:16 12:55:41", "garbage", undefined, "2022-02-16T12:55:41"],
    ["0000:00:00 00:00:00", undefined, undefined, undefined],
    ["    :  :     :  :  ", undefined, undefined, undefined],
  ])("takenAtOf(%s, %s, %s) is %s", (date, offset, sub, expected) => {
    expect(takenAtOf(date, offset, sub)).toBe(expected);
  });
});

describe("date taken when EXIF has no DateTimeOriginal", () => {
  // exiftool -G1 on each file: XMP-exif:DateTimeOriginal, XMP-photoshop:DateCreated, XMP-xmp:CreateDate, in that order.
  it.each([
    ["exifpy-BlueSquare.jpg", "JPEG, EXIF without dates but ModifyDate", "2005-09-07T15:07:40-07:00"],
    ["exifpy-image01137.jpg", "JPEG without EXIF", "2009-09-14T11:08:06+02:00"],
    ["exifpy-image02206.jpg", "JPEG without EXIF", "2009-08-04T10:35:03Z"],
    ["exifpy-long_description.jpg", "JPEG, photoshop:DateCreated to the day", "2003-08-31"],
    ["filetype-fixture-big-endian.tif", "TIFF tag 700", "2014-01-19T04:04:26+01:00"],
    ["filetype-fixture-itxt.png", "PNG iTXt XML:com.adobe.xmp", "2020-01-27T14:08:33+01:00"],
    ["filetype-fixture.psd", "Photoshop image resource 1060", "2014-01-19T04:04:26+01:00"],
  ])("%s (%s) takes it from XMP", (name, _, takenAt) => {
    expect(result(name).image?.exif?.takenAt).toBe(takenAt);
  });

  it("gives none for a file whose only dates are modification dates (EXIF DateTime, xmp:ModifyDate)", () => {
    expect(result("exifpy-67-0_length_string.jpg").image?.exif?.takenAt).toBeUndefined();
  });

  it("falls back to DateTimeDigitized with its own offset and sub-seconds", async () => {
    // Prepare: a scanner-style JPEG stating only when it was digitized (exiftool: CreateDate 2019:04:05 06:07:08,
    // OffsetTimeDigitized +05:30, SubSecTimeDigitized 25), and a DateTime that must not be used.
    const jpeg = await sharp({ create: { width: 4, height: 3, channels: 3, background: "#808080" } })
      .jpeg()
      .withExif({
        IFD0: { Make: "Scanner Co", DateTime: "2024:01:01 00:00:00" },
        IFD2: {
          DateTimeDigitized: "2019:04:05 06:07:08",
          OffsetTimeDigitized: "+05:30",
          SubSecTimeDigitized: "25",
        },
      })
      .toBuffer();

    // Act
    const scanned = await extract(new BufferSource(jpeg, "scan.jpg"), { name: "scan.jpg" });

    // Assess
    expect(scanned.image?.exif).toEqual({ make: "Scanner Co", takenAt: "2019-04-05T06:07:08.25+05:30" });
  });

  it("prefers DateTimeOriginal, with its own offset, to DateTimeDigitized", async () => {
    // Prepare
    const jpeg = await sharp({ create: { width: 4, height: 3, channels: 3, background: "#808080" } })
      .jpeg()
      .withExif({
        IFD2: {
          DateTimeOriginal: "2019:04:05 06:07:08",
          OffsetTimeOriginal: "-03:00",
          DateTimeDigitized: "2020:01:01 00:00:00",
          OffsetTimeDigitized: "+05:30",
        },
      })
      .toBuffer();

    // Act
    const taken = await extract(new BufferSource(jpeg, "taken.jpg"), { name: "taken.jpg" });

    // Assess
    expect(taken.image?.exif?.takenAt).toBe("2019-04-05T06:07:08-03:00");
  });
});

/** A 3 x 2 RGB PNG with `before` chunks between IHDR and the image data and `after` chunks after it. */
function pngWith(before: Uint8Array[], after: Uint8Array[] = []): Uint8Array {
  const ihdr = new Uint8Array(13);
  new DataView(ihdr.buffer).setUint32(0, 3);
  new DataView(ihdr.buffer).setUint32(4, 2);
  ihdr.set([8, 2], 8);
  return concatBytes(
    Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a),
    pngChunk("IHDR", ihdr),
    ...before,
    pngChunk("IDAT", new Uint8Array(0)),
    ...after,
    pngChunk("IEND", new Uint8Array(0)),
  );
}

const latin1Bytes = (text: string) => new Uint8Array(Buffer.from(text, "latin1"));

// Inkscape's and GIMP's PNG exports carry Software, Author, Title and Copyright as text chunks
// (`exiftool` reads them as PNG:Software and so on), and no eXIf chunk.
describe("PNG text chunks", () => {
  it("fill software, artist, title and copyright from tEXt and uncompressed iTXt chunks", async () => {
    // Prepare
    const png = pngWith([
      pngChunk("tEXt", latin1Bytes("Software\0www.inkscape.org")),
      pngChunk("tEXt", latin1Bytes("Author\0Ren\xe9 Magritte")),
      pngChunk("iTXt", new TextEncoder().encode("Title\0\0\0fr\0Titre\0La trahison des images ✓")),
      pngChunk("tEXt", latin1Bytes("Copyright\0CC BY-SA 4.0")),
      pngChunk("tEXt", latin1Bytes("Comment\0not a field of the record")),
    ]);
    // Act
    const result = await extract(new BufferSource(png, "icon.png"));
    // Assess
    expect(result.status).toBe("ok");
    expect(result.image?.exif).toEqual({
      software: "www.inkscape.org",
      artist: "René Magritte",
      title: "La trahison des images ✓",
      copyright: "CC BY-SA 4.0",
    });
  });

  it("leave the eXIf chunk's values as they are and skip a compressed iTXt chunk", async () => {
    const png = pngWith([
      pngChunk("eXIf", tiffWithMake("Acme")),
      pngChunk("iTXt", latin1Bytes("Software\0\x01\0\0\0x\x9c compressed")),
      pngChunk("tEXt", latin1Bytes("Author\0Ada")),
    ]);
    const result = await extract(new BufferSource(png, "photo.png"));
    expect(result.status).toBe("ok");
    expect(result.image?.exif).toEqual({ make: "Acme", artist: "Ada" });
  });
});
