import { createHash } from "node:crypto";
import {
  AUDIT_SORT_PREFIX,
  COPY_SORT_PREFIX,
  HASH_GROUP_SORT_KEY,
  RECORD_SORT_KEY,
  VERSION_GONE_SORT_PREFIX,
} from "./schema.js";

/**
 * Key values of the catalog table, built in one place so that writers and
 * queries agree. Layout and reasons: see `schema.ts`.
 */

/** Partition key of an object's record and audit entries. */
export function objectPk(bucket: string, key: string): string {
  return `OBJ#${bucket}#${key}`;
}

/** Table key of an object's record. */
export function recordKey(bucket: string, key: string): { pk: string; sk: string } {
  return { pk: objectPk(bucket, key), sk: RECORD_SORT_KEY };
}

/** Key of the marker a permanent delete of one version leaves in the object's partition. */
export function versionGoneKey(bucket: string, key: string, versionId: string): { pk: string; sk: string } {
  return { pk: objectPk(bucket, key), sk: `${VERSION_GONE_SORT_PREFIX}${versionId}` };
}

/**
 * Sort key of an audit entry. The sequencer is the normalised sort key, so a
 * redelivered event (same time, same sequencer in any case) lands on the same item.
 */
export function auditSk(eventTime: string, seqKey: string): string {
  return `${AUDIT_SORT_PREFIX}${eventTime}#${seqKey}`;
}

/**
 * Splits a key into its folder (everything up to and including the last `/`,
 * empty at the root) and its name.
 *
 * @example
 * splitFolder("photos/2024/a.jpg") // { folder: "photos/2024/", name: "a.jpg" }
 */
export function splitFolder(key: string): { folder: string; name: string } {
  const slash = key.lastIndexOf("/");
  return { folder: key.slice(0, slash + 1), name: key.slice(slash + 1) };
}

/** Partition of the folder index. */
export function folderPk(bucket: string, folder: string): string {
  return `DIR#${bucket}#${folder}`;
}

/** UTC calendar day (`YYYY-MM-DD`) of an ISO timestamp. */
export function dayOf(isoTime: string): string {
  const time = new Date(isoTime);
  return Number.isNaN(time.getTime()) ? "0000-00-00" : time.toISOString().slice(0, 10);
}

/** Partition of the category index: one per bucket, category and day. */
export function categoryPk(bucket: string, category: string, day: string): string {
  return `CAT#${bucket}#${category}#${day}`;
}

/** Partition of the problems index: one per bucket and day. */
export function problemPk(bucket: string, day: string): string {
  return `PROBLEM#${bucket}#${day}`;
}

/** Partition of the hash index, and of the duplicate-group item for that content. */
export function hashPk(sha256: string): string {
  return `SHA#${sha256}`;
}

/** Table key of an object's copy item in its content's partition (see `schema.ts`, "Duplicates"). */
export function copyKey(sha256: string, bucket: string, key: string): { pk: string; sk: string } {
  return { pk: hashPk(sha256), sk: keyedSortKey(`${COPY_SORT_PREFIX}${bucket}#`, key) };
}

/** DynamoDB's limit on a sort key value, in UTF-8 bytes, for tables and indexes alike. */
export const MAX_SORT_KEY_BYTES = 1024;

/**
 * A sort key made of a prefix and an object key, within DynamoDB's 1,024-byte
 * limit. An S3 key may itself be 1,024 bytes, so `COPY#<bucket>#<key>` can
 * pass it and DynamoDB would refuse the item. A key that does not fit is cut
 * at a character boundary and ends with a digest of the whole key, so sort
 * keys stay unique and the prefix still orders them; the item's `key`
 * attribute keeps the key whole.
 *
 * @example
 * keyedSortKey("COPY#uploads#", "photos/a.jpg") // "COPY#uploads#photos/a.jpg"
 */
export function keyedSortKey(prefix: string, key: string): string {
  const whole = `${prefix}${key}`;
  if (Buffer.byteLength(whole) <= MAX_SORT_KEY_BYTES) return whole;
  const digest = createHash("sha256").update(key).digest("base64url").slice(0, 16);
  let room = MAX_SORT_KEY_BYTES - Buffer.byteLength(prefix) - 1 - digest.length;
  let cut = "";
  for (const character of key) {
    room -= Buffer.byteLength(character);
    if (room < 0) break;
    cut += character;
  }
  return `${prefix}${cut}~${digest}`;
}

/** Table key of the duplicate-group item of one content hash. */
export function hashGroupKey(sha256: string): { pk: string; sk: string } {
  return { pk: hashPk(sha256), sk: HASH_GROUP_SORT_KEY };
}

/** Partition (in the category index) listing the duplicate groups found on one day. */
export function duplicatePk(day: string): string {
  return `DUP#${day}`;
}

/**
 * Every UTC day from `from` to `to` inclusive, oldest first.
 *
 * @example
 * daysBetween("2024-01-30T10:00:00Z", "2024-02-01T00:00:00Z") // ["2024-01-30", "2024-01-31", "2024-02-01"]
 */
export function daysBetween(from: string, to: string, maxDays = 366): string[] {
  const start = new Date(`${dayOf(from)}T00:00:00Z`).getTime();
  const end = new Date(`${dayOf(to)}T00:00:00Z`).getTime();
  const days: string[] = [];
  for (let time = start; time <= end && days.length < maxDays; time += 86_400_000) {
    days.push(new Date(time).toISOString().slice(0, 10));
  }
  return days;
}
