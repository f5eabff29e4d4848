import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BACKFILL_RULE, isOlderVersion, passSequencer, REPROCESS_RULE } from "../../src/cli/catalog-pass.js";
import { uploadPlan } from "../../src/cli/commands/upload.js";
import { EXTRACTOR_VERSION } from "../../src/engine/version.js";
import { compareSequencers, sequencerSortKey } from "../../src/events/sequencer.js";
import type { CatalogRecord } from "../../src/store/types.js";

describe("passSequencer: a backfill or reprocess write wins over the record it replaces, never over a newer event", () => {
  it.each([
    // stored, a real S3 sequencer of a later event for the same key
    ["0055AED6DCD90281E5", "0055AED6DCD90281E6"],
    ["0055aed6dcd90281e5", "0055AED6DCD90281F0"],
    ["0A00", "0A01"],
    ["0A", "0B"],
    ["01A2144DEFE40000", "01A2144DEFE40001"],
    ["0", "0055AED6DCD90281E5"],
  ])("stored %s, later event %s", (stored, later) => {
    const ours = passSequencer(stored);
    expect(compareSequencers(ours, stored)).toBeGreaterThan(0);
    expect(sequencerSortKey(ours) > sequencerSortKey(stored)).toBe(true);
    expect(compareSequencers(later, ours)).toBeGreaterThan(0);
    expect(sequencerSortKey(later) > sequencerSortKey(ours)).toBe(true);
  });

  it("uses the smallest sequencer when nothing is stored, so any real event wins", () => {
    expect(passSequencer(undefined)).toBe("0");
    expect(compareSequencers("00000000000000000001", passSequencer(undefined))).toBeGreaterThan(0);
  });
});

describe("isOlderVersion", () => {
  it.each([
    ["0.9.0", "1.0.0", true],
    ["1.0.0", "1.0.0", false],
    ["1.2", "1.10.0", true],
    ["2.0.0", "1.10.0", false],
    [undefined, "1.0.0", true],
  ] as const)("%s older than %s: %s", (version, current, older) => {
    expect(isOlderVersion(version, current)).toBe(older);
  });
});

const record = (fields: Partial<CatalogRecord>): CatalogRecord =>
  ({
    bucket: "b",
    key: "k",
    status: "ok",
    etag: "e1",
    sequencer: "0A",
    eventTime: "2024-05-01T00:00:00.000Z",
    ...fields,
  }) as CatalogRecord;
const listed = { key: "k", size: 1, eTag: "e1", lastModified: "2024-04-30T00:00:00.000Z" };

describe("pass rules", () => {
  it.each([
    ["no record", undefined, { action: "process", sequencer: "0", eventTime: listed.lastModified }],
    ["same ETag", record({}), { action: "skip", why: "cataloged" }],
    [
      "another ETag",
      record({ etag: "e0" }),
      { action: "process", sequencer: "0A01", eventTime: listed.lastModified },
    ],
    ["a tombstone", record({ status: "deleted", etag: undefined }), { action: "process", sequencer: "0A01" }],
  ])("backfill, %s", (_, stored, decision) => {
    expect(BACKFILL_RULE(listed, stored)).toMatchObject(decision);
  });

  it.each([
    ["no record", undefined, { action: "skip", why: "uncataloged" }],
    [
      "another ETag",
      record({ etag: "e0", extractorVersion: "0.1.0" }),
      { action: "skip", why: "uncataloged" },
    ],
    ["current", record({ extractorVersion: EXTRACTOR_VERSION }), { action: "skip", why: "current" }],
    [
      "older",
      record({ extractorVersion: "0.0.1" }),
      { action: "process", sequencer: "0A01", eventTime: "2024-05-01T00:00:00.000Z" },
    ],
  ])("reprocess, %s", (_, stored, decision) => {
    expect(REPROCESS_RULE(listed, stored)).toEqual(decision);
  });
});

describe("uploadPlan", () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "catalog-upload-"));
    await mkdir(join(root, "photos/2024"), { recursive: true });
    await writeFile(join(root, "photos/b.jpg"), "b");
    await writeFile(join(root, "photos/2024/a b.jpg"), "ab");
    await writeFile(join(root, "notes.txt"), "notes");
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it("keys a directory's files by their path from the directory's parent, and a file by its name", async () => {
    const plan = await uploadPlan([join(root, "photos"), join(root, "notes.txt")], "in/");
    expect(plan.skipped).toEqual([]);
    expect(plan.items.map(({ key, size }) => [key, size])).toEqual([
      ["in/photos/2024/a b.jpg", 2],
      ["in/photos/b.jpg", 1],
      ["in/notes.txt", 5],
    ]);
  });

  it("lists a missing path as skipped, and plans the others, as cp copies them", async () => {
    const plan = await uploadPlan([join(root, "nope"), join(root, "notes.txt"), "/dev/null"], "");
    expect(plan.items.map(({ key }) => key)).toEqual(["notes.txt"]);
    expect(plan.skipped).toEqual([
      { path: join(root, "nope"), reason: "no such file or directory" },
      { path: "/dev/null", reason: "not a file or directory" },
    ]);
  });
});
