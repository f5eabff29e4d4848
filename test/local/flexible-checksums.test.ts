/**
 * Uploads from SDKs with their default checksum settings (since early 2025:
 * `requestChecksumCalculation: WHEN_SUPPORTED`) on the embedded S3 server,
 * over real HTTP. A streamed body arrives `aws-chunked`, with its CRC32 in a
 * trailer after the last chunk; a buffered one carries an
 * `x-amz-checksum-crc32` header. Either way the object stored is the bytes
 * sent, byte for byte, with the ETag, size and event S3 gives them; a
 * checksum that does not match them is S3's BadDigest and stores nothing.
 * s3rver stored the chunk framing inside the object.
 */
import { createHash, randomBytes } from "node:crypto";
import { connect } from "node:net";
import { Readable } from "node:stream";
import { crc32 as zlibCrc32 } from "node:zlib";
import {
  AbortMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ObjectEvent } from "../../src/events/s3-event.js";
import { rawRequest } from "../support/raw-http.js";
import { startTestS3, TEST_CREDENTIALS, TEST_REGION, type TestS3 } from "../support/servers.js";

const BUCKET = "uploads";
const MIB = 1024 * 1024;
let server: TestS3;
/** A client as a user's code builds one: no checksum options, so the SDK's defaults apply. */
let client: S3Client;
const events: ObjectEvent[] = [];

beforeAll(async () => {
  server = await startTestS3("flexible-checksums");
  client = new S3Client({
    region: TEST_REGION,
    credentials: TEST_CREDENTIALS,
    endpoint: server.s3.endpoint,
    forcePathStyle: true,
  });
  server.s3.on("object", (event) => events.push(event));
});
afterAll(async () => {
  client?.destroy();
  await server?.stop();
});
beforeEach(() => {
  events.length = 0;
});

const md5Hex = (bytes: Uint8Array) => createHash("md5").update(bytes).digest("hex");

/** A stream of `bytes` in pieces of `size`, as a file read is. */
const streamOf = (bytes: Buffer, size = 64 * 1024) =>
  Readable.from(
    (function* () {
      for (let offset = 0; offset < bytes.length; offset += size) yield bytes.subarray(offset, offset + size);
    })(),
  );

async function stored(key: string): Promise<Buffer> {
  const { Body } = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return Buffer.from(await (Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
}

/** The one created event announced for `key`. */
function createdEvent(key: string) {
  const found = events.filter((event) => event.kind === "created" && event.key === key);
  expect(found).toHaveLength(1);
  return found[0] as Extract<ObjectEvent, { kind: "created" }>;
}

describe("PutObject from a client with the SDK's default checksums", () => {
  it.each([
    ["a stream", (bytes: Buffer) => ({ Body: streamOf(bytes), ContentLength: bytes.length })],
    ["a Buffer", (bytes: Buffer) => ({ Body: bytes })],
  ])("stores %s byte for byte, with the MD5 ETag, size and event of those bytes", async (name, body) => {
    // Prepare
    const key = `put/${name}.bin`;
    const bytes = randomBytes(200_000);

    // Act
    const put = await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, ...body(bytes) }));

    // Assess
    expect((await stored(key)).equals(bytes)).toBe(true);
    const head = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    expect(head.ContentLength).toBe(bytes.length);
    expect(head.ETag).toBe(`"${md5Hex(bytes)}"`);
    expect(put.ETag).toBe(head.ETag);
    expect(head.ContentEncoding).toBeUndefined();
    expect(createdEvent(key)).toMatchObject({ size: bytes.length, eTag: md5Hex(bytes) });
  });

  it("stores an empty stream as an empty object", async () => {
    await client.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: "put/empty.bin",
        Body: streamOf(Buffer.alloc(0)),
        ContentLength: 0,
      }),
    );
    expect((await stored("put/empty.bin")).length).toBe(0);
  });

  it.each(["CRC32C", "CRC64NVME", "SHA1", "SHA256"] as const)(
    "stores a stream with a %s trailer byte for byte",
    async (ChecksumAlgorithm) => {
      const key = `put/${ChecksumAlgorithm}.bin`;
      const bytes = randomBytes(100_000);
      await client.send(
        new PutObjectCommand({
          Bucket: BUCKET,
          Key: key,
          Body: streamOf(bytes),
          ContentLength: bytes.length,
          ChecksumAlgorithm,
        }),
      );
      expect((await stored(key)).equals(bytes)).toBe(true);
    },
  );

  it("keeps a Content-Encoding the client sets, without aws-chunked", async () => {
    const key = "put/gzip.bin";
    const bytes = randomBytes(1000);
    await client.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: key,
        Body: streamOf(bytes),
        ContentLength: bytes.length,
        ContentEncoding: "gzip",
      }),
    );
    const head = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    expect(head.ContentEncoding).toBe("gzip");
  });
});

