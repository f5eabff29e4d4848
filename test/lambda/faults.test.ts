/**
 * Faults the embedded servers cannot produce (throttling, S3 asking to slow
 * down) are injected into real SDK clients with a middleware that fails
 * matching requests before they are sent; everything else still goes to the
 * servers over HTTP.
 */

import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import { DynamoDBClient, ProvisionedThroughputExceededException } from "@aws-sdk/client-dynamodb";
import { S3Client, S3ServiceException } from "@aws-sdk/client-s3";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { toS3Notification } from "../../src/events/s3-event.js";
import { InvocationFaultError } from "../../src/lambda/handler.js";
import { TEST_CREDENTIALS, TEST_REGION } from "../support/servers.js";
import { type HandlerStack, notificationBody, sqsBatch, startStack, upload } from "./fixtures.js";

let stack: HandlerStack;

beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack.servers.stop());
afterEach(() => {
  vi.restoreAllMocks();
  process.env.POWERTOOLS_METRICS_DISABLED = "true";
});

/** Throws `fault()` for a request whose input mentions `marker`, while `active.on` is true. */
function injectFault(input: object, marker: string, fault: () => Error, active: { on: boolean }): void {
  if (active.on && JSON.stringify(input).includes(marker)) throw fault();
}

function faultyDynamoDb(marker: string, active: { on: boolean }): DynamoDBClient {
  const client = new DynamoDBClient({
    region: TEST_REGION,
    endpoint: stack.servers.dynamodbEndpoint,
    credentials: TEST_CREDENTIALS,
    maxAttempts: 1,
  });
  const throttle = () =>
    new ProvisionedThroughputExceededException({
      message: "Rate of requests exceeds the allowed throughput.",
      $metadata: {},
    });
  client.middlewareStack.add(
    (next) => async (args) => {
      injectFault(args.input, marker, throttle, active);
      return next(args);
    },
    {
      step: "initialize",
      name: "injectThrottle",
    },
  );
  return client;
}

function faultyS3(marker: string, active: { on: boolean }): S3Client {
  const client = new S3Client({
    region: TEST_REGION,
    endpoint: stack.servers.s3Endpoint,
    credentials: TEST_CREDENTIALS,
    forcePathStyle: true,
    maxAttempts: 1,
  });
  const slowDown = () =>
    new S3ServiceException({
      name: "SlowDown",
      $fault: "server",
      $metadata: { httpStatusCode: 503 },
      message: "Please reduce your request rate.",
    });
  client.middlewareStack.add(
    (next) => async (args) => {
      injectFault(args.input, marker, slowDown, active);
      return next(args);
    },
    {
      step: "initialize",
      name: "injectSlowDown",
    },
  );
  return client;
}

describe("infrastructure faults", () => {
  it("direct: a throttled write fails the invocation after the other objects are done; the retry completes", async () => {
    const active = { on: true };
    const dynamodb = faultyDynamoDb("throttled-write", active);
    const good = await upload(stack, "faults/fine.png", { corpus: "filetype-fixture.png" });
    const bad = await upload(stack, "faults/throttled-write.png", { corpus: "filetype-fixture.png" });
    const handle = stack.handler({ dynamodb });
    const notification = toS3Notification([bad, good]);

    const error = await handle(notification).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvocationFaultError);
    expect((error as InvocationFaultError).failures.map((failure) => failure.key)).toEqual([bad.key]);
    expect((await stack.store.getObject(stack.bucket, good.key)).record?.status).toBe("ok");
    expect((await stack.store.getObject(stack.bucket, bad.key)).record).toBeUndefined();

    active.on = false;
    await expect(handle(notification)).resolves.toBeUndefined();
    const retried = await stack.store.getObject(stack.bucket, bad.key);
    expect(retried.record?.status).toBe("ok");
    expect(retried.audit.map((entry) => [entry.outcome, entry.deliveries])).toEqual([["created", 1]]);
    const other = await stack.store.getObject(stack.bucket, good.key);
    expect(other.audit.map((entry) => [entry.outcome, entry.deliveries])).toEqual([["created", 2]]);
    dynamodb.destroy();
  });

  it("SQS: a message whose object S3 throttles is reported failed, the others are not", async () => {
    const active = { on: true };
    const s3 = faultyS3("slow-down", active);
    const good = await upload(stack, "faults/sqs-fine.png", { corpus: "filetype-fixture.png" });
    const bad = await upload(stack, "faults/slow-down.png", { corpus: "filetype-fixture.png" });
    const response = await stack.handler({ s3 })(
      sqsBatch([
        { messageId: "m-1", body: notificationBody([good]) },
        { messageId: "m-2", body: notificationBody([bad]) },
      ]),
    );
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: "m-2" }] });
    expect((await stack.store.getObject(stack.bucket, good.key)).record?.status).toBe("ok");
    expect((await stack.store.getObject(stack.bucket, bad.key)).audit).toEqual([]);
    s3.destroy();
  });
});

