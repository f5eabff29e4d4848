import { crc32, deflateRawSync, gzipSync } from "node:zlib";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { BufferSource } from "../../src/engine/byte-source/byte-source.js";
import { extract } from "../../src/engine/engine.js";
import { MAX_FIELD_CHARS } from "../../src/engine/limits.js";
import type { ExtractionResult } from "../../src/engine/types.js";
import { concatBytes } from "../support/bytes.js";

/**
 * Hostile files built byte by byte: decompression bombs that must be reported
 * from declared sizes without expanding anything, and metadata fields that
 * carry markup, control characters, megabyte strings and broken encodings,
 * which must come back as plain, bounded, NUL-free, JSON-safe strings.
 */

const MiB = 1024 * 1024;

/**
 * Bytes the engine got out of zlib, counted by wrapping the real functions it
 * inflates with: "never expanded" as a count rather than a stopwatch.
 */
const inflated = vi.hoisted(() => ({ bytes: 0 }));
vi.mock("node:zlib", async (importOriginal) => {
  const zlib = await importOriginal<typeof import("node:zlib")>();
  return {
    ...zlib,
    inflateRawSync: (...args: Parameters<typeof zlib.inflateRawSync>) => {
      const output = zlib.inflateRawSync(...args);
      inflated.bytes += output.byteLength;
      return output;
    },
    createGunzip: (...args: Parameters<typeof zlib.createGunzip>) => {
      const gunzip = zlib.createGunzip(...args);
      gunzip.on("data", (chunk: Buffer) => {
        inflated.bytes += chunk.byteLength;
      });
      return gunzip;
    },
  };
});
beforeEach(() => {
  inflated.bytes = 0;
});

function u16le(value: number): Uint8Array {
  const out = new Uint8Array(2);
  new DataView(out.buffer).setUint16(0, value, true);
  return out;
}
function u32le(value: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value >>> 0, true);
  return out;
}
function u32be(value: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value >>> 0, false);
  return out;
}

interface ZipEntry {
  name: string;
  /** Bytes as stored (already deflated when `method` is 8). */
  stored: Uint8Array;
  method: 0 | 8;
  crc: number;
  uncompressedSize: number;
}

/** A ZIP with local headers, a central directory and an end record; sizes are whatever the entry declares. */
function zip(entries: readonly ZipEntry[]): Uint8Array {
  const locals: Uint8Array[] = [];
  const centrals: Uint8Array[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.name, "utf8");
    const common = concatBytes(
      u16le(20),
      u16le(0x0800),
      u16le(entry.method),
      u16le(0),
      u16le(0x21),
      u32le(entry.crc),
      u32le(entry.stored.byteLength),
      u32le(entry.uncompressedSize),
      u16le(name.byteLength),
      u16le(0),
    );
    const local = concatBytes(u32le(0x04034b50), common, name, entry.stored);
    centrals.push(
      concatBytes(
        u32le(0x02014b50),
        u16le(20),
        common,
        u16le(0),
        u16le(0),
        u16le(0),
        u32le(0),
        u32le(offset),
        name,
      ),
    );
    locals.push(local);
    offset += local.byteLength;
  }
  const directory = concatBytes(...centrals);
  const end = concatBytes(
    u32le(0x06054b50),
    u16le(0),
    u16le(0),
    u16le(entries.length),
    u16le(entries.length),
    u32le(directory.byteLength),
    u32le(offset),
    u16le(0),
  );
  return concatBytes(...locals, directory, end);
}

function deflatedEntry(name: string, content: Uint8Array): ZipEntry {
  return {
    name,
    stored: deflateRawSync(content, { level: 9 }),
    method: 8,
    crc: crc32(content),
    uncompressedSize: content.byteLength,
  };
}

function storedEntry(name: string, content: Uint8Array): ZipEntry {
  return { name, stored: content, method: 0, crc: crc32(content), uncompressedSize: content.byteLength };
}

function pngChunk(type: string, data: Uint8Array): Uint8Array {
  const body = concatBytes(type, data);
  return concatBytes(u32be(data.byteLength), body, u32be(crc32(body)));
}

/** A PNG whose header claims `width` x `height` RGBA pixels over a few bytes of IDAT. */
function pixelBombPng(width: number, height: number): Uint8Array {
  const ihdr = concatBytes(u32be(width), u32be(height), Uint8Array.of(8, 6, 0, 0, 0));
  return concatBytes(
    Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a),
    pngChunk("IHDR", ihdr),
    pngChunk("IDAT", deflateRawSync(new Uint8Array(64))),
    pngChunk("IEND", new Uint8Array(0)),
  );
}

