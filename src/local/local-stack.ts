import { lstat, rm } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import { TerminalLogger } from "../cli/terminal-logger.js";
import { SDK_HTTP_TIMEOUTS } from "../config/config.js";
import { createHandler } from "../lambda/handler.js";
import { warmUpPipeline } from "../pipeline/warm-up.js";
import { DEFAULT_POLICY, type Policy } from "../policy/policy.js";
import { CatalogStore } from "../store/catalog-store.js";
import { type DeliveryOutcome, Dispatcher } from "./dispatcher.js";
import { EmbeddedDynamoDb } from "./embedded-dynamodb.js";
import { EmbeddedS3 } from "./embedded-s3.js";
import { EventJournal } from "./event-journal.js";
import {
  LOCAL_CREDENTIALS,
  LOCAL_DEFAULTS,
  LOCAL_REGION,
  LOCAL_S3_CLIENT_OPTIONS,
} from "./local-defaults.js";

export { LOCAL_CREDENTIALS, LOCAL_DEFAULTS, LOCAL_REGION, LOCAL_S3_CLIENT_OPTIONS };

export interface LocalStackOptions {
  /** @default 4569 */
  s3Port?: number;
  /** @default 8000 */
  dynamodbPort?: number;
  /** Folder for objects, the table and the dead-letter file. @default ".catalog" */
  dataDir?: string;
  /** @default "uploads" */
  bucket?: string;
  /** @default "catalog" */
  tableName?: string;
  policy?: Policy;
  /** Keys under this prefix are derived files and raise no event. @default "_derived/" */
  derivedPrefix?: string;
  /** Write WebP thumbnails of images under the derived prefix. @default true */
  thumbnails?: boolean;
  /** Invocations running at once. @default 4 */
  concurrency?: number;
  /** Delays before the dispatcher's two retries. @default [500, 2000] */
  retryBackoffMs?: readonly number[];
  /** Handler log level (Powertools). @default "INFO" */
  logLevel?: "DEBUG" | "INFO" | "WARN" | "ERROR" | "SILENT";
  onDelivery?: (outcome: DeliveryOutcome) => void;
  /**
   * Called the first time an object changes in a bucket other than `bucket`
   * (made with `aws s3 mb`, say), once per bucket: the stack catalogs only the
   * bucket it watches, as the deployed notification does.
   */
  onUnwatchedBucket?: (bucket: string) => void;
}

/** A port the stack wanted is taken; said in one line by the CLI. */
export class PortInUseError extends Error {
  constructor(
    readonly service: string,
    readonly port: number,
    readonly flag: string,
  ) {
    super(`port ${port} for the ${service} is already in use (choose another with ${flag})`);
    this.name = "PortInUseError";
  }
}

/** A server's folder under the data folder cannot be made or used; said in one line by the CLI. */
export class DataFolderError extends Error {
  constructor(
    readonly service: string,
    readonly folder: string,
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(
      `cannot use ${folder} for the ${service}: ${reason} (choose another folder with --data-dir)`,
      options,
    );
    this.name = "DataFolderError";
  }
}

/**
 * What making, opening or locking a folder fails with. LevelDB says its own
 * codes: LEVEL_LOCKED (another process has its database), LEVEL_IO_ERROR (a
 * file of it cannot be written or read, "Permission denied" on a folder not
 * writable) and LEVEL_CORRUPTION (a damaged database).
 */
const FOLDER_ERROR_CODES = new Set([
  "EACCES",
  "EPERM",
  "ENOENT",
  "ENOTDIR",
  "EEXIST",
  "EISDIR",
  "EROFS",
  "ENOSPC",
  "EDQUOT",
  "ELOOP",
  "ENAMETOOLONG",
  "LEVEL_LOCKED",
  "LEVEL_IO_ERROR",
  "LEVEL_CORRUPTION",
]);

/** Starts one server, turning a taken port or an unusable folder into the error that names its flag. */
async function startServer<T>(
  service: string,
  port: { port: number; flag: string },
  folder: string,
  start: () => Promise<T>,
): Promise<T> {
  try {
    return await start();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EADDRINUSE")
      throw new PortInUseError(service, port.port, port.flag);
    throw asFolderError(service, folder, error);
  }
}

/** What a failure to make, open or lock `folder` for `service` is said as; any other error as it is. */
function asFolderError(service: string, folder: string, error: unknown): unknown {
  const { code, message } = error as NodeJS.ErrnoException;
  return code && FOLDER_ERROR_CODES.has(code)
    ? new DataFolderError(service, folder, String(message), { cause: error })
    : error;
}

/** The journal of events accepted and not yet finished, in the data folder (see event-journal.ts). */
const PENDING_EVENTS_FILE = "pending-events.jsonl";

/** The stack's event journal; a file that cannot be read or written there is named, as a folder would be. */
async function openJournal(file: string): ReturnType<typeof EventJournal.open> {
  try {
    return await EventJournal.open(file);
  } catch (error) {
    throw asFolderError("event journal", file, error);
  }
}

