import { EventEmitter } from "node:events";
import type { ObjectEvent } from "../events/s3-event.js";
import { LOOPBACK } from "./local-defaults.js";
import { createFolder, ServerThread } from "./server-thread.js";

export { LOOPBACK };

export interface EmbeddedS3Options {
  /** TCP port; 0 picks a free one. */
  port: number;
  /** Folder holding the buckets; created if missing. */
  directory: string;
  /** Buckets created at start when missing. */
  buckets?: readonly string[];
  /**
   * The prefix the pipeline writes its own files under (thumbnails). Writes
   * there are still taken once the server refuses others (see
   * {@link EmbeddedS3.refuseWrites}), so the events being finished can write
   * and delete their thumbnails.
   */
  derivedPrefix?: string;
}

/** One object change, as the server's thread posts it; `count` numbers the announcements. */
export interface ObjectAnnouncement {
  event: ObjectEvent;
  count: number;
}
/** The owner's answer: every announcement up to `received` has been emitted. */
export interface ObjectReceipt {
  received: number;
}

/**
 * s3rver's DeleteObject removes the folders a delete leaves empty, and its
 * PutObject creates the object's folder, then opens the file without an
 * error handler. A put into a folder that a concurrent delete (of another
 * key) has just removed therefore answers 200, stores no object, and throws
 * an uncaught ENOENT that ends the process. This gate lets puts run
 * together but makes each delete wait for the puts in flight and hold new
 * ones until it is done. Once a put returns, its metadata file keeps the
 * folder non-empty, so no later delete removes it.
 */
export class PutDeleteGate {
  private puts = 0;
  private putsDrained: (() => void)[] = [];
  private deleting = false;
  private deletes: Promise<unknown> = Promise.resolve();

  /** Runs a put, after any delete under way. */
  async put<T>(run: () => Promise<T>): Promise<T> {
    while (this.deleting) await this.deletes;
    this.puts++;
    try {
      return await run();
    } finally {
      this.puts--;
      if (this.puts === 0) for (const resolve of this.putsDrained.splice(0)) resolve();
    }
  }

  /** Runs a delete alone: after earlier deletes and every put in flight. */
  delete<T>(run: () => Promise<T>): Promise<T> {
    const turn = this.deletes.then(async () => {
      this.deleting = true;
      try {
        if (this.puts > 0) await new Promise<void>((resolve) => this.putsDrained.push(resolve));
        return await run();
      } finally {
        this.deleting = false;
      }
    });
    this.deletes = turn.catch(() => undefined);
    return turn;
  }
}

/**
 * Issues sequencers that increase strictly within the process, as S3's do
 * for one key. s3rver's own are `Date.now()` in hex, equal for two writes in
 * the same millisecond, which would make the second look like a duplicate.
 */
export class SequencerClock {
  private last = 0n;
  next(): string {
    const now = BigInt(Date.now()) << 16n;
    this.last = now > this.last ? now : this.last + 1n;
    return this.last.toString(16).toUpperCase().padStart(16, "0");
  }
}

/**
 * What s3rver's own event does not say about the request that created an
 * object, noted while the request runs (see embedded-s3-thread.ts).
 */
export interface CreatingRequest {
  /** A POST with `uploadId`: CompleteMultipartUpload, which s3rver announces as a POST upload. */
  completesMultipartUpload: boolean;
  /** The ETag (unquoted) of the object a CopyObject wrote; s3rver's Copy event carries none. */
  copiedETag?: string;
}

/**
 * The event name and ETag S3 would send for an object s3rver announced.
 * S3 names the API that made the object (`ObjectCreated:CompleteMultipartUpload`,
 * where s3rver says `Post`) and gives every created object its ETag, copies
 * included (where s3rver gives none).
 *
 * @example
 * createdEventFields({ eventName: "ObjectCreated:Copy" }, { completesMultipartUpload: false, copiedETag: "9a03…" })
 * // { eventName: "ObjectCreated:Copy", eTag: "9a03…" }
 */
export function createdEventFields(
  announced: { eventName: string; eTag?: string },
  request: CreatingRequest | undefined,
): { eventName: string; eTag?: string } {
  const eventName =
    announced.eventName === "ObjectCreated:Post" && request?.completesMultipartUpload
      ? "ObjectCreated:CompleteMultipartUpload"
      : announced.eventName;
  const eTag = announced.eTag || (eventName === "ObjectCreated:Copy" ? request?.copiedETag : undefined);
  return { eventName, ...(eTag && { eTag }) };
}

/**
 * An S3-compatible server (s3rver) on 127.0.0.1 that stores objects under one
 * folder and reports every change as an {@link ObjectEvent}, as S3 would
 * send it to a notification target.
 *
 * The server runs on a worker thread of its own (embedded-s3-thread.ts), so
 * its request handling does not compete with the pipeline's event loop; the
 * changes are emitted here, on the thread that started it, and each is
 * emitted before the request that made it is answered.
 *
 * Differences from s3rver's own events, on purpose: keys are the real keys
 * (the dispatcher encodes them as S3 does); event names and ETags are S3's
 * (see {@link createdEventFields}); sequencers increase strictly
 * (one {@link SequencerClock} on the server's thread stamps every change in
 * the order it happens); deletions are reported from the store, so
 * multi-object deletes (DeleteObjects, used by `aws s3 rm --recursive`),
 * which s3rver does not announce, are cataloged too.
 *
 * @example
 * const s3 = await EmbeddedS3.start({ port: 4569, directory: ".catalog/s3", buckets: ["uploads"] });
 * s3.on("object", (event: ObjectEvent) => console.log(event.eventName, event.key));
 */
export class EmbeddedS3 extends EventEmitter<{ object: [ObjectEvent]; error: [Error] }> {
  private constructor(private readonly thread: ServerThread) {
    super();
    thread.on("message", (body) => {
      const { event, count } = body as ObjectAnnouncement;
      try {
        this.emit("object", event);
      } finally {
        thread.post({ received: count } satisfies ObjectReceipt);
      }
    });
    // Unhandled, this ends the process, as a crash of the in-process server did.
    thread.on("error", (error) => this.emit("error", error));
  }

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
  static async start(options: EmbeddedS3Options): Promise<EmbeddedS3> {
    await createFolder(options.directory);
    const embedded = new EmbeddedS3(new ServerThread("embedded-s3-thread", options));
    await embedded.thread.ready;
    return embedded;
  }

  /**
   * Refuses from now on every request that would change an object (PUT,
   * POST, DELETE: uploads, copies, multipart, deletes) with S3's 503
   * ServiceUnavailable, which SDKs retry and then report, while reads are
   * answered as before: a stack that is stopping takes no new work but its
   * handler can still read what it was given, and write and delete under
   * the derived prefix (its thumbnails). Resolves with whether the
   * server refuses them, once it does and the writes already under way have
   * been answered (their events emitted).
   */
  refuseWrites(): Promise<boolean> {
    return this.thread.refuseWrites();
  }

  /** Ends the server's thread at once, for a process about to exit (see {@link ServerThread.halt}). */
  halt(): Promise<void> {
    return this.thread.halt();
  }

  /** Stops accepting requests, lets those under way finish, then ends the server's thread. */
  async close(): Promise<void> {
    await this.thread.close();
  }
}
