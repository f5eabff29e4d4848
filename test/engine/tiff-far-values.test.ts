import { describe, expect, it } from "vitest";
import { BufferSource } from "../../src/engine/byte-source/byte-source.js";
import { extract } from "../../src/engine/engine.js";
import { inline, pointing, TIFF_TYPE, TiffLayout } from "../support/tiff.js";

const MiB = 1024 * 1024;
const { ascii, short, long, byte } = TIFF_TYPE;

/** Image data: 2048 x 2560 8-bit grey, uncompressed, one strip. */
const WIDTH = 2048;
const HEIGHT = 2560;
const STRIP_OFFSET = 4096;
const STRIP_BYTES = WIDTH * HEIGHT;

interface LayoutOptions {
  /** Rows of image data (2 KiB each); the default makes a 5 MiB strip. @default HEIGHT */
  height?: number;
  /** Changes made once the file is laid out. */
  extra?: (tiff: TiffLayout) => void;
}

/**
 * A TIFF laid out as some writers do: IFD0's strings between the header and
 * the image data, the Exif and GPS values just after the strip, then 1 MiB
 * of other data, then the Exif and GPS directories and, last, IFD0. Every
 * Exif/GPS value lies 1 MiB before its directory; with the default height
 * the file is 6.3 MiB and every directory lies past the first 4 MiB.
 *
 * `exiftool -j` on both byte orders (a one-off check) gives ImageDescription
 * "Harbour at dawn", Make "Acme", Model "Field 1", Software "Darkroom 3.1",
 * Artist "Ada Lovelace", Copyright "CC BY 4.0", Orientation "Rotate 90 CW",
 * ExposureTime "1/250", FNumber 2.8, ISO 400, DateTimeOriginal
 * "2024:05:06 07:08:09", OffsetTimeOriginal "+02:00", FocalLength "50.0 mm",
 * LensModel "Prime 50mm F2.8", GPSPosition "48 deg 51' 29.79\" N, 2 deg 17'
 * 40.32\" E", GPSAltitude "35 m Above Sea Level".
 */
function tiffWithDirectoriesAtTheEnd(littleEndian: boolean, options: LayoutOptions = {}) {
  const { height = HEIGHT, extra = () => {} } = options;
  const valuesAt = STRIP_OFFSET + WIDTH * height;
  const exifIfdAt = valuesAt + MiB;
  const tiff = new TiffLayout(littleEndian, exifIfdAt + 4096);
  const strings = {
    title: tiff.ascii(8, "Harbour at dawn"),
    make: tiff.ascii(40, "Acme"),
    model: tiff.ascii(48, "Field 1"),
    software: tiff.ascii(56, "Darkroom 3.1"),
    artist: tiff.ascii(72, "Ada Lovelace"),
    copyright: tiff.ascii(88, "CC BY 4.0"),
    dateTime: tiff.ascii(104, "2024:05:07 10:00:00"),
  };
  const exifValues = {
    exposure: tiff.rationals(valuesAt, [[1, 250]]),
    fNumber: tiff.rationals(valuesAt + 8, [[28, 10]]),
    focal: tiff.rationals(valuesAt + 16, [[50, 1]]),
    taken: tiff.ascii(valuesAt + 24, "2024:05:06 07:08:09"),
    offset: tiff.ascii(valuesAt + 44, "+02:00"),
    lens: tiff.ascii(valuesAt + 52, "Prime 50mm F2.8"),
  };
  const gpsValues = {
    latitude: tiff.rationals(valuesAt + 128, [
      [48, 1],
      [51, 1],
      [2979, 100],
    ]),
    longitude: tiff.rationals(valuesAt + 152, [
      [2, 1],
      [17, 1],
      [4032, 100],
    ]),
    altitude: tiff.rationals(valuesAt + 176, [[35, 1]]),
  };
  const exifEnd = tiff.directory(exifIfdAt, [
    pointing(0x829a, exifValues.exposure),
    pointing(0x829d, exifValues.fNumber),
    inline(0x8827, short, 400),
    pointing(0x9003, exifValues.taken),
    pointing(0x9011, exifValues.offset),
    pointing(0x920a, exifValues.focal),
    pointing(0xa434, exifValues.lens),
  ]);
  const gpsIfdAt = exifEnd + 16;
  const gpsEnd = tiff.directory(gpsIfdAt, [
    { tag: 0x0000, type: byte, count: 4, value: 2 },
    { tag: 0x0001, type: ascii, count: 2, value: "N".charCodeAt(0) },
    pointing(0x0002, gpsValues.latitude),
    { tag: 0x0003, type: ascii, count: 2, value: "E".charCodeAt(0) },
    pointing(0x0004, gpsValues.longitude),
    inline(0x0005, byte, 0),
    pointing(0x0006, gpsValues.altitude),
  ]);
  const ifd0At = gpsEnd + 16;
  tiff.directory(ifd0At, [
    inline(0x0100, short, WIDTH),
    inline(0x0101, short, height),
    inline(0x0102, short, 8),
    inline(0x0103, short, 1),
    inline(0x0106, short, 1),
    pointing(0x010e, strings.title),
    pointing(0x010f, strings.make),
    pointing(0x0110, strings.model),
    inline(0x0111, long, STRIP_OFFSET),
    inline(0x0112, short, 6),
    inline(0x0115, short, 1),
    inline(0x0116, short, height),
    inline(0x0117, long, WIDTH * height),
    pointing(0x0131, strings.software),
    pointing(0x0132, strings.dateTime),
    pointing(0x013b, strings.artist),
    pointing(0x8298, strings.copyright),
    inline(0x8769, long, exifIfdAt),
    inline(0x8825, long, gpsIfdAt),
  ]);
  tiff.header(ifd0At);
  extra(tiff);
  return new Uint8Array(tiff.bytes);
}

