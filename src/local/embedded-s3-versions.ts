/**
 * Bucket versioning on the embedded S3 server, which keeps one version of
 * each object, as a bucket that was never versioned: GetBucketVersioning
 * answers with no status, ListObjectVersions lists each object once as its
 * `null` version (as S3 does for such a bucket), and PutBucketVersioning is
 * refused as not implemented. s3rver routed these as other requests: a 500,
 * a "method not allowed" and a misleading BucketAlreadyExists.
 */
import { listedObjects, listKeys, requireBucket } from "./embedded-s3-listing.js";
import type { KoaMiddleware, S3rverStore } from "./embedded-s3-thread.js";
import type { ListedObjectFields } from "./listed-object-fields.js";
import { encodingOf, OWNER, pageSize, queryText } from "./listing-requests.js";
import { S3_XMLNS, S3Error } from "./s3-error.js";

/** Query parameters of ListObjectVersions (`GET /bucket?versions`). */
const VERSIONS_PARAMETERS = new Set([
  "versions",
  "prefix",
  "delimiter",
  "max-keys",
  "key-marker",
  "version-id-marker",
  "encoding-type",
  "x-id",
]);

/**
 * Koa middleware answering GetBucketVersioning, PutBucketVersioning and
 * ListObjectVersions for every bucket; other requests pass on.
 */
export function bucketVersioningRequests(store: S3rverStore, fields: ListedObjectFields): KoaMiddleware {
  return async (ctx, next) => {
    const bucket = /^\/([^/]+)\/?$/.exec(ctx.path)?.[1];
    if (bucket === undefined) return next();
    if ("versioning" in ctx.query && (ctx.method === "GET" || ctx.method === "PUT")) {
      await requireBucket(store, bucket);
      if (ctx.method === "PUT") {
        throw new S3Error(
          "NotImplemented",
          "The embedded S3 server keeps one version of each object: bucket versioning cannot be enabled",
        );
      }
      ctx.body = { VersioningConfiguration: { "@": S3_XMLNS } };
      return;
    }
    if (ctx.method !== "GET" || !("versions" in ctx.query)) return next();
    if (!Object.keys(ctx.query).every((name) => VERSIONS_PARAMETERS.has(name))) return next();
    await requireBucket(store, bucket);
    const { encodingType, encoded } = encodingOf(ctx);
    const prefix = queryText(ctx, "prefix") ?? "";
    const delimiter = queryText(ctx, "delimiter") ?? "";
    const maxKeys = pageSize(ctx, "max-keys");
    const keyMarker = queryText(ctx, "key-marker") ?? "";
    const versionIdMarker = queryText(ctx, "version-id-marker") ?? "";
    if (versionIdMarker && !keyMarker) {
      throw new S3Error("InvalidArgument", "A version-id marker cannot be specified without a key marker.", {
        ArgumentName: "version-id-marker",
      });
    }
    // Each key has the one version `null`: resuming at a key's version resumes after the key.
    const page = await listKeys(store.getBucketPath(bucket), {
      prefix,
      delimiter,
      after: keyMarker || undefined,
      maxKeys,
    });
    const versions = (await listedObjects(fields, bucket, page.keys, encoded)).map(
      ({ Key, LastModified, ETag, Size, ...checksum }) => ({
        Key,
        VersionId: "null",
        IsLatest: true,
        LastModified,
        ETag,
        ...checksum,
        Size,
        Owner: OWNER,
        StorageClass: "STANDARD",
      }),
    );
    const resumeAfter = page.truncated ? page.last : undefined;
    ctx.body = {
      ListVersionsResult: {
        "@": S3_XMLNS,
        Name: bucket,
        Prefix: encoded(prefix),
        KeyMarker: encoded(keyMarker),
        VersionIdMarker: versionIdMarker,
        NextKeyMarker: resumeAfter === undefined ? undefined : encoded(resumeAfter),
        NextVersionIdMarker: resumeAfter === undefined ? undefined : "null",
        MaxKeys: maxKeys,
        Delimiter: delimiter ? encoded(delimiter) : undefined,
        EncodingType: encodingType,
        IsTruncated: page.truncated,
        Version: versions,
        CommonPrefixes: page.commonPrefixes.map((common) => ({ Prefix: encoded(common) })),
      },
    };
  };
}
