import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  type DynamoDBClient,
} from "@aws-sdk/client-dynamodb";
import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { normaliseMime } from "../engine/detect/media-type.js";
import type { FormatInfo } from "../engine/types.js";
import { sequencerSortKey } from "../events/sequencer.js";
import { type CopySummary, DuplicateGroups } from "./duplicate-groups.js";
import { InvalidCursorError, InvalidRangeError, StoreError } from "./errors.js";
import { fitItem, MAX_RECORD_BYTES } from "./item-size.js";
import {
  auditSk,
  categoryPk,
  dayOf,
  daysBetween,
  duplicatePk,
  folderPk,
  hashPk,
  objectPk,
  problemPk,
  recordKey,
  splitFolder,
  versionGoneKey,
} from "./keys.js";
import {
  AUDIT_SORT_PREFIX,
  COPY_SORT_PREFIX,
  DEFAULT_AUDIT_LIMIT,
  INDEXES,
  PARTITION_KEY,
  SCHEMA_VERSION,
  SORT_KEY,
  SUMMARY_ATTRIBUTES,
  TTL_ATTRIBUTE,
} from "./schema.js";
import type {
  AuditEntry,
  AuditEntryInput,
  AuditOutcome,
  AuditWrite,
  CatalogRecord,
  DuplicateGroup,
  EventStamp,
  ObjectRecordInput,
  Page,
  PageRequest,
  RecordSummary,
  TimeRange,
  TombstoneInput,
  WriteOutcome,
  WriteResult,
} from "./types.js";

/** Options of a {@link CatalogStore}. */
export interface CatalogStoreOptions {
  /** The catalog table (see `schema.ts`). */
  tableName: string;
  /** Keep tombstones this long, then let DynamoDB's TTL remove them. @default kept forever */
  tombstoneTtlSeconds?: number;
  /** Clock, for tests. @default () => new Date() */
  now?: () => Date;
}

const DEFAULT_PAGE = 100;
/** Keys one BatchGetItem may name (DynamoDB's limit). */
const BATCH_GET_KEYS = 100;
/** Rounds of a BatchGetItem's unprocessed keys (DynamoDB returns some under load) before giving up. */
const BATCH_GET_ROUNDS = 6;
/** Audit entries a retry reads for content the object had before (see `leaveEarlierContent`). */
const RECENT_AUDIT_FOR_REPAIR = 5;
const MAX_PAGE = 1000;
/** Attributes never truncated: keys, identity and ordering. */
const IDENTITY_ATTRIBUTES = new Set([
  PARTITION_KEY,
  SORT_KEY,
  "bucket",
  "key",
  "status",
  "sequencer",
  "seqKey",
  "eventTime",
  "processedAt",
  "schemaVersion",
  "etag",
  "size",
  "sha256",
  "mime",
  "category",
  // A cut key would point at nothing, and a cut ETag would match nothing.
  "thumbnailKey",
  "thumbnailEtag",
  ...Object.values(INDEXES).flatMap((index) => [index.partitionKey, index.sortKey]),
]);
const RECORD_CONDITION = "attribute_not_exists(pk) OR seqKey < :seq";

/** How long a version-gone marker is kept: far longer than one delivery of the creation it may meet. */
const VERSION_GONE_MARKER_SECONDS = 24 * 60 * 60;

/**
 * The catalog in DynamoDB: conditional, idempotent writes of object records,
 * tombstones and audit entries, and the Query-only access patterns of
 * DESIGN.md. Every write is ordered by the S3 sequencer, so duplicated and
 * out-of-order deliveries converge on the latest event's state.
 *
 * @example
 * const store = new CatalogStore(new DynamoDBClient({}), { tableName: "catalog" });
 * const { outcome } = await store.putRecord(input); // "created" | "updated" | "stale" | "duplicate"
 * const { record, audit } = await store.getObject("uploads", "photos/a.jpg");
 */
export class CatalogStore {
  readonly tableName: string;
  private readonly doc: DynamoDBDocumentClient;
  private readonly tombstoneTtlSeconds: number | undefined;
  private readonly now: () => Date;
  private readonly groups: DuplicateGroups;
  private ownWrites = 0;

  /** Writes sent, conditional failures included: what the table bills. */
  get writeCount(): number {
    return this.ownWrites + this.groups.writeCount;
  }

  constructor(
    private readonly client: DynamoDBClient,
    options: CatalogStoreOptions,
  ) {
    this.tableName = options.tableName;
    this.doc = DynamoDBDocumentClient.from(client, {
      // Numbers past 2^53 come from files (a ZIP64 size, a word count): they are JavaScript doubles
      // already, stored as such rather than refused, and read back as the same doubles (the default
      // reads them as BigInt, which JSON output cannot hold).
      // Every map written is plain data; the marshaller tells one from a class instance by its
      // `constructor`, which a map keyed by an uploader's names (x-amz-meta-constructor) overrides.
      marshallOptions: {
        removeUndefinedValues: true,
        convertEmptyValues: false,
        allowImpreciseNumbers: true,
        convertClassInstanceToMap: true,
      },
      unmarshallOptions: { wrapNumbers: (value: string) => Number(value) },
    });
    this.tombstoneTtlSeconds = options.tombstoneTtlSeconds;
    this.now = options.now ?? (() => new Date());
    this.groups = new DuplicateGroups(this.doc, this.tableName);
  }

  /**
   * Writes an object's record unless the stored one comes from the same or a
   * later event (`attribute_not_exists(pk) OR seqKey < :seq`). A write that
   * replaces a tombstone counts as `created`. Keeps the duplicate groups of
   * the old and new content hash in step.
   *
   * The object's copy item under its content is written before the record, so
   * a record never lacks its copy; a write that turns out stale takes its copy
   * back unless the stored record holds the same content. The old content's
   * copy is removed after the put (its hash comes with the replaced record). A
   * delivery that stops between the two leaves it behind, and its retry finds
   * the record already written (`duplicate`) and the old hash gone with the
   * old record: the retry removes the copies of the hashes the object's recent
   * audit entries name instead.
   *
   * @example
   * const { outcome } = await store.putRecord(input);
   * if (outcome === "stale") log("a later event already wrote this object");
   */
  async putRecord(input: ObjectRecordInput): Promise<WriteResult> {
    const seqKey = sequencerSortKey(input.sequencer);
    const item = this.recordItem(input, seqKey);
    const sha256 = typeof item.sha256 === "string" ? item.sha256 : undefined;
    if (sha256) await this.groups.join(sha256, item as CopySummary, seqKey);
    const result = await this.conditionalPut(input, item, seqKey);
    if (result.outcome === "stale") {
      if (sha256 && result.storedSha256 !== sha256) await this.groups.leave(sha256, input, seqKey);
      return { outcome: "stale", ...(result.storedSeqKey && { storedSeqKey: result.storedSeqKey }) };
    }
    if (result.outcome === "duplicate") {
      // A redelivery may follow a crash between the put and the copy bookkeeping: repeat it (idempotent).
      await this.leaveEarlierContent(input, sha256, seqKey);
      return { outcome: "duplicate", storedSeqKey: seqKey, ...(sha256 && { sha256 }) };
    }
    if (result.previous?.sha256 && result.previous.sha256 !== sha256) {
      await this.groups.leave(result.previous.sha256, input, result.previous.seqKey);
    }
    const replacedThumbnail = result.previous?.thumbnail;
    return {
      outcome: result.outcome,
      storedSeqKey: seqKey,
      ...(sha256 && { sha256 }),
      ...(replacedThumbnail && { replacedThumbnail }),
    };
  }

