import { RemovalPolicy } from "aws-cdk-lib";
import * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import { Construct } from "constructs";
import { INDEXES, PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE } from "../../src/store/schema.js";

export interface CatalogTableProps {
  /** What happens to the table (and so the catalog) when the stack is deleted. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The catalog table, laid out by `src/store/schema.ts` (the same module the store writes with): on-demand
 * billing, point-in-time recovery, encryption with the AWS managed key, the four sparse GSIs with INCLUDE
 * projections, and the TTL attribute for tombstones.
 *
 * @example
 * ```ts
 * const { table } = new CatalogTable(this, "Catalog");
 * table.grant(fn, "dynamodb:GetItem");
 * ```
 */
export class CatalogTable extends Construct {
  /** The catalog table. */
  public readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: CatalogTableProps = {}) {
    super(scope, id);
    this.table = new dynamodb.Table(this, "Table", {
      partitionKey: { name: PARTITION_KEY, type: dynamodb.AttributeType.STRING },
      sortKey: { name: SORT_KEY, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // The AWS managed key (rather than the default AWS owned one) puts key use in CloudTrail.
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      timeToLiveAttribute: TTL_ATTRIBUTE,
      deletionProtection: (props.removalPolicy ?? RemovalPolicy.RETAIN) === RemovalPolicy.RETAIN,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    for (const index of Object.values(INDEXES)) {
      this.table.addGlobalSecondaryIndex({
        indexName: index.name,
        partitionKey: { name: index.partitionKey, type: dynamodb.AttributeType.STRING },
        sortKey: { name: index.sortKey, type: dynamodb.AttributeType.STRING },
        projectionType: dynamodb.ProjectionType.INCLUDE,
        nonKeyAttributes: [...index.projection],
      });
    }
  }
}
