import type { Command } from "commander";
import { withoutIndexKeys } from "../../store/schema.js";
import type { RecordSummary } from "../../store/types.js";
import { CliError } from "../cli-error.js";
import { formatBytes, formatTable, printJson, statusText } from "../format.js";
import { parsePositiveInt } from "../options.js";
import { collectPages } from "../paging.js";
import type { Target } from "../target.js";
import { parseS3Url, type TargetFlags, withTargetFlags } from "../target-flags.js";
import { withTarget } from "../target-session.js";

interface LsFlags extends TargetFlags {
  json?: boolean;
  limit: number;
}

/** What `catalog ls` shows for one folder. */
export interface FolderListing {
  bucket: string;
  folder: string;
  /** Sub-folders, full prefixes ending in `/`. */
  folders: string[];
  /** Cataloged objects directly in the folder, with `mismatch` read from their records. */
  objects: RecordSummary[];
  /** Set when the folder holds more sub-folders or objects than the limit let through. */
  more?: true;
}

/**
 * Sub-folders come from S3 (ListObjectsV2 with Delimiter "/"): a folder is an
 * S3 notion, not a catalog one. Objects come from the catalog, by the folder
 * index, so their type and status are there without reading S3.
 */
async function listFolder(
  target: Target,
  bucket: string,
  folder: string,
  limit: number,
): Promise<FolderListing> {
  const { ListObjectsV2Command } = await import("@aws-sdk/client-s3");
  const folders: string[] = [];
  let token: string | undefined;
  do {
    const page = await target.s3.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: folder,
        Delimiter: "/",
        ...(token && { ContinuationToken: token }),
      }),
    );
    for (const common of page.CommonPrefixes ?? []) if (common.Prefix) folders.push(common.Prefix);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token && folders.length < limit);
  const objects = await collectPages(limit, (page) => target.store.listFolder(bucket, folder, page));
  const more = token !== undefined || folders.length > limit || objects.more;
  return {
    bucket,
    folder,
    folders: folders.slice(0, limit),
    objects: (await target.store.withTypeMismatches(objects.items)).map(withoutIndexKeys),
    ...(more && { more: true as const }),
  };
}

/** A prefix names a folder: `docs` and `docs/` both list `docs/`; a prefix with a partial name lists its folder. */
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

async function runLs(location: string | undefined, flags: LsFlags): Promise<void> {
  await withTarget(flags, async (target) => {
    const { bucket, key } = parseS3Url(location ?? `s3://${target.bucket}/`, target.bucket);
    const listing = await listFolder(target, bucket, folderOf(key), flags.limit);
    const empty = listing.folders.length === 0 && listing.objects.length === 0;
    // `ls s3://uploads/a.jpg` asks for a folder that is not there: "empty" would hide that a.jpg is.
    if (empty && key !== listing.folder && (await isObjectOnly(target, bucket, key))) {
      throw new CliError(
        `s3://${bucket}/${key} is an object, not a folder: 'catalog show s3://${bucket}/${key}' shows its record`,
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
        object.mime ?? "-",
        statusText(object),
      ]);
    }
    if (rows.length === 1) {
      process.stdout.write(`s3://${bucket}/${listing.folder}: empty\n`);
      return;
    }
    process.stdout.write(`${formatTable(rows)}\n`);
    if (listing.more) {
      process.stderr.write(
        `(first ${flags.limit} sub-folders and objects of each kind; raise --limit for more)\n`,
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
      .option("--json", "print { bucket, folder, folders, objects, more? } as JSON")
      .option("--limit <n>", "at most this many sub-folders, and this many objects", parsePositiveInt, 1000),
  ).action((location: string | undefined, flags: LsFlags) => runLs(location, flags));
}
