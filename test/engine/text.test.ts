import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { sniffText } from "../../src/engine/detect/text-sniff.js";
import { BufferSource, type ExtractionResult, extract, FileSource } from "../../src/engine/index.js";
import { TEXT_EXACT_BYTES } from "../../src/engine/limits.js";
import { corpusFile, expectedEntries } from "../support/corpus.js";

async function extractFile(name: string): Promise<ExtractionResult> {
  const source = await FileSource.open(corpusFile(name));
  try {
    return await extract(source, { name });
  } finally {
    await source.close();
  }
}

function extractBytes(bytes: Uint8Array, name = "buffer"): Promise<ExtractionResult> {
  return extract(new BufferSource(bytes, name));
}

/** Text in a single-byte set: for each character the byte `TextDecoder` reads as it. */
function singleByte(text: string, label: string): Uint8Array {
  const decoder = new TextDecoder(label);
  const byChar = new Map<string, number>();
  for (let byte = 0x80; byte <= 0xff; byte++) byChar.set(decoder.decode(Uint8Array.of(byte)), byte);
  return Uint8Array.from([...text], (char) =>
    char.charCodeAt(0) < 0x80 ? char.charCodeAt(0) : byChar.get(char)!,
  );
}

/** Text in Shift_JIS: for each character the byte pair `TextDecoder` reads as it. */
function shiftJis(text: string): Uint8Array {
  const decoder = new TextDecoder("shift_jis");
  const wanted = new Set(text);
  const pairs = new Map<string, [number, number]>();
  for (const lead of [
    ...Array.from({ length: 0x1f }, (_, i) => 0x81 + i),
    ...Array.from({ length: 0x1d }, (_, i) => 0xe0 + i),
  ]) {
    for (let trail = 0x40; trail <= 0xfc; trail++) {
      const char = decoder.decode(Uint8Array.of(lead, trail));
      if (wanted.has(char) && !pairs.has(char)) pairs.set(char, [lead, trail]);
    }
  }
  return Uint8Array.from(
    [...text].flatMap((char) => (char.charCodeAt(0) < 0x80 ? [char.charCodeAt(0)] : pairs.get(char)!)),
  );
}

/** The corpus files whose content is text (by name: source prefix or extension). */
const TEXT_CORPUS = expectedEntries().filter(
  (entry) =>
    /^(charsetnormalizer-|jsontestsuite-)/.test(entry.name) ||
    /^tika-.*\.(txt|csv)$/.test(entry.name) ||
    /^filetype-fixture.*\.(xml|vtt|ics|vcf|unicorn)$/.test(entry.name) ||
    [
      "filetype-fixture-json.webp",
      "musicmetadata-not-an-audio-file.txt",
      "tika-testODTnotaZipFile.odt",
    ].includes(entry.name),
);

/**
 * Where we name the type differently from `file`, and why. Everything else in
 * {@link TEXT_CORPUS} must agree with `file --mime-type` (text/xml counted as application/xml).
 */
const TYPE_DISAGREEMENTS: Record<string, { ours: string; why: string }> = {
  "charsetnormalizer-sample-polish.txt": {
    ours: "text/csv",
    why: "a quoted two-column table delimited by ';' on every line; file has no CSV rule for ';'",
  },
  "jsontestsuite-i_string_utf16BE_no_BOM.json": {
    ours: "application/json",
    why: 'UTF-16BE without BOM (["é"] with alternating NULs); file gives up on NULs and says octet-stream',
  },
  "jsontestsuite-i_string_UTF-16LE_with_BOM.json": {
    ours: "application/json",
    why: "valid JSON after a UTF-16LE BOM; file does not decode UTF-16 before its JSON test",
  },
  "jsontestsuite-i_structure_UTF-8_BOM_empty_object.json": {
    ours: "application/json",
    why: "{} after a UTF-8 BOM; file's JSON test does not skip the BOM",
  },
  "jsontestsuite-n_structure_lone-open-bracket.json": {
    ours: "text/plain",
    why: "a one-byte file holding '['; file calls anything this short octet-stream, it is ASCII text",
  },
};

/** `file --mime-encoding` says unknown-8bit for single-byte text using 0x80-0x9F: we name it. */
function oracleEncoding(encoding: string | undefined): string | undefined {
  return encoding === "unknown-8bit" ? "windows-1252" : encoding;
}

/**
 * Text in a legacy character set `file` does not detect: it says iso-8859-1
 * (no byte in 0x80-0x9F) or unknown-8bit whatever the script. The set each
 * file is in is the one its source repository's own tests declare
 * (charset_normalizer's test_full_detection.py, Tika's file name).
 */
const ENCODING_DISAGREEMENTS: Record<string, { ours: string; why: string }> = {
  "charsetnormalizer-sample-arabic-1.txt": { ours: "windows-1256", why: "Arabic, declared cp1256" },
  "charsetnormalizer-sample-chinese.txt": { ours: "big5", why: "Traditional Chinese, declared big5" },
  "charsetnormalizer-sample-greek.txt": {
    ours: "iso-8859-7",
    why: "Greek, declared cp1253; its bytes read as the same text in ISO-8859-7, the set chardet names",
  },
  "charsetnormalizer-sample-hebrew-2.txt": {
    ours: "iso-8859-8",
    why: "Hebrew, declared cp1255; its bytes read as the same text in ISO-8859-8, the set chardet names",
  },
  "charsetnormalizer-sample-korean.txt": {
    ours: "euc-kr",
    why: "Korean, declared cp949 (EUC-KR's superset)",
  },
  "charsetnormalizer-sample-russian.txt": { ours: "x-mac-cyrillic", why: "Russian, declared mac_cyrillic" },
  "tika-russian.cp866.txt": { ours: "ibm866", why: "Russian, cp866 by its name" },
};

