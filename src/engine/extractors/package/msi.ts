/**
 * Windows Installer packages (.msi): a compound file whose root storage has
 * the installer's CLSID and whose streams hold a small relational database.
 * The product is named in the Property table (ProductName, ProductVersion,
 * Manufacturer), the files it installs in the File table, where they go in
 * the Component and Directory tables; the cabinets that carry the files'
 * bytes are never read.
 *
 * Written by hand: the format is documented only by what Windows and Wine's
 * msi.dll read (stream names packed into CJK code points, a shared string
 * pool, tables stored column by column), and no npm package reads it, least
 * of all through ranged reads of a compound file's sector chains.
 */
import { ContentError } from "../../errors.js";
import { ARCHIVE_SAMPLE_ENTRIES, boundedLength, cleanString, definedFields } from "../../limits.js";
import { textDecoder } from "../../text-decoder.js";
import type { ArchiveInfo, PackageInfo } from "../../types.js";
import { isArchiveName } from "../archive/archive-names.js";
import { assess } from "../archive/extract.js";
import { u16, u32 } from "../bytes.js";
import { encodingOfCodePage } from "../code-pages.js";
import { type CompoundFile, type DirectoryEntry, STREAM_OBJECT } from "../document/cfb.js";
import { readInstallerSummary } from "../document/summary-information.js";

/** CLSID_MsiDatabase, {000C1084-0000-0000-C000-000000000046}, as a compound file stores it. */
const MSI_DATABASE_CLSID = Uint8Array.of(
  0x84,
  0x10,
  0x0c,
  0x00,
  0x00,
  0x00,
  0x00,
  0x00,
  0xc0,
  0x00,
  0x00,
  0x00,
  0x00,
  0x00,
  0x00,
  0x46,
);

/** True when the compound file's root storage is a Windows Installer database. */
export function isInstallerDatabase(file: CompoundFile): boolean {
  const root = file.entries[0];
  return root !== undefined && MSI_DATABASE_CLSID.every((byte, i) => root.clsid[i] === byte);
}

/**
 * Bytes of one table or string stream read at most. An installer of ten
 * thousand files has a File table of about 200 KB and a string pool of a
 * few MB; more is a damaged or hostile package.
 */
const MAX_STREAM_BYTES = 16 * 1024 * 1024;
/** Rows of a table read at most (the File table of the largest installers has tens of thousands). */
const MAX_ROWS = 200_000;
/** Directory levels followed up from a file's folder: deeper is a loop. */
const MAX_DIRECTORY_DEPTH = 64;

/** Column type bits ([MS-MSI] and Wine's msipriv.h). */
const TYPE_VALID = 0x0100;
const TYPE_STRING = 0x0800;
const TYPE_NULLABLE = 0x1000;

/**
 * A stream's name as the installer writes it: each pair of characters from
 * `0-9A-Za-z._` packed into one code point from U+3800, a single one from
 * U+4800, and a table's name after U+4840. Unpacked here, a table keeps
 * U+4840 in front: `\u4840Property`.
 */
function unpackStreamName(name: string): string {
  const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz._";
  let out = "";
  for (const char of name) {
    const code = char.codePointAt(0) as number;
    if (code >= 0x3800 && code < 0x4800) {
      const packed = code - 0x3800;
      out += alphabet[packed & 0x3f] + (alphabet[(packed >> 6) & 0x3f] as string);
    } else if (code >= 0x4800 && code < 0x4840) {
      out += alphabet[code - 0x4800];
    } else out += char;
  }
  return out;
}

interface Column {
  name: string;
  type: number;
}

/** One table's rows, column by column, and how to read a cell. */
interface Table {
  rows: number;
  /** The string of a string column's cell; undefined for a null or another type. */
  string(column: string, row: number): string | undefined;
  /** The integer of an integer column's cell; undefined for a null or another type. */
  integer(column: string, row: number): number | undefined;
}

/** The database's streams by unpacked name, its string pool, and its tables' columns. */
class InstallerDatabase {
  private readonly streams = new Map<string, DirectoryEntry>();
  private strings: string[] = [];
  private stringBytes = 2;
  private columns = new Map<string, Column[]>();

