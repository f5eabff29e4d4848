import { fileTypeFromTokenizer } from "file-type/core";
import type { BlockReader } from "../byte-source/block-reader.js";
import { ReaderTokenizer } from "../byte-source/reader-tokenizer.js";
import { is8svx } from "../extractors/media/iff-8svx.js";
import type { FormatInfo } from "../types.js";
import { categoryOf } from "./category.js";
import { normaliseMime } from "./media-type.js";
import { matchSignature } from "./signatures.js";
import { sniffText, TEXT_SNIFF_BYTES, type TextSniff } from "./text-sniff.js";
import { zipPackageType } from "./zip-container.js";
// After file-type: replaces the ZIP entry inflation file-type installs (see the module).
import "./zip-inflate.js";

/**
 * Bytes file-type may look at. It scans forward through ZIP local headers and
 * skips over ID3 tags; past this window an ID3 tag means MP3, and a zip is
 * told from a document package by the central directory at its tail
 * (`zipPackageType` here, `refineZipFormat` on the extraction path).
 */
export const DETECTION_WINDOW_BYTES = 256 * 1024;

/**
 * file-type names a Visio drawing package (.vsdx), when it can walk the local
 * headers, by the type of the legacy binary .vsd; the catalog names it, as it
 * names the other Visio packages and a .vsdx with ZIP64 headers, by the type
 * registered for its main part.
 */
const FILE_TYPE_RENAMES: ReadonlyMap<string, { mime: string; ext: string }> = new Map([
  ["application/vnd.visio", { mime: "application/vnd.ms-visio.drawing", ext: "vsdx" }],
]);

/** What the uploader said the file is. Hints only: content decides. */
export interface DetectHints {
  /** Declared Content-Type (parameters such as `; charset=` are ignored). */
  declaredMime?: string;
  /** File name or object key; its extension is compared with the content. */
  name?: string;
}

const GENERIC_MIMES = new Set(["", "application/octet-stream", "binary/octet-stream", "application/unknown"]);

/**
 * Names for one format that differ only by convention. Two MIME types in the
 * same group never count as a mismatch.
 */
