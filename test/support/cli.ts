import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { REPO_ROOT } from "./corpus.js";

const run = promisify(execFile);

/** The `catalog` executable of this checkout. */
export const CATALOG = join(REPO_ROOT, "bin/catalog");

/** How a run of the CLI ended. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the built CLI (`npm run build` first; `npm test` does) from the
 * repository root. A non-zero exit is returned, not thrown: the tests read it.
 *
 * @example
 * const { code, stderr } = await runCatalog(["extract", "missing.jpg"]);
 */
export async function runCatalog(
  args: readonly string[],
  options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<CliRun> {
  try {
    const { stdout, stderr } = await run("node", [CATALOG, ...args], {
      cwd: REPO_ROOT,
      timeout: options.timeoutMs ?? 20_000,
      maxBuffer: 64 * 1024 * 1024,
      ...(options.env && { env: options.env }),
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

/**
 * This process's environment without its AWS_ and CATALOG_ variables, so a
 * CLI run under test chooses its target from what the test gives it only.
 *
 * @example
 * await runCatalog(["ls"], { env: { ...withoutTargetVariables(), CATALOG_TARGET: "aws" } });
 */
export function withoutTargetVariables(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(AWS_|CATALOG_)/.test(name)));
}
