import { ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import type { Hono } from "hono";
import type { CatalogStore } from "../../store/catalog-store.js";
import { withoutIndexKeys } from "../../store/schema.js";
import type { Page, RecordSummary } from "../../store/types.js";
import { computeStats, listDuplicates, listRecent } from "../catalog-views.js";
import { RequestError } from "../errors.js";
import type { CursorSeal } from "../paging-cursor.js";
import {
  parseCategory,
  parseCursor,
  parseInteger,
  parseKey,
  parseNameStart,
  parsePrefix,
  parseSha256,
  parseWindow,
} from "../validation.js";

/** What the catalog routes read from. */
export interface CatalogRouteDeps {
  store: CatalogStore;
  bucket: string;
  s3Client?: S3Client;
  /** Prefix of derived files (thumbnails): hidden from folder listings. */
  derivedPrefix: string;
  now: () => Date;
  /** Signs the cursors these routes hand out, and refuses the ones they did not. */
  cursors: CursorSeal;
}

/** Pages of sub-folders read from S3 for one listing; beyond it `foldersTruncated` is set. */
const FOLDER_PAGES_BOUND = 5;
function limitOf(value: string | undefined, fallback = 100): number {
  return parseInteger("limit", value, { min: 1, max: 500, fallback });
}

/**
 * JSON routes over the catalog: folder, object, recent, find, problems,
 * duplicates and stats. Every query parameter is validated (400 with a message).
 * Every object a listing names carries `mismatch` and `mismatchReason` when
 * its content contradicts its declared type, read from its record
 * (`CatalogStore.withTypeMismatches`): the indexes do not hold them.
 *
 * @example
 * mountCatalogRoutes(app, { store, bucket: "uploads", s3Client, derivedPrefix: "_derived/",
 *   now: () => new Date(), cursors: new CursorSeal() });
 */
export function mountCatalogRoutes(app: Hono, deps: CatalogRouteDeps): void {
  // A cursor is bound to the listing that issued it: one folder's cursor is no cursor for another.
  const cursorFor = (listing: string, value: string | undefined) =>
    deps.cursors.open(listing, parseCursor("cursor", value));
  // A listing over a time window reads its days by position: a cursor is good only for the window it
  // was issued for. The window as asked, not as computed: with `days`, its end is a new "now" each page.
  const windowed = (name: string, query: Record<string, string>) =>
    `${name}:${JSON.stringify([query.days, query.from, query.to])}`;
  const paged = <T extends { cursor?: string }>(listing: string, page: T): T => {
    const { cursor, ...rest } = page;
    const sealed = deps.cursors.seal(listing, cursor);
    return { ...rest, ...(sealed && { cursor: sealed }) } as T;
  };
  const marked = async <T extends Page<RecordSummary>>(page: T): Promise<T> => ({
    ...page,
    items: await deps.store.withTypeMismatches(page.items),
  });
  app.get("/api/object", async (c) => {
    const key = parseKey("key", c.req.query("key"));
    const { record, audit, olderAudit } = await deps.store.getObject(deps.bucket, key);
    if (!record && audit.length === 0)
      throw new RequestError(404, `s3://${deps.bucket}/${key} is not in the catalog`);
    const shown = record ? withoutIndexKeys(record) : null;
    // Newest event first: what a person looking at a history wants to see. `olderAudit`: the
    // history holds more than the newest entries sent.
    return c.json({ record: shown, audit: [...audit].reverse(), ...(olderAudit && { olderAudit }) });
  });

  app.get("/api/folder", async (c) => {
    const prefix = parsePrefix("prefix", c.req.query("prefix"));
    const startsWith = parseNameStart("startsWith", c.req.query("startsWith"), prefix);
    // A cursor continues the names it was issued for: the folder's, or those starting with some text.
    const listing = `folder:${JSON.stringify([prefix, startsWith])}`;
    const cursor = cursorFor(listing, c.req.query("cursor"));
    const limit = limitOf(c.req.query("limit"));
    const page = paged(
      listing,
      await marked(
        await deps.store.listFolder(
          deps.bucket,
          prefix,
          { limit, ...(cursor && { cursor }) },
          { startsWith },
        ),
      ),
    );
    // Sub-folders come from S3 (the catalog has no folder items); on the first page only.
    const folders = cursor
      ? { names: [], truncated: false, objects: 0, missing: 0 }
      : await subFolders(deps, prefix, startsWith, new Set(page.items.map((item) => item.key)));
    // A folder whose objects S3 holds and the catalog does not is no empty folder: say how many. Some
    // lacking are counted when both listings are whole (one page of records, S3 listed to its end).
    const whole = !page.cursor && !folders.truncated;
    const lacking = page.items.length === 0 ? folders.objects : whole ? folders.missing : 0;
    const uncataloged = lacking > 0 ? lacking : undefined;
    return c.json({
      prefix,
      startsWith,
      folders: folders.names,
      foldersTruncated: folders.truncated,
      items: page.items,
      ...(page.cursor && { cursor: page.cursor }),
      ...(uncataloged !== undefined && { uncataloged }),
    });
  });

  app.get("/api/recent", async (c) => {
    const window = parseWindow(c.req.query(), { fallbackDays: 7, maxDays: 31 }, deps.now());
    const category = parseCategory("category", c.req.query("category"));
    const limit = limitOf(c.req.query("limit"), 50);
    const listing = windowed(`recent:${category ?? ""}`, c.req.query());
    const cursor = cursorFor(listing, c.req.query("cursor"));
    const recent = paged(
      listing,
      await marked(await listRecent(deps.store, deps.bucket, window, limit, category, cursor)),
    );
    return c.json({ ...window, ...recent });
  });

  app.get("/api/find", async (c) => {
    const category = parseCategory("category", c.req.query("category"));
    if (!category) throw new RequestError(400, "'category' is required");
    const window = parseWindow(c.req.query(), { fallbackDays: 7, maxDays: 366 }, deps.now());
    const listing = windowed(`find:${category}`, c.req.query());
    const cursor = cursorFor(listing, c.req.query("cursor"));
    const limit = limitOf(c.req.query("limit"));
    const page = paged(
      listing,
      await marked(
        await deps.store.listByCategory(deps.bucket, category, window, {
          limit,
          newestFirst: true,
          ...(cursor && { cursor }),
        }),
      ),
    );
    return c.json({ ...window, category, ...page });
  });

  app.get("/api/problems", async (c) => {
    const window = parseWindow(c.req.query(), { fallbackDays: 7, maxDays: 366 }, deps.now());
    const listing = windowed("problems", c.req.query());
    const cursor = cursorFor(listing, c.req.query("cursor"));
    const limit = limitOf(c.req.query("limit"));
    const page = paged(
      listing,
      await marked(
        await deps.store.listProblems(deps.bucket, window, {
          limit,
          newestFirst: true,
          ...(cursor && { cursor }),
        }),
      ),
    );
    return c.json({ ...window, ...page });
  });

  app.get("/api/duplicates", async (c) => {
    const sha = c.req.query("sha256");
    if (sha !== undefined) {
      const sha256 = parseSha256("sha256", sha);
      const listing = `copies:${sha256}`;
      const cursor = cursorFor(listing, c.req.query("cursor"));
      const page = await deps.store.listByHash(sha256, {
        limit: limitOf(c.req.query("limit")),
        ...(cursor && { cursor }),
      });
      return c.json(paged(listing, await marked(page)));
    }
    const window = parseWindow(c.req.query(), { fallbackDays: 30, maxDays: 366 }, deps.now());
    const listing = windowed("duplicates", c.req.query());
    const cursor = cursorFor(listing, c.req.query("cursor"));
    const limit = parseInteger("limit", c.req.query("limit"), { min: 1, max: 100, fallback: 20 });
    const page = paged(
      listing,
      await listDuplicates(deps.store, deps.bucket, window, { limit, ...(cursor && { cursor }) }, 20),
    );
    return c.json({ ...window, ...page, items: await deps.store.withGroupTypeMismatches(page.items) });
  });

  app.get("/api/stats", async (c) => {
    const window = parseWindow(c.req.query(), { fallbackDays: 14, maxDays: 90 }, deps.now());
    return c.json(await computeStats(deps.store, deps.bucket, window));
  });
}

/**
 * A folder's sub-folders as S3 lists them, how many objects the same
 * listing names directly in it, and how many of those are not among
 * `cataloged`: derived files and the folder's own console marker (`prefix/`,
 * which Browse shows as the folder) are not counted. With `startsWith`, only
 * the sub-folders and objects whose names start with it: S3 filters both by
 * the longer Prefix, as the catalog's listing filters its records.
 */
async function subFolders(
  deps: CatalogRouteDeps,
  prefix: string,
  startsWith: string,
  cataloged: Set<string>,
): Promise<{ names: string[]; truncated: boolean; objects: number; missing: number }> {
  if (!deps.s3Client) return { names: [], truncated: false, objects: 0, missing: 0 };
  const names: string[] = [];
  let objects = 0;
  let missing = 0;
  let token: string | undefined;
  for (let page = 0; page < FOLDER_PAGES_BOUND; page++) {
    const output = await deps.s3Client.send(
      new ListObjectsV2Command({
        Bucket: deps.bucket,
        Prefix: prefix + startsWith,
        Delimiter: "/",
        ...(token && { ContinuationToken: token }),
      }),
    );
    for (const common of output.CommonPrefixes ?? []) {
      if (common.Prefix && !common.Prefix.startsWith(deps.derivedPrefix)) names.push(common.Prefix);
    }
    for (const object of output.Contents ?? []) {
      if (!object.Key || object.Key === prefix || object.Key.startsWith(deps.derivedPrefix)) continue;
      objects++;
      if (!cataloged.has(object.Key)) missing++;
    }
    token = output.IsTruncated ? output.NextContinuationToken : undefined;
    if (!token) return { names, truncated: false, objects, missing };
  }
  return { names, truncated: true, objects, missing };
}
