import {
  App,
  type AppProps,
  CfnOutput,
  Duration,
  RemovalPolicy,
  Stack,
  type StackProps,
  Validations,
} from "aws-cdk-lib";
import * as logs from "aws-cdk-lib/aws-logs";
import { AwsSolutionsChecks } from "cdk-nag";
import type { Construct } from "constructs";
import { objectPk } from "../../src/store/keys.js";
import { PARTITION_KEY } from "../../src/store/schema.js";
import { CatalogAlarms, checkAlarmTargets } from "./catalog-alarms.js";
import {
  CatalogBucket,
  type CatalogBucketProps,
  checkBucketProps,
  DEFAULT_DERIVED_PREFIX,
} from "./catalog-bucket.js";
import {
  CatalogFunction,
  DEFAULT_FUNCTION_TIMEOUT,
  eventsFailedMetric,
  parsedPolicy,
} from "./catalog-function.js";
import { type CatalogSettings, readCatalogSettings } from "./catalog-settings.js";
import { CatalogTable } from "./catalog-table.js";
import {
  CatalogTrigger,
  type CatalogTriggerOptions,
  checkRedriveWithinRetention,
  checkTriggerOptions,
  DEFAULT_MAX_RECEIVE_COUNT,
} from "./catalog-trigger.js";
import { CatalogSettingsError } from "./errors.js";

export type CatalogStackProps = StackProps &
  CatalogStackSettings & {
    /** The handler module to bundle. @default - src/lambda/handler.ts */
    readonly handlerEntry?: string;
  };

/**
 * The metadata catalog on AWS: the watched bucket, the function, its trigger (direct or through SQS) with a
 * dead-letter queue, the catalog table, alarms, and outputs that say how to reach them.
 *
 * @example
 * ```ts
 * new CatalogStack(app, "S3MetadataCatalog", { mode: "sqs", prefix: "uploads/" });
 * ```
 */
export class CatalogStack extends Stack {
  public readonly bucket: CatalogBucket;
  public readonly table: CatalogTable;
  public readonly metadataFunction: CatalogFunction;
  public readonly trigger: CatalogTrigger;
  public readonly alarms: CatalogAlarms;

