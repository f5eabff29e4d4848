/**
 * The whole pipeline against the embedded servers: N corpus objects uploaded
 * to s3rver, each delivered to the Lambda handler as its own S3 notification
 * (as S3 invokes a function: usually one record per invocation), with a fixed
 * number of invocations in flight, as several warm containers would run.
 *
 * Run: `npx tsx bench/pipeline.bench.ts [--count 1000] [--inflight 8] [--hash-max-bytes N] [--no-thumbnails] [--no-write]`
 *
 * `--no-thumbnails` runs the handler as the CDK stack deploys it by default
 * (`writeDerived` off: no thumbnails, so no derived PUTs). `--log-level
 * INFO|WARN` turns the handler's Powertools logs and EMF metrics on and
 * counts the bytes they write (swallowed, not printed): the log line of the
 * cost model.
 *
 * Figures: objects/s over the whole run, p50/p95 handler latency (one
 * invocation = one object), S3 requests and bytes per object counted on the
 * wire by an SDK middleware (HEAD + ranged GETs + tagging), DynamoDB writes
 * per object (PutItem/UpdateItem, conditional failures included). Writes the
 * "Pipeline" section of bench/RESULTS.md unless --no-write.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { Metrics } from "@aws-lambda-powertools/metrics";
import { CreateBucketCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { type ObjectEvent, toS3Notification } from "../src/events/s3-event.js";
import { catalogLogger, createHandler } from "../src/lambda/handler.js";
import { DEFAULT_POLICY } from "../src/policy/policy.js";
import { CatalogStore } from "../src/store/catalog-store.js";
import { itemSize } from "../src/store/item-size.js";
import { AUDIT_SORT_PREFIX, INDEXES, RECORD_SORT_KEY } from "../src/store/schema.js";
import { CORPUS_DIR, corpusFile } from "../test/support/corpus.js";
import { startServers } from "../test/support/servers.js";
import { type Figure, percentile, recordSection } from "./results.js";

function argValue(name: string, fallback: number): number {
  const index = process.argv.indexOf(name);
  const value = index >= 0 ? Number(process.argv[index + 1]) : fallback;
  return Number.isInteger(value) && value >= 0 ? value : fallback;
}

const count = argValue("--count", 1000);
const inflight = Math.max(1, argValue("--inflight", 8));
const hashMaxBytes = argValue("--hash-max-bytes", DEFAULT_POLICY.hashMaxBytes);
const write = !process.argv.includes("--no-write");
const thumbnails = !process.argv.includes("--no-thumbnails");

const logLevelIndex = process.argv.indexOf("--log-level");
const logLevel = logLevelIndex >= 0 ? (process.argv[logLevelIndex + 1] ?? "").toUpperCase() : "SILENT";
if (!["SILENT", "INFO", "WARN"].includes(logLevel)) throw new Error("--log-level takes INFO or WARN");
if (logLevel === "SILENT") process.env.POWERTOOLS_METRICS_DISABLED = "true";
const servers = await startServers();
const bucket = "bench";
const tableName = "catalog-bench";
await servers.s3.send(new CreateBucketCommand({ Bucket: bucket }));
await new CatalogStore(servers.dynamodb, { tableName }).ensureTable();

// Count what the handler sends, from here on (uploads are done with the same client, so counting starts after).
const s3Calls = new Map<string, number>();
let s3BodyBytes = 0;
const dynamoCalls = new Map<string, number>();
let counting = false;
servers.s3.middlewareStack.add(
  (next, context) => async (args) => {
    const result = await next(args);
    if (counting) {
      const name = context.commandName ?? "unknown";
      s3Calls.set(name, (s3Calls.get(name) ?? 0) + 1);
      const length = (result.output as { ContentLength?: number }).ContentLength;
      if (context.commandName === "GetObjectCommand" && length) s3BodyBytes += length;
    }
    return result;
  },
  { step: "initialize", name: "benchCountS3" },
);
// Write units: the table's as DynamoDB reports them (ReturnConsumedCapacity changes nothing else), and
// one per secondary index an item is written into (every projection here is under 1 KB; a new key is
// one index write, as in this benchmark, where every object is new).
let tableWriteUnits = 0;
let indexWrites = 0;
// Items as written, by partition: record sizes decide whether a record costs one write unit or two.
const recordItems = new Map<string, Record<string, unknown>>();
const auditItems = new Map<string, Record<string, unknown>>();
const INDEX_KEYS = Object.values(INDEXES).map((index) => index.partitionKey);
const WRITE_COMMANDS = ["PutItemCommand", "UpdateItemCommand", "DeleteItemCommand"];
servers.dynamodb.middlewareStack.add(
  (next, context) => async (args) => {
    const name = context.commandName ?? "unknown";
    const input = args.input as {
      ReturnConsumedCapacity?: string;
      Item?: Record<string, unknown>;
      UpdateExpression?: string;
      ExpressionAttributeNames?: Record<string, string>;
    };
    const write = WRITE_COMMANDS.includes(name);
    if (counting && write) input.ReturnConsumedCapacity = "TOTAL";
    const result = await next(args);
    if (counting) {
      dynamoCalls.set(name, (dynamoCalls.get(name) ?? 0) + 1);
      const consumed = (result.output as { ConsumedCapacity?: { CapacityUnits?: number } }).ConsumedCapacity;
      tableWriteUnits += consumed?.CapacityUnits ?? 0;
      if (input.Item) {
        indexWrites += INDEX_KEYS.filter((key) => key in (input.Item ?? {})).length;
        keepItem(input.Item);
      } else if (input.UpdateExpression?.startsWith("SET")) {
        const set = Object.values(input.ExpressionAttributeNames ?? {});
        indexWrites += INDEX_KEYS.filter((key) => set.includes(key)).length;
      }
    }
    return result;
  },
  { step: "initialize", name: "benchCountDynamoDb" },
);

/** Keeps record and audit items (plain, or marshalled when the document client has already run). */
function keepItem(item: Record<string, unknown>): void {
  const plain =
    typeof item.sk === "string"
      ? item
      : Object.fromEntries(
          Object.entries(item).map(([name, value]) => [name, Object.values(value as object)[0]]),
        );
  const { pk, sk } = plain as { pk: string; sk: string };
  if (sk === RECORD_SORT_KEY) recordItems.set(pk, plain);
  else if (sk.startsWith(AUDIT_SORT_PREFIX)) auditItems.set(pk, plain);
}

