/**
 * npm packages: the gzipped tarball `npm pack` writes, every file under
 * `package/`, its manifest `package/package.json` among them. The manifest is
 * kept as the tarball walk passes it (see listCompressedTar).
 */
import { cleanString, definedFields } from "../../limits.js";
import type { PackageInfo } from "../../types.js";
import type { ExtractContext } from "../extractor.js";

export const NPM_MANIFEST = "package/package.json";
/** Bytes of a manifest read at most; real ones are a few KiB. */
export const NPM_MANIFEST_BYTES = 1024 * 1024;

/** A person as package.json gives one: "Name <email> (url)", or { name, email, url }. */
function person(value: unknown): string | undefined {
  if (typeof value === "string") return cleanString(value);
  if (value && typeof value === "object") {
    const { name, email } = value as { name?: unknown; email?: unknown };
    if (typeof name === "string")
      return cleanString(typeof email === "string" && email ? `${name} <${email}>` : name);
  }
  return undefined;
}

/** A licence as package.json gives one: an SPDX expression, or the older { type } and [{ type }]. */
function licence(manifest: Record<string, unknown>): string | undefined {
  const { license, licenses } = manifest;
  if (typeof license === "string") return cleanString(license);
  const types = [license, ...(Array.isArray(licenses) ? licenses : [])]
    .map((item) => (item && typeof item === "object" ? (item as { type?: unknown }).type : undefined))
    .filter((type): type is string => typeof type === "string");
  return cleanString(types.join(" OR ") || undefined);
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : [];
}

/**
 * The package section from an npm manifest; undefined, with a warning, when
 * it is not a JSON object.
 *
 * @example
 * describeNpmPackage(Buffer.from('{"name":"left-pad","version":"1.3.0"}'), ctx) // { format: "npm", name: "left-pad", version: "1.3.0" }
 */
export function describeNpmPackage(bytes: Uint8Array, ctx: ExtractContext): PackageInfo | undefined {
  let manifest: unknown;
  try {
    manifest = JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    ctx.warn(`${NPM_MANIFEST} is not JSON: ${(error as Error).message}`);
    return undefined;
  }
  if (!manifest || typeof manifest !== "object" || Array.isArray(manifest)) {
    ctx.warn(`${NPM_MANIFEST} is not a JSON object`);
    return undefined;
  }
  const fields = manifest as Record<string, unknown>;
  const text = (value: unknown) => (typeof value === "string" ? cleanString(value) : undefined);
  // A package built for some systems only (esbuild's, sharp's) names them: "linux arm64".
  const platform = cleanString([...strings(fields.os), ...strings(fields.cpu)].join(" ") || undefined);
  return definedFields<PackageInfo>({
    format: "npm",
    name: text(fields.name),
    version: text(fields.version),
    architecture: platform,
    summary: text(fields.description),
    maintainer:
      person(fields.author) ??
      (Array.isArray(fields.maintainers) ? person(fields.maintainers[0]) : undefined),
    license: licence(fields),
    homepage: text(fields.homepage),
  });
}
