/**
 * The rest of S3's multipart API on the embedded S3 server, over real HTTP:
 * AbortMultipartUpload (which s3rver refused, so an interrupted `aws s3 cp`
 * or a failed lib-storage Upload left its parts on disk for good), ListParts
 * and ListMultipartUploads (which s3rver did not implement). An aborted
 * upload leaves nothing in the data folder and sends no event; a part never
 * half-replaces an earlier upload of its number; a restart removes what a
 * crash left that no request can complete, and keeps uploads in progress.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  type ListMultipartUploadsCommandOutput,
  ListPartsCommand,
  paginateListParts,
  type S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ObjectEvent } from "../../src/events/s3-event.js";
import { EmbeddedS3 } from "../../src/local/embedded-s3.js";
import { AWS_CLI, awsCli } from "../e2e/stack-process.js";
import { rawRequest } from "../support/raw-http.js";
import { startTestS3, type TestS3, testS3Client } from "../support/servers.js";
import { describeWith } from "../support/tools.js";

const MIB = 1024 * 1024;
const BUCKET = "uploads";
let server: TestS3;
let client: S3Client;
const events: ObjectEvent[] = [];

beforeAll(async () => {
  server = await startTestS3("multipart-uploads");
  client = server.client;
  server.s3.on("object", (event) => events.push(event));
});
afterAll(async () => {
  await server?.stop();
});

/**
 * Every file and folder under the bucket's uploads folder: what in-progress uploads keep on disk.
 * The server removes an upload while this lists, so a folder that goes away mid-listing means: list again.
 */
async function uploadFiles(): Promise<string[]> {
  const root = join(server.dataDirectory, BUCKET, "._S3rver_uploads");
  for (;;) {
    if (!existsSync(root)) return [];
    try {
      return await readdir(root, { recursive: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
  }
}

/** Polls `check` until it holds or `ms` have passed; returns whether it held. */
async function eventually(check: () => Promise<boolean>, ms = 10_000): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return check();
}

const unique = (name: string) => `${name}-${Math.random().toString(36).slice(2)}`;

async function started(key: string): Promise<string> {
  const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key }));
  return UploadId as string;
}

const uploadPart = (key: string, UploadId: string, PartNumber: number, Body: Buffer | string) =>
  client.send(new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId, PartNumber, Body }));

const complete = (key: string, UploadId: string, Parts: { ETag?: string; PartNumber: number }[]) =>
  client.send(
    new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId, MultipartUpload: { Parts } }),
  );

const abort = (key: string, UploadId: string) =>
  client.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId }));

const exists = (key: string) =>
  client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key })).then(
    () => true,
    (error: Error) => (error.name === "NotFound" ? false : Promise.reject(error)),
  );