const ALIAS_GROUPS: readonly (readonly string[])[] = [
  ["image/jpeg", "image/jpg", "image/pjpeg"],
  ["image/png", "image/apng", "image/x-png"],
  ["image/bmp", "image/x-bmp", "image/x-ms-bmp"],
  ["image/x-icon", "image/vnd.microsoft.icon", "image/ico"],
  ["image/tiff", "image/tiff-fx"],
  ["image/heic", "image/heif", "image/heic-sequence", "image/heif-sequence"],
  ["image/avif", "image/avif-sequence"],
  ["image/vnd.adobe.photoshop", "image/x-photoshop", "application/x-photoshop", "image/psd"],
  ["audio/mpeg", "audio/mp3", "audio/x-mp3", "audio/mpa", "audio/mpeg3"],
  ["audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave"],
  ["audio/flac", "audio/x-flac"],
  ["audio/aac", "audio/x-aac", "audio/aacp"],
  ["audio/aiff", "audio/x-aiff"],
  ["audio/ogg", "audio/opus", "audio/vorbis", "application/ogg", "video/ogg", "audio/x-speex", "audio/speex"],
  ["audio/mp4", "audio/x-m4a", "audio/m4a", "video/mp4", "audio/x-m4b", "application/mp4", "video/x-m4v"],
  ["video/quicktime", "video/mp4"],
  ["video/webm", "audio/webm", "video/matroska", "video/x-matroska", "audio/matroska", "audio/x-matroska"],
  ["video/x-msvideo", "video/vnd.avi", "video/avi", "video/msvideo"],
  ["image/jp2", "image/jpx", "image/j2c", "image/x-j2c", "image/x-jp2-codestream"],
  // JPEG XR: Microsoft's HD Photo type, which file-type gives, and the one ITU-T registered later.
  ["image/vnd.ms-photo", "image/jxr"],
  ["font/collection", "font/ttf", "font/sfnt"],
  ["video/x-ms-asf", "video/x-ms-wmv", "audio/x-ms-wma", "application/vnd.ms-asf"],
  ["video/3gpp", "audio/3gpp", "video/3gpp2"],
  ["application/zip", "application/x-zip-compressed", "application/x-zip"],
  ["application/gzip", "application/x-gzip", "application/x-gunzip"],
  // A comic book archive of RAR: IANA's type and the one the `mime` table gives .cbr (and .cbz).
  [
    "application/x-rar-compressed",
    "application/vnd.rar",
    "application/x-rar",
    "application/vnd.comicbook-rar",
    "application/x-cbr",
  ],
  ["application/x-7z-compressed", "application/x-7z"],
  ["application/x-bzip2", "application/x-bzip"],
  ["application/x-xz", "application/xz"],
  ["application/zstd", "application/x-zstd"],
  // Debian packages: file-type's name, IANA's (which `file` gives), and dpkg's older one (the `mime` table's).
  ["application/x-deb", "application/vnd.debian.binary-package", "application/x-debian-package"],
  ["application/x-rpm", "application/x-redhat-package-manager"],
  ["application/xml", "text/xml"],
  // Netpbm: the portable anymap's type (.pnm) names any of the three; `file` spells graymap "greymap".
  ["image/x-portable-anymap", "image/x-portable-bitmap"],
  ["image/x-portable-anymap", "image/x-portable-graymap", "image/x-portable-greymap"],
  ["image/x-portable-anymap", "image/x-portable-pixmap"],
  // Compiled Python: shared-mime-info's name, file's, and Python's own mimetypes module's.
  ["application/x-python-bytecode", "application/x-bytecode.python", "application/x-python-code"],
  ["application/rtf", "text/rtf"],
  ["application/vnd.oasis.opendocument.base", "application/vnd.oasis.opendocument.database"],
  // Compound files: file-type names each application/x-cfb. Extraction names Word, Excel, PowerPoint
  // and binary Visio files from the directory (refineCfbFormat), which then disagree with one another;
  // Outlook messages, Publisher and Works files stay x-cfb.
  ["application/x-cfb", "application/msword"],
  ["application/x-cfb", "application/vnd.ms-excel"],
  ["application/x-cfb", "application/vnd.ms-powerpoint"],
  ["application/x-cfb", "application/vnd.visio"],
  ["application/x-cfb", "application/vnd.ms-outlook"],
  ["application/x-cfb", "application/x-mspublisher"],
  ["application/x-cfb", "application/vnd.ms-works"],
  ["application/x-cfb", "application/x-msi"],
  // Windows Installer packages: file's and Python's name, and those browsers and older tables give.
  ["application/x-msi", "application/x-ms-installer", "application/x-windows-installer"],
  // `mime` and many uploaders give a .vsdx Visio's older type, which file-type also names it by.
  ["application/vnd.ms-visio.drawing", "application/vnd.visio"],
  ["application/postscript", "application/eps", "image/x-eps"],
  ["font/ttf", "font/sfnt", "application/x-font-ttf", "application/font-sfnt"],
  ["font/otf", "font/sfnt", "application/x-font-otf", "application/vnd.ms-opentype"],
  ["font/woff", "application/font-woff"],
  ["application/x-elf", "application/x-executable", "application/x-sharedlib"],
  // Scripts: the types the `mime` table and shared-mime-info give, and libmagic's and browsers' names.
  ["application/x-sh", "application/x-shellscript", "text/x-shellscript", "text/x-sh"],
  ["application/x-csh", "text/x-csh"],
  ["application/x-perl", "text/x-perl", "text/x-script.perl"],
  ["text/x-python", "text/x-python3", "text/x-script.python", "application/x-python"],
  ["application/x-ruby", "text/x-ruby", "text/x-script.ruby"],
  ["text/javascript", "application/javascript", "application/x-javascript", "application/node"],
  ["application/x-httpd-php", "application/x-php", "text/x-php"],
  ["application/x-tcl", "text/x-tcl"],
  ["application/x-msdownload", "application/vnd.microsoft.portable-executable", "application/x-dosexec"],
];