function oracleType(mime: string): string {
  return mime === "text/xml" ? "application/xml" : mime;
}

describe("text detection over the corpus", () => {
  it("covers the text files of the corpus", () => {
    expect(TEXT_CORPUS.length).toBeGreaterThanOrEqual(30);
  });

  it.each(TEXT_CORPUS.map((entry) => [entry.name, entry] as const))(
    "%s: type as file says",
    async (name, entry) => {
      const result = await extractFile(name);
      const disagreement = TYPE_DISAGREEMENTS[name];
      if (name === "tika-english.cp500.txt") {
        // EBCDIC: neither we nor file read it as text.
        expect(result.format.mime).toBe("application/octet-stream");
        return;
      }
      expect(result.format.mime).toBe(disagreement ? disagreement.ours : oracleType(entry.mime));
      expect(result.status).toBe("ok");
    },
  );

  it.each(
    TEXT_CORPUS.filter((entry) => entry.MIMEEncoding !== undefined).map(
      (entry) => [entry.name, entry] as const,
    ),
  )("%s: encoding as the oracle says, or as the file's source declares", async (name, entry) => {
    const result = await extractFile(name);
    expect(result.text?.encoding).toBe(
      ENCODING_DISAGREEMENTS[name]?.ours ?? oracleEncoding(entry.MIMEEncoding),
    );
  });

  it.each(Object.keys(ENCODING_DISAGREEMENTS))(
    "%s: typed before extraction without naming its set, as a single-byte reading gives the same type",
    async (name) => {
      const bytes = readFileSync(corpusFile(name));
      const sniffed = sniffText(bytes.subarray(0, 8192), bytes.length);
      expect(sniffed?.encoding).toMatch(/^(iso-8859-1|windows-1252)$/);
      expect(sniffed?.mime).toBe((await extractFile(name)).format.mime);
    },
  );

  it("agrees with file on the type of at least 85% of the text files", async () => {
    let agree = 0;
    for (const entry of TEXT_CORPUS) {
      const result = await extractFile(entry.name);
      if (result.format.mime === oracleType(entry.mime)) agree++;
    }
    // 29 of 34 at the time of writing: the 5 listed disagreements.
    expect(agree / TEXT_CORPUS.length).toBeGreaterThanOrEqual(0.85);
  });
});

/**
 * Counts verified with `wc -l -w -m` (GNU coreutils, C.UTF-8 locale). Our
 * `lines` adds one for a last line without a terminator (wc counts only
 * newlines) and `chars` leaves out a BOM. Words are compared only where wc
 * decodes the file (ASCII, UTF-8, UTF-16 words are ASCII).
 */
const COUNTS: ReadonlyArray<
  readonly [
    name: string,
    encoding: string,
    lines: number,
    words: number | undefined,
    chars: number,
    endings: string,
  ]
> = [
  ["charsetnormalizer-sample-english.bom.txt", "utf-8", 35, 139, 856, "lf"],
  ["charsetnormalizer-sample-polish.txt", "utf-8", 204, 349, 5693, "crlf"],
  ["tika-testTXTNonASCIIUTF8.txt", "utf-8", 7, 34, 197, "lf"],
  ["tika-test-columnar.csv", "us-ascii", 12, 77, 1137, "lf"],
  ["filetype-fixture.vcf", "us-ascii", 16, 47, 630, "lf"],
  ["filetype-fixture.ics", "us-ascii", 11, 14, 248, "lf"],
  ["filetype-fixture-vtt-linebreak.vtt", "us-ascii", 4, 14, 91, "lf"],
  ["filetype-fixture.xml", "us-ascii", 4, 5, 53, "lf"],
  ["filetype-fixture-utf8-bom.xml", "utf-8", 4, 8, 100, "lf"],
  ["filetype-fixture-utf16-le-bom.xml", "utf-16le", 4, 8, 100, "lf"],
  ["filetype-fixture-utf16-be-bom.xml", "utf-16be", 4, 8, 99, "lf"],
  ["musicmetadata-not-an-audio-file.txt", "us-ascii", 1, 6, 26, "none"],
  ["jsontestsuite-y_string_utf8.json", "utf-8", 1, 1, 6, "none"],
  // Single-byte: every byte is one character; wc -l counts the same newlines.
  ["charsetnormalizer-sample-arabic-1.txt", "windows-1256", 6, undefined, 906, "lf"],
  // Legacy sets: wc over iconv's UTF-8 (a multibyte set has fewer characters than bytes).
  ["charsetnormalizer-sample-chinese.txt", "big5", 14, 8, 389, "lf"],
  ["charsetnormalizer-sample-korean.txt", "euc-kr", 1, 53, 225, "lf"],
  ["charsetnormalizer-sample-russian.txt", "x-mac-cyrillic", 5, 171, 1211, "lf"],
  ["tika-russian.cp866.txt", "ibm866", 6, 32, 207, "lf"],
  ["charsetnormalizer-sample-french-1.txt", "windows-1252", 59, undefined, 3251, "lf"],
  ["tika-multi-language.txt", "iso-8859-1", 58, undefined, 1573, "lf"],
  ["tika-testTXT_win-1252.txt", "windows-1252", 1, undefined, 94, "none"],
];

