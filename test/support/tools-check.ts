/**
 * Vitest's global setup: looks for the Debian programs the tests run
 * (test/support/tools.ts) once, before any test file. A missing one stops a
 * CI run with the line that installs it; elsewhere the run goes on, its tests
 * that need the program skipped, and says so first.
 */
import { installLine, missingTools, TOOL_PACKAGES, type Tool, toolsRequired } from "./tools.js";

export function setup(): void {
  const missing = missingTools(Object.keys(TOOL_PACKAGES) as Tool[]);
  if (missing.length === 0) return;
  const names = missing.join(", ");
  if (toolsRequired())
    throw new Error(
      `CI runs every test, and ${names} ${missing.length === 1 ? "is" : "are"} missing: ${installLine(missing)}`,
    );
  process.stdout.write(
    `Skipping the tests that run ${names} (not installed). To run them too: sudo ${installLine(missing)}\n`,
  );
}