  /**
   * Removes the object's copies under content it no longer has, as its newest
   * audit entries name it: the repair a retry makes when its first delivery
   * replaced the record but stopped before removing the old content's copy.
   * Every step is idempotent; an object has a copy only under its current
   * hash, and only copies from events up to this one (`upTo`) are removed.
   */
  private async leaveEarlierContent(
    target: { bucket: string; key: string; eventTime: string },
    current: string | undefined,
    upTo: string,
  ): Promise<void> {
    const recent = await this.query(
      {
        KeyConditionExpression: "pk = :pk AND begins_with(sk, :audit)",
        ExpressionAttributeValues: {
          ":pk": objectPk(target.bucket, target.key),
          ":audit": AUDIT_SORT_PREFIX,
        },
        ProjectionExpression: "sha256",
        ConsistentRead: true,
        ScanIndexForward: false,
        Limit: RECENT_AUDIT_FOR_REPAIR,
      },
      target,
    );
    const earlier = new Set(
      (recent.Items ?? [])
        .map((entry) => entry.sha256)
        .filter((hash): hash is string => typeof hash === "string" && hash !== current),
    );
    for (const hash of earlier) await this.groups.leave(hash, target, upTo);
  }

  /**
   * Replaces an object's record with a tombstone (status `deleted`), under the
   * same ordering rule as {@link putRecord}, so a late create cannot resurrect it.
   *
   * @example
   * await store.putTombstone({ bucket: "b", key: "a.jpg", sequencer: "0B", eventTime });
   */
  async putTombstone(input: TombstoneInput): Promise<WriteResult> {
    const seqKey = sequencerSortKey(input.sequencer);
    const item: Record<string, unknown> = {
      ...recordKey(input.bucket, input.key),
      bucket: input.bucket,
      key: input.key,
      status: "deleted",
      versionId: input.versionId,
      sequencer: input.sequencer,
      seqKey,
      eventTime: input.eventTime,
      processedAt: this.now().toISOString(),
      schemaVersion: SCHEMA_VERSION,
    };
    if (this.tombstoneTtlSeconds !== undefined) {
      item[TTL_ATTRIBUTE] = Math.floor(this.now().getTime() / 1000) + this.tombstoneTtlSeconds;
    }
    if (input.onlyVersion !== undefined) return this.tombstoneVersion(input, item);
    const result = await this.conditionalPut(input, item, seqKey);
    if (result.outcome === "stale") {
      return { outcome: "stale", ...(result.storedSeqKey && { storedSeqKey: result.storedSeqKey }) };
    }
    if (result.outcome === "duplicate") {
      // As in putRecord: the first delivery may have stopped before removing the copy.
      await this.leaveEarlierContent(input, undefined, seqKey);
      return { outcome: "duplicate", storedSeqKey: seqKey };
    }
    if (result.previous?.sha256)
      await this.groups.leave(result.previous.sha256, input, result.previous.seqKey);
    const replacedThumbnail = result.previous?.thumbnail;
    return { outcome: "created", storedSeqKey: seqKey, ...(replacedThumbnail && { replacedThumbnail }) };
  }