describe("lib-storage Upload from a client with the SDK's default checksums", () => {
  it("stores a 12 MiB stream uploaded in parts byte for byte, with S3's multipart ETag", async () => {
    // Prepare
    const key = "upload/twelve.bin";
    const bytes = randomBytes(12 * MIB);

    // Act
    await new Upload({ client, params: { Bucket: BUCKET, Key: key, Body: streamOf(bytes) } }).done();

    // Assess
    expect((await stored(key)).equals(bytes)).toBe(true);
    const parts = [bytes.subarray(0, 5 * MIB), bytes.subarray(5 * MIB, 10 * MIB), bytes.subarray(10 * MIB)];
    const eTag = `${createHash("md5")
      .update(Buffer.concat(parts.map((part) => createHash("md5").update(part).digest())))
      .digest("hex")}-3`;
    const head = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    expect(head.ContentLength).toBe(bytes.length);
    expect(head.ETag).toBe(`"${eTag}"`);
    expect(createdEvent(key)).toMatchObject({ size: bytes.length, eTag });
  });

  it("stores a small stream, which it sends as one PutObject, byte for byte", async () => {
    const key = "upload/small.bin";
    const bytes = randomBytes(300_000);
    await new Upload({ client, params: { Bucket: BUCKET, Key: key, Body: streamOf(bytes) } }).done();
    expect((await stored(key)).equals(bytes)).toBe(true);
  });
});

describe("UploadPart from a client with the SDK's default checksums", () => {
  it("stores a streamed part byte for byte, with the MD5 ETag of its bytes", async () => {
    const Key = "parts/streamed.bin";
    const bytes = randomBytes(70_000);
    const { UploadId } = await client.send(
      new CreateMultipartUploadCommand({ Bucket: BUCKET, Key, ChecksumAlgorithm: "CRC32" }),
    );
    const { ETag } = await client.send(
      new UploadPartCommand({
        Bucket: BUCKET,
        Key,
        UploadId,
        PartNumber: 1,
        Body: streamOf(bytes),
        ContentLength: bytes.length,
      }),
    );
    expect(ETag).toBe(`"${md5Hex(bytes)}"`);
    const { Parts } = await client.send(new ListPartsCommand({ Bucket: BUCKET, Key, UploadId }));
    expect(Parts?.map((part) => part.Size)).toEqual([bytes.length]);
    await client.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key, UploadId }));
  });
});

/** The port of the test's server, for requests sent byte for byte. */
const port = () => Number(new URL(server.s3.endpoint).port);
const crc32 = (bytes: Buffer) => {
  const value = Buffer.alloc(4);
  value.writeUInt32BE(zlibCrc32(bytes));
  return value.toString("base64");
};
/** A chunk signature's place: the server reads past it, as s3rver checks no payload signature. */
const SIGNATURE = "a".repeat(64);

/** `pieces` framed aws-chunked, with `trailers` after the last chunk; `signed` adds chunk signatures. */
function awsChunked(pieces: Buffer[], trailers: string[], signed: boolean): Buffer {
  const extension = signed ? `;chunk-signature=${SIGNATURE}` : "";
  const chunks = [...pieces, Buffer.alloc(0)].map((piece) =>
    Buffer.concat([Buffer.from(`${piece.length.toString(16)}${extension}\r\n`), piece, Buffer.from("\r\n")]),
  );
  const trailer = [
    ...trailers,
    ...(signed && trailers.length > 0 ? [`x-amz-trailer-signature:${SIGNATURE}`] : []),
  ];
  // The last chunk's own CRLF ends a body without trailers; trailers take its place, then an empty line.
  const end = trailer.length > 0 ? `${trailer.map((line) => `${line}\r\n`).join("")}\r\n` : "";
  const body = Buffer.concat(chunks);
  return Buffer.concat([trailer.length > 0 ? body.subarray(0, -2) : body, Buffer.from(end)]);
}

