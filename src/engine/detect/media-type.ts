/**
 * A Content-Type as detection compares it (and as `declaredMime` holds it):
 * the media type alone, lower-case, parameters dropped.
 *
 * @example
 * normaliseMime("Text/Plain; charset=utf-8") // "text/plain"
 */
export function normaliseMime(mime: string | undefined): string {
  return (mime ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
}
