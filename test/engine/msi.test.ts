/**
 * Windows Installer packages built by wixl (Debian's wixl, which CI
 * installs) from WiX sources, described and listed by the engine as
 * msitools' msiinfo reads the same database: its Property table, its File
 * table and its summary information.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { extract } from "../../src/engine/engine.js";
import { extractNamed, RangedSource } from "../support/engine.js";
import { describeWith } from "../support/tools.js";
import { buildInstaller } from "../support/wix.js";

let work: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "msi-test-"));
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

interface InstallerOptions {
  /** wixl's -a: x86 or x64. */
  arch?: "x86" | "x64";
  /** Guides installed under docs/guides, besides bin/tool.exe and bin/extras.zip. */
  guides?: number;
  /** A property whose value comes first in the string pool, e.g. one of more than 64 KiB. */
  longProperty?: string;
}

/** An installer of the product "Ferramenta de Catálogo" 10.0.3, built by wixl into `name`. */
function buildMsi(name: string, { arch = "x64", guides = 25, longProperty }: InstallerOptions = {}): Buffer {
  const root = join(work, name.replace(/\.msi$/, ""));
  mkdirSync(join(root, "bin"), { recursive: true });
  mkdirSync(join(root, "guides"), { recursive: true });
  writeFileSync(join(root, "bin", "tool.exe"), randomBytes(5000));
  writeFileSync(join(root, "bin", "extras.zip"), "zip\n");
  const guideFiles = Array.from({ length: guides }, (_, i) => {
    const file = `guides/guia número ${i + 1}.txt`;
    writeFileSync(join(root, file), `guia ${i + 1}\n`.repeat(i + 1));
    return file;
  });
  return buildInstaller(work, name, root, {
    name: "Ferramenta de Catálogo",
    version: "10.0.3",
    manufacturer: "Exemplo Ltda.",
    description: "Instalador da ferramenta",
    arch,
    properties: {
      ...(longProperty !== undefined && { AAALONG: longProperty }),
      ARPURLINFOABOUT: "https://example.org/ferramenta",
    },
    folder: {
      name: "Ferramenta",
      folders: [
        { name: "bin", files: ["bin/tool.exe", "bin/extras.zip"] },
        { name: "docs", folders: [{ name: "guides", files: guideFiles }] },
      ],
    },
  });
}

/** What msiinfo reads from a package: a table's rows by column name, and its summary information's lines. */
function msiinfo(bytes: Buffer): {
  table(name: string): Record<string, string>[];
  summary: Map<string, string>;
} {
  const path = join(work, "queried.msi");
  writeFileSync(path, bytes);
  const run = (...args: string[]) =>
    execFileSync("msiinfo", [...args], { encoding: "utf8", maxBuffer: 1 << 26 });
  const summary = new Map(
    run("suminfo", path)
      .split("\n")
      .filter((line) => line.includes(": "))
      .map(
        (line) => [line.slice(0, line.indexOf(": ")), line.slice(line.indexOf(": ") + 2)] as [string, string],
      ),
  );
  return {
    summary,
    table(name) {
      // A header line of column names, one of column types, one naming the table and its keys, then the rows.
      const [header, , , ...rows] = run("export", path, name).split("\r\n").filter(Boolean);
      const columns = (header ?? "").split("\t");
      return rows.map((row) => Object.fromEntries(row.split("\t").map((value, i) => [columns[i], value])));
    },
  };
}

