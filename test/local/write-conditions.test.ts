/**
 * Conditional writes: S3 stores an object sent with `If-None-Match: *` only
 * when its key holds none, and one sent with `If-Match` only over the object
 * with that ETag; otherwise it answers 412 (404 for `If-Match` on an empty
 * key) and changes nothing. s3rver ignored both headers, so a create-only
 * upload replaced the object it was meant to leave alone. A DeleteObject
 * with `If-Match` is held to the same rule.
 */
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
import { startTestS3, type TestS3 } from "../support/servers.js";

let server: TestS3;
let client: S3Client;

beforeAll(async () => {
  server = await startTestS3("write-conditions");
  ({ client } = server);
});
afterAll(() => server?.stop());

const Bucket = "uploads";

const read = async (Key: string) => {
  const got = await client.send(new GetObjectCommand({ Bucket, Key }));
  return got.Body?.transformToString();
};

const S3_ERROR_XML =
  /^<\?xml[^>]*>\s*<Error>\s*<Code>PreconditionFailed<\/Code>[\s\S]*<Condition>If-Match<\/Condition>/;

const refusal = async (work: Promise<unknown>) => {
  try {
    await work;
  } catch (error) {
    const e = error as { name: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, status: e.$metadata?.httpStatusCode };
  }
  return { name: "no error" };
};

describe("a PutObject with a precondition", () => {
  it("If-None-Match: * creates the object once, then is refused and leaves it alone", async () => {
    await client.send(new PutObjectCommand({ Bucket, Key: "once.txt", Body: "first", IfNoneMatch: "*" }));
    expect(
      await refusal(
        client.send(new PutObjectCommand({ Bucket, Key: "once.txt", Body: "second", IfNoneMatch: "*" })),
      ),
    ).toEqual({ name: "PreconditionFailed", status: 412 });
    expect(await read("once.txt")).toBe("first");
  });

  it("If-Match replaces only the object with that ETag", async () => {
    const { ETag } = await client.send(new PutObjectCommand({ Bucket, Key: "swap.txt", Body: "v1" }));
    expect(
      await refusal(
        client.send(
          new PutObjectCommand({
            Bucket,
            Key: "swap.txt",
            Body: "lost",
            IfMatch: '"0123456789abcdef0123456789abcdef"',
          }),
        ),
      ),
    ).toEqual({ name: "PreconditionFailed", status: 412 });
    await client.send(new PutObjectCommand({ Bucket, Key: "swap.txt", Body: "v2", IfMatch: ETag }));
    expect(await read("swap.txt")).toBe("v2");
  });

  it("If-Match on a key that holds nothing is NoSuchKey, and stores nothing", async () => {
    expect(
      await refusal(
        client.send(new PutObjectCommand({ Bucket, Key: "nothing.txt", Body: "x", IfMatch: '"abc"' })),
      ),
    ).toEqual({ name: "NoSuchKey", status: 404 });
    expect(await refusal(read("nothing.txt"))).toEqual({ name: "NoSuchKey", status: 404 });
  });

  it("keeps the user metadata it was sent, which HeadObject answers, replacing the earlier object's", async () => {
    // Prepare
    const Key = "labelled.webp";
    const first = await client.send(
      new PutObjectCommand({
        Bucket,
        Key,
        Body: "a",
        IfNoneMatch: "*",
        Metadata: { "event-sequencer": "0A" },
      }),
    );
    // Act
    await client.send(
      new PutObjectCommand({
        Bucket,
        Key,
        Body: "b",
        IfMatch: first.ETag,
        Metadata: { "event-sequencer": "0B", "source-etag": "abc" },
      }),
    );
    // Assess
    const head = await client.send(new HeadObjectCommand({ Bucket, Key }));
    expect(head.Metadata).toEqual({ "event-sequencer": "0B", "source-etag": "abc" });
  });

  it("of two writes expecting the same state, the first to finish wins and the other is 412", async () => {
    const Key = "contended.txt";
    const { ETag } = await client.send(new PutObjectCommand({ Bucket, Key, Body: "v1" }));
    const answers = await Promise.all(
      ["v2", "v3"].map((Body) =>
        refusal(client.send(new PutObjectCommand({ Bucket, Key, Body, IfMatch: ETag }))),
      ),
    );
    expect(answers.map((answer) => answer.name).sort()).toEqual(["PreconditionFailed", "no error"]);
    expect(["v2", "v3"]).toContain(await read(Key));
  });
});