describe("text statistics", () => {
  it.each(COUNTS)(
    "%s: %s, %i lines, %s words, %i chars",
    async (name, encoding, lines, words, chars, endings) => {
      const { text } = await extractFile(name);
      expect(text).toMatchObject({ encoding, lines, chars, lineEndings: endings, estimated: false });
      if (words !== undefined) expect(text?.words).toBe(words);
    },
  );

  it.each([
    ["tika-test-columnar.csv", ",", 8],
    ["charsetnormalizer-sample-polish.txt", ";", 2],
  ] as const)("%s: delimiter %j, %i columns", async (name, delimiter, columns) => {
    const { text } = await extractFile(name);
    expect(text?.csv).toEqual({ delimiter, columns });
  });

  it.each([
    ["jsontestsuite-y_string_utf8.json", true, "array"],
    ["jsontestsuite-i_string_iso_latin_1.json", true, "array"],
    ["jsontestsuite-i_string_utf16BE_no_BOM.json", true, "array"],
    ["jsontestsuite-i_string_UTF-16LE_with_BOM.json", true, "array"],
    ["jsontestsuite-i_structure_UTF-8_BOM_empty_object.json", true, "object"],
    ["filetype-fixture-json.webp", true, "object"],
  ] as const)("%s: JSON valid %s, top level %s", async (name, valid, topLevel) => {
    const { text } = await extractFile(name);
    expect(text?.json).toEqual({ valid, topLevel });
  });

  it("splits words where glibc's iswspace does: not at NEL (U+0085) or a no-break space", async () => {
    // `POSIXLY_CORRECT=1 LC_ALL=C.UTF-8 wc -w` counts 4 here.
    const { text } = await extractBytes(
      new TextEncoder().encode("one\u0085two three\u00a0four five\u2003six\n"),
    );
    expect(text?.words).toBe(4);
  });

  it("reports broken JSON as JSON that is not valid", async () => {
    const { format, text } = await extractBytes(new TextEncoder().encode('{"a": [1, 2,\n "b": }'));
    expect(format.mime).toBe("application/json");
    expect(text?.json).toEqual({ valid: false, topLevel: "object" });
  });

  it("counts CSV columns over quoted fields holding delimiters and newlines", async () => {
    const csv = 'id,name,note\n1,"Smith, J.","line one\nline two"\n2,"Doe, A.",plain\n3,x,"say ""hi"""\n';
    const { format, text } = await extractBytes(new TextEncoder().encode(csv));
    expect(format.mime).toBe("text/csv");
    expect(text?.csv).toEqual({ delimiter: ",", columns: 3 });
    expect(text?.lines).toBe(5);
  });

  it("decodes a character split across read chunks once, and a CRLF split across them as one ending", async () => {
    // 64 KiB is the extractor's read step: put 'é' (C3 A9) and CR LF across it.
    const bytes = new Uint8Array(64 * 1024 + 64).fill(0x61);
    bytes.set([0xc3, 0xa9], 64 * 1024 - 1);
    bytes.set([0x0d, 0x0a], 2 * 1024);
    bytes.set([0x0d, 0x0a], 64 * 1024 + 20);
    // Keep one CRLF on the first 8 KiB boundary too, where the encoding is sniffed.
    bytes.set([0x0d, 0x0a], 8 * 1024 - 1);
    const { text } = await extractBytes(bytes);
    expect(text).toMatchObject({ encoding: "utf-8", lineEndings: "crlf", lines: 4, chars: bytes.length - 1 });
  });

  it("reads ASCII followed by Latin-1 after the sniffed window as Latin-1", async () => {
    const bytes = new Uint8Array(100_000).fill(0x62);
    bytes[90_000] = 0xe9; // Latin-1 'é', invalid as UTF-8
    const result = await extractBytes(bytes);
    expect(result.text?.encoding).toBe("iso-8859-1");
    expect(result.text?.chars).toBe(100_000);
  });

  it("falls back to single-byte, with a warning, when UTF-8 breaks after the sniffed window", async () => {
    const bytes = new Uint8Array(100_000).fill(0x62);
    bytes.set([0xc3, 0xa9], 100); // UTF-8 'é' in the window
    bytes[90_000] = 0xe9; // Latin-1 'é' after it
    const result = await extractBytes(bytes);
    expect(result.text?.encoding).toBe("iso-8859-1");
    expect(result.text?.chars).toBe(100_000);
    expect(result.warnings.join()).toMatch(/not valid UTF-8/);
  });

  it("judges text that starts with more ASCII than the sniffed window on the bytes after it", async () => {
    // Arrange: 10 KiB of ASCII, then Japanese in Shift_JIS (Natsume Soseki, I Am a Cat, public domain).
    const japanese = shiftJis(
      "吾輩は猫である。名前はまだ無い。どこで生れたかとんと見当がつかぬ。" +
        "何でも薄暗いじめじめした所でニャーニャー泣いていた事だけは記憶している。\n",
    );
    const ascii = new TextEncoder().encode(`${"# notes\n".padEnd(10 * 1024 - 1, "x")}\n`);
    const bytes = new Uint8Array(ascii.length + japanese.length * 20);
    bytes.set(ascii);
    for (let i = 0; i < 20; i++) bytes.set(japanese, ascii.length + i * japanese.length);

    // Act
    const result = await extractBytes(bytes);

    // Assess: every character counted once, in Shift_JIS.
    expect(result.text?.encoding).toBe("shift_jis");
    expect(result.text?.chars).toBe(ascii.length + 20 * new TextDecoder("shift_jis").decode(japanese).length);
    expect(result.warnings).toEqual([]);
  });

  it.each([
    ["KOI8-R XML", '<?xml version="1.0" encoding="koi8-r"?>\n<rss version="2.0"><channel>', "koi8-r"],
    [
      "windows-1251 HTML",
      '<!DOCTYPE html>\n<html><head><meta charset="windows-1251"><title>x</title></head><body>',
      "windows-1251",
    ],
  ])("reads %s in the set it declares", async (_what, opening, label) => {
    // Arrange: Russian among more English markup, as in a feed: more Latin letters than Cyrillic ones.
    const item =
      '<item><title lang="ru">Мой дядя самых честных правил, когда не в шутку занемог.</title>' +
      "<link>https://example.org/posts/onegin.html</link><guid>https://example.org/posts/onegin.html</guid></item>\n";
    const text = `${opening}\n${item.repeat(20)}`;
    const bytes = singleByte(text, label);

    // Act
    const result = await extractBytes(bytes);

    // Assess
    expect(result.text?.encoding).toBe(label);
    expect(result.text?.chars).toBe(text.length);
  });

  it("reads an ASCII head declaring KOI8-R, followed by Russian after the sniffed window, in KOI8-R", async () => {
    const head = `<?xml version="1.0" encoding="koi8-r"?>\n<rss>${"<item/>\n".repeat(1500)}`;
    const bytes = singleByte(`${head}<title>Мой дядя</title></rss>\n`, "koi8-r");
    expect(head.length).toBeGreaterThan(8 * 1024);
    expect((await extractBytes(bytes)).text?.encoding).toBe("koi8-r");
  });

  it("extrapolates a 20 MB file from its first TEXT_EXACT_BYTES and says so", async () => {
    const line = "the quick brown fox jumps over the lazy dog 0123456789\n"; // 55 bytes, 10 words
    const count = Math.ceil((20 * 1024 * 1024) / line.length);
    const bytes = new TextEncoder().encode(line.repeat(count));
    const result = await extractBytes(bytes, "big.txt");
    expect(result.format.mime).toBe("text/plain");
    expect(result.text?.estimated).toBe(true);
    expect(result.text?.lines).toBeGreaterThan(count * 0.99);
    expect(result.text?.lines).toBeLessThan(count * 1.01);
    expect(result.text?.words).toBeGreaterThan(count * 10 * 0.99);
    expect(result.bytesRead).toBeGreaterThanOrEqual(TEXT_EXACT_BYTES);
    expect(result.bytesRead).toBeLessThanOrEqual(TEXT_EXACT_BYTES + 128 * 1024);
  });

  it("checks a large JSON document's structure on its prefix only", async () => {
    const items = Array.from({ length: 40_000 }, (_, i) => `{"id":${i},"name":"item ${i}"}`);
    const bytes = new TextEncoder().encode(`[${items.join(",\n")}]`);
    expect(bytes.length).toBeGreaterThan(TEXT_EXACT_BYTES);
    const result = await extractBytes(bytes);
    expect(result.text).toMatchObject({ estimated: true, json: { valid: true, topLevel: "array" } });
    expect(result.warnings.join()).toMatch(/first \d+ characters/);
  });
});

