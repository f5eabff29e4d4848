import { Annotations, CfnResource, Duration, RemovalPolicy, Stack, Validations } from "aws-cdk-lib";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import { SqsDestination as LambdaSqsDestination } from "aws-cdk-lib/aws-lambda-destinations";
import { SqsEventSource } from "aws-cdk-lib/aws-lambda-event-sources";
import * as logs from "aws-cdk-lib/aws-logs";
import * as s3 from "aws-cdk-lib/aws-s3";
import * as s3n from "aws-cdk-lib/aws-s3-notifications";
import * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct, type IConstruct } from "constructs";
import { DEFAULT_CONCURRENCY } from "../../src/config/config.js";
import { DEFAULT_BUDGET } from "../../src/engine/limits.js";
import { DEFAULT_THUMBNAIL_LIMITS } from "../../src/transform/thumbnail.js";
import type { CatalogBucket } from "./catalog-bucket.js";
import type { TriggerMode } from "./catalog-settings.js";
import { CatalogConfigError } from "./errors.js";

/**
 * How long the dead-letter queue keeps a message: 14 days, the most SQS allows, so that fixing the cause
 * and redriving has as long as it can get before SQS deletes a parked event.
 */
export const DEAD_LETTER_RETENTION = Duration.days(14);

/**
 * How long the SQS-mode event queue keeps a message (SQS's default). It must stay below
 * {@link DEAD_LETTER_RETENTION}: a message moved to the dead-letter queue expires by the time it was first
 * enqueued here.
 */
export const EVENT_QUEUE_RETENTION = Duration.days(4);

/** SQS mode: receives before a message moves to the dead-letter queue, unless told otherwise. */
export const DEFAULT_MAX_RECEIVE_COUNT = 5;

/** SQS mode: messages per invocation, unless told otherwise. */
export const DEFAULT_BATCH_SIZE = 10;

/**
 * The SQS event source's batching window: Lambda requires one for batches above ten messages, and the shortest
 * it takes (1 s) is given; ten or fewer are sent at once.
 */
export function eventSourceBatchingWindow(batchSize: number): Duration | undefined {
  return batchSize > 10 ? Duration.seconds(1) : undefined;
}

/**
 * The SQS-mode event queue's visibility timeout: six times the function's timeout plus the batching window,
 * Lambda's guidance for an SQS event source (room to retry a batch the function was throttled on, and a
 * message is already invisible while its batch fills), and never below SQS's 30 s.
 *
 * @example
 * ```ts
 * eventQueueVisibilityTimeout(Duration.seconds(60)).toSeconds(); // 360
 * eventQueueVisibilityTimeout(Duration.seconds(60), 100).toSeconds(); // 361: a 1 s batching window
 * ```
 */
export function eventQueueVisibilityTimeout(
  functionTimeout: Duration,
  batchSize: number = DEFAULT_BATCH_SIZE,
): Duration {
  const window = eventSourceBatchingWindow(batchSize)?.toSeconds() ?? 0;
  return Duration.seconds(Math.max(30, functionTimeout.toSeconds() * 6 + window));
}

/**
 * Refuses a redrive policy under which a failing event cannot reach the dead-letter queue. A message the
 * function reports as failed becomes visible again when its visibility timeout runs out, so it is moved
 * to the dead-letter queue only after `maxReceiveCount` timeouts; SQS deletes it once it is
 * {@link EVENT_QUEUE_RETENTION} old, moved or not. Past that, the event is lost without a trace: it never
 * reaches the dead-letter queue, and the event queue's age metric stops counting a message received three
 * times or more. The stack runs it on the settings before it builds anything.
 *
 * @example
 * ```ts
 * checkRedriveWithinRetention(5, Duration.seconds(60)); // passes: 5 x 6 minutes
 * checkRedriveWithinRetention(100, Duration.seconds(900)); // throws: 100 x 90 minutes is over 4 days
 * ```
 */
export function checkRedriveWithinRetention(
  maxReceiveCount: number,
  functionTimeout: Duration,
  batchSize: number = DEFAULT_BATCH_SIZE,
): void {
  const visibility = eventQueueVisibilityTimeout(functionTimeout, batchSize);
  const toDeadLetters = Duration.seconds(maxReceiveCount * visibility.toSeconds());
  if (toDeadLetters.toSeconds() > EVENT_QUEUE_RETENTION.toSeconds()) {
    const most = Math.floor(EVENT_QUEUE_RETENTION.toSeconds() / visibility.toSeconds());
    throw new CatalogConfigError(
      `maxReceiveCount ${maxReceiveCount} with a ${functionTimeout.toSeconds()} s function timeout (a ${visibility.toSeconds()} s visibility timeout per receive) takes ${toDeadLetters.toHumanString()} to move a failing event to the dead-letter queue, longer than the event queue keeps it (${EVENT_QUEUE_RETENTION.toHumanString()}): it would expire unseen; keep maxReceiveCount at ${most} or below, or lower timeoutSeconds`,
    );
  }
}

