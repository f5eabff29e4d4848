/**
 * Embedded S3 (s3rver) and DynamoDB (dynalite) servers for integration tests:
 * the very servers the local stack runs (src/local/embedded-*.ts), as real
 * HTTP protocol servers on 127.0.0.1, random ports, inside the vitest
 * process, with SDK v3 clients already pointed at them.
 *
 * Behaviour measured with s3rver 3.7.1, dynalite 4.0.0 and AWS SDK v3
 * (test/s3/servers.test.ts pins each point below, so an upgrade that changes
 * one fails loudly):
 *
 * s3rver
 * - PutObject, GetObject with `Range: bytes=a-b`, HeadObject, ListObjectsV2,
 *   DeleteObject, Get/PutObjectTagging work; keys with space, `+`, `%` and
 *   unicode round-trip through the SDK unchanged.
 * - A missing key is 404: GetObject throws `NoSuchKey`, HeadObject throws
 *   `NotFound` (a HEAD response has no body, so the SDK names it by status).
 * - Raw s3rver ignores `If-Match` and `If-Unmodified-Since` on GET and HEAD;
 *   EmbeddedS3 answers 412 as S3 does. It ignores `versionId` (no
 *   versioning). S3ByteSource also compares the ETag each response carries
 *   with the pinned one, for emulators that ignore `If-Match`.
 * - `Range: bytes=0-0` returns the whole object (its store reads `end || Infinity`),
 *   so never ask it for a one-byte range at offset 0 and expect one byte.
 * - Objects live as files named after the key, so raw s3rver writes `../x`
 *   outside its folder, collapses `a//b` onto `a/b`, and crashes on a key
 *   segment over the 255-byte file-name limit; EmbeddedS3 stores keys under
 *   an encoding that avoids all three (src/local/key-path.ts), so keys of
 *   1,024 bytes work with or without slashes. Raw s3rver stores longer keys
 *   too; EmbeddedS3 refuses a write to one with KeyTooLongError, as S3 does.
 * - It emits S3-shaped events (`server.on("event")`) but with the key NOT
 *   URL-encoded, unlike S3; build events with `toS3Notification` instead.
 * - It does not check flexible checksums and stores `aws-chunked` bodies
 *   with their framing inside; EmbeddedS3 decodes them and checks every
 *   declared checksum (test/local/flexible-checksums.test.ts).
 *   Reads, HeadObject with ChecksumMode and PutObjectTagging also work from
 *   a client with the SDK's default checksum settings; streamed uploads do not.
 * - Raw s3rver ignores the `x-amz-tagging` header of PutObject and keeps tags
 *   by key, so an object put over a tagged one, or after a delete, had the old
 *   one's tags; EmbeddedS3 gives each new object the tags its request asked
 *   for, as S3 does (test/local/object-tags.test.ts).
 * - Bucket names need 3-63 characters, as on S3; objects put without a
 *   Content-Type come back as `application/octet-stream`.
 * - Raw s3rver gives a multipart object the MD5 of its whole content, decodes
 *   `x-amz-copy-source` with decodeURI (a key with `+` is then not found) and
 *   has no UploadPartCopy; EmbeddedS3 gives S3's `<md5 of part MD5s>-<parts>`
 *   ETag, decodes copy sources as S3 does and copies parts
 *   (test/local/multipart-etags.test.ts, copy-source.test.ts).
 * - Raw s3rver refuses AbortMultipartUpload (MethodNotAllowed), has no
 *   ListParts or ListMultipartUploads, and writes a part over the earlier
 *   upload of its number in place; EmbeddedS3 aborts (204, the parts removed,
 *   no event), lists with S3's paging, and stores each part whole or not at
 *   all (test/local/multipart-uploads.test.ts).
 * - Raw s3rver ignores `If-None-Match` and `If-Match` on writes; EmbeddedS3
 *   refuses a PutObject, CopyObject or CompleteMultipartUpload whose
 *   condition does not hold, as S3 does (test/local/write-conditions.test.ts).
 * - Raw s3rver completes uploads with parts under 5 MiB and ignores
 *   Content-MD5; EmbeddedS3 answers EntityTooSmall, and BadDigest or
 *   InvalidDigest (test/local/multipart-etags.test.ts, content-md5.test.ts).
 * - Raw s3rver deletes every key a DeleteObjects names, however many;
 *   EmbeddedS3 refuses more than 1,000 with MalformedXML, as S3 does.
 * - Raw s3rver ignores `partNumber` on GET and HEAD (the whole object, 200);
 *   EmbeddedS3 answers a multipart object's part with its range and parts
 *   count, and an object stored whole as part 1 (test/local/part-numbers.test.ts).
 * - Raw s3rver and dynalite answer any Host and any web page (dynalite checks
 *   no signature); EmbeddedS3 and EmbeddedDynamoDb refuse non-loopback Hosts
 *   and cross-site requests (src/local/loopback-guard.ts).
 *
 * dynalite
 * - In memory unless given a path. Enforces DynamoDB's validation (attribute
 *   names used in expressions that are reserved words need
 *   ExpressionAttributeNames; table names of 3+ characters).
 * - Conditional writes fail with `ConditionalCheckFailedException`, but
 *   `ReturnValuesOnConditionCheckFailure: "ALL_OLD"` is ignored: the error
 *   carries no `Item` (real DynamoDB returns it). Read the item again instead.
 * - No TransactWriteItems / TransactGetItems and no UpdateTimeToLive: they
 *   fail with `UnknownOperationException` (400). Write the record and its
 *   audit entry as two conditional writes, and treat TTL as deploy-time only.
 * - GSIs are created with the table and queried like real DynamoDB; items
 *   without the index key are left out (sparse indexes work).
 * - Tables spend `createTableMs` in CREATING; set to 0 here so a test can
 *   write right after CreateTable.
 *
 * @example
 * let servers: TestServers;
 * beforeAll(async () => { servers = await startServers(); });
 * afterAll(() => servers.stop());
 * await servers.s3.send(new CreateBucketCommand({ Bucket: "uploads" }));
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import { EmbeddedDynamoDb } from "../../src/local/embedded-dynamodb.js";
import { EmbeddedS3 } from "../../src/local/embedded-s3.js";

/** Running servers and clients configured for them. */
export interface TestServers {
  /** `http://127.0.0.1:<port>` of the S3 server. */
  s3Endpoint: string;
  /** `http://127.0.0.1:<port>` of the DynamoDB server. */
  dynamodbEndpoint: string;
  s3: S3Client;
  dynamodb: DynamoDBClient;
  /** Destroys the clients, closes both servers and removes s3rver's directory. */
  stop(): Promise<void>;
}

