/**
 * S3's longest object key, in bytes of UTF-8. The CLI checks a key against
 * it before sending anything, and the HTTP API and the embedded S3 server
 * refuse one past it, as S3 does.
 */
export const MAX_KEY_BYTES = 1024;
