import type { BlockReader } from "../../byte-source/block-reader.js";
import { CFB_APPLICATIONS } from "../../detect/cfb-format.js";
import { ContentError } from "../../errors.js";
import { textDecoder } from "../../text-decoder.js";
import type { DocumentInfo } from "../../types.js";
import { readPowerPointDocument } from "./powerpoint-document.js";
import { readDocumentSummaryInformation, readSummaryInformation } from "./summary-information.js";
import { readWordDocument, type WordDocumentFacts } from "./word-document.js";
import { readWorkbookGlobals, type StreamBytes } from "./workbook-globals.js";

const CFB_SIGNATURE = [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1];
const DIRECTORY_ENTRY_BYTES = 128;
/** Streams below this size live in the mini stream, in 64-byte mini sectors. */
const MINI_STREAM_CUTOFF = 4096;
const MINI_SECTOR_BYTES = 64;

/** Directory entry object types (MS-CFB 2.6.1). */
const STORAGE_OBJECT = 1;
export const STREAM_OBJECT = 2;
/** Sibling and child ids above this are NOSTREAM (0xFFFFFFFF) or reserved. */
const MAX_ENTRY_ID = 0xfffffffa;

/**
 * Legacy Compound File Binary (.doc/.xls/.ppt/.vsd) and the CFB wrapper of an
 * encrypted OOXML file. Reads the header and the directory (see
 * {@link readDirectory}), Word's FIB for its encryption flag, Excel's
 * workbook globals (see {@link readWorkbookGlobals}) for FILEPASS and the
 * sheet list, and PowerPoint's chain from the current edit to the
 * DocumentContainer (see {@link readPowerPointDocument}) for its encryption
 * and VBA flags. Macros are a VBA project, told from the directory alone (a
 * storage any Office application names by the same rule, see
 * {@link hasVbaProject}) or, for PowerPoint, which compresses its project
 * inside its main stream, from the VBAInfoAtom's flag; or an Excel 4.0 macro
 * sheet or an Excel 5/95 VBA module sheet in the sheet list. Title, subject,
 * keywords, authors and dates come from the SummaryInformation property set
 * (see {@link readSummaryInformation}), so do a Word file's page and word
 * counts and a presentation's word count; a presentation's slide count comes
 * from the DocumentSummaryInformation set. An encrypted OOXML file's wrapper
 * is read for the same sets, which Office writes in the clear unless told to
 * encrypt the document's properties too; what the package itself holds is
 * out of reach, its application and macros among it. The set's application name
 * (PIDSI_APPNAME) is not read: `application` names what the directory shows,
 * from which the engine names the file's type (see refineCfbFormat), and text
 * any writer sets must not decide that, even where the directory says nothing.
 * Anything deeper (the sets' other properties, the objects PowerPoint embeds
 * compressed in its main stream) is left out. Oddities met on the way, a read
 * budget reached among them, go to `warn`.
 *
 * @example
 * await readCfb(reader, ctx.warn) // { kind: "cfb", application: "Microsoft Excel", encrypted: false, macros: true }
 */
export async function readCfb(
  reader: BlockReader,
  warn: (message: string) => void = () => {},
): Promise<DocumentInfo> {
  return readCfbDocument(await openCompoundFile(reader, warn), warn);
}

/** One entry of a compound file's directory. */
export interface DirectoryEntry {
  name: string;
  type: number;
  left: number;
  right: number;
  child: number;
  /** The CLSID of a storage (the root's names the application that wrote the file), as stored: 16 bytes. */
  clsid: Uint8Array;
  startSector: number;
  size: number;
}

/** A compound file opened: its directory, and any stream of it read by position. */
export interface CompoundFile {
  /** Every entry, indexed by id (unused slots included), as sibling and child links name them; the root is 0. */
  readonly entries: readonly DirectoryEntry[];
  /** The first entry called `name`. */
  named(name: string): DirectoryEntry | undefined;
  /** The bytes of a stream entry, from the FAT or, under the cutoff, from the mini stream. */
  stream(entry: DirectoryEntry): StreamBytes;
}