/** A GIF whose screen and only image claim `width` x `height`. */
function pixelBombGif(width: number, height: number): Uint8Array {
  return concatBytes(
    "GIF89a",
    u16le(width),
    u16le(height),
    Uint8Array.of(0x80, 0, 0),
    new Uint8Array(6),
    Uint8Array.of(0x2c),
    u16le(0),
    u16le(0),
    u16le(width),
    u16le(height),
    Uint8Array.of(0, 2, 2, 0x4c, 0x01, 0),
    Uint8Array.of(0x3b),
  );
}

async function run(bytes: Uint8Array, name: string): Promise<ExtractionResult> {
  const result = await extract(new BufferSource(bytes, name), { name });
  expect(["ok", "partial", "error"]).toContain(result.status);
  return result;
}

describe("decompression bombs are reported from declared sizes, never expanded", () => {
  it("flags a zip whose single entry deflates 64 MiB of zeros", async () => {
    const bytes = zip([deflatedEntry("zeros.bin", new Uint8Array(64 * MiB))]);
    const result = await run(bytes, "ratio.zip");
    expect(result.archive).toMatchObject({ kind: "zip", entries: 1, uncompressedSize: 64 * MiB, bomb: true });
    expect(result.archive?.ratio).toBeGreaterThan(100);
    expect(result.bytesRead).toBeLessThanOrEqual(bytes.byteLength);
    // Sizes come from the central directory: nothing is inflated.
    expect(inflated.bytes).toBe(0);
  });

  it("flags a zip whose directory declares 12 GiB over 3 entries of 10 bytes", async () => {
    const entries = [0, 1, 2].map((i) => ({
      ...storedEntry(`part${i}.bin`, new Uint8Array(10)),
      uncompressedSize: 0xfffffffe,
    }));
    const bytes = zip(entries);
    const result = await run(bytes, "declared.zip");
    expect(result.archive?.bomb).toBe(true);
    expect(result.archive?.uncompressedSize).toBeGreaterThan(10 * 1024 ** 3);
    expect(result.bytesRead).toBeLessThanOrEqual(bytes.byteLength);
  });

  it("reports zip-in-zip-in-zip as nested without opening the inner archives", async () => {
    const innermost = zip([deflatedEntry("zeros.bin", new Uint8Array(8 * MiB))]);
    const middle = zip([storedEntry("level2.zip", innermost)]);
    const outer = zip([storedEntry("level1.zip", middle), storedEntry("readme.txt", Buffer.from("hello"))]);
    const result = await run(outer, "nested.zip");
    expect(result.archive).toMatchObject({ kind: "zip", entries: 2, nestedArchives: 1 });
    expect(result.archive?.sample).toEqual(["level1.zip", "readme.txt"]);
    // Declared sizes are those of the outer entries only: nothing inside was inflated.
    expect(result.archive?.uncompressedSize).toBe(middle.byteLength + 5);
    expect(result.bytesRead).toBeLessThanOrEqual(outer.byteLength);
  });

  it("flags a gzip of 100 MiB of zeros from its ISIZE trailer", async () => {
    const bytes = new Uint8Array(gzipSync(new Uint8Array(100 * MiB), { level: 9 }));
    const result = await run(bytes, "zeros.gz");
    expect(result.archive).toMatchObject({ kind: "gzip", uncompressedSize: 100 * MiB, bomb: true });
    expect(result.bytesRead).toBeLessThanOrEqual(bytes.byteLength);
    // Only the sample that looks for a tarball inside is inflated (1 MiB, plus zlib's last chunk).
    expect(inflated.bytes).toBeLessThanOrEqual(2 * MiB);
  });

  it.each([
    ["PNG 100000x100000", pixelBombPng(100_000, 100_000), "bomb.png", 100_000, 100_000],
    ["GIF 65535x65535", pixelBombGif(65_535, 65_535), "bomb.gif", 65_535, 65_535],
  ])(
    "reports the declared dimensions of a %s pixel bomb without decoding",
    async (_, bytes, name, width, height) => {
      const result = await run(bytes, name);
      expect(result.status).not.toBe("error");
      expect(result.image).toMatchObject({ width, height });
      expect(result.bytesRead).toBeLessThanOrEqual(bytes.byteLength);
      expect(inflated.bytes).toBe(0);
    },
  );
});

