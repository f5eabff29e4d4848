import { CreateTableCommand, DynamoDBClient, ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ObjectEvent } from "../../src/events/s3-event.js";
import { EmbeddedDynamoDb } from "../../src/local/embedded-dynamodb.js";
import { foreignRequestReason, isLoopbackHostname } from "../../src/local/loopback-guard.js";
import { awsCli } from "../e2e/stack-process.js";
import { formUpload, rawRequest } from "../support/raw-http.js";
import { startTestS3, TEST_CREDENTIALS, TEST_REGION, type TestS3 } from "../support/servers.js";
import { describeWith } from "../support/tools.js";

let s3: TestS3;
let dynamodb: EmbeddedDynamoDb;
let dynamodbClient: DynamoDBClient;
const events: ObjectEvent[] = [];

beforeAll(async () => {
  [s3, dynamodb] = await Promise.all([startTestS3("loopback-guard"), EmbeddedDynamoDb.start({ port: 0 })]);
  s3.s3.on("object", (event) => events.push(event));
  dynamodbClient = new DynamoDBClient({
    region: TEST_REGION,
    endpoint: dynamodb.endpoint,
    credentials: TEST_CREDENTIALS,
  });
  await dynamodbClient.send(
    new CreateTableCommand({
      TableName: "guarded",
      AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
      KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
      BillingMode: "PAY_PER_REQUEST",
    }),
  );
});
afterAll(async () => {
  dynamodbClient?.destroy();
  await Promise.all([s3?.stop(), dynamodb?.close()]);
});

const exists = (Key: string) =>
  s3.client.send(new HeadObjectCommand({ Bucket: "uploads", Key })).then(
    () => true,
    (error: Error) => (error.name === "NotFound" ? false : Promise.reject(error)),
  );

describe("which requests are foreign", () => {
  it.each([
    ["127.0.0.1", true],
    ["localhost", true],
    ["LOCALHOST", true],
    ["[::1]", true],
    ["uploads.localhost", true],
    ["my.bucket.localhost", true],
    ["evil.example", false],
    ["localhost.evil.example", false],
    ["evillocalhost", false],
    [".localhost", false],
    ["a..localhost", false],
    ["10.0.0.5", false],
    ["0.0.0.0", false],
  ])("host name %s is loopback: %s", (hostname, loopback) => {
    expect(isLoopbackHostname(hostname)).toBe(loopback);
  });

  it.each([
    [{ host: "127.0.0.1:4569" }, false],
    [{ host: "localhost:4569" }, false],
    [{ host: "[::1]:4569" }, false],
    [{ host: "uploads.localhost:4569" }, false],
    [{}, false],
    [{ host: "127.0.0.1:4569", origin: "http://localhost:3000" }, false],
    [{ host: "127.0.0.1:4569", origin: "http://127.0.0.1:3000", "sec-fetch-site": "same-site" }, false],
    [{ host: "evil.example:4569" }, true],
    [{ host: "evil.example" }, true],
    [{ host: "127.0.0.1@evil.example" }, true],
    [{ host: "127.0.0.1:4569/x" }, true],
    [{ host: "" }, true],
    [{ host: "127.0.0.1:4569", origin: "https://evil.example" }, true],
    [{ host: "127.0.0.1:4569", origin: "null" }, true],
    [{ host: "127.0.0.1:4569", origin: "file://" }, true],
    [{ host: "127.0.0.1:4569", "sec-fetch-site": "cross-site" }, true],
  ])("headers %j are refused: %s", (headers, refused) => {
    expect(foreignRequestReason(headers) !== undefined).toBe(refused);
  });
});