/**
 * Reads a compound file's header and directory ([MS-CFB]); streams are read
 * later, by position, as a reader of the format asks for them.
 *
 * @example
 * const file = await openCompoundFile(reader, warn);
 * const summary = file.named("\u0005SummaryInformation");
 */
export async function openCompoundFile(
  reader: BlockReader,
  warn: (message: string) => void,
): Promise<CompoundFile> {
  const header = await reader.read(0, 512);
  if (header.byteLength < 512 || !CFB_SIGNATURE.every((byte, i) => header[i] === byte)) {
    throw new ContentError("not a Compound File Binary (bad signature)");
  }
  const data = new DataView(header.buffer, header.byteOffset, header.byteLength);
  const sectorShift = data.getUint16(30, true);
  if (sectorShift !== 9 && sectorShift !== 12)
    throw new ContentError(`CFB sector shift ${sectorShift} is invalid`);
  const sectorSize = 2 ** sectorShift;
  const chains = new SectorChains(reader, data, sectorSize);
  const entries = await readDirectory(reader, data, chains, warn);
  // The root entry's stream is the mini stream, where a stream under the cutoff lives.
  const miniStream = entries[0] && new CfbStream(reader, chains, entries[0]);
  return {
    entries,
    named: (name) => entries.find((entry) => entry.name === name),
    stream: (entry) => new CfbStream(reader, chains, entry, miniStream),
  };
}

/** The document section of an opened compound file (see {@link readCfb}). */
export async function readCfbDocument(
  file: CompoundFile,
  warn: (message: string) => void,
): Promise<DocumentInfo> {
  const { entries, named, stream } = file;
  const info: DocumentInfo = { kind: "cfb" };
  // An encrypted OOXML file: the zip package is inside, encrypted. Office
  // writes the property sets beside it in the clear unless told to encrypt them.
  const encryptedOoxml = named("EncryptedPackage") !== undefined || named("EncryptionInfo") !== undefined;
  const word = named("WordDocument");
  const workbook = named("Workbook") ?? named("Book");
  const presentation = named("PowerPoint Document");
  let wordFacts: WordDocumentFacts | undefined;
  if (encryptedOoxml) {
    info.application = CFB_APPLICATIONS.encryptedOoxml;
    info.encrypted = true;
  } else if (word) {
    info.application = CFB_APPLICATIONS.word;
    wordFacts = await readWordDocument(stream(word), (name) => {
      const table = named(name);
      return table?.type === STREAM_OBJECT ? stream(table) : undefined;
    });
    if (wordFacts) info.encrypted = wordFacts.encrypted;
  } else if (workbook) {
    info.application = CFB_APPLICATIONS.excel;
    const globals = await readWorkbookGlobals(stream(workbook), warn);
    if (globals.encrypted !== undefined) info.encrypted = globals.encrypted;
    if (globals.macroSheets > 0) info.macros = true;
  } else if (presentation) {
    info.application = CFB_APPLICATIONS.powerPoint;
    const currentUser = named("Current User");
    const found = await readPowerPointDocument(
      stream(presentation),
      currentUser && stream(currentUser),
      warn,
    );
    if (found.encrypted !== undefined) info.encrypted = found.encrypted;
    if (found.macros) info.macros = true;
  } else if (named("VisioDocument")) {
    // A binary Visio drawing, stencil or template; its VBA project is a storage like Office's.
    info.application = CFB_APPLICATIONS.visio;
  }
  const summary = named("\u0005SummaryInformation");
  if (summary?.type === STREAM_OBJECT) {
    const { pages, words, ...properties } = await readSummaryInformation(stream(summary), warn);
    Object.assign(info, properties);
    // Word counts pages and words, PowerPoint words; Excel writes neither, and
    // other compound files give the ids other meanings (an MSI package's schema and source flags).
    // Only Office wraps an encrypted package, so there a count means what Word's or PowerPoint's does.
    if (info.application === CFB_APPLICATIONS.word || encryptedOoxml)
      Object.assign(info, pages !== undefined && { pages }, words !== undefined && { words });
    if (info.application === CFB_APPLICATIONS.powerPoint && words !== undefined) info.words = words;
  }
  // Counts the set lacks, from Word's own DOP (a page count of 0 means Word never counted).
  if (wordFacts?.pages && info.pages === undefined && info.words === undefined)
    Object.assign(info, { pages: wordFacts.pages, words: wordFacts.words });
  const documentSummary = named("\u0005DocumentSummaryInformation");
  // PowerPoint alone writes a slide count (in an encrypted .pptx's wrapper too);
  // the PowerPoint Document stream is not walked for one.
  const slideCount = info.application === CFB_APPLICATIONS.powerPoint || encryptedOoxml;
  if (slideCount && documentSummary?.type === STREAM_OBJECT)
    Object.assign(info, await readDocumentSummaryInformation(stream(documentSummary), warn));
  // A wrapper's directory holds no project of the document's: any is inside the encrypted package.
  if (!encryptedOoxml && hasVbaProject(entries)) info.macros = true;
  return info;
}

