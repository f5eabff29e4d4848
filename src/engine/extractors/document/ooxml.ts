import type { DocumentInfo } from "../../types.js";
import { child, count, parseXml, text, texts } from "./xml-fields.js";
import type { ZipPackage } from "./zip-package.js";

/**
 * Office Open XML (docx, xlsx, pptx and their macro/template variants): core
 * properties (docProps/core.xml) and extended properties (docProps/app.xml).
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
    const creators = texts(core, "creator");
    const lastModifiedBy = text(core, "lastModifiedBy");
    const created = text(core, "created");
    const modified = text(core, "modified");
    const language = text(core, "language");
    Object.assign(info, {
      ...(title && { title }),
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
  return info;
}
