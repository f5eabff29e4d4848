/**
 * Uploads from SDKs with their default checksum settings (since early 2025:
 * `requestChecksumCalculation: WHEN_SUPPORTED`) on the embedded S3 server,
 * over real HTTP. A streamed body arrives `aws-chunked`, with its CRC32 in a
 * trailer after the last chunk; a buffered one carries an
 * `x-amz-checksum-crc32` header. Either way the object stored is the bytes
 * sent, byte for byte, with the ETag, size and event S3 gives them; a
 * checksum that does not match them is S3's BadDigest and stores nothing.
 * s3rver stored the chunk framing inside the object.
 */
import { createHash, randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import {
  AbortMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ObjectEvent } from "../../src/events/s3-event.js";
import { startTestS3, TEST_CREDENTIALS, TEST_REGION, type TestS3 } from "../support/servers.js";

const BUCKET = "uploads";
const MIB = 1024 * 1024;
let server: TestS3;
/** A client as a user's code builds one: no checksum options, so the SDK's defaults apply. */
let client: S3Client;
const events: ObjectEvent[] = [];

beforeAll(async () => {
  server = await startTestS3("flexible-checksums");
  client = new S3Client({
    region: TEST_REGION,
    credentials: TEST_CREDENTIALS,
    endpoint: server.s3.endpoint,
    forcePathStyle: true,
  });
  server.s3.on("object", (event) => events.push(event));
});
afterAll(async () => {
  client?.destroy();
  await server?.stop();
});
beforeEach(() => {
  events.length = 0;
});

const md5Hex = (bytes: Uint8Array) => createHash("md5").update(bytes).digest("hex");

/** A stream of `bytes` in pieces of `size`, as a file read is. */
const streamOf = (bytes: Buffer, size = 64 * 1024) =>
  Readable.from(
    (function* () {
      for (let offset = 0; offset < bytes.length; offset += size) yield bytes.subarray(offset, offset + size);
    })(),
  );

async function stored(key: string): Promise<Buffer> {
  const { Body } = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return Buffer.from(await (Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
}

/** The one created event announced for `key`. */
function createdEvent(key: string) {
  const found = events.filter((event) => event.kind === "created" && event.key === key);
  expect(found).toHaveLength(1);
  return found[0] as Extract<ObjectEvent, { kind: "created" }>;
}

describe("PutObject from a client with the SDK's default checksums", () => {
  it.each([
    ["a stream", (bytes: Buffer) => ({ Body: streamOf(bytes), ContentLength: bytes.length })],
    ["a Buffer", (bytes: Buffer) => ({ Body: bytes })],
  ])("stores %s byte for byte, with the MD5 ETag, size and event of those bytes", async (name, body) => {
    // Prepare
    const key = `put/${name}.bin`;
    const bytes = randomBytes(200_000);

    // Act
    const put = await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, ...body(bytes) }));

    // Assess
    expect((await stored(key)).equals(bytes)).toBe(true);
    const head = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    expect(head.ContentLength).toBe(bytes.length);
    expect(head.ETag).toBe(`"${md5Hex(bytes)}"`);
    expect(put.ETag).toBe(head.ETag);
    expect(head.ContentEncoding).toBeUndefined();
    expect(createdEvent(key)).toMatchObject({ size: bytes.length, eTag: md5Hex(bytes) });
  });

  it("stores an empty stream as an empty object", async () => {
    await client.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: "put/empty.bin",
        Body: streamOf(Buffer.alloc(0)),
        ContentLength: 0,
      }),
    );
    expect((await stored("put/empty.bin")).length).toBe(0);
  });

  it.each(["CRC32C", "CRC64NVME", "SHA1", "SHA256"] as const)(
    "stores a stream with a %s trailer byte for byte",
    async (ChecksumAlgorithm) => {
      const key = `put/${ChecksumAlgorithm}.bin`;
      const bytes = randomBytes(100_000);
      await client.send(
        new PutObjectCommand({
          Bucket: BUCKET,
          Key: key,
          Body: streamOf(bytes),
          ContentLength: bytes.length,
          ChecksumAlgorithm,
        }),
      );
      expect((await stored(key)).equals(bytes)).toBe(true);
    },
  );

  it("keeps a Content-Encoding the client sets, without aws-chunked", async () => {
    const key = "put/gzip.bin";
    const bytes = randomBytes(1000);
    await client.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: key,
        Body: streamOf(bytes),
        ContentLength: bytes.length,
        ContentEncoding: "gzip",
      }),
    );
    const head = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    expect(head.ContentEncoding).toBe("gzip");
  });
});

describe("lib-storage Upload from a client with the SDK's default checksums", () => {
  it("stores a 12 MiB stream uploaded in parts byte for byte, with S3's multipart ETag", async () => {
    // Prepare
    const key = "upload/twelve.bin";
    const bytes = randomBytes(12 * MIB);

    // Act
    await new Upload({ client, params: { Bucket: BUCKET, Key: key, Body: streamOf(bytes) } }).done();

    // Assess
    expect((await stored(key)).equals(bytes)).toBe(true);
    const parts = [bytes.subarray(0, 5 * MIB), bytes.subarray(5 * MIB, 10 * MIB), bytes.subarray(10 * MIB)];
    const eTag = `${createHash("md5")
      .update(Buffer.concat(parts.map((part) => createHash("md5").update(part).digest())))
      .digest("hex")}-3`;
    const head = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    expect(head.ContentLength).toBe(bytes.length);
    expect(head.ETag).toBe(`"${eTag}"`);
    expect(createdEvent(key)).toMatchObject({ size: bytes.length, eTag });
  });

  it("stores a small stream, which it sends as one PutObject, byte for byte", async () => {
    const key = "upload/small.bin";
    const bytes = randomBytes(300_000);
    await new Upload({ client, params: { Bucket: BUCKET, Key: key, Body: streamOf(bytes) } }).done();
    expect((await stored(key)).equals(bytes)).toBe(true);
  });
});

describe("UploadPart from a client with the SDK's default checksums", () => {
  it("stores a streamed part byte for byte, with the MD5 ETag of its bytes", async () => {
    const Key = "parts/streamed.bin";
    const bytes = randomBytes(70_000);
    const { UploadId } = await client.send(
      new CreateMultipartUploadCommand({ Bucket: BUCKET, Key, ChecksumAlgorithm: "CRC32" }),
    );
    const { ETag } = await client.send(
      new UploadPartCommand({
        Bucket: BUCKET,
        Key,
        UploadId,
        PartNumber: 1,
        Body: streamOf(bytes),
        ContentLength: bytes.length,
      }),
    );
    expect(ETag).toBe(`"${md5Hex(bytes)}"`);
    const { Parts } = await client.send(new ListPartsCommand({ Bucket: BUCKET, Key, UploadId }));
    expect(Parts?.map((part) => part.Size)).toEqual([bytes.length]);
    await client.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key, UploadId }));
  });
});
