/**
 * `Content-MD5` on the embedded S3 server, over real HTTP: PutObject and
 * UploadPart refuse a body whose MD5 is not the one declared (BadDigest)
 * and a header that is no MD5 (InvalidDigest), and store nothing, as S3
 * does; s3rver ignored the header and stored the body.
 */
import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  AbortMultipartUploadCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  ListPartsCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { awsCli } from "../e2e/stack-process.js";
import { startTestS3, type TestS3 } from "../support/servers.js";
import { describeWith } from "../support/tools.js";

const BUCKET = "uploads";
let server: TestS3;
let client: S3Client;

beforeAll(async () => {
  server = await startTestS3("content-md5");
  client = server.client;
});
afterAll(async () => {
  await server?.stop();
});

const base64Md5 = (text: string) => createHash("md5").update(text).digest("base64");
const OTHER_MD5 = base64Md5("other bytes");

const exists = (key: string) =>
  client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key })).then(
    () => true,
    (error: Error) => (error.name === "NotFound" ? false : Promise.reject(error)),
  );

describe("PutObject", () => {
  it.each([
    ["the MD5 of other bytes", "BadDigest", OTHER_MD5],
    ["a header that is no MD5", "InvalidDigest", "not an md5"],
  ])("refuses %s with %s and stores nothing", async (_, code, ContentMD5) => {
    const key = `put/${code}.txt`;
    await expect(
      client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: "the body", ContentMD5 })),
    ).rejects.toMatchObject({ name: code, $metadata: { httpStatusCode: 400 } });
    expect(await exists(key)).toBe(false);
  });

  it("keeps the object a refused PUT would have replaced, and takes the body's own MD5", async () => {
    const key = "put/kept.txt";
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: "first" }));
    await expect(
      client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: "second", ContentMD5: OTHER_MD5 })),
    ).rejects.toMatchObject({ name: "BadDigest" });
    const { ETag } = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    expect(ETag).toBe(`"${createHash("md5").update("first").digest("hex")}"`);

    await client.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: "third", ContentMD5: base64Md5("third") }),
    );
    expect(await exists(key)).toBe(true);
  });
});

describe("UploadPart", () => {
  it("refuses a part whose MD5 is not the one declared, and keeps the part uploaded before", async () => {
    // Prepare
    const Key = "parts/declared.bin";
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key }));
    const part = (Body: string, ContentMD5?: string) =>
      client.send(new UploadPartCommand({ Bucket: BUCKET, Key, UploadId, PartNumber: 1, Body, ContentMD5 }));
    const { ETag } = await part("first", base64Md5("first"));

    // Act
    const refused = part("second", OTHER_MD5);

    // Assess
    await expect(refused).rejects.toMatchObject({ name: "BadDigest", $metadata: { httpStatusCode: 400 } });
    await expect(part("second", "bm90IGFuIG1kNQ==")).rejects.toMatchObject({ name: "InvalidDigest" });
    const { Parts } = await client.send(new ListPartsCommand({ Bucket: BUCKET, Key, UploadId }));
    expect(Parts?.map((listed) => [listed.PartNumber, listed.ETag, listed.Size])).toEqual([[1, ETag, 5]]);
    await client.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key, UploadId }));
  });
});

describeWith("aws")("aws s3api --content-md5", () => {
  it("reports BadDigest for upload-part and put-object", async () => {
    const folder = await mkdtemp(join(tmpdir(), "catalog-content-md5-"));
    const file = join(folder, "part.bin");
    await writeFile(file, "part bytes");
    try {
      const { UploadId } = await client.send(
        new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: "cli/part.bin" }),
      );
      const uploaded = await awsCli(
        server.s3.endpoint,
        "s3api",
        "upload-part",
        ...["--bucket", BUCKET, "--key", "cli/part.bin", "--upload-id", UploadId as string],
        ...["--part-number", "1", "--body", file, "--content-md5", OTHER_MD5],
      );
      const put = await awsCli(
        server.s3.endpoint,
        "s3api",
        "put-object",
        ...["--bucket", BUCKET, "--key", "cli/put.bin", "--body", file, "--content-md5", OTHER_MD5],
      );

      expect(uploaded.stderr).toContain("(BadDigest) when calling the UploadPart operation");
      expect(put.stderr).toContain("(BadDigest) when calling the PutObject operation");
      expect(await exists("cli/put.bin")).toBe(false);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });
});
