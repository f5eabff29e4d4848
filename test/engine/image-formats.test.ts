import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { BufferSource } from "../../src/engine/byte-source/byte-source.js";
import { extract } from "../../src/engine/engine.js";
import { corpusFile } from "../support/corpus.js";

/** Runs the whole engine over bytes held in memory, as an upload of that name would. */
function extractBytes(bytes: Uint8Array, name: string) {
  return extract(new BufferSource(bytes, name), { name });
}

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
