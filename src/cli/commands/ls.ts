import type { Command } from "commander";
import { isDerivedKey } from "../../config/config.js";
import { MAX_KEY_BYTES } from "../../s3/object-key.js";
import { withoutIndexKeys } from "../../store/schema.js";
import type { RecordSummary } from "../../store/types.js";
import { CliError } from "../cli-error.js";
import { formatBytes, formatTable, printJson, shortMime, statusText } from "../format.js";
import { parseNameStart, parsePositiveInt } from "../options.js";
import { collectPages } from "../paging.js";
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

interface LsFlags extends TargetFlags {
  json?: boolean;
  limit: number;
  startsWith?: string;
}

/** What `catalog ls` shows for one folder. */
export interface FolderListing {
  bucket: string;
  folder: string;
  /** Set when only the sub-folders and objects whose names in the folder start with it are listed. */
  startsWith?: string;
  /** Sub-folders, full prefixes ending in `/`. */
  folders: string[];
  /** Cataloged objects directly in the folder, with `mismatch` read from their records. */
  objects: RecordSummary[];
  /** Set when the folder holds more sub-folders or objects than the limit let through. */
  more?: true;
  /**
   * Objects S3 holds directly in the folder that the catalog does not: set
   * when the catalog has none of them (a lower bound with `more`), or, when
   * both listings are whole, when it lacks some (of those whose names start
   * with `startsWith`, when set). `catalog backfill` of the folder (and the
   * start) catalogs them (it skips those cataloged already).
   */
  uncataloged?: number;
}

/**
 * Sub-folders come from S3 (ListObjectsV2 with Delimiter "/"): a folder is an
 * S3 notion, not a catalog one. Objects come from the catalog, by the folder
 * index, so their type and status are there without reading S3. The same
 * listing names S3's objects of the folder too: those the catalog lacks tell
 * an uncataloged or partly cataloged folder from a cataloged one at no extra
 * request. With `startsWith`, both are asked for the names that start with
 * it only: S3 by the longer Prefix, the catalog by a range of its index.
 */
async function listFolder(
  target: Target,
  bucket: string,
  folder: string,
  limit: number,
  startsWith: string,
): Promise<FolderListing> {
  const { ListObjectsV2Command } = await import("@aws-sdk/client-s3");
  const objects = await collectPages(limit, (page) =>
    target.store.listFolder(bucket, folder, page, { startsWith }),
  );
  const cataloged = new Set(objects.items.map((item) => item.key));
  const folders: string[] = [];
  let inS3 = 0;
  let missing = 0;
  let token: string | undefined;
  do {
    const page = await target.s3.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: folder + startsWith,
        Delimiter: "/",
        ...(token && { ContinuationToken: token }),
      }),
    );
    for (const common of page.CommonPrefixes ?? []) if (common.Prefix) folders.push(common.Prefix);
    // The folder's own key is the empty marker a console's "Create folder" puts there: the folder, not a file in it.
    for (const object of page.Contents ?? []) {
      if (object.Key === undefined || object.Key === folder) continue;
      inS3++;
      if (!cataloged.has(object.Key)) missing++;
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token && folders.length < limit);
  const more = token !== undefined || folders.length > limit || objects.more;
  // With either listing cut short, only a catalog with nothing here says how many it lacks (at least).
  const uncataloged = objects.items.length === 0 ? inS3 : token === undefined && !objects.more ? missing : 0;
  return {
    bucket,
    folder,
    ...(startsWith && { startsWith }),
    folders: folders.slice(0, limit),
    objects: (await target.store.withTypeMismatches(objects.items)).map(withoutIndexKeys),
    ...(more && { more: true as const }),
    ...(uncataloged > 0 && { uncataloged }),
  };
}

/**
 * A prefix names a folder: `docs` and `docs/` both list `docs/`, and `docs/ph` lists `docs/ph/`, not
 * `docs/` (the start of names in a folder is `--starts-with`).
 */
function folderOf(prefix: string): string {
  if (prefix === "" || prefix.endsWith("/")) return prefix;
  return `${prefix}/`;
}

/**
 * Whether `key` names an object and no folder of the bucket. Asked by
 * listing, with the permission `ls` needs anyway (HeadObject would need
 * s3:GetObject): a key sorts before every longer key it begins, so it is the
 * first one listed.
 */
async function isObjectOnly(target: Target, bucket: string, key: string): Promise<boolean> {
  const { ListObjectsV2Command } = await import("@aws-sdk/client-s3");
  const [named, inside] = await Promise.all(
    [key, `${key}/`].map((prefix) =>
      target.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, MaxKeys: 1 })),
    ),
  );
  return named?.Contents?.[0]?.Key === key && !inside?.Contents?.length;
}

