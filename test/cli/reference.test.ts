/**
 * The README's CLI reference against the command line itself: every long
 * option of every command is named in that command's row (or, for a command
 * that takes every target flag, in the shared target-flag table), and no row
 * names an option its command does not have. Both languages.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Command } from "commander";
import { beforeAll, describe, expect, it } from "vitest";
import { buildProgram } from "../../src/cli/program.js";
import { withTargetFlags } from "../../src/cli/target-flags.js";
import { REPO_ROOT } from "../support/corpus.js";

const READMES = ["README.md", "README.pt-BR.md"] as const;

/** A command as its user types it (`dlq ls`) and the long options `--help` lists for it. */
interface CommandOptions {
  path: string;
  options: string[];
}

function walk(command: Command, prefix: string[] = []): CommandOptions[] {
  return command.commands.flatMap((sub) => {
    const path = [...prefix, sub.name()];
    const options = sub.options
      .filter((option) => !option.hidden && option.long)
      .map((o) => o.long as string);
    return [{ path: path.join(" "), options }, ...walk(sub, path)];
  });
}

/** The lines of the `## CLI` section, up to the next second-level heading. */
function cliSection(file: string): string[] {
  const lines = readFileSync(join(REPO_ROOT, file), "utf8").split("\n");
  const start = lines.indexOf("## CLI");
  if (start < 0) throw new Error(`${file} has no "## CLI" section`);
  const end = lines.findIndex((line, index) => index > start && line.startsWith("## "));
  return lines.slice(start + 1, end < 0 ? undefined : end);
}

/** Table rows as cells, header and separator rows included (they name no command and no flag). */
function tableRows(section: string[]): string[][] {
  return section
    .filter((line) => line.startsWith("|"))
    .map((line) =>
      line
        .split("|")
        .slice(1, -1)
        .map((cell) => cell.trim()),
    );
}

function names(text: string, flag: string): boolean {
  return new RegExp(`(?<![\\w-])${flag}(?![\\w-])`).test(text);
}

function flagsIn(text: string): string[] {
  return [...text.matchAll(/(?<![\w-])--[a-z][\w-]*/g)].map((match) => match[0]);
}

let commands: CommandOptions[];
let rootOptions: string[];
const TARGET_FLAGS = withTargetFlags(new Command("any"))
  .options.filter((option) => !option.hidden)
  .map((option) => option.long as string);

/** The commands a row's first cell names (`catalog dlq ls` / `catalog dlq replay` names two). */
function commandsOfRow(firstCell: string): CommandOptions[] {
  return commands.filter((command) => new RegExp(`\`catalog ${command.path}(?=[ \`])`).test(firstCell));
}

beforeAll(async () => {
  const program = await buildProgram(["node", "catalog"]);
  commands = walk(program).filter((command) => command.options.length > 0);
  rootOptions = program.options.map((option) => option.long as string);
});

describe("the command line seen by this test", () => {
  it("has every command, sub-commands included, with their options", () => {
    const paths = commands.map((command) => command.path);
    expect(paths).toEqual(
      expect.arrayContaining(["dev", "upload", "find", "dlq ls", "dlq replay", "worker"]),
    );
    expect(commands.find((command) => command.path === "worker")?.options).toContain("--no-thumbnails");
    expect(TARGET_FLAGS).toContain("--dynamodb-endpoint");
  });
});

describe.each(READMES)("%s, section CLI", (file) => {
  it("names each long option in its command's row, or the target flags in their table", () => {
    const rows = tableRows(cliSection(file));
    const targetTable = rows
      .filter((cells) => cells[0]?.startsWith("`--"))
      .map((cells) => cells.join(" "))
      .join("\n");
    const missing: string[] = [];
    for (const command of commands) {
      const row = rows
        .filter((cells) => commandsOfRow(cells[0] ?? "").includes(command))
        .map((cells) => cells.join(" "))
        .join("\n");
      if (row === "") {
        missing.push(`catalog ${command.path} (no row)`);
        continue;
      }
      // `worker` takes every target flag but `--bucket` (its events name their buckets).
      const takesTargetFlags = TARGET_FLAGS.every(
        (flag) => flag === "--bucket" || command.options.includes(flag),
      );
      for (const option of command.options) {
        const shared = takesTargetFlags && TARGET_FLAGS.includes(option) && names(targetTable, option);
        if (!names(row, option) && !shared) missing.push(`catalog ${command.path} ${option}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it("names the program's own options", () => {
    const section = cliSection(file).join("\n");
    expect(rootOptions.filter((option) => !names(section, option))).toEqual([]);
  });

  it("names no option that its command does not have", () => {
    const unknown: string[] = [];
    for (const cells of tableRows(cliSection(file))) {
      const text = cells.join(" ");
      if (cells[0]?.startsWith("`--")) {
        for (const flag of flagsIn(text)) if (!TARGET_FLAGS.includes(flag)) unknown.push(`target ${flag}`);
        continue;
      }
      const named = commandsOfRow(cells[0] ?? "");
      if (named.length === 0) continue;
      for (const flag of flagsIn(text)) {
        if (flag !== "--help" && !named.some((command) => command.options.includes(flag))) {
          unknown.push(`${named.map((command) => command.path).join(" / ")} ${flag}`);
        }
      }
    }
    expect(unknown).toEqual([]);
  });
});
