import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DETECT_HEAD_BYTES, detectFile } from "../../src/engine/detect/detect-file.js";
import { SourceError } from "../../src/engine/errors.js";
import { corpusFile, expectedEntries } from "../support/corpus.js";
import { engineDetection } from "../support/engine.js";
import { buildZip } from "../support/zip.js";

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

  it("names an OOXML package whose local headers it cannot walk from the directory at the tail", async () => {
    // Prepare: ZIP64 sizes in every local header, which file-type does not follow.
    const path = join(scratch, "macros.docm");
    const contentTypes =
      '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">' +
      '<Override PartName="/word/document.xml" ContentType="application/vnd.ms-word.document.macroEnabled.main+xml"/></Types>';
    const parts = [
      { name: "[Content_Types].xml", content: contentTypes },
      { name: "word/document.xml", content: "<w:document/>" },
    ];
    writeFileSync(path, buildZip(parts, { zip64: true }));
    // Act
    const [fast, engine] = await Promise.all([detectFile(path), engineDetection(path)]);
    // Assess
    expect(fast).toMatchObject({ mime: "application/vnd.ms-word.document.macroenabled.12", ext: "docm" });
    expect(fast).toMatchObject({ category: "document", mismatch: false });
    expect(fast).toEqual(engine);
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

  // Cuts at a block's edge and at the head's edge matter: reads past the head go back to the file.
  const block = 16 * 1024;
  const head = DETECT_HEAD_BYTES;
  const cuts = [0, 1, 3, 16, 511, block - 1, block, block + 1, head - 1, head, head + 1];
  const samples = [
    "filetype-fixture-mjpeg.mov",
    "filetype-fixture.wv",
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
      const [fast, engine] = await Promise.all([detectFile(path), engineDetection(path)]);
      expect(fast, variant).toEqual(engine);
    }
  });

  it.each([
    // An ID3v2 tag that claims to run past the head, then an MPEG frame: file-type skips the tag.
    [
      "long-id3.mp3",
      [
        Buffer.from([0x49, 0x44, 0x33, 4, 0, 0, 0x00, 0x12, 0x00, 0x00]),
        Buffer.alloc(300_000),
        Buffer.from([0xff, 0xfb, 0x90, 0x64]),
      ],
    ],
    // A ZIP whose local headers go on past the head.
    ["padded.zip", [readFileSync(corpusFile("filetype-fixture.zip")), Buffer.alloc(DETECT_HEAD_BYTES)]],
  ] as const)("%s, longer than the head, agrees with the engine", async (name, parts) => {
    const path = join(scratch, name);
    writeFileSync(path, Buffer.concat(parts));
    expect(await detectFile(path)).toEqual(await engineDetection(path));
  });
});
