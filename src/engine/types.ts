/**
 * The engine's result shape. It is stable: the catalog stores it as the body of
 * every record, so a change here is a change of `extractorVersion` (and, when a
 * field changes meaning, of the catalog's `schemaVersion`).
 */

import type { LimitKind } from "./errors.js";

/** Broad families used for browsing, policy and the category index. */
export type Category =
  | "image"
  | "video"
  | "audio"
  | "pdf"
  | "document"
  | "archive"
  | "font"
  | "text"
  | "executable"
  | "other";

/** Outcome of one extraction. `partial` keeps what was decoded before a limit or a content error. */
export type ExtractionStatus = "ok" | "partial" | "error";

/** What the file is, from its content; declared type and name are hints only. */
export interface FormatInfo {
  /** MIME type detected from the content (`application/octet-stream` when unknown). */
  mime: string;
  /** Canonical extension for the detected type, without a dot (`bin` when unknown). */
  ext: string;
  category: Category;
  /** The Content-Type the uploader declared, if any. */
  declaredMime?: string;
  /** The extension of the file name or key, lower-case, if any. */
  declaredExt?: string;
  /** True when the declared type or the name's extension contradicts the content. */
  mismatch: boolean;
  /** Which of the declared hints contradicts the content. */
  mismatchReason?: string;
}

/** GPS position in signed decimal degrees (north and east positive). */
export interface GpsPosition {
  lat: number;
  lon: number;
  altitude?: number;
}

export interface ExifInfo {
  make?: string;
  model?: string;
  lens?: string;
  software?: string;
  /**
   * When the picture was taken, as ISO 8601: EXIF DateTimeOriginal, else EXIF
   * DateTimeDigitized (each with its EXIF offset when the file records one),
   * else XMP's exif:DateTimeOriginal, photoshop:DateCreated or xmp:CreateDate
   * (with the zone the packet states; an XMP date may be a day alone, `YYYY-MM-DD`).
   * Never a modification date (EXIF DateTime, xmp:ModifyDate), which edits rewrite.
   */
  takenAt?: string;
  /** Exposure time in seconds. */
  exposureTime?: number;
  fNumber?: number;
  iso?: number;
  focalLength?: number;
  gps?: GpsPosition;
  title?: string;
  artist?: string;
  copyright?: string;
}

export interface ImageInfo {
  width: number;
  height: number;
  /** EXIF orientation 1-8 when stated. */
  orientation?: number;
  bitDepth?: number;
  colorType?: string;
  /** Number of frames or pages (animated GIF/PNG/WebP, AVIF/HEIF sequences, multi-page TIFF, ICO images). */
  frames?: number;
  animated?: boolean;
  /** An animation's total display time in seconds: its frames' delays added up (GIF, APNG, WebP), or an AVIF/HEIF sequence's movie duration. */
  duration?: number;
  exif?: ExifInfo;
}

export interface MediaInfo {
  /** Duration in seconds. */
  duration?: number;
  container: string;
  codecs: string[];
  /**
   * Bits per second. A video's (a file with a video track) is its overall
   * average, every track together, as players' "overall bit rate" and
   * exiftool's AvgBitrate count it: an MP4/QuickTime movie's `mdat` bytes, or
   * another container's whole file, times 8 over its duration (none without
   * one); an FLV file's, its metadata's video and audio data rates added up.
   * An audio file's is its audio stream's.
   */
  bitrate?: number;
  sampleRate?: number;
  channels?: number;
  width?: number;
  height?: number;
  frameRate?: number;
  /** Where it was recorded, from a QuickTime/MP4 location (ISO 6709), as phones write it. */
  gps?: GpsPosition;
  /**
   * The recording device's maker and model, named as a photo's `exif.make` and
   * `exif.model`: from a QuickTime/MP4 movie's metadata keys (Apple's
   * `com.apple.quicktime.make`/`.model`, Android's `com.android.manufacturer`/`.model`)
   * or its user data (`©mak`/`©mod`, a camera's `manu`/`modl`).
   */
  make?: string;
  model?: string;
  tags?: {
    title?: string;
    artist?: string;
    album?: string;
    year?: number;
    genre?: string;
    /**
     * The copyright notice the file states: an ID3v2 TCOP, MP4 `cprt`/`©cpy`,
     * Vorbis, APE or ASF Copyright, AIFF `(c) ` chunk, or a RIFF INFO list's `ICOP` (WAVE, AVI).
     */
    copyright?: string;
  };
}

export interface PdfInfo {
  pages?: number;
  version?: string;
  title?: string;
  author?: string;
  subject?: string;
  keywords?: string;
  producer?: string;
  creator?: string;
  created?: string;
  modified?: string;
  encrypted: boolean;
  linearized?: boolean;
}

