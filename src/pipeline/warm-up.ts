import { preloadExtractors } from "../engine/extractors/registry.js";
import { preloadThumbnailer } from "../transform/thumbnail.js";

/**
 * Loads, in the background, the code the first objects would otherwise
 * load: the pipeline module (the Lambda handler imports it with its first
 * object, to keep cold starts small), every extractor, and sharp when
 * thumbnails are on. For processes that run for hours (`catalog dev`,
 * `catalog worker`), so that the first upload of each format costs its
 * extraction alone. A failure is dropped here: it shows again, as a record's
 * reason or a thumbnail warning, with the first object that needs the module.
 *
 * @example
 * warmUpPipeline({ thumbnails: true });
 */
export function warmUpPipeline(options: { thumbnails: boolean }): void {
  void Promise.all([import("./process-events.js"), preloadExtractors()]).catch(() => {});
  if (options.thumbnails) void preloadThumbnailer().catch(() => {});
}
