import path from "node:path";
import { type CfnElement, Duration, RemovalPolicy, Stack, Token, Validations } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import type * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import * as iam from "aws-cdk-lib/aws-iam";
import * as lambda from "aws-cdk-lib/aws-lambda";
import * as logs from "aws-cdk-lib/aws-logs";
import * as s3 from "aws-cdk-lib/aws-s3";
import { Construct } from "constructs";
import { EVENTS_FAILED_METRIC, METRICS_NAMESPACE } from "../../src/config/config.js";
import { DEFAULT_POLICY, type Policy, parsePolicy } from "../../src/policy/policy.js";
import type { CatalogBucket } from "./catalog-bucket.js";
import type { SystemLogLevelChoice } from "./catalog-settings.js";
import { CatalogConfigError } from "./errors.js";
import {
  HANDLER_ENTRY,
  handlerCode,
  LAMBDA_HANDLER,
  PROJECT_ROOT,
  SOURCE_MAPS_NODE_OPTIONS,
} from "./handler-bundle.js";

/**
 * Exactly the table actions the function's use of the catalog store makes;
 * anything more is not granted (the store's BatchGetItem, for listings, and
 * its table creation serve the CLI and the local stack, never the function).
 * DeleteItem removes an object's copy item from its old content's
 * partition (duplicates); records and audit entries are never deleted.
 */
export const TABLE_ACTIONS = [
  "dynamodb:PutItem",
  "dynamodb:DeleteItem",
  "dynamodb:UpdateItem",
  "dynamodb:GetItem",
  "dynamodb:Query",
];

/** The function's timeout unless told otherwise. */
export const DEFAULT_FUNCTION_TIMEOUT = Duration.seconds(60);

export interface CatalogFunctionProps {
  /** The watched bucket; the function reads its objects and, if allowed, writes derived artefacts. */
  readonly bucket: CatalogBucket;
  /** The catalog table. */
  readonly table: dynamodb.ITable;
  /** Limit object reads to keys under this prefix (the notification's prefix filter). @default - any key */
  readonly readPrefix?: string;
  /**
   * Write thumbnails: HeadObject, PutObject and DeleteObject under the bucket's derived prefix,
   * `THUMBNAILS=true`, and sharp shipped for linux-arm64 beside the bundle. Off, the handler makes no thumbnails. @default false
   */
  readonly writeDerived?: boolean;
  /**
   * The validation policy as JSON, passed as `POLICY`. It is parsed here with the handler's own parser, so
   * a bad policy fails the synth instead of every cold start, and object tagging is granted only when the
   * policy has `"tagRejected": true`.
   * @default - the handler's default policy (tags nothing)
   */
  readonly policy?: string;
  /**
   * Days after which DynamoDB's TTL deletes a removed object's tombstone (`TOMBSTONE_TTL_DAYS`).
   * @default - tombstones are kept
   */
  readonly tombstoneTtlDays?: number;
  /** @default 1024 */
  readonly memoryMiB?: number;
  /** @default Duration.seconds(60) */
  readonly timeout?: Duration;
  /** @default - unreserved (account concurrency) */
  readonly reservedConcurrency?: number;
  /** Powertools log level. @default "INFO" */
  readonly logLevel?: string;
  /**
   * Lambda's own log lines through advanced logging controls: JSON log format at this system level (see
   * {@link lambdaLogging}). @default - plain-text START, END and REPORT lines on every invocation
   */
  readonly systemLogLevel?: SystemLogLevelChoice;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** X-Ray active tracing (adds the two X-Ray actions, which only exist on `*`). @default false */
  readonly tracing?: boolean;
  /** Powertools service name, the `service` dimension of the metrics. @default "s3-metadata-catalog" */
  readonly serviceName?: string;
  /** The handler module to bundle (absolute path). @default - src/lambda/handler.ts of this project */
  readonly entry?: string;
  /**
   * Map stack traces in the logs to the TypeScript sources (`NODE_OPTIONS=--enable-source-maps`). The maps
   * are deployed either way; on, every cold start parses them, which costs init time.
   * @default false
   */
  readonly sourceMaps?: boolean;
  /** Removal policy of the log group. @default RemovalPolicy.RETAIN */
  readonly logRemovalPolicy?: RemovalPolicy;
}

