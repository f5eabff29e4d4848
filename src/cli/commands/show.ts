import type { Command } from "commander";
import { DEFAULT_AUDIT_LIMIT, withoutIndexKeys } from "../../store/schema.js";
import type { AuditEntry, CatalogRecord } from "../../store/types.js";
import { CliError } from "../cli-error.js";
import { formatBytes, formatTable, printJson } from "../format.js";
import { parsePositiveInt } from "../options.js";
import { sectionLines } from "../section-lines.js";
import type { Target } from "../target.js";
import { parseS3Url, sameTargetFlags, type TargetFlags, withTargetFlags } from "../target-flags.js";
import { withTarget } from "../target-session.js";
import { terminalSafe } from "../terminal-text.js";

interface ShowFlags extends TargetFlags {
  json?: boolean;
  history: number;
}

const SECTIONS = [
  "image",
  "media",
  "pdf",
  "document",
  // A package's name and version come before the files it installs.
  "package",
  "archive",
  "text",
  "font",
  "executable",
] as const;

/**
 * The checksum S3 keeps with the object, as `crc32 DUoRhQ== (FULL_OBJECT)`.
 *
 * @example
 * describeChecksum({ crc32: "DUoRhQ==", type: "FULL_OBJECT" }); // "crc32 DUoRhQ== (FULL_OBJECT)"
 */
function describeChecksum(checksum: CatalogRecord["checksum"]): string | undefined {
  if (!checksum) return undefined;
  const { type, ...values } = checksum;
  const named = Object.entries(values).map(([algorithm, value]) => `${algorithm} ${value}`);
  if (named.length === 0) return undefined;
  return `${named.join(", ")}${type ? ` (${type})` : ""}`;
}

function describeRecord(record: CatalogRecord): string[] {
  const lines = [
    `s3://${record.bucket}/${record.key}`,
    `  status     ${record.status}${record.reason ? ` (${record.reason})` : ""}`,
  ];
  if (record.status !== "deleted") {
    lines.push(
      `  type       ${record.mime ?? "-"} (${record.category ?? "other"})`,
      `  size       ${formatBytes(record.size)}`,
      `  etag       ${record.etag ?? "-"}`,
    );
    if (record.sha256) lines.push(`  sha256     ${record.sha256}`);
    const checksum = describeChecksum(record.checksum);
    if (checksum) lines.push(`  checksum   ${checksum}`);
    if (record.contentType) lines.push(`  declared   ${record.contentType}`);
    // Said as the dashboard's Format section says it ("Mismatch", "Why"): the reason names both types.
    if (record.format?.mismatch)
      lines.push(
        `  mismatch   ${record.format.mismatchReason ?? "the content contradicts the declared type"}`,
      );
  }
  // A tombstone replaces the record, upload time included: its event is the delete.
  const event = record.status === "deleted" ? "deleted " : "uploaded";
  lines.push(
    `  ${event}   ${record.eventTime} (sequencer ${record.sequencer})`,
    `  processed  ${record.processedAt}${record.extractorVersion ? ` by extractor ${record.extractorVersion}` : ""}`,
  );
  if (record.bytesRead !== undefined)
    lines.push(`  read       ${formatBytes(record.bytesRead)} in ${record.readRequests ?? 0} request(s)`);
  for (const warning of record.warnings ?? []) lines.push(`  warning    ${warning}`);
  if (record.thumbnailKey) {
    const size =
      record.thumbnailWidth && record.thumbnailHeight
        ? `${record.thumbnailWidth}x${record.thumbnailHeight}, `
        : "";
    lines.push(
      `  thumbnail  s3://${record.bucket}/${record.thumbnailKey} (${size}${formatBytes(record.thumbnailSize)})`,
    );
  }
  for (const section of SECTIONS) {
    const value = record[section];
    if (value !== undefined) lines.push(...sectionLines(section, value).map((line) => `  ${line}`));
  }
  return lines;
}

