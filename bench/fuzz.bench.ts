/**
 * Fuzzing the extraction engine with mutations of the shared corpus.
 *
 *   npx tsx bench/fuzz.bench.ts [--seed 1] [--count 10000] [--workers 4] [--files REGEX]
 *     [--seeds-dir DIR] [--no-write]
 *
 * `--files` draws the inputs from the corpus files whose name matches the
 * pattern (case-insensitive), e.g. `'\.(e?ps|svg|png)$'` after a change to
 * those extractors; splices still take their body from the whole corpus.
 * `--seeds-dir` adds the files of a folder to the corpus, for formats it
 * holds few of (bench/make-archive-seeds.ts writes archives for it).
 * Every input runs through `extract()` over a BufferSource with the default
 * budget (time cut to 5 s) inside a worker thread. A watchdog terminates a
 * worker that has not answered 1 s after the time budget, so a synchronous
 * infinite loop is counted as a hang instead of freezing the run. Counted:
 * exceptions out of extract(), uncaught errors and unhandled rejections
 * raised while an input ran, hangs, worker deaths (out of memory), statuses,
 * peak RSS of the whole process (all workers share it), inputs per second.
 * Inputs that crash or hang are saved to test/fixtures/regressions/ (when
 * small enough) so test/engine/fuzz.test.ts replays them.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { BufferSource } from "../src/engine/byte-source/byte-source.js";
import { extract } from "../src/engine/engine.js";
import { describeError } from "../src/engine/errors.js";
import { REPO_ROOT } from "../test/support/corpus.js";
import { type CorpusSample, fuzzInput, loadCorpus, loadSeedsDir, selectSeeds } from "./fuzz-inputs.js";
import { type Figure, percentile, recordSection } from "./results.js";

/** The engine's time budget per input in this run. */
const TIME_BUDGET_MS = 5_000;
/** How long past the time budget a worker may stay silent before it counts as hung. */
const HANG_GRACE_MS = 1_000;
/** Old-space cap per worker: a runaway allocation kills the worker, not the run. */
const WORKER_HEAP_MB = 768;
/** Largest crashing input kept as a fixture; bigger ones are recorded by seed and index. */
const MAX_FIXTURE_BYTES = 256 * 1024;
/** One input growing a worker's memory by more than this counts as a memory failure. */
const MAX_INPUT_ALLOCATION_BYTES = 128 * 1024 * 1024;
const REGRESSIONS_DIR = join(REPO_ROOT, "test/fixtures/regressions");

/**
 * Worker threads do not inherit tsx's module hooks, so each worker registers
 * them before importing this file.
 */
const WORKER_BOOT = `import(${JSON.stringify(import.meta.resolve("tsx/esm/api"))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(import.meta.url)}); })`;

interface Job {
  seed: number;
  index: number;
  /** The `--files` pattern choosing the seed files, if any. */
  files?: string;
}

/** What a worker reports for one input. */
interface Outcome {
  index: number;
  status?: string;
  reason?: string;
  /** extract() threw, or an error escaped while this input ran. */
  crash?: string;
  millis: number;
  /** Growth of this worker's heap plus array buffers across the input, in bytes. */
  allocated: number;
}

if (!isMainThread) runWorker();
else await runMain();

