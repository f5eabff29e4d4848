import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CliRun, runCatalog, withoutTargetVariables } from "../support/cli.js";
import { REPO_ROOT } from "../support/corpus.js";
import { startServers, type TestServers } from "../support/servers.js";

/** Runs the built CLI with no AWS_ or CATALOG_ variable of this process, plus `env`. */
function catalog(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  return runCatalog(args, { env: { ...withoutTargetVariables(), ...env } });
}

/** The long options an Options block of `--help` lists. */
function listedOptions(help: string): string[] {
  const block = help.slice(help.indexOf("Options:"));
  return [...block.matchAll(/^ {2}(?:-\w, )?(--[a-z][\w-]*)/gm)].map((match) => match[1] as string).sort();
}

beforeAll(() => {
  expect(existsSync(join(REPO_ROOT, "dist/cli/main.js")), "run `npm run build` first").toBe(true);
});

describe.concurrent("catalog dlq: options", () => {
  it.each(["ls", "replay"])("dlq %s --help lists only what it uses", async (command) => {
    const result = await catalog(["dlq", command, "--help"]);
    expect(result.code).toBe(0);
    expect(listedOptions(result.stdout)).toEqual(["--api", "--help", "--json", "--profile", "--region"]);
  });

  it.each([
    [["--region", "eu-west-1"], {}],
    [["--profile", "ops"], {}],
    [[], { CATALOG_TARGET: "aws" }],
  ])("dlq ls %j %j against AWS needs no bucket or table", async (args, env) => {
    const result = await catalog(["dlq", "ls", ...args], env);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^against AWS the dead-letter queue is an SQS queue/);
  });

  it.each(["ls", "replay"])(
    "dlq %s --json against AWS prints JSON, not the sentence alone",
    async (command) => {
      const result = await catalog(["dlq", command, "--json", "--region", "eu-west-1"]);
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
      const printed = JSON.parse(result.stdout) as { target?: unknown; redrive?: unknown };
      expect(printed.target).toBe("aws");
      expect(printed.redrive).toMatch(
        /^against AWS the dead-letter queue is an SQS queue.*start-message-move-task/,
      );
    },
  );

  it("still accepts the catalog's flags, so one set of flags fits every command", async () => {
    const result = await catalog([
      "dlq",
      "replay",
      "--region",
      "eu-west-1",
      "--bucket",
      "b",
      "--table",
      "t",
      "--s3-endpoint",
      "http://127.0.0.1:9",
      "--dynamodb-endpoint",
      "http://127.0.0.1:9",
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/SQS mode.*aws sqs start-message-move-task.*direct mode.*requestPayload/);
  });

  it("refuses an --api that is not an http(s) URL", async () => {
    const result = await catalog(["dlq", "ls", "--api", "localhost:3000"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe("catalog: --api must be an http(s) URL, got 'localhost:3000'\n");
  });
});

describe("catalog dlq: an --api that names another of the stack's servers", () => {
  let servers: TestServers;
  beforeAll(async () => {
    servers = await startServers();
  });
  afterAll(async () => {
    await servers?.stop();
  });

  // S3 answers 404 in XML; DynamoDB answers a GET with 200 and a line of text, which read as the
  // API's answer was a TypeError's message.
  it.each([
    ["S3", "ls", "GET /api/dlq"],
    ["S3", "replay", "POST /api/dlq/replay"],
    ["DynamoDB", "ls", "GET /api/dlq"],
    ["DynamoDB", "replay", "POST /api/dlq/replay"],
  ])("the %s server: dlq %s says it is not the HTTP API, in one line", async (service, command, call) => {
    const api = service === "S3" ? servers.s3Endpoint : servers.dynamodbEndpoint;
    const result = await catalog(["dlq", command, "--api", api]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      new RegExp(
        `^catalog: ${api} answered ${call}, but not as the local stack's HTTP API does \\(HTTP \\d+\\): is --api the address of the HTTP API that 'catalog dev' prints\\?\n$`,
      ),
    );
  });
});
