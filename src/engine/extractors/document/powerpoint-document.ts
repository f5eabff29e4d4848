import { ContentError, LimitExceededError } from "../../errors.js";
import { boundedLength } from "../../limits.js";
import { u16, u32 } from "../bytes.js";
import type { StreamBytes } from "./workbook-globals.js";

/**
 * The VBA flag of a legacy PowerPoint (97-2003) presentation. PowerPoint
 * keeps its VBA project compressed inside the `PowerPoint Document` stream,
 * so the compound file's directory shows nothing; the flag is reached by
 * following [MS-PPT]'s offsets (2.1.2, 3.2): the `Current User` stream's
 * CurrentUserAtom names the current UserEditAtom, whose persist directory
 * (with those of earlier edits, newest first) gives the DocumentContainer's
 * offset, whose DocInfoListContainer may hold a VBAInfoContainer and its
 * VBAInfoAtom.
 *
 * Written by hand: the npm readers of .ppt (SheetJS's ppt, @office-open/ppt)
 * parse a whole presentation out of one buffer held in memory, to get at its
 * slides; this flag takes a few hundred bytes, read here by range through the
 * compound file's sector chains.
 */

/**
 * Bytes of the PowerPoint Document stream read at most. A walk reads a few
 * hundred: the edit atoms, their persist directories and the record headers
 * of one container.
 */
export const MAX_PRESENTATION_BYTES = 256 * 1024;

const HEADER_BYTES = 8;
/** recVer of a container, whose body is child records ([MS-PPT] 2.3.1). */
const CONTAINER = 0xf;

/** Record types ([MS-PPT] 2.13.24). */
const RT_DOCUMENT = 0x03e8;
const RT_VBA_INFO = 0x03ff;
const RT_VBA_INFO_ATOM = 0x0400;
const RT_LIST = 0x07d0;
const RT_USER_EDIT_ATOM = 0x0ff5;
const RT_CURRENT_USER_ATOM = 0x0ff6;
const RT_PERSIST_DIRECTORY_ATOM = 0x1772;
const RT_CRYPT_SESSION_10_CONTAINER = 0x2f14;

/** UserEditAtom body lengths: without and with encryptSessionPersistIdRef ([MS-PPT] 2.3.3). */
const USER_EDIT_BYTES = 0x1c;
const USER_EDIT_ENCRYPTED_BYTES = 0x20;
/** VBAInfoAtom body: persistIdRef, fHasMacros, version. */
const VBA_INFO_ATOM_BYTES = 12;

/** What the PowerPoint Document stream tells about the presentation. */
export interface PowerPointDocument {
  /**
   * True when the current edit names a CryptSession10Container, false when
   * the walk reached the DocumentContainer in the clear; undefined when it
   * stopped before either.
   */
  encrypted?: boolean;
  /**
   * The current DocumentContainer's VBAInfoAtom says the VBA project holds
   * data (`fHasMacros`); false without one; undefined when it went unread.
   */
  macros?: boolean;
}

/**
 * Follows the current edit to the DocumentContainer and reads its
 * VBAInfoAtom's `fHasMacros`, within {@link MAX_PRESENTATION_BYTES} of
 * `document` and the reader's budget. Each offset and length decoded is
 * checked against the stream before use; the edit chain is followed only
 * backwards, so a cyclic one ends. A missing `Current User` stream, a
 * damaged or cut record, an encrypted presentation (whose DocumentContainer
 * is ciphertext) or a bound reached leaves `macros` undefined and says why
 * through `warn`, in one line.
 *
 * No search for a DocumentContainer by its record type stands in for a
 * damaged chain: each fast save appends a new DocumentContainer, and only the
 * persist directory tells which one is current, so a scan could report a
 * project since removed, or miss one since added.
 *
 * @example
 * await readPowerPointDocument(stream, currentUser, ctx.warn) // { encrypted: false, macros: true }
 */
export async function readPowerPointDocument(
  document: StreamBytes,
  currentUser: StreamBytes | undefined,
  warn: (message: string) => void,
): Promise<PowerPointDocument> {
  try {
    if (!currentUser) throw new ContentError("no Current User stream");
    const found = await walk(new RecordReader(document), currentUser);
    if (found.encrypted) warn("PowerPoint macros not checked: the presentation is encrypted");
    return found;
  } catch (error) {
    if (!(error instanceof ContentError || error instanceof LimitExceededError)) throw error;
    warn(`PowerPoint macros not checked: ${error.message}`);
    return {};
  }
}

