/**
 * What a listing says of each object (ListObjects, ListObjectsV2 and
 * ListObjectVersions on the embedded S3 server), kept in memory on the
 * server's thread.
 *
 * s3rver keeps an object's listed fields in three files: the size and the
 * date are the object file's (a stat), the ETag is its `.md5` file, and the
 * stored checksum's algorithm and type are in its metadata file (see
 * stored-checksums.ts). Reading them is a stat and two file reads per
 * listed object, about 150 ms CPU for a page of 1000, every page, though
 * the objects rarely change between two listings. No cheaper read gives
 * the same fields: the checksum's algorithm is in the metadata file alone.
 *
 * So each object's fields are kept once read, and forgotten whenever its
 * files change. The server is the only writer of its directory (a second
 * `catalog dev` on the same data folder stops at the lock of the DynamoDB
 * folder beside it, and closes its S3 server), and every change of an
 * object's files is one of its writes: PutObject, CompleteMultipartUpload
 * and CopyObject store through one function, DeleteObject and
 * DeleteObjects through the store's deleteObject, a bucket goes through
 * deleteBucket (see embedded-s3-thread.ts). Each calls
 * {@link ListedObjectFields.forget} once its files are written or removed,
 * before it is answered. A listing asks only for the keys whose object
 * file it found, so what a store forgets is what makes fields fresh; what
 * a delete forgets could never be given again (the key comes back only
 * through a store), and goes so the bound holds objects that exist. A read
 * under way when a write ends may have seen part of it: it is given to its
 * listing, which overlapped the write, but not kept.
 */

import { absent } from "./atomic-files.js";
import type { S3rverStore } from "./embedded-s3-thread.js";
import { type ChecksumType, storedChecksum } from "./stored-checksums.js";

/**
 * The most objects whose fields are kept, the one read longest ago dropped first: about 500 bytes each for
 * keys of 45 characters (24 MiB at the bound), ten times the objects of the dashboard's five pages of 1000.
 */
export const MAX_KEPT_OBJECTS = 50_000;

/** An object's fields in a listing, but its key (which the listing encodes as asked). */
export interface ListedFields {
  LastModified: string;
  ETag: string;
  Size: number;
  ChecksumAlgorithm?: string;
  ChecksumType?: ChecksumType;
}

/** A read of one object's fields under way; a write that ends meanwhile makes it stale. */
interface Reading {
  fields: Promise<ListedFields | undefined>;
  stale: boolean;
}

/**
 * The listed fields of the objects of one embedded S3 server's store, read
 * through its `getMetadata` and kept until the object changes. Written by
 * hand: the bound is a Map's order (oldest first), and what a cache package
 * would add, the invalidation, is what this class is for.
 *
 * @example
 * const listed = new ListedObjectFields(store);
 * await listed.get("uploads", "a.txt"); // { LastModified: "2026-11-28T00:00:00.000Z", ETag: '"…"', Size: 5, … }
 * listed.forget("uploads", "a.txt"); // after every write of a.txt
 */
export class ListedObjectFields {
  private readonly kept = new Map<string, ListedFields>();
  private readonly reading = new Map<string, Reading>();

  constructor(
    private readonly store: S3rverStore,
    private readonly limit = MAX_KEPT_OBJECTS,
  ) {}

  /** The listed fields of `key`; undefined when it has no object (deleted since it was listed). */
  get(bucket: string, key: string): Promise<ListedFields | undefined> {
    const id = objectId(bucket, key);
    const kept = this.kept.get(id);
    if (kept) {
      // Read again: it moves to the newest end, last to be dropped.
      this.kept.delete(id);
      this.kept.set(id, kept);
      return Promise.resolve(kept);
    }
    // Two listings reading one object at once share the read.
    const under = this.reading.get(id);
    if (under) return under.fields;
    const reading: Reading = { fields: this.read(bucket, key), stale: false };
    this.reading.set(id, reading);
    const done = () => {
      if (this.reading.get(id) === reading) this.reading.delete(id);
    };
    reading.fields.then((fields) => {
      done();
      if (fields && !reading.stale) this.keep(id, fields);
    }, done);
    return reading.fields;
  }

  /** Forgets what was read of `key`: its files have changed or are gone. */
  forget(bucket: string, key: string): void {
    const id = objectId(bucket, key);
    this.kept.delete(id);
    this.stop(id);
  }

  /** Forgets what was read of every object of `bucket`. */
  forgetBucket(bucket: string): void {
    const start = objectId(bucket, "");
    for (const id of this.kept.keys()) if (id.startsWith(start)) this.kept.delete(id);
    for (const id of this.reading.keys()) if (id.startsWith(start)) this.stop(id);
  }

  /** How many objects' fields are kept. */
  get size(): number {
    return this.kept.size;
  }

  /** A read under way is not kept when it ends; a read started from now on is. */
  private stop(id: string): void {
    const reading = this.reading.get(id);
    if (!reading) return;
    reading.stale = true;
    this.reading.delete(id);
  }

  private keep(id: string, fields: ListedFields): void {
    this.kept.set(id, fields);
    if (this.kept.size > this.limit) {
      const oldest = this.kept.keys().next().value;
      if (oldest !== undefined) this.kept.delete(oldest);
    }
  }

  private async read(bucket: string, key: string): Promise<ListedFields | undefined> {
    const metadata = await this.store.getMetadata(bucket, key).catch(absent);
    if (!metadata) return undefined;
    const checksum = storedChecksum(metadata);
    return {
      LastModified: new Date(metadata["last-modified"] as string).toISOString(),
      ETag: metadata.etag as string,
      ...(checksum && {
        ChecksumAlgorithm: checksum.algorithm.toUpperCase(),
        ChecksumType: checksum.type,
      }),
      Size: Number(metadata["content-length"]),
    };
  }
}

/** Bucket names hold no `/`, so the bucket's part of an id ends at the first. */
function objectId(bucket: string, key: string): string {
  return `${bucket}/${key}`;
}