function runWorker(): void {
  const seedsDir = (workerData as { seedsDir?: string } | undefined)?.seedsDir;
  const corpus = [...loadCorpus(), ...(seedsDir === undefined ? [] : loadSeedsDir(seedsDir))];
  const port = parentPort;
  if (!port) return;
  let current: number | undefined;
  // Errors raised outside extract()'s promise chain (a library's timer or
  // emitter) would otherwise kill the worker; charge them to the running input.
  const escaped = (error: unknown) =>
    port.postMessage({ type: "escaped", index: current, crash: `escaped: ${describeError(error)}` });
  process.on("uncaughtException", escaped);
  process.on("unhandledRejection", escaped);
  const seedsByPattern = new Map<string | undefined, CorpusSample[]>();
  port.on("message", async (job: Job) => {
    current = job.index;
    let seeds = seedsByPattern.get(job.files);
    if (!seeds) {
      seeds = selectSeeds(corpus, job.files);
      seedsByPattern.set(job.files, seeds);
    }
    const input = fuzzInput(seeds, job.seed, job.index, corpus);
    const started = performance.now();
    const outcome: Outcome = { index: job.index, millis: 0, allocated: 0 };
    const before = process.memoryUsage();
    try {
      const result = await extract(new BufferSource(input.bytes, input.name), {
        name: input.name,
        budget: { maxMillis: TIME_BUDGET_MS },
      });
      JSON.stringify(result);
      outcome.status = result.status;
      if (result.reason !== undefined) outcome.reason = result.reason;
    } catch (error) {
      outcome.crash = `threw ${error instanceof Error ? error.name : typeof error}: ${describeError(error)}`;
    }
    outcome.millis = performance.now() - started;
    const after = process.memoryUsage();
    outcome.allocated = after.heapUsed + after.arrayBuffers - before.heapUsed - before.arrayBuffers;
    port.postMessage({ type: "outcome", ...outcome });
  });
  port.postMessage({ type: "ready" });
}

interface Failure {
  index: number;
  what: "crash" | "hang" | "worker died" | "memory";
  message: string;
}

