/**
 * Bundle size and cold start of the Lambda handler, bundled exactly as the CDK stack bundles it (the
 * esbuild options come from infra/lib/handler-bundle.ts, which the stack also reads).
 *
 * Run: `npx tsx bench/bundle.bench.ts [--runs 15] [--no-write]`
 *
 * Cold start is measured in fresh `node` processes, one per run, with the function's NODE_OPTIONS:
 * - import: `await import(bundle)`, timed inside the process;
 * - first call: the first invocation (an `s3:TestEvent`, which touches no AWS service), where the handler
 *   reads its configuration and builds its clients;
 * - process: spawn to exit, minus the same for an empty script (node's own start-up).
 * Figures are medians. The section "Bundle and cold start" of bench/RESULTS.md is written (replaced if
 * present) unless --no-write is given.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { deflateRawSync } from "node:zlib";
import { build, type Metafile } from "esbuild";
import { esbuildBuildOptions, HANDLER_NODE_OPTIONS, PROJECT_ROOT } from "../infra/lib/handler-bundle.js";

const SIZE_TARGET_BYTES = 2 * 1024 * 1024;
const INIT_TARGET_MS = 150;
const SECTION = "## Bundle and cold start";

interface ColdStart {
  importMs: number;
  firstCallMs: number;
  processMs: number;
}

function argValue(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  return Number.isInteger(value) && value > 0 ? value : fallback;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Bytes of the bundle attributed to each npm package (or "src" for this project's code). */
function bytesByPackage(metafile: Metafile): [string, number][] {
  const totals = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const match = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
      const name = match?.[1] ?? (input.startsWith("src/") ? "src (this project)" : input);
      totals.set(name, (totals.get(name) ?? 0) + bytesInOutput);
    }
  }
  return [...totals].sort((a, b) => b[1] - a[1]);
}

let warned = false;

/** One fresh process: import the bundle, then call the handler once with an event that needs no AWS. */
function coldStart(bundle: string, nodeOptions: string): ColdStart {
  const probe = `
    const t0 = performance.now();
    const mod = await import(${JSON.stringify(bundle)});
    const t1 = performance.now();
    await mod.handler({ Event: "s3:TestEvent", Service: "Amazon S3", Bucket: "bench" });
    const t2 = performance.now();
    process.stderr.write("COLDSTART " + JSON.stringify({ importMs: t1 - t0, firstCallMs: t2 - t1 }) + "\\n");
  `;
  const env = {
    PATH: process.env.PATH,
    NODE_OPTIONS: nodeOptions,
    TABLE_NAME: "bench-catalog",
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "bench",
    AWS_SECRET_ACCESS_KEY: "bench",
    POWERTOOLS_SERVICE_NAME: "s3-metadata-catalog",
    POWERTOOLS_LOG_LEVEL: "WARN",
  };
  const started = performance.now();
  const run = spawnSync(process.execPath, ["--input-type=module", "-e", probe], { env, encoding: "utf8" });
  const processMs = performance.now() - started;
  if (run.status !== 0) throw new Error(`cold-start probe failed (${run.status}):\n${run.stderr}`);
  const line = run.stderr.split("\n").find((l) => l.startsWith("COLDSTART ")) ?? "";
  if (!warned && run.stderr.replace(line, "").trim() !== "") {
    warned = true;
    process.stderr.write(`probe stderr (first run only):\n${run.stderr.replace(line, "").trim()}\n`);
  }
  const { importMs, firstCallMs } = JSON.parse(line.slice("COLDSTART ".length)) as {
    importMs: number;
    firstCallMs: number;
  };
  return { importMs, firstCallMs, processMs };
}

