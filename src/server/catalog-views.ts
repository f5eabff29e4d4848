/**
 * Views over the catalog that the store has no single call for: the newest
 * uploads across every category, per-category and per-day totals, and
 * duplicate groups with their copies. Each is built from the store's Query
 * listings only (never a Scan) and reads a bounded number of summaries: the
 * newest uploads are exact at any rate of upload; totals over a busy window
 * stop at a read bound and say so (`truncated: true`), never slow without end.
 */
import type { Category } from "../engine/types.js";
import type { CatalogStore } from "../store/catalog-store.js";
import { dayOf, daysBetween } from "../store/keys.js";
import type { DuplicateGroup, Page, RecordSummary } from "../store/types.js";
import { CATEGORIES, type Window } from "./validation.js";

/** Most summaries one stats answer reads from the category index. */
export const STATS_READ_BOUND = 20_000;
/** Page size asked of the store while walking a listing. */
const WALK_PAGE = 1_000;

/** Newest uploads first, and the cursor of the next page when there is one. */
export interface RecentUploads {
  items: RecordSummary[];
  cursor?: string;
}

/** Totals for one category or one day. */
export interface Tally {
  count: number;
  bytes: number;
}

/** What `GET /api/stats` answers. */
export interface CatalogStats extends Window {
  byCategory: ({ category: Category } & Tally)[];
  byDay: ({ day: string } & Tally)[];
  total: Tally;
  /** Summaries read to compute this. */
  itemsRead: number;
  /** The most this answer reads; when reached, `truncated` is true and the totals are lower bounds. */
  readBound: number;
  truncated: boolean;
}

/** A duplicate group with the objects holding that content. */
export interface DuplicateGroupView extends DuplicateGroup {
  objects: RecordSummary[];
  /** More objects hold this content than `objects` lists: `listByHash` lists them all. */
  moreObjects?: true;
}

/** Reads a listing page after page until it ends or `budget.left` runs out. */
async function drain(
  next: (cursor: string | undefined) => Promise<Page<RecordSummary>>,
  budget: { left: number },
  onItem: (item: RecordSummary) => void,
): Promise<boolean> {
  let cursor: string | undefined;
  do {
    if (budget.left <= 0) return true;
    const page = await next(cursor);
    for (const item of page.items) {
      if (budget.left <= 0) return true;
      budget.left -= 1;
      onItem(item);
    }
    cursor = page.cursor;
  } while (cursor);
  return false;
}

/**
 * Where a page of the newest uploads ended: the time, category and key of
 * its last item. At one instant a page lists categories in their fixed order
 * and each one's items in its index's order (several uploads can share a
 * millisecond, and a backfill stamps many with one time), so that item says
 * it all: the categories before its own have listed everything at that time,
 * its own goes on right after its place in the index, whether or not it is
 * still there, and those after it have listed nothing at that time. One key,
 * however many categories tie: a cursor naming the last key of each could
 * outgrow what a URL carries with long keys.
 */
interface RecentCursor {
  time: string;
  category: Category;
  key: string;
}

function encodeRecentCursor(cursor: RecentCursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString("base64url");
}

/** The cursor a page of {@link listRecent} handed back (the API seals it, so it is one this code wrote). */
function decodeRecentCursor(cursor: string): RecentCursor {
  const parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as RecentCursor;
  if (
    typeof parsed?.time !== "string" ||
    typeof parsed.key !== "string" ||
    !(CATEGORIES as readonly string[]).includes(parsed.category)
  )
    throw new TypeError("not a cursor of the newest uploads");
  return parsed;
}

/**
 * The newest uploads of one category in `range`, newest first, from right
 * after `after` when given (listed by an earlier page): up to `limit`, and
 * whether more follow.
 */
async function newestOf(
  store: CatalogStore,
  bucket: string,
  category: Category,
  range: Window,
  after: { key: string; eventTime: string } | undefined,
  limit: number,
): Promise<{ items: RecordSummary[]; more: boolean }> {
  const items: RecordSummary[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.listByCategory(bucket, category, range, {
      limit: Math.min(WALK_PAGE, limit - items.length),
      newestFirst: true,
      ...(cursor ? { cursor } : after && { after }),
    });
    items.push(...page.items);
    cursor = page.cursor;
  } while (cursor && items.length < limit);
  return { items, more: cursor !== undefined };
}

