import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { BufferSource } from "../../src/engine/byte-source/byte-source.js";
import { extract } from "../../src/engine/engine.js";
import { corpusFile } from "../support/corpus.js";

async function extractDatabase(bytes: Uint8Array) {
  return extract(new BufferSource(bytes, "cut.sqlite"), { name: "cut.sqlite" });
}

describe("a SQLite database", () => {
  it.each([
    ["filetype-fixture.sqlite", "2 pages of 4096 bytes (8192)"],
    ["tika-testSQLITE3.db", "2 pages of 1024 bytes (2048)"],
  ])("%s is ok whole and partial when cut short of the pages its header counts", async (file, counted) => {
    // Prepare
    const bytes = readFileSync(corpusFile(file));

    // Act
    const whole = await extractDatabase(bytes);
    const half = await extractDatabase(bytes.subarray(0, bytes.byteLength / 2));
    const lastByte = await extractDatabase(bytes.subarray(0, bytes.byteLength - 1));

    // Assess
    expect(whole.status).toBe("ok");
    expect(whole.document).toEqual({ kind: "sqlite" });
    expect(half.status).toBe("partial");
    expect(half.reason).toBe(
      `truncated: the SQLite header counts ${counted}, the file has ${bytes.byteLength / 2}`,
    );
    expect(half.document).toEqual({ kind: "sqlite" });
    expect(lastByte.status).toBe("partial");
  });

  it("whose page count a writer before 3.7.0 left stale is not judged by it", async () => {
    // Prepare: the version-valid-for number no longer matches the change counter, so SQLite ignores the count.
    const bytes = Buffer.from(readFileSync(corpusFile("filetype-fixture.sqlite")));
    bytes.writeUInt32BE(bytes.readUInt32BE(24) + 1, 24);

    // Act
    const result = await extractDatabase(bytes.subarray(0, 4096));

    // Assess
    expect(result.status).toBe("ok");
    expect(result.document).toEqual({ kind: "sqlite" });
  });
});
