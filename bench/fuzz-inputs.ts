/**
 * Deterministic hostile inputs for the extraction engine: mutations of the
 * shared corpus. Input `i` of seed `s` depends only on (s, i) and the corpus,
 * so any failing input can be rebuilt from its seed and index alone, and the
 * bench and the test suite draw from the same generator.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { corpusFile, expectedEntries } from "../test/support/corpus.js";

/** One corpus file, loaded. */
export interface CorpusSample {
  readonly name: string;
  readonly bytes: Uint8Array;
}

/** How an input was made from its corpus file. */
export type MutationKind =
  | "truncate"
  | "bit-flip"
  | "overwrite-run"
  | "length-inflation"
  | "tail-length-inflation"
  | "splice"
  | "empty"
  | "one-byte";

/** One generated input. */
export interface FuzzInput {
  readonly seed: number;
  readonly index: number;
  /** The corpus file it was derived from. */
  readonly name: string;
  readonly kind: MutationKind;
  /** What exactly was done, for a report: offsets, counts, the other file of a splice. */
  readonly detail: string;
  readonly bytes: Uint8Array;
}

/** A 32-bit PRNG, small and fast; fuzzing needs reproducibility, not quality. */
export type Random = () => number;

/**
 * mulberry32: a seeded PRNG returning floats in [0, 1).
 *
 * @example
 * const random = mulberry32(42);
 * random(); // always the same first value for seed 42
 */
export function mulberry32(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Every corpus file, in the oracle's order (stable across machines). */
export function loadCorpus(): CorpusSample[] {
  return expectedEntries().map((entry) => ({
    name: entry.name,
    bytes: new Uint8Array(readFileSync(corpusFile(entry.name))),
  }));
}

/**
 * The regular files of a folder as extra seeds, sorted by name so that a
 * seed and index rebuild the same input; each is named `seeds-NAME`.
 */
export function loadSeedsDir(dir: string): CorpusSample[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => entry.name)
    .sort()
    .map((name) => ({ name: `seeds-${name}`, bytes: new Uint8Array(readFileSync(join(dir, name))) }));
}

const KIB = 1024;

/**
 * Weights of the mutation kinds. Header damage finds more than body damage,
 * so most mutations aim at the first 4 KiB or the tail where indexes live.
 */
const KIND_WEIGHTS: readonly (readonly [MutationKind, number])[] = [
  ["truncate", 20],
  ["bit-flip", 22],
  ["overwrite-run", 18],
  ["length-inflation", 18],
  ["tail-length-inflation", 8],
  ["splice", 10],
  ["empty", 1],
  ["one-byte", 3],
];
const TOTAL_WEIGHT = KIND_WEIGHTS.reduce((sum, [, weight]) => sum + weight, 0);

function integer(random: Random, below: number): number {
  return Math.floor(random() * below);
}

function pickKind(random: Random): MutationKind {
  let roll = random() * TOTAL_WEIGHT;
  for (const [kind, weight] of KIND_WEIGHTS) {
    roll -= weight;
    if (roll < 0) return kind;
  }
  return "bit-flip";
}

/** An offset inside `size`, biased to the head (where headers are) half of the time. */
function offsetIn(random: Random, size: number): number {
  if (size === 0) return 0;
  return random() < 0.5 ? integer(random, Math.min(size, 4 * KIB)) : integer(random, size);
}

function truncate(random: Random, bytes: Uint8Array): [Uint8Array, string] {
  const size = bytes.byteLength;
  const choices = [
    () => integer(random, Math.min(size, 64)),
    () => integer(random, Math.min(size, 4 * KIB)),
    () => integer(random, size),
    () => Math.max(0, size - 1 - integer(random, Math.min(size, 64))),
    () => Math.max(0, size - 1 - integer(random, Math.min(size, 64 * KIB))),
  ];
  const cut = choices[integer(random, choices.length)]?.() ?? 0;
  return [bytes.slice(0, cut), `cut at ${cut} of ${size}`];
}

function bitFlip(random: Random, bytes: Uint8Array): [Uint8Array, string] {
  const out = bytes.slice();
  if (out.byteLength === 0) return [out, "nothing to flip"];
  const flips = 1 + integer(random, 32);
  for (let i = 0; i < flips; i += 1) {
    const at = offsetIn(random, out.byteLength);
    out[at] = (out[at] as number) ^ (1 << integer(random, 8));
  }
  return [out, `${flips} bits`];
}

