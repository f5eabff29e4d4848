import { leadingChars } from "../engine/limits.js";

/** List items a section shows before saying how many more `--json` has. */
const MAX_LIST_ITEMS = 10;

/** A list of values this long or shorter, joined, stays on its field's line. */
const INLINE_LIST_CHARS = 72;

/**
 * Characters of a text value shown before it is cut: a font's licence can run
 * to thousands, and a PDF title to a thousand. The dashboard cuts at the same
 * length.
 */
const LONG_VALUE_CHARS = 200;

type Field = { name: string; value: string } | { name: string; items: string[] };

/**
 * A record's content section (image, media, pdf, ...) as lines a person
 * reads: one `name  value` line per field, nested objects by dotted names
 * (`exif.make`, `gps.latitude`), short lists joined on their line and long
 * ones an item a line, cut after ten; a list of objects (a font's `axes`)
 * shows an object a line, as `name value` pairs. Text longer than 200
 * characters is cut, saying how long it is. Names are the JSON's, so a field
 * found here is found under the same name in `--json`. Lines are not made
 * terminal-safe here: the caller does that for every line it prints.
 *
 * @example
 * sectionLines("media", { container: "mp42", codecs: ["aac", "avc1"], tags: { title: "Trip" } })
 * // ["media", "  container   mp42", "  codecs      aac, avc1", "  tags.title  Trip"]
 * sectionLines("font", { axes: [{ tag: "wght", min: 100, default: 400, max: 900 }] })
 * // ["font", "  axes", "    tag wght, min 100, default 400, max 900"]
 */
export function sectionLines(section: string, value: unknown): string[] {
  const fields = fieldsOf(value, "");
  const width = Math.max(0, ...fields.map((field) => field.name.length));
  const lines = [section];
  for (const field of fields) {
    const name = field.name.padEnd(width);
    if ("value" in field) {
      lines.push(`  ${name}  ${field.value}`);
      continue;
    }
    lines.push(`  ${field.name}`);
    for (const item of field.items.slice(0, MAX_LIST_ITEMS)) lines.push(`    ${item}`);
    const more = field.items.length - MAX_LIST_ITEMS;
    if (more > 0) lines.push(`    … and ${more} more (--json shows all)`);
  }
  return lines;
}

function fieldsOf(value: unknown, prefix: string): Field[] {
  if (!isObject(value)) return [{ name: prefix || "value", value: scalar(value) }];
  const fields: Field[] = [];
  for (const [key, item] of Object.entries(value)) {
    if (item === undefined || item === null) continue;
    const name = prefix ? `${prefix}.${key}` : key;
    if (Array.isArray(item) && item.some(isObject)) {
      fields.push({
        name,
        items: item.map((element) => (isObject(element) ? pairs(element) : scalar(element))),
      });
    } else if (Array.isArray(item)) {
      const items = item.map(scalar);
      const joined = items.join(", ");
      fields.push(joined.length <= INLINE_LIST_CHARS ? { name, value: joined || "-" } : { name, items });
    } else if (isObject(item)) {
      fields.push(...fieldsOf(item, name));
    } else {
      fields.push({ name, value: scalar(item) });
    }
  }
  return fields;
}

/** An object in a list, on one line: `tag wght, min 100, default 400, max 900`. */
function pairs(value: Record<string, unknown>): string {
  return Object.entries(value)
    .filter(([, element]) => element !== undefined && element !== null)
    .map(([key, element]) => `${key} ${scalar(element)}`)
    .join(", ");
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Numbers to six significant digits (a duration of 0.06665546642026124 s reads 0.0666555); long text cut; objects as JSON. */
function scalar(value: unknown): string {
  if (typeof value === "number")
    return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(6)));
  if (typeof value === "string") return shortened(value);
  if (typeof value === "object" && value !== null) return JSON.stringify(value);
  return String(value);
}

/** Text cut to {@link LONG_VALUE_CHARS}, never between the two halves of a surrogate pair. */
function shortened(text: string): string {
  if (text.length <= LONG_VALUE_CHARS) return text;
  return `${leadingChars(text, LONG_VALUE_CHARS)}… (${text.length.toLocaleString("en-US")} characters; --json shows all)`;
}
