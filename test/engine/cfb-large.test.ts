import { describe, expect, it } from "vitest";
import { BufferSource, extract } from "../../src/engine/index.js";
import { buildCfb } from "../support/cfb.js";

/**
 * Compound files past the ~7 MB the header's 109 FAT sectors map: the rest of
 * the FAT is listed in DIFAT sectors, and Word writes its directory after the
 * streams, so a large .doc or .ppt has its directory there.
 */

function run(bytes: Uint8Array, name: string) {
  return extract(new BufferSource(bytes, name), { name });
}

/** Word's main stream: a FIB whose flags say encrypted (fEncrypted, bit 8 of the word at 0x0A). */
function encryptedFib(): Uint8Array {
  const fib = new Uint8Array(4096);
  fib[11] = 0x01;
  return fib;
}

/** Embedded pictures and the like: 8 MiB of stream before the one that matters. */
const BULK = { name: "Data", content: new Uint8Array(8 * 1024 * 1024).fill(0x5a) };

describe("compound files larger than the header's FAT sectors map", () => {
  it("reads a directory written after 8 MiB of streams", async () => {
    // Four entries to a directory sector, the root first: WordDocument's is in the second one.
    const bytes = buildCfb(
      [
        BULK,
        { name: "1Table", content: "table" },
        { name: "\x01CompObj", content: "compobj" },
        { name: "WordDocument", content: encryptedFib() },
      ],
      { directoryLast: true },
    );
    expect(bytes.byteLength).toBeGreaterThan(109 * 128 * 512);
    const result = await run(bytes, "thesis.doc");
    expect(result.status).toBe("ok");
    expect(result.warnings).toEqual([]);
    expect(result.document).toEqual({ kind: "cfb", application: "Microsoft Word", encrypted: true });
    expect(result.format).toMatchObject({ mime: "application/msword", mismatch: false });
  });

  it("follows a stream's chain into sectors only DIFAT-listed FAT sectors map", async () => {
    const vba = {
      name: "Macros",
      children: [
        {
          name: "VBA",
          children: [
            { name: "dir", content: new Uint8Array(5000) },
            { name: "_VBA_PROJECT", content: new Uint8Array(5000) },
          ],
        },
      ],
    };
    const bytes = buildCfb([BULK, { name: "WordDocument", content: encryptedFib() }, vba], {
      directoryLast: true,
      scattered: true,
    });
    const result = await run(bytes, "thesis.doc");
    expect(result.document).toMatchObject({ application: "Microsoft Word", encrypted: true, macros: true });
  });

  it("ends on a DIFAT chain that loops, however many sectors the header claims", async () => {
    const bytes = Buffer.from(buildCfb([BULK, { name: "WordDocument", content: encryptedFib() }]));
    const difat = bytes.readUInt32LE(68);
    bytes.writeUInt32LE(0xffffffff - 6, 72);
    bytes.writeUInt32LE(difat, (difat + 1) * 512 + 508);
    const result = await run(bytes, "thesis.doc");
    expect(result.document).toMatchObject({ application: "Microsoft Word" });
  });

  it("finds a VBA project in the last of 60 embedded objects, past the first 128 entries", async () => {
    const vba = {
      name: "VBA",
      children: [
        { name: "dir", content: "dir" },
        { name: "_VBA_PROJECT", content: "project" },
      ],
    };
    const objects = Array.from({ length: 60 }, (_, i) => ({
      name: `_${1_000_000 + i}`,
      children: [
        { name: "\x01Ole", content: "ole" },
        { name: "\x01CompObj", content: "compobj" },
        ...(i === 59 ? [vba] : [{ name: "CONTENTS", content: "contents" }]),
      ],
    }));
    const bytes = buildCfb([
      { name: "WordDocument", content: new Uint8Array(4096) },
      { name: "ObjectPool", children: objects },
    ]);
    const result = await run(bytes, "report.doc");
    expect(result.warnings).toEqual([]);
    expect(result.document).toMatchObject({ application: "Microsoft Word", macros: true });
  });

  it("says so when the directory goes on past its budget", async () => {
    const streams = Array.from({ length: 2100 }, (_, i) => ({ name: `s${i}`, content: "x" }));
    const result = await run(
      buildCfb([{ name: "WordDocument", content: new Uint8Array(4096) }, ...streams]),
      "a.doc",
    );
    expect(result.document).toMatchObject({ application: "Microsoft Word" });
    expect(result.warnings).toEqual([
      "CFB directory longer than 512 sectors (or looping): entries past them not read",
    ]);
  });
});
