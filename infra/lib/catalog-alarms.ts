import { Duration, Stack, Token } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as actions from "aws-cdk-lib/aws-cloudwatch-actions";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import * as sns from "aws-cdk-lib/aws-sns";
import * as subscriptions from "aws-cdk-lib/aws-sns-subscriptions";
import type * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { CatalogConfigError } from "./errors.js";

export interface CatalogAlarmsProps {
  /** The metadata function. */
  readonly function: lambda.IFunction;
  /** The dead-letter queue; any message in it is an event the catalog has not recorded. */
  readonly deadLetterQueue: sqs.IQueue;
  /**
   * How long the dead-letter queue keeps a message (its retention period). SQS then deletes it unread, so an
   * alarm fires when the oldest parked event is halfway to that (see {@link deadLetterAgeThreshold}).
   */
  readonly deadLetterRetention: Duration;
  /** The event queue, in SQS mode. @default - no queue-age alarm */
  readonly queue?: sqs.IQueue;
  /**
   * SQS mode: the events the function handed back for a retry (the handler's `EventsFailed` metric). A
   * partial batch response is a successful invocation, so Lambda's Errors metric does not count them;
   * given, the EventsFailed alarm watches this instead. @default - no EventsFailed alarm
   */
  readonly eventsFailed?: cloudwatch.Metric;
  /**
   * With `queue`, required: how long it keeps a message. A message SQS moves to the dead-letter queue keeps
   * its first enqueue time and expires by it, so its time in this queue is time it no longer has there.
   * @default - no event queue
   */
  readonly queueRetention?: Duration;
  /**
   * Direct mode: S3 invokes the function asynchronously, so events wait in Lambda's own queue, which no
   * SQS metric sees; given, the alarms on that queue are created. An alternative to `queue`.
   * @default - no asynchronous-invocation alarms
   */
  readonly asyncInvoke?: AsyncInvokeLimits;
  /**
   * Alarm when the oldest queued event (SQS mode) or invoked event (direct mode) had waited this long.
   * @default Duration.minutes(15)
   */
  readonly maxQueueAge?: Duration;
  /** Create an SNS topic for the alarms and subscribe this address. @default - no topic */
  readonly alarmEmail?: string;
  /** Send the alarms to this existing topic instead. @default - no topic */
  readonly alarmTopicArn?: string;
}

/** An SNS topic's ARN, in any partition. */
const SNS_TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/;

/** How long Lambda keeps an asynchronous event before dropping it, as configured on the function. */
export interface AsyncInvokeLimits {
  /** The function's maximum event age (`MaximumEventAgeInSeconds`). */
  readonly maxEventAge: Duration;
}

/**
 * When the oldest message of the dead-letter queue is worth a second alarm: half the time it is sure to stay
 * there. Lambda's on-failure destination sends a new message, which SQS keeps for the whole retention period;
 * a message SQS moves from the event queue (a standard queue) keeps its first enqueue time, and may have spent
 * up to that queue's retention period there, while the DLQ's ApproximateAgeOfOldestMessage counts from the
 * move. Half leaves the other half to fix the cause and redrive.
 *
 * @example
 * ```ts
 * deadLetterAgeThreshold(Duration.days(14)); // 7 days (direct mode)
 * deadLetterAgeThreshold(Duration.days(14), Duration.days(4)); // 5 days (SQS mode)
 * ```
 */
export function deadLetterAgeThreshold(deadLetterRetention: Duration, queueRetention?: Duration): Duration {
  const guaranteed = deadLetterRetention.toSeconds() - (queueRetention?.toSeconds() ?? 0);
  if (guaranteed <= 0) {
    throw new CatalogConfigError(
      `queueRetention (${queueRetention?.toHumanString()}) must be below the dead-letter retention (${deadLetterRetention.toHumanString()}): a moved message could expire as it arrives`,
    );
  }
  return Duration.seconds(Math.floor(guaranteed / 2));
}

/**
 * Refuses alarm targets SNS or CloudWatch would refuse only at deploy time, half-way through creating the
 * stack (an address or an ARN of the wrong shape, a topic in another region than the stack's, when that
 * region is known), and both targets at once. {@link CatalogAlarms} runs it on its
 * props; the stack runs it on the settings before it builds anything.
 *
 * @example
 * ```ts
 * checkAlarmTargets({ alarmEmail: "ops@example.com" }); // passes
 * checkAlarmTargets({ alarmTopicArn: "alarms" }); // throws CatalogConfigError
 * ```
 */
