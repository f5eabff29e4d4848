/**
 * CopyObject names its source in `x-amz-copy-source`, URL-encoded as S3
 * reads it. The AWS CLI (`aws s3 mv`, `aws s3 cp` between keys) and the
 * SDKs' users encode every reserved character; s3rver decoded the header
 * with decodeURI, which leaves `%2B` and its kind encoded, so a key with a
 * `+` could not be copied or moved.
 */
import { existsSync } from "node:fs";
import { CopyObjectCommand, GetObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AWS_CLI, awsCli } from "../e2e/stack-process.js";
import { rawRequest } from "../support/raw-http.js";
import { startTestS3, type TestS3 } from "../support/servers.js";

let server: TestS3;
let client: S3Client;

beforeAll(async () => {
  server = await startTestS3("copy-source");
  ({ client } = server);
});
afterAll(() => server?.stop());

/** The copy source as the AWS CLI sends it: every character but `A-Za-z0-9-_.~/` percent-encoded. */
const encodedAsTheCli = (bucket: string, key: string) =>
  `${bucket}/${key
    .split("/")
    .map((segment) =>
      encodeURIComponent(segment).replace(
        /[!'()*]/g,
        (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
      ),
    )
    .join("/")}`;

const read = async (Key: string) => {
  const got = await client.send(new GetObjectCommand({ Bucket: "uploads", Key }));
  return got.Body?.transformToString();
};

describe("CopyObject's source", () => {
  it.each([
    "a+b c.txt",
    "sums/1+1=2.txt",
    "q&a, notes@home;v1:final$.txt",
    "what?.txt",
    "hash#tag.txt",
    "100%25 sure.txt",
    "relatório ü/日本.txt",
    "a//b.txt",
  ])("names key %j when encoded as the AWS CLI encodes it", async (key) => {
    // Prepare
    await client.send(new PutObjectCommand({ Bucket: "uploads", Key: key, Body: `body of ${key}` }));
    // Act
    await client.send(
      new CopyObjectCommand({
        Bucket: "uploads",
        Key: `copies/${key}`,
        CopySource: encodedAsTheCli("uploads", key),
      }),
    );
    // Assess
    expect(await read(`copies/${key}`)).toBe(`body of ${key}`);
  });

  it("may end with ?versionId=, which names the only version there is", async () => {
    await client.send(new PutObjectCommand({ Bucket: "uploads", Key: "versioned+1.txt", Body: "v" }));
    await client.send(
      new CopyObjectCommand({
        Bucket: "uploads",
        Key: "versioned-copy.txt",
        CopySource: `${encodedAsTheCli("uploads", "versioned+1.txt")}?versionId=null`,
      }),
    );
    expect(await read("versioned-copy.txt")).toBe("v");
  });

  it("answers InvalidArgument when its encoding is malformed", async () => {
    const response = await rawRequest(server.s3.port, "PUT", "/uploads/bad-copy.txt", {
      Host: `127.0.0.1:${server.s3.port}`,
      "x-amz-copy-source": "uploads/%E0%A4%A",
    });
    expect(response.status).toBe(400);
    expect(response.body).toContain("<Code>InvalidArgument</Code>");
  });
});

describe.skipIf(!existsSync(AWS_CLI))("aws s3 mv", () => {
  it("moves a key with a space, a `+` and unicode", async () => {
    await client.send(new PutObjectCommand({ Bucket: "uploads", Key: "cli/a+b c.txt", Body: "moved" }));
    const moved = await awsCli(
      server.s3.endpoint,
      "s3",
      "mv",
      "s3://uploads/cli/a+b c.txt",
      "s3://uploads/cli/moved ü+.txt",
    );
    expect(moved.stderr).toBe("");
    expect(moved.code).toBe(0);
    expect(await read("cli/moved ü+.txt")).toBe("moved");
    await expect(read("cli/a+b c.txt")).rejects.toMatchObject({ name: "NoSuchKey" });
  });
});
