/**
 * Compound File Binary (OLE2) files built byte by byte, for tests that need a
 * legacy Office file the corpus lacks: version 3 (512-byte sectors), streams
 * under the 4096-byte cutoff in the mini stream as [MS-CFB] requires, each
 * storage's children in a balanced red-black tree.
 */

import { BlockReader } from "../../src/engine/byte-source/block-reader.js";
import { readCfb } from "../../src/engine/extractors/document/cfb.js";
import { BufferSource } from "../../src/engine/index.js";
import type { DocumentInfo } from "../../src/engine/types.js";

/** A stream (with `content`) or a storage (with `children`) in a file built by {@link buildCfb}. */
export type CfbNode =
  | { name: string; content: Uint8Array | string }
  | { name: string; children: readonly CfbNode[] };

const SECTOR = 512;
const MINI_SECTOR = 64;
const MINI_STREAM_CUTOFF = 4096;
const FREE = 0xffffffff;
const END_OF_CHAIN = 0xfffffffe;
const FAT_SECTOR = 0xfffffffd;
const DIFAT_SECTOR = 0xfffffffc;
const NO_STREAM = 0xffffffff;

interface Entry {
  name: string;
  type: 1 | 2 | 5;
  content?: Buffer;
  children: number[];
  left: number;
  right: number;
  child: number;
  red: boolean;
  start: number;
  size: number;
}

/**
 * A compound file whose root storage holds `children`. Entry ids are given
 * breadth first (the root's children, then theirs), so a test can tell which
 * entry lands in which directory sector: four entries to a sector, the root
 * first. With `scattered`, each stream of 4096 bytes or more has its sectors
 * laid out last first, so only a reader that follows the FAT chain reads it
 * in order. With `directoryLast`, the directory follows every stream, as Word
 * writes it. A file of more sectors than the header's 109 FAT sectors map
 * (about 7 MB) lists the rest of its FAT sectors in DIFAT sectors.
 *
 * @example
 * buildCfb([{ name: "WordDocument", content: fib }, { name: "Macros", children: [...] }])
 */