const encode = (text: string) => new TextEncoder().encode(text);

function utf16le(text: string, bom: boolean): Uint8Array {
  const bytes = new Uint8Array((bom ? 2 : 0) + text.length * 2);
  if (bom) bytes.set([0xff, 0xfe]);
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    bytes[(bom ? 2 : 0) + i * 2] = code & 0xff;
    bytes[(bom ? 2 : 0) + i * 2 + 1] = code >> 8;
  }
  return bytes;
}

/** Pushkin, Eugene Onegin, I.1 (public domain). */
const PUSHKIN =
  "Мой дядя самых честных правил,\nКогда не в шутку занемог,\nОн уважать себя заставил\nИ лучше выдумать не мог.\n" +
  "Его пример другим наука;\nНо, боже мой, какая скука\nС больным сидеть и день и ночь,\nНе отходя ни шагу прочь!\n";

/** Confucius, Analects I.1-2 (public domain): no ASCII but its line ends. */
const ANALECTS =
  "子曰：学而时习之，不亦说乎？\n有朋自远方来，不亦乐乎？\n人不知而不愠，不亦君子乎？\n" +
  "有子曰：其为人也孝弟，而好犯上者，鲜矣；\n不好犯上，而好作乱者，未之有也。\n";

/** Natsume Soseki, I Am a Cat (1905, public domain). */
const SOSEKI =
  "吾輩は猫である。名前はまだ無い。\nどこで生れたかとんと見当がつかぬ。\n" +
  "何でも薄暗いじめじめした所でニャーニャー泣いていた事だけは記憶している。\n";

/** Text in UTF-16 or UTF-32, without a BOM. */
function wide(text: string, encoding: string): Uint8Array {
  const unit = encoding.startsWith("utf-32") ? 4 : 2;
  const little = encoding.endsWith("le");
  const units =
    unit === 4
      ? Array.from(text, (char) => char.codePointAt(0) as number)
      : Array.from({ length: text.length }, (_, i) => text.charCodeAt(i));
  const bytes = new Uint8Array(units.length * unit);
  const view = new DataView(bytes.buffer);
  for (const [i, code] of units.entries()) {
    if (unit === 4) view.setUint32(i * 4, code, little);
    else view.setUint16(i * 2, code, little);
  }
  return bytes;
}

