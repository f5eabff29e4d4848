import { EventEmitter } from "node:events";
import type { DeliveryOutcome } from "../local/dispatcher.js";

/** What the live stream tells the page: an object's event was processed (or parked). */
export interface RecordAnnouncement {
  kind: "created" | "removed";
  bucket: string;
  key: string;
  eventTime: string;
  /** False when the event went to the dead-letter file instead of the catalog. */
  delivered: boolean;
  error?: string;
}

/**
 * Announces each settled delivery to whoever listens (the server-sent events
 * route). Fed by the dispatcher's `onSettled` hook, so an announcement means
 * the record is already written and a read will see it.
 *
 * @example
 * const feed = new RecordFeed();
 * const stack = await LocalStack.start({ onDelivery: (outcome) => feed.publish(outcome) });
 * createApp({ ...deps, feed });
 */
export class RecordFeed extends EventEmitter<{ record: [RecordAnnouncement]; end: [] }> {
  private over = false;

  constructor() {
    super();
    // One listener per open dashboard tab; the default of 10 would warn on a normal day.
    this.setMaxListeners(1_000);
  }

  /** True once {@link end} was called: live streams end, and new ones end at once. */
  get ended(): boolean {
    return this.over;
  }

  /**
   * Ends every live stream (the server is stopping): an open dashboard tab
   * would otherwise hold its connection, and the server's close, until the
   * stream's own time is up.
   */
  end(): void {
    if (this.over) return;
    this.over = true;
    this.emit("end");
  }

  /** Turns a dispatcher outcome into an announcement. */
  publish(outcome: DeliveryOutcome): void {
    const { event } = outcome;
    this.emit("record", {
      kind: event.kind,
      bucket: event.bucket,
      key: event.key,
      eventTime: event.eventTime,
      delivered: outcome.delivered,
      ...(outcome.error !== undefined && { error: outcome.error }),
    });
  }
}
