/**
 * Executable headers read by hand: the facts wanted here sit in a few dozen
 * bytes of each format's header, less than any binary-analysis library would
 * need to be handed.
 */
import { ContentError } from "../../errors.js";
import { boundedLength, cleanString, withinFile } from "../../limits.js";
import { textDecoder } from "../../text-decoder.js";
import type { ExecutableInfo, Sections } from "../../types.js";
import type { ExtractContext } from "../extractor.js";
import { describePe } from "./pe.js";

/** Program headers looked at for PT_DYNAMIC; a table with more has the rest left unread, with a warning. */
const MAX_PROGRAM_HEADERS = 4096;

/**
 * Program-header entry size the ELF specification fixes for each class;
 * readelf and file(1) refuse a header that states another.
 */
const PROGRAM_HEADER_BYTES = { 32: 32, 64: 56 } as const;

/** Section-header entry size the ELF specification fixes for each class. */
const SECTION_HEADER_BYTES = { 32: 40, 64: 64 } as const;

/**
 * e_phnum of a file with 65,535 or more program headers: the count is then
 * section header 0's sh_info (ELF gABI, "Extended Program Header Numbering").
 */
const PN_XNUM = 0xffff;

/** Dynamic-section bytes scanned for DT_FLAGS_1. */
const MAX_DYNAMIC_BYTES = 64 * 1024;

/** Architectures listed from a universal binary. */
const MAX_FAT_ARCHS = 64;

const ELF_MACHINES: Record<number, string> = {
  2: "sparc",
  3: "i386",
  8: "mips",
  20: "powerpc",
  21: "powerpc64",
  22: "s390",
  40: "arm",
  42: "superh",
  43: "sparc64",
  50: "ia64",
  62: "x86-64",
  183: "aarch64",
  243: "riscv",
  247: "bpf",
  258: "loongarch",
};

const ELF_TYPES: Record<number, string> = {
  1: "relocatable",
  2: "executable",
  3: "shared-object",
  4: "core",
};

const PE_MACHINES: Record<number, string> = {
  332: "i386",
  34404: "x86-64",
  448: "arm",
  450: "arm",
  452: "arm",
  43620: "aarch64",
  42561: "arm64ec",
  512: "ia64",
  20530: "riscv32",
  20580: "riscv64",
  3772: "efi-bytecode",
};

const MACHO_CPUS: Record<number, string> = {
  7: "i386",
  16777223: "x86-64",
  12: "arm",
  16777228: "arm64",
  33554444: "arm64_32",
  18: "powerpc",
  16777234: "powerpc64",
};

const MACHO_TYPES: Record<number, string> = {
  1: "object",
  2: "executable",
  4: "core",
  6: "dylib",
  7: "dylinker",
  8: "bundle",
  9: "dylib-stub",
  10: "dsym",
  11: "kext",
};

function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

const PT_DYNAMIC = 2;
const PT_INTERP = 3;
const PT_NOTE = 4;
const DT_FLAGS_1 = 0x6ffffffb;
const DF_1_PIE = 0x08000000;
const SHT_SYMTAB = 2;
/** The GNU build-id note's type, under the name "GNU". */
const NT_GNU_BUILD_ID = 3;
/** Bytes of an interpreter's path read at most (PATH_MAX). */
const MAX_INTERPRETER_BYTES = 4096;
/** Note segments read, and bytes of each, at most: the build id sits in a small one near the start. */
const MAX_NOTE_SEGMENTS = 8;
const MAX_NOTE_BYTES = 64 * 1024;
/** Section headers looked through for a symbol table; a file stating more is left without `stripped`. */
const MAX_SECTION_HEADERS = 4096;

/** A segment's place in the file, from its program header. */
interface Segment {
  offset: number;
  size: number;
}

/**
 * ELF: what `file` says of an executable or shared object beyond its
 * header. An ET_DYN file is a position-independent executable when its
 * dynamic section says DF_1_PIE (how `file` tells `ls` from `libc.so.6`,
 * which both have an interpreter); the interpreter is PT_INTERP's path; the
 * linking is dynamic with an interpreter or a dynamic section, static-pie for
 * a PIE with neither interpreter, static otherwise; the build id is the GNU
 * note in a PT_NOTE segment; and a file is stripped when no section is a
 * symbol table (SHT_SYMTAB).
 */