/** PUT `body` to `path` as an SDK streams it: aws-chunked, `decoded` bytes once decoded. */
function putChunked(path: string, body: Buffer, decoded: number, headers: Record<string, string>) {
  return rawRequest(
    port(),
    "PUT",
    path,
    {
      "Content-Encoding": "aws-chunked",
      "Content-Length": String(body.length),
      "x-amz-decoded-content-length": String(decoded),
      ...headers,
    },
    body,
  );
}

const exists = (key: string) =>
  client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key })).then(
    () => true,
    (error: Error) => (error.name === "NotFound" ? false : Promise.reject(error)),
  );

describe("aws-chunked bodies sent byte for byte", () => {
  const bytes = randomBytes(20_000);
  const pieces = [bytes.subarray(0, 8192), bytes.subarray(8192, 8193), bytes.subarray(8193)];

  it.each([
    ["unsigned, with a CRC32 trailer", "STREAMING-UNSIGNED-PAYLOAD-TRAILER", false, "x-amz-checksum-crc32"],
    ["signed, without a trailer", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", true, undefined],
    [
      "signed, with a CRC32 trailer",
      "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
      true,
      "x-amz-checksum-crc32",
    ],
  ])("stores a body %s as its bytes", async (name, payload, signed, trailer) => {
    // Prepare
    const key = `raw/${name}.bin`;
    const body = awsChunked(pieces, trailer ? [`${trailer}:${crc32(bytes)}`] : [], signed);

    // Act
    const response = await putChunked(`/${BUCKET}/${encodeURIComponent(key)}`, body, bytes.length, {
      "x-amz-content-sha256": payload,
      ...(trailer && { "x-amz-trailer": trailer }),
    });

    // Assess
    expect(response.status).toBe(200);
    expect(response.headers.etag).toBe(`"${md5Hex(bytes)}"`);
    expect((await stored(key)).equals(bytes)).toBe(true);
  });

  it.each([
    [
      "a trailer whose CRC32 is another",
      [`x-amz-checksum-crc32:${crc32(Buffer.from("other bytes"))}`],
      bytes.length,
      pieces,
      400,
      "BadDigest",
      "The CRC32 you specified did not match the calculated checksum.",
    ],
    ["no trailer where one was announced", [], bytes.length, pieces, 400, "MalformedTrailerError", undefined],
    [
      "a trailer that is no CRC32",
      ["x-amz-checksum-crc32:not base64"],
      bytes.length,
      pieces,
      400,
      "InvalidRequest",
      undefined,
    ],
    [
      "a decoded length that is another",
      [`x-amz-checksum-crc32:${crc32(bytes)}`],
      bytes.length + 1,
      pieces,
      400,
      "IncompleteBody",
      undefined,
    ],
  ] as const)(
    "refuses a body with %s and stores nothing",
    async (name, trailers, decoded, parts, status, code, message) => {
      const key = `refused/${name}.bin`;
      const response = await putChunked(
        `/${BUCKET}/${encodeURIComponent(key)}`,
        awsChunked([...parts], [...trailers], false),
        decoded,
        {
          "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
          "x-amz-trailer": "x-amz-checksum-crc32",
        },
      );
      expect(response.status).toBe(status);
      expect(response.body).toContain(`<Code>${code}</Code>`);
      if (message) expect(response.body).toContain(`<Message>${message}</Message>`);
      expect(await exists(key)).toBe(false);
    },
  );

  it.each([
    ["a chunk size that is no number", Buffer.from("zz\r\nhello\r\n0\r\n\r\n"), "InvalidRequest"],
    ["a chunk without its CRLF", Buffer.from("5\r\nhelloX0\r\n\r\n"), "InvalidRequest"],
    ["a body cut inside a chunk", Buffer.from("a\r\nhello"), "IncompleteBody"],
    ["a body cut before the last chunk", Buffer.from("5\r\nhello\r\n"), "IncompleteBody"],
  ])("refuses %s and stores nothing", async (name, body, code) => {
    const key = `malformed/${name}.bin`;
    const response = await putChunked(`/${BUCKET}/${encodeURIComponent(key)}`, body, 5, {
      "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD",
    });
    expect(response.status).toBe(400);
    expect(response.body).toContain(`<Code>${code}</Code>`);
    expect(await exists(key)).toBe(false);
  });
});

/**
 * Sends `requests`, each whole, one after the other on one connection and
 * gives back the status of each answer received within two seconds.
 */
async function statusesOnOneConnection(requests: Buffer[]): Promise<number[]> {
  const socket = connect(port(), "127.0.0.1");
  let received = "";
  socket.on("data", (data: Buffer) => {
    received += data.toString("latin1");
  });
  const statuses = () => [...received.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((match) => Number(match[1]));
  try {
    for (const request of requests) await new Promise((resolve) => socket.write(request, resolve));
    const deadline = Date.now() + 2000;
    while (statuses().length < requests.length && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 20));
    return statuses();
  } finally {
    socket.destroy();
  }
}

describe("aws-chunked bodies refused mid-body", () => {
  it("reads the rest of the body past, so its connection answers the next request", async () => {
    // Prepare: framing that is wrong from its first line, then 200 kB more of the body.
    const body = Buffer.concat([Buffer.from("zz\r\n"), randomBytes(200_000)]);
    const put = Buffer.concat([
      Buffer.from(
        `PUT /${BUCKET}/malformed/kept-alive.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
          "Content-Encoding: aws-chunked\r\nx-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD\r\n" +
          `x-amz-decoded-content-length: 5\r\nContent-Length: ${body.length}\r\n\r\n`,
      ),
      body,
    ]);
    const list = Buffer.from(`GET /${BUCKET}?list-type=2 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);

    // Act
    const statuses = await statusesOnOneConnection([put, list]);

    // Assess
    expect(statuses).toEqual([400, 200]);
    expect(await exists("malformed/kept-alive.bin")).toBe(false);
  });
});

describe("checksum headers", () => {
  it("refuses a PutObject whose x-amz-checksum-crc32 is not its bytes', and keeps the object", async () => {
    // Prepare
    const key = "header/kept.txt";
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: "first" }));

    // Act
    const refused = client.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: key,
        Body: "second",
        ChecksumCRC32: crc32(Buffer.from("other")),
      }),
    );

    // Assess
    await expect(refused).rejects.toMatchObject({
      name: "BadDigest",
      message: "The CRC32 you specified did not match the calculated checksum.",
      $metadata: { httpStatusCode: 400 },
    });
    expect((await stored(key)).toString()).toBe("first");
  });

  it.each([
    ["a CRC32C that is another", { "x-amz-checksum-crc32c": "AAAAAA==" }, "BadDigest"],
    ["a CRC32 that is no CRC32", { "x-amz-checksum-crc32": "AAAA" }, "InvalidRequest"],
    [
      "two checksums",
      {
        "x-amz-checksum-crc32": crc32(Buffer.from("body")),
        "x-amz-checksum-sha1": "AAAAAAAAAAAAAAAAAAAAAAAAAAA=",
      },
      "InvalidRequest",
    ],
  ])("refuses a plain body with %s", async (name, headers, code) => {
    const key = `header/${name}.txt`;
    const response = await rawRequest(
      port(),
      "PUT",
      `/${BUCKET}/${encodeURIComponent(key)}`,
      headers,
      "body",
    );
    expect(response.status).toBe(400);
    expect(response.body).toContain(`<Code>${code}</Code>`);
    expect(await exists(key)).toBe(false);
  });

  it("refuses an UploadPart whose trailer is not its bytes', and keeps the part uploaded before", async () => {
    // Prepare
    const Key = "parts/checked.bin";
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key }));
    const { ETag } = await client.send(
      new UploadPartCommand({ Bucket: BUCKET, Key, UploadId, PartNumber: 1, Body: "first" }),
    );
    const second = Buffer.from("second");

    // Act
    const response = await putChunked(
      `/${BUCKET}/${Key}?partNumber=1&uploadId=${UploadId}`,
      awsChunked([second], [`x-amz-checksum-crc32:${crc32(Buffer.from("other"))}`], false),
      second.length,
      {
        "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        "x-amz-trailer": "x-amz-checksum-crc32",
      },
    );

    // Assess
    expect(response.status).toBe(400);
    expect(response.body).toContain("<Code>BadDigest</Code>");
    const { Parts } = await client.send(new ListPartsCommand({ Bucket: BUCKET, Key, UploadId }));
    expect(Parts?.map((part) => [part.ETag, part.Size])).toEqual([[ETag, 5]]);
    await client.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key, UploadId }));
  });
});
