/**
 * The S3 adapter for derived artefacts (thumbnails): PutObject and
 * DeleteObject under the derived prefix, which the notification filter and
 * the handler both exclude, so nothing written here raises an event.
 */
import { DeleteObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { SourceError } from "../engine/errors.js";
import { unquoteETag } from "../events/etag.js";
import type { DerivedWriter } from "../pipeline/ports.js";

/**
 * A {@link DerivedWriter} over an S3 client.
 *
 * @example
 * const writer = new S3DerivedWriter(s3);
 * await writer.put("uploads", "_derived/thumbnails/a.jpg.webp", bytes, "image/webp");
 */
export class S3DerivedWriter implements DerivedWriter {
  constructor(private readonly client: S3Client) {}

  async put(bucket: string, key: string, bytes: Uint8Array, contentType: string): Promise<{ eTag?: string }> {
    try {
      const output = await this.client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: bytes,
          ContentType: contentType,
          // Rewritten in place when the source changes: browsers must revalidate.
          CacheControl: "no-cache",
        }),
      );
      return output.ETag ? { eTag: unquoteETag(output.ETag) } : {};
    } catch (error) {
      throw failure(bucket, key, "PutObject", error);
    }
  }

  /**
   * DeleteObject; with `ifMatch`, a conditional delete (S3 general purpose
   * buckets honour `If-Match` on DeleteObject since September 2025; it needs
   * `s3:GetObject` on the key besides `s3:DeleteObject`). S3 answers 412
   * when the key holds an object with another ETag, which is left alone,
   * and 404 when it holds none, which is what the delete was for.
   */
  async delete(bucket: string, key: string, options: { ifMatch?: string } = {}): Promise<"deleted" | "kept"> {
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
        const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
        if (status === 412) return "kept";
        if (status === 404) return "deleted";
      }
      throw failure(bucket, key, "DeleteObject", error);
    }
  }
}

function failure(bucket: string, key: string, operation: string, error: unknown): SourceError {
  const e = error as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = e.$metadata?.httpStatusCode;
  return new SourceError(
    `s3://${bucket}/${key}`,
    `${operation} failed: ${e.name ?? "Error"}${status ? ` (${status})` : ""}: ${e.message ?? ""}`,
    { cause: error },
  );
}
