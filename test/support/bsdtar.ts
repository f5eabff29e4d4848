/**
 * libarchive's listing of an archive, the oracle the engine's archive
 * listings are checked against (Debian's libarchive-tools, installed by CI).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * The names `bsdtar -tf` lists for `bytes`, written to a temporary file named
 * `name` (bsdtar reads the format from the content, the name only labels it).
 *
 * @example
 * bsdtarList(rar5([{ name: "a.txt", content: Buffer.from("hi") }]), "a.rar") // ["a.txt"]
 */
export function bsdtarList(bytes: Uint8Array, name: string): string[] {
  const folder = mkdtempSync(join(tmpdir(), "bsdtar-list-"));
  try {
    const path = join(folder, name);
    writeFileSync(path, bytes);
    return execFileSync("bsdtar", ["-tf", path], { encoding: "utf8" }).split("\n").filter(Boolean);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}