  /**
   * Adds one event's entry to an object's history. Idempotent: a redelivered
   * event (same time, same sequencer) adds no second entry but counts
   * `deliveries` and keeps the latest outcome in `lastOutcome`. A
   * `duplicate` delivery of an event that has no entry yet (the delivery
   * that wrote its record stopped before its entry) writes the entry with
   * what that delivery did, read back from the record, and 2 deliveries.
   *
   * @example
   * await store.putAudit({ bucket, key, eventName: "ObjectCreated:Put", eventTime, sequencer,
   *   outcome: "created", durationMs: 12, bytesRead: 65536 });
   */
  async putAudit(input: AuditEntryInput): Promise<AuditWrite> {
    const seqKey = sequencerSortKey(input.sequencer);
    const key = { pk: objectPk(input.bucket, input.key), sk: auditSk(input.eventTime, seqKey) };
    const processedAt = this.now().toISOString();
    // A repeated delivery whose event has its entry is counted there, with nothing read first.
    if (input.outcome === "duplicate" && (await this.countRedelivery(key, input, processedAt)))
      return "redelivered";
    // One without an entry follows a delivery that stopped between its record write and its audit write
    // (a crash, a timeout): the entry says what that delivery did, which its record shows.
    const applied = input.outcome === "duplicate" ? await this.appliedOutcome(input, seqKey) : undefined;
    const entry = fitItem(
      {
        ...key,
        ...input,
        seqKey,
        processedAt,
        deliveries: 1,
        ...(applied && {
          outcome: applied,
          deliveries: 2,
          lastOutcome: "duplicate",
          lastDeliveredAt: processedAt,
        }),
      },
      MAX_RECORD_BYTES,
      IDENTITY_ATTRIBUTES,
    ).item;
    try {
      this.ownWrites += 1;
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: entry,
          ConditionExpression: "attribute_not_exists(pk)",
        }),
      );
      return "recorded";
    } catch (error) {
      if (!isConditionalFailure(error)) throw new StoreError("audit write", input, { cause: error });
    }
    await this.countRedelivery(key, input, processedAt, { mustExist: false });
    return "redelivered";
  }

  /** Adds a delivery to an event's entry; false when `mustExist` and there is no entry to add it to. */
  private async countRedelivery(
    key: { pk: string; sk: string },
    input: AuditEntryInput,
    processedAt: string,
    { mustExist = true } = {},
  ): Promise<boolean> {
    try {
      this.ownWrites += 1;
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: "ADD deliveries :one SET lastOutcome = :outcome, lastDeliveredAt = :now",
          ...(mustExist && { ConditionExpression: "attribute_exists(pk)" }),
          ExpressionAttributeValues: { ":one": 1, ":outcome": input.outcome, ":now": processedAt },
        }),
      );
      return true;
    } catch (error) {
      if (mustExist && isConditionalFailure(error)) return false;
      throw new StoreError("audit redelivery count", input, { cause: error });
    }
  }

  /**
   * What the delivery of `input`'s event that wrote its record did, read
   * from that record: deleted, restored (a permanent version delete made an
   * older version current), rejected or error, else created or updated by
   * the object's previous entry (none, or a delete, before a creation:
   * created). Undefined when the record is no longer that event's.
   */
  private async appliedOutcome(input: AuditEntryInput, seqKey: string): Promise<AuditOutcome | undefined> {
    const record = await this.getRecord(input.bucket, input.key);
    if (!record || sequencerSortKey(record.sequencer) !== seqKey) return undefined;
    if (record.status === "deleted") return "deleted";
    if (input.eventName.startsWith("ObjectRemoved:")) return "restored";
    if (record.status === "rejected" || record.status === "error") return record.status;
    const { Items } = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: "pk = :pk AND sk BETWEEN :first AND :this",
        ExpressionAttributeValues: {
          ":pk": objectPk(input.bucket, input.key),
          ":first": AUDIT_SORT_PREFIX,
          ":this": auditSk(input.eventTime, seqKey),
        },
        ProjectionExpression: "outcome",
        ScanIndexForward: false,
        Limit: 1,
        ConsistentRead: true,
      }),
    );
    const previous = Items?.[0]?.outcome;
    return previous === undefined || previous === "deleted" ? "created" : "updated";
  }

  /**
   * An object's record (tombstones included), strongly consistent.
   *
   * @example
   * const record = await store.getRecord("uploads", "a.jpg");
   * if (record?.etag === object.ETag) skip();
   */
  async getRecord(bucket: string, key: string): Promise<CatalogRecord | undefined> {
    try {
      const output = await this.doc.send(
        new GetCommand({ TableName: this.tableName, Key: recordKey(bucket, key), ConsistentRead: true }),
      );
      return output.Item ? recordFromItem(output.Item) : undefined;
    } catch (error) {
      throw new StoreError("record read", { bucket, key }, { cause: error });
    }
  }

  /**
   * An object's record (tombstones included) and its newest audit entries,
   * oldest of them first, read strongly consistent. A key rewritten every
   * minute gathers half a million entries a year: the history is bounded
   * (`auditLimit`, default {@link DEFAULT_AUDIT_LIMIT}), and `olderAudit` says
   * that older entries exist. Pass `Infinity` for the whole history.
   *
   * @example
   * const { record, audit, olderAudit } = await store.getObject("uploads", "a.jpg");
   */
  async getObject(
    bucket: string,
    key: string,
    options: { auditLimit?: number } = {},
  ): Promise<{ record?: CatalogRecord; audit: AuditEntry[]; olderAudit?: true }> {
    const auditLimit = options.auditLimit ?? DEFAULT_AUDIT_LIMIT;
    const [record, newest] = await Promise.all([
      this.getRecord(bucket, key),
      this.newestAudit(bucket, key, auditLimit),
    ]);
    return {
      ...(record && { record }),
      audit: newest.entries.reverse(),
      ...(newest.older && { olderAudit: true as const }),
    };
  }

  /** Up to `limit` audit entries of one object, newest first, and whether older ones exist. */
  private async newestAudit(
    bucket: string,
    key: string,
    limit: number,
  ): Promise<{ entries: AuditEntry[]; older: boolean }> {
    const entries: AuditEntry[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.query(
        {
          KeyConditionExpression: "pk = :pk AND begins_with(sk, :audit)",
          ExpressionAttributeValues: { ":pk": objectPk(bucket, key), ":audit": AUDIT_SORT_PREFIX },
          ConsistentRead: true,
          ScanIndexForward: false,
          // One more than asked: it tells whether older entries exist.
          ...(Number.isFinite(limit) && { Limit: Math.min(MAX_PAGE, limit - entries.length + 1) }),
          ...(start && { ExclusiveStartKey: start }),
        },
        { bucket, key },
      );
      for (const item of page.Items ?? []) {
        if (entries.length === limit) return { entries, older: true };
        entries.push(stripKeys(item) as unknown as AuditEntry);
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return { entries, older: false };
  }

  /**
   * `items` with `mismatch` and `mismatchReason` added from their records
   * where the content contradicts the declared type. The listing indexes do
   * not hold the format, and an index's projection cannot change without
   * rebuilding it: this reads the records, one BatchGetItem per 100 items,
   * asking only for those two fields (DynamoDB bills each record whole all the same).
   *
   * @example
   * const page = await store.listFolder("uploads", "docs/");
   * for (const item of await store.withTypeMismatches(page.items)) if (item.mismatch) warn(item.key);
   */
  async withTypeMismatches(items: RecordSummary[]): Promise<RecordSummary[]> {
    const keys = new Map(
      items.map((item) => [objectPk(item.bucket, item.key), recordKey(item.bucket, item.key)]),
    );
    const batches = groupsOf([...keys.values()], BATCH_GET_KEYS);
    const mismatches = new Map<string, string | undefined>();
    await Promise.all(
      batches.map(async (batch) => {
        for (const item of await this.batchGet(batch)) {
          const format = item.format as Pick<FormatInfo, "mismatch" | "mismatchReason"> | undefined;
          if (format?.mismatch === true) mismatches.set(item[PARTITION_KEY] as string, format.mismatchReason);
        }
      }),
    );
    return items.map((item) => {
      const id = objectPk(item.bucket, item.key);
      if (!mismatches.has(id)) return item;
      const reason = mismatches.get(id);
      return { ...item, mismatch: true as const, ...(reason !== undefined && { mismatchReason: reason }) };
    });
  }

  /**
   * `groups` with each of their objects' type mismatch marked, as
   * {@link withTypeMismatches} marks a listing: the objects of every group
   * are read together, so a page of duplicate groups costs one BatchGetItem
   * per 100 objects rather than one per group.
   *
   * @example
   * const groups = await store.withGroupTypeMismatches([{ sha256, objects: copies.items }]);
   */
  async withGroupTypeMismatches<G extends { objects: RecordSummary[] }>(groups: G[]): Promise<G[]> {
    const marked = await this.withTypeMismatches(groups.flatMap((group) => group.objects));
    let next = 0;
    return groups.map((group) => {
      const objects = marked.slice(next, next + group.objects.length);
      next += group.objects.length;
      return { ...group, objects };
    });
  }

  /**
   * Records by table key, only their partition key and their format's
   * mismatch fields. The SDK hands back unprocessed keys (DynamoDB leaves
   * some under load) instead of retrying them: they are asked again here,
   * after a growing pause, as DynamoDB's documentation advises.
   */
  private async batchGet(tableKeys: Record<string, unknown>[]): Promise<Record<string, unknown>[]> {
    const found: Record<string, unknown>[] = [];
    let keys = tableKeys;
    for (let round = 0; keys.length > 0; round++) {
      if (round === BATCH_GET_ROUNDS) {
        throw new StoreError("record read", {}, { cause: new Error(`${keys.length} record(s) left unread`) });
      }
      if (round > 0) await new Promise((done) => setTimeout(done, 50 * 2 ** round));
      let output: BatchGetCommandOutput;
      try {
        output = await this.doc.send(
          new BatchGetCommand({
            RequestItems: {
              [this.tableName]: {
                Keys: keys,
                ProjectionExpression: "#pk, #format.#mismatch, #format.#reason",
                ExpressionAttributeNames: {
                  "#pk": PARTITION_KEY,
                  "#format": "format",
                  "#mismatch": "mismatch",
                  "#reason": "mismatchReason",
                },
              },
            },
          }),
        );
      } catch (error) {
        throw new StoreError("record read", {}, { cause: error });
      }
      found.push(...(output.Responses?.[this.tableName] ?? []));
      keys = output.UnprocessedKeys?.[this.tableName]?.Keys ?? [];
    }
    return found;
  }

  /**
   * Objects directly in one folder (`prefix` up to and including its last
   * `/`; `""` for the root), by name, paged. Deleted objects are not listed.
   * With `filter.startsWith`, only those whose name in the folder starts with
   * it (case-sensitive, as keys are; `""` is no filter): the index sorts by
   * that name, so this is a range of the folder's partition in the Query's
   * key condition, and a page reads no object it does not list. A cursor is
   * good only with the filter it was issued for.
   *
   * @example
   * let page = await store.listFolder("uploads", "photos/2024/", { limit: 50 });
   * while (page.cursor) page = await store.listFolder("uploads", "photos/2024/", { cursor: page.cursor });
   * const invoices = await store.listFolder("uploads", "docs/", {}, { startsWith: "invoice-" });
   */
  async listFolder(
    bucket: string,
    folder: string,
    page: PageRequest = {},
    filter: { startsWith?: string } = {},
  ): Promise<Page<RecordSummary>> {
    const index = INDEXES.byFolder;
    // DynamoDB refuses an empty string as an expression's value: no start is no range.
    const start = filter.startsWith || undefined;
    // DynamoDB refuses a start key outside the range as an invalid query: say it of the cursor instead.
    const from = page.cursor === undefined ? undefined : decodeCursor(page.cursor).k?.[index.sortKey];
    if (start !== undefined && from !== undefined && !(typeof from === "string" && from.startsWith(start)))
      throw new InvalidCursorError();
    return this.queryPage(
      {
        IndexName: index.name,
        KeyConditionExpression: `${index.partitionKey} = :pk${start === undefined ? "" : ` AND begins_with(${index.sortKey}, :start)`}`,
        ExpressionAttributeValues: {
          ":pk": folderPk(bucket, folder),
          ...(start !== undefined && { ":start": start }),
        },
      },
      page,
      { bucket },
    );
  }

  /**
   * Objects of one category uploaded within a time range, oldest first
   * (newest first with `page.newestFirst`): one Query per day partition,
   * merged in day order, paged across days.
   *
   * @example
   * const page = await store.listByCategory("uploads", "image",
   *   { from: "2024-05-01T00:00:00Z", to: "2024-05-07T23:59:59Z" });
   */
  async listByCategory(
    bucket: string,
    category: string,
    range: TimeRange,
    page: PageRequest = {},
  ): Promise<Page<RecordSummary>> {
    const from =
      page.after && !page.cursor ? { ...page, cursor: cursorAfter(bucket, category, range, page) } : page;
    return this.queryDays(INDEXES.byCategory, (day) => categoryPk(bucket, category, day), range, from, {
      bucket,
    });
  }

  /**
   * Objects with an error or rejected status recorded within a time range, oldest first
   * (newest first with `page.newestFirst`).
   *
   * @example
   * const { items } = await store.listProblems("uploads", { from, to });
   */
  async listProblems(bucket: string, range: TimeRange, page: PageRequest = {}): Promise<Page<RecordSummary>> {
    return this.queryDays(INDEXES.byProblem, (day) => problemPk(bucket, day), range, page, { bucket });
  }

  /**
   * Objects whose content has this SHA-256, by bucket and key, in every
   * bucket or, with `scope.bucket`, in that one only: the content's copy
   * items, then the `byHash` index rows of records written before copy items
   * existed (see `schema.ts`, "Duplicates"). A record written again has a
   * copy item and no index row, so none is listed twice. Both sort by bucket
   * first (a bucket name holds no `#`), so one bucket's copies are a range of
   * each: no copy of another bucket is read for them.
   *
   * @example
   * const { items } = await store.listByHash("9f86d08...");
   * const here = await store.listByHash("9f86d08...", { limit: 1 }, { bucket: "uploads" });
   */
  async listByHash(
    sha256: string,
    page: PageRequest = {},
    scope: { bucket?: string } = {},
  ): Promise<Page<RecordSummary>> {
    const pk = hashPk(sha256.toLowerCase());
    const inBucket = scope.bucket === undefined ? "" : `${scope.bucket}#`;
    return this.queryInSequence(
      [
        {
          KeyConditionExpression: "pk = :pk AND begins_with(sk, :copy)",
          ExpressionAttributeValues: { ":pk": pk, ":copy": `${COPY_SORT_PREFIX}${inBucket}` },
        },
        {
          IndexName: INDEXES.byHash.name,
          KeyConditionExpression: `${INDEXES.byHash.partitionKey} = :pk${inBucket && ` AND begins_with(${INDEXES.byHash.sortKey}, :bucket)`}`,
          ExpressionAttributeValues: { ":pk": pk, ...(inBucket && { ":bucket": inBucket }) },
        },
      ],
      page,
      scope.bucket === undefined ? {} : { bucket: scope.bucket },
    );
  }

  /**
   * Content hashes held by two or more objects, by the day the second copy
   * arrived, oldest first (newest first with `page.newestFirst`; see
   * `schema.ts`, "Duplicates"); list each group's objects with
   * {@link listByHash}. Groups span buckets: with `scope.bucket`, only those
   * with a copy in that bucket are kept, which costs one Query of at most
   * one item per group listed (groups are kept per content, not per bucket,
   * so no index lists one bucket's groups). A page can then hold fewer than
   * `limit` groups, or none, and still have a cursor.
   *
   * @example
   * for (const group of (await store.listDuplicateGroups({ from, to }, {}, { bucket: "uploads" })).items) {
   *   const copies = await store.listByHash(group.sha256);
   * }
   */
  async listDuplicateGroups(
    range: TimeRange,
    page: PageRequest = {},
    scope: { bucket?: string } = {},
  ): Promise<Page<DuplicateGroup>> {
    const result = await this.queryDays(INDEXES.byCategory, duplicatePk, range, page, {});
    const groups: DuplicateGroup[] = result.items.map((item) => {
      const raw = item as unknown as { sha256: string; size?: number; eventTime: string };
      return {
        sha256: raw.sha256,
        ...(raw.size !== undefined && { size: raw.size }),
        since: raw.eventTime,
      };
    });
    const { bucket } = scope;
    const items =
      bucket === undefined
        ? groups
        : await keepWhere(groups, async (group) => {
            const here = await this.listByHash(group.sha256, { limit: 1 }, { bucket });
            return here.items.length > 0;
          });
    return { items, ...(result.cursor && { cursor: result.cursor }) };
  }

  /**
   * Creates the table with its four indexes, on demand (for the local stack and tests).
   *
   * @example
   * await new CatalogStore(client, { tableName: "catalog" }).createTable();
   */
  async createTable(): Promise<void> {
    await this.client.send(new CreateTableCommand(tableDefinition(this.tableName)));
    await this.waitUntilActive();
  }

  /**
   * A new table answers ResourceNotFoundException until it is ACTIVE (seconds
   * on DynamoDB; a timer tick on dynalite, which on another thread can lose
   * the race with the next request), so creation waits for it.
   */
  private async waitUntilActive(timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (let delay = 25; ; delay = Math.min(delay * 2, 2_000)) {
      const { Table } = await this.client.send(new DescribeTableCommand({ TableName: this.tableName }));
      if (Table?.TableStatus === "ACTIVE") return;
      if (Date.now() > deadline)
        throw new Error(`table ${this.tableName} is not ACTIVE after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }

  /**
   * Creates the table unless it exists (any status); safe to call at every start.
   *
   * @example
   * await store.ensureTable();
   */
  async ensureTable(): Promise<void> {
    try {
      await this.client.send(new DescribeTableCommand({ TableName: this.tableName }));
      await this.waitUntilActive();
      return;
    } catch (error) {
      if (errorName(error) !== "ResourceNotFoundException") throw error;
    }
    try {
      await this.createTable();
    } catch (error) {
      // Another process created it between the two calls.
      if (errorName(error) !== "ResourceInUseException") throw error;
      await this.waitUntilActive();
    }
  }

  private recordItem(input: ObjectRecordInput, seqKey: string): Record<string, unknown> {
    const extraction = input.extraction;
    const { folder, name } = splitFolder(input.key);
    const category = extraction?.format.category ?? "other";
    const day = dayOf(input.eventTime);
    const sha256 = (input.sha256 ?? extraction?.sha256)?.toLowerCase();
    const warnings = [...(extraction?.warnings ?? []), ...(input.transformWarnings ?? [])];
    const sections: Record<string, unknown> = {};
    if (extraction) {
      for (const section of [
        "image",
        "media",
        "pdf",
        "document",
        "archive",
        "text",
        "font",
        "executable",
        "package",
      ]) {
        const value = (extraction as unknown as Record<string, unknown>)[section];
        if (value !== undefined) sections[section] = value;
      }
    }
    const item: Record<string, unknown> = {
      ...recordKey(input.bucket, input.key),
      bucket: input.bucket,
      key: input.key,
      versionId: input.versionId,
      size: input.size,
      etag: input.etag,
      contentType: input.contentType,
      userMetadata: nonEmptyMap(input.userMetadata),
      storageClass: input.storageClass,
      checksum: nonEmptyMap(input.checksum),
      lastModified: input.lastModified,
      status: input.status,
      reason: input.reasons.length > 0 ? input.reasons.join("; ") : undefined,
      ...(input.reasons.length > 0 && { reasons: input.reasons }),
      ...(warnings.length > 0 && { warnings }),
      mime: extraction?.format.mime,
      category,
      format: extraction && storedFormat(extraction.format, input.contentType),
      sha256,
      ...sections,
      sequencer: input.sequencer,
      seqKey,
      eventTime: input.eventTime,
      processedAt: this.now().toISOString(),
      schemaVersion: SCHEMA_VERSION,
      extractorVersion: input.extractorVersion,
      bytesRead: input.bytesRead,
      readRequests: input.readRequests,
      durationMs: input.durationMs,
      extractionMs: extraction?.durationMs,
      thumbnailKey: input.thumbnail?.key,
      thumbnailEtag: input.thumbnail?.eTag,
      thumbnailSize: input.thumbnail?.size,
      thumbnailWidth: input.thumbnail?.width,
      thumbnailHeight: input.thumbnail?.height,
      thumbHash: input.thumbnail?.placeholder,
      taggedRejected: input.status === "rejected" ? input.taggedRejected : undefined,
      [INDEXES.byFolder.partitionKey]: folderPk(input.bucket, folder),
      [INDEXES.byFolder.sortKey]: name,
      [INDEXES.byCategory.partitionKey]: categoryPk(input.bucket, category, day),
      [INDEXES.byCategory.sortKey]: input.eventTime,
    };
    if (input.status === "error" || input.status === "rejected") {
      item[INDEXES.byProblem.partitionKey] = problemPk(input.bucket, day);
      item[INDEXES.byProblem.sortKey] = input.eventTime;
    }
    const fitted = fitItem(dropEmpty(item), MAX_RECORD_BYTES, IDENTITY_ATTRIBUTES);
    if (fitted.truncated) fitted.item.truncated = true;
    return fitted.item;
  }

  /**
   * A permanent delete of one version (versioned bucket). It removes that
   * version only, so it must not outrank the object's other versions: the
   * tombstone keeps the sequencer of the record it replaces, and nothing is
   * written when the record describes another version or does not exist
   * (a late create of the deleted version cannot resurrect it: its read is
   * pinned to the version, which no longer exists, so it ends superseded).
   * Otherwise put v1, put v2, delete v1 delivered as delete-then-put-v2 would
   * leave v2, the current version, hidden behind the tombstone.
   *
   * A stored tombstone of exactly this version is this delete's own, already
   * written: `duplicate`, so a retry after a crash between the tombstone and
   * what follows it (cataloging the version that became current) finishes that step.
   */
  private async tombstoneVersion(input: TombstoneInput, item: Record<string, unknown>): Promise<WriteResult> {
    const target = { bucket: input.bucket, key: input.key };
    // First the marker, then the record read: a creation of this version writes its record, then
    // looks for the marker. Whichever comes second sees the other's write (see `deletedVersion`).
    await this.markVersionGone(input, input.onlyVersion as string);
    // The stored item as it is, ordering attributes (`seqKey`) included.
    const stored = (await this.getRecord(input.bucket, input.key)) as Record<string, unknown> | undefined;
    const storedSeqKey = typeof stored?.seqKey === "string" ? stored.seqKey : undefined;
    if (stored?.status === "deleted" && stored.versionId === input.onlyVersion && storedSeqKey) {
      await this.leaveEarlierContent(input, undefined, storedSeqKey);
      return { outcome: "duplicate", storedSeqKey };
    }
    if (!stored || stored.status === "deleted" || stored.versionId !== input.onlyVersion || !storedSeqKey) {
      return { outcome: "stale", ...(storedSeqKey && { storedSeqKey }) };
    }
    try {
      this.ownWrites += 1;
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...item, seqKey: storedSeqKey, sequencer: stored.sequencer },
          // Optimistic: the record must still be the one read above.
          ConditionExpression: "seqKey = :seq AND versionId = :version",
          ExpressionAttributeValues: { ":seq": storedSeqKey, ":version": input.onlyVersion },
        }),
      );
    } catch (error) {
      if (!isConditionalFailure(error)) throw new StoreError("record write", target, { cause: error });
      return { outcome: "stale", storedSeqKey: (await this.storedOrdering(target)).seqKey ?? storedSeqKey };
    }
    // The tombstone keeps the replaced record's sequencer: copies up to it are that record's.
    if (typeof stored.sha256 === "string") await this.groups.leave(stored.sha256, input, storedSeqKey);
    const replacedThumbnail = thumbnailOf(stored);
    return { outcome: "created", storedSeqKey, ...(replacedThumbnail && { replacedThumbnail }) };
  }

  private async markVersionGone(input: TombstoneInput, versionId: string): Promise<void> {
    try {
      this.ownWrites += 1;
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...versionGoneKey(input.bucket, input.key, versionId),
            versionId,
            sequencer: input.sequencer,
            eventTime: input.eventTime,
            [TTL_ATTRIBUTE]: Math.floor(this.now().getTime() / 1000) + VERSION_GONE_MARKER_SECONDS,
          },
        }),
      );
    } catch (error) {
      throw new StoreError("version-gone marker write", input, { cause: error });
    }
  }

  /**
   * The permanent delete of one version (its sequencer and time), when one has
   * been processed: read with a strongly consistent read after a creation wrote
   * that version's record. A creation whose pinned read came before the delete
   * and whose write came after it would otherwise leave a live record of a
   * version that no longer exists, because a version delete never outranks a
   * record by sequencer. The delete writes its marker before reading the record,
   * and the creation reads the marker after writing the record, so at least one
   * of the two sees the other.
   *
   * @example
   * const gone = await store.deletedVersion("uploads", "a.jpg", "3HL4kqtJlcpXroDTDmJ");
   * if (gone) await store.putTombstone({ bucket, key, ...gone, versionId, onlyVersion: versionId });
   */
  async deletedVersion(bucket: string, key: string, versionId: string): Promise<EventStamp | undefined> {
    try {
      const output = await this.doc.send(
        new GetCommand({
          TableName: this.tableName,
          Key: versionGoneKey(bucket, key, versionId),
          ProjectionExpression: "sequencer, eventTime",
          ConsistentRead: true,
        }),
      );
      const item = output.Item;
      return typeof item?.sequencer === "string" && typeof item.eventTime === "string"
        ? { sequencer: item.sequencer, eventTime: item.eventTime }
        : undefined;
    } catch (error) {
      throw new StoreError("version-gone marker read", { bucket, key }, { cause: error });
    }
  }

  /**
   * The ordered put shared by records and tombstones. On a lost condition the
   * stored item (returned by DynamoDB with the failure) tells a redelivery
   * (same sequencer) from a late event.
   */
  private async conditionalPut(
    target: { bucket: string; key: string },
    item: Record<string, unknown>,
    seqKey: string,
  ): Promise<{
    outcome: WriteOutcome;
    /** The record replaced, when there was one: its content, its event and its thumbnail. */
    previous?: { sha256?: string; seqKey: string; thumbnail?: { key: string; eTag?: string } };
    /** On a lost condition: the stored record's event and content. */
    storedSeqKey?: string;
    storedSha256?: string;
  }> {
    const values: Record<string, unknown> = { ":seq": seqKey };
    let failure: unknown;
    const condition = RECORD_CONDITION;
    try {
      this.ownWrites += 1;
      const output = await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: condition,
          ExpressionAttributeValues: values,
          ReturnValues: "ALL_OLD",
          ReturnValuesOnConditionCheckFailure: "ALL_OLD",
        }),
      );
      const previous = output.Attributes;
      const replacedLive = previous !== undefined && previous.status !== "deleted";
      const thumbnail = previous && thumbnailOf(previous);
      return {
        outcome: replacedLive ? "updated" : "created",
        ...(previous !== undefined && {
          previous: {
            // A record from before `seqKey` existed orders below every event.
            seqKey: typeof previous.seqKey === "string" ? previous.seqKey : "",
            ...(typeof previous.sha256 === "string" && { sha256: previous.sha256 }),
            ...(thumbnail && { thumbnail }),
          },
        }),
      };
    } catch (error) {
      if (!isConditionalFailure(error)) throw new StoreError("record write", target, { cause: error });
      failure = error;
    }
    // The document client does not unmarshall the item carried by the failure: it is a raw AttributeValue map.
    const carried = (failure as { Item?: Record<string, { S?: string }> }).Item;
    const stored = carried
      ? { seqKey: carried.seqKey?.S, sha256: carried.sha256?.S }
      : await this.storedOrdering(target);
    return {
      outcome: stored.seqKey === seqKey ? "duplicate" : "stale",
      ...(stored.seqKey !== undefined && { storedSeqKey: stored.seqKey }),
      ...(stored.sha256 !== undefined && { storedSha256: stored.sha256 }),
    };
  }

  /** The stored record's event and content, read strongly consistent. */
  private async storedOrdering(target: {
    bucket: string;
    key: string;
  }): Promise<{ seqKey?: string; sha256?: string }> {
    try {
      const output = await this.doc.send(
        new GetCommand({
          TableName: this.tableName,
          Key: recordKey(target.bucket, target.key),
          ProjectionExpression: "seqKey, sha256",
          ConsistentRead: true,
        }),
      );
      const { seqKey, sha256 } = output.Item ?? {};
      return {
        ...(typeof seqKey === "string" && { seqKey }),
        ...(typeof sha256 === "string" && { sha256 }),
      };
    } catch (error) {
      throw new StoreError("record read", target, { cause: error });
    }
  }

  private async query(
    input: Omit<QueryCommandInput, "TableName">,
    target: { bucket?: string; key?: string },
  ): Promise<{ Items?: Record<string, unknown>[]; LastEvaluatedKey?: Record<string, unknown> }> {
    try {
      return await this.doc.send(new QueryCommand({ TableName: this.tableName, ...input }));
    } catch (error) {
      throw new StoreError("query", target, { cause: error });
    }
  }

  private async queryPage(
    input: Omit<QueryCommandInput, "TableName">,
    page: PageRequest,
    target: { bucket?: string },
  ): Promise<Page<RecordSummary>> {
    const start = page.cursor ? decodeCursor(page.cursor).k : undefined;
    const output = await this.query(
      { ...input, Limit: pageLimit(page), ...(start && { ExclusiveStartKey: start }) },
      target,
    );
    return {
      items: (output.Items ?? []).map(toSummary),
      ...(output.LastEvaluatedKey && { cursor: encodeCursor({ k: output.LastEvaluatedKey }) }),
    };
  }

  /** Walks day partitions in order, continuing within a day from the cursor's key. */
  private async queryDays(
    index: { name: string; partitionKey: string; sortKey: string },
    partitionOf: (day: string) => string,
    range: TimeRange,
    page: PageRequest,
    target: { bucket?: string },
  ): Promise<Page<RecordSummary>> {
    const days = dayPartitions(range);
    if (page.newestFirst) days.reverse();
    const queries = days.map((day) => ({
      IndexName: index.name,
      ...(page.newestFirst && { ScanIndexForward: false }),
      KeyConditionExpression: `${index.partitionKey} = :pk AND ${index.sortKey} BETWEEN :from AND :to`,
      ExpressionAttributeValues: {
        ":pk": partitionOf(day),
        ":from": range.from,
        // Sort keys are `<time>` (`<time>#<key>` in records written before): every key of the last
        // instant sorts below `<to>#\uffff`.
        ":to": `${range.to}#\uffff`,
      },
    }));
    return this.queryInSequence(queries, page, target);
  }

  /**
   * One page of summaries over queries listed in order (a listing's days, or
   * a content's copy items then its index rows): the cursor names the query
   * to continue (`d`) and the key to continue it from (`k`).
   *
   * The queries are read a window at a time, concurrently, and consumed in
   * order. Each query of a window asks for what the page still needs; the
   * first to fill it ends the page, and those after it are read for nothing
   * (a Query costs at least 0.5 read unit on AWS) and read again by the next
   * page. So the window follows what the page has found (see
   * {@link nextWindow}): it starts at one query, a page its first query
   * fills sends one, and it doubles up to {@link READ_AHEAD} only while the
   * queries answered so far hold too few items to fill the page. A sparse
   * listing (the Duplicates view's 90 days, mostly empty) sends its Queries
   * eight at a time, as before, instead of one after the other; a dense one
   * sends about as many as it takes to fill the page. Probing the window with
   * `Select: COUNT` first would save none of that: DynamoDB bills a count for
   * the items it reads, as if it returned them, and the items would then
   * cost a second round trip.
   */
  private async queryInSequence(
    queries: readonly Omit<QueryCommandInput, "TableName">[],
    page: PageRequest,
    target: { bucket?: string },
  ): Promise<Page<RecordSummary>> {
    const limit = pageLimit(page);
    const cursor = page.cursor ? decodeCursor(page.cursor) : { d: 0 };
    const items: RecordSummary[] = [];
    let at = cursor.d ?? 0;
    let start = cursor.k;
    // What the queries answered so far held: the next window is sized from it.
    const seen = { queries: 0, items: 0 };
    for (
      let width = 1;
      at < queries.length && items.length < limit;
      width = nextWindow(width, seen, limit - items.length)
    ) {
      const need = limit - items.length;
      const answers = await Promise.all(
        queries
          .slice(at, at + width)
          .map((query, offset) =>
            this.query(
              { ...query, Limit: need, ...(offset === 0 && start && { ExclusiveStartKey: start }) },
              target,
            ),
          ),
      );
      for (const answer of answers) {
        const found = answer.Items ?? [];
        seen.queries += 1;
        seen.items += found.length;
        const room = limit - items.length;
        items.push(...found.slice(0, room).map(toSummary));
        if (found.length > room) {
          // Read with the room the page had when the window was sent: continue after the last item taken.
          start = startKeyOf(found[room - 1] ?? {}, queries[at]?.IndexName);
          break;
        }
        start = answer.LastEvaluatedKey;
        // The query goes on (the page is full, or its answer stopped at 1 MB): the next round continues it.
        if (start) break;
        at += 1;
        if (items.length === limit) break;
      }
    }
    const more = at < queries.length;
    return { items, ...(more && { cursor: encodeCursor({ d: at, ...(start && { k: start }) }) }) };
  }
}

