import type { S3Event } from "aws-lambda";
import { describe, expect, it } from "vitest";
import {
  decodeEventKey,
  EventShapeError,
  encodeEventKey,
  type ObjectEvent,
  parseLambdaEvent,
  toS3Notification,
} from "../../src/events/s3-event.js";

/** The sample notification from the S3 user guide (notification-content-structure), one record. */
function s3Record(overrides: { eventName?: string; key?: string; object?: Record<string, unknown> } = {}) {
  return {
    eventVersion: "2.1",
    eventSource: "aws:s3",
    awsRegion: "us-west-2",
    eventTime: "1970-01-01T00:00:00.000Z",
    eventName: overrides.eventName ?? "ObjectCreated:Put",
    userIdentity: { principalId: "AIDAJDPLRKLG7UEXAMPLE" },
    requestParameters: { sourceIPAddress: "172.16.0.1" },
    responseElements: {
      "x-amz-request-id": "C3D13FE58DE4C810",
      "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD",
    },
    s3: {
      s3SchemaVersion: "1.0",
      configurationId: "testConfigRule",
      bucket: {
        name: "amzn-s3-demo-bucket",
        ownerIdentity: { principalId: "A3NL1KOZZKExample" },
        arn: "arn:aws:s3:::amzn-s3-demo-bucket",
      },
      object: {
        key: overrides.key ?? "HappyFace.jpg",
        size: 1024,
        eTag: "d41d8cd98f00b204e9800998ecf8427e",
        versionId: "096fKKXTRTtl3on89fVO.nfljtsv6qko",
        sequencer: "0055AED6DCD90281E5",
        ...overrides.object,
      },
    },
  };
}

function sqsRecord(messageId: string, body: string) {
  return {
    messageId,
    receiptHandle: "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a",
    body,
    attributes: {
      ApproximateReceiveCount: "1",
      SentTimestamp: "1545082649183",
      SenderId: "AIDAIENQZJOLO23YVJ4VO",
      ApproximateFirstReceiveTimestamp: "1545082649185",
    },
    messageAttributes: {},
    md5OfBody: "e4e68fb7bd0e697a0ae8f1bb342846b3",
    eventSource: "aws:sqs",
    eventSourceARN: "arn:aws:sqs:us-east-2:123456789012:my-queue",
    awsRegion: "us-east-2",
  };
}

const HAPPY_FACE: ObjectEvent = {
  kind: "created",
  eventName: "ObjectCreated:Put",
  bucket: "amzn-s3-demo-bucket",
  key: "HappyFace.jpg",
  size: 1024,
  eTag: "d41d8cd98f00b204e9800998ecf8427e",
  versionId: "096fKKXTRTtl3on89fVO.nfljtsv6qko",
  sequencer: "0055AED6DCD90281E5",
  eventTime: "1970-01-01T00:00:00.000Z",
  principalId: "AIDAJDPLRKLG7UEXAMPLE",
  sourceIPAddress: "172.16.0.1",
  requestId: "C3D13FE58DE4C810",
};

function eventBridge(detailType: string, detail: Record<string, unknown>) {
  return {
    version: "0",
    id: "17793124-05d4-b198-2fde-7ededc63b103",
    "detail-type": detailType,
    source: "aws.s3",
    account: "111122223333",
    time: "2021-11-12T00:00:00Z",
    region: "ca-central-1",
    resources: ["arn:aws:s3:::amzn-s3-demo-bucket1"],
    detail: {
      version: "0",
      bucket: { name: "amzn-s3-demo-bucket1" },
      object: {
        key: "dir/red flower+1.jpg",
        size: 5,
        etag: "b1946ac92492d2347c6235b4d2611184",
        "version-id": "IYV3p45BT0ac8hjHg1houSdS1a.Mro8e",
        sequencer: "00617F08299329D189",
      },
      "request-id": "N4N7GDK58NMKJ12R",
      requester: "123456789012",
      "source-ip-address": "1.2.3.4",
      ...detail,
    },
  };
}

