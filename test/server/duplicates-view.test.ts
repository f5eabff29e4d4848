import { PutItemCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listDuplicates } from "../../src/server/catalog-views.js";
import { CatalogStore } from "../../src/store/catalog-store.js";
import type { ObjectRecordInput } from "../../src/store/types.js";
import { testRecord } from "../support/records.js";
import { startServers, type TestServers } from "../support/servers.js";

let servers: TestServers;
beforeAll(async () => {
  servers = await startServers();
});
afterAll(() => servers.stop());

/** A record of `key` holding `sha256`, cataloged on 2024-05-01: in the window these tests list. */
function copy(key: string, sha256: string, sequencer = "01", bucket = "uploads"): ObjectRecordInput {
  return testRecord({ bucket, key, sequencer, eventTime: "2024-05-01T10:00:00.000Z", sha256 });
}

describe("the duplicates view", () => {
  it("leaves out a listed group that no longer shows two copies", async () => {
    // Prepare: a group the earlier layout listed (a set of member ids) whose copies have since gone,
    // and a group of two copies.
    const store = new CatalogStore(servers.dynamodb, { tableName: "duplicates-view" });
    await store.ensureTable();
    const window = { from: "2024-05-01T00:00:00.000Z", to: "2024-05-02T00:00:00.000Z" };
    const shared = "e".repeat(64);
    const kept = "f".repeat(64);
    await servers.dynamodb.send(
      new PutItemCommand({
        TableName: "duplicates-view",
        Item: {
          pk: { S: `SHA#${shared}` },
          sk: { S: "#GROUP" },
          sha256: { S: shared },
          members: { SS: ["m1", "m2", "m3"] },
          overflow: { BOOL: true },
          categoryPk: { S: "DUP#2024-05-01" },
          categorySk: { S: `2024-05-01T10:00:00.000Z#${shared}` },
          eventTime: { S: "2024-05-01T10:00:00.000Z" },
        },
      }),
    );
    await store.putRecord(copy("a.png", shared));
    for (const key of ["x.png", "y.png"]) await store.putRecord(copy(key, kept));
    // Act
    const page = await listDuplicates(store, "uploads", window, { limit: 20 }, 20);
    // Assess: the store still lists both groups; the view shows only the one that holds duplicates.
    expect((await store.listDuplicateGroups(window)).items.map((group) => group.sha256).sort()).toEqual([
      shared,
      kept,
    ]);
    expect(page.items.map((group) => [group.sha256, group.objects.map((object) => object.key)])).toEqual([
      [kept, ["x.png", "y.png"]],
    ]);
  });

  it("says when a group holds more objects than it lists, and only then", async () => {
    // Prepare: one content held by three objects, another by exactly as many as a group lists.
    const store = new CatalogStore(servers.dynamodb, { tableName: "duplicates-more" });
    await store.ensureTable();
    const window = { from: "2024-05-01T00:00:00.000Z", to: "2024-05-02T00:00:00.000Z" };
    const three = "a".repeat(64);
    const two = "b".repeat(64);
    for (const key of ["1.png", "2.png", "3.png"]) await store.putRecord(copy(key, three));
    for (const key of ["4.png", "5.png"]) await store.putRecord(copy(key, two));
    // Act: at most two objects per group.
    const page = await listDuplicates(store, "uploads", window, { limit: 20 }, 2);
    // Assess
    const groups = Object.fromEntries(page.items.map((group) => [group.sha256, group]));
    expect(groups[three]?.objects).toHaveLength(2);
    expect(groups[three]?.moreObjects).toBe(true);
    expect(groups[two]?.objects).toHaveLength(2);
    expect(groups[two]?.moreObjects).toBeUndefined();
  });

  it("lists the groups with a copy in the bucket served, its own copies first, the others with their bucket", async () => {
    // Prepare: content held in uploads and in legacy-bucket, content held twice in legacy-bucket only,
    // and content held twice in uploads.
    const store = new CatalogStore(servers.dynamodb, { tableName: "duplicates-buckets" });
    await store.ensureTable();
    const window = { from: "2024-05-01T00:00:00.000Z", to: "2024-05-02T00:00:00.000Z" };
    const across = "1".repeat(64);
    const legacyOnly = "2".repeat(64);
    const here = "3".repeat(64);
    await store.putRecord(copy("old/x.gif", across, "01", "legacy-bucket"));
    await store.putRecord(copy("new/x.gif", across));
    await store.putRecord(copy("old/a.png", legacyOnly, "01", "legacy-bucket"));
    await store.putRecord(copy("old/b.png", legacyOnly, "01", "legacy-bucket"));
    await store.putRecord(copy("p.png", here));
    await store.putRecord(copy("q.png", here));
    // Act
    const uploads = await listDuplicates(store, "uploads", window, { limit: 20 }, 20);
    const legacy = await listDuplicates(store, "legacy-bucket", window, { limit: 20 }, 20);
    // Assess
    const shown = (page: typeof uploads) =>
      Object.fromEntries(
        page.items.map((group) => [
          group.sha256,
          group.objects.map((object) => `${object.bucket}/${object.key}`),
        ]),
      );
    expect(shown(uploads)).toEqual({
      [across]: ["uploads/new/x.gif", "legacy-bucket/old/x.gif"],
      [here]: ["uploads/p.png", "uploads/q.png"],
    });
    expect(shown(legacy)).toEqual({
      [across]: ["legacy-bucket/old/x.gif", "uploads/new/x.gif"],
      [legacyOnly]: ["legacy-bucket/old/a.png", "legacy-bucket/old/b.png"],
    });
  });

  it("lists the bucket's own copies first even when others fill the group's listing", async () => {
    // Prepare: three copies in "aaa-first" (sorting before the bucket served) and one in uploads.
    const store = new CatalogStore(servers.dynamodb, { tableName: "duplicates-order" });
    await store.ensureTable();
    const window = { from: "2024-05-01T00:00:00.000Z", to: "2024-05-02T00:00:00.000Z" };
    const sha = "4".repeat(64);
    for (const key of ["1.png", "2.png", "3.png"]) await store.putRecord(copy(key, sha, "01", "aaa-first"));
    await store.putRecord(copy("mine.png", sha));
    // Act: at most two objects per group.
    const page = await listDuplicates(store, "uploads", window, { limit: 20 }, 2);
    // Assess
    expect(page.items).toHaveLength(1);
    expect(page.items[0]?.objects.map((object) => `${object.bucket}/${object.key}`)).toEqual([
      "uploads/mine.png",
      "aaa-first/1.png",
    ]);
    expect(page.items[0]?.moreObjects).toBe(true);
  });

  it("leaves out a group with more copies than it lists when none of them is in the bucket served", async () => {
    // Prepare: three copies in another bucket, more than a group lists; two copies in uploads.
    const store = new CatalogStore(servers.dynamodb, { tableName: "duplicates-elsewhere" });
    await store.ensureTable();
    const window = { from: "2024-05-01T00:00:00.000Z", to: "2024-05-02T00:00:00.000Z" };
    const elsewhere = "5".repeat(64);
    const here = "6".repeat(64);
    for (const key of ["1.png", "2.png", "3.png"]) await store.putRecord(copy(key, elsewhere, "01", "other"));
    for (const key of ["a.png", "b.png"]) await store.putRecord(copy(key, here));
    // Act: at most two objects per group.
    const page = await listDuplicates(store, "uploads", window, { limit: 20 }, 2);
    // Assess
    expect(page.items.map((group) => group.sha256)).toEqual([here]);
  });
});
