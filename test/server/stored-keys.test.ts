/**
 * Keys S3 holds that the API would never create (`../x`, `/x`, `a//b`,
 * backslashes, control characters): the pipeline catalogs them like any
 * other, so the read routes must show them, while uploads keep refusing them.
 */
import { readFile } from "node:fs/promises";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { corpusFile } from "../support/corpus.js";
import { type LocalCatalog, startLocalCatalog } from "./local-catalog.js";

const KEYS = [
  "../../api/x.jpg",
  "/leading.jpg",
  "strange//empty-segment.jpg",
  "strange/./dot.jpg",
  "strange/back\\slash.jpg",
  "strange/bell\u0007\u0085.jpg",
];

/** Parsed JSON answers, read field by field in assertions. */
// biome-ignore lint/suspicious/noExplicitAny: responses are checked by the assertions, not by types
type Json = Record<string, any>;

let catalog: LocalCatalog;

async function getJson(
  path: string,
  params: Record<string, string>,
): Promise<{ status: number; body: Json }> {
  const response = await catalog.app.request(`${path}?${new URLSearchParams(params)}`);
  return { status: response.status, body: (await response.json()) as Json };
}

beforeAll(async () => {
  catalog = await startLocalCatalog();
  const jpeg = await readFile(corpusFile("exifpy-DSCN0010.jpg"));
  for (const key of KEYS)
    await catalog.stack.s3Client.send(
      new PutObjectCommand({ Bucket: catalog.stack.bucket, Key: key, Body: jpeg }),
    );
  await catalog.stack.dispatcher.idle();
});

afterAll(() => catalog?.close());

describe("keys S3 holds that the API would not create", () => {
  it.each(KEYS)("shows %j: its record, its folder's listing and its thumbnail", async (key) => {
    const object = await getJson("/api/object", { key });
    expect(object.status).toBe(200);
    expect(object.body.record.key).toBe(key);

    const folder = await getJson("/api/folder", { prefix: key.slice(0, key.lastIndexOf("/") + 1) });
    expect(folder.status).toBe(200);
    expect(folder.body.items.map((item: { key: string }) => item.key)).toContain(key);

    expect(object.body.record.thumbnailKey).toBeDefined();
    const thumbnail = await catalog.app.request(`/api/thumbnail?${new URLSearchParams({ key })}`);
    expect(thumbnail.status).toBe(200);
    expect(thumbnail.headers.get("content-type")).toBe("image/webp");
  });

  it("lists the folders those keys make, and each one opens", async () => {
    const root = await getJson("/api/folder", {});
    expect(root.body.folders).toEqual(expect.arrayContaining(["../", "/"]));
    const strange = await getJson("/api/folder", { prefix: "strange/" });
    expect(strange.body.folders).toEqual(expect.arrayContaining(["strange//", "strange/./"]));
    for (const prefix of ["../", "/", "strange//", "strange/./"]) {
      const folder = await getJson("/api/folder", { prefix });
      expect(folder.status, prefix).toBe(200);
    }
  });

  it.each([
    ["../up/", "'..'"],
    ["strange/./", "'..'"],
    ["/abs/", "must not start with '/'"],
    ["strange//", "empty path segments"],
    ["back\\slash/", "must not contain '\\'"],
    ["bell\u0085/", "control characters"],
    ["over\u202Eride/", "bidirectional controls"],
    ["pay\u200Bpal/", "invisible characters"],
    ["line\u2028break/", "invisible characters"],
    ["soft\u00ADhyphen/", "invisible characters"],
    ["pay\u200Dpal/", "invisible characters"],
    ["end\u200C/", "invisible characters"],
    ["cgj\u034Fx/", "invisible characters"],
    ["filler\u3164/", "invisible characters"],
  ])("still refuses to upload under the prefix %j", async (prefix, message) => {
    const form = new FormData();
    form.append("file", new Blob(["x"]), "x.txt");
    const response = await catalog.app.request(`/api/upload?${new URLSearchParams({ prefix })}`, {
      method: "POST",
      body: form,
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as Json).error).toContain(message);
  });
});
