import { LimitExceededError } from "../../errors.js";
import { readZipDirectory, type ZipDirectory, type ZipEntry } from "../archive/zip-directory.js";
import { readZipEntry } from "../archive/zip-entry.js";
import type { ExtractContext } from "../extractor.js";

/** Largest metadata part (core.xml, meta.xml, an OPF package) inflated; real ones are a few KiB. */
export const MAX_PART_BYTES = 1024 * 1024;

/**
 * A zip-based document package: its central directory, and its small metadata
 * parts read one by one by range.
 *
 * @example
 * const pkg = await ZipPackage.open(ctx);
 * const core = await pkg.part("docProps/core.xml");
 */
export class ZipPackage {
  private readonly byName: Map<string, ZipEntry>;

  private constructor(
    private readonly ctx: ExtractContext,
    readonly directory: ZipDirectory,
  ) {
    this.byName = new Map(directory.entries.map((entry) => [entry.name, entry]));
  }

  static async open(ctx: ExtractContext): Promise<ZipPackage> {
    const directory = await readZipDirectory(ctx.reader, { maxEntries: ctx.budget.maxEntries });
    if (directory.truncated) ctx.warn(`partial package listing: ${directory.stopReason}`);
    return new ZipPackage(ctx, directory);
  }

  /** The entry with this exact name (leading slash ignored, as package paths may carry one). */
  entry(name: string): ZipEntry | undefined {
    return this.byName.get(name.replace(/^\//, ""));
  }

  /** Entry names, in directory order. */
  names(): string[] {
    return this.directory.entries.map((entry) => entry.name);
  }

  /**
   * A part's bytes, or undefined when it is absent, encrypted, or too large;
   * the last two go to the warnings, since the other parts may still be read.
   */
  async part(name: string): Promise<Uint8Array | undefined> {
    const entry = this.entry(name);
    if (!entry) return undefined;
    if (entry.encrypted) {
      this.ctx.warn(`${entry.name} is encrypted`);
      return undefined;
    }
    try {
      return await readZipEntry(this.ctx.reader, entry, MAX_PART_BYTES);
    } catch (error) {
      if (error instanceof LimitExceededError && error.limit === "length") {
        this.ctx.warn(error.message);
        return undefined;
      }
      throw error;
    }
  }
}