  constructor(scope: Construct, id: string, props: CatalogStackProps = { mode: "direct" }) {
    // Before super: a refused setting leaves no half-built stack in the app.
    validateCatalogSettings(props, props.env?.region);
    super(scope, id, props);
    const removalPolicy = stackRemovalPolicy(props);
    const mode = props.mode ?? "direct";
    // Every log group of the stack, CDK's deploy-time notification handler's included, is kept as long.
    const logRetention = retentionDays(props.logRetentionDays ?? 30);

    this.bucket = new CatalogBucket(this, "Uploads", bucketProps(props));
    this.table = new CatalogTable(this, "Catalog", { removalPolicy });
    this.metadataFunction = new CatalogFunction(this, "Metadata", {
      bucket: this.bucket,
      table: this.table.table,
      entry: props.handlerEntry,
      readPrefix: props.prefix,
      writeDerived: props.writeDerived,
      policy: props.policy,
      tombstoneTtlDays: props.tombstoneTtlDays,
      memoryMiB: props.memoryMiB,
      timeout: props.timeoutSeconds === undefined ? undefined : Duration.seconds(props.timeoutSeconds),
      // With SQS, reserved concurrency throttles the poller and sends messages to the DLQ early; the event
      // source's maximum concurrency is the limit that works there.
      reservedConcurrency: mode === "direct" ? props.reservedConcurrency : undefined,
      logLevel: props.logLevel,
      systemLogLevel: props.systemLogLevel,
      logRetention,
      tracing: props.tracing,
      sourceMaps: props.sourceMaps,
      logRemovalPolicy: removalPolicy,
    });
    this.trigger = new CatalogTrigger(this, "Trigger", {
      ...triggerOptions(props),
      bucket: this.bucket,
      function: this.metadataFunction.function,
      functionTimeout: this.metadataFunction.timeout,
      logRetention,
      logRemovalPolicy: removalPolicy,
    });
    this.alarms = new CatalogAlarms(this, "Alarms", {
      function: this.metadataFunction.function,
      deadLetterQueue: this.trigger.deadLetterQueue,
      deadLetterRetention: this.trigger.deadLetterRetention,
      queue: this.trigger.queue,
      queueRetention: this.trigger.queueRetention,
      eventsFailed: this.trigger.queue && eventsFailedMetric(this.metadataFunction.serviceName),
      asyncInvoke: this.trigger.maxEventAge && { maxEventAge: this.trigger.maxEventAge },
      alarmEmail: props.alarmEmail,
      alarmTopicArn: props.alarmTopicArn,
    });

    const bucketName = this.bucket.bucket.bucketName;
    const tableName = this.table.table.tableName;
    const exampleFile = exampleFileName(props.suffixes);
    const exampleKey = `${props.prefix ?? ""}${exampleFile}`;
    new CfnOutput(this, "BucketName", { value: bucketName });
    new CfnOutput(this, "TableName", { value: tableName });
    new CfnOutput(this, "FunctionName", { value: this.metadataFunction.function.functionName });
    new CfnOutput(this, "DeadLetterQueueName", { value: this.trigger.deadLetterQueue.queueName });
    new CfnOutput(this, "DeadLetterQueueUrl", { value: this.trigger.deadLetterQueue.queueUrl });
    new CfnOutput(this, "DeadLetterQueueArn", { value: this.trigger.deadLetterQueue.queueArn });
    if (this.trigger.queue) new CfnOutput(this, "QueueUrl", { value: this.trigger.queue.queueUrl });
    new CfnOutput(this, "DerivedExclusion", { value: this.trigger.derivedExclusion });
    new CfnOutput(this, "UploadCommand", {
      description: "Upload a file; its record appears in the table within seconds",
      value: `aws s3 cp ./${exampleFile} s3://${bucketName}/${exampleKey} --region ${this.region}`,
    });
    new CfnOutput(this, "QueryCommand", {
      description: "Read one object's record and audit history",
      value:
        `aws dynamodb query --region ${this.region} --table-name ${tableName}` +
        ` --key-condition-expression "${PARTITION_KEY} = :pk"` +
        ` --expression-attribute-values '{":pk":{"S":"${objectPk(bucketName, exampleKey)}"}}'`,
    });
    new CfnOutput(this, "CatalogCommand", {
      description: "The catalog CLI against this stack",
      value: `catalog show s3://${bucketName}/${exampleKey} --region ${this.region} --table ${tableName}`,
    });
  }
}

/** The settings the stack is built from: all of {@link CatalogSettings} but the stack's name. */
export type CatalogStackSettings = Omit<CatalogSettings, "stackName">;

/**
 * Refuses settings the stack cannot be built with, or that S3, SNS, Lambda, CloudWatch or CloudWatch Logs
 * would refuse at deploy time, before any construct is built: the handler's bundle, the slow part of a
 * synth, is only made for settings that passed. `region` is the stack's; without one (an
 * environment-agnostic stack) the checks that need it are skipped. The checks are the constructs' own,
 * run on the props the stack would give them; the constructs run them again, for use without these settings. Only the size of the
 * function's environment is left to {@link CatalogFunction}, which composes it, before its code is bundled.
 *
 * @example
 * ```ts
 * validateCatalogSettings({ mode: "direct", suffixes: ["*.jpg"] }); // throws CatalogConfigError
 * ```
 */
export function validateCatalogSettings(settings: CatalogStackSettings, region?: string): void {
  const bucket = bucketProps(settings);
  checkBucketProps(bucket);
  if (settings.policy !== undefined) parsedPolicy(settings.policy);
  retentionDays(settings.logRetentionDays ?? 30);
  checkTriggerOptions(triggerOptions(settings), bucket.derivedPrefix ?? DEFAULT_DERIVED_PREFIX);
  if (settings.mode === "sqs") {
    checkRedriveWithinRetention(
      settings.maxReceiveCount ?? DEFAULT_MAX_RECEIVE_COUNT,
      settings.timeoutSeconds === undefined
        ? DEFAULT_FUNCTION_TIMEOUT
        : Duration.seconds(settings.timeoutSeconds),
      settings.batchSize,
    );
  }
  checkAlarmTargets(settings, region);
}