async function runMain(): Promise<void> {
  const args = process.argv.slice(2);
  const option = (name: string, fallback: number) => {
    const at = args.indexOf(name);
    const value = at >= 0 ? Number(args[at + 1]) : Number.NaN;
    return Number.isFinite(value) ? value : fallback;
  };
  const seed = option("--seed", 1) >>> 0;
  const count = option("--count", 10_000);
  const workers = Math.max(1, option("--workers", Math.min(4, Math.max(1, availableParallelism() - 1))));
  const write = !args.includes("--no-write");
  const filesAt = args.indexOf("--files");
  const files = filesAt >= 0 ? args[filesAt + 1] : undefined;
  const seedsDirAt = args.indexOf("--seeds-dir");
  const seedsDir = seedsDirAt >= 0 ? args[seedsDirAt + 1] : undefined;

  let extra: CorpusSample[] = [];
  if (seedsDir !== undefined) {
    try {
      extra = loadSeedsDir(seedsDir);
    } catch (error) {
      console.error(`fuzz: --seeds-dir ${seedsDir}: ${describeError(error)}`);
      process.exit(2);
    }
  }
  const corpus = [...loadCorpus(), ...extra];
  const seeds = selectSeeds(corpus, files);
  if (seeds.length === 0) {
    console.error(`fuzz: no corpus file matches --files ${files}`);
    process.exit(2);
  }
  const scope =
    (files === undefined ? "" : ` matching /${files}/i`) +
    (seedsDir === undefined ? "" : `, ${extra.length} of them from ${seedsDir}`);
  console.log(
    `fuzz: seed ${seed}, ${count} inputs over ${seeds.length} corpus files${scope}, ${workers} workers`,
  );

  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 25);

  const statuses = new Map<string, number>();
  const reasons = new Map<string, number>();
  const failures: Failure[] = [];
  const millis: number[] = [];
  let timeBudgetHits = 0;
  let next = 0;
  let done = 0;
  const started = performance.now();

  const record = (outcome: Outcome) => {
    millis.push(outcome.millis);
    if (outcome.crash) failures.push({ index: outcome.index, what: "crash", message: outcome.crash });
    if (outcome.allocated > MAX_INPUT_ALLOCATION_BYTES) {
      const mib = (outcome.allocated / 1024 ** 2).toFixed(0);
      failures.push({
        index: outcome.index,
        what: "memory",
        message: `memory grew by ${mib} MiB during extraction`,
      });
    }
    if (outcome.status) statuses.set(outcome.status, (statuses.get(outcome.status) ?? 0) + 1);
    if (outcome.reason) {
      const key = outcome.reason.replace(/\d+/g, "N").slice(0, 80);
      reasons.set(key, (reasons.get(key) ?? 0) + 1);
      if (/time budget/.test(outcome.reason)) timeBudgetHits += 1;
    }
  };

  await new Promise<void>((finish) => {
    let live = 0;
    const spawn = () => {
      live += 1;
      const worker = new Worker(WORKER_BOOT, {
        eval: true,
        workerData: { seedsDir },
        resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB },
      });
      let job: number | undefined;
      let watchdog: NodeJS.Timeout | undefined;
      let retired = false;
      let ready = false;
      const retire = (what: Failure["what"], message: string) => {
        if (retired) return;
        if (!ready) {
          // A worker that cannot even start would be respawned forever.
          console.error(`fuzz: a worker failed to start: ${message}`);
          process.exit(2);
        }
        retired = true;
        clearTimeout(watchdog);
        if (job !== undefined) {
          failures.push({ index: job, what, message });
          millis.push(TIME_BUDGET_MS + HANG_GRACE_MS);
          done += 1;
        }
        live -= 1;
        void worker.terminate();
        if (next < count) spawn();
        else if (live === 0) finish();
      };
      const feed = () => {
        if (next >= count) {
          job = undefined;
          retired = true;
          live -= 1;
          void worker.terminate();
          if (live === 0) finish();
          return;
        }
        job = next;
        next += 1;
        watchdog = setTimeout(
          () => retire("hang", `no result ${TIME_BUDGET_MS + HANG_GRACE_MS} ms after start`),
          TIME_BUDGET_MS + HANG_GRACE_MS,
        );
        worker.postMessage({ seed, index: job, ...(files !== undefined && { files }) } satisfies Job);
      };
      worker.on("message", (message: { type: string } & Partial<Outcome>) => {
        if (message.type === "ready") {
          ready = true;
          feed();
        } else if (message.type === "escaped") {
          const index = message.index ?? job ?? -1;
          failures.push({ index, what: "crash", message: message.crash ?? "escaped error" });
        } else if (message.type === "outcome" && message.index === job) {
          clearTimeout(watchdog);
          record(message as Outcome);
          done += 1;
          if (done % 1000 === 0) console.log(`  ${done}/${count}`);
          feed();
        }
      });
      worker.on("error", (error) => retire("worker died", describeError(error)));
      worker.on("exit", (code) => {
        if (!retired) retire("worker died", `worker exited with code ${code}`);
      });
    };
    for (let i = 0; i < Math.min(workers, count); i += 1) spawn();
    if (count <= 0) finish();
  });
  clearInterval(sampler);
  const wallSeconds = (performance.now() - started) / 1000;

  const saved = saveFailures(seeds, corpus, seed, files, failures);
  const crashes = failures.filter(
    (failure) => failure.what === "crash" || failure.what === "worker died",
  ).length;
  const memoryHogs = failures.filter((failure) => failure.what === "memory").length;
  const hangs = failures.filter((failure) => failure.what === "hang").length;
  const withStatus = [...statuses.values()].reduce((sum, n) => sum + n, 0);
  const figures: Figure[] = [
    ["inputs", `${count} (seed ${seed}, ${seeds.length} corpus files${scope})`],
    ...(files === undefined ? [] : [["inputs per seed file type", inputsPerType(seeds, count)] as Figure]),
    ["inputs with a result and a status", `${withStatus} of ${count}`],
    ["uncaught exceptions (thrown, escaped, worker died)", String(crashes)],
    [`hangs (no result ${TIME_BUDGET_MS + HANG_GRACE_MS} ms after start)`, String(hangs)],
    ["inputs that hit the 5 s time budget", String(timeBudgetHits)],
    ["inputs growing a worker's heap + array buffers by > 128 MiB", String(memoryHogs)],
    [
      "statuses",
      ["ok", "partial", "error"].map((status) => `${status} ${statuses.get(status) ?? 0}`).join(", "),
    ],
    ["peak RSS (whole process, all workers)", `${(peakRss / 1024 ** 2).toFixed(0)} MiB (target <= 512 MiB)`],
    [
      "throughput",
      `${(count / wallSeconds).toFixed(0)} inputs/s with ${workers} workers (${wallSeconds.toFixed(1)} s)`,
    ],
    [
      "per-input wall time p50 / p99 / max",
      `${percentile(millis, 50).toFixed(1)} / ${percentile(millis, 99).toFixed(1)} / ${Math.max(...millis).toFixed(0)} ms`,
    ],
  ];
  for (const [label, value] of figures) console.log(`${label.padEnd(52)} ${value}`);
  console.log("most frequent reasons:");
  for (const [reason, n] of [...reasons].sort((a, b) => b[1] - a[1]).slice(0, 15)) {
    console.log(`  ${String(n).padStart(5)}  ${reason}`);
  }
  for (const failure of failures) {
    const input = fuzzInput(seeds, seed, failure.index, corpus);
    console.log(
      `FAIL ${failure.what} #${failure.index} ${input.name} ${input.kind} (${input.detail}): ${failure.message}`,
    );
  }
  if (saved.length > 0) console.log(`saved:\n  ${saved.join("\n  ")}`);

  if (write) {
    const notes = [
      "Mutations: truncation, 1-32 bit flips, runs of 0x00/0xFF/random, 0x7FFFFFFF/0xFFFFFFFF written over",
      "4-byte fields in the first or last 4 KiB, splices of one file's first 1-4 KiB onto another's body,",
      "zero-length and 1-byte inputs. Each input runs in a worker thread under a watchdog; failing inputs are",
      "kept in test/fixtures/regressions/ and replayed by test/engine/fuzz.test.ts.",
      failures.length > 0
        ? `Failures this run: ${failures.map((f) => `#${f.index} ${f.what}`).join(", ")}; their causes are in test/fixtures/regressions/README.md.`
        : "No failures this run.",
    ].join("\n");
    recordSection(
      "Fuzz",
      `npx tsx bench/fuzz.bench.ts --seed ${seed} --count ${count} --workers ${workers}${files === undefined ? "" : ` --files '${files}'`}${seedsDir === undefined ? "" : ` --seeds-dir ${seedsDir}`}`,
      figures,
      notes,
    );
  }
  process.exitCode = failures.length > 0 ? 1 : 0;
}