const SCRIPT = "<script>alert(1)</script>";
const IMG = "<img src=x onerror=alert(1)>";
const CONTROLS = "a\u0001b\u0007c\u001bd\u007fe\r\nf\u0000g";
const MEGABYTE = "A".repeat(MiB);

/** Every string anywhere in a result, with its path. */
function strings(value: unknown, path = "$"): [string, string][] {
  if (typeof value === "string") return [[path, value]];
  if (Array.isArray(value)) return value.flatMap((item, i) => strings(item, `${path}[${i}]`));
  if (value && typeof value === "object") {
    return Object.entries(value).flatMap(([key, item]) => strings(item, `${path}.${key}`));
  }
  return [];
}

/** A UTF-16 code unit with no partner: such a string cannot be encoded as UTF-8 for storage. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** The contract for metadata text: bounded, NUL-free, well-formed, and the result survives JSON. */
function expectSafeStrings(result: ExtractionResult): void {
  expect(JSON.parse(JSON.stringify(result))).toEqual(result);
  for (const [path, text] of strings(result)) {
    if (path === "$.source") continue;
    expect(text.length, path).toBeLessThanOrEqual(MAX_FIELD_CHARS + 1);
    expect(text.includes("\0"), path).toBe(false);
    expect(LONE_SURROGATE.test(text), path).toBe(false);
  }
}

/**
 * A little-endian TIFF structure: IFD0 holds the ASCII entries (values after
 * the IFD) and, when given, ImageWidth/ImageLength as inline SHORTs.
 */
function tiffWithAscii(
  tags: readonly (readonly [number, Uint8Array])[],
  size?: [number, number],
): Uint8Array {
  const inline = size
    ? [
        concatBytes(u16le(0x0100), u16le(3), u32le(1), u16le(size[0]), u16le(0)),
        concatBytes(u16le(0x0101), u16le(3), u32le(1), u16le(size[1]), u16le(0)),
      ]
    : [];
  const ifdSize = 2 + (tags.length + inline.length) * 12 + 4;
  let valueOffset = 8 + ifdSize;
  const entries: Uint8Array[] = [...inline];
  const values: Uint8Array[] = [];
  for (const [tag, raw] of tags) {
    const value = concatBytes(raw, Uint8Array.of(0));
    entries.push(concatBytes(u16le(tag), u16le(2), u32le(value.byteLength), u32le(valueOffset)));
    values.push(value);
    valueOffset += value.byteLength;
  }
  return concatBytes("II", u16le(42), u32le(8), u16le(entries.length), ...entries, u32le(0), ...values);
}

function jpegWithExif(tiff: Uint8Array): Uint8Array {
  const app1 = concatBytes("Exif\0\0", tiff);
  const sof0 = concatBytes(
    Uint8Array.of(0xff, 0xc0),
    u16be(17),
    Uint8Array.of(8),
    u16be(48),
    u16be(64),
    Uint8Array.of(3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1),
  );
  return concatBytes(
    Uint8Array.of(0xff, 0xd8, 0xff, 0xe1),
    u16be(app1.byteLength + 2),
    app1,
    sof0,
    Uint8Array.of(0xff, 0xd9),
  );
}
function u16be(value: number): Uint8Array {
  const out = new Uint8Array(2);
  new DataView(out.buffer).setUint16(0, value, false);
  return out;
}

function synchsafe(value: number): Uint8Array {
  return Uint8Array.of((value >> 21) & 0x7f, (value >> 14) & 0x7f, (value >> 7) & 0x7f, value & 0x7f);
}

/** ID3v2.3 frames (encoding byte included in `body`) followed by a few silent MPEG-1 layer III frames. */
function mp3WithId3(frames: readonly (readonly [string, Uint8Array])[]): Uint8Array {
  const body = concatBytes(
    ...frames.map(([id, data]) => concatBytes(id, u32be(data.byteLength), u16be(0), data)),
  );
  const frame = concatBytes(Uint8Array.of(0xff, 0xfb, 0x90, 0x64), new Uint8Array(413));
  return concatBytes(
    "ID3",
    Uint8Array.of(3, 0, 0),
    synchsafe(body.byteLength),
    body,
    ...Array(20).fill(frame),
  );
}

