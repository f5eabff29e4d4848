/*
 * The video frame rate of a Matroska/WebM file, from its first video track's
 * DefaultDuration. Read by hand over the head window because music-metadata
 * decodes DefaultDuration but leaves it out of its track list. Tracks come
 * before the first Cluster in every muxer seen, so the head window suffices.
 */

const EBML_HEADER = 0x1a45dfa3;
const SEGMENT = 0x18538067;
const TRACKS = 0x1654ae6b;
const TRACK_ENTRY = 0xae;
const TRACK_TYPE = 0x83;
const DEFAULT_DURATION = 0x23e383;
const CLUSTER = 0x1f43b675;

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
  return { id, start, end: unknown ? limit : Math.min(limit, start + size) };
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
