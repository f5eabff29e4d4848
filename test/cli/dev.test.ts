/**
 * `catalog dev` as a user starts and stops it: the banner must name the
 * addresses the stack really listens on, including a port chosen by the
 * system (`0`); a failed start says why in one line; a second Ctrl-C says
 * what the stop at once left undone; an open dashboard does not hold up a stop.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateBucketCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { expect, it } from "vitest";
import { LOCAL_S3_CLIENT_OPTIONS } from "../../src/local/local-stack.js";
import { DevProcess, freePort } from "../e2e/stack-process.js";
import { CATALOG, runCatalog } from "../support/cli.js";
import { corpusFile, REPO_ROOT } from "../support/corpus.js";

it("catalog dev --http-port 0 prints the port the HTTP API listens on", async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "catalog-dev-"));
  const child = spawn(
    "node",
    [CATALOG, "dev", "--s3-port", "0", "--dynamodb-port", "0", "--http-port", "0", "--data-dir", dataDir],
    { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  try {
    await Promise.race([
      new Promise<void>((resolve) => {
        const check = () => output.includes("Ctrl-C stops.") && resolve();
        child.stdout.on("data", check);
      }),
      exited.then(() => {
        throw new Error(`catalog dev exited:\n${output}`);
      }),
    ]);
    const api = /HTTP API\s+(http:\/\/127\.0\.0\.1:(\d+))/.exec(output);
    expect(api, output).not.toBeNull();
    expect(Number(api?.[2])).toBeGreaterThan(0);
    // A newcomer learns from the banner where the dashboard is.
    expect(output).toMatch(/HTTP API\s+http:\/\/127\.0\.0\.1:\d+ {3}the dashboard: open it in a browser\n/);
    const response = await fetch(`${api?.[1]}/api/dlq`);
    expect(response.status).toBe(200);
  } finally {
    child.kill("SIGINT");
    await exited;
    await rm(dataDir, { recursive: true, force: true });
  }
});

it("catalog dev that fails while starting says why in one line and exits, its servers with it", async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "catalog-dev-"));
  try {
    // The servers start, then the table is refused (DynamoDB table names have 3 to 255 characters).
    const ports = ["--s3-port", "0", "--dynamodb-port", "0", "--http-port", "0"];
    const result = await runCatalog(["dev", ...ports, "--data-dir", dataDir, "--table", "ab"], {
      timeoutMs: 15_000,
    });
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toMatch(/^catalog: TableName must be at least 3 characters long[^\n]*\n$/);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});

it.skipIf(!existsSync("/proc/self"))(
  "catalog dev with a data folder that cannot be made says so in one line, naming --data-dir",
  async () => {
    const ports = ["--s3-port", "0", "--dynamodb-port", "0", "--http-port", "0"];
    const result = await runCatalog(["dev", ...ports, "--data-dir", "/proc/no-such-folder"], {
      timeoutMs: 15_000,
    });
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toBe(
      "catalog: cannot use /proc/no-such-folder/dynamodb for the DynamoDB server: ENOENT: no such file or directory, mkdir '/proc/no-such-folder' (choose another folder with --data-dir)\n",
    );
  },
);

/** Holds a port of 127.0.0.1 as another program would, so a server that starts on it finds it taken. */
async function holdPort(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, port: (server.address() as { port: number }).port };
}

it.each([
  ["--s3-port", "S3 server"],
  ["--dynamodb-port", "DynamoDB server"],
  ["--http-port", "HTTP API"],
])(
  "catalog dev whose %s is taken by another program leaves no new data folder behind",
  async (flag, service) => {
    const parent = await mkdtemp(join(tmpdir(), "catalog-dev-"));
    const held = await holdPort();
    try {
      // Prepare: a data folder two levels below what exists, and one that exists with a file of the user's.
      const fresh = join(parent, "new", "data");
      const existing = join(parent, "existing");
      await mkdir(existing);
      await writeFile(join(existing, "notes.txt"), "mine");
      const ports = {
        "--s3-port": "0",
        "--dynamodb-port": "0",
        "--http-port": "0",
        [flag]: String(held.port),
      };

      for (const dataDir of [fresh, existing]) {
        // Act
        const result = await runCatalog(["dev", ...Object.entries(ports).flat(), "--data-dir", dataDir], {
          timeoutMs: 15_000,
        });

        // Assess
        expect(result.code, result.stderr).toBe(1);
        expect(result.stderr).toBe(
          `catalog: port ${held.port} for the ${service} is already in use (choose another with ${flag})\n`,
        );
      }
      expect(existsSync(join(parent, "new"))).toBe(false);
      expect(await readFile(join(existing, "notes.txt"), "utf8")).toBe("mine");
    } finally {
      held.server.close();
      await rm(parent, { recursive: true, force: true });
    }
  },
  40_000,
);