/**
 * The metadata function: the bundled handler on Node.js 22 / arm64 with its own role, log group and the
 * grants for exactly the calls it makes (ranged GetObject/HeadObject, tagging when the policy tags
 * rejected objects, derived HeadObject and conditional PutObject and DeleteObject when enabled, the
 * DynamoDB actions of {@link TABLE_ACTIONS}). No managed policy, no wildcard action.
 *
 * @example
 * ```ts
 * const metadata = new CatalogFunction(this, "Metadata", { bucket, table, memoryMiB: 512 });
 * metadata.function.functionName;
 * ```
 */
export class CatalogFunction extends Construct {
  /** The Lambda function. */
  public readonly function: lambda.Function;
  /** Its execution role, holding only the grants below. */
  public readonly role: iam.Role;
  /** Its log group. */
  public readonly logGroup: logs.LogGroup;
  /** Its timeout, which the SQS trigger sizes the visibility timeout from. */
  public readonly timeout: Duration;
  /** Powertools service name: the `service` dimension of the function's own metrics. */
  public readonly serviceName: string;

  constructor(scope: Construct, id: string, props: CatalogFunctionProps) {
    super(scope, id);
    const { bucket: catalogBucket, table } = props;
    const bucket = catalogBucket.bucket;
    this.timeout = props.timeout ?? DEFAULT_FUNCTION_TIMEOUT;
    const policy = props.policy === undefined ? DEFAULT_POLICY : parsedPolicy(props.policy);
    if (props.readPrefix?.startsWith(catalogBucket.derivedPrefix)) {
      throw new CatalogConfigError(`readPrefix "${props.readPrefix}" lies inside the derived prefix`);
    }

    this.logGroup = new logs.LogGroup(this, "Logs", {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
    });
    // A role of our own instead of the default one, which carries the AWSLambdaBasicExecutionRole managed
    // policy (logs on every log group in the account).
    this.role = new iam.Role(this, "Role", {
      assumedBy: new iam.ServicePrincipal("lambda.amazonaws.com"),
      description: "Metadata catalog function: read watched objects, write catalog items",
    });
    this.logGroup.grantWrite(this.role);

    const serviceName = props.serviceName ?? "s3-metadata-catalog";
    this.serviceName = serviceName;
    const logLevel = props.logLevel ?? "INFO";
    const environment: Record<string, string> = {
      TABLE_NAME: table.tableName,
      DERIVED_PREFIX: catalogBucket.derivedPrefix,
      // Without the grant a thumbnail write would fail on every image: off unless writes are allowed.
      THUMBNAILS: props.writeDerived ? "true" : "false",
      POWERTOOLS_SERVICE_NAME: serviceName,
      POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      POWERTOOLS_LOG_LEVEL: logLevel,
    };
    if (props.sourceMaps) environment.NODE_OPTIONS = SOURCE_MAPS_NODE_OPTIONS;
    if (props.policy !== undefined) environment.POLICY = props.policy;
    if (props.tombstoneTtlDays !== undefined) environment.TOMBSTONE_TTL_DAYS = String(props.tombstoneTtlDays);
    checkEnvironmentSize(environment);

    // A plain Function over a locally built, code-split bundle rather than NodejsFunction (one
    // --outfile, no chunks): the split halves cold start (see HANDLER_BUNDLE and docs/DEPLOY.md).
    this.function = new lambda.Function(this, "Function", {
      description: "Extracts metadata from new and removed S3 objects into the catalog table",
      code: handlerCode({
        entry: props.entry ?? path.join(PROJECT_ROOT, HANDLER_ENTRY),
        shipSharp: props.writeDerived ?? false,
      }),
      handler: LAMBDA_HANDLER,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memoryMiB ?? 1024,
      timeout: this.timeout,
      reservedConcurrentExecutions: props.reservedConcurrency,
      tracing: props.tracing ? lambda.Tracing.ACTIVE : lambda.Tracing.DISABLED,
      role: this.role,
      logGroup: this.logGroup,
      ...lambdaLogging(props.systemLogLevel, logLevel),
      environment,
    });

    // Reads: GetObject covers HeadObject and ranged GETs; GetObjectVersion is needed when the event pins a
    // versionId, which only happens on a versioned bucket (unknown for an existing one, so granted there).
    const grants = s3.BucketGrants.fromBucket(bucket);
    const objectPattern = `${props.readPrefix ?? ""}*`;
    const versionable = catalogBucket.versioned || !catalogBucket.managed;
    const readActions = ["s3:GetObject", ...(versionable ? ["s3:GetObjectVersion"] : [])];
    grants.actionsOnObjectKeys(
      this.function,
      objectPattern,
      ...readActions,
      ...(catalogBucket.encryptionKey ? ["kms:Decrypt"] : []),
    );
    // Without ListBucket, S3 answers 403 instead of 404 for an object deleted between the event and the
    // read, and the handler could not tell "superseded" from a permissions fault.
    iam.Grant.addToPrincipalOrResource({
      grantee: this.function,
      actions: ["s3:ListBucket"],
      resourceArns: [bucket.bucketArn],
      resource: bucket,
    });
    if (policy.tagRejected) {
      grants.actionsOnObjectKeys(
        this.function,
        objectPattern,
        "s3:GetObjectTagging",
        "s3:PutObjectTagging",
        ...(versionable ? ["s3:GetObjectVersionTagging", "s3:PutObjectVersionTagging"] : []),
      );
    }
    if (props.writeDerived) {
      grants.actionsOnObjectKeys(
        this.function,
        `${catalogBucket.derivedPrefix}*`,
        "s3:PutObject",
        // A deleted object's thumbnail goes with it.
        "s3:DeleteObject",
        // ...but only while it is the one the record named: DeleteObject with If-Match, which S3 authorizes
        // with s3:GetObject on the key besides s3:DeleteObject. The same action covers the HeadObject that
        // reads which event's thumbnail the key holds before each write, and the PutObject with If-Match
        // that replaces an older one (also authorized with s3:GetObject besides s3:PutObject).
        "s3:GetObject",
        ...(catalogBucket.encryptionKey ? ["kms:GenerateDataKey"] : []),
      );
    }
    table.grant(this.function, ...TABLE_ACTIONS);

    Validations.of(this.function).acknowledge({
      id: "AwsSolutions-L1",
      reason:
        "Node.js 22 is pinned on purpose: it is the bundle's esbuild target (HANDLER_BUNDLE.target, node22), and a newer runtime moves both together, as a deliberate change rather than an automatic one.",
    });
    const objectArn = objectArnForNag(catalogBucket);
    const objectPatterns = [
      objectPattern,
      ...(props.writeDerived ? [`${catalogBucket.derivedPrefix}*`] : []),
    ];
    Validations.of(this.role).acknowledge(
      ...objectPatterns.map((pattern) => ({
        id: `AwsSolutions-IAM5[Resource::${objectArn}/${pattern}]`,
        reason:
          "Object keys are not known in advance: reads are scoped to the watched prefix of this one bucket, derived writes to the derived prefix.",
      })),
      {
        id: `AwsSolutions-IAM5[Resource::<${Stack.of(table).getLogicalId(table.node.defaultChild as CfnElement)}.Arn>/index/*]`,
        reason:
          "Queries run against this table's own secondary indexes (the four of src/store/schema.ts); index/* is scoped to this table.",
      },
      ...(props.tracing
        ? [
            {
              id: "AwsSolutions-IAM5[Resource::*]",
              reason: "xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level scoping.",
            },
          ]
        : []),
    );
  }
}

