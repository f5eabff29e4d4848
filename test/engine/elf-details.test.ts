/**
 * ELF executables and libraries of the machine the tests run on (Debian's
 * own `ls`, its static-pie `ldconfig`, the C library, the Node.js running
 * the tests), described as binutils' readelf reads them: the interpreter,
 * the GNU build id, whether a symbol table is left, and how it is linked.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { expect, it } from "vitest";
import { FileSource } from "../../src/engine/byte-source/byte-source.js";
import { extract } from "../../src/engine/engine.js";
import { describeWith } from "../support/tools.js";

/** What readelf says of `path`: its interpreter, build id, and whether a section is a symbol table. */
function readelf(path: string): {
  interpreter?: string;
  buildId?: string;
  symbolTable: boolean;
  dynamic: boolean;
} {
  const run = (...args: string[]) =>
    execFileSync("readelf", ["-W", ...args, path], { encoding: "utf8", maxBuffer: 1 << 28 });
  const segments = run("-l");
  const interpreter = /\[Requesting program interpreter: (.+)\]/.exec(segments)?.[1];
  const buildId = /Build ID: ([0-9a-f]+)/.exec(run("-n"))?.[1];
  return {
    ...(interpreter && { interpreter }),
    ...(buildId && { buildId }),
    symbolTable: /\sSYMTAB\s/.test(run("-S")),
    dynamic: /^\s+DYNAMIC\s/m.test(segments),
  };
}

/** The C library the dynamic linker's cache names. */
function libc(): string | undefined {
  const cache = execFileSync("/sbin/ldconfig", ["-p"], { encoding: "utf8" });
  return (
    /\blibc\.so\.6 \(libc6,x86-64\) => (\S+)/.exec(cache)?.[1] ?? /\blibc\.so\.6 .*=> (\S+)/.exec(cache)?.[1]
  );
}

async function described(path: string) {
  const source = await FileSource.open(path);
  try {
    return await extract(source, { name: path });
  } finally {
    await source.close();
  }
}

describeWith("readelf")("ELF details", () => {
  it.each([
    ["/bin/ls", "a dynamically linked PIE"],
    ["/sbin/ldconfig", "a static-pie"],
    [process.execPath, "the Node.js running the tests"],
    ["libc", "the C library"],
  ])("are those readelf reads: %s, %s", async (named) => {
    // Prepare
    const path = named === "libc" ? libc() : named;
    expect(path && existsSync(path), `${named} not found`).toBe(true);
    const expected = readelf(path as string);

    // Act
    const result = await described(path as string);

    // Assess
    expect(result.status).toBe("ok");
    const executable = result.executable;
    expect(executable?.format).toBe("elf");
    expect(executable?.interpreter).toBe(expected.interpreter);
    expect(executable?.buildId).toBe(expected.buildId);
    expect(executable?.stripped).toBe(!expected.symbolTable);
    expect(executable?.linking).toBe(
      expected.interpreter
        ? "dynamic"
        : executable?.type === "pie-executable"
          ? "static-pie"
          : expected.dynamic
            ? "dynamic"
            : "static",
    );
    // A few reads however large the file: the header, the program headers and notes, the section headers.
    expect(result.readRequests).toBeLessThanOrEqual(6);
  });

  it("says Debian's ls is a dynamically linked, stripped PIE, and its ldconfig a static-pie", async () => {
    const ls = (await described("/bin/ls")).executable;
    expect(ls).toMatchObject({ type: "pie-executable", linking: "dynamic", stripped: true });
    expect(ls?.interpreter).toMatch(/^\/lib.*\/ld-linux.*\.so\.\d$/);
    expect(ls?.buildId).toMatch(/^[0-9a-f]{40}$/);
    expect((await described("/sbin/ldconfig")).executable).toMatchObject({
      type: "pie-executable",
      linking: "static-pie",
    });
  });
});
