import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { registerDev } from "./commands/dev.js";
import { registerExtract } from "./commands/extract.js";

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
  return program;
}

try {
  await buildProgram().parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // Commander already printed its one-line message (or the help text).
    process.exitCode = error.exitCode;
  } else {
    process.stderr.write(`catalog: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}
