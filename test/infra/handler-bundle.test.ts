/**
 * The deployed artefact works: the code-split bundle (built with the stack's own options) is imported in
 * a fresh process, as Lambda does, and catalogs a JPEG and a PDF from the embedded servers, so the
 * lazily loaded extractor chunks (and the thumbnail path with sharp) run from the bundle, not from
 * src/. The bundle is built under node_modules/.cache so the external `sharp` resolves to the
 * project's copy, standing in for the linux-arm64 one the stack installs beside the bundle.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import type { Metafile } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundleHandler, HANDLER_FILE, PROJECT_ROOT } from "../../infra/lib/handler-bundle.js";
import { startServers, type TestServers } from "../support/servers.js";
import { type ProbeStack, probeBundle, probeStack, TEST_EVENT } from "./bundle-probe.js";

let servers: TestServers;
let stack: ProbeStack;
let outdir: string;
let metafile: Metafile;

beforeAll(async () => {
  const cache = path.join(PROJECT_ROOT, "node_modules", ".cache");
  mkdirSync(cache, { recursive: true });
  outdir = mkdtempSync(path.join(cache, "catalog-bundle-test-"));
  metafile = bundleHandler(outdir);
  servers = await startServers();
  stack = await probeStack(servers, { THUMBNAILS: "true" });
}, 120_000);

afterAll(async () => {
  await servers?.stop();
  if (outdir) rmSync(outdir, { recursive: true, force: true });
});

/** Chunk files (under chunks/) whose text contains `marker`. */
function chunksContaining(marker: string): string[] {
  const dir = path.join(outdir, "chunks");
  return readdirSync(dir).filter(
    (name) => name.endsWith(".mjs") && readFileSync(path.join(dir, name), "utf8").includes(marker),
  );
}

/** The source files (relative to the project) in the entry and the chunks it imports statically. */
function initInputs(): string[] {
  const outputs = metafile.outputs;
  const entry = Object.keys(outputs).find((file) => file.endsWith(`/${HANDLER_FILE}`)) as string;
  const seen = new Set<string>();
  const pending = [entry];
  while (pending.length > 0) {
    const file = pending.pop() as string;
    if (seen.has(file) || !outputs[file]) continue;
    seen.add(file);
    for (const i of outputs[file].imports) if (i.kind === "import-statement") pending.push(i.path);
  }
  return [...seen].flatMap((file) => Object.keys(outputs[file]?.inputs ?? {}));
}

describe("what a cold start compiles", () => {
  // Compiling is most of init (bench/RESULTS.md): what the first invocation may not need stays out of it.
  it.each([
    ["the pipeline", "src/pipeline/process-object.ts"],
    ["the engine", "src/engine/engine.ts"],
    ["format detection", "src/engine/detect/detect.ts"],
    ["file-type", "node_modules/file-type/"],
    ["the MIME tables", "node_modules/mime/"],
    ["thumbnails", "src/transform/"],
  ])("%s loads with the first object, not at init", (_, input) => {
    const all = Object.values(metafile.outputs).flatMap((output) => Object.keys(output.inputs));
    expect(
      all.some((file) => file.startsWith(input)),
      `${input} is in the bundle`,
    ).toBe(true);
    expect(initInputs().filter((file) => file.startsWith(input))).toEqual([]);
  });

  it("init still builds the clients it needs: the AWS SDK, Powertools, the store", () => {
    const inputs = initInputs();
    for (const input of [
      "node_modules/@aws-sdk/client-s3/",
      "node_modules/@aws-sdk/client-dynamodb/",
      "node_modules/@aws-lambda-powertools/logger/",
      "src/store/catalog-store.ts",
    ]) {
      expect(
        inputs.some((file) => file.startsWith(input)),
        input,
      ).toBe(true);
    }
  });
});

describe("the split bundle in a fresh process", () => {
  it("the extractors' libraries sit in chunks, not in the entry file", () => {
    const entry = readFileSync(path.join(outdir, HANDLER_FILE), "utf8");
    // exifr's and the PDF extractor's own error texts: present in the bundle, absent from the entry.
    for (const marker of ["exifr", "startxref"]) {
      expect(chunksContaining(marker).length, marker).toBeGreaterThan(0);
      expect(entry.includes(marker), marker).toBe(false);
    }
  });

  it("catalogs a JPEG (with its thumbnail), a PDF, xz and zstd tarballs and a 7z, loading their chunks on demand", async () => {
    const image = await stack.upload("bundle/photo.jpg", "filetype-fixture.jpg");
    const pdf = await stack.upload("bundle/paper.pdf", "filetype-fixture.pdf");
    // The xz and zstd decoders (a WebAssembly module, a CommonJS one) are imported from the bundle's chunks.
    const xz = await stack.upload("bundle/fixture.tar.xz", "filetype-fixture.tar.xz");
    const zst = await stack.upload("bundle/fixture.tar.zst", "filetype-fixture.tar.zst");
    // A 7z's header is unpacked from LZMA by the archive chunk.
    const sevenZip = await stack.upload("bundle/fixture.7z", "filetype-fixture.7z");
    const events = [TEST_EVENT, image, pdf, xz, zst, sevenZip];
    const timings = await probeBundle(path.join(outdir, HANDLER_FILE), events, stack.env);
    expect(timings.callMs).toHaveLength(6);

    const photo = (await stack.store.getObject(stack.bucket, "bundle/photo.jpg")).record;
    expect(photo?.status).toBe("ok");
    expect(photo?.category).toBe("image");
    expect(photo?.format?.mime).toBe("image/jpeg");
    expect(photo?.thumbnailKey).toMatch(/^_derived\//);
    const paper = (await stack.store.getObject(stack.bucket, "bundle/paper.pdf")).record;
    expect(paper?.status).toBe("ok");
    expect(paper?.category).toBe("pdf");
    expect(paper?.format?.mime).toBe("application/pdf");
    for (const [key, entries] of [
      ["bundle/fixture.tar.xz", 1],
      ["bundle/fixture.tar.zst", 2],
      ["bundle/fixture.7z", 1],
    ] as const) {
      const tarball = (await stack.store.getObject(stack.bucket, key)).record;
      expect(tarball?.status, key).toBe("ok");
      expect(tarball?.warnings ?? [], key).toEqual([]);
      expect(tarball?.archive?.entries, key).toBe(entries);
    }
  });
});
