/** Names whose extension says the entry is an archive itself. */
const NESTED_ARCHIVE_NAME =
  /\.(zip|jar|war|apk|gz|tgz|tar|7z|rar|xz|txz|bz2|tbz2?|zst|lz4|lz|lzma|cab|cpio|z|iso)$/i;

/**
 * Whether an entry's name says it is an archive itself (a nested archive).
 *
 * @example
 * isArchiveName("backup/2024.tar.gz") // true
 * isArchiveName("notes.txt") // false
 */
export function isArchiveName(name: string): boolean {
  return NESTED_ARCHIVE_NAME.test(name);
}
