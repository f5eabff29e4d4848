import type { Server } from "node:http";

/** How long requests under way may run on once a server is closing, before their connections are cut. */
export const CLOSE_GRACE_MS = 5_000;
/** How often, once a server is closing, connections that have gone idle since are closed. */
const IDLE_SWEEP_MS = 50;

/**
 * Closes `server` without waiting on its clients. `server.close()` alone
 * settles only when every connection has ended, and an SDK that sends
 * request after request on one keep-alive connection (an upload of many
 * files, one at a time) holds it open for as long as it keeps sending. Here
 * idle connections are closed at once, every request received from now on
 * is answered with `Connection: close`, a connection whose request was
 * under way is closed once that request has been answered, and whatever is
 * still open after `graceMs` is cut.
 *
 * @example
 * await closeHttpServer(server); // settles within CLOSE_GRACE_MS, however busy the clients
 */
export function closeHttpServer(server: Server, graceMs = CLOSE_GRACE_MS): Promise<void> {
  const closed = new Promise<void>((resolve, reject) =>
    server.close((error) => (error ? reject(error) : resolve())),
  );
  server.prependListener("request", (_request, response) => {
    if (!response.headersSent) response.setHeader("Connection", "close");
  });
  server.closeIdleConnections();
  // A request received before now is answered keep-alive, and Node.js emits nothing when its connection goes idle.
  const sweep = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS);
  const cut = setTimeout(() => server.closeAllConnections(), graceMs);
  return closed.finally(() => {
    clearInterval(sweep);
    clearTimeout(cut);
  });
}
