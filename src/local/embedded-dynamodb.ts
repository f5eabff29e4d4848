import { mkdir } from "node:fs/promises";
import type { Server } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { LOOPBACK } from "./embedded-s3.js";

type Dynalite = (options: {
  path?: string;
  createTableMs?: number;
  deleteTableMs?: number;
  updateTableMs?: number;
}) => Server;

// dynalite is CommonJS without type declarations.
const require = createRequire(import.meta.url);
const dynalite = require("dynalite") as Dynalite;

export interface EmbeddedDynamoDbOptions {
  /** TCP port; 0 picks a free one. */
  port: number;
  /** LevelDB folder for persistence; in memory when absent. */
  directory?: string;
}

/**
 * A DynamoDB-compatible server (dynalite over LevelDB) on 127.0.0.1.
 *
 * @example
 * const dynamodb = await EmbeddedDynamoDb.start({ port: 8000, directory: ".catalog/dynamodb" });
 * // ... new DynamoDBClient({ endpoint: dynamodb.endpoint })
 * await dynamodb.close();
 */
export class EmbeddedDynamoDb {
  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  /** `http://127.0.0.1:<port>` */
  get endpoint(): string {
    return `http://${LOOPBACK}:${this.port}`;
  }

  static async start(options: EmbeddedDynamoDbOptions): Promise<EmbeddedDynamoDb> {
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
    return new EmbeddedDynamoDb(server, (server.address() as AddressInfo).port);
  }

  /** Closes the server (and its LevelDB, flushing it to disk). */
  async close(): Promise<void> {
    // Keep-alive sockets from SDK clients would otherwise hold the server open.
    this.server.closeAllConnections();
    await new Promise<void>((resolve, reject) =>
      this.server.close((error) => (error ? reject(error) : resolve())),
    );
  }
}