/**
 * The CreateTable request for the catalog table, from `schema.ts`: on-demand
 * billing, string keys, four sparse indexes projecting the summary attributes.
 *
 * @example
 * await client.send(new CreateTableCommand(tableDefinition("catalog")));
 */
export function tableDefinition(tableName: string): CreateTableCommandInput {
  const indexes = Object.values(INDEXES);
  const keyNames = [
    PARTITION_KEY,
    SORT_KEY,
    ...indexes.flatMap((index) => [index.partitionKey, index.sortKey]),
  ];
  return {
    TableName: tableName,
    BillingMode: "PAY_PER_REQUEST",
    AttributeDefinitions: keyNames.map((name) => ({ AttributeName: name, AttributeType: "S" })),
    KeySchema: [
      { AttributeName: PARTITION_KEY, KeyType: "HASH" },
      { AttributeName: SORT_KEY, KeyType: "RANGE" },
    ],
    GlobalSecondaryIndexes: indexes.map((index) => ({
      IndexName: index.name,
      KeySchema: [
        { AttributeName: index.partitionKey, KeyType: "HASH" },
        { AttributeName: index.sortKey, KeyType: "RANGE" },
      ],
      Projection: { ProjectionType: "INCLUDE", NonKeyAttributes: [...index.projection] },
    })),
  };
}

