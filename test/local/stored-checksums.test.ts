/**
 * The checksum the embedded S3 server keeps with each object, as S3 keeps
 * it, over real HTTP with SDK clients as users build them: the one a PUT
 * declares, else S3's default CRC64NVME; a multipart upload's COMPOSITE or
 * FULL_OBJECT one as its CreateMultipartUpload asked; a copy's. It comes
 * back in the write's answer and on GET and HEAD of the whole object that
 * ask for it, never for a range, and it survives a restart.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { crc32 as zlibCrc32 } from "node:zlib";
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ChecksumAlgorithm, createChecksum } from "../../src/local/checksums.js";
import { EmbeddedS3 } from "../../src/local/embedded-s3.js";
import { startTestS3, TEST_CREDENTIALS, TEST_REGION, type TestS3 } from "../support/servers.js";

const BUCKET = "uploads";
const MIB = 1024 * 1024;
let server: TestS3;
/** SDK defaults: CRC32 on every upload, checksum mode on every GetObject. */
let client: S3Client;
/** A client that sends checksums only where an API requires one, as SDKs did before 2025. */
let plainClient: S3Client;

const clientFor = (endpoint: string, options: Partial<ConstructorParameters<typeof S3Client>[0]> = {}) =>
  new S3Client({
    region: TEST_REGION,
    credentials: TEST_CREDENTIALS,
    endpoint,
    forcePathStyle: true,
    ...options,
  });

beforeAll(async () => {
  server = await startTestS3("stored-checksums");
  client = clientFor(server.s3.endpoint);
  plainClient = clientFor(server.s3.endpoint, {
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
});
afterAll(async () => {
  client?.destroy();
  plainClient?.destroy();
  await server?.stop();
});

const checksumOf = (algorithm: ChecksumAlgorithm, ...pieces: Buffer[]) => {
  const checksum = createChecksum(algorithm);
  for (const piece of pieces) checksum.update(piece);
  return checksum.digest();
};
const crc32Of = (bytes: Buffer) => {
  const value = Buffer.alloc(4);
  value.writeUInt32BE(zlibCrc32(bytes));
  return value.toString("base64");
};

const head = (Key: string, ChecksumMode?: "ENABLED") =>
  client.send(new HeadObjectCommand({ Bucket: BUCKET, Key, ChecksumMode }));

describe("PutObject", () => {
  it("keeps the CRC32 a current SDK declares, and answers with it", async () => {
    const bytes = randomBytes(150_000);
    const put = await client.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: "put/crc32.bin", Body: bytes }),
    );
    expect(put.ChecksumCRC32).toBe(crc32Of(bytes));
    const stored = await head("put/crc32.bin", "ENABLED");
    expect(stored.ChecksumCRC32).toBe(crc32Of(bytes));
    expect(stored.ChecksumType).toBe("FULL_OBJECT");
  });

  it.each(["SHA256", "SHA1", "CRC32C", "CRC64NVME"] as const)(
    "keeps a %s the upload declares",
    async (ChecksumAlgorithm) => {
      const Key = `put/${ChecksumAlgorithm}.bin`;
      const bytes = randomBytes(70_000);
      await client.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: bytes, ChecksumAlgorithm }));
      const stored = await head(Key, "ENABLED");
      expect(stored[`Checksum${ChecksumAlgorithm}`]).toBe(
        checksumOf(ChecksumAlgorithm.toLowerCase() as ChecksumAlgorithm, bytes),
      );
    },
  );

  it("gives an upload that declares no checksum S3's default, a CRC64NVME of its bytes", async () => {
    const bytes = randomBytes(90_000);
    const put = await plainClient.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: "put/plain.bin", Body: bytes }),
    );
    expect(put.ChecksumCRC64NVME).toBe(checksumOf("crc64nvme", bytes));
    const stored = await head("put/plain.bin", "ENABLED");
    expect(stored.ChecksumCRC64NVME).toBe(checksumOf("crc64nvme", bytes));
    expect(stored.ChecksumType).toBe("FULL_OBJECT");
    expect(stored.ChecksumCRC32).toBeUndefined();
  });

  it("replaces the checksum of the object it overwrites", async () => {
    const Key = "put/overwritten.bin";
    await client.send(
      new PutObjectCommand({ Bucket: BUCKET, Key, Body: randomBytes(1000), ChecksumAlgorithm: "SHA256" }),
    );
    const bytes = randomBytes(1000);
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: bytes }));
    const stored = await head(Key, "ENABLED");
    expect(stored.ChecksumCRC32).toBe(crc32Of(bytes));
    expect(stored.ChecksumSHA256).toBeUndefined();
  });
});