describe("parseLambdaEvent: direct S3 notifications", () => {
  it("normalises the documented sample record", () => {
    expect(parseLambdaEvent({ Records: [s3Record()] })).toEqual({
      source: "s3",
      events: [HAPPY_FACE],
      ignored: [],
    });
  });

  it.each([
    ["red+flower.jpg", "red flower.jpg"],
    ["a%2Bb.txt", "a+b.txt"],
    ["100%25+sure.txt", "100% sure.txt"],
    ["%2541", "%41"], // decoded once: the literal key is "%41"
    ["dir/%C3%BCn%C3%AF+c%C3%B6d%C3%A9+%E6%97%A5%E6%9C%AC.txt", "dir/ünï cödé 日本.txt"],
    ["a%2Fb", "a/b"],
    ["%F0%9F%8E%89", "🎉"],
  ])("decodes key %s once to %j", (encoded, key) => {
    const envelope = parseLambdaEvent({ Records: [s3Record({ key: encoded })] });
    expect(envelope.source === "s3" && envelope.events[0]?.key).toBe(key);
  });

  it.each([
    ["ObjectCreated:Post", "created", {}],
    ["ObjectCreated:Copy", "created", {}],
    ["ObjectCreated:CompleteMultipartUpload", "created", {}],
    ["s3:ObjectCreated:Put", "created", {}],
    ["ObjectRemoved:Delete", "removed", { deleteMarker: false }],
    ["ObjectRemoved:DeleteMarkerCreated", "removed", { deleteMarker: true }],
    ["LifecycleExpiration:Delete", "removed", { deleteMarker: false, lifecycle: true }],
    ["LifecycleExpiration:DeleteMarkerCreated", "removed", { deleteMarker: true, lifecycle: true }],
  ])("maps %s to %s", (eventName, kind, flags) => {
    const envelope = parseLambdaEvent({ Records: [s3Record({ eventName })] });
    expect(envelope.source).toBe("s3");
    if (envelope.source === "sqs") return;
    const [event] = envelope.events;
    expect(event).toMatchObject({ kind, eventName: eventName.replace("s3:", ""), ...flags });
    if (kind === "removed") expect(event).not.toHaveProperty("size");
    if (!("lifecycle" in flags)) expect(event).not.toHaveProperty("lifecycle");
  });

  it.each([
    "ObjectRestore:Post",
    "ObjectRestore:Completed",
    "ObjectTagging:Put",
    "ObjectAcl:Put",
    "LifecycleTransition",
    "Replication:OperationFailedReplication",
    "IntelligentTiering",
  ])("ignores %s with a reason", (eventName) => {
    expect(parseLambdaEvent({ Records: [s3Record({ eventName })] })).toEqual({
      source: "s3",
      events: [],
      ignored: [{ reason: `event ${eventName} does not change object content`, eventName }],
    });
  });

  it.each([
    ["a malformed escape", { key: "bad%E0%A4%A.jpg" }, /malformed percent escape/],
    ["a lone percent", { key: "100%.jpg" }, /malformed percent escape/],
    ["a missing sequencer", { object: { sequencer: undefined } }, /sequencer/],
    ["a non-hex sequencer", { object: { sequencer: "not-hex" } }, /sequencer/],
    ["a negative size", { object: { size: -1 } }, /size/],
    ["a missing key", { object: { key: undefined } }, /key missing/],
    ["an empty key", { key: "" }, /key is empty/],
  ])(
    "keeps a record with %s as malformed, not a crash, and still parses its neighbours",
    (_, overrides, reason) => {
      const envelope = parseLambdaEvent({ Records: [s3Record(overrides), s3Record()] });
      expect(envelope.source === "s3" && envelope.events).toEqual([HAPPY_FACE]);
      expect(envelope.ignored).toHaveLength(1);
      expect(envelope.ignored[0]).toMatchObject({ eventName: "ObjectCreated:Put", malformed: true });
      expect(envelope.ignored[0]?.reason).toMatch(reason);
    },
  );

  it("normalises event time to ISO with milliseconds and strips quotes from ETags", () => {
    const record = { ...s3Record({ object: { eTag: '"abc"' } }), eventTime: "2024-05-01T10:00:00Z" };
    const envelope = parseLambdaEvent({ Records: [record] });
    expect(envelope.source === "s3" && envelope.events[0]).toMatchObject({
      eventTime: "2024-05-01T10:00:00.000Z",
      eTag: "abc",
    });
  });

  it("skips the s3:TestEvent delivered directly", () => {
    const test = {
      Service: "Amazon S3",
      Event: "s3:TestEvent",
      Time: "2024-01-01T00:00:00.000Z",
      Bucket: "b",
      RequestId: "r",
      HostId: "h",
    };
    expect(parseLambdaEvent(test)).toMatchObject({
      source: "s3",
      events: [],
      ignored: [{ eventName: "s3:TestEvent" }],
    });
  });

  it.each([
    ["null", null],
    ["an array", []],
    ["a string", "Records"],
    ["an object without Records", { foo: 1 }],
    ["a DynamoDB stream", { Records: [{ eventSource: "aws:dynamodb" }] }],
    ["mixed sources", { Records: [s3Record(), sqsRecord("m", "{}")] }],
    ["an eventSource that cannot be turned into text", { Records: [{ eventSource: { toString: 1 } }] }],
  ])("rejects %s as an unknown shape", (_, event) => {
    expect(() => parseLambdaEvent(event)).toThrow(EventShapeError);
  });
});

