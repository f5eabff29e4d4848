import { HEAD_WINDOW_BYTES } from "../../limits.js";
import type { ExtractorDescriptor } from "../extractor.js";
import { headRange } from "../extractor.js";

/**
 * Software packages: Debian's .deb (its control file, and the files of its
 * data tarball, walked as a tarball is) and RPM (its header's fields and
 * file list; the payload is never read). The plan asks for the head, which
 * holds a .deb's member headers and control member and, usually, an RPM's
 * headers whole.
 */
export const packageExtractor: ExtractorDescriptor = {
  id: "package",
  mimes: ["application/x-deb", "application/vnd.debian.binary-package", "application/x-rpm"],
  plan: (size) => [headRange(size, HEAD_WINDOW_BYTES)],
  load: async () => (await import("./extract.js")).extractPackage,
};
