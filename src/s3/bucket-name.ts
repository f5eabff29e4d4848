/**
 * S3's naming rules for general purpose buckets, shared by the CLI (which
 * checks a name where the user gave it) and the embedded S3 server (which
 * refuses a request naming a bucket S3 could not have).
 */

/** Beginnings and endings S3 keeps for itself (access point aliases, directory and table buckets...). */
const RESERVED_BUCKET_PREFIXES = ["xn--", "sthree-", "amzn-s3-demo-"] as const;
const RESERVED_BUCKET_SUFFIXES = ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"] as const;

/**
 * What breaks S3's naming rules for general purpose buckets in `name`, or
 * undefined when it keeps them. S3 refuses such a name; a check
 * where the name is given says why, closer to where it came from.
 *
 * @example
 * bucketNameProblem("Bad_Bucket") // "only lowercase letters, digits, '.' and '-' are allowed"
 */
export function bucketNameProblem(name: string): string | undefined {
  if (name.length < 3 || name.length > 63) return `a name has 3 to 63 characters, this one ${name.length}`;
  if (/[^a-z0-9.-]/.test(name)) return "only lowercase letters, digits, '.' and '-' are allowed";
  if (!/^[a-z0-9].*[a-z0-9]$/.test(name)) return "a name begins and ends with a letter or digit";
  if (name.includes("..")) return "a name has no two '.' in a row";
  if (/^\d+\.\d+\.\d+\.\d+$/.test(name)) return "a name is not an IP address";
  const prefix = RESERVED_BUCKET_PREFIXES.find((reserved) => name.startsWith(reserved));
  if (prefix) return `names beginning with '${prefix}' are reserved by S3`;
  const suffix = RESERVED_BUCKET_SUFFIXES.find((reserved) => name.endsWith(reserved));
  if (suffix) return `names ending with '${suffix}' are reserved by S3`;
  return undefined;
}