async function body(key: string): Promise<Buffer> {
  const got = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return Buffer.from(
    await (got.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
  );
}

/** The uploads ListMultipartUploads lists, page by page with its markers, `pageSize` at a time. */
async function allUploads(pageSize: number, more: { Prefix?: string; Delimiter?: string } = {}) {
  const pages: ListMultipartUploadsCommandOutput[] = [];
  let markers: { KeyMarker?: string; UploadIdMarker?: string } = {};
  for (;;) {
    const page = await client.send(
      new ListMultipartUploadsCommand({ Bucket: BUCKET, MaxUploads: pageSize, ...more, ...markers }),
    );
    pages.push(page);
    if (!page.IsTruncated) break;
    markers = { KeyMarker: page.NextKeyMarker, UploadIdMarker: page.NextUploadIdMarker };
    if (pages.length > 100) throw new Error("ListMultipartUploads never stopped");
  }
  return {
    pages,
    uploads: pages.flatMap((page) => (page.Uploads ?? []).map(({ Key, UploadId }) => ({ Key, UploadId }))),
    prefixes: pages.flatMap((page) => (page.CommonPrefixes ?? []).map(({ Prefix }) => Prefix)),
  };
}

describe("AbortMultipartUpload", () => {
  it("answers 204, removes the parts, and the upload is gone for UploadPart, Complete and ListParts", async () => {
    // Prepare
    const key = unique("abort/two parts.bin");
    const UploadId = await started(key);
    const { ETag } = await uploadPart(key, UploadId, 1, Buffer.alloc(5 * MIB, 1));
    await uploadPart(key, UploadId, 2, "tail");
    expect((await uploadFiles()).length).toBeGreaterThan(0);

    // Act
    const response = await rawRequest(
      server.s3.port,
      "DELETE",
      `/${BUCKET}/${encodeURIComponent(key)}?uploadId=${UploadId}`,
      { Host: `127.0.0.1:${server.s3.port}` },
    );

    // Assess
    expect(response.status).toBe(204);
    expect(await uploadFiles()).toEqual([]);
    await expect(uploadPart(key, UploadId, 3, "late")).rejects.toMatchObject({ name: "NoSuchUpload" });
    await expect(complete(key, UploadId, [{ ETag, PartNumber: 1 }])).rejects.toMatchObject({
      name: "NoSuchUpload",
    });
    await expect(
      client.send(new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId })),
    ).rejects.toMatchObject({ name: "NoSuchUpload" });
    await expect(abort(key, UploadId)).rejects.toMatchObject({ name: "NoSuchUpload" });
    expect(await uploadFiles()).toEqual([]);
    expect(await exists(key)).toBe(false);
    expect(events.filter((event) => event.key === key)).toEqual([]);
  });

  it.each([
    ["an upload ID never issued", "0123456789abcdef0123456789abcdef"],
    ["an upload ID that climbs out of the uploads folder", "../../../outside"],
    ["an empty upload ID", ""],
  ])("answers NoSuchUpload for %s", async (_, uploadId) => {
    const response = await rawRequest(
      server.s3.port,
      "DELETE",
      `/${BUCKET}/abort/x.bin?${new URLSearchParams({ uploadId })}`,
      { Host: `127.0.0.1:${server.s3.port}` },
    );
    expect(response.status).toBe(404);
    expect(response.body).toContain("<Code>NoSuchUpload</Code>");
  });

  it("answers NoSuchUpload for another key's upload, which stays", async () => {
    const key = unique("abort/kept.bin");
    const UploadId = await started(key);
    await uploadPart(key, UploadId, 1, "only part");

    await expect(abort("abort/other.bin", UploadId)).rejects.toMatchObject({ name: "NoSuchUpload" });

    const { Parts } = await client.send(new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId }));
    expect(Parts?.map((part) => part.PartNumber)).toEqual([1]);
    await abort(key, UploadId);
  });

  it("answers NoSuchBucket for a bucket that does not exist", async () => {
    await expect(
      client.send(
        new AbortMultipartUploadCommand({
          Bucket: "no-such-bucket",
          Key: "x.bin",
          UploadId: "0123456789abcdef0123456789abcdef",
        }),
      ),
    ).rejects.toMatchObject({ name: "NoSuchBucket" });
  });

  it("and a Complete of the same upload take turns: one wins whole, the other finds no upload", async () => {
    const outcomes = new Set<string>();
    for (let round = 0; round < 4; round++) {
      // Prepare
      const key = unique("abort/race.bin");
      const UploadId = await started(key);
      const parts = [Buffer.alloc(5 * MIB, round + 1), Buffer.alloc(5 * MIB, round + 2), Buffer.from("end")];
      const uploaded = [];
      for (const [index, part] of parts.entries()) {
        const { ETag } = await uploadPart(key, UploadId, index + 1, part);
        uploaded.push({ ETag, PartNumber: index + 1 });
      }

      // Act: both at once; the abort sent first on odd rounds.
      const [completed, aborted] =
        round % 2 === 0
          ? await Promise.allSettled([complete(key, UploadId, uploaded), abort(key, UploadId)])
          : await Promise.allSettled([abort(key, UploadId), complete(key, UploadId, uploaded)]).then(
              ([a, c]) => [c, a] as const,
            );

      // Assess
      const failed = [completed, aborted].filter((result) => result.status === "rejected");
      expect(failed).toHaveLength(1);
      expect((failed[0] as PromiseRejectedResult).reason).toMatchObject({ name: "NoSuchUpload" });
      if (completed.status === "fulfilled") {
        outcomes.add("completed");
        expect((await body(key)).equals(Buffer.concat(parts))).toBe(true);
      } else {
        outcomes.add("aborted");
        expect(await exists(key)).toBe(false);
        expect(events.filter((event) => event.key === key)).toEqual([]);
      }
      expect(await uploadFiles()).toEqual([]);
    }
    expect(outcomes.size).toBeGreaterThan(0);
  });

  it("drops a part still being received, which cannot bring the upload's folder back", async () => {
    // Prepare: a part whose first half has been sent.
    const key = unique("abort/part in flight.bin");
    const UploadId = await started(key);
    const half = Buffer.alloc(MIB, 5);
    const sending = request({
      host: "127.0.0.1",
      port: server.s3.port,
      method: "PUT",
      path: `/${BUCKET}/${encodeURIComponent(key)}?partNumber=1&uploadId=${UploadId}`,
      headers: { "Content-Length": String(2 * half.length) },
      agent: false,
    });
    const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
      sending.on("response", (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () =>
          resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString() }),
        );
      });
      sending.on("error", reject);
    });
    sending.write(half);
    expect(await eventually(async () => (await uploadFiles()).some((name) => name.endsWith(".tmp")))).toBe(
      true,
    );

    // Act
    await abort(key, UploadId);
    sending.end(half);

    // Assess
    const { status, body: text } = await answer;
    expect(status).toBe(404);
    expect(text).toContain("<Code>NoSuchUpload</Code>");
    expect(await uploadFiles()).toEqual([]);
  });
});

