/**
 * ListObjects and ListObjectsV2 on the embedded S3 server, over real HTTP,
 * with the SDK's paginators and the AWS CLI: keys in S3's order (their
 * UTF-8 bytes), every key exactly once across pages of any size, common
 * prefixes counted as entries and listed once (a folder holding only
 * folders included), markers and continuation tokens, `encoding-type=url`,
 * and each object's checksum algorithm. s3rver listed in the file system's
 * order and resumed after the last key: pages repeated keys and lost others.
 */
import {
  DeleteBucketCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  paginateListObjectsV2,
} from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { awsCli } from "../e2e/stack-process.js";
import { startTestS3, type TestS3 } from "../support/servers.js";
import { describeWith } from "../support/tools.js";

const BUCKET = "uploads";
let server: TestS3;

beforeAll(async () => {
  server = await startTestS3("listing");
});
afterAll(() => server?.stop());

const byBytes = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

async function put(keys: readonly string[]): Promise<void> {
  // A few at a time: each PUT is one request.
  for (let index = 0; index < keys.length; index += 16) {
    await Promise.all(
      keys
        .slice(index, index + 16)
        .map((Key) => server.client.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: Key }))),
    );
  }
}

/** Every key and common prefix ListObjectsV2 gives, page after page of `pageSize`. */
async function listAll(options: { prefix: string; pageSize: number; delimiter?: string }) {
  const keys: string[] = [];
  const prefixes: string[] = [];
  const pages = paginateListObjectsV2(
    { client: server.client, pageSize: options.pageSize },
    { Bucket: BUCKET, Prefix: options.prefix, Delimiter: options.delimiter },
  );
  for await (const page of pages) {
    expect(page.KeyCount).toBe((page.Contents?.length ?? 0) + (page.CommonPrefixes?.length ?? 0));
    expect(page.KeyCount).toBeLessThanOrEqual(options.pageSize);
    keys.push(...(page.Contents ?? []).map((object) => object.Key as string));
    prefixes.push(...(page.CommonPrefixes ?? []).map((common) => common.Prefix as string));
  }
  return { keys, prefixes };
}

describe("ListObjectsV2", () => {
  it("lists keys in S3's order, by their UTF-8 bytes", async () => {
    const keys = [
      "order/a/1.txt",
      "order/a-b/1.txt",
      "order/a.txt",
      "order/\u{ff5e}.txt",
      "order/\u{1f600}.txt",
    ];
    await put(keys);
    const listed = await server.client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: "order/" }));
    // "-" (0x2d) < "." (0x2e) < "/" (0x2f); U+FF5E (ef bd 9e) < U+1F600 (f0 9f 98 80), though not in UTF-16.
    expect(listed.Contents?.map((object) => object.Key)).toEqual([
      "order/a-b/1.txt",
      "order/a.txt",
      "order/a/1.txt",
      "order/\u{ff5e}.txt",
      "order/\u{1f600}.txt",
    ]);
  });

  it("gives every key of a deep tree exactly once, in order, whatever the page size", async () => {
    const segments = ["a", "a-b", "a.b", "b", "é", "z"];
    const keys = new Set<string>();
    for (const first of segments)
      for (const second of segments) {
        keys.add(`tree/${first}/${second}.txt`);
        keys.add(`tree/${first}/${second}/deep.txt`);
        keys.add(`tree/${first}-${second}`);
      }
    await put([...keys]);
    const expected = [...keys].sort(byBytes);

    for (const pageSize of [1000, 7, 1]) {
      const { keys: listed } = await listAll({ prefix: "tree/", pageSize });
      expect(listed, `pages of ${pageSize}`).toEqual(expected);
    }
  }, 60_000);

  it("rolls keys into common prefixes, counts them as entries and lists each once", async () => {
    await put([
      "folders/top.txt",
      "folders/only/deeper/deep.txt",
      "folders/x/1.txt",
      "folders/x/2.txt",
      "folders/y.txt",
      "folders/marker/",
    ]);
    const whole = await listAll({ prefix: "folders/", delimiter: "/", pageSize: 1000 });
    // "only/" holds folders and no key of its own: still a common prefix, as on S3.
    expect(whole).toEqual({
      keys: ["folders/top.txt", "folders/y.txt"],
      prefixes: ["folders/marker/", "folders/only/", "folders/x/"],
    });
    // A key that ends in "/" (a console's folder marker) is a key like any other.
    const markers = await listAll({ prefix: "folders/marker", pageSize: 1000 });
    expect(markers.keys).toEqual(["folders/marker/"]);

    const paged = await listAll({ prefix: "folders/", delimiter: "/", pageSize: 1 });
    expect(paged).toEqual(whole);
  });

  it("starts after start-after, and refuses a continuation token it did not give", async () => {
    await put(["after/1", "after/2", "after/3"]);
    const listed = await server.client.send(
      new ListObjectsV2Command({ Bucket: BUCKET, Prefix: "after/", StartAfter: "after/1" }),
    );
    expect(listed.Contents?.map((object) => object.Key)).toEqual(["after/2", "after/3"]);
    expect(listed.StartAfter).toBe("after/1");
    await expect(
      server.client.send(new ListObjectsV2Command({ Bucket: BUCKET, ContinuationToken: "bm90IG91cnM=" })),
    ).rejects.toMatchObject({ name: "InvalidArgument" });
  });

  it("URL-encodes keys with encoding-type=url and names each object's checksum algorithm", async () => {
    await server.client.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: "encoded/a b+c.txt",
        Body: "x",
        ChecksumAlgorithm: "SHA256",
      }),
    );
    const listed = await server.client.send(
      new ListObjectsV2Command({ Bucket: BUCKET, Prefix: "encoded/", EncodingType: "url" }),
    );
    expect(listed.EncodingType).toBe("url");
    expect(listed.Contents?.map((object) => object.Key)).toEqual(["encoded%2Fa%20b%2Bc.txt"]);
    expect(listed.Contents?.[0]?.ChecksumAlgorithm).toEqual(["SHA256"]);
  });
});

