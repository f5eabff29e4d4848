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

  // CPython's magic numbers: 3.6 writes 3379 and a 12-byte header (magic, time, size), 3.2 writes 3180 and
  // an 8-byte one (magic, time); `file` calls them "python 3.6 byte-compiled" and "python 3.2 byte-compiled".
  it.each([
    ["Python 3.3", 3230, 12],
    ["Python 3.6", 3379, 12],
    ["Python 3.2", 3180, 8],
  ])(
    "a module compiled by %s, with its shorter header, is Python bytecode",
    async (_label, magic, header) => {
      // Prepare: the header as that version writes it, the time where 3.7 has its flags.
      const bytes = new Uint8Array(64);
      const view = new DataView(bytes.buffer);
      view.setUint16(0, magic, true);
      bytes.set([0x0d, 0x0a], 2);
      view.setUint32(4, 1_600_000_000, true);
      if (header === 12) view.setUint32(8, 2_345, true);
      bytes[header] = 0xe3;
      // Act
      const format = await formatOf(bytes, "robotparser.cpython-36.pyc");
      // Assess
      expect(format).toMatchObject({ mime: "application/x-python-bytecode", ext: "pyc", mismatch: false });
    },
  );

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

describe("magic numbers file-type takes on little evidence", () => {
  it("a GTK icon cache, which begins as a TrueType font does, is no font", async () => {
    // Prepare: the header of /usr/share/icons/hicolor/icon-theme.cache (version 1.0, then its offsets).
    const bytes = new Uint8Array(512);
    bytes.set([
      0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x01, 0x44, 0x00, 0x00, 0x00, 0x0b,
    ]);
    // Act
    const format = await formatOf(bytes, "icon-theme.cache");
    // Assess: `file` says "data".
    expect(format).toMatchObject({ mime: "application/octet-stream", category: "other" });
  });

  it("a GObject typelib whose byte 188 is 0x47 by chance is no MPEG transport stream", async () => {
    // Prepare: "GOBJ\nMETADATA\r\n\x1a" as typelibs begin, 0x47 at 188 and not at 376.
    const bytes = new Uint8Array(2048);
    bytes.set(new TextEncoder().encode("GOBJ\nMETADATA\r\n\x1a"));
    bytes[188] = 0x47;
    bytes[376] = 0x09;
    // Act
    const format = await formatOf(bytes, "GIRepository-2.0.typelib");
    // Assess: `file` says "G-IR binary database".
    expect(format.mime).not.toBe("video/mp2t");
  });

  it.each([
    ["a transport stream", 0, 188, "clip.ts"],
    ["a Blu-ray BDAV stream", 4, 192, "00000.m2ts"],
  ])("%s, synced at every packet, stays one", async (_label, first, stride, name) => {
    // Prepare: ten packets, each starting with the sync byte (an empty PID 0x1FFF payload).
    const bytes = new Uint8Array(10 * stride);
    for (let at = first; at < bytes.byteLength; at += stride) bytes.set([0x47, 0x1f, 0xff, 0x10], at);
    // Act
    const format = await formatOf(bytes, name);
    // Assess
    expect(format).toMatchObject({ mime: "video/mp2t", category: "video" });
  });
});