/** The longest timeout Lambda gives a function. */
const LAMBDA_MAX_TIMEOUT = Duration.minutes(15);

/**
 * The longest the function gives one object by its own bounds: the extraction's time budget, plus the
 * thumbnail's when it writes thumbnails. The catalog writes come on top.
 */
export function objectTimeBound(thumbnails: boolean): Duration {
  return Duration.millis(DEFAULT_BUDGET.maxMillis + (thumbnails ? DEFAULT_THUMBNAIL_LIMITS.timeoutMs : 0));
}

/**
 * Why a full SQS batch may run out of time, or `undefined` when the function's own bounds keep it within the
 * timeout. One invocation handles the whole batch, {@link DEFAULT_CONCURRENCY} objects at a time (the stack sets
 * no `CONCURRENCY`, so the handler's default holds), each within {@link objectTimeBound}. A batch that runs past the function's timeout is retried
 * whole, and after `maxReceiveCount` receives every message of it goes to the dead-letter queue, the objects the
 * function had finished included. Whether it happens depends on the objects (uploads are anyone's content, and a
 * file can be made to spend its whole budget) and on how full batches get, so the stack warns and deploys: most
 * objects take a fraction of a second (bench/RESULTS.md), and Lambda never puts more than 6 MB of messages in one
 * batch, whatever `batchSize` says.
 *
 * @example
 * ```ts
 * batchTimeoutRisk(10, Duration.seconds(60), false); // undefined: 2 rounds of 10 s
 * batchTimeoutRisk(100, Duration.seconds(60), false); // "batchSize 100 with a 60 s function timeout: ..."
 * ```
 */
export function batchTimeoutRisk(
  batchSize: number,
  functionTimeout: Duration,
  thumbnails: boolean,
): string | undefined {
  const perObject = objectTimeBound(thumbnails).toSeconds();
  const rounds = Math.ceil(batchSize / DEFAULT_CONCURRENCY);
  const needed = rounds * perObject;
  const timeout = functionTimeout.toSeconds();
  if (needed <= timeout) return undefined;
  const largest = Math.floor(timeout / perObject) * DEFAULT_CONCURRENCY;
  const remedies = [
    ...(largest > 0 ? [`keep batchSize at ${largest} or below`] : []),
    ...(needed <= LAMBDA_MAX_TIMEOUT.toSeconds() ? [`set timeoutSeconds to ${needed} or more`] : []),
  ];
  return (
    `batchSize ${batchSize} with a ${timeout} s function timeout: the function gives an object up to ${perObject} s ` +
    `(${thumbnails ? "the extraction's and the thumbnail's time budgets" : "the extraction's time budget"}) and works through a batch ${DEFAULT_CONCURRENCY} objects at a time, ` +
    `so a full batch may need ${needed} s; a batch that runs out of time is retried whole, and after maxReceiveCount receives all its messages go to the dead-letter queue` +
    `${remedies.length > 0 ? `; ${remedies.join(", or ")}` : ""}`
  );
}

/**
 * Why derived artefacts never trigger the function. S3 notification filters only include (one prefix and
 * one suffix per configuration); they cannot exclude the derived prefix. So:
 * - `prefix-filter`: a prefix filter is set and the derived prefix lies outside it, so S3 sends no event
 *   for a derived key;
 * - `no-derived-writes`: the whole bucket is watched, and the function has no s3:PutObject permission at
 *   all, so it cannot write anything that would trigger it.
 * Watching the whole bucket while writing derived artefacts is rejected at construction.
 */
export type DerivedExclusion = "prefix-filter" | "no-derived-writes";

