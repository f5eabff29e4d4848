/**
 * Entry of the embedded DynamoDB server's worker thread (see server-thread.ts):
 * dynalite over LevelDB on 127.0.0.1.
 */
import { mkdir } from "node:fs/promises";
import type { Server } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import type { EmbeddedDynamoDbOptions } from "./embedded-dynamodb.js";
import { LOOPBACK } from "./local-defaults.js";
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