describe("GET and HEAD", () => {
  const key = "read/object.bin";
  const bytes = randomBytes(200_000);
  beforeAll(async () => {
    await client.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: bytes, ChecksumAlgorithm: "SHA256" }),
    );
  });

  it("give no checksum unless the request asks for it", async () => {
    const stored = await head(key);
    expect(stored.ChecksumSHA256).toBeUndefined();
    expect(stored.ChecksumType).toBeUndefined();
    const read = await plainClient.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    await read.Body?.transformToByteArray();
    expect(read.ChecksumSHA256).toBeUndefined();
  });

  it("give the whole object's checksum to a GET that asks, which the SDK checks the body against", async () => {
    const read = await client.send(
      new GetObjectCommand({ Bucket: BUCKET, Key: key, ChecksumMode: "ENABLED" }),
    );
    const body = Buffer.from((await read.Body?.transformToByteArray()) ?? []);
    expect(body.equals(bytes)).toBe(true);
    expect(read.ChecksumSHA256).toBe(createHash("sha256").update(bytes).digest("base64"));
    expect(read.ChecksumType).toBe("FULL_OBJECT");
  });

  it("give none for a range, whose bytes are not the whole object's", async () => {
    const read = await client.send(
      new GetObjectCommand({ Bucket: BUCKET, Key: key, Range: "bytes=0-999", ChecksumMode: "ENABLED" }),
    );
    expect((await read.Body?.transformToByteArray())?.length).toBe(1000);
    expect(read.ChecksumSHA256).toBeUndefined();
  });
});

describe("multipart uploads", () => {
  it("give a lib-storage upload (CRC32 parts) S3's COMPOSITE checksum of its parts' checksums", async () => {
    const Key = "multipart/composite.bin";
    const bytes = randomBytes(11 * MIB);
    const done = await new Upload({
      client,
      params: { Bucket: BUCKET, Key, Body: bytes },
      partSize: 5 * MIB,
    }).done();
    const parts = [bytes.subarray(0, 5 * MIB), bytes.subarray(5 * MIB, 10 * MIB), bytes.subarray(10 * MIB)];
    const composite = `${checksumOf("crc32", ...parts.map((part) => Buffer.from(crc32Of(part), "base64")))}-3`;
    expect(done.ChecksumCRC32).toBe(composite);
    const stored = await head(Key, "ENABLED");
    expect(stored.ChecksumCRC32).toBe(composite);
    expect(stored.ChecksumType).toBe("COMPOSITE");
    // The SDK does not check a composite checksum against the body, and the body is whole.
    const read = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key, ChecksumMode: "ENABLED" }));
    expect(Buffer.from((await read.Body?.transformToByteArray()) ?? []).equals(bytes)).toBe(true);
  });

  it("give a FULL_OBJECT CRC32 upload the CRC32 of all its bytes", async () => {
    const Key = "multipart/full.bin";
    const parts = [randomBytes(5 * MIB), randomBytes(1000)];
    const { UploadId } = await client.send(
      new CreateMultipartUploadCommand({
        Bucket: BUCKET,
        Key,
        ChecksumAlgorithm: "CRC32",
        ChecksumType: "FULL_OBJECT",
      }),
    );
    const uploaded = [];
    for (const [index, Body] of parts.entries()) {
      const part = await client.send(
        new UploadPartCommand({ Bucket: BUCKET, Key, UploadId, PartNumber: index + 1, Body }),
      );
      expect(part.ChecksumCRC32).toBe(crc32Of(Body));
      uploaded.push({ PartNumber: index + 1, ETag: part.ETag, ChecksumCRC32: part.ChecksumCRC32 });
    }
    await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key,
        UploadId,
        ChecksumType: "FULL_OBJECT",
        MultipartUpload: { Parts: uploaded },
      }),
    );
    const stored = await head(Key, "ENABLED");
    expect(stored.ChecksumCRC32).toBe(crc32Of(Buffer.concat(parts)));
    expect(stored.ChecksumType).toBe("FULL_OBJECT");
  });

  it("give an upload that names no checksum S3's default, a CRC64NVME of all its bytes", async () => {
    const Key = "multipart/plain.bin";
    const parts = [randomBytes(5 * MIB), randomBytes(5000)];
    const { UploadId } = await plainClient.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key }));
    const uploaded = [];
    for (const [index, Body] of parts.entries()) {
      const { ETag } = await plainClient.send(
        new UploadPartCommand({ Bucket: BUCKET, Key, UploadId, PartNumber: index + 1, Body }),
      );
      uploaded.push({ PartNumber: index + 1, ETag });
    }
    await plainClient.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key,
        UploadId,
        MultipartUpload: { Parts: uploaded },
      }),
    );
    const stored = await head(Key, "ENABLED");
    expect(stored.ChecksumCRC64NVME).toBe(checksumOf("crc64nvme", ...parts));
    expect(stored.ChecksumType).toBe("FULL_OBJECT");
  });

  it.each([
    ["SHA256", "FULL_OBJECT"],
    ["CRC64NVME", "COMPOSITE"],
  ] as const)("refuse to start a %s %s upload, as S3 does", async (ChecksumAlgorithm, ChecksumType) => {
    await expect(
      client.send(
        new CreateMultipartUploadCommand({
          Bucket: BUCKET,
          Key: "multipart/refused.bin",
          ChecksumAlgorithm,
          ChecksumType,
        }),
      ),
    ).rejects.toMatchObject({ name: "InvalidRequest" });
  });
});

