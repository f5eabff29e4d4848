/**
 * A Debian package through the catalog: cataloged from the embedded S3 into
 * the embedded DynamoDB, then shown by `catalog show`, its control fields as
 * the package states them and its attacker-controlled text made inert.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { catalogOneObject, runCatalog } from "../support/cli.js";
import type { TestServers } from "../support/servers.js";
import { describeWith } from "../support/tools.js";

const BUCKET = "packages";
const KEY = "pool/main/h/hello/hello_2.10-3_amd64.deb";
/** A maintainer name that would set the terminal's title, were it printed raw. */
const HOSTILE_MAINTAINER = "\u001b]0;owned\u0007Mallory <m@example.org>";

let servers: TestServers;
let local: string[];
let work: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "show-package-"));
  const root = join(work, "hello");
  mkdirSync(join(root, "DEBIAN"), { recursive: true });
  mkdirSync(join(root, "usr/bin"), { recursive: true });
  writeFileSync(
    join(root, "DEBIAN/control"),
    [
      "Package: hello",
      "Version: 2.10-3",
      "Architecture: amd64",
      `Maintainer: ${HOSTILE_MAINTAINER}`,
      "Installed-Size: 280",
      "Section: devel",
      "Homepage: https://www.gnu.org/software/hello/",
      "Description: example package based on GNU hello",
      " The GNU hello program produces a familiar, friendly greeting.",
      "",
    ].join("\n"),
  );
  writeFileSync(join(root, "usr/bin/hello"), "#!/bin/sh\necho hello\n");
  execFileSync("dpkg-deb", ["--root-owner-group", "-Zxz", "--build", root, join(work, "hello.deb")], {
    stdio: "pipe",
  });
  ({ servers, local } = await catalogOneObject(BUCKET, KEY, readFileSync(join(work, "hello.deb"))));
});

afterAll(async () => {
  await servers?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describeWith("dpkg-deb")("catalog show, for a Debian package", () => {
  it("prints the package's name, version and architecture, one field a line, the names made inert", async () => {
    // Act
    const shown = await runCatalog(["show", `s3://${BUCKET}/${KEY}`, ...local]);

    // Assess
    expect(shown.code, shown.stderr).toBe(0);
    const lines = shown.stdout.split("\n");
    const field = (name: string) =>
      lines.find((line) => line.startsWith(`    ${name} `))?.replace(/^ +\S+ +/, "");
    expect(lines).toContain("  package");
    expect(field("name")).toBe("hello");
    expect(field("version")).toBe("2.10-3");
    expect(field("architecture")).toBe("amd64");
    expect(field("summary")).toBe("example package based on GNU hello");
    expect(field("maintainer")).toBe("\\u001b]0;owned\\u0007Mallory <m@example.org>");
    expect(field("installedSize")).toBe(String(280 * 1024));
    expect(shown.stdout).not.toContain("\u001b");
    expect(lines).toContain("  archive");
    expect(field("kind")).toBe("deb");
  });

  it("keeps the package section in the record, as show --json prints it, and lists it as an archive", async () => {
    const shown = await runCatalog(["show", `s3://${BUCKET}/${KEY}`, "--json", ...local]);
    expect(shown.code, shown.stderr).toBe(0);
    const { record } = JSON.parse(shown.stdout);
    expect(record.category).toBe("archive");
    expect(record.package).toMatchObject({ format: "deb", name: "hello", maintainer: HOSTILE_MAINTAINER });
    expect(record.archive.sample).toEqual(["./", "./usr/", "./usr/bin/", "./usr/bin/hello"]);

    const found = await runCatalog(["find", "--category", "archive", "--json", ...local]);
    expect(found.code, found.stderr).toBe(0);
    expect(JSON.stringify(JSON.parse(found.stdout))).toContain(KEY);
  });
});
