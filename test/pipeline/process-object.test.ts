/**
 * The pipeline's decisions over in-memory ports (the integration tests in
 * test/lambda run the same code against the embedded S3 and DynamoDB).
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { BufferSource } from "../../src/engine/byte-source/byte-source.js";
import { SourceChangedError, SourceError } from "../../src/engine/errors.js";
import type { ObjectEvent } from "../../src/events/s3-event.js";
import type { CatalogWriter, ObjectHead, ObjectStorage } from "../../src/pipeline/ports.js";
import { processEvents } from "../../src/pipeline/process-events.js";
import { processObject } from "../../src/pipeline/process-object.js";
import { DEFAULT_POLICY } from "../../src/policy/policy.js";
import type { AuditEntryInput, ObjectRecordInput, TombstoneInput } from "../../src/store/types.js";
import { corpusFile } from "../support/corpus.js";
import { buildZip } from "../support/zip.js";

class RecordingCatalog implements CatalogWriter {
  records: ObjectRecordInput[] = [];
  tombstones: TombstoneInput[] = [];
  audits: AuditEntryInput[] = [];
  async putRecord(input: ObjectRecordInput) {
    this.records.push(input);
    return { outcome: "created" as const };
  }
  async putTombstone(input: TombstoneInput) {
    this.tombstones.push(input);
    return { outcome: "created" as const };
  }
  async putAudit(input: AuditEntryInput) {
    this.audits.push(input);
    return "recorded";
  }
  async deletedVersion() {
    return undefined;
  }
}

/** Storage over one in-memory object that counts body reads. */
function memoryStorage(bytes: Uint8Array, head: Partial<ObjectHead> = {}) {
  const reads: number[] = [];
  const tags: Record<string, string | null>[] = [];
  const storage: ObjectStorage = {
    async open() {
      const inner = new BufferSource(bytes, "s3://b/k");
      const source = {
        name: inner.name,
        size: inner.size,
        read: (offset: number, length: number) => {
          reads.push(length);
          return inner.read(offset, length);
        },
      };
      return { source, head: { size: bytes.byteLength, eTag: "e", userMetadata: {}, ...head } };
    },
    async tag(_bucket, _key, tagSet) {
      tags.push(tagSet);
    },
  };
  return { storage, reads, tags };
}

function created(key: string, overrides: Partial<ObjectEvent> = {}): ObjectEvent {
  return {
    kind: "created",
    eventName: "ObjectCreated:Put",
    bucket: "b",
    key,
    eTag: "e",
    sequencer: "01",
    eventTime: "2024-05-01T10:00:00.000Z",
    ...overrides,
  };
}

