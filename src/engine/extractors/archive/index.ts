import { HEAD_WINDOW_BYTES, TAIL_WINDOW_BYTES } from "../../limits.js";
import type { ExtractorDescriptor } from "../extractor.js";
import { headRange, tailRange } from "../extractor.js";

/**
 * Archives and compressed streams: listings from the ZIP central directory and
 * tar/cpio/RAR headers, declared sizes from gzip/xz/zstd/lz4 trailers and
 * headers, never by decompressing the content, except the start of a gzip
 * (at most 1 MiB of its content), inflated to see whether a tarball is inside
 * and sample its entries.
 *
 * The plan asks for the head (the gzip/zstd/lz4/7z/RAR headers, the first tar
 * and cpio headers) and the tail (the ZIP End Of Central Directory and, for
 * most zips, the whole directory; the xz footer and usually its index; the
 * gzip ISIZE).
 */
export const archiveExtractor: ExtractorDescriptor = {
  id: "archive",
  mimes: [
    "application/zip",
    "application/x-zip-compressed",
    "application/java-archive",
    "application/vnd.android.package-archive",
    // iWork documents: their metadata is in binary property lists and protobuf, their listing is what shows.
    "application/vnd.apple.keynote",
    "application/vnd.apple.pages",
    "application/vnd.apple.numbers",
    "application/gzip",
    "application/x-gzip",
    "application/x-tar",
    "application/x-7z-compressed",
    "application/x-rar-compressed",
    "application/vnd.rar",
    "application/x-xz",
    "application/zstd",
    "application/x-bzip2",
    "application/x-cpio",
    "application/x-compress",
    "application/x-lz4",
    "application/x-lzip",
    "application/x-lzma",
    "application/x-iso9660-image",
  ],
  plan: (size) => [headRange(size, HEAD_WINDOW_BYTES), tailRange(size, TAIL_WINDOW_BYTES)],
  load: async () => (await import("./extract.js")).extractArchive,
};