describe("sniffText", () => {
  it.each([
    [
      "markdown",
      "# Title\n\nSome *text* with a [link](https://example.com).\n\n- one\n- two\n",
      "text/markdown",
    ],
    ["a heading alone is not markdown", "# not really markdown\nplain words follow here\n", "text/plain"],
    ["HTML", "<!DOCTYPE html>\n<html><head><title>x</title></head></html>", "text/html"],
    ["HTML after a comment", "<!-- c -->\n<html lang=en>", "text/html"],
    ["XHTML", '<?xml version="1.0"?>\n<html xmlns="http://www.w3.org/1999/xhtml"></html>', "text/html"],
    ["SVG without a declaration", '<svg xmlns="http://www.w3.org/2000/svg"/>', "image/svg+xml"],
    [
      "SVG behind a doctype",
      '<?xml version="1.0"?>\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "x">\n<svg>',
      "image/svg+xml",
    ],
    [
      "SVG with a prefix bound to SVG's namespace",
      '<s:svg xmlns:s="http://www.w3.org/2000/svg"/>',
      "image/svg+xml",
    ],
    [
      "an svg root with its prefix in another namespace is XML",
      '<x:svg xmlns:x="urn:other"/>',
      "application/xml",
    ],
    ["an svg root in another default namespace is XML", '<svg xmlns="urn:other"></svg>', "application/xml"],
    [
      "an SVG doctype over another root is XML",
      '<?xml version="1.0"?><!DOCTYPE svg SYSTEM "x"><r/>',
      "application/xml",
    ],
    [
      "XML with an internal subset",
      '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY e "x">]><r/>',
      "application/xml",
    ],
    ["XML without a declaration", "<root><a>1</a></root>\n", "application/xml"],
    ["a stray tag is not XML", "<b> is bold\n", "text/plain"],
    ["a shell script whose comments read as headings", "#!/bin/sh\n# Build it\n\nmake\n", "application/x-sh"],
    ["a Python script run through env", "#!/usr/bin/env python3\nimport sys\n", "text/x-python"],
    [
      "a Node.js script run through env -S",
      "#!/usr/bin/env -S node --no-warnings\nconsole.log(1)\n",
      "text/javascript",
    ],
    ["Perl with a version and a flag", "#!/usr/bin/perl5.36 -w\nprint 1;\n", "application/x-perl"],
    ["Ruby", "#! /usr/bin/ruby\nputs 1\n", "application/x-ruby"],
    ["an interpreter not known is plain text", "#!/opt/bin/frob\nrun\n", "text/plain"],
    ["an HTML fragment opened by a script", "<script>alert(1)</script>\n", "text/html"],
    [
      "an HTML fragment after a comment",
      '<!-- nav -->\n<div class="menu"><a href="/">Home</a></div>\n',
      "text/html",
    ],
    ["an HTML fragment opened by a link", '<a href="https://example.com">x</a>\n', "text/html"],
    ["an element named a without href is XML", "<a><b>1</b></a>\n", "application/xml"],
    [
      "a root HTML uses, in a namespace, is XML",
      '<table xmlns="urn:furniture"><legs>4</legs></table>',
      "application/xml",
    ],
    [
      "a declared root HTML uses is XML",
      '<?xml version="1.0"?><table><legs>4</legs></table>',
      "application/xml",
    ],
    ["TSV", "a\tb\tc\n1\t2\t3\n4\t5\t6\n", "text/tab-separated-values"],
    ["semicolon CSV", "a;b;c\n1;2;3\n4;5;6\n", "text/csv"],
    ["prose with commas", "Hello, world, again.\nYes, indeed, quite.\nNo, never, ever.\n", "text/plain"],
    ["an INI file is not JSON", "[section]\nkey=value\n", "text/plain"],
    [
      "SubRip",
      "1\n00:00:01,000 --> 00:00:02,000\nHi\n\n2\n00:00:03,000 --> 00:00:04,000\nBye\n",
      "application/x-subrip",
    ],
    ["WebVTT", "WEBVTT\n\n00:01.000 --> 00:02.000\nHi\n", "text/vtt"],
    ["vCard", "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:A\r\nEND:VCARD\r\n", "text/vcard"],
    ["JSON number array", "[1, 2, 3]", "application/json"],
  ])("%s", (_label, text, mime) => {
    const bytes = encode(text);
    expect(sniffText(bytes, bytes.length)?.mime).toBe(mime);
  });

  it("names SVG a root svg whose start tag runs past the window, as it cannot tell the namespace", () => {
    const bytes = encode(`<svg xmlns="http://www.w3.org/2000/svg" data-x="${"y".repeat(200)}`);
    expect(sniffText(bytes, bytes.length + 1000)?.mime).toBe("image/svg+xml");
  });

  it("accepts UTF-8 cut mid-character at the end of the window, not at the end of the file", () => {
    const bytes = encode("abc é".repeat(10)).subarray(0, 6 * 10 - 1); // ends on C3 only
    expect(bytes[bytes.length - 1]).toBe(0xc3);
    expect(sniffText(bytes, bytes.length + 100)?.encoding).toBe("utf-8");
    expect(sniffText(bytes, bytes.length)?.encoding).toBe("iso-8859-1");
  });

  it.each([
    ["UTF-16LE with BOM", utf16le('{"a":1}', true), "utf-16le", true, "application/json"],
    ["UTF-16LE without BOM", utf16le("hello world\n", false), "utf-16le", false, "text/plain"],
    [
      "UTF-32BE with BOM",
      new Uint8Array([0, 0, 0xfe, 0xff, 0, 0, 0, 0x7b, 0, 0, 0, 0x7d]),
      "utf-32be",
      true,
      "application/json",
    ],
  ] as const)("%s", (_label, bytes, encoding, bom, mime) => {
    expect(sniffText(bytes, bytes.length)).toEqual({ mime, ext: expect.any(String), encoding, bom });
  });

  it.each([
    ["Russian", "utf-16le", PUSHKIN],
    ["Russian", "utf-16be", PUSHKIN],
    ["Chinese", "utf-16le", ANALECTS],
    ["Chinese", "utf-16be", ANALECTS],
    ["Japanese", "utf-16le", SOSEKI],
    ["Russian", "utf-32le", PUSHKIN],
    ["Chinese", "utf-32be", ANALECTS],
    ["Japanese", "utf-32le", SOSEKI],
  ])("names %s in %s without a BOM", (_language, encoding, text) => {
    const bytes = wide(text, encoding);
    expect(sniffText(bytes, bytes.length)).toEqual({ mime: "text/plain", ext: "txt", encoding, bom: false });
  });

  it("names Japanese in ISO-2022-JP, ASCII bytes shifting into JIS X 0208, and reads it as such", async () => {
    // 日本語 is 0x467C 0x4B5C 0x386C in JIS X 0208; ESC $ B shifts into it, ESC ( B back to ASCII.
    const line = [
      ...encode("Subject: "),
      0x1b,
      0x24,
      0x42,
      0x46,
      0x7c,
      0x4b,
      0x5c,
      0x38,
      0x6c,
      0x1b,
      0x28,
      0x42,
      0x0a,
    ];
    const bytes = Uint8Array.from([...line, ...line]);
    expect(sniffText(bytes, bytes.length)?.encoding).toBe("iso-2022-jp");
    const result = await extractBytes(bytes, "mail.txt");
    expect(result.text).toMatchObject({
      encoding: "iso-2022-jp",
      chars: "Subject: 日本語\n".length * 2,
      lines: 2,
    });
  });

  it("keeps ASCII with one JIS shift, or a terminal's colour codes, us-ascii", () => {
    const once = Uint8Array.from([...encode("a "), 0x1b, 0x24, 0x42, 0x46, 0x7c, 0x1b, 0x28, 0x42, 0x0a]);
    const colours = encode("\x1b[31mred\x1b[0m and \x1b[32mgreen\x1b[0m\n");
    expect(sniffText(once, once.length)?.encoding).toBe("us-ascii");
    expect(sniffText(colours, colours.length)?.encoding).toBe("us-ascii");
  });

  it("counts Russian in UTF-16LE without a BOM as the text it is", async () => {
    const result = await extractBytes(wide(PUSHKIN, "utf-16le"), "onegin.txt");
    expect(result.text).toMatchObject({ encoding: "utf-16le", bom: false, chars: PUSHKIN.length, lines: 8 });
  });

  it.each([
    ["fewer than 32 UTF-16 units of Russian", wide("Мой дядя самых честных правил\n", "utf-16le")],
    [
      // Odd-length names, so each NUL falls on an odd offset: read as UTF-16LE, CJK ideographs of printable bytes.
      "a binary's table of ASCII strings",
      encode(
        [
          "GCC: (Debian 12.2.0-14) 12.2.0",
          "GLIBC_2.34",
          "__cxa_finalize",
          "libc.so.6",
          "_ITM_registerTMCloneTable",
        ]
          .map((name) => (name.length % 2 === 1 ? name : `${name}_`))
          .join("\0")
          .concat("\0")
          .repeat(4),
      ),
    ],
    [
      "a table repeating one 16-bit number between spaces",
      Uint8Array.from({ length: 256 }, (_, i) => [0x20, 0, 0x92, 0x79][i % 4] as number),
    ],
    [
      "32-bit numbers beyond the BMP",
      Uint8Array.from({ length: 256 }, (_, i) => [0x03, 0x00, 0x01, 0x00, 0x20, 0, 0, 0][i % 8] as number),
    ],
  ])("does not take %s for UTF-16 or UTF-32", (_label, bytes) => {
    expect(sniffText(bytes, bytes.length)?.encoding ?? "binary").not.toMatch(/^utf-(16|32)/);
  });

  it.each([
    ["NUL-laden binary", new Uint8Array([1, 0, 2, 0, 0, 0, 9, 9, 0, 0, 3])],
    ["control bytes", new Uint8Array(Array.from({ length: 200 }, (_, i) => (i % 7 === 0 ? 2 : 0x41)))],
    ["random bytes", new Uint8Array(Array.from({ length: 4096 }, (_, i) => (i * 2654435761) >>> 24))],
    [
      "EBCDIC",
      new Uint8Array([0xc8, 0x85, 0x93, 0x93, 0x96, 0x40, 0xe6, 0x96, 0x99, 0x93, 0x84, 0x40, 0x40, 0x40]),
    ],
    ["a BOM before binary", new Uint8Array([0xff, 0xfe, 1, 0, 2, 0, 3, 0, 4, 0])],
  ])("%s is not text", (_label, bytes) => {
    expect(sniffText(bytes, bytes.length)).toBeUndefined();
  });
});

