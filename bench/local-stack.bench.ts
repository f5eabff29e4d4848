/**
 * The local stack under load: N corpus files uploaded with the AWS SDK to the
 * embedded S3 server, each carried by the dispatcher through the real handler
 * into the embedded DynamoDB. Measures end-to-end objects/s and the latency
 * from the start of each PUT to its record being written (the dispatcher's
 * delivery callback fires after the handler's conditional write and audit).
 *
 *   npx tsx bench/local-stack.bench.ts [--count 1000] [--upload-concurrency 16]
 *     [--dispatch-concurrency 4] [--rate N] [--no-write]
 *
 * `--rate N` paces the uploads at N PUTs per second instead of as fast as the
 * uploader can go: with N under the pipeline's capacity, upload-to-record
 * latency is the pipeline's own, not time spent queueing. Without it the
 * section written is "Local stack"; with it, "Local stack at N uploads/s".
 *
 * Same defaults as `catalog dev` (4 invocations at once) unless told otherwise. The embedded
 * servers run on their own threads, as in `catalog dev`; the uploader runs on another.
 */
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import type { DeliveryOutcome } from "../src/local/dispatcher.js";
import { LOCAL_S3_CLIENT_OPTIONS, LocalStack } from "../src/local/local-stack.js";
import { CORPUS_DIR } from "../test/support/corpus.js";
import { type Figure, percentile, positiveIntFlag, recordSection } from "./results.js";

process.env.POWERTOOLS_METRICS_DISABLED ??= "true";
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => positiveIntFlag(args, name, fallback);
const count = flag("--count", 1000);
const uploadConcurrency = flag("--upload-concurrency", 16);
const dispatchConcurrency = flag("--dispatch-concurrency", 4);
const rate = args.includes("--rate") ? flag("--rate", 0) : 0;
const write = !args.includes("--no-write");

const ms = (value: number) => `${value.toFixed(0)} ms`;

/**
 * CPU time (user + system, ms) of each of this process's threads, from
 * /proc/self/task/<tid>/stat (clock ticks of 10 ms); empty where there is no /proc.
 */
function threadCpuTimes(): Map<number, number> {
  const times = new Map<number, number>();
  try {
    for (const tid of readdirSync("/proc/self/task")) {
      try {
        const stat = readFileSync(`/proc/self/task/${tid}/stat`, "utf8");
        const fields = (stat.split(") ")[1] ?? "").split(" ");
        times.set(Number(tid), (Number(fields[11]) + Number(fields[12])) * 10);
      } catch {
        // The thread ended between the listing and the read.
      }
    }
  } catch {
    // Not Linux.
  }
  return times;
}
/** Milliseconds since the epoch, comparable across threads. */
const now = () => performance.timeOrigin + performance.now();

/** Uploads `count` corpus files (cycled, unique keys) at a bounded concurrency and reports each PUT. */
const UPLOADER = `
const { parentPort, workerData } = require("node:worker_threads");
const { readFileSync } = require("node:fs");
const { basename } = require("node:path");
const { S3Client, PutObjectCommand } = require("@aws-sdk/client-s3");
const now = () => performance.timeOrigin + performance.now();
// This thread's CPU (user + system, ms) from /proc; 0 where there is none.
const threadCpu = () => {
  try {
    const fields = readFileSync("/proc/thread-self/stat", "utf8").split(") ")[1].split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch { return 0; }
};
const cpuAtStart = threadCpu();
const { endpoint, bucket, options, files, count, concurrency, rate } = workerData;
const bodies = files.map((path) => ({ name: basename(path), body: readFileSync(path) }));
const s3 = new S3Client({ ...options, endpoint });
let next = 0;
const firstAt = now();
async function upload() {
  while (next < count) {
    const index = next++;
    const file = bodies[index % bodies.length];
    const key = "bench/" + String(index).padStart(5, "0") + "-" + file.name;
    // Paced: PUT number i starts at i / rate seconds (or as soon as an uploader is free after that).
    if (rate > 0) {
      const due = firstAt + (index * 1000) / rate;
      if (due > now()) await new Promise((resolve) => setTimeout(resolve, due - now()));
    }
    const putAt = now();
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: file.body }));
    parentPort.postMessage({ key, putAt, doneAt: now(), bytes: file.body.byteLength });
  }
}
Promise.all(Array.from({ length: concurrency }, upload)).then(() => {
  parentPort.postMessage({ end: true, doneAt: now(), cpuMs: threadCpu() - cpuAtStart });
  s3.destroy();
});
`;

