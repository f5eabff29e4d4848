/**
 * Keys round-trip exactly through the local stack: upload to its S3 →
 * event (URL-encoded by the dispatcher as S3 does) → handler → record, and
 * `store.getObject` and ListObjects give back the very key. Nothing is
 * written outside the data folder, whatever the key looks like.
 */
import { mkdir, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalStack } from "../../src/local/local-stack.js";

const nfc = "café/Ångström.txt".normalize("NFC");
const nfd = nfc.normalize("NFD");
/** Exactly 1,024 UTF-8 bytes, with the given filler between a prefix and a suffix. */
function keyOf(bytes: number, prefix: string, filler: string, suffix: string): string {
  let key = prefix;
  while (Buffer.byteLength(key + filler + suffix) <= bytes) key += filler;
  key += "x".repeat(bytes - Buffer.byteLength(key + suffix));
  return key + suffix;
}

const KEYS: [string, string][] = [
  ["1,024 bytes, no slash", keyOf(1024, "long-", "é", ".txt")],
  ["1,024 bytes, with slashes", keyOf(1024, "long/", "日本語/", ".txt")],
  ["1,024 bytes, one 1,000-byte segment after a slash", keyOf(1024, "deep/a/", "ü", ".bin")],
  ["NFC", nfc],
  ["NFD of the same name (a distinct key)", nfd],
  ["parent-directory segments", "../../escape.txt"],
  ["parent segments in the middle", "a/../../../b/escape.txt"],
  ["double slash", "a//b.txt"],
  ["leading slash", "/rooted.txt"],
  ["dot segment", "./here.txt"],
  ["trailing slash", "folder-marker/"],
  ["only dots", ".."],
  ["newline and tab", "line\nbreak\tand tab.txt"],
  ["NUL byte", "nul\u0000byte.txt"],
  ["plus, percent, space", "a+b %2B 100%.txt"],
  ["percent escape lookalike", "%2e%2e/%2F%00.txt"],
  ["ampersand escape lookalike", "&2e&2e/&~/x.txt"],
  ["backslash traversal", "..\\..\\windows.txt"],
  ["emoji and right-to-left", "📁/שלום ‮txt.exe"],
];

let root: string;
let dataDir: string;
let stack: LocalStack;

beforeAll(async () => {
  // The data folder sits inside an otherwise empty folder, so anything written beside it shows.
  root = await mkdtemp(join(tmpdir(), "catalog-keys-"));
  dataDir = join(root, "data");
  await mkdir(dataDir);
  stack = await LocalStack.start({ dataDir, s3Port: 0, dynamodbPort: 0, logLevel: "SILENT" });
  for (const [, key] of KEYS) {
    await stack.s3Client.send(
      new PutObjectCommand({ Bucket: stack.bucket, Key: key, Body: `body of ${key}` }),
    );
  }
  await stack.dispatcher.idle();
});
afterAll(async () => {
  await stack?.close();
  await rm(root, { recursive: true, force: true });
});

describe("keys round-trip through upload, event, record and query", () => {
  it("the NFC and NFD spellings really are two keys", () => {
    expect(nfc).not.toBe(nfd);
    expect(Buffer.byteLength(KEYS[0]?.[1] ?? "")).toBe(1024);
    expect(Buffer.byteLength(KEYS[1]?.[1] ?? "")).toBe(1024);
  });

  it.each(KEYS)("%s", async (_label, key) => {
    const { record, audit } = await stack.store.getObject(stack.bucket, key);
    expect(record?.key).toBe(key);
    expect(record?.status).toBe("ok");
    expect(record?.size).toBe(Buffer.byteLength(`body of ${key}`));
    expect(audit.map((entry) => [entry.key, entry.outcome])).toEqual([[key, "created"]]);

    const object = await stack.s3Client.send(new GetObjectCommand({ Bucket: stack.bucket, Key: key }));
    expect(await object.Body?.transformToString()).toBe(`body of ${key}`);
  });

  it("ListObjects returns every key exactly as uploaded, and nothing else", async () => {
    const listed: string[] = [];
    let token: string | undefined;
    do {
      const page = await stack.s3Client.send(
        new ListObjectsV2Command({ Bucket: stack.bucket, ...(token && { ContinuationToken: token }) }),
      );
      listed.push(...(page.Contents ?? []).map((object) => object.Key as string));
      token = page.NextContinuationToken;
    } while (token);
    expect(listed.sort()).toEqual(KEYS.map(([, key]) => key).sort());
  });

  it("nothing is written outside the data folder", async () => {
    expect(await readdir(root)).toEqual(["data"]);
    const files = await readdir(dataDir, { recursive: true });
    for (const file of files) expect(relative(dataDir, join(dataDir, file)).startsWith("..")).toBe(false);
    // The object files themselves stay under the bucket's folder.
    const objects = files.filter((file) => String(file).endsWith("._S3rver_object"));
    expect(objects).toHaveLength(KEYS.length);
    for (const file of objects) expect(String(file).startsWith(join("s3", stack.bucket))).toBe(true);
  });
});