/** Region and credentials the emulators accept; s3rver's built-in key pair is S3RVER/S3RVER. */
export const TEST_REGION = "us-east-1";
export const TEST_CREDENTIALS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };

/**
 * Starts both servers on free ports and returns clients bound to them.
 *
 * @example
 * const servers = await startServers();
 * try { ... } finally { await servers.stop(); }
 */
export async function startServers(): Promise<TestServers> {
  const directory = await mkdtemp(join(tmpdir(), "catalog-s3rver-"));
  const s3Server = await EmbeddedS3.start({ port: 0, directory });
  const dynamoServer = await EmbeddedDynamoDb.start({ port: 0 });
  const s3Endpoint = s3Server.endpoint;
  const dynamodbEndpoint = dynamoServer.endpoint;
  const s3 = new S3Client({
    region: TEST_REGION,
    endpoint: s3Endpoint,
    credentials: TEST_CREDENTIALS,
    forcePathStyle: true,
  });
  const dynamodb = new DynamoDBClient({
    region: TEST_REGION,
    endpoint: dynamodbEndpoint,
    credentials: TEST_CREDENTIALS,
  });

  return {
    s3Endpoint,
    dynamodbEndpoint,
    s3,
    dynamodb,
    async stop() {
      s3.destroy();
      dynamodb.destroy();
      await Promise.all([s3Server.close(), dynamoServer.close()]);
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/** An embedded S3 server of its own with the bucket `uploads`, for tests of the server itself. */
export interface TestS3 {
  s3: EmbeddedS3;
  client: S3Client;
  /** A temporary folder of the test's; the server keeps its data in `dataDirectory` inside it. */
  directory: string;
  dataDirectory: string;
  /** Destroys the client, closes the server and removes `directory`. */
  stop(): Promise<void>;
}

/**
 * Starts an embedded S3 server on a free port, in a new temporary folder
 * named after `name`, with a client pointed at it.
 *
 * @example
 * const { client, stop } = await startTestS3("copies");
 * try { ... } finally { await stop(); }
 */
export async function startTestS3(name: string): Promise<TestS3> {
  const directory = await mkdtemp(join(tmpdir(), `catalog-${name}-`));
  const dataDirectory = join(directory, "s3");
  const s3 = await EmbeddedS3.start({ port: 0, directory: dataDirectory, buckets: ["uploads"] });
  const client = testS3Client(s3.endpoint);
  return {
    s3,
    client,
    directory,
    dataDirectory,
    async stop() {
      client.destroy();
      await s3.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/** An SDK client for an embedded S3 server at `endpoint` (path-style, its credentials, no flexible checksums). */
export function testS3Client(endpoint: string): S3Client {
  return new S3Client({
    region: TEST_REGION,
    endpoint,
    credentials: TEST_CREDENTIALS,
    forcePathStyle: true,
  });
}