/**
 * The newest uploads in a window across every category (or one), a page at
 * a time: walks UTC days from the newest (from where the last page ended);
 * for each, asks every category's day partition in parallel for its newest
 * `limit`, and stops after the day that fills `limit`. The answer is exact
 * however busy a day is, and a page reads at most `limit` summaries per
 * category per day: every upload of an earlier day is older
 * than any of a later one, and no category can place more than `limit`
 * among the newest.
 *
 * @example
 * const first = await listRecent(store, "uploads", { from, to }, 50);
 * const next = first.cursor && (await listRecent(store, "uploads", { from, to }, 50, undefined, first.cursor));
 */
export async function listRecent(
  store: CatalogStore,
  bucket: string,
  window: Window,
  limit: number,
  category?: Category,
  cursor?: string,
): Promise<RecentUploads> {
  const after = cursor === undefined ? undefined : decodeRecentCursor(cursor);
  // A window that moved on (`days` ends at each page's "now") past where the last page ended holds no more.
  if (after && Date.parse(after.time) < Date.parse(window.from)) return { items: [] };
  const categories = category ? [category] : CATEGORIES;
  const to = after ? minTime(after.time, window.to) : window.to;
  // The last page's final instant is read from after what it listed, where the range still holds it.
  const resumed = after !== undefined && to === after.time ? after : undefined;
  const listNewest = (name: Category, range: Window, first: boolean) => {
    const order = resumed && first ? CATEGORIES.indexOf(name) - CATEGORIES.indexOf(resumed.category) : 1;
    if (order > 0 || !resumed) return newestOf(store, bucket, name, range, undefined, limit);
    if (order === 0) return newestOf(store, bucket, name, range, { key: resumed.key, eventTime: to }, limit);
    // A category before the last item's: everything it holds at that instant was listed.
    const before = new Date(Date.parse(to) - 1).toISOString();
    return Date.parse(before) < Date.parse(range.from)
      ? Promise.resolve({ items: [], more: false })
      : newestOf(store, bucket, name, { ...range, to: before }, undefined, limit);
  };
  const merged: { item: RecordSummary; at: number; order: number }[] = [];
  let more = false;
  const days = daysBetween(window.from, to).reverse();
  for (const [index, day] of days.entries()) {
    const range = {
      from: maxTime(`${day}T00:00:00.000Z`, window.from),
      to: minTime(`${day}T23:59:59.999Z`, to),
    };
    const lists = await Promise.all(categories.map((name) => listNewest(name, range, index === 0)));
    for (const [at, list] of lists.entries()) {
      more ||= list.more;
      for (const [order, item] of list.items.entries()) merged.push({ item, at, order });
    }
    if (merged.length >= limit) {
      more ||= index < days.length - 1;
      break;
    }
  }
  // Newest first; at one instant, categories in their fixed order and each one's items in its index's order,
  // which is the order the next page resumes in.
  merged.sort(
    (a, b) =>
      (a.item.eventTime < b.item.eventTime ? 1 : a.item.eventTime > b.item.eventTime ? -1 : 0) ||
      a.at - b.at ||
      a.order - b.order,
  );
  const page = merged.slice(0, limit);
  const last = page.at(-1);
  if (!last || !(more || merged.length > limit)) return { items: page.map(({ item }) => item) };
  return {
    items: page.map(({ item }) => item),
    cursor: encodeRecentCursor({
      time: last.item.eventTime,
      category: categories[last.at] as Category,
      key: last.item.key,
    }),
  };
}

/**
 * Counts and bytes by category and by day over a window, from the category
 * index (one Query per category per day, plus one per further page), reading
 * at most {@link STATS_READ_BOUND} summaries.
 *
 * @example
 * const stats = await computeStats(store, "uploads", { from, to });
 * stats.byCategory.find((row) => row.category === "image")?.bytes;
 */
