import type { FormatInfo, Sections } from "../types.js";
import { categoryOf } from "./category.js";
import { compareDeclared, type DetectHints } from "./detect.js";
import { OOXML_PACKAGE_MIMES } from "./zip-container.js";

/**
 * Compound File Binary (OLE2) files by what their directory holds. file-type
 * names every compound file `application/x-cfb`; Word, Excel, PowerPoint and
 * Visio files each have a registered type of their own, which is what users
 * filter and write policies by (and what `file` reports). The document
 * extractor reads the directory; the engine then names the format from it.
 */

/** `DocumentInfo.application` of a compound file, as the directory tells it. */
export const CFB_APPLICATIONS = {
  word: "Microsoft Word",
  excel: "Microsoft Excel",
  powerPoint: "Microsoft PowerPoint",
  visio: "Microsoft Visio",
  /** An OOXML package encrypted with a password: Office wraps it in a compound file. */
  encryptedOoxml: "Office Open XML (encrypted)",
} as const;

const CFB_FORMATS: ReadonlyMap<string, { mime: string; ext: string }> = new Map([
  [CFB_APPLICATIONS.word, { mime: "application/msword", ext: "doc" }],
  [CFB_APPLICATIONS.excel, { mime: "application/vnd.ms-excel", ext: "xls" }],
  [CFB_APPLICATIONS.powerPoint, { mime: "application/vnd.ms-powerpoint", ext: "ppt" }],
  [CFB_APPLICATIONS.visio, { mime: "application/vnd.visio", ext: "vsd" }],
]);

/** A Windows Installer package, which the document extractor describes as a package (see package/msi.ts). */
const INSTALLER_FORMAT = { mime: "application/x-msi", ext: "msi" };

/**
 * `format` with a compound file named by the application its directory
 * shows (a Windows Installer package by its package section), declared type
 * and name compared again; `format` itself for anything else. An encrypted
 * OOXML package keeps `application/x-cfb` (which of .docx, .xlsx or .pptx is
 * inside is encrypted too), and a name or type
 * claiming an OOXML package agrees with it: a password-protected .docx is
 * not a declared type that lies.
 *
 * @example
 * await refineCfbFormat(format, { document: { kind: "cfb", application: "Microsoft Word" } }, { name: "a.doc" });
 * // { mime: "application/msword", ext: "doc", category: "document", declaredExt: "doc", mismatch: false }
 */
export async function refineCfbFormat(
  format: FormatInfo,
  { document, package: pkg }: Sections,
  hints: DetectHints,
): Promise<FormatInfo> {
  if (format.mime !== "application/x-cfb") return format;
  if (pkg?.format === "msi")
    return {
      ...INSTALLER_FORMAT,
      category: categoryOf(INSTALLER_FORMAT.mime),
      ...(await compareDeclared(INSTALLER_FORMAT, hints)),
    };
  if (document?.kind !== "cfb") return format;
  const found = CFB_FORMATS.get(document.application ?? "");
  if (found) return { ...found, category: categoryOf(found.mime), ...(await compareDeclared(found, hints)) };
  if (document.application === CFB_APPLICATIONS.encryptedOoxml) {
    const compared = await compareDeclared(format, hints, (declared) => OOXML_PACKAGE_MIMES.has(declared));
    const { mismatchReason: _previous, ...rest } = format;
    return { ...rest, ...compared };
  }
  return format;
}
