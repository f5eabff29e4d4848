import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { CliError } from "./cli-error.js";
import { registerBackfill } from "./commands/backfill.js";
import { registerDev } from "./commands/dev.js";
import { registerDlq } from "./commands/dlq.js";
import { registerExtract } from "./commands/extract.js";
import { registerFind } from "./commands/find.js";
import { registerLs } from "./commands/ls.js";
import { registerReprocess } from "./commands/reprocess.js";
import { registerShow } from "./commands/show.js";
import { registerUpload } from "./commands/upload.js";
import { registerWorker } from "./commands/worker.js";

// The project supports Node.js 20 (package.json engines); the SDK's multi-line notice about its
// own future Node.js 22 requirement would otherwise precede every command's output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const { version } = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
  version: string;
};

/** Builds the `catalog` command line. Exported for tests. */
export function buildProgram(): Command {
  const program = new Command("catalog")
    .description("s3-metadata-catalog: what is in your bucket, extracted and cataloged")
    .version(version)
    .exitOverride();
  registerDev(program);
  registerExtract(program);
  registerUpload(program);
  registerLs(program);
  registerShow(program);
  registerFind(program);
  registerBackfill(program);
  registerReprocess(program);
  registerDlq(program);
  registerWorker(program);
  return program;
}

try {
  await buildProgram().parseAsync(process.argv);
} catch (error) {
  if (error instanceof CliError) {
    // Thrown by an action (not by an option parser, whose errors Commander prints itself).
    process.stderr.write(`catalog: ${error.message}\n`);
    process.exitCode = 1;
  } else if (error instanceof CommanderError) {
    // Commander already printed its one-line message (or the help text).
    process.exitCode = error.exitCode;
  } else {
    process.stderr.write(`catalog: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}