export interface CatalogTriggerProps {
  /** The watched bucket. */
  readonly bucket: CatalogBucket;
  /** The function to invoke. */
  readonly function: lambda.Function;
  /** The function's timeout; the queue's visibility timeout is six times it (the AWS guidance). */
  readonly functionTimeout: Duration;
  /** `direct` (S3 invokes the function asynchronously) or `sqs` (S3 -> queue -> function). @default "direct" */
  readonly mode?: TriggerMode;
  /** Only keys under this prefix trigger the function; must not contain the derived prefix. @default - all keys */
  readonly prefix?: string;
  /**
   * Whether the function may write under the derived prefix; then a `prefix` outside it is required.
   * @default false
   */
  readonly derivedWrites?: boolean;
  /** Only keys ending with one of these trigger the function (one notification per suffix). @default - any */
  readonly suffixes?: readonly string[];
  /** Direct mode: retries of a failed asynchronous invocation before the DLQ. @default 2 */
  readonly retryAttempts?: number;
  /**
   * SQS mode: messages per invocation. A batch that may need longer than the function's timeout is deployed
   * with a warning (see {@link batchTimeoutRisk}). @default 10
   */
  readonly batchSize?: number;
  /** SQS mode: receives before a message is moved to the DLQ. @default 5 */
  readonly maxReceiveCount?: number;
  /**
   * SQS mode: most concurrent invocations the event source starts. Set it instead of (or below) reserved
   * concurrency, which would throttle the poller and send messages to the DLQ early.
   * @default - no limit
   */
  readonly maxConcurrency?: number;
  /**
   * Retention of the log group of CDK's notification handler, the deploy-time function that writes the
   * bucket's notification configuration; give it the function's. @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /** Removal policy of that log group. @default RemovalPolicy.RETAIN */
  readonly logRemovalPolicy?: RemovalPolicy;
}

/** The trigger's props besides the resources it connects: what {@link checkTriggerOptions} checks. */
export type CatalogTriggerOptions = Omit<
  CatalogTriggerProps,
  "bucket" | "function" | "functionTimeout" | "logRetention" | "logRemovalPolicy"
>;

/**
 * Refuses options the trigger cannot honour: a prefix that would let derived artefacts (under
 * `derivedPrefix`) trigger the function, filters S3 would never match or would refuse, and options of the
 * other mode. {@link CatalogTrigger} runs it on its props; the stack runs it on the settings before it
 * builds anything, so a wrong filter is reported before the handler is bundled.
 *
 * @example
 * ```ts
 * checkTriggerOptions({ mode: "sqs", retryAttempts: 1 }, "_derived/"); // throws CatalogConfigError
 * ```
 */
export function checkTriggerOptions(options: CatalogTriggerOptions, derivedPrefix: string): void {
  const mode = options.mode ?? "direct";
  const prefix = options.prefix;
  if (prefix !== undefined) {
    if (prefix === "" || derivedPrefix.startsWith(prefix) || prefix.startsWith(derivedPrefix)) {
      throw new CatalogConfigError(
        `prefix "${prefix}" overlaps the derived prefix "${derivedPrefix}": derived artefacts would trigger the function`,
      );
    }
  }
  if (options.derivedWrites && prefix === undefined) {
    throw new CatalogConfigError(
      `derived writes need a prefix filter: S3 notification filters cannot exclude "${derivedPrefix}", so watching the whole bucket would let every derived artefact trigger the function again (set prefix, e.g. "uploads/")`,
    );
  }
  checkFilterValues(prefix, options.suffixes ?? []);
  const sqsOnly = (["batchSize", "maxReceiveCount", "maxConcurrency"] as const).filter(
    (k) => options[k] !== undefined,
  );
  if (mode === "direct" && sqsOnly.length > 0) {
    throw new CatalogConfigError(`${sqsOnly.join(", ")} only apply to mode "sqs"`);
  }
  if (mode === "sqs" && options.retryAttempts !== undefined) {
    throw new CatalogConfigError(
      'retryAttempts only applies to mode "direct" (SQS mode retries through maxReceiveCount)',
    );
  }
}

/**
 * Delivers ObjectCreated and ObjectRemoved events of the watched bucket to the function, directly or
 * through an SQS queue, and parks what fails for good in a dead-letter queue.
 *
 * @example
 * ```ts
 * const trigger = new CatalogTrigger(this, "Trigger", { bucket, function: fn, functionTimeout, mode: "sqs" });
 * trigger.deadLetterQueue.queueName;
 * ```
 */