/** CurrentUserAtom, current UserEditAtom, persist directory, DocumentContainer; content errors thrown. */
async function walk(records: RecordReader, currentUser: StreamBytes): Promise<PowerPointDocument> {
  // CurrentUserAtom ([MS-PPT] 2.3.2): header, size, headerToken, offsetToCurrentEdit.
  const atom = await currentUser.read(0, 20);
  if (atom.byteLength < 20 || u16(atom, 2) !== RT_CURRENT_USER_ATOM) {
    throw new ContentError("the Current User stream holds no CurrentUserAtom");
  }
  const edit = await readUserEdit(records, u32(atom, 16));
  const persist = new PersistDirectory(records, edit);
  if (edit.encryptionSession !== undefined) {
    // Only the edit atoms, the persist directories and this container's header stay in the clear ([MS-PPT] 2.3.7).
    const at = await persist.offsetOf(edit.encryptionSession);
    if (at !== undefined && (await records.header(at)).type === RT_CRYPT_SESSION_10_CONTAINER) {
      return { encrypted: true };
    }
  }
  const at = await persist.offsetOf(edit.document);
  if (at === undefined) {
    throw new ContentError(
      `no persist directory lists persist object ${edit.document}, the DocumentContainer`,
    );
  }
  const container = await records.header(at);
  if (container.type !== RT_DOCUMENT || container.version !== CONTAINER) {
    throw new ContentError(`persist object ${edit.document} at byte ${at} is no DocumentContainer`);
  }
  return { encrypted: false, macros: await hasMacros(records, container) };
}

/**
 * The VBAInfoAtom's `fHasMacros` (0: the VBA storage is empty), from the
 * VBAInfoContainer among the DocumentContainer's DocInfoListContainer's
 * children ([MS-PPT] 2.4.5). Any value but 0 counts: missing a project is
 * the costlier mistake.
 */
async function hasMacros(records: RecordReader, document: RecordHeader): Promise<boolean> {
  for await (const child of records.children(document)) {
    if (child.type !== RT_LIST || child.version !== CONTAINER) continue;
    for await (const info of records.children(child)) {
      if (info.type !== RT_VBA_INFO) continue;
      const atom = await records.header(info.at + HEADER_BYTES, info.end);
      if (atom.type !== RT_VBA_INFO_ATOM || atom.length < VBA_INFO_ATOM_BYTES) {
        throw new ContentError(`the VBAInfoContainer at byte ${info.at} holds no VBAInfoAtom`);
      }
      const body = await records.bytes(atom.at + HEADER_BYTES, VBA_INFO_ATOM_BYTES);
      return u32(body, 4) !== 0;
    }
  }
  return false;
}

/** A UserEditAtom's offsets and persist ids ([MS-PPT] 2.3.3). */
interface UserEdit {
  at: number;
  /** The previous edit's UserEditAtom, 0 for none. */
  lastEdit: number;
  persistDirectory: number;
  /** Persist id of the DocumentContainer. */
  document: number;
  /** Persist id of the CryptSession10Container, in an encrypted presentation. */
  encryptionSession?: number;
}

async function readUserEdit(records: RecordReader, at: number): Promise<UserEdit> {
  const header = await records.header(at);
  if (header.type !== RT_USER_EDIT_ATOM || header.length < USER_EDIT_BYTES) {
    throw new ContentError(`no UserEditAtom at byte ${at}`);
  }
  const encrypted = header.length >= USER_EDIT_ENCRYPTED_BYTES;
  const body = await records.bytes(
    at + HEADER_BYTES,
    encrypted ? USER_EDIT_ENCRYPTED_BYTES : USER_EDIT_BYTES,
  );
  return {
    at,
    lastEdit: u32(body, 8),
    persistDirectory: u32(body, 12),
    document: u32(body, 16),
    ...(encrypted && { encryptionSession: u32(body, 28) }),
  };
}

/**
 * The persist object directory ([MS-PPT] 2.1.2): persist id to stream
 * offset, from the current edit's PersistDirectoryAtom and, as far as a
 * look-up needs them, those of earlier edits, a newer entry hiding an older.
 */
class PersistDirectory {
  private readonly offsets = new Map<number, number>();
  /** The next edit whose directory is unread; undefined past the first edit. */
  private pending: UserEdit | undefined;