export function buildCfb(
  children: readonly CfbNode[],
  options: { scattered?: boolean; directoryLast?: boolean } = {},
): Uint8Array {
  const entries = flatten(children);
  for (const entry of entries) linkChildren(entries, entry);

  const bytes = (entry: Entry) => entry.content?.byteLength ?? 0;
  const small = entries.filter(
    (entry) => entry.type === 2 && bytes(entry) > 0 && bytes(entry) < MINI_STREAM_CUTOFF,
  );
  const large = entries.filter((entry) => entry.type === 2 && bytes(entry) >= MINI_STREAM_CUTOFF);

  // The mini stream: small streams in 64-byte mini sectors, chained in the mini FAT.
  const miniFat: number[] = [];
  const miniChunks: Buffer[] = [];
  for (const entry of small) {
    const count = Math.ceil(bytes(entry) / MINI_SECTOR);
    entry.start = miniFat.length;
    entry.size = bytes(entry);
    for (let i = 0; i < count; i++) miniFat.push(i === count - 1 ? END_OF_CHAIN : miniFat.length + 1);
    miniChunks.push(pad(entry.content as Buffer, count * MINI_SECTOR));
  }
  const miniStream = Buffer.concat(miniChunks);

  const directorySectors = Math.ceil((entries.length * 128) / SECTOR);
  const miniFatSectors = Math.ceil((miniFat.length * 4) / SECTOR);
  const miniStreamSectors = Math.ceil(miniStream.byteLength / SECTOR);
  const largeSectors = large.reduce((sum, entry) => sum + Math.ceil(bytes(entry) / SECTOR), 0);
  const dataSectors = directorySectors + miniFatSectors + miniStreamSectors + largeSectors;
  const perSector = SECTOR / 4;
  const difatSectorsFor = (fatSectors: number) =>
    Math.max(0, Math.ceil((fatSectors - 109) / (perSector - 1)));
  let fatSectors = 1;
  while (fatSectors * perSector < fatSectors + difatSectorsFor(fatSectors) + dataSectors) fatSectors++;
  const difatSectors = difatSectorsFor(fatSectors);

  const fat: number[] = [...Array(fatSectors).fill(FAT_SECTOR), ...Array(difatSectors).fill(DIFAT_SECTOR)];
  const chain = (count: number): number => {
    if (count === 0) return END_OF_CHAIN;
    const start = fat.length;
    for (let i = 0; i < count; i++) fat.push(i === count - 1 ? END_OF_CHAIN : fat.length + 1);
    return start;
  };
  let directoryStart = options.directoryLast ? END_OF_CHAIN : chain(directorySectors);
  const miniFatStart = chain(miniFatSectors);
  const root = entries[0] as Entry;
  root.start = chain(miniStreamSectors);
  root.size = miniStream.byteLength;
  const largeChunks: Buffer[] = [];
  for (const entry of large) {
    const count = Math.ceil(bytes(entry) / SECTOR);
    const content = pad(entry.content as Buffer, count * SECTOR);
    entry.size = bytes(entry);
    if (!options.scattered) {
      entry.start = chain(count);
      largeChunks.push(content);
      continue;
    }
    // Sector first + i holds chunk count - 1 - i and links to the sector before it.
    const first = fat.length;
    for (let i = 0; i < count; i++) {
      fat.push(i === 0 ? END_OF_CHAIN : first + i - 1);
      largeChunks.push(content.subarray((count - 1 - i) * SECTOR, (count - i) * SECTOR));
    }
    entry.start = first + count - 1;
  }
  if (options.directoryLast) directoryStart = chain(directorySectors);

  const header = Buffer.alloc(SECTOR);
  Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]).copy(header, 0);
  header.writeUInt16LE(0x003e, 24);
  header.writeUInt16LE(3, 26);
  header.writeUInt16LE(0xfffe, 28);
  header.writeUInt16LE(9, 30);
  header.writeUInt16LE(6, 32);
  header.writeUInt32LE(fatSectors, 44);
  header.writeUInt32LE(directoryStart, 48);
  header.writeUInt32LE(MINI_STREAM_CUTOFF, 56);
  header.writeUInt32LE(miniFatStart, 60);
  header.writeUInt32LE(miniFatSectors, 64);
  header.writeUInt32LE(difatSectors > 0 ? fatSectors : END_OF_CHAIN, 68);
  header.writeUInt32LE(difatSectors, 72);
  for (let i = 0; i < 109; i++) header.writeUInt32LE(i < fatSectors ? i : FREE, 76 + i * 4);
  // Each DIFAT sector lists the next FAT sectors' ids and ends with the next DIFAT sector's.
  const difat = Array.from({ length: difatSectors }, (_, k) => {
    const ids = Array.from({ length: perSector - 1 }, (_, i) => 109 + k * (perSector - 1) + i).map((id) =>
      id < fatSectors ? id : FREE,
    );
    return table([...ids, k === difatSectors - 1 ? END_OF_CHAIN : fatSectors + k + 1], SECTOR);
  });

  const directory = [
    ...entries.map(directoryEntry),
    ...Array.from({ length: directorySectors * (SECTOR / 128) - entries.length }, unusedEntry),
  ];
  return Buffer.concat([
    header,
    table(fat, fatSectors * SECTOR),
    ...difat,
    ...(options.directoryLast ? [] : directory),
    table(miniFat, miniFatSectors * SECTOR),
    pad(miniStream, miniStreamSectors * SECTOR),
    ...largeChunks,
    ...(options.directoryLast ? directory : []),
  ]);
}

/** The root and every node below it, breadth first, each storage listing its children's ids. */
function flatten(children: readonly CfbNode[]): Entry[] {
  const entry = (name: string, type: Entry["type"], content?: Buffer): Entry => ({
    name,
    type,
    ...(content && { content }),
    children: [],
    left: NO_STREAM,
    right: NO_STREAM,
    child: NO_STREAM,
    red: false,
    // A storage's start sector is zero; an empty stream's has no chain.
    start: type === 1 ? 0 : END_OF_CHAIN,
    size: 0,
  });
  const entries: Entry[] = [entry("Root Entry", 5)];
  const queue: { id: number; nodes: readonly CfbNode[] }[] = [{ id: 0, nodes: children }];
  for (let next = queue.shift(); next; next = queue.shift()) {
    for (const node of next.nodes) {
      const id = entries.length;
      if ("children" in node) {
        entries.push(entry(node.name, 1));
        queue.push({ id, nodes: node.children });
      } else {
        entries.push(entry(node.name, 2, Buffer.from(node.content)));
      }
      (entries[next.id] as Entry).children.push(id);
    }
  }
  return entries;
}

