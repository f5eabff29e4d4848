/**
 * s3rver keeps each bucket in the folder of its name, so a name that is a
 * path (`..`, `..%2Fdir`) would reach folders outside the server's own. Every
 * such request is sent here over real HTTP, unsigned as s3rver allows, next
 * to a folder it must not touch.
 */
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CreateBucketCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rawRequest } from "../support/raw-http.js";
import { startTestS3, type TestS3 } from "../support/servers.js";

let s3: TestS3;
let port: number;
/** A folder beside the server's data folder: `../victim` from it. */
let victim: string;

beforeAll(async () => {
  s3 = await startTestS3("bucket-names");
  port = Number(new URL(s3.s3.endpoint).port);
  victim = join(s3.directory, "victim");
  await mkdir(join(victim, "sub"), { recursive: true });
  await writeFile(join(victim, "sub", "data.txt"), "precious");
  await s3.client.send(new PutObjectCommand({ Bucket: "uploads", Key: "kept.txt", Body: "kept" }));
});
afterAll(async () => {
  await s3?.stop();
});

const victimUntouched = async () => {
  expect(await readdir(victim, { recursive: true })).toEqual(["sub", join("sub", "data.txt")]);
  expect(await readFile(join(victim, "sub", "data.txt"), "utf8")).toBe("precious");
};

describe("a bucket name that is a path", () => {
  it.each([
    ["DELETE", "/..%2Fvictim"],
    ["DELETE", "/%2E%2E%2Fvictim"],
    ["PUT", "/..%2Fvictim/evil.sh"],
    ["PUT", "/..%2Fvictim"],
    ["GET", "/..%2Fvictim"],
    ["GET", "/..%2Fvictim/sub/data.txt"],
    ["POST", "/..%2Fvictim?delete"],
  ])("%s %s is InvalidBucketName, and the folder is untouched", async (method, path) => {
    const answer = await rawRequest(port, method, path, {}, method === "PUT" ? "owned" : undefined);
    expect(answer.status).toBe(400);
    expect(answer.body).toContain("<Code>InvalidBucketName</Code>");
    await victimUntouched();
  });

  it("a bucket of '..' or '.' is refused, so neither the data folder nor its parent is reached", async () => {
    for (const [method, path] of [
      ["PUT", "/../escape.txt"],
      ["PUT", "/.."],
      ["DELETE", "/."],
    ] as const) {
      const answer = await rawRequest(port, method, path, {}, method === "PUT" ? "x" : undefined);
      expect(answer.status).toBe(400);
      expect(answer.body).toContain("<Code>InvalidBucketName</Code>");
    }
    expect((await readdir(s3.directory)).sort()).toEqual(["s3", "victim"]);
    expect(existsSync(join(s3.dataDirectory, "uploads"))).toBe(true);
  });

  it("a copy from a bucket that is a path is refused", async () => {
    const answer = await rawRequest(port, "PUT", "/uploads/copied.txt", {
      "x-amz-copy-source": "/..%2Fvictim/sub/data.txt",
    });
    expect(answer.status).toBe(400);
    expect(answer.body).toContain("<Code>InvalidBucketName</Code>");
    await victimUntouched();
  });
});

describe("names S3 refuses", () => {
  it("a bucket S3 could not create is not created here either", async () => {
    await expect(s3.client.send(new CreateBucketCommand({ Bucket: "bad_bucket" }))).rejects.toMatchObject({
      name: "InvalidBucketName",
    });
    expect(existsSync(join(s3.dataDirectory, "bad_bucket"))).toBe(false);
  });

  it("a well-named bucket is served as before", async () => {
    const answer = await rawRequest(port, "GET", "/uploads/kept.txt", {});
    expect(answer.status).toBe(200);
    expect(answer.body).toBe("kept");
  });
});