describe("damaged text", () => {
  it("never throws and never hangs on truncated or corrupted text files", async () => {
    const sample = encode('{"name": "é€😀", "rows": [1, 2, 3]}\r\nid;x\n1;"a\n');
    const variants: Uint8Array[] = [];
    for (let cut = 1; cut <= sample.length; cut++) variants.push(sample.subarray(0, cut));
    for (let i = 0; i < sample.length; i += 3) {
      const corrupt = sample.slice();
      corrupt[i] = 0xff;
      variants.push(corrupt);
    }
    variants.push(
      utf16le("hello", true).subarray(0, 5),
      new Uint8Array([0xef, 0xbb]),
      new Uint8Array([0, 0, 0xfe]),
    );
    for (const bytes of variants) {
      const result = await extractBytes(bytes);
      expect(result.status).not.toBe("error");
      if (result.text) expect(result.text.chars).toBeGreaterThan(0);
    }
  });
});

/** A libstdc++ header's opening, as in /usr/include/c++/12/complex and shared_mutex. */
const CPP_HEADER = `// The template and inlines for the -*- C++ -*- complex number classes.

// Copyright (C) 1997-2022 Free Software Foundation, Inc.
//
// This file is part of the GNU ISO C++ Library.

#ifndef _GLIBCXX_COMPLEX
#define _GLIBCXX_COMPLEX 1

#pragma GCC system_header

#include <bits/c++config.h>

#if __cplusplus > 201703L
# define __cpp_lib_constexpr_complex 201711L
#endif

#if _GLIBCXX_USE_PTHREAD_RWLOCK_T
# include <condition_variable>
#endif

namespace std _GLIBCXX_VISIBILITY(default)
{
  /// Return the magnitude of @a __z, as \`abs' does.
  template<typename _Tp> _Tp abs(const complex<_Tp>& __z);

  /**
   *  @brief  Return the phase angle of @a __z.
   *  - in radians
   *  - in [-pi, pi]
   */
  template<typename _Tp>
    inline _Tp
    __complex_arg(const complex<_Tp>& __z)
    { return __builtin_atan2(__z.imag(), __z.real()); }

  __attribute__((__always_inline__)) inline void __lock(__mutex_type& __m) { __m.lock(); }
}

#endif
`;

