import { type Stats, statSync } from "node:fs";
import type { Command } from "commander";
import type { ExtractionResult, FormatInfo } from "../../engine/types.js";
import { type WalkProblem, walkFolder } from "../folder-walk.js";
import { LineWriter } from "../line-writer.js";
import { parsePositiveInt } from "../options.js";
import { summarise, summariseDetection } from "../summary.js";
import { jsonTerminalSafe, terminalSafe } from "../terminal-text.js";

interface ExtractFlags {
  hash?: boolean;
  json?: boolean;
  detectOnly?: boolean;
  concurrency: number;
}

/** A file to extract, or something found that cannot be, and why. */
type Found = { file: string } | { path: string; problem: string };

/** Why a path cannot be read, in a few words. */
function problemOf(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return "no such file or directory";
  if (code === "ELOOP") return "symbolic link loop";
  return (error as Error).message;
}

/** A walk's problem, in extract's words. */
function describe(problem: WalkProblem): string {
  switch (problem.kind) {
    case "error":
      return problem.link && problem.error.code === "ENOENT"
        ? "broken symbolic link"
        : problemOf(problem.error);
    case "not-utf8":
      return "its name is not UTF-8";
    case "special":
      return "not a file or directory";
    case "cycle":
      return "symbolic link to a folder it is in";
  }
}

/**
 * One collator for every listing (`localeCompare` builds one per comparison),
 * made on the first directory: building it loads ICU's locale data, a few
 * milliseconds that a run over named files does not need.
 */
let byName: Intl.Collator | undefined;

/**
 * Files under `path` (itself when it is a file), depth first, in name order
 * (see folder-walk.ts for links and what cannot be read).
 */
function* walk(path: string): Generator<Found> {
  let info: Stats;
  try {
    info = statSync(path);
  } catch (error) {
    yield { path, problem: problemOf(error) };
    return;
  }
  if (info.isFile()) yield { file: path };
  else if (info.isDirectory()) {
    byName ??= new Intl.Collator();
    const collator = byName;
    for (const entry of walkFolder(path, (a, b) => collator.compare(a.toString("utf8"), b.toString("utf8"))))
      yield "file" in entry ? entry : { path: entry.path, problem: describe(entry.problem) };
  } else yield { path, problem: "not a file or directory" };
}

/** What is printed for a file: the whole result, or only what detection says. */
type Outcome = ExtractionResult | { source: string; format: FormatInfo };

type DetectFile = typeof import("../../engine/detect/detect-file.js").detectFile;

/**
 * The build (package.json `build:detect`) links detection and its libraries
 * (file-type, strtok3, mime) into this one module: resolving, reading and
 * compiling their hundred-odd files one by one took longer than detecting
 * every file of the corpus. Run from the sources (tests, tsx) there is no
 * bundle, and a bundle older than this compiled file (tsc ran alone after it)
 * may hold stale code: the modules then load as they are.
 */
const DETECT_BUNDLE = new URL("../../engine/detect/detect-file.bundle.mjs", import.meta.url);

function detectBundleIsFresh(): boolean {
  const bundle = statSync(DETECT_BUNDLE, { throwIfNoEntry: false });
  return bundle !== undefined && bundle.mtimeMs >= statSync(new URL(import.meta.url)).mtimeMs;
}

let detectFileLoaded: Promise<DetectFile> | undefined;

function loadDetectFile(): Promise<DetectFile> {
  detectFileLoaded ??= (
    detectBundleIsFresh()
      ? (import(DETECT_BUNDLE.href) as Promise<{ detectFile: DetectFile }>)
      : import("../../engine/detect/detect-file.js")
  ).then((module) => module.detectFile);
  return detectFileLoaded;
}

async function extractFile(path: string, flags: ExtractFlags): Promise<Outcome> {
  if (flags.detectOnly && !flags.hash) {
    // Detection alone (not the extractors' registry), one synchronous read of each head.
    const detectFile = await loadDetectFile();
    return { source: path, format: await detectFile(path) };
  }
  const { extract, FileSource } = await import("../../engine/index.js");
  const source = await FileSource.open(path);
  try {
    return await extract(source, {
      name: path,
      hash: flags.hash === true,
      detectOnly: flags.detectOnly === true,
    });
  } finally {
    await source.close();
  }
}

/** One line per file; file names and metadata are escaped so the terminal only shows them. */
function render(result: Outcome, flags: ExtractFlags, asJson: boolean): string {
  if (flags.detectOnly || !("status" in result)) {
    // With --hash the file was read whole for its SHA-256: the one thing besides the format worth printing.
    const sha256 = "sha256" in result ? result.sha256 : undefined;
    const detected = {
      source: result.source,
      format: result.format,
      ...(sha256 !== undefined && { sha256 }),
    };
    return asJson ? jsonTerminalSafe(JSON.stringify(detected)) : summariseDetection(detected);
  }
  return asJson ? jsonTerminalSafe(JSON.stringify(result)) : summarise(result);
}

/**
 * Runs the engine over local files with bounded concurrency, printing results
 * in input order as soon as each is ready. Bad content is data (exit 0); a
 * path that cannot be read is one line on stderr and exit code 1 at the end.
 */
async function runExtract(paths: string[], flags: ExtractFlags): Promise<void> {
  const asJson = flags.json === true || !process.stdout.isTTY;
  const out = new LineWriter(process.stdout);
  let failed = false;
  const fail = (message: string) => {
    failed = true;
    out.flush();
    process.stderr.write(`catalog extract: ${terminalSafe(message)}\n`);
  };
  const queue: Promise<string | undefined>[] = [];
  const flushReady = async (limit: number) => {
    while (queue.length > limit) {
      const line = await queue.shift();
      if (line !== undefined) out.line(line);
    }
  };
  for (const path of paths) {
    for (const found of walk(path)) {
      if ("problem" in found) {
        fail(`${found.path}: ${found.problem}`);
        continue;
      }
      const file = found.file;
      queue.push(
        extractFile(file, flags).then(
          (result) => render(result, flags, asJson),
          (error: unknown) => {
            fail(`${file}: ${(error as Error).message}`);
            return undefined;
          },
        ),
      );
      await flushReady(flags.concurrency);
    }
  }
  await flushReady(0);
  out.flush();
  if (failed) process.exitCode = 1;
}

/** `catalog extract`: the engine alone on local files. */
export function registerExtract(program: Command): void {
  program
    .command("extract")
    .description(
      "extract metadata from local files (directories recurse): a summary per file on a terminal, else JSON lines",
    )
    .argument("<paths...>", "files or directories")
    .option("--hash", "also compute the SHA-256 of each file (reads every byte)")
    .option("--json", "JSON lines even on a terminal")
    .option("--detect-only", "print only the source and the detected format")
    .option("--concurrency <n>", "files processed at once", parsePositiveInt, 4)
    .action((paths: string[], flags: ExtractFlags) => runExtract(paths, flags));
}
