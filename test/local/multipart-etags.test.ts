/**
 * Multipart uploads on the embedded S3 server carry S3's ETag,
 * `<hex MD5 of the parts' binary MD5s>-<number of parts>`, everywhere a
 * client or the pipeline sees one: CompleteMultipartUpload's answer, HEAD,
 * GET, ListObjectsV2 and the event. s3rver gave them the MD5 of the whole
 * content, what S3 gives a single PUT. Completing checks the listed parts as
 * S3 does (their ETags, their order, 5 MiB at least for all but the last),
 * and upload IDs and part numbers never name a path outside the server's
 * folder.
 */
import { createHash } from "node:crypto";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BACKFILL_RULE, runCatalogPass } from "../../src/cli/catalog-pass.js";
import type { Target } from "../../src/cli/target.js";
import type { ObjectEvent } from "../../src/events/s3-event.js";
import { LocalStack } from "../../src/local/local-stack.js";
import { DEFAULT_POLICY } from "../../src/policy/policy.js";
import { rawRequest } from "../support/raw-http.js";

const MIB = 1024 * 1024;
let stack: LocalStack;
let dataDir: string;
let client: S3Client;
const events: ObjectEvent[] = [];

beforeAll(async () => {
  process.env.POWERTOOLS_METRICS_DISABLED = "true";
  dataDir = await mkdtemp(join(tmpdir(), "catalog-multipart-"));
  stack = await LocalStack.start({
    s3Port: 0,
    dynamodbPort: 0,
    dataDir,
    logLevel: "SILENT",
    thumbnails: false,
    retryBackoffMs: [10, 10],
  });
  client = stack.s3Client;
  stack.s3.on("object", (event) => events.push(event));
});
afterAll(async () => {
  await stack?.close();
  await rm(dataDir, { recursive: true, force: true });
});

const md5 = (bytes: Uint8Array) => createHash("md5").update(bytes).digest();
/** S3's ETag of an object uploaded in these parts (unquoted). */
const multipartETag = (parts: readonly Buffer[]) =>
  `${createHash("md5")
    .update(Buffer.concat(parts.map((part) => md5(part))))
    .digest("hex")}-${parts.length}`;
const unquoted = (eTag: string | undefined) => (eTag ?? "").replace(/^"(.*)"$/, "$1");

/** Uploads `parts` with CreateMultipartUpload, UploadPart and CompleteMultipartUpload; returns Complete's ETag. */
async function uploadInParts(key: string, parts: readonly Buffer[]): Promise<string | undefined> {
  const { UploadId } = await client.send(
    new CreateMultipartUploadCommand({ Bucket: stack.bucket, Key: key }),
  );
  const uploaded = [];
  for (const [index, Body] of parts.entries()) {
    const PartNumber = index + 1;
    const { ETag } = await client.send(
      new UploadPartCommand({ Bucket: stack.bucket, Key: key, UploadId, PartNumber, Body }),
    );
    uploaded.push({ ETag, PartNumber });
  }
  const done = await client.send(
    new CompleteMultipartUploadCommand({
      Bucket: stack.bucket,
      Key: key,
      UploadId,
      MultipartUpload: { Parts: uploaded },
    }),
  );
  return done.ETag;
}

