/**
 * The edge where S3 events enter: every shape a Lambda can receive them in
 * (direct S3 notification, SQS-wrapped, SNS-in-SQS, EventBridge) becomes one
 * list of {@link ObjectEvent}s with the key decoded exactly once. Nothing
 * past this module sees an encoded key or a raw event.
 *
 * Events are untrusted JSON: the @types/aws-lambda shapes say what AWS sends,
 * and every field is checked at run time before it is believed.
 */
import type {
  EventBridgeEvent,
  S3Event,
  S3EventRecord,
  S3ObjectCreatedNotificationEventDetail,
  S3ObjectDeletedNotificationEventDetail,
  SQSRecord,
} from "aws-lambda";
import { CatalogError, describeError } from "../engine/errors.js";
import { unquoteETag } from "./etag.js";
import { isSequencer } from "./sequencer.js";

/** One change to one object, normalised from any event source. */
export interface ObjectEvent {
  kind: "created" | "removed";
  /** S3 notification name without the `s3:` prefix, e.g. `ObjectCreated:Put`, `LifecycleExpiration:Delete`. */
  eventName: string;
  bucket: string;
  /** The object key, decoded once here. */
  key: string;
  /** Bytes; S3 states it for created objects only. */
  size?: number;
  /** The ETag without quotes, as S3 events carry it. */
  eTag?: string;
  versionId?: string;
  /** Hex; orders events of this key (see `compareSequencers`). */
  sequencer: string;
  /** ISO 8601 with milliseconds (`Date.prototype.toISOString`). */
  eventTime: string;
  principalId?: string;
  sourceIPAddress?: string;
  /** `x-amz-request-id` of the request that caused the event. */
  requestId?: string;
  /** Removed events only: true when a delete marker was created (the data still exists as an older version). */
  deleteMarker?: boolean;
  /** True for lifecycle expirations. */
  lifecycle?: boolean;
  /**
   * Never in an S3 event: a catalog pass (backfill, reprocess) reads the record its event is to
   * replace, and names here the thumbnail that record names. Still under its key with this ETag and
   * made from the object version read, it is kept as it is (see `deriveThumbnail`).
   */
  replacedThumbnail?: { key: string; eTag: string };
  /**
   * Never in an S3 event: set by a catalog pass when the record its event is to replace rejected
   * this very object and tagged it `catalog-status=rejected` (or, written before records said so,
   * may have). S3 drops an object's tags when it is overwritten, so a pass is what meets an object
   * that still carries the tag; the pipeline removes it when the object is no longer rejected.
   */
  taggedRejected?: boolean;
}

/** An event or record that carries nothing to catalog, with why. */
export interface IgnoredEvent {
  reason: string;
  eventName?: string;
  /** True when the record was malformed (bad key escape, missing field), not merely of another kind. */
  malformed?: boolean;
}

/** The events of one SQS message; one message may hold several S3 records. */
export interface SqsMessageEvents {
  messageId: string;
  events: ObjectEvent[];
  /**
   * Set when the message (or a record in it) cannot be understood: a poison
   * message. `events` then holds the records that could be parsed; the
   * handler reports the message as a batch item failure so it reaches the DLQ.
   */
  error?: string;
}

/** What a Lambda invocation carried, by delivery path. */
export type EventEnvelope =
  | { source: "s3" | "eventbridge"; events: ObjectEvent[]; ignored: IgnoredEvent[] }
  | { source: "sqs"; messages: SqsMessageEvents[]; ignored: IgnoredEvent[] };

/** The invocation payload is none of the event shapes this function accepts. */
export class EventShapeError extends CatalogError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "EventShapeError";
  }
}

/** A record inside an otherwise recognised event is malformed. */
class MalformedRecordError extends Error {
  constructor(
    message: string,
    readonly eventName?: string,
  ) {
    super(message);
  }
}

const CREATED_NAMES = new Set([
  "ObjectCreated:Put",
  "ObjectCreated:Post",
  "ObjectCreated:Copy",
  "ObjectCreated:CompleteMultipartUpload",
]);
const REMOVED_NAMES = new Set([
  "ObjectRemoved:Delete",
  "ObjectRemoved:DeleteMarkerCreated",
  "LifecycleExpiration:Delete",
  "LifecycleExpiration:DeleteMarkerCreated",
]);

