import type { Message } from "@aws-sdk/client-sqs";
import type { SQSEvent, SQSRecord } from "aws-lambda";

/** The queue a batch came from, as a Lambda event source mapping would name it. */
export interface QueueIdentity {
  arn: string;
  region: string;
}

/**
 * The ARN and region of a queue from its URL. Standard SQS URLs carry both
 * (`https://sqs.<region>.amazonaws.com/<account>/<name>`); an emulator's URL
 * may not, so the fallback region fills the gap. Only logs read them: the
 * handler's SQS path keys on `eventSource`, `messageId` and `body`.
 *
 * @example
 * queueIdentity("https://sqs.eu-west-1.amazonaws.com/123456789012/uploads")
 * // { arn: "arn:aws:sqs:eu-west-1:123456789012:uploads", region: "eu-west-1" }
 */
export function queueIdentity(queueUrl: string, fallbackRegion = "us-east-1"): QueueIdentity {
  let host = "";
  let segments: string[] = [];
  try {
    const url = new URL(queueUrl);
    host = url.hostname;
    segments = url.pathname.split("/").filter(Boolean);
  } catch {
    // An unparseable URL is the SDK's to reject; the identity is for logs only.
  }
  const region = /^sqs\.([a-z0-9-]+)\./.exec(host)?.[1] ?? /^([a-z0-9-]+)\.queue\./.exec(host)?.[1];
  const resolved = region ?? fallbackRegion;
  const account = segments.at(-2) ?? "000000000000";
  const name = segments.at(-1) ?? "queue";
  return { arn: `arn:aws:sqs:${resolved}:${account}:${name}`, region: resolved };
}

/**
 * Wraps messages from ReceiveMessage in the event Lambda's SQS event source
 * mapping delivers, so the worker runs the very handler path the SQS-wrapped
 * Lambda runs (same parsing, poison-message rule and `batchItemFailures`).
 *
 * @example
 * const output = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10 }));
 * const response = await handle(toSqsEvent(output.Messages ?? [], queueIdentity(QueueUrl)));
 */
export function toSqsEvent(messages: readonly Message[], queue: QueueIdentity): SQSEvent {
  return {
    Records: messages.map(
      (message): SQSRecord => ({
        messageId: message.MessageId ?? "",
        receiptHandle: message.ReceiptHandle ?? "",
        // A message without a body becomes a poison record in the handler, not a crash here.
        body: message.Body as string,
        attributes: {
          ApproximateReceiveCount: message.Attributes?.ApproximateReceiveCount ?? "1",
          SentTimestamp: message.Attributes?.SentTimestamp ?? "",
          SenderId: message.Attributes?.SenderId ?? "",
          ApproximateFirstReceiveTimestamp: message.Attributes?.ApproximateFirstReceiveTimestamp ?? "",
        },
        messageAttributes: {},
        md5OfBody: message.MD5OfBody ?? "",
        eventSource: "aws:sqs",
        eventSourceARN: queue.arn,
        awsRegion: queue.region,
      }),
    ),
  };
}
