/**
 * Software packages: Debian packages built by dpkg-deb (with each of its
 * compressions) and RPM packages built by rpmbuild (Debian's rpm package,
 * which CI installs), described and listed by the engine as dpkg-deb and
 * rpm themselves describe and list them.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { extract } from "../../src/engine/engine.js";
import { extractNamed, RangedSource } from "../support/engine.js";
import { tarEntry, tarOf } from "../support/tar.js";
import { describeWith, itWith } from "../support/tools.js";
import { buildZip } from "../support/zip.js";

let work: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "package-test-"));
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

const CONTROL = [
  "Package: catalog-sample",
  "Source: catalog-sample-src",
  "Version: 1:2.4.0-3",
  "Architecture: arm64",
  "Maintainer: Zoë Maintainer <zoe@example.org>",
  "Installed-Size: 1234",
  "Section: utils",
  "Priority: optional",
  "Homepage: https://example.org/catalog-sample",
  "Description: sample package for the catalog's tests",
  " A longer description over two lines,",
  " which the record does not keep.",
  "",
].join("\n");

/** A package tree of `files` files (plus folders and a symbolic link), built with dpkg-deb. */
function buildDeb(compression: string, files = 30, control = CONTROL): Buffer {
  const root = mkdtempSync(join(work, "deb-"));
  mkdirSync(join(root, "DEBIAN"));
  writeFileSync(join(root, "DEBIAN/control"), control);
  writeFileSync(join(root, "DEBIAN/postinst"), "#!/bin/sh\nexit 0\n");
  chmodSync(join(root, "DEBIAN/postinst"), 0o755);
  mkdirSync(join(root, "usr/share/catalog-sample"), { recursive: true });
  mkdirSync(join(root, "usr/bin"), { recursive: true });
  for (let i = 0; i < files; i++)
    writeFileSync(
      join(root, `usr/share/catalog-sample/file-${String(i).padStart(3, "0")}.txt`),
      `file ${i}\n`.repeat(i),
    );
  writeFileSync(join(root, "usr/share/catalog-sample/bundle.tar.gz"), "not really");
  execFileSync("ln", ["-s", "../share/catalog-sample/file-001.txt", join(root, "usr/bin/catalog-sample")]);
  const out = join(work, `sample-${compression}-${files}.deb`);
  execFileSync("dpkg-deb", ["--root-owner-group", `-Z${compression}`, "--build", root, out], {
    stdio: "pipe",
  });
  return readFileSync(out);
}

/** `dpkg-deb -c`'s names, in its order (a symbolic link without its target). */
function dpkgList(bytes: Buffer): string[] {
  const path = join(work, "listed.deb");
  writeFileSync(path, bytes);
  return execFileSync("dpkg-deb", ["-c", path], { encoding: "utf8" })
    .split("\n")
    .filter(Boolean)
    .map((line) =>
      line
        .split(/\s+/)
        .slice(5)
        .join(" ")
        .replace(/ -> .*$/, ""),
    );
}