async function main(): Promise<void> {
  const names = (await readdir(CORPUS_DIR)).sort();
  const warmup = await readFile(join(CORPUS_DIR, "exifpy-Canon_40D.jpg"));
  const dataDir = await mkdtemp(join(tmpdir(), "catalog-bench-"));
  const putStarted = new Map<string, number>();
  const putDone = new Map<string, number>();
  const latencies: number[] = [];
  const afterPut: number[] = [];
  const putLatencies: number[] = [];
  let bytes = 0;
  // A delivery can beat the worker's message saying its PUT started: settle it when that arrives.
  const pendingBeforePut = new Map<string, () => void>();
  let delivered = 0;
  let failed = 0;
  let lastDelivery = 0;
  let allDelivered: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    allDelivered = resolve;
  });
  const onDelivery = (outcome: DeliveryOutcome) => {
    const at = now();
    if (!outcome.event.key.startsWith("bench/")) return;
    if (!putStarted.has(outcome.event.key)) {
      pendingBeforePut.set(outcome.event.key, () => settle(outcome, at));
      return;
    }
    settle(outcome, at);
  };
  const settle = (outcome: DeliveryOutcome, at: number) => {
    const started = putStarted.get(outcome.event.key) as number;
    if (outcome.delivered) delivered++;
    else failed++;
    latencies.push(at - started);
    const put = putDone.get(outcome.event.key);
    if (put !== undefined) afterPut.push(at - put);
    lastDelivery = Math.max(lastDelivery, at);
    if (delivered + failed === count) allDelivered();
  };

  const stack = await LocalStack.start({
    s3Port: 0,
    dynamodbPort: 0,
    dataDir,
    logLevel: "SILENT",
    concurrency: dispatchConcurrency,
    onDelivery,
  });
  // Time every call the handler makes, by operation: the stack's clients are the handler's clients.
  const calls = new Map<string, number[]>();
  for (const client of [stack.s3Client, stack.dynamodbClient] as const) {
    (client.middlewareStack as { add: (middleware: unknown, options: unknown) => void }).add(
      (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) =>
        async (args: unknown) => {
          const at = performance.now();
          try {
            return await next(args);
          } finally {
            const name = (context.commandName ?? "?").replace(/Command$/, "");
            const list = calls.get(name) ?? [];
            list.push(performance.now() - at);
            calls.set(name, list);
          }
        },
      { step: "initialize", name: "benchTiming" },
    );
  }
  try {
    // Warm up: the first object loads the extractors and opens the LevelDB files.
    await stack.s3Client.send(
      new PutObjectCommand({ Bucket: stack.bucket, Key: "warmup/a.jpg", Body: warmup }),
    );
    await stack.dispatcher.idle();

    // The uploader is a client, not part of the stack: it runs on its own thread (as the AWS CLI
    // or a browser would be its own process), so the stack's event loop carries only the stack.
    const started = now();
    // CPU of the whole process (every thread: handler, both servers, the uploader, GC, libuv's pool)
    // and how busy the handler's own event loop was: the budget for 100 objects/s on two cores is
    // 20 ms of CPU per object in all, 10 ms on the handler's thread.
    const cpuBefore = process.cpuUsage();
    const threadsBefore = threadCpuTimes();
    const loopBefore = performance.eventLoopUtilization();
    let uploaderCpuMs = 0;
    const uploadsDone = await new Promise<number>((resolve, reject) => {
      const worker = new Worker(UPLOADER, {
        eval: true,
        workerData: {
          endpoint: stack.s3.endpoint,
          bucket: stack.bucket,
          options: LOCAL_S3_CLIENT_OPTIONS,
          files: names.map((name) => join(CORPUS_DIR, name)),
          count,
          concurrency: uploadConcurrency,
          rate,
        },
      });
      worker.on(
        "message",
        (message: {
          key?: string;
          putAt: number;
          doneAt: number;
          bytes?: number;
          end?: true;
          cpuMs?: number;
        }) => {
          if (message.end) {
            uploaderCpuMs = message.cpuMs ?? 0;
            resolve(message.doneAt);
            return;
          }
          const key = message.key as string;
          bytes += message.bytes ?? 0;
          putStarted.set(key, message.putAt);
          putDone.set(key, message.doneAt);
          putLatencies.push(message.doneAt - message.putAt);
          pendingBeforePut.get(key)?.();
        },
      );
      worker.once("error", reject);
    });
    await finished;
    const seconds = (lastDelivery - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    const threadsAfter = threadCpuTimes();
    const loop = performance.eventLoopUtilization(loopBefore);
    const threadCpu = (tid: number | undefined) =>
      tid === undefined ? 0 : (threadsAfter.get(tid) ?? 0) - (threadsBefore.get(tid) ?? 0);
    const handlerCalls = [...calls].map(([name, times]) => [name, [...times]] as const);

    // Where the time goes: the pipeline's own figures, from the records.
    const pipeline: number[] = [];
    const engine: number[] = [];
    let records = 0;
    for (const key of putStarted.keys()) {
      const { record } = await stack.store.getObject(stack.bucket, key);
      if (!record) continue;
      records++;
      if (record.durationMs !== undefined) pipeline.push(record.durationMs);
      if (record.extractionMs !== undefined) engine.push(record.extractionMs);
    }

    const figures: Figure[] = [
      [
        "objects",
        `${count} (corpus of ${names.length} files, cycled; ${(bytes / 1024 / 1024).toFixed(1)} MiB)`,
      ],
      [
        "upload concurrency / dispatcher concurrency",
        `${uploadConcurrency} / ${dispatchConcurrency}${rate > 0 ? `, uploads paced at ${rate}/s` : ""}`,
      ],
      [
        "end to end",
        `${(count / seconds).toFixed(1)} objects/s (${seconds.toFixed(1)} s, first PUT to last record)`,
      ],
      ["uploads alone", `${(count / ((uploadsDone - started) / 1000)).toFixed(1)} PUT/s`],
      [
        "upload-to-record latency p50 / p95 / max",
        `${ms(percentile(latencies, 50))} / ${ms(percentile(latencies, 95))} / ${ms(percentile(latencies, 100))}`,
      ],
      [
        "  PUT round trip p50 / p95",
        `${ms(percentile(putLatencies, 50))} / ${ms(percentile(putLatencies, 95))}`,
      ],
      [
        "  PUT done to record written p50 / p95",
        `${ms(percentile(afterPut, 50))} / ${ms(percentile(afterPut, 95))}`,
      ],
      [
        "  handler pipeline per object p50 / p95",
        `${ms(percentile(pipeline, 50))} / ${ms(percentile(pipeline, 95))}`,
      ],
      [
        "  engine alone per object p50 / p95",
        `${ms(percentile(engine, 50))} / ${ms(percentile(engine, 95))}`,
      ],
      ["delivered / dead-lettered / records", `${delivered} / ${failed} / ${records}`],
    ];
    const objects = count + 1;
    for (const [name, times] of [...handlerCalls].sort((a, b) => b[1].length - a[1].length)) {
      const total = times.reduce((sum, time) => sum + time, 0);
      figures.push([
        `  handler ${name}: calls per object, p50 / p95`,
        `${(times.length / objects).toFixed(2)}, ${ms(percentile(times, 50))} / ${ms(percentile(times, 95))} (${(total / objects).toFixed(0)} ms per object)`,
      ]);
    }
    figures.push([
      "CPU per object, all threads / handler's event loop busy",
      `${ms((cpu.user + cpu.system) / 1000 / count)} / ${ms(loop.active / count)} (loop ${(loop.utilization * 100).toFixed(0)}% busy)`,
    ]);
    if (threadsAfter.size > 0) {
      const perObject = (value: number) => `${(value / count).toFixed(1)} ms`;
      const handlerCpu = threadCpu(process.pid);
      const s3Cpu = threadCpu(stack.s3.osThreadId);
      const dynamoCpu = threadCpu(stack.dynamodb.osThreadId);
      const total = (cpu.user + cpu.system) / 1000;
      figures.push([
        "  CPU per object by thread: handler / s3rver / dynalite / uploader / rest",
        `${perObject(handlerCpu)} / ${perObject(s3Cpu)} / ${perObject(dynamoCpu)} / ${perObject(uploaderCpuMs)} / ${perObject(total - handlerCpu - s3Cpu - dynamoCpu - uploaderCpuMs)}`,
      ]);
    }
    figures.push(["load average during the run (1 min)", loadavg()[0]?.toFixed(1) ?? "?"]);
    for (const [label, value] of figures) console.log(`${label.padEnd(44)} ${value}`);
    if (write) {
      recordSection(
        rate > 0 ? `Local stack at ${rate} uploads/s` : "Local stack",
        `npx tsx bench/local-stack.bench.ts --count ${count} --upload-concurrency ${uploadConcurrency} --dispatch-concurrency ${dispatchConcurrency}${rate > 0 ? ` --rate ${rate}` : ""}`,
        figures,
        [
          "One Node.js process, as `catalog dev` runs it: s3rver and dynalite (LevelDB on disk) each on a",
          "worker thread of their own, the dispatcher and the handler on the main thread, the uploader on",
          "another thread (a client, as the AWS CLI would be); two cores in all. Targets (issue 4):",
          ">= 100 objects/s and p95 upload-to-record <= 500 ms.",
          "",
          "Reading the figures: without --rate, uploads arrive faster than the pipeline drains them, so",
          "upload-to-record latency is mostly the dispatcher's queue and objects/s is the pipeline's",
          "capacity; with --rate under that capacity, latency is the pipeline's own. `CPU per object` is",
          "the whole process's CPU over the run divided by the objects: two cores give 20 ms per object at",
          "100 objects/s. `by thread` splits it with /proc: the handler's thread (dispatcher, handler, its",
          "SDK clients, engine), s3rver's and dynalite's threads, the uploader's, and the rest: V8's",
          "background threads (mostly the optimizing compiler: a 1,200-object run compiled ~2,000 functions",
          "across the four isolates, and a thread sample found them in TurboFan, not in GC), libuv's pool",
          "(s3rver's files, LevelDB) and libvips (thumbnails). The `handler <Operation>` lines are the wall",
          "time of every SDK call the handler made. `handler pipeline` is the record's durationMs (before",
          "the DynamoDB writes). The load average shows how busy the machine was, this run included.",
          "",
          "Where it stands, and why the target is missed: capacity went from 35 to 41-45 objects/s on the same",
          "quiet machine when objects the policy hashes became one GET (no HEAD, no further ranged GETs, no",
          "second read for the thumbnail: 6.1 handler calls per object down to 4.5) and s3rver stopped",
          "re-reading its bucket's configuration files on every request. It is still CPU-bound: ~38-42 ms per",
          "object against 20. Without the compiler threads (a stack running for hours stops compiling; a",
          "1,000-object run does not) the handler, s3rver, dynalite and the uploader still take ~22 ms:",
          "each SDK call costs the handler ~1.5-2 ms of CPU (middleware, endpoint rules, SigV4, HTTP) and",
          "its server about as much again, and the three DynamoDB writes (record, audit entry, duplicate",
          "group) are what the data model needs (dynalite has no transactions to merge them, and on AWS a",
          "transaction bills double). 100 objects/s on two cores would need a cheaper path than HTTP and",
          "the SDK between handler and servers, and then the local stack would no longer run the code that",
          "runs on AWS. Below capacity the latency target holds: at 30 uploads/s, p95 upload-to-record was",
          'under 500 ms (see "Local stack at 30 uploads/s").',
          "",
          "Servers on threads, measured back to back on 2026-11-25 (load ~3): in-process servers 27.2",
          "objects/s, p95 27.7 s, handler loop 96% busy (35 ms per object); on threads 35.2 objects/s, p95",
          "18.5 s, 74% busy (21 ms). CPU per object overall stayed ~50 ms: the work moved to the second",
          "core, it did not shrink. (The earlier 17.3 objects/s was measured at load 7.)",
        ].join("\n"),
      );
    }
  } finally {
    await stack.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
