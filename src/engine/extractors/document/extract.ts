import { OOXML_PACKAGE_MIMES } from "../../detect/zip-container.js";
import { ContentError } from "../../errors.js";
import { HEAD_WINDOW_BYTES } from "../../limits.js";
import type { DocumentInfo, Sections } from "../../types.js";
import type { ExtractContext } from "../extractor.js";
import { isInstallerDatabase, readInstaller } from "../package/msi.js";
import { openCompoundFile, readCfbDocument } from "./cfb.js";
import { readEpub } from "./epub.js";
import { POSTSCRIPT_MIMES } from "./index.js";
import { readMobi } from "./mobi.js";
import { readOdf } from "./odf.js";
import { readOoxml } from "./ooxml.js";
import { readPostScript } from "./postscript.js";
import { readRtf } from "./rtf.js";
import { readSqlite } from "./sqlite.js";
import { ZipPackage } from "./zip-package.js";

/**
 * Extracts the document section: title, authors, dates, application and
 * counts from the package's metadata parts, read by range from the ZIP central
 * directory (OOXML, ODF, EPUB) or from headers (CFB, RTF, MOBI, PostScript).
 *
 * @example
 * const { document } = await extractDocument(ctx);
 * // { kind: "ooxml", title: "Sample Word Document", creator: "Keith Bennett", pages: 1 }
 */
export async function extractDocument(ctx: ExtractContext): Promise<Sections> {
  const mime = ctx.format.mime;
  let document: DocumentInfo;
  if (
    mime === "application/x-cfb" ||
    mime === "application/msword" ||
    mime === "application/vnd.ms-excel" ||
    mime === "application/vnd.ms-powerpoint"
  ) {
    const file = await openCompoundFile(ctx.reader, ctx.warn);
    // A Windows Installer package is a compound file too: a package and its file list, not a document.
    if (isInstallerDatabase(file)) return readInstaller(file, ctx.warn, ctx.reader.size);
    document = await readCfbDocument(file, ctx.warn);
  } else if (mime === "application/rtf" || mime === "text/rtf") {
    document = readRtf(await ctx.reader.read(0, Math.min(ctx.reader.size, HEAD_WINDOW_BYTES)));
  } else if (mime === "application/x-mobipocket-ebook") {
    document = await readMobi(ctx.reader);
  } else if (mime === "application/x-sqlite3" || mime === "application/vnd.sqlite3") {
    const { document: database, truncated } = await readSqlite(ctx.reader);
    if (truncated) {
      ctx.partial.document = database;
      throw new ContentError(`truncated: ${truncated}`);
    }
    document = database;
  } else if (POSTSCRIPT_MIMES.has(mime)) {
    const { document: postscript, bounds, truncated } = await readPostScript(ctx.reader);
    // The bounding box is what exiftool reports as the image size of an EPS.
    const sections: Sections = bounds ? { document: postscript, image: bounds } : { document: postscript };
    if (truncated) {
      Object.assign(ctx.partial, sections);
      throw new ContentError(`truncated: ${truncated}`);
    }
    return sections;
  } else {
    const kind = mime === "application/epub+zip" ? "epub" : OOXML_PACKAGE_MIMES.has(mime) ? "ooxml" : "odf";
    ctx.partial.document = { kind };
    const pkg = await ZipPackage.open(ctx);
    document =
      kind === "epub"
        ? await readEpub(pkg)
        : kind === "ooxml"
          ? await readOoxml(pkg)
          : await readOdf(pkg, mime.includes("opendocument.spreadsheet"));
  }
  return { document };
}
