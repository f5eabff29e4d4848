import { readFileSync } from "node:fs";
import { Command } from "commander";
import { terminalSafe } from "./terminal-text.js";

const { version } = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
  version: string;
};

type Register = (program: Command) => void;

/**
 * Each command's module, in the order `catalog --help` lists them. A module
 * is imported only when the command line names its command (or asks for the
 * list), so `catalog extract` does not load the AWS SDK, the local stack or
 * the dashboard before its first file.
 */
const COMMANDS: Readonly<Record<string, () => Promise<Register>>> = {
  dev: async () => (await import("./commands/dev.js")).registerDev,
  extract: async () => (await import("./commands/extract.js")).registerExtract,
  upload: async () => (await import("./commands/upload.js")).registerUpload,
  ls: async () => (await import("./commands/ls.js")).registerLs,
  show: async () => (await import("./commands/show.js")).registerShow,
  find: async () => (await import("./commands/find.js")).registerFind,
  backfill: async () => (await import("./commands/backfill.js")).registerBackfill,
  reprocess: async () => (await import("./commands/reprocess.js")).registerReprocess,
  dlq: async () => (await import("./commands/dlq.js")).registerDlq,
  worker: async () => (await import("./commands/worker.js")).registerWorker,
};

/**
 * Builds the `catalog` command line: only the command `argv` names when it
 * names one, every command otherwise (help, `--version`, a typo Commander
 * should answer with the list). Kept apart from `main.ts`, which parses
 * `process.argv` as soon as it loads, so tests can build it too.
 *
 * @example
 * await (await buildProgram(["node", "catalog", "extract", "a.jpg"])).parseAsync(argv);
 */
export async function buildProgram(argv: readonly string[] = process.argv): Promise<Command> {
  const program = new Command("catalog")
    .description("s3-metadata-catalog: what is in your bucket, extracted and cataloged")
    .version(version)
    .exitOverride()
    // Commander's messages quote the arguments (an unknown option, a bad value): shown, never acted on,
    // and named as every other error of the program is (`catalog: ...`, where Commander writes `error: ...`).
    // Set before the commands are added, which copy it.
    .configureOutput({
      // Commander puts its guess at a mistyped command or option on a line of its own; here it stays on
      // the error's line, which terminalSafe would otherwise print with a visible \u000a in it.
      outputError: (text, write) =>
        write(
          `${terminalSafe(
            text
              .trimEnd()
              .replace(/^error: /, "catalog: ")
              .replace(/\n(?=\(Did you mean )/, " "),
          )}\n`,
        ),
    });
  const named = argv[2];
  const wanted = named !== undefined && Object.hasOwn(COMMANDS, named) ? [named] : Object.keys(COMMANDS);
  const registers = await Promise.all(wanted.map((name) => (COMMANDS[name] as () => Promise<Register>)()));
  for (const register of registers) register(program);
  return program;
}
