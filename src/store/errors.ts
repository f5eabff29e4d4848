import { CatalogError } from "../engine/errors.js";

/**
 * DynamoDB refused or failed a catalog operation for a reason other than a
 * lost conditional write (throttling, network, validation). The caller retries.
 */
export class StoreError extends CatalogError {
  readonly bucket?: string;
  readonly key?: string;
  constructor(operation: string, target: { bucket?: string; key?: string }, options?: ErrorOptions) {
    const where = target.bucket !== undefined ? ` s3://${target.bucket}/${target.key ?? ""}` : "";
    const cause = options?.cause instanceof Error ? `: ${options.cause.name}: ${options.cause.message}` : "";
    super(`catalog ${operation} failed${where}${cause}`, options);
    this.name = "StoreError";
    if (target.bucket !== undefined) this.bucket = target.bucket;
    if (target.key !== undefined) this.key = target.key;
  }
}

/** A cursor that this store did not issue, or that belongs to another listing. */
export class InvalidCursorError extends CatalogError {
  constructor(options?: ErrorOptions) {
    super("invalid paging cursor", options);
    this.name = "InvalidCursorError";
  }
}

/** A time range that is reversed, unparsable, or longer than a listing walks. */
export class InvalidRangeError extends CatalogError {
  constructor(message: string) {
    super(message);
    this.name = "InvalidRangeError";
  }
}
