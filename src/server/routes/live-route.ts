import type { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import type { RecordAnnouncement, RecordFeed } from "../record-feed.js";

/** Comment line sent while idle, so proxies and the browser keep the stream open. */
const HEARTBEAT_MS = 15_000;

/**
 * `GET /api/events`: server-sent events, one `record` event per processed
 * object event (JSON of {@link RecordAnnouncement}), so the page refreshes
 * what it shows without polling. A server without a feed answers with a
 * stream that only carries heartbeats.
 *
 * @example
 * mountLiveRoute(app, feed);
 * // browser: new EventSource("/api/events").addEventListener("record", (e) => JSON.parse(e.data));
 */
export function mountLiveRoute(app: Hono, feed: RecordFeed | undefined): void {
  app.get("/api/events", (c) => {
    c.header("Cache-Control", "no-store");
    return streamSSE(c, async (stream) => {
      const queue: RecordAnnouncement[] = [];
      let wake: (() => void) | undefined;
      const listener = (announcement: RecordAnnouncement) => {
        queue.push(announcement);
        wake?.();
      };
      feed?.on("record", listener);
      stream.onAbort(() => wake?.());
      try {
        await stream.writeSSE({ event: "hello", data: JSON.stringify({ live: feed !== undefined }) });
        while (!stream.aborted) {
          const next = queue.shift();
          if (next) {
            await stream.writeSSE({ event: "record", data: JSON.stringify(next) });
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
          if (queue.length === 0 && !stream.aborted) await stream.write(": heartbeat\n\n");
        }
      } finally {
        feed?.off("record", listener);
      }
    });
  });
}
