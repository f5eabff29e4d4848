import { Duration } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as actions from "aws-cdk-lib/aws-cloudwatch-actions";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import * as sns from "aws-cdk-lib/aws-sns";
import * as subscriptions from "aws-cdk-lib/aws-sns-subscriptions";
import type * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";

export interface CatalogAlarmsProps {
  /** The metadata function. */
  readonly function: lambda.IFunction;
  /** The dead-letter queue; any message in it is an event the catalog has not recorded. */
  readonly deadLetterQueue: sqs.IQueue;
  /** The event queue, in SQS mode. @default - no queue-age alarm */
  readonly queue?: sqs.IQueue;
  /** Alarm when the oldest queued event is older than this. @default Duration.minutes(15) */
  readonly maxQueueAge?: Duration;
  /** Create an SNS topic for the alarms and subscribe this address. @default - no topic */
  readonly alarmEmail?: string;
  /** Send the alarms to this existing topic instead. @default - no topic */
  readonly alarmTopicArn?: string;
}

/**
 * The alarms that say the catalog is falling behind or losing events: function errors, throttles,
 * dead-letter messages and (SQS mode) queue age. Optionally notifies an SNS topic.
 *
 * @example
 * ```ts
 * new CatalogAlarms(this, "Alarms", { function: fn, deadLetterQueue, alarmEmail: "ops@example.com" });
 * ```
 */
export class CatalogAlarms extends Construct {
  /** Every alarm created, in a stable order: errors, throttles, DLQ depth, queue age. */
  public readonly alarms: cloudwatch.Alarm[];
  /** The topic the alarms notify, when one was configured. */
  public readonly topic?: sns.ITopic;

  constructor(scope: Construct, id: string, props: CatalogAlarmsProps) {
    super(scope, id);
    if (props.alarmEmail !== undefined && props.alarmTopicArn !== undefined) {
      throw new Error("alarmEmail and alarmTopicArn are alternatives: give one");
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
          "The metadata function failed (infrastructure fault); failed events are retried, then parked in the DLQ.",
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
    ];
    if (props.queue) {
      alarms.push(
        props.queue
          .metricApproximateAgeOfOldestMessage({ period: Duration.minutes(1), statistic: "Maximum" })
          .createAlarm(this, "QueueAge", {
            alarmDescription: "Events wait too long in the queue: the function is falling behind.",
            threshold: (props.maxQueueAge ?? Duration.minutes(15)).toSeconds(),
            evaluationPeriods: 5,
            comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
          }),
      );
    }
    if (this.topic) {
      for (const alarm of alarms) alarm.addAlarmAction(new actions.SnsAction(this.topic));
    }
    this.alarms = alarms;
  }
}
