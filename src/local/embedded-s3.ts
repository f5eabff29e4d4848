import { EventEmitter } from "node:events";
import { mkdir, rename, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import type { ObjectEvent } from "../events/s3-event.js";
import { decodeKeyPath, encodeKeyPath } from "./key-path.js";

import { LOOPBACK } from "./local-defaults.js";

export { LOOPBACK };

interface S3rverStore {
  getResourcePath(bucket: string, key: string, resource: string): string;
  putMetadata(bucket: string, key: string, metadata: Record<string, string>, md5?: string): Promise<void>;
  putObject(object: unknown): Promise<unknown>;
  deleteObject(bucket: string, key: string): Promise<void>;
}
interface S3rverRecord {
  eventTime: string;
  eventName: string;
  requestParameters: { sourceIPAddress?: string };
  responseElements: { "x-amz-request-id"?: string };
  s3: { bucket: { name: string }; object: { key: string; size?: number; eTag?: string } };
}
interface KoaContext {
  path: string;
}
interface S3rverInstance extends EventEmitter {
  store: S3rverStore;
  middleware: ((ctx: KoaContext, next: () => Promise<void>) => Promise<void>)[];
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
type S3rverConstructor = new (options: {
  address: string;
  port: number;
  silent: boolean;
  directory: string;
  configureBuckets?: { name: string; configs: unknown[] }[];
  allowMismatchedSignatures?: boolean;
}) => S3rverInstance;
interface FilesystemStoreClass {
  encodeKeyPath(key: string): string;
  decodeKeyPath(path: string): string;
}

// s3rver is CommonJS without type declarations.
const require = createRequire(import.meta.url);
const S3rver = require("s3rver") as S3rverConstructor;
const FilesystemStore = require("s3rver/lib/stores/filesystem.js") as FilesystemStoreClass;
const S3Object = require("s3rver/lib/models/object.js") as { ALLOWED_METADATA: string[] };

// s3rver offers no hook for its key-to-path mapping; replacing the two static
// methods it calls everywhere is the narrowest fix (see key-path.ts for why).
FilesystemStore.encodeKeyPath = encodeKeyPath;
FilesystemStore.decodeKeyPath = decodeKeyPath;

export interface EmbeddedS3Options {
  /** TCP port; 0 picks a free one. */
  port: number;
  /** Folder holding the buckets; created if missing. */
  directory: string;
  /** Buckets created at start when missing. */
  buckets?: readonly string[];
}

/**
 * s3rver routes `/:bucket/:key+`, whose pattern cannot match an empty path
 * segment, so a key such as `a//b` or `/x` answers 404. Encoding the key's
 * slashes as `%2F` before routing gives the router one segment, which it
 * decodes back to the same key; signatures are computed from that decoded
 * key, so they still match what the client signed.
 */
async function keepEmptyKeySegments(ctx: KoaContext, next: () => Promise<void>): Promise<void> {
  const match = /^(\/[^/]+\/)(.*)$/s.exec(ctx.path);
  if (match?.[2]?.includes("//") || match?.[2]?.startsWith("/")) {
    ctx.path = `${match[1]}${match[2].replaceAll("/", "%2F")}`;
  }
  await next();
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
 * s3rver's own putMetadata writes the metadata file in place: a process
 * killed mid-write leaves it empty, and from then on every ListObjects of
 * the bucket fails with InternalError (JSON.parse of the empty file), which
 * also stops `catalog backfill` from recovering after the crash. Writing a
 * temporary file and renaming it over the old one makes the write atomic;
 * the fields kept are s3rver's (its allowed headers and `x-amz-meta-*`).
 */
async function writeMetadataAtomically(
  store: S3rverStore,
  bucket: string,
  key: string,
  metadata: Record<string, string>,
  md5?: string,
): Promise<void> {
  const kept = Object.fromEntries(
    Object.entries(metadata).filter(
      ([name]) => S3Object.ALLOWED_METADATA.includes(name) || name.startsWith("x-amz-meta-"),
    ),
  );
  const writeAtomically = async (path: string, text: string) => {
    const temporary = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    await writeFile(temporary, text);
    await rename(temporary, path);
  };
  if (md5) await writeAtomically(store.getResourcePath(bucket, key, "object.md5"), md5);
  await writeAtomically(store.getResourcePath(bucket, key, "metadata.json"), JSON.stringify(kept, null, 2));
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
 * An S3-compatible server (s3rver) on 127.0.0.1 that stores objects under one
 * folder and reports every change as an {@link ObjectEvent}, as S3 would
 * send it to a notification target.
 *
 * Differences from s3rver's own events, on purpose: keys are the real keys
 * (the dispatcher encodes them as S3 does); sequencers increase strictly;
 * deletions are reported from the store, so multi-object deletes
 * (DeleteObjects, used by `aws s3 rm --recursive`), which s3rver does not
 * announce, are cataloged too.
 *
 * @example
 * const s3 = await EmbeddedS3.start({ port: 4569, directory: ".catalog/s3", buckets: ["uploads"] });
 * s3.on("object", (event: ObjectEvent) => console.log(event.eventName, event.key));
 */
export class EmbeddedS3 extends EventEmitter<{ object: [ObjectEvent] }> {
  private readonly clock = new SequencerClock();

  private constructor(
    private readonly server: S3rverInstance,
    readonly port: number,
  ) {
    super();
  }

  /** `http://127.0.0.1:<port>` */
  get endpoint(): string {
    return `http://${LOOPBACK}:${this.port}`;
  }

  static async start(options: EmbeddedS3Options): Promise<EmbeddedS3> {
    await mkdir(options.directory, { recursive: true });
    const server = new S3rver({
      address: LOOPBACK,
      port: options.port,
      silent: true,
      directory: options.directory,
      configureBuckets: (options.buckets ?? []).map((name) => ({ name, configs: [] })),
    });
    server.middleware.unshift(keepEmptyKeySegments);
    const address = await server.run();
    const embedded = new EmbeddedS3(server, address.port);
    embedded.observe();
    return embedded;
  }

  private observe(): void {
    this.server.on("event", (notification: { Records: S3rverRecord[] }) => {
      for (const record of notification.Records) {
        if (!record.eventName.startsWith("ObjectCreated:")) continue;
        const object = record.s3.object;
        this.emit("object", {
          kind: "created",
          eventName: record.eventName,
          bucket: record.s3.bucket.name,
          key: object.key,
          ...(object.size !== undefined && { size: Number(object.size) }),
          ...(object.eTag && { eTag: object.eTag }),
          sequencer: this.clock.next(),
          eventTime: record.eventTime,
          principalId: "local",
          sourceIPAddress: (record.requestParameters.sourceIPAddress ?? LOOPBACK).replace(/^::ffff:/, ""),
          ...(record.responseElements["x-amz-request-id"] && {
            requestId: record.responseElements["x-amz-request-id"],
          }),
        });
      }
    });
    const store = this.server.store;
    store.putMetadata = (bucket, key, metadata, md5) =>
      writeMetadataAtomically(store, bucket, key, metadata, md5);
    const gate = new PutDeleteGate();
    const putObject = store.putObject.bind(store);
    store.putObject = (object) => gate.put(() => putObject(object));
    const deleteObject = store.deleteObject.bind(store);
    store.deleteObject = async (bucket, key) => {
      await gate.delete(() => deleteObject(bucket, key));
      this.emit("object", {
        kind: "removed",
        eventName: "ObjectRemoved:Delete",
        bucket,
        key,
        sequencer: this.clock.next(),
        eventTime: new Date().toISOString(),
        principalId: "local",
        sourceIPAddress: LOOPBACK,
      });
    };
  }

  async close(): Promise<void> {
    await this.server.close();
  }
}
