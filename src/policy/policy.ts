/**
 * The validation policy: what the catalog accepts, read once from
 * configuration and applied to every object in two steps, before any body
 * byte is read ({@link precheck}) and after detection ({@link evaluate}).
 * A non-empty list of reasons means `status: "rejected"`.
 */
import { readFile } from "node:fs/promises";
import { CATEGORIES, isCategory } from "../engine/detect/category.js";
import { CatalogError } from "../engine/errors.js";
import type { Category, FormatInfo } from "../engine/types.js";

/**
 * What the catalog accepts.
 *
 * @example
 * ```json
 * { "allowedCategories": ["image", "pdf"], "deniedMimes": ["image/svg+xml"],
 *   "maxSizeBytes": 104857600, "deniedPrefixes": ["tmp/"], "onMismatch": "reject",
 *   "rejectMacros": true, "tagRejected": true, "hashMaxBytes": 16777216 }
 * ```
 */
export interface Policy {
  /** Categories accepted; absent = any. With `allowedMimes` too, matching either list is enough. */
  allowedCategories?: Category[];
  /** MIME types accepted (`image/png`, or `image/*`); absent = any. */
  allowedMimes?: string[];
  /** MIME types refused even when an allow-list admits them (`type/*` allowed). */
  deniedMimes?: string[];
  /** Objects larger than this are rejected before their body is read. */
  maxSizeBytes?: number;
  /** Keys starting with any of these are rejected before their body is read. */
  deniedPrefixes?: string[];
  /** A declared type or extension contradicting the content: keep the flag only, or reject. */
  onMismatch: "flag" | "reject";
  /**
   * Reject documents that carry macros (`document.macros`: a VBA project,
   * Excel 4.0 macro sheets, OpenDocument Basic modules or scripts), whatever
   * their declared type says.
   */
  rejectMacros: boolean;
  /** Tag rejected objects `catalog-status=rejected` in S3. */
  tagRejected: boolean;
  /** Compute SHA-256 for objects up to this size (it reads the whole object); 0 = never. */
  hashMaxBytes: number;
}

/** Accepts everything (macros included), flags mismatches, tags nothing, hashes objects up to 16 MiB. */
export const DEFAULT_POLICY: Readonly<Policy> = Object.freeze({
  onMismatch: "flag",
  rejectMacros: false,
  tagRejected: false,
  hashMaxBytes: 16 * 1024 * 1024,
});

/** A policy document is invalid; the message names the field. */
export class PolicyError extends CatalogError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "PolicyError";
  }
}

const MIME_PATTERN = /^[a-z0-9][a-z0-9!#$&^_.+-]*\/(\*|[a-z0-9][a-z0-9!#$&^_.+-]*)$/;
const FIELDS = new Set<keyof Policy>([
  "allowedCategories",
  "allowedMimes",
  "deniedMimes",
  "maxSizeBytes",
  "deniedPrefixes",
  "onMismatch",
  "rejectMacros",
  "tagRejected",
  "hashMaxBytes",
]);

/**
 * Validates a policy document; fields left out take {@link DEFAULT_POLICY}'s
 * values. Unknown fields are errors, so a misspelt limit cannot pass silently.
 *
 * @throws {PolicyError} naming the first bad field.
 * @example
 * parsePolicy({ maxSizeBytes: 1e8, allowedMimes: ["image/*"] })
 */
export function parsePolicy(json: unknown): Policy {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new PolicyError("policy must be a JSON object");
  }
  const input = json as Record<string, unknown>;
  for (const field of Object.keys(input)) {
    if (!FIELDS.has(field as keyof Policy)) {
      throw new PolicyError(`policy.${field} is not a known field (known: ${[...FIELDS].join(", ")})`);
    }
  }
  const policy: Policy = { ...DEFAULT_POLICY };

  if (input.allowedCategories !== undefined) {
    policy.allowedCategories = stringList(input.allowedCategories, "allowedCategories", (value) =>
      isCategory(value) ? undefined : `is not a category (one of: ${CATEGORIES.join(", ")})`,
    ) as Category[];
  }
  for (const field of ["allowedMimes", "deniedMimes"] as const) {
    if (input[field] === undefined) continue;
    policy[field] = stringList(input[field], field, (value) =>
      MIME_PATTERN.test(value.toLowerCase()) ? undefined : "is not a MIME type such as image/png or image/*",
    ).map((mime) => mime.toLowerCase());
  }
  if (input.deniedPrefixes !== undefined) {
    policy.deniedPrefixes = stringList(input.deniedPrefixes, "deniedPrefixes", (value) =>
      value === "" ? "is empty (it would deny every key)" : undefined,
    );
  }
  if (input.maxSizeBytes !== undefined) policy.maxSizeBytes = byteCount(input.maxSizeBytes, "maxSizeBytes");
  if (input.hashMaxBytes !== undefined) policy.hashMaxBytes = byteCount(input.hashMaxBytes, "hashMaxBytes");
  if (input.onMismatch !== undefined) {
    if (input.onMismatch !== "flag" && input.onMismatch !== "reject") {
      throw new PolicyError(
        `policy.onMismatch must be "flag" or "reject", got ${JSON.stringify(input.onMismatch)}`,
      );
    }
    policy.onMismatch = input.onMismatch;
  }
  for (const field of ["rejectMacros", "tagRejected"] as const) {
    if (input[field] === undefined) continue;
    if (typeof input[field] !== "boolean") {
      throw new PolicyError(`policy.${field} must be true or false, got ${JSON.stringify(input[field])}`);
    }
    policy[field] = input[field];
  }
  return policy;
}