/**
 * The S3 events the handler handed back to the platform for a retry (objects that hit an infrastructure
 * fault, SQS messages that are not S3 events), from the EMF metric {@link EVENTS_FAILED_METRIC} it writes with its
 * logs under the function's service name. Written only when there are some.
 *
 * @example
 * ```ts
 * eventsFailedMetric(metadata.serviceName).createAlarm(this, "EventsFailed", { threshold: 1, evaluationPeriods: 1 });
 * ```
 */
export function eventsFailedMetric(
  serviceName: string,
  props: Omit<cloudwatch.MetricProps, "namespace" | "metricName" | "dimensionsMap"> = {},
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    statistic: "Sum",
    period: Duration.minutes(5),
    ...props,
    namespace: METRICS_NAMESPACE,
    metricName: EVENTS_FAILED_METRIC,
    dimensionsMap: { service: serviceName },
  });
}

/**
 * Lambda's log format and levels for a system log level, or nothing (plain text) without one.
 *
 * Plain text stays the default: it keeps the REPORT line of every invocation, the only place that says
 * how much memory an invocation used and how long its cold start took (the Duration, Errors and
 * Throttles metrics do not), and as JSON the same platform lines are larger, not smaller. `WARN` drops
 * them for invocations that succeed, while a failed or timed-out invocation still gets its report and the
 * Errors alarm still fires.
 *
 * The application level is never stricter than INFO: Lambda gives every line without a `level` key the
 * level INFO, and the EMF blobs the custom metrics come from have none, so a WARN filter would drop the
 * metrics. The handler applies a stricter `logLevel` itself (src/lambda/handler.ts, `catalogLogger`).
 *
 * @example
 * lambdaLogging("WARN", "INFO"); // { loggingFormat: JSON, systemLogLevelV2: WARN, applicationLogLevelV2: INFO }
 */
