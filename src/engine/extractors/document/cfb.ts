import type { BlockReader } from "../../byte-source/block-reader.js";
import { ContentError } from "../../errors.js";
import type { DocumentInfo } from "../../types.js";

const CFB_SIGNATURE = [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1];
const DIRECTORY_ENTRY_BYTES = 128;
/** Streams below this size live in the mini stream, which this cheap reader does not follow. */
const MINI_STREAM_CUTOFF = 4096;
const XLS_FILEPASS = 0x002f;
const XLS_BOUNDSHEET = 0x0085;

/** Directory entry object types (MS-CFB 2.6.1). */
const STORAGE_OBJECT = 1;
const STREAM_OBJECT = 2;
/** Sibling and child ids above this are NOSTREAM (0xFFFFFFFF) or reserved. */
const MAX_ENTRY_ID = 0xfffffffa;

interface DirectoryEntry {
  name: string;
  type: number;
  left: number;
  right: number;
  child: number;
  startSector: number;
  size: number;
}

/**
 * Legacy Compound File Binary (.doc/.xls/.ppt) and the CFB wrapper of an
 * encrypted OOXML file. Reads the header and the directory (see
 * {@link readDirectory}), and for Word and Excel the first bytes of the main
 * stream for their encryption flag. Macros are told from the directory alone:
 * a VBA project is a storage any Office application names by the same rule
 * (see {@link hasVbaProject}). Anything deeper (SummaryInformation, Excel 4.0
 * macro sheets among the Workbook's BOUNDSHEET records, the VBA project
 * PowerPoint compresses inside its main stream) is left out.
 *
 * @example
 * await readCfb(reader) // { kind: "cfb", application: "Microsoft Word", encrypted: false, macros: true }
 */
export async function readCfb(reader: BlockReader): Promise<DocumentInfo> {
  const header = await reader.read(0, 512);
  if (header.byteLength < 512 || !CFB_SIGNATURE.every((byte, i) => header[i] === byte)) {
    throw new ContentError("not a Compound File Binary (bad signature)");
  }
  const data = new DataView(header.buffer, header.byteOffset, header.byteLength);
  const sectorShift = data.getUint16(30, true);
  if (sectorShift !== 9 && sectorShift !== 12)
    throw new ContentError(`CFB sector shift ${sectorShift} is invalid`);
  const sectorSize = 2 ** sectorShift;
  const sectorOffset = (sector: number) => (sector + 1) * sectorSize;
  const entries = await readDirectory(reader, data, sectorSize);
  const named = (name: string) => entries.find((entry) => entry.name === name);
  const info: DocumentInfo = { kind: "cfb" };
  if (named("EncryptedPackage") || named("EncryptionInfo")) {
    // An encrypted OOXML file: the zip package is inside, encrypted.
    return { ...info, application: "Office Open XML (encrypted)", encrypted: true };
  }
  const word = named("WordDocument");
  const workbook = named("Workbook") ?? named("Book");
  if (named("PowerPoint Document")) info.application = "Microsoft PowerPoint";
  if (word) {
    info.application = "Microsoft Word";
    if (word.size >= MINI_STREAM_CUTOFF) {
      // FIB base: flags word at 0x0A, fEncrypted is bit 8.
      const fib = await reader.read(sectorOffset(word.startSector), 12);
      if (fib.byteLength === 12)
        info.encrypted = (new DataView(fib.buffer, fib.byteOffset, 12).getUint16(10, true) & 0x0100) !== 0;
    }
  } else if (workbook) {
    info.application = "Microsoft Excel";
    if (workbook.size >= MINI_STREAM_CUTOFF)
      info.encrypted = await workbookHasFilePass(reader, sectorOffset(workbook.startSector), sectorSize);
  }
  if (hasVbaProject(entries)) info.macros = true;
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

/** Directory sectors followed along the FAT chain; Office's main streams sit in the first few. */
const MAX_DIRECTORY_SECTORS = 32;
const END_OF_CHAIN = 0xfffffffe;

/**
 * The directory's entries, following its sector chain through the FAT sectors
 * the header lists (the first 109, enough for files up to ~7 MB of 512-byte
 * sectors; beyond that the walk stops early and later entries go unseen).
 */
async function readDirectory(
  reader: BlockReader,
  header: DataView,
  sectorSize: number,
): Promise<DirectoryEntry[]> {
  const sectorOffset = (sector: number) => (sector + 1) * sectorSize;
  const perFatSector = sectorSize / 4;
  const fatCache = new Map<number, DataView>();
  const nextSector = async (sector: number): Promise<number> => {
    const index = Math.floor(sector / perFatSector);
    if (index >= 109) return END_OF_CHAIN;
    const fatSector = header.getUint32(76 + index * 4, true);
    let fat = fatCache.get(fatSector);
    if (!fat) {
      const bytes = await reader.read(sectorOffset(fatSector), sectorSize);
      if (bytes.byteLength < sectorSize) return END_OF_CHAIN;
      fat = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      fatCache.set(fatSector, fat);
    }
    return fat.getUint32((sector % perFatSector) * 4, true);
  };
  // Indexed by entry id (unused slots included), as sibling and child links name them.
  const entries: DirectoryEntry[] = [];
  let sector = header.getUint32(48, true);
  for (let walked = 0; walked < MAX_DIRECTORY_SECTORS && sector < 0xfffffffa; walked++) {
    const directory = await reader.read(sectorOffset(sector), sectorSize);
    for (let at = 0; at + DIRECTORY_ENTRY_BYTES <= directory.byteLength; at += DIRECTORY_ENTRY_BYTES) {
      const view = new DataView(directory.buffer, directory.byteOffset + at, DIRECTORY_ENTRY_BYTES);
      const nameBytes = Math.min(64, view.getUint16(64, true));
      const name =
        nameBytes < 2 ? "" : new TextDecoder("utf-16le").decode(directory.subarray(at, at + nameBytes - 2));
      entries.push({
        name,
        type: view.getUint8(66),
        left: view.getUint32(68, true),
        right: view.getUint32(72, true),
        child: view.getUint32(76, true),
        startSector: view.getUint32(116, true),
        size: view.getUint32(120, true),
      });
    }
    // A short sector is the end of the file; reading on would shift the ids of later entries.
    if (directory.byteLength < sectorSize) break;
    sector = await nextSector(sector);
  }
  return entries;
}

/** BIFF8: a FILEPASS record sits among the first globals records, before any BOUNDSHEET. */
async function workbookHasFilePass(
  reader: BlockReader,
  offset: number,
  sectorSize: number,
): Promise<boolean> {
  const stream = await reader.read(offset, sectorSize);
  const view = new DataView(stream.buffer, stream.byteOffset, stream.byteLength);
  for (let at = 0; at + 4 <= stream.byteLength; ) {
    const type = view.getUint16(at, true);
    const length = view.getUint16(at + 2, true);
    if (type === XLS_FILEPASS) return true;
    if (type === XLS_BOUNDSHEET) return false;
    at += 4 + length;
  }
  return false;
}