  constructor(
    private readonly file: CompoundFile,
    private readonly warn: (message: string) => void,
  ) {
    for (const entry of file.entries)
      if (entry.type === STREAM_OBJECT) this.streams.set(unpackStreamName(entry.name), entry);
  }

  /** Reads the string pool and the column catalog, which every table needs. */
  async open(): Promise<void> {
    const pool = await this.read("\u4840_StringPool");
    const data = await this.read("\u4840_StringData");
    if (!pool || !data) throw new ContentError("Windows Installer database without its string pool");
    this.strings = this.stringsOf(pool, data);
    const catalog = await this.rowsOf("\u4840_Columns", [
      { name: "Table", type: TYPE_VALID | TYPE_STRING | 64 },
      { name: "Number", type: TYPE_VALID | 2 },
      { name: "Name", type: TYPE_VALID | TYPE_STRING | 64 },
      { name: "Type", type: TYPE_VALID | 2 },
    ]);
    if (!catalog) throw new ContentError("Windows Installer database without its column catalog");
    const numbered = new Map<string, [number, Column][]>();
    for (let row = 0; row < catalog.rows; row++) {
      const table = catalog.string("Table", row);
      const number = catalog.integer("Number", row);
      const name = catalog.string("Name", row);
      const type = catalog.integer("Type", row);
      if (table === undefined || number === undefined || name === undefined || type === undefined) continue;
      const list = numbered.get(table) ?? [];
      list.push([number, { name, type }]);
      numbered.set(table, list);
    }
    for (const [table, list] of numbered)
      this.columns.set(
        table,
        list.sort(([a], [b]) => a - b).map(([, column]) => column),
      );
  }

  /** The rows of table `name`, or undefined when the package has none. */
  table(name: string): Promise<Table | undefined> {
    const columns = this.columns.get(name);
    return columns ? this.rowsOf(`\u4840${name}`, columns) : Promise.resolve(undefined);
  }

  /** A stream's bytes, up to {@link MAX_STREAM_BYTES}; undefined when there is no such stream. */
  private async read(name: string): Promise<Uint8Array | undefined> {
    const entry = this.streams.get(name);
    if (!entry) return undefined;
    const size = boundedLength(entry.size, MAX_STREAM_BYTES, `Windows Installer stream ${name.slice(1)}`);
    const bytes = await this.file.stream(entry).read(0, size);
    if (bytes.byteLength < entry.size) this.warn(`Windows Installer stream ${name.slice(1)} is cut short`);
    return bytes;
  }

  /**
   * The string pool (Wine's msi_load_string_table): a code page, then a
   * length and a reference count for each string id from 1, whose bytes
   * follow one another in the string data. A string of 64 KiB or more takes
   * two entries. Bit 15 of the code page's high word says string ids take
   * three bytes in tables.
   */
  private stringsOf(pool: Uint8Array, data: Uint8Array): string[] {
    const strings = [""];
    if (pool.byteLength < 4) return strings;
    const high = u16(pool, 2);
    this.stringBytes = high & 0x8000 ? 3 : 2;
    const codePage = u16(pool, 0) | ((high & 0x7fff) << 16);
    const decoder = textDecoder(codePage === 65001 ? "utf-8" : encodingOfCodePage(codePage || 1252));
    const count = Math.floor(pool.byteLength / 4);
    let offset = 0;
    for (let i = 1; i < count; ) {
      const length = u16(pool, i * 4);
      const references = u16(pool, i * 4 + 2);
      let bytes = length;
      if (length === 0 && references === 0) {
        strings.push("");
        i++;
        continue;
      }
      if (length === 0) {
        if (i + 1 >= count) break;
        bytes = u16(pool, i * 4 + 4) + u16(pool, i * 4 + 6) * 0x10000;
        i += 2;
      } else i++;
      if (offset + bytes > data.byteLength) {
        this.warn("Windows Installer string pool runs past its data: later strings not read");
        break;
      }
      strings.push(decoder.decode(data.subarray(offset, offset + bytes)));
      offset += bytes;
    }
    return strings;
  }

