/**
 * Listings on the embedded S3 server keep each object's listed fields in
 * memory (src/local/listed-object-fields.ts). Over real HTTP with the SDK:
 * after every write an object is listed with its new size, ETag, date and
 * checksum algorithm, the ones HeadObject gives, and after every delete it
 * is not listed at all, by ListObjectsV2, ListObjects and ListObjectVersions.
 * Each object is listed before it is written, so what the listing kept of
 * it is there to go stale.
 */
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  HeadObjectCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutObjectCommand,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestS3, type TestS3 } from "../support/servers.js";

const BUCKET = "uploads";
let server: TestS3;

beforeAll(async () => {
  server = await startTestS3("listing-after-writes");
});
afterAll(() => server?.stop());

/** What ListObjectsV2 says of `key`: undefined when it is not listed. */
async function listed(key: string) {
  const page = await server.client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: key }));
  const entry = page.Contents?.find((object) => object.Key === key);
  return (
    entry && {
      ETag: entry.ETag,
      Size: entry.Size,
      LastModified: entry.LastModified?.toISOString(),
      ChecksumAlgorithm: entry.ChecksumAlgorithm,
    }
  );
}

/** What ListObjectVersions says of `key`'s one version: undefined when it is not listed. */
async function listedVersion(key: string) {
  const page = await server.client.send(new ListObjectVersionsCommand({ Bucket: BUCKET, Prefix: key }));
  const version = page.Versions?.find((object) => object.Key === key);
  return (
    version && {
      ETag: version.ETag,
      Size: version.Size,
      LastModified: version.LastModified?.toISOString(),
      VersionId: version.VersionId,
    }
  );
}

/** What HeadObject says of `key`, in the listing's terms. */
async function head(key: string) {
  const answer = await server.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
  return { ETag: answer.ETag, Size: answer.ContentLength, LastModified: answer.LastModified?.toISOString() };
}

async function put(key: string, body: string, checksum?: "CRC32" | "SHA256") {
  await server.client.send(
    new PutObjectCommand({
      Bucket: BUCKET,
      Key: key,
      Body: body,
      ...(checksum && { ChecksumAlgorithm: checksum }),
    }),
  );
}

/** Waits until the clock is past the second of `date` (ISO): S3's dates, and s3rver's, count whole seconds. */
async function pastTheSecondOf(date: string | undefined): Promise<void> {
  const next = Math.floor(Date.parse(date ?? "") / 1000) * 1000 + 1000;
  while (Date.now() < next + 50) await new Promise((resolve) => setTimeout(resolve, next + 50 - Date.now()));
}