/**
 * A storage's children as a balanced binary search tree in [MS-CFB]'s order
 * (shorter names first, then by upper-cased code units), black but for an
 * incomplete last level, which is red: a valid red-black tree.
 */
function linkChildren(entries: Entry[], storage: Entry): void {
  const sorted = [...storage.children].sort((a, b) =>
    compareNames((entries[a] as Entry).name, (entries[b] as Entry).name),
  );
  const depth = Math.floor(Math.log2(sorted.length + 1));
  const complete = sorted.length === 2 ** depth - 1;
  const build = (from: number, to: number, level: number): number => {
    if (from >= to) return NO_STREAM;
    const middle = Math.floor((from + to) / 2);
    const id = sorted[middle] as number;
    const node = entries[id] as Entry;
    node.left = build(from, middle, level + 1);
    node.right = build(middle + 1, to, level + 1);
    node.red = !complete && level === depth;
    return id;
  };
  storage.child = build(0, sorted.length, 0);
}

function compareNames(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  const upperA = a.toUpperCase();
  const upperB = b.toUpperCase();
  return upperA < upperB ? -1 : upperA > upperB ? 1 : 0;
}

function directoryEntry(entry: Entry): Buffer {
  const out = Buffer.alloc(128);
  const name = Buffer.from(`${entry.name}\0`, "utf16le");
  if (name.byteLength > 64) throw new Error(`buildCfb: name too long: ${entry.name}`);
  name.copy(out, 0);
  out.writeUInt16LE(name.byteLength, 64);
  out.writeUInt8(entry.type, 66);
  out.writeUInt8(entry.red ? 0 : 1, 67);
  out.writeUInt32LE(entry.left, 68);
  out.writeUInt32LE(entry.right, 72);
  out.writeUInt32LE(entry.child, 76);
  out.writeUInt32LE(entry.start, 116);
  out.writeUInt32LE(entry.size, 120);
  return out;
}

/** An unallocated directory slot: zeros, but for sibling and child ids of NOSTREAM. */
function unusedEntry(): Buffer {
  const out = Buffer.alloc(128);
  for (const at of [68, 72, 76]) out.writeUInt32LE(NO_STREAM, at);
  return out;
}

function table(values: readonly number[], length: number): Buffer {
  const out = Buffer.alloc(length, 0xff);
  values.forEach((value, i) => {
    out.writeUInt32LE(value, i * 4);
  });
  return out;
}

function pad(bytes: Buffer, length: number): Buffer {
  return Buffer.concat([bytes, Buffer.alloc(length - bytes.byteLength)]);
}

/**
 * A property of a set built by {@link summaryInformationStream}: a string as
 * VT_LPSTR (in the set's code page, or raw bytes) or VT_LPWSTR, a VT_FILETIME
 * (100-ns ticks since 1601), or a VT_I4.
 */
export type SummaryProperty =
  | {
      id: number;
      value: string | Uint8Array;
      /** @default false: VT_LPSTR */
      wide?: boolean;
    }
  | { id: number; fileTime: bigint }
  | { id: number; i4: number };

/** FILETIME ticks of an instant: 100-ns units since 1601-01-01 UTC. */
export function fileTimeOf(iso: string): bigint {
  return (BigInt(Date.parse(iso)) + 11_644_473_600_000n) * 10_000n;
}

const FMTIDS = {
  summary: "e0859ff2f94f6810ab9108002b27b3d9",
  documentSummary: "02d5cdd59c2e1b10939708002b2cf9ae",
} as const;

/**
 * A `\u0005SummaryInformation` stream ([MS-OLEPS] PropertySetStream): one set,
 * FMTID_SummaryInformation (or, with `fmtid: "documentSummary"`,
 * FMTID_DocSummaryInformation for a `\u0005DocumentSummaryInformation`
 * stream), holding PIDSI_CODEPAGE when `codePage` is given and then
 * `properties`. A VT_LPSTR string is written in latin1 (Windows-1252 for the
 * characters tests use) or UTF-16LE under code page 1200; give bytes for any
 * other code page.
 *
 * @example
 * buildCfb([WORD_DOCUMENT, { name: "\u0005SummaryInformation", content: summaryInformationStream(1252, [{ id: 3, value: "Q3" }]) }])
 */