/** A configuration file commented with `#`, as /etc/nsswitch.conf is. */
const HASH_COMMENTED_CONFIG = `# /etc/nsswitch.conf
#
# Example configuration of GNU Name Service Switch functionality.
# If you have the \`glibc-doc-reference' and \`info' packages installed, try:
# \`info libc "Name Service Switch"' for information about this file.

passwd:         files systemd
group:          files systemd
hosts:          files mdns4_minimal [NOTFOUND=return] dns

# Networks are looked up in \`/etc/networks' first.
networks:       files
`;

/** A Makefile.in, as gettext's po/Makefile.in.in opens. */
const MAKEFILE_IN = `# Makefile for PO directory in any package using GNU gettext.
# Copyright (C) 1995-2000 Ulrich Drepper <drepper@gnu.ai.mit.edu>
#
# Origin: gettext-0.21
GETTEXT_MACRO_VERSION = 0.20

PACKAGE = @PACKAGE@
SHELL = /bin/sh

# We use $(mkdir_p).
mkinstalldirs = $(SHELL) @install_sh@ -d

all: all-@USE_NLS@

.po.mo:
\t@echo "$(MSGFMT) -c -o $@ $<"; \\
\t$(MSGFMT) -c -o t-$@ $< && mv t-$@ $@

# Shell quote;
check: all
\t@dups=\`echo $(CATALOGS) | tr ' ' '\\n' | sort | uniq -d\` && test -z "$$dups"
\t@echo "*** $@ ***"
`;

/** A README whose fenced snippets hold shell comments and C directives. */
const README_MARKDOWN = `# frobnicate

A small library that frobnicates **widgets**, see the [manual](https://example.com/manual).

## Install

\`\`\`sh
# from the release tarball
./configure && make
# then, as root
make install
\`\`\`

## Use

\`\`\`c
#include <frob.h>
# define FROB_LEVEL 3
\`\`\`

- call \`frob_init()\` once
- then \`frob()\` per widget
`;

/** A changelog in the keepachangelog.com layout. */
const CHANGELOG_MARKDOWN = `# Changelog

All notable changes to this project are documented in this file.

## [1.2.0] - 2024-05-01

### Added

- Reading of \`.frob\` files
- A \`--quiet\` flag

### Fixed

- A crash on empty input

[1.2.0]: https://example.com/compare/v1.1.0...v1.2.0
`;

/** Notes with setext headings and reference links only. */
const NOTES_MARKDOWN = `Release notes
=============

Upgrading
---------

Read the [upgrade guide][guide] before you upgrade; the \`config\` format changed.

[guide]: https://example.com/upgrade
`;