/**
 * Formats that are a ZIP archive inside: office documents and e-books, Java and
 * Android packages, iWork documents, and the containers the registry names by
 * their own types (Firefox add-ons, Google Earth's KMZ, XPS, 3MF, Windows app
 * packages, compressed MusicXML, Wallet passes, GeoGebra files), plus every
 * type with the `+zip` suffix (RFC 6839: a comic book's, a USDZ scene's).
 */
const ZIP_BASED =
  /^(application\/(zip|epub\+zip|java-archive|vnd\.android\.package-archive|vnd\.openxmlformats-officedocument\..+|vnd\.ms-(word|excel|powerpoint)\..*macroenabled\.12|vnd\.ms-visio\.(drawing|template|stencil)(\.macroenabled\.12)?|vnd\.oasis\.opendocument\..+|vnd\.apple\.(keynote|pages|numbers|pkpass)|x-xpinstall|vnd\.google-earth\.kmz|vnd\.ms-xpsdocument|oxps|appx|appxbundle|msix|msixbundle|vnd\.recordare\.musicxml|vnd\.geogebra\.file)|model\/3mf|[a-z]+\/[^/]+\+zip)$/;

/**
 * X11's images, C source that declares an array of pixels: sniffed as text,
 * they are what their name says. (The registry's other text formats outside
 * `text/`, such as application/sql, are text to {@link categoryOf}.)
 */
const TEXT_IMAGES: ReadonlySet<string> = new Set(["image/x-xpixmap", "image/x-xbitmap"]);

const isText = (mime: string) => categoryOf(mime) === "text";

/**
 * Extensions that name another format in common use than the one the
 * registry gives them, and which content that other format is: a .ts or .mts
 * file is TypeScript far more often than an MPEG transport stream, a .key
 * file a PEM private key as often as a Keynote document, a .pub file an SSH
 * public key, a .pot file a gettext template, a .bat file a batch script
 * (registered as a Windows program), a .tpl file a text template, a .cat
 * file an SGML catalog, a .prf file a profile, an .afm file font metrics, a
 * .msg file a message catalog (all text; the registry's .msg is Outlook's),
 * a .pfa file a Type 1 font (a PostScript program), a .mpc file Musepack
 * audio (registered as a mophun certificate), a .cbz file a ZIP of comic
 * pages (registered as the RAR comic book's type). Content of that other
 * format agrees with the extension, and with a declared type that is only
 * the extension's registered one, as browsers and `catalog upload` set it
 * from the name.
 */
const SHARED_EXTENSIONS: ReadonlyMap<string, (detected: string) => boolean> = new Map([
  ["ts", isText],
  ["mts", isText],
  ["key", isText],
  ["pub", isText],
  ["pot", isText],
  ["bat", isText],
  ["tpl", isText],
  ["cat", isText],
  ["prf", isText],
  ["afm", isText],
  ["msg", isText],
  ["pfa", (detected: string) => detected === "application/postscript"],
  ["mpc", (detected: string) => detected === "audio/x-musepack"],
  // The table gives a comic book ZIP the RAR comic book's type.
  ["cbz", (detected: string) => detected === "application/zip"],
]);

/** True when `declared` is an acceptable name for content detected as `detected`. */
export function mimesAgree(declared: string, detected: string): boolean {
  if (declared === detected) return true;
  if (ALIAS_GROUPS.some((group) => group.includes(declared) && group.includes(detected))) return true;
  // Text has no magic number: text/plain for a CSV, JSON for text, etc. are not lies.
  if (isText(declared) && isText(detected)) return true;
  if (isText(detected) && TEXT_IMAGES.has(declared)) return true;
  // A zip-based format declared as a plain zip (or the reverse, when detection could not look inside).
  if (ZIP_BASED.test(declared) && ZIP_BASED.test(detected)) {
    return declared === "application/zip" || detected === "application/zip";
  }
  return false;
}