export function checkAlarmTargets(
  targets: Pick<CatalogAlarmsProps, "alarmEmail" | "alarmTopicArn">,
  region?: string,
): void {
  const { alarmEmail, alarmTopicArn } = targets;
  if (alarmEmail !== undefined && alarmTopicArn !== undefined) {
    throw new CatalogConfigError("alarmEmail and alarmTopicArn are alternatives: give one");
  }
  if (alarmEmail !== undefined && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(alarmEmail)) {
    throw new CatalogConfigError(`alarmEmail "${alarmEmail}" is not an email address`);
  }
  if (alarmTopicArn !== undefined && !SNS_TOPIC_ARN.test(alarmTopicArn)) {
    throw new CatalogConfigError(
      `alarmTopicArn "${alarmTopicArn}" is not an SNS topic ARN (arn:aws:sns:<region>:<account>:<topic>)`,
    );
  }
  // CloudWatch refuses an alarm action on a topic in another region ("Invalid region ... specified"), at
  // deploy time, after the rest of the stack was created. An environment-agnostic stack cannot tell.
  const topicRegion = alarmTopicArn?.split(":")[3];
  if (
    topicRegion !== undefined &&
    region !== undefined &&
    !Token.isUnresolved(region) &&
    topicRegion !== region
  ) {
    throw new CatalogConfigError(
      `alarmTopicArn "${alarmTopicArn}" is in ${topicRegion}, and alarms in ${region}, where the stack deploys, can only notify a topic in ${region}`,
    );
  }
}

/**
 * The alarms that say the catalog is falling behind or losing events: function errors, throttles,
 * dead-letter messages and their age, then per mode either queue age (SQS) or Lambda's asynchronous queue (direct):
 * events dropped, failed deliveries to the dead-letter queue, and event age. Optionally notifies an SNS topic.
 *
 * @example
 * ```ts
 * new CatalogAlarms(this, "Alarms", { function: fn, deadLetterQueue, alarmEmail: "ops@example.com" });
 * ```
 */
export class CatalogAlarms extends Construct {
  /**
   * Every alarm created, in a stable order: errors, throttles, DLQ depth, DLQ age, then queue age and events
   * failed (SQS mode) or dropped events, failed destination deliveries and event age (direct mode).
   */
  public readonly alarms: cloudwatch.Alarm[];
  /** The topic the alarms notify, when one was configured. */
  public readonly topic?: sns.ITopic;

