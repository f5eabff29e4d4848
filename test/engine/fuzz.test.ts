import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fuzzInput, loadCorpus, mulberry32 } from "../../bench/fuzz-inputs.js";
import { BufferSource } from "../../src/engine/byte-source/byte-source.js";
import { extract } from "../../src/engine/engine.js";
import type { ExtractionResult } from "../../src/engine/types.js";
import { REPO_ROOT } from "../support/corpus.js";

/**
 * The fast share of bench/fuzz.bench.ts: the same generator, a fixed seed and
 * a few hundred inputs, plus every input that ever broke the engine. The
 * bench runs each input in a worker it can kill; here a hang shows as a
 * timed-out test instead.
 */

const SEED = 20_261_125;
const INPUTS = 600;
const TIME_BUDGET_MS = 5_000;
const REGRESSIONS_DIR = join(REPO_ROOT, "test/fixtures/regressions");
const STATUSES = ["ok", "partial", "error"];

async function extractBounded(bytes: Uint8Array, name: string): Promise<ExtractionResult> {
  const result = await extract(new BufferSource(bytes, name), {
    name,
    budget: { maxMillis: TIME_BUDGET_MS },
  });
  expect(STATUSES).toContain(result.status);
  expect(result.size).toBe(bytes.byteLength);
  expect(result.bytesRead).toBeLessThanOrEqual(Math.max(bytes.byteLength, 1));
  expect(() => JSON.stringify(result)).not.toThrow();
  return result;
}

describe("fuzz inputs", () => {
  it("are reproducible from seed and index alone", () => {
    const corpus = loadCorpus().slice(0, 20);
    const first = fuzzInput(corpus, SEED, 7);
    const again = fuzzInput(corpus, SEED, 7);
    expect(again.kind).toBe(first.kind);
    expect(Buffer.compare(again.bytes, first.bytes)).toBe(0);
    expect(mulberry32(1)()).toBe(mulberry32(1)());
    expect(mulberry32(1)()).not.toBe(mulberry32(2)());
  });

  it(`never make extract() throw, and every one gets a status (${INPUTS} inputs, seed ${SEED})`, async () => {
    const corpus = loadCorpus();
    const kinds = new Set<string>();
    const statuses = new Map<string, number>();
    for (let index = 0; index < INPUTS; index += 1) {
      const input = fuzzInput(corpus, SEED, index);
      kinds.add(input.kind);
      let result: ExtractionResult;
      try {
        result = await extractBounded(input.bytes, input.name);
      } catch (error) {
        throw new Error(`input #${index} (${input.kind} of ${input.name}: ${input.detail}) failed`, {
          cause: error,
        });
      }
      statuses.set(result.status, (statuses.get(result.status) ?? 0) + 1);
    }
    // The mix must exercise damage, not only pass clean files through.
    expect(kinds.size).toBeGreaterThanOrEqual(6);
    expect(statuses.get("ok") ?? 0).toBeGreaterThan(0);
    expect((statuses.get("error") ?? 0) + (statuses.get("partial") ?? 0)).toBeGreaterThan(INPUTS / 20);
  }, 120_000);
});

const fixtures = readdirSync(REGRESSIONS_DIR).filter((name) => name.endsWith(".bin"));

describe("regression inputs", () => {
  it("are kept as small files, each with a README line", () => {
    const readme = readFileSync(join(REGRESSIONS_DIR, "README.md"), "utf8");
    for (const name of fixtures) {
      expect(readme, name).toContain(name);
      expect(readFileSync(join(REGRESSIONS_DIR, name)).byteLength).toBeLessThanOrEqual(256 * 1024);
    }
  });

  it.each(fixtures)(
    "%s runs clean",
    async (name) => {
      const bytes = new Uint8Array(readFileSync(join(REGRESSIONS_DIR, name)));
      const arrayBuffersBefore = process.memoryUsage().arrayBuffers;
      await extractBounded(bytes, name.replace(/^[0-9a-f]{8}-/, "").replace(/\.bin$/, ""));
      // Each of these once made exifr reserve hundreds of MiB to 16 GiB from a count in the file.
      expect(process.memoryUsage().arrayBuffers - arrayBuffersBefore).toBeLessThan(64 * 1024 * 1024);
    },
    // The bench's watchdog (no result 1 s past the budget) as the test's own timeout, with room for a
    // loaded machine: the budget must end an input with a result; one that runs on fails here.
    3 * TIME_BUDGET_MS,
  );
});