async function eTagsSeen(key: string) {
  const head = await client.send(new HeadObjectCommand({ Bucket: stack.bucket, Key: key }));
  const got = await client.send(new GetObjectCommand({ Bucket: stack.bucket, Key: key }));
  const body = Buffer.from(
    await (got.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
  );
  const listing = await client.send(new ListObjectsV2Command({ Bucket: stack.bucket, Prefix: key }));
  const listed = listing.Contents?.find((object) => object.Key === key);
  return { head: unquoted(head.ETag), get: unquoted(got.ETag), list: unquoted(listed?.ETag), body };
}

describe("a completed multipart upload", () => {
  const parts = [Buffer.alloc(5 * MIB, 1), Buffer.alloc(5 * MIB, 2), Buffer.from("tail")];
  const key = "multipart/two parts and a tail.bin";

  it("has S3's ETag in Complete's answer, HEAD, GET, ListObjectsV2 and the event", async () => {
    // Act
    const completed = await uploadInParts(key, parts);

    // Assess
    const expected = multipartETag(parts);
    expect(expected).toMatch(/^[0-9a-f]{32}-3$/);
    expect(unquoted(completed)).toBe(expected);
    const seen = await eTagsSeen(key);
    expect(seen).toMatchObject({ head: expected, get: expected, list: expected });
    expect(seen.body.equals(Buffer.concat(parts))).toBe(true);
    const event = events.find((candidate) => candidate.kind === "created" && candidate.key === key);
    expect(event).toMatchObject({ eventName: "ObjectCreated:CompleteMultipartUpload", eTag: expected });
  });

  it("is cataloged at that ETag, and backfill counts it as cataloged already", async () => {
    // Prepare: the record the pipeline wrote for the upload above.
    await stack.dispatcher.idle();
    const { record } = await stack.store.getObject(stack.bucket, key);
    expect(record?.etag).toBe(multipartETag(parts));
    const target: Target = {
      mode: "local",
      s3: client,
      dynamodb: stack.dynamodbClient,
      store: stack.store,
      tableName: stack.tableName,
      bucket: stack.bucket,
      close() {},
    };

    // Act
    const summary = await runCatalogPass({
      target,
      bucket: stack.bucket,
      prefix: "multipart/",
      eventName: "Catalog:Backfill",
      principalId: "catalog-backfill",
      rule: BACKFILL_RULE,
      policy: DEFAULT_POLICY,
      concurrency: 2,
      excludePrefixes: [stack.derivedPrefix],
      progress: { setTotal() {}, increment() {}, stop() {} },
      onError: (failed, error) => {
        throw new Error(`backfill failed on ${failed}: ${String(error)}`);
      },
      stopRequested: () => false,
    });

    // Assess
    expect(summary).toMatchObject({ scanned: 1, skipped: 1, cataloged: 0, errors: 0 });
  });

  it("made by lib-storage's Upload has the ETag of the parts it sent", async () => {
    const body = Buffer.concat([Buffer.alloc(5 * MIB, 7), Buffer.alloc(MIB, 8)]);
    await new Upload({
      client,
      params: { Bucket: stack.bucket, Key: "multipart/lib-storage.bin", Body: body },
      partSize: 5 * MIB,
      queueSize: 1,
    }).done();
    const seen = await eTagsSeen("multipart/lib-storage.bin");
    expect(seen.head).toBe(multipartETag([body.subarray(0, 5 * MIB), body.subarray(5 * MIB)]));
  });

  it("still has an MD5 ETag when a PUT or a copy writes the key afterwards", async () => {
    const key = "multipart/then put.bin";
    await uploadInParts(key, [Buffer.alloc(5 * MIB, 3), Buffer.from("end")]);
    await client.send(new PutObjectCommand({ Bucket: stack.bucket, Key: key, Body: "single" }));
    expect((await eTagsSeen(key)).head).toBe(md5(Buffer.from("single")).toString("hex"));
  });
});

describe("completing a multipart upload", () => {
  async function started(key: string, bodies: readonly Buffer[]) {
    const { UploadId } = await client.send(
      new CreateMultipartUploadCommand({ Bucket: stack.bucket, Key: key }),
    );
    const parts = [];
    for (const [index, Body] of bodies.entries()) {
      const PartNumber = index + 1;
      const { ETag } = await client.send(
        new UploadPartCommand({ Bucket: stack.bucket, Key: key, UploadId, PartNumber, Body }),
      );
      parts.push({ ETag, PartNumber });
    }
    return { UploadId, parts };
  }
  const complete = (
    key: string,
    UploadId: string | undefined,
    Parts: { ETag?: string; PartNumber: number }[],
  ) =>
    client.send(
      new CompleteMultipartUploadCommand({
        Bucket: stack.bucket,
        Key: key,
        UploadId,
        MultipartUpload: { Parts },
      }),
    );
  const exists = (key: string) =>
    client.send(new HeadObjectCommand({ Bucket: stack.bucket, Key: key })).then(
      () => true,
      (error: Error) => (error.name === "NotFound" ? false : Promise.reject(error)),
    );

  it.each([
    [
      "a part ETag that is not the part's",
      "InvalidPart",
      (parts: { ETag?: string; PartNumber: number }[]) => [
        parts[0],
        { ...parts[1], ETag: '"00000000000000000000000000000000"' },
      ],
    ],
    [
      "a part never uploaded",
      "InvalidPart",
      (parts: { ETag?: string; PartNumber: number }[]) => [parts[0], { ETag: parts[1]?.ETag, PartNumber: 3 }],
    ],
    [
      "parts out of order",
      "InvalidPartOrder",
      (parts: { ETag?: string; PartNumber: number }[]) => [parts[1], parts[0]],
    ],
  ])("refuses %s with %s and creates nothing", async (_, code, list) => {
    const key = `refused/${code}-${Math.random().toString(36).slice(2)}.bin`;
    const { UploadId, parts } = await started(key, [Buffer.alloc(5 * MIB, 4), Buffer.from("last")]);
    await expect(complete(key, UploadId, list(parts) as { PartNumber: number }[])).rejects.toMatchObject({
      name: code,
    });
    expect(await exists(key)).toBe(false);
    // The upload is still there to complete correctly.
    await complete(key, UploadId, parts);
    expect(await exists(key)).toBe(true);
  });

  it("answers NoSuchUpload for an upload ID it never issued", async () => {
    await expect(
      complete("refused/unknown.bin", "0123456789abcdef0123456789abcdef", [{ ETag: '"x"', PartNumber: 1 }]),
    ).rejects.toMatchObject({ name: "NoSuchUpload" });
  });
});

describe("part sizes", () => {
  /** CompleteMultipartUpload's request body listing `parts`. */
  const completeBody = (parts: readonly { ETag?: string; PartNumber: number }[]) =>
    `<CompleteMultipartUpload>${parts
      .map((part) => `<Part><PartNumber>${part.PartNumber}</PartNumber><ETag>${part.ETag}</ETag></Part>`)
      .join("")}</CompleteMultipartUpload>`;

  it("refuses a part but the last under 5 MiB with S3's EntityTooSmall, naming the part", async () => {
    // Prepare: a middle part one byte short of 5 MiB.
    const key = "sizes/short middle part.bin";
    const bodies = [Buffer.alloc(5 * MIB, 1), Buffer.alloc(5 * MIB - 1, 2), Buffer.from("tail")];
    const { UploadId } = await client.send(
      new CreateMultipartUploadCommand({ Bucket: stack.bucket, Key: key }),
    );
    const parts = [];
    for (const [index, Body] of bodies.entries()) {
      const { ETag } = await client.send(
        new UploadPartCommand({ Bucket: stack.bucket, Key: key, UploadId, PartNumber: index + 1, Body }),
      );
      parts.push({ ETag, PartNumber: index + 1 });
    }

    // Act
    const response = await rawRequest(
      stack.s3.port,
      "POST",
      `/${stack.bucket}/${encodeURIComponent(key)}?uploadId=${UploadId}`,
      { Host: `127.0.0.1:${stack.s3.port}`, "Content-Type": "application/xml" },
      completeBody(parts),
    );

    // Assess
    expect(response.status).toBe(400);
    expect(response.body).toContain(
      [
        "<Error><Code>EntityTooSmall</Code>",
        "<Message>Your proposed upload is smaller than the minimum allowed size</Message>",
        `<ProposedSize>${5 * MIB - 1}</ProposedSize><MinSizeAllowed>${5 * MIB}</MinSizeAllowed>`,
        `<PartNumber>2</PartNumber><ETag>${md5(bodies[1] as Buffer).toString("hex")}</ETag></Error>`,
      ].join(""),
    );
    await expect(
      client.send(new HeadObjectCommand({ Bucket: stack.bucket, Key: key })),
    ).rejects.toMatchObject({ name: "NotFound" });
    // The upload is still there, and a list that leaves the short part out completes.
    const kept = [parts[0], parts[2]] as { ETag?: string; PartNumber: number }[];
    const done = await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: stack.bucket,
        Key: key,
        UploadId,
        MultipartUpload: { Parts: kept },
      }),
    );
    expect(unquoted(done.ETag)).toBe(multipartETag([bodies[0] as Buffer, bodies[2] as Buffer]));
  });

  it("names the SDK's error EntityTooSmall", async () => {
    await expect(
      uploadInParts("sizes/small first part.bin", [Buffer.from("small"), Buffer.from("last")]),
    ).rejects.toMatchObject({ name: "EntityTooSmall", $metadata: { httpStatusCode: 400 } });
  });

  it.each([
    ["one part under 5 MiB", [Buffer.from("one small part")]],
    ["one empty part", [Buffer.alloc(0)]],
    ["parts of exactly 5 MiB and a short last one", [Buffer.alloc(5 * MIB, 3), Buffer.from("x")]],
  ])("completes %s", async (_, bodies) => {
    const key = `sizes/${bodies.length} parts ${Math.random().toString(36).slice(2)}.bin`;
    const eTag = await uploadInParts(key, bodies);
    expect(unquoted(eTag)).toBe(multipartETag(bodies));
    expect((await eTagsSeen(key)).body.equals(Buffer.concat(bodies))).toBe(true);
  });
});

