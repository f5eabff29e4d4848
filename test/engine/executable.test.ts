import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { BufferSource, type ExtractionResult, extract, FileSource } from "../../src/engine/index.js";
import { buildElf } from "../support/elf.js";

/** Little builder for synthetic headers: write integers at offsets in a zeroed buffer. */
function bytes(size: number, writes: (view: DataView, raw: Uint8Array) => void): Uint8Array {
  const raw = new Uint8Array(size);
  writes(new DataView(raw.buffer), raw);
  return raw;
}

function elf(bits: 32 | 64, little: boolean, type: number, machine: number): Uint8Array {
  return bytes(bits === 64 ? 64 : 52, (view, raw) => {
    raw.set([0x7f, 0x45, 0x4c, 0x46, bits === 64 ? 2 : 1, little ? 1 : 2, 1]);
    view.setUint16(16, type, little);
    view.setUint16(18, machine, little);
    view.setUint32(20, 1, little);
  });
}

function pe(machine: number, optionalMagic: number, characteristics: number): Uint8Array {
  return bytes(0x200, (view, raw) => {
    raw.set([0x4d, 0x5a]);
    view.setUint32(0x3c, 0x80, true);
    raw.set([0x50, 0x45, 0, 0], 0x80);
    view.setUint16(0x84, machine, true);
    view.setUint16(0x80 + 20, 240, true); // SizeOfOptionalHeader
    view.setUint16(0x80 + 22, characteristics, true);
    view.setUint16(0x80 + 24, optionalMagic, true);
  });
}

function macho(magic: number, little: boolean, cpu: number, fileType: number): Uint8Array {
  return bytes(32, (view) => {
    view.setUint32(0, magic, false);
    view.setInt32(4, cpu, little);
    view.setUint32(12, fileType, little);
  });
}

/**
 * An ELF64 little-endian x86-64 shared object with one PT_DYNAMIC program
 * header whose dynamic section says DF_1_PIE; `padTo` grows the file.
 */
function elfPie(programHeader: { entrySize: number; count: number }, padTo = 0): Uint8Array {
  const dynamicAt = 64 + 56;
  return bytes(Math.max(dynamicAt + 32, padTo), (view, raw) => {
    raw.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
    view.setUint16(16, 3, true); // ET_DYN
    view.setUint16(18, 62, true);
    view.setUint32(20, 1, true);
    view.setBigUint64(32, 64n, true); // e_phoff
    view.setUint16(54, programHeader.entrySize, true);
    view.setUint16(56, programHeader.count, true);
    view.setUint32(64, 2, true); // PT_DYNAMIC
    view.setBigUint64(64 + 8, BigInt(dynamicAt), true);
    view.setBigUint64(64 + 32, 32n, true);
    view.setBigInt64(dynamicAt, 0x6ffffffbn, true); // DT_FLAGS_1
    view.setBigUint64(dynamicAt + 8, 0x08000000n, true); // DF_1_PIE
  });
}

const universal = bytes(8 + 2 * 20 + 64, (view) => {
  view.setUint32(0, 0xcafebabe);
  view.setUint32(4, 2);
  view.setInt32(8, 0x01000007);
  view.setInt32(28, 0x0100000c);
});

const wasm = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);

const SYNTHETIC: ReadonlyArray<
  readonly [label: string, data: Uint8Array, expected: Record<string, unknown>]
