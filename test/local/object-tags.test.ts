/**
 * Tags belong to the object a request created, not to its key: S3 gives a
 * new object the tags its PutObject, CreateMultipartUpload or CopyObject
 * asked for and nothing else, and a delete takes them along. s3rver kept
 * tags by key and ignored `x-amz-tagging`, so a file rejected once (tagged
 * `catalog-status=rejected`) and replaced by an accepted one stayed tagged.
 */
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectTaggingCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  type S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestS3, type TestS3 } from "../support/servers.js";

let server: TestS3;
let client: S3Client;

beforeAll(async () => {
  server = await startTestS3("object-tags");
  ({ client } = server);
});
afterAll(() => server?.stop());

const Bucket = "uploads";

const tagsOf = async (Key: string) => {
  const { TagSet } = await client.send(new GetObjectTaggingCommand({ Bucket, Key }));
  return Object.fromEntries((TagSet ?? []).map((tag) => [tag.Key, tag.Value]));
};

const tag = (Key: string, tags: Record<string, string>) =>
  client.send(
    new PutObjectTaggingCommand({
      Bucket,
      Key,
      Tagging: { TagSet: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) },
    }),
  );

describe("an object's tags", () => {
  it("are those of PutObject's x-amz-tagging", async () => {
    await client.send(
      new PutObjectCommand({ Bucket, Key: "put.txt", Body: "a", Tagging: "team=web&note=a%26b c" }),
    );
    expect(await tagsOf("put.txt")).toEqual({ team: "web", note: "a&b c" });
  });

  it("are not carried over to an object put over a tagged one", async () => {
    // Prepare
    await client.send(new PutObjectCommand({ Bucket, Key: "over.txt", Body: "first" }));
    await tag("over.txt", { "catalog-status": "rejected" });
    // Act
    await client.send(new PutObjectCommand({ Bucket, Key: "over.txt", Body: "second" }));
    // Assess
    expect(await tagsOf("over.txt")).toEqual({});
  });

  it("go with the object when it is deleted, alone or in a batch", async () => {
    for (const Key of ["gone.txt", "gone/in-batch.txt"]) {
      await client.send(new PutObjectCommand({ Bucket, Key, Body: "x" }));
      await tag(Key, { old: "1" });
    }
    await client.send(new DeleteObjectCommand({ Bucket, Key: "gone.txt" }));
    await client.send(
      new DeleteObjectsCommand({ Bucket, Delete: { Objects: [{ Key: "gone/in-batch.txt" }] } }),
    );
    for (const Key of ["gone.txt", "gone/in-batch.txt"]) {
      await client.send(new PutObjectCommand({ Bucket, Key, Body: "y" }));
      expect(await tagsOf(Key)).toEqual({});
    }
  });

  it("of a copy are the source's, or the request's with the REPLACE directive", async () => {
    // Prepare
    await client.send(new PutObjectCommand({ Bucket, Key: "source.txt", Body: "s", Tagging: "from=source" }));
    await client.send(new PutObjectCommand({ Bucket, Key: "replaced.txt", Body: "r", Tagging: "stale=1" }));
    // Act
    await client.send(
      new CopyObjectCommand({ Bucket, Key: "copied.txt", CopySource: `${Bucket}/source.txt` }),
    );
    await client.send(
      new CopyObjectCommand({
        Bucket,
        Key: "replaced.txt",
        CopySource: `${Bucket}/source.txt`,
        TaggingDirective: "REPLACE",
        Tagging: "from=request",
      }),
    );
    // Assess
    expect(await tagsOf("copied.txt")).toEqual({ from: "source" });
    expect(await tagsOf("replaced.txt")).toEqual({ from: "request" });
  });

  it("of a multipart upload are those CreateMultipartUpload asked for", async () => {
    // Prepare
    await client.send(new PutObjectCommand({ Bucket, Key: "parts.bin", Body: "old", Tagging: "stale=1" }));
    const { UploadId } = await client.send(
      new CreateMultipartUploadCommand({ Bucket, Key: "parts.bin", Tagging: "uploaded=in-parts" }),
    );
    const { ETag } = await client.send(
      new UploadPartCommand({ Bucket, Key: "parts.bin", UploadId, PartNumber: 1, Body: "only part" }),
    );
    // Act
    await client.send(
      new CompleteMultipartUploadCommand({
        Bucket,
        Key: "parts.bin",
        UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag }] },
      }),
    );
    // Assess
    expect(await tagsOf("parts.bin")).toEqual({ uploaded: "in-parts" });
  });

  it.each([
    ["more than 10 tags", Array.from({ length: 11 }, (_, i) => `t${i}=v`).join("&"), "BadRequest"],
    ["a key twice", "a=1&a=2", "InvalidTag"],
    ["a key over 128 characters", `${"k".repeat(129)}=v`, "InvalidTag"],
    ["a value over 256 characters", `k=${"v".repeat(257)}`, "InvalidTag"],
  ])("refuse %s, as S3 does, storing nothing", async (_, Tagging, code) => {
    const Key = `refused-${code}-${Tagging.length}.txt`;
    await expect(
      client.send(new PutObjectCommand({ Bucket, Key, Body: "x", Tagging })),
    ).rejects.toMatchObject({
      name: code,
      $metadata: { httpStatusCode: 400 },
    });
    await expect(tagsOf(Key)).rejects.toMatchObject({ name: "NoSuchKey" });
  });
});