/** Longest range a day-partitioned listing walks: one Query per day, so a bound keeps a call bounded. */
export const MAX_RANGE_DAYS = 366;

/** Most queries of one listing in flight at once (see `queryInSequence`). */
const READ_AHEAD = 8;

/**
 * How many queries the next window of a listing sends, from the last
 * window's `width`, what the queries answered so far held and the items the
 * page still `needs`: as many as those queries' items per query say it
 * takes to fill the page, never more than twice the last window, nor more
 * than {@link READ_AHEAD}. While nothing has been found the window doubles,
 * so an empty stretch is crossed in as few rounds as before; once items
 * turn up, a window past the query expected to fill the page would only be
 * read again by the next page.
 */
function nextWindow(width: number, seen: { queries: number; items: number }, needs: number): number {
  const widened = Math.min(width * 2, READ_AHEAD);
  if (seen.items === 0) return widened;
  return Math.max(1, Math.min(widened, Math.ceil((needs * seen.queries) / seen.items)));
}

/**
 * The start key that continues a Query after `item`: what DynamoDB would
 * have answered as `LastEvaluatedKey` had the Query stopped there, the
 * table's key and, on an index, the index's key (a Query of an index always
 * returns both, whatever its projection).
 */
function startKeyOf(item: Record<string, unknown>, indexName: string | undefined): Record<string, unknown> {
  const index = Object.values(INDEXES).find((candidate) => candidate.name === indexName);
  const names = [PARTITION_KEY, SORT_KEY, ...(index ? [index.partitionKey, index.sortKey] : [])];
  return Object.fromEntries(names.map((name) => [name, item[name]]));
}

