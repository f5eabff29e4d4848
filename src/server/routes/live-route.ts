import type { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import type { RecordAnnouncement, RecordFeed } from "../record-feed.js";

/**
 * A comment line (`: ping`) goes out after this long without a write, so
 * intermediaries that cut idle connections leave a healthy stream alone, and
 * a vanished peer shows up as a write that fails or is never taken.
 */
export const PING_INTERVAL_MS = 15_000;

/**
 * A write the connection has not taken after this long means the client
 * stopped reading (or is gone without a word): the stream is closed and its
 * state released. A reading client, however idle, takes every ping at once.
 * A browser's EventSource reconnects by itself, and the dashboard reloads
 * what it shows after a reconnection.
 */
export const STALL_TIMEOUT_MS = 60_000;

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
  /** @default PING_INTERVAL_MS */
  pingIntervalMs?: number;
  /** @default STALL_TIMEOUT_MS */
  stallTimeoutMs?: number;
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
 * After `pingIntervalMs` without a write the stream carries a `: ping`
 * comment. A write that the connection has not taken within
 * `stallTimeoutMs` closes the connection and drops the client's state, so a
 * client that stops reading for good does not hold a socket forever.
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
  const pingIntervalMs = options.pingIntervalMs ?? PING_INTERVAL_MS;
  const stallTimeoutMs = options.stallTimeoutMs ?? STALL_TIMEOUT_MS;
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
      let aborted: (() => void) | undefined;
      stream.onAbort(() => {
        aborted?.();
        wake?.();
      });
      /**
       * Waits for the connection to take one write, at most `stallTimeoutMs`;
       * past that, closes it. Not waiting on the stuck write any longer is
       * what lets the state go: it settles only when the socket does.
       */
      const send = async (write: () => Promise<unknown>) => {
        let timer: NodeJS.Timeout | undefined;
        const stalled = new Promise<"stalled">((resolve) => {
          timer = setTimeout(() => resolve("stalled"), stallTimeoutMs);
        });
        // One abort promise per write, not one for the stream: a race leaves a reaction on every promise
        // it is given, and one that stays pending for the stream's life would keep one per write.
        const abortion = new Promise<void>((resolve) => {
          aborted = resolve;
          if (stream.aborted) resolve();
        });
        const outcome = await Promise.race([write(), abortion, stalled]);
        aborted = undefined;
        clearTimeout(timer);
        if (outcome !== "stalled") return;
        stream.abort();
        // Behind a stuck write, ending the response would wait for a drain that never comes.
        (c.env as { outgoing?: { destroy(): void } } | undefined)?.outgoing?.destroy();
      };
      try {
        await send(() =>
          stream.writeSSE({ event: "hello", data: JSON.stringify({ live: feed !== undefined }) }),
        );
        while (!stream.aborted) {
          if (resync) {
            // Cleared before the write: what is announced while it waits comes after it, in order.
            resync = false;
            await send(() =>
              stream.writeSSE({ event: "resync", data: JSON.stringify({ reason: "fell behind" }) }),
            );
            continue;
          }
          const next = pending.shift();
          if (next !== undefined) {
            pendingBytes -= Buffer.byteLength(next);
            await send(() => stream.writeSSE({ event: "record", data: next }));
            continue;
          }
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, pingIntervalMs);
            wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          wake = undefined;
          if (pending.length === 0 && !resync && !stream.aborted)
            await send(() => stream.write(": ping\n\n"));
        }
      } finally {
        feed?.off("record", listener);
      }
    });
  });
}
