/**
 * What the package formats share: `Name: value` header lines (a Debian
 * control file, a wheel's core metadata, a JAR manifest).
 */
import { cleanString } from "../../limits.js";

/**
 * How a value continued on a line that begins with a space or a tab joins
 * the line before: as it is (a JAR manifest splits values at 72 bytes),
 * with one space (an email header, as the core metadata folds it), or on a
 * line of its own (a Debian control file's multi-line fields).
 */
export type Continuation = "direct" | "space" | "newline";

/**
 * The fields of the first paragraph of header lines (blank lines before it
 * are passed over), names lower-cased, every value of a name kept in order.
 *
 * @example
 * headerFields("Package: hello\nDescription: greeting\n more\n", "newline").get("description") // ["greeting\nmore"]
 */
export function headerFields(text: string, continuation: Continuation): Map<string, string[]> {
  const fields = new Map<string, string[]>();
  let last: string[] | undefined;
  for (const line of text.split(/\r?\n/)) {
    if (line === "") {
      // The first paragraph is the one described; a Debian control file's second is another package's.
      if (fields.size > 0) break;
      continue;
    }
    if (line.startsWith(" ") || line.startsWith("\t")) {
      if (last && last.length > 0) {
        const continued =
          continuation === "direct"
            ? line.slice(1)
            : continuation === "newline"
              ? `\n${line.slice(1)}`
              : ` ${line.trim()}`;
        last[last.length - 1] += continued;
      }
      continue;
    }
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    last = fields.get(name) ?? [];
    last.push(line.slice(colon + 1).trim());
    fields.set(name, last);
  }
  return fields;
}

/** The first value of the first of `names` that has a non-empty one, cleaned. */
export function first(fields: Map<string, string[]>, ...names: string[]): string | undefined {
  for (const name of names) {
    const value = cleanString(fields.get(name)?.[0]);
    if (value) return value;
  }
  return undefined;
}