/** EventBridge `detail.reason` of "Object Created" to the notification name S3 uses for the same change. */
const EVENTBRIDGE_CREATED_REASONS: Record<string, string> = {
  PutObject: "ObjectCreated:Put",
  "POST Object": "ObjectCreated:Post",
  CopyObject: "ObjectCreated:Copy",
  CompleteMultipartUpload: "ObjectCreated:CompleteMultipartUpload",
};

type S3EventBridgeEvent =
  | EventBridgeEvent<"Object Created", S3ObjectCreatedNotificationEventDetail>
  | EventBridgeEvent<"Object Deleted", S3ObjectDeletedNotificationEventDetail>;

/**
 * Normalises whatever a Lambda invocation received into object events.
 *
 * Accepted: an S3 notification (`Records[].eventSource === "aws:s3"`), an SQS
 * batch whose bodies are S3 notifications (optionally inside an SNS envelope,
 * or EventBridge events), and an EventBridge "Object Created"/"Object
 * Deleted" event. The `s3:TestEvent` S3 sends when a notification is
 * configured, and event names other than object creation/removal, are listed
 * in `ignored`. A malformed record never throws: it is `ignored` with
 * `malformed: true` (direct/EventBridge) or makes its SQS message poison
 * (`error`).
 *
 * @throws {EventShapeError} when the payload is none of these shapes.
 * @example
 * const envelope = parseLambdaEvent(event);
 * if (envelope.source === "sqs") for (const m of envelope.messages) ...;
 * else for (const e of envelope.events) console.log(e.kind, e.bucket, e.key);
 */
export function parseLambdaEvent(event: unknown): EventEnvelope {
  if (!isObject(event)) throw new EventShapeError("event is not a JSON object");
  const ignored: IgnoredEvent[] = [];

  if (isTestEvent(event)) {
    ignored.push({
      reason: "s3:TestEvent sent when the notification was configured",
      eventName: "s3:TestEvent",
    });
    return { source: "s3", events: [], ignored };
  }
  if (isEventBridgeShape(event)) {
    const events: ObjectEvent[] = [];
    collect(() => fromEventBridge(event), events, ignored);
    return { source: "eventbridge", events, ignored };
  }
  const records = event.Records;
  if (!Array.isArray(records))
    throw new EventShapeError("event has neither Records nor an S3 EventBridge detail");
  if (records.length === 0) return { source: "s3", events: [], ignored };

  const sources = new Set(records.map((record) => (isObject(record) ? record.eventSource : undefined)));
  if (sources.size === 1 && sources.has("aws:sqs")) {
    return { source: "sqs", messages: records.map((record) => fromSqsRecord(record, ignored)), ignored };
  }
  if (sources.size === 1 && sources.has("aws:s3")) {
    const events: ObjectEvent[] = [];
    for (const record of records) collect(() => fromS3Record(record), events, ignored);
    return { source: "s3", events, ignored };
  }
  throw new EventShapeError(
    `unsupported Records[].eventSource: ${[...sources].map(describeValue).join(", ")}`,
  );
}

/** Runs one record's parser, sorting its outcome into events or ignored. */
function collect(
  parse: () => ObjectEvent | IgnoredEvent,
  events: ObjectEvent[],
  ignored: IgnoredEvent[],
): void {
  try {
    const outcome = parse();
    if ("kind" in outcome) events.push(outcome);
    else ignored.push(outcome);
  } catch (error) {
    if (!(error instanceof MalformedRecordError)) throw error;
    ignored.push({
      reason: `malformed record: ${error.message}`,
      ...(error.eventName !== undefined && { eventName: error.eventName }),
      malformed: true,
    });
  }
}

