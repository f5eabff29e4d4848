import {
  type AttributeValue,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
} from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ExtractionResult } from "../../src/engine/types.js";
import { CatalogStore, type CatalogStoreOptions } from "../../src/store/catalog-store.js";
import { EMPTY_SHA256 } from "../../src/store/duplicate-groups.js";
import { InvalidCursorError, InvalidRangeError } from "../../src/store/errors.js";
import { itemSize, MAX_RECORD_BYTES } from "../../src/store/item-size.js";
import { INDEXES } from "../../src/store/schema.js";
import type { ObjectRecordInput, Page, RecordSummary } from "../../src/store/types.js";
import { testExtraction, testFormat, testRecord } from "../support/records.js";
import { startServers, TEST_CREDENTIALS, TEST_REGION, type TestServers } from "../support/servers.js";

let servers: TestServers;
let store: CatalogStore;
let tableCount = 0;

async function freshStore(options: Partial<CatalogStoreOptions> = {}): Promise<CatalogStore> {
  tableCount += 1;
  const fresh = new CatalogStore(servers.dynamodb, { tableName: `catalog-store-${tableCount}`, ...options });
  await fresh.ensureTable();
  return fresh;
}

/** The engine's result for the PNGs these tests catalog, unless a test says otherwise. */
function extraction(overrides: Partial<ExtractionResult> = {}): ExtractionResult {
  return testExtraction({
    format: testFormat("image/png", "png", "image"),
    image: { width: 10, height: 20 },
    ...overrides,
  });
}

/** A record of a 100-byte PNG in `uploads`, cataloged on 2024-05-01 at 10:00, unless a test says otherwise. */
function record(overrides: Partial<ObjectRecordInput> = {}): ObjectRecordInput {
  return testRecord({
    bucket: "uploads",
    size: 100,
    eventTime: "2024-05-01T10:00:00.000Z",
    extraction: extraction(),
    ...overrides,
  });
}

/** A record as the layout before copy items stored it: in the byHash index, with no copy item. */
async function putEarlierRecord(
  listing: CatalogStore,
  key: string,
  sha256: string,
  attributes: Record<string, AttributeValue>,
): Promise<void> {
  await servers.dynamodb.send(
    new PutItemCommand({
      TableName: listing.tableName,
      Item: {
        pk: { S: `OBJ#uploads#${key}` },
        sk: { S: "#RECORD" },
        bucket: { S: "uploads" },
        key: { S: key },
        sha256: { S: sha256 },
        hashPk: { S: `SHA#${sha256}` },
        hashSk: { S: `uploads#${key}` },
        ...attributes,
      },
    }),
  );
}

beforeAll(async () => {
  servers = await startServers();
  store = await freshStore();
});
afterAll(() => servers.stop());

describe("table", () => {
  it("ensureTable tolerates an existing table", async () => {
    await expect(store.ensureTable()).resolves.toBeUndefined();
    await expect(store.createTable()).rejects.toMatchObject({ name: "ResourceInUseException" });
  });
});

describe("ordered record writes", () => {
  it("reports created, duplicate, stale and updated by sequencer", async () => {
    const key = "order/one.png";
    expect((await store.putRecord(record({ key, sequencer: "0055AEB7E14E6B9A2C" }))).outcome).toBe("created");
    expect((await store.putRecord(record({ key, sequencer: "0055AEB7E14E6B9A2C" }))).outcome).toBe(
      "duplicate",
    );
    // Same sequencer in another case is the same event.
    expect((await store.putRecord(record({ key, sequencer: "0055aeb7e14e6b9a2c" }))).outcome).toBe(
      "duplicate",
    );
    expect((await store.putRecord(record({ key, sequencer: "0055AEB7E14E6B9A2B", size: 1 }))).outcome).toBe(
      "stale",
    );
    expect((await store.putRecord(record({ key, sequencer: "0055AEB7E14E6B9A2D", size: 7 }))).outcome).toBe(
      "updated",
    );
    const { record: stored } = await store.getObject("uploads", key);
    expect(stored?.size).toBe(7);
    expect(stored?.sequencer).toBe("0055AEB7E14E6B9A2D");
  });

  it("compares sequencers of different lengths by right-padding the shorter", async () => {
    const key = "order/lengths.png";
    // Right-padded, "0055AEB7E14E6B9A2C" is "0055AEB7E14E6B9A2C00" > "0055AEB7E14E6B9A2B99".
    await store.putRecord(record({ key, sequencer: "0055AEB7E14E6B9A2C", size: 1 }));
    expect((await store.putRecord(record({ key, sequencer: "0055AEB7E14E6B9A2B99", size: 2 }))).outcome).toBe(
      "stale",
    );
    expect((await store.putRecord(record({ key, sequencer: "0055AEB7E14E6B9A2C01", size: 3 }))).outcome).toBe(
      "updated",
    );
    expect((await store.getObject("uploads", key)).record?.size).toBe(3);
  });

  it("a tombstone stops a late create and yields to a newer one", async () => {
    const key = "order/deleted.png";
    await store.putRecord(record({ key, sequencer: "10" }));
    expect(
      (
        await store.putTombstone({
          bucket: "uploads",
          key,
          sequencer: "20",
          eventTime: "2024-05-01T11:00:00.000Z",
        })
      ).outcome,
    ).toBe("created");
    expect((await store.putRecord(record({ key, sequencer: "15" }))).outcome).toBe("stale");
    expect((await store.getObject("uploads", key)).record?.status).toBe("deleted");
    expect((await store.putRecord(record({ key, sequencer: "30" }))).outcome).toBe("created");
    expect((await store.getObject("uploads", key)).record?.status).toBe("ok");
  });

  it("deleting another version leaves the current record alone", async () => {
    const key = "order/versioned.png";
    await store.putRecord(record({ key, sequencer: "10", versionId: "v2" }));
    const result = await store.putTombstone({
      bucket: "uploads",
      key,
      sequencer: "20",
      eventTime: "2024-05-01T11:00:00.000Z",
      versionId: "v1",
      onlyVersion: "v1",
    });
    expect(result.outcome).toBe("stale");
    expect((await store.getObject("uploads", key)).record?.status).toBe("ok");
  });
});

describe("audit", () => {
  it("keeps one entry per event and counts redeliveries", async () => {
    const key = "audit/a.png";
    const entry = {
      bucket: "uploads",
      key,
      eventName: "ObjectCreated:Put",
      eventTime: "2024-05-01T10:00:00.000Z",
      sequencer: "0A",
      outcome: "created" as const,
      durationMs: 3,
      bytesRead: 10,
    };
    expect(await store.putAudit(entry)).toBe("recorded");
    expect(await store.putAudit({ ...entry, outcome: "duplicate" })).toBe("redelivered");
    expect(await store.putAudit({ ...entry, sequencer: "0a", outcome: "duplicate" })).toBe("redelivered");
    await store.putAudit({
      ...entry,
      sequencer: "0B",
      eventTime: "2024-05-01T10:00:01.000Z",
      outcome: "deleted",
    });
    const { audit } = await store.getObject("uploads", key);
    expect(audit.map((item) => [item.outcome, item.deliveries, item.lastOutcome])).toEqual([
      ["created", 3, "duplicate"],
      ["deleted", 1, undefined],
    ]);
  });
});