function dayPartitions(range: TimeRange): string[] {
  const from = Date.parse(range.from);
  const to = Date.parse(range.to);
  if (Number.isNaN(from) || Number.isNaN(to))
    throw new InvalidRangeError("range ends must be ISO 8601 times");
  if (from > to) throw new InvalidRangeError(`range starts after it ends: ${range.from} > ${range.to}`);
  const days = daysBetween(range.from, range.to, MAX_RANGE_DAYS + 1);
  if (days.length > MAX_RANGE_DAYS)
    throw new InvalidRangeError(`range spans more than ${MAX_RANGE_DAYS} days`);
  return days;
}

interface Cursor {
  d?: number;
  k?: Record<string, unknown>;
}

/**
 * The cursor of a category listing that resumes right after `page.after`:
 * its day's query, from the index key the object has or had there (record
 * written with its event time as the sort key). DynamoDB resumes from a key
 * whether or not an item still holds it.
 */
function cursorAfter(bucket: string, category: string, range: TimeRange, page: PageRequest): string {
  const { key, eventTime } = page.after as { key: string; eventTime: string };
  const days = dayPartitions(range);
  if (page.newestFirst) days.reverse();
  const d = days.indexOf(dayOf(eventTime));
  if (d < 0) throw new InvalidRangeError(`${eventTime} is outside the range listed`);
  return encodeCursor({
    d,
    k: {
      ...recordKey(bucket, key),
      [INDEXES.byCategory.partitionKey]: categoryPk(bucket, category, dayOf(eventTime)),
      [INDEXES.byCategory.sortKey]: eventTime,
    },
  });
}