const files = readdirSync(CORPUS_DIR)
  .filter((name) => statSync(corpusFile(name)).isFile())
  .sort();
const events: ObjectEvent[] = [];
let uploadedBytes = 0;
let sequencer = 0x55aed6dcd90281e5n;
for (let index = 0; index < count; index += 1) {
  const name = files[index % files.length] as string;
  const body = readFileSync(corpusFile(name));
  const key = `bench/${String(index).padStart(5, "0")}/${name}`;
  const output = await servers.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  sequencer += 1n;
  uploadedBytes += body.byteLength;
  events.push({
    kind: "created",
    eventName: "ObjectCreated:Put",
    bucket,
    key,
    size: body.byteLength,
    eTag: (output.ETag ?? "").replace(/"/g, ""),
    sequencer: sequencer.toString(16).toUpperCase(),
    eventTime: new Date().toISOString(),
    // What S3 puts in every notification; the audit entry keeps them.
    principalId: "AWS:AIDAJDPLRKLG7UEXAMPLE",
    sourceIPAddress: "203.0.113.10",
    requestId: `C3D13FE58DE4${String(index).padStart(4, "0")}`,
  });
}

const handler = createHandler({
  s3: servers.s3,
  dynamodb: servers.dynamodb,
  tableName,
  policy: { ...DEFAULT_POLICY, hashMaxBytes },
  thumbnails,
  concurrency: 1,
  // The logger and metrics the deployed function builds (handlerFromConfig), so the bytes are its bytes.
  logger: catalogLogger({ serviceName: "s3-metadata-catalog", logLevel }),
  metrics: new Metrics({ namespace: "S3MetadataCatalog", serviceName: "s3-metadata-catalog" }),
});

// Warm up (module loading, first connections) outside the measurement.
await handler({ Event: "s3:TestEvent", Bucket: bucket });

counting = true;
const latencies: number[] = [];
let next = 0;
// What Lambda passes: Powertools adds these fields to every log line, so log bytes count them.
const LAMBDA_CONTEXT = {
  functionName: "S3MetadataCatalog-CatalogFunction",
  functionVersion: "$LATEST",
  invokedFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:S3MetadataCatalog-CatalogFunction",
  memoryLimitInMB: "1024",
  awsRequestId: "5f0c2a8e-4d1b-4a51-9a77-0c2b1f0e9d11",
} as unknown as Parameters<typeof handler>[1];

// Powertools writes logs and EMF blobs to stdout: counted here, not printed.
let logBytes = 0;
const writeStdout = process.stdout.write.bind(process.stdout);
if (logLevel !== "SILENT") {
  process.stdout.write = ((chunk: string | Uint8Array) => {
    logBytes += typeof chunk === "string" ? Buffer.byteLength(chunk) : chunk.byteLength;
    return true;
  }) as typeof process.stdout.write;
}
const started = performance.now();
await Promise.all(
  Array.from({ length: inflight }, async () => {
    while (next < events.length) {
      const event = events[next] as ObjectEvent;
      next += 1;
      const begin = performance.now();
      await handler(toS3Notification([event]), LAMBDA_CONTEXT);
      latencies.push(performance.now() - begin);
    }
  }),
);
const seconds = (performance.now() - started) / 1000;
process.stdout.write = writeStdout;
counting = false;
await servers.stop();

const dynamoReads = [...dynamoCalls]
  .filter(([name]) => !WRITE_COMMANDS.includes(name))
  .reduce((total, [, n]) => total + n, 0);
const callList = (calls: Map<string, number>, keep: (name: string) => boolean) =>
  [...calls]
    .filter(([name]) => keep(name))
    .map(([name, n]) => `${name.replace("Command", "")} ${per(n)}`)
    .join(", ") || "none";
const sum = (map: Map<string, number>) => [...map.values()].reduce((total, value) => total + value, 0);
const per = (value: number) => (value / count).toFixed(2);
const s3Requests = sum(s3Calls);
const dynamoWrites = WRITE_COMMANDS.reduce((total, name) => total + (dynamoCalls.get(name) ?? 0), 0);
const recordSizes = [...recordItems.values()].map(itemSize);
// The alternative of a record that is its own newest audit entry: the entry's fields the record lacks.
const foldedSizes = [...recordItems].map(([pk, record]) => itemSize({ ...auditItems.get(pk), ...record }));
const sizeFigure = (sizes: number[]) =>
  `p50 ${percentile(sizes, 50).toFixed(0)} B, p95 ${percentile(sizes, 95).toFixed(0)} B; ` +
  `${sizes.filter((size) => size <= 1024).length} of ${sizes.length} within 1 KB ` +
  `(${(sizes.reduce((total, size) => total + Math.ceil(size / 1024), 0) / sizes.length).toFixed(2)} write units each)`;
const figures: Figure[] = [
  [
    "objects",
    `${count} (${files.length} distinct corpus files, ${(uploadedBytes / 1024 / 1024).toFixed(1)} MiB)`,
  ],
  ["invocations in flight", String(inflight)],
  ["content hash", hashMaxBytes > 0 ? `on for objects <= ${hashMaxBytes} bytes` : "off"],
  ["thumbnails", thumbnails ? "on (as `catalog dev` runs)" : "off (the CDK stack's default)"],
  ["objects/s", (count / seconds).toFixed(1)],
  ["handler latency p50", `${percentile(latencies, 50).toFixed(1)} ms`],
  ["handler latency p95", `${percentile(latencies, 95).toFixed(1)} ms`],
  [
    "S3 requests per object",
    `${per(s3Requests)} (${[...s3Calls].map(([name, n]) => `${name.replace("Command", "")} ${per(n)}`).join(", ")})`,
  ],
  [
    "S3 body bytes per object",
    `${(s3BodyBytes / count / 1024).toFixed(1)} KiB (${((100 * s3BodyBytes) / uploadedBytes).toFixed(1)} % of the bytes stored)`,
  ],
  [
    "DynamoDB writes per object",
    `${per(dynamoWrites)} (${callList(dynamoCalls, (name) => WRITE_COMMANDS.includes(name))})`,
  ],
  [
    "DynamoDB reads per object",
    `${per(dynamoReads)} (${callList(dynamoCalls, (name) => !WRITE_COMMANDS.includes(name))})`,
  ],
  ...(logLevel === "SILENT"
    ? []
    : ([
        ["log bytes per object", `${(logBytes / count).toFixed(0)} B at ${logLevel} (lines + EMF metrics)`],
      ] as Figure[])),
  [
    "DynamoDB write units per object",
    `${per(tableWriteUnits + indexWrites)} (table ${per(tableWriteUnits)}, secondary indexes ${per(indexWrites)})`,
  ],
  ["record size", sizeFigure(recordSizes)],
  ["record size with its audit entry's fields", sizeFigure(foldedSizes)],
];
for (const [label, value] of figures) console.log(`${label.padEnd(42)} ${value}`);
if (write) {
  const flags = [
    count !== 1000 && `--count ${count}`,
    inflight !== 8 && `--inflight ${inflight}`,
    hashMaxBytes !== DEFAULT_POLICY.hashMaxBytes && `--hash-max-bytes ${hashMaxBytes}`,
    !thumbnails && "--no-thumbnails",
    logLevel !== "SILENT" && `--log-level ${logLevel}`,
  ].filter(Boolean);
  // Past one pass over the corpus every object repeats earlier content: duplicate groups grow, which
  // a bucket of mostly distinct files does not see. One pass is recorded as its own section.
  const variants = [
    hashMaxBytes > 0 ? "" : "no content hash",
    thumbnails ? "" : "no thumbnails",
    count <= files.length ? "distinct content" : "",
  ].filter(Boolean);
  const title = variants.length > 0 ? `Pipeline (${variants.join(", ")})` : "Pipeline";
  recordSection(
    title,
    ["npx tsx bench/pipeline.bench.ts", ...flags].join(" "),
    figures,
    "Embedded s3rver and dynalite on 127.0.0.1 in the same process as the handler, so latency is CPU-bound here and the servers' own cost is included; on AWS, S3 and DynamoDB round trips dominate instead. S3 body bytes include the SHA-256 pass when hashing is on (the default policy hashes objects up to 16 MiB). Objects the policy hashes (and any object of one block or less) are fetched whole with one GET whose headers stand in for HeadObject, and extraction, hash and thumbnail read that copy; larger ones take a HEAD and ranged GETs. DynamoDB writes: record + audit entry + the object's copy item in its content's partition when it is hashed (PutItem), plus one UpdateItem when that content first shows two copies; reads: one strongly consistent Query of the content's partition per hashed object (is it held twice?). Record size is the record item as written, by DynamoDB's item-size rules; \"with its audit entry's fields\" sizes the same record carrying what its event's audit entry holds and it does not (event name, outcome, principal, source IP, request id, deliveries): the alternative of a record that is its own newest audit entry, weighed in docs/COST.md.",
  );
}