function extensionOf(name: string | undefined): string | undefined {
  if (!name) return undefined;
  const base = name.slice(name.lastIndexOf("/") + 1);
  const dot = base.lastIndexOf(".");
  if (dot <= 0 || dot === base.length - 1) return undefined;
  return base.slice(dot + 1).toLowerCase();
}

type ExtensionTypes = (ext: string) => string | null;
let extensionTypes: Promise<ExtensionTypes> | undefined;

/**
 * The extension → MIME table (the `mime` package: about a thousand types, a
 * third of what detection loads) is needed only for a name whose extension
 * is not the one detected, so it loads then, once; `catalog extract
 * --detect-only` over typical files never pays for it.
 */
function loadExtensionTypes(): Promise<ExtensionTypes> {
  extensionTypes ??= import("mime").then(
    ({ default: mime }) =>
      (ext: string) =>
        mime.getType(ext),
  );
  return extensionTypes;
}

/**
 * Compression suffixes, the stream each names, and the name the content has
 * once decompressed (`.tgz` a tar), as Python's mimetypes maps them
 * (`encodings_map`, `suffix_map`), zstd's added.
 */
const COMPRESSION_SUFFIXES: ReadonlyMap<string, { stream: string; inner?: string }> = new Map([
  ["gz", { stream: "application/gzip" }],
  ["tgz", { stream: "application/gzip", inner: "tar" }],
  ["taz", { stream: "application/gzip", inner: "tar" }],
  ["tz", { stream: "application/gzip", inner: "tar" }],
  ["svgz", { stream: "application/gzip", inner: "svg" }],
  ["xz", { stream: "application/x-xz" }],
  ["txz", { stream: "application/x-xz", inner: "tar" }],
  ["bz2", { stream: "application/x-bzip2" }],
  ["tbz2", { stream: "application/x-bzip2", inner: "tar" }],
  ["tbz", { stream: "application/x-bzip2", inner: "tar" }],
  ["z", { stream: "application/x-compress" }],
  ["zst", { stream: "application/zstd" }],
  ["tzst", { stream: "application/zstd", inner: "tar" }],
]);

/** True when `ext` is a compression suffix (`.gz`, `.svgz`, `.txz` ...) and the content is that compression. */
function compressedAs(ext: string | undefined, detected: string): boolean {
  const suffix = ext === undefined ? undefined : COMPRESSION_SUFFIXES.get(ext);
  return suffix !== undefined && mimesAgree(suffix.stream, detected);
}

/**
 * True when a compressed file is declared by the type of what it holds, as
 * the AWS CLI and Python's mimetypes declare one (`backup.tar.gz` and `.tgz`
 * as application/x-tar, `data.csv.gz` as text/csv, `logo.svgz` as
 * image/svg+xml, the compression being the Content-Encoding they leave
 * unsent): the content is that compression and the name says what is inside.
 *
 * @example
 * await encodedTypeAgrees("application/x-tar", "application/gzip", "backup.tgz") // true
 */
async function encodedTypeAgrees(
  declared: string,
  detected: string,
  name: string | undefined,
): Promise<boolean> {
  const ext = extensionOf(name);
  if (ext === undefined || !compressedAs(ext, detected) || GENERIC_MIMES.has(declared)) return false;
  const inner = COMPRESSION_SUFFIXES.get(ext)?.inner ?? extensionOf(name?.slice(0, -ext.length - 1));
  const innerMime = inner === undefined ? null : (await loadExtensionTypes())(inner);
  return innerMime !== null && mimesAgree(declared, normaliseMime(innerMime));
}

