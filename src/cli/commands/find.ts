import type { Command } from "commander";
import { CATEGORIES, isCategory } from "../../engine/detect/category.js";
import type { Category } from "../../engine/types.js";
import { withoutIndexKeys } from "../../store/schema.js";
import type { RecordSummary, TimeRange } from "../../store/types.js";
import { CliError } from "../cli-error.js";
import { formatBytes, formatTable, printJson, shortMime, statusText } from "../format.js";
import { parsePositiveInt, parseSince } from "../options.js";
import { collectPages } from "../paging.js";
import { type TargetFlags, withTargetFlags } from "../target-flags.js";
import { withTarget } from "../target-session.js";
import { terminalSafe } from "../terminal-text.js";

interface FindFlags extends TargetFlags {
  category?: string;
  duplicates?: boolean;
  problems?: boolean;
  recent?: boolean;
  since?: string;
  limit: number;
  json?: boolean;
}

function parseCategory(value: string): Category {
  if (!isCategory(value)) {
    throw new CliError(`unknown category '${value}': expected one of ${CATEGORIES.join(", ")}`);
  }
  return value;
}

function rowsOf(items: RecordSummary[]): string[][] {
  return [
    ["TIME", "OBJECT", "SIZE", "TYPE", "STATUS"],
    ...items.map((item) => [
      item.eventTime,
      `s3://${item.bucket}/${item.key}`,
      formatBytes(item.size),
      item.mime ? shortMime(item.mime) : "-",
      statusText(item),
    ]),
  ];
}

/**
 * The store walks one day partition per UTC day of the range, at most
 * MAX_RANGE_DAYS of them, and says so in its own terms ("range spans more
 * than 366 days"); said here in the terms of the flag that set the range.
 */
async function checkSinceWithinReach(range: TimeRange): Promise<void> {
  // The store is loaded with the SDK clients anyway once the command runs; not at start-up (--help).
  const { MAX_RANGE_DAYS } = await import("../../store/catalog-store.js");
  const to = new Date(range.to);
  const earliest = Date.UTC(to.getUTCFullYear(), to.getUTCMonth(), to.getUTCDate() - (MAX_RANGE_DAYS - 1));
  if (Date.parse(range.from) >= earliest) return;
  throw new CliError(
    `--since goes back to ${range.from}, but find searches at most ${MAX_RANGE_DAYS} days, ` +
      `today included: use at most ${MAX_RANGE_DAYS - 1}d, or a date from ${new Date(earliest).toISOString().slice(0, 10)}`,
  );
}

