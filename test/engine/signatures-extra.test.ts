import { describe, expect, it } from "vitest";
import { BufferSource, extract } from "../../src/engine/index.js";

/** The 16-byte header Python 3.7 and later write, then the start of a marshalled code object. */
function pyc(magic: number, flags = 0): Uint8Array {
  const bytes = new Uint8Array(64);
  const view = new DataView(bytes.buffer);
  view.setUint16(0, magic, true);
  bytes.set([0x0d, 0x0a], 2);
  view.setUint32(4, flags, true);
  view.setUint32(8, 1_700_000_000, true);
  view.setUint32(12, 1234, true);
  bytes[16] = 0xe3;
  return bytes;
}

/** An empty GNU gettext catalog: magic, revision 0, no strings, table offsets past the header. */
function mo(littleEndian: boolean): Uint8Array {
  const bytes = new Uint8Array(28);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, 0x950412de, littleEndian);
  view.setUint32(12, 28, littleEndian);
  view.setUint32(16, 28, littleEndian);
  return bytes;
}

async function formatOf(bytes: Uint8Array, name: string) {
  return (await extract(new BufferSource(bytes, name), { name })).format;
}

describe("formats file-type does not know", () => {
  // `file --mime-type` (5.44) on the same bytes: application/x-bytecode.python, application/x-gettext-translation.
  it.each([
    ["Python 3.11", 3495],
    ["Python 3.12", 3531],
    ["Python 3.13", 3571],
  ])("a module compiled by %s is Python bytecode", async (_label, magic) => {
    const format = await formatOf(pyc(magic), "module.cpython.pyc");
    expect(format).toMatchObject({
      mime: "application/x-python-bytecode",
      ext: "pyc",
      category: "executable",
    });
  });

  it("a module compiled by Python 2.7 is Python bytecode", async () => {
    const bytes = new Uint8Array(32);
    bytes.set([0x03, 0xf3, 0x0d, 0x0a]);
    bytes[8] = 0x63;
    expect(await formatOf(bytes, "module.pyc")).toMatchObject({ mime: "application/x-python-bytecode" });
  });

  it("text whose first line is one character ending in \\r\\r\\n is text, not bytecode", async () => {
    const bytes = new TextEncoder().encode(`a\r\r\n${"more text here\r\r\n".repeat(4)}`);
    expect(await formatOf(bytes, "notes.txt")).toMatchObject({ category: "text" });
  });

  it.each([
    ["little-endian", true],
    ["big-endian", false],
  ])("a %s gettext catalog is a gettext translation", async (_label, littleEndian) => {
    const format = await formatOf(mo(littleEndian), "messages.mo");
    expect(format).toMatchObject({ mime: "application/x-gettext-translation", ext: "mo", mismatch: false });
  });
});