describe("upload IDs and part numbers", () => {
  async function filesOutsideTheBuckets(): Promise<string[]> {
    const names = await readdir(dataDir, { recursive: true });
    return names.filter(
      (name) =>
        !name.startsWith("s3") &&
        !name.startsWith("dynamodb") &&
        name !== "dead-letter.jsonl" &&
        name !== "pending-events.jsonl",
    );
  }

  it.each([
    [
      "an upload ID that climbs out of the uploads folder",
      "uploadId=../../../outside&partNumber=1",
      "NoSuchUpload",
    ],
    ["an upload ID never issued", "uploadId=0123456789abcdef0123456789abcdef&partNumber=1", "NoSuchUpload"],
  ])("UploadPart refuses %s", async (_, query, code) => {
    const response = await rawRequest(
      stack.s3.port,
      "PUT",
      `/${stack.bucket}/x.bin?${query}`,
      { Host: `127.0.0.1:${stack.s3.port}` },
      "part bytes",
    );
    expect(response.body).toContain(`<Code>${code}</Code>`);
    expect(await filesOutsideTheBuckets()).toEqual([]);
  });

  it.each(["../../../../escaped", "0", "10001", "1.5", "１"])(
    "UploadPart refuses part number %j with InvalidArgument",
    async (partNumber) => {
      const { UploadId } = await client.send(
        new CreateMultipartUploadCommand({ Bucket: stack.bucket, Key: "parts/x.bin" }),
      );
      const response = await rawRequest(
        stack.s3.port,
        "PUT",
        `/${stack.bucket}/parts/x.bin?${new URLSearchParams({ uploadId: UploadId ?? "", partNumber })}`,
        { Host: `127.0.0.1:${stack.s3.port}` },
        "part bytes",
      );
      expect(response.status).toBe(400);
      expect(response.body).toContain("<Code>InvalidArgument</Code>");
      expect(await filesOutsideTheBuckets()).toEqual([]);
    },
  );
});

describe("objects stored by earlier versions", () => {
  it("serve with the ETag they were stored with (the MD5 of their content)", async () => {
    // Prepare: a multipart object as earlier versions stored it, with the whole content's MD5.
    const key = "multipart/stored earlier.bin";
    const parts = [Buffer.alloc(5 * MIB, 5), Buffer.from("old")];
    await uploadInParts(key, parts);
    const names = await readdir(join(dataDir, "s3", stack.bucket), { recursive: true });
    const md5File = names.find(
      (name) => name.includes("stored earlier") && name.endsWith("._S3rver_object.md5"),
    );
    expect(md5File).toBeDefined();
    const earlier = md5(Buffer.concat(parts)).toString("hex");
    await writeFile(join(dataDir, "s3", stack.bucket, md5File as string), earlier);

    // Act
    const seen = await eTagsSeen(key);

    // Assess
    expect(seen).toMatchObject({ head: earlier, get: earlier, list: earlier });
    expect(seen.body.equals(Buffer.concat(parts))).toBe(true);
  });
});
