/**
 * Whether an extraction that ran out of time did so waiting on its source
 * (an infrastructure fault, retried) or on its own work (a record with a
 * reason). The reads are real reads of a buffer, each answered after a delay.
 */
import { describe, expect, it } from "vitest";
import { BufferSource, type ByteSource } from "../../src/engine/byte-source/byte-source.js";
import { SourceTooSlowError, WatchedSource } from "../../src/pipeline/watched-source.js";

/** A buffer whose every read is answered `delayMs` later, as a remote store would. */
class LatentSource implements ByteSource {
  readonly name = "latent";
  readonly size: number;
  private readonly inner: BufferSource;
  constructor(
    bytes: Uint8Array,
    private readonly delayMs: number,
  ) {
    this.inner = new BufferSource(bytes);
    this.size = bytes.byteLength;
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    return this.inner.read(offset, length);
  }
}

const TIMED_OUT = {
  reason: "limit reached: time budget exhausted while reading latent",
  warnings: [],
  limit: "time" as const,
};

/** Reads one block after another, as an extractor walking a file does, until the budget is spent. */
async function readUntilSpent(source: WatchedSource, maxMillis: number): Promise<void> {
  const started = performance.now();
  for (let offset = 0; performance.now() - started < maxMillis; offset += 1024) {
    await source.read(offset % source.size, 1024);
  }
}

describe("a time budget spent reading", () => {
  it("by many prompt reads is the file's cost, not a source fault", async () => {
    // Prepare: each read answers in 40 ms, well within what a healthy store takes.
    const watched = new WatchedSource(new LatentSource(new Uint8Array(64 * 1024), 40), 400);
    // Act
    await readUntilSpent(watched, 400);
    // Assess
    expect(watched.faultOf(TIMED_OUT)).toBeUndefined();
  });

  it("by reads that each take most of a second is the source's fault", async () => {
    const watched = new WatchedSource(new LatentSource(new Uint8Array(64 * 1024), 300), 400);
    await readUntilSpent(watched, 400);
    expect(watched.faultOf(TIMED_OUT)).toBeInstanceOf(SourceTooSlowError);
  });

  it("is not judged when the result does not say the budget ran out", async () => {
    const watched = new WatchedSource(new LatentSource(new Uint8Array(64 * 1024), 300), 400);
    await readUntilSpent(watched, 400);
    expect(watched.faultOf({})).toBeUndefined();
  });

  it("is judged by the limit the result names, not by the wording of its reason", async () => {
    // Prepare: slow reads, but the engine says its byte budget, not its time, ended the extraction.
    const watched = new WatchedSource(new LatentSource(new Uint8Array(64 * 1024), 300), 400);
    await readUntilSpent(watched, 400);
    // Act
    const fault = watched.faultOf({ ...TIMED_OUT, limit: "bytes" });
    // Assess
    expect(fault).toBeUndefined();
  });
});
