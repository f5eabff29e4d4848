import { spawn } from "node:child_process";
import { CATALOG } from "./cli.js";
import { REPO_ROOT } from "./corpus.js";

/** How a run of the CLI whose reader went away ended. */
export interface ClosedOutputRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** What was read before the pipe was closed. */
  stdout: string;
  stderr: string;
}

/**
 * Runs the built CLI with its stdout on a pipe that this side closes once
 * `lines` lines have arrived, as `catalog ... | head -<lines>` does.
 *
 * @example
 * const { code, stderr } = await runCatalogClosingOutput(["extract", CORPUS_DIR], 1);
 */
export function runCatalogClosingOutput(
  args: readonly string[],
  lines: number,
  options: { timeoutMs?: number } = {},
): Promise<ClosedOutputRun> {
  const child = spawn("node", [CATALOG, ...args], {
    cwd: REPO_ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    timeout: options.timeoutMs ?? 30_000,
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
    if (stdout.split("\n").length > lines) child.stdout.destroy();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve) =>
    child.once("close", (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
}