function fromSqsRecord(record: unknown, ignored: IgnoredEvent[]): SqsMessageEvents {
  const message = record as Partial<SQSRecord>;
  const messageId = typeof message.messageId === "string" ? message.messageId : "";
  const events: ObjectEvent[] = [];
  if (!messageId) return { messageId, events, error: "SQS record without a messageId" };
  if (typeof message.body !== "string") return { messageId, events, error: "SQS record without a body" };

  let body = parseJson(message.body);
  // SNS fan-out to SQS wraps the notification once more, as a string.
  if (isObject(body) && body.Type === "Notification" && typeof body.Message === "string") {
    body = parseJson(body.Message);
  }
  if (!isObject(body)) return { messageId, events, error: "body is not a JSON object" };
  if (isTestEvent(body)) {
    ignored.push({
      reason: "s3:TestEvent sent when the notification was configured",
      eventName: "s3:TestEvent",
    });
    return { messageId, events };
  }

  const errors: string[] = [];
  const parseOne = (parse: () => ObjectEvent | IgnoredEvent) => {
    try {
      const outcome = parse();
      if ("kind" in outcome) events.push(outcome);
      else ignored.push(outcome);
    } catch (error) {
      // Whatever else a record can make the parser throw is still this message's fault alone: it
      // goes to the DLQ on its own rather than failing its batch neighbours with it.
      errors.push(
        error instanceof MalformedRecordError ? error.message : `unreadable record: ${describeError(error)}`,
      );
    }
  };
  if (isEventBridgeShape(body)) {
    parseOne(() => fromEventBridge(body));
  } else if (Array.isArray(body.Records)) {
    for (const s3Record of body.Records) parseOne(() => fromS3Record(s3Record));
  } else {
    errors.push("body is neither an S3 notification nor an S3 EventBridge event");
  }
  return { messageId, events, ...(errors.length > 0 && { error: errors.join("; ") }) };
}

function fromS3Record(value: unknown): ObjectEvent | IgnoredEvent {
  if (!isObject(value)) throw new MalformedRecordError("record is not an object");
  const record = value as Partial<S3EventRecord>;
  const rawName = record.eventName;
  if (typeof rawName !== "string") throw new MalformedRecordError("eventName missing");
  const eventName = rawName.replace(/^s3:/, "");
  if (record.eventSource !== "aws:s3") {
    throw new MalformedRecordError(
      `eventSource is ${describeValue(record.eventSource)}, not aws:s3`,
      eventName,
    );
  }
  const kind = kindOf(eventName);
  if (!kind) return { reason: `event ${eventName} does not change object content`, eventName };

  const s3 = isObject(record.s3) ? (record.s3 as Partial<S3EventRecord["s3"]>) : undefined;
  const object = isObject(s3?.object) ? (s3.object as Partial<S3EventRecord["s3"]["object"]>) : undefined;
  const bucket = isObject(s3?.bucket) ? s3.bucket.name : undefined;
  if (!object) throw new MalformedRecordError("s3.object missing", eventName);
  if (typeof bucket !== "string" || bucket === "")
    throw new MalformedRecordError("s3.bucket.name missing", eventName);
  if (typeof object.key !== "string") throw new MalformedRecordError("s3.object.key missing", eventName);

  return buildEvent(eventName, kind, {
    bucket,
    key: decodeRecordKey(object.key, eventName),
    size: object.size,
    eTag: object.eTag,
    versionId: object.versionId,
    sequencer: object.sequencer,
    eventTime: record.eventTime,
    principalId: record.userIdentity?.principalId,
    sourceIPAddress: record.requestParameters?.sourceIPAddress,
    requestId: record.responseElements?.["x-amz-request-id"],
  });
}

