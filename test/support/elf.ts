/**
 * ELF shared objects built from their headers, for program header tables the
 * corpus has no file for. The layout follows the ELF gABI. GNU readelf 2.40
 * reads files built alike, in both classes and byte orders: `-h` gives
 * "Number of program headers: 65535 (65536)" for PN_XNUM, `-l` lists every
 * program header, `-d` shows "FLAGS_1 Flags: PIE". It also says "no .dynamic
 * section in the dynamic segment", as no section names the dynamic section
 * here, and `-S` finds a non-zero sh_info in section 0 unexpected, which is
 * where the gABI puts the count.
 */

export interface ElfShape {
  bits: 32 | 64;
  little: boolean;
  /** e_machine. */
  machine: number;
  /** Program headers in the table; the first is PT_DYNAMIC, the rest PT_NULL. */
  count: number;
  /**
   * Write e_phnum as PN_XNUM (0xffff) and the count as section header 0's
   * sh_info, as the gABI has a file with 65,535 or more program headers do.
   */
  extended?: boolean;
  /** e_shentsize, when not the class's own (64 or 40). */
  sectionHeaderSize?: number;
  /** e_shoff, when not where the section header table is. */
  sectionHeaderOffset?: number;
}

const PN_XNUM = 0xffff;
const ET_DYN = 3;
const PT_DYNAMIC = 2;
const DT_FLAGS_1 = 0x6ffffffb;
const DF_1_PIE = 0x08000000;

/**
 * An ET_DYN file: ELF header, `count` program headers (the first PT_DYNAMIC,
 * pointing at a dynamic section whose DT_FLAGS_1 says DF_1_PIE), the dynamic
 * section, then one section header (SHT_NULL) whose sh_info holds the count
 * when `extended`.
 *
 * @example
 * buildElf({ bits: 64, little: true, machine: 62, count: 70_000, extended: true })
 */
export function buildElf(shape: ElfShape): Uint8Array {
  const { bits, little, count } = shape;
  const wide = bits === 64;
  const headerSize = wide ? 64 : 52;
  const programHeaderSize = wide ? 56 : 32;
  const sectionHeaderSize = wide ? 64 : 40;
  const dynamicSize = 2 * (wide ? 16 : 8);
  const phoff = headerSize;
  const dynamicAt = phoff + count * programHeaderSize;
  const shoff = dynamicAt + dynamicSize;
  const raw = new Uint8Array(shoff + sectionHeaderSize);
  const view = new DataView(raw.buffer);
  const word = (at: number, value: number) =>
    wide ? view.setBigUint64(at, BigInt(value), little) : view.setUint32(at, value, little);

  raw.set([0x7f, 0x45, 0x4c, 0x46, wide ? 2 : 1, little ? 1 : 2, 1]);
  view.setUint16(16, ET_DYN, little);
  view.setUint16(18, shape.machine, little);
  view.setUint32(20, 1, little); // e_version
  word(wide ? 32 : 28, phoff);
  word(wide ? 40 : 32, shape.sectionHeaderOffset ?? shoff);
  view.setUint16(wide ? 52 : 40, headerSize, little);
  view.setUint16(wide ? 54 : 42, programHeaderSize, little);
  view.setUint16(wide ? 56 : 44, shape.extended ? PN_XNUM : count, little);
  view.setUint16(wide ? 58 : 46, shape.sectionHeaderSize ?? sectionHeaderSize, little);
  view.setUint16(wide ? 60 : 48, 1, little); // e_shnum
  view.setUint16(wide ? 62 : 50, 0, little); // e_shstrndx: SHN_UNDEF

  // p_type, p_offset, p_filesz (and p_memsz) of the PT_DYNAMIC entry.
  view.setUint32(phoff, PT_DYNAMIC, little);
  word(phoff + (wide ? 8 : 4), dynamicAt);
  word(phoff + (wide ? 32 : 16), dynamicSize);
  word(phoff + (wide ? 40 : 20), dynamicSize);

  if (wide) {
    view.setBigInt64(dynamicAt, BigInt(DT_FLAGS_1), little);
    view.setBigUint64(dynamicAt + 8, BigInt(DF_1_PIE), little);
  } else {
    view.setInt32(dynamicAt, DT_FLAGS_1, little);
    view.setUint32(dynamicAt + 4, DF_1_PIE, little);
  }

  if (shape.extended) view.setUint32(shoff + (wide ? 44 : 28), count, little); // sh_info
  return raw;
}
