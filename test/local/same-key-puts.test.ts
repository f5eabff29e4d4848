/**
 * One key uploaded many times at once through the local stack. S3 makes each
 * PUT atomic: a reader sees one whole upload, whose ETag is its MD5, and the
 * catalog ends on the last one. s3rver streamed every PUT of a key into the
 * same file, so concurrent uploads interleaved their bytes and the stored
 * object matched none of them (nor its own ETag), and the catalog recorded
 * that mixture.
 */
import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalStack } from "../../src/local/local-stack.js";

let stack: LocalStack;
let dataDir: string;

beforeAll(async () => {
  process.env.POWERTOOLS_METRICS_DISABLED = "true";
  dataDir = await mkdtemp(join(tmpdir(), "catalog-same-key-"));
  stack = await LocalStack.start({
    s3Port: 0,
    dynamodbPort: 0,
    dataDir,
    logLevel: "SILENT",
    thumbnails: false,
    retryBackoffMs: [10, 10],
  });
});
afterAll(async () => {
  await stack.close();
  await rm(dataDir, { recursive: true, force: true });
});

const md5 = (bytes: Uint8Array) => createHash("md5").update(bytes).digest("hex");
const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

describe("concurrent uploads of one key", () => {
  it("leave one whole upload, matching its ETag, and the catalog describes exactly it", async () => {
    const key = "same/key.bin";
    // Bodies of a few MiB take several writes each, long enough to overlap.
    const bodies = Array.from({ length: 6 }, (_, index) =>
      Buffer.alloc(2 * 1024 * 1024 + index * 1000, 65 + index),
    );
    const uploadedTags = new Set(bodies.map((body) => md5(body)));

    for (let round = 0; round < 3; round++) {
      await Promise.all(
        bodies.map((Body) =>
          stack.s3Client.send(new PutObjectCommand({ Bucket: stack.bucket, Key: key, Body })),
        ),
      );
      const head = await stack.s3Client.send(new HeadObjectCommand({ Bucket: stack.bucket, Key: key }));
      const got = await stack.s3Client.send(new GetObjectCommand({ Bucket: stack.bucket, Key: key }));
      const stored = await (
        got.Body as { transformToByteArray(): Promise<Uint8Array> }
      ).transformToByteArray();

      expect(uploadedTags.has(md5(stored)), `round ${round}: the stored bytes are one upload`).toBe(true);
      expect(head.ETag).toBe(`"${md5(stored)}"`);

      await stack.dispatcher.idle();
      const { record } = await stack.store.getObject(stack.bucket, key);
      expect(record?.status).toBe("ok");
      expect(record?.etag).toBe(md5(stored));
      expect(record?.size).toBe(stored.byteLength);
      expect(record?.sha256).toBe(sha256(stored));
    }
  }, 60_000);
});
