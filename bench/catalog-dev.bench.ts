/**
 * The local stack exactly as `npm start` runs it: `catalog dev` from the built
 * package in a process of its own (no TypeScript loader, its own threads),
 * N corpus files uploaded to it with the AWS SDK from this process, each
 * counted when the dashboard's live feed (`GET /api/events`) announces its
 * record, as an open dashboard would see it. Measures objects/s, upload-to-record latency, and the child's CPU
 * per object from /proc (the uploader's own CPU is this process's, not counted).
 *
 *   npx tsx bench/catalog-dev.bench.ts [--count 1000] [--upload-concurrency 16] [--rate N] [--runs 3] [--no-write]
 *     [--node-flags "--flag ..."]
 *
 * `--node-flags` starts `catalog dev` under those Node.js/V8 flags (V8's own,
 * such as `--no-opt`, are refused in NODE_OPTIONS); use it with `--no-write`.
 *
 * Each run starts a fresh `catalog dev`; with several runs the figures are the
 * median, with every run's value after it, since run-to-run spread on a small
 * machine is larger than most changes worth measuring.
 *
 * bench/local-stack.bench.ts runs the same stack in one process from the
 * sources, which lets it split CPU by component; this one checks the figure
 * users get.
 */
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { type ClientRequest, get } from "node:http";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { LOCAL_DEFAULTS, LOCAL_S3_CLIENT_OPTIONS } from "../src/local/local-defaults.js";
import { CORPUS_DIR, REPO_ROOT } from "../test/support/corpus.js";
import { type Figure, freePort, percentile, positiveIntFlag, recordSection } from "./results.js";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => positiveIntFlag(args, name, fallback);
const count = flag("--count", 1000);
const uploadConcurrency = flag("--upload-concurrency", 16);
const rate = args.includes("--rate") ? flag("--rate", 0) : 0;
const runs = flag("--runs", 1);
const write = !args.includes("--no-write");
const nodeFlagsAt = args.indexOf("--node-flags");
const nodeFlags = nodeFlagsAt >= 0 ? (args[nodeFlagsAt + 1] ?? "").split(" ").filter(Boolean) : [];
if (nodeFlags.length > 0 && write) {
  // RESULTS.md records the stack as users run it; a run under other flags is an experiment.
  console.error("--node-flags needs --no-write");
  process.exit(2);
}

const now = () => performance.timeOrigin + performance.now();
const ms = (value: number) => `${value.toFixed(0)} ms`;

/**
 * CPU (user + system, ms) of the whole process, threads that have ended included: libvips starts and
 * ends worker threads as thumbnails come and go, and a sum over the live threads would miss theirs.
 */
function processCpu(pid: number): number {
  return statCpu(`/proc/${pid}/stat`);
}

/** CPU (user + system, ms) of a process's main thread. */
function mainThreadCpu(pid: number): number {
  return statCpu(`/proc/${pid}/task/${pid}/stat`);
}

/** utime + stime of a /proc stat file, in ms (clock ticks of 10 ms). */
function statCpu(path: string): number {
  const fields = (readFileSync(path, "utf8").split(") ")[1] ?? "").split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/**
 * Follows the server-sent events of `GET /api/events` and calls `onRecord`
 * with each announced key; resolves once the stream is open.
 */
function followRecords(httpPort: number, onRecord: (key: string) => void): Promise<ClientRequest> {
  return new Promise((resolve, reject) => {
    const request = get({ host: "127.0.0.1", port: httpPort, path: "/api/events" }, (response) => {
      if (response.statusCode !== 200) {
        reject(new Error(`GET /api/events answered ${response.statusCode}`));
        return;
      }
      resolve(request);
      let pending = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => {
        pending += chunk;
        let end = pending.indexOf("\n\n");
        while (end >= 0) {
          const message = pending.slice(0, end);
          pending = pending.slice(end + 2);
          const data = /^data: (.*)$/m.exec(message)?.[1];
          if (/^event: record$/m.test(message) && data) onRecord((JSON.parse(data) as { key: string }).key);
          end = pending.indexOf("\n\n");
        }
      });
    });
    request.on("error", reject);
  });
}

/** What one run measured. */
interface Run {
  objectsPerSecond: number;
  seconds: number;
  putsPerSecond: number;
  /** p50 and p95 of upload-to-record latency, in ms: all objects, the corpus's first pass, later passes. */
  latency: { all: [number, number]; first: [number, number]; later: [number, number] };
  recorded: number;
  cpuPerObjectMs: number;
  mainCpuPerObjectMs: number;
}

type Corpus = { name: string; body: Buffer }[];

