/**
 * ListObjects and ListObjectsV2 on the embedded S3 server (see
 * embedded-s3-thread.ts, which installs them in front of s3rver's router),
 * with S3's order and paging.
 *
 * s3rver walked the bucket's folders in the order the file system gave
 * them, not sorted, and paged by skipping keys up to the last one
 * returned: a listing past one page repeated some keys and never showed
 * others (of 9,174 objects under one prefix, 408 listed twice and 15 not
 * at all), so `aws s3 sync`, `aws s3 rm --recursive` and `catalog backfill`
 * missed objects. It also left out the common prefix of a folder that
 * holds only folders, and did not count common prefixes toward
 * `max-keys`. Here keys are listed in S3's order (their UTF-8 bytes),
 * common prefixes count as entries, and a page resumes after its last
 * entry, a key or a common prefix (a common prefix no later than where a
 * page starts is not listed again, which is how S3 reads a marker too).
 *
 * Each page walks the folders under the prefix again: a folder that cannot
 * hold a key of the page (outside the prefix, wholly before the marker, or
 * inside one common prefix) is not read, and of the folders read only the
 * page's first entries are kept (see FirstEntries). The names are not kept
 * from one page to the next: a folder's modification time, the one cheap
 * sign that its names changed, can stay the same across two puts made
 * within one tick of the file system's clock.
 */

import type { Dirent } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import type { KoaMiddleware, S3rverStore } from "./embedded-s3-thread.js";
import { decodeKeyPath } from "./key-path.js";
import type { ListedObjectFields } from "./listed-object-fields.js";
import { compareKeys, encodingOf, OWNER, pageSize, queryText } from "./listing-requests.js";
import { S3_XMLNS, S3Error } from "./s3-error.js";

/** What names an object's file: s3rver's suffix for it. */
const OBJECT_SUFFIX = "._S3rver_object";
/**
 * s3rver's own folders in a bucket (its uploads) start so, and no key's do (key-path.ts escapes a leading
 * `.`); so do its files, the object of a key that ends in `/` (`a/._S3rver_object`) among them.
 */
const INTERNAL = "._S3rver_";

export interface ListingOptions {
  prefix?: string;
  delimiter?: string;
  /** Entries up to this one (a key or a common prefix) are not listed. */
  after?: string;
  maxKeys: number;
}

/** One page of a listing: keys and common prefixes, each list in S3's order. */
export interface ListingPage {
  keys: string[];
  commonPrefixes: string[];
  /** Whether entries follow the page. */
  truncated: boolean;
  /** The page's last entry, where the next page starts after. */
  last?: string;
}

/**
 * One page of the keys in the bucket folder `bucketPath`, as S3 lists them.
 *
 * @example
 * await listKeys(store.getBucketPath("uploads"), { prefix: "a/", delimiter: "/", maxKeys: 1000 });
 * // { keys: ["a/1.txt"], commonPrefixes: ["a/b/"], truncated: false, last: "a/b/" }
 */
export async function listKeys(bucketPath: string, options: ListingOptions): Promise<ListingPage> {
  // A page of no entries: nothing is walked, and nothing is said to follow (as S3 answers max-keys=0).
  if (options.maxKeys === 0) return { keys: [], commonPrefixes: [], truncated: false };
  const prefix = options.prefix ?? "";
  const delimiter = options.delimiter ?? "";
  const { after } = options;
  const page = new FirstEntries(options.maxKeys);
  const commonPrefixes = new Set<string>();
  const afterMarker = (entry: string) => after === undefined || compareKeys(entry, after) > 0;
  const offerCommon = (common: string) => {
    commonPrefixes.add(common);
    page.offer({ text: common, common: true });
  };

  /** The common prefix `key` (or a folder's key prefix) rolls into, if the remainder after the prefix holds the delimiter. */
  const rolledInto = (key: string): string | undefined => {
    if (!delimiter) return undefined;
    const at = key.indexOf(delimiter, prefix.length);
    return at === -1 ? undefined : key.slice(0, at + delimiter.length);
  };

  const visit = async (folder: string, relative: string): Promise<void> => {
    for (const entry of await entriesOf(folder)) {
      if (entry.isDirectory()) {
        if (entry.name.startsWith(INTERNAL)) continue;
        const path = relative ? `${relative}/${entry.name}` : entry.name;
        // Every key in the folder starts with this (key-path.ts keeps encoded prefixes prefixes).
        const held = decodeKeyPath(`${path}/`);
        if (!held.startsWith(prefix) && !prefix.startsWith(held)) continue;
        if (after !== undefined && compareKeys(held, after) < 0 && !after.startsWith(held)) continue;
        const common = held.startsWith(prefix) ? rolledInto(held) : undefined;
        if (common !== undefined) {
          if (
            afterMarker(common) &&
            !commonPrefixes.has(common) &&
            (await holdsObject(join(folder, entry.name)))
          )
            offerCommon(common);
          continue;
        }
        await visit(join(folder, entry.name), path);
      } else if (entry.name.endsWith(OBJECT_SUFFIX)) {
        // Only object files are named into keys: the two other files s3rver keeps per object are passed over.
        const name = entry.name.slice(0, -OBJECT_SUFFIX.length);
        const key = decodeKeyPath(relative ? `${relative}/${name}` : name);
        if (!key.startsWith(prefix)) continue;
        const common = rolledInto(key);
        if (common !== undefined) {
          if (!commonPrefixes.has(common) && afterMarker(common)) offerCommon(common);
        } else if (afterMarker(key)) page.offer({ text: key, common: false });
      }
    }
  };
  await visit(bucketPath, "");

  const lastEntry = page.entries.at(-1);
  return {
    keys: page.entries.flatMap((entry) => (entry.common ? [] : [entry.text])),
    commonPrefixes: page.entries.flatMap((entry) => (entry.common ? [entry.text] : [])),
    truncated: page.offered > page.entries.length,
    ...(lastEntry && { last: lastEntry.text }),
  };
}