describeWith("dpkg-deb")("Debian packages", () => {
  it.each(["gzip", "xz", "zstd", "none"])(
    "describe themselves from their control file and list data.tar as dpkg-deb does (%s)",
    async (compression) => {
      // Prepare
      const bytes = buildDeb(compression);
      const listed = dpkgList(bytes);

      // Act
      const result = await extractNamed(bytes, "catalog-sample_2.4.0-3_arm64.deb");

      // Assess
      expect(result.status).toBe("ok");
      expect(result.warnings).toEqual([]);
      expect(result.format).toMatchObject({
        mime: "application/x-deb",
        category: "archive",
        mismatch: false,
      });
      expect(result.package).toEqual({
        format: "deb",
        name: "catalog-sample",
        version: "1:2.4.0-3",
        architecture: "arm64",
        summary: "sample package for the catalog's tests",
        maintainer: "Zoë Maintainer <zoe@example.org>",
        homepage: "https://example.org/catalog-sample",
        section: "utils",
        source: "catalog-sample-src",
        installedSize: 1234 * 1024,
      });
      expect(result.archive).toMatchObject({
        kind: "deb",
        entries: listed.length,
        encrypted: false,
        nestedArchives: 1,
      });
      expect(result.archive?.sample).toEqual(listed.slice(0, 20));
      expect(result.archive?.estimated).toBeUndefined();
    },
  );

  /** The gzip package with its data member recompressed by `compress` as `data.tar<suffix>`, put back together with ar in dpkg's member order. */
  function repackedDeb(suffix: string, compress: (tar: Buffer) => Buffer): { bytes: Buffer; tar: Buffer } {
    const folder = mkdtempSync(join(work, `deb${suffix.replace(".", "-")}-`));
    writeFileSync(join(folder, "gzip.deb"), buildDeb("gzip"));
    execFileSync("ar", ["x", "gzip.deb"], { cwd: folder });
    const tar = gunzipSync(readFileSync(join(folder, "data.tar.gz")));
    writeFileSync(join(folder, `data.tar${suffix}`), compress(tar));
    const controlMember = execFileSync("ar", ["t", "gzip.deb"], { cwd: folder, encoding: "utf8" })
      .split("\n")
      .find((name) => name.startsWith("control.tar")) as string;
    execFileSync("ar", ["rcD", "repacked.deb", "debian-binary", controlMember, `data.tar${suffix}`], {
      cwd: folder,
    });
    return { bytes: readFileSync(join(folder, "repacked.deb")), tar };
  }

  async function expectListedAsDpkgLists(bytes: Buffer, tar: Buffer): Promise<void> {
    const listed = dpkgList(bytes);

    // Act
    const result = await extractNamed(bytes, "catalog-sample_2.4.0-3_arm64.deb");

    // Assess
    expect(result.status).toBe("ok");
    expect(result.warnings).toEqual([]);
    expect(result.package?.name).toBe("catalog-sample");
    expect(result.archive).toMatchObject({ kind: "deb", entries: listed.length, nestedArchives: 1 });
    expect(result.archive?.sample).toEqual(listed.slice(0, 20));
    expect(result.archive?.uncompressedSize).toBe(tar.byteLength);
  }

  itWith("ar", "bzip2")("list a data.tar.bz2, as packages older dpkg-deb built have it", async () => {
    // Prepare: dpkg-deb no longer writes bzip2 but still reads it.
    const { bytes, tar } = repackedDeb(".bz2", (content) =>
      execFileSync("bzip2", ["-c"], { input: content }),
    );
    await expectListedAsDpkgLists(bytes, tar);
  });

  itWith("ar", "xz")("list a data.tar.lzma, as packages of LZMA Utils' time have it", async () => {
    // Prepare: dpkg-deb reads LZMA-alone data members, which xz --format=lzma writes.
    const { bytes, tar } = repackedDeb(".lzma", (content) =>
      execFileSync("xz", ["--format=lzma", "-c"], { input: content }),
    );
    await expectListedAsDpkgLists(bytes, tar);
  });

  it("is described the same when read by ranges, as a large object is", async () => {
    // Prepare: 400 files, read through a source that fetches by range as S3 does.
    const bytes = buildDeb("xz", 400);

    // Act
    const result = await extract(new RangedSource(bytes, "big.deb"), { name: "big.deb" });

    // Assess
    expect(result.status).toBe("ok");
    expect(result.package?.name).toBe("catalog-sample");
    expect(result.archive?.entries).toBe(dpkgList(bytes).length);
  });

  it("agrees with the types uploaders and tools give a .deb", async () => {
    const bytes = buildDeb("gzip", 1);
    for (const declaredMime of [
      "application/vnd.debian.binary-package",
      "application/x-debian-package",
      "application/x-deb",
    ]) {
      const result = await extractNamed(bytes, "a.deb", { declaredMime });
      expect(result.format.mismatch, declaredMime).toBe(false);
    }
    // A .deb uploaded under another name is one.
    const renamed = await extractNamed(bytes, "report.pdf", { declaredMime: "application/pdf" });
    expect(renamed.format.mismatch).toBe(true);
  });

  it("keeps the description of a package whose data member is cut short, and says so", async () => {
    // Prepare: a package of incompressible files, cut in the middle of data.tar.xz.
    const root = mkdtempSync(join(work, "deb-random-"));
    mkdirSync(join(root, "DEBIAN"));
    writeFileSync(join(root, "DEBIAN/control"), CONTROL);
    mkdirSync(join(root, "opt/blobs"), { recursive: true });
    for (let i = 0; i < 40; i++)
      writeFileSync(
        join(root, `opt/blobs/${i}.bin`),
        Buffer.from(Array.from({ length: 20_000 }, () => Math.floor(Math.random() * 256))),
      );
    const out = join(work, "random.deb");
    execFileSync("dpkg-deb", ["--root-owner-group", "-Zxz", "--build", root, out], { stdio: "pipe" });
    const whole = readFileSync(out);
    const cut = whole.subarray(0, Math.floor(whole.byteLength / 2));

    // Act
    const result = await extractNamed(cut, "random.deb");

    // Assess: the control data is whole, the listing goes as far as the bytes do.
    expect(["ok", "partial"]).toContain(result.status);
    expect(result.package?.name).toBe("catalog-sample");
    expect(result.archive?.kind).toBe("deb");
    expect(result.archive?.entries).toBeGreaterThan(5);
    expect(result.archive?.entries).toBeLessThan(dpkgList(whole).length);
    expect(result.archive?.estimated).toBe(true);
    expect(result.warnings.join(" ")).toMatch(/damaged|truncated|without an end-of-archive/);
  });

  it("turns a damaged ar framing or a missing control member into a clear reason", async () => {
    const bytes = buildDeb("gzip", 1);
    // The first member's header terminator overwritten.
    const broken = Buffer.from(bytes);
    broken.write("xx", 8 + 58, "latin1");
    const damaged = await extractNamed(broken, "a.deb");
    expect(damaged.status).toBe("error");
    expect(damaged.reason).toMatch(/ar member header at byte 8 is damaged/);

    // The control member renamed: not a package dpkg would install.
    const renamed = Buffer.from(bytes);
    const at = renamed.indexOf("control.tar.gz");
    renamed.write("contrib.tar.gz", at, "latin1");
    const noControl = await extractNamed(renamed, "a.deb");
    expect(noControl.status).toBe("error");
    expect(noControl.reason).toMatch(/no control\.tar member/);
  });

  it("reads a control file's fields case-insensitively, with CRLF lines, and ignores a second paragraph", async () => {
    const control =
      "package: lower\r\nVERSION: 0.1\r\nArchitecture: all\r\nMaintainer: M <m@example.org>\r\nDescription: one line\r\n";
    const result = await extractNamed(buildDeb("gzip", 1, control), "lower.deb");
    expect(result.package).toMatchObject({
      name: "lower",
      version: "0.1",
      architecture: "all",
      summary: "one line",
    });
  });
});