describe("the parts of an upload that named a COMPOSITE checksum, as S3 checks them", () => {
  const start = async (Key: string) =>
    (await client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key, ChecksumAlgorithm: "CRC32" })))
      .UploadId as string;

  it("refuse a part that declares no checksum, or another algorithm's", async () => {
    const Key = "composite/parts.bin";
    const UploadId = await start(Key);
    const part = { Bucket: BUCKET, Key, UploadId, PartNumber: 1, Body: randomBytes(1000) };
    await expect(plainClient.send(new UploadPartCommand(part))).rejects.toMatchObject({
      name: "InvalidRequest",
      message: "Checksum Type mismatch occurred, expected checksum Type: crc32, actual checksum Type: null",
    });
    await expect(
      client.send(new UploadPartCommand({ ...part, ChecksumAlgorithm: "CRC32C" })),
    ).rejects.toMatchObject({
      name: "InvalidRequest",
      message: "Checksum Type mismatch occurred, expected checksum Type: crc32, actual checksum Type: crc32c",
    });
    await expect(client.send(new UploadPartCommand(part))).resolves.toMatchObject({
      ChecksumCRC32: crc32Of(part.Body),
    });
  });

  it("refuse to complete without each part's checksum, or with one its bytes do not have", async () => {
    const Key = "composite/complete.bin";
    const UploadId = await start(Key);
    const Body = randomBytes(1000);
    const { ETag } = await client.send(
      new UploadPartCommand({ Bucket: BUCKET, Key, UploadId, PartNumber: 1, Body }),
    );
    const complete = (part: Record<string, string | number | undefined>) =>
      client.send(
        new CompleteMultipartUploadCommand({
          Bucket: BUCKET,
          Key,
          UploadId,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag, ...part }] },
        }),
      );

    await expect(complete({})).rejects.toMatchObject({
      name: "InvalidRequest",
      message:
        "The upload was created using a crc32 checksum. The complete request must include the checksum for each part. It was missing for part 1 in the request.",
    });
    await expect(complete({ ChecksumCRC32: crc32Of(randomBytes(10)) })).rejects.toMatchObject({
      name: "InvalidPart",
    });
    const done = await complete({ ChecksumCRC32: crc32Of(Body) });
    expect(done.ChecksumCRC32).toBe(`${checksumOf("crc32", Buffer.from(crc32Of(Body), "base64"))}-1`);
  });

  it("answer a copied part with its checksum, which completing then lists", async () => {
    const source = randomBytes(6 * MIB);
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "composite/source.bin", Body: source }));
    const Key = "composite/copied.bin";
    const UploadId = await start(Key);
    const copied = await client.send(
      new UploadPartCopyCommand({
        Bucket: BUCKET,
        Key,
        UploadId,
        PartNumber: 1,
        CopySource: `${BUCKET}/composite/source.bin`,
        CopySourceRange: `bytes=0-${5 * MIB - 1}`,
      }),
    );
    const first = source.subarray(0, 5 * MIB);
    expect(copied.CopyPartResult?.ChecksumCRC32).toBe(crc32Of(first));
    const last = source.subarray(5 * MIB);
    const uploaded = await client.send(
      new UploadPartCommand({ Bucket: BUCKET, Key, UploadId, PartNumber: 2, Body: last }),
    );
    await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key,
        UploadId,
        MultipartUpload: {
          Parts: [
            {
              PartNumber: 1,
              ETag: copied.CopyPartResult?.ETag,
              ChecksumCRC32: copied.CopyPartResult?.ChecksumCRC32,
            },
            { PartNumber: 2, ETag: uploaded.ETag, ChecksumCRC32: uploaded.ChecksumCRC32 },
          ],
        },
      }),
    );
    const read = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key }));
    expect(Buffer.from((await read.Body?.transformToByteArray()) ?? []).equals(source)).toBe(true);
  });

  it("leave a FULL_OBJECT upload's parts free to carry no checksum", async () => {
    const Key = "composite/full.bin";
    const { UploadId } = await client.send(
      new CreateMultipartUploadCommand({
        Bucket: BUCKET,
        Key,
        ChecksumAlgorithm: "CRC32",
        ChecksumType: "FULL_OBJECT",
      }),
    );
    const Body = randomBytes(1000);
    const { ETag } = await plainClient.send(
      new UploadPartCommand({ Bucket: BUCKET, Key, UploadId, PartNumber: 1, Body }),
    );
    await plainClient.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key,
        UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag }] },
      }),
    );
    expect((await head(Key, "ENABLED")).ChecksumCRC32).toBe(crc32Of(Body));
  });
});