async function runFind(flags: FindFlags): Promise<void> {
  const modes = [
    flags.category !== undefined,
    flags.duplicates === true,
    flags.problems === true,
    flags.recent === true,
  ].filter(Boolean).length;
  if (modes !== 1)
    throw new CliError("choose exactly one of --category <name>, --recent, --duplicates, --problems");
  const defaultSince = flags.duplicates ? "30d" : "7d";
  const range: TimeRange = {
    from: flags.since ?? parseSince(defaultSince),
    to: new Date().toISOString(),
  };
  // An empty answer names the range it searched, so a default window is not mistaken for an empty catalog.
  const searched =
    flags.since === undefined
      ? `in the last ${defaultSince === "30d" ? "30 days" : "7 days"} (--since to look further back)`
      : `since ${range.from}`;
  if (range.from > range.to) throw new CliError(`--since is in the future: ${range.from}`);
  await checkSinceWithinReach(range);
  await withTarget(flags, async (target) => {
    if (flags.duplicates) {
      // Content held in the bucket and anywhere else too: a copy elsewhere is what makes one here
      // redundant, so every copy is listed, each with its bucket.
      const groups = await collectPages(flags.limit, (page) =>
        target.store.listDuplicateGroups(range, { ...page, newestFirst: true }, { bucket: target.bucket }),
      );
      const listed = [];
      for (const group of groups.items) {
        const copies = await collectPages(1000, (page) => target.store.listByHash(group.sha256, page));
        // A group listed under the earlier layout can outlive its copies: count them here.
        if (copies.items.length < 2) continue;
        // The bucket's own copies first, as the dashboard's Duplicates view lists them; key order within each
        // part (the sort is stable).
        const elsewhere = (object: { bucket: string }) => (object.bucket === target.bucket ? 0 : 1);
        listed.push({ ...group, objects: copies.items.sort((a, b) => elsewhere(a) - elsewhere(b)) });
      }
      const withCopies = await target.store.withGroupTypeMismatches(listed);
      if (flags.json) {
        printJson(withCopies.map((group) => ({ ...group, objects: group.objects.map(withoutIndexKeys) })));
        // On stderr, so stdout stays the JSON array.
        if (groups.more) process.stderr.write(moreNote(flags.limit, "group"));
        return;
      }
      if (withCopies.length === 0)
        process.stdout.write(`no duplicates with a copy in ${terminalSafe(target.bucket)} ${searched}\n`);
      for (const group of withCopies) {
        process.stdout.write(
          `sha256 ${group.sha256}  ${formatBytes(group.size)}  ${group.objects.length} copies (since ${group.since})\n`,
        );
        for (const object of group.objects) {
          const mark = object.mismatch ? "  type mismatch" : "";
          process.stdout.write(`  ${terminalSafe(`s3://${object.bucket}/${object.key}`)}${mark}\n`);
        }
      }
      if (groups.more) process.stderr.write(moreNote(flags.limit, "group"));
      return;
    }
    const found = flags.problems
      ? await collectPages(flags.limit, (page) =>
          target.store.listProblems(target.bucket, range, { ...page, newestFirst: true }),
        )
      : flags.recent
        ? await collectPages(flags.limit, async (page) => {
            // The dashboard's Recent view, over any window find takes; loaded with the store, not at start-up.
            const { listRecent } = await import("../../server/catalog-views.js");
            return listRecent(target.store, target.bucket, range, page.limit, undefined, page.cursor);
          })
        : await collectPages(flags.limit, (page) =>
            target.store.listByCategory(target.bucket, flags.category as string, range, {
              ...page,
              newestFirst: true,
            }),
          );
    const items = await target.store.withTypeMismatches(found.items);
    if (flags.json) {
      printJson(items.map(withoutIndexKeys));
      if (found.more) process.stderr.write(moreNote(flags.limit, "result"));
      return;
    }
    if (items.length === 0) process.stdout.write(`nothing found ${searched}\n`);
    else process.stdout.write(`${formatTable(rowsOf(items))}\n`);
    if (found.more) process.stderr.write(moreNote(flags.limit, "result"));
  });
}

/** The line that says a listing stopped at `--limit`: "(first 20 results; ...)", "(first result; ...)". */
function moreNote(limit: number, what: string): string {
  return `(first ${limit === 1 ? what : `${limit} ${what}s`}; raise --limit for more)\n`;
}

/** `catalog find`: objects by category and time, the newest uploads, duplicate content, or problems. */
export function registerFind(program: Command): void {
  withTargetFlags(
    program
      .command("find")
      .description(
        "find objects: by category uploaded since a time, the newest of all, duplicated content, or problems",
      )
      .option(
        "--category <name>",
        `objects of one category (${CATEGORIES.join(", ")}), newest first`,
        parseCategory,
      )
      .option(
        "--duplicates",
        "content stored more than once (by SHA-256) with a copy in --bucket; every copy is listed, " +
          "in whichever bucket it is",
      )
      .option("--recent", "the newest uploads of every category, newest first (the dashboard's Recent)")
      .option("--problems", "objects with status error or rejected, newest first")
      .option(
        "--since <when>",
        "how far back: 7d, 12h, 30m, 2w or a date (default 7d; 30d for --duplicates)",
        (value: string) => parseSince(value),
      )
      .option("--limit <n>", "at most this many results (groups for --duplicates)", parsePositiveInt, 1000)
      .option("--json", "print the results as JSON"),
  ).action((flags: FindFlags) => runFind(flags));
}
