/**
 * GetObject and HeadObject with `partNumber` on the embedded S3 server, over
 * real HTTP, as S3 answers them (s3rver ignored the parameter and sent the
 * whole object): a multipart object's part N is that part's bytes, with its
 * range and the object's number of parts; an object stored whole is one
 * part; a part the object lacks is InvalidPartNumber (416).
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rawRequest } from "../support/raw-http.js";
import { startTestS3, type TestS3 } from "../support/servers.js";

const MIB = 1024 * 1024;
const Bucket = "uploads";
let server: TestS3;
let client: S3Client;

beforeAll(async () => {
  server = await startTestS3("part-numbers");
  ({ client } = server);
});
afterAll(() => server?.stop());

const md5 = (bytes: Buffer) => createHash("md5").update(bytes).digest("hex");

/** Bytes of one value each, so a part's bytes say which part they are. */
const filled = (size: number, value: number) => Buffer.alloc(size, value);

/** Completes a multipart upload of `key` from `parts`, each under its number; returns the object's ETag. */
async function uploadInParts(key: string, parts: { number: number; body: Buffer }[]): Promise<string> {
  const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket, Key: key }));
  const listed = [];
  for (const part of parts) {
    const { ETag } = await client.send(
      new UploadPartCommand({ Bucket, Key: key, UploadId, PartNumber: part.number, Body: part.body }),
    );
    listed.push({ ETag, PartNumber: part.number });
  }
  const { ETag } = await client.send(
    new CompleteMultipartUploadCommand({ Bucket, Key: key, UploadId, MultipartUpload: { Parts: listed } }),
  );
  return ETag as string;
}

