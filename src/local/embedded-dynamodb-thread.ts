/**
 * Entry of the embedded DynamoDB server's worker thread (see server-thread.ts):
 * dynalite over LevelDB on 127.0.0.1.
 */
import { mkdir } from "node:fs/promises";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
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
  if (options.directory) await mkdir(options.directory, { recursive: true });
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
    close: async () => {
      // Keep-alive sockets from SDK clients would otherwise hold the server open.
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      );
    },
  };
});