async function elf(ctx: ExtractContext, head: Uint8Array): Promise<ExecutableInfo> {
  if (head.length < 52) throw new ContentError("ELF header: truncated");
  const bits = head[4] === 2 ? 64 : head[4] === 1 ? 32 : undefined;
  const little = head[5] === 1 ? true : head[5] === 2 ? false : undefined;
  if (bits === undefined || little === undefined)
    throw new ContentError("ELF header: bad class or data encoding");
  const view = viewOf(head);
  const machine = view.getUint16(18, little);
  const elfType = view.getUint16(16, little);
  const info: ExecutableInfo = {
    format: "elf",
    architecture: ELF_MACHINES[machine] ?? `machine-${machine}`,
    bits,
    endianness: little ? "little" : "big",
    ...(ELF_TYPES[elfType] && { type: ELF_TYPES[elfType] }),
  };
  ctx.partial.executable = info;
  // Relocatable objects and core dumps have nothing of this; a 64-bit header must be whole.
  if ((elfType !== 2 && elfType !== 3) || (bits === 64 && head.length < 64)) return info;

  const stripped = await hasNoSymbolTable(ctx, view, bits, little);
  if (stripped !== undefined) info.stripped = stripped;
  const phoff = bits === 64 ? Number(view.getBigUint64(32, little)) : view.getUint32(28, little);
  const phentsize = view.getUint16(bits === 64 ? 54 : 42, little);
  const stated = view.getUint16(bits === 64 ? 56 : 44, little);
  if (stated === 0) {
    info.linking = "static";
    return info;
  }
  // Checked before reading: the table is read whole, and a stated entry size up to 65535 would multiply it.
  const entrySize = PROGRAM_HEADER_BYTES[bits];
  if (phentsize !== entrySize) {
    throw new ContentError(
      `ELF header: program header entry size ${phentsize}, not the ${entrySize} bytes of ELF${bits}`,
    );
  }
  const phnum = stated === PN_XNUM ? await extendedProgramHeaderCount(ctx, view, bits, little) : stated;
  if (phnum > MAX_PROGRAM_HEADERS) {
    ctx.warn(`ELF: ${phnum} program headers; the first ${MAX_PROGRAM_HEADERS} were looked at`);
    ctx.reader.noteLimit("entries");
  }
  withinFile(phoff, ctx.reader.size, "ELF program header table");
  const table = viewOf(await ctx.reader.read(phoff, Math.min(phnum, MAX_PROGRAM_HEADERS) * entrySize));
  let dynamic: Segment | undefined;
  let interpreter: Segment | undefined;
  const notes: Segment[] = [];
  for (let i = 0; (i + 1) * entrySize <= table.byteLength; i++) {
    const at = i * entrySize;
    const segment: Segment =
      bits === 64
        ? {
            offset: Number(table.getBigUint64(at + 8, little)),
            size: Number(table.getBigUint64(at + 32, little)),
          }
        : { offset: table.getUint32(at + 4, little), size: table.getUint32(at + 16, little) };
    const type = table.getUint32(at, little);
    if (type === PT_DYNAMIC) dynamic = segment;
    else if (type === PT_INTERP) interpreter = segment;
    else if (type === PT_NOTE && notes.length < MAX_NOTE_SEGMENTS) notes.push(segment);
  }
  if (interpreter && interpreter.offset < ctx.reader.size) {
    const path = await ctx.reader.read(interpreter.offset, Math.min(interpreter.size, MAX_INTERPRETER_BYTES));
    const end = path.indexOf(0);
    const text = cleanString(textDecoder("utf-8").decode(end >= 0 ? path.subarray(0, end) : path));
    if (text) info.interpreter = text;
  }
  for (const note of notes) {
    if (note.offset >= ctx.reader.size) continue;
    const buildId = gnuBuildId(
      await ctx.reader.read(note.offset, Math.min(note.size, MAX_NOTE_BYTES)),
      little,
    );
    if (buildId) {
      info.buildId = buildId;
      break;
    }
  }
  if (dynamic && elfType === 3 && (await isPie(ctx, dynamic, bits, little))) info.type = "pie-executable";
  info.linking = interpreter
    ? "dynamic"
    : info.type === "pie-executable"
      ? "static-pie"
      : dynamic
        ? "dynamic"
        : "static";
  return info;
}

