/**
 * Ordering of S3 events for one key. S3's `sequencer` is a hex string; the
 * current S3 documentation says sequencers may differ in length and are
 * compared by right-padding the shorter with zeros, then comparing
 * lexicographically. (Older revisions said left-pad; this module follows the
 * current text.) Every place that orders events goes through this module, so
 * the rule lives in one spot.
 */

/** Width of {@link sequencerSortKey}; S3 sequencers are far shorter (16-18 digits today). */
export const SEQUENCER_SORT_WIDTH = 64;

const HEX = /^[0-9A-Fa-f]+$/;

/**
 * True when `value` looks like an S3 sequencer (non-empty hex).
 *
 * @example
 * isSequencer("0055AED6DCD90281E5") // true
 */
export function isSequencer(value: unknown): value is string {
  return typeof value === "string" && HEX.test(value);
}

/**
 * Orders two sequencers of the same key: negative when `a` is older, positive
 * when newer, 0 when they name the same event. Case does not matter.
 *
 * @example
 * compareSequencers("0055AED6DCD90281E5", "0055aed6dcd90281e6") // < 0
 * compareSequencers("0A", "0A00") // 0: right-padding with zeros makes them equal
 */
export function compareSequencers(a: string, b: string): number {
  const width = Math.max(a.length, b.length);
  const left = a.toUpperCase().padEnd(width, "0");
  const right = b.toUpperCase().padEnd(width, "0");
  return left < right ? -1 : left > right ? 1 : 0;
}

/**
 * A string whose plain (byte-wise) order equals {@link compareSequencers}
 * order, so a DynamoDB condition such as `sequencer < :incoming` enforces the
 * S3 rule: upper-cased, trailing zeros dropped (they never change the
 * order), then right-padded with zeros to {@link SEQUENCER_SORT_WIDTH}.
 * Sequencers equal under the rule get identical keys. A (hypothetical)
 * sequencer longer than the width keeps its length and still orders
 * correctly, since padding with the smallest digit preserves prefix order.
 *
 * @example
 * sequencerSortKey("0055aed6dcd90281e5") // "0055AED6DCD90281E5" + "0".repeat(46)
 */
export function sequencerSortKey(sequencer: string): string {
  return sequencer.toUpperCase().replace(/0+$/, "").padEnd(SEQUENCER_SORT_WIDTH, "0");
}