describe("UploadPart", () => {
  it("keeps the earlier upload of a part number when a retry of it is cut off", async () => {
    // Prepare
    const key = unique("parts/retried.bin");
    const UploadId = await started(key);
    const first = Buffer.alloc(5 * MIB, 1);
    const { ETag } = await uploadPart(key, UploadId, 1, first);

    // Act: the same part number again, its connection closed after a fifth of the body.
    const cut = request({
      host: "127.0.0.1",
      port: server.s3.port,
      method: "PUT",
      path: `/${BUCKET}/${encodeURIComponent(key)}?partNumber=1&uploadId=${UploadId}`,
      headers: { "Content-Length": String(first.length) },
      agent: false,
    });
    cut.on("error", () => {});
    cut.write(Buffer.alloc(MIB, 2));
    await eventually(async () => (await uploadFiles()).some((name) => name.endsWith(".tmp")), 2_000);
    cut.destroy();
    expect(await eventually(async () => !(await uploadFiles()).some((name) => name.endsWith(".tmp")))).toBe(
      true,
    );
    await complete(key, UploadId, [{ ETag, PartNumber: 1 }]);

    // Assess
    expect((await body(key)).equals(first)).toBe(true);
  });

  it("answers NoSuchUpload for another key's upload", async () => {
    const key = unique("parts/own key.bin");
    const UploadId = await started(key);
    await expect(uploadPart("parts/another key.bin", UploadId, 1, "x")).rejects.toMatchObject({
      name: "NoSuchUpload",
    });
    await expect(
      complete("parts/another key.bin", UploadId, [{ ETag: '"x"', PartNumber: 1 }]),
    ).rejects.toMatchObject({
      name: "NoSuchUpload",
    });
    await abort(key, UploadId);
  });
});

describe("a CORS preflight naming an upload", () => {
  it("is answered by s3rver's CORS rules, not as a request about the upload", async () => {
    const response = await rawRequest(
      server.s3.port,
      "OPTIONS",
      `/${BUCKET}/x.bin?uploadId=0123456789abcdef0123456789abcdef&partNumber=1`,
      {
        Host: `127.0.0.1:${server.s3.port}`,
        Origin: "http://127.0.0.1:3000",
        "Access-Control-Request-Method": "PUT",
      },
    );
    expect(response.body).toContain("<Code>CORSResponse</Code>");
  });
});