/** A key or a common prefix a listing found. */
interface Entry {
  text: string;
  common: boolean;
}

/**
 * The first `size` of the distinct entries offered, in S3's order, and how
 * many were offered. A page needs only the first entries of a folder that
 * may hold tens of thousands; keeping those sorted as the walk finds them
 * costs one comparison for most entries past the page (none is held), where
 * sorting them all costs a few dozen each. Written by hand: it is a binary
 * search and an insert, and a heap package would still leave the page to sort.
 */
class FirstEntries {
  readonly entries: Entry[] = [];
  offered = 0;

  constructor(private readonly size: number) {}

  offer(entry: Entry): void {
    this.offered++;
    const { entries } = this;
    const last = entries.at(-1);
    if (entries.length === this.size && last && compareKeys(entry.text, last.text) >= 0) return;
    let low = 0;
    let high = entries.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (compareKeys((entries[middle] as Entry).text, entry.text) < 0) low = middle + 1;
      else high = middle;
    }
    entries.splice(low, 0, entry);
    if (entries.length > this.size) entries.pop();
  }
}

/** A folder's entries; none when it is gone (emptied and removed by a delete meanwhile). */
async function entriesOf(folder: string): Promise<Dirent[]> {
  return readdir(folder, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT" || error.code === "ENOTDIR") return [];
    throw error;
  });
}

/** Whether an object's file is anywhere under `folder`; stops at the first. */
async function holdsObject(folder: string): Promise<boolean> {
  for (const entry of await entriesOf(folder)) {
    if (entry.isDirectory()) {
      if (!entry.name.startsWith(INTERNAL) && (await holdsObject(join(folder, entry.name)))) return true;
    } else if (entry.name.endsWith(OBJECT_SUFFIX)) return true;
  }
  return false;
}

/** Query parameters of a listing; a GET of a bucket with any other (`?location`, `?cors`, `?uploads`...) is not one. */
const LISTING_PARAMETERS = new Set([
  "list-type",
  "prefix",
  "delimiter",
  "max-keys",
  "marker",
  "start-after",
  "continuation-token",
  "fetch-owner",
  "encoding-type",
  "x-id",
]);

/** Throws S3's NoSuchBucket unless `bucket` exists. */
export async function requireBucket(store: S3rverStore, bucket: string): Promise<void> {
  if (await store.getBucket(bucket)) return;
  // Named as S3 names it (clients report it), when it is text a header can carry (see multipart's noSuchUpload).
  const named = /^[\x21-\x7e]{1,255}$/.test(bucket) ? { BucketName: bucket } : undefined;
  throw new S3Error("NoSuchBucket", "The specified bucket does not exist", named);
}

/**
 * What a listing says of each of `keys`: key (through `encoded`), date, ETag,
 * size and the stored checksum's algorithm and type. A key deleted since it
 * was listed is left out.
 */
