/**
 * The alarms that keep an event from being lost silently, checked on the synthesized template. In direct
 * mode S3 hands each event to Lambda's own asynchronous queue, so the alarms there watch that queue; in SQS
 * mode the queue and its dead-letter queue are SQS's, watched by the queue metrics.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Duration, Stack, Token } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import * as lambda from "aws-cdk-lib/aws-lambda";
import * as sqs from "aws-cdk-lib/aws-sqs";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { CatalogAlarms } from "../../infra/lib/catalog-alarms.js";
import { buildCatalogApp, type CatalogStack } from "../../infra/lib/catalog-stack.js";
import { PROJECT_ROOT } from "../../infra/lib/handler-bundle.js";
import { EVENTS_FAILED_METRIC } from "../../src/config/config.js";

const SKIP_BUNDLING = { "aws:cdk:bundling-stacks": [] };
const ASYNC_METRICS = ["AsyncEventsDropped", "DestinationDeliveryFailures", "AsyncEventAge"];

interface Alarm {
  Type: string;
  Properties: Record<string, unknown>;
}

function synth(context: Record<string, unknown>): { stack: CatalogStack; template: Template } {
  const { stack } = buildCatalogApp({ ...SKIP_BUNDLING, ...context });
  return { stack, template: Template.fromStack(stack) };
}

function alarms(template: Template): Alarm[] {
  return Object.values(template.findResources("AWS::CloudWatch::Alarm")) as Alarm[];
}

function alarmOn(template: Template, metricName: string): Alarm {
  const found = alarms(template).filter((a) => a.Properties.MetricName === metricName);
  expect(found, metricName).toHaveLength(1);
  return found[0] as Alarm;
}

let direct: { stack: CatalogStack; template: Template };
let sqsMode: { stack: CatalogStack; template: Template };

beforeAll(() => {
  direct = synth({});
  sqsMode = synth({ mode: "sqs" });
}, 120_000);

describe("direct mode: Lambda's asynchronous queue", () => {
  function functionRef(): unknown {
    return {
      Ref: direct.stack.getLogicalId(direct.stack.metadataFunction.function.node.defaultChild as never),
    };
  }

  it.each([["AsyncEventsDropped"], ["DestinationDeliveryFailures"]])(
    "%s: one event in five minutes is an alarm",
    (metricName) => {
      const alarm = alarmOn(direct.template, metricName);
      expect(alarm.Properties).toMatchObject({
        Namespace: "AWS/Lambda",
        Dimensions: [{ Name: "FunctionName", Value: functionRef() }],
        Statistic: "Sum",
        Period: 300,
        Threshold: 1,
        EvaluationPeriods: 1,
        ComparisonOperator: "GreaterThanOrEqualToThreshold",
        TreatMissingData: "notBreaching",
      });
    },
  );

  it("AsyncEventAge: the oldest invoked event's wait, in milliseconds, well below the maximum event age", () => {
    const alarm = alarmOn(direct.template, "AsyncEventAge");
    expect(alarm.Properties).toMatchObject({
      Namespace: "AWS/Lambda",
      Dimensions: [{ Name: "FunctionName", Value: functionRef() }],
      Statistic: "Maximum",
      Period: 300,
      EvaluationPeriods: 1,
      ComparisonOperator: "GreaterThanOrEqualToThreshold",
      TreatMissingData: "notBreaching",
    });
    // The metric is in milliseconds: fifteen minutes, as the SQS queue-age alarm.
    expect(alarm.Properties.Threshold).toBe(15 * 60 * 1000);
    const invokeConfig = Object.values(direct.template.findResources("AWS::Lambda::EventInvokeConfig"));
    expect(invokeConfig).toHaveLength(1);
    const maxEventAgeSeconds = invokeConfig[0]?.Properties?.MaximumEventAgeInSeconds as number;
    expect(maxEventAgeSeconds).toBe(6 * 3600);
    // An event older than the maximum is dropped, never invoked, so never reported: the alarm must sit below.
    expect(alarm.Properties.Threshold as number).toBeLessThan(maxEventAgeSeconds * 1000);
  });

  it("the alarms tell the operator what happened to the event", () => {
    expect(
      String(alarmOn(direct.template, "DestinationDeliveryFailures").Properties.AlarmDescription),
    ).toMatch(/lost/i);
    expect(String(alarmOn(direct.template, "AsyncEventsDropped").Properties.AlarmDescription)).toMatch(
      /dead-letter queue/i,
    );
  });

  it("every alarm, the asynchronous ones included, notifies the alarm topic", () => {
    const { template } = synth({ alarmTopicArn: "arn:aws:sns:eu-west-1:123456789012:ops" });
    const all = alarms(template);
    expect(all.map((a) => a.Properties.MetricName)).toEqual(expect.arrayContaining(ASYNC_METRICS));
    for (const alarm of all) {
      expect(alarm.Properties.AlarmActions, String(alarm.Properties.MetricName)).toEqual([
        "arn:aws:sns:eu-west-1:123456789012:ops",
      ]);
    }
  });
});

describe("sqs mode", () => {
  it("no alarm on Lambda's asynchronous queue: S3 sends to SQS, and the queue alarms watch it", () => {
    const names = alarms(sqsMode.template).map((a) => a.Properties.MetricName);
    for (const metric of ASYNC_METRICS) expect(names).not.toContain(metric);
    sqsMode.template.hasResourceProperties("AWS::CloudWatch::Alarm", {
      Namespace: "AWS/SQS",
      MetricName: "ApproximateAgeOfOldestMessage",
      Threshold: 15 * 60,
    });
    expect(Object.keys(sqsMode.template.findResources("AWS::Lambda::EventInvokeConfig"))).toHaveLength(0);
  });

  // A partial batch response is a successful invocation: an object's infrastructure fault raises no Lambda
  // Error here, so the alarm watches the count the handler writes under the function's own service name.
  it("EventsFailed: one event handed back to the queue in five minutes is an alarm", () => {
    const alarm = alarmOn(sqsMode.template, EVENTS_FAILED_METRIC);
    const fn = sqsMode.template.findResources("AWS::Lambda::Function", {
      Properties: { Handler: "index.handler" },
    });
    const service = (Object.values(fn)[0] as Alarm).Properties.Environment as {
      Variables: { POWERTOOLS_SERVICE_NAME: string; POWERTOOLS_METRICS_NAMESPACE: string };
    };
    expect(alarm.Properties).toMatchObject({
      Namespace: service.Variables.POWERTOOLS_METRICS_NAMESPACE,
      Dimensions: [{ Name: "service", Value: service.Variables.POWERTOOLS_SERVICE_NAME }],
      Statistic: "Sum",
      Period: 300,
      Threshold: 1,
      EvaluationPeriods: 1,
      ComparisonOperator: "GreaterThanOrEqualToThreshold",
      TreatMissingData: "notBreaching",
    });
  });
});

describe("direct mode: a failed object fails the invocation", () => {
  it("no EventsFailed alarm: Lambda's Errors alarm counts those invocations", () => {
    const names = alarms(direct.template).map((a) => a.Properties.MetricName);
    expect(names).toContain("Errors");
    expect(names).not.toContain(EVENTS_FAILED_METRIC);
  });
});

/** A bare stack with a function and a queue, for the alarms construct on its own. */
function parts(): { stack: Stack; fn: lambda.Function; dlq: sqs.Queue } {
  const stack = new Stack();
  const fn = new lambda.Function(stack, "Fn", {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: "index.handler",
    code: lambda.Code.fromInline("export const handler = async () => {};"),
  });
  return { stack, fn, dlq: new sqs.Queue(stack, "Dlq") };
}