/** An RPM package of `files` files built by rpmbuild, and the spec's fields. */
function buildRpm(files: number): Buffer {
  const top = mkdtempSync(join(work, "rpm-"));
  const spec = join(top, "sample.spec");
  writeFileSync(
    spec,
    [
      "Name: catalog-sample",
      "Version: 2.4.0",
      "Release: 3.el9",
      "Epoch: 1",
      "Summary: Sample package for the catalog's tests",
      "License: MIT AND Apache-2.0",
      "URL: https://example.org/catalog-sample",
      "Vendor: Example Vendor",
      "Packager: Zoë Packager <zoe@example.org>",
      "Group: Applications/System",
      "BuildArch: noarch",
      "%description",
      "A longer description.",
      "%install",
      "mkdir -p %{buildroot}/usr/share/catalog-sample %{buildroot}/usr/bin",
      `for i in $(seq 1 ${files}); do echo "file $i" > %{buildroot}/usr/share/catalog-sample/file-$i.txt; done`,
      "echo '#!/bin/sh' > %{buildroot}/usr/bin/catalog-sample",
      "echo zip > %{buildroot}/usr/share/catalog-sample/bundle.zip",
      "%files",
      "/usr/bin/catalog-sample",
      "/usr/share/catalog-sample",
      "",
    ].join("\n"),
  );
  // Without the distribution's post-install scripts (compressing man pages, stripping), which these files do not need.
  const defines = [`_topdir ${top}`, "__os_install_post %{nil}", "_binary_payload w1.gzdio"];
  execFileSync("rpmbuild", ["-bb", "--quiet", ...defines.flatMap((define) => ["--define", define]), spec], {
    stdio: "pipe",
  });
  return readFileSync(join(top, "RPMS/noarch/catalog-sample-2.4.0-3.el9.noarch.rpm"));
}

