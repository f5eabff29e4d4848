/**
 * The local stack end to end: an image uploaded to the embedded S3 server is
 * cataloged once, its thumbnail lands under the derived prefix, and that
 * write (which s3rver announces like any other) never comes back as an event.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DeliveryOutcome } from "../../src/local/dispatcher.js";
import { LocalStack } from "../../src/local/local-stack.js";
import { DEFAULT_POLICY } from "../../src/policy/policy.js";
import { corpusFile } from "../support/corpus.js";

let stack: LocalStack;
let dataDir: string;
const deliveries: DeliveryOutcome[] = [];

beforeAll(async () => {
  process.env.POWERTOOLS_METRICS_DISABLED = "true";
  dataDir = await mkdtemp(join(tmpdir(), "catalog-thumbnails-"));
  stack = await LocalStack.start({
    s3Port: 0,
    dynamodbPort: 0,
    dataDir,
    logLevel: "SILENT",
    retryBackoffMs: [10, 10],
    // A declared type that contradicts the content is rejected: how an image comes to be rejected below.
    policy: { ...DEFAULT_POLICY, onMismatch: "reject" },
    onDelivery: (outcome) => deliveries.push(outcome),
  });
});
afterAll(async () => {
  await stack.close();
  await rm(dataDir, { recursive: true, force: true });
});

async function keysUnder(prefix: string): Promise<string[]> {
  const listing = await stack.s3Client.send(
    new ListObjectsV2Command({ Bucket: stack.bucket, Prefix: prefix }),
  );
  return (listing.Contents ?? []).map((object) => object.Key as string);
}

describe("local stack thumbnails", () => {
  it("one upload: one delivery, one record, one thumbnail, no record for the thumbnail", async () => {
    const key = "camera/portrait.jpg";
    await stack.s3Client.send(
      new PutObjectCommand({
        Bucket: stack.bucket,
        Key: key,
        Body: await readFile(corpusFile("exifpy-portrait_6.jpg")),
        ContentType: "image/jpeg",
      }),
    );
    await stack.dispatcher.idle();
    // The thumbnail's PUT raised an s3rver event too; give it the same chance to (wrongly) arrive.
    await new Promise((resolve) => setTimeout(resolve, 200));
    await stack.dispatcher.idle();

    expect(deliveries.map((delivery) => delivery.event.key)).toEqual([key]);
    const derived = `${stack.derivedPrefix}thumbnails/${key}.webp`;
    expect(await keysUnder(stack.derivedPrefix)).toEqual([derived]);

    const { record } = await stack.store.getObject(stack.bucket, key);
    expect(record).toMatchObject({
      status: "ok",
      thumbnailKey: derived,
      thumbnailWidth: 192,
      thumbnailHeight: 256,
    });
    const body = await stack.s3Client.send(new GetObjectCommand({ Bucket: stack.bucket, Key: derived }));
    const metadata = await sharp(await body.Body?.transformToByteArray()).metadata();
    expect([metadata.format, metadata.width, metadata.height]).toEqual(["webp", 192, 256]);

    expect((await stack.store.getObject(stack.bucket, derived)).record).toBeUndefined();
    expect((await stack.store.listFolder(stack.bucket, "camera/")).items.map((item) => item.key)).toEqual([
      key,
    ]);
    expect(
      (await stack.store.listFolder(stack.bucket, `${stack.derivedPrefix}thumbnails/camera/`)).items,
    ).toEqual([]);
  });

  it("deleting the upload deletes its thumbnail, and that delete raises nothing either", async () => {
    const key = "camera/portrait.jpg";
    const before = deliveries.length;
    await stack.s3Client.send(new DeleteObjectCommand({ Bucket: stack.bucket, Key: key }));
    await stack.dispatcher.idle();
    await new Promise((resolve) => setTimeout(resolve, 200));
    await stack.dispatcher.idle();

    expect(deliveries.slice(before).map((delivery) => [delivery.event.kind, delivery.event.key])).toEqual([
      ["removed", key],
    ]);
    expect((await stack.store.getObject(stack.bucket, key)).record?.status).toBe("deleted");
    expect(await keysUnder(stack.derivedPrefix)).toEqual([]);
  });

  it.each([
    ["content that is no image", "plain words", "ok"],
    ["an image the policy rejects", "exifpy-portrait_6.jpg", "rejected"],
  ])("an image put over by %s loses its thumbnail", async (_, replacement, status) => {
    // Prepare: no extension in the key, so only the declared type can contradict the content.
    const key = `camera/replaced-by-${status}`;
    const derived = `${stack.derivedPrefix}thumbnails/${key}.webp`;
    await stack.s3Client.send(
      new PutObjectCommand({
        Bucket: stack.bucket,
        Key: key,
        Body: await readFile(corpusFile("exifpy-portrait_6.jpg")),
        ContentType: "image/jpeg",
      }),
    );
    await stack.dispatcher.idle();
    expect(await keysUnder(derived)).toEqual([derived]);
    // Act
    const Body = status === "ok" ? replacement : await readFile(corpusFile(replacement));
    await stack.s3Client.send(
      new PutObjectCommand({ Bucket: stack.bucket, Key: key, Body, ContentType: "text/plain" }),
    );
    await stack.dispatcher.idle();
    // Assess
    const { record } = await stack.store.getObject(stack.bucket, key);
    expect(record).toMatchObject({ status });
    expect(record?.thumbnailKey).toBeUndefined();
    expect(await keysUnder(derived)).toEqual([]);
  });
});
