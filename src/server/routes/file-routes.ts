import { Readable, Transform } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { GetObjectCommand, type GetObjectCommandOutput, type S3Client } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import Busboy from "busboy";
import type { Hono } from "hono";
import { isDerivedKey } from "../../config/config.js";
import type { CatalogStore } from "../../store/catalog-store.js";
import { RequestError } from "../errors.js";
import { parseKey, parseNewKey, parseNewPrefix } from "../validation.js";

/** What the thumbnail and upload routes need. */
export interface FileRouteDeps {
  store: CatalogStore;
  bucket: string;
  s3Client?: S3Client;
  derivedPrefix: string;
  /** Largest file one upload may carry, in bytes. */
  uploadLimitBytes: number;
}

/** Files in one upload request; the request is refused at the next one (what was stored is said). */
export const MAX_FILES_PER_UPLOAD = 20;
/** Types a thumbnail is served as; anything else (SVG above all: it can carry script) is refused. */
const THUMBNAIL_TYPES = new Set(["image/webp", "image/jpeg", "image/png", "image/avif", "image/gif"]);
/** Multipart framing (boundaries, part headers) allowed on top of the file bytes. */
const MULTIPART_OVERHEAD = 64 * 1024;
/** What a UTF-8 decoder puts in place of bytes that are not UTF-8 (U+FFFD). */
const NOT_DECODED = "\uFFFD";

function s3Of(deps: FileRouteDeps): S3Client {
  if (!deps.s3Client) throw new RequestError(404, "this server has no S3 client: files are not served");
  return deps.s3Client;
}

/**
 * `GET /api/thumbnail?key=` streams the derived thumbnail of an object from
 * S3 (404 when the record has none), and `POST /api/upload?prefix=` streams
 * multipart files into the bucket under a prefix, refusing a file over the
 * size limit with 413.
 *
 * @example
 * mountFileRoutes(app, { store, bucket: "uploads", s3Client, derivedPrefix: "_derived/", uploadLimitBytes: 1 << 28 });
 */
export function mountFileRoutes(app: Hono, deps: FileRouteDeps): void {
  app.get("/api/thumbnail", async (c) => {
    const key = parseKey("key", c.req.query("key"));
    const record = await deps.store.getRecord(deps.bucket, key);
    const thumbnailKey = record?.status !== "deleted" ? record?.thumbnailKey : undefined;
    if (!thumbnailKey) throw new RequestError(404, `s3://${deps.bucket}/${key} has no thumbnail`);
    // Only derived files are served: the route must not become a reader of any object in the bucket.
    if (!thumbnailKey.startsWith(deps.derivedPrefix))
      throw new RequestError(404, `the thumbnail of s3://${deps.bucket}/${key} is not a derived file`);
    let output: GetObjectCommandOutput;
    try {
      output = await s3Of(deps).send(new GetObjectCommand({ Bucket: deps.bucket, Key: thumbnailKey }));
    } catch (error) {
      const name = (error as Error).name;
      if (name === "NoSuchKey" || name === "NotFound")
        throw new RequestError(404, `thumbnail s3://${deps.bucket}/${thumbnailKey} is missing`);
      throw error;
    }
    const declared = output.ContentType?.split(";")[0]?.trim().toLowerCase() ?? "";
    const type = THUMBNAIL_TYPES.has(declared)
      ? declared
      : thumbnailKey.endsWith(".webp")
        ? "image/webp"
        : undefined;
    if (!type) {
      (output.Body as Readable | undefined)?.destroy?.();
      throw new RequestError(
        404,
        `thumbnail s3://${deps.bucket}/${thumbnailKey} is not an image type served here`,
      );
    }
    c.header("Content-Type", type);
    c.header("Cache-Control", "private, max-age=60");
    if (output.ContentLength !== undefined) c.header("Content-Length", String(output.ContentLength));
    return c.body(Readable.toWeb(output.Body as Readable) as ReadableStream);
  });

  app.post("/api/upload", async (c) => {
    const prefix = parseNewPrefix("prefix", c.req.query("prefix"));
    if (isDerivedKey(prefix, deps.derivedPrefix))
      throw new RequestError(400, `'prefix' must not be under '${deps.derivedPrefix}' (derived files)`);
    const type = c.req.header("content-type") ?? "";
    if (!type.toLowerCase().startsWith("multipart/form-data"))
      throw new RequestError(415, "upload must be multipart/form-data");
    const length = Number(c.req.header("content-length") ?? Number.NaN);
    const requestLimit = deps.uploadLimitBytes * MAX_FILES_PER_UPLOAD + MULTIPART_OVERHEAD;
    if (Number.isFinite(length) && length > requestLimit)
      throw new RequestError(413, `upload is larger than ${requestLimit} bytes`);
    const body = c.req.raw.body;
    if (!body) throw new RequestError(400, "upload has no body");
    const uploaded = await streamUpload(deps, prefix, type, body);
    return c.json({ uploaded }, 201);
  });
}

/** One stored file. */
export interface UploadedFile {
  key: string;
  size: number;
}

