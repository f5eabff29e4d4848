import { createHash } from "node:crypto";
import { type DynamoDBDocumentClient, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { StoreError } from "./errors.js";
import { dayOf, duplicatePk, hashGroupKey } from "./keys.js";
import { INDEXES } from "./schema.js";

/**
 * How many copies a duplicate group tracks one by one. Every join rewrites
 * the group item and is billed by its size, and an item may not pass 400 KB:
 * a set of every copy of common content (the same logo or `__init__.py` in
 * thousands of places) would cost more write units with each copy and then
 * fail. Past this, the group is marked `overflow` and stays listed; readers
 * list the copies themselves from the `byHash` index.
 */
export const MAX_TRACKED_MEMBERS = 100;

/**
 * SHA-256 of no bytes. Empty objects (S3 console "folders", placeholders)
 * are never duplicates worth listing, and in a large bucket they are many:
 * they keep their hash but join no group and get no `byHash` row, which
 * would otherwise put them all in one index partition.
 */
export const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/**
 * The duplicate groups of the catalog table: one item per content hash
 * holding the ids of the objects with that content (layout and listing: see
 * `schema.ts`, "Duplicates"). Membership changes are atomic ADD/DELETE on a
 * string set, so a redelivered join or leave changes nothing; a group of two
 * or more is listed as duplicates, and stops being listed below two.
 *
 * @example
 * const groups = new DuplicateGroups(doc, "catalog");
 * await groups.join(sha256, { bucket, key, eventTime }, size);
 */
export class DuplicateGroups {
  /** Writes sent, conditional failures included: what the table bills. */
  writeCount = 0;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly maxTrackedMembers = MAX_TRACKED_MEMBERS,
  ) {}

  /**
   * Adds the object to its content's group; a group of two or more becomes
   * listable as duplicates. A group already tracking {@link MAX_TRACKED_MEMBERS}
   * others only notes that it holds more.
   */
  async join(
    sha256: string,
    target: { bucket: string; key: string; eventTime: string },
    size: number,
  ): Promise<void> {
    if (sha256 === EMPTY_SHA256) return;
    const key = hashGroupKey(sha256);
    const member = memberId(target);
    let members: Set<string> | undefined;
    let listed = false;
    try {
      const output = await this.update({
        Key: key,
        UpdateExpression: "ADD members :member SET sha256 = :sha, #size = :size",
        ConditionExpression:
          "attribute_not_exists(members) OR size(members) < :cap OR contains(members, :id)",
        ExpressionAttributeNames: { "#size": "size" },
        ExpressionAttributeValues: {
          ":member": new Set([member]),
          ":id": member,
          ":cap": this.maxTrackedMembers,
          ":sha": sha256,
          ":size": size,
        },
        ReturnValues: "ALL_NEW",
        ReturnValuesOnConditionCheckFailure: "ALL_OLD",
      });
      members = output.Attributes?.members as Set<string> | undefined;
      listed = output.Attributes?.[INDEXES.byCategory.partitionKey] !== undefined;
    } catch (error) {
      if (!isConditionalFailure(error))
        throw new StoreError("duplicate group update", target, { cause: error });
      // Full, and this object is not among those tracked: the group has long been listed. The failure
      // carries the group (a raw AttributeValue map) where the server returns it.
      if ((error as { Item?: Record<string, { BOOL?: boolean }> }).Item?.overflow?.BOOL === true) return;
      await this.guardedUpdate(target, {
        Key: key,
        UpdateExpression: "SET overflow = :yes",
        ConditionExpression: "attribute_not_exists(overflow)",
        ExpressionAttributeValues: { ":yes": true },
      });
      return;
    }
    if ((members?.size ?? 0) < 2 || listed) return;
    await this.guardedUpdate(target, {
      Key: key,
      UpdateExpression: "SET #gpk = :gpk, #gsk = :gsk, eventTime = :time",
      ConditionExpression: "size(members) >= :two AND attribute_not_exists(#gpk)",
      ExpressionAttributeNames: {
        "#gpk": INDEXES.byCategory.partitionKey,
        "#gsk": INDEXES.byCategory.sortKey,
      },
      ExpressionAttributeValues: {
        ":gpk": duplicatePk(dayOf(target.eventTime)),
        ":gsk": `${target.eventTime}#${sha256}`,
        ":time": target.eventTime,
        ":two": 2,
      },
    });
  }

  /** Removes the object from its old content's group; a group left with one member is no longer listed. */
  async leave(sha256: string, target: { bucket: string; key: string }): Promise<void> {
    if (sha256 === EMPTY_SHA256) return;
    const key = hashGroupKey(sha256);
    let remaining = 0;
    let listed = false;
    let overflow = false;
    try {
      const output = await this.update({
        Key: key,
        UpdateExpression: "DELETE members :member",
        ExpressionAttributeValues: { ":member": new Set([memberId(target)]) },
        ReturnValues: "ALL_NEW",
      });
      remaining = (output.Attributes?.members as Set<string> | undefined)?.size ?? 0;
      listed = output.Attributes?.[INDEXES.byCategory.partitionKey] !== undefined;
      overflow = output.Attributes?.overflow === true;
    } catch (error) {
      throw new StoreError("duplicate group update", target, { cause: error });
    }
    // A group that overflowed holds copies it does not track: it stays listed, and readers count the copies.
    if (remaining >= 2 || !listed || overflow) return;
    await this.guardedUpdate(target, {
      Key: key,
      UpdateExpression: "REMOVE #gpk, #gsk",
      ConditionExpression:
        "(attribute_not_exists(members) OR size(members) < :two) AND attribute_not_exists(overflow)",
      ExpressionAttributeNames: {
        "#gpk": INDEXES.byCategory.partitionKey,
        "#gsk": INDEXES.byCategory.sortKey,
      },
      ExpressionAttributeValues: { ":two": 2 },
    });
  }

  /** A group marker change that loses harmlessly to a concurrent change of membership. */
  private async guardedUpdate(target: { bucket: string; key: string }, input: GroupUpdate): Promise<void> {
    try {
      await this.update(input);
    } catch (error) {
      if (!isConditionalFailure(error))
        throw new StoreError("duplicate group update", target, { cause: error });
    }
  }

  /** One UpdateItem on this table, counted: failed conditions are billed too. */
  private update(input: GroupUpdate) {
    this.writeCount += 1;
    return this.doc.send(new UpdateCommand({ TableName: this.tableName, ...input }));
  }
}

/** An UpdateItem of a group, without the table name. */
type GroupUpdate = Omit<ConstructorParameters<typeof UpdateCommand>[0], "TableName">;

/** Short, fixed-size id of an object within a group: keeps a group's item small. */
function memberId(target: { bucket: string; key: string }): string {
  return createHash("sha256").update(`${target.bucket}\u0000${target.key}`).digest("base64url").slice(0, 16);
}

function isConditionalFailure(error: unknown): boolean {
  return error instanceof Error && error.name === "ConditionalCheckFailedException";
}