describeWith("wixl", "msiinfo")("Windows Installer packages", () => {
  it.each(["x64", "x86"] as const)(
    "are named and listed from their database, as msiinfo reads it (%s)",
    async (arch) => {
      // Prepare
      const bytes = buildMsi(`tool-${arch}.msi`, { arch });
      const read = msiinfo(bytes);
      const property = new Map(read.table("Property").map((row) => [row.Property, row.Value]));
      const files = read.table("File");
      const installed = files.reduce((sum, row) => sum + Number(row.FileSize), 0);

      // Act
      const result = await extractNamed(bytes, "tool.msi");

      // Assess
      expect(result.status).toBe("ok");
      expect(result.warnings).toEqual([]);
      expect(result.format).toMatchObject({
        mime: "application/x-msi",
        ext: "msi",
        category: "archive",
        mismatch: false,
      });
      expect(result.document).toBeUndefined();
      expect(read.summary.get("Template")?.split(";")[0]).toBe(arch === "x64" ? "x64" : "Intel");
      expect(result.package).toEqual({
        format: "msi",
        name: property.get("ProductName"),
        version: property.get("ProductVersion"),
        architecture: arch,
        summary: read.summary.get("Subject"),
        vendor: property.get("Manufacturer"),
        homepage: property.get("ARPURLINFOABOUT"),
        installedSize: installed,
        builtAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      });
      expect(result.package).toMatchObject({ name: "Ferramenta de Catálogo", version: "10.0.3" });
      expect(result.archive).toMatchObject({
        kind: "msi",
        entries: files.length,
        uncompressedSize: installed,
        encrypted: false,
        nestedArchives: 1,
      });
      const programFiles = arch === "x64" ? "ProgramFiles64Folder" : "ProgramFilesFolder";
      expect(result.archive?.sample).toEqual([
        `${programFiles}/Ferramenta/bin/tool.exe`,
        `${programFiles}/Ferramenta/bin/extras.zip`,
        ...files.slice(2, 20).map((row) => `${programFiles}/Ferramenta/docs/guides/${row.FileName}`),
      ]);
      expect(result.archive?.sample[2]).toBe(`${programFiles}/Ferramenta/docs/guides/guia número 1.txt`);
    },
  );

  it("reads the strings after one of more than 64 KiB, which takes two entries of the string pool", async () => {
    const bytes = buildMsi("long.msi", { longProperty: "x".repeat(70_000) });
    const result = await extractNamed(bytes, "long.msi");
    expect(result.status).toBe("ok");
    expect(result.package).toMatchObject({
      name: "Ferramenta de Catálogo",
      version: "10.0.3",
      vendor: "Exemplo Ltda.",
    });
    expect(result.archive?.entries).toBe(27);
  });

  it("is described the same when read by ranges, as a large object is", async () => {
    const bytes = buildMsi("ranged.msi", { guides: 400 });
    const whole = await extractNamed(bytes, "ranged.msi");
    const ranged = await extract(new RangedSource(bytes, "ranged.msi"), { name: "ranged.msi" });
    expect(ranged.status).toBe("ok");
    expect(ranged.package).toEqual(whole.package);
    expect(ranged.archive).toEqual(whole.archive);
    expect(ranged.archive?.entries).toBe(402);
  });

  it("agrees with the types uploaders give a .msi, and not with another", async () => {
    const bytes = buildMsi("types.msi", { guides: 1 });
    for (const declaredMime of [
      "application/x-msi",
      "application/x-ms-installer",
      "application/octet-stream",
    ]) {
      const result = await extractNamed(bytes, "setup.msi", { declaredMime });
      expect(result.format.mismatch, declaredMime).toBe(false);
    }
    const lying = await extractNamed(bytes, "report.pdf", { declaredMime: "application/pdf" });
    expect(lying.format).toMatchObject({ mime: "application/x-msi", mismatch: true });
  });

  it("never throws and never hangs on a package cut or damaged anywhere", async () => {
    const bytes = buildMsi("damaged.msi", { guides: 3 });
    const statuses = new Set<string>();
    for (let cut = 512; cut < bytes.byteLength; cut += 509) {
      const result = await extractNamed(bytes.subarray(0, cut), "cut.msi", { budget: { maxMillis: 2000 } });
      expect(["ok", "partial", "error"]).toContain(result.status);
      statuses.add(result.status);
    }
    for (let i = 0; i < bytes.byteLength; i += 37) {
      const damaged = Buffer.from(bytes);
      damaged[i] = (damaged[i] as number) ^ 0x5a;
      const result = await extractNamed(damaged, "damaged.msi", { budget: { maxMillis: 2000 } });
      expect(["ok", "partial", "error"]).toContain(result.status);
      if (result.status === "error") expect(result.reason).toBeTruthy();
    }
    expect(statuses.has("error")).toBe(true);
  });
});
