/**
 * Netpbm images (PBM, PGM, PPM, plain and raw, and PAM), made from corpus
 * photos by the netpbm tools themselves, and read back as `pamfile`
 * describes them; then headers the tools would not write: comments between
 * the fields, a raster cut short, and text that only starts like one.
 */
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { BufferSource } from "../../src/engine/byte-source/byte-source.js";
import { extract } from "../../src/engine/engine.js";
import { corpusFile } from "../support/corpus.js";
import { describeWith } from "../support/tools.js";

/** Runs a pipeline of netpbm commands from a file, each an argument list; stdout of the last. */
function netpbm(input: string, ...commands: string[][]): Buffer {
  let bytes: Buffer | undefined;
  for (const [index, [program = "", ...args]] of commands.entries()) {
    const run = spawnSync(program, index === 0 ? [...args, input] : args, {
      ...(bytes && { input: bytes }),
      maxBuffer: 64 * 1024 * 1024,
    });
    if (run.status !== 0) throw new Error(`${program} failed: ${run.stderr}`);
    bytes = run.stdout;
  }
  return bytes as Buffer;
}

/** `pamfile`'s account of an image: its kind ("PPM raw"), size and maxval, or PAM's depth and tuple type. */
function pamfile(bytes: Buffer): string {
  return spawnSync("pamfile", [], { input: bytes, encoding: "utf8" }).stdout.trim();
}

const extractNamed = (bytes: Uint8Array, name: string) => extract(new BufferSource(bytes, name), { name });

const PHOTO = corpusFile("exifpy-Canon_40D.jpg");
const ALPHA = corpusFile("sharp-Flag_of_the_Netherlands-alpha.png");

describeWith(
  "pngtopam",
  "jpegtopnm",
  "pamfile",
)("Netpbm images from the netpbm tools", () => {
  it.each([
    [
      "a raw PPM",
      PHOTO,
      [["jpegtopnm"]],
      "image/x-portable-pixmap",
      "ppm",
      8,
      "rgb",
      "PPM raw, 100 by 68  maxval 255",
    ],
    [
      "a plain PPM",
      PHOTO,
      [["jpegtopnm"], ["pnmtoplainpnm"]],
      "image/x-portable-pixmap",
      "ppm",
      8,
      "rgb",
      "PPM plain, 100 by 68  maxval 255",
    ],
    [
      "a 16-bit PPM",
      PHOTO,
      [["jpegtopnm"], ["pamdepth", "65535"]],
      "image/x-portable-pixmap",
      "ppm",
      16,
      "rgb",
      "PPM raw, 100 by 68  maxval 65535",
    ],
    [
      "a raw PGM",
      PHOTO,
      [["jpegtopnm"], ["ppmtopgm"]],
      "image/x-portable-graymap",
      "pgm",
      8,
      "grayscale",
      "PGM raw, 100 by 68  maxval 255",
    ],
    [
      "a plain PGM",
      PHOTO,
      [["jpegtopnm"], ["ppmtopgm"], ["pnmtoplainpnm"]],
      "image/x-portable-graymap",
      "pgm",
      8,
      "grayscale",
      "PGM plain, 100 by 68  maxval 255",
    ],
    [
      "a raw PBM",
      PHOTO,
      [["jpegtopnm"], ["ppmtopgm"], ["pgmtopbm"]],
      "image/x-portable-bitmap",
      "pbm",
      1,
      "bilevel",
      "PBM raw, 100 by 68",
    ],
    [
      "a plain PBM",
      PHOTO,
      [["jpegtopnm"], ["ppmtopgm"], ["pgmtopbm"], ["pnmtoplainpnm"]],
      "image/x-portable-bitmap",
      "pbm",
      1,
      "bilevel",
      "PBM plain, 100 by 68",
    ],
    [
      "a PAM with alpha",
      ALPHA,
      [["pngtopam", "-alphapam"]],
      "image/x-portable-arbitrarymap",
      "pam",
      8,
      "rgb_alpha",
      "PAM, 900 by 600 by 4 maxval 255",
    ],
  ] as const)(
    "reads %s as pamfile describes it",
    async (_, input, commands, mime, ext, bitDepth, colorType, described) => {
      // Prepare
      const bytes = netpbm(input, ...commands.map((command) => [...command]));
      expect(pamfile(bytes)).toContain(described);
      const [width, height] = (/(\d+) by (\d+)/.exec(described) ?? []).slice(1).map(Number);
      // Act
      const result = await extractNamed(bytes, `photo.${ext}`);
      // Assess
      expect(result.status, result.reason).toBe("ok");
      expect(result.format).toMatchObject({ mime, ext, category: "image", mismatch: false });
      expect(result.image).toEqual({ width, height, bitDepth, colorType });
    },
  );

  it("says a raw raster cut short is truncated, and keeps the size its header gives", async () => {
    // Prepare: a 100 x 68 PPM (20,400 bytes of raster) cut halfway.
    const whole = netpbm(PHOTO, ["jpegtopnm"]);
    const cut = whole.subarray(0, whole.byteLength / 2);
    // Act
    const result = await extractNamed(cut, "cut.ppm");
    // Assess
    expect(result.status).toBe("partial");
    expect(result.reason).toMatch(
      /^truncated: Netpbm raster of 20400 bytes, the file has \d+ after its header$/,
    );
    expect(result.image).toMatchObject({ width: 100, height: 68 });
  });
});

