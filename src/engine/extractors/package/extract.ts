import type { Sections } from "../../types.js";
import type { ExtractContext } from "../extractor.js";
import { extractDeb } from "./deb.js";
import { extractRpm } from "./rpm.js";

/**
 * The package and archive sections of a software package.
 *
 * @example
 * const { package: pkg } = await extractPackage(ctx); // { format: "deb", name: "hello", version: "2.10-3", ... }
 */
export async function extractPackage(ctx: ExtractContext): Promise<Sections> {
  return ctx.format.mime === "application/x-rpm" ? extractRpm(ctx) : extractDeb(ctx);
}