  constructor(scope: Construct, id: string, props: CatalogAlarmsProps) {
    super(scope, id);
    checkAlarmTargets(props, Stack.of(this).region);
    if (props.queue !== undefined && props.asyncInvoke !== undefined) {
      throw new CatalogConfigError(
        "queue (SQS mode) and asyncInvoke (direct mode) are alternatives: give one",
      );
    }
    if (props.queue !== undefined && props.queueRetention === undefined) {
      throw new CatalogConfigError(
        "queue needs queueRetention: the dead-letter age alarm takes the event queue's retention off the DLQ's",
      );
    }
    if (props.queue === undefined && props.queueRetention !== undefined) {
      throw new CatalogConfigError(
        "queueRetention is the retention of queue (SQS mode): give both or neither",
      );
    }
    const deadLetterAge = deadLetterAgeThreshold(props.deadLetterRetention, props.queueRetention);
    const maxQueueAge = props.maxQueueAge ?? Duration.minutes(15);
    if (props.asyncInvoke && maxQueueAge.toSeconds() >= props.asyncInvoke.maxEventAge.toSeconds()) {
      // Lambda reports an event's age when it invokes the function; an event past the maximum age is dropped
      // uninvoked, so an age alarm at or above that maximum has nothing to see.
      throw new CatalogConfigError(
        `maxQueueAge (${maxQueueAge.toHumanString()}) must be below the maximum event age (${props.asyncInvoke.maxEventAge.toHumanString()})`,
      );
    }
    if (props.alarmTopicArn !== undefined) {
      this.topic = sns.Topic.fromTopicArn(this, "Topic", props.alarmTopicArn);
    } else if (props.alarmEmail !== undefined) {
      // No SSE: alarm notifications carry alarm names and metric values only, and CloudWatch cannot
      // publish to a topic under the AWS managed SNS key (a customer key would need a key policy for it).
      const topic = new sns.Topic(this, "Topic", {
        enforceSSL: true,
        displayName: "Metadata catalog alarms",
      });
      topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
      this.topic = topic;
    }

    const fiveMinutes = Duration.minutes(5);
    const alarms = [
      props.function.metricErrors({ period: fiveMinutes, statistic: "Sum" }).createAlarm(this, "Errors", {
        alarmDescription:
          "The metadata function failed: in direct mode an object hit an infrastructure fault, in SQS mode a whole batch failed (a timeout, a crash); failed events are retried, then parked in the DLQ.",
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      props.function
        .metricThrottles({ period: fiveMinutes, statistic: "Sum" })
        .createAlarm(this, "Throttles", {
          alarmDescription:
            "The metadata function was throttled; raise its reserved concurrency or the account limit.",
          threshold: 1,
          evaluationPeriods: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
      props.deadLetterQueue
        .metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: "Maximum" })
        .createAlarm(this, "DeadLetters", {
          alarmDescription: "Events the catalog could not record are waiting in the dead-letter queue.",
          threshold: 0,
          evaluationPeriods: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
      // DeadLetters notifies once, on the first message, and stays in ALARM while any is left: this is the
      // reminder before SQS deletes what nobody redrove. The age grows a second per second and the threshold
      // is days away, so an hourly maximum is enough, and a missing minute cannot flap it back to OK.
      props.deadLetterQueue
        .metricApproximateAgeOfOldestMessage({ period: Duration.hours(1), statistic: "Maximum" })
        .createAlarm(this, "DeadLetterAge", {
          alarmDescription: deadLetterAgeDescription(props, deadLetterAge),
          threshold: deadLetterAge.toSeconds(),
          evaluationPeriods: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
    ];
    if (props.queue) {
      alarms.push(
        props.queue
          .metricApproximateAgeOfOldestMessage({ period: Duration.minutes(1), statistic: "Maximum" })
          .createAlarm(this, "QueueAge", {
            alarmDescription: "Events wait too long in the queue: the function is falling behind.",
            threshold: maxQueueAge.toSeconds(),
            evaluationPeriods: 5,
            comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
          }),
      );
    }
    if (props.eventsFailed) {
      alarms.push(
        props.eventsFailed.createAlarm(this, "EventsFailed", {
          alarmDescription:
            "The metadata function handed S3 events back to the queue (infrastructure faults, or messages that are not S3 events); they are retried, then parked in the DLQ. Its logs say which objects.",
          threshold: 1,
          evaluationPeriods: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
      );
    }
    if (props.asyncInvoke) {
      alarms.push(...asyncInvokeAlarms(this, props.function, maxQueueAge));
    }
    if (this.topic) {
      for (const alarm of alarms) alarm.addAlarmAction(new actions.SnsAction(this.topic));
    }
    this.alarms = alarms;
  }
}

/** What the operator reads in the notification: how long is left, and the redrive for this stack's mode. */
function deadLetterAgeDescription(props: CatalogAlarmsProps, threshold: Duration): string {
  const left = Duration.seconds(threshold.toSeconds() * 2).toHumanString();
  const lost =
    `An S3 event has waited ${threshold.toHumanString()} in the dead-letter queue; SQS may delete it unread as soon ` +
    `as ${left} after it arrived, and its object is then never cataloged (or its deletion never recorded). Fix the cause ` +
    "(the function's logs), then";
  const guide = 'Commands: docs/DEPLOY.md, "Redriving the dead-letter queue".';
  if (props.queue) {
    return `${lost} move the events back to the event queue: aws sqs start-message-move-task --source-arn ${props.deadLetterQueue.queueArn}. ${guide}`;
  }
  if (props.asyncInvoke) {
    return (
      `${lost} invoke ${props.function.functionName} again (--invocation-type Event) with each message's requestPayload, ` +
      `the original S3 event, and delete the message. A move task cannot redrive these: Lambda sent them, not an SQS queue. ${guide}`
    );
  }
  return `${lost} redrive it. ${guide}`;
}

/**
 * Lambda's asynchronous queue, seen through the AWS/Lambda metrics it emits per function (dimension
 * `FunctionName`), and only when something happens: no datapoint means nothing went wrong.
 * - `AsyncEventsDropped` counts every event Lambda gave up on (retries exhausted, older than the maximum
 *   event age, or no concurrency at all), including the ones it then handed to the on-failure destination;
 * - `DestinationDeliveryFailures` counts the hand-overs to that destination that failed: those events are
 *   in no queue at all;
 * - `AsyncEventAge` (milliseconds) is the wait of each event the function was invoked with, so it rises
 *   while retries or throttling hold events back, before any is dropped. A function that is never invoked
 *   reports no age at all; the Throttles and AsyncEventsDropped alarms see that case.
 */
function asyncInvokeAlarms(scope: Construct, fn: lambda.IFunction, maxAge: Duration): cloudwatch.Alarm[] {
  const fiveMinutes = Duration.minutes(5);
  const anyInFiveMinutes = {
    threshold: 1,
    evaluationPeriods: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  };
  return [
    fn
      .metric("AsyncEventsDropped", { period: fiveMinutes, statistic: "Sum" })
      .createAlarm(scope, "AsyncEventsDropped", {
        ...anyInFiveMinutes,
        alarmDescription:
          "Lambda gave up on an S3 event (retries exhausted or older than the maximum event age): it is in the dead-letter queue, unless the DestinationDeliveryFailures alarm fired too.",
      }),
    fn
      .metric("DestinationDeliveryFailures", { period: fiveMinutes, statistic: "Sum" })
      .createAlarm(scope, "DestinationDeliveryFailures", {
        ...anyInFiveMinutes,
        alarmDescription:
          "Lambda could not write a failed S3 event to the dead-letter queue: the event is lost. Check the queue's policy and encryption; catalog backfill then records objects whose create event was lost.",
      }),
    fn
      .metric("AsyncEventAge", { period: fiveMinutes, statistic: "Maximum" })
      .createAlarm(scope, "AsyncEventAge", {
        alarmDescription:
          "S3 events wait too long in Lambda's asynchronous queue (retries or throttling): the function is falling behind, and events past the maximum event age are dropped.",
        threshold: maxAge.toMilliseconds(),
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
  ];
}
