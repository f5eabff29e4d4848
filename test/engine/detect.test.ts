import { describe, expect, it } from "vitest";
import { BlockReader } from "../../src/engine/byte-source/block-reader.js";
import { BufferSource, FileSource } from "../../src/engine/byte-source/byte-source.js";
import { categoryOf } from "../../src/engine/detect/category.js";
import { compareDeclared, detectFormat, mimesAgree } from "../../src/engine/detect/detect.js";
import { corpusFile, type ExpectedEntry, expectedEntries } from "../support/corpus.js";

/**
 * Names the oracles use for a type that differ from ours only by convention
 * (`file` and exiftool each have their own vocabulary). Documented here so a
 * disagreement that is only a name does not count against detection.
 */
const ORACLE_ALIASES: ReadonlyArray<readonly string[]> = [
  ["image/x-canon-cr3", "image/x-canon-cr2", "video/quicktime"],
  ["image/x-nikon-nef", "image/tiff"],
  ["image/x-sony-arw", "image/tiff"],
  ["image/x-adobe-dng", "image/tiff", "image/dng"],
  ["image/jxl", "image/x-jxl"],
  ["image/jp2", "image/jpx"],
  ["image/vnd.ms-photo", "image/jxr"],
  ["image/x-icon", "image/vnd.microsoft.icon"],
  ["application/x-sqlite3", "application/vnd.sqlite3"],
  ["application/vnd.tcpdump.pcap", "application/vnd.tcpdump.pcap"],
  [
    "application/x-cfb",
    "application/CDFV2",
    "application/x-ole-storage",
    "application/vnd.ms-excel",
    "application/msword",
  ],
  ["application/x-ms-asf", "video/x-ms-asf", "video/x-ms-wmv", "audio/x-ms-wma"],
  ["audio/x-musepack", "audio/musepack"],
  ["audio/wavpack", "audio/x-wavpack"],
  ["audio/ape", "audio/x-ape", "audio/x-monkeys-audio"],
  ["audio/x-dff", "audio/dff", "audio/x-dsf"],
  ["audio/aac", "audio/x-hx-aac-adts", "audio/x-aac"],
  ["audio/ac3", "audio/vnd.dolby.dd-raw", "audio/x-ac3"],
  ["audio/amr", "audio/x-amr", "audio/AMR"],
  ["audio/midi", "audio/x-midi", "audio/mid"],
  ["audio/x-m4a", "video/mp4", "audio/mp4"],
  ["video/mp4", "video/quicktime", "video/x-m4v"],
  ["video/mpeg", "video/MP2P", "video/mp2p"],
  ["video/x-flv", "video/flv"],
  ["video/3gpp", "video/mp4"],
  ["audio/ogg", "audio/opus", "video/ogg", "application/ogg"],
  ["application/x-mobipocket-ebook", "application/x-mobipocket", "application/octet-stream"],
  ["application/postscript", "image/x-eps", "application/eps"],
  ["application/vnd.ms-fontobject", "application/vnd.ms-fontobject"],
  ["font/ttf", "font/sfnt", "application/font-sfnt"],
  ["font/otf", "font/sfnt", "application/font-sfnt", "application/vnd.ms-opentype"],
  ["font/collection", "font/sfnt"],
  ["font/woff", "application/font-woff"],
  ["font/woff2", "application/font-woff2"],
  ["application/x-xz", "application/x-xz"],
  ["application/x-compress", "application/x-compress"],
  ["application/x-lz4", "application/x-lz4"],
  ["application/x-tar", "application/x-ustar"],
  ["application/x-rar-compressed", "application/x-rar", "application/vnd.rar"],
  ["application/dicom", "application/dicom"],
  ["application/vnd.apache.parquet", "application/x-parquet"],
  ["application/pgp-encrypted", "application/pgp-keys", "application/pgp"],
  ["text/calendar", "text/calendar"],
  ["text/vcard", "text/x-vcard", "text/vcard"],
];

/** Files where we knowingly differ from both oracles, and why. */
const JUSTIFIED_DISAGREEMENTS: Record<string, string> = {
  "tika-testEXCEL_protected_passtika.xlsx":
    "a password-protected OOXML file is a CFB container holding an EncryptedPackage stream; exiftool names what it would be once decrypted, file says 'encrypted'; the document extractor reports encrypted: true",
  "tika-testWORD_protected_passtika.docx": "as above",
};

function sameType(ours: string, oracle: string | undefined): boolean {
  if (!oracle) return false;
  const theirs = oracle.toLowerCase();
  if (mimesAgree(ours, theirs) || mimesAgree(theirs, ours)) return true;
  return ORACLE_ALIASES.some(
    (group) => group.includes(ours) && group.map((m) => m.toLowerCase()).includes(theirs),
  );
}

/** An oracle "names a type" unless it fell back to a generic answer. */
function names(mime: string | undefined): boolean {
  return (
    mime !== undefined && !["application/octet-stream", "text/plain", "application/x-empty"].includes(mime)
  );
}