describe("an object written over one already listed", () => {
  it("is listed, after a PutObject, with the new size, ETag, date and checksum algorithm", async () => {
    // Prepare
    const key = "over/put.txt";
    await put(key, "first", "CRC32");
    const before = await listed(key);
    expect(before).toMatchObject({ Size: 5, ChecksumAlgorithm: ["CRC32"] });
    await pastTheSecondOf(before?.LastModified);

    // Act
    await put(key, "the second, longer version", "SHA256");

    // Assess
    const after = await listed(key);
    expect(after).toEqual({ ...(await head(key)), ChecksumAlgorithm: ["SHA256"] });
    expect(after?.Size).toBe(26);
    expect(after?.ETag).not.toBe(before?.ETag);
    expect(Date.parse(after?.LastModified ?? "")).toBeGreaterThan(Date.parse(before?.LastModified ?? ""));
    // Listed again, as kept: the same.
    expect(await listed(key)).toEqual(after);
  });

  it("is listed, after a CompleteMultipartUpload, with the upload's size and ETag", async () => {
    // Prepare
    const key = "over/multipart.bin";
    await put(key, "small");
    const before = await listed(key);
    expect(before?.Size).toBe(5);

    // Act: one part, which as the last may be under 5 MiB.
    const { UploadId } = await server.client.send(
      new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key }),
    );
    const { ETag } = await server.client.send(
      new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId, PartNumber: 1, Body: "uploaded in parts" }),
    );
    await server.client.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: key,
        UploadId,
        MultipartUpload: { Parts: [{ ETag, PartNumber: 1 }] },
      }),
    );

    // Assess
    const after = await listed(key);
    expect(after).toMatchObject(await head(key));
    expect(after?.Size).toBe(17);
    expect(after?.ETag).toMatch(/^"[0-9a-f]{32}-1"$/);
  });

  it("is listed, after a CopyObject onto it, as a copy of its source", async () => {
    // Prepare
    const source = "over/copy-source.txt";
    const key = "over/copy-destination.txt";
    await put(source, "the source's bytes");
    await put(key, "destination");
    const before = await listed(key);
    expect(before?.Size).toBe(11);

    // Act
    await server.client.send(
      new CopyObjectCommand({ Bucket: BUCKET, Key: key, CopySource: `${BUCKET}/${source}` }),
    );

    // Assess
    const after = await listed(key);
    expect(after).toMatchObject(await head(key));
    expect(after).toMatchObject({ Size: 18, ETag: (await listed(source))?.ETag });
  });

  it("is listed, after a CopyObject onto itself in another checksum algorithm, with that algorithm", async () => {
    // Prepare
    const key = "over/copy-itself.txt";
    await put(key, "copied onto itself", "CRC32");
    expect((await listed(key))?.ChecksumAlgorithm).toEqual(["CRC32"]);

    // Act
    await server.client.send(
      new CopyObjectCommand({
        Bucket: BUCKET,
        Key: key,
        CopySource: `${BUCKET}/${key}`,
        MetadataDirective: "REPLACE",
        ChecksumAlgorithm: "SHA256",
      }),
    );

    // Assess
    expect(await listed(key)).toEqual({ ...(await head(key)), ChecksumAlgorithm: ["SHA256"] });
  });

  it("is listed after each of many PutObjects with what HeadObject gives", async () => {
    const key = "over/many.txt";
    for (let index = 0; index < 20; index++) {
      // Act
      await put(key, "x".repeat(index + 1));

      // Assess
      expect(await listed(key)).toMatchObject({ ...(await head(key)), Size: index + 1 });
    }
  });
});

describe("an object deleted once listed", () => {
  it("is not listed after a DeleteObject, by ListObjectsV2 or ListObjects", async () => {
    // Prepare
    const key = "gone/deleted.txt";
    await put(key, "to be deleted");
    expect(await listed(key)).toBeDefined();

    // Act
    await server.client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));

    // Assess
    expect(await listed(key)).toBeUndefined();
    const v1 = await server.client.send(new ListObjectsCommand({ Bucket: BUCKET, Prefix: "gone/" }));
    expect(v1.Contents?.map((object) => object.Key) ?? []).not.toContain(key);
  });

  it("is not listed after a DeleteObjects; the others are, unchanged", async () => {
    // Prepare
    const keys = ["gone/many/1.txt", "gone/many/2.txt", "gone/many/3.txt"];
    for (const key of keys) await put(key, key);
    const before = await listed(keys[2] as string);

    // Act
    await server.client.send(
      new DeleteObjectsCommand({
        Bucket: BUCKET,
        Delete: { Objects: keys.slice(0, 2).map((Key) => ({ Key })) },
      }),
    );

    // Assess
    const page = await server.client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: "gone/many/" }));
    expect(page.Contents?.map((object) => object.Key)).toEqual([keys[2]]);
    expect(await listed(keys[2] as string)).toEqual(before);
  });

  it("is listed again, as new, once put again after its delete", async () => {
    // Prepare
    const key = "gone/again.txt";
    await put(key, "the first life");
    expect(await listed(key)).toBeDefined();
    await server.client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));

    // Act
    await put(key, "second");

    // Assess
    expect(await listed(key)).toMatchObject({ ...(await head(key)), Size: 6 });
  });
});

describe("ListObjectVersions", () => {
  it("lists an object's null version with the size and ETag of its latest PutObject", async () => {
    // Prepare
    const key = "versions/put.txt";
    await put(key, "one");
    expect((await listedVersion(key))?.Size).toBe(3);

    // Act
    await put(key, "version two");

    // Assess
    expect(await listedVersion(key)).toEqual({ ...(await head(key)), Size: 11, VersionId: "null" });
  });

  it("no longer lists an object once its null version is deleted", async () => {
    // Prepare
    const key = "versions/deleted.txt";
    await put(key, "to be deleted");
    expect(await listedVersion(key)).toBeDefined();

    // Act
    await server.client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key, VersionId: "null" }));

    // Assess
    expect(await listedVersion(key)).toBeUndefined();
  });
});