export function summaryInformationStream(
  codePage: number | undefined,
  properties: readonly SummaryProperty[],
  options: { fmtid?: keyof typeof FMTIDS } = {},
): Buffer {
  const values: { id: number; bytes: Buffer }[] = [];
  if (codePage !== undefined) {
    const value = Buffer.alloc(8);
    value.writeUInt16LE(0x0002, 0);
    value.writeUInt16LE(codePage, 4);
    values.push({ id: 1, bytes: value });
  }
  for (const property of properties) {
    if ("fileTime" in property) {
      const value = Buffer.alloc(12);
      value.writeUInt16LE(0x0040, 0);
      value.writeBigUInt64LE(property.fileTime, 4);
      values.push({ id: property.id, bytes: value });
      continue;
    }
    if ("i4" in property) {
      const value = Buffer.alloc(8);
      value.writeUInt16LE(0x0003, 0);
      value.writeInt32LE(property.i4, 4);
      values.push({ id: property.id, bytes: value });
      continue;
    }
    const text =
      typeof property.value !== "string"
        ? Buffer.from(property.value)
        : Buffer.from(`${property.value}\0`, property.wide || codePage === 1200 ? "utf16le" : "latin1");
    const header = Buffer.alloc(8);
    header.writeUInt16LE(property.wide ? 0x001f : 0x001e, 0);
    header.writeUInt32LE(property.wide ? text.byteLength / 2 : text.byteLength, 4);
    values.push({
      id: property.id,
      bytes: pad(Buffer.concat([header, text]), Math.ceil(text.byteLength / 4) * 4 + 8),
    });
  }
  const table = Buffer.alloc(8 + values.length * 8);
  let offset = table.byteLength;
  values.forEach((value, i) => {
    table.writeUInt32LE(value.id, 8 + i * 8);
    table.writeUInt32LE(offset, 12 + i * 8);
    offset += value.bytes.byteLength;
  });
  table.writeUInt32LE(offset, 0);
  table.writeUInt32LE(values.length, 4);
  const header = Buffer.alloc(48);
  header.writeUInt16LE(0xfffe, 0);
  header.writeUInt16LE(0, 2);
  header.writeUInt32LE(0x00020006, 4);
  header.writeUInt32LE(1, 24);
  Buffer.from(FMTIDS[options.fmtid ?? "summary"], "hex").copy(header, 28);
  header.writeUInt32LE(48, 44);
  return Buffer.concat([header, table, ...values.map((value) => value.bytes)]);
}

/** A BIFF record: type, body length, body ([MS-XLS] 2.1.4). */
export function biffRecord(type: number, body: Uint8Array = new Uint8Array(0)): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt16LE(type, 0);
  header.writeUInt16LE(body.byteLength, 2);
  return Buffer.concat([header, body]);
}

/**
 * BoundSheet8 `dt` values ([MS-XLS] 2.4.28) and the BOF `dt` of the substream
 * each begins (a VBA module's, 0x0006, from the BIFF5 format Excel 5/95 wrote).
 */
const SHEET_TYPES = {
  worksheet: { dt: 0x00, bof: 0x0010 },
  macro: { dt: 0x01, bof: 0x0040 },
  chart: { dt: 0x02, bof: 0x0020 },
  module: { dt: 0x06, bof: 0x0006 },
} as const;

/** One sheet of a workbook built by {@link buildWorkbookStream}. */
export interface XlsSheet {
  name: string;
  type: keyof typeof SHEET_TYPES;
  /** BoundSheet8 `hsState`. @default "visible" */
  state?: "visible" | "hidden" | "veryHidden";
}

/**
 * A BIFF8 Workbook stream: the globals substream (BOF, `filler` bytes of
 * padding records of up to 1 KiB, a FILEPASS when `encrypted`, one
 * BOUNDSHEET per sheet, EOF), then each sheet's substream (BOF, EOF). An
 * encrypted stream scrambles what [MS-XLS] 2.2.10 encrypts after FILEPASS:
 * record bodies, but for BOF and a BOUNDSHEET's stream position. `biff5`
 * writes the records as Excel 5/95 did (BOF version 0x0500 in an 8-byte
 * body, sheet names as a byte count and 8-bit characters), for a `Book` stream.
 *
 * @example
 * buildCfb([{ name: "Workbook", content: buildWorkbookStream([{ name: "Macro1", type: "macro", state: "veryHidden" }]) }])
 */