describe("observability", () => {
  it("logs one structured line per object and publishes EMF metrics by outcome", async () => {
    delete process.env.POWERTOOLS_METRICS_DISABLED;
    const lines: string[] = [];
    vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    const event = await upload(stack, "observed/a.png", { corpus: "filetype-fixture.png" });
    await stack.handler({
      logger: new Logger({ serviceName: "catalog-test", logLevel: "INFO" }),
      metrics: new Metrics({ namespace: "CatalogTest", serviceName: "catalog-test" }),
    })(toS3Notification([event, event]));
    vi.restoreAllMocks();

    const records = lines.flatMap((line) => line.split("\n")).filter((line) => line.startsWith("{"));
    const parsed = records.map((line) => JSON.parse(line) as Record<string, unknown>);
    const objectLines = parsed.filter((line) => line.message === "object processed");
    expect(objectLines).toHaveLength(2);
    expect(objectLines[0]).toMatchObject({ bucket: stack.bucket, key: event.key, level: "INFO" });
    expect(objectLines.map((line) => line.outcome).sort()).toEqual(["created", "duplicate"]);
    for (const line of objectLines) {
      expect(typeof line.bytesRead).toBe("number");
      expect(typeof line.durationMs).toBe("number");
    }
    const emf = parsed.filter((line) => line._aws !== undefined);
    const byOutcome = emf.filter((line) => line.ObjectsProcessed !== undefined);
    expect(byOutcome.map((line) => [line.outcome, line.ObjectsProcessed]).sort()).toEqual([
      ["created", 1],
      ["duplicate", 1],
    ]);
    expect(emf.some((line) => line.BytesRead !== undefined && line.ExtractionDuration !== undefined)).toBe(
      true,
    );
    expect(emf.filter((line) => line.EventsFailed !== undefined)).toEqual([]);
  });

  // A partial batch response is a successful invocation: Lambda's Errors metric does not count what it
  // hands back, so the handler counts it itself, by service, for the stack's EventsFailed alarm.
  it("SQS: messages handed back for retry are counted in EventsFailed, by service", async () => {
    delete process.env.POWERTOOLS_METRICS_DISABLED;
    const active = { on: true };
    const s3 = faultyS3("counted-slow-down", active);
    const good = await upload(stack, "faults/counted-fine.png", { corpus: "filetype-fixture.png" });
    const bad = await upload(stack, "faults/counted-slow-down.png", { corpus: "filetype-fixture.png" });
    const lines: string[] = [];
    vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    const response = await stack.handler({
      s3,
      logger: new Logger({ serviceName: "catalog-test", logLevel: "ERROR" }),
      metrics: new Metrics({ namespace: "CatalogTest", serviceName: "catalog-test" }),
    })(
      sqsBatch([
        { messageId: "m-1", body: notificationBody([good]) },
        { messageId: "m-2", body: notificationBody([bad]) },
        { messageId: "m-3", body: "not an S3 notification" },
      ]),
    );
    vi.restoreAllMocks();
    s3.destroy();

    expect(response?.batchItemFailures.map((item) => item.itemIdentifier)).toEqual(["m-2", "m-3"]);
    const emf = lines
      .flatMap((line) => line.split("\n"))
      .filter((line) => line.startsWith("{"))
      .map(
        (line) => JSON.parse(line) as Record<string, unknown> & { _aws?: { CloudWatchMetrics: unknown[] } },
      )
      .filter((line) => line._aws !== undefined && line.EventsFailed !== undefined);
    expect(emf).toHaveLength(1);
    expect(emf[0]).toMatchObject({ EventsFailed: 2, service: "catalog-test" });
    expect(emf[0]?._aws?.CloudWatchMetrics).toEqual([
      expect.objectContaining({
        Namespace: "CatalogTest",
        Dimensions: [["service"]],
        Metrics: expect.arrayContaining([{ Name: "EventsFailed", Unit: "Count" }]),
      }),
    ]);
  });
});
