import type { BlockReader } from "../../byte-source/block-reader.js";
import { HEAD_WINDOW_BYTES, TAIL_WINDOW_BYTES } from "../../limits.js";
import { lastIndexOfBytes } from "../bytes.js";

/*
 * The video frame rate of a Matroska/WebM file, from its first video track's
 * DefaultDuration. Read by hand over the head window because music-metadata
 * decodes DefaultDuration but leaves it out of its track list. Tracks come
 * before the first Cluster in every muxer seen, so the head window suffices.
 *
 * And what a file cut short holds: music-metadata takes the Info element's
 * duration as it stands and reads no cluster. The Segment's size, in the head,
 * says the file is cut; the last Cluster that starts in the tail says up to
 * when its blocks go.
 */

const EBML_HEADER = 0x1a45dfa3;
const SEGMENT = 0x18538067;
const TRACKS = 0x1654ae6b;
const TRACK_ENTRY = 0xae;
const TRACK_TYPE = 0x83;
const DEFAULT_DURATION = 0x23e383;
const CLUSTER = 0x1f43b675;
const INFO = 0x1549a966;
const TIMESTAMP_SCALE = 0x2ad7b1;
const CLUSTER_TIMESTAMP = 0xe7;
const SIMPLE_BLOCK = 0xa3;
const BLOCK_GROUP = 0xa0;
const BLOCK = 0xa1;

/** The Cluster ID's bytes, searched for in the tail. */
const CLUSTER_BYTES = [0x1f, 0x43, 0xb6, 0x75] as const;

/** Nanoseconds per Segment tick when Info states no TimestampScale. */
const DEFAULT_TIMESTAMP_SCALE = 1_000_000;

/** Smaller first try at the tail: the one the media extractor reads up front. */
const FIRST_TAIL_BYTES = 16 * 1024;

/** TrackType of a video track. */
const VIDEO_TRACK = 1;

/** Elements visited in all, so a head window of tiny elements stays a bounded walk. */
const MAX_ELEMENTS = 4096;

interface Element {
  id: number;
  /** Where the element's data starts. */
  start: number;
  /** Where it ends: the end of the enclosing range for an unknown size (all length bits set). */
  end: number;
  /** The data size it declares, undefined for an unknown size. */
  size: number | undefined;
}

/** A variable-length integer's width from its first byte (1-8), or 0 for a zero byte. */
function vintWidth(first: number): number {
  for (let width = 1; width <= 8; width++) if (first & (0x80 >> (width - 1))) return width;
  return 0;
}

/** The element header at `at`, or undefined when it does not fit before `limit`. */
function elementAt(bytes: Uint8Array, at: number, limit: number): Element | undefined {
  const idWidth = vintWidth(bytes[at] ?? 0);
  if (idWidth === 0 || idWidth > 4 || at + idWidth >= limit) return undefined;
  let id = 0;
  for (let i = 0; i < idWidth; i++) id = id * 256 + (bytes[at + i] as number);
  const sizeAt = at + idWidth;
  const sizeWidth = vintWidth(bytes[sizeAt] ?? 0);
  if (sizeWidth === 0 || sizeAt + sizeWidth > limit) return undefined;
  let size = (bytes[sizeAt] as number) & (0xff >> sizeWidth);
  let unknown = size === 0xff >> sizeWidth;
  for (let i = 1; i < sizeWidth; i++) {
    const byte = bytes[sizeAt + i] as number;
    size = size * 256 + byte;
    unknown &&= byte === 0xff;
  }
  const start = sizeAt + sizeWidth;
  return {
    id,
    start,
    end: unknown ? limit : Math.min(limit, start + size),
    size: unknown ? undefined : size,
  };
}

function unsigned(bytes: Uint8Array, element: Element): number | undefined {
  const width = element.end - element.start;
  if (width < 1 || width > 8) return undefined;
  let value = 0;
  for (let i = element.start; i < element.end; i++) value = value * 256 + (bytes[i] as number);
  return value;
}

/**
 * Frames per second of the first video track that states a DefaultDuration
 * (nanoseconds per frame), from the bytes at the start of the file.
 *
 * @example
 * matroskaFrameRate(head) // 23.809523809523807 for DefaultDuration 42000000
 */