describe("a copy or a completed upload with If-None-Match: *", () => {
  it("is refused over an existing object", async () => {
    // Prepare
    await client.send(new PutObjectCommand({ Bucket, Key: "source.txt", Body: "source" }));
    await client.send(new PutObjectCommand({ Bucket, Key: "kept.txt", Body: "kept" }));
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket, Key: "kept.txt" }));
    const { ETag } = await client.send(
      new UploadPartCommand({ Bucket, Key: "kept.txt", UploadId, PartNumber: 1, Body: "part" }),
    );
    // Act
    const copied = await refusal(
      client.send(
        new CopyObjectCommand({
          Bucket,
          Key: "kept.txt",
          CopySource: `${Bucket}/source.txt`,
          IfNoneMatch: "*",
        }),
      ),
    );
    const completed = await refusal(
      client.send(
        new CompleteMultipartUploadCommand({
          Bucket,
          Key: "kept.txt",
          UploadId,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag }] },
          IfNoneMatch: "*",
        }),
      ),
    );
    // Assess
    expect([copied, completed]).toEqual([
      { name: "PreconditionFailed", status: 412 },
      { name: "PreconditionFailed", status: 412 },
    ]);
    expect(await read("kept.txt")).toBe("kept");
  });
});

describe("a DeleteObject with If-Match", () => {
  it("removes the object with that ETag, quoted or not", async () => {
    const { ETag: quoted } = await client.send(new PutObjectCommand({ Bucket, Key: "gone.txt", Body: "a" }));
    await client.send(new DeleteObjectCommand({ Bucket, Key: "gone.txt", IfMatch: quoted }));
    expect(await refusal(read("gone.txt"))).toEqual({ name: "NoSuchKey", status: 404 });

    const { ETag } = await client.send(new PutObjectCommand({ Bucket, Key: "gone.txt", Body: "b" }));
    await client.send(
      new DeleteObjectCommand({ Bucket, Key: "gone.txt", IfMatch: (ETag as string).replaceAll('"', "") }),
    );
    expect(await refusal(read("gone.txt"))).toEqual({ name: "NoSuchKey", status: 404 });
  });

  it("is refused with 412 over another object, which stays", async () => {
    // Prepare
    const { ETag: older } = await client.send(
      new PutObjectCommand({ Bucket, Key: "kept-delete.txt", Body: "v1" }),
    );
    await client.send(new PutObjectCommand({ Bucket, Key: "kept-delete.txt", Body: "v2" }));
    // Act
    const refused = await refusal(
      client.send(new DeleteObjectCommand({ Bucket, Key: "kept-delete.txt", IfMatch: older })),
    );
    // Assess
    expect(refused).toEqual({ name: "PreconditionFailed", status: 412 });
    expect(await read("kept-delete.txt")).toBe("v2");
  });

  it("answers the raw 412 as S3's XML error naming the If-Match condition", async () => {
    await client.send(new PutObjectCommand({ Bucket, Key: "raw-delete.txt", Body: "v" }));
    const response = await fetch(`${server.s3.endpoint}/${Bucket}/raw-delete.txt`, {
      method: "DELETE",
      headers: { "If-Match": '"0123456789abcdef0123456789abcdef"' },
    });
    expect(response.status).toBe(412);
    expect(await response.text()).toMatch(S3_ERROR_XML);
    expect(await read("raw-delete.txt")).toBe("v");
  });

  it("If-Match: * removes whatever object the key holds", async () => {
    await client.send(new PutObjectCommand({ Bucket, Key: "any.txt", Body: "x" }));
    await client.send(new DeleteObjectCommand({ Bucket, Key: "any.txt", IfMatch: "*" }));
    expect(await refusal(read("any.txt"))).toEqual({ name: "NoSuchKey", status: 404 });
  });

  it("on a key that holds nothing is NoSuchKey (404), with an ETag or *, where a plain delete is 204", async () => {
    expect(
      await refusal(client.send(new DeleteObjectCommand({ Bucket, Key: "never.txt", IfMatch: '"abc"' }))),
    ).toEqual({ name: "NoSuchKey", status: 404 });
    expect(
      await refusal(client.send(new DeleteObjectCommand({ Bucket, Key: "never.txt", IfMatch: "*" }))),
    ).toEqual({ name: "NoSuchKey", status: 404 });
    const plain = await client.send(new DeleteObjectCommand({ Bucket, Key: "never.txt" }));
    expect(plain.$metadata.httpStatusCode).toBe(204);
  });
});