/**
 * The outermost folder of `path` that is not there yet (`path` itself, or a
 * parent), which a start makes; undefined when the whole path exists, or
 * when what is there is no folder to make one in (a file) and nothing would
 * be made.
 */
async function folderToBeMade(path: string): Promise<string | undefined> {
  let missing: string | undefined;
  for (let folder = path; ; folder = dirname(folder)) {
    try {
      await lstat(folder);
      return missing;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") return missing;
    }
    missing = folder;
    if (dirname(folder) === folder) return missing;
  }
}

/**
 * Removes the folder a start made, once the start has failed. A failure to
 * remove it is not reported: the start's own error is the one to say. A
 * server thread ending as this runs may still write a file, hence the retries.
 */
async function removeMadeFolder(folder: string | undefined): Promise<void> {
  if (folder === undefined) return;
  await rm(folder, { recursive: true, force: true, maxRetries: 3 }).catch(() => undefined);
}

/**
 * S3, DynamoDB and the pipeline on one laptop: an embedded S3 server, an
 * embedded DynamoDB server (persisted under the data folder), and a
 * dispatcher that turns every object change in the watched bucket into the
 * notification S3 would send and hands it to the same handler the Lambda
 * runs. Changes in other buckets of the embedded server are counted, not
 * cataloged (`catalog backfill s3://other/` catalogs one on demand).
 *
 * @example
 * const stack = await LocalStack.start({ dataDir: ".catalog" });
 * // upload to stack.s3.endpoint, query stack.store
 * await stack.close();
 */
export class LocalStack {
  private constructor(
    readonly s3: EmbeddedS3,
    readonly dynamodb: EmbeddedDynamoDb,
    readonly s3Client: S3Client,
    readonly dynamodbClient: DynamoDBClient,
    readonly store: CatalogStore,
    readonly dispatcher: Dispatcher,
    private readonly journal: EventJournal,
    /** Events an earlier run accepted and did not finish, delivered again by this one. */
    readonly resumedEvents: number,
    readonly bucket: string,
    readonly tableName: string,
    readonly dataDir: string,
    readonly derivedPrefix: string,
    /** The data folder (or its outermost new parent) this start made, for {@link abandon}. */
    private readonly madeDataDir: string | undefined,
  ) {}

  /** The journal of this stack's events accepted and not yet finished (see event-journal.ts). */
  get pendingEventsFile(): string {
    return join(this.dataDir, PENDING_EVENTS_FILE);
  }

  /** Why the journal stopped writing (a full disk), if it did: events accepted since then are not kept. */
  get journalError(): string | undefined {
    return this.journal.error;
  }

  /** The dead-letter file of this stack. */
  get deadLetterFile(): string {
    return join(this.dataDir, "dead-letter.jsonl");
  }

  /**
   * Starts the stack. A start that fails leaves no new folder behind: the
   * data folder, and its parents, are removed if this start made them (a
   * port found taken only when a server listens would otherwise leave an
   * empty `.catalog/`); a folder that was there before is left as it was.
   */
  static async start(options: LocalStackOptions = {}): Promise<LocalStack> {
    const dataDir = resolve(options.dataDir ?? LOCAL_DEFAULTS.dataDir);
    const made = await folderToBeMade(dataDir);
    try {
      return await LocalStack.open(dataDir, made, options);
    } catch (error) {
      await removeMadeFolder(made);
      throw error;
    }
  }

