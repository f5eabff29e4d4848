import { randomBytes } from "node:crypto";
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
 * what it shows after a reconnection that missed announcements.
 */
export const STALL_TIMEOUT_MS = 60_000;

/**
 * Longest one stream stays open. A client that stops reading shows up only
 * as a write the connection does not take, and on a quiet feed a few bytes
 * of ping every 15 s fill the socket buffers only after days: ending every
 * stream after this long is what bounds the time a client that stopped
 * reading holds its connection, however quiet the feed. A reading browser
 * reconnects within {@link RECONNECT_MS} and, if nothing was announced in
 * between, keeps what it shows (see `resumed` in the `hello` event).
 */
export const MAX_STREAM_MS = 5 * 60_000;

/** How long a browser waits before it reconnects a stream that ended (the SSE `retry` field). */
export const RECONNECT_MS = 1_000;

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
  /** @default MAX_STREAM_MS */
  maxStreamMs?: number;
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
 * client that stops reading for good does not hold a socket forever; and
 * every stream ends after `maxStreamMs` (its connection with it), which
 * bounds that time on a quiet feed too, where no write ever waits.
 *
 * Each `record` and `resync` event, and the `hello` that opens a stream,
 * carries an id: a number that counts announcements, behind a mark of this
 * server process. A browser sends the last id it read when it reconnects
 * (`Last-Event-ID`), and `hello` says `resumed: true` when that id is still
 * the newest, that is when the client missed nothing while it was away.
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
  const maxStreamMs = options.maxStreamMs ?? MAX_STREAM_MS;
  // Ids of an earlier server process must not match this one's: its count started again from 0.
  const epoch = randomBytes(6).toString("base64url");
  let announced = 0;
  const newestId = () => `${epoch}.${announced}`;
  // Registered before any stream's listener, so a stream reading `newestId()` in its own sees this announcement's id.
  feed?.on("record", () => {
    announced += 1;
  });
  app.get("/api/events", (c) => {
    c.header("Cache-Control", "no-store");
    const response = streamSSE(c, async (stream) => {
      const deadline = Date.now() + maxStreamMs;
      const resumed = c.req.header("last-event-id") === newestId();
      const pending: { id: string; data: string }[] = [];
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
          pending.push({ id: newestId(), data });
          pendingBytes += bytes;
        }
        wake?.();
      };
      feed?.on("record", listener);
      let ending = feed?.ended ?? false;
      const onEnd = () => {
        ending = true;
        wake?.();
      };
      feed?.once("end", onEnd);
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
          stream.writeSSE({
            event: "hello",
            data: JSON.stringify({ live: feed !== undefined, resumed }),
            id: newestId(),
            retry: RECONNECT_MS,
          }),
        );
        while (!stream.aborted && !ending && Date.now() < deadline) {
          if (resync) {
            // Cleared before the write: what is announced while it waits comes after it, in order.
            resync = false;
            const id = newestId();
            await send(() =>
              stream.writeSSE({ event: "resync", data: JSON.stringify({ reason: "fell behind" }), id }),
            );
            continue;
          }
          const next = pending.shift();
          if (next !== undefined) {
            pendingBytes -= Buffer.byteLength(next.data);
            await send(() => stream.writeSSE({ event: "record", data: next.data, id: next.id }));
            continue;
          }
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, Math.min(pingIntervalMs, deadline - Date.now()));
            wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          wake = undefined;
          if (pending.length === 0 && !resync && !stream.aborted && !ending && Date.now() < deadline)
            await send(() => stream.write(": ping\n\n"));
        }
        // Time is up, or the server is stopping: end the response, which a client that stopped reading
        // cannot hold up either.
        if (!stream.aborted) await send(() => stream.close());
      } finally {
        feed?.off("record", listener);
        feed?.off("end", onEnd);
      }
    });
    // The connection ends with the stream: no idle keep-alive socket is left to a client that stopped reading.
    response.headers.set("Connection", "close");
    return response;
  });
}
