import type { Category } from "../types.js";

// A Record keyed by Category makes the compiler insist that the list below stays complete.
const CATEGORY_ORDER: Record<Category, number> = {
  image: 0,
  video: 1,
  audio: 2,
  pdf: 3,
  document: 4,
  archive: 5,
  text: 6,
  font: 7,
  executable: 8,
  other: 9,
};

/** Every category, in the order people browse them (images first, `other` last). */
export const CATEGORIES: readonly Category[] = (Object.keys(CATEGORY_ORDER) as Category[]).sort(
  (a, b) => CATEGORY_ORDER[a] - CATEGORY_ORDER[b],
);

/** True when `value` names a category. */
export function isCategory(value: unknown): value is Category {
  return typeof value === "string" && Object.hasOwn(CATEGORY_ORDER, value);
}

const DOCUMENT_MIMES = new Set([
  "application/msword",
  "application/vnd.ms-excel",
  "application/vnd.ms-powerpoint",
  "application/x-cfb",
  "application/rtf",
  "text/rtf",
  "application/epub+zip",
  "application/x-mobipocket-ebook",
  "application/postscript",
  "application/eps",
  "application/x-ms-regedit",
  "application/vnd.ms-outlook",
  "application/vnd.apple.keynote",
  "application/vnd.apple.pages",
  "application/vnd.apple.numbers",
]);

const ARCHIVE_MIMES = new Set([
  "application/zip",
  "application/gzip",
  "application/x-gzip",
  "application/x-tar",
  "application/x-7z-compressed",
  "application/x-rar-compressed",
  "application/vnd.rar",
  "application/x-xz",
  "application/zstd",
  "application/x-bzip2",
  "application/x-lzip",
  "application/x-cpio",
  "application/x-compress",
  "application/x-lz4",
  "application/x-lzh-compressed",
  "application/x-arj",
  "application/x-ace-compressed",
  "application/x-apple-diskimage",
  "application/x-iso9660-image",
  "application/vnd.ms-cab-compressed",
  "application/x-unix-archive",
  "application/x-lzma",
  "application/java-archive",
  // Software packages: archives of the files they install, with a package section of their own.
  "application/x-deb",
  "application/vnd.debian.binary-package",
  "application/x-rpm",
  "application/x-msi",
]);

const EXECUTABLE_MIMES = new Set([
  "application/x-elf",
  "application/x-executable",
  "application/x-sharedlib",
  "application/x-msdownload",
  "application/x-dosexec",
  "application/vnd.microsoft.portable-executable",
  "application/x-mach-binary",
  "application/wasm",
  "application/java-vm",
  "application/x-python-bytecode",
  "application/vnd.android.package-archive",
]);

const TEXT_APPLICATION_MIMES = new Set([
  "application/json",
  "application/xml",
  "application/javascript",
  "application/x-sh",
  "application/x-subrip",
  "application/yaml",
  "application/toml",
  // Text formats the registry files under application/ and message/: the types the `mime` table gives
  // .pl, .php, .sql, .dart, .cjs, .tex, .dtd, .eml, .mbox, .csh, .tcl, .nb, .install, .gram and PEM files.
  "application/x-perl",
  "application/x-httpd-php",
  "application/sql",
  "application/vnd.dart",
  "application/node",
  "application/x-tex",
  "application/xml-dtd",
  "message/rfc822",
  "application/mbox",
  "application/x-csh",
  "application/x-tcl",
  // A script named by its #! line: Ruby's type in shared-mime-info (the `mime` table has no .rb).
  "application/x-ruby",
  "application/mathematica",
  "application/x-install-instructions",
  "application/srgs",
  "application/pgp-keys",
  "application/pgp-signature",
  "application/x-x509-ca-cert",
  "application/pkix-cert",
  "application/pkix-crl",
  "application/x-pkcs7-certificates",
]);

/**
 * The browsing family of a MIME type.
 *
 * @example
 * categoryOf("application/vnd.oasis.opendocument.text") // "document"
 */
export function categoryOf(mime: string): Category {
  const [top = "", sub = ""] = mime.toLowerCase().split("/");
  if (mime === "application/pdf") return "pdf";
  if (top === "image") return "image";
  if (top === "video") return "video";
  if (top === "audio") return "audio";
  if (top === "font" || mime === "application/vnd.ms-fontobject" || mime === "application/font-sfnt") {
    return "font";
  }
  if (DOCUMENT_MIMES.has(mime)) return "document";
  if (
    sub.startsWith("vnd.openxmlformats-officedocument") ||
    sub.startsWith("vnd.oasis.opendocument") ||
    /^vnd\.ms-(word|excel|powerpoint)\..*macroenabled/.test(sub) ||
    /^vnd\.ms-visio\.(drawing|template|stencil)(\.macroenabled\.12)?$/.test(sub)
  ) {
    return "document";
  }
  if (ARCHIVE_MIMES.has(mime)) return "archive";
  if (EXECUTABLE_MIMES.has(mime)) return "executable";
  if (top === "text" || TEXT_APPLICATION_MIMES.has(mime) || sub.endsWith("+json") || sub.endsWith("+xml")) {
    return "text";
  }
  return "other";
}