describe("audit after a delivery that stopped between its record and its entry", () => {
  const at = (second: number) => `2024-06-01T10:00:0${second}.000Z`;
  const audit = (key: string, second: number, sequencer: string, eventName = "ObjectCreated:Put") => ({
    bucket: "uploads",
    key,
    eventName,
    eventTime: at(second),
    sequencer,
    outcome: "duplicate" as const,
    durationMs: 1,
    bytesRead: 0,
  });
  const history = async (key: string) =>
    (await store.getObject("uploads", key)).audit.map((entry) => [
      entry.outcome,
      entry.deliveries,
      entry.lastOutcome,
    ]);

  it("records a creation as created, with the retry counted", async () => {
    // Prepare: the record written, its entry never.
    const key = "stopped/created.txt";
    await store.putRecord(record({ key, sequencer: "01", eventTime: at(1) }));
    // Act: the retry finds its own record (duplicate) and writes the entry.
    expect(await store.putAudit(audit(key, 1, "01"))).toBe("recorded");
    // Assess
    expect(await history(key)).toEqual([["created", 2, "duplicate"]]);
  });

  it("records a replacement as updated, and a deletion as deleted", async () => {
    // Prepare: a first upload fully recorded; a second and a delete whose entries were never written.
    const key = "stopped/replaced.txt";
    await store.putRecord(record({ key, sequencer: "01", eventTime: at(1) }));
    await store.putAudit({ ...audit(key, 1, "01"), outcome: "created" });
    await store.putRecord(record({ key, sequencer: "02", eventTime: at(2) }));
    // Act
    await store.putAudit(audit(key, 2, "02"));
    await store.putTombstone({ bucket: "uploads", key, sequencer: "03", eventTime: at(3) });
    await store.putAudit(audit(key, 3, "03", "ObjectRemoved:Delete"));
    // Assess
    expect(await history(key)).toEqual([
      ["created", 1, undefined],
      ["updated", 2, "duplicate"],
      ["deleted", 2, "duplicate"],
    ]);
  });

  it("says duplicate when a later event's record has replaced it, and counts a true redelivery with no read", async () => {
    // Prepare: the record is a later event's.
    const key = "stopped/overtaken.txt";
    await store.putRecord(record({ key, sequencer: "05", eventTime: at(5) }));
    // Act
    await store.putAudit(audit(key, 4, "04"));
    await store.putAudit(audit(key, 4, "04"));
    // Assess: nothing known of what the earlier delivery did; the second delivery counted on the same entry.
    expect(await history(key)).toEqual([["duplicate", 2, "duplicate"]]);
  });
});

describe("an object's history", () => {
  it("returns the newest entries, oldest of them first, and says when older ones exist", async () => {
    // Prepare: a record and five events.
    const key = "history/status.json";
    await store.putRecord(record({ key, sequencer: "05" }));
    for (let n = 1; n <= 5; n++) {
      await store.putAudit({
        bucket: "uploads",
        key,
        eventName: "ObjectCreated:Put",
        eventTime: `2024-05-01T10:00:0${n}.000Z`,
        sequencer: `0${n}`,
        outcome: "created",
        durationMs: 1,
        bytesRead: 1,
      });
    }
    // Act
    const bounded = await store.getObject("uploads", key, { auditLimit: 3 });
    const exact = await store.getObject("uploads", key, { auditLimit: 5 });
    const whole = await store.getObject("uploads", key, { auditLimit: Number.POSITIVE_INFINITY });
    // Assess
    expect(bounded.audit.map((entry) => entry.sequencer)).toEqual(["03", "04", "05"]);
    expect(bounded.olderAudit).toBe(true);
    expect(bounded.record?.key).toBe(key);
    expect(exact.olderAudit).toBeUndefined();
    expect(whole.audit).toHaveLength(5);
    expect(await store.getRecord("uploads", key)).toEqual(bounded.record);
  });

  it("has no record and no history for an object never cataloged", async () => {
    expect(await store.getObject("uploads", "history/none")).toEqual({ audit: [] });
    expect(await store.getRecord("uploads", "history/none")).toBeUndefined();
  });
});

describe("numbers a file states", () => {
  it("stores any number JavaScript holds that DynamoDB can, and leaves out the rest instead of refusing the record", async () => {
    // Prepare: a ZIP64 size past 2^53, a word count DynamoDB cannot hold, a rate below its range.
    const key = "numbers/hostile.docx";
    const input = record({
      key,
      extraction: extraction({
        format: testFormat("application/zip", "zip", "archive"),
        archive: {
          kind: "zip",
          entries: 1,
          uncompressedSize: 2 ** 63,
          ratio: 1e200,
          encrypted: false,
          sample: [],
        },
        document: { kind: "ooxml", words: 1e300, pages: 1e-200 },
      }),
    });
    // Act
    const written = await store.putRecord(input);
    // Assess
    expect(written.outcome).toBe("created");
    const { record: stored } = await store.getObject("uploads", key);
    expect(stored?.archive).toMatchObject({ entries: 1, uncompressedSize: 2 ** 63 });
    expect(stored?.archive).not.toHaveProperty("ratio");
    expect(stored?.document).toEqual({ kind: "ooxml", pages: 0 });
    // Read back as numbers: the JSON output of show and the API can hold them.
    expect(() => JSON.stringify(stored)).not.toThrow();
  });
});

describe("names an uploader chooses", () => {
  it("stores user metadata named like a property every object has (constructor)", async () => {
    // Prepare: x-amz-meta-constructor, which S3 hands over as a user metadata name.
    const key = "names/meta.txt";
    const userMetadata = { constructor: "made by hand", author: "someone" };
    // Act
    const written = await store.putRecord(record({ key, userMetadata }));
    // Assess: the record is written, its user metadata whole.
    expect(written.outcome).toBe("created");
    const { record: stored } = await store.getObject("uploads", key);
    expect(stored?.userMetadata).toEqual(userMetadata);
  });
});