  private static async open(
    dataDir: string,
    madeDataDir: string | undefined,
    options: LocalStackOptions,
  ): Promise<LocalStack> {
    const bucket = options.bucket ?? LOCAL_DEFAULTS.bucket;
    const tableName = options.tableName ?? LOCAL_DEFAULTS.tableName;
    const derivedPrefix = options.derivedPrefix ?? LOCAL_DEFAULTS.derivedPrefix;
    const s3Port = options.s3Port ?? LOCAL_DEFAULTS.s3Port;
    const dynamodbPort = options.dynamodbPort ?? LOCAL_DEFAULTS.dynamodbPort;

    // DynamoDB first: its database's lock is what keeps a second stack off this data folder, and the S3
    // server, as it starts, sweeps the folder's unfinished multipart uploads, which would be the running
    // stack's uploads in flight.
    const dynamodbFolder = join(dataDir, "dynamodb");
    const dynamodb = await startServer(
      "DynamoDB server",
      { port: dynamodbPort, flag: "--dynamodb-port" },
      dynamodbFolder,
      () => EmbeddedDynamoDb.start({ port: dynamodbPort, directory: dynamodbFolder }),
    );
    // From here on, a step that fails closes what the earlier ones started: a server left running
    // would keep the process (a test, a benchmark) alive after the error it was given.
    const started: { close(): Promise<void> | void }[] = [dynamodb];
    try {
      // Opened once the database's lock is held: no second stack writes to it. Events an earlier run accepted
      // and did not finish (it was stopped at once, or crashed) are delivered below, before new ones.
      const { journal, unfinished } = await openJournal(join(dataDir, PENDING_EVENTS_FILE));
      started.push({ close: () => journal.close() });
      const s3Folder = join(dataDir, "s3");
      const s3 = await startServer("S3 server", { port: s3Port, flag: "--s3-port" }, s3Folder, () =>
        EmbeddedS3.start({ port: s3Port, directory: s3Folder, buckets: [bucket], derivedPrefix }),
      );
      started.push(s3);
      // Every object costs the handler several SDK calls, and the SDK's own work per call (resolving the
      // middleware stack, endpoint, signing) is most of the pipeline's CPU here. Resolving each S3
      // command's middleware once per client instead of once per call saves part of it; nothing adds
      // middleware to this client after it has sent. The DynamoDB document client refuses the option.
      // (Keep-alive needs no setting: the SDK's default agent keeps connections alive, 50 sockets.)
      const s3Client = new S3Client({
        ...LOCAL_S3_CLIENT_OPTIONS,
        endpoint: s3.endpoint,
        cacheMiddleware: true,
        requestHandler: SDK_HTTP_TIMEOUTS,
      });
      started.push({ close: () => s3Client.destroy() });
      const dynamodbClient = new DynamoDBClient({
        region: LOCAL_REGION,
        credentials: LOCAL_CREDENTIALS,
        endpoint: dynamodb.endpoint,
        requestHandler: SDK_HTTP_TIMEOUTS,
      });
      started.push({ close: () => dynamodbClient.destroy() });
      const store = new CatalogStore(dynamodbClient, { tableName });
      await store.ensureTable();

      const logLevel = options.logLevel ?? "INFO";
      const handler = createHandler({
        s3: s3Client,
        dynamodb: dynamodbClient,
        tableName,
        policy: options.policy ?? DEFAULT_POLICY,
        // The handler writes thumbnails through this stack's S3 client; the dispatcher below excludes the
        // same prefix, so they raise no event.
        derivedPrefix,
        thumbnails: options.thumbnails ?? true,
        // These lines go to the terminal of `catalog dev` and carry uploaders' keys and metadata.
        logger: new TerminalLogger({ serviceName: "s3-metadata-catalog", logLevel }),
      });
      const dispatcher = new Dispatcher({
        invoke: handler,
        deadLetterFile: join(dataDir, "dead-letter.jsonl"),
        concurrency: options.concurrency ?? 4,
        ...(options.retryBackoffMs && { backoffMs: options.retryBackoffMs }),
        // The deployed stack's notification is configured on its one bucket; other buckets are not watched.
        bucket,
        ...(options.onUnwatchedBucket && { onUnwatched: options.onUnwatchedBucket }),
        excludePrefixes: [derivedPrefix],
        ...(options.onDelivery && { onSettled: options.onDelivery }),
        journal,
      });
      s3.on("object", (event) => dispatcher.enqueue(event));
      dispatcher.resume(unfinished);
      warmUpPipeline({ thumbnails: options.thumbnails ?? true });
      return new LocalStack(
        s3,
        dynamodb,
        s3Client,
        dynamodbClient,
        store,
        dispatcher,
        journal,
        unfinished.length,
        bucket,
        tableName,
        dataDir,
        derivedPrefix,
        madeDataDir,
      );
    } catch (error) {
      // The error that stopped the start is the one to report; one from closing would hide it.
      await Promise.allSettled(started.reverse().map(async (part) => part.close()));
      throw error;
    }
  }

  /**
   * Stops taking uploads, finishes the events already accepted, then closes
   * clients and servers (LevelDB is flushed on close). Writes to the S3
   * server are refused first (503, see {@link EmbeddedS3.refuseWrites}):
   * while uploads kept arriving the queue never emptied, and a client that
   * kept uploading kept the stack from stopping. Reads still work, for the
   * handler; every event accepted is delivered or ends in the dead-letter file.
   */
  async close(): Promise<void> {
    await this.s3.refuseWrites();
    await this.dispatcher.idle();
    this.journal.close();
    this.s3Client.destroy();
    this.dynamodbClient.destroy();
    await Promise.all([this.s3.close(), this.dynamodb.close()]);
  }

  /**
   * Closes a stack its caller could not go on to use (`catalog dev` whose
   * HTTP port was taken), and removes the data folder if this start made it,
   * as a start that fails does.
   */
  async abandon(): Promise<void> {
    await this.close();
    await removeMadeFolder(this.madeDataDir);
  }

  /**
   * Ends both servers' threads at once, leaving queued events undone (the
   * journal keeps them for the next start): what a process that exits now
   * calls first (see {@link ServerThread.halt}).
   */
  async halt(): Promise<void> {
    await Promise.all([this.s3.halt(), this.dynamodb.halt()]);
  }
}