describe("ListParts", () => {
  it("lists the parts uploaded, in order, a page at a time through the SDK's paginator", async () => {
    // Prepare: parts sent out of order, one of them twice.
    const key = unique("list/parts & <more>.bin");
    const UploadId = await started(key);
    const sent = new Map<number, { ETag?: string; size: number }>();
    for (const number of [3, 1, 5, 2, 4, 2]) {
      const text = `part ${number} `.repeat(number * 10);
      const { ETag } = await uploadPart(key, UploadId, number, text);
      sent.set(number, { ETag, size: text.length });
    }

    // Act
    const pages = [];
    for await (const page of paginateListParts(
      { client, pageSize: 2 },
      { Bucket: BUCKET, Key: key, UploadId },
    )) {
      pages.push(page);
    }

    // Assess
    expect(pages.map((page) => page.Parts?.map((part) => part.PartNumber))).toEqual([[1, 2], [3, 4], [5]]);
    expect(pages.map((page) => page.IsTruncated)).toEqual([true, true, false]);
    expect(pages[0]).toMatchObject({ Bucket: BUCKET, Key: key, UploadId, MaxParts: 2 });
    for (const part of pages.flatMap((page) => page.Parts ?? [])) {
      const expected = sent.get(part.PartNumber as number);
      expect(part).toMatchObject({ ETag: expected?.ETag, Size: expected?.size });
      expect(part.LastModified).toBeInstanceOf(Date);
      expect(Math.abs((part.LastModified as Date).getTime() - Date.now())).toBeLessThan(60_000);
    }
    await abort(key, UploadId);
  });

  it.each([
    ["max-parts", "x"],
    ["max-parts", "-1"],
    ["part-number-marker", "1.5"],
  ])("refuses %s=%s with InvalidArgument", async (name, value) => {
    const key = unique("list/bad paging.bin");
    const UploadId = await started(key);
    const response = await rawRequest(
      server.s3.port,
      "GET",
      `/${BUCKET}/${encodeURIComponent(key)}?${new URLSearchParams({ uploadId: UploadId, [name]: value })}`,
      { Host: `127.0.0.1:${server.s3.port}` },
    );
    expect(response.status).toBe(400);
    expect(response.body).toContain("<Code>InvalidArgument</Code>");
    await abort(key, UploadId);
  });
});

