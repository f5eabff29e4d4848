import { describe, expect, it } from "vitest";
import { BufferSource } from "../../src/engine/byte-source/byte-source.js";
import { extract } from "../../src/engine/engine.js";
import { inline, TIFF_TYPE, TiffLayout } from "../support/tiff.js";

const { short, long } = TIFF_TYPE;

/** Grey 8-bit image data: 64 x 64, in `strips` strips of equal height laid out in order from byte 1024. */
const WIDTH = 64;
const HEIGHT = 64;
const DATA_AT = 1024;

/**
 * A little-endian TIFF with IFD0 at byte 8 and its image data after it, as
 * libtiff writes one; with more than one strip the offset and byte-count
 * arrays sit at bytes 256 and 512. With `tiles`, the same bytes are named as
 * tiles of 16 x 16 instead.
 */
function greyTiff({ strips = 1, tiles = false }: { strips?: number; tiles?: boolean }) {
  const parts = tiles ? (WIDTH / 16) * (HEIGHT / 16) : strips;
  const partBytes = (WIDTH * HEIGHT) / parts;
  const tiff = new TiffLayout(true, DATA_AT + WIDTH * HEIGHT);
  const offsetsTag = tiles ? 324 : 273;
  const countsTag = tiles ? 325 : 279;
  const array = (tag: number, at: number, value: (i: number) => number) => {
    if (parts === 1) return inline(tag, long, value(0));
    for (let i = 0; i < parts; i++) tiff.bytes.writeUInt32LE(value(i), at + i * 4);
    return { tag, type: long, count: parts, offset: at };
  };
  tiff.directory(8, [
    inline(256, short, WIDTH),
    inline(257, short, HEIGHT),
    inline(258, short, 8),
    inline(259, short, 1),
    inline(262, short, 1),
    ...(tiles ? [inline(322, short, 16), inline(323, short, 16)] : [inline(278, short, HEIGHT / strips)]),
    array(offsetsTag, 256, (i) => DATA_AT + i * partBytes),
    array(countsTag, 512, () => partBytes),
  ]);
  tiff.header(8);
  return tiff.bytes;
}

describe("a TIFF whose image data the file does not hold", () => {
  it.each([
    ["one strip", { strips: 1 }],
    ["eight strips", { strips: 8 }],
    ["16 tiles", { tiles: true }],
  ])("with %s, whole, is ok", async (_, layout) => {
    const result = await extract(new BufferSource(greyTiff(layout), "grey.tif"));
    expect(result.status).toBe("ok");
    expect(result.image).toMatchObject({ width: 64, height: 64, bitDepth: 8 });
  });

  it.each([
    ["one strip", { strips: 1 }],
    ["eight strips", { strips: 8 }],
    ["16 tiles", { tiles: true }],
  ])("with %s, cut halfway through its data, is truncated and keeps its size", async (_, layout) => {
    // Prepare: the directory and arrays whole, half of the 4 KiB of image data gone.
    const cut = greyTiff(layout).subarray(0, DATA_AT + 2048);
    // Act
    const result = await extract(new BufferSource(cut, "grey.tif"));
    // Assess
    expect(result.status).toBe("partial");
    expect(result.reason).toBe(
      `truncated: TIFF image data ends at ${DATA_AT + 4096}, the file has 3072 bytes`,
    );
    expect(result.image).toMatchObject({ width: 64, height: 64 });
  });

  it("whose strip offsets run past the end of the file is truncated", async () => {
    // Prepare: cut inside the strip byte-count array at byte 512.
    const cut = greyTiff({ strips: 8 }).subarray(0, 520);
    // Act
    const result = await extract(new BufferSource(cut, "grey.tif"));
    // Assess
    expect(result.status).toBe("partial");
    expect(result.reason).toBe("truncated: TIFF image data ends at 544, the file has 520 bytes");
  });
});
