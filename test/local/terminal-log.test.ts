/**
 * `catalog dev` end to end: an object whose key holds characters a terminal
 * acts on is uploaded to the embedded S3 server, cataloged by the handler, and
 * the handler's log line for it reaches stdout escaped, parsing to the key.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { LocalStack } from "../../src/local/local-stack.js";

let stack: LocalStack;
let dataDir: string;

beforeAll(async () => {
  vi.stubEnv("POWERTOOLS_METRICS_DISABLED", "true");
  vi.stubEnv("POWERTOOLS_DEV", "");
  dataDir = await mkdtemp(join(tmpdir(), "catalog-terminal-log-"));
  stack = await LocalStack.start({
    s3Port: 0,
    dynamodbPort: 0,
    dataDir,
    logLevel: "INFO",
    thumbnails: false,
    retryBackoffMs: [10, 10],
  });
});
afterAll(async () => {
  await stack.close();
  await rm(dataDir, { recursive: true, force: true });
  vi.unstubAllEnvs();
});

describe("catalog dev log lines", () => {
  it("print an uploaded key's CSI, RLO, zero-width space and DEL escaped", async () => {
    const key = "inbox/\u009b2Jinvoice\u202egpj.exe\u200bx\u007f.txt";
    const printed: string[] = [];
    const stdout = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
      printed.push(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"));
      return true;
    });
    try {
      await stack.s3Client.send(
        new PutObjectCommand({ Bucket: stack.bucket, Key: key, Body: "hello", ContentType: "text/plain" }),
      );
      await stack.dispatcher.idle();
    } finally {
      stdout.mockRestore();
    }

    const lines = printed.join("").split("\n");
    const processed = lines.filter((line) => line.includes('"message":"object processed"'));
    expect(processed).toHaveLength(1);
    const [line] = processed as [string];
    expect(line).not.toMatch(/[\u007f-\u009f\u200b\u202e]/);
    expect(line).toContain("inbox/\\u009b2Jinvoice\\u202egpj.exe\\u200bx\\u007f.txt");
    expect(JSON.parse(line)).toMatchObject({ key, status: "ok" });
  });
});