describe("ListMultipartUploads", () => {
  // U+1F600 sorts after U+FF5E by UTF-8 bytes, as S3 orders keys, and before it by UTF-16 code units.
  const keys = ["b/one", "a/two", "a/two", "c & <three>", "b/one", "a/zero", "d\u{1f600}", "d\u{ff5e}"];
  let inProgress: { Key: string; UploadId: string }[];
  const list = (pageSize: number, more: { Prefix?: string; Delimiter?: string } = {}) =>
    allUploads(pageSize, more);

  beforeAll(async () => {
    inProgress = [];
    for (const Key of keys) {
      inProgress.push({ Key, UploadId: await started(Key) });
      // Initiation times a millisecond apart at least, so their order is known.
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  });
  afterAll(async () => {
    for (const { Key, UploadId } of inProgress) await abort(Key, UploadId).catch(() => {});
  });

  const byKeyThenStart = () =>
    [...inProgress].sort(
      (a, b) =>
        Buffer.compare(Buffer.from(a.Key), Buffer.from(b.Key)) ||
        inProgress.indexOf(a) - inProgress.indexOf(b),
    );

  it.each([1, 2, 4, 1000])(
    "lists every upload in progress by key, then start, %i a page",
    async (pageSize) => {
      const { uploads, pages } = await list(pageSize);
      const ours = uploads.filter((upload) => keys.includes(upload.Key as string));
      expect(ours).toEqual(byKeyThenStart());
      expect(pages.length).toBe(Math.ceil(uploads.length / pageSize));
    },
  );

  it("gives each upload its initiation time, owner and storage class", async () => {
    const before = Date.now();
    const key = unique("listed/timed.bin");
    const UploadId = await started(key);
    const { Uploads } = await client.send(
      new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: "listed/" }),
    );
    const upload = Uploads?.find((candidate) => candidate.UploadId === UploadId);
    expect(upload).toMatchObject({ Key: key, StorageClass: "STANDARD", Owner: { DisplayName: "S3rver" } });
    expect(upload?.Initiated?.getTime()).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 - 1000);
    await abort(key, UploadId);
  });

  it("filters by prefix and rolls keys up to common prefixes at the delimiter, across pages", async () => {
    const { uploads, prefixes } = await list(1, { Delimiter: "/" });
    expect(prefixes.filter((prefix) => prefix === "a/" || prefix === "b/")).toEqual(["a/", "b/"]);
    expect(uploads.map((upload) => upload.Key)).toContain("c & <three>");
    expect(uploads.map((upload) => upload.Key).filter((key) => key?.includes("/"))).toEqual([]);

    const underA = await list(2, { Prefix: "a/" });
    expect(underA.uploads.map((upload) => upload.Key)).toEqual(["a/two", "a/two", "a/zero"]);
  });

  it("no longer lists an upload once it is completed or aborted", async () => {
    const done = unique("listed/completed.bin");
    const dropped = unique("listed/aborted.bin");
    const doneId = await started(done);
    const droppedId = await started(dropped);
    const { ETag } = await uploadPart(done, doneId, 1, "whole");
    await complete(done, doneId, [{ ETag, PartNumber: 1 }]);
    await abort(dropped, droppedId);

    const { uploads } = await list(1000, { Prefix: "listed/" });
    expect(uploads.map((upload) => upload.UploadId)).not.toContain(doneId);
    expect(uploads.map((upload) => upload.UploadId)).not.toContain(droppedId);
  });

  it("URL-encodes keys when asked to with encoding-type=url", async () => {
    const response = await rawRequest(
      server.s3.port,
      "GET",
      `/${BUCKET}?uploads&encoding-type=url&prefix=c`,
      { Host: `127.0.0.1:${server.s3.port}` },
    );
    expect(response.status).toBe(200);
    expect(response.body).toContain("<Key>c%20%26%20%3Cthree%3E</Key>");
    expect(response.body).toContain("<EncodingType>url</EncodingType>");
  });
});

describe("lib-storage's Upload", () => {
  it("removes its parts when abort() stops it, and nothing is stored or announced", async () => {
    // Prepare
    const key = unique("lib-storage/aborted.bin");
    const upload = new Upload({
      client,
      params: { Bucket: BUCKET, Key: key, Body: Readable.from(chunks(8, MIB)) },
      partSize: 5 * MIB,
      queueSize: 1,
    });
    upload.on("httpUploadProgress", (progress) => {
      if ((progress.loaded ?? 0) >= 5 * MIB) void upload.abort();
    });

    // Act
    await expect(upload.done()).rejects.toMatchObject({ name: "AbortError" });

    // Assess: Upload aborts the multipart upload after its answer, once its parts in flight are done.
    expect(await eventually(async () => (await uploadFiles()).length === 0)).toBe(true);
    expect(await exists(key)).toBe(false);
    expect(events.filter((event) => event.key === key)).toEqual([]);
  });

  it("removes its parts when its body fails midway (leavePartsOnError: false)", async () => {
    const key = unique("lib-storage/failed.bin");
    async function* failing() {
      yield* chunks(6, MIB);
      throw new Error("the source broke");
    }
    const upload = new Upload({
      client,
      params: { Bucket: BUCKET, Key: key, Body: Readable.from(failing()) },
      partSize: 5 * MIB,
      queueSize: 2,
    });

    await expect(upload.done()).rejects.toThrow("the source broke");

    expect(await uploadFiles()).toEqual([]);
    expect(await exists(key)).toBe(false);
    expect(events.filter((event) => event.key === key)).toEqual([]);
  });
});

