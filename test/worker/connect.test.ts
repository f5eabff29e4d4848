/**
 * Which target and region `catalog worker`'s clients get from its queue URL
 * and flags. A worker reading an Amazon SQS queue in eu-west-1 needs neither
 * CATALOG_TARGET=aws nor --region; an emulator's queue URL keeps the local
 * stack unless the flags say AWS. Regions are read from the clients' own
 * resolved configuration, as the SDK will sign with them.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { CliError } from "../../src/cli/cli-error.js";
import { connectWorker, runWorker, type WorkerFlags } from "../../src/cli/commands/worker-run.js";
import { awsQueueRegion } from "../../src/worker/aws-queue-url.js";

const AWS_QUEUE = "https://sqs.eu-west-1.amazonaws.com/123456789012/catalog-events";
const EMULATOR_QUEUE = "http://127.0.0.1:9324/000000000000/catalog-events";

function workerFlags(overrides: Partial<WorkerFlags>): WorkerFlags {
  return {
    queue: AWS_QUEUE,
    table: "my-catalog",
    concurrency: 1,
    objectConcurrency: 8,
    batchSize: 10,
    waitTime: 20,
    visibilityTimeout: 120,
    thumbnails: true,
    logLevel: "SILENT",
    ...overrides,
  };
}

/** The regions each client will sign with, and the target. */
async function resolved(flags: WorkerFlags, env: NodeJS.ProcessEnv = {}) {
  const connection = connectWorker(flags, env);
  try {
    return {
      mode: connection.target.mode,
      s3: await connection.target.s3.config.region(),
      dynamodb: await connection.target.dynamodb.config.region(),
      sqs: await connection.sqs.config.region(),
    };
  } finally {
    connection.close();
  }
}

beforeEach(() => {
  // The SDK reads the region from the process environment and ~/.aws/config: neither may leak in.
  const empty = mkdtempSync(join(tmpdir(), "worker-connect-"));
  vi.stubEnv("AWS_REGION", undefined);
  vi.stubEnv("AWS_DEFAULT_REGION", undefined);
  vi.stubEnv("AWS_PROFILE", undefined);
  vi.stubEnv("AWS_CONFIG_FILE", join(empty, "config"));
  vi.stubEnv("AWS_SHARED_CREDENTIALS_FILE", join(empty, "credentials"));
});
afterEach(() => {
  vi.unstubAllEnvs();
});

describe("a queue URL on Amazon SQS", () => {
  it("gives its region to SQS, S3 and DynamoDB when CATALOG_TARGET=aws names no region", async () => {
    expect(await resolved(workerFlags({}), { CATALOG_TARGET: "aws" })).toEqual({
      mode: "aws",
      s3: "eu-west-1",
      dynamodb: "eu-west-1",
      sqs: "eu-west-1",
    });
  });

  it("targets AWS by itself, without CATALOG_TARGET, --profile or --region", async () => {
    expect(await resolved(workerFlags({}))).toEqual({
      mode: "aws",
      s3: "eu-west-1",
      dynamodb: "eu-west-1",
      sqs: "eu-west-1",
    });
  });

  it("outweighs AWS_REGION, which may name the host's region rather than the queue's", async () => {
    vi.stubEnv("AWS_REGION", "us-east-1");
    expect(await resolved(workerFlags({}))).toMatchObject({ s3: "eu-west-1", dynamodb: "eu-west-1" });
  });

  it("keeps SQS in the queue's region when --region names another for the table and buckets", async () => {
    expect(await resolved(workerFlags({ region: "us-west-2" }))).toEqual({
      mode: "aws",
      s3: "us-west-2",
      dynamodb: "us-west-2",
      sqs: "eu-west-1",
    });
  });
});

describe("an emulator's queue URL", () => {
  it("keeps the local stack when no flag says AWS", async () => {
    expect((await resolved(workerFlags({ queue: EMULATOR_QUEUE }))).mode).toBe("local");
  });

  it("with CATALOG_TARGET=aws, takes --region for every client", async () => {
    expect(
      await resolved(workerFlags({ queue: EMULATOR_QUEUE, region: "ap-south-1" }), { CATALOG_TARGET: "aws" }),
    ).toEqual({ mode: "aws", s3: "ap-south-1", dynamodb: "ap-south-1", sqs: "ap-south-1" });
  });

  it("with CATALOG_TARGET=aws and no region anywhere, stops at start in one line", async () => {
    vi.stubEnv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE");
    vi.stubEnv("AWS_SECRET_ACCESS_KEY", "secret");
    const started = runWorker(workerFlags({ queue: EMULATOR_QUEUE }), { CATALOG_TARGET: "aws" });
    await expect(started).rejects.toBeInstanceOf(CliError);
    await expect(started).rejects.toThrow(/^no AWS region: pass --region/);
  });
});

describe("awsQueueRegion", () => {
  it.each([
    ["https://sqs.eu-west-1.amazonaws.com/123456789012/q", "eu-west-1"],
    ["https://SQS.EU-WEST-1.AMAZONAWS.COM/123456789012/q", "eu-west-1"],
    ["https://sqs-fips.us-gov-west-1.amazonaws.com/123456789012/q", "us-gov-west-1"],
    ["https://sqs.cn-north-1.amazonaws.com.cn/123456789012/q", "cn-north-1"],
    ["https://ap-southeast-2.queue.amazonaws.com/123456789012/q", "ap-southeast-2"],
    ["https://queue.amazonaws.com/123456789012/q", "us-east-1"],
    ["https://sqs.us-east-2.api.aws/123456789012/q", "us-east-2"],
    ["https://sqs-fips.us-east-1.api.aws/123456789012/q", "us-east-1"],
    ["https://sqs.us-east-2.api.aws.example.org/123456789012/q", undefined],
    ["http://sqs.us-east-1.localhost.localstack.cloud:4566/000000000000/q", undefined],
    ["http://127.0.0.1:9324/000000000000/q", undefined],
    ["https://sqs.eu-west-1.amazonaws.com.example.org/123456789012/q", undefined],
    ["not a url", undefined],
  ])("%s is in %s", (url, region) => {
    expect(awsQueueRegion(url)).toBe(region);
  });
});