/**
 * True when the directory holds a VBA project ([MS-OVBA] 2.2.1): a storage
 * named `VBA` (names compare case-insensitively) holding the `dir` and
 * `_VBA_PROJECT` streams. Word keeps it under `Macros`, Excel under
 * `_VBA_PROJECT_CUR`, an embedded object under its own storage in
 * `ObjectPool`; the rule is the same wherever it sits. A `VBA` storage whose
 * children lie past the entries read counts too: the name is all there is to
 * go by, and missing a project is the costlier mistake.
 */
function hasVbaProject(entries: readonly DirectoryEntry[]): boolean {
  return entries.some((entry) => {
    if (entry.type !== STORAGE_OBJECT || entry.name.toUpperCase() !== "VBA") return false;
    const { streams, complete } = childStreams(entries, entry.child);
    return !complete || (streams.has("DIR") && streams.has("_VBA_PROJECT"));
  });
}

/**
 * The upper-cased names of the streams directly in a storage, from the
 * red-black tree of its children (each visited once, so a cyclic tree ends),
 * and whether every child was among the entries read.
 */
function childStreams(
  entries: readonly DirectoryEntry[],
  root: number,
): { streams: Set<string>; complete: boolean } {
  const streams = new Set<string>();
  const seen = new Set<number>();
  const pending = [root];
  let complete = true;
  while (pending.length > 0) {
    const id = pending.pop() as number;
    if (id >= MAX_ENTRY_ID || seen.has(id)) continue;
    seen.add(id);
    const entry = entries[id];
    if (!entry) {
      complete = false;
      continue;
    }
    if (entry.type === STREAM_OBJECT) streams.add(entry.name.toUpperCase());
    pending.push(entry.left, entry.right);
  }
  return { streams, complete };
}

/**
 * Directory sectors followed along the FAT chain: 2,048 entries of 512-byte sectors. Office's main
 * streams sit in the first few, but a VBA project can come after every embedded object's storage.
 */
const MAX_DIRECTORY_SECTORS = 512;
/** FAT sectors the header lists (the start of the DIFAT); DIFAT sectors list the rest. */
const HEADER_FAT_SECTORS = 109;
/** Sector ids from here up are markers (end of chain, free, FAT or DIFAT sector), not sectors. */
const FIRST_MARKER = 0xfffffffa;
const END_OF_CHAIN = 0xfffffffe;

/**
 * The FAT and the mini FAT of one file: the next sector of a chain. FAT
 * sectors are those the header lists (the first 109, enough for files up to
 * ~7 MB of 512-byte sectors), then those the DIFAT sectors list, read along
 * their chain when a sector past that is first asked for; the mini FAT is
 * followed along its own chain, up to the sector count the header gives.
 */
class SectorChains {
  private readonly perSector: number;
  private readonly fatCache = new Map<number, DataView>();
  private readonly miniFatSectors: number[] = [];
  /** FAT sector ids after the header's 109, from the DIFAT sectors read so far. */
  private readonly difatFatSectors: number[] = [];
  private nextDifatSector: number;
  private difatSectorsLeft: number;
  /** Bytes in the sectors the FAT can describe: a longer chain must cycle. */
  readonly addressableBytes: number;