> = [
  [
    "ELF64 little-endian x86-64 executable",
    elf(64, true, 2, 62),
    { format: "elf", architecture: "x86-64", bits: 64, endianness: "little", type: "executable" },
  ],
  [
    "ELF32 big-endian ARM relocatable",
    elf(32, false, 1, 40),
    { format: "elf", architecture: "arm", bits: 32, endianness: "big", type: "relocatable" },
  ],
  [
    "ELF64 AArch64 shared object",
    elf(64, true, 3, 183),
    { format: "elf", architecture: "aarch64", bits: 64, type: "shared-object" },
  ],
  ["ELF64 RISC-V core dump", elf(64, true, 4, 243), { format: "elf", architecture: "riscv", type: "core" }],
  [
    "PE32 i386 executable",
    pe(0x14c, 0x10b, 0x0102),
    { format: "pe", architecture: "i386", bits: 32, endianness: "little", type: "executable" },
  ],
  [
    "PE32+ x86-64 DLL",
    pe(0x8664, 0x20b, 0x2022),
    { format: "pe", architecture: "x86-64", bits: 64, type: "dll" },
  ],
  ["PE32+ ARM64 executable", pe(0xaa64, 0x20b, 0x0022), { format: "pe", architecture: "aarch64", bits: 64 }],
  [
    "Mach-O 64 arm64 executable",
    macho(0xcffaedfe, true, 0x0100000c, 2),
    { format: "mach-o", architecture: "arm64", bits: 64, endianness: "little", type: "executable" },
  ],
  [
    "Mach-O 32 i386 dylib",
    macho(0xcefaedfe, true, 7, 6),
    { format: "mach-o", architecture: "i386", bits: 32, type: "dylib" },
  ],
  [
    "Mach-O 32 big-endian PowerPC bundle",
    macho(0xfeedface, false, 18, 8),
    { format: "mach-o", architecture: "powerpc", bits: 32, endianness: "big", type: "bundle" },
  ],
  [
    "universal x86-64 + arm64",
    universal,
    { format: "mach-o", type: "universal", architecture: "x86-64, arm64" },
  ],
  ["WebAssembly module", wasm, { format: "wasm" }],
];

