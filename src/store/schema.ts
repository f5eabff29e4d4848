/**
 * The catalog table's layout: one table, items keyed so that each access
 * pattern of DESIGN.md is one Query. Shared by the store (which writes and
 * queries it), the local stack (which creates it) and the CDK app (which
 * deploys it), so the three cannot drift apart.
 *
 * | item          | pk                     | sk                                |
 * |---------------|------------------------|-----------------------------------|
 * | object record | `OBJ#<bucket>#<key>`   | `#RECORD`                         |
 * | audit entry   | `OBJ#<bucket>#<key>`   | `AUDIT#<eventTime>#<sequencer>`   |
 * | hash group    | `SHA#<sha256>`         | `#GROUP`                          |
 * | copy          | `SHA#<sha256>`         | `COPY#<bucket>#<key>`             |
 * | version gone  | `OBJ#<bucket>#<key>`   | `GONE#<versionId>`                |
 *
 * Secondary indexes (all sparse: an item carries an index's keys only when it
 * belongs there):
 * - `byFolder`   `DIR#<bucket>#<prefix>` / `<name>`: a folder listing, paged.
 * - `byCategory` `CAT#<bucket>#<category>#<YYYY-MM-DD>` / `<eventTime>`:
 *   one partition per category per day, so no key gathers a whole bucket; a time
 *   range is one Query per day.
 * - `byHash`     `SHA#<sha256>` / `<bucket>#<key>`: objects with the same content,
 *   as records written before copy items (below) list them; new records have no
 *   keys for it, and it is read only until those records are written again.
 * - `byProblem`  `PROBLEM#<bucket>#<YYYY-MM-DD>` / `<eventTime>`: errors and rejections.
 *
 * Index sort keys need not be unique, so they hold no object key: the key is
 * already in `pk`, `key` and `folderSk`, and each copy would be billed on
 * every write (a record over 1 KB costs two write units) and could pass
 * DynamoDB's 1,024-byte sort-key limit. Records written before this layout
 * have `<eventTime>#<key>` there; both sort and match the same way (a time
 * range ends at `<to>#\uffff`).
 *
 * Audit entries use the normalised sequencer (`sequencerSortKey`) in their
 * sort key, so a redelivered event lands on the same item (which counts
 * `deliveries`) instead of adding a second entry.
 *
 * Version gone: a permanent delete of one version (versioned bucket) leaves
 * this marker, with the delete's sequencer and time, before it looks at the
 * record. A creation of that version whose pinned read came before the delete
 * but whose record write comes after it finds the marker and applies the
 * delete itself (see `processObject`). It expires after a day: the race it
 * closes lasts as long as one delivery.
 *
 * Duplicates: each object with a content hash has a copy item in its
 * content's partition `SHA#<sha256>`, holding the summary attributes and the
 * `seqKey` of the event that wrote it (events of one key can run at once:
 * see `duplicate-groups.ts`), written before the record, so the
 * copies of one content are one Query of that partition, paged. The
 * partition's group item is the listing marker: when a strongly consistent
 * read of the partition after a copy's write shows two copies, the group
 * gains `categoryPk = DUP#<YYYY-MM-DD>` / `categorySk = <eventTime>#<sha256>`
 * (the day it became a duplicate), so it appears in the byCategory index under
 * a partition no object record uses; when a read after a copy's removal shows
 * fewer than two, those keys are removed (see `duplicate-groups.ts` for why
 * this is right under concurrency). `find --duplicates` is therefore one Query
 * per day on byCategory for the groups, then one Query per group for its
 * copies: no Scan, and no partition gathers a whole bucket. Groups span
 * buckets; copy sort keys start with the bucket, so whether a group has a copy
 * in one bucket is a Query of one item (`begins_with(sk, "COPY#<bucket>#")`). Empty objects get
 * no copy item (all of them would share one partition). A copy item is not
 * replaced with its record: when an object's content changes or it is
 * deleted, the old content's copy is removed after the record write, and the
 * audit entries name the hash each event wrote, so a retry of a delivery that
 * stopped in between still finds it.
 *
 * Records written before copy items hold `hashPk`/`hashSk` for the byHash
 * index instead, and their groups a set of member ids: readers list copies
 * from both until those records are written again (`catalog reprocess`), and
 * keep only groups that still show two copies.
 */

export const PARTITION_KEY = "pk";
export const SORT_KEY = "sk";
export const RECORD_SORT_KEY = "#RECORD";
export const AUDIT_SORT_PREFIX = "AUDIT#";
export const HASH_GROUP_SORT_KEY = "#GROUP";
export const COPY_SORT_PREFIX = "COPY#";
export const VERSION_GONE_SORT_PREFIX = "GONE#";

/** Audit entries one read of an object returns unless told otherwise: the newest ones (access pattern 1). */
export const DEFAULT_AUDIT_LIMIT = 100;

/** Attributes copied into the listing indexes: enough to render a row without a second read. */
export const SUMMARY_ATTRIBUTES = [
  "bucket",
  "key",
  "size",
  "status",
  "mime",
  "category",
  "eventTime",
  "etag",
  "sha256",
  "reason",
  "thumbnailKey",
] as const;

export interface IndexDefinition {
  name: string;
  partitionKey: string;
  sortKey: string;
  /** Non-key attributes projected into the index. */
  projection: readonly string[];
}

export const INDEXES = {
  byFolder: {
    name: "byFolder",
    partitionKey: "folderPk",
    sortKey: "folderSk",
    projection: SUMMARY_ATTRIBUTES,
  },
  byCategory: {
    name: "byCategory",
    partitionKey: "categoryPk",
    sortKey: "categorySk",
    projection: SUMMARY_ATTRIBUTES,
  },
  byHash: { name: "byHash", partitionKey: "hashPk", sortKey: "hashSk", projection: SUMMARY_ATTRIBUTES },
  byProblem: {
    name: "byProblem",
    partitionKey: "problemPk",
    sortKey: "problemSk",
    projection: SUMMARY_ATTRIBUTES,
  },
} as const satisfies Record<string, IndexDefinition>;

/** The secondary indexes' key attributes: the table's business, not what a reader of the catalog is shown. */
export const INDEX_KEY_ATTRIBUTES: ReadonlySet<string> = new Set(
  Object.values(INDEXES).flatMap((index: IndexDefinition) => [index.partitionKey, index.sortKey]),
);

/**
 * `item` without its secondary indexes' keys, as the CLI's `--json` and the HTTP API show records.
 *
 * @example
 * withoutIndexKeys({ key: "a.jpg", folderPk: "DIR#uploads#", folderSk: "a.jpg" }); // { key: "a.jpg" }
 */
export function withoutIndexKeys<T extends object>(item: T): T {
  return Object.fromEntries(Object.entries(item).filter(([name]) => !INDEX_KEY_ATTRIBUTES.has(name))) as T;
}

/** Attribute holding an epoch-seconds expiry; set on tombstones when a TTL is configured. */
export const TTL_ATTRIBUTE = "expiresAt";

/** Version of the record layout; bump when a stored field changes meaning. */
export const SCHEMA_VERSION = 1;
