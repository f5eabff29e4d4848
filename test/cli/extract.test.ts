import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { detectFile } from "../../src/engine/detect/detect-file.js";
import type { FormatInfo } from "../../src/engine/types.js";
import { type CliRun, runCatalog } from "../support/cli.js";
import { CORPUS_DIR, corpusFile, expectedEntries, REPO_ROOT } from "../support/corpus.js";
import { engineDetection } from "../support/engine.js";

const BUNDLE = join(REPO_ROOT, "dist/engine/detect/detect-file.bundle.mjs");
const catalog = (...args: string[]) => runCatalog(args, { timeoutMs: 60_000 });
/** The `source` of each JSON line `extract --json` printed, in order. */
const sourcesOf = (stdout: string) =>
  stdout
    .trim()
    .split("\n")
    .map((line) => (JSON.parse(line) as { source: string }).source);

const names = expectedEntries()
  .map((entry) => entry.name)
  .sort((a, b) => a.localeCompare(b));

beforeAll(() => {
  expect(existsSync(BUNDLE), "run `npm run build` first").toBe(true);
  // A bundle older than the compiled CLI is skipped (stale code): these tests must exercise it.
  expect(statSync(BUNDLE).mtimeMs).toBeGreaterThanOrEqual(
    statSync(join(REPO_ROOT, "dist/cli/commands/extract.js")).mtimeMs,
  );
});

describe("catalog extract --detect-only", () => {
  let lines: { source: string; format: FormatInfo }[];
  let result: CliRun;

  beforeAll(async () => {
    result = await catalog("extract", "--json", "--detect-only", CORPUS_DIR);
    lines = result.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { source: string; format: FormatInfo });
  }, 60_000);

  it("prints one line per corpus file, in name order, and exits 0", () => {
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(lines.map((line) => line.source)).toEqual(names.map((name) => corpusFile(name)));
  });

  it.each(names)("%s: the format the engine detects", async (name) => {
    const line = lines.find((entry) => entry.source === corpusFile(name));
    expect(line).toBeDefined();
    expect(line?.format).toEqual(await engineDetection(corpusFile(name)));
  });
});

describe("catalog extract --detect-only --hash", () => {
  it("prints the SHA-256 it read the whole file for, beside the format", async () => {
    // Prepare: a file whose SHA-256 is known.
    const scratch = mkdtempSync(join(tmpdir(), "catalog-extract-hash-"));
    const path = join(scratch, "note.txt");
    writeFileSync(path, "hello\n");
    // Act
    const result = await catalog("extract", "--json", "--detect-only", "--hash", path);
    rmSync(scratch, { recursive: true, force: true });
    // Assess
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      source: path,
      format: expect.objectContaining({ mime: "text/plain" }),
      sha256: "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03",
    });
  });
});

describe("the built detection bundle", () => {
  it("answers what the source modules answer on every corpus file", async () => {
    const bundled = (await import(BUNDLE)) as { detectFile: typeof detectFile };
    const differences: string[] = [];
    for (const name of names) {
      const path = corpusFile(name);
      const [ours, built] = await Promise.all([detectFile(path), bundled.detectFile(path)]);
      if (JSON.stringify(ours) !== JSON.stringify(built)) differences.push(name);
    }
    expect(differences).toEqual([]);
  });
});

describe("catalog extract: paths that cannot be read", () => {
  const scratch = mkdtempSync(join(tmpdir(), "catalog-extract-"));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it.each([["--detect-only"], ["--detect-only", "--hash"], []])(
    "%j: one stderr line per bad path, the rest still printed, exit 1",
    async (...flags) => {
      const good = join(scratch, "note.txt");
      writeFileSync(good, "hello\n");
      const missing = join(scratch, "missing.jpg");
      const result = await catalog("extract", "--json", ...flags, missing, "/dev/null", good);
      expect(result.code).toBe(1);
      expect(result.stderr.trim().split("\n")).toEqual([
        `catalog extract: ${missing}: no such file or directory`,
        "catalog extract: /dev/null: not a file or directory",
      ]);
      const printed = result.stdout
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line) as { source: string; format: FormatInfo });
      expect(printed).toHaveLength(1);
      expect(printed[0]).toMatchObject({ source: good, format: { mime: "text/plain", category: "text" } });
    },
    30_000,
  );
});