async function getPart(Key: string, PartNumber: number) {
  const got = await client.send(new GetObjectCommand({ Bucket, Key, PartNumber }));
  const bytes = Buffer.from(
    await (got.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
  );
  return { ...got, bytes };
}

async function errorOf(work: Promise<unknown>): Promise<{ name: string; status?: number }> {
  try {
    await work;
  } catch (error) {
    const e = error as { name: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, status: e.$metadata?.httpStatusCode };
  }
  return { name: "no error" };
}

const raw = (method: string, path: string, headers: Record<string, string> = {}) =>
  rawRequest(server.s3.port, method, path, { Host: `127.0.0.1:${server.s3.port}`, ...headers });

describe("a multipart object", () => {
  const first = filled(5 * MIB, 1);
  const second = filled(5 * MIB, 2);
  const third = filled(10, 3);
  const size = first.length + second.length + third.length;
  let eTag: string;

  beforeAll(async () => {
    eTag = await uploadInParts("multi.bin", [
      { number: 1, body: first },
      { number: 2, body: second },
      { number: 3, body: third },
    ]);
  });

  it("answers part N with that part's bytes, its range in the object and the number of parts", async () => {
    // Act
    const parts = [
      await getPart("multi.bin", 1),
      await getPart("multi.bin", 2),
      await getPart("multi.bin", 3),
    ];

    // Assess
    expect(parts.map((part) => md5(part.bytes))).toEqual([first, second, third].map(md5));
    expect(parts.map((part) => part.ContentRange)).toEqual([
      `bytes 0-${first.length - 1}/${size}`,
      `bytes ${first.length}-${first.length + second.length - 1}/${size}`,
      `bytes ${first.length + second.length}-${size - 1}/${size}`,
    ]);
    expect(parts.map((part) => part.PartsCount)).toEqual([3, 3, 3]);
    expect(parts.map((part) => part.ETag)).toEqual([eTag, eTag, eTag]);
    expect(parts.map((part) => part.$metadata.httpStatusCode)).toEqual([206, 206, 206]);
  });

  it("answers HEAD of part N with that part's length and the number of parts", async () => {
    const head = await client.send(new HeadObjectCommand({ Bucket, Key: "multi.bin", PartNumber: 2 }));
    expect(head.ContentLength).toBe(second.length);
    expect(head.PartsCount).toBe(3);
    expect(head.$metadata.httpStatusCode).toBe(206);
  });

  it("answers a part it does not have with InvalidPartNumber (416), to GET and HEAD", async () => {
    expect(await errorOf(getPart("multi.bin", 4))).toEqual({ name: "InvalidPartNumber", status: 416 });
    // A HEAD answer has no body to name the error by: the SDK has only its status.
    const head = await errorOf(
      client.send(new HeadObjectCommand({ Bucket, Key: "multi.bin", PartNumber: 4 })),
    );
    expect(head.status).toBe(416);
    const response = await raw("GET", "/uploads/multi.bin?partNumber=4");
    expect(response.body).toContain("<Message>The requested partnumber is not satisfiable</Message>");
    expect(response.body).toContain("<ActualPartCount>3</ActualPartCount>");
  });

  it("keeps the numbers its parts were uploaded under, gaps and all", async () => {
    // Prepare
    await uploadInParts("gaps.bin", [
      { number: 2, body: first },
      { number: 5, body: second },
    ]);

    // Act
    const fifth = await getPart("gaps.bin", 5);

    // Assess
    expect(md5(fifth.bytes)).toBe(md5(second));
    expect(fifth.PartsCount).toBe(2);
    expect(await errorOf(getPart("gaps.bin", 1))).toEqual({ name: "InvalidPartNumber", status: 416 });
  });

  it("is one part again once a PutObject or a copy replaces it, and leaves nothing behind once deleted", async () => {
    // Prepare
    await uploadInParts("replaced.bin", [
      { number: 1, body: first },
      { number: 2, body: second },
    ]);
    await uploadInParts("source.bin", [
      { number: 1, body: first },
      { number: 2, body: second },
    ]);
    const folder = join(server.dataDirectory, Bucket, "gone");
    await uploadInParts("gone/deleted.bin", [{ number: 1, body: second }]);

    // Act
    await client.send(new PutObjectCommand({ Bucket, Key: "replaced.bin", Body: "whole" }));
    await client.send(
      new CopyObjectCommand({ Bucket, Key: "copied.bin", CopySource: `${Bucket}/source.bin` }),
    );
    await client.send(new DeleteObjectCommand({ Bucket, Key: "gone/deleted.bin" }));

    // Assess
    const replaced = await getPart("replaced.bin", 1);
    expect(replaced.bytes.toString()).toBe("whole");
    expect(replaced.PartsCount).toBeUndefined();
    expect(await errorOf(getPart("replaced.bin", 2))).toEqual({ name: "InvalidPartNumber", status: 416 });
    expect((await getPart("copied.bin", 1)).bytes.length).toBe(first.length + second.length);
    expect(await errorOf(getPart("copied.bin", 2))).toEqual({ name: "InvalidPartNumber", status: 416 });
    // The object's folder goes with its last file, as for any other object.
    expect(existsSync(folder) ? await readdir(folder) : []).toEqual([]);
  });
});

describe("an object stored whole", () => {
  beforeAll(async () => {
    await client.send(new PutObjectCommand({ Bucket, Key: "single.txt", Body: "hello" }));
  });

  it("is its own part 1: all of it, as a range of it, with no parts count", async () => {
    const part = await getPart("single.txt", 1);
    expect(part.bytes.toString()).toBe("hello");
    expect(part.$metadata.httpStatusCode).toBe(206);
    expect(part.ContentRange).toBe("bytes 0-4/5");
    expect(part.PartsCount).toBeUndefined();
  });

  it("has no part 2 (InvalidPartNumber, 416)", async () => {
    expect(await errorOf(getPart("single.txt", 2))).toEqual({ name: "InvalidPartNumber", status: 416 });
  });

  it("of no bytes answers part 1 with no bytes", async () => {
    await client.send(new PutObjectCommand({ Bucket, Key: "empty.txt", Body: "" }));
    const part = await getPart("empty.txt", 1);
    expect(part.bytes.length).toBe(0);
    expect(part.$metadata.httpStatusCode).toBe(200);
  });
});

describe("a partNumber S3 refuses", () => {
  it.each(["0", "10001", "one", "1.5", "-1"])("(%s) is InvalidArgument (400)", async (number) => {
    const response = await raw("GET", `/uploads/single.txt?partNumber=${number}`);
    expect(response.status).toBe(400);
    expect(response.body).toContain("<Code>InvalidArgument</Code>");
    expect(response.body).toContain("Part number must be an integer between 1 and 10000, inclusive");
  });

  it("with a Range header is InvalidRequest (400)", async () => {
    const response = await raw("GET", "/uploads/single.txt?partNumber=1", { Range: "bytes=0-1" });
    expect(response.status).toBe(400);
    expect(response.body).toContain("<Code>InvalidRequest</Code>");
    expect(response.body).toContain("Cannot specify both Range header and partNumber query parameter");
  });

  it("of a key that does not exist is NoSuchKey (404)", async () => {
    expect(await errorOf(getPart("absent.txt", 2))).toEqual({ name: "NoSuchKey", status: 404 });
  });
});