describe("parseLambdaEvent: SQS-wrapped", () => {
  it("groups events by message, skips the test event, and marks exactly the poison messages", () => {
    const testEvent = JSON.stringify({ Service: "Amazon S3", Event: "s3:TestEvent", Bucket: "b" });
    const two = JSON.stringify({
      Records: [s3Record({ key: "a+b.txt" }), s3Record({ eventName: "ObjectTagging:Put" })],
    });
    const sns = JSON.stringify({
      Type: "Notification",
      MessageId: "sns-1",
      TopicArn: "arn:aws:sns:us-east-1:123456789012:uploads",
      Message: JSON.stringify({ Records: [s3Record({ key: "via+sns.txt" })] }),
    });
    const viaEventBridge = JSON.stringify(eventBridge("Object Created", { reason: "PutObject" }));
    const envelope = parseLambdaEvent({
      Records: [
        sqsRecord("m-test", testEvent),
        sqsRecord("m-two", two),
        sqsRecord("m-poison", "{not json"),
        sqsRecord("m-sns", sns),
        sqsRecord("m-badkey", JSON.stringify({ Records: [s3Record({ key: "%E0%A4%A" }), s3Record()] })),
        sqsRecord("m-eb", viaEventBridge),
        sqsRecord("m-other", JSON.stringify({ hello: "world" })),
      ],
    });
    expect(envelope.source).toBe("sqs");
    if (envelope.source !== "sqs") return;
    const summary = envelope.messages.map((m) => ({
      id: m.messageId,
      keys: m.events.map((e) => e.key),
      poison: m.error !== undefined,
    }));
    expect(summary).toEqual([
      { id: "m-test", keys: [], poison: false },
      { id: "m-two", keys: ["a b.txt"], poison: false },
      { id: "m-poison", keys: [], poison: true },
      { id: "m-sns", keys: ["via sns.txt"], poison: false },
      { id: "m-badkey", keys: ["HappyFace.jpg"], poison: true },
      { id: "m-eb", keys: ["dir/red flower+1.jpg"], poison: false },
      { id: "m-other", keys: [], poison: true },
    ]);
    expect(envelope.messages[4]?.error).toMatch(/malformed percent escape/);
    expect(envelope.ignored.map((i) => i.eventName)).toEqual(["s3:TestEvent", "ObjectTagging:Put"]);
  });

  // JSON.parse('{"toString":1}') makes an object that String() and template literals cannot convert:
  // one such field must cost its own message, not throw a TypeError that fails the whole batch.
  it.each([
    [
      "an S3 record's eventSource",
      JSON.stringify({ Records: [{ ...s3Record(), eventSource: { toString: 1 } }] }),
    ],
    [
      "an EventBridge reason",
      JSON.stringify(eventBridge("Object Created", { reason: { toString: 1, valueOf: 2 } })),
    ],
    [
      "an EventBridge deletion-type",
      JSON.stringify(eventBridge("Object Deleted", { reason: "Nope", "deletion-type": { toString: 1 } })),
    ],
  ])("%s that cannot be turned into text makes its message poison, not the batch", (_, body) => {
    const envelope = parseLambdaEvent({
      Records: [sqsRecord("m-odd", body), sqsRecord("m-good", JSON.stringify({ Records: [s3Record()] }))],
    });
    if (envelope.source !== "sqs") throw new Error("expected sqs");
    expect(envelope.messages.map((m) => [m.messageId, m.error !== undefined, m.events.length])).toEqual([
      ["m-odd", true, 0],
      ["m-good", false, 1],
    ]);
  });

  it("keeps the same S3 event delivered twice as two messages with equal events", () => {
    const body = JSON.stringify({ Records: [s3Record()] });
    const envelope = parseLambdaEvent({ Records: [sqsRecord("m-1", body), sqsRecord("m-2", body)] });
    if (envelope.source !== "sqs") throw new Error("expected sqs");
    expect(envelope.messages[0]?.events).toEqual(envelope.messages[1]?.events);
  });
});

