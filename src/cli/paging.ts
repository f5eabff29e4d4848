import type { Page } from "../store/types.js";

/**
 * Reads a paged listing until it ends or `limit` items are in, asking for no
 * more than is still wanted; `more` says the listing went on past them. CLI
 * listings stop at a limit so a folder of a million objects prints what was
 * asked for instead of holding them all in memory first.
 *
 * @example
 * const { items, more } = await collectPages(1000, (page) => store.listFolder("uploads", "docs/", page));
 */
export async function collectPages<T>(
  limit: number,
  fetch: (page: { limit: number; cursor?: string }) => Promise<Page<T>>,
): Promise<{ items: T[]; more: boolean }> {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await fetch({ limit: Math.min(1000, limit - items.length), ...(cursor && { cursor }) });
    items.push(...page.items);
    cursor = page.cursor;
  } while (cursor && items.length < limit);
  return { items: items.slice(0, limit), more: cursor !== undefined || items.length > limit };
}
