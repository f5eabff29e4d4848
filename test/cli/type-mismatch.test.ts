/**
 * A file whose content contradicts its name and declared type (a GIF uploaded
 * as `looks-like.pdf`, so `application/pdf`) is flagged wherever the CLI
 * shows it: the per-file result of `upload --wait`, `show`, the rows of
 * `ls` and `find`, and the copies `find --duplicates` lists, their `--json`
 * included. The built CLI against
 * `catalog dev` on free ports, the record written by the real pipeline.
 * The same stack shows that `upload --wait --json` prints a record as
 * `show --json` does.
 */
import { copyFile, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { catalogCli, DevProcess, freePort, type StackPorts } from "../e2e/stack-process.js";
import { corpusFile } from "../support/corpus.js";

const REASON =
  "declared Content-Type application/pdf but content is image/gif; extension .pdf suggests application/pdf but content is image/gif";

let dataDir: string;
let folder: string;
let ports: StackPorts;
let dev: DevProcess | undefined;
let uploaded: Awaited<ReturnType<typeof catalogCli>>;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "catalog-mismatch-data-"));
  folder = await mkdtemp(join(tmpdir(), "catalog-flagged-files-"));
  await copyFile(corpusFile("filetype-fixture.gif"), join(folder, "looks-like.pdf"));
  await copyFile(corpusFile("exifpy-32-lens_data.jpeg"), join(folder, "photo.jpg"));
  // The same bytes under their own name and type: a duplicate of the flagged file that is not flagged.
  await copyFile(corpusFile("filetype-fixture.gif"), join(folder, "honest.gif"));
  ports = { s3: await freePort(), dynamodb: await freePort(), http: await freePort() };
  dev = await DevProcess.start(dataDir, ports);
  uploaded = await catalogCli(ports, "upload", folder, "--prefix", "mixed", "--wait", "--concurrency", "1");
}, 90_000);

afterAll(async () => {
  await dev?.stop();
  await rm(dataDir, { recursive: true, force: true });
  await rm(folder, { recursive: true, force: true });
});

/** The rows of a table the CLI printed, and where its last column (STATUS) starts in each. */
function statusColumn(table: string): { rows: string[]; starts: number[] } {
  const rows = table.trimEnd().split("\n");
  const header = rows[0] ?? "";
  const start = header.indexOf("STATUS");
  return { rows, starts: rows.map((row) => (row.slice(start - 2, start) === "  " ? start : -1)) };
}

