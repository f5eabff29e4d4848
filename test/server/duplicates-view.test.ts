import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listDuplicates } from "../../src/server/catalog-views.js";
import { CatalogStore } from "../../src/store/catalog-store.js";
import type { ObjectRecordInput } from "../../src/store/types.js";
import { startServers, type TestServers } from "../support/servers.js";

let servers: TestServers;
beforeAll(async () => {
  servers = await startServers();
});
afterAll(() => servers.stop());

function copy(key: string, sha256: string, sequencer = "01"): ObjectRecordInput {
  return {
    bucket: "uploads",
    key,
    size: 100,
    etag: '"e1"',
    sequencer,
    eventTime: "2024-05-01T10:00:00.000Z",
    status: "ok",
    reasons: [],
    sha256,
    bytesRead: 100,
    readRequests: 1,
    durationMs: 1,
    extractorVersion: "test",
  };
}

describe("the duplicates view", () => {
  it("leaves out a group that outgrew its tracked members once the index shows one copy left", async () => {
    // Prepare: a group tracking at most two members, given three copies, then two of them deleted.
    const store = new CatalogStore(servers.dynamodb, { tableName: "duplicates-view", maxTrackedMembers: 2 });
    await store.ensureTable();
    const window = { from: "2024-05-01T00:00:00.000Z", to: "2024-05-02T00:00:00.000Z" };
    const shared = "e".repeat(64);
    const kept = "f".repeat(64);
    for (const key of ["a.png", "b.png", "c.png"]) await store.putRecord(copy(key, shared));
    for (const key of ["x.png", "y.png"]) await store.putRecord(copy(key, kept));
    for (const key of ["a.png", "b.png"]) {
      await store.putTombstone({
        bucket: "uploads",
        key,
        sequencer: "02",
        eventTime: "2024-05-01T11:00:00.000Z",
      });
    }
    // Act
    const page = await listDuplicates(store, window, { limit: 20 }, 20);
    // Assess: the store still lists both groups; the view shows only the one that holds duplicates.
    expect((await store.listDuplicateGroups(window)).items.map((group) => group.sha256).sort()).toEqual([
      shared,
      kept,
    ]);
    expect(page.items.map((group) => [group.sha256, group.objects.map((object) => object.key)])).toEqual([
      [kept, ["x.png", "y.png"]],
    ]);
  });
});
