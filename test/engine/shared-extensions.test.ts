import { readFileSync } from "node:fs";
import mime from "mime";
import { describe, expect, it } from "vitest";
import { BufferSource, extract } from "../../src/engine/index.js";
import { corpusFile } from "../support/corpus.js";

/**
 * What a file is against what its name and declared type say, where the
 * declared type is the one `catalog upload` and browsers derive from the name
 * (the `mime` table's). Each of these was a type mismatch before.
 */
async function formatOf(name: string, bytes: Uint8Array) {
  const declaredMime = mime.getType(name) ?? undefined;
  const result = await extract(new BufferSource(bytes, name), {
    name,
    ...(declaredMime && { declaredMime }),
  });
  return result.format;
}

const text = (value: string) => new TextEncoder().encode(value);
const PEM_KEY =
  "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----\n";

describe("names whose extension the registry gives another format", () => {
  it.each([
    ["TypeScript", "index.ts", "export const answer: number = 42;\n"],
    ["a TypeScript module", "index.mts", "export const answer: number = 42;\n"],
    ["a PEM private key", "tls.key", PEM_KEY],
    ["an SSH public key", "id_ed25519.pub", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG user@host\n"],
    ["a gettext template", "messages.pot", 'msgid ""\nmsgstr ""\n'],
    ["a batch script", "build.bat", "@echo off\r\necho building\r\n"],
    ["a text template", "page.tpl", "<h1>{{ .Title }}</h1>\n"],
    ["an SGML catalog", "xml-core.cat", 'PUBLIC "-//OASIS//DTD DocBook XML V4.5//EN" "docbookx.dtd"\n'],
    ["a Tcl message catalog", "ru.msg", 'namespace eval ::msgcat {\n  ::msgcat::mcset ru "Yes" "Da"\n}\n'],
    ["font metrics", "symbol.afm", "StartFontMetrics 2.0\nFontName Symbol\nEndFontMetrics\n"],
  ])("%s is no mismatch", async (_label, name, content) => {
    // Arrange: the registry says video/mp2t, Keynote, Publisher, PowerPoint, a Windows program.
    expect(mime.getType(name)).not.toMatch(/^text\//);

    // Act
    const format = await formatOf(name, text(content));

    // Assess
    expect(format).toMatchObject({ category: "text", mismatch: false });
  });

  it("Musepack audio named .mpc is no mismatch, though the registry calls .mpc a mophun certificate", async () => {
    const format = await formatOf("track.mpc", readFileSync(corpusFile("filetype-fixture-sv8.mpc")));
    expect(format).toMatchObject({
      mime: "audio/x-musepack",
      declaredMime: "application/vnd.mophun.certificate",
      mismatch: false,
    });
  });

  it("other content under such a name is still a mismatch, and a declared type other than the name's still counts", async () => {
    // Act: a PNG named .ts; TypeScript declared as a PNG.
    const png = await formatOf("index.ts", readFileSync(corpusFile("filetype-fixture.png")));
    const declared = await extract(new BufferSource(text("export {};\n"), "index.ts"), {
      name: "index.ts",
      declaredMime: "image/png",
    });

    // Assess
    expect(png).toMatchObject({ mime: "image/png", mismatch: true });
    expect(png.mismatchReason).toBe(
      "declared Content-Type video/mp2t but content is image/png; extension .ts suggests video/mp2t but content is image/png",
    );
    expect(declared.format).toMatchObject({
      mismatch: true,
      mismatchReason: "declared Content-Type image/png but content is text/plain",
    });
  });
});

describe("text formats the registry files outside text/", () => {
  it.each([
    ["a Perl script", "tool.pl", '#!/usr/bin/perl\nprint "hello\\n";\n'],
    ["PHP", "index.php", '<?php echo "hello"; ?>\n'],
    ["SQL", "schema.sql", "CREATE TABLE t (id INTEGER PRIMARY KEY);\n"],
    ["CommonJS", "index.cjs", "module.exports = 42;\n"],
    ["a C shell script", "env.csh", "setenv PATH /usr/bin\n"],
    ["Tcl", "build.tcl", "puts {hello}\n"],
    [
      "an X11 pixmap",
      "icon.xpm",
      '/* XPM */\nstatic char *icon[] = {\n"1 1 1 1",\n"a c #000000",\n"a"\n};\n',
    ],
    ["TeX", "paper.tex", "\\documentclass{article}\n\\begin{document}\nHello\n\\end{document}\n"],
    ["a mail message", "note.eml", "From: ann@example.com\nTo: bob@example.com\nSubject: hi\n\nHello\n"],
    ["a PEM certificate", "ca.crt", PEM_KEY.replaceAll("PRIVATE KEY", "CERTIFICATE")],
    ["a PEM file", "bundle.pem", PEM_KEY.replaceAll("PRIVATE KEY", "CERTIFICATE")],
  ])("%s sniffed as text is no mismatch", async (_label, name, content) => {
    const format = await formatOf(name, text(content));
    expect(format).toMatchObject({ category: "text", mismatch: false });
  });
});

describe("JPEG XR", () => {
  it("detected as image/vnd.ms-photo agrees with image/jxr, the type .jxr is registered as", async () => {
    const format = await formatOf("photo.jxr", readFileSync(corpusFile("filetype-fixture.jxr")));
    expect(format).toMatchObject({ mime: "image/vnd.ms-photo", declaredMime: "image/jxr", mismatch: false });
  });
});

describe("text whose kind sniffing can only guess", () => {
  // A lone comment reads as a heading, the module docstring's items as a list.
  const PYTHON =
    '# Settings\n\n"""Settings, read once and `cached`.\n\n- from the environment\n- from settings.toml\n"""\n\ndef load(**options):\n    return options\n';

  it.each([
    ["Python, whose comments read as Markdown headings", "settings.py", PYTHON, "text/plain", "py"],
    [
      "C, by the type its extension is registered as",
      "main.c",
      "#include <stdio.h>\n/*\n - one\n - two\n */\nint main(void) { return 0; }\n",
      "text/x-c",
      "c",
    ],
    [
      "SQL",
      "schema.sql",
      "-- tables\nCREATE TABLE t (a INT, b INT, c INT);\nINSERT INTO t VALUES (1, 2, 3);\n",
      "application/sql",
      "sql",
    ],
    [
      "TypeScript declarations, whose commas read as a table",
      "index.d.ts",
      "export declare function f(a: number, b: string, c: boolean): void;\nexport declare function g(a: number, b: string, c: boolean): void;\nexport declare function h(a: number, b: string, c: boolean): void;\n",
      "text/plain",
      "ts",
    ],
  ])("%s takes the kind its name says", async (_label, name, content, mime, ext) => {
    // Act
    const result = await extract(new BufferSource(text(content), name), { name });

    // Assess: the kind, the text category, and the text section all the same.
    expect(result.format).toMatchObject({ mime, ext, category: "text", mismatch: false });
    expect(result.text).toMatchObject({ encoding: "us-ascii", lines: content.split("\n").length - 1 });
  });

  it.each([
    [
      "Markdown named .txt",
      "notes.txt",
      "# Notes\n\n- one\n- two\n\nSee [the docs](https://example.com).\n",
      "text/markdown",
    ],
    ["Markdown named .md", "README.md", "# Notes\n\n- one\n- two\n", "text/markdown"],
    ["a table named .txt", "table.txt", "a;b;c\n1;2;3\n4;5;6\n7;8;9\n", "text/csv"],
    ["text that is not the JSON its name says", "broken.json", "{ not json\n", "text/plain"],
    ["Python named with no extension", "settings", PYTHON, "text/markdown"],
  ])("%s keeps the kind sniffing gives", async (_label, name, content, mime) => {
    const result = await extract(new BufferSource(text(content), name), { name });
    expect(result.format.mime).toBe(mime);
  });
});

describe("containers that are a ZIP inside", () => {
  const zip = () => readFileSync(corpusFile("filetype-fixture.zip"));

  it.each([
    ["a Firefox add-on", "addon.xpi"],
    ["a Google Earth file", "places.kmz"],
    ["an XPS document", "page.xps"],
    ["a 3D print", "part.3mf"],
    ["a Windows app package", "app.msix"],
    ["a comic book, which the table types as RAR's", "issue-1.cbz"],
    ["a USDZ scene, by its +zip suffix", "chair.usdz"],
  ])("%s that detection can only call a zip is no mismatch", async (_label, name) => {
    const format = await formatOf(name, zip());
    expect(format).toMatchObject({ mime: "application/zip", mismatch: false });
    expect(format.declaredMime).not.toBe("application/zip");
  });

  it("a comic book of RAR agrees with the table's type for .cbr", async () => {
    const format = await formatOf("issue-2.cbr", readFileSync(corpusFile("filetype-fixture.rar")));
    expect(format).toMatchObject({ declaredMime: "application/x-cbr", mismatch: false });
  });

  it("a ZIP named as a PDF is still a mismatch", async () => {
    const format = await formatOf("invoice.pdf", zip());
    expect(format).toMatchObject({ mime: "application/zip", mismatch: true });
  });
});
