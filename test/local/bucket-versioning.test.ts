/**
 * Bucket versioning on the embedded S3 server, which keeps one version of
 * each object: it answers as a bucket never versioned does on S3, over real
 * HTTP, to the SDK and to the AWS CLI.
 */
import {
  GetBucketVersioningCommand,
  ListObjectVersionsCommand,
  type ListObjectVersionsCommandOutput,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { awsCli } from "../e2e/stack-process.js";
import { startTestS3, type TestS3 } from "../support/servers.js";
import { itWith } from "../support/tools.js";

const BUCKET = "uploads";
const KEYS = ["v/a.txt", "v/b/1.txt", "v/b/2.txt", "v/c d+é.txt", "v/e.txt"];
let server: TestS3;

beforeAll(async () => {
  server = await startTestS3("versioning");
  for (const Key of KEYS) await server.client.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: Key }));
});
afterAll(() => server?.stop());

/** Every page of ListObjectVersions, following NextKeyMarker and NextVersionIdMarker. */
async function allPages(input: {
  Prefix: string;
  Delimiter?: string;
  MaxKeys: number;
}): Promise<ListObjectVersionsCommandOutput[]> {
  const pages: ListObjectVersionsCommandOutput[] = [];
  let markers: { KeyMarker?: string; VersionIdMarker?: string } = {};
  for (;;) {
    const page = await server.client.send(
      new ListObjectVersionsCommand({ Bucket: BUCKET, ...input, ...markers }),
    );
    pages.push(page);
    if (!page.IsTruncated) return pages;
    markers = { KeyMarker: page.NextKeyMarker, VersionIdMarker: page.NextVersionIdMarker };
  }
}

describe("a bucket that keeps one version of each object", () => {
  it("reports no versioning status, as a bucket never versioned", async () => {
    const answer = await server.client.send(new GetBucketVersioningCommand({ Bucket: BUCKET }));
    expect(answer.$metadata.httpStatusCode).toBe(200);
    expect(answer.Status).toBeUndefined();
  });

  it("refuses to enable versioning as not implemented, not as a bucket that exists", async () => {
    const refused = await server.client
      .send(
        new PutBucketVersioningCommand({ Bucket: BUCKET, VersioningConfiguration: { Status: "Enabled" } }),
      )
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(S3ServiceException);
    expect((refused as S3ServiceException).name).toBe("NotImplemented");
    expect((refused as S3ServiceException).$metadata.httpStatusCode).toBe(501);
    expect((refused as S3ServiceException).message).toMatch(/one version of each object/);
  });

  it("lists each object once as its null version, page by page", async () => {
    const pages = await allPages({ Prefix: "v/", MaxKeys: 2 });
    expect(pages.length).toBe(3);
    const versions = pages.flatMap((page) => page.Versions ?? []);
    expect(versions.map((version) => version.Key)).toEqual(KEYS);
    for (const version of versions) {
      expect(version).toMatchObject({ VersionId: "null", IsLatest: true, StorageClass: "STANDARD" });
      expect(version.Size).toBe(Buffer.byteLength(version.Key as string));
      expect(version.ETag).toMatch(/^"[0-9a-f]{32}"$/);
    }
    expect(pages.flatMap((page) => page.DeleteMarkers ?? [])).toEqual([]);
  });

  it("groups keys under a delimiter into common prefixes", async () => {
    const pages = await allPages({ Prefix: "v/", Delimiter: "/", MaxKeys: 1 });
    expect(pages.flatMap((page) => (page.Versions ?? []).map((version) => version.Key))).toEqual([
      "v/a.txt",
      "v/c d+é.txt",
      "v/e.txt",
    ]);
    expect(pages.flatMap((page) => (page.CommonPrefixes ?? []).map((common) => common.Prefix))).toEqual([
      "v/b/",
    ]);
  });

  itWith("aws")("answers the AWS CLI's list-object-versions and get-bucket-versioning", async () => {
    const listed = await awsCli(
      server.s3.endpoint,
      "s3api",
      "list-object-versions",
      "--bucket",
      BUCKET,
      "--prefix",
      "v/",
      "--page-size",
      "2",
    );
    expect(listed.code, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout).Versions.map((version: { Key: string }) => version.Key)).toEqual(KEYS);
    const status = await awsCli(server.s3.endpoint, "s3api", "get-bucket-versioning", "--bucket", BUCKET);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout.trim()).toBe("");
  });

  it("names a bucket that does not exist", async () => {
    const missing = await server.client
      .send(new ListObjectVersionsCommand({ Bucket: "no-such-bucket" }))
      .catch((error: unknown) => error);
    expect((missing as S3ServiceException).name).toBe("NoSuchBucket");
  });
});
