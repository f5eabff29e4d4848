import type { FormatInfo } from "../types.js";
import { archiveExtractor } from "./archive/index.js";
import { documentExtractor } from "./document/index.js";
import { executableExtractor } from "./executable/index.js";
import type { ExtractFunction, ExtractorDescriptor } from "./extractor.js";
import { fontExtractor } from "./font/index.js";
import { imageExtractor } from "./image/index.js";
import { mediaExtractor } from "./media/index.js";
import { packageExtractor } from "./package/index.js";
import { pdfExtractor } from "./pdf/index.js";
import { textExtractor } from "./text/index.js";

/** Every extractor, in the order claims are tried. Adding a format: one folder, one line here. */
export const extractors: readonly ExtractorDescriptor[] = [
  imageExtractor,
  pdfExtractor,
  mediaExtractor,
  documentExtractor,
  archiveExtractor,
  packageExtractor,
  textExtractor,
  fontExtractor,
  executableExtractor,
];

const byMime = new Map<string, ExtractorDescriptor>();
for (const extractor of extractors) {
  for (const mime of extractor.mimes) if (!byMime.has(mime)) byMime.set(mime, extractor);
}

/** The extractor for a detected format: by MIME type first, then by sniffing the head window. */
export function extractorFor(format: FormatInfo, head: Uint8Array): ExtractorDescriptor | undefined {
  return byMime.get(format.mime) ?? extractors.find((extractor) => extractor.sniff?.(head, format));
}

/**
 * Loads every extractor's code now instead of with the first file of its
 * format. For long-running processes (the local stack): the first upload
 * of each format then costs its extraction alone, not a module load too.
 * The Lambda keeps loading lazily, where init time is billed and most
 * formats never arrive.
 *
 * @example
 * void preloadExtractors().catch(() => {}); // a failure shows again with the first file that needs it
 */
export async function preloadExtractors(): Promise<void> {
  await Promise.all(extractors.map(loadExtractor));
}

const loaded = new Map<ExtractorDescriptor, Promise<ExtractFunction>>();

/**
 * An extractor's code, loaded once per process. Calling `import()` again for
 * a module already loaded still resolves its specifier through the module
 * loader (and through any loader hooks, such as tsx's, on another thread)
 * for every file; this answers from memory after the first time. A failed
 * load is not kept, so the next file tries again.
 *
 * @example
 * const run = await loadExtractor(extractorFor(format, head)!);
 */
export function loadExtractor(extractor: ExtractorDescriptor): Promise<ExtractFunction> {
  let code = loaded.get(extractor);
  if (!code) {
    code = extractor.load();
    loaded.set(extractor, code);
    code.catch(() => loaded.delete(extractor));
  }
  return code;
}