/**
 * Compares the uploader's claims with the content. A name whose extension is
 * the one detection gives the content agrees with it by construction; any
 * other extension is looked up. A generic type (application/octet-stream),
 * declared or looked up, claims nothing. `alsoAgrees` accepts more declared
 * types where the content allows several (an encrypted OOXML package).
 *
 * @example
 * await compareDeclared({ mime: "application/x-msdownload", ext: "exe" }, { name: "funny.gif" });
 * // { declaredExt: "gif", mismatch: true, mismatchReason: "extension .gif suggests image/gif but ..." }
 */
export async function compareDeclared(
  detected: Pick<FormatInfo, "mime"> & { ext?: string },
  hints: DetectHints,
  alsoAgrees: (declared: string) => boolean = () => false,
): Promise<Pick<FormatInfo, "declaredMime" | "declaredExt" | "mismatch" | "mismatchReason">> {
  const declaredMime = normaliseMime(hints.declaredMime);
  const declaredExt = extensionOf(hints.name);
  const reasons: string[] = [];
  const unknown = detected.mime === "application/octet-stream";
  const agree = (declared: string) => mimesAgree(declared, detected.mime) || alsoAgrees(declared);
  // The content is the other format its shared extension names: the registry's type for it claims nothing.
  const shared = declaredExt !== undefined && SHARED_EXTENSIONS.get(declaredExt)?.(detected.mime) === true;
  const extMime =
    declaredExt && (shared || declaredExt !== detected.ext)
      ? (await loadExtensionTypes())(declaredExt)
      : null;
  const nameOnly = shared && declaredMime === extMime;
  if (
    !unknown &&
    !GENERIC_MIMES.has(declaredMime) &&
    !nameOnly &&
    !agree(declaredMime) &&
    !(await encodedTypeAgrees(declaredMime, detected.mime, hints.name))
  ) {
    reasons.push(`declared Content-Type ${declaredMime} but content is ${detected.mime}`);
  }
  // .bin, .so, .dll, .msi... are registered as application/octet-stream: "some binary", no claim.
  if (
    !unknown &&
    !shared &&
    declaredExt !== detected.ext &&
    extMime &&
    !GENERIC_MIMES.has(extMime) &&
    !agree(extMime) &&
    !compressedAs(declaredExt, detected.mime)
  ) {
    reasons.push(`extension .${declaredExt} suggests ${extMime} but content is ${detected.mime}`);
  }
  return {
    ...(declaredMime && { declaredMime }),
    ...(declaredExt && { declaredExt }),
    mismatch: reasons.length > 0,
    ...(reasons.length > 0 && { mismatchReason: reasons.join("; ") }),
  };
}

/** Kinds of text sniffing guesses from how lines look; any of them may be source code, notes or data. */
const GUESSED_TEXT_KINDS: ReadonlySet<string> = new Set([
  "text/plain",
  "text/markdown",
  "text/csv",
  "text/tab-separated-values",
]);

/** Kinds of text told by their structure (a JSON parse, markup, a header line): a name does not override them. */
const STRUCTURED_TEXT =
  /^(application\/(json|xml|x-subrip)|text\/(xml|html|vtt|calendar|vcard))$|\+(json|xml)$/;

/**
 * The kind of text its name says, for text whose kind sniffing could only
 * guess. Text has no magic number: Python's `# comments` read as Markdown
 * headings, a `.d.ts` file's commas as a table. The name's extension then
 * tells better, when it names a kind of text: `.py` text/x-python, `.c`
 * text/x-c, `.sql` application/sql; a shared extension's text (a `.ts` file,
 * a `.key`) is plain text, and so is "Markdown" named with an extension the
 * table does not know (`.py`, `.rb`, `.rst`). Undefined leaves the guess, as
 * does a name that says only "plain text".
 */