export interface DocumentInfo {
  /** ooxml, odf, epub, cfb, rtf, mobi, postscript, eps, sqlite ... */
  kind: string;
  title?: string;
  /**
   * The subject the document states (OOXML and ODF `dc:subject`, a legacy
   * Office file's SummaryInformation, RTF `\subject`); an EPUB's
   * `dc:subject` elements joined with ", ".
   */
  subject?: string;
  /**
   * The keywords the document states, as one string: as written where the
   * format keeps one value (OOXML `cp:keywords`, SummaryInformation, RTF
   * `\keywords`), joined with ", " where it keeps several (ODF
   * `meta:keyword`).
   */
  keywords?: string;
  creator?: string;
  lastModifiedBy?: string;
  /**
   * ISO 8601 as the document writes it (OOXML, ODF, RTF ...); a legacy
   * Office file's SummaryInformation FILETIME in UTC, to the second.
   */
  created?: string;
  /** As {@link DocumentInfo.created}. */
  modified?: string;
  /**
   * The application the document names (OOXML `Application`, ODF
   * `meta:generator`, a DSC `%%Creator`); for a compound file, the one its
   * directory shows, from which its type is named, never its PIDSI_APPNAME.
   */
  application?: string;
  language?: string;
  /** Pages (for a legacy Office file, Word's PIDSI_PAGECOUNT only). */
  pages?: number;
  /** Words (for a legacy Office file, Word's and PowerPoint's PIDSI_WORDCOUNT only). */
  words?: number;
  /** Slides (for a legacy PowerPoint file, DocumentSummaryInformation's PIDDSI_SLIDECOUNT). */
  slides?: number;
  sheets?: number;
  encrypted?: boolean;
  /**
   * True when the document carries macros, whatever its type says: a VBA
   * project (OOXML `vbaProject.bin`, in Visio's packages too, a legacy
   * Word/Excel/Visio file's VBA storage, a legacy PowerPoint file's VBAInfoAtom
   * flag, reached through the current edit's persist directory), Excel 4.0
   * macro sheets (OOXML, and the BOUNDSHEET records of a legacy .xls/.xlt,
   * encrypted workbooks included) and the VBA module sheets those records
   * list in Excel 5/95 workbooks, or Basic modules and scripts (ODF);
   * absent otherwise, and absent with a warning when a legacy file could
   * not be read far enough to tell (an encrypted or damaged presentation, a
   * read budget run out).
   */
  macros?: boolean;
}

export interface ArchiveInfo {
  /** zip, gzip, tar, 7z, rar, xz, zstd, bzip2, iso9660, deb, rpm, msi ... */
  kind: string;
  entries?: number;
  /** Sum of declared uncompressed sizes, in bytes. */
  uncompressedSize?: number;
  /** uncompressedSize / compressed size. */
  ratio?: number;
  encrypted: boolean;
  /** The first entries' names, in archive order. */
  sample: string[];
  /** True when the declared sizes look like a decompression bomb. */
  bomb?: boolean;
  /** Entries that are themselves archives (by name: .zip, .gz, .7z ...), among those listed. */
  nestedArchives?: number;
  /** gzip: the original file name stored in the header. */
  originalName?: string;
  /**
   * gzip: the original file's modification time from the header (MTIME); an ISO 9660 image: its volume's
   * modification date. ISO 8601 in UTC; absent when unset.
   */
  modified?: string;
  /** An ISO 9660 image: its volume's creation date, ISO 8601 in UTC. */
  created?: string;
  /** An ISO 9660 image: its volume identifier, the name a system shows when it mounts it. */
  label?: string;
  /** An ISO 9660 image: its publisher identifier. */
  publisher?: string;
  /** An ISO 9660 image: the application identifier, the program that made it. */
  application?: string;
  /** True when `entries` or `uncompressedSize` were not established for the whole archive. */
  estimated?: boolean;
}

export interface TextInfo {
  /**
   * Named as `file --mime-encoding` names it (us-ascii, utf-8, utf-16le,
   * utf-16be, iso-8859-1; windows-1252 for its unknown-8bit), or, for text in
   * another legacy character set, by its WHATWG label: windows-1251, koi8-r,
   * ibm866, x-mac-cyrillic, iso-8859-7, windows-1256, big5, euc-kr, shift_jis ...
   */
  encoding: string;
  bom: boolean;
  lineEndings: "lf" | "crlf" | "cr" | "mixed" | "none";
  lines: number;
  words: number;
  chars: number;
  /** True when the counts were extrapolated from a prefix of the file. */
  estimated: boolean;
  csv?: { delimiter: string; columns: number };
  json?: { valid: boolean; topLevel?: "object" | "array" | "string" | "number" | "boolean" | "null" };
}