describe("the embedded S3 server", () => {
  const host = () => `127.0.0.1:${s3.s3.port}`;

  it("refuses a cross-site HTML form upload, stores nothing and announces nothing", async () => {
    // Prepare: the form a page on another site would post, with the headers a browser adds.
    const form = formUpload({ key: "from-a-page/form.txt" }, "written by another site");
    const before = events.length;

    // Act
    const crossOrigin = await rawRequest(
      s3.s3.port,
      "POST",
      "/uploads",
      { Host: host(), Origin: "https://evil.example", "Content-Type": form.contentType },
      form.body,
    );
    const crossSite = await rawRequest(
      s3.s3.port,
      "POST",
      "/uploads",
      { Host: host(), "Sec-Fetch-Site": "cross-site", "Content-Type": form.contentType },
      form.body,
    );

    // Assess
    for (const response of [crossOrigin, crossSite]) {
      expect(response.status).toBe(403);
      expect(response.headers["content-type"]).toMatch(/xml/);
      expect(response.body).toContain("<Code>AccessDenied</Code>");
    }
    expect(await exists("from-a-page/form.txt")).toBe(false);
    expect(events.length).toBe(before);
  });

  it("still takes a form upload from a page on this machine", async () => {
    const form = formUpload({ key: "from-the-dashboard/form.txt" }, "written locally");
    const response = await rawRequest(
      s3.s3.port,
      "POST",
      "/uploads",
      {
        Host: host(),
        Origin: "http://localhost:3000",
        "Sec-Fetch-Site": "same-site",
        "Content-Type": form.contentType,
      },
      form.body,
    );
    expect(response.status).toBe(204);
    expect(await exists("from-the-dashboard/form.txt")).toBe(true);
  });

  it("refuses requests addressed to a rebound name: reads, listings and writes", async () => {
    // Prepare
    await s3.client.send(new PutObjectCommand({ Bucket: "uploads", Key: "secret.txt", Body: "private" }));
    const rebound = { Host: `evil.example:${s3.s3.port}` };

    // Act
    const responses = [
      await rawRequest(s3.s3.port, "GET", "/uploads/secret.txt", rebound),
      await rawRequest(s3.s3.port, "GET", "/uploads?list-type=2", rebound),
      await rawRequest(s3.s3.port, "GET", "/", rebound),
      await rawRequest(s3.s3.port, "PUT", "/uploads/rebound.txt", rebound, "overwritten"),
      await rawRequest(s3.s3.port, "DELETE", "/uploads/secret.txt", rebound),
    ];

    // Assess
    for (const response of responses) {
      expect(response.status).toBe(403);
      expect(response.body).toContain("<Code>AccessDenied</Code>");
      expect(response.body).not.toContain("private");
    }
    expect(await exists("rebound.txt")).toBe(false);
    expect(await exists("secret.txt")).toBe(true);
  });

  it("answers virtual-hosted-style requests to <bucket>.localhost", async () => {
    await s3.client.send(new PutObjectCommand({ Bucket: "uploads", Key: "hosted/a.txt", Body: "by host" }));
    const response = await rawRequest(s3.s3.port, "GET", "/hosted/a.txt", {
      Host: `uploads.localhost:${s3.s3.port}`,
    });
    expect(response.status).toBe(200);
    expect(response.body).toBe("by host");
  });

  it("still serves the SDK", async () => {
    await s3.client.send(new PutObjectCommand({ Bucket: "uploads", Key: "sdk.txt", Body: "from the SDK" }));
    const got = await s3.client.send(new GetObjectCommand({ Bucket: "uploads", Key: "sdk.txt" }));
    expect(await got.Body?.transformToString()).toBe("from the SDK");
  });
});

describe("the embedded DynamoDB server", () => {
  const listTables = {
    "Content-Type": "application/x-amz-json-1.0",
    "X-Amz-Target": "DynamoDB_20120810.ListTables",
    // dynalite checks that a signature is present, never that it is right.
    Authorization:
      "AWS4-HMAC-SHA256 Credential=anyone/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0",
    "X-Amz-Date": "20260101T000000Z",
  };

  it("answers a request with a made-up signature from this machine (why the refusals below matter)", async () => {
    const response = await rawRequest(
      dynamodb.port,
      "POST",
      "/",
      { Host: `127.0.0.1:${dynamodb.port}`, ...listTables },
      "{}",
    );
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toEqual({ TableNames: ["guarded"] });
  });

  it.each([
    ["a rebound name", { Host: "evil.example:8000" }],
    ["another site's page", { Origin: "https://evil.example" }],
    ["a page the browser marks cross-site", { "Sec-Fetch-Site": "cross-site" }],
  ])("refuses requests from %s with AccessDeniedException", async (_, headers) => {
    const response = await rawRequest(
      dynamodb.port,
      "POST",
      "/",
      { Host: `127.0.0.1:${dynamodb.port}`, ...listTables, ...headers },
      "{}",
    );
    expect(response.status).toBe(403);
    expect(response.headers["content-type"]).toBe("application/x-amz-json-1.0");
    expect(JSON.parse(response.body).__type).toMatch(/#AccessDeniedException$/);
    expect(response.body).not.toContain("guarded");
  });

  it("refuses another site's CORS preflight, so its page never sends the request", async () => {
    const response = await rawRequest(dynamodb.port, "OPTIONS", "/", {
      Host: `127.0.0.1:${dynamodb.port}`,
      Origin: "https://evil.example",
      "Access-Control-Request-Method": "POST",
      "Access-Control-Request-Headers": "authorization,content-type,x-amz-date,x-amz-target",
    });
    expect(response.status).toBe(403);
    expect(response.headers["access-control-allow-origin"]).toBeUndefined();
  });

  it("still serves the SDK", async () => {
    const { TableNames } = await dynamodbClient.send(new ListTablesCommand({}));
    expect(TableNames).toEqual(["guarded"]);
  });
});

describeWith("aws")("the AWS CLI", () => {
  it("still uploads, lists and reads through the embedded S3 server", async () => {
    const put = await awsCli(
      s3.s3.endpoint,
      "s3api",
      "put-object",
      "--bucket",
      "uploads",
      "--key",
      "cli/one.txt",
    );
    expect(put.stderr).toBe("");
    expect(put.code).toBe(0);
    const listed = await awsCli(s3.s3.endpoint, "s3", "ls", "s3://uploads/cli/");
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain("one.txt");
  });

  it("still lists the embedded DynamoDB server's tables", async () => {
    const listed = await awsCli(dynamodb.endpoint, "dynamodb", "list-tables");
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout).TableNames).toEqual(["guarded"]);
  });
});
