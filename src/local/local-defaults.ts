/**
 * Names, ports and credentials of the local stack, in a module of their own:
 * the CLI needs them on every start, and importing the stack itself would
 * load both emulators and the whole handler just to print `--help`.
 */

/** The interface of the local stack's servers: loopback only, never a routable address. */
export const LOOPBACK = "127.0.0.1";

/** Credentials the embedded servers accept (s3rver's built-in pair); never real ones. */
export const LOCAL_CREDENTIALS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };
export const LOCAL_REGION = "us-east-1";

/**
 * How the catalog's own S3 clients reach the embedded S3: path-style, with
 * the SDK's default checksums (CRC32 on every upload, `aws-chunked` framing
 * on streams), which the embedded S3 decodes and checks as S3 does, so the
 * CLI and the pipeline take the path a user's SDK or AWS CLI takes.
 */
export const LOCAL_S3_CLIENT_OPTIONS = {
  region: LOCAL_REGION,
  credentials: LOCAL_CREDENTIALS,
  forcePathStyle: true,
} as const;

/** Default ports and names of the local stack; the CLI uses them to find it. */
export const LOCAL_DEFAULTS = {
  s3Port: 4569,
  dynamodbPort: 8000,
  httpPort: 3000,
  dataDir: ".catalog",
  bucket: "uploads",
  tableName: "catalog",
  derivedPrefix: "_derived/",
} as const;
