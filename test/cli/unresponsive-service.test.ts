/**
 * A server that takes the connection and never answers (a hung emulator, a
 * black-holed proxy) must not hold a command forever: the SDK clients the
 * catalog makes give up on silence, retry, and the command fails with one line;
 * so does `dlq ls`, whose answer is one file read by the stack.
 */
import { createServer, type Server, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCatalog } from "../support/cli.js";

let silent: Server;
let port: number;
const sockets = new Set<Socket>();

beforeAll(async () => {
  silent = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  port = (silent.address() as { port: number }).port;
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise<void>((resolve) => silent.close(() => resolve()));
});

describe("a catalog whose servers never answer", () => {
  it.concurrent("makes show fail with one line naming the timeout, instead of waiting for good", async () => {
    // Act
    const endpoint = `http://127.0.0.1:${port}`;
    const run = await runCatalog(
      ["show", "s3://uploads/photo.jpg", "--dynamodb-endpoint", endpoint, "--s3-endpoint", endpoint],
      { timeoutMs: 90_000 },
    );

    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
    expect(run.stderr).toMatch(/timed out after \d+ ms of inactivity/);
  }, 100_000);

  it.concurrent("makes dlq ls fail with one line naming the timeout, instead of waiting for good", async () => {
    // Act
    const run = await runCatalog(["dlq", "ls", "--api", `http://127.0.0.1:${port}`], { timeoutMs: 60_000 });

    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
    expect(run.stderr).toMatch(
      /^catalog: cannot reach the local stack at .*: timed out after \d+ ms of inactivity/,
    );
  }, 70_000);
});