describe("Markdown and the texts that look like it", () => {
  it.each([
    ["a C++ header's directives and __identifiers", CPP_HEADER, "text/plain"],
    ["a configuration file's # comments and `quotes'", HASH_COMMENTED_CONFIG, "text/plain"],
    ["a Makefile.in's # comments and shell backquotes", MAKEFILE_IN, "text/plain"],
    [
      "a CMake module's reStructuredText",
      "# Distributed under the BSD License.\n\n#[=====[.rst:\nFindFrob\n--------\n\nFinds ``frob``, see :command:`find_package`.\n\n.. versionadded:: 3.4\n#]=====]\n",
      "text/plain",
    ],
    [
      "a brace-structured configuration with a comment",
      "If.master {\n\tType ControlExists\n}\n\n# set by `alsactl init`\n\nIf.speaker {\n\tType ControlExists\n}\n",
      "text/plain",
    ],
    ["a README with fenced snippets", README_MARKDOWN, "text/markdown"],
    ["a changelog", CHANGELOG_MARKDOWN, "text/markdown"],
    ["notes with setext headings and reference links", NOTES_MARKDOWN, "text/markdown"],
  ])("%s", (_label, text, mime) => {
    const bytes = encode(text);
    expect(sniffText(bytes, bytes.length)?.mime).toBe(mime);
  });

  it.each([
    ["complex", CPP_HEADER, "text/plain"],
    ["nsswitch.conf", HASH_COMMENTED_CONFIG, "text/plain"],
    ["Makefile.in", MAKEFILE_IN, "text/plain"],
    ["README", README_MARKDOWN, "text/markdown"],
    ["CHANGELOG", CHANGELOG_MARKDOWN, "text/markdown"],
  ])("%s, whose name does not say the kind of text, is %s", async (name, text, mime) => {
    const { format } = await extract(new BufferSource(encode(text), name), { name });
    expect(format.mime).toBe(mime);
  });
});

/** A Pipfile: TOML whose first line is an array of tables. */
const PIPFILE = `[[source]]
url = "https://pypi.org/simple"
verify_ssl = true
name = "pypi"

[packages]
"pyasn1" = ">=0.1.3"

[dev-packages]
pytest = "*"
pathlib2 = {version = "*", markers="python_version < '3.6'"}
`;

/** TOML as Python's tomllib tests write it: arrays of tables and nothing quoted. */
const TOML_ARRAY_OF_TABLES = "[[arr]]\n[arr.subtab]\nval=1\n\n[[arr]]\n[arr.subtab]\nval=2\n";

const APPLICATION_LOG = "[2024-05-01 10:00:00] INFO server started\n[2024-05-01 10:00:01] WARN low disk\n";

describe("JSON and the texts that open as it does", () => {
  it.each([
    ["a log with timestamps in brackets", APPLICATION_LOG, "text/plain"],
    [
      "a build log's levels in brackets",
      "[INFO] Scanning for projects...\n[INFO] Building demo 1.0\n",
      "text/plain",
    ],
    ["a log with times in brackets", "[12:00:01] boot\n[12:00:02] ready\n", "text/plain"],
    ["a numbered list of references", "[1] A. Author, Title.\n[2] B. Author, Other.\n", "text/plain"],
    ["a Pipfile", PIPFILE, "application/toml"],
    ["TOML arrays of tables", TOML_ARRAY_OF_TABLES, "application/toml"],
    ["JSON", '{"a": [1, 2.5e-3, true, null, "x\\"y"]}', "application/json"],
    ["empty JSON containers", "[{}, []]", "application/json"],
    ["JSON with a trailing comma", '{"a": 1,}', "application/json"],
    ["JSON Lines", '{"a": 1}\n{"a": 2}\n', "application/json"],
  ])("%s", (_label, text, mime) => {
    const bytes = encode(text);
    expect(sniffText(bytes, bytes.length)?.mime).toBe(mime);
  });

  it("names JSON a document the window cuts short, and not the same bytes as a whole file", () => {
    const bytes = encode('[[[["a deeply nested str');
    expect(sniffText(bytes, bytes.length + 100_000)?.mime).toBe("application/json");
    expect(sniffText(bytes, bytes.length)?.mime).toBe("text/plain");
  });

  it.each([
    ["app.log", APPLICATION_LOG, "text/plain"],
    ["Pipfile", PIPFILE, "application/toml"],
    ["array-subtables.toml", TOML_ARRAY_OF_TABLES, "application/toml"],
  ])("%s is %s, not JSON", async (name, text, mime) => {
    const result = await extract(new BufferSource(encode(text), name), { name });
    expect(result.format.mime).toBe(mime);
    expect(result.text?.json).toBeUndefined();
  });

  it("reports JSON with a trailing comma as JSON that is not valid", async () => {
    const name = "settings.json";
    const { format, text } = await extract(new BufferSource(encode('{"a": 1,}\n'), name), { name });
    expect(format.mime).toBe("application/json");
    expect(text?.json).toEqual({ valid: false, topLevel: "object" });
  });
});

describe("TOML by its content", () => {
  it.each([
    ["an INI file's bare values", "[tox]\nenvlist = py39,py310\n\n[testenv]\ndeps = pytest\n"],
    ["an INI file's ; comments", '; settings\n[main]\nname = "x"\n'],
    ["a systemd unit", "[Unit]\nDescription=Frob daemon\n\n[Service]\nExecStart=/usr/bin/frobd\n"],
    ["a desktop entry", '[Desktop Entry]\nName = "Frob"\n'],
    ["a git config of numbers and booleans", "[core]\n\trepositoryformatversion = 0\n\tbare = false\n"],
    ["key and value lines without a table", 'name = "frob"\nversion = "1.0"\n'],
  ])("%s is not TOML", (_label, text) => {
    const bytes = encode(text);
    expect(sniffText(bytes, bytes.length)?.mime).toBe("text/plain");
  });

  it("reads a pyproject.toml's multi-line arrays and strings", () => {
    const text = `# Build settings
[project]
name = "frob"
dependencies = [
  "requests>=2",  # [not a table]
  "rich",
]
description = """
[not a table either]
"""

[tool.ruff.lint]
select = ["E", "F"]
`;
    const bytes = encode(text);
    expect(sniffText(bytes, bytes.length)?.mime).toBe("application/toml");
  });
});