/**
 * Keeps each failing input as a fixture (small ones) with a README line, so
 * it is replayed forever; larger ones are listed by seed and index.
 */
function saveFailures(
  seeds: readonly CorpusSample[],
  corpus: readonly CorpusSample[],
  seed: number,
  files: string | undefined,
  failures: readonly Failure[],
): string[] {
  if (failures.length === 0) return [];
  mkdirSync(REGRESSIONS_DIR, { recursive: true });
  const readmePath = join(REGRESSIONS_DIR, "README.md");
  let readme = existsSync(readmePath) ? readFileSync(readmePath, "utf8") : "";
  const saved: string[] = [];
  const seen = new Set<number>();
  for (const failure of failures) {
    if (seen.has(failure.index)) continue;
    seen.add(failure.index);
    const input = fuzzInput(seeds, seed, failure.index, corpus);
    const sha8 = createHash("sha256").update(input.bytes).digest("hex").slice(0, 8);
    const focus = files === undefined ? "" : ` of --files '${files}'`;
    const origin = `seed ${seed} index ${failure.index}${focus}, ${input.kind} of ${input.name} (${input.detail})`;
    const fileName = `${sha8}-${input.name}.bin`;
    const line =
      input.bytes.byteLength <= MAX_FIXTURE_BYTES
        ? `- \`${fileName}\`: ${origin}; ${failure.what}: ${failure.message}`
        : `- not kept (${input.bytes.byteLength} bytes): ${origin}; ${failure.what}: ${failure.message}`;
    if (input.bytes.byteLength <= MAX_FIXTURE_BYTES) {
      writeFileSync(join(REGRESSIONS_DIR, fileName), input.bytes);
      saved.push(fileName);
    }
    if (!readme.includes(origin)) readme = `${readme.trimEnd()}\n${line}\n`;
  }
  writeFileSync(readmePath, readme);
  return saved;
}

/** How many inputs each file extension among the seeds received (input i uses seed i mod n). */
function inputsPerType(seeds: readonly CorpusSample[], count: number): string {
  const perType = new Map<string, number>();
  seeds.forEach((sample, at) => {
    const share = Math.floor(count / seeds.length) + (at < count % seeds.length ? 1 : 0);
    const type = /\.([^.]+)$/.exec(sample.name)?.[1]?.toLowerCase() ?? "(none)";
    perType.set(type, (perType.get(type) ?? 0) + share);
  });
  return [...perType]
    .sort((a, b) => b[1] - a[1])
    .map(([type, n]) => `${type} ${n}`)
    .join(", ");
}