/** A one-page PDF with a classic xref table and the given raw /Info dictionary body. */
function pdfWithInfo(info: Uint8Array): Uint8Array {
  const objects = [
    concatBytes("<< /Type /Catalog /Pages 2 0 R >>"),
    concatBytes("<< /Type /Pages /Kids [3 0 R] /Count 1 >>"),
    concatBytes("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>"),
    concatBytes("<< ", info, " >>"),
  ];
  const parts: Uint8Array[] = [concatBytes("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")];
  const offsets: number[] = [];
  let length = parts[0]?.byteLength ?? 0;
  objects.forEach((object, i) => {
    const part = concatBytes(`${i + 1} 0 obj\n`, object, "\nendobj\n");
    offsets.push(length);
    parts.push(part);
    length += part.byteLength;
  });
  const xref = [
    "xref\n",
    `0 ${objects.length + 1}\n`,
    "0000000000 65535 f \n",
    ...offsets.map((offset) => `${String(offset).padStart(10, "0")} 00000 n \n`),
    `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R /Info 4 0 R >>\nstartxref\n${length}\n%%EOF\n`,
  ].join("");
  return concatBytes(...parts, xref);
}

describe("metadata as attack text comes back as plain, bounded strings", () => {
  it("returns markup and control characters from EXIF verbatim but NUL-free, and truncates a long description", async () => {
    const bytes = jpegWithExif(
      tiffWithAscii([
        [0x010e, Buffer.from("D".repeat(60_000), "latin1")],
        [0x010f, Buffer.from(SCRIPT, "latin1")],
        [0x0110, Buffer.from(CONTROLS, "latin1")],
      ]),
    );
    const result = await run(bytes, "hostile.jpg");
    expectSafeStrings(result);
    expect(result.image?.exif?.make).toBe(SCRIPT);
    expect(result.image?.exif?.model).toMatch(/^a\u0001b\u0007c\u001bd\u007fe/);
    expect(result.image?.exif?.title?.length).toBe(MAX_FIELD_CHARS + 1);
  });

  it("survives a TIFF whose Make is a 1 MB string", async () => {
    const bytes = tiffWithAscii(
      [
        [0x0110, Buffer.from(IMG, "latin1")],
        [0x010f, Buffer.from(MEGABYTE, "latin1")],
      ],
      [640, 480],
    );
    const result = await run(bytes, "megabyte.tif");
    expectSafeStrings(result);
    expect(result.image).toMatchObject({ width: 640, height: 480 });
    expect(result.image?.exif?.model).toBe(IMG);
    // The value runs past the window read for TIFF metadata: cut, dropped or truncated are all safe.
    const make = result.image?.exif?.make;
    if (make !== undefined) expect(make).toMatch(/^A+…?$/);
    expect(result.bytesRead).toBeLessThan(bytes.byteLength);
  });

  it("returns a hostile ID3 title as a bounded string and survives invalid UTF-8", async () => {
    const bytes = mp3WithId3([
      [
        "TIT2",
        concatBytes(Uint8Array.of(3), Buffer.from(`${SCRIPT}${CONTROLS}${"T".repeat(200_000)}`, "utf8")),
      ],
      [
        "TPE1",
        concatBytes(Uint8Array.of(3), Uint8Array.of(0x41, 0xc3, 0x28, 0xff, 0xfe, 0xed, 0xa0, 0x80, 0x42)),
      ],
      ["TALB", concatBytes(Uint8Array.of(1), Uint8Array.of(0xff, 0xfe, 0x00, 0xd8, 0x41, 0x00))],
    ]);
    const result = await run(bytes, "hostile.mp3");
    expectSafeStrings(result);
    expect(result.media?.tags?.title?.startsWith(SCRIPT)).toBe(true);
    expect(result.media?.tags?.title?.length).toBe(MAX_FIELD_CHARS + 1);
  });

  it("returns a hostile PDF /Title verbatim and survives invalid UTF-8 and UTF-16 strings", async () => {
    const bytes = pdfWithInfo(
      concatBytes(
        `/Title (${IMG}) `,
        "/Author <FEFFD800004100420000> ",
        "/Subject (\xc3\x41\xff\xfe\xed\xa0\x80) ",
        `/Keywords (${"K".repeat(100_000)}) `,
        `/Creator (${CONTROLS.replace("\r\n", "")}) `,
      ),
    );
    const result = await run(bytes, "hostile.pdf");
    expectSafeStrings(result);
    expect(result.pdf?.title).toBe(IMG);
    expect(result.pdf?.keywords?.length).toBe(MAX_FIELD_CHARS + 1);
  });
});
