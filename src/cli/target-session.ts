import { CliError } from "./cli-error.js";
import type { Target } from "./target.js";
import type { TargetFlags } from "./target-flags.js";

/** Errors of the catalog that are the user's input, not a fault: said in one line. */
const USER_ERRORS = new Set(["InvalidRangeError", "InvalidCursorError", "PolicyError"]);

/**
 * Resolves the target from the command's flags, runs `work` against it, and
 * always closes its clients. Against AWS, missing credentials or region are
 * said before any work starts. Faults a user can act on (the local stack is
 * down, the table or bucket is missing, a bad range) become one-line
 * {@link CliError}s; anything else is rethrown for `main` to print.
 *
 * @example
 * await withTarget(flags, async (target) => printJson(await target.store.getObject(target.bucket, key)));
 */
export async function withTarget<T>(flags: TargetFlags, work: (target: Target) => Promise<T>): Promise<T> {
  // Imported here, not at the top: SDK clients are not needed for --help or for `extract`.
  const { checkAwsAccess, explainConnectionError, resolveTarget } = await import("./target.js");
  const target = resolveTarget(flags);
  try {
    if (target.mode === "aws") await checkAwsAccess(target);
    return await work(target);
  } catch (error) {
    if (error instanceof CliError) throw error;
    if (USER_ERRORS.has((error as Error).name)) throw new CliError((error as Error).message);
    return explainConnectionError(error, target, flags.api);
  } finally {
    target.close();
  }
}