describe("a type mismatch, as the CLI shows it", () => {
  it("upload --wait says it in the file's result, with the reason", () => {
    const folderName = folder.split("/").pop();
    expect(uploaded.code, uploaded.stderr).toBe(0);
    const lines = uploaded.stdout.trimEnd().split("\n");
    expect(lines).toContain(
      `s3://uploads/mixed/${folderName}/looks-like.pdf  image/gif  20.6 KiB  ok, type mismatch (${REASON})`,
    );
    expect(lines).toContain(`s3://uploads/mixed/${folderName}/photo.jpg  image/jpeg  35.9 KiB  ok`);
  });

  it("show gives it a line of its own, after the declared type", async () => {
    const key = `mixed/${folder.split("/").pop()}`;
    const [flagged, plain] = await Promise.all([
      catalogCli(ports, "show", `s3://uploads/${key}/looks-like.pdf`),
      catalogCli(ports, "show", `s3://uploads/${key}/photo.jpg`),
    ]);
    expect(flagged.code, flagged.stderr).toBe(0);
    const lines = flagged.stdout.split("\n");
    const declared = lines.indexOf("  declared   application/pdf");
    expect(declared).toBeGreaterThan(0);
    expect(lines[declared + 1]).toBe(`  mismatch   ${REASON}`);
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout).not.toMatch(/^ {2}mismatch /m);
  });

  it("ls marks the row, the columns still aligned, and --json carries it", async () => {
    const location = `s3://uploads/mixed/${folder.split("/").pop()}/`;
    const [table, json] = await Promise.all([
      catalogCli(ports, "ls", location),
      catalogCli(ports, "ls", location, "--json"),
    ]);
    expect(table.code, table.stderr).toBe(0);
    const { rows, starts } = statusColumn(table.stdout);
    expect(rows).toHaveLength(4);
    expect(new Set(starts)).toEqual(new Set([starts[0]]));
    expect(rows.find((row) => row.startsWith("looks-like.pdf "))?.slice(starts[0])).toBe("ok, type mismatch");
    expect(rows.find((row) => row.startsWith("photo.jpg "))?.slice(starts[0])).toBe("ok");

    expect(json.code, json.stderr).toBe(0);
    const objects = JSON.parse(json.stdout).objects as Record<string, unknown>[];
    expect(objects.find((object) => String(object.key).endsWith("looks-like.pdf"))).toMatchObject({
      status: "ok",
      mime: "image/gif",
      mismatch: true,
      mismatchReason: REASON,
    });
    expect(objects.find((object) => String(object.key).endsWith("photo.jpg"))).not.toHaveProperty("mismatch");
  });

  it("find marks the row, the columns still aligned, and --json carries it", async () => {
    const [table, json] = await Promise.all([
      catalogCli(ports, "find", "--category", "image", "--since", "1h"),
      catalogCli(ports, "find", "--category", "image", "--since", "1h", "--json"),
    ]);
    expect(table.code, table.stderr).toBe(0);
    const { rows, starts } = statusColumn(table.stdout);
    expect(rows).toHaveLength(4);
    expect(new Set(starts)).toEqual(new Set([starts[0]]));
    expect(rows.find((row) => row.includes("/looks-like.pdf "))?.slice(starts[0])).toBe("ok, type mismatch");
    expect(rows.find((row) => row.includes("/photo.jpg "))?.slice(starts[0])).toBe("ok");

    expect(json.code, json.stderr).toBe(0);
    const items = JSON.parse(json.stdout) as Record<string, unknown>[];
    expect(items.find((item) => String(item.key).endsWith("looks-like.pdf"))).toMatchObject({
      mismatch: true,
      mismatchReason: REASON,
    });
    expect(items.find((item) => String(item.key).endsWith("photo.jpg"))).not.toHaveProperty("mismatch");
  });

  it("find --duplicates marks the flagged copy, and --json carries it", async () => {
    const folderName = folder.split("/").pop();
    const [text, json] = await Promise.all([
      catalogCli(ports, "find", "--duplicates", "--since", "1h"),
      catalogCli(ports, "find", "--duplicates", "--since", "1h", "--json"),
    ]);
    expect(text.code, text.stderr).toBe(0);
    const lines = text.stdout.trimEnd().split("\n");
    expect(lines).toContain(`  s3://uploads/mixed/${folderName}/looks-like.pdf  type mismatch`);
    expect(lines).toContain(`  s3://uploads/mixed/${folderName}/honest.gif`);

    expect(json.code, json.stderr).toBe(0);
    const [group] = JSON.parse(json.stdout) as { objects: Record<string, unknown>[] }[];
    expect(group?.objects.find((object) => String(object.key).endsWith("looks-like.pdf"))).toMatchObject({
      mismatch: true,
      mismatchReason: REASON,
    });
    expect(group?.objects.find((object) => String(object.key).endsWith("honest.gif"))).not.toHaveProperty(
      "mismatch",
    );
  });
});

describe("upload --wait --json", () => {
  it("prints each record as show --json does, without the table's index keys, and its etag as the record spells it", async () => {
    // Prepare: content of its own, so the duplicates above stay as they are.
    const file = join(folder, "json-note.txt");
    await writeFile(file, `a note of its own, ${Date.now()}\n`);
    // Act
    const uploadedJson = await catalogCli(ports, "upload", file, "--prefix", "json", "--wait", "--json");
    // Assess
    expect(uploadedJson.code, uploadedJson.stderr).toBe(0);
    const { key, etag, record } = JSON.parse(uploadedJson.stdout) as {
      key: string;
      etag: string;
      record: Record<string, unknown>;
    };
    expect(key).toBe("json/json-note.txt");
    // Spelt as the record spells it.
    expect(etag).toMatch(/^[0-9a-f]{32}$/);
    expect(record.etag).toBe(etag);
    expect(record).toMatchObject({ key, status: "ok", category: "text" });
    const shown = await catalogCli(ports, "show", `s3://uploads/${key}`, "--json");
    expect(Object.keys(record).sort()).toEqual(Object.keys(JSON.parse(shown.stdout).record).sort());
    for (const name of ["folderPk", "folderSk", "categoryPk", "categorySk"])
      expect(record).not.toHaveProperty(name);
  });
});
