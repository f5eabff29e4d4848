import type { ExtractorDescriptor } from "../extractor.js";
import { headRange } from "../extractor.js";

/** ELF, PE and Mach-O headers (fat binaries' arch table included) fit in the first 4 KiB. */
const EXECUTABLE_HEAD_BYTES = 4 * 1024;

/**
 * Executables: format, architecture, word size, endianness and kind, from
 * the headers alone (one read of the first 4 KiB; a PE header placed further
 * in costs one more). An ELF file's program headers, interpreter, notes (its
 * build id) and dynamic section (a position-independent executable) usually
 * lie in those 4 KiB, and cost a read each where they do not; its section
 * headers, which tell a stripped file, one more at the end. A
 * Windows executable's subsystem, signature and .NET flags come from its
 * optional header, its product and versions from its version resource: the
 * section table, the three levels of the resource tree and the resource
 * itself, a small read each where they lie past the first 4 KiB, and the
 * signature's 8-byte header at the end of the file.
 */
export const executableExtractor: ExtractorDescriptor = {
  id: "executable",
  mimes: [
    "application/x-elf",
    "application/x-executable",
    "application/x-sharedlib",
    "application/x-msdownload",
    "application/x-dosexec",
    "application/vnd.microsoft.portable-executable",
    "application/x-mach-binary",
    "application/wasm",
  ],
  plan: (size) => [headRange(size, EXECUTABLE_HEAD_BYTES)],
  load: async () => (await import("./extract.js")).extractExecutable,
};
