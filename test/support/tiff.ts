/**
 * Builds TIFF files for tests by placing directories and values at chosen
 * offsets, in either byte order, so a test can put IFD0 at the end of a
 * large file and its values wherever a writer might.
 */

/** TIFF field types used by the builder. */
export const TIFF_TYPE = { byte: 1, ascii: 2, short: 3, long: 4, rational: 5 } as const;

/** One directory entry: an inline value, or the offset of values placed with {@link TiffLayout.place}. */
export interface TiffEntry {
  tag: number;
  type: number;
  count: number;
  /** A SHORT, LONG or BYTE value held in the entry itself. */
  value?: number;
  /** Where the values lie when they do not fit in the entry. */
  offset?: number;
}

/** A value written somewhere in the file, ready to be named by an entry. */
export interface PlacedValue {
  type: number;
  count: number;
  offset: number;
}

/**
 * A TIFF of a fixed size (zero-filled) whose header, directories and values
 * are written where the test says.
 *
 * @example
 * const tiff = new TiffLayout(true, 1024);
 * const make = tiff.ascii(16, "Acme");
 * tiff.directory(64, [{ tag: 0x010f, ...make }]);
 * tiff.header(64);
 */
export class TiffLayout {
  readonly bytes: Buffer;

  constructor(
    readonly littleEndian: boolean,
    size: number,
  ) {
    this.bytes = Buffer.alloc(size);
  }

  header(ifd0: number): void {
    this.bytes.write(this.littleEndian ? "II" : "MM", 0, "latin1");
    this.u16(2, 42);
    this.u32(4, ifd0);
  }

  /** A NUL-terminated ASCII value at `at`. */
  ascii(at: number, text: string): PlacedValue {
    this.bytes.write(`${text}\0`, at, "latin1");
    return { type: TIFF_TYPE.ascii, count: text.length + 1, offset: at };
  }

  /** RATIONAL values (numerator, denominator pairs) at `at`. */
  rationals(at: number, values: readonly (readonly [number, number])[]): PlacedValue {
    values.forEach(([numerator, denominator], i) => {
      this.u32(at + i * 8, numerator);
      this.u32(at + i * 8 + 4, denominator);
    });
    return { type: TIFF_TYPE.rational, count: values.length, offset: at };
  }

  /** A directory at `at`, entries sorted by tag as the specification asks; returns where it ends. */
  directory(at: number, entries: readonly TiffEntry[], next = 0): number {
    const sorted = [...entries].sort((a, b) => a.tag - b.tag);
    this.u16(at, sorted.length);
    sorted.forEach((entry, i) => {
      const field = at + 2 + i * 12;
      this.u16(field, entry.tag);
      this.u16(field + 2, entry.type);
      this.u32(field + 4, entry.count);
      // An inline value is left-justified in the 4-byte field, whatever the byte order.
      if (entry.offset !== undefined) this.u32(field + 8, entry.offset);
      else if (entry.type === TIFF_TYPE.short) this.u16(field + 8, entry.value ?? 0);
      else if (entry.type === TIFF_TYPE.long) this.u32(field + 8, entry.value ?? 0);
      else this.bytes.writeUInt8(entry.value ?? 0, field + 8);
    });
    const end = at + 2 + sorted.length * 12;
    this.u32(end, next);
    return end + 4;
  }

  private u16(at: number, value: number): void {
    if (this.littleEndian) this.bytes.writeUInt16LE(value, at);
    else this.bytes.writeUInt16BE(value, at);
  }

  private u32(at: number, value: number): void {
    if (this.littleEndian) this.bytes.writeUInt32LE(value, at);
    else this.bytes.writeUInt32BE(value, at);
  }
}

/** An entry holding its SHORT, LONG or BYTE value itself. */
export function inline(tag: number, type: number, value: number): TiffEntry {
  return { tag, type, count: 1, value };
}

/** An entry naming a placed value. */
export function pointing(tag: number, value: PlacedValue): TiffEntry {
  return { tag, ...value };
}
