import { Duration, RemovalPolicy, Validations } from "aws-cdk-lib";
import * as kms from "aws-cdk-lib/aws-kms";
import * as s3 from "aws-cdk-lib/aws-s3";
import { Construct } from "constructs";
import { DEFAULT_DERIVED_PREFIX, derivedPrefixProblem } from "../../src/config/config.js";
import type { BucketEncryptionChoice } from "./catalog-settings.js";
import { CatalogConfigError } from "./errors.js";

/** Where derived artefacts go unless told otherwise: the handler's own default. */
export { DEFAULT_DERIVED_PREFIX };

export interface CatalogBucketProps {
  /**
   * Catalog an existing bucket instead of creating one. The stack then manages none of the bucket's
   * settings (encryption, versioning, public access, bucket policy, lifecycle), so the props that set them
   * are rejected alongside it.
   * @default - a new bucket is created
   */
  readonly existingBucketName?: string;
  /**
   * Server-side encryption: `s3` (SSE-S3, no key to manage, no per-request KMS cost) or `kms` (a customer
   * managed key with yearly rotation and an S3 Bucket Key to keep KMS requests low).
   * @default "s3"
   */
  readonly encryption?: BucketEncryptionChoice;
  /** Keep object versions; events then carry a versionId the function reads by. @default false */
  readonly versioned?: boolean;
  /** Write S3 server access logs to a second bucket the construct creates. @default false */
  readonly accessLogs?: boolean;
  /** Key prefix of derived artefacts; must end with `/`. @default "_derived/" */
  readonly derivedPrefix?: string;
  /** Days after which derived artefacts expire (they can be derived again). @default 90 */
  readonly derivedExpirationDays?: number;
  /** What happens to a created bucket when the stack is deleted. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * Refuses bucket props the construct cannot honour: a derived prefix that is empty, starts with `/`,
 * does not end with `/` or holds an IAM wildcard, and, with `existingBucketName`, any prop that would
 * configure that bucket.
 * {@link CatalogBucket} runs it on its props; the stack runs it on the settings before it builds anything.
 *
 * @example
 * ```ts
 * checkBucketProps({ existingBucketName: "photos", encryption: "kms" }); // throws CatalogConfigError
 * ```
 */
export function checkBucketProps(props: CatalogBucketProps): void {
  const derivedPrefix = props.derivedPrefix ?? DEFAULT_DERIVED_PREFIX;
  const problem = derivedPrefixProblem(derivedPrefix);
  if (problem) throw new CatalogConfigError(`derivedPrefix "${derivedPrefix}" ${problem}`);
  // Keys and lifecycle rules read the prefix literally, but the function's write grant names
  // `${derivedPrefix}*` in IAM, where "*" and "?" are wildcards: "*/" would let it overwrite and
  // delete the uploads themselves.
  if (/[*?]/.test(derivedPrefix)) {
    throw new CatalogConfigError(
      `derivedPrefix "${derivedPrefix}" cannot contain "*" or "?": keys match it literally, and in the function's IAM grants they are wildcards`,
    );
  }
  if (props.existingBucketName !== undefined) {
    const conflicting = (
      ["encryption", "versioned", "accessLogs", "derivedExpirationDays", "removalPolicy"] as const
    ).filter((k) => props[k] !== undefined);
    if (conflicting.length > 0) {
      throw new CatalogConfigError(
        `existingBucketName cannot be combined with ${conflicting.join(", ")}: the stack does not manage an existing bucket's settings`,
      );
    }
  }
}

/**
 * The watched bucket: created with encryption, Block Public Access, a TLS-only policy and a lifecycle for
 * derived artefacts, or an existing bucket imported by name.
 *
 * @example
 * ```ts
 * const { bucket } = new CatalogBucket(this, "Uploads", { encryption: "kms", versioned: true });
 * ```
 */
export class CatalogBucket extends Construct {
  /** The bucket the pipeline watches. */
  public readonly bucket: s3.IBucket;
  /** The customer managed key, when `encryption` is `kms`. */
  public readonly encryptionKey?: kms.IKey;
  /** The server access log bucket, when `accessLogs` is on. */
  public readonly accessLogBucket?: s3.IBucket;
  /** Key prefix of derived artefacts. */
  public readonly derivedPrefix: string;
  /** Whether the stack created (and so configures) the bucket. */
  public readonly managed: boolean;
  /** Whether the bucket keeps versions, as far as the stack knows (false for an existing bucket). */
  public readonly versioned: boolean;

  constructor(scope: Construct, id: string, props: CatalogBucketProps = {}) {
    super(scope, id);
    checkBucketProps(props);
    this.derivedPrefix = props.derivedPrefix ?? DEFAULT_DERIVED_PREFIX;

    if (props.existingBucketName !== undefined) {
      this.bucket = s3.Bucket.fromBucketName(this, "Bucket", props.existingBucketName);
      this.managed = false;
      this.versioned = false;
      return;
    }

    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    if (props.accessLogs) {
      const logs = new s3.Bucket(this, "AccessLogs", {
        encryption: s3.BucketEncryption.S3_MANAGED,
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
        enforceSSL: true,
        objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        lifecycleRules: [{ expiration: Duration.days(365) }],
        removalPolicy,
      });
      // cdk-nag's S1 exempts a bucket that receives another bucket's access logs: nothing to acknowledge.
      this.accessLogBucket = logs;
    }

    if (props.encryption === "kms") {
      this.encryptionKey = new kms.Key(this, "Key", {
        description: "Encrypts the objects of the metadata catalog's bucket",
        enableKeyRotation: true,
        removalPolicy,
      });
    }

    const versioned = props.versioned ?? false;
    const derivedExpiration = Duration.days(props.derivedExpirationDays ?? 90);
    const bucket = new s3.Bucket(this, "Bucket", {
      encryption: this.encryptionKey ? s3.BucketEncryption.KMS : s3.BucketEncryption.S3_MANAGED,
      encryptionKey: this.encryptionKey,
      bucketKeyEnabled: this.encryptionKey !== undefined,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned,
      serverAccessLogsBucket: this.accessLogBucket,
      serverAccessLogsPrefix: this.accessLogBucket ? "s3/" : undefined,
      lifecycleRules: [
        {
          id: "expire-derived-artefacts",
          prefix: this.derivedPrefix,
          expiration: derivedExpiration,
          noncurrentVersionExpiration: versioned ? Duration.days(1) : undefined,
        },
        { id: "abort-incomplete-uploads", abortIncompleteMultipartUploadAfter: Duration.days(7) },
      ],
      removalPolicy,
    });
    if (!props.accessLogs) {
      Validations.of(bucket).acknowledge({
        id: "AwsSolutions-S1",
        reason:
          "Server access logs are optional (context accessLogs=true); every processed object is already audited in the catalog table, and CloudTrail S3 data events are the documented alternative.",
      });
    }
    this.bucket = bucket;
    this.managed = true;
    this.versioned = versioned;
  }
}