function overwriteRun(random: Random, bytes: Uint8Array): [Uint8Array, string] {
  const out = bytes.slice();
  if (out.byteLength === 0) return [out, "nothing to overwrite"];
  const at = offsetIn(random, out.byteLength);
  const length = Math.min(out.byteLength - at, 1 + integer(random, random() < 0.8 ? 64 : 4 * KIB));
  const fill = integer(random, 3);
  for (let i = 0; i < length; i += 1)
    out[at + i] = fill === 0 ? 0x00 : fill === 1 ? 0xff : integer(random, 256);
  return [out, `${length} bytes of ${["0x00", "0xFF", "random"][fill]} at ${at}`];
}

/** Four bytes that decode as an absurd length in either byte order. */
function inflate(random: Random, bytes: Uint8Array, fromTail: boolean): [Uint8Array, string] {
  const out = bytes.slice();
  if (out.byteLength < 4) return [out, "too short to inflate"];
  const window = Math.min(out.byteLength - 3, 4 * KIB);
  const count = 1 + integer(random, 4);
  const done: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const inWindow = integer(random, window);
    const at = fromTail ? out.byteLength - 4 - inWindow : inWindow;
    const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
    const value = random() < 0.5 ? 0x7fffffff : 0xffffffff;
    view.setUint32(at, value, random() < 0.5);
    done.push(`0x${value.toString(16)}@${at}`);
  }
  return [out, done.join(" ")];
}

function splice(random: Random, head: CorpusSample, body: CorpusSample): [Uint8Array, string] {
  const headLength = Math.min(head.bytes.byteLength, KIB + integer(random, 3 * KIB + 1));
  const rest = body.bytes.subarray(Math.min(body.bytes.byteLength, headLength));
  const out = new Uint8Array(headLength + rest.byteLength);
  out.set(head.bytes.subarray(0, headLength), 0);
  out.set(rest, headLength);
  return [out, `first ${headLength} bytes of ${head.name} onto ${body.name}`];
}

/**
 * The corpus files whose name matches `pattern` (case-insensitive), to aim
 * a run at a few extractors; every file when there is no pattern.
 *
 * @example
 * const seeds = selectSeeds(loadCorpus(), "\\.(e?ps|svg|png)$"); // PostScript, SVG and PNG files
 */
export function selectSeeds(corpus: readonly CorpusSample[], pattern?: string): CorpusSample[] {
  if (pattern === undefined) return [...corpus];
  const matcher = new RegExp(pattern, "i");
  return corpus.filter((sample) => matcher.test(sample.name));
}

/**
 * Builds input `index` of `seed`: the corpus file is `corpus[index % n]`, so
 * every file gets its share; the mutation and its parameters come from a PRNG
 * seeded by (seed, index) alone. A splice takes its body from `splicePool`
 * (the same files by default), so a focused run still grafts its headers onto
 * every kind of body.
 *
 * @example
 * const corpus = loadCorpus();
 * const input = fuzzInput(corpus, 1, 1234);
 * await extract(new BufferSource(input.bytes, input.name));
 */
export function fuzzInput(
  corpus: readonly CorpusSample[],
  seed: number,
  index: number,
  splicePool: readonly CorpusSample[] = corpus,
): FuzzInput {
  const sample = corpus[index % corpus.length];
  if (!sample) throw new RangeError("empty corpus");
  const random = mulberry32((seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0);
  const kind = pickKind(random);
  let made: [Uint8Array, string];
  switch (kind) {
    case "truncate":
      made = truncate(random, sample.bytes);
      break;
    case "bit-flip":
      made = bitFlip(random, sample.bytes);
      break;
    case "overwrite-run":
      made = overwriteRun(random, sample.bytes);
      break;
    case "length-inflation":
      made = inflate(random, sample.bytes, false);
      break;
    case "tail-length-inflation":
      made = inflate(random, sample.bytes, true);
      break;
    case "splice": {
      const body = splicePool[integer(random, splicePool.length)] as CorpusSample;
      made = splice(random, sample, body);
      break;
    }
    case "empty":
      made = [new Uint8Array(0), "zero bytes"];
      break;
    case "one-byte": {
      const byte = random() < 0.5 ? (sample.bytes[0] ?? 0) : integer(random, 256);
      made = [Uint8Array.of(byte), `0x${byte.toString(16).padStart(2, "0")}`];
      break;
    }
  }
  return { seed, index, name: sample.name, kind, detail: made[1], bytes: made[0] };
}
