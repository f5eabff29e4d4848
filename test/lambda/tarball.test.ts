/**
 * A tarball through the Lambda handler and the embedded S3 and DynamoDB
 * servers: its entries are counted whole whether the object is fetched in
 * one GET (the policy hashes it) or read by ranged GETs as it inflates. A
 * plain tar fetched whole is counted whole too; read by ranges, its header
 * walk stops after 768 KiB of reads (a GET per header) and extrapolates.
 */
import { randomBytes } from "node:crypto";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toS3Notification } from "../../src/events/s3-event.js";
import { DEFAULT_POLICY } from "../../src/policy/policy.js";
import { tarEntry, tarOf } from "../support/tar.js";
import { type HandlerStack, startStack, upload } from "./fixtures.js";

let stack: HandlerStack;

beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack.servers.stop());

/** 300 entries of 8 KiB that do not compress: 2.5 MB, its tar headers far past the first MiB. */
const tarball = new Uint8Array(
  gzipSync(
    tarOf(Array.from({ length: 300 }, (_, i) => tarEntry(`logs/day-${i}.bin`, 8192, randomBytes(8192)))),
  ),
);

describe("a tarball through the handler", () => {
  it.each([
    ["fetched whole, as the policy hashes it", DEFAULT_POLICY, "whole.tar.gz"],
    ["read by ranges as it inflates", { ...DEFAULT_POLICY, hashMaxBytes: 1 }, "ranged.tar.gz"],
  ])("has every entry counted when %s", async (_, policy, name) => {
    // Arrange
    const event = await upload(stack, `archives/${name}`, tarball);

    // Act
    await stack.handler({ policy, thumbnails: false })(toS3Notification([event]));

    // Assess
    const { record } = await stack.store.getObject(stack.bucket, event.key);
    expect(record?.status).toBe("ok");
    expect(record?.archive).toMatchObject({ kind: "gzip", entries: 300, nestedArchives: 0 });
    expect(record?.archive).not.toHaveProperty("estimated");
    expect(record?.archive?.sample?.[0]).toBe("logs/day-0.bin");
    expect(record?.bytesRead).toBeGreaterThanOrEqual(tarball.byteLength);
  });
});

describe("a plain tar through the handler", () => {
  /** 2,000 entries of 4 KiB: 9 MB, a header every 4.5 KiB. */
  const tar = tarOf(Array.from({ length: 2000 }, (_, i) => tarEntry(`logs/day-${i}.log`, 4096)));

  it("has every entry counted when fetched whole, as the policy hashes it", async () => {
    // Arrange
    const event = await upload(stack, "archives/whole.tar", tar);

    // Act
    await stack.handler({ policy: DEFAULT_POLICY, thumbnails: false })(toS3Notification([event]));

    // Assess
    const { record } = await stack.store.getObject(stack.bucket, event.key);
    expect(record?.status).toBe("ok");
    expect(record?.archive).toMatchObject({ kind: "tar", entries: 2000, uncompressedSize: 2000 * 4096 });
    expect(record?.archive).not.toHaveProperty("estimated");
    expect(record?.warnings ?? []).toEqual([]);
  });

  it("has its entries extrapolated when read by ranges, its reads bounded", async () => {
    // Arrange
    const event = await upload(stack, "archives/ranged.tar", tar);

    // Act
    await stack.handler({ policy: { ...DEFAULT_POLICY, hashMaxBytes: 1 }, thumbnails: false })(
      toS3Notification([event]),
    );

    // Assess
    const { record } = await stack.store.getObject(stack.bucket, event.key);
    expect(record?.status).toBe("ok");
    expect(record?.archive?.estimated).toBe(true);
    expect(record?.archive?.entries).toBeGreaterThan(1800);
    expect(record?.archive?.entries).toBeLessThan(2200);
    expect(record?.bytesRead).toBeLessThan(2 * 1024 * 1024);
  });
});
