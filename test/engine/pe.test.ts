/**
 * Windows executables linked by the MinGW-w64 binutils (Debian's
 * binutils-mingw-w64-x86-64 and -i686, which CI installs) with a version
 * resource compiled by their windres, signed by osslsigncode: the engine's
 * executable section against what the same binutils read back (windres
 * decompiles the version resource, objdump prints the subsystem).
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { extract } from "../../src/engine/engine.js";
import { extractNamed, RangedSource } from "../support/engine.js";
import { describeWith } from "../support/tools.js";

let work: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "pe-test-"));
  // windres runs the C preprocessor on a resource script unless told another program: these scripts need none.
  writeFileSync(join(work, "no-preprocessor"), '#!/bin/sh\nfor last; do :; done\ncat "$last"\n');
  chmodSync(join(work, "no-preprocessor"), 0o755);
  writeFileSync(join(work, "main.s"), ".globl start\n.text\nstart:\n  xor %eax, %eax\n  ret\n");
  writeFileSync(join(work, "blob.bin"), randomBytes(3 * 1024 * 1024));
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

/** ASCII, which windres decompiles back (it miscounts a version resource's length when a value is not). */
const STRINGS = {
  CompanyName: "Exemplo Ltda.",
  FileDescription: "Ferramenta de catalogo",
  FileVersion: "2.4.1.77",
  InternalName: "tool",
  LegalCopyright: "(C) 2026 Exemplo",
  OriginalFilename: "tool.exe",
  ProductName: "Catalogo",
  ProductVersion: "2.4",
};

interface Build {
  /** Which binutils: 64-bit x86-64 or 32-bit i386. */
  target: "x86_64" | "i686";
  subsystem?: "console" | "windows";
  dll?: boolean;
  /** The StringFileInfo values, as resource script literals; without FileVersion and ProductVersion the fixed ones stand. */
  strings?: Record<string, string>;
  /** A 3 MiB RCDATA resource listed before the version resource, so that it lies far from the headers. */
  blob?: boolean;
  /** No version resource at all. */
  bare?: boolean;
}

/** A PE file built as `build` says, as bytes. */
function buildPe(
  name: string,
  { target, subsystem = "console", dll = false, strings = STRINGS, blob = false, bare = false }: Build,
): Buffer {
  const tool = (program: string) => `${target}-w64-mingw32-${program}`;
  // A literal is quoted here unless it is already one (L"..." for characters beyond ASCII).
  const values = Object.entries(strings).map(
    ([key, value]) => `      VALUE "${key}", ${value.startsWith('L"') ? value : `"${value}"`}`,
  );
  const script = [
    ...(blob ? ['2 RCDATA "blob.bin"'] : []),
    "1 VERSIONINFO",
    "FILEVERSION 2,4,1,77",
    "PRODUCTVERSION 2,4,0,0",
    "FILEOS 0x40004",
    `FILETYPE ${dll ? "0x2" : "0x1"}`,
    "BEGIN",
    '  BLOCK "StringFileInfo"',
    "  BEGIN",
    '    BLOCK "041604b0"',
    "    BEGIN",
    ...values,
    "    END",
    "  END",
    '  BLOCK "VarFileInfo"',
    "  BEGIN",
    '    VALUE "Translation", 0x416, 1200',
    "  END",
    "END",
  ].join("\n");
  writeFileSync(join(work, `${name}.rc`), `${script}\n`);
  const run = (program: string, args: string[]) =>
    execFileSync(tool(program), args, { cwd: work, stdio: "pipe" });
  run("as", ["-o", `${name}.o`, "main.s"]);
  const objects = [`${name}.o`];
  if (!bare) {
    // -c 65001: the script is UTF-8.
    run("windres", [
      "--preprocessor=./no-preprocessor",
      "-c",
      "65001",
      "-i",
      `${name}.rc`,
      "-o",
      `${name}.res.o`,
    ]);
    objects.push(`${name}.res.o`);
  }
  run("ld", ["--subsystem", subsystem, ...(dll ? ["--dll"] : []), "-e", "start", "-o", name, ...objects]);
  return readFileSync(join(work, name));
}

/** The version resource's values as windres decompiles them from the built file. */
function windresValues(name: string, target: Build["target"]): Map<string, string> {
  const rc = execFileSync(`${target}-w64-mingw32-windres`, ["-i", name, "-O", "rc"], {
    cwd: work,
    encoding: "utf8",
  });
  return new Map(
    [...rc.matchAll(/VALUE "(\w+)", "((?:[^"\\]|\\.)*)"/g)].map(([, key, value]) => [
      key as string,
      value as string,
    ]),
  );
}

/** The subsystem objdump names: "Windows CUI", "Windows GUI". */
function objdumpSubsystem(name: string, target: Build["target"]): string {
  const headers = execFileSync(`${target}-w64-mingw32-objdump`, ["-p", name], {
    cwd: work,
    encoding: "utf8",
  });
  return /^Subsystem\s+\w+\s+\((.+)\)$/m.exec(headers)?.[1] ?? "";
}

const TOOLS = ["x86_64-w64-mingw32-windres", "i686-w64-mingw32-windres"] as const;