describe("ListObjects (version 1)", () => {
  it("pages with NextMarker, resuming after a common prefix without listing it again", async () => {
    await put(["v1/a.txt", "v1/b/1.txt", "v1/b/2.txt", "v1/c.txt"]);
    const seen: string[] = [];
    let marker: string | undefined;
    for (let pages = 0; pages < 10; pages++) {
      const page = await server.client.send(
        new ListObjectsCommand({ Bucket: BUCKET, Prefix: "v1/", Delimiter: "/", MaxKeys: 1, Marker: marker }),
      );
      seen.push(...(page.Contents ?? []).map((object) => object.Key as string));
      seen.push(...(page.CommonPrefixes ?? []).map((common) => common.Prefix as string));
      if (!page.IsTruncated) break;
      marker = page.NextMarker;
    }
    expect(seen).toEqual(["v1/a.txt", "v1/b/", "v1/c.txt"]);
  });
});

describeWith("aws")("the AWS CLI", () => {
  it("lists and removes every object of a prefix, one key per page", async () => {
    const keys = ["cli/a/1.txt", "cli/a-b/1.txt", "cli/a.txt", "cli/b/c/d.txt"];
    await put(keys);
    const endpoint = server.s3.endpoint;
    const listed = await awsCli(
      endpoint,
      "s3api",
      "list-objects-v2",
      "--bucket",
      BUCKET,
      "--prefix",
      "cli/",
      "--page-size",
      "1",
    );
    expect(listed.code, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout).Contents.map((object: { Key: string }) => object.Key)).toEqual(
      [...keys].sort(byBytes),
    );

    const removed = await awsCli(
      endpoint,
      "s3",
      "rm",
      "--recursive",
      `s3://${BUCKET}/cli/`,
      "--page-size",
      "1",
    );
    expect(removed.code, removed.stderr).toBe(0);
    const left = await server.client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: "cli/" }));
    expect(left.KeyCount).toBe(0);
  });
});

describe("DeleteBucket", () => {
  it("still refuses a bucket that holds objects", async () => {
    await put(["kept/1.txt"]);
    await expect(server.client.send(new DeleteBucketCommand({ Bucket: BUCKET }))).rejects.toMatchObject({
      name: "BucketNotEmpty",
    });
  });
});