async function namedTextKind(
  guessed: { mime: string; ext: string },
  name: string | undefined,
): Promise<{ mime: string; ext: string } | undefined> {
  const ext = extensionOf(name);
  if (!ext || ext === guessed.ext || !GUESSED_TEXT_KINDS.has(guessed.mime)) return undefined;
  if (SHARED_EXTENSIONS.get(ext)?.(guessed.mime)) return { mime: "text/plain", ext };
  const named = (await loadExtensionTypes())(ext);
  // An extension the table does not know (.py, .rb, .go, .rst) still says the text is not Markdown.
  if (!named) return guessed.mime === "text/markdown" ? { mime: "text/plain", ext } : undefined;
  // "Plain text" (.txt, .log, .text) names no kind: a table or Markdown in it keeps its guess.
  if (!named || named === "text/plain" || !isText(named) || STRUCTURED_TEXT.test(named)) return undefined;
  return { mime: named, ext };
}

/**
 * Binary formats file-type names by a magic number that text can begin with:
 * "BM" (a line of car makes, "BMW,..."), "MZ", "ID3", "FORM", "OggS",
 * "PARE" ("PARENT_DIRECTORY"), "ITSF", "ttcf", "fLaC", "MThd", "Cr24",
 * "BZh", "SQLite format 3". Each one's header holds, within its first bytes, a NUL or a binary
 * length that text never does; see {@link openingText}.
 */
const TEXT_PREFIXED_MAGIC = new Set([
  ...["image/bmp", "audio/aiff", "audio/mpeg", "application/vnd.ms-htmlhelp", "application/x-msdownload"],
  ...["application/ogg", "audio/ogg", "audio/opus", "video/ogg", "application/vnd.apache.parquet"],
  ...["font/collection", "audio/flac", "audio/midi", "application/x-google-chrome-extension"],
  ...["application/x-bzip2", "application/x-sqlite3"],
]);

/** Bytes of a header that must hold a byte text never does for a weak magic number to stand. */
const MAGIC_HEADER_BYTES = 64;

/**
 * The text the file opens as, when it does: its first bytes hold no control
 * character besides tab, line feed, form feed and carriage return, and its
 * head reads as text. A magic number in {@link TEXT_PREFIXED_MAGIC} is then a
 * word, and this sniff is the file's kind.
 */
async function openingText(reader: BlockReader): Promise<TextSniff | undefined> {
  const head = await reader.read(0, TEXT_SNIFF_BYTES);
  const header = head.subarray(0, MAGIC_HEADER_BYTES);
  for (const byte of header) {
    if ((byte < 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0c && byte !== 0x0d) || byte === 0x7f)
      return undefined;
  }
  return sniffText(head, reader.size);
}

/** MPEG transport stream packets checked for their sync byte: file-type checks two. */
const TS_PACKETS_CHECKED = 8;

/**
 * Whether a magic number file-type takes on little evidence holds, where
 * other binary files begin the same way: a TrueType font's `00 01 00 00 00`
 * (a GTK icon cache, version 1.0, begins so) needs a table directory of at
 * least one table whose tags are printable; an MPEG transport stream's sync
 * byte 0x47 at 0 and 188 (a GObject typelib's "GOBJ" meets it by chance)
 * needs it at the start of every packet the first {@link TS_PACKETS_CHECKED}
 * would cover, 192 bytes apart for Blu-ray's BDAV streams.
 */
async function weakMagicHolds(reader: BlockReader, mime: string): Promise<boolean> {
  if (mime === "font/ttf") {
    const head = await reader.read(0, 12 + 4 * 16);
    const tables = head.byteLength >= 12 ? ((head[4] as number) << 8) | (head[5] as number) : 0;
    if (tables === 0) return false;
    for (let at = 12; at < 12 + 16 * Math.min(tables, 4) && at + 4 <= head.byteLength; at += 16) {
      if (!head.subarray(at, at + 4).every((byte) => byte >= 0x20 && byte <= 0x7e)) return false;
    }
    return true;
  }
  if (mime === "video/mp2t") {
    const head = await reader.read(0, 4 + 192 * TS_PACKETS_CHECKED);
    const syncedEvery = (first: number, stride: number) => {
      for (let at = first; at < head.byteLength; at += stride) if (head[at] !== 0x47) return false;
      return true;
    };
    return syncedEvery(0, 188) || syncedEvery(4, 192);
  }
  return true;
}