describe("catalog extract: what a folder holds besides plain files", () => {
  const scratch = mkdtempSync(join(tmpdir(), "catalog-extract-links-"));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it("follows links, names what it cannot read, never waits on a FIFO, exits 1", async () => {
    const folder = join(scratch, "mixed");
    mkdirSync(join(folder, "sub"), { recursive: true });
    mkdirSync(join(scratch, "elsewhere"));
    writeFileSync(join(folder, "plain.txt"), "plain\n");
    writeFileSync(join(scratch, "elsewhere", "target.txt"), "target\n");
    symlinkSync(join(scratch, "elsewhere", "target.txt"), join(folder, "link-to-file.txt"));
    symlinkSync(join(scratch, "elsewhere"), join(folder, "link-to-folder"));
    symlinkSync(join(scratch, "nowhere"), join(folder, "dangling"));
    symlinkSync("loop-b", join(folder, "loop-a"));
    symlinkSync("loop-a", join(folder, "loop-b"));
    symlinkSync("..", join(folder, "sub", "up"));
    writeFileSync(Buffer.from(join(folder, "latin1-caf\xe9.txt"), "latin1"), "latin-1\n");
    execFileSync("mkfifo", [join(folder, "fifo")]);

    const result = await catalog("extract", "--json", "--detect-only", folder, join(folder, "fifo"));

    expect(result.code).toBe(1);
    expect(sourcesOf(result.stdout)).toEqual([
      join(folder, "link-to-file.txt"),
      join(folder, "link-to-folder", "target.txt"),
      join(folder, "plain.txt"),
    ]);
    expect(result.stderr.trim().split("\n")).toEqual([
      `catalog extract: ${folder}/dangling: broken symbolic link`,
      `catalog extract: ${folder}/fifo: not a file or directory`,
      `catalog extract: ${folder}/latin1-caf\ufffd.txt: its name is not UTF-8`,
      `catalog extract: ${folder}/loop-a: symbolic link loop`,
      `catalog extract: ${folder}/loop-b: symbolic link loop`,
      `catalog extract: ${folder}/sub/up: symbolic link to a folder it is in`,
      `catalog extract: ${folder}/fifo: not a file or directory`,
    ]);
  }, 30_000);
});

describe("catalog extract: links to the folder or above it", () => {
  const scratch = mkdtempSync(join(tmpdir(), "catalog-extract-up-"));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it("skips a link to the folder or to a folder above it, and follows one to a folder beside it", async () => {
    const outer = join(scratch, "outer");
    const tree = join(outer, "tree");
    mkdirSync(join(tree, "deep"), { recursive: true });
    mkdirSync(join(outer, "beside"));
    writeFileSync(join(scratch, "above.txt"), "above\n");
    writeFileSync(join(outer, "side.txt"), "side\n");
    writeFileSync(join(outer, "beside", "b.txt"), "b\n");
    writeFileSync(join(tree, "a.txt"), "a\n");
    symlinkSync(".", join(tree, "self"));
    symlinkSync("..", join(tree, "up"));
    symlinkSync("../..", join(tree, "top"));
    symlinkSync(outer, join(tree, "absolute-up"));
    symlinkSync("../beside", join(tree, "beside"));
    symlinkSync("..", join(tree, "deep", "back"));

    const result = await catalog("extract", "--json", "--detect-only", tree);

    expect(result.code).toBe(1);
    expect(sourcesOf(result.stdout)).toEqual([join(tree, "a.txt"), join(tree, "beside", "b.txt")]);
    expect(result.stderr.trim().split("\n")).toEqual([
      `catalog extract: ${tree}/absolute-up: symbolic link to a folder it is in`,
      `catalog extract: ${tree}/deep/back: symbolic link to a folder it is in`,
      `catalog extract: ${tree}/self: symbolic link to a folder it is in`,
      `catalog extract: ${tree}/top: symbolic link to a folder it is in`,
      `catalog extract: ${tree}/up: symbolic link to a folder it is in`,
    ]);
  }, 30_000);
});

describe("catalog extract: names and metadata a terminal would act on", () => {
  const scratch = mkdtempSync(join(tmpdir(), "catalog-extract-"));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it.each([[[]], [["--detect-only"]], [["--json"]], [["--json", "--detect-only"]]])(
    "%j: prints no raw control or bidirectional character, and JSON keeps the name",
    async (flags) => {
      // Prepare: a file whose name clears the screen and reverses the text after it.
      const name = "a\u001b[2J\u202egpj.exe";
      const path = join(scratch, name);
      writeFileSync(path, "hello\n");
      // Act
      const result = await catalog("extract", ...flags, path);
      // Assess
      expect(result.code).toBe(0);
      expect(result.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
      if (flags.includes("--json")) expect(JSON.parse(result.stdout).source).toBe(path);
      else expect(result.stdout).toContain("a\\u001b[2J\\u202egpj.exe");
    },
    30_000,
  );
});