function fromEventBridge(event: S3EventBridgeEvent): ObjectEvent | IgnoredEvent {
  const detailType = event["detail-type"];
  const detail = isObject(event.detail) ? (event.detail as Partial<S3EventBridgeEvent["detail"]>) : undefined;
  if (!detail) throw new MalformedRecordError("detail missing", detailType);
  const reason: unknown = detail.reason;
  const deletionType: unknown = isObject(detail)
    ? (detail as Record<string, unknown>)["deletion-type"]
    : undefined;

  let eventName: string | undefined;
  if (detailType === "Object Created") {
    eventName = typeof reason === "string" ? EVENTBRIDGE_CREATED_REASONS[reason] : undefined;
  } else if (detailType === "Object Deleted") {
    const prefix =
      reason === "DeleteObject"
        ? "ObjectRemoved"
        : reason === "Lifecycle Expiration"
          ? "LifecycleExpiration"
          : "";
    const suffix =
      deletionType === "Delete Marker Created"
        ? "DeleteMarkerCreated"
        : deletionType === "Permanently Deleted"
          ? "Delete"
          : "";
    if (prefix && suffix) eventName = `${prefix}:${suffix}`;
  } else {
    return {
      reason: `EventBridge ${describeValue(detailType)} does not change object content`,
      eventName: detailType,
    };
  }
  if (!eventName) {
    throw new MalformedRecordError(
      `unknown ${detailType} reason ${describeValue(reason)}${deletionType ? `/${describeValue(deletionType)}` : ""}`,
      detailType,
    );
  }
  const object = isObject(detail.object) ? (detail.object as Record<string, unknown>) : undefined;
  const bucket = isObject(detail.bucket) ? detail.bucket.name : undefined;
  if (!object) throw new MalformedRecordError("detail.object missing", eventName);
  if (typeof bucket !== "string" || bucket === "")
    throw new MalformedRecordError("detail.bucket.name missing", eventName);
  // EventBridge delivers the key as stored, not URL-encoded like notifications.
  if (typeof object.key !== "string" || object.key === "") {
    throw new MalformedRecordError("detail.object.key missing", eventName);
  }
  const fields = detail as Record<string, unknown>;
  return buildEvent(eventName, kindOf(eventName)!, {
    bucket,
    key: object.key,
    size: object.size,
    eTag: object.etag,
    versionId: object["version-id"],
    sequencer: object.sequencer,
    eventTime: event.time,
    principalId: fields.requester,
    sourceIPAddress: fields["source-ip-address"],
    requestId: fields["request-id"],
  });
}

interface RawFields {
  bucket: string;
  key: string;
  size: unknown;
  eTag: unknown;
  versionId: unknown;
  sequencer: unknown;
  eventTime: unknown;
  principalId: unknown;
  sourceIPAddress: unknown;
  requestId: unknown;
}

/** Checks the fields common to every source and assembles the event with no undefined properties. */
function buildEvent(eventName: string, kind: ObjectEvent["kind"], raw: RawFields): ObjectEvent {
  if (!isSequencer(raw.sequencer)) throw new MalformedRecordError("sequencer missing or not hex", eventName);
  if (typeof raw.eventTime !== "string") throw new MalformedRecordError("eventTime missing", eventName);
  const time = new Date(raw.eventTime);
  if (Number.isNaN(time.getTime()))
    throw new MalformedRecordError(`eventTime ${raw.eventTime} is not a date`, eventName);
  if (raw.size !== undefined && !(Number.isSafeInteger(raw.size) && (raw.size as number) >= 0)) {
    throw new MalformedRecordError("size is not a non-negative integer", eventName);
  }
  const rawETag = optionalString(raw.eTag);
  const eTag = rawETag === undefined ? undefined : unquoteETag(rawETag);
  const versionId = optionalString(raw.versionId);
  const principalId = optionalString(raw.principalId);
  const sourceIPAddress = optionalString(raw.sourceIPAddress);
  const requestId = optionalString(raw.requestId);
  const lifecycle = eventName.startsWith("LifecycleExpiration:");
  return {
    kind,
    eventName,
    bucket: raw.bucket,
    key: raw.key,
    ...(kind === "created" && raw.size !== undefined && { size: raw.size as number }),
    ...(eTag && { eTag }),
    ...(versionId && { versionId }),
    sequencer: raw.sequencer,
    eventTime: time.toISOString(),
    ...(principalId && { principalId }),
    ...(sourceIPAddress && { sourceIPAddress }),
    ...(requestId && { requestId }),
    ...(kind === "removed" && { deleteMarker: eventName.endsWith(":DeleteMarkerCreated") }),
    ...(lifecycle && { lifecycle }),
  };
}

function kindOf(eventName: string): ObjectEvent["kind"] | undefined {
  if (CREATED_NAMES.has(eventName)) return "created";
  if (REMOVED_NAMES.has(eventName)) return "removed";
  return undefined;
}

/**
 * Decodes a key from an S3 notification: form encoding, so `+` is a space
 * and everything else is percent-encoded UTF-8. Done once, at the edge.
 *
 * @throws {URIError} on a malformed percent escape.
 * @example
 * decodeEventKey("red+flower%2B1.jpg") // "red flower+1.jpg"
 */
export function decodeEventKey(encoded: string): string {
  return decodeURIComponent(encoded.replace(/\+/g, " "));
}

