import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Command } from "commander";
import type { ExtractionResult } from "../../engine/types.js";
import { parsePositiveInt } from "../options.js";
import { summarise } from "../summary.js";

interface ExtractFlags {
  hash?: boolean;
  json?: boolean;
  detectOnly?: boolean;
  concurrency: number;
}

/** Files under `path` (itself when it is a file), depth first, in name order. */
async function* walk(path: string): AsyncGenerator<string> {
  const info = await stat(path);
  if (!info.isDirectory()) {
    yield path;
    return;
  }
  const entries = await readdir(path, { withFileTypes: true });
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const entry of entries) {
    if (entry.isDirectory() || entry.isFile()) yield* walk(join(path, entry.name));
  }
}

async function extractFile(path: string, flags: ExtractFlags): Promise<ExtractionResult> {
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

function render(result: ExtractionResult, flags: ExtractFlags, asJson: boolean): string {
  if (flags.detectOnly) {
    return asJson
      ? JSON.stringify({ source: result.source, format: result.format })
      : `${result.source}\t${result.format.mime}\t${result.format.category}${result.format.mismatch ? "\tMISMATCH" : ""}`;
  }
  return asJson ? JSON.stringify(result) : summarise(result);
}

/**
 * Runs the engine over local files with bounded concurrency, printing results
 * in input order as soon as each is ready. Bad content is data (exit 0); a
 * path that cannot be read is one line on stderr and exit code 1 at the end.
 */
async function runExtract(paths: string[], flags: ExtractFlags): Promise<void> {
  const asJson = flags.json === true || !process.stdout.isTTY;
  let failed = false;
  const queue: Promise<string | undefined>[] = [];
  const flushReady = async (limit: number) => {
    while (queue.length > limit) {
      const line = await queue.shift();
      if (line !== undefined) process.stdout.write(`${line}\n`);
    }
  };
  for (const path of paths) {
    try {
      for await (const file of walk(path)) {
        queue.push(
          extractFile(file, flags).then(
            (result) => render(result, flags, asJson),
            (error: unknown) => {
              failed = true;
              process.stderr.write(`catalog extract: ${file}: ${(error as Error).message}\n`);
              return undefined;
            },
          ),
        );
        await flushReady(flags.concurrency);
      }
    } catch (error) {
      failed = true;
      const code = (error as NodeJS.ErrnoException).code;
      const why = code === "ENOENT" ? "no such file or directory" : (error as Error).message;
      process.stderr.write(`catalog extract: ${path}: ${why}\n`);
    }
  }
  await flushReady(0);
  if (failed) process.exitCode = 1;
}

/** `catalog extract`: the engine alone on local files. */
export function registerExtract(program: Command): void {
  program
    .command("extract")
    .description("extract metadata from local files (directories recurse); one JSON object per line")
    .argument("<paths...>", "files or directories")
    .option("--hash", "also compute the SHA-256 of each file (reads every byte)")
    .option("--json", "JSON lines even on a terminal")
    .option("--detect-only", "print only the source and the detected format")
    .option("--concurrency <n>", "files processed at once", parsePositiveInt, 4)
    .action((paths: string[], flags: ExtractFlags) => runExtract(paths, flags));
}
