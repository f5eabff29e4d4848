import type { BlockReader } from "../../byte-source/block-reader.js";
import { ContentError, LimitExceededError } from "../../errors.js";
import { boundedLength, MAX_STRUCTURE_BYTES } from "../../limits.js";
import { decodeStream } from "./filters.js";
import {
  type IndirectObject,
  latin1,
  PdfDict,
  PdfName,
  PdfParser,
  PdfRef,
  PdfString,
  type PdfValue,
} from "./lexer.js";
import type { Decryptor } from "./security.js";
import {
  MAX_OBJECT_NUMBER,
  parseGrowing,
  readXrefTable,
  type XrefEntry,
  type XrefSection,
  xrefStreamSection,
} from "./xref.js";

/** An indirect object read from the file, with its stream's raw location when it has one. */
interface LoadedObject {
  value: PdfValue;
  /** Absolute offset of the stream data. */
  streamAt?: number;
  /** True when it came out of an object stream (its strings are not encrypted on their own). */
  compressed: boolean;
}

interface ObjectStream {
  data: Uint8Array;
  first: number;
  /** Object number → offset relative to /First. */
  offsets: Map<number, number>;
  /** Offsets in stream order, for lookups by index. */
  indexed: number[];
}

/**
 * Objects read per file. Metadata needs a handful; a corrupt file whose
 * objects point at one another could otherwise keep a reader busy on cached
 * bytes, where no read (and so no time check) ever happens.
 */
const MAX_OBJECT_FETCHES = 4096;

/** Object streams kept decoded at once; enough for the handful of objects metadata needs. */
const OBJECT_STREAM_CACHE = 8;

/**
 * One PDF file read by ranges: its cross-reference sections and the objects
 * reached through them, each fetched on demand and cached.
 *
 * @example
 * const file = new PdfFile(reader, { maxDepth: 8, warn: console.warn });
 * await file.loadXref(startxref);
 * const root = await file.resolve(file.trailerValue("Root"));
 */
export class PdfFile {
  readonly sections: XrefSection[] = [];
  decryptor?: Decryptor;
  /** Objects whose strings must stay undecrypted (the /Encrypt dictionary itself). */
  readonly plainObjects = new Set<number>();
  private readonly objects = new Map<number, LoadedObject>();
  private readonly objectStreams = new Map<number, ObjectStream>();
  /** Objects being read right now: asking for one of them again is a reference cycle. */
  private readonly loading = new Set<number>();
  private fetches = 0;
  readonly read: (offset: number, length: number) => Promise<Uint8Array>;

  constructor(
    readonly reader: BlockReader,
    readonly options: {
      maxDepth: number;
      warn(message: string): void;
      /**
       * Where object `num` really starts, for one the cross-reference data
       * misplaces (found by scanning the file), or undefined.
       */
      relocate?(num: number): Promise<number | undefined>;
    },
  ) {
    this.read = (offset, length) => reader.read(offset, length);
  }

  get size(): number {
    return this.reader.size;
  }