/**
 * How a font may be embedded in documents, from its `OS/2` table's `fsType`
 * (OpenType specification, OS/2 table). The font's vendor grants these
 * rights; the licence ({@link FontInfo.license}) is what binds.
 */
export interface FontEmbedding {
  /**
   * The usage permission, fsType bits 0-3: `installable` (no bit set: may be
   * embedded and installed for good on the system that receives it),
   * `editable` (bit 3: embedded and loaded temporarily; documents may be
   * edited and saved), `preview-and-print` (bit 2: embedded and loaded
   * temporarily; documents open read-only) or `restricted-license` (bit 1:
   * not to be modified, embedded or exchanged without the owner's
   * permission). The specification allows one; a font that sets several gets
   * the least restrictive of them, with a warning.
   */
  usage: "installable" | "editable" | "preview-and-print" | "restricted-license";
  /** Bit 8: the font may be embedded only whole, never as a subset. */
  noSubsetting: boolean;
  /** Bit 9: only the font's bitmaps may be embedded, no outlines. */
  bitmapOnly: boolean;
  /** The field as the font stores it, to compare with other tools (fontTools, FreeType). */
  fsType: number;
}

/** One design axis of a variable font, from its `fvar` table. */
export interface FontAxis {
  /** The axis tag: `wght`, `wdth`, `opsz`, `ital`, `slnt`, or a foundry's own (upper case). */
  tag: string;
  min: number;
  default: number;
  max: number;
}

export interface FontInfo {
  family?: string;
  subfamily?: string;
  fullName?: string;
  version?: string;
  /** The `name` table's copyright notice (name ID 0). */
  copyright?: string;
  /** Trademark notice (name ID 7). */
  trademark?: string;
  /**
   * The foundry, as the font names it (name ID 8, "Manufacturer"). The
   * four-letter vendor code of the `OS/2` table is {@link FontInfo.vendorId}.
   */
  vendor?: string;
  /**
   * The `OS/2` table's `achVendID`: the vendor's four-character code in
   * Microsoft's registry (`ADBE`, `GOOG`, `MONO`). Font editors write their
   * own when the designer sets none (FontForge `PfEd`), so it names the
   * vendor less surely than {@link FontInfo.vendor}.
   */
  vendorId?: string;
  /** Designer (name ID 9). */
  designer?: string;
  /**
   * The licence description (name ID 13): a summary or the whole licence
   * text, kept up to 16,384 characters (longer ones end in "…").
   */
  license?: string;
  /** Where the licence is published (name ID 14). */
  licenseUrl?: string;
  /** Embedding permissions (`OS/2` fsType); absent when the font has no `OS/2` table. */
  embedding?: FontEmbedding;
  /** Number of glyphs (`maxp` numGlyphs). */
  glyphs?: number;
  /** A variable font's design axes (`fvar`), in the font's order. */
  axes?: FontAxis[];
  /** A variable font's named instances (`fvar`), such as "Bold" or "Condensed Light". */
  instances?: number;
  /** Number of faces in a collection (TTC). */
  faces?: number;
}

export interface ExecutableInfo {
  /** elf, pe, mach-o, wasm ... */
  format: string;
  architecture?: string;
  bits?: 32 | 64;
  endianness?: "little" | "big";
  type?: string;
  /** ELF: dynamic (it names an interpreter, or has a dynamic section), static-pie, or static, as `file` says. */
  linking?: "dynamic" | "static" | "static-pie";
  /** ELF: the program interpreter (PT_INTERP), `/lib64/ld-linux-x86-64.so.2`. */
  interpreter?: string;
  /** ELF: the GNU build id, lowercase hex: what debuggers and debuginfod find its debug symbols by. */
  buildId?: string;
  /** ELF: true when it has no symbol table (`file`'s "stripped"). */
  stripped?: boolean;
  /** PE: the subsystem it runs under (windows-gui, windows-console, efi-application, native ...). */
  subsystem?: string;
  /** PE: true when it carries an Authenticode signature (a PKCS#7 certificate table; the signature is not verified). */
  signed?: boolean;
  /** PE: true for a .NET assembly (it has a CLR runtime header). */
  dotnet?: boolean;
  /** PE version resource: ProductName. */
  product?: string;
  /** PE version resource: ProductVersion as the string states it, else the fixed four-part version. */
  productVersion?: string;
  /** PE version resource: CompanyName. */
  company?: string;
  /** PE version resource: FileDescription. */
  description?: string;
  /** PE version resource: FileVersion as the string states it, else the fixed four-part version. */
  fileVersion?: string;
  /** PE version resource: OriginalFilename, the name it was built as. */
  originalName?: string;
  /** PE version resource: LegalCopyright. */
  copyright?: string;
}