export function matroskaFrameRate(head: Uint8Array): number | undefined {
  let visited = 0;
  const children = function* (start: number, end: number): Generator<Element> {
    for (let at = start; at < end && visited++ < MAX_ELEMENTS; ) {
      const element = elementAt(head, at, end);
      if (!element) return;
      yield element;
      at = element.end;
    }
  };
  const top = [...children(0, head.byteLength)];
  const segment = top.find((element) => element.id === SEGMENT);
  if (top[0]?.id !== EBML_HEADER || !segment) return undefined;
  for (const level1 of children(segment.start, segment.end)) {
    if (level1.id === CLUSTER) return undefined;
    if (level1.id !== TRACKS) continue;
    for (const entry of children(level1.start, level1.end)) {
      if (entry.id !== TRACK_ENTRY) continue;
      let type: number | undefined;
      let frameNanos: number | undefined;
      for (const field of children(entry.start, entry.end)) {
        if (field.id === TRACK_TYPE) type = unsigned(head, field);
        else if (field.id === DEFAULT_DURATION) frameNanos = unsigned(head, field);
      }
      if (type === VIDEO_TRACK && frameNanos) return 1e9 / frameNanos;
    }
  }
  return undefined;
}

/** The elements in `bytes[start, end)`, one after another, while `budget.left` lasts. */
function* elementsIn(bytes: Uint8Array, start: number, end: number, budget: { left: number }) {
  for (let at = start; at < end && budget.left-- > 0; ) {
    const element = elementAt(bytes, at, end);
    if (!element) return;
    yield { at, ...element };
    at = element.end;
  }
}

/** What a Matroska/WebM file cut short lacks. */
export interface MatroskaShortfall {
  /** The element the file ends inside: the Segment, or the last Cluster when the Segment's size is unknown. */
  element: "Segment" | "Cluster";
  /** Bytes it declares. */
  promised: number;
  /** Bytes of it the file holds. */
  present: number;
  /**
   * Seconds up to the start of the last whole block, when the file ends inside
   * a Cluster that starts in the tail; undefined when none is found there.
   */
  blocksUntil?: number;
  /** Set when the file ends past its last Cluster (inside its Cues or Tags): every block is there. */
  clustersWhole?: boolean;
}

/**
 * What a Matroska/WebM file lacks when it ends before its Segment (or, when
 * the Segment's size is unknown, as live recorders write it, its last
 * Cluster) does. A whole file with a known Segment size costs no read past
 * the head; a cut one, the tail.
 *
 * @example
 * await matroskaShortfall(reader) // { element: "Segment", promised: 37988, present: 37541, blocksUntil: 0.023 }
 */
export async function matroskaShortfall(reader: BlockReader): Promise<MatroskaShortfall | undefined> {
  const head = await reader.read(0, HEAD_WINDOW_BYTES);
  const budget = { left: MAX_ELEMENTS };
  const [ebmlHeader, segment] = elementsIn(head, 0, head.byteLength, budget);
  if (ebmlHeader?.id !== EBML_HEADER || segment?.id !== SEGMENT) return undefined;
  const declared = segment.size;
  const segmentCut = declared !== undefined && segment.start + declared > reader.size;
  if (declared !== undefined && !segmentCut) return undefined;
  let scale = DEFAULT_TIMESTAMP_SCALE;
  for (const level1 of elementsIn(head, segment.start, segment.end, budget)) {
    if (level1.id === CLUSTER) break;
    if (level1.id !== INFO) continue;
    for (const field of elementsIn(head, level1.start, level1.end, budget))
      if (field.id === TIMESTAMP_SCALE) scale = unsigned(head, field) || scale;
  }
  // A whole live recording costs no more than the tail read up front.
  const windows = segmentCut ? [FIRST_TAIL_BYTES, TAIL_WINDOW_BYTES] : [FIRST_TAIL_BYTES];
  let last: TailClusters | undefined;
  for (const window of windows) {
    const tail = await reader.tail(window);
    last = lastClusters(tail);
    if (last || tail.byteLength >= reader.size) break;
  }
  if (!segmentCut) {
    const cluster = last?.cutCluster;
    if (!last || !cluster || cluster.size === undefined || cluster.start + cluster.size <= last.tailLength)
      return undefined;
    return {
      element: "Cluster",
      promised: cluster.size,
      present: last.tailLength - cluster.start,
      ...(last.ticks !== undefined && { blocksUntil: (last.ticks * scale) / 1e9 }),
    };
  }
  return {
    element: "Segment",
    promised: declared,
    present: reader.size - segment.start,
    ...(last?.cutCluster && last.ticks !== undefined && { blocksUntil: (last.ticks * scale) / 1e9 }),
    ...(last && !last.cutCluster && { clustersWhole: true }),
  };
}

