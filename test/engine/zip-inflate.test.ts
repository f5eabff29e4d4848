import { deflateRawSync } from "node:zlib";
import { ZipHandler } from "@tokenizer/inflate";
import { describe, expect, it } from "vitest";
import { BlockReader } from "../../src/engine/byte-source/block-reader.js";
import { BufferSource } from "../../src/engine/byte-source/byte-source.js";
import { detectFormat } from "../../src/engine/detect/detect.js";
import { MAX_INFLATED_ZIP_ENTRY_BYTES } from "../../src/engine/detect/zip-inflate.js";

/** A ZIP holding one entry (local header and data only, as file-type reads it), deflated unless `stored`. */
function zipOf(name: string, content: Uint8Array, options: { stored?: boolean; declaredSize?: number } = {}) {
  const data = options.stored ? content : deflateRawSync(content);
  const header = Buffer.alloc(30);
  header.writeUInt32LE(0x04034b50, 0);
  header.writeUInt16LE(20, 4);
  header.writeUInt16LE(options.stored ? 0 : 8, 8);
  header.writeUInt32LE(data.byteLength, 18);
  header.writeUInt32LE(options.declaredSize ?? content.byteLength, 22);
  header.writeUInt16LE(Buffer.byteLength(name), 26);
  return new Uint8Array(Buffer.concat([header, Buffer.from(name), data]));
}

function detect(bytes: Uint8Array) {
  return detectFormat(new BlockReader(new BufferSource(bytes, "entry.zip")));
}

const epubMimetype = new TextEncoder().encode("application/epub+zip");

describe("ZIP entries inflated during detection", () => {
  it("reads a deflated entry: an EPUB's mimetype names it", async () => {
    expect(await detect(zipOf("mimetype", epubMimetype))).toMatchObject({ mime: "application/epub+zip" });
  });

  it("reads a stored entry as it is", async () => {
    expect(await detect(zipOf("mimetype", epubMimetype, { stored: true }))).toMatchObject({
      mime: "application/epub+zip",
    });
  });

  it("stops an entry that inflates past the limit, and the file is still a zip", async () => {
    // Prepare: a small declared size, as a hostile file would state, over a deflate stream that keeps going.
    const bomb = zipOf("mimetype", new Uint8Array(MAX_INFLATED_ZIP_ENTRY_BYTES + 1).fill(0x20), {
      declaredSize: 20,
    });
    // Act
    const format = await detect(bomb);
    // Assess
    expect(bomb.byteLength).toBeLessThan(8 * 1024);
    expect(format).toMatchObject({ mime: "application/zip", ext: "zip" });
  });

  it("treats a corrupt deflate stream as a plain zip", async () => {
    const zip = zipOf("mimetype", epubMimetype);
    zip.fill(0xff, 30 + "mimetype".length);
    expect(await detect(zip)).toMatchObject({ mime: "application/zip" });
  });

  it("treats a deflate stream cut short as a plain zip", async () => {
    const zip = zipOf(
      "mimetype",
      new Uint8Array(4096).map((_, i) => (i * 7919) % 251),
    );
    expect(await detect(zip.subarray(0, zip.byteLength - 200))).toMatchObject({ mime: "application/zip" });
  });

  it("is the inflation file-type calls (one copy of @tokenizer/inflate, the synchronous hook installed)", () => {
    expect((ZipHandler.prototype as unknown as { inflate: () => unknown }).inflate.name).toBe("inflateEntry");
  });
});