describe("CatalogAlarms", () => {
  const deadLetterRetention = Duration.days(14);

  it("an age threshold at or above the maximum event age is refused: that alarm could never fire", () => {
    const { stack, fn, dlq } = parts();
    expect(
      () =>
        new CatalogAlarms(stack, "Alarms", {
          function: fn,
          deadLetterQueue: dlq,
          deadLetterRetention,
          asyncInvoke: { maxEventAge: Duration.minutes(10) },
        }),
    ).toThrow(/maxQueueAge .* must be below the maximum event age/);
  });

  it("the age threshold follows maxQueueAge", () => {
    const { stack, fn, dlq } = parts();
    new CatalogAlarms(stack, "Alarms", {
      function: fn,
      deadLetterQueue: dlq,
      deadLetterRetention,
      asyncInvoke: { maxEventAge: Duration.hours(1) },
      maxQueueAge: Duration.minutes(5),
    });
    Template.fromStack(stack).hasResourceProperties("AWS::CloudWatch::Alarm", {
      MetricName: "AsyncEventAge",
      Threshold: 5 * 60 * 1000,
    });
  });

  it("a queue and asynchronous invocation are alternatives: one mode at a time", () => {
    const { stack, fn, dlq } = parts();
    expect(
      () =>
        new CatalogAlarms(stack, "Alarms", {
          function: fn,
          deadLetterQueue: dlq,
          deadLetterRetention,
          queue: new sqs.Queue(stack, "Queue"),
          queueRetention: Duration.days(4),
          asyncInvoke: { maxEventAge: Duration.hours(6) },
        }),
    ).toThrow(/alternatives/);
  });

  it("without asynchronous invocation, no asynchronous alarm", () => {
    const { stack, fn, dlq } = parts();
    new CatalogAlarms(stack, "Alarms", { function: fn, deadLetterQueue: dlq, deadLetterRetention });
    const names = alarms(Template.fromStack(stack)).map((a) => a.Properties.MetricName);
    expect(names.sort()).toEqual([
      "ApproximateAgeOfOldestMessage",
      "ApproximateNumberOfMessagesVisible",
      "Errors",
      "Throttles",
    ]);
  });
});