/** The level-1 elements from the last Cluster that starts in a tail on. */
interface TailClusters {
  tailLength: number;
  /** The Cluster the tail ends inside, when it ends inside one (offsets in the tail). */
  cutCluster?: Element;
  /** Ticks from the Segment's start to the start of the last whole block of that Cluster. */
  ticks?: number;
}

/**
 * Finds the last Cluster that starts in `tail` (its ID followed by a
 * Timestamp, as every muxer writes it first) and walks the level-1 elements
 * from it to the end of the tail. Cluster children have IDs of one or two
 * bytes, level-1 elements four, which ends a Cluster of unknown size.
 */
function lastClusters(tail: Uint8Array): TailClusters | undefined {
  for (
    let at = lastIndexOfBytes(tail, CLUSTER_BYTES, tail.byteLength);
    at >= 0;
    at = lastIndexOfBytes(tail, CLUSTER_BYTES, at - 1)
  ) {
    const cluster = elementAt(tail, at, tail.byteLength);
    const first = cluster && elementAt(tail, cluster.start, tail.byteLength);
    if (first?.id !== CLUSTER_TIMESTAMP || first.size === undefined || first.size > 8) continue;
    return walkLevel1(tail, at);
  }
  return undefined;
}

function walkLevel1(tail: Uint8Array, from: number): TailClusters {
  const result: TailClusters = { tailLength: tail.byteLength };
  const budget = { left: MAX_ELEMENTS };
  for (let at = from; at < tail.byteLength && budget.left-- > 0; ) {
    const element = elementAt(tail, at, tail.byteLength);
    if (!element) break;
    const declaredEnd = element.size === undefined ? undefined : element.start + element.size;
    const runsPast = declaredEnd === undefined || declaredEnd > tail.byteLength;
    if (element.id !== CLUSTER) {
      delete result.cutCluster;
      if (declaredEnd === undefined) break;
      at = declaredEnd;
      continue;
    }
    let timestamp = 0;
    let next = declaredEnd ?? tail.byteLength;
    for (const child of elementsIn(tail, element.start, element.end, budget)) {
      if (vintWidth(tail[child.at] ?? 0) === 4) {
        // A level-1 element: the end of a Cluster of unknown size.
        next = child.at;
        break;
      }
      if (child.id === CLUSTER_TIMESTAMP) timestamp = unsigned(tail, child) ?? 0;
      const block =
        child.id === BLOCK_GROUP
          ? blockIn(tail, child, budget)
          : child.id === SIMPLE_BLOCK
            ? child
            : undefined;
      // A block the file ends inside is not there.
      if (!block || child.size === undefined || child.start + child.size > tail.byteLength) continue;
      const relative = blockRelativeTime(tail, block);
      if (relative !== undefined) result.ticks = Math.max(result.ticks ?? 0, timestamp + relative);
    }
    result.ticks = Math.max(result.ticks ?? 0, timestamp);
    if (runsPast && next >= tail.byteLength) result.cutCluster = element;
    else delete result.cutCluster;
    at = next;
  }
  return result;
}

/** The Block inside a BlockGroup. */
function blockIn(bytes: Uint8Array, group: Element, budget: { left: number }): Element | undefined {
  for (const child of elementsIn(bytes, group.start, group.end, budget)) if (child.id === BLOCK) return child;
  return undefined;
}

/** A block's time relative to its Cluster: a signed 16-bit number after the track number. */
function blockRelativeTime(bytes: Uint8Array, block: Element): number | undefined {
  const trackWidth = vintWidth(bytes[block.start] ?? 0);
  const at = block.start + trackWidth;
  if (trackWidth === 0 || at + 2 > block.end) return undefined;
  return new DataView(bytes.buffer, bytes.byteOffset + at, 2).getInt16(0);
}