describeWith(...TOOLS)("Windows executables", () => {
  it.each([
    ["x86_64", "console", 64, "x86-64"],
    ["i686", "windows", 32, "i386"],
  ] as const)(
    "name their product, company and versions from the version resource, as windres reads it (%s, %s)",
    async (target, subsystem, bits, architecture) => {
      // Prepare
      const name = `tool-${target}.exe`;
      const bytes = buildPe(name, { target, subsystem });
      const values = windresValues(name, target);

      // Act
      const result = await extractNamed(bytes, "tool.exe");

      // Assess
      expect(result.status).toBe("ok");
      expect(result.warnings).toEqual([]);
      expect(objdumpSubsystem(name, target)).toBe(subsystem === "console" ? "Windows CUI" : "Windows GUI");
      expect(values.get("ProductName")).toBe("Catalogo");
      expect(result.executable).toEqual({
        format: "pe",
        architecture,
        bits,
        endianness: "little",
        type: "executable",
        subsystem: subsystem === "console" ? "windows-console" : "windows-gui",
        signed: false,
        product: values.get("ProductName"),
        productVersion: values.get("ProductVersion"),
        company: values.get("CompanyName"),
        description: values.get("FileDescription"),
        fileVersion: values.get("FileVersion"),
        originalName: values.get("OriginalFilename"),
        copyright: values.get("LegalCopyright"),
      });
    },
  );

  it("gives the fixed four-part versions when the strings state none, and a DLL as a dll", async () => {
    const { FileVersion: _file, ProductVersion: _product, ...strings } = STRINGS;
    const bytes = buildPe("fixed.dll", { target: "x86_64", dll: true, strings });
    const result = await extractNamed(bytes, "fixed.dll");
    expect(result.executable).toMatchObject({
      type: "dll",
      fileVersion: "2.4.1.77",
      productVersion: "2.4.0.0",
    });
  });

  it("reads values in any script, as UTF-16 holds them", async () => {
    const bytes = buildPe("scripts.exe", {
      target: "x86_64",
      strings: { ProductName: 'L"Cat\\x00e1logo \\x76ee\\x9332"', CompanyName: 'L"\\x00c9xemplo"' },
    });
    const result = await extractNamed(bytes, "scripts.exe");
    expect(result.executable).toMatchObject({ product: "Catálogo 目録", company: "Éxemplo" });
  });

  it("says nothing of a version when the file has no version resource", async () => {
    const bytes = buildPe("bare.exe", { target: "x86_64", bare: true });
    const result = await extractNamed(bytes, "bare.exe");
    expect(result.status).toBe("ok");
    expect(result.executable).toEqual({
      format: "pe",
      architecture: "x86-64",
      bits: 64,
      endianness: "little",
      type: "executable",
      subsystem: "windows-console",
      signed: false,
    });
  });

  it("reads a version resource far from the headers in a few ranged reads", async () => {
    const bytes = buildPe("blob.exe", { target: "x86_64", blob: true });
    const whole = await extractNamed(bytes, "blob.exe");
    const ranged = await extract(new RangedSource(bytes, "blob.exe"), { name: "blob.exe" });
    expect(bytes.byteLength).toBeGreaterThan(3 * 1024 * 1024);
    expect(ranged.executable).toEqual(whole.executable);
    expect(ranged.executable?.product).toBe("Catalogo");
    expect(ranged.bytesRead).toBeLessThan(256 * 1024);
  });

  it("says a .NET assembly is one, from its CLR runtime header's directory entry", async () => {
    // Prepare: the built file with data directory 14 (the CLR runtime header) given a size.
    const bytes = Buffer.from(buildPe("managed.exe", { target: "x86_64" }));
    const optional = bytes.readUInt32LE(0x3c) + 24;
    bytes.writeUInt32LE(0x2000, optional + 112 + 14 * 8);
    bytes.writeUInt32LE(72, optional + 112 + 14 * 8 + 4);

    // Act, Assess
    expect((await extractNamed(bytes, "managed.exe")).executable).toMatchObject({ dotnet: true });
  });

  it("never throws and never hangs on an executable cut or damaged anywhere", async () => {
    const bytes = buildPe("damaged.exe", { target: "i686" });
    for (let cut = 64; cut < bytes.byteLength; cut += 61) {
      const result = await extractNamed(bytes.subarray(0, cut), "cut.exe", { budget: { maxMillis: 2000 } });
      expect(["ok", "partial", "error"]).toContain(result.status);
    }
    for (let i = 0x3c; i < bytes.byteLength; i += 7) {
      const damaged = Buffer.from(bytes);
      damaged[i] = (damaged[i] as number) ^ 0xa5;
      const result = await extractNamed(damaged, "damaged.exe", { budget: { maxMillis: 2000 } });
      expect(["ok", "partial", "error"]).toContain(result.status);
    }
  });
});

describeWith(
  ...TOOLS,
  "osslsigncode",
  "openssl",
)("Authenticode signatures", () => {
  it("says a file signed by osslsigncode is signed, and the same file unsigned is not", async () => {
    // Prepare: a self-signed certificate, and the file signed with it.
    const bytes = buildPe("unsigned.exe", { target: "x86_64" });
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "key.pem",
        "-out",
        "cert.pem",
        "-days",
        "2",
      ].concat(["-subj", "/CN=Catalog Test Signer"]),
      { cwd: work, stdio: "pipe" },
    );
    execFileSync(
      "osslsigncode",
      [
        "sign",
        "-certs",
        "cert.pem",
        "-key",
        "key.pem",
        "-n",
        "Catálogo",
        "-in",
        "unsigned.exe",
        "-out",
        "signed.exe",
      ],
      { cwd: work, stdio: "pipe" },
    );

    // Act
    const signed = await extractNamed(readFileSync(join(work, "signed.exe")), "signed.exe");
    const unsigned = await extractNamed(bytes, "unsigned.exe");

    // Assess
    expect(signed.executable).toMatchObject({ signed: true, product: "Catalogo" });
    expect(unsigned.executable?.signed).toBe(false);
  });
});
