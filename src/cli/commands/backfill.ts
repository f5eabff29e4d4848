import type { Command } from "commander";
import { DEFAULT_DERIVED_PREFIX } from "../../config/config.js";
import { describeError } from "../../engine/errors.js";
import { DEFAULT_POLICY, loadPolicy } from "../../policy/policy.js";
import { BACKFILL_RULE, type PassRule, type PassSummary, runCatalogPass } from "../catalog-pass.js";
import { CliError } from "../cli-error.js";
import { printJson } from "../format.js";
import { parsePositiveInt } from "../options.js";
import { createProgress } from "../progress.js";
import type { Target } from "../target.js";
import {
  derivedPrefixOf,
  parseS3Url,
  sameTargetFlags,
  type TargetFlags,
  withTargetFlags,
} from "../target-flags.js";
import { withTarget } from "../target-session.js";
import { terminalSafe } from "../terminal-text.js";

interface PassFlags extends TargetFlags {
  concurrency: number;
  policyFile?: string;
  exclude?: string[];
  thumbnails?: boolean;
  json?: boolean;
}

/** What distinguishes backfill from reprocess. */
export interface PassCommandSpec {
  name: string;
  description: string;
  eventName: string;
  principalId: string;
  rule: PassRule;
}

const MAX_ERROR_LINES = 20;

/** An `--exclude` value; the empty prefix starts every key, so it would skip the whole pass. */
function excludePrefix(value: string, previous: string[] | undefined): string[] {
  if (value === "") throw new CliError("--exclude '' would skip every object; give a prefix such as 'tmp/'");
  return [...(previous ?? []), value];
}

function printSummary(
  spec: PassCommandSpec,
  summary: PassSummary,
  location: string,
  flags: TargetFlags & { json?: boolean },
): void {
  if (flags.json) {
    printJson(summary);
    return;
  }
  // A mistyped prefix lists nothing: say where nothing was found rather than count zeros.
  if (summary.listed === 0 && !summary.interrupted) {
    process.stdout.write(`${spec.name}: no objects under ${terminalSafe(location)}\n`);
    return;
  }
  const parts = [
    summary.interrupted
      ? `scanned ${summary.scanned} of ${summary.listed} listed`
      : `scanned ${summary.scanned}`,
    `cataloged ${summary.cataloged}`,
    `skipped ${summary.skipped}`,
    `errors ${summary.errors}`,
  ];
  if (spec.name === "reprocess" && summary.uncataloged > 0)
    parts.push(
      `not cataloged ${summary.uncataloged} (run ${terminalSafe(`'catalog backfill ${location}${sameTargetFlags(flags)}'`)})`,
    );
  process.stdout.write(
    `${spec.name}: ${parts.join(", ")} in ${summary.seconds} s${summary.interrupted ? " (interrupted: run it again to resume)" : ""}\n`,
  );
}

/**
 * Which objects a pass makes thumbnails for, unless `--no-thumbnails`: as the pipeline of its target
 * would. The local stack makes them for every image; a deployed stack makes them only with
 * `writeDerived`, which the CLI cannot see, so against AWS a pass keeps the thumbnails records have
 * (none for a backfill's new records) unless `--thumbnails` asks for all.
 */
function thumbnailsFor(flags: PassFlags, target: Target): "all" | "kept" {
  return flags.thumbnails === true || target.mode === "local" ? "all" : "kept";
}

async function runPass(spec: PassCommandSpec, location: string | undefined, flags: PassFlags): Promise<void> {
  const policy = flags.policyFile ? await loadPolicy({ file: flags.policyFile }) : DEFAULT_POLICY;
  const derivedPrefix = derivedPrefixOf(flags);
  await withTarget(flags, async (target) => {
    const { bucket, key: prefix } = parseS3Url(location ?? `s3://${target.bucket}/`, target.bucket);
    // Derived files (thumbnails) raise no event in the pipeline; a pass leaves them alone too.
    const excludePrefixes = [derivedPrefix, ...(flags.exclude ?? [])];
    // Every key there would be skipped: say why rather than count zeros.
    const covering = excludePrefixes.find((exclude) => prefix.startsWith(exclude));
    if (covering !== undefined) {
      const why =
        covering === derivedPrefix
          ? `keys under '${derivedPrefix}' are derived files, never cataloged`
          : `every key there is under --exclude '${covering}'`;
      throw new CliError(`nothing to ${spec.name} under s3://${bucket}/${prefix}: ${why}`);
    }
    let stopping: NodeJS.Signals | undefined;
    // First Ctrl-C (or SIGTERM, as from a container stop or `timeout`): finish the objects in flight and
    // print the summary (a rerun resumes); a second signal quits now.
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) process.exit(signal === "SIGTERM" ? 143 : 130);
      stopping = signal;
      process.stderr.write(
        `\n${spec.name}: stopping after the objects in flight (Ctrl-C again to quit now)\n`,
      );
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    const progress = createProgress({ label: spec.name, total: 0, enabled: !flags.json });
    let errorLines = 0;
    let summary: PassSummary;
    try {
      summary = await runCatalogPass({
        target,
        bucket,
        prefix,
        eventName: spec.eventName,
        principalId: spec.principalId,
        rule: spec.rule,
        policy,
        concurrency: flags.concurrency,
        excludePrefixes,
        ...(flags.thumbnails !== false && {
          thumbnails: { derivedPrefix, for: thumbnailsFor(flags, target) },
        }),
        progress,
        onError: (key, error) => {
          if (errorLines++ < MAX_ERROR_LINES)
            process.stderr.write(
              `catalog ${spec.name}: ${terminalSafe(`s3://${bucket}/${key}: ${describeError(error)}`)}\n`,
            );
        },
        stopRequested: () => stopping !== undefined,
      });
    } finally {
      progress.stop();
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    }
    printSummary(spec, summary, `s3://${bucket}/${prefix}`, flags);
    if (summary.interrupted) process.exitCode = stopping === "SIGTERM" ? 143 : 130;
    else if (summary.errors > 0) process.exitCode = 1;
  });
}

/** Registers a bucket-walking command (backfill or reprocess). */
export function registerPassCommand(program: Command, spec: PassCommandSpec): void {
  withTargetFlags(
    program
      .command(spec.name)
      .description(spec.description)
      .argument("[location]", "s3://bucket/prefix (default: the whole bucket)")
      .option("--concurrency <n>", "objects processed at once", parsePositiveInt, 8)
      .option("--policy-file <path>", "validation policy (JSON); the default policy otherwise")
      .option(
        "--exclude <prefix>",
        `skip keys under this prefix too (repeatable); those under the derived prefix (${DEFAULT_DERIVED_PREFIX}) always are`,
        excludePrefix,
      )
      .option(
        "--thumbnails",
        "write thumbnails of images (locally the default; against AWS only records' own)",
      )
      .option("--no-thumbnails", "write no thumbnails")
      .option("--json", "print the summary as JSON"),
    { derived: true },
  ).action((location: string | undefined, flags: PassFlags) => runPass(spec, location, flags));
}

/** `catalog backfill`: catalog objects that were in the bucket before the pipeline. */
export function registerBackfill(program: Command): void {
  registerPassCommand(program, {
    name: "backfill",
    description:
      "catalog objects already in the bucket (skips those cataloged at the same ETag, so a rerun resumes)",
    eventName: "Catalog:Backfill",
    principalId: "catalog-backfill",
    rule: BACKFILL_RULE,
  });
}