export function buildWorkbookStream(
  sheets: readonly XlsSheet[],
  options: { filler?: number; encrypted?: boolean; biff5?: boolean } = {},
): Buffer {
  const bof = (dt: number) => {
    const body = Buffer.alloc(options.biff5 ? 8 : 16);
    body.writeUInt16LE(options.biff5 ? 0x0500 : 0x0600, 0);
    body.writeUInt16LE(dt, 2);
    return biffRecord(0x0809, body);
  };
  const scramble = (body: Buffer, from = 0) => {
    if (options.encrypted) for (let i = from; i < body.byteLength; i++) body[i] = (body[i] as number) ^ 0xa5;
    return body;
  };
  const filler: Buffer[] = [];
  for (let left = options.filler ?? 0; left > 0; ) {
    const length = Math.min(left - 4, 1000);
    filler.push(biffRecord(0x00e0, scramble(Buffer.alloc(Math.max(0, length), 0x11))));
    left -= 4 + Math.max(0, length);
  }
  const filePass = options.encrypted
    ? [biffRecord(0x002f, Buffer.from([0x01, 0x00, 0x01, 0x00, 0x01, 0x00]))]
    : [];
  const boundSheet = (sheet: XlsSheet, position: number) => {
    const name = Buffer.from(sheet.name, "latin1");
    // BIFF8 names carry a flags byte (0: 8-bit characters) after the count; BIFF5 names do not.
    const nameAt = options.biff5 ? 7 : 8;
    const body = Buffer.alloc(nameAt + name.byteLength);
    body.writeUInt32LE(position, 0);
    body.writeUInt8({ visible: 0, hidden: 1, veryHidden: 2 }[sheet.state ?? "visible"], 4);
    body.writeUInt8(SHEET_TYPES[sheet.type].dt, 5);
    body.writeUInt8(name.byteLength, 6);
    name.copy(body, nameAt);
    return biffRecord(0x0085, scramble(body, 4));
  };
  const head = [bof(0x0005), ...filePass, ...filler];
  const eof = biffRecord(0x000a);
  // Positions depend only on lengths, which a first pass with placeholder positions gives.
  const globalsLength =
    head.reduce((sum, record) => sum + record.byteLength, 0) +
    sheets.reduce((sum, sheet) => sum + boundSheet(sheet, 0).byteLength, 0) +
    eof.byteLength;
  const substreams = sheets.map((sheet) => Buffer.concat([bof(SHEET_TYPES[sheet.type].bof), eof]));
  let position = globalsLength;
  const boundSheets = sheets.map((sheet, i) => {
    const record = boundSheet(sheet, position);
    position += (substreams[i] as Buffer).byteLength;
    return record;
  });
  return Buffer.concat([...head, ...boundSheets, eof, ...substreams]);
}

/** A PowerPoint record ([MS-PPT] 2.3.1): recVer and recInstance, type, body length, body. */
export function pptRecord(
  type: number,
  body: Uint8Array = new Uint8Array(0),
  header: { version?: number; instance?: number } = {},
): Buffer {
  const out = Buffer.alloc(8);
  out.writeUInt16LE(((header.instance ?? 0) << 4) | (header.version ?? 0), 0);
  out.writeUInt16LE(type, 2);
  out.writeUInt32LE(body.byteLength, 4);
  return Buffer.concat([out, body]);
}

/** A container record: recVer 0xF, its children as the body. */
function pptContainer(type: number, children: readonly Uint8Array[], instance = 0): Buffer {
  return pptRecord(type, Buffer.concat(children), { version: 0xf, instance });
}

/** The DocumentContainer one save of {@link buildPowerPointStreams} writes. */
export interface PptDocument {
  /** fHasMacros of a VBAInfoAtom in the DocInfoList; omitted, the list holds no VBAInfoContainer. */
  hasMacros?: number;
  /** Bytes of other child records ahead of the DocInfoList. @default 0 */
  filler?: number;
  /** Body bytes of each of those records. @default 1000 */
  fillerRecord?: number;
}

/** One save of a presentation: always a slide; the DocumentContainer when `document` is given. */
export interface PptSave {
  document?: PptDocument;
}

/** The two streams of a presentation, and where the last save put its records. */
export interface PptStreams {
  currentUser: Buffer;
  document: Buffer;
  at: {
    userEdit: number;
    persistDirectory: number;
    /** The last DocumentContainer written, its DocInfoList and its VBAInfoAtom record. */
    document: number;
    docInfoList: number;
    vbaInfoAtom?: number;
  };
}