export async function computeStats(
  store: CatalogStore,
  bucket: string,
  window: Window,
): Promise<CatalogStats> {
  const budget = { left: STATS_READ_BOUND };
  const byCategory = new Map<Category, Tally>(CATEGORIES.map((name) => [name, { count: 0, bytes: 0 }]));
  const byDay = new Map<string, Tally>(
    daysBetween(window.from, window.to).map((day) => [day, { count: 0, bytes: 0 }]),
  );
  const cut = await Promise.all(
    CATEGORIES.map((name) =>
      drain(
        (cursor) =>
          store.listByCategory(bucket, name, window, { limit: WALK_PAGE, ...(cursor && { cursor }) }),
        budget,
        (item) => {
          const size = typeof item.size === "number" ? item.size : 0;
          add(byCategory.get(name), size);
          add(byDay.get(dayOf(item.eventTime)), size);
        },
      ),
    ),
  );
  const rows = [...byCategory].map(([category, tally]) => ({ category, ...tally }));
  return {
    ...window,
    byCategory: rows,
    byDay: [...byDay].map(([day, tally]) => ({ day, ...tally })),
    total: rows.reduce((sum, row) => ({ count: sum.count + row.count, bytes: sum.bytes + row.bytes }), {
      count: 0,
      bytes: 0,
    }),
    itemsRead: STATS_READ_BOUND - budget.left,
    readBound: STATS_READ_BOUND,
    truncated: cut.some(Boolean),
  };
}

/**
 * One page of the duplicate groups found in a window that have a copy in
 * `bucket`, each with (up to `perGroup`, at least 2, of) its objects: the
 * bucket's own first, then those in other buckets (each object names its
 * bucket), and `moreObjects` when it holds more than that. Groups the index
 * shows fewer than two copies of are left out.
 *
 * @example
 * const { items } = await listDuplicates(store, "uploads", { from, to }, { limit: 20 }, 10);
 */
export async function listDuplicates(
  store: CatalogStore,
  bucket: string,
  window: Window,
  page: { limit: number; cursor?: string },
  perGroup: number,
): Promise<Page<DuplicateGroupView>> {
  // Unscoped: the copies read below say whether a group has one in `bucket`, which the store's
  // scope would ask again with a Query per group.
  const groups = await store.listDuplicateGroups(window, { ...page, newestFirst: true });
  const items = await Promise.all(
    groups.items.map(async (group) => {
      // One more than is listed: a full page has a cursor whether or not anything follows it.
      const all = await store.listByHash(group.sha256, { limit: perGroup + 1 });
      // Read to its end, the listing holds the bucket's own copies in the order their own Query
      // lists them; cut short, other buckets' copies may fill it, so theirs are asked for.
      const here =
        all.cursor === undefined
          ? all.items.filter((object) => object.bucket === bucket)
          : (await store.listByHash(group.sha256, { limit: perGroup + 1 }, { bucket })).items;
      const elsewhere = all.items.filter((object) => object.bucket !== bucket);
      const objects = [...here, ...elsewhere].slice(0, perGroup);
      return {
        group: { ...group, objects, ...(all.items.length > perGroup && { moreObjects: true as const }) },
        hasCopyHere: here.length > 0,
      };
    }),
  );
  // A group listed under the earlier layout can outlive its copies (see schema.ts, "Duplicates"):
  // its copies decide whether it still holds duplicates.
  const held = items
    .filter(({ group, hasCopyHere }) => hasCopyHere && group.objects.length >= 2)
    .map(({ group }) => group);
  return { items: held, ...(groups.cursor && { cursor: groups.cursor }) };
}

function add(tally: Tally | undefined, size: number): void {
  if (!tally) return;
  tally.count += 1;
  tally.bytes += size;
}

function maxTime(a: string, b: string): string {
  return Date.parse(a) >= Date.parse(b) ? a : b;
}

function minTime(a: string, b: string): string {
  return Date.parse(a) <= Date.parse(b) ? a : b;
}