describe("a server started where removing an upload was cut short", () => {
  it("removes what is left of it and keeps the uploads in progress", async () => {
    // Prepare: an upload in progress, and one that was being removed when the server stopped.
    const folder = await mkdtemp(join(tmpdir(), "catalog-half-removed-"));
    const uploads = join(folder, BUCKET, "._S3rver_uploads");
    const kept = "0123456789abcdef0123456789abcdef";
    const removed = "fedcba9876543210fedcba9876543210.123.abc.removed";
    await mkdir(join(uploads, kept), { recursive: true });
    await writeFile(join(uploads, kept, "key"), "kept.bin");
    await writeFile(join(uploads, kept, "metadata"), "{}");
    await mkdir(join(uploads, removed), { recursive: true });
    await writeFile(join(uploads, removed, "1"), "part bytes");

    // Act
    const s3 = await EmbeddedS3.start({ port: 0, directory: folder, buckets: [BUCKET] });
    try {
      // Assess
      expect(await readdir(uploads)).toEqual([kept]);
    } finally {
      await s3.close();
      await rm(folder, { recursive: true, force: true });
    }
  });
});

describe("a server started on a data folder a crash left behind", () => {
  it("removes what no request can complete, and the upload in progress completes with its whole parts", async () => {
    // Prepare: the uploads folder as a process killed mid-request leaves it.
    const folder = await mkdtemp(join(tmpdir(), "catalog-crashed-"));
    const uploads = join(folder, BUCKET, "._S3rver_uploads");
    const inProgress = "0123456789abcdef0123456789abcdef";
    const first = Buffer.alloc(5 * MIB, 1);
    const second = Buffer.from("second part");
    const hex = (bytes: Buffer) => createHash("md5").update(bytes).digest("hex");
    const files: Record<string, string | Buffer> = {
      // An upload in progress with two whole parts.
      [`${inProgress}/key`]: "in progress.bin",
      [`${inProgress}/metadata`]: '{"content-type":"application/x-test"}',
      [`${inProgress}/1`]: first,
      [`${inProgress}/1.md5`]: hex(first),
      [`${inProgress}/2`]: second,
      [`${inProgress}/2.md5`]: hex(second),
      // Part 3 cut off while it was received; part 4 renamed into place, its MD5 not yet written.
      [`${inProgress}/3.4242.k3j2h1.tmp`]: "half a pa",
      [`${inProgress}/4`]: "a part without its MD5",
      [`${inProgress}/4.md5.4242.x9y8z7.tmp`]: "",
      // CreateMultipartUpload cut off: a folder only, then a key without its metadata, then half the metadata.
      "00000000000000000000000000000001/": "",
      "00000000000000000000000000000002/key": "no metadata.bin",
      "00000000000000000000000000000003/key": "half metadata.bin",
      "00000000000000000000000000000003/metadata": '{"content-ty',
      // AbortMultipartUpload cut off after its rename.
      "fedcba9876543210fedcba9876543210.4242.abc.removed/1": "part bytes",
    };
    for (const [name, content] of Object.entries(files)) {
      const path = join(uploads, name);
      await mkdir(name.endsWith("/") ? path : join(path, ".."), { recursive: true });
      if (!name.endsWith("/")) await writeFile(path, content);
    }

    // Act
    const s3 = await EmbeddedS3.start({ port: 0, directory: folder, buckets: [BUCKET] });
    const restarted = testS3Client(s3.endpoint);
    try {
      // Assess
      expect(await readdir(uploads)).toEqual([inProgress]);
      expect((await readdir(join(uploads, inProgress))).sort()).toEqual(
        ["1", "1.md5", "2", "2.md5", "key", "metadata"].sort(),
      );
      const { Uploads } = await restarted.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }));
      expect(Uploads?.map((upload) => upload.UploadId)).toEqual([inProgress]);
      const { Parts } = await restarted.send(
        new ListPartsCommand({ Bucket: BUCKET, Key: "in progress.bin", UploadId: inProgress }),
      );
      expect(Parts?.map((part) => [part.PartNumber, part.Size])).toEqual([
        [1, first.length],
        [2, second.length],
      ]);
      await restarted.send(
        new CompleteMultipartUploadCommand({
          Bucket: BUCKET,
          Key: "in progress.bin",
          UploadId: inProgress,
          MultipartUpload: { Parts: Parts?.map(({ ETag, PartNumber }) => ({ ETag, PartNumber })) },
        }),
      );
      const got = await restarted.send(new GetObjectCommand({ Bucket: BUCKET, Key: "in progress.bin" }));
      expect(got.ContentType).toBe("application/x-test");
      const bytes = await (
        got.Body as { transformToByteArray(): Promise<Uint8Array> }
      ).transformToByteArray();
      expect(Buffer.from(bytes).equals(Buffer.concat([first, second]))).toBe(true);
    } finally {
      restarted.destroy();
      await s3.close();
      await rm(folder, { recursive: true, force: true });
    }
  });
});