  /**
   * Reads the section at `offset` and every older one it links to through
   * /Prev and, in hybrid files, /XRefStm, at most `maxDepth` of them, breadth
   * first as pdf.js reads them: a table, its /XRefStm stream, its /Prev
   * section, then the stream's own /Prev. A broken first section throws; a
   * broken older one ends its chain with a warning.
   */
  async loadXref(offset: number): Promise<void> {
    const seen = new Set<number>();
    // `after`: the sections that led here. A /Prev back to one of them is a loop; one to a section
    // another chain already led to (a table's /Prev and its stream's /Prev may agree) is not.
    const queue: { at: number; hybrid: boolean; after: ReadonlySet<number> }[] = [
      { at: offset, hybrid: false, after: new Set() },
    ];
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      const { at, hybrid, after } = next;
      if (!hybrid && after.has(at)) this.options.warn("the /Prev chain of cross-reference sections loops");
      if (seen.has(at)) continue;
      if (seen.size >= this.options.maxDepth) {
        this.options.warn(`more than ${this.options.maxDepth} cross-reference sections; older ones ignored`);
        return;
      }
      seen.add(at);
      let section: XrefSection;
      try {
        section = await this.readSection(at);
      } catch (error) {
        if (this.sections.length === 0 || isBudgetLimit(error)) throw error;
        const message = (error as Error).message;
        this.options.warn(
          hybrid
            ? `the /XRefStm section at ${at} is unreadable: ${message}`
            : `older cross-reference section at ${at} is unreadable: ${message}`,
        );
        continue;
      }
      this.sections.push(section);
      const chain = new Set(after).add(at);
      const stream = section.trailer.number("XRefStm");
      if (stream !== undefined && !hybrid) queue.push({ at: stream, hybrid: true, after: chain });
      const prev = section.trailer.number("Prev");
      if (prev !== undefined && prev >= 0 && prev < this.size)
        queue.push({ at: prev, hybrid: false, after: chain });
    }
  }

  private async readSection(offset: number): Promise<XrefSection> {
    boundedLength(offset, this.size - 1, "cross-reference offset");
    const head = latin1(await this.read(offset, 32));
    const lead = head.length - head.trimStart().length;
    if (head.startsWith("xref", lead)) return readXrefTable(this.read, offset + lead, this.size);
    const object = await this.readObjectAt(offset);
    if (!(object.value instanceof PdfDict) || object.streamAt === undefined) {
      throw new ContentError(`no cross-reference table or stream at offset ${offset}`);
    }
    if (object.value.name("Type") !== "XRef")
      throw new ContentError(`object at ${offset} is not an xref stream`);
    const data = decodeStream(object.value, await this.streamData(object.value, object.streamAt, 0));
    return xrefStreamSection(object.value, data);
  }

  /** A trailer entry from the newest section that has it. */
  trailerValue(key: string): PdfValue | undefined {
    for (const section of this.sections) {
      const value = section.trailer.get(key);
      if (value !== undefined) return value;
    }
    return undefined;
  }

  /** Follows references until a direct value, at most `maxDepth` hops. */
  async resolve(value: PdfValue | undefined, depth = 0): Promise<PdfValue | undefined> {
    let current = value;
    for (let hop = depth; current instanceof PdfRef; hop++) {
      if (hop >= this.options.maxDepth) throw new LimitExceededError("depth", "reference chain too long");
      current = (await this.fetch(current)).value;
    }
    return current;
  }

  /** Resolves `value` and returns it when it is a dictionary. */
  async resolveDict(value: PdfValue | undefined): Promise<PdfDict | undefined> {
    const resolved = await this.resolve(value);
    return resolved instanceof PdfDict ? resolved : undefined;
  }

  /** The object a reference names (`null` for free or missing objects, as the standard says). */
  async fetch(ref: PdfRef): Promise<LoadedObject> {
    boundedLength(ref.num, MAX_OBJECT_NUMBER, "object number");
    const cached = this.objects.get(ref.num);
    if (cached) return cached;
    if (this.loading.has(ref.num)) throw new ContentError(`object ${ref.num} depends on itself`);
    if (++this.fetches > MAX_OBJECT_FETCHES) {
      throw new LimitExceededError("entries", `more than ${MAX_OBJECT_FETCHES} objects read`);
    }
    this.loading.add(ref.num);
    try {
      const loaded = await this.load(ref);
      this.objects.set(ref.num, loaded);
      return loaded;
    } finally {
      this.loading.delete(ref.num);
    }
  }

  private async load(ref: PdfRef): Promise<LoadedObject> {
    const entry = await this.lookup(ref.num);
    let loaded: LoadedObject;
    if (!entry || entry.type === "free") {
      loaded = { value: null, compressed: false };
    } else if (entry.type === "offset") {
      const object = await this.objectAtOffset(ref.num, entry.offset);
      let value = object.value;
      if (this.decryptor && !this.plainObjects.has(ref.num)) value = this.decryptStrings(value, ref, 0);
      loaded = {
        value,
        compressed: false,
        ...(object.streamAt !== undefined && { streamAt: object.streamAt }),
      };
    } else {
      loaded = { value: await this.fromObjectStream(entry.stream, entry.index, ref.num), compressed: true };
    }
    return loaded;
  }

  /**
   * Object `num` at the offset the cross-reference gives, or, when another
   * object or no object starts there (offsets shifted by an edit or a line-end
   * conversion), where a scan of the file finds it, with a warning: a reader
   * repairs such a file, and a metadata field must not vanish or come from
   * the wrong object without a word.
   */
  private async objectAtOffset(num: number, offset: number): Promise<IndirectObject & { streamAt?: number }> {
    let problem: string;
    try {
      const object = await this.readObjectAt(offset);
      if (object.num === num) return object;
      problem = `found object ${object.num}`;
    } catch (error) {
      if (isBudgetLimit(error)) throw error;
      problem = `found no object (${(error as Error).message})`;
    }
    const found = await this.options.relocate?.(num);
    if (found === undefined || found === offset) {
      throw new ContentError(`xref points object ${num} at offset ${offset}, ${problem}`);
    }
    const object = await this.readObjectAt(found);
    if (object.num !== num)
      throw new ContentError(`xref points object ${num} at offset ${offset}, ${problem}`);
    this.options.warn(`xref points object ${num} at offset ${offset}, ${problem}; read it at ${found}`);
    return object;
  }

  /**
   * The row for `num` in the newest section that lists it, a free row included
   * (ISO 32000-1 §7.5.6). `loadXref` keeps the sections newest first and puts a
   * hybrid section's /XRefStm stream after its table and before its /Prev
   * section (§7.5.8.4), and the stream's own /Prev after that, the order
   * pdf.js reads them in.
   */
  private async lookup(num: number): Promise<XrefEntry | undefined> {
    for (const section of this.sections) {
      const entry = await section.lookup(num);
      if (entry) return entry;
    }
    return undefined;
  }

  /** Parses `num gen obj …` at a file offset. */
  async readObjectAt(offset: number): Promise<IndirectObject & { streamAt?: number }> {
    boundedLength(offset, this.size - 1, "object offset");
    const object = await parseGrowing(
      this.read,
      offset,
      this.size,
      (parser) => parser.parseIndirectObject(),
      1024,
    );
    return object.streamStart === undefined ? object : { ...object, streamAt: offset + object.streamStart };
  }

  /**
   * Raw (still filtered) bytes of a stream. A wrong /Length, common in
   * repaired or hand-edited files, is recovered by searching for `endstream`.
   */
  async streamData(dict: PdfDict, streamAt: number, depth: number): Promise<Uint8Array> {
    const declared = await this.resolve(dict.get("Length"), depth + 1);
    const maxLength = Math.min(MAX_STRUCTURE_BYTES, this.size - streamAt);
    if (
      typeof declared === "number" &&
      Number.isInteger(declared) &&
      declared >= 0 &&
      declared <= maxLength
    ) {
      const data = await this.read(streamAt, declared + 16);
      const after = latin1(data.subarray(declared)).trimStart();
      if (after.startsWith("endstream") || streamAt + declared >= this.size)
        return data.subarray(0, declared);
    }
    const window = await this.read(streamAt, maxLength);
    const end = Buffer.from(window.buffer, window.byteOffset, window.byteLength).indexOf("endstream");
    if (end < 0) throw new ContentError(`stream at ${streamAt} has no end`);
    this.options.warn(`stream at offset ${streamAt} has a wrong /Length`);
    let length = end;
    if (window[length - 1] === 0x0a) length--;
    if (window[length - 1] === 0x0d) length--;
    return window.subarray(0, length);
  }

  /**
   * Decoded (decrypted and unfiltered) data of a stream object. `decrypt:
   * false` reads a stream the file leaves in the clear although it is
   * encrypted (a metadata stream under `/EncryptMetadata false`); `maxBytes`
   * bounds the decoded size.
   */
  async streamContent(
    ref: PdfRef,
    options: { decrypt?: boolean; maxBytes?: number } = {},
  ): Promise<{ dict: PdfDict; data: Uint8Array } | undefined> {
    const object = await this.fetch(ref);
    if (!(object.value instanceof PdfDict) || object.streamAt === undefined) return undefined;
    let raw = await this.streamData(object.value, object.streamAt, 0);
    const decrypt =
      options.decrypt !== false && object.value.name("Type") !== "XRef" && !identityCryptFilter(object.value);
    if (this.decryptor && decrypt) raw = this.decryptor.decrypt(raw, ref.num, ref.gen, "stream");
    return { dict: object.value, data: decodeStream(object.value, raw, options.maxBytes) };
  }

  private async fromObjectStream(streamNum: number, index: number, num: number): Promise<PdfValue> {
    let stream = this.objectStreams.get(streamNum);
    if (!stream) {
      const holder = await this.fetch(new PdfRef(streamNum, 0));
      if (holder.compressed) throw new ContentError(`object stream ${streamNum} is itself compressed`);
      const content = await this.streamContent(new PdfRef(streamNum, 0));
      const isObjectStream = content?.dict.name("Type") === "ObjStm";
      if (!content || !isObjectStream) throw new ContentError(`object ${streamNum} is not an object stream`);
      stream = parseObjectStreamHeader(content.dict, content.data);
      if (this.objectStreams.size >= OBJECT_STREAM_CACHE) {
        const oldest = this.objectStreams.keys().next().value as number;
        this.objectStreams.delete(oldest);
      }
      this.objectStreams.set(streamNum, stream);
    }
    // The xref names both the object number and its index; the number decides, the index is a fallback.
    const offset = stream.offsets.get(num) ?? stream.indexed[index];
    if (offset === undefined) throw new ContentError(`object ${num} is not in object stream ${streamNum}`);
    const parser = new PdfParser(stream.data, stream.first + offset, true);
    return parser.parseValue();
  }

  private decryptStrings(value: PdfValue, ref: PdfRef, depth: number): PdfValue {
    const decryptor = this.decryptor as Decryptor;
    if (value instanceof PdfString)
      return new PdfString(decryptor.decrypt(value.bytes, ref.num, ref.gen, "string"));
    if (depth > 16) return value;
    if (Array.isArray(value)) return value.map((item) => this.decryptStrings(item, ref, depth + 1));
    if (value instanceof PdfDict) {
      const out = new PdfDict();
      for (const [key, item] of value.entries)
        out.entries.set(key, this.decryptStrings(item, ref, depth + 1));
      return out;
    }
    return value;
  }

  /** Replaces the sections with one rebuilt by scanning the file (see `scanForObjects`). */
  useSections(sections: XrefSection[]): void {
    this.sections.splice(0, this.sections.length, ...sections);
    this.objects.clear();
    this.objectStreams.clear();
    this.fetches = 0;
  }
}

