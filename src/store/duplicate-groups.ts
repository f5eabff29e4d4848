import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { StoreError } from "./errors.js";
import { copyKey, dayOf, duplicatePk, hashGroupKey, hashPk } from "./keys.js";
import { INDEXES, SUMMARY_ATTRIBUTES } from "./schema.js";

/**
 * SHA-256 of no bytes. Empty objects (S3 console "folders", placeholders)
 * are never duplicates worth listing, and in a large bucket they are many:
 * they keep their hash but get no copy item, which would otherwise put them
 * all in one partition.
 */
export const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/** What a copy item holds of its record: enough to list it (the listing indexes' summary). */
export type CopySummary = { bucket: string; key: string; eventTime: string; size?: number } & Record<
  string,
  unknown
>;

/**
 * The duplicate groups of the catalog table (layout and listing: see
 * `schema.ts`, "Duplicates"). Each object with a content hash has one copy
 * item in its content's partition; the group item there is only the listing
 * marker, set when a strongly consistent read of the partition shows two
 * copies and removed when it shows fewer.
 *
 * A write then a strongly consistent read makes the marker right under
 * concurrency: of two copies written at once, the one whose read comes second
 * sees both. A removal re-reads after removing the marker and puts it back if
 * a copy arrived meanwhile.
 *
 * Events of one object can run at once too (a key rewritten in quick
 * succession), so a copy item carries the `seqKey` of the event that wrote it:
 * a write only replaces a copy from an older event, and a removal only
 * removes a copy from the event whose record is being replaced, or an older
 * one. Without that, the removal of the previous content could delete the
 * copy a newer event of the same content had just written. An object with content of its own costs one small
 * write and one read, where a group item holding every copy's id cost a write
 * that grew with the group and a secondary-index row besides.
 *
 * @example
 * const groups = new DuplicateGroups(doc, "catalog");
 * await groups.join(sha256, { bucket, key, eventTime, size, status: "ok" }, seqKey);
 */
export class DuplicateGroups {
  /** Writes sent, conditional failures included: what the table bills. */
  writeCount = 0;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /**
   * Records the object as a copy of its content, as the event with sort key
   * `seqKey` found it (idempotent; a copy from a later event is left as it
   * is); content held twice or more becomes listable as duplicates.
   */
  async join(sha256: string, copy: CopySummary, seqKey: string): Promise<void> {
    if (sha256 === EMPTY_SHA256) return;
    const target = { bucket: copy.bucket, key: copy.key };
    const summary: Record<string, unknown> = {};
    for (const name of SUMMARY_ATTRIBUTES) if (copy[name] !== undefined) summary[name] = copy[name];
    try {
      this.writeCount += 1;
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...copyKey(sha256, copy.bucket, copy.key), ...summary, sha256, seqKey },
          ConditionExpression: "attribute_not_exists(pk) OR seqKey <= :seq",
          ExpressionAttributeValues: { ":seq": seqKey },
        }),
      );
    } catch (error) {
      // A later event of this object holds the copy already, and keeps the group in step itself.
      if (isConditionalFailure(error)) return;
      throw new StoreError("duplicate copy write", target, { cause: error });
    }
    const group = await this.readGroup(sha256, target);
    if (group.copies >= 2 && !group.listed) await this.list(sha256, copy, target);
  }

  /**
   * Removes the object's copy of content it no longer has, if an event up to
   * `upTo` (a `seqKey`) wrote it; content left with one copy is no longer listed.
   */
  async leave(
    sha256: string,
    target: { bucket: string; key: string; eventTime: string },
    upTo: string,
  ): Promise<void> {
    if (sha256 === EMPTY_SHA256) return;
    try {
      this.writeCount += 1;
      await this.doc.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: copyKey(sha256, target.bucket, target.key),
          ConditionExpression: "attribute_not_exists(seqKey) OR seqKey <= :upTo",
          ExpressionAttributeValues: { ":upTo": upTo },
        }),
      );
    } catch (error) {
      // A later event of this object wrote that copy: it is not this removal's to take.
      if (isConditionalFailure(error)) return;
      throw new StoreError("duplicate copy delete", target, { cause: error });
    }
    const group = await this.readGroup(sha256, target);
    if (group.copies >= 2 || !group.listed) return;
    await this.guardedUpdate(target, {
      Key: hashGroupKey(sha256),
      UpdateExpression: "REMOVE #gpk, #gsk",
      ConditionExpression: "attribute_exists(#gpk)",
      ExpressionAttributeNames: {
        "#gpk": INDEXES.byCategory.partitionKey,
        "#gsk": INDEXES.byCategory.sortKey,
      },
    });
    // A copy written between the read above and the removal saw the group listed and left it so.
    const again = await this.readGroup(sha256, target);
    if (again.copies >= 2 && !again.listed) await this.list(sha256, target, target);
  }

  /**
   * Whether the content's partition holds two copies or more, and whether its
   * group is listed: one strongly consistent Query of at most three items (the
   * group item sorts first, `#` before `COPY#`).
   */
  private async readGroup(
    sha256: string,
    target: { bucket: string; key: string },
  ): Promise<{ copies: number; listed: boolean }> {
    try {
      const output = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: "pk = :pk",
          ExpressionAttributeValues: { ":pk": hashPk(sha256) },
          ConsistentRead: true,
          Limit: 3,
        }),
      );
      const items = output.Items ?? [];
      const group = items.find((item) => item.sk === hashGroupKey(sha256).sk);
      return {
        copies: items.filter((item) => item !== group).length,
        listed: group?.[INDEXES.byCategory.partitionKey] !== undefined,
      };
    } catch (error) {
      throw new StoreError("duplicate group read", target, { cause: error });
    }
  }

  /** Puts the group in the listing, under the day its second copy arrived; loses harmlessly to another lister. */
  private async list(
    sha256: string,
    copy: { eventTime: string; size?: number },
    target: { bucket: string; key: string },
  ): Promise<void> {
    await this.guardedUpdate(target, {
      Key: hashGroupKey(sha256),
      UpdateExpression: `SET #gpk = :gpk, #gsk = :gsk, eventTime = :time, sha256 = :sha${copy.size !== undefined ? ", #size = :size" : ""}`,
      ConditionExpression: "attribute_not_exists(#gpk)",
      ExpressionAttributeNames: {
        "#gpk": INDEXES.byCategory.partitionKey,
        "#gsk": INDEXES.byCategory.sortKey,
        ...(copy.size !== undefined && { "#size": "size" }),
      },
      ExpressionAttributeValues: {
        ":gpk": duplicatePk(dayOf(copy.eventTime)),
        ":gsk": `${copy.eventTime}#${sha256}`,
        ":time": copy.eventTime,
        ":sha": sha256,
        ...(copy.size !== undefined && { ":size": copy.size }),
      },
    });
  }

  /** A marker change that loses harmlessly to a concurrent one. */
  private async guardedUpdate(target: { bucket: string; key: string }, input: GroupUpdate): Promise<void> {
    try {
      this.writeCount += 1;
      await this.doc.send(new UpdateCommand({ TableName: this.tableName, ...input }));
    } catch (error) {
      if (!isConditionalFailure(error))
        throw new StoreError("duplicate group update", target, { cause: error });
    }
  }
}

/** An UpdateItem of a group, without the table name. */
type GroupUpdate = Omit<ConstructorParameters<typeof UpdateCommand>[0], "TableName">;

function isConditionalFailure(error: unknown): boolean {
  return error instanceof Error && error.name === "ConditionalCheckFailedException";
}
