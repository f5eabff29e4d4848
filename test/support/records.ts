import type { Category, ExtractionResult, FormatInfo } from "../../src/engine/types.js";
import type { ObjectRecordInput } from "../../src/store/types.js";

/**
 * A detected format that nothing declared and nothing contradicts.
 *
 * @example
 * testFormat("application/pdf", "pdf", "pdf")
 */
export function testFormat(mime: string, ext: string, category: Category): FormatInfo {
  return { mime, ext, category, mismatch: false };
}

/**
 * An engine result for a 100-byte PNG read whole in one request, with no
 * content section: a test adds the sections and states the values it asserts.
 * `bytesRead` follows `size` unless given.
 *
 * @example
 * testExtraction({ sha256: "a".repeat(64), image: { width: 10, height: 20 } })
 */
export function testExtraction(overrides: Partial<ExtractionResult> = {}): ExtractionResult {
  const size = overrides.size ?? 100;
  return {
    source: "s3://uploads/photos/a.png",
    size,
    status: "ok",
    warnings: [],
    format: testFormat("image/png", "png", "image"),
    bytesRead: size,
    readRequests: 1,
    durationMs: 1,
    extractorVersion: "test",
    ...overrides,
  };
}

/**
 * A record to write with `CatalogStore.putRecord`: a 100-byte object of
 * `uploads` cataloged `ok` on 2024-05-01 at 10:00, read whole in one request,
 * with no engine result (pass `extraction` for one). A test that depends on
 * any of these values states it. `bytesRead` follows `size` unless given.
 *
 * @example
 * testRecord({ bucket: "uploads", key: "docs/a.txt", status: "error", reasons: ["truncated"] })
 */
export function testRecord(overrides: Partial<ObjectRecordInput> = {}): ObjectRecordInput {
  const size = overrides.size ?? 100;
  return {
    bucket: "uploads",
    key: "photos/a.png",
    size,
    etag: '"e1"',
    sequencer: "01",
    eventTime: "2024-05-01T10:00:00.000Z",
    status: "ok",
    reasons: [],
    bytesRead: size,
    readRequests: 1,
    durationMs: 1,
    extractorVersion: "test",
    ...overrides,
  };
}