function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString("base64url");
}

function decodeCursor(text: string): Cursor {
  try {
    const cursor = JSON.parse(Buffer.from(text, "base64url").toString("utf8")) as Cursor;
    if (typeof cursor !== "object" || cursor === null) throw new Error("not an object");
    if (cursor.d !== undefined && (!Number.isInteger(cursor.d) || cursor.d < 0)) throw new Error("bad day");
    return cursor;
  } catch (error) {
    throw new InvalidCursorError({ cause: error });
  }
}

function pageLimit(page: PageRequest): number {
  return Math.min(MAX_PAGE, Math.max(1, page.limit ?? DEFAULT_PAGE));
}

function toSummary(item: Record<string, unknown>): RecordSummary {
  const summary: Record<string, unknown> = {};
  for (const name of SUMMARY_ATTRIBUTES) if (item[name] !== undefined) summary[name] = item[name];
  return summary as unknown as RecordSummary;
}

/**
 * The detected format as a record stores it: without `mime` and `category`,
 * which the record holds at its top level (the listing indexes project them
 * from there), without `declaredMime` when it is the record's `contentType`
 * as it stands, and with `mismatch` only when true. A record is billed per
 * started KB on every write, so it does not say the same thing twice.
 * {@link recordFromItem} puts the whole format back.
 */
