/**
 * The replay harness shared by `bench/replay.bench.ts` and
 * `test/reliability/replay.test.ts`: a seeded history of operations on many
 * keys, applied for real to an embedded S3 server, turned into the events S3
 * would send, delivered duplicated and shuffled with concurrency, and the
 * final catalog compared with the truth (the last operation per key, by
 * sequencer).
 *
 * Three delivery paths: direct S3 notifications to the handler, SQS batches
 * of ten with `batchItemFailures` redelivered, and the local stack's
 * dispatcher. A fourth mode simulates a versioned bucket (s3rver has no
 * versioning): events carry versionIds and delete markers, and the handler
 * reads through an in-memory versioned store while writing to the real
 * embedded DynamoDB.
 */
import { createHash, randomUUID } from "node:crypto";
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import { DeleteObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import type { SQSBatchResponse } from "aws-lambda";
import { BufferSource } from "../../src/engine/byte-source/byte-source.js";
import { SourceChangedError } from "../../src/engine/errors.js";
import { compareSequencers, type ObjectEvent, toS3Notification } from "../../src/events/index.js";
import { type CatalogHandler, createHandler, type HandlerDeps } from "../../src/lambda/handler.js";
import type { ObjectStorage } from "../../src/pipeline/ports.js";
import { DEFAULT_POLICY } from "../../src/policy/policy.js";
import type { CatalogStore } from "../../src/store/catalog-store.js";
import type { CatalogRecord } from "../../src/store/types.js";
import { notificationBody, sqsBatch } from "../lambda/fixtures.js";

/** A small, fast, seedable PRNG (mulberry32): the same seed replays the same history. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T;
}

/** Fisher-Yates, in place, seeded. */
export function shuffle<T>(random: () => number, items: T[]): T[] {
  for (let index = items.length - 1; index > 0; index--) {
    const other = Math.floor(random() * (index + 1));
    [items[index], items[other]] = [items[other] as T, items[index] as T];
  }
  return items;
}

/** One operation on one key. */
export type Operation = { key: string; kind: "put"; body: Buffer } | { key: string; kind: "delete" };

/** Name parts that S3 URL-encodes in events: spaces, '+', '%', unicode. */
const NAME_PARTS = ["plain", "with space", "plus+sign", "per%cent", "é-nfc", "日本", "a&b", "(1)"];

/**
 * A history of `count` operations on about `count / 5` keys: create,
 * overwrite (sometimes with identical bytes, so an ETag repeats), delete,
 * re-create. A key is deleted only while it exists, as S3 would announce.
 */
export function generateHistory(count: number, random: () => number): Operation[] {
  const keyCount = Math.max(1, Math.floor(count / 5));
  const keys = Array.from(
    { length: keyCount },
    (_, index) => `replay/${index % 17}/${pick(random, NAME_PARTS)} ${index}.txt`,
  );
  const live = new Map<string, Buffer>();
  const operations: Operation[] = [];
  for (let index = 0; index < count; index++) {
    const key = pick(random, keys);
    const current = live.get(key);
    if (current && random() < 0.35) {
      operations.push({ key, kind: "delete" });
      live.delete(key);
      continue;
    }
    const body =
      current && random() < 0.1
        ? current
        : Buffer.from(`${key}\nrevision ${index}\n${"x".repeat(Math.floor(random() * 300))}\n`);
    operations.push({ key, kind: "put", body });
    live.set(key, body);
  }
  return operations;
}

/** Issues sequencers that only grow, as S3's do per key. */
export class SequencerSource {
  private value = 0x0062a1b2c3d4e5f600n;
  next(): string {
    this.value += 1n + BigInt(Math.floor(Math.random() * 3));
    return this.value.toString(16).toUpperCase().padStart(18, "0");
  }
}

function md5(body: Buffer): string {
  return createHash("md5").update(body).digest("hex");
}

/** The event S3 sends for an operation that has just happened. */
export function eventFor(operation: Operation, bucket: string, sequencer: string): ObjectEvent {
  const common = {
    bucket,
    key: operation.key,
    sequencer,
    eventTime: new Date().toISOString(),
    principalId: "AWS:AIDAREPLAY",
    sourceIPAddress: "198.51.100.9",
    requestId: `REQ${sequencer}`,
  };
  return operation.kind === "put"
    ? {
        ...common,
        kind: "created",
        eventName: "ObjectCreated:Put",
        size: operation.body.byteLength,
        eTag: md5(operation.body),
      }
    : { ...common, kind: "removed", eventName: "ObjectRemoved:Delete", deleteMarker: false };
}

/**
 * Applies the history to a real S3 server, folders in parallel but each
 * folder's operations in order (so each key's are), and returns the events
 * S3 would have sent. One worker per folder: raw s3rver (test/support's
 * servers) loses a put that races a delete in the same folder; the local
 * stack's EmbeddedS3 guards against that, and the dispatcher run exercises it.
 */
export async function applyHistory(
  s3: S3Client,
  bucket: string,
  operations: readonly Operation[],
  concurrency = 16,
  unit: "folder" | "key" = "folder",
): Promise<ObjectEvent[]> {
  const byKey = new Map<string, Operation[]>();
  for (const operation of operations) {
    const folder =
      unit === "key" ? operation.key : operation.key.slice(0, operation.key.lastIndexOf("/") + 1);
    const list = byKey.get(folder) ?? [];
    list.push(operation);
    byKey.set(folder, list);
  }
  const sequencers = new SequencerSource();
  const events: ObjectEvent[] = [];
  const queues = [...byKey.values()];
  let next = 0;
  async function worker(): Promise<void> {
    while (next < queues.length) {
      const queue = queues[next++] as Operation[];
      for (const operation of queue) {
        if (operation.kind === "put") {
          const output = await s3.send(
            new PutObjectCommand({
              Bucket: bucket,
              Key: operation.key,
              Body: operation.body,
              ContentType: "text/plain",
            }),
          );
          const event = eventFor(operation, bucket, sequencers.next());
          // The server's ETag is the truth; it must equal the MD5 S3 computes for a single PUT.
          if (output.ETag?.replace(/"/g, "") !== event.eTag)
            throw new Error(`ETag of ${operation.key} is ${output.ETag}, expected ${event.eTag}`);
          events.push(event);
        } else {
          await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: operation.key }));
          events.push(eventFor(operation, bucket, sequencers.next()));
        }
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  return events;
}

/** Each event 1 to `maxCopies` times, shuffled. */
export function duplicateAndShuffle(
  events: readonly ObjectEvent[],
  random: () => number,
  maxCopies = 3,
): ObjectEvent[] {
  const deliveries: ObjectEvent[] = [];
  for (const event of events) {
    const copies = 1 + Math.floor(random() * maxCopies);
    for (let copy = 0; copy < copies; copy++) deliveries.push(event);
  }
  return shuffle(random, deliveries);
}

/** What delivering took. */
export interface DeliveryStats {
  /** Handler invocations, retries included. */
  invocations: number;
  /** Invocations that threw (direct) or messages reported failed (SQS), each redelivered. */
  retried: number;
  seconds: number;
}

/** Silent handler over the given clients, as the Lambda builds it. */
export function quietHandler(deps: Omit<HandlerDeps, "policy"> & Partial<Pick<HandlerDeps, "policy">>) {
  process.env.POWERTOOLS_METRICS_DISABLED = "true";
  return createHandler({
    policy: DEFAULT_POLICY,
    logger: new Logger({ serviceName: "replay", logLevel: "SILENT" }),
    metrics: new Metrics({ namespace: "Replay", serviceName: "replay" }),
    ...deps,
  });
}

/**
 * Delivers events as S3 does to a Lambda: one notification per event,
 * `concurrency` invocations at a time. An invocation that throws is retried
 * (up to `attempts` times), as Lambda retries an asynchronous invocation.
 */
export async function deliverDirect(
  handler: CatalogHandler,
  deliveries: readonly ObjectEvent[],
  concurrency = 16,
  attempts = 3,
): Promise<DeliveryStats> {
  const started = performance.now();
  const stats = { invocations: 0, retried: 0 };
  let next = 0;
  async function worker(): Promise<void> {
    while (next < deliveries.length) {
      const event = deliveries[next++] as ObjectEvent;
      for (let attempt = 1; ; attempt++) {
        stats.invocations++;
        try {
          await handler(toS3Notification([event]));
          break;
        } catch (error) {
          if (attempt >= attempts) throw error;
          stats.retried++;
        }
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { ...stats, seconds: (performance.now() - started) / 1000 };
}

/**
 * Delivers events as an SQS event source mapping does: one message per S3
 * notification (a duplicate is a new message with a new id), batches of
 * `batchSize`, `concurrency` batches at a time; messages the handler lists
 * in `batchItemFailures` go back on the queue.
 */
export async function deliverSqs(
  handler: CatalogHandler,
  deliveries: readonly ObjectEvent[],
  options: { batchSize?: number; concurrency?: number; maxReceives?: number } = {},
): Promise<DeliveryStats> {
  const started = performance.now();
  const batchSize = options.batchSize ?? 10;
  const maxReceives = options.maxReceives ?? 5;
  const queue = deliveries.map((event) => ({ messageId: randomUUID(), event, receives: 0 }));
  const stats = { invocations: 0, retried: 0 };
  async function worker(): Promise<void> {
    while (queue.length > 0) {
      const batch = queue.splice(0, batchSize);
      stats.invocations++;
      const response = (await handler(
        sqsBatch(batch.map(({ messageId, event }) => ({ messageId, body: notificationBody([event]) }))),
      )) as SQSBatchResponse;
      const failed = new Set(response.batchItemFailures.map((item) => item.itemIdentifier));
      for (const message of batch) {
        if (!failed.has(message.messageId)) continue;
        message.receives++;
        if (message.receives >= maxReceives)
          throw new Error(`message for ${message.event.key} failed ${maxReceives} times`);
        stats.retried++;
        queue.push(message);
      }
    }
  }
  await Promise.all(Array.from({ length: options.concurrency ?? 8 }, worker));
  return { ...stats, seconds: (performance.now() - started) / 1000 };
}

/** The state a key must end in: the last event by sequencer. */
export interface Expected {
  key: string;
  last: ObjectEvent;
  /** Sequencer of every distinct event of the key, with its delivery count. */
  deliveries: Map<string, number>;
}

/** The truth per key from the events and the deliveries made of them. */
export function truthOf(events: readonly ObjectEvent[], deliveries: readonly ObjectEvent[]): Expected[] {
  const byKey = new Map<string, Expected>();
  for (const event of events) {
    const entry = byKey.get(event.key) ?? { key: event.key, last: event, deliveries: new Map() };
    if (compareSequencers(event.sequencer, entry.last.sequencer) > 0) entry.last = event;
    entry.deliveries.set(event.sequencer, 0);
    byKey.set(event.key, entry);
  }
  for (const delivery of deliveries) {
    const counts = byKey.get(delivery.key)?.deliveries;
    counts?.set(delivery.sequencer, (counts.get(delivery.sequencer) ?? 0) + 1);
  }
  return [...byKey.values()];
}

/** How the catalog compared with the truth. */
export interface Comparison {
  keys: number;
  events: number;
  deliveries: number;
  /** Keys whose record is not the last event's state. */
  mismatches: { key: string; why: string }[];
  /** Audit entries beyond one per distinct event. */
  duplicateAuditEntries: number;
  /** Distinct events with no audit entry. */
  missingAuditEntries: number;
  /** Audit entries whose `deliveries` differs from the deliveries made. */
  deliveryCountMismatches: number;
  /** Audit outcomes over all entries (first delivery's outcome). */
  outcomes: Record<string, number>;
}

/** What a record must hold for the last event of its key; undefined when it does. */
export type RecordCheck = (expected: Expected, record: CatalogRecord | undefined) => string | undefined;

/** Unversioned: a create leaves a live record of exactly that ETag and size; a delete a tombstone. */
export const checkLastEvent: RecordCheck = ({ last }, record) => {
  if (!record) return "no record";
  if (compareSequencers(record.sequencer, last.sequencer) !== 0)
    return `record sequencer ${record.sequencer}, last event ${last.sequencer}`;
  if (last.kind === "removed") return record.status === "deleted" ? undefined : `status ${record.status}`;
  if (record.status === "deleted") return "tombstoned, but the last event created it";
  if (record.etag !== last.eTag) return `etag ${record.etag}, expected ${last.eTag}`;
  if (record.size !== last.size) return `size ${record.size}, expected ${last.size}`;
  return undefined;
};

/** Reads every key's record and audit trail and compares them with the truth. */
export async function compareCatalog(
  store: CatalogStore,
  bucket: string,
  truth: readonly Expected[],
  check: RecordCheck = checkLastEvent,
  concurrency = 16,
): Promise<Comparison> {
  const result: Comparison = {
    keys: truth.length,
    events: 0,
    deliveries: 0,
    mismatches: [],
    duplicateAuditEntries: 0,
    missingAuditEntries: 0,
    deliveryCountMismatches: 0,
    outcomes: {},
  };
  let next = 0;
  async function worker(): Promise<void> {
    while (next < truth.length) {
      const expected = truth[next++] as Expected;
      const { record, audit } = await store.getObject(bucket, expected.key);
      const why = check(expected, record);
      if (why) result.mismatches.push({ key: expected.key, why });
      result.events += expected.deliveries.size;
      for (const count of expected.deliveries.values()) result.deliveries += count;
      const seen = new Map<string, number>();
      for (const entry of audit) {
        const sequencer = entry.sequencer.toUpperCase();
        seen.set(sequencer, (seen.get(sequencer) ?? 0) + 1);
        result.outcomes[entry.outcome] = (result.outcomes[entry.outcome] ?? 0) + 1;
        if (entry.deliveries !== expected.deliveries.get(entry.sequencer)) result.deliveryCountMismatches++;
      }
      for (const [sequencer] of expected.deliveries) {
        const entries = seen.get(sequencer.toUpperCase()) ?? 0;
        if (entries === 0) result.missingAuditEntries++;
        else result.duplicateAuditEntries += entries - 1;
      }
      // An entry for an event that was never sent would be a duplicate under another name.
      for (const [sequencer, entries] of seen) {
        if (!expected.deliveries.has(sequencer)) result.duplicateAuditEntries += entries;
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  return result;
}

// ---------------------------------------------------------------------------
// Versioned bucket, simulated

/** One version of an object in the simulated versioned bucket, or a delete marker. */
export interface Version {
  versionId: string;
  body: Buffer;
  eTag: string;
  /** A delete marker: no content, and an unpinned read of a key with one on top answers 404. */
  deleteMarker?: boolean;
}

/**
 * A versioned bucket in memory, as the pipeline's {@link ObjectStorage}.
 * Each key's list is its version stack, oldest first. `open` pinned to a
 * versionId answers `SourceChangedError` when that version was permanently
 * deleted (S3: 404) or is a delete marker (405); unpinned, it reads the
 * newest version, or answers `SourceChangedError` when none is left or a
 * delete marker is on top, as S3 answers 404.
 */
export class VersionedBucket implements ObjectStorage {
  readonly versions = new Map<string, Version[]>();

  async open(ref: { bucket: string; key: string; versionId?: string; eTag?: string }) {
    const list = this.versions.get(ref.key) ?? [];
    const version =
      ref.versionId === undefined
        ? list.at(-1)
        : list.find((candidate) => candidate.versionId === ref.versionId);
    if (!version || version.deleteMarker)
      throw new SourceChangedError(`s3://${ref.bucket}/${ref.key}`, "no such version, or a delete marker");
    return {
      source: new BufferSource(version.body),
      head: {
        size: version.body.byteLength,
        eTag: version.eTag,
        versionId: version.versionId,
        contentType: "text/plain",
        userMetadata: {},
      },
    };
  }

  async tag(): Promise<void> {}

  /** The version an unpinned GET of `key` returns; undefined when none or a delete marker is on top. */
  current(key: string): Version | undefined {
    const top = this.versions.get(key)?.at(-1);
    return top && !top.deleteMarker ? top : undefined;
  }

  /**
   * Makes the change an event announces: a put adds its version (from
   * `created`, by versionId), a delete marker goes on top, a permanent
   * delete removes its version.
   */
  apply(event: ObjectEvent, created: ReadonlyMap<string, Version>): void {
    const list = this.versions.get(event.key) ?? [];
    this.versions.set(event.key, list);
    if (event.versionId === undefined) throw new Error(`unversioned event for ${event.key}`);
    if (event.kind === "created") {
      const version = created.get(event.versionId);
      if (!version) throw new Error(`no body for version ${event.versionId}`);
      list.push(version);
    } else if (event.deleteMarker) {
      list.push({ versionId: event.versionId, body: Buffer.alloc(0), eTag: "", deleteMarker: true });
    } else {
      const index = list.findIndex((candidate) => candidate.versionId === event.versionId);
      if (index >= 0) list.splice(index, 1);
    }
  }
}

/**
 * A history in a versioned bucket and its events: puts add versions, a plain
 * delete adds a delete marker (`ObjectRemoved:DeleteMarkerCreated`), and a
 * delete with a versionId removes one object version for good
 * (`ObjectRemoved:Delete` with the versionId), the current one as often as
 * an older one. `storage` is the bucket after the whole history; `created`
 * holds every version put, for replaying the history step by step with
 * {@link VersionedBucket.apply}.
 */
export function versionedHistory(
  count: number,
  bucket: string,
  random: () => number,
  options: { permanentDeletes?: boolean } = {},
): { events: ObjectEvent[]; storage: VersionedBucket; created: Map<string, Version> } {
  const permanentShare = options.permanentDeletes === false ? 0 : 0.15;
  const storage = new VersionedBucket();
  const created = new Map<string, Version>();
  const sequencers = new SequencerSource();
  const keyCount = Math.max(1, Math.floor(count / 5));
  const keys = Array.from({ length: keyCount }, (_, index) => `versioned/${index % 13}/obj ${index}.txt`);
  const events: ObjectEvent[] = [];
  let versions = 0;
  for (let index = 0; index < count; index++) {
    const key = pick(random, keys);
    const objects = (storage.versions.get(key) ?? []).filter((candidate) => !candidate.deleteMarker);
    const roll = random();
    const base = {
      bucket,
      key,
      sequencer: sequencers.next(),
      eventTime: new Date().toISOString(),
      principalId: "AWS:AIDAREPLAY",
    };
    let event: ObjectEvent;
    if (objects.length > 0 && roll < permanentShare) {
      // Half the time the newest version: the delete that makes an older version current again.
      const victim = random() < 0.5 ? (objects.at(-1) as Version) : pick(random, objects);
      event = {
        ...base,
        kind: "removed",
        eventName: "ObjectRemoved:Delete",
        versionId: victim.versionId,
        deleteMarker: false,
      };
    } else if (objects.length > 0 && roll < permanentShare + 0.2) {
      versions++;
      event = {
        ...base,
        kind: "removed",
        eventName: "ObjectRemoved:DeleteMarkerCreated",
        versionId: `marker-${versions}`,
        deleteMarker: true,
      };
    } else {
      versions++;
      const body = Buffer.from(`${key}\nversion ${versions}\n${"y".repeat(Math.floor(random() * 200))}\n`);
      const version = { versionId: `v-${versions}`, body, eTag: md5(body) };
      created.set(version.versionId, version);
      event = {
        ...base,
        kind: "created",
        eventName: "ObjectCreated:Put",
        size: body.byteLength,
        eTag: version.eTag,
        versionId: version.versionId,
      };
    }
    storage.apply(event, created);
    events.push(event);
  }
  return { events, storage, created };
}

/**
 * Delivers a versioned history as it happens: the bucket (the one the
 * handler reads) changes one event at a time, and now and then the events
 * announced so far are delivered, 1-3 copies each, shuffled, a random share
 * of them at once (the rest wait for a later round). So an event is often
 * processed while its version is still there and before the next change,
 * as in a live bucket, and the record a permanent delete meets is the one a
 * real catalog would hold. The bucket does not change during a round: the
 * pipeline's reads and writes are not raced by the history itself.
 */
export async function deliverVersionedLive(
  handler: CatalogHandler,
  storage: VersionedBucket,
  history: { events: readonly ObjectEvent[]; created: ReadonlyMap<string, Version> },
  random: () => number,
  concurrency = 16,
): Promise<{ deliveries: ObjectEvent[]; stats: DeliveryStats }> {
  const deliveries: ObjectEvent[] = [];
  const stats: DeliveryStats = { invocations: 0, retried: 0, seconds: 0 };
  let pending: ObjectEvent[] = [];
  async function round(share: number): Promise<void> {
    shuffle(random, pending);
    const now = pending.splice(0, Math.ceil(pending.length * share));
    const result = await deliverDirect(handler, now, concurrency);
    stats.invocations += result.invocations;
    stats.retried += result.retried;
    stats.seconds += result.seconds;
    deliveries.push(...now);
  }
  for (const event of history.events) {
    storage.apply(event, history.created);
    const copies = 1 + Math.floor(random() * 3);
    for (let copy = 0; copy < copies; copy++) pending.push(event);
    if (random() < 0.3) await round(random());
  }
  await round(1);
  pending = [];
  return { deliveries, stats };
}

/**
 * What a correct catalog holds for a key once every event of a versioned
 * history has been delivered: the bucket's current state, whatever the
 * delivery order. `live`: a record of exactly the current version, under a
 * sequencer from that version's put up to the key's last event (a
 * permanent delete that made it current again writes it under its own
 * sequencer; its put, when delivered later, rewrites it under the put's).
 * `hidden`: a delete marker is on top; a tombstone, at or after the marker.
 * `gone`: no version is left; a tombstone, or no record when no version of
 * the key was ever read while it existed.
 */
export type VersionedTruth =
  | { state: "live"; versionId: string; eTag: string; from: string; to: string }
  | { state: "hidden"; from: string }
  | { state: "gone" };

/** {@link VersionedTruth} per key from the history's events and the bucket after them. */
export function versionedTruth(
  events: readonly ObjectEvent[],
  storage: VersionedBucket,
): Map<string, VersionedTruth> {
  const last = new Map<string, string>();
  const putAt = new Map<string, string>();
  for (const event of events) {
    const previous = last.get(event.key);
    if (!previous || compareSequencers(event.sequencer, previous) > 0) last.set(event.key, event.sequencer);
    if (event.kind === "created" && event.versionId) putAt.set(event.versionId, event.sequencer);
  }
  const truth = new Map<string, VersionedTruth>();
  for (const [key, to] of last) {
    const top = storage.versions.get(key)?.at(-1);
    if (!top) truth.set(key, { state: "gone" });
    else if (top.deleteMarker) {
      const from = events.find((event) => event.key === key && event.versionId === top.versionId)?.sequencer;
      truth.set(key, { state: "hidden", from: from ?? to });
    } else {
      const from = putAt.get(top.versionId) ?? to;
      truth.set(key, { state: "live", versionId: top.versionId, eTag: top.eTag, from, to });
    }
  }
  return truth;
}

/** A record check against {@link versionedTruth}. */
export function checkVersionedTruth(truth: ReadonlyMap<string, VersionedTruth>): RecordCheck {
  return ({ key }, record) => {
    const want = truth.get(key);
    if (!want) return record ? `record ${record.status} for a key with no events` : undefined;
    const seen = record ? `${record.status} ${record.versionId} @${record.sequencer}` : "no record";
    if (want.state === "gone") {
      return !record || record.status === "deleted" ? undefined : `${seen}, expected no live record`;
    }
    if (want.state === "hidden") {
      if (record?.status !== "deleted") return `${seen}, expected a tombstone (delete marker on top)`;
      return compareSequencers(record.sequencer, want.from) >= 0
        ? undefined
        : `${seen}, expected a tombstone at or after the marker @${want.from}`;
    }
    if (!record || record.status === "deleted") return `${seen}, expected live ${want.versionId}`;
    if (record.versionId !== want.versionId || record.etag !== want.eTag)
      return `${seen} etag ${record.etag}, expected live ${want.versionId} etag ${want.eTag}`;
    if (
      compareSequencers(record.sequencer, want.from) < 0 ||
      compareSequencers(record.sequencer, want.to) > 0
    )
      return `${seen}, expected a sequencer from ${want.from} to ${want.to}`;
    return undefined;
  };
}

/** Where a replay writes: a fresh bucket name and table, on the servers the handler talks to. */
export interface ReplayTarget {
  s3: S3Client;
  dynamodb: HandlerDeps["dynamodb"];
  bucket: string;
  tableName: string;
  store: CatalogStore;
}

/**
 * A versioned history of `events` replayed through the direct path and
 * compared with {@link versionedTruth}: delivered after the whole history
 * (duplicated, shuffled), or, with `live`, while it unfolds
 * ({@link deliverVersionedLive}), the only order in which a permanent delete
 * finds its version cataloged.
 */
export async function replayVersioned(
  target: ReplayTarget,
  random: () => number,
  options: { events: number; permanentDeletes?: boolean; live?: boolean },
): Promise<{ comparison: Comparison; stats: DeliveryStats }> {
  const history = versionedHistory(options.events, target.bucket, random, {
    ...(options.permanentDeletes !== undefined && { permanentDeletes: options.permanentDeletes }),
  });
  // Delivered live, the handler reads a bucket that grows with the deliveries; otherwise the final one.
  const storage = options.live ? new VersionedBucket() : history.storage;
  const handler = quietHandler({
    s3: target.s3,
    dynamodb: target.dynamodb,
    tableName: target.tableName,
    storage,
  });
  let deliveries: ObjectEvent[];
  let stats: DeliveryStats;
  if (options.live) {
    ({ deliveries, stats } = await deliverVersionedLive(handler, storage, history, random));
  } else {
    deliveries = duplicateAndShuffle(history.events, random);
    stats = await deliverDirect(handler, deliveries, 16);
  }
  const comparison = await compareCatalog(
    target.store,
    target.bucket,
    truthOf(history.events, deliveries),
    checkVersionedTruth(versionedTruth(history.events, storage)),
  );
  return { comparison, stats };
}

// ---------------------------------------------------------------------------
// Local dispatcher path

/** What the local stack's dispatcher path came to. */
export interface DispatcherRun {
  events: ObjectEvent[];
  deliveries: ObjectEvent[];
  failedDeliveries: number;
  seconds: number;
}

/**
 * Applies the history to a running local stack's S3 (its events flow
 * through the dispatcher while the history is still being applied), then
 * enqueues 0-2 more copies of every event, shuffled, and waits for the
 * dispatcher to drain.
 */
export async function runThroughDispatcher(
  stack: {
    s3: { on(name: "object", listener: (event: ObjectEvent) => void): unknown };
    s3Client: S3Client;
    bucket: string;
    dispatcher: { enqueue(event: ObjectEvent): void; idle(): Promise<void> };
  },
  operations: readonly Operation[],
  random: () => number,
  failures: { count: number },
): Promise<DispatcherRun> {
  const started = performance.now();
  const events: ObjectEvent[] = [];
  stack.s3.on("object", (event) => events.push(event));
  // The embedded server issues the sequencers and ETags; applyHistory's own events are not delivered.
  await applyHistory(stack.s3Client, stack.bucket, operations, 16, "key");
  await stack.dispatcher.idle();
  const extra: ObjectEvent[] = [];
  for (const event of events) {
    const copies = Math.floor(random() * 3);
    for (let copy = 0; copy < copies; copy++) extra.push(event);
  }
  shuffle(random, extra);
  for (const event of extra) stack.dispatcher.enqueue(event);
  await stack.dispatcher.idle();
  return {
    events,
    deliveries: [...events, ...extra],
    failedDeliveries: failures.count,
    seconds: (performance.now() - started) / 1000,
  };
}