export class CatalogTrigger extends Construct {
  /** Where events that failed every attempt end up. */
  public readonly deadLetterQueue: sqs.Queue;
  /** The event queue, in SQS mode. */
  public readonly queue?: sqs.Queue;
  /** How derived artefacts are kept from re-triggering the function. */
  public readonly derivedExclusion: DerivedExclusion;
  /** The mode in effect. */
  public readonly mode: TriggerMode;
  /** Direct mode: how long Lambda keeps an event in its asynchronous queue before dropping it. */
  public readonly maxEventAge?: Duration;
  /** How long the dead-letter queue keeps a message. */
  public readonly deadLetterRetention = DEAD_LETTER_RETENTION;
  /** SQS mode: how long the event queue keeps a message. */
  public readonly queueRetention?: Duration;
  /** The log group of CDK's notification handler (see {@link notificationHandlerLogGroup}). */
  public readonly notificationHandlerLogGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: CatalogTriggerProps) {
    super(scope, id);
    checkTriggerOptions(props, props.bucket.derivedPrefix);
    this.mode = props.mode ?? "direct";
    const prefix = props.prefix;
    this.derivedExclusion = prefix === undefined ? "no-derived-writes" : "prefix-filter";

    this.deadLetterQueue = new sqs.Queue(this, "DeadLetterQueue", {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: this.deadLetterRetention,
    });

    let destination: s3.IBucketNotificationDestination;
    if (this.mode === "sqs") {
      const maxReceiveCount = props.maxReceiveCount ?? DEFAULT_MAX_RECEIVE_COUNT;
      const batchSize = props.batchSize ?? DEFAULT_BATCH_SIZE;
      checkRedriveWithinRetention(maxReceiveCount, props.functionTimeout, batchSize);
      const queue = new sqs.Queue(this, "Queue", {
        // SSE-SQS rather than KMS: S3 can publish to it without a key policy.
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        visibilityTimeout: eventQueueVisibilityTimeout(props.functionTimeout, batchSize),
        retentionPeriod: EVENT_QUEUE_RETENTION,
        deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount },
      });
      const risk = batchTimeoutRisk(batchSize, props.functionTimeout, props.derivedWrites ?? false);
      if (risk !== undefined) Annotations.of(this).addWarningV2("catalog:batch-may-time-out", risk);
      props.function.addEventSource(
        new SqsEventSource(queue, {
          batchSize,
          maxBatchingWindow: eventSourceBatchingWindow(batchSize),
          reportBatchItemFailures: true,
          maxConcurrency: props.maxConcurrency,
        }),
      );
      this.queue = queue;
      this.queueRetention = EVENT_QUEUE_RETENTION;
      destination = new s3n.SqsDestination(queue);
    } else {
      this.maxEventAge = Duration.hours(6);
      props.function.configureAsyncInvoke({
        onFailure: new LambdaSqsDestination(this.deadLetterQueue),
        retryAttempts: props.retryAttempts ?? 2,
        maxEventAge: this.maxEventAge,
      });
      destination = new s3n.LambdaDestination(props.function);
      Validations.of(this.deadLetterQueue).acknowledge({
        id: "AwsSolutions-SQS3",
        reason:
          "This queue is itself the dead-letter destination (the function's on-failure destination); a DLQ of a DLQ would only move the problem.",
      });
    }

    const filters: s3.NotificationKeyFilter[] =
      props.suffixes && props.suffixes.length > 0
        ? props.suffixes.map((suffix) => ({ prefix, suffix }))
        : [prefix === undefined ? {} : { prefix }];
    // Objects a lifecycle rule expires raise LifecycleExpiration events, not ObjectRemoved: without them
    // the catalog would keep every expired object live.
    for (const event of [
      s3.EventType.OBJECT_CREATED,
      s3.EventType.OBJECT_REMOVED,
      s3.EventType.LIFECYCLE_EXPIRATION,
    ]) {
      for (const filter of filters) {
        props.bucket.bucket.addEventNotification(event, destination, ...(isEmpty(filter) ? [] : [filter]));
      }
    }
    const handler = notificationHandler(Stack.of(this));
    suppressNotificationHandlerFindings(handler);
    this.notificationHandlerLogGroup = notificationHandlerLogGroup(handler, {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
    });
  }
}

/**
 * What S3 would accept but never match, or refuse at deploy time. Filters compare key text literally: no
 * wildcards, and a key uploaded as `s3://bucket/uploads/a.jpg` is `uploads/a.jpg`, with no leading `/`.
 * Two configurations for the same event type whose suffixes overlap (one ends with the other) under the
 * same prefix make S3 reject the whole notification configuration ("Configurations overlap").
 */