async function runOnce(bodies: Corpus): Promise<Run> {
  const dataDir = await mkdtemp(join(tmpdir(), "catalog-dev-bench-"));
  const [s3Port, dynamodbPort, httpPort] = [await freePort(), await freePort(), await freePort()];
  const child = spawn(
    process.execPath,
    [
      ...nodeFlags,
      join(REPO_ROOT, "bin/catalog"),
      "dev",
      "--s3-port",
      String(s3Port),
      "--dynamodb-port",
      String(dynamodbPort),
      "--http-port",
      String(httpPort),
      "--data-dir",
      dataDir,
    ],
    {
      stdio: ["ignore", "pipe", "inherit"],
      env: process.env,
    },
  );
  const pid = child.pid as number;
  const recordedAt = new Map<string, number>();
  let ready: () => void = () => {};
  const started = new Promise<void>((resolve) => {
    ready = resolve;
  });
  // The handler logs a line per object: drained as it comes, so a full pipe never stalls the child.
  child.stdout?.on("data", (chunk: Buffer) => {
    if (chunk.toString().includes(`127.0.0.1:${s3Port}`)) ready();
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  try {
    await Promise.race([
      started,
      exited.then(() => {
        throw new Error("catalog dev exited before it was ready");
      }),
    ]);
    const feed = await followRecords(httpPort, (key) => recordedAt.set(key, now()));
    const s3 = new S3Client({ ...LOCAL_S3_CLIENT_OPTIONS, endpoint: `http://127.0.0.1:${s3Port}` });
    // One object through the whole path first: module loading is start-up, not per-object work.
    await s3.send(
      new PutObjectCommand({ Bucket: LOCAL_DEFAULTS.bucket, Key: "warm-up.jpg", Body: bodies[0]?.body }),
    );
    while (!recordedAt.has("warm-up.jpg")) await new Promise((resolve) => setTimeout(resolve, 20));

    const processCpuBefore = processCpu(pid);
    const mainCpuBefore = mainThreadCpu(pid);
    const putAt = new Map<string, number>();
    const putOrder = new Map<string, number>();
    const firstAt = now();
    let next = 0;
    await Promise.all(
      Array.from({ length: uploadConcurrency }, async () => {
        while (next < count) {
          const index = next++;
          const file = bodies[index % bodies.length] as { name: string; body: Buffer };
          const key = `bench/${String(index).padStart(5, "0")}-${file.name}`;
          if (rate > 0) {
            const due = firstAt + (index * 1000) / rate;
            if (due > now()) await new Promise((resolve) => setTimeout(resolve, due - now()));
          }
          putAt.set(key, now());
          putOrder.set(key, index);
          await s3.send(new PutObjectCommand({ Bucket: LOCAL_DEFAULTS.bucket, Key: key, Body: file.body }));
        }
      }),
    );
    const uploadsDoneAt = now();
    const deadline = now() + 10 * 60_000;
    while ([...putAt.keys()].some((key) => !recordedAt.has(key)) && now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    s3.destroy();
    feed.destroy();
    const keys = [...putAt.keys()].filter((key) => recordedAt.has(key));
    const lastAt = Math.max(...keys.map((key) => recordedAt.get(key) as number));
    const latencyOf = (key: string) => (recordedAt.get(key) as number) - (putAt.get(key) as number);
    const latencies = keys.map(latencyOf);
    // The first pass over the corpus meets each format's code for the first time in a fresh process
    // (V8 compiles it while it runs, in the handler's and both servers' isolates): its tail is a
    // start-up cost, which the later passes show without.
    const passOf = (key: string) => (putOrder.get(key) as number) < bodies.length;
    const firstPass = keys.filter(passOf).map(latencyOf);
    const laterPasses = keys.filter((key) => !passOf(key)).map(latencyOf);
    const p50p95 = (samples: number[]): [number, number] =>
      samples.length ? [percentile(samples, 50), percentile(samples, 95)] : [Number.NaN, Number.NaN];
    const cpuMs = processCpu(pid) - processCpuBefore;
    const mainMs = mainThreadCpu(pid) - mainCpuBefore;
    const seconds = (lastAt - firstAt) / 1000;
    return {
      objectsPerSecond: keys.length / seconds,
      seconds,
      putsPerSecond: count / ((uploadsDoneAt - firstAt) / 1000),
      latency: { all: p50p95(latencies), first: p50p95(firstPass), later: p50p95(laterPasses) },
      recorded: keys.length,
      cpuPerObjectMs: cpuMs / count,
      mainCpuPerObjectMs: mainMs / count,
    };
  } finally {
    child.kill("SIGINT");
    await exited;
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** The median of the runs' values, then each run's value when there are several. */
function across(values: number[], format: (value: number) => string): string {
  const median = [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)] as number;
  return values.length > 1
    ? `${format(median)} (median; runs: ${values.map(format).join(", ")})`
    : format(median);
}

async function main(): Promise<void> {
  const names = readdirSync(CORPUS_DIR).sort();
  const bodies = await Promise.all(
    names.map(async (name) => ({ name, body: await readFile(join(CORPUS_DIR, name)) })),
  );
  const results: Run[] = [];
  for (let run = 0; run < runs; run++) {
    const result = await runOnce(bodies);
    results.push(result);
    console.log(
      `run ${run + 1}: ${result.objectsPerSecond.toFixed(1)} objects/s, p95 ${ms(result.latency.all[1])}, ${result.cpuPerObjectMs.toFixed(1)} ms CPU per object`,
    );
  }
  const perSecond = (value: number) => value.toFixed(1);
  const latency = (pick: (run: Run) => [number, number]) =>
    `${across(
      results.map((run) => pick(run)[0]),
      ms,
    )} / ${across(
      results.map((run) => pick(run)[1]),
      ms,
    )}`;
  {
    const figures: Figure[] = [
      [
        "objects",
        `${count} (corpus of ${names.length} files, cycled)${rate ? `, paced at ${rate} PUT/s` : ""}`,
      ],
      ["upload concurrency", String(uploadConcurrency)],
      ["runs (a fresh catalog dev each)", String(runs)],
      [
        "end to end, objects/s (first PUT to last record)",
        across(
          results.map((run) => run.objectsPerSecond),
          perSecond,
        ),
      ],
      [
        "uploads alone, PUT/s",
        across(
          results.map((run) => run.putsPerSecond),
          perSecond,
        ),
      ],
      ["upload-to-record latency p50 / p95", latency((run) => run.latency.all)],
      [
        `  p50 / p95, first pass over the corpus (1-${Math.min(count, bodies.length)})`,
        latency((run) => run.latency.first),
      ],
      ["  p50 / p95, later passes", latency((run) => run.latency.later)],
      ["recorded / uploaded", results.map((run) => `${run.recorded} / ${count}`).join(", ")],
      [
        "catalog dev CPU per object, all threads",
        across(
          results.map((run) => run.cpuPerObjectMs),
          (value) => `${value.toFixed(1)} ms`,
        ),
      ],
      [
        "catalog dev CPU per object, main thread",
        across(
          results.map((run) => run.mainCpuPerObjectMs),
          (value) => `${value.toFixed(1)} ms`,
        ),
      ],
      ["load average during the run (1 min)", (loadavg()[0] ?? 0).toFixed(1)],
    ];
    for (const [label, value] of figures) console.log(`${label.padEnd(54)} ${value}`);
    if (write) {
      recordSection(
        rate ? `catalog dev at ${rate} uploads/s` : "catalog dev",
        `npx tsx bench/catalog-dev.bench.ts --count ${count} --upload-concurrency ${uploadConcurrency}${rate ? ` --rate ${rate}` : ""}${runs > 1 ? ` --runs ${runs}` : ""}`,
        figures,
        "`catalog dev` as `npm start` runs it (the built package, its own process, defaults: thumbnails on, 4 invocations at once), uploaded to from another process with the AWS SDK; a record counts when the dashboard's live feed (`GET /api/events`) announces it, which happens once it is written. The latency is also split between the first pass over the corpus, where each format's code runs for the first time in a fresh process (V8 compiles it as it goes, in the handler's and both servers' isolates), and the later passes, as a stack that has been running meets them. The child's CPU is the process's own total from /proc (main thread, the S3 and DynamoDB server threads, V8's and libuv's pools, libvips, threads that ended during the run included); the uploader's is not in it.\n\nWhere that CPU goes, sampled on 2026-11-26 with `perf record -F 300 -g -p <pid of catalog dev>` during a 1,000-object run (the child started with `NODE_OPTIONS=--perf-basic-prof`): main thread (dispatcher, handler, its SDK clients, engine) 29%; V8's compiler and GC threads 19% (TurboFan compiling the code of four isolates, which a short run never finishes); libuv's pool 18%, almost half of it ext4 allocating inodes for the files s3rver writes per object (object, MD5, metadata), the rest LevelDB and libvips; s3rver's thread 13%; dynalite's thread 13%; libvips' own workers 8%. Thumbnails (libvips and its share of the pool) are about a tenth of the whole. Both servers together cost about as much as the handler's thread: each request is parsed, validated and answered over HTTP on both sides, which is the price of running the code that runs on AWS unchanged.",
      );
    }
  }
}

await main();