/**
 * SQS deletes a message once it is older than the queue's retention period, whether anyone read it or not; a
 * parked S3 event that expires is an object never cataloged (or a deletion never recorded). The DeadLetters
 * alarm notifies once, on the first message, and then stays in ALARM, so a second alarm, on the age of the
 * oldest parked event, fires while there is still time to redrive it.
 */
describe("the dead-letter queue: a parked event cannot expire unnoticed", () => {
  const SQS_MAX_RETENTION_SECONDS = 14 * 24 * 3600;

  function queueProps(s: { stack: CatalogStack; template: Template }, queue: sqs.IQueue) {
    const id = s.stack.getLogicalId(queue.node.defaultChild as never);
    return s.template.toJSON().Resources[id].Properties as Record<string, unknown>;
  }

  function deadLetterAgeAlarm(s: { stack: CatalogStack; template: Template }): Alarm {
    const dlqId = s.stack.getLogicalId(s.stack.trigger.deadLetterQueue.node.defaultChild as never);
    const found = alarms(s.template).filter(
      (a) =>
        a.Properties.MetricName === "ApproximateAgeOfOldestMessage" &&
        JSON.stringify(a.Properties.Dimensions) ===
          JSON.stringify([{ Name: "QueueName", Value: { "Fn::GetAtt": [dlqId, "QueueName"] } }]),
    );
    expect(found).toHaveLength(1);
    return found[0] as Alarm;
  }

  it.each([
    ["direct", () => direct],
    ["sqs", () => sqsMode],
  ])("%s: the dead-letter queue keeps a message as long as SQS allows (14 days)", (_, get) => {
    const s = get();
    expect(queueProps(s, s.stack.trigger.deadLetterQueue).MessageRetentionPeriod).toBe(
      SQS_MAX_RETENTION_SECONDS,
    );
  });

  it("direct: Lambda sends each failed event to the DLQ as a new message; the alarm fires at half its retention", () => {
    const alarm = deadLetterAgeAlarm(direct);
    const retention = queueProps(direct, direct.stack.trigger.deadLetterQueue)
      .MessageRetentionPeriod as number;
    expect(alarm.Properties).toMatchObject({
      Namespace: "AWS/SQS",
      Statistic: "Maximum",
      Period: 3600,
      EvaluationPeriods: 1,
      ComparisonOperator: "GreaterThanOrEqualToThreshold",
      TreatMissingData: "notBreaching",
    });
    expect(alarm.Properties.Threshold).toBe(retention / 2);
  });

  // A standard queue's message keeps its first enqueue time when SQS moves it to the DLQ, and expires by it,
  // while the DLQ's age metric starts at the move: a message that waited in the event queue has that much
  // less time left in the DLQ than its age there suggests.
  it("sqs: the wait in the event queue is taken off the DLQ's retention before halving it", () => {
    const alarm = deadLetterAgeAlarm(sqsMode);
    const dlqRetention = queueProps(sqsMode, sqsMode.stack.trigger.deadLetterQueue)
      .MessageRetentionPeriod as number;
    const queue = sqsMode.stack.trigger.queue;
    expect(queue).toBeDefined();
    const queueRetention = queueProps(sqsMode, queue as sqs.IQueue).MessageRetentionPeriod as number;
    expect(queueRetention).toBeLessThan(dlqRetention);
    expect(alarm.Properties).toMatchObject({
      Namespace: "AWS/SQS",
      Statistic: "Maximum",
      Period: 3600,
      EvaluationPeriods: 1,
      ComparisonOperator: "GreaterThanOrEqualToThreshold",
      TreatMissingData: "notBreaching",
    });
    expect(alarm.Properties.Threshold).toBe((dlqRetention - queueRetention) / 2);
  });

  it("the description says what to do in each mode, with this stack's queue or function", () => {
    const dlqId = sqsMode.stack.getLogicalId(
      sqsMode.stack.trigger.deadLetterQueue.node.defaultChild as never,
    );
    const sqsText = JSON.stringify(deadLetterAgeAlarm(sqsMode).Properties.AlarmDescription);
    expect(sqsText).toContain("aws sqs start-message-move-task --source-arn");
    expect(sqsText).toContain(JSON.stringify({ "Fn::GetAtt": [dlqId, "Arn"] }));
    const fnId = direct.stack.getLogicalId(direct.stack.metadataFunction.function.node.defaultChild as never);
    const directText = JSON.stringify(deadLetterAgeAlarm(direct).Properties.AlarmDescription);
    expect(directText).toContain("requestPayload");
    expect(directText).toContain(JSON.stringify({ Ref: fnId }));
    // A move task only redrives messages that an SQS queue's redrive policy moved; Lambda's are refused.
    expect(directText).not.toContain("aws sqs start-message-move-task --source-arn");
    for (const text of [sqsText, directText]) expect(text).toContain("Redriving the dead-letter queue");
  });

  it("notifies the alarm topic, as every other alarm does", () => {
    const { stack, template } = synth({ mode: "sqs", alarmEmail: "ops@example.com" });
    const topicId = stack.getLogicalId(stack.alarms.topic?.node.defaultChild as never);
    expect(deadLetterAgeAlarm({ stack, template }).Properties.AlarmActions).toEqual([{ Ref: topicId }]);
  });

  describe("CatalogAlarms", () => {
    it("the threshold follows the retention it is given", () => {
      const { stack, fn, dlq } = parts();
      new CatalogAlarms(stack, "Alarms", {
        function: fn,
        deadLetterQueue: dlq,
        deadLetterRetention: Duration.days(4),
      });
      Template.fromStack(stack).hasResourceProperties("AWS::CloudWatch::Alarm", {
        MetricName: "ApproximateAgeOfOldestMessage",
        Threshold: 2 * 24 * 3600,
      });
    });

    it.each([
      [
        "as long as the DLQ's",
        { queueRetention: Duration.days(14) },
        /queueRetention .* must be below the dead-letter retention/,
      ],
      ["missing", { queueRetention: undefined }, /queue needs queueRetention/],
    ])("SQS mode: the event queue's retention is needed, and below the DLQ's (%s)", (_, extra, error) => {
      const { stack, fn, dlq } = parts();
      expect(
        () =>
          new CatalogAlarms(stack, "Alarms", {
            function: fn,
            deadLetterQueue: dlq,
            deadLetterRetention: Duration.days(14),
            queue: new sqs.Queue(stack, "Queue"),
            ...extra,
          }),
      ).toThrow(error);
    });
  });
});

