import {
  type ContentTypes,
  contentTypeOf,
  parseContentTypes,
  VBA_PROJECT_CONTENT_TYPE,
} from "../../detect/zip-container.js";
import { ContentError } from "../../errors.js";
import type { DocumentInfo } from "../../types.js";
import { child, count, joined, parseXml, text, texts, type XmlNode } from "./xml-fields.js";
import type { ZipPackage } from "./zip-package.js";

/**
 * Content types of the parts that hold macros: a VBA project (MS-OFFMACRO2)
 * and Excel 4.0 macro sheets, XML (MS-XLSX) or binary (MS-XLSB).
 */
const MACRO_CONTENT_TYPES: ReadonlySet<string> = new Set([
  VBA_PROJECT_CONTENT_TYPE,
  "application/vnd.ms-excel.macrosheet+xml",
  "application/vnd.ms-excel.intlmacrosheet+xml",
  "application/vnd.ms-excel.macrosheet",
  "application/vnd.ms-excel.intlmacrosheet",
]);

/** Where Word, Excel, PowerPoint and Visio store a VBA project, for content types that do not say. */
const VBA_PROJECT_PART = /^(word|xl|ppt|visio)\/vbaproject\.bin$/i;

/** A Visio page part, where Visio writes them; `pages.xml` beside them is the index of pages, not a page. */
const VISIO_PAGE_PART = /^visio\/pages\/(?!pages\.xml$)[^/]+\.xml$/i;

/**
 * Office Open XML (docx, xlsx, pptx, Visio's vsdx, and their macro/template
 * variants): core properties (docProps/core.xml, keywords as
 * {@link coreKeywords} reads them), extended properties (docProps/app.xml),
 * a workbook's sheets and a drawing's pages counted by their parts, and
 * whether the package carries macros, whatever its type claims (a .docx may
 * hold a VBA project that Word will not run, but that is still there).
 *
 * @example
 * await readOoxml(pkg) // { kind: "ooxml", title: "Q3", creator: "Ann", application: "Microsoft Office Word", pages: 2 }
 */
export async function readOoxml(pkg: ZipPackage): Promise<DocumentInfo> {
  const info: DocumentInfo = { kind: "ooxml" };
  const coreBytes = await pkg.part("docProps/core.xml");
  if (coreBytes) {
    const core = child(parseXml(coreBytes), "coreProperties");
    const title = text(core, "title");
    const subject = text(core, "subject");
    const keywords = coreKeywords(core);
    const creators = texts(core, "creator");
    const lastModifiedBy = text(core, "lastModifiedBy");
    const created = text(core, "created");
    const modified = text(core, "modified");
    const language = text(core, "language");
    Object.assign(info, {
      ...(title && { title }),
      ...(subject && { subject }),
      ...(keywords && { keywords }),
      ...(creators.length > 0 && { creator: creators.join("; ") }),
      ...(lastModifiedBy && { lastModifiedBy }),
      ...(created && { created }),
      ...(modified && { modified }),
      ...(language && { language }),
    });
  }
  const appBytes = await pkg.part("docProps/app.xml");
  if (appBytes) {
    const app = child(parseXml(appBytes), "Properties");
    const application = text(app, "Application");
    const pages = count(text(app, "Pages"));
    const words = count(text(app, "Words"));
    const slides = count(text(app, "Slides"));
    Object.assign(info, {
      ...(application && { application }),
      ...(pages !== undefined && { pages }),
      ...(words !== undefined && { words }),
      ...(slides !== undefined && { slides }),
    });
  }
  // Worksheet parts are authoritative; TitlesOfParts also lists named ranges.
  const sheets = pkg.names().filter((name) => /^xl\/worksheets\/[^/]+\.xml$/.test(name)).length;
  if (sheets > 0) info.sheets = sheets;
  // Visio's app.xml has no <Pages> and counts pages only in HeadingPairs, which not every writer fills in.
  const drawingPages = pkg.names().filter((name) => VISIO_PAGE_PART.test(name)).length;
  if (drawingPages > 0) info.pages = drawingPages;
  if (await hasMacros(pkg)) info.macros = true;
  return info;
}

/**
 * `cp:keywords` as one string. It is mixed content (ECMA-376 Part 2, CT_Keywords):
 * text as Office writes it, and optionally `cp:value` children, each a keyword
 * in its own language; the text comes first, then each value.
 */
function coreKeywords(core: XmlNode | undefined): string | undefined {
  const written = text(core, "keywords");
  return joined([...(written ? [written] : []), ...texts(child(core, "keywords"), "value")]);
}

/**
 * True when a part holds macros by its content type (its Override, or the
 * Default for its extension), when an Override declares such a part (the
 * listing may have stopped before it), or when a VBA project sits where
 * Office writes one.
 */
async function hasMacros(pkg: ZipPackage): Promise<boolean> {
  const names = pkg.names();
  if (names.some((name) => VBA_PROJECT_PART.test(name))) return true;
  let types: ContentTypes;
  try {
    const bytes = await pkg.part("[Content_Types].xml");
    if (!bytes) return false;
    types = parseContentTypes(bytes);
  } catch (error) {
    // Content types that are damaged or not XML say nothing more; the rest of the package was read.
    if (error instanceof ContentError) return false;
    throw error;
  }
  if ([...types.overrides.values()].some((type) => MACRO_CONTENT_TYPES.has(type))) return true;
  return names.some((name) => MACRO_CONTENT_TYPES.has(contentTypeOf(types, name) ?? ""));
}