/** Events the stack has accepted and not finished, from its health endpoint. */
async function pendingEvents(httpPort: number): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${httpPort}/api/health`);
  return ((await response.json()) as { pending: number }).pending;
}

/**
 * Uploads copies of a photo under `burst/`, 120 at once, until the stack has
 * at least `queued` events left to finish (a machine busy elsewhere uploads
 * slowly enough for the stack to keep up with one burst), 480 at most (a
 * folder listing's page); answers how many.
 */
async function uploadBurst(ports: { s3: number; http: number }, queued = 60): Promise<number> {
  const s3 = new S3Client({ ...LOCAL_S3_CLIENT_OPTIONS, endpoint: `http://127.0.0.1:${ports.s3}` });
  try {
    const body = await readFile(corpusFile("exifpy-Canon_40D.jpg"));
    let count = 0;
    do {
      await Promise.all(
        Array.from({ length: 120 }, (_, index) =>
          s3.send(new PutObjectCommand({ Bucket: "uploads", Key: `burst/${count + index}.jpg`, Body: body })),
        ),
      );
      count += 120;
    } while ((await pendingEvents(ports.http)) < queued && count < 480);
    return count;
  } finally {
    s3.destroy();
  }
}

/** Resolves once the catalog holds `count` records under `burst/`, read through the HTTP API. */
async function waitForBurst(httpPort: number, count: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let seen = 0;
  while (Date.now() < deadline) {
    const response = await fetch(`http://127.0.0.1:${httpPort}/api/folder?prefix=burst/&limit=500`);
    seen = ((await response.json()) as { items: unknown[] }).items.length;
    if (seen === count) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${seen} of ${count} records after ${timeoutMs} ms`);
}

it("catalog dev names the flags that reach it, --policy-file included, wherever it suggests a backfill", async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "catalog-dev-"));
  // A path with a space: the commands printed quote it, so they can be pasted as they are.
  const policyFile = join(dataDir, "my policy.json");
  await writeFile(policyFile, JSON.stringify({ maxSizeBytes: 1000 }));
  const ports = { s3: await freePort(), dynamodb: await freePort(), http: await freePort() };
  const dev = await DevProcess.start(dataDir, ports, 30_000, ["--policy-file", policyFile]);
  const quotedPolicy = `'${policyFile}'`;
  try {
    const flags = `--s3-endpoint http://127.0.0.1:${ports.s3} --dynamodb-endpoint http://127.0.0.1:${ports.dynamodb} --api http://127.0.0.1:${ports.http}`;
    // backfill and reprocess run the handler themselves: without the policy they would judge objects otherwise.
    expect(dev.output).toContain(
      `  (backfill and reprocess also take --policy-file ${quotedPolicy}, to judge objects as this stack does)\n`,
    );
    // The dashboard suggests backfills too: it learns the same flags from /api/health.
    const health = (await (await fetch(`http://127.0.0.1:${ports.http}/api/health`)).json()) as {
      backfillFlags: string[];
    };
    expect(health.backfillFlags).toEqual([
      "--s3-endpoint",
      `http://127.0.0.1:${ports.s3}`,
      "--dynamodb-endpoint",
      `http://127.0.0.1:${ports.dynamodb}`,
      "--policy-file",
      policyFile,
    ]);
    // Act: a change in a bucket the stack does not watch.
    const s3 = new S3Client({ ...LOCAL_S3_CLIENT_OPTIONS, endpoint: `http://127.0.0.1:${ports.s3}` });
    try {
      await s3.send(new CreateBucketCommand({ Bucket: "other" }));
      await s3.send(new PutObjectCommand({ Bucket: "other", Key: "a.txt", Body: "a" }));
    } finally {
      s3.destroy();
    }
    // Assess: the backfill it names runs against this stack, as it is.
    await expect
      .poll(() => dev.output)
      .toContain(
        `\`catalog backfill s3://other/ ${flags} --policy-file ${quotedPolicy}\` catalogs what it holds`,
      );
  } finally {
    await dev.kill();
    await rm(dataDir, { recursive: true, force: true });
  }
});

it("catalog dev whose event journal cannot be used says so in one line, naming the file", async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "catalog-dev-"));
  try {
    // A folder where the journal's file goes: neither read nor replaced.
    await mkdir(join(dataDir, "pending-events.jsonl"));
    const ports = ["--s3-port", "0", "--dynamodb-port", "0", "--http-port", "0"];
    const result = await runCatalog(["dev", ...ports, "--data-dir", dataDir], { timeoutMs: 15_000 });
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toBe(
      `catalog: cannot use ${join(dataDir, "pending-events.jsonl")} for the event journal: EISDIR: illegal operation on a directory, read (choose another folder with --data-dir)\n`,
    );
    // Nothing is left behind beside it.
    expect((await readdir(dataDir)).filter((name) => name.endsWith(".tmp"))).toEqual([]);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});