/**
 * Reads the policy from inline JSON (e.g. an environment variable) or a file;
 * with neither, the {@link DEFAULT_POLICY}. Giving both is a configuration
 * error rather than a silent precedence rule.
 *
 * @throws {PolicyError} for unreadable, unparsable or invalid policies.
 * @example
 * const policy = await loadPolicy({ json: process.env.POLICY ?? "" }); // empty: the default policy
 */
export async function loadPolicy(source: { json?: string; file?: string }): Promise<Policy> {
  const hasJson = source.json !== undefined && source.json.trim() !== "";
  const hasFile = source.file !== undefined && source.file !== "";
  if (hasJson && hasFile) throw new PolicyError("give the policy as JSON or as a file, not both");
  if (!hasJson && !hasFile) return { ...DEFAULT_POLICY };

  let text: string;
  let origin: string;
  if (hasFile) {
    origin = `policy file ${source.file}`;
    try {
      text = await readFile(source.file!, "utf8");
    } catch (error) {
      throw new PolicyError(`${origin} cannot be read`, { cause: error });
    }
  } else {
    origin = "policy JSON";
    text = source.json!;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new PolicyError(`${origin} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  try {
    return parsePolicy(json);
  } catch (error) {
    if (error instanceof PolicyError && hasFile) throw new PolicyError(`${origin}: ${error.message}`);
    throw error;
  }
}

/**
 * Reasons to reject an object from what its event and HeadObject say, before
 * reading any of its body: size and key prefix.
 *
 * @example
 * precheck({ ...DEFAULT_POLICY, maxSizeBytes: 10 }, { key: "a.bin", size: 11 })
 * // ["size 11 bytes exceeds the limit of 10 bytes"]
 */
export function precheck(policy: Policy, object: { key: string; size: number }): string[] {
  const reasons: string[] = [];
  if (policy.maxSizeBytes !== undefined && object.size > policy.maxSizeBytes) {
    reasons.push(`size ${bytes(object.size)} exceeds the limit of ${bytes(policy.maxSizeBytes)}`);
  }
  const prefix = policy.deniedPrefixes?.find((denied) => object.key.startsWith(denied));
  if (prefix !== undefined) reasons.push(`key is under the denied prefix ${JSON.stringify(prefix)}`);
  return reasons;
}

/**
 * Every reason to reject an object once its format is known: the
 * {@link precheck} reasons, then the allow-lists (categories or MIME types),
 * the MIME deny-list, a declared-type mismatch when `onMismatch` is
 * `"reject"`, and macros when `rejectMacros` is set. Empty means accepted.
 * Each reason is a sentence a person reads in a listing: it names the
 * object's type and the policy entry that refused it, once.
 *
 * @example
 * evaluate({ ...DEFAULT_POLICY, allowedCategories: ["image"] }, { key: "a.zip", size: 9, format })
 * // ["application/zip (archive) is not allowed: the policy allows only the category image"]
 */
export function evaluate(
  policy: Policy,
  object: { key: string; size: number; format: FormatInfo; macros?: boolean },
): string[] {
  const reasons = precheck(policy, object);
  const { format } = object;
  const mime = baseMime(format.mime);

  const categories = policy.allowedCategories;
  const mimes = policy.allowedMimes;
  if (categories !== undefined || mimes !== undefined) {
    const allowed =
      (categories?.includes(format.category) ?? false) ||
      (mimes?.some((pattern) => mimeMatches(pattern, mime)) ?? false);
    if (!allowed)
      reasons.push(`${mime} (${format.category}) is not allowed: ${allowedText(categories, mimes)}`);
  }
  // The entry naming the type itself says most; a wildcard covering it comes next.
  const denied =
    policy.deniedMimes?.find((pattern) => pattern === mime) ??
    policy.deniedMimes?.find((pattern) => mimeMatches(pattern, mime));
  if (denied === mime) reasons.push(`${mime} is a denied type`);
  else if (denied !== undefined) reasons.push(`${mime} is denied, as every ${denied} type is`);

  // The engine's reason already says what was declared and what the content is
  // ("extension .jpg suggests image/jpeg but content is application/pdf").
  if (format.mismatch && policy.onMismatch === "reject") {
    reasons.push(format.mismatchReason ?? describeMismatch(format));
  }
  if (object.macros && policy.rejectMacros) {
    reasons.push("document carries macros (document.macros)");
  }
  return reasons;
}

/**
 * What the allow-lists admit, as the end of a sentence:
 * "the policy allows only the categories image and pdf, and the type text/plain".
 */
function allowedText(
  categories: readonly string[] | undefined,
  mimes: readonly string[] | undefined,
): string {
  const parts: string[] = [];
  if (categories?.length)
    parts.push(`the ${plural(categories.length, "category", "categories")} ${LIST.format(categories)}`);
  if (mimes?.length) parts.push(`the ${plural(mimes.length, "type", "types")} ${LIST.format(mimes)}`);
  return parts.length === 0 ? "the policy allows nothing" : `the policy allows only ${parts.join(", and ")}`;
}

/** Reasons are English whatever the host's locale: "a", "a and b", "a, b, and c". */
const LIST = new Intl.ListFormat("en", { style: "long", type: "conjunction" });

function plural(count: number, one: string, many: string): string {
  return count === 1 ? one : many;
}

/** "1 byte", "2 bytes". */
function bytes(count: number): string {
  return `${count} ${plural(count, "byte", "bytes")}`;
}

function describeMismatch(format: FormatInfo): string {
  const declared = [format.declaredMime, format.declaredExt && `.${format.declaredExt}`]
    .filter(Boolean)
    .join(", ");
  return declared
    ? `declared ${declared} but content is ${format.mime}`
    : `declared type contradicts the content, which is ${format.mime}`;
}

function baseMime(mime: string): string {
  return (mime.split(";")[0] ?? "").trim().toLowerCase();
}

function mimeMatches(pattern: string, mime: string): boolean {
  return pattern.endsWith("/*") ? mime.startsWith(pattern.slice(0, -1)) : pattern === mime;
}

function stringList(value: unknown, field: string, check: (item: string) => string | undefined): string[] {
  if (!Array.isArray(value)) throw new PolicyError(`policy.${field} must be an array of strings`);
  return value.map((item, index) => {
    if (typeof item !== "string") {
      throw new PolicyError(`policy.${field}[${index}] must be a string, got ${JSON.stringify(item)}`);
    }
    const problem = check(item);
    if (problem) throw new PolicyError(`policy.${field}[${index}] ${JSON.stringify(item)} ${problem}`);
    return item;
  });
}

function byteCount(value: unknown, field: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw new PolicyError(
      `policy.${field} must be a whole number of bytes >= 0, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}