describe("size bound", () => {
  it("truncates long strings and lists and flags the record", async () => {
    const sample = Array.from({ length: 5000 }, (_, index) => `${"dir/".repeat(40)}entry-${index}.bin`);
    const key = "big/archive.zip";
    await store.putRecord(
      record({
        key,
        extraction: extraction({
          format: testFormat("application/zip", "zip", "archive"),
          archive: { kind: "zip", encrypted: false, sample, entries: 5000 },
          image: undefined,
          warnings: ["x".repeat(200_000)],
        }),
      }),
    );
    const raw = await servers.dynamodb.send(
      new GetItemCommand({
        TableName: store.tableName,
        Key: { pk: { S: `OBJ#uploads#${key}` }, sk: { S: "#RECORD" } },
      }),
    );
    expect(raw.Item).toBeDefined();
    const { record: stored } = await store.getObject("uploads", key);
    expect(stored?.truncated).toBe(true);
    expect(stored?.archive?.sample.length).toBeLessThan(5000);
    expect(stored?.archive?.sample.length).toBeGreaterThan(0);
    expect(itemSize(stored as unknown as Record<string, unknown>)).toBeLessThanOrEqual(MAX_RECORD_BYTES);
  });
});

describe("query patterns", () => {
  it("lists a folder by name, paged, without deleted objects", async () => {
    const listing = await freshStore();
    for (const name of ["e", "a", "d", "c", "b"]) {
      await listing.putRecord(record({ key: `docs/${name}.png`, sequencer: "01" }));
    }
    await listing.putRecord(record({ key: "docs/sub/deeper.png", sequencer: "01" }));
    await listing.putTombstone({
      bucket: "uploads",
      key: "docs/c.png",
      sequencer: "02",
      eventTime: "2024-05-02T00:00:00.000Z",
    });
    const names: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await listing.listFolder("uploads", "docs/", { limit: 2, ...(cursor && { cursor }) });
      names.push(...page.items.map((item) => item.key));
      cursor = page.cursor;
      pages += 1;
    } while (cursor && pages < 10);
    expect(names).toEqual(["docs/a.png", "docs/b.png", "docs/d.png", "docs/e.png"]);
    expect(pages).toBeGreaterThanOrEqual(2);
  });

  it("lists the names of a folder that start with some text, case-sensitive, paged within them", async () => {
    // Prepare: names before, among and after the wanted ones, one in another case, one in a sub-folder.
    const listing = await freshStore();
    const names = ["AAA.png", "IMG_2023_9.png", "IMG_2024_1.png", "IMG_2024_2.png", "IMG_2024_3.png"];
    for (const name of [...names, "img_2024_4.png", "Z.png", "IMG_2024/inside.png"])
      await listing.putRecord(record({ key: `camera/${name}`, sequencer: "01" }));
    await listing.putTombstone({
      bucket: "uploads",
      key: "camera/IMG_2024_2.png",
      sequencer: "02",
      eventTime: "2024-05-02T00:00:00.000Z",
    });

    // Act: pages of two.
    const pages: string[][] = [];
    let cursor: string | undefined;
    do {
      const page = await listing.listFolder(
        "uploads",
        "camera/",
        { limit: 2, ...(cursor && { cursor }) },
        { startsWith: "IMG_2024" },
      );
      pages.push(page.items.map((item) => item.key));
      cursor = page.cursor;
    } while (cursor && pages.length < 10);
    const unfiltered = await listing.listFolder("uploads", "camera/", {}, { startsWith: "" });

    // Assess: the first page is full, as only a range of the index (no filter after reading) makes it.
    expect(pages[0]).toEqual(["camera/IMG_2024_1.png", "camera/IMG_2024_3.png"]);
    expect(pages.flat()).toEqual(["camera/IMG_2024_1.png", "camera/IMG_2024_3.png"]);
    expect(unfiltered.items).toHaveLength(6);
  });

  it("refuses a folder cursor outside the names a filter asks for as a cursor, not a failed query", async () => {
    const listing = await freshStore();
    for (const name of ["a.png", "b.png", "c.png"])
      await listing.putRecord(record({ key: `docs/${name}`, sequencer: "01" }));
    const first = await listing.listFolder("uploads", "docs/", { limit: 1 });
    expect(first.cursor).toEqual(expect.any(String));
    await expect(
      listing.listFolder("uploads", "docs/", { limit: 1, cursor: first.cursor }, { startsWith: "c" }),
    ).rejects.toBeInstanceOf(InvalidCursorError);
  });

  it("lists a category across day partitions in time order, paged", async () => {
    const listing = await freshStore();
    const times = [
      "2024-05-01T23:59:59.000Z",
      "2024-05-02T00:00:00.000Z",
      "2024-05-02T12:00:00.000Z",
      "2024-05-04T08:00:00.000Z",
      "2024-05-06T08:00:00.000Z",
    ];
    for (const [index, eventTime] of times.entries()) {
      await listing.putRecord(record({ key: `cat/${index}.png`, eventTime, sequencer: "01" }));
    }
    await listing.putRecord(
      record({
        key: "cat/text.txt",
        eventTime: "2024-05-02T01:00:00.000Z",
        sequencer: "01",
        extraction: extraction({
          format: testFormat("text/plain", "txt", "text"),
        }),
      }),
    );
    const range = { from: "2024-05-01T12:00:00.000Z", to: "2024-05-04T23:00:00.000Z" };
    const keys: string[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 10; pages += 1) {
      const page = await listing.listByCategory("uploads", "image", range, {
        limit: 2,
        ...(cursor && { cursor }),
      });
      expect(page.items.length).toBeLessThanOrEqual(2);
      keys.push(...page.items.map((item) => item.key));
      cursor = page.cursor;
      if (!cursor) break;
    }
    expect(keys).toEqual(["cat/0.png", "cat/1.png", "cat/2.png", "cat/3.png"]);
    const text = await listing.listByCategory("uploads", "text", range);
    expect(text.items.map((item) => item.key)).toEqual(["cat/text.txt"]);
    const newest: string[] = [];
    cursor = undefined;
    for (let pages = 0; pages < 10; pages += 1) {
      const page = await listing.listByCategory("uploads", "image", range, {
        limit: 2,
        newestFirst: true,
        ...(cursor && { cursor }),
      });
      newest.push(...page.items.map((item) => item.key));
      cursor = page.cursor;
      if (!cursor) break;
    }
    expect(newest).toEqual(["cat/3.png", "cat/2.png", "cat/1.png", "cat/0.png"]);
  });

  it("pages through objects cataloged at the same instant, each once, and by the record's old layout too", async () => {
    // Prepare: index sort keys hold only the time, so these 25 share one; two records keep the
    // layout written before (`<eventTime>#<key>`, `<bucket>#<key>`), as deployed tables still have.
    const listing = await freshStore();
    const eventTime = "2024-05-03T09:00:00.000Z";
    const sha = "a".repeat(64);
    for (let index = 0; index < 25; index += 1) {
      await listing.putRecord(
        record({
          key: `same/${String(index).padStart(2, "0")}.png`,
          eventTime,
          status: "error",
          reasons: ["unreadable"],
          extraction: extraction({ sha256: sha }),
        }),
      );
    }
    for (const key of ["same/old-1.png", "same/old-2.png"]) {
      await putEarlierRecord(listing, key, sha, {
        status: { S: "error" },
        eventTime: { S: eventTime },
        categoryPk: { S: "CAT#uploads#image#2024-05-03" },
        categorySk: { S: `${eventTime}#${key}` },
        problemPk: { S: "PROBLEM#uploads#2024-05-03" },
        problemSk: { S: `${eventTime}#${key}` },
      });
    }
    const range = { from: eventTime, to: eventTime };
    const expected = [
      ...Array.from({ length: 25 }, (_, index) => `same/${String(index).padStart(2, "0")}.png`),
      "same/old-1.png",
      "same/old-2.png",
    ].sort();
    const pagedKeys = async (
      list: (page: { limit: number; cursor?: string }) => Promise<Page<RecordSummary>>,
    ) => {
      const keys: string[] = [];
      let cursor: string | undefined;
      for (let pages = 0; pages < 20; pages += 1) {
        const page = await list({ limit: 4, ...(cursor && { cursor }) });
        keys.push(...page.items.map((item) => item.key));
        cursor = page.cursor;
        if (!cursor) break;
      }
      return keys.sort();
    };
    // Act + Assess
    expect(await pagedKeys((page) => listing.listByCategory("uploads", "image", range, page))).toEqual(
      expected,
    );
    expect(await pagedKeys((page) => listing.listProblems("uploads", range, page))).toEqual(expected);
    expect(await pagedKeys((page) => listing.listByHash(sha, page))).toEqual(expected);
  });

  it("stores each object key once in the index sort keys' place and the format without repeats, and reads it back whole", async () => {
    // Prepare
    const listing = await freshStore();
    const key = "photos/2024/a long descriptive name.png";
    const format = {
      mime: "image/png",
      ext: "png",
      category: "image" as const,
      declaredMime: "image/png",
      declaredExt: "png",
      mismatch: false,
    };
    // A Content-Type with parameters is not what detection compares: that format keeps its declaredMime.
    const textFormat = {
      mime: "text/plain",
      ext: "txt",
      category: "text" as const,
      declaredMime: "text/plain",
      mismatch: false,
    };
    // Act
    await listing.putRecord(
      record({
        key,
        contentType: "image/png",
        status: "error",
        reasons: ["bad"],
        extraction: extraction({ format, sha256: "b".repeat(64) }),
      }),
    );
    await listing.putRecord(
      record({
        key: "notes/a.txt",
        contentType: "text/plain; charset=utf-8",
        extraction: extraction({ format: textFormat, image: undefined }),
      }),
    );
    const { declaredMime: _none, ...undeclared } = textFormat;
    await listing.putRecord(record({ key: "notes/b.bin", extraction: extraction({ format: undeclared }) }));
    // Assess: the key is in `pk`, `key` and (its name) `folderSk`, nowhere else.
    const stored = await servers.dynamodb.send(
      new GetItemCommand({
        TableName: listing.tableName,
        Key: { pk: { S: `OBJ#uploads#${key}` }, sk: { S: "#RECORD" } },
      }),
    );
    const item = stored.Item ?? {};
    const holdingKey = Object.entries(item)
      .filter(([, value]) => value.S?.includes("a long descriptive name"))
      .map(([name]) => name)
      .sort();
    expect(holdingKey).toEqual(["folderSk", "key", "pk"]);
    expect(item.format?.M).toEqual({ ext: { S: "png" }, declaredExt: { S: "png" } });
    expect(item.warnings).toBeUndefined();
    const { record: read } = await listing.getObject("uploads", key);
    expect(read?.format).toEqual(format);
    expect(read?.reasons).toEqual(["bad"]);
    expect((await listing.getRecord("uploads", "notes/a.txt"))?.format).toEqual(textFormat);
    expect((await listing.getRecord("uploads", "notes/b.bin"))?.format).toEqual(undeclared);
  });

  it("lists problems only, by time", async () => {
    const listing = await freshStore();
    await listing.putRecord(record({ key: "p/ok.png", sequencer: "01" }));
    await listing.putRecord(
      record({ key: "p/bad.png", sequencer: "01", status: "error", reasons: ["truncated"] }),
    );
    await listing.putRecord(
      record({
        key: "p/big.png",
        sequencer: "01",
        status: "rejected",
        reasons: ["too large"],
        eventTime: "2024-05-01T11:00:00.000Z",
      }),
    );
    await listing.putRecord(
      record({ key: "p/partial.png", sequencer: "01", status: "partial", reasons: ["limit"] }),
    );
    const page = await listing.listProblems("uploads", {
      from: "2024-05-01T00:00:00.000Z",
      to: "2024-05-01T23:59:59.999Z",
    });
    expect(page.items.map((item) => [item.key, item.status, item.reason])).toEqual([
      ["p/bad.png", "error", "truncated"],
      ["p/big.png", "rejected", "too large"],
    ]);
    // An error fixed by a newer upload leaves the index.
    await listing.putRecord(record({ key: "p/bad.png", sequencer: "02" }));
    const after = await listing.listProblems("uploads", {
      from: "2024-05-01T00:00:00.000Z",
      to: "2024-05-01T23:59:59.999Z",
    });
    expect(after.items.map((item) => item.key)).toEqual(["p/big.png"]);
  });

  it("finds objects by hash and lists duplicate groups", async () => {
    const listing = await freshStore();
    const sha = "a".repeat(64);
    const other = "b".repeat(64);
    const range = { from: "2024-05-01T00:00:00.000Z", to: "2024-05-03T00:00:00.000Z" };
    await listing.putRecord(
      record({ key: "h/one.png", sequencer: "01", extraction: extraction({ sha256: sha }) }),
    );
    await listing.putRecord(
      record({ key: "h/solo.png", sequencer: "01", extraction: extraction({ sha256: other }) }),
    );
    expect((await listing.listDuplicateGroups(range)).items).toEqual([]);
    await listing.putRecord(
      record({
        key: "h/two.png",
        sequencer: "01",
        eventTime: "2024-05-02T09:00:00.000Z",
        extraction: extraction({ sha256: sha }),
      }),
    );
    // A redelivery does not count the same object twice.
    await listing.putRecord(
      record({
        key: "h/two.png",
        sequencer: "01",
        eventTime: "2024-05-02T09:00:00.000Z",
        extraction: extraction({ sha256: sha }),
      }),
    );
    expect((await listing.listByHash(sha)).items.map((item) => item.key)).toEqual(["h/one.png", "h/two.png"]);
    expect((await listing.listDuplicateGroups(range)).items).toEqual([
      { sha256: sha, size: 100, since: "2024-05-02T09:00:00.000Z" },
    ]);
    // Overwriting one copy with other content dissolves the group.
    await listing.putRecord(
      record({ key: "h/two.png", sequencer: "02", extraction: extraction({ sha256: other }) }),
    );
    expect((await listing.listByHash(sha)).items.map((item) => item.key)).toEqual(["h/one.png"]);
    const groups = (await listing.listDuplicateGroups(range)).items.map((group) => group.sha256);
    expect(groups).toEqual([other]);
    await listing.putTombstone({
      bucket: "uploads",
      key: "h/solo.png",
      sequencer: "02",
      eventTime: "2024-05-02T10:00:00.000Z",
    });
    expect((await listing.listDuplicateGroups(range)).items).toEqual([]);
  });

  it("lists no duplicates of empty objects, and gives them no hash index rows", async () => {
    // Prepare
    const listing = await freshStore();
    const range = { from: "2024-05-01T00:00:00.000Z", to: "2024-05-03T00:00:00.000Z" };
    const empty = (key: string) =>
      record({ key, size: 0, sequencer: "01", extraction: extraction({ size: 0, sha256: EMPTY_SHA256 }) });
    // Act
    for (const key of ["a/", "b/", "c/.keep"]) await listing.putRecord(empty(key));
    await listing.putRecord({
      ...empty("c/.keep"),
      sequencer: "02",
      extraction: extraction({ sha256: "c".repeat(64) }),
    });
    // Assess
    expect((await listing.listDuplicateGroups(range)).items).toEqual([]);
    expect((await listing.listByHash(EMPTY_SHA256)).items).toEqual([]);
    expect((await listing.getObject("uploads", "a/")).record?.sha256).toBe(EMPTY_SHA256);
  });

  it("content held many times: one small copy item each, the group listed while two remain, copies paged", async () => {
    // Prepare
    const listing = await freshStore();
    const sha = "d".repeat(64);
    const range = { from: "2024-05-01T00:00:00.000Z", to: "2024-05-03T00:00:00.000Z" };
    const keys = Array.from({ length: 12 }, (_, n) => `logos/${String(n).padStart(2, "0")}.png`);
    const copies = async () => {
      const found: string[] = [];
      let cursor: string | undefined;
      for (let pages = 0; pages < 20; pages += 1) {
        const page = await listing.listByHash(sha, { limit: 5, ...(cursor && { cursor }) });
        found.push(...page.items.map((item) => item.key));
        cursor = page.cursor;
        if (!cursor) break;
      }
      return found;
    };
    // Act: the copies arrive at once, as a bulk upload's events do.
    await Promise.all(
      keys.map((key) =>
        listing.putRecord(record({ key, sequencer: "01", extraction: extraction({ sha256: sha }) })),
      ),
    );
    const listedAll = (await listing.listDuplicateGroups(range)).items.map((group) => group.sha256);
    const copiesAll = await copies();
    const group = await servers.dynamodb.send(
      new GetItemCommand({
        TableName: listing.tableName,
        Key: { pk: { S: `SHA#${sha}` }, sk: { S: "#GROUP" } },
      }),
    );
    for (const key of keys.slice(0, 10)) {
      await listing.putTombstone({
        bucket: "uploads",
        key,
        sequencer: "02",
        eventTime: "2024-05-02T10:00:00.000Z",
      });
    }
    const listedTwo = (await listing.listDuplicateGroups(range)).items.map((item) => item.sha256);
    await listing.putTombstone({
      bucket: "uploads",
      key: keys[10] as string,
      sequencer: "02",
      eventTime: "2024-05-02T10:00:00.000Z",
    });
    // Assess
    expect(listedAll).toEqual([sha]);
    expect(copiesAll).toEqual(keys);
    // The marker does not grow with the copies (a set of their ids did).
    expect(JSON.stringify(group.Item).length).toBeLessThan(400);
    expect(listedTwo).toEqual([sha]);
    expect(await copies()).toEqual([keys[11]]);
    expect((await listing.listDuplicateGroups(range)).items).toEqual([]);
  });

  it.each([
    ["new content", "content"],
    ["a delete", "delete"],
  ])(
    "a retry after %s whose first delivery stopped before removing the old copy removes it",
    async (_label, change) => {
      // Prepare: one object, cataloged with its audit entry; a second copy elsewhere makes a group.
      const listing = await freshStore();
      const before = "7".repeat(64);
      const after = "8".repeat(64);
      const key = `retry/${change}.png`;
      const range = { from: "2024-05-01T00:00:00.000Z", to: "2024-05-03T00:00:00.000Z" };
      await listing.putRecord(record({ key, sequencer: "01", extraction: extraction({ sha256: before }) }));
      await listing.putAudit({
        bucket: "uploads",
        key,
        eventName: "ObjectCreated:Put",
        eventTime: "2024-05-01T10:00:00.000Z",
        sequencer: "01",
        outcome: "created",
        durationMs: 3,
        bytesRead: 100,
        sha256: before,
      });
      await listing.putRecord(
        record({ key: "retry/other.png", sequencer: "01", extraction: extraction({ sha256: before }) }),
      );
      const next =
        change === "content"
          ? () =>
              listing.putRecord(record({ key, sequencer: "02", extraction: extraction({ sha256: after }) }))
          : () =>
              listing.putTombstone({
                bucket: "uploads",
                key,
                sequencer: "02",
                eventTime: "2024-05-02T10:00:00.000Z",
              });
      // Act: the first delivery fails at the copy's removal (a throttled DeleteItem), then is retried.
      let failures = 1;
      servers.dynamodb.middlewareStack.add(
        (nextHandler, context) => async (args) => {
          if (context.commandName === "DeleteItemCommand" && failures > 0) {
            failures -= 1;
            throw Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException" });
          }
          return nextHandler(args);
        },
        { step: "initialize", name: "failOneDelete" },
      );
      try {
        await expect(next()).rejects.toThrow();
      } finally {
        servers.dynamodb.middlewareStack.remove("failOneDelete");
      }
      const leftBehind = (await listing.listByHash(before)).items.map((item) => item.key);
      const retried = await next();
      // Assess
      expect(leftBehind).toContain(key);
      expect(retried.outcome).toBe("duplicate");
      expect((await listing.listByHash(before)).items.map((item) => item.key)).toEqual(["retry/other.png"]);
      expect((await listing.listDuplicateGroups(range)).items).toEqual([]);
    },
  );

  it("events of one key that run at once leave it a copy under its final content only", async () => {
    // Prepare: a key rewritten with alternating content, its events processed concurrently (as Lambda
    // may), some of them late; another object holds each content, so a wrong copy would list a group.
    const listing = await freshStore();
    const contents = ["5".repeat(64), "6".repeat(64)];
    for (const [index, sha256] of contents.entries()) {
      await listing.putRecord(
        record({ key: `race/other-${index}.png`, sequencer: "01", extraction: extraction({ sha256 }) }),
      );
    }
    const range = { from: "2024-05-01T00:00:00.000Z", to: "2024-05-03T00:00:00.000Z" };
    for (let round = 0; round < 6; round += 1) {
      const key = `race/${round}.png`;
      const writes = Array.from({ length: 8 }, (_, index) => ({
        sequencer: (0x10 + index).toString(16).toUpperCase(),
        sha256: contents[(index + round) % 2] as string,
      }));
      // Act: a shuffled order of arrival, all at once.
      const order = writes.map((_, index) => (index * 5 + round) % writes.length);
      await Promise.all(
        order.map((index) => {
          const write = writes[index] as (typeof writes)[number];
          return listing.putRecord(
            record({ key, sequencer: write.sequencer, extraction: extraction({ sha256: write.sha256 }) }),
          );
        }),
      );
      // Assess: the newest event's content wins, and the key is a copy of that content only.
      const final = (writes[writes.length - 1] as (typeof writes)[number]).sha256;
      expect((await listing.getRecord("uploads", key))?.sha256).toBe(final);
      for (const sha256 of contents) {
        const copies = (await listing.listByHash(sha256)).items.map((item) => item.key);
        expect(copies.includes(key), `round ${round}, ${sha256.slice(0, 4)}`).toBe(sha256 === final);
      }
    }
    expect((await listing.listDuplicateGroups(range)).items.length).toBeGreaterThan(0);
  });

  it("lists the copies and groups that records written before copy items left in the hash index", async () => {
    // Prepare: two records as the earlier layout stored them (hashPk/hashSk, a group of member ids).
    const listing = await freshStore();
    const sha = "e".repeat(64);
    const range = { from: "2024-05-01T00:00:00.000Z", to: "2024-05-03T00:00:00.000Z" };
    for (const key of ["old/a.png", "old/b.png"]) {
      await putEarlierRecord(listing, key, sha, {
        status: { S: "ok" },
        eventTime: { S: "2024-05-01T10:00:00.000Z" },
        seqKey: { S: "01".padEnd(64, "0") },
      });
    }
    await servers.dynamodb.send(
      new PutItemCommand({
        TableName: listing.tableName,
        Item: {
          pk: { S: `SHA#${sha}` },
          sk: { S: "#GROUP" },
          sha256: { S: sha },
          members: { SS: ["m1", "m2"] },
          categoryPk: { S: "DUP#2024-05-01" },
          categorySk: { S: `2024-05-01T10:00:00.000Z#${sha}` },
          eventTime: { S: "2024-05-01T10:00:00.000Z" },
        },
      }),
    );
    // Act: a third copy under the new layout, and one old record written again.
    await listing.putRecord(
      record({ key: "new/c.png", sequencer: "01", extraction: extraction({ sha256: sha }) }),
    );
    await listing.putRecord(
      record({ key: "old/b.png", sequencer: "02", extraction: extraction({ sha256: sha }) }),
    );
    // Assess: each copy once, the written-again record from its copy item.
    expect((await listing.listByHash(sha)).items.map((item) => item.key)).toEqual([
      "new/c.png",
      "old/b.png",
      "old/a.png",
    ]);
    expect((await listing.listDuplicateGroups(range)).items.map((group) => group.sha256)).toEqual([sha]);
  });

  it("lists one bucket's copies and the groups with a copy there, whatever buckets hold the rest", async () => {
    // Prepare: content in uploads (one record of the earlier layout, one copy item) and in uploads-old,
    // whose name starts with the other's; content held twice in uploads-old only.
    const listing = await freshStore();
    const across = "c".repeat(64);
    const elsewhere = "d".repeat(64);
    const range = { from: "2024-05-01T00:00:00.000Z", to: "2024-05-03T00:00:00.000Z" };
    await putEarlierRecord(listing, "old/a.png", across, {
      status: { S: "ok" },
      eventTime: { S: "2024-05-01T10:00:00.000Z" },
    });
    await listing.putRecord(
      record({ key: "new/b.png", sequencer: "01", extraction: extraction({ sha256: across }) }),
    );
    for (const key of ["x.png", "y.png"]) {
      await listing.putRecord(
        record({ bucket: "uploads-old", key, sequencer: "01", extraction: extraction({ sha256: across }) }),
      );
    }
    for (const key of ["p.png", "q.png"]) {
      await listing.putRecord(
        record({
          bucket: "uploads-old",
          key,
          sequencer: "01",
          extraction: extraction({ sha256: elsewhere }),
        }),
      );
    }
    const shown = (page: { items: { bucket: string; key: string }[] }) =>
      page.items.map((item) => `${item.bucket}/${item.key}`);
    // Act and assess: a bucket's copies, from copy items and the hash index alike, and no other's.
    expect(shown(await listing.listByHash(across, {}, { bucket: "uploads" }))).toEqual([
      "uploads/new/b.png",
      "uploads/old/a.png",
    ]);
    expect(shown(await listing.listByHash(across, {}, { bucket: "uploads-old" }))).toEqual([
      "uploads-old/x.png",
      "uploads-old/y.png",
    ]);
    expect(shown(await listing.listByHash(elsewhere, {}, { bucket: "uploads" }))).toEqual([]);
    expect(shown(await listing.listByHash(across))).toHaveLength(4);
    // Groups: every one without a bucket, those with a copy in it with one.
    const groupsIn = async (bucket?: string) =>
      (await listing.listDuplicateGroups(range, {}, bucket === undefined ? {} : { bucket })).items
        .map((group) => group.sha256)
        .sort();
    expect(await groupsIn()).toEqual([across, elsewhere]);
    expect(await groupsIn("uploads")).toEqual([across]);
    expect(await groupsIn("uploads-old")).toEqual([across, elsewhere]);
    expect(await groupsIn("legacy-bucket")).toEqual([]);
  });

  it("catalogs an object whose key is S3's longest, and every listing gives the key back whole", async () => {
    // Prepare: 1,024 bytes of key, a rejected object (problems index) with a hash (hash index).
    const listing = await freshStore();
    const key = `long/${"k".repeat(1015)}.bin`;
    const sha = "9".repeat(64);
    const range = { from: "2024-05-01T00:00:00.000Z", to: "2024-05-01T23:59:59.999Z" };
    // Act
    const written = await listing.putRecord(
      record({ key, status: "rejected", reasons: ["too big"], extraction: extraction({ sha256: sha }) }),
    );
    // Assess
    expect(Buffer.byteLength(key)).toBe(1024);
    expect(written.outcome).toBe("created");
    expect((await listing.listFolder("uploads", "long/")).items.map((item) => item.key)).toEqual([key]);
    expect((await listing.listByCategory("uploads", "image", range)).items.map((item) => item.key)).toEqual([
      key,
    ]);
    expect((await listing.listProblems("uploads", range)).items.map((item) => item.key)).toEqual([key]);
    expect((await listing.listByHash(sha)).items.map((item) => item.key)).toEqual([key]);
    // DynamoDB refuses an item whose index sort key passes 1,024 bytes; dynalite checks only the
    // table's keys, so the limit is checked on the stored item itself.
    const stored = await servers.dynamodb.send(
      new GetItemCommand({
        TableName: listing.tableName,
        Key: { pk: { S: `OBJ#uploads#${key}` }, sk: { S: "#RECORD" } },
      }),
    );
    // byHash holds only records written before copy items.
    for (const index of Object.values(INDEXES).filter((index) => index !== INDEXES.byHash)) {
      const sortKey = stored.Item?.[index.sortKey]?.S;
      expect(sortKey, index.name).toBeDefined();
      expect(Buffer.byteLength(sortKey ?? ""), index.name).toBeLessThanOrEqual(1024);
    }
    const copies = await servers.dynamodb.send(
      new QueryCommand({
        TableName: listing.tableName,
        KeyConditionExpression: "pk = :pk AND begins_with(sk, :copy)",
        ExpressionAttributeValues: { ":pk": { S: `SHA#${sha}` }, ":copy": { S: "COPY#" } },
      }),
    );
    expect(copies.Items?.map((item) => item.key?.S)).toEqual([key]);
    expect(Buffer.byteLength(copies.Items?.[0]?.sk?.S ?? "")).toBeLessThanOrEqual(1024);
  });

  it.each([
    ["reversed", { from: "2024-05-02T00:00:00.000Z", to: "2024-05-01T00:00:00.000Z" }],
    ["unparsable", { from: "yesterday", to: "2024-05-01T00:00:00.000Z" }],
    ["over a year", { from: "2020-01-01T00:00:00.000Z", to: "2024-05-01T00:00:00.000Z" }],
  ])("rejects a %s range", async (_label, range) => {
    await expect(store.listProblems("uploads", range)).rejects.toBeInstanceOf(InvalidRangeError);
  });

  it("rejects a cursor it did not issue", async () => {
    await expect(store.listFolder("uploads", "docs/", { cursor: "not-a-cursor" })).rejects.toBeInstanceOf(
      InvalidCursorError,
    );
  });
});

