import { readdir } from "node:fs/promises";
import { join, relative } from "node:path";
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import type { S3Event } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ObjectEvent, parseLambdaEvent } from "../../src/events/s3-event.js";
import { compareSequencers } from "../../src/events/sequencer.js";
import { Dispatcher, readDeadLetters } from "../../src/local/dispatcher.js";
import { type EmbeddedS3, SequencerClock } from "../../src/local/embedded-s3.js";
import { startTestS3, type TestS3 } from "../support/servers.js";

let server: TestS3;
let directory: string;
let s3: EmbeddedS3;
let client: S3Client;
const events: ObjectEvent[] = [];

beforeAll(async () => {
  server = await startTestS3("local");
  ({ s3, client, directory } = server);
  s3.on("object", (event) => events.push(event));
});

afterAll(() => server?.stop());

async function until(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const started = Date.now();
  while (!predicate()) {
    if (Date.now() - started > timeoutMs) throw new Error("timed out waiting");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
}

describe("EmbeddedS3", () => {
  it("listens on the loopback interface only", () => {
    expect(s3.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it("stores keys that look like paths exactly, inside its folder", async () => {
    const keys = [
      "../../escape.txt",
      "a//b",
      "//leading",
      "a/./b",
      "./x",
      "trailing/",
      "x".repeat(1024),
      "sp ace+plus%25/日本.txt",
    ];
    for (const key of keys) {
      await client.send(new PutObjectCommand({ Bucket: "uploads", Key: key, Body: `body of ${key}` }));
    }
    for (const key of keys) {
      const object = await client.send(new GetObjectCommand({ Bucket: "uploads", Key: key }));
      expect(await object.Body?.transformToString()).toBe(`body of ${key}`);
    }
    for (const file of await filesUnder(directory)) {
      expect(relative(join(directory, "s3"), file).startsWith("..")).toBe(false);
    }
    const outside = (await readdir(directory)).filter((name) => name !== "s3");
    expect(outside).toEqual([]);
  });

  it("announces puts, copies and deletes (also multi-object deletes) with real keys and rising sequencers", async () => {
    events.length = 0;
    await client.send(new PutObjectCommand({ Bucket: "uploads", Key: "red flower.jpg", Body: "one" }));
    await client.send(new PutObjectCommand({ Bucket: "uploads", Key: "red flower.jpg", Body: "two" }));
    await client.send(
      new CopyObjectCommand({ Bucket: "uploads", Key: "copy.jpg", CopySource: "uploads/red%20flower.jpg" }),
    );
    await client.send(new DeleteObjectCommand({ Bucket: "uploads", Key: "copy.jpg" }));
    await client.send(
      new DeleteObjectsCommand({ Bucket: "uploads", Delete: { Objects: [{ Key: "red flower.jpg" }] } }),
    );
    await until(() => events.length >= 5);
    expect(events.map((event) => [event.kind, event.eventName, event.key])).toEqual([
      ["created", "ObjectCreated:Put", "red flower.jpg"],
      ["created", "ObjectCreated:Put", "red flower.jpg"],
      ["created", "ObjectCreated:Copy", "copy.jpg"],
      ["removed", "ObjectRemoved:Delete", "copy.jpg"],
      ["removed", "ObjectRemoved:Delete", "red flower.jpg"],
    ]);
    for (let i = 1; i < events.length; i++) {
      expect(compareSequencers(events[i - 1]!.sequencer, events[i]!.sequencer)).toBeLessThan(0);
    }
    expect(events[0]).toMatchObject({ size: 3, sourceIPAddress: "127.0.0.1" });
    expect(events[0]?.eTag).toMatch(/^[0-9a-f]{32}$/);
  });
});

describe("SequencerClock", () => {
  it("never repeats within a millisecond", () => {
    const clock = new SequencerClock();
    const issued = Array.from({ length: 1000 }, () => clock.next());
    for (let i = 1; i < issued.length; i++)
      expect(compareSequencers(issued[i - 1]!, issued[i]!)).toBeLessThan(0);
  });
});

describe("Dispatcher", () => {
  const event = (key: string, sequencer: string): ObjectEvent => ({
    kind: "created",
    eventName: "ObjectCreated:Put",
    bucket: "uploads",
    key,
    size: 1,
    eTag: "0cc175b9c0f1b6a831c399e269772661",
    sequencer,
    eventTime: new Date().toISOString(),
  });

  it("delivers S3-shaped notifications with URL-encoded keys and skips derived prefixes", async () => {
    const delivered: S3Event[] = [];
    const dispatcher = new Dispatcher({
      invoke: async (notification) => {
        delivered.push(notification);
      },
      deadLetterFile: join(directory, "dlq-1.jsonl"),
      excludePrefixes: ["_derived/"],
    });
    dispatcher.enqueue(event("red flower+1.jpg", "01"));
    dispatcher.enqueue(event("_derived/thumbnails/red flower.jpg.webp", "02"));
    await dispatcher.idle();
    expect(delivered).toHaveLength(1);
    expect(delivered[0]?.Records[0]?.s3.object.key).toBe("red+flower%2B1.jpg");
    const parsed = parseLambdaEvent(delivered[0]);
    expect(parsed.source === "s3" && parsed.events[0]?.key).toBe("red flower+1.jpg");
  });

  it("retries twice, then parks the event in the dead-letter file; replay completes it", async () => {
    const file = join(directory, "dlq-2.jsonl");
    let healthy = false;
    let calls = 0;
    const invoke = async () => {
      calls++;
      if (!healthy) throw new Error("ResourceNotFoundException: table is gone");
    };
    const dispatcher = new Dispatcher({ invoke, deadLetterFile: file, backoffMs: [1, 1], concurrency: 2 });
    for (let i = 0; i < 5; i++) dispatcher.enqueue(event(`k${i}`, `0${i}`));
    await dispatcher.idle();
    expect(calls).toBe(15);
    const parked = await readDeadLetters(file);
    expect(parked.map((letter) => letter.event.Records[0]?.s3.object.key).sort()).toEqual([
      "k0",
      "k1",
      "k2",
      "k3",
      "k4",
    ]);
    expect(parked[0]).toMatchObject({ attempts: 3, error: "ResourceNotFoundException: table is gone" });

    healthy = true;
    expect(await dispatcher.replay()).toEqual({ replayed: 5, failed: 0 });
    expect(await readDeadLetters(file)).toEqual([]);
  });

  it("delivers the watched bucket's changes only, and counts another bucket's, said once per bucket", async () => {
    // Prepare: a dispatcher for uploads, fed by the server, and a second bucket beside it.
    const delivered: string[] = [];
    const said: string[] = [];
    const dispatcher = new Dispatcher({
      invoke: async (notification) => {
        const record = notification.Records[0];
        delivered.push(`${record?.s3.bucket.name}/${record?.s3.object.key}`);
      },
      deadLetterFile: join(directory, "dlq-buckets.jsonl"),
      bucket: "uploads",
      onUnwatched: (bucket) => said.push(bucket),
      excludePrefixes: ["_derived/"],
    });
    const listener = (event: ObjectEvent) => dispatcher.enqueue(event);
    s3.on("object", listener);
    try {
      await client.send(new CreateBucketCommand({ Bucket: "legacy-bucket" }));
      // Act: changes in both buckets; a derived file in the other one is no change anyone made.
      for (const key of ["old/a.txt", "old/b.txt", "_derived/thumbnails/old/a.webp"])
        await client.send(new PutObjectCommand({ Bucket: "legacy-bucket", Key: key, Body: key }));
      await client.send(new PutObjectCommand({ Bucket: "uploads", Key: "watched/a.txt", Body: "a" }));
      await dispatcher.idle();
    } finally {
      s3.off("object", listener);
    }
    // Assess
    expect(delivered).toEqual(["uploads/watched/a.txt"]);
    expect(Object.fromEntries(dispatcher.unwatched)).toEqual({ "legacy-bucket": 2 });
    expect(said).toEqual(["legacy-bucket"]);
  });
});
