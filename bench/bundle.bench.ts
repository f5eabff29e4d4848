/**
 * Bundle size and cold start of the Lambda handler, bundled exactly as the CDK stack bundles it (the
 * esbuild options come from infra/lib/handler-bundle.ts, which the stack also reads).
 *
 * Run: `npx tsx bench/bundle.bench.ts [--runs 15] [--no-write]`
 *
 * The deployed bundle is code-split (entry `index.mjs` + `chunks/`); the same build without splitting
 * (one file, what NodejsFunction produced) is measured beside it under the same load, for comparison.
 * Cold start is measured in fresh `node` processes, one per run, with the function's default NODE_OPTIONS
 * (none) and again with `--enable-source-maps` (the `sourceMaps` context) (test/infra/bundle-probe.ts):
 * - import: `await import(bundle)`, timed inside the process;
 * - first call: the first invocation (an `s3:TestEvent`, which touches no AWS service), where the handler
 *   reads its configuration and builds its clients;
 * - first objects: in other fresh processes, a JPEG then a PDF from embedded S3/DynamoDB servers as the
 *   first two invocations: config, clients, the extractor chunks, S3 reads and DynamoDB writes;
 * - process: spawn to exit, minus the same for an empty script (node's own start-up);
 * - floor: a bundle, built with the same options, that only builds the two AWS SDK clients the handler
 *   builds at init: what no change to this project's code can take away while the clients are bundled.
 * Figures are medians. The section "Bundle and cold start" of bench/RESULTS.md is written (replaced if
 * present) unless --no-write is given.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { deflateRawSync } from "node:zlib";
import { build, type Metafile } from "esbuild";
import {
  esbuildBuildOptions,
  HANDLER_FILE,
  PROJECT_ROOT,
  SOURCE_MAPS_NODE_OPTIONS,
} from "../infra/lib/handler-bundle.js";
import { probeBundle, probeStack, TEST_EVENT } from "../test/infra/bundle-probe.js";
import { startServers } from "../test/support/servers.js";

const SIZE_TARGET_BYTES = 2 * 1024 * 1024;
const INIT_TARGET_MS = 150;
const SECTION = "## Bundle and cold start";

interface ColdStart {
  importMs: number;
  firstCallMs: number;
  processMs: number;
  /** CPU time of import + first call. */
  initCpuMs: number;
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

const PROBE_ENV = {
  TABLE_NAME: "bench-catalog",
  AWS_REGION: "us-east-1",
  AWS_ACCESS_KEY_ID: "bench",
  AWS_SECRET_ACCESS_KEY: "bench",
  POWERTOOLS_SERVICE_NAME: "s3-metadata-catalog",
  POWERTOOLS_LOG_LEVEL: "WARN",
};

/** One fresh process: import the bundle, then call the handler once with an event that needs no AWS. */
async function coldStart(bundle: string, nodeOptions: string): Promise<ColdStart> {
  const started = performance.now();
  const { importMs, callMs, importCpuMs, callCpuMs } = await probeBundle(bundle, [TEST_EVENT], {
    ...PROBE_ENV,
    NODE_OPTIONS: nodeOptions,
  });
  return {
    importMs,
    firstCallMs: callMs[0] ?? Number.NaN,
    processMs: performance.now() - started,
    initCpuMs: importCpuMs + (callCpuMs[0] ?? Number.NaN),
  };
}

// The floor bundle's entry: the handler's two clients and nothing else. Written to a temporary folder, so
// esbuild is told where this project's node_modules are.
const CLIENTS_ONLY_ENTRY = `
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
let clients;
export const handler = async () => {
  clients ??= [new S3Client({}), new DynamoDBClient({})];
};
`;