describe("parseLambdaEvent: EventBridge", () => {
  it.each([
    ["Object Created", { reason: "PutObject" }, { kind: "created", eventName: "ObjectCreated:Put", size: 5 }],
    ["Object Created", { reason: "POST Object" }, { eventName: "ObjectCreated:Post" }],
    ["Object Created", { reason: "CopyObject" }, { eventName: "ObjectCreated:Copy" }],
    [
      "Object Created",
      { reason: "CompleteMultipartUpload" },
      { eventName: "ObjectCreated:CompleteMultipartUpload" },
    ],
    [
      "Object Deleted",
      { reason: "DeleteObject", "deletion-type": "Permanently Deleted" },
      { kind: "removed", eventName: "ObjectRemoved:Delete", deleteMarker: false },
    ],
    [
      "Object Deleted",
      { reason: "DeleteObject", "deletion-type": "Delete Marker Created" },
      { kind: "removed", eventName: "ObjectRemoved:DeleteMarkerCreated", deleteMarker: true },
    ],
    [
      "Object Deleted",
      { reason: "Lifecycle Expiration", "deletion-type": "Permanently Deleted" },
      { kind: "removed", eventName: "LifecycleExpiration:Delete", lifecycle: true },
    ],
    [
      "Object Deleted",
      { reason: "Lifecycle Expiration", "deletion-type": "Delete Marker Created" },
      { eventName: "LifecycleExpiration:DeleteMarkerCreated", deleteMarker: true, lifecycle: true },
    ],
  ])("maps %s %j", (detailType, detail, expected) => {
    const envelope = parseLambdaEvent(eventBridge(detailType, detail));
    expect(envelope).toMatchObject({ source: "eventbridge", ignored: [] });
    if (envelope.source === "sqs") return;
    expect(envelope.events[0]).toMatchObject({
      bucket: "amzn-s3-demo-bucket1",
      key: "dir/red flower+1.jpg", // EventBridge keys are not URL-encoded: '+' stays a plus
      eTag: "b1946ac92492d2347c6235b4d2611184",
      versionId: "IYV3p45BT0ac8hjHg1houSdS1a.Mro8e",
      sequencer: "00617F08299329D189",
      eventTime: "2021-11-12T00:00:00.000Z",
      principalId: "123456789012",
      sourceIPAddress: "1.2.3.4",
      requestId: "N4N7GDK58NMKJ12R",
      ...expected,
    });
  });

  it("ignores other S3 EventBridge events and keeps unknown reasons as malformed", () => {
    expect(parseLambdaEvent(eventBridge("Object Tags Added", {})).ignored).toEqual([
      {
        reason: "EventBridge Object Tags Added does not change object content",
        eventName: "Object Tags Added",
      },
    ]);
    expect(parseLambdaEvent(eventBridge("Object Created", { reason: "Teleport" })).ignored[0]).toMatchObject({
      malformed: true,
    });
  });
});