/**
 * A software package's description of itself: a Debian package's `control`
 * file, an RPM package's header, a Python wheel's core metadata, a Java
 * archive's Maven coordinates or manifest, an npm tarball's `package.json`.
 * Its files are listed in `archive`.
 */
export interface PackageInfo {
  /** deb, rpm, msi, wheel, jar, npm */
  format: string;
  name?: string;
  /**
   * As its package manager writes it: Debian `[epoch:]upstream[-revision]`, RPM `[epoch:]version-release`.
   * A JAR's Maven coordinates name it `groupId:artifactId`.
   */
  version?: string;
  /** amd64, arm64, all (Debian); x86_64, aarch64, noarch (RPM); x86, x64, arm64 (Windows Installer); the platforms of a wheel's tags (`any`, `manylinux_2_17_x86_64`). */
  architecture?: string;
  /** The one-line description: the first line of Debian's Description, RPM's and a wheel's Summary, a JAR's Bundle-Description or Bundle-Name. */
  summary?: string;
  /** Debian's Maintainer; RPM's Packager; a wheel's Maintainer, else its Author (or their e-mail forms). */
  maintainer?: string;
  /** RPM's Vendor; a Windows Installer package's Manufacturer; a JAR's Bundle-Vendor or Implementation-Vendor. */
  vendor?: string;
  /**
   * RPM's License, a wheel's License-Expression or License, a JAR's Bundle-License (a Debian package states its
   * licence in a file it installs, not in its control data).
   */
  license?: string;
  /** Debian's Homepage; RPM's URL; a wheel's Home-page or Homepage project URL; a JAR's Bundle-DocURL. */
  homepage?: string;
  /** Debian's Section; RPM's Group. */
  section?: string;
  /** The source it was built from: Debian's Source (absent when named as the package), RPM's source package. */
  source?: string;
  /** Bytes once installed: Debian's Installed-Size (KiB, so a multiple of 1,024), RPM's size of its files. */
  installedSize?: number;
  /** When it was built, ISO 8601 in UTC (RPM's BUILDTIME, a Windows Installer package's creation time; Debian packages state none). */
  builtAt?: string;
}

/** Content-derived sections; only those that apply to a file are present. */
export interface Sections {
  image?: ImageInfo;
  media?: MediaInfo;
  pdf?: PdfInfo;
  document?: DocumentInfo;
  archive?: ArchiveInfo;
  text?: TextInfo;
  font?: FontInfo;
  executable?: ExecutableInfo;
  package?: PackageInfo;
}

/**
 * One file's metadata.
 *
 * @example
 * ```json
 * { "source": "photo.jpg", "size": 51234, "status": "ok", "warnings": [],
 *   "format": { "mime": "image/jpeg", "ext": "jpg", "category": "image", "mismatch": false },
 *   "image": { "width": 640, "height": 480, "exif": { "make": "Canon" } },
 *   "bytesRead": 16384, "durationMs": 3, "extractorVersion": "1.0.0" }
 * ```
 *
 * A file cut short by its budget keeps what was decoded and names the bound:
 * ```json
 * { "status": "partial", "reason": "limit reached: time budget exhausted while parsing media",
 *   "limit": "time", "media": { "container": "MPEG", "codecs": ["MPEG 1 Layer 3"] }, ... }
 * ```
 */
export interface ExtractionResult extends Sections {
  /** Where the bytes came from: a path, or `s3://bucket/key`. */
  source: string;
  size: number;
  status: ExtractionStatus;
  /** Human-readable cause when status is not `ok`. */
  reason?: string;
  /**
   * The bound that cut decoding short, for callers that act on it without
   * parsing `reason` (the pipeline tells a time budget spent waiting on S3 from
   * one spent on the file). Set when a limit error ended the extraction
   * (status `partial` or `error`; any {@link LimitKind}), when a read was
   * refused for the byte, request or time budget, or when an archive or
   * package listing (ZIP, tar, cpio, RAR) stopped at the entry budget
   * (`entries`), even if the extractor went on with what it had (status may
   * stay `ok`, with a warning and `estimated` counts). Absent when nothing was
   * cut. Catalog records do not store it: their `reason` already names the
   * limit, and no query selects by it.
   *
   * @example
   * ```ts
   * const result = await extract(source, { budget: { maxMillis: 50 } });
   * if (result.limit === "time") console.warn(`${result.source}: ${result.reason ?? result.warnings.join("; ")}`);
   * ```
   */
  limit?: LimitKind;
  warnings: string[];
  format: FormatInfo;
  /** Hex SHA-256 of the whole content, when asked for (it reads every byte). */
  sha256?: string;
  /** Bytes fetched from the source, including detection and hashing. */
  bytesRead: number;
  /** Read calls made to the source (for S3: ranged GET requests). */
  readRequests: number;
  durationMs: number;
  extractorVersion: string;
}
