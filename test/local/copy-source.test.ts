/**
 * CopyObject names its source in `x-amz-copy-source`, URL-encoded as S3
 * reads it. The AWS CLI (`aws s3 mv`, `aws s3 cp` between keys) and the
 * SDKs' users encode every reserved character; s3rver decoded the header
 * with decodeURI, which leaves `%2B` and its kind encoded, so a key with a
 * `+` could not be copied or moved.
 */
import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCopyCommand,
} from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { awsCli } from "../e2e/stack-process.js";
import { rawRequest } from "../support/raw-http.js";
import { startTestS3, type TestS3 } from "../support/servers.js";
import { describeWith } from "../support/tools.js";

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

describeWith("aws")("aws s3 mv", () => {
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

const MIB = 1024 * 1024;
const md5 = (bytes: Uint8Array) => createHash("md5").update(bytes).digest();

describe("UploadPartCopy", () => {
  it("copies ranges of an object into the parts of a multipart upload", async () => {
    // Prepare
    const body = Buffer.concat([Buffer.alloc(5 * MIB, 1), Buffer.from("the last part, + more")]);
    await client.send(new PutObjectCommand({ Bucket: "uploads", Key: "big/source+1.bin", Body: body }));
    const { UploadId } = await client.send(
      new CreateMultipartUploadCommand({ Bucket: "uploads", Key: "big/copy.bin" }),
    );
    const ranges = [
      [0, 5 * MIB - 1],
      [5 * MIB, body.length - 1],
    ] as const;

    // Act
    const parts = [];
    for (const [index, [first, last]] of ranges.entries()) {
      const { CopyPartResult } = await client.send(
        new UploadPartCopyCommand({
          Bucket: "uploads",
          Key: "big/copy.bin",
          UploadId,
          PartNumber: index + 1,
          CopySource: encodedAsTheCli("uploads", "big/source+1.bin"),
          CopySourceRange: `bytes=${first}-${last}`,
        }),
      );
      expect(CopyPartResult?.ETag).toBe(`"${md5(body.subarray(first, last + 1)).toString("hex")}"`);
      parts.push({ ETag: CopyPartResult?.ETag, PartNumber: index + 1 });
    }
    await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: "uploads",
        Key: "big/copy.bin",
        UploadId,
        MultipartUpload: { Parts: parts },
      }),
    );

    // Assess
    const got = await client.send(new GetObjectCommand({ Bucket: "uploads", Key: "big/copy.bin" }));
    const copied = await (got.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray();
    expect(Buffer.from(copied).equals(body)).toBe(true);
  });

  it("answers InvalidRange for a range past the object's end, and NoSuchKey for a missing source", async () => {
    await client.send(new PutObjectCommand({ Bucket: "uploads", Key: "small.bin", Body: "0123456789" }));
    const { UploadId } = await client.send(
      new CreateMultipartUploadCommand({ Bucket: "uploads", Key: "x.bin" }),
    );
    const copyPart = (CopySource: string, CopySourceRange: string) =>
      client.send(
        new UploadPartCopyCommand({
          Bucket: "uploads",
          Key: "x.bin",
          UploadId,
          PartNumber: 1,
          CopySource,
          CopySourceRange,
        }),
      );
    await expect(copyPart("uploads/small.bin", "bytes=5-10")).rejects.toMatchObject({ name: "InvalidRange" });
    await expect(copyPart("uploads/missing.bin", "bytes=0-1")).rejects.toMatchObject({ name: "NoSuchKey" });
    const { CopyPartResult } = await copyPart("uploads/small.bin", "bytes=0-0");
    expect(CopyPartResult?.ETag).toBe(`"${md5(Buffer.from("0")).toString("hex")}"`);
  });
});

describeWith("aws")("aws s3 cp and mv of an object over 8 MB between keys", () => {
  it("copies and moves it part by part", async () => {
    // Prepare: the CLI uploads files of 8 MB or more in parts, and copies such objects with UploadPartCopy.
    const folder = await mkdtemp(join(tmpdir(), "catalog-cli-big-"));
    const body = Buffer.alloc(9 * MIB, 9);
    body.write("start", 0);
    body.write("end", body.length - 3);
    await writeFile(join(folder, "big file.bin"), body);
    try {
      const uploaded = await awsCli(
        server.s3.endpoint,
        "s3",
        "cp",
        join(folder, "big file.bin"),
        "s3://uploads/cli/big file+.bin",
      );
      expect(uploaded.code).toBe(0);

      // Act
      const copied = await awsCli(
        server.s3.endpoint,
        "s3",
        "cp",
        "s3://uploads/cli/big file+.bin",
        "s3://uploads/cli/copy ü.bin",
      );
      const moved = await awsCli(
        server.s3.endpoint,
        "s3",
        "mv",
        "s3://uploads/cli/copy ü.bin",
        "s3://uploads/cli/moved.bin",
      );

      // Assess
      expect(copied.stderr).toBe("");
      expect(moved.stderr).toBe("");
      const got = await client.send(new GetObjectCommand({ Bucket: "uploads", Key: "cli/moved.bin" }));
      expect(
        Buffer.from(
          await (got.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
        ).equals(body),
      ).toBe(true);
      expect(got.ETag).toMatch(/^"[0-9a-f]{32}-2"$/);
      await expect(
        client.send(new HeadObjectCommand({ Bucket: "uploads", Key: "cli/copy ü.bin" })),
      ).rejects.toMatchObject({
        name: "NotFound",
      });
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });
});