  constructor(
    private readonly reader: BlockReader,
    private readonly header: DataView,
    readonly sectorSize: number,
  ) {
    this.perSector = sectorSize / 4;
    this.nextDifatSector = header.getUint32(68, true);
    // No more DIFAT sectors than the file could need: a count (or a chain) that says more is damage.
    const fileSectors = Math.ceil(reader.size / sectorSize);
    const neededFatSectors = Math.ceil(fileSectors / this.perSector);
    this.difatSectorsLeft = Math.min(
      header.getUint32(72, true),
      Math.ceil(Math.max(0, neededFatSectors - HEADER_FAT_SECTORS) / (this.perSector - 1)),
    );
    const fatSectors = HEADER_FAT_SECTORS + this.difatSectorsLeft * (this.perSector - 1);
    this.addressableBytes = fatSectors * this.perSector * sectorSize;
  }

  /** File offset of a regular sector. */
  offset(sector: number): number {
    return (sector + 1) * this.sectorSize;
  }

  /** The sector after `sector` in its chain, or a marker at or above {@link FIRST_MARKER}. */
  async next(sector: number): Promise<number> {
    const fatSector = await this.fatSector(Math.floor(sector / this.perSector));
    if (fatSector >= FIRST_MARKER) return END_OF_CHAIN;
    let fat = this.fatCache.get(fatSector);
    if (!fat) {
      const bytes = await this.reader.read(this.offset(fatSector), this.sectorSize);
      if (bytes.byteLength < this.sectorSize) return END_OF_CHAIN;
      fat = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      this.fatCache.set(fatSector, fat);
    }
    return fat.getUint32((sector % this.perSector) * 4, true);
  }

  /** The id of the `index`th FAT sector, from the header or the DIFAT chain; a marker past the end. */
  private async fatSector(index: number): Promise<number> {
    if (index < HEADER_FAT_SECTORS) return this.header.getUint32(76 + index * 4, true);
    const listed = index - HEADER_FAT_SECTORS;
    while (this.difatFatSectors.length <= listed) {
      if (this.difatSectorsLeft === 0 || this.nextDifatSector >= FIRST_MARKER) return END_OF_CHAIN;
      const bytes = await this.reader.read(this.offset(this.nextDifatSector), this.sectorSize);
      if (bytes.byteLength < this.sectorSize) return END_OF_CHAIN;
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      // Each DIFAT sector lists perSector - 1 FAT sectors and ends with the next DIFAT sector's id.
      for (let at = 0; at < this.perSector - 1; at++) this.difatFatSectors.push(view.getUint32(at * 4, true));
      this.nextDifatSector = view.getUint32((this.perSector - 1) * 4, true);
      this.difatSectorsLeft--;
    }
    return this.difatFatSectors[listed] as number;
  }

  /** The mini sector after `miniSector` in its chain, or a marker. */
  async nextMini(miniSector: number): Promise<number> {
    const index = Math.floor(miniSector / this.perSector);
    if (index >= this.header.getUint32(64, true)) return END_OF_CHAIN;
    while (this.miniFatSectors.length <= index) {
      const previous = this.miniFatSectors.at(-1);
      const sector = previous === undefined ? this.header.getUint32(60, true) : await this.next(previous);
      if (sector >= FIRST_MARKER) return END_OF_CHAIN;
      this.miniFatSectors.push(sector);
    }
    const at = this.offset(this.miniFatSectors[index] as number) + (miniSector % this.perSector) * 4;
    const entry = await this.reader.read(at, 4);
    if (entry.byteLength < 4) return END_OF_CHAIN;
    return new DataView(entry.buffer, entry.byteOffset, 4).getUint32(0, true);
  }
}

/**
 * One stream's bytes by position, following its chain through the FAT or,
 * under the cutoff, through the mini FAT into the mini stream. The chain is
 * walked as far as reads need it, and no further than the stream's size and
 * the size of what holds it (the mini stream, or the file up to the bytes the
 * FAT can address, DIFAT sectors included), so a cyclic chain ends.
 */
class CfbStream implements StreamBytes {
  readonly size: number;
  private readonly unit: number;
  private readonly maxSectors: number;
  private readonly sectors: number[] = [];

