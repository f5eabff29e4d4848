import { setImmediate as idle } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { LineWriter } from "../../src/cli/line-writer.js";

function recorder() {
  const writes: string[] = [];
  return { writes, sink: { write: (text: string) => writes.push(text) } };
}

describe("LineWriter", () => {
  it("writes the lines queued in one turn of the event loop in one call, in order", async () => {
    // Prepare
    const { writes, sink } = recorder();
    const out = new LineWriter(sink);
    // Act
    for (const name of ["a", "b", "c"]) out.line(name);
    const beforeIdle = writes.length;
    await idle();
    // Assess
    expect(beforeIdle).toBe(0);
    expect(writes).toEqual(["a\nb\nc\n"]);
  });

  it("keeps streaming: lines queued after the loop went idle go out in the next write", async () => {
    const { writes, sink } = recorder();
    const out = new LineWriter(sink);
    out.line("first");
    await idle();
    out.line("second");
    await idle();
    expect(writes).toEqual(["first\n", "second\n"]);
  });

  it("writes at once when what is queued passes 64 KiB", () => {
    const { writes, sink } = recorder();
    const out = new LineWriter(sink);
    const line = "x".repeat(1023);
    for (let i = 0; i < 64; i++) out.line(line);
    expect(writes).toHaveLength(1);
    expect(writes[0]).toHaveLength(64 * 1024);
  });

  it("flush writes what is queued and nothing when the queue is empty", async () => {
    const { writes, sink } = recorder();
    const out = new LineWriter(sink);
    out.line("only");
    out.flush();
    out.flush();
    await idle();
    expect(writes).toEqual(["only\n"]);
  });
});