describe("executable headers", () => {
  it.each(SYNTHETIC)("%s", async (_label, data, expected) => {
    const result = await extract(new BufferSource(data, "bin"));
    expect(result.format.category).toBe("executable");
    expect(result.status).toBe("ok");
    expect(result.executable).toEqual(expect.objectContaining(expected));
  });

  it.each([
    [
      "/bin/ls",
      { format: "elf", architecture: "x86-64", bits: 64, endianness: "little", type: "pie-executable" },
    ],
    [
      "/usr/lib/x86_64-linux-gnu/libc.so.6",
      { format: "elf", architecture: "x86-64", bits: 64, endianness: "little", type: "shared-object" },
    ],
  ] as const)("%s, as file(1) describes it, from a few KiB", async (path, expected) => {
    if (!existsSync(path) || process.arch !== "x64") return;
    const source = await FileSource.open(path);
    let result: ExtractionResult;
    try {
      result = await extract(source);
    } finally {
      await source.close();
    }
    expect(result.format.mime).toBe("application/x-elf");
    expect(result.executable).toMatchObject(expected);
    // The head, then the section headers at the end of the file (the program headers, interpreter and notes lie in the head).
    expect(result.bytesRead).toBeLessThanOrEqual(128 * 1024);
    expect(result.readRequests).toBeLessThanOrEqual(4);
  });

  it("tells a position-independent executable by DF_1_PIE in its dynamic section", async () => {
    const result = await extract(new BufferSource(elfPie({ entrySize: 56, count: 1 }), "pie"));
    expect(result.status).toBe("ok");
    expect(result.executable).toEqual(expect.objectContaining({ format: "elf", type: "pie-executable" }));
  });

  it("refuses a program header entry size other than the class's, before reading the table", async () => {
    // Prepare: 4096 entries of 65535 bytes each would be a 256 MiB read; the file is 1 MiB.
    const data = elfPie({ entrySize: 65535, count: 4096 }, 1024 * 1024);

    // Act
    const result = await extract(new BufferSource(data, "wide-entries"));

    // Assess: what the ELF header gave is kept, the reason names the field, the table is not read.
    expect(result.status).toBe("partial");
    expect(result.reason).toBe("ELF header: program header entry size 65535, not the 56 bytes of ELF64");
    expect(result.executable).toEqual(
      expect.objectContaining({ format: "elf", architecture: "x86-64", bits: 64, type: "shared-object" }),
    );
    expect(result.bytesRead).toBeLessThanOrEqual(64 * 1024);
  });

  it.each([
    [64, true, 62, "x86-64"],
    [64, false, 21, "powerpc64"],
    [32, true, 3, "i386"],
    [32, false, 8, "mips"],
  ] as const)(
    "reads the program header count of ELF%i (little-endian: %s) with PN_XNUM from section header 0",
    async (bits, little, machine, architecture) => {
      // Prepare: 65,536 program headers, more than e_phnum can state.
      const data = buildElf({ bits, little, machine, count: 65_536, extended: true });

      // Act
      const result = await extract(new BufferSource(data, "many-segments.so"));

      // Assess: the table is read, as far as the bound on program headers looked at.
      expect(result.status).toBe("ok");
      expect(result.executable).toMatchObject({
        format: "elf",
        architecture,
        bits,
        endianness: little ? "little" : "big",
        type: "pie-executable",
        linking: "static-pie",
      });
      expect(result.warnings).toEqual(["ELF: 65536 program headers; the first 4096 were looked at"]);
      expect(result.limit).toBe("entries");
      // 4096 entries of the table and a few blocks around it, not the whole table of 65,536.
      expect(result.bytesRead).toBeLessThanOrEqual(4096 * 56 + 64 * 1024);
    },
  );

  it("takes a PN_XNUM count below the bound from section header 0 as it is", async () => {
    const result = await extract(
      new BufferSource(buildElf({ bits: 64, little: true, machine: 62, count: 3, extended: true }), "pie"),
    );
    expect(result.status).toBe("ok");
    expect(result.warnings).toEqual([]);
    expect(result.executable).toEqual(expect.objectContaining({ type: "pie-executable" }));
  });

  it("looks at the first 4096 of more program headers that e_phnum states itself", async () => {
    const result = await extract(
      new BufferSource(buildElf({ bits: 32, little: true, machine: 3, count: 5000 }), "many-segments.so"),
    );
    expect(result.status).toBe("ok");
    expect(result.executable).toEqual(expect.objectContaining({ type: "pie-executable" }));
    expect(result.warnings).toEqual(["ELF: 5000 program headers; the first 4096 were looked at"]);
  });

  it.each([
    [
      "no section header table",
      { sectionHeaderOffset: 0 },
      "ELF header: e_phnum is PN_XNUM but there is no section header table",
    ],
    [
      "a section header entry size other than the class's",
      { sectionHeaderSize: 65535 },
      "ELF header: section header entry size 65535, not the 64 bytes of ELF64",
    ],
    [
      "section header 0 cut by the end of the file",
      { sectionHeaderOffset: 64 + 56 + 32 + 8 },
      "ELF: section header 0 runs past the end of the file",
    ],
    [
      "a section header offset past the end of the file",
      { sectionHeaderOffset: 2 ** 40 },
      `truncated or damaged: ELF section header table at byte ${2 ** 40} lies past the end of the file (${64 + 56 + 32 + 64} bytes)`,
    ],
  ])("keeps the ELF header of a PN_XNUM file with %s, and says why", async (_label, damage, reason) => {
    const data = buildElf({ bits: 64, little: true, machine: 62, count: 1, extended: true, ...damage });
    const result = await extract(new BufferSource(data, "damaged.so"));
    expect(result.status).toBe("partial");
    expect(result.reason).toBe(reason);
    expect(result.executable).toEqual(
      expect.objectContaining({ format: "elf", architecture: "x86-64", bits: 64, type: "shared-object" }),
    );
  });

  it("never throws on truncated or corrupted headers", async () => {
    for (const [, data] of SYNTHETIC) {
      for (let cut = 1; cut <= data.length; cut += 3) {
        const result = await extract(new BufferSource(data.subarray(0, cut), "cut"));
        expect(["ok", "partial", "error"]).toContain(result.status);
      }
    }
    // e_lfanew pointing past the end and a universal binary claiming many archs.
    const farPe = pe(0x14c, 0x10b, 0x0102);
    new DataView(farPe.buffer).setUint32(0x3c, 0x7fffffff, true);
    const manyArchs = universal.slice();
    new DataView(manyArchs.buffer).setUint32(4, 10); // more than the table holds
    for (const data of [farPe, manyArchs]) {
      const result = await extract(new BufferSource(data, "bad"));
      expect(result.status).toBe("error");
      expect(result.reason).toBeDefined();
    }
  });
});