function decodeRecordKey(encoded: string, eventName: string): string {
  let key: string;
  try {
    key = decodeEventKey(encoded);
  } catch {
    throw new MalformedRecordError(
      `key ${JSON.stringify(encoded)} has a malformed percent escape`,
      eventName,
    );
  }
  if (key === "") throw new MalformedRecordError("key is empty", eventName);
  return key;
}

/**
 * Encodes a key the way S3 writes it into notifications: form encoding
 * (space as `+`, UTF-8 percent escapes, `!'()~` escaped as Java's
 * URLEncoder does) with `/` left readable. Decoders treat `%2F` and `/` the
 * same, so either choice round-trips.
 *
 * @example
 * encodeEventKey("photos/red flower+1.jpg") // "photos/red+flower%2B1.jpg"
 */
export function encodeEventKey(key: string): string {
  return encodeURIComponent(key)
    .replace(/[!'()~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, "+")
    .replace(/%2F/g, "/");
}

/** Optional parts of a notification that {@link ObjectEvent} does not carry. */
export interface S3NotificationOptions {
  /** @default "us-east-1" */
  region?: string;
  /** The notification configuration's id. @default "catalog" */
  configurationId?: string;
  /** The bucket owner's canonical principal. @default "CATALOGLOCAL" */
  ownerPrincipalId?: string;
}

/**
 * Builds the notification S3 would send for these events: URL-encoded keys,
 * `eventVersion` 2.1, the S3 schema fields, unquoted ETags. The local
 * dispatcher and the tests deliver exactly this to the handler, so
 * `parseLambdaEvent(toS3Notification(events))` gives `events` back.
 *
 * @example
 * const event = toS3Notification([{ kind: "created", eventName: "ObjectCreated:Put", bucket: "uploads",
 *   key: "red flower.jpg", size: 5, eTag: "9a0364b9e99bb480dd25e1f0284c8555",
 *   sequencer: "0055AED6DCD90281E5", eventTime: new Date().toISOString() }]);
 * event.Records[0].s3.object.key // "red+flower.jpg"
 */
export function toS3Notification(events: ObjectEvent[], options: S3NotificationOptions = {}): S3Event {
  const region = options.region ?? "us-east-1";
  return {
    Records: events.map((event) => ({
      eventVersion: "2.1",
      eventSource: "aws:s3",
      awsRegion: region,
      eventTime: event.eventTime,
      eventName: event.eventName,
      // S3 always sends these; an empty string stands for "unknown" and parses back to absent.
      userIdentity: { principalId: event.principalId ?? "" },
      requestParameters: { sourceIPAddress: event.sourceIPAddress ?? "" },
      responseElements: {
        "x-amz-request-id": event.requestId ?? "",
        "x-amz-id-2": event.requestId
          ? Buffer.from(`${event.requestId}/${event.sequencer}`).toString("base64")
          : "",
      },
      s3: {
        s3SchemaVersion: "1.0",
        configurationId: options.configurationId ?? "catalog",
        bucket: {
          name: event.bucket,
          ownerIdentity: { principalId: options.ownerPrincipalId ?? "CATALOGLOCAL" },
          arn: `arn:aws:s3:::${event.bucket}`,
        },
        object: {
          key: encodeEventKey(event.key),
          // S3 omits size and eTag on removals; the type insists, so they are left out by cast.
          ...(event.size !== undefined && { size: event.size }),
          ...(event.eTag !== undefined && { eTag: event.eTag }),
          ...(event.versionId !== undefined && { versionId: event.versionId }),
          sequencer: event.sequencer,
        } as S3EventRecord["s3"]["object"],
      },
    })),
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isTestEvent(value: Record<string, unknown>): boolean {
  return value.Event === "s3:TestEvent" && !("Records" in value);
}

function isEventBridgeShape(
  value: Record<string, unknown>,
): value is S3EventBridgeEvent & Record<string, unknown> {
  return value.source === "aws.s3" && typeof value["detail-type"] === "string";
}

/**
 * A field of untrusted JSON as text for a message. `String()` throws on what
 * `JSON.parse('{"toString":1}')` returns, and a TypeError here would fail a
 * whole batch instead of the one record.
 */
function describeValue(value: unknown): string {
  if (typeof value === "string") return value;
  try {
    return JSON.stringify(value) ?? typeof value;
  } catch {
    return typeof value;
  }
}

function optionalString(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