function checkFilterValues(prefix: string | undefined, suffixes: readonly string[]): void {
  if (prefix !== undefined && (prefix.startsWith("/") || /^s3:\/\//i.test(prefix))) {
    throw new CatalogConfigError(
      `prefix "${prefix}" cannot match: S3 keys have no leading "/" or s3:// (for s3://bucket/uploads/a.jpg the prefix is "uploads/")`,
    );
  }
  for (const [name, value] of [["prefix", prefix], ...suffixes.map((s) => ["suffix", s])]) {
    if (value?.includes("*")) {
      throw new CatalogConfigError(
        `${name} "${value}" cannot contain "*": S3 filters match key text literally (write ".jpg", not "*.jpg")`,
      );
    }
  }
  if (suffixes.some((s) => s === ""))
    throw new CatalogConfigError("suffixes must not contain an empty suffix");
  for (const [i, a] of suffixes.entries()) {
    const b = suffixes.find((other, j) => j !== i && a.endsWith(other));
    if (b !== undefined) {
      throw new CatalogConfigError(
        a === b
          ? `suffixes lists "${a}" twice: S3 refuses two notifications for the same keys ("Configurations overlap")`
          : `suffixes "${b}" and "${a}" overlap (every key ending in "${a}" ends in "${b}"): S3 refuses the notifications ("Configurations overlap"); keep "${b}" alone`,
      );
    }
  }
}

function isEmpty(filter: s3.NotificationKeyFilter): boolean {
  return filter.prefix === undefined && filter.suffix === undefined;
}

/**
 * CDK's BucketNotificationsHandler: the stack's one function (a singleton, whatever the number of buckets) behind
 * every `Custom::S3BucketNotifications` resource, created by the first `addEventNotification`. CDK gives it a
 * fixed id at the stack's root (aws-s3/lib/notifications-resource/notifications-resource-handler.ts); should that
 * change, the synth fails here rather than deploy a handler whose logs are kept forever.
 */
function notificationHandler(stack: Stack): IConstruct {
  const handler = stack.node.children.find((child) => child.node.id.startsWith("BucketNotificationsHandler"));
  if (handler === undefined) {
    throw new Error(
      "CDK's BucketNotificationsHandler was not found at the stack's root after adding notifications",
    );
  }
  return handler;
}

/**
 * CDK configures bucket notifications through a singleton custom resource it owns (the
 * BucketNotificationsHandler); its role is not ours to change, so its one finding, the managed policy for
 * its own logs, is acknowledged here, where the notification that creates it is added. Its inline policy
 * names the watched bucket only (s3:PutBucketNotification, plus s3:GetBucketNotification to merge with
 * the notifications an existing bucket already has), so nothing of it is on `*`.
 */
function suppressNotificationHandlerFindings(handler: IConstruct): void {
  Validations.of(handler).acknowledge({
    id: "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
    reason:
      "CDK's BucketNotificationsHandler custom resource uses AWSLambdaBasicExecutionRole for its own logs; it runs only at deploy time.",
  });
}

/**
 * A log group of the stack's for CDK's notification handler. Left alone, Lambda creates
 * `/aws/lambda/<function name>` at the handler's first invocation, with no retention, and `cdk destroy` leaves it
 * behind. The handler is pointed at this group through its logging configuration, as the metadata function is,
 * rather than given a group of that conventional name: on a stack deployed before, Lambda has already created
 * `/aws/lambda/<function name>`, and CloudFormation would fail the update creating it again. Since the function
 * names the group, CloudFormation creates the group before the function, and so before the custom resource
 * invokes it; on deletion the custom resource's last invocation (which empties the notifications) comes first.
 * CDK's handler is a raw `AWS::Lambda::Function` resource with no log-group prop, hence the property override.
 * Created once, whichever trigger of the stack comes first.
 */
function notificationHandlerLogGroup(
  handler: IConstruct,
  props: { retention: logs.RetentionDays; removalPolicy: RemovalPolicy },
): logs.LogGroup {
  const existing = handler.node.tryFindChild("Logs");
  if (existing instanceof logs.LogGroup) return existing;
  const fn = handler.node.defaultChild;
  if (!CfnResource.isCfnResource(fn) || fn.cfnResourceType !== "AWS::Lambda::Function") {
    throw new Error("CDK's BucketNotificationsHandler has no AWS::Lambda::Function resource where expected");
  }
  const logGroup = new logs.LogGroup(handler, "Logs", props);
  fn.addPropertyOverride("LoggingConfig.LogGroup", logGroup.logGroupName);
  return logGroup;
}