export function lambdaLogging(
  systemLogLevel: SystemLogLevelChoice | undefined,
  logLevel: string,
): Pick<lambda.FunctionProps, "loggingFormat" | "systemLogLevelV2" | "applicationLogLevelV2"> {
  if (systemLogLevel === undefined) return {};
  return {
    loggingFormat: lambda.LoggingFormat.JSON,
    systemLogLevelV2: lambda.SystemLogLevel[systemLogLevel],
    applicationLogLevelV2:
      logLevel.toUpperCase() === "DEBUG" ? lambda.ApplicationLogLevel.DEBUG : lambda.ApplicationLogLevel.INFO,
  };
}

/** Lambda's limit on a function's environment, measured as one JSON object; past it the deploy fails. */
export const LAMBDA_ENVIRONMENT_LIMIT_BYTES = 4096;

/** Room for a value only known at deploy time (the table's name, which DynamoDB caps at 255 characters). */
const UNRESOLVED_VALUE_BYTES = 255;

/**
 * Refuses an environment Lambda would refuse. Lambda measures the variables as one JSON object
 * (`{"NAME":"value",...}`, its error says "String measured: ..."), so quotes and escapes count: every `"`
 * of the policy counts twice. Only `POLICY` can grow large (allow- and deny-lists), so the message says
 * how large it is.
 */
function checkEnvironmentSize(environment: Record<string, string>): void {
  const measured = Object.fromEntries(
    Object.entries(environment).map(([name, value]) => [
      name,
      Token.isUnresolved(value) ? "x".repeat(UNRESOLVED_VALUE_BYTES) : value,
    ]),
  );
  const size = Buffer.byteLength(JSON.stringify(measured));
  if (size > LAMBDA_ENVIRONMENT_LIMIT_BYTES) {
    // As Lambda counts it: escaped, without the enclosing quotes.
    const policy =
      environment.POLICY === undefined ? 0 : Buffer.byteLength(JSON.stringify(environment.POLICY)) - 2;
    throw new CatalogConfigError(
      `the function's environment would take up to ${size} bytes, over Lambda's limit of ${LAMBDA_ENVIRONMENT_LIMIT_BYTES}; the policy is ${policy} of them: shorten it (minified JSON, fewer list entries)`,
    );
  }
}

/**
 * The policy as the handler will read it (its own parser); a policy the handler would refuse fails the
 * synth instead, with a {@link CatalogConfigError}. {@link CatalogFunction} reads its `policy` prop with
 * it; the stack runs it on the settings before it builds anything.
 *
 * @example
 * ```ts
 * parsedPolicy('{"tagRejected":true}').tagRejected; // true
 * parsedPolicy('{"tagEverything":true}'); // throws: invalid policy: policy.tagEverything is not a known field
 * ```
 */
export function parsedPolicy(json: string): Policy {
  try {
    return parsePolicy(JSON.parse(json));
  } catch (error) {
    throw new CatalogConfigError(`invalid policy: ${(error as Error).message}`, { cause: error });
  }
}

/** How cdk-nag renders this bucket's ARN inside a finding id. */
function objectArnForNag(catalogBucket: CatalogBucket): string {
  const bucket = catalogBucket.bucket;
  return catalogBucket.managed
    ? `<${Stack.of(bucket).getLogicalId(bucket.node.defaultChild as CfnElement)}.Arn>`
    : `arn:<AWS::Partition>:s3:::${bucket.bucketName}`;
}
