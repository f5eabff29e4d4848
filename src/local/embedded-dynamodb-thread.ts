/**
 * Entry of the embedded DynamoDB server's worker thread (see server-thread.ts):
 * dynalite over LevelDB on 127.0.0.1.
 */
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { CLOSE_GRACE_MS, closeHttpServer } from "./close-http-server.js";
import type { EmbeddedDynamoDbOptions } from "./embedded-dynamodb.js";
import { LOOPBACK } from "./local-defaults.js";
import { foreignRequestReason } from "./loopback-guard.js";
import { serveOnThread } from "./server-thread.js";

type Dynalite = (options: {
  path?: string;
  createTableMs?: number;
  deleteTableMs?: number;
  updateTableMs?: number;
}) => Server;

// dynalite is CommonJS without type declarations.
const require = createRequire(import.meta.url);
const dynalite = require("dynalite") as Dynalite;
// dynalite's own LevelDB binding (a dependency of dynalite, resolved from it), for checkFolderOpens.
const { Level } = createRequire(require.resolve("dynalite"))("level") as {
  Level: new (path: string) => { open(): Promise<void>; close(): Promise<void> };
};

/**
 * dynalite opens its LevelDB in the background, after the server listens;
 * when that fails (another process holds the folder's lock, as a second
 * `catalog dev` on the same data folder does, or the folder is not
 * writable) its first request fails with an error nothing catches, which
 * ended this thread, and the process, with a stack trace. Opening the folder
 * once before dynalite does turns that into a start failure with its reason.
 */
async function checkFolderOpens(path: string): Promise<void> {
  const db = new Level(path);
  try {
    await db.open();
  } catch (error) {
    const cause = (error as { cause?: NodeJS.ErrnoException }).cause;
    if (cause?.code === "LEVEL_LOCKED")
      throw Object.assign(new Error("another process has its database open"), { code: cause.code });
    throw cause ?? error;
  }
  await db.close();
}

type RequestListener = (request: IncomingMessage, response: ServerResponse) => void;

/** Answers `request` with a DynamoDB error of `type` (its JSON protocol's shape), without dynalite. */
function answerError(
  request: IncomingMessage,
  response: ServerResponse,
  status: number,
  type: string,
  message: string,
): void {
  request.resume();
  const body = JSON.stringify({ __type: type, message });
  response.writeHead(status, {
    "Content-Type": "application/x-amz-json-1.0",
    "Content-Length": Buffer.byteLength(body),
  });
  response.end(body);
}

/**
 * Stands between the server and dynalite's request listener, for two reasons.
 *
 * dynalite checks no signature (any credentials work) and answers every
 * `Origin` with `Access-Control-Allow-Origin: *`, preflights included, so
 * any web page could read and write the catalog's table through the
 * browser, and a DNS-rebinding page could as its own origin. Requests from
 * other sites' pages and requests addressed to a non-loopback name (see
 * loopback-guard.ts) are answered here with DynamoDB's AccessDeniedException
 * before dynalite sees them.
 *
 * dynalite closes its LevelDB once the last connection has ended, but a
 * request whose client has gone (a process stopping, a destroyed SDK
 * client) is still being worked on then, and its next read of the closed
 * database ("Database is not open", "Iterator is not open") is an error
 * nothing catches, which ended this thread and failed the close. `drain`
 * makes the requests that arrive from then on an error a client retries
 * (503), and settles once every request dynalite was given has been
 * answered, or after `graceMs`.
 */
function gateRequests(server: Server): { drain(graceMs: number): Promise<void> } {
  const listeners = server.listeners("request") as RequestListener[];
  server.removeAllListeners("request");
  let answering = 0;
  let draining: (() => void) | undefined;
  server.on("request", (request: IncomingMessage, response: ServerResponse) => {
    const reason = foreignRequestReason(request.headers);
    if (reason) {
      answerError(request, response, 403, "com.amazonaws.dynamodb.v20120810#AccessDeniedException", reason);
      return;
    }
    if (draining) {
      response.setHeader("Connection", "close");
      answerError(
        request,
        response,
        503,
        "com.amazonaws.dynamodb.v20120810#ServiceUnavailableException",
        "The server is stopping.",
      );
      return;
    }
    answering++;
    // dynalite answers every request with one end(), its client gone or not.
    const end = response.end.bind(response) as (...args: unknown[]) => ServerResponse;
    let answered = false;
    response.end = ((...args: unknown[]) => {
      if (!answered) {
        answered = true;
        answering--;
        if (answering === 0) draining?.();
      }
      return end(...args);
    }) as ServerResponse["end"];
    for (const listener of listeners) listener.call(server, request, response);
  });
  return {
    drain(graceMs) {
      return new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, graceMs);
        draining = () => {
          clearTimeout(timer);
          resolve();
        };
        if (answering === 0) draining();
      });
    },
  };
}

serveOnThread(async (data) => {
  const options = data as EmbeddedDynamoDbOptions;
  if (options.directory) await checkFolderOpens(options.directory);
  const server = dynalite({
    ...(options.directory && { path: options.directory }),
    // Tables are usable at once; there is no provisioning to wait for locally.
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  });
  const gate = gateRequests(server);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, LOOPBACK, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    // dynalite's close also closes its LevelDB, flushing it to disk, once the requests under way are answered.
    close: async () => {
      await gate.drain(CLOSE_GRACE_MS);
      await closeHttpServer(server);
    },
  };
});
