import type { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import type { RecordAnnouncement, RecordFeed } from "../record-feed.js";

/** Comment line sent while idle, so proxies and the browser keep the stream open. */
const HEARTBEAT_MS = 15_000;

/**
 * Most bytes of announcements held for one client while its connection takes
 * no more (a background tab, a stalled network): about 300 announcements of
 * ordinary keys. Past it the client is told to `resync` instead.
 */
export const MAX_PENDING_BYTES = 64 * 1024;

/** Options of {@link mountLiveRoute}. */
export interface LiveRouteOptions {
  /** @default MAX_PENDING_BYTES */
  maxPendingBytes?: number;
}

/**
 * `GET /api/events`: server-sent events, one `record` event per processed
 * object event (JSON of {@link RecordAnnouncement}), so the page refreshes
 * what it shows without polling. A server without a feed answers with a
 * stream that only carries heartbeats.
 *
 * Each write waits for the connection to take it (backpressure from the
 * response), and announcements that arrive meanwhile wait in a queue bounded
 * by `maxPendingBytes`. A client that falls further behind loses the queue
 * and everything announced until its connection takes data again; then it
 * gets one `resync` event, which means "events were dropped: reload what you
 * show", and the stream goes on. So a client that stops reading costs the
 * server a bounded amount of memory, however busy the feed.
 *
 * @example
 * mountLiveRoute(app, feed);
 * // browser: const events = new EventSource("/api/events");
 * // events.addEventListener("record", (e) => JSON.parse(e.data));
 * // events.addEventListener("resync", () => reloadView());
 */
export function mountLiveRoute(
  app: Hono,
  feed: RecordFeed | undefined,
  options: LiveRouteOptions = {},
): void {
  const maxPendingBytes = options.maxPendingBytes ?? MAX_PENDING_BYTES;
  app.get("/api/events", (c) => {
    c.header("Cache-Control", "no-store");
    return streamSSE(c, async (stream) => {
      const pending: string[] = [];
      let pendingBytes = 0;
      let resync = false;
      let wake: (() => void) | undefined;
      const listener = (announcement: RecordAnnouncement) => {
        // Already behind: the resync to come covers this announcement too.
        if (resync) return;
        const data = JSON.stringify(announcement);
        const bytes = Buffer.byteLength(data);
        if (pendingBytes + bytes > maxPendingBytes) {
          pending.length = 0;
          pendingBytes = 0;
          resync = true;
        } else {
          pending.push(data);
          pendingBytes += bytes;
        }
        wake?.();
      };
      feed?.on("record", listener);
      stream.onAbort(() => wake?.());
      try {
        await stream.writeSSE({ event: "hello", data: JSON.stringify({ live: feed !== undefined }) });
        while (!stream.aborted) {
          if (resync) {
            // Cleared before the write: what is announced while it waits comes after it, in order.
            resync = false;
            await stream.writeSSE({ event: "resync", data: JSON.stringify({ reason: "fell behind" }) });
            continue;
          }
          const next = pending.shift();
          if (next !== undefined) {
            pendingBytes -= Buffer.byteLength(next);
            await stream.writeSSE({ event: "record", data: next });
            continue;
          }
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, HEARTBEAT_MS);
            wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          wake = undefined;
          if (pending.length === 0 && !resync && !stream.aborted) await stream.write(": heartbeat\n\n");
        }
      } finally {
        feed?.off("record", listener);
      }
    });
  });
}