/**
 * The audit history as a table, each event's reasons (why it was rejected,
 * or failed) on lines of their own beneath its row: inside the OUTCOME cell
 * a long reason made every row as wide as the widest.
 */
function describeAudit(audit: AuditEntry[]): string[] {
  if (audit.length === 0) return ["history: none"];
  const rows = [["TIME", "EVENT", "OUTCOME", "BY", "FROM", "DELIVERIES"]];
  for (const entry of audit) {
    rows.push([
      entry.eventTime,
      entry.eventName,
      entry.outcome,
      entry.principalId ?? "-",
      entry.sourceIPAddress ?? "-",
      String(entry.deliveries),
    ]);
  }
  const [header, ...lines] = formatTable(rows).split("\n");
  return [
    "history:",
    `  ${header}`,
    ...lines.flatMap((line, index) => [
      `  ${line}`,
      ...(audit[index]?.reasons ?? []).map((reason) => `      reason: ${terminalSafe(reason)}`),
    ]),
  ];
}

/**
 * Whether S3 holds anything under `prefix`: one listing request, made only
 * for a key the catalog does not know. A failure (no s3:ListBucket on AWS)
 * answers no, and the error says what it said before.
 */
async function isFolder(target: Target, bucket: string, prefix: string): Promise<boolean> {
  const { ListObjectsV2Command } = await import("@aws-sdk/client-s3");
  try {
    const listing = await target.s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, MaxKeys: 1 }),
    );
    return (listing.KeyCount ?? listing.Contents?.length ?? 0) > 0;
  } catch {
    return false;
  }
}

async function runShow(location: string, flags: ShowFlags): Promise<void> {
  await withTarget(flags, async (target) => {
    const { bucket, key } = parseS3Url(location, target.bucket);
    if (key === "") throw new CliError(`'${location}' names no object: expected s3://bucket/key`);
    const { record, audit, olderAudit } = await target.store.getObject(bucket, key, {
      auditLimit: flags.history,
    });
    if (!record && audit.length === 0) {
      // A folder is listed, not shown: say which command does that (`t1/dir` too, when S3 has `t1/dir/...`).
      const folder =
        key.endsWith("/") || (await isFolder(target, bucket, `${key}/`))
          ? `: a folder? 'catalog ls s3://${bucket}/${key.endsWith("/") ? key : `${key}/`}${sameTargetFlags(flags)}' lists it`
          : "";
      throw new CliError(`s3://${bucket}/${key} is not in the catalog${folder}`);
    }
    if (flags.json) {
      // Newest event first, as `GET /api/object` gives it: a script reads `audit[0]` as the latest either way.
      printJson({
        record: record ? withoutIndexKeys(record) : null,
        audit: [...audit].reverse(),
        ...(olderAudit && { olderAudit }),
      });
      return;
    }
    const lines = record ? describeRecord(record) : [`s3://${bucket}/${key}`, "  no record (see history)"];
    const older = olderAudit
      ? [
          `  (${audit.length === 1 ? "the newest event" : `the ${audit.length} newest events`}; older ones exist: raise --history)`,
        ]
      : [];
    // One line per entry of `lines`: a value cannot add a line or act on the terminal.
    process.stdout.write(`${[...lines.map(terminalSafe), ...describeAudit(audit), ...older].join("\n")}\n`);
  });
}

/** `catalog show`: one object's record and its audit history. */
export function registerShow(program: Command): void {
  withTargetFlags(
    program
      .command("show")
      .description("show an object's catalog record and its audit history")
      .argument("<location>", "s3://bucket/key (or a key in the default bucket)")
      .option(
        "--json",
        'print { "record": {...}, "audit": [...] }, the audit newest first ("olderAudit": true when --history left older events out)',
      )
      .option("--history <n>", "newest audit entries shown", parsePositiveInt, DEFAULT_AUDIT_LIMIT),
  ).action((location: string, flags: ShowFlags) => runShow(location, flags));
}
