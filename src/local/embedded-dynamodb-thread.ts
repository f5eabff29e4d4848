/**
 * Entry of the embedded DynamoDB server's worker thread (see server-thread.ts):
 * dynalite over LevelDB on 127.0.0.1.
 */
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { closeHttpServer } from "./close-http-server.js";
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

/**
 * dynalite checks no signature (any credentials work) and answers every
 * `Origin` with `Access-Control-Allow-Origin: *`, preflights included, so
 * any web page could read and write the catalog's table through the
 * browser, and a DNS-rebinding page could as its own origin. Requests from
 * other sites' pages and requests addressed to a non-loopback name (see
 * loopback-guard.ts) are answered here with DynamoDB's AccessDeniedException
 * before dynalite sees them.
 */
function refuseForeignRequests(server: Server): void {
  const listeners = server.listeners("request") as RequestListener[];
  server.removeAllListeners("request");
  server.on("request", (request: IncomingMessage, response: ServerResponse) => {
    const reason = foreignRequestReason(request.headers);
    if (!reason) {
      for (const listener of listeners) listener.call(server, request, response);
      return;
    }
    request.resume();
    const body = JSON.stringify({
      __type: "com.amazonaws.dynamodb.v20120810#AccessDeniedException",
      message: reason,
    });
    response.writeHead(403, {
      "Content-Type": "application/x-amz-json-1.0",
      "Content-Length": Buffer.byteLength(body),
    });
    response.end(body);
  });
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
  refuseForeignRequests(server);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, LOOPBACK, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    // dynalite's close also closes its LevelDB, flushing it to disk.
    close: () => closeHttpServer(server),
  };
});