/** Whether the dynamic section says DF_1_PIE. */
async function isPie(
  ctx: ExtractContext,
  dynamic: Segment,
  bits: 32 | 64,
  little: boolean,
): Promise<boolean> {
  const entry = bits === 64 ? 16 : 8;
  const size = Math.min(boundedLength(dynamic.size, ctx.reader.size, "dynamic section"), MAX_DYNAMIC_BYTES);
  const section = viewOf(
    await ctx.reader.read(withinFile(dynamic.offset, ctx.reader.size, "ELF dynamic section"), size),
  );
  for (let at = 0; at + entry <= section.byteLength; at += entry) {
    const tag = bits === 64 ? Number(section.getBigInt64(at, little)) : section.getInt32(at, little);
    if (tag === 0) break;
    if (tag !== DT_FLAGS_1) continue;
    const value =
      bits === 64 ? Number(section.getBigUint64(at + 8, little)) : section.getUint32(at + 4, little);
    if (value & DF_1_PIE) return true;
  }
  return false;
}

/**
 * The GNU build id among a note segment's notes (each a name size, a
 * descriptor size and a type, then the name and the descriptor, each padded
 * to 4 bytes), as lowercase hex; undefined when there is none.
 */
function gnuBuildId(bytes: Uint8Array, little: boolean): string | undefined {
  const view = viewOf(bytes);
  for (let at = 0; at + 12 <= bytes.byteLength; ) {
    const nameSize = view.getUint32(at, little);
    const descriptorSize = view.getUint32(at + 4, little);
    const type = view.getUint32(at + 8, little);
    const name = at + 12;
    const descriptor = name + ((nameSize + 3) & ~3);
    const next = descriptor + ((descriptorSize + 3) & ~3);
    if (next > bytes.byteLength || next <= at) return undefined;
    const isGnu =
      nameSize === 4 && bytes[name] === 0x47 && bytes[name + 1] === 0x4e && bytes[name + 2] === 0x55;
    if (isGnu && type === NT_GNU_BUILD_ID && descriptorSize > 0 && descriptorSize <= 64)
      return Buffer.from(bytes.subarray(descriptor, descriptor + descriptorSize)).toString("hex");
    at = next;
  }
  return undefined;
}

/**
 * Whether no section is a symbol table (what `file` calls stripped), from
 * the section header table; undefined when the file has none, states more
 * than {@link MAX_SECTION_HEADERS}, or is cut before it.
 */
async function hasNoSymbolTable(
  ctx: ExtractContext,
  header: DataView,
  bits: 32 | 64,
  little: boolean,
): Promise<boolean | undefined> {
  const shoff = bits === 64 ? Number(header.getBigUint64(40, little)) : header.getUint32(32, little);
  const shentsize = header.getUint16(bits === 64 ? 58 : 46, little);
  const shnum = header.getUint16(bits === 64 ? 60 : 48, little);
  const entrySize = SECTION_HEADER_BYTES[bits];
  if (shoff === 0 || shnum === 0 || shnum > MAX_SECTION_HEADERS || shentsize !== entrySize) return undefined;
  if (shoff + shnum * entrySize > ctx.reader.size) return undefined;
  const table = viewOf(await ctx.reader.read(shoff, shnum * entrySize));
  if (table.byteLength < shnum * entrySize) return undefined;
  for (let i = 0; i < shnum; i++) if (table.getUint32(i * entrySize + 4, little) === SHT_SYMTAB) return false;
  return true;
}

/**
 * The program header count of a file whose e_phnum is {@link PN_XNUM}: the
 * sh_info of section header 0, one entry read at e_shoff.
 */
async function extendedProgramHeaderCount(
  ctx: ExtractContext,
  header: DataView,
  bits: 32 | 64,
  little: boolean,
): Promise<number> {
  const shoff = bits === 64 ? Number(header.getBigUint64(40, little)) : header.getUint32(32, little);
  const shentsize = header.getUint16(bits === 64 ? 58 : 46, little);
  const entrySize = SECTION_HEADER_BYTES[bits];
  if (shoff === 0)
    throw new ContentError("ELF header: e_phnum is PN_XNUM but there is no section header table");
  if (shentsize !== entrySize) {
    throw new ContentError(
      `ELF header: section header entry size ${shentsize}, not the ${entrySize} bytes of ELF${bits}`,
    );
  }
  withinFile(shoff, ctx.reader.size, "ELF section header table");
  const section0 = viewOf(await ctx.reader.read(shoff, entrySize));
  if (section0.byteLength < entrySize)
    throw new ContentError("ELF: section header 0 runs past the end of the file");
  return section0.getUint32(bits === 64 ? 44 : 28, little);
}