describe("processObject", () => {
  it("a size rejection reads no body and tags when the policy says so", async () => {
    const png = await readFile(corpusFile("filetype-fixture.png"));
    const { storage, reads, tags } = memoryStorage(png);
    const catalog = new RecordingCatalog();
    const policy = { ...DEFAULT_POLICY, maxSizeBytes: 10, tagRejected: true };
    const outcome = await processObject(created("a.png"), { storage, catalog, policy });
    expect(outcome.outcome).toBe("rejected");
    expect(reads).toEqual([]);
    expect(catalog.records[0]?.extraction).toBeUndefined();
    expect(tags).toEqual([{ "catalog-status": "rejected" }]);
  });

  it("a document carrying macros is rejected under rejectMacros, and only the record says why", async () => {
    const docx = buildZip([
      {
        name: "[Content_Types].xml",
        content:
          '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">' +
          '<Override PartName="/word/document.xml" ' +
          'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>' +
          "</Types>",
      },
      { name: "_rels/.rels", content: "<Relationships/>" },
      { name: "word/document.xml", content: "<main/>" },
      { name: "word/vbaProject.bin", content: "VBA" },
    ]);
    const runWith = async (rejectMacros: boolean) => {
      const { storage, tags } = memoryStorage(docx);
      const catalog = new RecordingCatalog();
      const policy = { ...DEFAULT_POLICY, rejectMacros, tagRejected: true };
      const outcome = await processObject(created("report.docx"), { storage, catalog, policy });
      return { outcome, record: catalog.records[0], tags };
    };

    const accepted = await runWith(false);
    expect(accepted.record).toMatchObject({ status: "ok" });
    expect(accepted.record?.extraction?.document?.macros).toBe(true);

    const rejected = await runWith(true);
    expect(rejected.outcome.outcome).toBe("rejected");
    expect(rejected.record).toMatchObject({
      status: "rejected",
      reasons: ["document carries macros (document.macros)"],
    });
    expect(rejected.tags).toEqual([{ "catalog-status": "rejected" }]);
  });

  it("uses S3's full-object SHA-256 instead of reading every byte", async () => {
    const jpeg = await readFile(corpusFile("exifpy-Reconyx_HC500_Hyperfire.jpg"));
    const sha = createHash("sha256").update(jpeg);
    const checksum = { algorithm: "SHA256", value: sha.copy().digest("base64"), type: "FULL_OBJECT" };
    const { storage, reads } = memoryStorage(jpeg, { checksum });
    const catalog = new RecordingCatalog();
    await processObject(created("a.jpg"), { storage, catalog, policy: DEFAULT_POLICY });
    expect(catalog.records[0]?.sha256).toBe(sha.digest("hex"));
    expect(catalog.records[0]?.extraction?.sha256).toBeUndefined();
    expect(reads.reduce((total, length) => total + length, 0)).toBeLessThan(jpeg.byteLength);
  });

  it("a composite (multipart) checksum is not taken for the content hash", async () => {
    const png = await readFile(corpusFile("filetype-fixture.png"));
    const checksum = { algorithm: "SHA256", value: "AAAA-3", type: "COMPOSITE" };
    const { storage } = memoryStorage(png, { checksum });
    const catalog = new RecordingCatalog();
    await processObject(created("a.png"), { storage, catalog, policy: DEFAULT_POLICY });
    expect(catalog.records[0]?.sha256).toBeUndefined();
    expect(catalog.records[0]?.extraction?.sha256).toBe(createHash("sha256").update(png).digest("hex"));
  });

  // The storage here answers every read, so after a permanent delete of one version another is
  // current: it is cataloged (test/pipeline/permanent-version-delete.test.ts covers that path).
  it.each([
    ["a plain delete in an unversioned bucket", { eventName: "ObjectRemoved:Delete" }, undefined, "deleted"],
    [
      "a delete marker",
      { eventName: "ObjectRemoved:DeleteMarkerCreated", versionId: "m1", deleteMarker: true },
      undefined,
      "deleted",
    ],
    [
      "a permanent delete of one version",
      { eventName: "ObjectRemoved:Delete", versionId: "v1" },
      "v1",
      "restored",
    ],
  ])("%s tombstones %s", async (_label, fields, onlyVersion, expected) => {
    const catalog = new RecordingCatalog();
    const event: ObjectEvent = { ...created("a.png"), kind: "removed", ...fields };
    const outcome = await processObject(event, {
      storage: memoryStorage(new Uint8Array()).storage,
      catalog,
      policy: DEFAULT_POLICY,
    });
    expect(outcome.outcome).toBe(expected);
    expect(catalog.tombstones[0]?.onlyVersion).toBe(onlyVersion);
  });

  it("a changed object is superseded; any other source fault throws", async () => {
    const catalog = new RecordingCatalog();
    const fail = (error: Error): ObjectStorage => ({
      open: async () => {
        throw error;
      },
      tag: async () => {},
    });
    const superseded = await processObject(created("a.png"), {
      storage: fail(new SourceChangedError("s3://b/a.png", "412")),
      catalog,
      policy: DEFAULT_POLICY,
    });
    expect(superseded.outcome).toBe("superseded");
    expect(catalog.records).toEqual([]);
    expect(catalog.audits.map((entry) => entry.outcome)).toEqual(["superseded"]);
    await expect(
      processObject(created("b.png"), {
        storage: fail(new SourceError("s3://b/b.png", "503")),
        catalog,
        policy: DEFAULT_POLICY,
      }),
    ).rejects.toBeInstanceOf(SourceError);
  });
});

describe("processEvents", () => {
  it("keeps at most `concurrency` objects in flight, keeps input order, and isolates faults", async () => {
    let inFlight = 0;
    let peak = 0;
    const catalog = new RecordingCatalog();
    const storage: ObjectStorage = {
      async open(ref) {
        inFlight += 1;
        peak = Math.max(peak, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 5));
        inFlight -= 1;
        if (ref.key.startsWith("fault")) throw new SourceError(`s3://b/${ref.key}`, "throttled");
        return {
          source: new BufferSource(new TextEncoder().encode("hello"), ref.key),
          head: { size: 5, eTag: "e", userMetadata: {} },
        };
      },
      async tag() {},
    };
    const keys = Array.from({ length: 20 }, (_, index) => (index === 7 ? "fault-7.txt" : `ok-${index}.txt`));
    const results = await processEvents(
      keys.map((key) => created(key)),
      { storage, catalog, policy: DEFAULT_POLICY },
      { concurrency: 3 },
    );
    expect(peak).toBe(3);
    expect(results.map((result) => result.event.key)).toEqual(keys);
    expect(results.map((result) => result.ok)).toEqual(keys.map((key) => !key.startsWith("fault")));
    expect(catalog.records).toHaveLength(19);
  });
});
