import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { BufferSource, type ByteSource, FileSource } from "../../src/engine/byte-source/byte-source.js";
import { extract } from "../../src/engine/engine.js";
import { SourceChangedError, SourceError } from "../../src/engine/errors.js";
import { EXTRACTOR_VERSION } from "../../src/engine/version.js";
import { corpusFile, expectedEntries } from "../support/corpus.js";

const entries = expectedEntries();

/** Offsets at which every corpus file is cut: tiny, header-sized, and inside the body. */
function cutPoints(size: number): number[] {
  return [...new Set([0, 1, 2, 7, 16, 100, 512, 4096, Math.floor(size / 2), size - 1])].filter(
    (cut) => cut >= 0 && cut < size,
  );
}

describe("extract", () => {
  it("produces the documented shape for a real file", async () => {
    const source = await FileSource.open(corpusFile("filetype-fixture.png"));
    try {
      const result = await extract(source, { name: "fixture.png", declaredMime: "image/png" });
      expect(result).toMatchObject({
        source: corpusFile("filetype-fixture.png"),
        size: source.size,
        status: "ok",
        warnings: [],
        format: {
          mime: "image/png",
          ext: "png",
          category: "image",
          mismatch: false,
          declaredMime: "image/png",
        },
        extractorVersion: EXTRACTOR_VERSION,
      });
      expect(result.bytesRead).toBeGreaterThan(0);
      expect(result.bytesRead).toBeLessThanOrEqual(source.size);
      expect(result.readRequests).toBeGreaterThanOrEqual(1);
      expect(result.sha256).toBeUndefined();
    } finally {
      await source.close();
    }
  });

  it.each(entries.filter((_, i) => i % 7 === 0).map((entry) => [entry.name, entry.sha256] as const))(
    "hashes %s to the SHA-256 recorded in the corpus",
    async (name, sha256) => {
      const source = await FileSource.open(corpusFile(name));
      try {
        const result = await extract(source, { hash: true });
        expect(result.sha256).toBe(sha256);
        expect(result.bytesRead).toBeGreaterThanOrEqual(source.size);
      } finally {
        await source.close();
      }
    },
  );

  it("hashes from the blocks extraction already read, without fetching them again", async () => {
    const bytes = readFileSync(corpusFile("exifpy-Reconyx_HC500_Hyperfire.jpg"));
    const plain = await extract(new BufferSource(bytes, "a.jpg"), { blockSize: 64 * 1024 });
    const hashed = await extract(new BufferSource(bytes, "a.jpg"), { blockSize: 64 * 1024, hash: true });
    expect(hashed.sha256).toBe(createHash("sha256").update(bytes).digest("hex"));
    expect(hashed.bytesRead).toBe(bytes.byteLength);
    expect(plain.bytesRead).toBeLessThan(bytes.byteLength);
    const small = readFileSync(corpusFile("filetype-fixture.png"));
    const smallPlain = await extract(new BufferSource(small, "b.png"), { blockSize: 64 * 1024 });
    const smallHashed = await extract(new BufferSource(small, "b.png"), { blockSize: 64 * 1024, hash: true });
    expect(smallHashed.readRequests).toBe(smallPlain.readRequests);
    expect(smallHashed.bytesRead).toBe(small.byteLength);
  });

  it("stops after detection when asked to", async () => {
    const source = await FileSource.open(corpusFile("filetype-fixture.pdf"));
    try {
      const result = await extract(source, { detectOnly: true });
      expect(result.format.mime).toBe("application/pdf");
      expect(result.pdf).toBeUndefined();
    } finally {
      await source.close();
    }
  });

  it("reports a too-small read budget as a limit, not a crash", async () => {
    const bytes = readFileSync(corpusFile("exifpy-Canon_40D.jpg"));
    const result = await extract(new BufferSource(bytes, "tiny-budget.jpg"), {
      blockSize: 1024,
      budget: { maxBytes: 1024 },
    });
    expect(result.status).not.toBe("ok");
    expect(result.reason).toMatch(/limit reached/);
  });

  it("lets a fault of the medium escape, so the caller can retry", async () => {
    const failing: ByteSource = {
      name: "s3://bucket/flaky",
      size: 1000,
      read: async () => {
        throw new SourceError("s3://bucket/flaky", "throttled");
      },
    };
    await expect(extract(failing)).rejects.toBeInstanceOf(SourceError);
    const changed: ByteSource = {
      name: "s3://bucket/changed",
      size: 1000,
      read: async () => {
        throw new SourceChangedError("s3://bucket/changed", "412 Precondition Failed");
      },
    };
    await expect(extract(changed)).rejects.toBeInstanceOf(SourceChangedError);
  });

  it("catalogs an empty file", async () => {
    const result = await extract(new BufferSource(new Uint8Array(0), "empty"));
    expect(result).toMatchObject({ status: "ok", size: 0, format: { mime: "inode/x-empty" }, bytesRead: 0 });
  });
});

describe("tiny and truncated inputs never throw and never hang", () => {
  it.each(entries.map((entry) => [entry.name] as const))("%s cut at many offsets", async (name) => {
    const bytes = readFileSync(corpusFile(name));
    for (const cut of cutPoints(bytes.byteLength)) {
      const result = await extract(new BufferSource(bytes.subarray(0, cut), `${name}@${cut}`), {
        budget: { maxMillis: 5_000 },
      });
      expect(["ok", "partial", "error"]).toContain(result.status);
      expect(result.size).toBe(cut);
      if (result.status !== "ok") expect(result.reason).toBeTruthy();
    }
  });
});