async function detectFile(entry: ExpectedEntry) {
  const source = await FileSource.open(corpusFile(entry.name));
  try {
    return await detectFormat(new BlockReader(source), { name: entry.name });
  } finally {
    await source.close();
  }
}

describe("detectFormat over the corpus", () => {
  const entries = expectedEntries();

  it("agrees with file or exiftool on at least 97% of the files either oracle names", async () => {
    const disagreements: string[] = [];
    let compared = 0;
    for (const entry of entries) {
      if (!names(entry.mime) && !names(entry.MIMEType)) continue;
      compared++;
      const format = await detectFile(entry);
      if (!sameType(format.mime, entry.mime) && !sameType(format.mime, entry.MIMEType)) {
        disagreements.push(
          `${entry.name}: ours ${format.mime}, file ${entry.mime}, exiftool ${entry.MIMEType}`,
        );
      }
    }
    const agreement = (compared - disagreements.length) / compared;
    expect(compared).toBeGreaterThan(200);
    expect(agreement, disagreements.join("\n")).toBeGreaterThanOrEqual(0.97);
    expect(disagreements.map((line) => line.split(":")[0])).toEqual(Object.keys(JUSTIFIED_DISAGREEMENTS));
  });

  it("puts every corpus file in a category consistent with its detected type", async () => {
    for (const entry of entries.slice(0, 60)) {
      const format = await detectFile(entry);
      expect(format.category).toBe(categoryOf(format.mime));
    }
  });
});

describe("declared type and name", () => {
  it.each([
    // [detected, declared Content-Type, name, mismatch]
    ["image/jpeg", "image/png", "cat.png", true],
    ["image/jpeg", "image/jpeg", "cat.jpg", false],
    ["image/jpeg", "image/jpg", "cat.JPEG", false],
    ["image/jpeg", undefined, "cat.pdf", true],
    ["image/jpeg", "application/octet-stream", "cat", false],
    ["application/pdf", "application/pdf; charset=binary", "a.pdf", false],
    ["text/csv", "text/plain", "data.txt", false],
    ["application/zip", undefined, "report.docx", false],
    [
      "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
      "application/zip",
      "a.zip",
      false,
    ],
    ["application/x-msdownload", "image/gif", "funny.gif", true],
    ["audio/mpeg", "audio/mp3", "song.mp3", false],
    ["video/mp4", "video/quicktime", "clip.mov", false],
    ["application/x-cfb", "application/vnd.visio", "drawing.vsd", false],
    ["application/x-cfb", undefined, "shapes.vss", false],
    ["application/vnd.ms-visio.drawing", "application/vnd.visio", "drawing.vsdx", false],
    ["application/x-cfb", "image/png", "drawing.vsd", true],
    ["application/x-cfb", "application/vnd.ms-outlook", "Re: invoice.msg", false],
    ["application/x-cfb", undefined, "flyer.pub", false],
    ["application/msword", "application/vnd.ms-excel", "budget.xls", true],
    // Extensions registered as application/octet-stream name no type.
    ["application/x-elf", undefined, "libssl.so", false],
    ["application/x-elf", undefined, "firmware.bin", false],
    ["application/x-msdownload", undefined, "helper.dll", false],
    ["application/x-cfb", undefined, "setup.msi", false],
    ["application/x-elf", undefined, "libssl.so.jpg", true],
    // Compressed files declared by what they hold, as the AWS CLI (Python's mimetypes) declares them.
    ["application/gzip", "application/x-tar", "backup.tar.gz", false],
    ["application/gzip", "application/x-tar", "backup.tgz", false],
    ["application/x-xz", "application/x-tar", "backup.tar.xz", false],
    ["application/x-xz", "application/x-tar", "backup.txz", false],
    ["application/x-bzip2", "application/x-tar", "backup.tar.bz2", false],
    ["application/gzip", "text/csv", "export.csv.gz", false],
    ["application/gzip", "image/svg+xml", "logo.svgz", false],
    ["application/gzip", "image/jpeg", "photo.jpg.gz", false],
    // The name must say so: the same type on another name, or on content of another compression, is a claim.
    ["application/gzip", "application/x-tar", "backup.tar", true],
    ["application/x-xz", "application/x-tar", "backup.tgz", true],
    ["application/gzip", "image/png", "photo.jpg.gz", true],
    ["application/pdf", "application/x-tar", "report.tar.gz", true],
  ] as const)("content %s declared %s named %s: mismatch %s", async (mime, declaredMime, name, mismatch) => {
    const result = await compareDeclared({ mime }, { ...(declaredMime && { declaredMime }), name });
    expect(result.mismatch).toBe(mismatch);
    if (mismatch) expect(result.mismatchReason).toMatch(/content is/);
  });

  // The `mime` table maps .mpc to a Mophun certificate and .jxr to image/jxr; the content's own
  // extension is the one detection gives, so it is not a lie about the type.
  it.each([
    ["filetype-fixture-sv8.mpc", "audio/x-musepack"],
    ["filetype-fixture.jxr", "image/vnd.ms-photo"],
  ])("%s, named with the extension its content has, is no mismatch", async (name, mime) => {
    const source = await FileSource.open(corpusFile(name));
    try {
      const format = await detectFormat(new BlockReader(source), { name });
      expect(format).toMatchObject({ mime, mismatch: false });
    } finally {
      await source.close();
    }
  });

  it("flags an executable disguised as a JPEG", async () => {
    const elf = new Uint8Array(64);
    elf.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
    const format = await detectFormat(new BlockReader(new BufferSource(elf, "x")), {
      declaredMime: "image/jpeg",
      name: "holiday.jpg",
    });
    expect(format.mime).toBe("application/x-elf");
    expect(format.category).toBe("executable");
    expect(format.mismatch).toBe(true);
  });

  it("reports an empty file as empty, never as a mismatch", async () => {
    const format = await detectFormat(new BlockReader(new BufferSource(new Uint8Array(0))), {
      name: "a.jpg",
    });
    expect(format).toMatchObject({ mime: "inode/x-empty", mismatch: false });
  });
});