function storedFormat(format: FormatInfo, contentType: string | undefined): Record<string, unknown> {
  const { mime: _mime, category: _category, mismatch, declaredMime, ...rest } = format;
  return {
    ...rest,
    ...(declaredMime !== undefined && declaredMime !== contentType && { declaredMime }),
    ...(mismatch && { mismatch }),
  };
}

/**
 * A stored record as readers see it: table keys removed, the format whole
 * again (see {@link storedFormat}). `declaredMime` is the normalised
 * Content-Type, so a `contentType` already in that form is where it was left out.
 */
function recordFromItem(item: Record<string, unknown>): CatalogRecord {
  const record = stripKeys(item) as unknown as CatalogRecord;
  const format = item.format as Partial<FormatInfo> | undefined;
  if (format === undefined || format.mime !== undefined) return record;
  const contentType = record.contentType;
  const declaredMime =
    format.declaredMime ??
    (contentType !== undefined && contentType === normaliseMime(contentType) ? contentType : undefined);
  return {
    ...record,
    format: {
      ...format,
      mime: record.mime ?? "application/octet-stream",
      ext: format.ext ?? "bin",
      category: record.category ?? "other",
      ...(declaredMime !== undefined && { declaredMime }),
      mismatch: format.mismatch === true,
    },
  };
}

function stripKeys(item: Record<string, unknown>): Record<string, unknown> {
  const rest: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(item)) {
    if (name === PARTITION_KEY || name === SORT_KEY) continue;
    rest[name] = value;
  }
  return rest;
}

function nonEmptyMap<T extends Record<string, string>>(map: T | undefined): T | undefined {
  return map && Object.keys(map).length > 0 ? map : undefined;
}

/** DynamoDB's number range: magnitudes from 1E-130 up to, not including, 1E+126. */
const NUMBER_CEILING = 1e126;
const SMALLEST_NUMBER = 1e-130;

/**
 * What DynamoDB can store of a value made from a file: empty strings (some
 * emulators refuse them in maps), NaN, infinities and magnitudes past
 * DynamoDB's range are left out, and magnitudes below it become 0. A hostile
 * file can state any number; one DynamoDB refuses would refuse the record.
 */
function dropEmpty(value: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(
    JSON.stringify(value, (_name, element: unknown) => {
      if (typeof element === "number") {
        if (!Number.isFinite(element) || Math.abs(element) >= NUMBER_CEILING) return undefined;
        if (element !== 0 && Math.abs(element) < SMALLEST_NUMBER) return 0;
      }
      if (element === "") return undefined;
      return element;
    }),
  ) as Record<string, unknown>;
}

function errorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}

function isConditionalFailure(error: unknown): boolean {
  return errorName(error) === "ConditionalCheckFailedException";
}

/** The thumbnail a stored record names, with the ETag it was written with when the record kept it. */
function thumbnailOf(item: Record<string, unknown>): { key: string; eTag?: string } | undefined {
  if (typeof item.thumbnailKey !== "string") return undefined;
  return {
    key: item.thumbnailKey,
    ...(typeof item.thumbnailEtag === "string" && { eTag: item.thumbnailEtag }),
  };
}

/** Group checks run at once: a page of 1,000 groups must not open 1,000 requests. */
const CHECKS_AT_ONCE = 16;

/** The items `keep` says yes to, in their order, at most {@link CHECKS_AT_ONCE} checks at a time. */
async function keepWhere<T>(items: readonly T[], keep: (item: T) => Promise<boolean>): Promise<T[]> {
  const kept: T[] = [];
  for (const batch of groupsOf(items, CHECKS_AT_ONCE)) {
    const verdicts = await Promise.all(batch.map(keep));
    kept.push(...batch.filter((_, index) => verdicts[index]));
  }
  return kept;
}

/** `items` in consecutive groups of `size`, the last one shorter when they do not divide evenly. */
function groupsOf<T>(items: readonly T[], size: number): T[][] {
  const groups: T[][] = [];
  for (let start = 0; start < items.length; start += size) groups.push(items.slice(start, start + size));
  return groups;
}
