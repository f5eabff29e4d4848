import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { REPO_ROOT } from "../test/support/corpus.js";

/** A labelled figure, as printed and as recorded. */
export type Figure = readonly [label: string, value: string];

const RESULTS_PATH = join(REPO_ROOT, "bench/RESULTS.md");

/**
 * A positive integer option of a benchmark's command line (`--count 1000`),
 * or `fallback` when absent; anything else stops the run with its name.
 *
 * @example
 * const count = positiveIntFlag(process.argv.slice(2), "--count", 1000);
 */
export function positiveIntFlag(args: readonly string[], name: string, fallback: number): number {
  const index = args.indexOf(name);
  const value = index >= 0 ? Number(args[index + 1]) : fallback;
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} needs a positive integer`);
  return value;
}

/** The p-th percentile (0-100) of the samples, nearest-rank. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

/**
 * Writes (or replaces) one `## heading` section of bench/RESULTS.md with the
 * command that produced the figures, the machine and the date, so every
 * figure in the file can be reproduced.
 */
export function recordSection(
  heading: string,
  command: string,
  figures: readonly Figure[],
  notes = "",
): void {
  const existing = existsSync(RESULTS_PATH)
    ? readFileSync(RESULTS_PATH, "utf8")
    : "# Benchmark results\n\nEvery section is written by the command it names; rerun it to refresh.\n";
  const cpu = cpus()[0]?.model ?? "unknown CPU";
  const body = [
    `## ${heading}`,
    "",
    `Command: \`${command}\`  `,
    `Machine: ${cpus().length} x ${cpu}, ${(totalmem() / 1024 ** 3).toFixed(0)} GiB, Node.js ${process.version}  `,
    `Date: ${new Date().toISOString().slice(0, 10)}`,
    "",
    "| figure | value |",
    "| --- | --- |",
    ...figures.map(([label, value]) => `| ${label} | ${value.replaceAll("|", "\\|")} |`),
    ...(notes ? ["", notes] : []),
    "",
  ].join("\n");
  const pattern = new RegExp(`## ${heading.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\n[\\s\\S]*?(?=\\n## |$)`);
  const updated = pattern.test(existing)
    ? existing.replace(pattern, body.trimEnd())
    : `${existing.trimEnd()}\n\n${body}`;
  writeFileSync(RESULTS_PATH, `${updated.trimEnd()}\n`);
}

/**
 * A TCP port free on 127.0.0.1 a moment ago, for a `catalog dev` a benchmark starts.
 *
 * @example
 * const s3Port = await freePort();
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}