describe("day-partitioned listings", () => {
  // Images on five of twenty days: three, one, five, two and two, with gaps of one to seven empty days.
  const range = { from: "2024-06-01T00:00:00.000Z", to: "2024-06-20T23:59:59.999Z" };
  const times = [
    ...["01", "02", "03"].map((hour) => `2024-06-01T${hour}:00:00.000Z`),
    "2024-06-03T12:00:00.000Z",
    ...["01", "02", "03", "04", "05"].map((hour) => `2024-06-10T${hour}:00:00.000Z`),
    ...["06", "07"].map((hour) => `2024-06-12T${hour}:00:00.000Z`),
    ...["22", "23"].map((hour) => `2024-06-20T${hour}:00:00.000Z`),
  ];
  const oldestFirst = times.map((time) => `days/${time}.png`);
  let listing: CatalogStore;

  beforeAll(async () => {
    listing = await freshStore();
    for (const [index, eventTime] of times.entries())
      await listing.putRecord(record({ key: oldestFirst[index], eventTime, sequencer: "01" }));
  });

  /**
   * A store on the same table through a client of its own that counts the
   * Queries it sends, and the windows they go out in: a Query sent while
   * none is in flight starts one.
   */
  function countingStore(table: CatalogStore) {
    const counted = { queries: 0, inFlight: 0, mostInFlight: 0, windows: [] as number[] };
    const client = new DynamoDBClient({
      region: TEST_REGION,
      endpoint: servers.dynamodbEndpoint,
      credentials: TEST_CREDENTIALS,
    });
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName !== "QueryCommand") return next(args);
        counted.queries += 1;
        if (counted.inFlight === 0) counted.windows.push(1);
        else counted.windows.push((counted.windows.pop() ?? 0) + 1);
        counted.inFlight += 1;
        counted.mostInFlight = Math.max(counted.mostInFlight, counted.inFlight);
        try {
          return await next(args);
        } finally {
          counted.inFlight -= 1;
        }
      },
      { step: "initialize", name: "countQueries" },
    );
    return { store: new CatalogStore(client, { tableName: table.tableName }), counted, client };
  }

  /** Every page's keys, following cursors to the end. */
  async function pagesOf(request: { limit: number; newestFirst?: boolean }): Promise<string[][]> {
    const pages: string[][] = [];
    let cursor: string | undefined;
    do {
      const page = await listing.listByCategory("uploads", "image", range, {
        ...request,
        ...(cursor && { cursor }),
      });
      pages.push(page.items.map((item) => item.key));
      cursor = page.cursor;
    } while (cursor && pages.length < 30);
    return pages;
  }

  it.each([false, true])(
    "pages across empty days list every object once, in order, in full pages (newest first: %s)",
    async (newestFirst) => {
      const expected = newestFirst ? [...oldestFirst].reverse() : oldestFirst;
      for (let limit = 1; limit <= expected.length + 1; limit += 1) {
        // Act
        const pages = await pagesOf({ limit, newestFirst });

        // Assess: full pages, then the rest; a page ending on the last object can be followed by an
        // empty one, as DynamoDB itself answers a Query that stops at its Limit with a key to go on from.
        const sizes = pages.map((page) => page.length);
        const full = Math.floor(expected.length / limit);
        const rest = expected.length % limit;
        const whole = [...Array.from({ length: full }, () => limit), ...(rest > 0 ? [rest] : [])];
        expect({ limit, keys: pages.flat() }).toEqual({ limit, keys: expected });
        expect({ limit, sizes: sizes.slice(0, whole.length) }).toEqual({ limit, sizes: whole });
        expect({ limit, trailing: sizes.slice(whole.length) }).toEqual({
          limit,
          trailing: sizes.length > whole.length ? [0] : [],
        });
      }
    },
  );

  it("continues a page that ended within a day, at a day's end, or within a day read ahead", async () => {
    // Act + Assess: two of the first day's three, then its last and the next day's one.
    const midDay = await listing.listByCategory("uploads", "image", range, { limit: 2 });
    expect(midDay.items.map((item) => item.key)).toEqual(oldestFirst.slice(0, 2));
    const afterMidDay = await listing.listByCategory("uploads", "image", range, {
      limit: 2,
      cursor: midDay.cursor,
    });
    expect(afterMidDay.items.map((item) => item.key)).toEqual(oldestFirst.slice(2, 4));

    const dayEnd = await listing.listByCategory("uploads", "image", range, { limit: 3 });
    expect(dayEnd.items.map((item) => item.key)).toEqual(oldestFirst.slice(0, 3));
    const afterDayEnd = await listing.listByCategory("uploads", "image", range, {
      limit: 3,
      cursor: dayEnd.cursor,
    });
    expect(afterDayEnd.items.map((item) => item.key)).toEqual(oldestFirst.slice(3, 6));

    // Ten fill within June 12, read with June 10 while the page still needed six: one of its two is left.
    const readAhead = await listing.listByCategory("uploads", "image", range, { limit: 10 });
    expect(readAhead.items.map((item) => item.key)).toEqual(oldestFirst.slice(0, 10));
    const afterReadAhead = await listing.listByCategory("uploads", "image", range, {
      limit: 10,
      cursor: readAhead.cursor,
    });
    expect(afterReadAhead.items.map((item) => item.key)).toEqual(oldestFirst.slice(10));
    expect(afterReadAhead.cursor).toBeUndefined();
  });

  it("sends one Query for a page its first day fills, and reads few days past the one that fills it", async () => {
    // Prepare
    const { store: counting, counted, client } = countingStore(listing);
    try {
      // Act
      const first = await counting.listByCategory("uploads", "image", range, { limit: 2 });
      const firstQueries = counted.queries;
      counted.queries = 0;
      // Ten fill on June 12, the twelfth day of the range.
      const later = await counting.listByCategory("uploads", "image", range, { limit: 10 });

      // Assess
      expect(first.items).toHaveLength(2);
      expect(firstQueries).toBe(1);
      expect(later.items).toHaveLength(10);
      expect(counted.queries).toBeGreaterThanOrEqual(12);
      expect(counted.queries).toBeLessThanOrEqual(12 + 7);
    } finally {
      client.destroy();
    }
  });

  it("reads a sparse 90-day range several days at a time, each day once", async () => {
    // Prepare: one problem, on the last of 90 days, as the Duplicates view's window often looks.
    const sparse = await freshStore();
    await sparse.putRecord(
      record({
        key: "late/bad.png",
        eventTime: "2024-08-29T10:00:00.000Z",
        status: "error",
        reasons: ["truncated"],
      }),
    );
    const { store: counting, counted, client } = countingStore(sparse);
    try {
      // Act
      const page = await counting.listProblems(
        "uploads",
        { from: "2024-06-01T00:00:00.000Z", to: "2024-08-29T23:59:59.999Z" },
        { limit: 100 },
      );

      // Assess
      expect(page.items.map((item) => item.key)).toEqual(["late/bad.png"]);
      expect(page.cursor).toBeUndefined();
      expect(counted.queries).toBe(90);
      expect(counted.windows).toEqual([1, 2, 4, ...Array.from({ length: 10 }, () => 8), 3]);
    } finally {
      client.destroy();
    }
  });

  it("widens as fast over a sparse range whose first days hold a few objects", async () => {
    // Prepare: one problem on each of the first two days, then nothing until the last of 90.
    const sparse = await freshStore();
    const problems = ["2024-06-01T10:00:00.000Z", "2024-06-02T10:00:00.000Z", "2024-08-29T10:00:00.000Z"];
    for (const [index, eventTime] of problems.entries())
      await sparse.putRecord(
        record({ key: `bad/${index}.png`, eventTime, status: "error", reasons: ["truncated"] }),
      );
    const { store: counting, counted, client } = countingStore(sparse);
    try {
      // Act
      const page = await counting.listProblems(
        "uploads",
        { from: "2024-06-01T00:00:00.000Z", to: "2024-08-29T23:59:59.999Z" },
        { limit: 100 },
      );

      // Assess: the windows of an empty range, as the two objects found early leave the page short.
      expect(page.items.map((item) => item.key)).toEqual(["bad/0.png", "bad/1.png", "bad/2.png"]);
      expect(counted.queries).toBe(90);
      expect(counted.windows).toEqual([1, 2, 4, ...Array.from({ length: 10 }, () => 8), 3]);
    } finally {
      client.destroy();
    }
  });

  describe("a dense range", () => {
    // 30 days holding three, five, none, two, six, four and one image, over and over: 92 images.
    const perDay = [3, 5, 0, 2, 6, 4, 1];
    const month = { from: "2024-06-01T00:00:00.000Z", to: "2024-06-30T23:59:59.999Z" };
    const keys: string[] = [];
    let dense: CatalogStore;

    beforeAll(async () => {
      dense = await freshStore();
      for (let day = 0; day < 30; day += 1)
        for (let hour = 1; hour <= (perDay[day % perDay.length] ?? 0); hour += 1) {
          const eventTime = new Date(Date.UTC(2024, 5, 1 + day, hour)).toISOString();
          keys.push(`dense/${eventTime}.png`);
        }
      await Promise.all(
        keys.map((key) =>
          dense.putRecord(record({ key, eventTime: key.slice("dense/".length, -".png".length) })),
        ),
      );
    });

    it.each([false, true])(
      "reads at most one day past the one that fills each page (newest first: %s)",
      async (newestFirst) => {
        // Prepare
        const { store: counting, counted, client } = countingStore(dense);
        try {
          // Act: pages of 25, about eight days each.
          const pages: Page<RecordSummary>[] = [];
          let cursor: string | undefined;
          do {
            const page = await counting.listByCategory("uploads", "image", month, {
              limit: 25,
              newestFirst,
              ...(cursor && { cursor }),
            });
            pages.push(page);
            cursor = page.cursor;
          } while (cursor && pages.length < 30);

          // Assess: every object once, in order. Each day is read once, the day a page ends within
          // again by the next page, and a day read past the one that fills a page, again too.
          const listed = pages.flatMap((page) => page.items.map((item) => item.key));
          expect(listed).toEqual(newestFirst ? [...keys].reverse() : keys);
          expect(pages.map((page) => page.items.length)).toEqual([25, 25, 25, 17]);
          expect(counted.queries).toBeLessThanOrEqual(30 + (pages.length - 1) + pages.length);
        } finally {
          client.destroy();
        }
      },
    );
  });
});

