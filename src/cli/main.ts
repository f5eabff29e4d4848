import { CommanderError } from "commander";
import { CliError } from "./cli-error.js";
import { exitQuietlyWhenOutputCloses } from "./closed-output.js";
import { buildProgram } from "./program.js";
import { terminalSafe } from "./terminal-text.js";

// The project supports Node.js 20 (package.json engines); the SDK's multi-line notice about its
// own future Node.js 22 requirement would otherwise precede every command's output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

exitQuietlyWhenOutputCloses(process.argv);

try {
  await (await buildProgram(process.argv)).parseAsync(process.argv);
} catch (error) {
  if (error instanceof CliError) {
    // Thrown by an action (not by an option parser, whose errors Commander prints itself).
    process.stderr.write(`catalog: ${terminalSafe(error.message)}\n`);
    process.exitCode = 1;
  } else if (error instanceof CommanderError) {
    // Commander already printed its one-line message (or the help text).
    process.exitCode = error.exitCode;
  } else {
    process.stderr.write(
      `catalog: ${terminalSafe(error instanceof Error ? error.message : String(error))}\n`,
    );
    process.exitCode = 1;
  }
  // Said once, the error ends the command: a server or timer a failed command left running (the
  // local stack's, when `dev` fails half-way through starting) must not keep the process alive.
  process.exit();
}