const PERSIST = { document: 1, slide: 2, cryptSession: 3, vbaProject: 4 } as const;

/**
 * The `Current User` and `PowerPoint Document` streams of a PowerPoint 97-2003
 * presentation saved `saves.length` times: the first a full save, each later
 * one appended as a fast save does, with its own persist directory and a
 * UserEditAtom pointing back to the previous one ([MS-PPT] 3.2). Persist ids:
 * 1 the DocumentContainer, 2 a slide, 3 the CryptSession10Container, 4 the VBA
 * project storage (written with a VBAInfoAtom whose fHasMacros is not 0).
 * With `encrypted`, every persist object but the CryptSession10Container's
 * header is scrambled, as [MS-PPT] 2.3.7 encrypts them.
 *
 * @example
 * const { currentUser, document } = buildPowerPointStreams([{ document: { hasMacros: 1 } }]);
 * buildCfb([{ name: "Current User", content: currentUser }, { name: "PowerPoint Document", content: document }])
 */
export function buildPowerPointStreams(
  saves: readonly PptSave[],
  options: { encrypted?: boolean } = {},
): PptStreams {
  const scramble = (record: Buffer, from = 0) => {
    if (options.encrypted)
      for (let i = from; i < record.byteLength; i++) record[i] = (record[i] as number) ^ 0xa5;
    return record;
  };
  const chunks: Buffer[] = [];
  let length = 0;
  const append = (record: Buffer) => {
    const at = length;
    chunks.push(record);
    length += record.byteLength;
    return at;
  };
  let lastEdit = 0;
  let persistIdSeed = 0;
  const at: Partial<PptStreams["at"]> = {};
  for (const [index, save] of saves.entries()) {
    const offsets = new Map<number, number>();
    if (save.document) {
      const { record, docInfoList, vbaInfoAtom } = documentContainer(save.document);
      const documentAt = append(scramble(record));
      offsets.set(PERSIST.document, documentAt);
      at.document = documentAt;
      at.docInfoList = documentAt + docInfoList;
      if (vbaInfoAtom === undefined) delete at.vbaInfoAtom;
      else at.vbaInfoAtom = documentAt + vbaInfoAtom;
      if (save.document.hasMacros) {
        // A VbaProjectStg: its decompressed size, then zlib data, beside the point here.
        const project = Buffer.from([0x00, 0x10, 0x00, 0x00, 0x78, 0x9c, 0x03, 0x00]);
        offsets.set(PERSIST.vbaProject, append(scramble(pptRecord(0x1011, project, { instance: 1 }))));
      }
    }
    offsets.set(PERSIST.slide, append(scramble(pptContainer(0x03ee, [pptRecord(0x03ef, Buffer.alloc(24))]))));
    const encrypted = options.encrypted && index === 0;
    if (encrypted) {
      const session = pptRecord(0x2f14, Buffer.alloc(64, 0x5a), { version: 0xf });
      offsets.set(PERSIST.cryptSession, append(scramble(session, 8)));
    }
    persistIdSeed = Math.max(persistIdSeed, ...offsets.keys());
    const persistDirectory = append(pptRecord(0x1772, persistDirectoryEntries(offsets)));
    const userEdit = Buffer.alloc(encrypted ? 0x20 : 0x1c);
    userEdit.writeUInt32LE(0x100, 0);
    userEdit.writeUInt8(3, 7);
    userEdit.writeUInt32LE(lastEdit, 8);
    userEdit.writeUInt32LE(persistDirectory, 12);
    userEdit.writeUInt32LE(PERSIST.document, 16);
    userEdit.writeUInt32LE(persistIdSeed, 20);
    userEdit.writeUInt16LE(1, 24);
    if (encrypted) userEdit.writeUInt32LE(PERSIST.cryptSession, 28);
    lastEdit = append(pptRecord(0x0ff5, userEdit));
    at.userEdit = lastEdit;
    at.persistDirectory = persistDirectory;
  }
  if (at.document === undefined) throw new Error("buildPowerPointStreams: no save writes the document");

  const user = Buffer.from("Ana", "latin1");
  const fixed = Buffer.alloc(20);
  fixed.writeUInt32LE(0x14, 0);
  fixed.writeUInt32LE(options.encrypted ? 0xf3d1c4df : 0xe391c05f, 4);
  fixed.writeUInt32LE(lastEdit, 8);
  fixed.writeUInt16LE(user.byteLength, 12);
  fixed.writeUInt16LE(0x03f4, 14);
  fixed.writeUInt8(3, 16);
  const relVersion = Buffer.from([0x08, 0x00, 0x00, 0x00]);
  const currentUser = pptRecord(
    0x0ff6,
    Buffer.concat([fixed, user, relVersion, Buffer.from("Ana", "utf16le")]),
  );
  return { currentUser, document: Buffer.concat(chunks), at: at as PptStreams["at"] };
}