describe("type mismatches of listed objects", () => {
  it("adds mismatch and its reason from the records, over more objects than one batch read takes", async () => {
    // Prepare: 150 records in one folder, every tenth flagged
    const listing = await freshStore();
    const reason = "extension .pdf suggests application/pdf but content is image/png";
    await Promise.all(
      Array.from({ length: 150 }, (_, index) =>
        listing.putRecord(
          record({
            key: `mixed/${String(index).padStart(3, "0")}.pdf`,
            extraction: extraction(
              index % 10 === 0
                ? {
                    format: {
                      mime: "image/png",
                      ext: "png",
                      category: "image",
                      declaredExt: "pdf",
                      mismatch: true,
                      mismatchReason: reason,
                    },
                  }
                : {},
            ),
          }),
        ),
      ),
    );
    const { items } = await listing.listFolder("uploads", "mixed/", { limit: 1000 });
    expect(items).toHaveLength(150);
    expect(items.some((item) => "mismatch" in item)).toBe(false);

    // Act
    const decorated = await listing.withTypeMismatches(items);

    // Assess: the same rows in the same order, the flagged ones with the reason
    expect(decorated.map((item) => item.key)).toEqual(items.map((item) => item.key));
    const flagged = decorated.filter((item) => item.mismatch);
    expect(flagged.map((item) => item.key)).toEqual(
      Array.from({ length: 15 }, (_, index) => `mixed/${String(index * 10).padStart(3, "0")}.pdf`),
    );
    for (const item of flagged) expect(item.mismatchReason).toBe(reason);
    expect(await listing.withTypeMismatches([])).toEqual([]);
  });
});
