import { join } from "node:path";
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import type { S3Event, S3EventRecord } from "aws-lambda";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { Dispatcher } from "../../src/local/dispatcher.js";
import type { EmbeddedS3 } from "../../src/local/embedded-s3.js";
import { startTestS3, type TestS3 } from "../support/servers.js";

const MIB = 1024 * 1024;
let server: TestS3;
let directory: string;
let s3: EmbeddedS3;
let client: S3Client;
let dispatcher: Dispatcher;
const delivered: S3Event[] = [];

beforeAll(async () => {
  server = await startTestS3("created-names");
  ({ s3, client, directory } = server);
  dispatcher = new Dispatcher({
    invoke: async (notification) => {
      delivered.push(notification);
    },
    deadLetterFile: join(directory, "dead-letter.jsonl"),
  });
  s3.on("object", (event) => dispatcher.enqueue(event));
});

afterAll(() => server?.stop());

beforeEach(() => {
  delivered.length = 0;
});

/** The one record delivered for `key` once the dispatcher is idle. */
async function deliveredFor(key: string): Promise<S3EventRecord> {
  await dispatcher.idle();
  const records = delivered.flatMap((event) => event.Records).filter((r) => r.s3.object.key === key);
  expect(records).toHaveLength(1);
  return records[0] as S3EventRecord;
}

async function eTagOf(key: string): Promise<string> {
  const head = await client.send(new HeadObjectCommand({ Bucket: "uploads", Key: key }));
  return (head.ETag ?? "").replace(/^"(.*)"$/, "$1");
}

describe("notifications of objects the dispatcher delivers", () => {
  it("announces a CopyObject as ObjectCreated:Copy with the new object's eTag and size", async () => {
    // Prepare
    await client.send(new PutObjectCommand({ Bucket: "uploads", Key: "original.txt", Body: "copied body" }));
    // Act
    await client.send(
      new CopyObjectCommand({
        Bucket: "uploads",
        Key: "copies/copy 1.txt",
        CopySource: "uploads/original.txt",
      }),
    );
    // Assess
    const record = await deliveredFor("copies/copy+1.txt");
    expect(record.eventName).toBe("ObjectCreated:Copy");
    expect(record.s3.object.size).toBe(11);
    expect(record.s3.object.eTag).toBe(await eTagOf("copies/copy 1.txt"));
    expect(record.s3.object.eTag).toMatch(/^[0-9a-f]{32}$/);
  });

  it("announces a CopyObject that replaces the metadata with the copy's eTag too", async () => {
    await client.send(new PutObjectCommand({ Bucket: "uploads", Key: "source.bin", Body: "replaced" }));
    await client.send(
      new CopyObjectCommand({
        Bucket: "uploads",
        Key: "replaced.bin",
        CopySource: "uploads/source.bin",
        MetadataDirective: "REPLACE",
        ContentType: "application/x-test",
      }),
    );
    const record = await deliveredFor("replaced.bin");
    expect(record.eventName).toBe("ObjectCreated:Copy");
    expect(record.s3.object.eTag).toBe(await eTagOf("replaced.bin"));
  });

  it("announces CompleteMultipartUpload as ObjectCreated:CompleteMultipartUpload", async () => {
    // Prepare: two parts of 5 MiB (S3's smallest part but the last) and a short last one.
    const parts = [Buffer.alloc(5 * MIB, 1), Buffer.alloc(5 * MIB, 2), Buffer.from("tail")];
    const { UploadId } = await client.send(
      new CreateMultipartUploadCommand({ Bucket: "uploads", Key: "big/multi part.bin" }),
    );
    const uploaded = [];
    for (const [index, body] of parts.entries()) {
      const part = await client.send(
        new UploadPartCommand({
          Bucket: "uploads",
          Key: "big/multi part.bin",
          UploadId,
          PartNumber: index + 1,
          Body: body,
        }),
      );
      uploaded.push({ ETag: part.ETag, PartNumber: index + 1 });
    }
    expect(delivered).toEqual([]);
    // Act
    await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: "uploads",
        Key: "big/multi part.bin",
        UploadId,
        MultipartUpload: { Parts: uploaded },
      }),
    );
    // Assess
    const record = await deliveredFor("big/multi+part.bin");
    expect(record.eventName).toBe("ObjectCreated:CompleteMultipartUpload");
    expect(record.s3.object.size).toBe(10 * MIB + 4);
    expect(record.s3.object.eTag).toBe(await eTagOf("big/multi part.bin"));
  });

  it("still announces a PutObject as ObjectCreated:Put", async () => {
    await client.send(new PutObjectCommand({ Bucket: "uploads", Key: "plain.txt", Body: "put" }));
    const record = await deliveredFor("plain.txt");
    expect(record.eventName).toBe("ObjectCreated:Put");
    expect(record.s3.object.eTag).toBe(await eTagOf("plain.txt"));
  });
});