  /** Bytes a column's cell takes (Wine's bytes_per_column). */
  private cellBytes(type: number): number {
    // A binary column (a stream's name) holds a two-byte reference.
    if ((type & ~TYPE_NULLABLE) === (TYPE_STRING | TYPE_VALID)) return 2;
    if (type & TYPE_STRING) return this.stringBytes;
    return (type & 0xff) <= 2 ? 2 : 4;
  }

  /**
   * A table stored column by column: every row's cell of the first column,
   * then of the next. Integers are stored offset by 2^15 (two bytes) or 2^31
   * (four), so that 0 is null; strings are ids in the pool.
   */
  private async rowsOf(stream: string, columns: readonly Column[]): Promise<Table | undefined> {
    const bytes = await this.read(stream);
    if (!bytes) return undefined;
    const widths = columns.map((column) => this.cellBytes(column.type));
    const rowBytes = widths.reduce((sum, width) => sum + width, 0);
    if (rowBytes > 0 && bytes.byteLength % rowBytes !== 0)
      this.warn(`Windows Installer table ${stream.slice(1)} is not a whole number of rows`);
    const total = rowBytes > 0 ? Math.floor(bytes.byteLength / rowBytes) : 0;
    const rows = Math.min(MAX_ROWS, total);
    if (total > MAX_ROWS)
      this.warn(`Windows Installer table ${stream.slice(1)}: rows past ${MAX_ROWS} not read`);
    const starts: number[] = [];
    let start = 0;
    for (const width of widths) {
      starts.push(start);
      start += width * total;
    }
    const indexOf = new Map(columns.map((column, index) => [column.name, index]));
    const cell = (name: string, row: number): { at: number; width: number; type: number } | undefined => {
      const index = indexOf.get(name);
      if (index === undefined || row >= rows) return undefined;
      const width = widths[index] as number;
      return { at: (starts[index] as number) + row * width, width, type: (columns[index] as Column).type };
    };
    const raw = (at: number, width: number) =>
      width === 2
        ? u16(bytes, at)
        : width === 3
          ? u16(bytes, at) + (bytes[at + 2] as number) * 0x10000
          : u32(bytes, at);
    const strings = this.strings;
    return {
      rows,
      string(name, row) {
        const found = cell(name, row);
        if (!found || !(found.type & TYPE_STRING)) return undefined;
        const id = raw(found.at, found.width);
        return id === 0 ? undefined : strings[id];
      },
      integer(name, row) {
        const found = cell(name, row);
        if (!found || found.type & TYPE_STRING) return undefined;
        const value = raw(found.at, found.width);
        if (value === 0) return undefined;
        return found.width === 2 ? value - 0x8000 : value - 0x80000000;
      },
    };
  }
}

/**
 * The installer's platform from the Template summary property
 * (`platform;languages`): Intel is 32-bit x86, and a template with no
 * platform is too.
 */
function platformOf(template: string | undefined): string | undefined {
  if (template === undefined) return undefined;
  const platform = template.split(";")[0]?.trim().toLowerCase() ?? "";
  const names: Record<string, string> = {
    "": "x86",
    intel: "x86",
    x64: "x64",
    amd64: "x64",
    intel64: "ia64",
    arm: "arm",
    arm64: "arm64",
  };
  return names[platform] ?? cleanString(template.split(";")[0]);
}

/** The long name of a `short|long` file or folder name (the short one when there is no long one). */
function longName(name: string): string {
  const bar = name.indexOf("|");
  return bar >= 0 ? name.slice(bar + 1) : name;
}

/**
 * Where each folder of the Directory table installs, as a path from the
 * installation's root: a folder's DefaultDir (`target[:source]`, `.` for
 * its parent itself) under its parent's path. The root (TARGETDIR, whose
 * parent is none) adds nothing, and a folder Windows names at install time
 * (ProgramFilesFolder, SystemFolder...: its DefaultDir is a placeholder) is
 * shown by its name.
 */
