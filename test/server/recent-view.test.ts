import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listRecent } from "../../src/server/catalog-views.js";
import { CATEGORIES } from "../../src/server/validation.js";
import { CatalogStore } from "../../src/store/catalog-store.js";
import type {
  ObjectRecordInput,
  Page,
  PageRequest,
  RecordSummary,
  TimeRange,
} from "../../src/store/types.js";
import { testExtraction, testFormat, testRecord } from "../support/records.js";
import { startServers, type TestServers } from "../support/servers.js";

let servers: TestServers;
beforeAll(async () => {
  servers = await startServers();
});
afterAll(() => servers.stop());

/** A store that counts the summaries its category listings hand back: what the view reads. */
class CountingStore extends CatalogStore {
  /** Summaries read, by category. */
  readByCategory = new Map<string, number>();

  override async listByCategory(
    bucket: string,
    category: string,
    range: TimeRange,
    page?: PageRequest,
  ): Promise<Page<RecordSummary>> {
    const listed = await super.listByCategory(bucket, category, range, page);
    this.readByCategory.set(category, (this.readByCategory.get(category) ?? 0) + listed.items.length);
    return listed;
  }
}

function upload(key: string, eventTime: string, mime: string, category: "image" | "pdf"): ObjectRecordInput {
  const format = testFormat(mime, category === "image" ? "png" : "pdf", category);
  return testRecord({ bucket: "uploads", key, eventTime, extraction: testExtraction({ format }) });
}

describe("the recent uploads view", () => {
  let store: CountingStore;
  const window = { from: "2024-04-26T00:00:00.000Z", to: "2024-05-02T23:59:59.999Z" };

  beforeAll(async () => {
    // 40 images and 3 PDFs on the newest day, interleaved in time, and 5 images the day before.
    store = new CountingStore(servers.dynamodb, { tableName: "recent-view" });
    await store.ensureTable();
    const at = (day: string, seconds: number) =>
      `2024-05-${day}T10:00:${seconds.toFixed(3).padStart(6, "0")}Z`;
    for (let second = 0; second < 40; second += 1)
      await store.putRecord(upload(`busy/${second}.png`, at("02", second), "image/png", "image"));
    for (const second of [5.5, 37.5, 38.5])
      await store.putRecord(upload(`busy/${second}.pdf`, at("02", second), "application/pdf", "pdf"));
    for (let second = 0; second < 5; second += 1)
      await store.putRecord(upload(`before/${second}.png`, at("01", second), "image/png", "image"));
  });

  it("answers the newest uploads of a busy day, reading at most the limit per category", async () => {
    // Act
    store.readByCategory.clear();
    const recent = await listRecent(store, "uploads", window, 5);
    // Assess: the five newest across categories, newest first; no category read past the limit.
    expect(recent.items.map((item) => item.key)).toEqual([
      "busy/39.png",
      "busy/38.5.pdf",
      "busy/38.png",
      "busy/37.5.pdf",
      "busy/37.png",
    ]);
    expect(Object.fromEntries(store.readByCategory)).toEqual(
      Object.fromEntries(CATEGORIES.map((name) => [name, { image: 5, pdf: 3 }[name as string] ?? 0])),
    );
  });

  it("goes back a day when the newest one holds fewer than the limit", async () => {
    // Act
    store.readByCategory.clear();
    const recent = await listRecent(store, "uploads", window, 45);
    // Assess: all 43 of the newest day, then the newest two of the day before.
    const keys = recent.items.map((item) => item.key);
    expect(keys).toHaveLength(45);
    expect(keys.slice(0, 2)).toEqual(["busy/39.png", "busy/38.5.pdf"]);
    expect(keys.slice(-3)).toEqual(["busy/0.png", "before/4.png", "before/3.png"]);
    expect(store.readByCategory.get("image")).toBe(45);
    expect(store.readByCategory.get("pdf")).toBe(3);
  });

  it("lists one category only when asked", async () => {
    const recent = await listRecent(store, "uploads", window, 3, "pdf");
    expect(recent.items.map((item) => item.key)).toEqual(["busy/38.5.pdf", "busy/37.5.pdf", "busy/5.5.pdf"]);
  });

  it("pages through every upload once, newest first, as one long page lists them", async () => {
    // Act
    const pages: string[][] = [];
    let cursor: string | undefined;
    do {
      const page = await listRecent(store, "uploads", window, 5, undefined, cursor);
      pages.push(page.items.map((item) => item.key));
      cursor = page.cursor;
    } while (cursor && pages.length < 20);
    // Assess: 48 uploads in ten pages, the last one short and without a cursor.
    const whole = await listRecent(store, "uploads", window, 100);
    expect(pages.flat()).toEqual(whole.items.map((item) => item.key));
    expect(pages.flat()).toHaveLength(48);
    expect(pages.map((page) => page.length)).toEqual([5, 5, 5, 5, 5, 5, 5, 5, 5, 3]);
  });

  it("reads no more than the limit per category for a later page", async () => {
    // Prepare
    const first = await listRecent(store, "uploads", window, 5);
    store.readByCategory.clear();
    // Act
    const second = await listRecent(store, "uploads", window, 5, undefined, first.cursor);
    // Assess
    expect(second.items.map((item) => item.key)).toEqual([
      "busy/36.png",
      "busy/35.png",
      "busy/34.png",
      "busy/33.png",
      "busy/32.png",
    ]);
    // The first page ended at busy/37.png: images resume right after it; the one PDF left.
    expect(store.readByCategory.get("image")).toBe(5);
    expect(store.readByCategory.get("pdf")).toBe(1);
  });
});