function emptyProcessMs(): number {
  const started = performance.now();
  spawnSync(process.execPath, ["--input-type=module", "-e", ""], { env: { PATH: process.env.PATH } });
  return performance.now() - started;
}

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(0)} KiB`;
}

async function main(): Promise<void> {
  const runs = argValue("--runs", 15);
  const outdir = mkdtempSync(path.join(tmpdir(), "catalog-bundle-"));
  try {
    const outfile = path.join(outdir, "index.mjs");
    const buildStarted = performance.now();
    const result = await build(esbuildBuildOptions(outfile));
    const buildMs = performance.now() - buildStarted;
    const size = statSync(outfile).size;
    const mapSize = existsSync(`${outfile}.map`) ? statSync(`${outfile}.map`).size : 0;
    const deflated = deflateRawSync(readFileSync(outfile), { level: 9 }).length;
    const packages = bytesByPackage(result.metafile as Metafile).slice(0, 8);

    const measure = (nodeOptions: string): ColdStart[] =>
      Array.from({ length: runs }, () => coldStart(outfile, nodeOptions));
    coldStart(outfile, HANDLER_NODE_OPTIONS); // warm the OS file cache; not counted
    const withMaps = measure(HANDLER_NODE_OPTIONS);
    const withoutMaps = measure("");
    const baseline = median(Array.from({ length: runs }, emptyProcessMs));

    const summarise = (samples: ColdStart[]) => {
      const importMs = median(samples.map((s) => s.importMs));
      const firstCallMs = median(samples.map((s) => s.firstCallMs));
      const initMs = median(samples.map((s) => s.importMs + s.firstCallMs));
      const minInitMs = Math.min(...samples.map((s) => s.importMs + s.firstCallMs));
      const processMs = median(samples.map((s) => s.processMs)) - baseline;
      return { importMs, firstCallMs, initMs, minInitMs, processMs };
    };
    const deployed = summarise(withMaps);
    const noMaps = summarise(withoutMaps);
    const load = loadavg()[0]?.toFixed(1);
    const cpu = `${cpus().length} × ${cpus()[0]?.model.trim() ?? "cpu"}`;
    const ms = (n: number) => `${n.toFixed(0)} ms`;
    const verdict = (ok: boolean) => (ok ? "within target" : "OVER TARGET");

    const lines = [
      SECTION,
      "",
      `Command: \`npx tsx bench/bundle.bench.ts --runs ${runs}\` (${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${cpu}, load average ${load} at the end of the run).`,
      "The handler is bundled with the stack's own esbuild options (infra/lib/handler-bundle.ts: ESM, minified, source map, node22, AWS SDK v3 clients bundled, `sharp` external).",
      "",
      "| figure | value | target |",
      "|---|---|---|",
      `| bundle \`index.mjs\` (minified, without sharp) | ${kib(size)} (${size} B) | <= 2 MiB: ${verdict(size <= SIZE_TARGET_BYTES)} |`,
      `| same, deflated (≈ its share of the deployment zip) | ${kib(deflated)} | |`,
      `| source map \`index.mjs.map\` (deployed beside it) | ${kib(mapSize)} | |`,
      `| esbuild time | ${ms(buildMs)} | |`,
      `| import, median of ${runs} fresh processes (deployed NODE_OPTIONS \`${HANDLER_NODE_OPTIONS}\`) | ${ms(deployed.importMs)} | |`,
      `| first call (config, clients, policy; an s3:TestEvent, no AWS call) | ${ms(deployed.firstCallMs)} | |`,
      `| **init = import + first call**, median | **${ms(deployed.initMs)}** | <= ${INIT_TARGET_MS} ms: ${verdict(deployed.initMs <= INIT_TARGET_MS)} |`,
      `| init, fastest of the ${runs} (least disturbed by other load) | ${ms(deployed.minInitMs)} | |`,
      `| whole process minus an empty \`node\` (${ms(baseline)}) | ${ms(deployed.processMs)} | |`,
      `| init without source maps (NODE_OPTIONS empty), median | ${ms(noMaps.initMs)} (import ${ms(noMaps.importMs)}) | |`,
      "",
      "Where the time goes (one `node --cpu-prof` of the import): about half is V8 compiling the single 1.1 MB module (`compileSourceTextModule`); evaluating it is the rest. Every extractor's library is in that one file, because NodejsFunction bundles to one `--outfile` and so cannot split lazily imported extractors into chunks.",
      "",
      `Largest contributors to the bundle: ${packages.map(([name, bytes]) => `${name} ${kib(bytes)}`).join(", ")}.`,
      "",
      "Measured on this machine, not in Lambda: an arm64 Lambda with 1 GB has less CPU than a desktop core, so its INIT phase is slower by a factor; compare runs on the same machine, and read the real figure from the REPORT line's Init Duration after a deploy.",
      "",
    ];
    const section = lines.join("\n");
    process.stdout.write(`${section}\n`);

    if (!process.argv.includes("--no-write")) {
      const resultsFile = path.join(PROJECT_ROOT, "bench", "RESULTS.md");
      const current = existsSync(resultsFile) ? readFileSync(resultsFile, "utf8") : "# Benchmark results\n";
      const start = current.indexOf(SECTION);
      let next: string;
      if (start >= 0) {
        const rest = current.slice(start + SECTION.length);
        const end = rest.search(/\n## /);
        next = current.slice(0, start) + section + (end >= 0 ? rest.slice(end + 1) : "");
      } else {
        next = `${current.trimEnd()}\n\n${section}`;
      }
      writeFileSync(resultsFile, next);
      process.stdout.write(`written to ${path.relative(PROJECT_ROOT, resultsFile)}\n`);
    }
    if (size > SIZE_TARGET_BYTES || deployed.initMs > INIT_TARGET_MS) process.exitCode = 1;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

await main();
