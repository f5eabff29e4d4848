/**
 * What the handler writes to its log group, line by line: the EMF blobs the
 * metrics come from, the per-object line, and the level it writes them at
 * when Lambda's advanced logging controls set a level of their own.
 */

import { Metrics } from "@aws-lambda-powertools/metrics";
import type { Context } from "aws-lambda";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { toS3Notification } from "../../src/events/s3-event.js";
import { catalogLogger } from "../../src/lambda/handler.js";
import { type HandlerStack, startStack, upload } from "./fixtures.js";

/** Every JSON line written to stdout or stderr (both reach the log group) while `act` runs. */
async function loggedLines(act: () => unknown): Promise<Record<string, unknown>[]> {
  const chunks: string[] = [];
  const capture = (chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  };
  const spies = [
    vi.spyOn(process.stdout, "write").mockImplementation(capture),
    vi.spyOn(process.stderr, "write").mockImplementation(capture),
  ];
  try {
    await act();
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
  return chunks
    .join("")
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

interface EmfDirective {
  Namespace: string;
  Dimensions: string[][];
  Metrics: { Name: string; Unit: string }[];
}

/** The datapoints CloudWatch extracts from EMF lines: one per directive, dimension set and metric. */
function extracted(lines: Record<string, unknown>[]): string[] {
  return lines
    .flatMap((line) => {
      const directives =
        (line._aws as { CloudWatchMetrics: EmfDirective[] } | undefined)?.CloudWatchMetrics ?? [];
      return directives.flatMap((directive) =>
        directive.Dimensions.flatMap((set) =>
          directive.Metrics.map((metric) => {
            const dimensions = set.map((name) => `${name}=${String(line[name])}`).join(",");
            return `${directive.Namespace}/${metric.Name}{${dimensions}} ${metric.Unit} ${JSON.stringify(line[metric.Name])}`;
          }),
        ),
      );
    })
    .sort();
}

const LAMBDA_CONTEXT = {
  functionName: "S3MetadataCatalog-Function",
  functionVersion: "$LATEST",
  invokedFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:S3MetadataCatalog-Function",
  memoryLimitInMB: "1024",
  awsRequestId: "5f0c2a8e-4d1b-4a51-9a77-0c2b1f0e9d11",
} as unknown as Context;

beforeEach(() => {
  delete process.env.POWERTOOLS_METRICS_DISABLED;
});
afterEach(() => {
  process.env.POWERTOOLS_METRICS_DISABLED = "true";
  delete process.env.AWS_LAMBDA_LOG_LEVEL;
});

describe("catalogLogger", () => {
  it("writes the request id and cold start, not what every line of the log group repeats", async () => {
    const logger = catalogLogger({ serviceName: "catalog-test", logLevel: "INFO" });
    logger.addContext(LAMBDA_CONTEXT);
    const [line] = await loggedLines(() => logger.info("object processed", { bucket: "b", key: "k" }));
    expect(line).toMatchObject({
      level: "INFO",
      message: "object processed",
      service: "catalog-test",
      function_request_id: LAMBDA_CONTEXT.awsRequestId,
      bucket: "b",
      key: "k",
    });
    expect(typeof line?.cold_start).toBe("boolean");
    expect(typeof line?.timestamp).toBe("string");
    for (const key of ["function_arn", "function_name", "function_memory_size", "sampling_rate"]) {
      expect(line).not.toHaveProperty(key);
    }
  });

  it("keeps a stricter level than Lambda's AWS_LAMBDA_LOG_LEVEL, which Powertools would otherwise take", async () => {
    process.env.AWS_LAMBDA_LOG_LEVEL = "INFO";
    const logger = catalogLogger({ serviceName: "catalog-test", logLevel: "WARN" });
    const lines = await loggedLines(() => {
      logger.debug("dropped");
      logger.info("dropped");
      logger.warn("kept");
      logger.error("kept");
    });
    expect(lines.map((line) => line.level)).toEqual(["WARN", "ERROR"]);
  });

  it("writes INFO lines when Lambda's level and its own agree", async () => {
    process.env.AWS_LAMBDA_LOG_LEVEL = "INFO";
    const logger = catalogLogger({ serviceName: "catalog-test", logLevel: "INFO" });
    const lines = await loggedLines(() => logger.info("kept"));
    expect(lines.map((line) => line.message)).toEqual(["kept"]);
  });
});

describe("the handler's log output per object", () => {
  let stack: HandlerStack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack.servers.stop());

  it("is one structured line and the EMF blobs of its metrics for a direct invocation of one object", async () => {
    const event = await upload(stack, "logged/a.png", { corpus: "filetype-fixture.png" });
    const handle = stack.handler({
      logger: catalogLogger({ serviceName: "catalog-test", logLevel: "INFO" }),
      metrics: new Metrics({ namespace: "CatalogTest", serviceName: "catalog-test" }),
    });
    const lines = await loggedLines(() => handle(toS3Notification([event]), LAMBDA_CONTEXT));

    // Powertools writes one blob per dimension set: ObjectsProcessed by outcome, the rest by service.
    expect(lines).toHaveLength(3);
    const [objectLine, ...emf] = lines;
    expect(objectLine).toMatchObject({
      message: "object processed",
      bucket: stack.bucket,
      key: event.key,
      outcome: "created",
      status: "ok",
      function_request_id: LAMBDA_CONTEXT.awsRequestId,
    });
    expect(typeof objectLine?.durationMs).toBe("number");
    expect(extracted(emf)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^CatalogTest\/BytesRead\{service=catalog-test\} Bytes \d+$/),
        "CatalogTest/ObjectsProcessed{service=catalog-test,outcome=created} Count 1",
      ]),
    );
  });
});