describe("the recent uploads view, many uploads at one instant", () => {
  let store: CatalogStore;
  const instant = "2024-06-01T12:00:00.000Z";
  const window = { from: "2024-06-01T00:00:00.000Z", to: "2024-06-01T23:59:59.999Z" };

  beforeAll(async () => {
    // A backfill's kind of burst: 9 images and 4 PDFs stamped with the same millisecond, between two others.
    store = new CatalogStore(servers.dynamodb, { tableName: "recent-ties" });
    await store.ensureTable();
    await store.putRecord(upload("after.png", "2024-06-01T12:00:01.000Z", "image/png", "image"));
    for (let index = 0; index < 9; index += 1)
      await store.putRecord(upload(`tied/${index}.png`, instant, "image/png", "image"));
    for (let index = 0; index < 4; index += 1)
      await store.putRecord(upload(`tied/${index}.pdf`, instant, "application/pdf", "pdf"));
    await store.putRecord(upload("before.pdf", "2024-06-01T11:59:59.000Z", "application/pdf", "pdf"));
  });

  it.each([1, 2, 3, 4, 7, 15])("lists each one once, %i a page", async (limit) => {
    // Act
    const keys: string[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 20; pages += 1) {
      const page = await listRecent(store, "uploads", window, limit, undefined, cursor);
      keys.push(...page.items.map((item) => item.key));
      cursor = page.cursor;
      if (!cursor) break;
    }
    // Assess: all 15, the newest first and the oldest last, none twice.
    expect(keys).toHaveLength(15);
    expect(new Set(keys).size).toBe(15);
    expect(keys[0]).toBe("after.png");
    expect(keys.at(-1)).toBe("before.pdf");
    expect(cursor).toBeUndefined();
  });
  it("skips none when one already listed at the last page's instant is deleted before the next page", async () => {
    // Prepare: a page that ends among the tied images, then the last image it listed goes (this test runs last).
    const first = await listRecent(store, "uploads", window, 4);
    const listedTied = first.items.filter(
      (item) => item.key.startsWith("tied/") && item.key.endsWith(".png"),
    );
    expect(listedTied.length).toBeGreaterThan(0);
    // The last one listed: the very place the next page resumes from is gone.
    const gone = listedTied.at(-1)?.key as string;
    await store.putTombstone({
      bucket: "uploads",
      key: gone,
      sequencer: "FF",
      eventTime: "2024-06-01T13:00:00.000Z",
    });
    // Act
    const keys = first.items.map((item) => item.key);
    let cursor = first.cursor;
    while (cursor) {
      const page = await listRecent(store, "uploads", window, 4, undefined, cursor);
      keys.push(...page.items.map((item) => item.key));
      cursor = page.cursor;
    }
    // Assess: every upload once, the deleted one included from the first page, none skipped.
    expect(new Set(keys).size).toBe(15);
    expect(keys).toHaveLength(15);
  });
});

describe("the recent uploads view, long keys tied in every category", () => {
  let store: CatalogStore;
  const instant = "2024-07-01T12:00:00.000Z";
  const window = { from: "2024-07-01T00:00:00.000Z", to: "2024-07-01T23:59:59.999Z" };
  const formats = {
    image: ["image/png", "png"],
    video: ["video/mp4", "mp4"],
    audio: ["audio/mpeg", "mp3"],
    pdf: ["application/pdf", "pdf"],
    document: ["application/msword", "doc"],
    archive: ["application/zip", "zip"],
    font: ["font/ttf", "ttf"],
    text: ["text/plain", "txt"],
  } as const;

  beforeAll(async () => {
    // Two objects per category at one instant, each key the 1,024 bytes S3 allows, most of them escaped in JSON.
    store = new CatalogStore(servers.dynamodb, { tableName: "recent-long-keys" });
    await store.ensureTable();
    for (const [category, [mime, ext]] of Object.entries(formats)) {
      for (const index of [0, 1]) {
        const name = `${category}-${index}.${ext}`;
        const key = `${'"'.repeat(1024 - name.length)}${name}`;
        const format = testFormat(mime, ext, category as keyof typeof formats);
        await store.putRecord(
          testRecord({ bucket: "uploads", key, eventTime: instant, extraction: testExtraction({ format }) }),
        );
      }
    }
  });

  it("hands back a cursor of one key, however many categories tie, and lists each once", async () => {
    // Act
    const keys: string[] = [];
    const cursors: string[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 40; pages += 1) {
      const page = await listRecent(store, "uploads", window, 3, undefined, cursor);
      keys.push(...page.items.map((item) => item.key));
      cursor = page.cursor;
      if (!cursor) break;
      cursors.push(cursor);
    }
    // Assess: a key escaped in JSON is at most 2,048 characters, and base64 makes it 2,731 or so, under the
    // 8,192 characters the API takes with its seal (a cursor naming a key per category reached 20,000).
    expect(keys).toHaveLength(16);
    expect(new Set(keys).size).toBe(16);
    expect(Math.max(...cursors.map((text) => text.length))).toBeLessThan(3000);
  });
});