export async function listedObjects(
  fields: ListedObjectFields,
  bucket: string,
  keys: readonly string[],
  encoded: (text: string) => string,
) {
  const entries = await Promise.all(
    keys.map(async (key) => {
      const listed = await fields.get(bucket, key);
      // Deleted since it was listed: left out.
      return listed && { Key: encoded(key), ...listed };
    }),
  );
  return entries.filter((entry) => entry !== undefined);
}

/** A continuation token: the entry the next page starts after, opaque to clients as S3's are. */
function continuationToken(bucket: string, after: string): string {
  return Buffer.from(JSON.stringify({ bucket, after })).toString("base64");
}

function tokenAfter(bucket: string, token: string): string {
  try {
    const decoded = JSON.parse(Buffer.from(token, "base64").toString("utf8")) as {
      bucket?: unknown;
      after?: unknown;
    };
    if (decoded.bucket === bucket && typeof decoded.after === "string") return decoded.after;
  } catch {
    // Not one of ours: answered below.
  }
  throw new S3Error("InvalidArgument", "The continuation token provided is incorrect", {
    ArgumentName: "continuation-token",
  });
}

/**
 * Koa middleware answering ListObjects (`GET /bucket`) and ListObjectsV2
 * (`GET /bucket?list-type=2`) with {@link listKeys}: `prefix`,
 * `delimiter`, `max-keys`, `marker` / `start-after` / `continuation-token`,
 * `fetch-owner` and `encoding-type=url`, each object with its ETag, size,
 * date and the algorithm and type of its stored checksum, as `fields` keeps them.
 */
export function listObjectsRequests(store: S3rverStore, fields: ListedObjectFields): KoaMiddleware {
  return async (ctx, next) => {
    const bucket = /^\/([^/]+)\/?$/.exec(ctx.path)?.[1];
    if (ctx.method !== "GET" || bucket === undefined) return next();
    if (!Object.keys(ctx.query).every((name) => LISTING_PARAMETERS.has(name))) return next();
    await requireBucket(store, bucket);

    const v2 = queryText(ctx, "list-type") === "2";
    const token = queryText(ctx, "continuation-token");
    if (v2 && "marker" in ctx.query)
      throw new S3Error("InvalidArgument", "Marker unsupported with REST.GET.BUCKET in list-type=2", {
        ArgumentName: "marker",
      });
    if (!v2 && (token !== undefined || "start-after" in ctx.query))
      throw new S3Error("InvalidArgument", "continuation-token and start-after need list-type=2", {
        ArgumentName: token !== undefined ? "continuation-token" : "start-after",
      });
    const { encodingType, encoded } = encodingOf(ctx);

    const prefix = queryText(ctx, "prefix") ?? "";
    const delimiter = queryText(ctx, "delimiter") ?? "";
    const maxKeys = pageSize(ctx, "max-keys");
    const startAfter = v2 ? queryText(ctx, "start-after") : undefined;
    const marker = v2 ? undefined : (queryText(ctx, "marker") ?? "");
    const after = token !== undefined ? tokenAfter(bucket, token) : v2 ? startAfter : marker || undefined;
    const page = await listKeys(store.getBucketPath(bucket), { prefix, delimiter, after, maxKeys });
    const fetchOwner = !v2 || queryText(ctx, "fetch-owner") === "true";
    const contents = (await listedObjects(fields, bucket, page.keys, encoded)).map((entry) => ({
      ...entry,
      Owner: fetchOwner ? OWNER : undefined,
      StorageClass: "STANDARD",
    }));
    const resumeAfter = page.truncated ? page.last : undefined;
    ctx.body = {
      ListBucketResult: {
        "@": S3_XMLNS,
        Name: bucket,
        Prefix: encoded(prefix),
        ...(v2
          ? {
              StartAfter: token === undefined && startAfter !== undefined ? encoded(startAfter) : undefined,
              ContinuationToken: token,
              NextContinuationToken:
                resumeAfter === undefined ? undefined : continuationToken(bucket, resumeAfter),
              KeyCount: contents.length + page.commonPrefixes.length,
            }
          : {
              Marker: encoded(marker ?? ""),
              // S3 gives it only with a delimiter; without one a client resumes after the last key.
              NextMarker: resumeAfter !== undefined && delimiter ? encoded(resumeAfter) : undefined,
            }),
        MaxKeys: maxKeys,
        Delimiter: delimiter ? encoded(delimiter) : undefined,
        EncodingType: encodingType,
        IsTruncated: page.truncated,
        Contents: contents,
        CommonPrefixes: page.commonPrefixes.map((common) => ({ Prefix: encoded(common) })),
      },
    };
  };
}