it("catalog dev stopped by a second Ctrl-C keeps the events it did not finish, and its next start delivers them", async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "catalog-dev-"));
  const ports = { s3: await freePort(), dynamodb: await freePort(), http: await freePort() };
  let dev = await DevProcess.start(dataDir, ports);
  try {
    // Prepare: more events than the stack finishes in the moment between the two Ctrl-Cs.
    const uploaded = await uploadBurst(ports);

    // Act: the second Ctrl-C as soon as the first is taken (two sent at once may arrive as one signal).
    const exited = new Promise<number | null>((resolve) => dev.child.once("exit", (code) => resolve(code)));
    dev.child.kill("SIGINT");
    await expect.poll(() => dev.output, { interval: 5 }).toContain("stopping:");
    dev.child.kill("SIGINT");
    expect(await exited, dev.output).toBe(130);
    const left =
      /^stopped at once: (\d+) event\(s\) not finished, kept in (.+); the next start on this data dir delivers them$/m.exec(
        dev.output,
      );
    expect(left, dev.output).not.toBeNull();
    expect(left?.[2]).toBe(join(dataDir, "pending-events.jsonl"));
    dev = await DevProcess.start(dataDir, ports);

    // Assess: the start says what it resumes (those left, less any the handler finished while the process
    // ended), and every upload ends up cataloged, none by hand.
    const resumed =
      /^ {2}resuming {2}(\d+) event\(s\) the last run accepted and did not finish \(it was stopped at once, or ended\)$/m.exec(
        dev.output,
      );
    expect(Number(resumed?.[1])).toBeGreaterThan(0);
    expect(Number(resumed?.[1])).toBeLessThanOrEqual(Number(left?.[1]));
    await waitForBurst(ports.http, uploaded);
  } finally {
    await dev.kill();
    await rm(dataDir, { recursive: true, force: true });
  }
}, 120_000);

it("catalog dev killed outright loses no accepted event: the next start delivers them", async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "catalog-dev-"));
  const ports = { s3: await freePort(), dynamodb: await freePort(), http: await freePort() };
  let dev = await DevProcess.start(dataDir, ports);
  try {
    // Prepare: uploads answered, many of their events still queued.
    const uploaded = await uploadBurst(ports);

    // Act: no Ctrl-C, no chance to finish or flush anything: SIGKILL, as a crash or the OOM killer ends it.
    await dev.kill();
    dev = await DevProcess.start(dataDir, ports);

    // Assess
    expect(dev.output).toMatch(/^ {2}resuming {2}\d+ event\(s\)/m);
    await waitForBurst(ports.http, uploaded);
  } finally {
    await dev.kill();
    await rm(dataDir, { recursive: true, force: true });
  }
}, 120_000);

it("catalog dev stops on Ctrl-C while a dashboard tab holds its live stream, and ends that stream", async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "catalog-dev-"));
  const ports = { s3: await freePort(), dynamodb: await freePort(), http: await freePort() };
  const dev = await DevProcess.start(dataDir, ports);
  try {
    const response = await fetch(`http://127.0.0.1:${ports.http}/api/events`);
    const reader = response.body?.pipeThrough(new TextDecoderStream()).getReader();
    if (!reader) throw new Error("no body");
    let text = "";
    while (!text.includes("event: hello")) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`the stream ended before its hello: ${text}`);
      text += value;
    }
    // The stream would otherwise last five minutes, and the stop with it.
    expect(await dev.stop(10_000), dev.output).toBe(0);
    for (;;) {
      const { done } = await reader.read();
      if (done) break;
    }
    expect(dev.output).toContain("stopped.");
  } finally {
    await dev.kill();
    await rm(dataDir, { recursive: true, force: true });
  }
}, 60_000);

it("catalog dev on other ports prints flags that every command it names can take as they are, dlq included", async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "catalog-dev-"));
  const ports = { s3: await freePort(), dynamodb: await freePort(), http: await freePort() };
  const dev = await DevProcess.start(dataDir, ports);
  try {
    // Prepare: the flags as the banner's upload suggestion prints them
    const suggestion = /^ {2}\S+ upload \S+ --prefix docs\/ (.+)$/m.exec(dev.output);
    expect(suggestion, dev.output).not.toBeNull();
    const flags = (suggestion?.[1] ?? "").split(" ");
    expect(flags).toEqual([
      "--s3-endpoint",
      `http://127.0.0.1:${ports.s3}`,
      "--dynamodb-endpoint",
      `http://127.0.0.1:${ports.dynamodb}`,
      "--api",
      `http://127.0.0.1:${ports.http}`,
    ]);
    expect(dev.output).toContain("  (ls, find, backfill, reprocess and dlq take the same flags)\n");

    // Act: a command that reads S3 and DynamoDB, and one that calls the HTTP API
    const [ls, dlq] = await Promise.all([runCatalog(["ls", ...flags]), runCatalog(["dlq", "ls", ...flags])]);

    // Assess
    expect(ls.code, ls.stderr).toBe(0);
    expect(ls.stdout).toBe("s3://uploads/: empty\n");
    expect(dlq.code, dlq.stderr).toBe(0);
    expect(dlq.stdout).toBe("the dead-letter file is empty\n");
  } finally {
    await dev.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}, 60_000);