/**
 * Works out what a file is from its content: file-type's magic numbers first,
 * then text sniffing for formats that have none. Declared type and name are
 * compared, never trusted.
 *
 * @example
 * const format = await detectFormat(reader, { declaredMime: "image/png", name: "cat.png" });
 * // { mime: "image/jpeg", ext: "jpg", category: "image", declaredMime: "image/png", mismatch: true, ... }
 */
export async function detectFormat(reader: BlockReader, hints: DetectHints = {}): Promise<FormatInfo> {
  if (reader.size === 0) {
    return { mime: "inode/x-empty", ext: "", category: "other", mismatch: false };
  }
  let mime = "application/octet-stream";
  let ext = "bin";
  let found = await fileTypeFromTokenizer(new ReaderTokenizer(reader, {}, DETECTION_WINDOW_BYTES));
  // A weak magic number at the start of text is a word: the file is that text, and no signature is tried.
  const wordText =
    found && TEXT_PREFIXED_MAGIC.has(normaliseMime(found.mime)) ? await openingText(reader) : undefined;
  if (wordText || (found && !(await weakMagicHolds(reader, normaliseMime(found.mime))))) found = undefined;
  if (found) {
    // file-type may add parameters ("audio/ogg; codecs=opus"); the catalog keys on the bare type.
    mime = normaliseMime(found.mime);
    ext = found.ext;
    ({ mime, ext } = FILE_TYPE_RENAMES.get(mime) ?? { mime, ext });
    // Amiga 8SVX sound shares AIFF's FORM container and, as `file` and shared-mime-info have it, its type.
    if (mime === "audio/aiff" && is8svx(await reader.read(0, 12))) ext = "8svx";
  }
  if (mime === "application/zip") {
    // file-type stops at local headers it cannot follow; the directory at the tail lists every entry.
    ({ mime, ext } = (await zipPackageType(reader)) ?? { mime, ext });
  }
  // file-type reads a UTF-16LE BOM (FF FE) as an MPEG audio frame sync; text with a BOM wins.
  const bomMisread = mime === "audio/mpeg";
  if (!found || mime === "application/xml" || bomMisread) {
    const head = await reader.read(0, TEXT_SNIFF_BYTES);
    const signature = found || wordText ? undefined : matchSignature(head);
    const guessed = signature ?? wordText ?? sniffText(head, reader.size);
    if (guessed && (!bomMisread || ("bom" in guessed && guessed.bom))) {
      ({ mime, ext } = signature ? guessed : ((await namedTextKind(guessed, hints.name)) ?? guessed));
    }
  }
  if (mime === "application/octet-stream" && (await isIsoImage(reader))) {
    mime = "application/x-iso9660-image";
    ext = "iso";
  }
  return { mime, ext, category: categoryOf(mime), ...(await compareDeclared({ mime, ext }, hints)) };
}

/** Where an ISO 9660 image's first volume descriptor starts: sector 16, past the system area. */
const ISO_DESCRIPTORS_OFFSET = 16 * 2048;

/**
 * An ISO 9660 image (a CD or DVD image, a .iso): its magic number "CD001"
 * sits at byte 32,769, past any window file-type reads, so it is looked for
 * only when nothing else named the file.
 */
async function isIsoImage(reader: BlockReader): Promise<boolean> {
  if (reader.size < ISO_DESCRIPTORS_OFFSET + 2048) return false;
  const descriptor = await reader.read(ISO_DESCRIPTORS_OFFSET, 7);
  return String.fromCharCode(...descriptor.subarray(1, 7)) === "CD001\x01";
}