/**
 * Parses the multipart body as it arrives and pipes each file into an S3
 * upload (lib-storage: one PUT for small files, a multipart upload for big
 * ones), through a byte counter that fails the file once it passes the
 * limit, so an oversized file is never stored in part. Files are stored as
 * they arrive, so a request refused at a later file (over the size or count
 * limit, a bad name) has stored the ones before it: the refusal waits for
 * the uploads in flight and lists what was stored in `uploaded`, since the
 * pipeline catalogs those whatever the answer.
 */
function streamUpload(
  deps: FileRouteDeps,
  prefix: string,
  contentType: string,
  body: ReadableStream<Uint8Array>,
): Promise<UploadedFile[]> {
  const s3 = s3Of(deps);
  return new Promise((resolve, reject) => {
    let parser: Busboy.Busboy;
    try {
      parser = Busboy({
        headers: { "content-type": contentType },
        // Browsers (the HTML multipart rules), curl and fetch's FormData put a file name in
        // `filename=` as raw UTF-8; busboy's default reads it as latin1 and garbles every
        // non-ASCII name. A `filename*=` (RFC 5987) names its own charset and is read by it.
        defParamCharset: "utf8",
        limits: {
          files: MAX_FILES_PER_UPLOAD,
          fields: 10,
          parts: MAX_FILES_PER_UPLOAD + 10,
          fieldSize: 1024,
        },
      });
    } catch (error) {
      reject(new RequestError(400, `malformed multipart request: ${(error as Error).message}`));
      return;
    }
    const uploads: Promise<UploadedFile>[] = [];
    const stored: UploadedFile[] = [];
    let failure: Error | undefined;
    const fail = (error: Error) => {
      if (failure) return;
      failure = error;
      source.unpipe(parser);
      source.destroy();
      const refused = error;
      void Promise.allSettled(uploads).then(() =>
        reject(
          refused instanceof RequestError
            ? new RequestError(refused.status, refused.message, {
                cause: refused,
                fields: { uploaded: stored },
              })
            : refused,
        ),
      );
    };
    parser.on("file", (_field, file, info) => {
      if (failure) {
        file.resume();
        return;
      }
      // Browsers send the bare name; other clients may send a path: keep the last segment.
      const name = (info.filename ?? "").split(/[\\/]/).pop() ?? "";
      let key: string;
      try {
        // A name sent in bytes that are not UTF-8 decodes with replacement characters: refused
        // rather than stored under a name that is not the file's (one that holds U+FFFD itself
        // is refused too: the two cannot be told apart).
        if (name.includes(NOT_DECODED))
          throw new RequestError(
            400,
            "'file name' is not valid UTF-8 (send a name in another charset as filename*=charset''name)",
          );
        // A part with no name, or named `.` or `..` (which busboy reduces to nothing), names no file.
        if (name === "" || name === "." || name === "..")
          throw new RequestError(400, "'file name' is missing: each file part needs filename=\"NAME\"");
        key = parseNewKey("file name", `${prefix}${name}`);
      } catch (error) {
        file.resume();
        fail(error as Error);
        return;
      }
      let size = 0;
      const counter = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          size += chunk.length;
          if (size > deps.uploadLimitBytes)
            callback(
              new RequestError(
                413,
                `'${name}' is larger than the upload limit of ${deps.uploadLimitBytes} bytes`,
              ),
            );
          else callback(null, chunk);
        },
      });
      // A body that ends inside a file (a cut connection, a closed tab) fails the file's stream: an
      // 'error' nobody listens for would end the whole process. pipe() forwards no error, so it is passed on.
      file.once("error", (error) =>
        counter.destroy(new RequestError(400, `malformed multipart request: ${error.message}`)),
      );
      file.pipe(counter);
      const upload = new Upload({
        client: s3,
        params: {
          Bucket: deps.bucket,
          Key: key,
          Body: counter,
          ...(info.mimeType &&
            info.mimeType !== "application/octet-stream" && { ContentType: info.mimeType }),
        },
      });
      const counted = new Promise<never>((_resolve, rejectCount) => counter.once("error", rejectCount));
      const done = Promise.race([upload.done(), counted]).then(
        () => {
          stored.push({ key, size });
          return { key, size };
        },
        async (error: Error) => {
          await upload.abort().catch(() => undefined);
          file.resume();
          fail(error);
          throw error;
        },
      );
      done.catch(() => undefined);
      uploads.push(done);
    });
    parser.on("filesLimit", () =>
      fail(new RequestError(413, `at most ${MAX_FILES_PER_UPLOAD} files per upload`)),
    );
    parser.on("error", (error: Error) =>
      fail(new RequestError(400, `malformed multipart request: ${error.message}`)),
    );
    parser.on("close", () => {
      Promise.all(uploads).then((files) => {
        if (failure) return;
        if (files.length === 0) reject(new RequestError(400, "upload carries no file"));
        else resolve(files);
      }, fail);
    });
    const source = Readable.fromWeb(body as WebReadableStream<Uint8Array>);
    source.on("error", (error) => fail(error));
    source.pipe(parser);
  });
}