/**
 * True when a stream's filter chain opens with the /Identity crypt filter
 * (ISO 32000-2 §7.4.10): the stream is stored in the clear in an encrypted
 * file, and the file's own decryption must not touch it. A /Crypt filter
 * without /Name is Identity.
 */
function identityCryptFilter(dict: PdfDict): boolean {
  const filter = dict.get("Filter");
  const first = Array.isArray(filter) ? filter[0] : filter;
  if (!isName(first, "Crypt")) return false;
  const parms = dict.get("DecodeParms");
  const firstParms = Array.isArray(parms) ? parms[0] : parms;
  const name = firstParms instanceof PdfDict ? firstParms.name("Name") : undefined;
  return name === undefined || name === "Identity";
}

function parseObjectStreamHeader(dict: PdfDict, data: Uint8Array): ObjectStream {
  const count = boundedLength(dict.number("N") ?? 0, MAX_OBJECT_NUMBER, "object stream /N");
  const first = boundedLength(dict.number("First") ?? 0, data.length, "object stream /First");
  const parser = new PdfParser(data.subarray(0, first), 0, true);
  const offsets = new Map<number, number>();
  const indexed: number[] = [];
  for (let i = 0; i < count; i++) {
    parser.skipSpace();
    if (parser.pos >= first) break;
    const num = parser.expectInteger("an object number");
    const offset = parser.expectInteger("an offset");
    if (!offsets.has(num)) offsets.set(num, offset);
    indexed.push(offset);
  }
  return { data, first, offsets, indexed };
}

/** True when `value` is the name `name`, for callers that read /Type and friends. */
export function isName(value: PdfValue | undefined, name: string): boolean {
  return value instanceof PdfName && value.value === name;
}

/**
 * True for limits of the whole extraction (bytes, requests, time, depth, and
 * entries, which the objects read count against), which end it; a bad length
 * decoded from the file is corruption instead.
 *
 * @example
 * catch (error) { if (isBudgetLimit(error)) throw error; ctx.warn(String(error)); }
 */
export function isBudgetLimit(error: unknown): boolean {
  return error instanceof LimitExceededError && error.limit !== "length";
}