/** What `rpm -qp` says of a package: a query format's fields, and its file list. */
function rpmQuery(bytes: Buffer): { fields: string[]; files: string[] } {
  const path = join(work, "queried.rpm");
  writeFileSync(path, bytes);
  const query = (args: string[]) =>
    execFileSync("rpm", ["-qp", "--nosignature", "--nodigest", ...args, path], {
      encoding: "utf8",
      stdio: "pipe",
    });
  const fields = query([
    "--qf",
    "%{NAME}\\n%{EPOCH}:%{VERSION}-%{RELEASE}\\n%{ARCH}\\n%{SIZE}\\n%{BUILDTIME}\\n%{SOURCERPM}",
  ]);
  return { fields: fields.split("\n"), files: query(["-l"]).split("\n").filter(Boolean) };
}

describeWith("rpmbuild", "rpm")("RPM packages", () => {
  it("describe themselves and list their files from the header, as rpm does", async () => {
    // Prepare
    const bytes = buildRpm(50);
    const { fields, files } = rpmQuery(bytes);
    const [name, version, architecture, size, buildTime, source] = fields;

    // Act
    const result = await extractNamed(bytes, "catalog-sample.rpm");

    // Assess
    expect(result.status).toBe("ok");
    expect(result.warnings).toEqual([]);
    expect(result.format).toMatchObject({ mime: "application/x-rpm", category: "archive", mismatch: false });
    expect(result.package).toEqual({
      format: "rpm",
      name,
      version,
      architecture,
      summary: "Sample package for the catalog's tests",
      maintainer: "Zoë Packager <zoe@example.org>",
      vendor: "Example Vendor",
      license: "MIT AND Apache-2.0",
      homepage: "https://example.org/catalog-sample",
      section: "Applications/System",
      source,
      installedSize: Number(size),
      builtAt: new Date(Number(buildTime) * 1000).toISOString(),
    });
    expect(result.package?.version).toBe("1:2.4.0-3.el9");
    expect(result.archive).toMatchObject({
      kind: "rpm",
      entries: files.length,
      uncompressedSize: Number(size),
      encrypted: false,
      nestedArchives: 1,
    });
    expect(result.archive?.sample).toEqual(files.slice(0, 20));
  });

  it("is described the same when read by ranges", async () => {
    const bytes = buildRpm(2000);
    const result = await extract(new RangedSource(bytes, "big.rpm"), { name: "big.rpm" });
    expect(result.status).toBe("ok");
    expect(result.archive?.entries).toBe(rpmQuery(bytes).files.length);
  });

  it("agrees with the type the mime table gives .rpm", async () => {
    const bytes = buildRpm(1);
    const result = await extractNamed(bytes, "a.rpm", {
      declaredMime: "application/x-redhat-package-manager",
    });
    expect(result.format.mismatch).toBe(false);
  });

  it("turns a cut or implausible header into a clear reason", async () => {
    const bytes = buildRpm(1);
    // Cut inside the main header.
    const cut = await extractNamed(bytes.subarray(0, 2000), "cut.rpm");
    expect(cut.status).toBe("error");
    expect(cut.reason).toMatch(
      /header runs past the end of the file \(truncated\)|header is missing or damaged/,
    );

    // The signature header's tag count set past rpm's bound.
    const inflated = Buffer.from(bytes);
    inflated.writeUInt32BE(0x7fffffff, 96 + 8);
    const hostile = await extractNamed(inflated, "hostile.rpm");
    expect(hostile.status).toBe("error");
    expect(hostile.reason).toMatch(/beyond rpm's bounds/);
  });
});

/** A wheel's entries as setuptools and hatchling write them: the code, then the .dist-info. */
function wheel(metadata: string, tags = ["py3-none-any"]): Uint8Array {
  return buildZip([
    { name: "sample/__init__.py", content: "VERSION = '3.1.0'\n" },
    { name: "sample-3.1.0.dist-info/METADATA", content: metadata },
    {
      name: "sample-3.1.0.dist-info/WHEEL",
      content: `Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n${tags.map((tag) => `Tag: ${tag}\n`).join("")}`,
    },
    { name: "sample-3.1.0.dist-info/RECORD", content: "" },
  ]);
}

describe("Python wheels", () => {
  it("describe themselves from their core metadata and name the platforms their tags give", async () => {
    // Prepare: metadata 2.4 as hatchling writes it, the README after the headers.
    const metadata = [
      "Metadata-Version: 2.4",
      "Name: sample-pkg",
      "Version: 3.1.0",
      "Summary: A sample package",
      "Project-URL: Documentation, https://docs.example.org",
      "Project-URL: Homepage, https://example.org/sample",
      "Author-email: Zoë Author <zoe@example.org>",
      "License-Expression: Apache-2.0",
      "License-File: LICENSE",
      "Requires-Python: >=3.9",
      "Description-Content-Type: text/markdown",
      "",
      "# sample-pkg",
      "",
      "Name: not a header, the README's text",
    ].join("\n");
    const bytes = wheel(metadata, ["cp312-cp312-manylinux_2_17_x86_64", "cp312-cp312-manylinux2014_x86_64"]);

    // Act
    const result = await extractNamed(bytes, "sample_pkg-3.1.0-cp312-cp312-manylinux_2_17_x86_64.whl");

    // Assess
    expect(result.status).toBe("ok");
    expect(result.warnings).toEqual([]);
    expect(result.package).toEqual({
      format: "wheel",
      name: "sample-pkg",
      version: "3.1.0",
      architecture: "manylinux_2_17_x86_64, manylinux2014_x86_64",
      summary: "A sample package",
      maintainer: "Zoë Author <zoe@example.org>",
      license: "Apache-2.0",
      homepage: "https://example.org/sample",
    });
    expect(result.archive).toMatchObject({ kind: "zip", entries: 4 });
  });

  it("read the older fields (Home-page, License, Author) as metadata 1.x and 2.1 write them", async () => {
    const metadata =
      "Metadata-Version: 2.1\nName: old\nVersion: 0.9\nHome-page: https://old.example.org\nAuthor: Old Author\nLicense: BSD\n";
    const result = await extractNamed(wheel(metadata), "old-0.9-py3-none-any.whl");
    expect(result.package).toEqual({
      format: "wheel",
      name: "old",
      version: "0.9",
      architecture: "any",
      maintainer: "Old Author",
      license: "BSD",
      homepage: "https://old.example.org",
    });
  });

  it("keep their listing with a warning when the metadata cannot be read", async () => {
    const bytes = Buffer.from(
      buildZip([
        { name: "sample/__init__.py", content: "" },
        { name: "sample-3.1.0.dist-info/METADATA", content: "Name: x\n" },
      ]),
    );
    // The METADATA entry's local header signature destroyed.
    bytes.writeUInt32LE(0, bytes.indexOf("PK\x03\x04", 4, "latin1"));
    const result = await extractNamed(bytes, "x.whl");
    expect(result.status).toBe("ok");
    expect(result.package).toBeUndefined();
    expect(result.archive?.entries).toBe(2);
    expect(result.warnings).toEqual([
      expect.stringMatching(/^package metadata unreadable: .*no local header/),
    ]);
  });
});

describe("Java archives", () => {
  const manifest = [
    "Manifest-Version: 1.0",
    "Bundle-SymbolicName: org.example.core;singleton:=true",
    "Bundle-Version: 4.2.0",
    "Bundle-Name: Example Core",
    "Bundle-Vendor: Example Foundation",
    "Bundle-License: https://www.apache.org/licenses/LICENSE-2.0.tx",
    " t",
    "Implementation-Title: example-core",
    "",
    "Name: org/example/",
    "Bundle-Version: per-entry, not the jar's",
    "",
  ].join("\r\n");

  it("are named by their one Maven pom.properties, with the manifest's vendor and licence", async () => {
    const bytes = buildZip([
      { name: "META-INF/MANIFEST.MF", content: manifest },
      {
        name: "META-INF/maven/org.example/example-core/pom.properties",
        content:
          "#Generated by Maven\ngroupId=org.example\nartifactId=example-core\nversion=4.2.0-SNAPSHOT\n",
      },
      { name: "org/example/Core.class", content: "\xca\xfe\xba\xbe" },
    ]);
    const result = await extractNamed(bytes, "example-core.jar");
    expect(result.status).toBe("ok");
    expect(result.format.mime).toBe("application/java-archive");
    expect(result.package).toEqual({
      format: "jar",
      name: "org.example:example-core",
      version: "4.2.0-SNAPSHOT",
      summary: "Example Core",
      vendor: "Example Foundation",
      license: "https://www.apache.org/licenses/LICENSE-2.0.txt",
      homepage: undefined,
    });
  });

  it("are named by the manifest's OSGi attributes when no single pom.properties names them (a fat JAR)", async () => {
    const bytes = buildZip([
      { name: "META-INF/MANIFEST.MF", content: manifest },
      { name: "META-INF/maven/com.a/a/pom.properties", content: "groupId=com.a\nartifactId=a\nversion=1\n" },
      { name: "META-INF/maven/com.b/b/pom.properties", content: "groupId=com.b\nartifactId=b\nversion=2\n" },
    ]);
    const result = await extractNamed(bytes, "app-all.jar");
    expect(result.package).toMatchObject({ format: "jar", name: "org.example.core", version: "4.2.0" });
  });

  it("are no package when the manifest names nothing", async () => {
    const bytes = buildZip([
      { name: "META-INF/MANIFEST.MF", content: "Manifest-Version: 1.0\nCreated-By: 17 (Oracle)\n" },
      { name: "A.class", content: "\xca\xfe\xba\xbe" },
    ]);
    const result = await extractNamed(bytes, "plain.jar");
    expect(result.status).toBe("ok");
    expect(result.package).toBeUndefined();
  });
});

describe("npm packages", () => {
  it("describe themselves from package/package.json as npm pack writes the tarball", async () => {
    // Prepare: a package packed by npm itself.
    const root = mkdtempSync(join(work, "npm-"));
    writeFileSync(
      join(root, "package.json"),
      JSON.stringify({
        name: "@example/native-thing",
        version: "2.0.0-beta.1",
        description: "A native module for one platform",
        author: { name: "Zoë Author", email: "zoe@example.org" },
        license: "MIT OR Apache-2.0",
        homepage: "https://example.org/native-thing",
        os: ["linux"],
        cpu: ["arm64"],
        files: ["index.js", "lib"],
      }),
    );
    writeFileSync(join(root, "index.js"), "module.exports = 1;\n");
    mkdirSync(join(root, "lib"));
    writeFileSync(join(root, "lib/bundle.zip"), "zip");
    const packed = execFileSync("npm", ["pack", "--silent"], { cwd: root, encoding: "utf8" }).trim();
    const bytes = readFileSync(join(root, packed));

    // Act
    const result = await extractNamed(bytes, packed);

    // Assess
    expect(result.status).toBe("ok");
    expect(result.warnings).toEqual([]);
    expect(result.format.mime).toBe("application/gzip");
    expect(result.package).toEqual({
      format: "npm",
      name: "@example/native-thing",
      version: "2.0.0-beta.1",
      architecture: "linux arm64",
      summary: "A native module for one platform",
      maintainer: "Zoë Author <zoe@example.org>",
      license: "MIT OR Apache-2.0",
      homepage: "https://example.org/native-thing",
    });
    expect(result.archive).toMatchObject({ kind: "gzip", entries: 3, nestedArchives: 1 });
    expect([...(result.archive?.sample ?? [])].sort()).toEqual([
      "package/index.js",
      "package/lib/bundle.zip",
      "package/package.json",
    ]);
  });

  it("read the older licence and maintainer forms", async () => {
    const manifest = JSON.stringify({
      name: "old",
      version: "0.1.0",
      licenses: [{ type: "MIT" }, { type: "GPL-2.0" }],
      maintainers: [{ name: "First", email: "first@example.org" }, "Second"],
    });
    const bytes = gzipSync(tarOf([tarEntry("package/package.json", manifest.length, Buffer.from(manifest))]));
    const result = await extractNamed(bytes, "old-0.1.0.tgz");
    expect(result.package).toEqual({
      format: "npm",
      name: "old",
      version: "0.1.0",
      maintainer: "First <first@example.org>",
      license: "MIT OR GPL-2.0",
    });
  });

  it("keep their listing with a warning when the manifest is not JSON, and are no package without one", async () => {
    const broken = "{ name: not json";
    const damaged = await extractNamed(
      gzipSync(tarOf([tarEntry("package/package.json", broken.length, Buffer.from(broken))])),
      "broken.tgz",
    );
    expect(damaged.status).toBe("ok");
    expect(damaged.package).toBeUndefined();
    expect(damaged.archive?.entries).toBe(1);
    expect(damaged.warnings).toEqual([expect.stringMatching(/^package\/package\.json is not JSON/)]);

    const other = await extractNamed(
      gzipSync(tarOf([tarEntry("src/package.json", 2, Buffer.from("{}"))])),
      "source.tar.gz",
    );
    expect(other.package).toBeUndefined();
    expect(other.warnings).toEqual([]);
  });
});
