/**
 * RAR 5 listings: the block headers are walked, each checked by its CRC32,
 * for entries, names, sizes and encryption, as RAR 4's are. The archives are
 * built to the format's technical note (test/support/rar5.ts) and listed by
 * libarchive's bsdtar too, whose listing the engine's must match.
 */
import { describe, expect, it } from "vitest";
import { BufferSource } from "../../src/engine/byte-source/byte-source.js";
import { extract } from "../../src/engine/engine.js";
import { bsdtarList } from "../support/bsdtar.js";
import { RangedSource } from "../support/engine.js";
import { type Rar5Entry, rar5 } from "../support/rar5.js";
import { itWith } from "../support/tools.js";

const ENTRIES: Rar5Entry[] = [
  { name: "reports", directory: true },
  { name: "reports/2024.csv", content: Buffer.from("year,total\n2024,12\n") },
  { name: "reports/relatório-ü.txt", content: Buffer.alloc(5000, 0x61) },
  { name: "photo.jpg", content: Buffer.alloc(1234, 0xff) },
];

function extractRar(bytes: Uint8Array, budget?: Parameters<typeof extract>[1]) {
  return extract(new BufferSource(bytes, "archive.rar"), { name: "archive.rar", ...budget });
}

describe("RAR 5 listings", () => {
  itWith("bsdtar")("lists entries, names and sizes as bsdtar lists them", async () => {
    // Prepare
    const bytes = rar5(ENTRIES);

    // Act
    const result = await extractRar(bytes);

    // Assess
    expect(result.status).toBe("ok");
    expect(result.format.mime).toBe("application/x-rar-compressed");
    expect(result.archive).toMatchObject({
      kind: "rar",
      entries: 4,
      uncompressedSize: 19 + 5000 + 1234,
      encrypted: false,
    });
    expect(result.archive?.sample).toEqual(bsdtarList(bytes, "listed.rar"));
    expect(result.archive?.estimated).toBeUndefined();
    expect(result.warnings).toEqual([]);
  });

  itWith("bsdtar")("says an archive with an encrypted file is encrypted, and still lists it", async () => {
    const bytes = rar5([...ENTRIES, { name: "secret.txt", content: Buffer.from("x"), encrypted: true }]);

    const result = await extractRar(bytes);

    expect(result.archive).toMatchObject({ entries: 5, encrypted: true });
    expect(result.archive?.sample).toEqual(bsdtarList(bytes, "listed.rar"));
  });

  it("says an archive whose headers are encrypted is encrypted, and lists nothing", async () => {
    const result = await extractRar(rar5([], { encryptedHeaders: true }));

    expect(result.status).toBe("ok");
    expect(result.archive).toMatchObject({ kind: "rar", encrypted: true, sample: [] });
    expect(result.archive?.entries).toBeUndefined();
  });

  it("stops at the entry budget with what it listed", async () => {
    const many = Array.from({ length: 150 }, (_, i) => ({
      name: `f-${i}.txt`,
      content: Buffer.from(`${i}`),
    }));

    const result = await extractRar(rar5(many), { budget: { maxEntries: 100 } });

    expect(result.limit).toBe("entries");
    expect(result.archive).toMatchObject({ entries: 100, estimated: true });
    expect(result.warnings).toEqual(["partial RAR listing: listing stopped at the entry budget of 100"]);
  });

  it("keeps the entries listed before a read the budget refuses, read by ranges", async () => {
    // Prepare: 40 entries of 100 KiB, so each header is a read of its own.
    const spread = Array.from({ length: 40 }, (_, i) => ({
      name: `part-${i}.bin`,
      content: Buffer.alloc(100 * 1024),
    }));
    const bytes = rar5(spread);

    // Act
    const result = await extract(new RangedSource(bytes, "spread.rar"), { budget: { maxRequests: 4 } });

    // Assess
    expect(result.status).toBe("ok");
    expect(result.limit).toBe("requests");
    expect(result.archive?.estimated).toBe(true);
    expect(result.archive?.entries).toBeGreaterThan(0);
    expect(result.archive?.entries).toBeLessThan(40);
  });

  it("lists an archive cut inside an entry's data as far as it goes", async () => {
    const bytes = rar5(ENTRIES);
    const cut = bytes.subarray(0, bytes.indexOf(Buffer.from("photo.jpg")) + 20);

    const result = await extractRar(cut);

    expect(result.status).toBe("partial");
    expect(result.reason).toBe("truncated: the RAR archive ends inside an entry's data");
    expect(result.archive).toMatchObject({ entries: 4, estimated: true });
    expect(result.warnings).toEqual(["partial RAR listing: archive ends inside an entry's data (truncated)"]);
  });

  it("ends the listing at a damaged header, and calls a damaged first header no archive", async () => {
    // Prepare: flip a byte of the third file's name, which its header's CRC32 covers.
    const bytes = Buffer.from(rar5(ENTRIES));
    const at = bytes.indexOf(Buffer.from("photo.jpg"));
    const damaged = Buffer.from(bytes);
    damaged[at] = 0x50;
    const firstDamaged = Buffer.from(bytes);
    firstDamaged[9] = (firstDamaged[9] as number) ^ 0xff;

    // Act
    const later = await extractRar(damaged);
    const first = await extractRar(firstDamaged);

    // Assess
    expect(later.archive).toMatchObject({ entries: 3, estimated: true });
    expect(later.warnings).toEqual([
      expect.stringMatching(/^partial RAR listing: RAR 5 header CRC32 mismatch at byte \d+$/),
    ]);
    expect(first.status).toBe("error");
    expect(first.reason).toMatch(/^RAR 5 header/);
  });

  it("never throws and never hangs on an archive cut or damaged anywhere", async () => {
    const bytes = rar5(ENTRIES);
    for (let cut = 1; cut < bytes.byteLength; cut += 7) {
      const result = await extractRar(bytes.subarray(0, cut), { budget: { maxMillis: 2000 } });
      expect(["ok", "partial", "error"]).toContain(result.status);
    }
    for (let i = 8; i < bytes.byteLength; i += 13) {
      const damaged = Buffer.from(bytes);
      damaged[i] = (damaged[i] as number) ^ 0x5a;
      const result = await extractRar(damaged, { budget: { maxMillis: 2000 } });
      expect(["ok", "partial", "error"]).toContain(result.status);
    }
  });
});
