/**
 * Embedded S3 (s3rver) and DynamoDB (dynalite) servers for integration tests:
 * real HTTP protocol servers on 127.0.0.1, random ports, inside the vitest
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
 * - It ignores `If-Match` on GET and HEAD (no 412; only If-None-Match and
 *   If-Modified-Since are implemented) and ignores `versionId` (no
 *   versioning). S3ByteSource therefore also compares the ETag each response
 *   carries with the pinned one; that is what detects an overwrite here.
 * - `Range: bytes=0-0` returns the whole object (its store reads `end || Infinity`),
 *   so never ask it for a one-byte range at offset 0 and expect one byte.
 * - Objects live as files named after the key (plus a 22-byte suffix), so a
 *   key segment (between slashes) over 233 UTF-8 bytes exceeds the file
 *   system's 255-byte name limit. s3rver then crashes the whole process with
 *   an unhandled ENAMETOOLONG stream error; the guard below answers
 *   `KeyTooLongError` (400) instead. Real S3 takes any key up to 1,024 bytes,
 *   so tests of long keys must put slashes in them.
 * - It emits S3-shaped events (`server.on("event")`) but with the key NOT
 *   URL-encoded, unlike S3; build events with `toS3Notification` instead.
 * - It does not send or check flexible checksums: see CHECKSUM_POLICY.
 *   Reads, HeadObject with ChecksumMode and PutObjectTagging also work from
 *   a client with the SDK's default checksum settings; streamed uploads do not.
 * - It ignores the `x-amz-tagging` header of PutObject (no tags are stored);
 *   use PutObjectTagging. Get/PutObjectTagging themselves work.
 * - Bucket names need 3-63 characters, as on S3; objects put without a
 *   Content-Type come back as `application/octet-stream`.
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
import type { Server } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";

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
 * SDK v3 (since early 2025) adds a CRC32/CRC64 checksum to every upload
 * (with `aws-chunked` trailing headers on streams) and validates response
 * checksums. s3rver predates flexible checksums: it neither stores nor
 * returns them, and it does not decode `aws-chunked` bodies, so streamed
 * uploads would be stored with the chunk framing inside. Computing them
 * only when an operation requires it restores the pre-2025 behaviour that
 * s3rver understands; real S3 is unaffected by this choice.
 */
export const CHECKSUM_POLICY = {
  requestChecksumCalculation: "WHEN_REQUIRED",
  responseChecksumValidation: "WHEN_REQUIRED",
} as const;

interface S3rverInstance {
  store: { putObject(object: { key: string }): Promise<unknown> };
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
type S3rverConstructor = new (options: {
  address: string;
  port: number;
  silent: boolean;
  directory: string;
  resetOnClose?: boolean;
}) => S3rverInstance;
type Dynalite = (options: {
  createTableMs?: number;
  deleteTableMs?: number;
  updateTableMs?: number;
}) => Server;

// Both are CommonJS packages without type declarations.
const require = createRequire(import.meta.url);
const S3rver = require("s3rver") as S3rverConstructor;
const dynalite = require("dynalite") as Dynalite;
const S3Error = require("s3rver/lib/models/error.js") as new (code: string, message: string) => Error;

/** Longest key segment s3rver can store: 255-byte file names minus its `._S3rver_metadata.json` suffix. */
export const S3RVER_MAX_SEGMENT_BYTES = 255 - "._S3rver_metadata.json".length;

function guardKeyLength(s3rver: S3rverInstance): void {
  const putObject = s3rver.store.putObject.bind(s3rver.store);
  s3rver.store.putObject = async (object) => {
    const tooLong = object.key
      .split("/")
      .some((segment) => Buffer.byteLength(segment) > S3RVER_MAX_SEGMENT_BYTES);
    if (tooLong) {
      throw new S3Error(
        "KeyTooLongError",
        `s3rver stores keys as file names: a key segment over ${S3RVER_MAX_SEGMENT_BYTES} bytes cannot be stored`,
      );
    }
    return putObject(object);
  };
}

/**
 * Starts both servers on free ports and returns clients bound to them.
 *
 * @example
 * const servers = await startServers();
 * try { ... } finally { await servers.stop(); }
 */
export async function startServers(): Promise<TestServers> {
  const directory = await mkdtemp(join(tmpdir(), "catalog-s3rver-"));
  const s3rver = new S3rver({ address: "127.0.0.1", port: 0, silent: true, directory });
  guardKeyLength(s3rver);
  const s3Address = await s3rver.run();

  const dynamo = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    dynamo.once("error", reject);
    dynamo.listen(0, "127.0.0.1", () => resolve());
  });
  const dynamoAddress = dynamo.address() as AddressInfo;

  const s3Endpoint = `http://127.0.0.1:${s3Address.port}`;
  const dynamodbEndpoint = `http://127.0.0.1:${dynamoAddress.port}`;
  const s3 = new S3Client({
    region: TEST_REGION,
    endpoint: s3Endpoint,
    credentials: TEST_CREDENTIALS,
    forcePathStyle: true,
    ...CHECKSUM_POLICY,
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
      // dynalite's close waits for open connections; keep-alive sockets would hold it.
      dynamo.closeAllConnections?.();
      await Promise.all([
        s3rver.close(),
        new Promise<void>((resolve, reject) => dynamo.close((error) => (error ? reject(error) : resolve()))),
      ]);
      await rm(directory, { recursive: true, force: true });
    },
  };
}
