import { LOOPBACK } from "./local-defaults.js";
import { createFolder, ServerThread } from "./server-thread.js";

export interface EmbeddedDynamoDbOptions {
  /** TCP port; 0 picks a free one. */
  port: number;
  /** LevelDB folder for persistence; in memory when absent. */
  directory?: string;
}

/**
 * A DynamoDB-compatible server (dynalite over LevelDB) on 127.0.0.1, on a
 * worker thread of its own (embedded-dynamodb-thread.ts) so its JSON and
 * LevelDB work does not compete with the pipeline's event loop.
 *
 * @example
 * const dynamodb = await EmbeddedDynamoDb.start({ port: 8000, directory: ".catalog/dynamodb" });
 * // ... new DynamoDBClient({ endpoint: dynamodb.endpoint })
 * await dynamodb.close();
 */
export class EmbeddedDynamoDb {
  private constructor(private readonly thread: ServerThread) {}

  /** TCP port the server listens on. */
  get port(): number {
    return this.thread.listeningPort;
  }

  /** The server thread's operating-system id, where the platform has one (for CPU accounting). */
  get osThreadId(): number | undefined {
    return this.thread.osThreadId;
  }

  /** `http://127.0.0.1:<port>` */
  get endpoint(): string {
    return `http://${LOOPBACK}:${this.port}`;
  }

  /**
   * Starts the server; rejects with the listen error (code `EADDRINUSE`) when the port is taken, or
   * with mkdir's (`ENOENT`, `EACCES`, `ENOTDIR`...) when its folder cannot be made.
   */
  static async start(options: EmbeddedDynamoDbOptions): Promise<EmbeddedDynamoDb> {
    if (options.directory) await createFolder(options.directory);
    const thread = new ServerThread("embedded-dynamodb-thread", options);
    await thread.ready;
    return new EmbeddedDynamoDb(thread);
  }

  /**
   * Ends the server's thread at once, for a process about to exit (see
   * {@link ServerThread.halt}); LevelDB recovers what was written from its log on the next start.
   */
  halt(): Promise<void> {
    return this.thread.halt();
  }

  /** Closes the server (and its LevelDB, flushing it to disk), then ends its thread. */
  async close(): Promise<void> {
    await this.thread.close();
  }
}