/**
 * What to say of a folder whose objects, all or some, are in S3 and not in
 * the catalog: how many, and the command that catalogs them. Under the derived prefix
 * they are thumbnails, which nothing catalogs (and backfill refuses).
 */
function uncatalogedNote(listing: FolderListing, derivedPrefix: string, flags: TargetFlags): string {
  const count = `${listing.more ? "at least " : ""}${listing.uncataloged} object${listing.uncataloged === 1 ? "" : "s"} in S3`;
  const location = `s3://${listing.bucket}/${listing.folder}${listing.startsWith ?? ""}`;
  if (isDerivedKey(listing.folder, derivedPrefix))
    return `${count}, derived files (thumbnails) that are never cataloged`;
  const one = listing.uncataloged === 1;
  const which =
    listing.objects.length === 0
      ? `${count}, none cataloged`
      : `${count} ${one ? "is" : "are"} not cataloged`;
  return terminalSafe(
    `${which}: 'catalog backfill ${location}${sameTargetFlags(flags)}' catalogs ${one ? "it" : "them"}`,
  );
}

async function runLs(location: string | undefined, flags: LsFlags): Promise<void> {
  await withTarget(flags, async (target) => {
    const { bucket, key } = parseS3Url(location ?? `s3://${target.bucket}/`, target.bucket);
    const startsWith = flags.startsWith ?? "";
    if (Buffer.byteLength(folderOf(key) + startsWith) > MAX_KEY_BYTES)
      throw new CliError(
        `--starts-with with the folder is longer than ${MAX_KEY_BYTES} bytes, the longest key S3 holds`,
      );
    const listing = await listFolder(target, bucket, folderOf(key), flags.limit, startsWith);
    const empty = listing.folders.length === 0 && listing.objects.length === 0;
    // `ls s3://uploads/a.jpg` asks for a folder that is not there: "empty" would hide that a.jpg is.
    if (empty && key !== listing.folder && (await isObjectOnly(target, bucket, key))) {
      throw new CliError(
        `s3://${bucket}/${key} is an object, not a folder: 'catalog show s3://${bucket}/${key}${sameTargetFlags(flags)}' shows its record`,
      );
    }
    if (flags.json) {
      printJson(listing);
      return;
    }
    const rows: string[][] = [["NAME", "SIZE", "TYPE", "STATUS"]];
    for (const folder of listing.folders)
      rows.push([folder.slice(listing.folder.length), "-", "folder", "-"]);
    for (const object of listing.objects) {
      rows.push([
        object.key.slice(listing.folder.length),
        formatBytes(object.size),
        object.mime ? shortMime(object.mime) : "-",
        statusText(object),
      ]);
    }
    const note =
      listing.uncataloged === undefined ? undefined : uncatalogedNote(listing, derivedPrefixOf(flags), flags);
    if (rows.length === 1) {
      // "empty" only when S3 agrees: a folder nobody cataloged says so, and how to catalog it.
      const names = startsWith ? ` (names starting with '${startsWith}')` : "";
      process.stdout.write(
        `${terminalSafe(`s3://${bucket}/${listing.folder}${names}`)}: ${note ?? "empty"}\n`,
      );
      return;
    }
    process.stdout.write(`${formatTable(rows)}\n`);
    if (note) process.stderr.write(`(${note})\n`);
    if (listing.more) {
      process.stderr.write(
        flags.limit === 1
          ? "(first sub-folder and first object of each kind; raise --limit for more)\n"
          : `(first ${flags.limit} sub-folders and objects of each kind; raise --limit for more)\n`,
      );
    }
  });
}

/** `catalog ls`: one folder of the bucket, as the catalog knows it. */
export function registerLs(program: Command): void {
  withTargetFlags(
    program
      .command("ls")
      .description("list a folder: sub-folders from S3, objects with size, type and status from the catalog")
      .argument("[location]", "s3://bucket/prefix/, or a prefix of the default bucket (default: its root)")
      .option(
        "--json",
        "print { bucket, folder, startsWith?, folders, objects, more?, uncataloged? } as JSON",
      )
      .option("--limit <n>", "at most this many sub-folders, and this many objects", parsePositiveInt, 1000)
      .option(
        "--starts-with <text>",
        "only the sub-folders and objects whose names in the folder start with this (case-sensitive)",
        parseNameStart,
      ),
  ).action((location: string | undefined, flags: LsFlags) => runLs(location, flags));
}
