/**
 * The S3 adapter for derived artefacts against the embedded S3 server, and
 * against the same server behind a proxy that answers conditional requests
 * 501, as S3-compatible stores without them do: what each S3 answer becomes.
 */
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SourceError } from "../../src/engine/index.js";
import { S3DerivedWriter } from "../../src/s3/s3-derived-writer.js";
import { startServers, type TestServers } from "../support/servers.js";
import { startUnconditionalS3, type UnconditionalS3 } from "../support/unconditional-s3.js";

const BUCKET = "derived-writer";
const bytes = (text: string) => new TextEncoder().encode(text);
let servers: TestServers;
let unconditional: UnconditionalS3;
let writer: S3DerivedWriter;

beforeAll(async () => {
  servers = await startServers();
  await servers.s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  unconditional = await startUnconditionalS3(servers.s3Endpoint);
  writer = new S3DerivedWriter(servers.s3);
});
afterAll(async () => {
  await unconditional?.close();
  await servers?.stop();
});

async function read(key: string): Promise<string | undefined> {
  try {
    const got = await servers.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    return await got.Body?.transformToString();
  } catch {
    return undefined;
  }
}

describe("head", () => {
  it("is undefined for a key that holds nothing", async () => {
    expect(await writer.head(BUCKET, "_derived/none.webp")).toBeUndefined();
  });

  it("gives the ETag unquoted, the size and the user metadata", async () => {
    const put = await writer.put(BUCKET, "_derived/a.webp", bytes("abc"), "image/webp", {
      userMetadata: { "event-sequencer": "0A", "source-etag": "e1" },
    });
    expect(put).toEqual({ outcome: "written", eTag: expect.stringMatching(/^[0-9a-f]{32}$/) });
    expect(await writer.head(BUCKET, "_derived/a.webp")).toEqual({
      eTag: put.outcome === "written" ? put.eTag : "",
      size: 3,
      userMetadata: { "event-sequencer": "0A", "source-etag": "e1" },
    });
  });
});

describe("a conditional put", () => {
  it("If-None-Match: * over an object, or If-Match over another, is `changed` and stores nothing", async () => {
    const key = "_derived/b.webp";
    await writer.put(BUCKET, key, bytes("first"), "image/webp");
    expect(
      await writer.put(BUCKET, key, bytes("second"), "image/webp", { precondition: { ifNoneMatch: "*" } }),
    ).toEqual({ outcome: "changed" });
    expect(
      await writer.put(BUCKET, key, bytes("third"), "image/webp", {
        precondition: { ifMatch: "0123456789abcdef0123456789abcdef" },
      }),
    ).toEqual({ outcome: "changed" });
    expect(await read(key)).toBe("first");
  });

  it("If-Match on a key emptied since (404) is `changed` too", async () => {
    expect(
      await writer.put(BUCKET, "_derived/emptied.webp", bytes("x"), "image/webp", {
        precondition: { ifMatch: "0123456789abcdef0123456789abcdef" },
      }),
    ).toEqual({ outcome: "changed" });
    expect(await read("_derived/emptied.webp")).toBeUndefined();
  });

  it("If-Match on the ETag there replaces the object", async () => {
    const key = "_derived/c.webp";
    const first = await writer.put(BUCKET, key, bytes("v1"), "image/webp");
    const eTag = first.outcome === "written" ? (first.eTag as string) : "";
    expect(
      await writer.put(BUCKET, key, bytes("v2"), "image/webp", { precondition: { ifMatch: eTag } }),
    ).toMatchObject({ outcome: "written" });
    expect(await read(key)).toBe("v2");
  });

  it("on a store without conditional writes (501) is `unsupported` and stores nothing", async () => {
    const through = new S3DerivedWriter(unconditional.client);
    expect(
      await through.put(BUCKET, "_derived/d.webp", bytes("x"), "image/webp", {
        precondition: { ifNoneMatch: "*" },
      }),
    ).toEqual({ outcome: "unsupported" });
    expect(await read("_derived/d.webp")).toBeUndefined();
    // The same store takes the plain PUT.
    expect(await through.put(BUCKET, "_derived/d.webp", bytes("x"), "image/webp")).toMatchObject({
      outcome: "written",
    });
  });

  it("any other refusal is a SourceError naming the operation and the key", async () => {
    const refused = await writer
      .put("no-such-bucket", "_derived/e.webp", bytes("x"), "image/webp", {
        precondition: { ifNoneMatch: "*" },
      })
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(SourceError);
    expect((refused as Error).message).toMatch(
      /s3:\/\/no-such-bucket\/_derived\/e\.webp.*PutObject failed: NoSuchBucket/,
    );
  });
});

describe("a conditional delete", () => {
  it("keeps another object (412) and deletes the one named", async () => {
    const key = "_derived/f.webp";
    const first = await writer.put(BUCKET, key, bytes("v1"), "image/webp");
    expect(await writer.delete(BUCKET, key, { ifMatch: "0123456789abcdef0123456789abcdef" })).toBe("kept");
    expect(await writer.delete(BUCKET, key, { ifMatch: first.outcome === "written" ? first.eTag : "" })).toBe(
      "deleted",
    );
    expect(await read(key)).toBeUndefined();
  });

  it("on a store without conditional deletes (501) is `unsupported` and deletes nothing", async () => {
    const key = "_derived/g.webp";
    await servers.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: "v1" }));
    const through = new S3DerivedWriter(unconditional.client);
    const there = await through.head(BUCKET, key);
    expect(await through.delete(BUCKET, key, { ifMatch: there?.eTag as string })).toBe("unsupported");
    expect(await read(key)).toBe("v1");
  });
});
