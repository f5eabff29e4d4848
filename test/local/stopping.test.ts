/**
 * A stack that is stopping takes no new uploads (S3's 503, which SDKs retry
 * and then report) but still answers reads, so the events it accepted are
 * cataloged before it closes; a client that keeps uploading cannot keep it
 * from stopping.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOCAL_S3_CLIENT_OPTIONS, LocalStack } from "../../src/local/local-stack.js";
import { ServerThread } from "../../src/local/server-thread.js";
import { corpusFile } from "../support/corpus.js";

let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), "stack-stopping-"));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe("refusing writes on a server thread", () => {
  it("is answered false by a server that cannot refuse them, which keeps running", async () => {
    const thread = new ServerThread("embedded-dynamodb-thread", { port: 0 });
    const port = await thread.ready;
    try {
      expect(await thread.refuseWrites()).toBe(false);
      expect(await thread.refuseWrites()).toBe(false);
      const answer = await fetch(`http://127.0.0.1:${port}/`, {
        method: "POST",
        headers: {
          "X-Amz-Target": "DynamoDB_20120810.ListTables",
          "Content-Type": "application/x-amz-json-1.0",
        },
        body: "{}",
      });
      expect(answer.status).not.toBe(503);
    } finally {
      await thread.close();
    }
  });
});

describe("a local stack that is stopping", () => {
  it("still lets the handler write and delete under the derived prefix, so accepted images get their thumbnail", async () => {
    // Prepare: thumbnails on, one image accepted before the refusal.
    const stack = await LocalStack.start({
      dataDir: join(directory, "stack-thumbnails"),
      s3Port: 0,
      dynamodbPort: 0,
      logLevel: "SILENT",
      thumbnails: true,
    });
    const client = new S3Client({ ...LOCAL_S3_CLIENT_OPTIONS, endpoint: stack.s3.endpoint, maxAttempts: 1 });
    try {
      const image = await readFile(corpusFile("exifpy-DSCN0010.jpg"));
      await client.send(new PutObjectCommand({ Bucket: stack.bucket, Key: "photo.jpg", Body: image }));

      // Act
      expect(await stack.s3.refuseWrites()).toBe(true);
      await stack.dispatcher.idle();
      const outsider = await client
        .send(new DeleteObjectCommand({ Bucket: stack.bucket, Key: "photo.jpg" }))
        .then(
          () => undefined,
          (error: unknown) => error,
        );
      const derivedKey = `${stack.derivedPrefix}probe.webp`;
      await client.send(new PutObjectCommand({ Bucket: stack.bucket, Key: derivedKey, Body: "x" }));
      await client.send(new DeleteObjectCommand({ Bucket: stack.bucket, Key: derivedKey }));

      // Assess
      const { record } = await stack.store.getObject(stack.bucket, "photo.jpg");
      expect(record?.status).toBe("ok");
      expect(record?.thumbnailKey).toMatch(new RegExp(`^${stack.derivedPrefix}`));
      const thumbnail = await client.send(
        new GetObjectCommand({ Bucket: stack.bucket, Key: record?.thumbnailKey as string }),
      );
      expect((await thumbnail.Body?.transformToByteArray())?.length).toBeGreaterThan(0);
      expect((outsider as S3ServiceException).$metadata.httpStatusCode).toBe(503);
    } finally {
      client.destroy();
      await stack.close();
    }
  });

  it("refuses uploads with 503, still serves reads, and catalogs what it had accepted", async () => {
    // Prepare
    const stack = await LocalStack.start({
      dataDir: join(directory, "stack"),
      s3Port: 0,
      dynamodbPort: 0,
      logLevel: "SILENT",
      thumbnails: false,
    });
    const client = new S3Client({ ...LOCAL_S3_CLIENT_OPTIONS, endpoint: stack.s3.endpoint, maxAttempts: 1 });
    try {
      await client.send(new PutObjectCommand({ Bucket: stack.bucket, Key: "before.txt", Body: "accepted" }));

      // Act
      expect(await stack.s3.refuseWrites()).toBe(true);
      const refused = await client
        .send(new PutObjectCommand({ Bucket: stack.bucket, Key: "after.txt", Body: "refused" }))
        .then(
          () => undefined,
          (error: unknown) => error,
        );
      const read = await client.send(new GetObjectCommand({ Bucket: stack.bucket, Key: "before.txt" }));
      await stack.dispatcher.idle();

      // Assess
      expect(refused).toBeInstanceOf(S3ServiceException);
      expect((refused as S3ServiceException).$metadata.httpStatusCode).toBe(503);
      expect((refused as S3ServiceException).name).toBe("ServiceUnavailable");
      expect(await read.Body?.transformToString()).toBe("accepted");
      expect((await stack.store.getObject(stack.bucket, "before.txt")).record?.status).toBe("ok");
      expect((await stack.store.getObject(stack.bucket, "after.txt")).record).toBeUndefined();
    } finally {
      client.destroy();
      await stack.close();
    }
  });
});
