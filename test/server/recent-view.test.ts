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
});
