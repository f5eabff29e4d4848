import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FileSource } from "../../src/engine/byte-source/byte-source.js";
import { DETECT_HEAD_BYTES, detectFile } from "../../src/engine/detect/detect-file.js";
import { extract } from "../../src/engine/engine.js";
import { SourceError } from "../../src/engine/errors.js";
import type { FormatInfo } from "../../src/engine/types.js";
import { corpusFile, expectedEntries } from "../support/corpus.js";

/** What `catalog extract --detect-only` printed before detectFile existed: the engine's own answer. */
async function engineDetection(path: string): Promise<FormatInfo> {
  const source = await FileSource.open(path);
  try {
    return (await extract(source, { name: path, detectOnly: true })).format;
  } finally {
    await source.close();
  }
}

const scratch = mkdtempSync(join(tmpdir(), "detect-file-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("detectFile answers exactly what extract({ detectOnly }) answers", () => {
  it.each(expectedEntries().map((entry) => entry.name))("%s", async (name) => {
    // Prepare
    const path = corpusFile(name);
    // Act
    const [fast, engine] = await Promise.all([detectFile(path), engineDetection(path)]);
    // Assess
    expect(fast).toEqual(engine);
  });

  it("takes the path as the name hint, so a lying extension is a mismatch", async () => {
    const path = join(scratch, "photo.pdf");
    writeFileSync(path, readFileSync(corpusFile("exifpy-Canon_40D.jpg")));
    const format = await detectFile(path);
    expect(format).toMatchObject({ mime: "image/jpeg", declaredExt: "pdf", mismatch: true });
  });

  it("uses the hints it is given instead of the path", async () => {
    const path = join(scratch, "no-extension");
    writeFileSync(path, readFileSync(corpusFile("exifpy-Canon_40D.jpg")));
    const format = await detectFile(path, { name: "cat.png", declaredMime: "image/png" });
    expect(format).toMatchObject({ mime: "image/jpeg", declaredExt: "png", declaredMime: "image/png" });
    expect(format.mismatch).toBe(true);
  });
});

describe("detectFile: the medium fails loudly, the content never does", () => {
  it("throws a SourceError for something that is not a regular file", async () => {
    await expect(detectFile(scratch)).rejects.toBeInstanceOf(SourceError);
  });

  it("throws the fs error, naming the path, for a missing file", async () => {
    const missing = join(scratch, "missing.bin");
    await expect(detectFile(missing)).rejects.toThrow(/ENOENT.*missing\.bin/);
  });

  // Cuts at the head window's edge matter: reads past it go back to the file.
  const cuts = [0, 1, 3, 16, 511, DETECT_HEAD_BYTES - 1, DETECT_HEAD_BYTES, DETECT_HEAD_BYTES + 1];
  const samples = [
    "filetype-fixture.zip",
    "filetype-fixture.docx",
    "filetype-fixture.tar.gz",
    "exifpy-Canon_40D.jpg",
    "filetype-fixture.png",
    "tika-testEPUB.epub",
  ];

  it.each(samples)("truncated and corrupted %s never throw and agree with the engine", async (name) => {
    const bytes = readFileSync(corpusFile(name));
    const variants: [string, Uint8Array][] = cuts
      .filter((cut) => cut <= bytes.byteLength)
      .map((cut) => [`cut-${cut}-${name}`, bytes.subarray(0, cut)]);
    const flipped = Uint8Array.from(bytes);
    for (let i = 4; i < flipped.byteLength; i += 97) flipped[i] = (flipped[i] as number) ^ 0xff;
    variants.push([`flipped-${name}`, flipped]);
    for (const [variant, content] of variants) {
      const path = join(scratch, variant);
      writeFileSync(path, content);
      const started = performance.now();
      const [fast, engine] = await Promise.all([detectFile(path), engineDetection(path)]);
      expect(fast, variant).toEqual(engine);
      expect(performance.now() - started, variant).toBeLessThan(5_000);
    }
  });
});