/** `count` chunks of `size` bytes. */
function* chunks(count: number, size: number): Generator<Buffer> {
  for (let index = 0; index < count; index++) yield Buffer.alloc(size, index);
}

describeWith("aws")("the AWS CLI", () => {
  it("aws s3 cp interrupted mid-upload aborts it, and nothing is left", async () => {
    // Prepare: a file the CLI sends in 5 MB parts, one at a time, so that it is still sending when interrupted.
    const folder = await mkdtemp(join(tmpdir(), "catalog-cli-interrupted-"));
    const file = join(folder, "big.bin");
    await writeFile(file, Buffer.alloc(64 * MIB, 7));
    const config = join(folder, "config");
    await writeFile(config, "[default]\ns3 =\n  max_concurrent_requests = 1\n  multipart_chunksize = 5MB\n");
    const key = unique("cli/interrupted.bin");
    try {
      const cli = spawn(
        AWS_CLI,
        [
          "--region",
          "us-east-1",
          "--endpoint-url",
          server.s3.endpoint,
          "s3",
          "cp",
          file,
          `s3://${BUCKET}/${key}`,
        ],
        {
          env: {
            PATH: process.env.PATH ?? "/usr/bin:/bin",
            HOME: process.env.HOME ?? "/tmp",
            AWS_ACCESS_KEY_ID: "S3RVER",
            AWS_SECRET_ACCESS_KEY: "S3RVER",
            AWS_CONFIG_FILE: config,
            AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
          },
          stdio: "ignore",
        },
      );
      const exited = new Promise<number | null>((resolve) => cli.on("close", (code) => resolve(code)));

      // Act: Ctrl-C once parts are arriving.
      const partsArriving = await eventually(async () =>
        (await uploadFiles()).some((name) => /\/\d+(\.md5)?$|\.tmp$/.test(name)),
      );
      cli.kill("SIGINT");
      await exited;

      // Assess
      expect(partsArriving).toBe(true);
      expect(await eventually(async () => (await uploadFiles()).length === 0)).toBe(true);
      expect(await exists(key)).toBe(false);
      expect(events.filter((event) => event.key === key)).toEqual([]);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });

  it("aws s3api list-multipart-uploads and list-parts page through what is in progress", async () => {
    // Prepare
    const key = unique("cli/listed.bin");
    const UploadId = await started(key);
    for (const number of [1, 2, 3]) await uploadPart(key, UploadId, number, `part ${number}`);

    // Act
    const uploads = await awsCli(
      server.s3.endpoint,
      "s3api",
      "list-multipart-uploads",
      "--bucket",
      BUCKET,
      "--prefix",
      "cli/listed",
      "--page-size",
      "1",
    );
    const parts = await awsCli(
      server.s3.endpoint,
      "s3api",
      "list-parts",
      "--bucket",
      BUCKET,
      "--key",
      key,
      "--upload-id",
      UploadId,
      "--page-size",
      "2",
    );

    // Assess
    expect(uploads.stderr).toBe("");
    expect(JSON.parse(uploads.stdout).Uploads).toMatchObject([{ Key: key, UploadId }]);
    expect(parts.stderr).toBe("");
    expect(
      (JSON.parse(parts.stdout).Parts as { PartNumber: number; Size: number }[]).map((part) => [
        part.PartNumber,
        part.Size,
      ]),
    ).toEqual([
      [1, 6],
      [2, 6],
      [3, 6],
    ]);
    await abort(key, UploadId);
  });
});