/** Runs the whole engine over bytes held in memory, as an upload of that name would. */
function extractBytes(bytes: Uint8Array, name: string) {
  return extract(new BufferSource(bytes, name), { name });
}

describe("TIFF values stored far from their directories", () => {
  it.each([
    ["a little-endian 6.3 MiB", true, HEIGHT],
    ["a big-endian 6.3 MiB", false, HEIGHT],
    ["a little-endian 2.3 MiB", true, 512],
  ])(
    "reads IFD0, Exif and GPS fields of %s file whose directories close it",
    async (_, littleEndian, height) => {
      // Prepare
      const tiff = tiffWithDirectoriesAtTheEnd(littleEndian, { height });

      // Act
      const result = await extractBytes(tiff, "harbour.tif");

      // Assess: the fields exiftool reports (see the layout's comment).
      expect(result.status).toBe("ok");
      expect(result.warnings).toEqual([]);
      expect(result.image).toMatchObject({ width: WIDTH, height, orientation: 6, bitDepth: 8 });
      expect(result.image?.exif).toEqual({
        title: "Harbour at dawn",
        make: "Acme",
        model: "Field 1",
        software: "Darkroom 3.1",
        artist: "Ada Lovelace",
        copyright: "CC BY 4.0",
        lens: "Prime 50mm F2.8",
        takenAt: "2024-05-06T07:08:09+02:00",
        exposureTime: 0.004,
        fNumber: 2.8,
        iso: 400,
        focalLength: 50,
        gps: { lat: expect.closeTo(48.858275, 6), lon: expect.closeTo(2.2945333, 6), altitude: 35 },
      });
      // The head, the directories and a few values: not the image data between them.
      expect(result.bytesRead).toBeLessThan(512 * 1024);
    },
  );

  it("takes DateTimeDigitized and OffsetTimeDigitized stored far away when DateTimeOriginal is absent", async () => {
    // Prepare: the Exif IFD's DateTimeOriginal (0x9003) and OffsetTimeOriginal (0x9011) renumbered as
    // DateTimeDigitized (0x9004) and OffsetTimeDigitized (0x9012); IFD0's DateTime (2024:05:07) stays.
    const tiff = tiffWithDirectoriesAtTheEnd(true, {
      height: 512,
      extra: (layout) => {
        const ifd0 = layout.bytes.readUInt32LE(4);
        let exifIfd = 0;
        for (let i = 0; i < layout.bytes.readUInt16LE(ifd0); i++) {
          const field = ifd0 + 2 + i * 12;
          if (layout.bytes.readUInt16LE(field) === 0x8769) exifIfd = layout.bytes.readUInt32LE(field + 8);
        }
        for (let i = 0; i < layout.bytes.readUInt16LE(exifIfd); i++) {
          const field = exifIfd + 2 + i * 12;
          const tag = layout.bytes.readUInt16LE(field);
          if (tag === 0x9003 || tag === 0x9011) layout.bytes.writeUInt16LE(tag + 1, field);
        }
      },
    });

    // Act
    const result = await extractBytes(tiff, "scan.tif");

    // Assess
    expect(result.status).toBe("ok");
    expect(result.image?.exif?.takenAt).toBe("2024-05-06T07:08:09+02:00");
  });

  it("leaves out a value larger than the read budget, with a warning, and keeps the rest", async () => {
    // Prepare: an ImageDescription of 300 KiB, written after the strip.
    const at = STRIP_OFFSET + STRIP_BYTES + 1024;
    const tiff = tiffWithDirectoriesAtTheEnd(true, {
      extra: (layout) => {
        const description = layout.ascii(at, "x".repeat(300 * 1024));
        const ifd0 = layout.bytes.readUInt32LE(4);
        const entries = layout.bytes.readUInt16LE(ifd0);
        for (let i = 0; i < entries; i++) {
          const field = ifd0 + 2 + i * 12;
          if (layout.bytes.readUInt16LE(field) !== 0x010e) continue;
          layout.bytes.writeUInt32LE(description.count, field + 4);
          layout.bytes.writeUInt32LE(description.offset, field + 8);
        }
      },
    });

    // Act
    const result = await extractBytes(tiff, "long-description.tif");

    // Assess
    expect(result.status).toBe("ok");
    expect(result.warnings).toEqual([
      "TIFF: 1 value stored past the first 128 KiB not read: the budget of 64 values and 256 KiB was reached",
    ]);
    expect(result.image?.exif?.title).toBeUndefined();
    expect(result.image?.exif).toMatchObject({ make: "Acme", lens: "Prime 50mm F2.8", iso: 400 });
  });

  it("stops reading far values at the value budget, with a warning", async () => {
    // Prepare: IFD0 names Artist 100 times, each copy far from the head.
    const valuesAt = STRIP_OFFSET + STRIP_BYTES + 1024;
    const tiff = new TiffLayout(true, valuesAt + 8192);
    const artists = Array.from({ length: 100 }, (_, i) =>
      pointing(0x013b, tiff.ascii(valuesAt + i * 16, `Artist ${i}`)),
    );
    const ifd0At = valuesAt + 4096;
    tiff.directory(ifd0At, [inline(0x0100, short, WIDTH), inline(0x0101, short, HEIGHT), ...artists]);
    tiff.header(ifd0At);

    // Act
    const result = await extractBytes(new Uint8Array(tiff.bytes), "artists.tif");

    // Assess
    expect(result.status).toBe("ok");
    expect(result.warnings).toEqual([
      "TIFF: 36 values stored past the first 128 KiB not read: the budget of 64 values and 256 KiB was reached",
    ]);
    expect(result.image).toMatchObject({ width: WIDTH, height: HEIGHT });
  });
});