describe("text that begins with a binary format's magic number", () => {
  it.each([
    ["BMW,X5,2020\nAudi,A4,2019\nFiat,500,2021\n", "text/csv", "cars.csv"],
    [
      "PARENT_DIRECTORY\n----------------\n\nSource directory that added the current subdirectory.\n",
      "text/plain",
    ],
    ["MZ is the postal code of a region\nand this is a list of codes\n", "text/plain"],
    ["ID3 tags are what MP3 players read\nthis note says so\n", "text/plain"],
    ["FORM 1040 instructions\nline 1: wages\n", "text/plain"],
    ["OggS is the capture pattern of an Ogg page\n", "text/plain"],
    ["fLaC is FLAC's marker\n", "text/plain"],
    ["ITSF: the CHM signature\n", "text/plain"],
    ["ttcf begins a font collection\n", "text/plain"],
    ["MThd begins a MIDI file\n", "text/plain"],
    ["BZh91AY&SY begins a bzip2 stream\n", "text/plain"],
    ["SQLite format 3 is the header string\n", "text/plain"],
  ])("%j is text, not the format its first bytes spell", async (text, mime, name = "notes.txt") => {
    const format = await detectFormat(new BlockReader(new BufferSource(Buffer.from(text), name)), { name });
    expect(format.mime).toBe(mime);
    expect(format.category).toBe("text");
  });

  it("still names a real header that begins with such a word", async () => {
    // A BMP header: "BM", file size, reserved zeros, pixel offset, a 40-byte DIB header.
    const bmp = Buffer.alloc(70);
    bmp.write("BM", 0, "latin1");
    bmp.writeUInt32LE(70, 2);
    bmp.writeUInt32LE(54, 10);
    bmp.writeUInt32LE(40, 14);
    bmp.writeInt32LE(2, 18);
    bmp.writeInt32LE(2, 22);
    bmp.writeUInt16LE(1, 26);
    bmp.writeUInt16LE(24, 28);
    const format = await detectFormat(new BlockReader(new BufferSource(bmp, "a.bmp")), { name: "a.bmp" });
    expect(format.mime).toBe("image/bmp");
    // A Parquet file: "PAR1", a page header in Thrift's compact encoding (binary), ..., "PAR1".
    const parquet = Buffer.concat([
      Buffer.from("PAR1"),
      Buffer.from([0x15, 0x00, 0x15, 0x1c, 0x2c]),
      Buffer.from("PAR1"),
    ]);
    const named = await detectFormat(new BlockReader(new BufferSource(parquet, "t.parquet")), {
      name: "t.parquet",
    });
    expect(named.mime).toBe("application/vnd.apache.parquet");
  });
});

describe("scripts named by their #! line", () => {
  it.each([
    ["install", undefined, "application/x-sh"],
    ["run.sh", "application/x-shellscript", "application/x-sh"],
    ["tool.py", "text/x-script.python", "text/x-python"],
    ["cli.js", "application/javascript", "text/javascript"],
  ])("%s (declared %s) is %s, and no mismatch", async (name, declaredMime, mime) => {
    const interpreter =
      { "application/x-sh": "/bin/sh", "text/x-python": "/usr/bin/env python3" }[mime] ?? "/usr/bin/env node";
    const text = `#!${interpreter}\n# a comment, not a heading\n\nrun\n`;
    const format = await detectFormat(new BlockReader(new BufferSource(Buffer.from(text), name)), {
      name,
      ...(declaredMime && { declaredMime }),
    });
    expect(format).toMatchObject({ mime, category: "text", mismatch: false });
  });
});