/** PE: MZ stub, then e_lfanew to the "PE\0\0" signature, COFF header and optional header magic. */
async function pe(ctx: ExtractContext, head: Uint8Array): Promise<ExecutableInfo> {
  if (head.length < 0x40) return { format: "ms-dos", architecture: "i386", endianness: "little" };
  const lfanew = boundedLength(viewOf(head).getUint32(0x3c, true), ctx.reader.size, "PE header offset");
  const header = await ctx.reader.read(lfanew, 26);
  const view = viewOf(header);
  if (header.length < 26 || view.getUint32(0, false) !== 0x50450000) {
    // An MZ file without a PE header is a plain DOS program.
    return { format: "ms-dos", architecture: "i386", endianness: "little", type: "executable" };
  }
  const machine = view.getUint16(4, true);
  const characteristics = view.getUint16(22, true);
  const info: ExecutableInfo = {
    format: "pe",
    architecture: PE_MACHINES[machine] ?? `machine-0x${machine.toString(16)}`,
    endianness: "little",
    type: characteristics & 0x2000 ? "dll" : characteristics & 0x0002 ? "executable" : "object",
  };
  const optionalBytes = view.getUint16(20, true);
  if (optionalBytes >= 2)
    Object.assign(info, await describePe(ctx, lfanew + 24, optionalBytes, view.getUint16(6, true)));
  return info;
}

function machoCpu(cpu: number): string {
  return MACHO_CPUS[cpu] ?? `cpu-${cpu}`;
}

/** Mach-O thin binaries, by magic and byte order. */
function macho(head: Uint8Array, magic: number): ExecutableInfo {
  if (head.length < 16) throw new ContentError("Mach-O header: truncated");
  const little = magic === 0xcefaedfe || magic === 0xcffaedfe;
  const view = viewOf(head);
  const fileType = view.getUint32(12, little);
  return {
    format: "mach-o",
    architecture: machoCpu(view.getInt32(4, little)),
    bits: magic === 0xfeedfacf || magic === 0xcffaedfe ? 64 : 32,
    endianness: little ? "little" : "big",
    ...(MACHO_TYPES[fileType] && { type: MACHO_TYPES[fileType] }),
  };
}

/** Universal binaries: a big-endian table of the architectures inside. */
function fat(head: Uint8Array, wide: boolean): ExecutableInfo {
  const view = viewOf(head);
  const count = boundedLength(view.getUint32(4, false), MAX_FAT_ARCHS, "universal binary architectures");
  const stride = wide ? 32 : 20;
  const archs: string[] = [];
  for (let i = 0; i < count && 8 + (i + 1) * stride <= head.length; i++) {
    archs.push(machoCpu(view.getInt32(8 + i * stride, false)));
  }
  if (archs.length < count) throw new ContentError("universal binary: architecture table truncated");
  return { format: "mach-o", type: "universal", endianness: "big", architecture: archs.join(", ") };
}

/**
 * Extracts {@link ExecutableInfo} from the header of an ELF, PE, Mach-O or
 * WebAssembly file.
 *
 * @example
 * const { executable } = await extractExecutable(ctx);
 * // { format: "elf", architecture: "x86-64", bits: 64, endianness: "little", type: "pie-executable" }
 */
export async function extractExecutable(ctx: ExtractContext): Promise<Sections> {
  const head = await ctx.reader.read(0, Math.min(ctx.reader.size, 4096));
  if (head.length < 4) throw new ContentError("executable: shorter than any header");
  const magic = viewOf(head).getUint32(0, false);
  let executable: ExecutableInfo;
  if (magic === 0x7f454c46) executable = await elf(ctx, head);
  else if (head[0] === 0x4d && head[1] === 0x5a) executable = await pe(ctx, head);
  else if ([0xfeedface, 0xcefaedfe, 0xfeedfacf, 0xcffaedfe].includes(magic)) executable = macho(head, magic);
  // 0xCAFEBABE is also a Java class; there the next word is a class version (45 and up), here an arch count.
  else if (
    (magic === 0xcafebabe || magic === 0xcafebabf) &&
    head.length >= 8 &&
    viewOf(head).getUint32(4) < 45
  ) {
    executable = fat(head, magic === 0xcafebabf);
  } else if (magic === 0x0061736d) {
    executable = { format: "wasm", bits: 32, endianness: "little", type: "module" };
  } else {
    throw new ContentError(`executable: unknown signature 0x${magic.toString(16)}`);
  }
  return { executable };
}
