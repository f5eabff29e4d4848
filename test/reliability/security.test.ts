/**
 * Security checks of the local stack: `catalog dev` listens on 127.0.0.1
 * only (S3, DynamoDB and the HTTP API refuse connections on any other
 * address of this machine), and the HTTP API refuses oversized uploads and
 * path-traversal keys and prefixes without storing anything.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { connect } from "node:net";
import { networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { ListObjectsV2Command } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalStack } from "../../src/local/local-stack.js";
import { createApp } from "../../src/server/app.js";
import { DevProcess, freePort } from "../e2e/stack-process.js";
import { REPO_ROOT } from "../support/corpus.js";

/** "open" when a TCP connection to host:port is accepted, else the error code. */
function probe(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 2000 });
    socket.once("connect", () => {
      socket.destroy();
      resolve("open");
    });
    socket.once("timeout", () => {
      socket.destroy();
      resolve("ETIMEDOUT");
    });
    socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? "error"));
  });
}

/** Every address of this machine other than 127.0.0.1, plus another loopback address. */
function otherAddresses(): string[] {
  const addresses = Object.values(networkInterfaces())
    .flat()
    .filter((info) => info !== undefined && info.family === "IPv4" && info.address !== "127.0.0.1")
    .map((info) => info?.address as string);
  // On Linux all of 127/8 reaches this host: a server bound to 0.0.0.0 would answer here.
  return [...addresses, "127.0.0.2"];
}

describe("catalog dev binds 127.0.0.1 only", () => {
  const ports = { s3: 0, dynamodb: 0, http: 0 };
  let dataDir: string;
  let dev: DevProcess | undefined;

  beforeAll(async () => {
    if (!existsSync(join(REPO_ROOT, "dist/cli/main.js")))
      await promisify(execFile)("npm", ["run", "build"], { cwd: REPO_ROOT }).catch(() => undefined);
    ports.s3 = await freePort();
    ports.dynamodb = await freePort();
    ports.http = await freePort();
    dataDir = await mkdtemp(join(tmpdir(), "catalog-bind-"));
    dev = await DevProcess.start(dataDir, ports);
  }, 120_000);
  afterAll(async () => {
    await dev?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it.each(["s3", "dynamodb", "http"] as const)(
    "%s answers on 127.0.0.1 and nowhere else",
    async (service) => {
      const port = ports[service];
      expect(await probe("127.0.0.1", port)).toBe("open");
      const others = otherAddresses();
      expect(others.length).toBeGreaterThan(0);
      for (const address of others) expect(await probe(address, port), address).not.toBe("open");
    },
  );
});

describe("HTTP API: oversized uploads and traversal", () => {
  let dataDir: string;
  let stack: LocalStack;
  let app: ReturnType<typeof createApp>;
  const LIMIT = 1024;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "catalog-api-security-"));
    stack = await LocalStack.start({ dataDir, s3Port: 0, dynamodbPort: 0, logLevel: "SILENT" });
    app = createApp({
      store: stack.store,
      bucket: stack.bucket,
      dispatcher: stack.dispatcher,
      deadLetterFile: stack.deadLetterFile,
      s3Client: stack.s3Client,
      derivedPrefix: stack.derivedPrefix,
      uploadLimitBytes: LIMIT,
    });
  });
  afterAll(async () => {
    await stack?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  function upload(prefix: string, name: string, bytes: number): Promise<Response> {
    const form = new FormData();
    form.append("file", new Blob([new Uint8Array(bytes).fill(65)]), name);
    return Promise.resolve(
      app.fetch(
        new Request(`http://127.0.0.1/api/upload?prefix=${encodeURIComponent(prefix)}`, {
          method: "POST",
          body: form,
        }),
      ),
    );
  }

  async function storedKeys(): Promise<string[]> {
    const page = await stack.s3Client.send(new ListObjectsV2Command({ Bucket: stack.bucket }));
    return (page.Contents ?? []).map((object) => object.Key as string);
  }

  it("a file within the limit is stored under its prefix", async () => {
    const response = await upload("ok/", "small.txt", LIMIT);
    expect(response.status).toBe(201);
    expect(await storedKeys()).toContain("ok/small.txt");
  });

  it("a file over the limit is refused with 413 and not stored, not even in part", async () => {
    const response = await upload("big/", "large.bin", LIMIT + 1);
    expect(response.status).toBe(413);
    expect((await storedKeys()).filter((key) => key.startsWith("big/"))).toEqual([]);
  });

  it.each(["../", "a/../../b/", "/abs/", "./x/", "a\\..\\b/", "a//b/", "_derived/"])(
    "prefix %j is refused with 400",
    async (prefix) => {
      const response = await upload(prefix, "x.txt", 10);
      expect(response.status).toBe(400);
    },
  );

  it.each([
    ["../../etc/passwd", "up/passwd"],
    ["..\\..\\boot.ini", "up/boot.ini"],
  ])("a file named %j keeps only its last segment: %s", async (name, key) => {
    const response = await upload("up/", name, 10);
    expect(response.status).toBe(201);
    expect(await storedKeys()).toContain(key);
  });

  // S3 holds such keys and the pipeline catalogs them, so a read takes them; a key is only ever the
  // value of a DynamoDB lookup, never a path, so there is nothing to climb out of.
  it.each(["../x", "a/../../x", "/x", "a\u0000b", "a\nb"])(
    "GET /api/object?key=%j is a lookup of that very key: 404 when it is not cataloged",
    async (key) => {
      const response = await app.fetch(
        new Request(`http://127.0.0.1/api/object?key=${encodeURIComponent(key)}`),
      );
      expect(response.status).toBe(404);
      expect(((await response.json()) as { error: string }).error).not.toMatch(/\bat .+\.[jt]s:\d+/);
    },
  );

  it("a request naming another host is refused (DNS rebinding)", async () => {
    const response = await app.fetch(new Request("http://attacker.example/api/health"));
    expect(response.status).toBe(421);
  });

  it("a cross-origin upload is refused", async () => {
    const form = new FormData();
    form.append("file", new Blob(["x"]), "x.txt");
    const response = await app.fetch(
      new Request("http://127.0.0.1/api/upload?prefix=cross/", {
        method: "POST",
        body: form,
        headers: { origin: "http://attacker.example" },
      }),
    );
    expect(response.status).toBe(403);
    expect((await storedKeys()).filter((key) => key.startsWith("cross/"))).toEqual([]);
  });
});