/** A DocumentContainer (DocumentAtom, filler, a DocInfoList, EndDocumentAtom), and offsets within it. */
function documentContainer(document: PptDocument): {
  record: Buffer;
  docInfoList: number;
  vbaInfoAtom?: number;
} {
  const children: Buffer[] = [pptRecord(0x03e9, Buffer.alloc(40), { version: 1 })];
  const fillerRecord = document.fillerRecord ?? 1000;
  for (let left = document.filler ?? 0; left > 0; ) {
    const body = Math.max(0, Math.min(left - 8, fillerRecord));
    // An atom the walk skips: a CString, as a document's named shows hold.
    children.push(pptRecord(0x0fba, Buffer.alloc(body, 0x11)));
    left -= 8 + body;
  }
  const progTags = pptContainer(0x1388, []);
  const list: Buffer[] = [progTags];
  if (document.hasMacros !== undefined) {
    const atom = Buffer.alloc(12);
    atom.writeUInt32LE(document.hasMacros ? PERSIST.vbaProject : 0, 0);
    atom.writeUInt32LE(document.hasMacros, 4);
    atom.writeUInt32LE(2, 8);
    list.push(pptContainer(0x03ff, [pptRecord(0x0400, atom, { version: 2 })], 1));
  }
  const before = children.reduce((sum, child) => sum + child.byteLength, 0);
  children.push(pptContainer(0x07d0, list), pptRecord(0x03ea));
  const record = pptContainer(0x03e8, children);
  const docInfoList = 8 + before;
  // Past the list's header, ProgTags and the VBAInfoContainer's header.
  const vbaInfoAtom = docInfoList + 8 + progTags.byteLength + 8;
  return document.hasMacros === undefined ? { record, docInfoList } : { record, docInfoList, vbaInfoAtom };
}

/** Persist directory entries: each run of consecutive ids as a count and first id, then its offsets. */
function persistDirectoryEntries(offsets: ReadonlyMap<number, number>): Buffer {
  const ids = [...offsets.keys()].sort((a, b) => a - b);
  const entries: Buffer[] = [];
  for (let i = 0; i < ids.length; ) {
    let run = 1;
    while (ids[i + run] === (ids[i] as number) + run) run++;
    const entry = Buffer.alloc(4 + run * 4);
    entry.writeUInt32LE(((run << 20) | (ids[i] as number)) >>> 0, 0);
    for (let j = 0; j < run; j++) entry.writeUInt32LE(offsets.get(ids[i + j] as number) as number, 4 + j * 4);
    entries.push(entry);
    i += run;
  }
  return Buffer.concat(entries);
}

/**
 * Reads `bytes` with readCfb alone, in 512-byte blocks under `budget`, for
 * the warnings it gives, which `extract` folds into the record.
 */
export async function readCfbWithWarnings(
  bytes: Uint8Array,
  name: string,
  budget?: { maxBytes: number; maxRequests: number },
): Promise<{ document: DocumentInfo; warnings: string[]; reader: BlockReader }> {
  const warnings: string[] = [];
  const reader = new BlockReader(new BufferSource(bytes, name), {
    blockSize: 512,
    ...(budget && { budget }),
  });
  const document = await readCfb(reader, (message) => warnings.push(message));
  return { document, warnings, reader };
}

/**
 * Where a suite's main stream may lie in a built file, for readers that must
 * find it wherever it is: a label, the filler that sets the stream's size
 * (under the 4096-byte cutoff or past it), and {@link buildCfb}'s layout.
 */
export const STREAM_PLACEMENTS: ReadonlyArray<
  readonly [label: string, size: { filler?: number }, layout: { scattered?: boolean }]
> = [
  ["in the mini stream", {}, {}],
  ["past the first sector of the mini stream", { filler: 1500 }, {}],
  ["in regular sectors", { filler: 5000 }, {}],
  ["in regular sectors chained out of order", { filler: 5000 }, { scattered: true }],
];