function folderPaths(directories: Table | undefined): (id: string) => string {
  const rows = new Map<string, { parent?: string; name: string }>();
  for (let row = 0; directories && row < directories.rows; row++) {
    const id = directories.string("Directory", row);
    if (id === undefined) continue;
    const parent = directories.string("Directory_Parent", row);
    const target = (directories.string("DefaultDir", row) ?? ".").split(":")[0] as string;
    rows.set(id, { ...(parent !== undefined && parent !== id && { parent }), name: longName(target) });
  }
  const known = new Map<string, string>();
  const pathOf = (id: string, depth: number): string => {
    const cached = known.get(id);
    if (cached !== undefined) return cached;
    const row = rows.get(id);
    let path: string;
    if (!row || depth > MAX_DIRECTORY_DEPTH) path = "";
    else if (row.parent === undefined) path = "";
    else {
      const parent = rows.get(row.parent);
      const under = pathOf(row.parent, depth + 1);
      // A folder right under the root is a folder Windows places (ProgramFilesFolder...) unless it is TARGETDIR's own.
      const segment = parent?.parent === undefined && /Folder$|^WindowsVolume$/.test(id) ? id : row.name;
      path = segment === "." || segment === "" ? under : under ? `${under}/${segment}` : segment;
    }
    known.set(id, path);
    return path;
  };
  return (id) => pathOf(id, 0);
}

/**
 * A Windows Installer package's description and file list.
 *
 * @example
 * await readInstaller(file, warn, size)
 * // { package: { format: "msi", name: "Tool", version: "2.4.1", vendor: "Example Ltd.", architecture: "x64" },
 * //   archive: { kind: "msi", entries: 3, sample: ["ProgramFilesFolder/Tool/tool.exe", ...], ... } }
 */
export async function readInstaller(
  file: CompoundFile,
  warn: (message: string) => void,
  size: number,
): Promise<{ package: PackageInfo; archive: ArchiveInfo }> {
  const database = new InstallerDatabase(file, warn);
  await database.open();
  const summaryEntry = file.named("\u0005SummaryInformation");
  const summary =
    summaryEntry?.type === STREAM_OBJECT ? await readInstallerSummary(file.stream(summaryEntry), warn) : {};

  const properties = new Map<string, string>();
  const propertyTable = await database.table("Property");
  for (let row = 0; propertyTable && row < propertyTable.rows; row++) {
    const name = propertyTable.string("Property", row);
    const value = propertyTable.string("Value", row);
    if (name !== undefined && value !== undefined) properties.set(name, value);
  }
  const property = (name: string) => cleanString(properties.get(name));

  const files = await database.table("File");
  const components = await database.table("Component");
  const folderOf = new Map<string, string>();
  for (let row = 0; components && row < components.rows; row++) {
    const component = components.string("Component", row);
    const directory = components.string("Directory_", row);
    if (component !== undefined && directory !== undefined) folderOf.set(component, directory);
  }
  const pathOf = folderPaths(await database.table("Directory"));
  let installed = 0;
  let nested = 0;
  const sample: string[] = [];
  const count = files?.rows ?? 0;
  for (let row = 0; files && row < files.rows; row++) {
    installed += Math.max(0, files.integer("FileSize", row) ?? 0);
    const name = longName(files.string("FileName", row) ?? "");
    if (isArchiveName(name)) nested++;
    if (sample.length < ARCHIVE_SAMPLE_ENTRIES) {
      const folder = pathOf(folderOf.get(files.string("Component_", row) ?? "") ?? "");
      const path = cleanString(folder ? `${folder}/${name}` : name);
      if (path) sample.push(path);
    }
  }

  const name = property("ProductName");
  const pkg = definedFields<PackageInfo>({
    format: "msi",
    name,
    version: property("ProductVersion"),
    architecture: platformOf(summary.template),
    summary: summary.subject !== name ? summary.subject : undefined,
    vendor: property("Manufacturer") ?? summary.author,
    homepage: property("ARPURLINFOABOUT") ?? property("ARPHELPLINK"),
    installedSize: files ? installed : undefined,
    builtAt: summary.created,
  });
  const archive: ArchiveInfo = {
    kind: "msi",
    entries: count,
    encrypted: false,
    sample,
    nestedArchives: nested,
    ...(files && { uncompressedSize: installed, ...assess(installed, size) }),
  };
  return { package: pkg, archive };
}