// CloudWatch refuses an alarm action on a topic in another region ("Invalid region ... specified. Only
// <region> is supported"), at deploy time, once the rest of the stack is created: refused at synth instead.
describe("alarmTopicArn: a topic in the stack's region", () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it("a topic in another region than the one the stack deploys to is refused before anything is built", () => {
    vi.stubEnv("CDK_DEFAULT_REGION", "us-east-1");
    const outdir = mkdtempSync(path.join(tmpdir(), "catalog-topic-"));
    try {
      expect(() =>
        buildCatalogApp({ alarmTopicArn: "arn:aws:sns:eu-west-1:123456789012:ops" }, { outdir }),
      ).toThrow(
        'alarmTopicArn "arn:aws:sns:eu-west-1:123456789012:ops" is in eu-west-1, and alarms in us-east-1, where the stack deploys, can only notify a topic in us-east-1',
      );
      expect(readdirSync(outdir)).toEqual([]);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });

  it("a topic in the stack's region is every alarm's action", () => {
    vi.stubEnv("CDK_DEFAULT_REGION", "eu-west-1");
    const topic = "arn:aws:sns:eu-west-1:123456789012:ops";
    const { stack, template } = synth({ alarmTopicArn: topic });
    expect(stack.region).toBe("eu-west-1");
    for (const alarm of alarms(template)) expect(alarm.Properties.AlarmActions).toEqual([topic]);
  });

  it("an environment-agnostic stack cannot tell its region, and takes the topic as given", () => {
    vi.stubEnv("CDK_DEFAULT_REGION", undefined);
    const { stack, template } = synth({ alarmTopicArn: "arn:aws:sns:eu-west-1:123456789012:ops" });
    expect(Token.isUnresolved(stack.region)).toBe(true);
    expect(alarms(template).length).toBeGreaterThan(0);
  });

  it("CatalogAlarms on its own refuses the same topic", () => {
    const stack = new Stack(undefined, "Bare", { env: { region: "us-east-1" } });
    const fn = new lambda.Function(stack, "Fn", {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: "index.handler",
      code: lambda.Code.fromInline("export const handler = async () => {};"),
    });
    expect(
      () =>
        new CatalogAlarms(stack, "Alarms", {
          function: fn,
          deadLetterQueue: new sqs.Queue(stack, "Dlq"),
          deadLetterRetention: Duration.days(14),
          alarmTopicArn: "arn:aws:sns:eu-west-1:123456789012:ops",
        }),
    ).toThrow(/is in eu-west-1, and alarms in us-east-1/);
  });
});

// docs/DEPLOY.md is where an operator learns what an alarm means: its table names exactly the alarms of each mode.
describe("docs/DEPLOY.md", () => {
  it("the alarm table lists every alarm of each mode by its construct id, and no other", () => {
    const deploy = readFileSync(path.join(PROJECT_ROOT, "docs", "DEPLOY.md"), "utf8");
    const table = deploy.slice(deploy.indexOf("| alarm (construct id) |"));
    const rows = table
      .split("\n")
      .slice(2)
      .filter((line, i, lines) => line.startsWith("| ") && lines.slice(0, i).every((l) => l.startsWith("| ")))
      .map((line) => line.split("|").map((cell) => cell.trim()));
    const documented = (mode: string) =>
      rows
        .filter((cells) => cells[2] === mode || cells[2] === "both")
        .map((cells) => cells[1])
        .sort();
    const built = (stack: CatalogStack) => stack.alarms.alarms.map((alarm) => alarm.node.id).sort();
    expect(documented("direct")).toEqual(built(direct.stack));
    expect(documented("sqs")).toEqual(built(sqsMode.stack));
  });
});
