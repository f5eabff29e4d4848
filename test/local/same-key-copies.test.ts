/**
 * CopyObject onto a key that is being read or written at the same time. S3
 * makes a copy atomic, as it does a PUT: a reader sees the whole old object
 * or the whole copy, and the copy's ETag is the MD5 of what it copied.
 * s3rver copied the file in place, outside the key's turn: a HEAD or GET
 * during a copy that replaces metadata (which left no MD5 file) hashed the
 * half-copied file and saved that MD5, which the copy answered and kept, and
 * a PUT racing a copy could leave one object's bytes under the other's ETag.
 */
import { createHash } from "node:crypto";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import {
  CopyObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestS3, type TestS3 } from "../support/servers.js";

let server: TestS3;
let directory: string;
let client: S3Client;

beforeAll(async () => {
  server = await startTestS3("same-key-copies");
  ({ client, dataDirectory: directory } = server);
});
afterAll(() => server?.stop());

const md5 = (bytes: Uint8Array) => createHash("md5").update(bytes).digest("hex");
const put = (Key: string, Body: Buffer) =>
  client.send(new PutObjectCommand({ Bucket: "uploads", Key, Body }));
const head = (Key: string) => client.send(new HeadObjectCommand({ Bucket: "uploads", Key }));
const get = async (Key: string) => {
  const got = await client.send(new GetObjectCommand({ Bucket: "uploads", Key }));
  const body = await (got.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray();
  return { eTag: got.ETag, body };
};

/** Files the server left beside the objects: a copy or PUT writes to one of these, then renames it. */
async function temporaryFiles(): Promise<string[]> {
  const names = await readdir(join(directory, "uploads"), { recursive: true });
  return names.filter((name) => name.endsWith(".tmp"));
}

describe("CopyObject onto an existing key", () => {
  it("shows readers the whole old object or the whole copy, and ends with the copy's ETag", async () => {
    // Bodies of tens of MiB take the copy many writes, and a reader loop issues a request every
    // millisecond or so: readers are all but certain to arrive while the copy is under way.
    const oldBody = Buffer.alloc(24 * 1024 * 1024, "o");
    const newBody = Buffer.alloc(24 * 1024 * 1024 + 1000, "n");
    const tags = { [md5(oldBody)]: "old", [md5(newBody)]: "new" };
    await put("copy-source.bin", newBody);

    for (let round = 0; round < 4; round++) {
      await put("copy-target.bin", oldBody);
      let copying = true;
      const readers = Array.from({ length: 6 }, async (_, index) => {
        while (copying) {
          if (index % 3 === 0) {
            const { eTag, body } = await get("copy-target.bin");
            const whole = tags[md5(body)];
            expect(whole, `round ${round}: a GET returned a whole object`).toBeDefined();
            expect(eTag, `round ${round}: a GET's ETag names its bytes`).toBe(`"${md5(body)}"`);
          } else {
            const { ETag, ContentLength } = await head("copy-target.bin");
            const tag = ETag?.replace(/"/g, "") ?? "";
            expect(tags[tag], `round ${round}: a HEAD's ETag is one whole object's`).toBeDefined();
            expect(ContentLength).toBe(tags[tag] === "old" ? oldBody.length : newBody.length);
          }
        }
      });
      // Readers are under way before the copy is sent and stop only after it is answered.
      await new Promise((resolve) => setTimeout(resolve, 20));
      const copied = await client
        .send(
          new CopyObjectCommand({
            Bucket: "uploads",
            Key: "copy-target.bin",
            CopySource: "uploads/copy-source.bin",
            // A copy that replaces metadata leaves no MD5 file of the source's: the ETag is computed.
            MetadataDirective: round % 2 === 0 ? "REPLACE" : "COPY",
            ContentType: "application/octet-stream",
          }),
        )
        .finally(() => {
          copying = false;
        });
      await Promise.all(readers);

      expect(copied.CopyObjectResult?.ETag, `round ${round}: the copy answers its bytes' ETag`).toBe(
        `"${md5(newBody)}"`,
      );
      expect((await head("copy-target.bin")).ETag, `round ${round}: HEAD after the copy`).toBe(
        `"${md5(newBody)}"`,
      );
      expect(md5((await get("copy-target.bin")).body)).toBe(md5(newBody));
    }
    expect(await temporaryFiles()).toEqual([]);
  }, 120_000);

  it("racing a PUT of the same key, leaves one whole object whose ETag matches its bytes", async () => {
    const copiedBody = Buffer.alloc(8 * 1024 * 1024, "c");
    const putBody = Buffer.alloc(8 * 1024 * 1024 + 500, "p");
    const whole = new Set([md5(copiedBody), md5(putBody)]);
    await put("race-source.bin", copiedBody);

    for (let round = 0; round < 8; round++) {
      await put("race-target.bin", Buffer.from(`before round ${round}`));
      const [copied] = await Promise.all([
        client.send(
          new CopyObjectCommand({
            Bucket: "uploads",
            Key: "race-target.bin",
            CopySource: "uploads/race-source.bin",
            MetadataDirective: round % 2 === 0 ? "REPLACE" : "COPY",
            ContentType: "application/octet-stream",
          }),
        ),
        put("race-target.bin", putBody),
      ]);
      const { eTag, body } = await get("race-target.bin");
      const stored = md5(body);

      expect(whole.has(stored), `round ${round}: the stored bytes are the copy's or the PUT's`).toBe(true);
      expect(eTag, `round ${round}: GET's ETag`).toBe(`"${stored}"`);
      expect((await head("race-target.bin")).ETag, `round ${round}: HEAD's ETag`).toBe(`"${stored}"`);
      expect(copied.CopyObjectResult?.ETag).toBe(`"${md5(copiedBody)}"`);
    }
    expect(await temporaryFiles()).toEqual([]);
  }, 120_000);
});