describe("CopyObject", () => {
  it("gives the copy the source's algorithm, or the one the copy asks for, over the copy's bytes", async () => {
    const bytes = randomBytes(40_000);
    await client.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: "copy/source.bin",
        Body: bytes,
        ChecksumAlgorithm: "SHA1",
      }),
    );

    const same = await client.send(
      new CopyObjectCommand({
        Bucket: BUCKET,
        Key: "copy/same.bin",
        CopySource: `${BUCKET}/copy/source.bin`,
      }),
    );
    const asked = await client.send(
      new CopyObjectCommand({
        Bucket: BUCKET,
        Key: "copy/asked.bin",
        CopySource: `${BUCKET}/copy/source.bin`,
        ChecksumAlgorithm: "CRC32C",
      }),
    );

    expect(same.CopyObjectResult?.ChecksumSHA1).toBe(checksumOf("sha1", bytes));
    expect((await head("copy/same.bin", "ENABLED")).ChecksumSHA1).toBe(checksumOf("sha1", bytes));
    expect(asked.CopyObjectResult?.ChecksumCRC32C).toBe(checksumOf("crc32c", bytes));
    const stored = await head("copy/asked.bin", "ENABLED");
    expect(stored.ChecksumCRC32C).toBe(checksumOf("crc32c", bytes));
    expect(stored.ChecksumSHA1).toBeUndefined();
  });
});

describe("a restart", () => {
  it("keeps every object's checksum", async () => {
    const directory = await mkdtemp(join(tmpdir(), "catalog-stored-checksums-restart-"));
    const bytes = randomBytes(10_000);
    try {
      for (const step of ["write", "read"] as const) {
        const s3 = await EmbeddedS3.start({ port: 0, directory, buckets: [BUCKET] });
        const restarted = clientFor(s3.endpoint);
        try {
          if (step === "write") {
            await restarted.send(
              new PutObjectCommand({
                Bucket: BUCKET,
                Key: "kept.bin",
                Body: bytes,
                ChecksumAlgorithm: "SHA256",
              }),
            );
          } else {
            const stored = await restarted.send(
              new HeadObjectCommand({ Bucket: BUCKET, Key: "kept.bin", ChecksumMode: "ENABLED" }),
            );
            expect(stored.ChecksumSHA256).toBe(createHash("sha256").update(bytes).digest("base64"));
          }
        } finally {
          restarted.destroy();
          await s3.close();
        }
      }
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});
