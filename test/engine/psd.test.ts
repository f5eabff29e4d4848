import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { BufferSource } from "../../src/engine/byte-source/byte-source.js";
import { extract } from "../../src/engine/engine.js";
import { corpusFile } from "../support/corpus.js";

/**
 * A grey 8-bit PSD of `width` x `height` with empty color mode, resource and
 * layer sections; its image data RLE-compressed (PackBits), each row one
 * literal run, so the row byte counts are all `width + 1`.
 */
function rlePsd(width: number, height: number): Buffer {
  const header = Buffer.alloc(26);
  header.write("8BPS", 0, "latin1");
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(1, 12);
  header.writeUInt32BE(height, 14);
  header.writeUInt32BE(width, 18);
  header.writeUInt16BE(8, 22);
  header.writeUInt16BE(1, 24);
  const emptySections = Buffer.alloc(12);
  const compression = Buffer.from([0, 1]);
  const counts = Buffer.alloc(height * 2);
  const rows: Buffer[] = [];
  for (let row = 0; row < height; row++) {
    counts.writeUInt16BE(width + 1, row * 2);
    rows.push(Buffer.concat([Buffer.from([width - 1]), Buffer.alloc(width, row)]));
  }
  return Buffer.concat([header, emptySections, compression, counts, ...rows]);
}

async function extractPsd(bytes: Uint8Array) {
  return extract(new BufferSource(bytes, "cut.psd"), { name: "cut.psd" });
}

describe("a Photoshop file cut short", () => {
  it("is partial, its size kept, when its raw image data ends past the end of the file", async () => {
    // Prepare: the corpus PSD (raw image data to its last byte), whole, halved and one byte short.
    const bytes = readFileSync(corpusFile("filetype-fixture.psd"));

    // Act
    const whole = await extractPsd(bytes);
    const half = await extractPsd(bytes.subarray(0, bytes.byteLength / 2));
    const lastByte = await extractPsd(bytes.subarray(0, bytes.byteLength - 1));

    // Assess
    expect(whole.status).toBe("ok");
    for (const cut of [half, lastByte]) {
      expect(cut.status).toBe("partial");
      expect(cut.reason).toMatch(/^truncated: PSD image data ends at 103748, the file has \d+ bytes$/);
      expect(cut.image).toMatchObject({ width: whole.image?.width, height: whole.image?.height });
    }
  });

  it("is partial when its RLE rows, as their byte counts state them, end past the end of the file", async () => {
    // Prepare: 16 x 8 in RLE rows of 17 bytes each: 26 + 12 + 2 + 16 + 136 = 192 bytes.
    const bytes = rlePsd(16, 8);

    // Act
    const whole = await extractPsd(bytes);
    const cut = await extractPsd(bytes.subarray(0, bytes.byteLength - 10));
    const countsCut = await extractPsd(bytes.subarray(0, 50));

    // Assess
    expect(bytes.byteLength).toBe(192);
    expect(whole.status).toBe("ok");
    expect(whole.image).toMatchObject({ width: 16, height: 8, colorType: "grayscale" });
    expect(cut.status).toBe("partial");
    expect(cut.reason).toBe("truncated: PSD image data ends at 192, the file has 182 bytes");
    expect(countsCut.status).toBe("partial");
    expect(countsCut.reason).toBe("truncated: PSD image data ends at 56, the file has 50 bytes");
  });
});
