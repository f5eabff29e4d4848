/**
 * DynamoDB's 400 KB item limit, measured the way DynamoDB counts: UTF-8 bytes
 * of attribute names and string values, about one byte per two significant
 * digits of a number, one byte per boolean or null, and three bytes of
 * overhead per list or map plus one per element. The SDK has no size
 * function, so this follows the documented rules ("Item sizes and formats").
 */
import { leadingChars } from "../engine/limits.js";

/** DynamoDB's hard limit on one item. */
export const DYNAMODB_ITEM_LIMIT_BYTES = 400 * 1024;

/** What a catalog record may occupy: well under the limit, so an update never tips it over. */
export const MAX_RECORD_BYTES = 64 * 1024;

const utf8 = new TextEncoder();

function numberSize(value: number): number {
  const digits = String(Math.abs(value))
    .replace(/e.*$/i, "")
    .replace(".", "")
    .replace(/^0+/, "")
    .replace(/0+$/, "");
  return Math.ceil(Math.max(1, digits.length) / 2) + 1;
}

/**
 * Size in bytes of one attribute value as DynamoDB bills and limits it.
 *
 * @example
 * attributeValueSize({ width: 640 }) // 3 + 5 + 2 + 1
 */
export function attributeValueSize(value: unknown): number {
  if (value === null || typeof value === "boolean") return 1;
  if (typeof value === "string") return utf8.encode(value).byteLength;
  if (typeof value === "number") return numberSize(value);
  if (value instanceof Uint8Array) return value.byteLength;
  if (value instanceof Set) {
    let total = 0;
    for (const element of value) total += attributeValueSize(element);
    return total;
  }
  if (Array.isArray(value)) {
    let total = 3;
    for (const element of value) total += attributeValueSize(element) + 1;
    return total;
  }
  if (typeof value === "object") {
    let total = 3;
    for (const [name, element] of Object.entries(value as Record<string, unknown>)) {
      if (element === undefined) continue;
      total += utf8.encode(name).byteLength + attributeValueSize(element) + 1;
    }
    return total;
  }
  return 0;
}

/**
 * Size in bytes of a whole item (top-level attributes carry no container overhead).
 *
 * @example
 * itemSize({ pk: "OBJ#b#k", sk: "#RECORD" }) // 2 + 7 + 2 + 7
 */
export function itemSize(item: Record<string, unknown>): number {
  let total = 0;
  for (const [name, value] of Object.entries(item)) {
    if (value === undefined) continue;
    total += utf8.encode(name).byteLength + attributeValueSize(value);
  }
  return total;
}

interface TruncationLimits {
  chars: number;
  entries: number;
}

function truncateString(value: string, chars: number): string {
  if (value.length <= chars) return value;
  return `${leadingChars(value, chars)}…`;
}

function truncateValue(value: unknown, limits: TruncationLimits, changed: { value: boolean }): unknown {
  if (typeof value === "string") {
    const shorter = truncateString(value, limits.chars);
    if (shorter !== value) changed.value = true;
    return shorter;
  }
  if (Array.isArray(value)) {
    if (value.length > limits.entries) changed.value = true;
    return value.slice(0, limits.entries).map((element) => truncateValue(element, limits, changed));
  }
  if (
    value !== null &&
    typeof value === "object" &&
    !(value instanceof Set) &&
    !(value instanceof Uint8Array)
  ) {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length > limits.entries * 4) changed.value = true;
    return Object.fromEntries(
      entries
        .slice(0, limits.entries * 4)
        .map(([name, element]) => [name, truncateValue(element, limits, changed)]),
    );
  }
  return value;
}

/**
 * Shrinks an item to at most `maxBytes` by truncating long strings and lists
 * (never the attributes named in `keep`: keys and identity), tighter on each
 * pass. Reports whether anything was cut, for the record's `truncated` flag.
 *
 * @example
 * const { item, truncated } = fitItem(record, MAX_RECORD_BYTES, new Set(["pk", "sk", "key"]));
 */
export function fitItem<T extends Record<string, unknown>>(
  item: T,
  maxBytes: number,
  keep: ReadonlySet<string>,
): { item: T; truncated: boolean; bytes: number } {
  let limits: TruncationLimits = { chars: 4096, entries: 256 };
  let current = item;
  let truncated = false;
  for (let pass = 0; pass < 12; pass += 1) {
    const bytes = itemSize(current);
    if (bytes <= maxBytes) return { item: current, truncated, bytes };
    const changed = { value: false };
    const next: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(item)) {
      next[name] = keep.has(name) ? value : truncateValue(value, limits, changed);
    }
    current = next as T;
    truncated ||= changed.value;
    limits = { chars: Math.max(16, limits.chars >> 1), entries: Math.max(1, limits.entries >> 1) };
  }
  // Still too large with every field cut to the bone: drop the content sections, keep identity.
  const minimal = Object.fromEntries(Object.entries(current).filter(([name]) => keep.has(name))) as T;
  return { item: minimal, truncated: true, bytes: itemSize(minimal) };
}
