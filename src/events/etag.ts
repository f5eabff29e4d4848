/**
 * An ETag as S3's event notifications write it, the catalog's one form:
 * without the double quotes HTTP headers, S3's XML and the SDK put around it
 * (and without the blanks around a list item of an `If-Match` header).
 *
 * @example
 * unquoteETag('"9b2cf535f27731c974343645a3985328"') // "9b2cf535f27731c974343645a3985328"
 * unquoteETag("9b2cf535f27731c974343645a3985328") // unchanged
 */
export function unquoteETag(eTag: string): string {
  return eTag.trim().replace(/^"(.*)"$/, "$1");
}