  /** `miniStream` is the root entry's stream, where a stream under the cutoff lives. */
  constructor(
    private readonly reader: BlockReader,
    private readonly chains: SectorChains,
    private readonly entry: DirectoryEntry,
    private readonly miniStream?: CfbStream,
  ) {
    this.size = entry.size;
    const mini = miniStream !== undefined && entry.size < MINI_STREAM_CUTOFF;
    this.unit = mini ? MINI_SECTOR_BYTES : chains.sectorSize;
    const container = mini ? miniStream.size : Math.min(reader.size, chains.addressableBytes);
    this.maxSectors = Math.ceil(Math.min(entry.size, container) / this.unit);
  }

  async read(position: number, length: number): Promise<Uint8Array> {
    const end = Math.min(this.size, position + length);
    const parts: Uint8Array[] = [];
    for (let at = position; at < end; ) {
      const sector = await this.sectorAt(Math.floor(at / this.unit));
      if (sector === undefined) break;
      const within = at % this.unit;
      const wanted = Math.min(this.unit - within, end - at);
      const bytes =
        this.unit === MINI_SECTOR_BYTES && this.miniStream
          ? await this.miniStream.read(sector * MINI_SECTOR_BYTES + within, wanted)
          : await this.reader.read(this.chains.offset(sector) + within, wanted);
      parts.push(bytes);
      at += bytes.byteLength;
      if (bytes.byteLength < wanted) break;
    }
    if (parts.length === 1) return parts[0] as Uint8Array;
    const out = new Uint8Array(parts.reduce((sum, part) => sum + part.byteLength, 0));
    let offset = 0;
    for (const part of parts) {
      out.set(part, offset);
      offset += part.byteLength;
    }
    return out;
  }

  /** The `index`th sector of the chain, or undefined past its end. */
  private async sectorAt(index: number): Promise<number | undefined> {
    if (index >= this.maxSectors) return undefined;
    while (this.sectors.length <= index) {
      const previous = this.sectors.at(-1);
      const sector =
        previous === undefined
          ? this.entry.startSector
          : this.unit === MINI_SECTOR_BYTES
            ? await this.chains.nextMini(previous)
            : await this.chains.next(previous);
      if (sector >= FIRST_MARKER) return undefined;
      this.sectors.push(sector);
    }
    return this.sectors[index];
  }
}

/** The directory's entries, following its sector chain; `warn` is told when the chain goes on past the budget. */
async function readDirectory(
  reader: BlockReader,
  header: DataView,
  chains: SectorChains,
  warn: (message: string) => void,
): Promise<DirectoryEntry[]> {
  const sectorSize = chains.sectorSize;
  const utf16 = textDecoder("utf-16le");
  // Indexed by entry id (unused slots included), as sibling and child links name them.
  const entries: DirectoryEntry[] = [];
  let sector = header.getUint32(48, true);
  for (let walked = 0; sector < FIRST_MARKER; walked++) {
    if (walked === MAX_DIRECTORY_SECTORS) {
      warn(
        `CFB directory longer than ${MAX_DIRECTORY_SECTORS} sectors (or looping): entries past them not read`,
      );
      break;
    }
    const directory = await reader.read(chains.offset(sector), sectorSize);
    for (let at = 0; at + DIRECTORY_ENTRY_BYTES <= directory.byteLength; at += DIRECTORY_ENTRY_BYTES) {
      const view = new DataView(directory.buffer, directory.byteOffset + at, DIRECTORY_ENTRY_BYTES);
      const nameBytes = Math.min(64, view.getUint16(64, true));
      const name = nameBytes < 2 ? "" : utf16.decode(directory.subarray(at, at + nameBytes - 2));
      entries.push({
        name,
        type: view.getUint8(66),
        left: view.getUint32(68, true),
        right: view.getUint32(72, true),
        child: view.getUint32(76, true),
        clsid: directory.slice(at + 80, at + 96),
        startSector: view.getUint32(116, true),
        size: view.getUint32(120, true),
      });
    }
    // A short sector is the end of the file; reading on would shift the ids of later entries.
    if (directory.byteLength < sectorSize) break;
    sector = await chains.next(sector);
  }
  return entries;
}
