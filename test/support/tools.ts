/**
 * The Debian programs some tests run: to make their inputs (7-Zip, xorriso,
 * rpmbuild, dpkg-deb, wixl, the MinGW-w64 binutils, osslsigncode, xz, zstd, bzip2, lz4,
 * compress),
 * as the oracle a listing must match (bsdtar, rpm, msiinfo, windres, readelf), or to
 * drive the product as its users do (the AWS CLI, Chromium).
 *
 * CI installs every one of them (.ci/run) and sets CI, and there a missing
 * one stops the run before any test starts (test/support/tools-check.ts). On
 * any other machine the tests that need a missing program are skipped and the
 * run begins by naming the programs and the `apt-get` line that installs
 * them, so `npm test` on a fresh clone passes with Node.js alone.
 */
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import { describe, it } from "vitest";

/** Each program and the Debian package that installs it. */
export const TOOL_PACKAGES = {
  "7zz": "7zip",
  bsdtar: "libarchive-tools",
  rpmbuild: "rpm",
  rpm: "rpm",
  xorriso: "xorriso",
  xz: "xz-utils",
  zstd: "zstd",
  bzip2: "bzip2",
  lz4: "lz4",
  lzip: "lzip",
  compress: "ncompress",
  "dpkg-deb": "dpkg",
  wixl: "wixl",
  msiinfo: "msitools",
  "x86_64-w64-mingw32-windres": "binutils-mingw-w64-x86-64",
  "i686-w64-mingw32-windres": "binutils-mingw-w64-i686",
  osslsigncode: "osslsigncode",
  readelf: "binutils",
  ar: "binutils",
  openssl: "openssl",
  aws: "awscli",
  chromium: "chromium",
  pngtopam: "netpbm",
  jpegtopnm: "netpbm",
  pamfile: "netpbm",
} as const;

export type Tool = keyof typeof TOOL_PACKAGES;

/**
 * Programs the tests run by a path of their own rather than by name:
 * Debian's AWS CLI (another `aws` may come first on PATH) and the Chromium
 * that playwright-core drives.
 */
export const TOOL_PATHS = {
  aws: "/usr/bin/aws",
  chromium: "/usr/bin/chromium",
} as const satisfies Partial<Record<Tool, string>>;

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether `tool` can be run: at its own path if it has one, else somewhere on PATH.
 *
 * @example
 * installed("7zz") // true once 7zip is installed
 */
export function installed(tool: Tool): boolean {
  const own = (TOOL_PATHS as Partial<Record<Tool, string>>)[tool];
  if (own) return executable(own);
  return (process.env.PATH ?? "")
    .split(delimiter)
    .some((folder) => folder !== "" && executable(join(folder, tool)));
}

/** The programs of `tools` that are not installed. */
export function missingTools(tools: readonly Tool[]): Tool[] {
  return tools.filter((tool) => !installed(tool));
}

/**
 * The `apt-get` line that installs `tools`.
 *
 * @example
 * installLine(["7zz", "bsdtar"]) // "apt-get install -y 7zip libarchive-tools"
 */
export function installLine(tools: readonly Tool[]): string {
  const packages = [...new Set(tools.map((tool) => TOOL_PACKAGES[tool]))];
  return `apt-get install -y ${packages.join(" ")}`;
}

/** Whether this run must have every program: CI says so by setting CI, as CI services do. */
export function toolsRequired(): boolean {
  const ci = process.env.CI ?? "";
  return ci !== "" && ci !== "0" && ci.toLowerCase() !== "false";
}

/**
 * `describe`, skipped when a program of `tools` is missing and the run does
 * not require them (under CI the run has already stopped for it).
 *
 * @example
 * describeWith("7zz", "bsdtar")("7z listings", () => { ... });
 */
export function describeWith(...tools: Tool[]): ReturnType<typeof describe.skipIf> {
  return describe.skipIf(missingTools(tools).length > 0 && !toolsRequired());
}

/**
 * `it`, skipped as `describeWith` skips a suite.
 *
 * @example
 * itWith("aws")("answers the AWS CLI", async () => { ... });
 */
export function itWith(...tools: Tool[]): ReturnType<typeof it.skipIf> {
  return it.skipIf(missingTools(tools).length > 0 && !toolsRequired());
}