/** Bytes of the outputs an import of the entry loads before any dynamic import: the init working set. */
function staticClosureBytes(metafile: Metafile, entry: string): number {
  const seen = new Set<string>();
  const pending = [entry];
  while (pending.length > 0) {
    const file = pending.pop() as string;
    if (seen.has(file) || !metafile.outputs[file]) continue;
    seen.add(file);
    for (const i of metafile.outputs[file].imports) if (i.kind === "import-statement") pending.push(i.path);
  }
  return [...seen].reduce((sum, file) => sum + (metafile.outputs[file]?.bytes ?? 0), 0);
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
  const servers = await startServers();
  try {
    const splitDir = path.join(outdir, "split");
    const singleDir = path.join(outdir, "single");
    const floorDir = path.join(outdir, "floor");
    const buildStarted = performance.now();
    const result = await build(esbuildBuildOptions(splitDir));
    const buildMs = performance.now() - buildStarted;
    // The same options without splitting: one file, as NodejsFunction bundled it before.
    await build({ ...esbuildBuildOptions(singleDir), splitting: false });
    const floorEntry = path.join(outdir, "clients-only.mjs");
    writeFileSync(floorEntry, CLIENTS_ONLY_ENTRY);
    await build({
      ...esbuildBuildOptions(floorDir, floorEntry),
      nodePaths: [path.join(PROJECT_ROOT, "node_modules")],
    });
    const floorFile = path.join(floorDir, HANDLER_FILE);
    const entryFile = path.join(splitDir, HANDLER_FILE);
    const singleFile = path.join(singleDir, HANDLER_FILE);
    const jsFiles = (readdirSync(splitDir, { recursive: true }) as string[]).map((f) =>
      path.join(splitDir, f),
    );
    const code = jsFiles.filter((f) => f.endsWith(".mjs"));
    const maps = jsFiles.filter((f) => f.endsWith(".mjs.map"));
    const sum = (files: string[]) => files.reduce((total, f) => total + statSync(f).size, 0);
    const size = sum(code);
    const entrySize = statSync(entryFile).size;
    const entryKey =
      Object.keys(result.metafile.outputs).find((k) => k.endsWith(`/split/${HANDLER_FILE}`)) ?? "";
    const initSet = staticClosureBytes(result.metafile, entryKey);
    const singleSize = statSync(singleFile).size;
    const mapSize = sum(maps);
    const deflated = code.reduce(
      (total, f) => total + deflateRawSync(readFileSync(f), { level: 9 }).length,
      0,
    );
    const packages = bytesByPackage(result.metafile as Metafile).slice(0, 8);

    // The function sets no NODE_OPTIONS unless the `sourceMaps` context asks for source-mapped traces.
    const DEPLOYED_NODE_OPTIONS = "";
    await coldStart(entryFile, DEPLOYED_NODE_OPTIONS); // warm the OS file cache; not counted
    await coldStart(singleFile, DEPLOYED_NODE_OPTIONS);
    await coldStart(floorFile, DEPLOYED_NODE_OPTIONS);
    // Round robin, so that load from elsewhere on the machine falls on every variant alike.
    const variants = {
      deployed: [entryFile, DEPLOYED_NODE_OPTIONS],
      single: [singleFile, DEPLOYED_NODE_OPTIONS],
      withMaps: [entryFile, SOURCE_MAPS_NODE_OPTIONS],
      floor: [floorFile, DEPLOYED_NODE_OPTIONS],
    } as const;
    const samples = { deployed: [], single: [], withMaps: [], floor: [] } as Record<
      keyof typeof variants,
      ColdStart[]
    >;
    for (let i = 0; i < runs; i += 1) {
      for (const [name, [bundle, nodeOptions]] of Object.entries(variants)) {
        samples[name as keyof typeof variants].push(await coldStart(bundle, nodeOptions));
      }
    }
    const baseline = median(Array.from({ length: runs }, emptyProcessMs));

    // First real objects, each run in a fresh process with fresh keys (a replayed event would be skipped).
    const stack = await probeStack(servers, { THUMBNAILS: "false", NODE_OPTIONS: DEPLOYED_NODE_OPTIONS });
    const firstObjects = async (bundle: string, tag: string) => {
      const samples: { importMs: number; imageMs: number; pdfMs: number }[] = [];
      for (let i = 0; i < runs; i += 1) {
        const image = await stack.upload(`${tag}/${i}/photo.jpg`, "filetype-fixture.jpg");
        const pdf = await stack.upload(`${tag}/${i}/paper.pdf`, "filetype-fixture.pdf");
        const { importMs, callMs } = await probeBundle(bundle, [image, pdf], stack.env);
        samples.push({ importMs, imageMs: callMs[0] ?? Number.NaN, pdfMs: callMs[1] ?? Number.NaN });
      }
      return {
        importMs: median(samples.map((s) => s.importMs)),
        imageMs: median(samples.map((s) => s.imageMs)),
        pdfMs: median(samples.map((s) => s.pdfMs)),
        toImageMs: median(samples.map((s) => s.importMs + s.imageMs)),
      };
    };
    const objectsSplit = await firstObjects(entryFile, "split");
    const objectsSingle = await firstObjects(singleFile, "single");

    const summarise = (samples: ColdStart[]) => {
      const importMs = median(samples.map((s) => s.importMs));
      const firstCallMs = median(samples.map((s) => s.firstCallMs));
      const initMs = median(samples.map((s) => s.importMs + s.firstCallMs));
      const minInitMs = Math.min(...samples.map((s) => s.importMs + s.firstCallMs));
      const processMs = median(samples.map((s) => s.processMs)) - baseline;
      const initCpuMs = median(samples.map((s) => s.initCpuMs));
      return { importMs, firstCallMs, initMs, minInitMs, processMs, initCpuMs };
    };
    const deployed = summarise(samples.deployed);
    const sourceMaps = summarise(samples.withMaps);
    const oneFile = summarise(samples.single);
    const clientsOnly = summarise(samples.floor);
    const load = loadavg()[0]?.toFixed(1);
    const cpu = `${cpus().length} × ${cpus()[0]?.model.trim() ?? "cpu"}`;
    const ms = (n: number) => `${n.toFixed(0)} ms`;
    const verdict = (ok: boolean) => (ok ? "within target" : "OVER TARGET");

    const lines = [
      SECTION,
      "",
      `Command: \`npx tsx bench/bundle.bench.ts --runs ${runs}\` (${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${cpu}, load average ${load} at the end of the run). Cold-start variants run round robin (deployed, one file, source maps, floor), so other load on the machine falls on all of them alike.`,
      'The handler is bundled with the stack\'s own esbuild options (infra/lib/handler-bundle.ts: ESM, code-split into `index.mjs` + `chunks/`, minified, source maps, node22, AWS SDK v3 clients bundled, `sharp` external). "one file" is the same build without splitting (what NodejsFunction produced), measured in the same run.',
      "",
      "| figure | value | target |",
      "|---|---|---|",
      `| bundle, all \`.mjs\` files (minified, without sharp) | ${kib(size)} (${size} B, ${code.length} files) | <= 2 MiB: ${verdict(size <= SIZE_TARGET_BYTES)} |`,
      `| entry \`index.mjs\` / with the chunks it imports statically (loaded at init) | ${kib(entrySize)} / ${kib(initSet)} | |`,
      `| one file (no splitting), for comparison | ${kib(singleSize)} | |`,
      `| all \`.mjs\`, deflated (≈ their share of the deployment zip) | ${kib(deflated)} | |`,
      `| source maps (deployed beside them) | ${kib(mapSize)} | |`,
      `| esbuild time | ${ms(buildMs)} | |`,
      `| import, median of ${runs} fresh processes (deployed default: no NODE_OPTIONS) | ${ms(deployed.importMs)} | |`,
      `| first call (config, clients, policy; an s3:TestEvent: no AWS call, no pipeline) | ${ms(deployed.firstCallMs)} | |`,
      `| **init = import + first call**, median | **${ms(deployed.initMs)}** | <= ${INIT_TARGET_MS} ms: ${verdict(deployed.initMs <= INIT_TARGET_MS)} |`,
      `| init, fastest of the ${runs} (least disturbed by other load) | ${ms(deployed.minInitMs)} | |`,
      `| init CPU time (user + system), median: steadier than wall time under load | ${ms(deployed.initCpuMs)} (one file ${ms(oneFile.initCpuMs)}, source maps ${ms(sourceMaps.initCpuMs)}, floor ${ms(clientsOnly.initCpuMs)}) | |`,
      `| init, one file, same run | ${ms(oneFile.initMs)} (import ${ms(oneFile.importMs)}, fastest ${ms(oneFile.minInitMs)}) | |`,
      `| whole process minus an empty \`node\` (${ms(baseline)}) | ${ms(deployed.processMs)} | |`,
      `| init with \`${SOURCE_MAPS_NODE_OPTIONS}\` (context \`sourceMaps=true\`), median | ${ms(sourceMaps.initMs)} (import ${ms(sourceMaps.importMs)}, fastest ${ms(sourceMaps.minInitMs)}) | |`,
      `| floor: a bundle that only builds the two SDK clients, same options, median | ${ms(clientsOnly.initMs)} (fastest ${ms(clientsOnly.minInitMs)}) | |`,
      `| first real object (JPEG, embedded servers, thumbnails off): import + first call | ${ms(objectsSplit.toImageMs)} (import ${ms(objectsSplit.importMs)}, call ${ms(objectsSplit.imageMs)}) | |`,
      `| then a PDF, second call (loads the PDF chunk) | ${ms(objectsSplit.pdfMs)} | |`,
      `| same two objects, one file | ${ms(objectsSingle.toImageMs)} (import ${ms(objectsSingle.importMs)}, call ${ms(objectsSingle.imageMs)}); PDF ${ms(objectsSingle.pdfMs)} | |`,
      "",
      `Where the time goes (\`node --cpu-prof\` of import + first call): mostly V8 compiling the modules it loads (\`compileSourceTextModule\`), roughly in proportion to their bytes; with one file, about half of the import was compiling the whole 1.1 MB. Split, init compiles the entry and the chunks it imports statically: the AWS SDK clients, Powertools, the catalog store, event parsing and configuration. The pipeline (engine, format detection with file-type and the MIME tables) is a chunk of its own that the first invocation naming an object loads, beside its extractor's chunk, so it is paid by the first object ("first real object"), not by init. The two SDK clients alone take ${ms(clientsOnly.initMs)} of the ${ms(deployed.initMs)} ("floor"); what is left is this project's init (${ms(deployed.initMs - clientsOnly.initMs)}).`,
      "",
      "History: the run of 2026-11-25 measured init 208 ms median (fastest 167 ms, import 190 ms) with `--enable-source-maps` deployed and the pipeline compiled at init. Two changes since: the pipeline loads with the first invocation that names an object, and source-mapped stack traces are opt-in (maps still deployed, without embedded sources). Back to back on the same machine, 15 interleaved fresh processes each, import + s3:TestEvent went from 163 ms median wall (164 ms CPU) to 117 ms (110 ms CPU); the old bundle without `--enable-source-maps` measured 129 ms, so about two thirds of the gain is the source maps and one third the pipeline.",
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
        // A blank line before the next section, as Markdown lint and the other sections expect.
        next = current.slice(0, start) + section + (end >= 0 ? `\n${rest.slice(end + 1)}` : "");
      } else {
        next = `${current.trimEnd()}\n\n${section}`;
      }
      writeFileSync(resultsFile, next);
      process.stdout.write(`written to ${path.relative(PROJECT_ROOT, resultsFile)}\n`);
    }
    if (size > SIZE_TARGET_BYTES || deployed.initMs > INIT_TARGET_MS) process.exitCode = 1;
  } finally {
    await servers.stop();
    rmSync(outdir, { recursive: true, force: true });
  }
}

await main();