describe("toS3Notification", () => {
  const nastyKeys = [
    "plain.txt",
    "red flower.jpg",
    "a+b c.txt",
    "100%.txt",
    "%41%2B",
    "dir/sub dir/ünïcödé 日本語 🎉.txt",
    "quotes\"and'apostrophes(1)!~*.txt",
    "eq=semi;colon:at@hash#q?amp&.log",
    "tab\tnewline\n.txt",
    "trailing space ",
    `${"k".repeat(200)}/${"ü".repeat(300)}/${"+".repeat(100)}`,
  ];

  it.each(nastyKeys)("round-trips key %j through parse(toS3Notification(x))", (key) => {
    const events: ObjectEvent[] = [
      { ...HAPPY_FACE, key },
      {
        kind: "removed",
        eventName: "ObjectRemoved:DeleteMarkerCreated",
        bucket: "b",
        key,
        versionId: "v2",
        sequencer: "0055AED6DCD90281F0",
        eventTime: "2024-01-01T00:00:00.000Z",
        deleteMarker: true,
      },
      {
        kind: "removed",
        eventName: "LifecycleExpiration:Delete",
        bucket: "b",
        key,
        sequencer: "0055AED6DCD90281F1",
        eventTime: "2024-01-01T00:00:00.000Z",
        deleteMarker: false,
        lifecycle: true,
      },
    ];
    const notification = toS3Notification(events);
    expect(JSON.parse(JSON.stringify(notification))).toEqual(notification);
    expect(parseLambdaEvent(notification)).toEqual({ source: "s3", events, ignored: [] });
  });

  it("writes keys as S3 does: '+' for spaces, percent-encoded UTF-8, '/' kept", () => {
    const notification: S3Event = toS3Notification([{ ...HAPPY_FACE, key: "photos/red flower+1 ü.jpg" }]);
    const record = notification.Records[0]!;
    expect(record.s3.object.key).toBe("photos/red+flower%2B1+%C3%BC.jpg");
    expect(record).toMatchObject({
      eventVersion: "2.1",
      eventSource: "aws:s3",
      eventName: "ObjectCreated:Put",
      userIdentity: { principalId: "AIDAJDPLRKLG7UEXAMPLE" },
      requestParameters: { sourceIPAddress: "172.16.0.1" },
      responseElements: { "x-amz-request-id": "C3D13FE58DE4C810" },
      s3: {
        s3SchemaVersion: "1.0",
        bucket: { name: "amzn-s3-demo-bucket", arn: "arn:aws:s3:::amzn-s3-demo-bucket" },
        object: { size: 1024, eTag: HAPPY_FACE.eTag, sequencer: HAPPY_FACE.sequencer },
      },
    });
    expect(record.responseElements["x-amz-id-2"]).not.toBe("");
  });

  it("omits size and eTag on removals, as S3 does", () => {
    const [record] = toS3Notification([
      {
        kind: "removed",
        eventName: "ObjectRemoved:Delete",
        bucket: "b",
        key: "k",
        sequencer: "01",
        eventTime: "2024-01-01T00:00:00.000Z",
        deleteMarker: false,
      },
    ]).Records;
    expect(record?.s3.object).toEqual({ key: "k", sequencer: "01" });
  });
});

describe("encodeEventKey / decodeEventKey", () => {
  it.each([
    ["a b", "a+b"],
    ["a+b", "a%2Bb"],
    ["50%", "50%25"],
    ["(x)!", "%28x%29%21"],
  ])("encodes %j as %s", (key, encoded) => {
    expect(encodeEventKey(key)).toBe(encoded);
    expect(decodeEventKey(encoded)).toBe(key);
  });

  it("throws URIError on a malformed escape", () => {
    expect(() => decodeEventKey("%E0%A4%A")).toThrow(URIError);
  });
});
