/**
 * The S3 adapter for derived artefacts (thumbnails): HeadObject, PutObject
 * and DeleteObject under the derived prefix, which the notification filter
 * and the handler both exclude, so nothing written here raises an event.
 */
import { DeleteObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { SourceError } from "../engine/errors.js";
import { unquoteETag } from "../events/etag.js";
import type { DerivedHead, DerivedPrecondition, DerivedPut, DerivedWriter } from "../pipeline/ports.js";

/**
 * A {@link DerivedWriter} over an S3 client.
 *
 * @example
 * const writer = new S3DerivedWriter(s3);
 * const there = await writer.head("uploads", "_derived/thumbnails/a.jpg.webp");
 * await writer.put("uploads", "_derived/thumbnails/a.jpg.webp", bytes, "image/webp", {
 *   precondition: there ? { ifMatch: there.eTag } : { ifNoneMatch: "*" },
 * });
 */
export class S3DerivedWriter implements DerivedWriter {
  constructor(private readonly client: S3Client) {}

  /** HeadObject; a key that holds nothing (404) is undefined. Needs `s3:GetObject` on the key. */
  async head(bucket: string, key: string): Promise<DerivedHead | undefined> {
    try {
      const output = await this.client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return {
        eTag: unquoteETag(output.ETag ?? ""),
        size: output.ContentLength ?? 0,
        userMetadata: { ...output.Metadata },
      };
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw failure(bucket, key, "HeadObject", error);
    }
  }

  /**
   * PutObject; with a precondition, a conditional write (S3 general purpose
   * buckets honour `If-None-Match: *` and `If-Match` on PutObject since 2024;
   * `If-Match` needs `s3:GetObject` on the key besides `s3:PutObject`). The
   * answers that mean "the key holds something else now" are `changed`: 412
   * (another object, or one where none was expected), 409 (a delete finished
   * while this write was under way) and 404 (`If-Match` on a key emptied
   * since). A 501 is a store without conditional writes: `unsupported`.
   */
  async put(
    bucket: string,
    key: string,
    bytes: Uint8Array,
    contentType: string,
    options: { userMetadata?: Record<string, string>; precondition?: DerivedPrecondition } = {},
  ): Promise<DerivedPut> {
    const { precondition } = options;
    try {
      const output = await this.client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: bytes,
          ContentType: contentType,
          // Rewritten in place when the source changes: browsers must revalidate.
          CacheControl: "no-cache",
          ...(options.userMetadata && { Metadata: options.userMetadata }),
          ...(precondition && "ifMatch" in precondition && { IfMatch: `"${precondition.ifMatch}"` }),
          ...(precondition && "ifNoneMatch" in precondition && { IfNoneMatch: precondition.ifNoneMatch }),
        }),
      );
      return { outcome: "written", ...(output.ETag && { eTag: unquoteETag(output.ETag) }) };
    } catch (error) {
      if (precondition) {
        const status = statusOf(error);
        if (status === 412 || status === 409) return { outcome: "changed" };
        if (status === 404 && "ifMatch" in precondition) return { outcome: "changed" };
        if (status === 501) return { outcome: "unsupported" };
      }
      throw failure(bucket, key, "PutObject", error);
    }
  }

  /**
   * DeleteObject; with `ifMatch`, a conditional delete (S3 general purpose
   * buckets honour `If-Match` on DeleteObject since September 2025; it needs
   * `s3:GetObject` on the key besides `s3:DeleteObject`). S3 answers 412
   * when the key holds an object with another ETag, which is left alone,
   * and 404 when it holds none, which is what the delete was for. A 501 is a
   * store without conditional deletes: nothing deleted, `unsupported`.
   */
  async delete(
    bucket: string,
    key: string,
    options: { ifMatch?: string } = {},
  ): Promise<"deleted" | "kept" | "unsupported"> {
    try {
      await this.client.send(
        new DeleteObjectCommand({
          Bucket: bucket,
          Key: key,
          ...(options.ifMatch !== undefined && { IfMatch: `"${options.ifMatch}"` }),
        }),
      );
      return "deleted";
    } catch (error) {
      if (options.ifMatch !== undefined) {
        const status = statusOf(error);
        if (status === 412) return "kept";
        if (status === 404) return "deleted";
        if (status === 501) return "unsupported";
      }
      throw failure(bucket, key, "DeleteObject", error);
    }
  }
}

function statusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

function failure(bucket: string, key: string, operation: string, error: unknown): SourceError {
  const e = error as { name?: string; message?: string };
  const status = statusOf(error);
  return new SourceError(
    `s3://${bucket}/${key}`,
    `${operation} failed: ${e.name ?? "Error"}${status ? ` (${status})` : ""}: ${e.message ?? ""}`,
    { cause: error },
  );
}