/** Kept by default: deleting the stack must not delete the catalog or the uploads. */
function stackRemovalPolicy(settings: CatalogStackSettings): RemovalPolicy {
  return (settings.retain ?? true) ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
}

/** The watched bucket's props; an existing bucket is not the stack's to keep or delete. */
function bucketProps(settings: CatalogStackSettings): CatalogBucketProps {
  return {
    existingBucketName: settings.existingBucketName,
    encryption: settings.encryption,
    versioned: settings.versioned,
    accessLogs: settings.accessLogs,
    derivedPrefix: settings.derivedPrefix,
    derivedExpirationDays: settings.derivedExpirationDays,
    removalPolicy: settings.existingBucketName === undefined ? stackRemovalPolicy(settings) : undefined,
  };
}

/** The trigger's options; in SQS mode `reservedConcurrency` becomes the event source's maximum concurrency. */
function triggerOptions(settings: CatalogStackSettings): CatalogTriggerOptions {
  const mode = settings.mode ?? "direct";
  return {
    mode,
    prefix: settings.prefix,
    derivedWrites: settings.writeDerived ?? false,
    suffixes: settings.suffixes,
    retryAttempts: settings.retryAttempts,
    batchSize: settings.batchSize,
    maxReceiveCount: settings.maxReceiveCount,
    maxConcurrency: mode === "sqs" ? sqsMaxConcurrency(settings.reservedConcurrency) : undefined,
  };
}

/**
 * The file the output commands upload and look up: `photo.jpg`, unless the suffix filters would keep its
 * event from the function; then a name with the first suffix, so the commands show a record that exists.
 */
function exampleFileName(suffixes: readonly string[] | undefined): string {
  const photo = "photo.jpg";
  if (suffixes === undefined || suffixes.length === 0 || suffixes.some((s) => photo.endsWith(s)))
    return photo;
  return `example${suffixes[0]}`;
}

/**
 * In SQS mode `reservedConcurrency` becomes the event source's maximum concurrency, which Lambda takes from 2
 * to 1000; a value outside is refused rather than quietly raised or left to fail the deploy.
 */
function sqsMaxConcurrency(reservedConcurrency: number | undefined): number | undefined {
  if (reservedConcurrency !== undefined && (reservedConcurrency < 2 || reservedConcurrency > 1000)) {
    throw new CatalogSettingsError(
      "reservedConcurrency",
      reservedConcurrency,
      'from 2 to 1000: in mode "sqs" it is the SQS event source\'s maximum concurrency, which Lambda takes in that range',
    );
  }
  return reservedConcurrency;
}

/** A retention period CloudWatch Logs accepts; never-expire (`INFINITE`) is not offered: logs get a retention. */
function retentionDays(days: number): logs.RetentionDays {
  const allowed = Object.values(logs.RetentionDays).filter(
    (v): v is number => typeof v === "number" && v !== logs.RetentionDays.INFINITE,
  );
  if (!allowed.includes(days)) {
    throw new CatalogSettingsError(
      "logRetentionDays",
      days,
      `a retention CloudWatch Logs accepts (${allowed.join(", ")})`,
    );
  }
  return days as logs.RetentionDays;
}

/**
 * CDK behaviours the stack relies on, set here rather than only in cdk.json so that tests build the very
 * same resources. Access-log delivery by bucket policy: ACLs stay disabled on every bucket.
 */
const FEATURE_FLAGS = { "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": true };

/**
 * Builds the app `npx cdk` deploys: the stack from context settings, checked by cdk-nag's AwsSolutions
 * pack. Tests call it with explicit context so they check the very same composition.
 *
 * @example
 * ```ts
 * const { app, stack } = buildCatalogApp({ mode: "sqs" });
 * app.synth();
 * ```
 */
export function buildCatalogApp(
  context: Record<string, unknown> = {},
  appProps: Omit<AppProps, "context"> = {},
): { app: App; stack: CatalogStack } {
  const app = new App({ ...appProps, context: { ...FEATURE_FLAGS, ...context } });
  const { stackName, ...settings } = readCatalogSettings(app.node);
  const stack = new CatalogStack(app, stackName, {
    ...settings,
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
    description: "s3-metadata-catalog: S3 upload -> Lambda metadata extraction -> DynamoDB catalog",
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return { app, stack };
}