  constructor(
    private readonly records: RecordReader,
    current: UserEdit,
  ) {
    this.pending = current;
  }

  /** The stream offset of persist object `id`, or undefined when no directory lists it. */
  async offsetOf(id: number): Promise<number | undefined> {
    for (;;) {
      const known = this.offsets.get(id);
      if (known !== undefined || !this.pending) return known;
      const edit = this.pending;
      await this.readDirectory(edit.persistDirectory);
      if (edit.lastEdit === 0) {
        this.pending = undefined;
      } else if (edit.lastEdit >= edit.at) {
        // Edits are appended: an earlier one lying later is a loop or damage.
        throw new ContentError(`the UserEditAtom at byte ${edit.at} names a later one as its previous edit`);
      } else {
        this.pending = await readUserEdit(this.records, edit.lastEdit);
      }
    }
  }

  /** Entries: a 32-bit word (persistId: 20 bits, cPersist: 12), then cPersist offsets ([MS-PPT] 2.3.4). */
  private async readDirectory(at: number): Promise<void> {
    const header = await this.records.header(at);
    if (header.type !== RT_PERSIST_DIRECTORY_ATOM) {
      throw new ContentError(`no PersistDirectoryAtom at byte ${at}`);
    }
    const body = await this.records.bytes(at + HEADER_BYTES, header.length);
    for (let entry = 0; entry < body.byteLength; ) {
      const word = entry + 4 <= body.byteLength ? u32(body, entry) : 0;
      const first = word & 0xfffff;
      const count = word >>> 20;
      const end = entry + 4 + count * 4;
      if (count === 0 || end > body.byteLength) {
        throw new ContentError(
          `a persist directory entry at byte ${at + HEADER_BYTES + entry} runs past its atom`,
        );
      }
      for (let i = 0; i < count; i++) {
        if (!this.offsets.has(first + i)) this.offsets.set(first + i, u32(body, entry + 4 + i * 4));
      }
      entry = end;
    }
  }
}

/** A record header ([MS-PPT] 2.3.1) and where its body ends. */
interface RecordHeader {
  at: number;
  version: number;
  type: number;
  length: number;
  /** Stream position after the body. */
  end: number;
}

/**
 * The PowerPoint Document stream, record by record: every read is checked
 * against the stream's size, an enclosing container's end and, added up,
 * {@link MAX_PRESENTATION_BYTES}.
 */
class RecordReader {
  private spent = 0;

  constructor(private readonly stream: StreamBytes) {}

  /** `length` bytes at `position`, every one of them, or a content error. */
  async bytes(position: number, length: number): Promise<Uint8Array> {
    if (position + length > this.stream.size) {
      throw new ContentError(`${length} bytes at byte ${position} run past the PowerPoint Document stream`);
    }
    this.spent = boundedLength(this.spent + length, MAX_PRESENTATION_BYTES, "PowerPoint Document bytes read");
    const bytes = await this.stream.read(position, length);
    if (bytes.byteLength < length) {
      throw new ContentError(`the PowerPoint Document stream's sectors end before byte ${position + length}`);
    }
    return bytes;
  }

  /** The record header at `position`, its body inside `within` (an enclosing container's end). */
  async header(position: number, within = this.stream.size): Promise<RecordHeader> {
    if (position + HEADER_BYTES > within) {
      throw new ContentError(`a record header at byte ${position} runs past ${this.bound(within)}`);
    }
    const bytes = await this.bytes(position, HEADER_BYTES);
    const header = {
      at: position,
      version: (bytes[0] as number) & 0x0f,
      type: u16(bytes, 2),
      length: u32(bytes, 4),
      end: position + HEADER_BYTES + u32(bytes, 4),
    };
    if (header.end > within) {
      const type = header.type.toString(16).padStart(4, "0");
      throw new ContentError(`record 0x${type} at byte ${position} runs past ${this.bound(within)}`);
    }
    return header;
  }

  /** The child records of a container, in order. */
  async *children(container: RecordHeader): AsyncGenerator<RecordHeader> {
    for (let at = container.at + HEADER_BYTES; at < container.end; ) {
      const child = await this.header(at, container.end);
      yield child;
      at = child.end;
    }
  }

  private bound(within: number): string {
    return within === this.stream.size ? "the PowerPoint Document stream" : "its container";
  }
}
