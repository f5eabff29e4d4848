import { DEFAULT_CONCURRENCY } from "../config/config.js";
import type { ObjectEvent } from "../events/s3-event.js";
import { type ObjectOutcome, type PipelineDeps, processObject } from "./process-object.js";

/** One event's result: its outcome, or the infrastructure fault that stopped it. */
export type EventResult =
  | { event: ObjectEvent; ok: true; outcome: ObjectOutcome }
  | { event: ObjectEvent; ok: false; error: unknown };

/**
 * Processes a batch of object events with at most `concurrency` in flight,
 * and never stops early: a fault on one object is reported in its slot while
 * the others carry on. Results come back in input order. Events of the same
 * key may run concurrently; the sequencer-conditional writes make the final
 * state the latest event's whatever the finishing order.
 *
 * @example
 * const results = await processEvents(events, deps, { concurrency: 8 });
 * const faults = results.filter((result) => !result.ok);
 */
export async function processEvents(
  events: readonly ObjectEvent[],
  deps: PipelineDeps,
  options: { concurrency?: number } = {},
): Promise<EventResult[]> {
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? DEFAULT_CONCURRENCY));
  const results = new Array<EventResult>(events.length);
  let next = 0;
  async function worker(): Promise<void> {
    while (next < events.length) {
      const index = next;
      next += 1;
      const event = events[index] as ObjectEvent;
      try {
        results[index] = { event, ok: true, outcome: await processObject(event, deps) };
      } catch (error) {
        results[index] = { event, ok: false, error };
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, events.length) }, worker));
  return results;
}
