/**
 * ListedObjectFields (src/local/listed-object-fields.ts) over a store of
 * objects in memory that counts its reads and can hold one midway: fields
 * kept once read, read again once forgotten, a read under way when its
 * object is written not kept, and the oldest dropped past the bound. The
 * embedded S3 server's wiring of it is tested over HTTP in
 * listing-after-writes.test.ts.
 */
import { describe, expect, it } from "vitest";
import type { S3rverStore } from "../../src/local/embedded-s3-thread.js";
import { ListedObjectFields } from "../../src/local/listed-object-fields.js";

/** A store whose objects are metadata in a map, as s3rver's getMetadata gives it; a missing one is ENOENT. */
function storeOf(objects: Map<string, Record<string, string>>) {
  const reads: string[] = [];
  let held: Promise<void> | undefined;
  const store = {
    async getMetadata(bucket: string, key: string) {
      reads.push(key);
      const metadata = objects.get(`${bucket}/${key}`);
      await held;
      if (!metadata) throw Object.assign(new Error("no such file"), { code: "ENOENT" });
      return metadata;
    },
  };
  return {
    store: store as unknown as S3rverStore,
    reads,
    /** Holds every read begun from now on after it has looked its object up, until the returned call. */
    hold(): () => void {
      let release = () => {};
      held = new Promise((resolve) => {
        release = () => {
          held = undefined;
          resolve();
        };
      });
      return release;
    },
  };
}

const metadataOf = (body: string, modified = "Sat, 28 Nov 2026 00:00:00 GMT") => ({
  etag: JSON.stringify(`md5 of ${body}`),
  "last-modified": modified,
  "content-length": String(body.length),
  "x-amz-checksum-crc64nvme": "AAAAAAAAAAA=",
  "x-amz-checksum-type": "FULL_OBJECT",
});

describe("ListedObjectFields", () => {
  it("gives an object's listed fields as a listing writes them, reading its metadata once", async () => {
    // Prepare
    const objects = new Map([["uploads/a.txt", metadataOf("hello")]]);
    const { store, reads } = storeOf(objects);
    const fields = new ListedObjectFields(store);

    // Act
    const first = await fields.get("uploads", "a.txt");
    const second = await fields.get("uploads", "a.txt");

    // Assess
    expect(first).toEqual({
      LastModified: "2026-11-28T00:00:00.000Z",
      ETag: '"md5 of hello"',
      ChecksumAlgorithm: "CRC64NVME",
      ChecksumType: "FULL_OBJECT",
      Size: 5,
    });
    expect(second).toEqual(first);
    expect(reads).toEqual(["a.txt"]);
  });

  it("reads an object again once it is forgotten", async () => {
    // Prepare
    const objects = new Map([["uploads/a.txt", metadataOf("hello")]]);
    const { store, reads } = storeOf(objects);
    const fields = new ListedObjectFields(store);
    await fields.get("uploads", "a.txt");

    // Act
    objects.set("uploads/a.txt", metadataOf("hello again"));
    fields.forget("uploads", "a.txt");

    // Assess
    expect((await fields.get("uploads", "a.txt"))?.Size).toBe(11);
    expect(reads).toEqual(["a.txt", "a.txt"]);
  });

  it("gives, but does not keep, what a read under way when its object is written saw", async () => {
    // Prepare: a read that has seen the object's old metadata and not yet returned.
    const objects = new Map([["uploads/a.txt", metadataOf("old")]]);
    const { store, reads, hold } = storeOf(objects);
    const fields = new ListedObjectFields(store);
    const release = hold();
    const underWay = fields.get("uploads", "a.txt");

    // Act: the object is written, and forgotten, before that read returns.
    objects.set("uploads/a.txt", metadataOf("brand new"));
    fields.forget("uploads", "a.txt");
    release();

    // Assess
    expect((await underWay)?.Size).toBe(3);
    expect((await fields.get("uploads", "a.txt"))?.Size).toBe(9);
    expect(reads).toEqual(["a.txt", "a.txt"]);
  });

  it("shares one read among listings that ask at once", async () => {
    // Prepare
    const objects = new Map([["uploads/a.txt", metadataOf("hello")]]);
    const { store, reads } = storeOf(objects);
    const fields = new ListedObjectFields(store);

    // Act
    const [first, second] = await Promise.all([
      fields.get("uploads", "a.txt"),
      fields.get("uploads", "a.txt"),
    ]);

    // Assess
    expect(first).toEqual(second);
    expect(reads).toEqual(["a.txt"]);
  });

  it("gives nothing for an object that is gone, and keeps nothing of it", async () => {
    // Prepare
    const objects = new Map<string, Record<string, string>>();
    const { store, reads } = storeOf(objects);
    const fields = new ListedObjectFields(store);

    // Act
    const gone = await fields.get("uploads", "gone.txt");
    objects.set("uploads/gone.txt", metadataOf("back"));

    // Assess
    expect(gone).toBeUndefined();
    expect((await fields.get("uploads", "gone.txt"))?.Size).toBe(4);
    expect(reads).toEqual(["gone.txt", "gone.txt"]);
  });

  it("forgets every object of a bucket, and no other bucket's", async () => {
    // Prepare
    const objects = new Map([
      ["uploads/a.txt", metadataOf("a")],
      ["uploads-2/a.txt", metadataOf("b")],
    ]);
    const { store, reads } = storeOf(objects);
    const fields = new ListedObjectFields(store);
    await fields.get("uploads", "a.txt");
    await fields.get("uploads-2", "a.txt");

    // Act
    fields.forgetBucket("uploads");
    await fields.get("uploads", "a.txt");
    await fields.get("uploads-2", "a.txt");

    // Assess
    expect(reads).toEqual(["a.txt", "a.txt", "a.txt"]);
    expect(fields.size).toBe(2);
  });

  it("keeps at most its bound, dropping the object read longest ago", async () => {
    // Prepare
    const objects = new Map(["a", "b", "c"].map((name) => [`uploads/${name}`, metadataOf(name)]));
    const { store, reads } = storeOf(objects);
    const fields = new ListedObjectFields(store, 2);
    await fields.get("uploads", "a");
    await fields.get("uploads", "b");
    await fields.get("uploads", "a");

    // Act: c takes b's place, b having been read longer ago than a.
    await fields.get("uploads", "c");
    await fields.get("uploads", "a");
    await fields.get("uploads", "b");

    // Assess
    expect(fields.size).toBe(2);
    expect(reads).toEqual(["a", "b", "c", "b"]);
  });
});