describe("Netpbm headers", () => {
  it("reads one whose fields are parted by comments and runs of whitespace", async () => {
    const bytes = Buffer.from("P2\n# made by hand\n  3\t# width\n2\n# maxval next\n15\n0 1 2\n3 4 5\n");
    const result = await extractNamed(bytes, "hand.pgm");
    expect(result.format.mime).toBe("image/x-portable-graymap");
    expect(result.image).toEqual({ width: 3, height: 2, bitDepth: 4, colorType: "grayscale" });
  });

  it("takes a PAM without a tuple type by its depth alone", async () => {
    const bytes = Buffer.from("P7\nWIDTH 2\nHEIGHT 1\nDEPTH 1\nMAXVAL 255\n# no TUPLTYPE\nENDHDR\n\x00\xff");
    const result = await extractNamed(bytes, "plain.pam");
    expect(result.status, result.reason).toBe("ok");
    expect(result.image).toEqual({ width: 2, height: 1, bitDepth: 8 });
  });

  it.each([
    ["a sentence that starts with P1", "P1 is the first point of the survey.\n"],
    ["a magic number not followed by whitespace", "P6x 2 2 255\n"],
    ["a width of zero", "P5\n0 2\n255\n\x00\x00"],
    ["a maxval past 65535", "P5\n1 1\n65536\n\x00\x00"],
    ["a header with no whitespace after its last field", "P6\n1 1\n255"],
    ["a PAM whose header never ends", "P7\nWIDTH 1\nHEIGHT 1\nDEPTH 3\nMAXVAL 255\n"],
    [
      "a PAM with a line that is no field",
      "P7\nWIDTH 1\nHEIGHT 1\nCOLOUR red\nDEPTH 3\nMAXVAL 255\nENDHDR\n\x00\x00\x00",
    ],
  ])("does not take %s for an image", async (_, text) => {
    const result = await extractNamed(Buffer.from(text, "latin1"), "notes.txt");
    expect(result.format.category).not.toBe("image");
  });

  it("agrees with a declared portable anymap type and a .pnm name", async () => {
    const bytes = Buffer.from("P3\n1 1\n255\n255 0 0\n");
    const result = await extract(new BufferSource(bytes, "red.pnm"), {
      name: "red.pnm",
      declaredMime: "image/x-portable-anymap",
    });
    expect(result.format).toMatchObject({ mime: "image/x-portable-pixmap", mismatch: false });
  });
});
