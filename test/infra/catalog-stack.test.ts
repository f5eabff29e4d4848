/**
 * The CDK app, checked on its synthesized CloudFormation template, offline: no AWS credentials, no
 * network. Only the default (direct) stack bundles the real handler; the other variants skip bundling
 * (`aws:cdk:bundling-stacks`), which changes nothing in the template but the asset hash.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { builtinModules } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { App, Duration, Stack, Validations } from "aws-cdk-lib";
import { Annotations, Match, Template } from "aws-cdk-lib/assertions";
import * as lambda from "aws-cdk-lib/aws-lambda";
import * as sqsLib from "aws-cdk-lib/aws-sqs";
import { AwsSolutionsChecks } from "cdk-nag";
import type { IConstruct } from "constructs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CatalogAlarms } from "../../infra/lib/catalog-alarms.js";
import { CatalogBucket } from "../../infra/lib/catalog-bucket.js";
import { CatalogFunction } from "../../infra/lib/catalog-function.js";
import { readCatalogSettings } from "../../infra/lib/catalog-settings.js";
import { buildCatalogApp, type CatalogStack } from "../../infra/lib/catalog-stack.js";
import { CatalogTable } from "../../infra/lib/catalog-table.js";
import { CatalogTrigger } from "../../infra/lib/catalog-trigger.js";
import {
  bundleHandler,
  HANDLER_BUNDLE,
  HANDLER_FILE,
  handlerCode,
  installedSharpVersion,
  PROJECT_ROOT,
  SOURCE_MAPS_NODE_OPTIONS,
  sharpInstallCommand,
} from "../../infra/lib/handler-bundle.js";
import { METRICS_NAMESPACE } from "../../src/config/config.js";
import { INDEXES, PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE } from "../../src/store/schema.js";

const SKIP_BUNDLING = { "aws:cdk:bundling-stacks": [] };
const outdirs: string[] = [];

interface Synthesized {
  stack: CatalogStack;
  template: Template;
  json: { Resources: Record<string, CfnResource>; Outputs: Record<string, { Value: unknown }> };
  /** cdk-nag errors and warnings that no acknowledgement covers. */
  nag: { rule: string; severity?: string; paths: (string | undefined)[] }[];
  /** Acknowledgements (`path|rule`) declared in the app that no cdk-nag finding matched. */
  unusedAcknowledgements: string[];
  outdir: string;
}

interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
  DeletionPolicy?: string;
}

function synthesize(context: Record<string, unknown>): Synthesized {
  const outdir = mkdtempSync(path.join(tmpdir(), "catalog-cdk-"));
  outdirs.push(outdir);
  const { app, stack } = buildCatalogApp(context, { outdir, builtinCloudFormationValidation: false });
  const template = Template.fromStack(stack);
  const checks = new AwsSolutionsChecks(app);
  const used = recordAcknowledgementUse(checks);
  const report = checks.validateScope(app);
  return {
    stack,
    template,
    json: template.toJSON() as Synthesized["json"],
    nag: report.violations.map((v) => ({
      rule: v.ruleName,
      severity: v.severity,
      paths: v.violatingResources.map((r) => r.constructPath),
    })),
    unusedAcknowledgements: declaredAcknowledgements(app).filter((ack) => !used.has(ack)),
    outdir,
  };
}

type AckLookup = (node: IConstruct, ruleId: string) => boolean;

/**
 * Records which acknowledgement (`path|rule` of the construct carrying it) silenced each finding, by
 * wrapping cdk-nag's own lookup (private in its types, so reached by name).
 */
function recordAcknowledgementUse(checks: AwsSolutionsChecks): Set<string> {
  const used = new Set<string>();
  const target = checks as unknown as { isAcknowledged: AckLookup };
  const lookup = target.isAcknowledged.bind(checks);
  target.isAcknowledged = (node, ruleId) => {
    const acknowledged = lookup(node, ruleId);
    for (let current: IConstruct | undefined = node; acknowledged && current; current = current.node.scope) {
      if (acknowledgedRules(current).includes(ruleId)) {
        used.add(`${current.node.path}|${ruleId}`);
        break;
      }
    }
    return acknowledged;
  };
  return used;
}

function acknowledgedRules(construct: IConstruct): string[] {
  return construct.node.metadata
    .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
    .flatMap((entry) => Object.keys((entry.data ?? {}) as Record<string, unknown>))
    .map((key) => key.replace(/^annotation::/i, ""));
}

function declaredAcknowledgements(app: App): string[] {
  return app.node
    .findAll()
    .flatMap((c) => acknowledgedRules(c).map((rule) => `${c.node.path}|${rule}`))
    .filter((ack) => ack.includes("|AwsSolutions-"));
}

/** Every statement of every IAM policy attached to the function's role, plus any managed policy. */
function functionRoleStatements(s: Synthesized): { actions: string[]; resources: unknown[] }[] {
  const roleId = s.stack.getLogicalId(s.stack.metadataFunction.role.node.defaultChild as never);
  const statements: { actions: string[]; resources: unknown[] }[] = [];
  for (const resource of Object.values(s.json.Resources)) {
    if (resource.Type !== "AWS::IAM::Policy") continue;
    const roles = (resource.Properties?.Roles ?? []) as unknown[];
    if (!roles.some((r) => JSON.stringify(r) === JSON.stringify({ Ref: roleId }))) continue;
    const doc = resource.Properties?.PolicyDocument as { Statement: Record<string, unknown>[] };
    for (const st of doc.Statement) {
      expect(st.Effect).toBe("Allow");
      const actions = ([] as string[]).concat(st.Action as string | string[]);
      const resources = ([] as unknown[]).concat(st.Resource as unknown);
      statements.push({ actions, resources });
    }
  }
  const role = s.json.Resources[roleId];
  expect(role?.Type).toBe("AWS::IAM::Role");
  expect(role?.Properties?.ManagedPolicyArns).toBeUndefined();
  expect(role?.Properties?.Policies).toBeUndefined();
  return statements;
}

function actionSet(s: Synthesized): string[] {
  return [...new Set(functionRoleStatements(s).flatMap((st) => st.actions))].sort();
}

/** Resources (rendered as text) an action is granted on. */
function resourcesOf(s: Synthesized, action: string): string[] {
  return functionRoleStatements(s)
    .filter((st) => st.actions.includes(action))
    .flatMap((st) => st.resources.map((r) => JSON.stringify(r)));
}

function only<T extends CfnResource>(s: Synthesized, type: string): T {
  const found = Object.values(s.json.Resources).filter((r) => r.Type === type);
  expect(found, type).toHaveLength(1);
  return found[0] as T;
}

/** The metadata function (the notification custom resource brings a second, CDK-owned function). */
function metadataFunction(s: Synthesized): CfnResource {
  const id = s.stack.getLogicalId(s.stack.metadataFunction.function.node.defaultChild as never);
  const fn = s.json.Resources[id];
  expect(fn?.Type).toBe("AWS::Lambda::Function");
  return fn as CfnResource;
}

/** The staged asset directory of the metadata function's code. */
function assetDir(s: Synthesized): string {
  const code = metadataFunction(s).Properties?.Code as { S3Key: unknown };
  const hash = String(JSON.stringify(code.S3Key)).match(/([0-9a-f]{64})\.zip/)?.[1];
  expect(hash).toBeDefined();
  return path.join(s.outdir, `asset.${hash}`);
}

/** The bundle's JavaScript files (no source maps), relative to its directory, sorted. */
function bundleFiles(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[])
    .filter((file) => file.endsWith(".mjs"))
    .map((file) => file.split(path.sep).join("/"))
    .sort();
}

function ofType(s: Synthesized, type: string): CfnResource[] {
  return Object.values(s.json.Resources).filter((r) => r.Type === type);
}

interface NotificationConfig {
  Events: string[];
  Filter?: { Key: { FilterRules: { Name: string; Value: string }[] } };
  LambdaFunctionArn?: unknown;
  QueueArn?: unknown;
}

function notificationConfigs(s: Synthesized): NotificationConfig[] {
  const props = only(s, "Custom::S3BucketNotifications").Properties as {
    NotificationConfiguration: Record<string, NotificationConfig[] | undefined>;
  };
  const config = props.NotificationConfiguration;
  return [...(config.LambdaFunctionConfigurations ?? []), ...(config.QueueConfigurations ?? [])];
}

/** Whether S3 would deliver an event for this key under this configuration (prefix and suffix rules). */
function delivers(config: NotificationConfig, key: string): boolean {
  return (config.Filter?.Key.FilterRules ?? []).every((rule) =>
    rule.Name.toLowerCase() === "prefix" ? key.startsWith(rule.Value) : key.endsWith(rule.Value),
  );
}

const BASE_ACTIONS = [
  "dynamodb:DeleteItem",
  "dynamodb:GetItem",
  "dynamodb:PutItem",
  "dynamodb:Query",
  "dynamodb:UpdateItem",
  "logs:CreateLogStream",
  "logs:PutLogEvents",
  "s3:GetObject",
  "s3:ListBucket",
];

const FULL_CONTEXT = {
  ...SKIP_BUNDLING,
  mode: "sqs",
  prefix: "uploads/",
  suffixes: ".jpg,.png",
  writeDerived: "true",
  policy: '{"tagRejected":true,"maxSizeBytes":1073741824}',
  encryption: "kms",
  versioned: "true",
  accessLogs: "true",
  tracing: "true",
  sourceMaps: "true",
  alarmEmail: "ops@example.com",
  memoryMiB: "512",
  timeoutSeconds: "120",
  reservedConcurrency: "20",
  tombstoneTtlDays: "30",
};

let direct: Synthesized;
let sqs: Synthesized;
let full: Synthesized;
let existing: Synthesized;

beforeAll(() => {
  direct = synthesize({});
  sqs = synthesize({ ...SKIP_BUNDLING, mode: "sqs" });
  full = synthesize(FULL_CONTEXT);
  existing = synthesize({ ...SKIP_BUNDLING, existingBucketName: "my-existing-uploads", prefix: "in/" });
}, 240_000);

afterAll(() => {
  for (const dir of outdirs) rmSync(dir, { recursive: true, force: true });
});

describe("bucket", () => {
  it.each([
    ["direct", () => direct, "AES256"],
    ["sqs", () => sqs, "AES256"],
    ["full (kms)", () => full, "aws:kms"],
  ])(
    "%s: encrypted, public access blocked, TLS only, derived prefix expires, retained",
    (_, get, algorithm) => {
      const s = get();
      s.template.hasResource("AWS::S3::Bucket", {
        DeletionPolicy: "Retain",
        Properties: Match.objectLike({
          BucketEncryption: {
            ServerSideEncryptionConfiguration: [
              Match.objectLike({
                ServerSideEncryptionByDefault: Match.objectLike({ SSEAlgorithm: algorithm }),
              }),
            ],
          },
          PublicAccessBlockConfiguration: {
            BlockPublicAcls: true,
            BlockPublicPolicy: true,
            IgnorePublicAcls: true,
            RestrictPublicBuckets: true,
          },
          LifecycleConfiguration: {
            Rules: Match.arrayWith([
              Match.objectLike({ Prefix: "_derived/", ExpirationInDays: 90, Status: "Enabled" }),
            ]),
          },
        }),
      });
      s.template.hasResourceProperties("AWS::S3::BucketPolicy", {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: "Deny",
              Principal: { AWS: "*" },
              Action: "s3:*",
              Condition: { Bool: { "aws:SecureTransport": "false" } },
            }),
          ]),
        },
      });
    },
  );

  it("kms: a rotating customer key, versioning and access logs when asked for", () => {
    full.template.hasResourceProperties("AWS::KMS::Key", { EnableKeyRotation: true });
    full.template.hasResourceProperties("AWS::S3::Bucket", {
      VersioningConfiguration: { Status: "Enabled" },
      LoggingConfiguration: Match.objectLike({ DestinationBucketName: Match.anyValue() }),
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [Match.objectLike({ BucketKeyEnabled: true })],
      },
    });
    expect(ofType(direct, "AWS::KMS::Key")).toHaveLength(0);
  });

  it("existing bucket: no bucket is created, the function reads it by name", () => {
    expect(ofType(existing, "AWS::S3::Bucket")).toHaveLength(0);
    const reads = resourcesOf(existing, "s3:GetObject");
    expect(reads).toHaveLength(1);
    expect(reads[0]).toContain(":s3:::my-existing-uploads/in/*");
  });
});

describe("function", () => {
  it.each([
    ["direct", () => direct],
    ["sqs", () => sqs],
    ["full", () => full],
  ])("%s: Node.js 22 on arm64, ESM bundle, Powertools env, its own log group", (_, get) => {
    const s = get();
    s.template.hasResourceProperties("AWS::Lambda::Function", {
      Runtime: "nodejs22.x",
      Architectures: ["arm64"],
      Handler: "index.handler",
      Environment: {
        Variables: Match.objectLike({
          TABLE_NAME: { Ref: Match.stringLikeRegexp("^CatalogTable") },
          DERIVED_PREFIX: "_derived/",
          POWERTOOLS_SERVICE_NAME: "s3-metadata-catalog",
          POWERTOOLS_LOG_LEVEL: "INFO",
          // The namespace `catalog worker` and the local stack publish to as well.
          POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        }),
      },
      LoggingConfig: { LogGroup: { Ref: Match.stringLikeRegexp("^MetadataLogs") } },
    });
    s.template.hasResourceProperties("AWS::Logs::LogGroup", { RetentionInDays: 30 });
  });

  // cdk-nag's L1 (not the latest runtime) is acknowledged because the runtime is the bundle's target.
  it("the runtime is the Node.js version the bundle is built for", () => {
    const runtime = metadataFunction(direct).Properties?.Runtime;
    expect(runtime).toBe(`${HANDLER_BUNDLE.target.replace(/^node/, "nodejs")}.x`);
  });

  // Source-mapped stack traces cost init time at every cold start (bench/RESULTS.md): opt-in, while the
  // maps themselves are always deployed (see "the asset is the split bundle").
  it.each([
    ["direct", () => direct, undefined],
    ["sqs", () => sqs, undefined],
    ["full (sourceMaps=true)", () => full, SOURCE_MAPS_NODE_OPTIONS],
  ])("%s: NODE_OPTIONS is %s", (_, get, nodeOptions) => {
    const fn = metadataFunction(get());
    const environment = fn.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined;
    const variables = environment?.Variables ?? {};
    expect(variables.TABLE_NAME).toBeDefined();
    expect(variables.NODE_OPTIONS).toBe(nodeOptions);
  });

  // Plain text keeps every invocation's REPORT line (max memory used, init duration), which no metric gives.
  it("logging: plain-text Lambda lines by default, no log-level filtering by Lambda", () => {
    const config = metadataFunction(direct).Properties?.LoggingConfig as Record<string, unknown>;
    expect(Object.keys(config)).toEqual(["LogGroup"]);
  });

  it.each([
    [{ systemLogLevel: "WARN" }, { SystemLogLevel: "WARN", ApplicationLogLevel: "INFO" }, "INFO"],
    // The handler drops INFO lines itself: Lambda's filter would drop the EMF blobs (no `level` key) as well.
    [
      { systemLogLevel: "WARN", logLevel: "WARN" },
      { SystemLogLevel: "WARN", ApplicationLogLevel: "INFO" },
      "WARN",
    ],
    [
      { systemLogLevel: "INFO", logLevel: "DEBUG" },
      { SystemLogLevel: "INFO", ApplicationLogLevel: "DEBUG" },
      "DEBUG",
    ],
    [{ systemLogLevel: "DEBUG" }, { SystemLogLevel: "DEBUG", ApplicationLogLevel: "INFO" }, "INFO"],
  ])("logging %j: JSON format, %j, POWERTOOLS_LOG_LEVEL %s, cdk-nag clean", (context, levels, powertools) => {
    const s = synthesize({ ...SKIP_BUNDLING, ...context });
    s.template.hasResourceProperties("AWS::Lambda::Function", {
      LoggingConfig: {
        LogFormat: "JSON",
        ...levels,
        LogGroup: { Ref: Match.stringLikeRegexp("^MetadataLogs") },
      },
      Environment: { Variables: Match.objectLike({ POWERTOOLS_LOG_LEVEL: powertools }) },
    });
    expect(s.nag).toEqual([]);
  });

  it("memory, timeout, tracing and the policy come from context", () => {
    full.template.hasResourceProperties("AWS::Lambda::Function", {
      MemorySize: 512,
      Timeout: 120,
      TracingConfig: { Mode: "Active" },
      Environment: { Variables: Match.objectLike({ POLICY: FULL_CONTEXT.policy }) },
    });
    direct.template.hasResourceProperties("AWS::Lambda::Function", { MemorySize: 1024, Timeout: 60 });
  });

  it("reserved concurrency applies in direct mode; in SQS mode it becomes the event source's maximum", () => {
    const reserved = synthesize({ ...SKIP_BUNDLING, reservedConcurrency: "7" });
    reserved.template.hasResourceProperties("AWS::Lambda::Function", { ReservedConcurrentExecutions: 7 });
    const fn = metadataFunction(full).Properties ?? {};
    expect(fn.ReservedConcurrentExecutions).toBeUndefined();
    full.template.hasResourceProperties("AWS::Lambda::EventSourceMapping", {
      ScalingConfig: { MaximumConcurrency: 20 },
    });
  });

  it("the deployed bundle is a minified, code-split ESM entry whose files stay inside the asset", () => {
    const asset = assetDir(direct);
    const files = bundleFiles(asset);
    expect(files).toContain(HANDLER_FILE);
    expect(files.filter((f) => f.startsWith("chunks/")).length).toBeGreaterThan(5);
    let total = 0;
    let checked = 0;
    for (const file of files) {
      const text = readFileSync(path.join(asset, file), "utf8");
      total += text.length;
      expect(existsSync(path.join(asset, `${file}.map`)), `${file}.map`).toBe(true);
      expect(text.startsWith(HANDLER_BUNDLE.banner), file).toBe(true);
      // Every import is a chunk of this asset, a Node built-in or sharp (shipped beside it when used).
      // Minified: `from"x"`, `import"x"`, `import("x")`, with no spaces (which keeps prose in strings out).
      // (A property named `from` followed by a string is not a module name: only those are checked.)
      const specifiers = [...text.matchAll(/(?:\bfrom|\bimport\(?)"([^"]+)"/g)]
        .map((match) => match[1] ?? "")
        .filter((name) => /^(\.{1,2}\/[\w./-]+|(node:)?@?[a-z0-9][\w.-]*(\/[\w.-]+)*)$/.test(name));
      checked += specifiers.length;
      for (const specifier of specifiers) {
        if (specifier.startsWith(".")) {
          expect(existsSync(path.resolve(path.dirname(path.join(asset, file)), specifier)), specifier).toBe(
            true,
          );
        } else {
          const bare = specifier.replace(/^node:/, "");
          expect(builtinModules.includes(bare) || HANDLER_BUNDLE.external.includes(bare as never), bare).toBe(
            true,
          );
        }
      }
    }
    expect(checked).toBeGreaterThan(files.length);
    expect(total).toBeLessThanOrEqual(2 * 1024 * 1024);
    // The entry holds what init needs, not the extractors' libraries: well under half of the whole.
    expect(statSync(path.join(asset, HANDLER_FILE)).size).toBeLessThan(total / 2);
    const entry = readFileSync(path.join(asset, HANDLER_FILE), "utf8");
    // Minified: long lines (only template literals and legal comments keep their line breaks).
    expect(entry.length / entry.split("\n").length).toBeGreaterThan(2000);
  });

  it("a failed build fails the synth; Docker is never tried in its place", () => {
    const outdir = mkdtempSync(path.join(tmpdir(), "catalog-cdk-"));
    outdirs.push(outdir);
    const stack = new Stack(new App({ outdir }), "Broken");
    expect(
      () =>
        new lambda.Function(stack, "Fn", {
          code: handlerCode({ entry: path.join(PROJECT_ROOT, "src", "lambda", "missing-entry.ts") }),
          handler: "index.handler",
          runtime: lambda.Runtime.NODEJS_22_X,
        }),
    ).toThrow(/missing-entry\.ts/);
  });
});

/** The stack's log group a function's logging configuration points it at; fails when it points nowhere in the stack. */
function logGroupOf(s: Synthesized, fn: CfnResource): CfnResource & { id: string } {
  const config = fn.Properties?.LoggingConfig as { LogGroup?: { Ref?: string } } | undefined;
  const id = config?.LogGroup?.Ref ?? "";
  const group = s.json.Resources[id];
  expect(group?.Type, `log group of ${JSON.stringify(fn.Properties?.Description)}`).toBe(
    "AWS::Logs::LogGroup",
  );
  return { ...(group as CfnResource), id };
}

// Lambda creates `/aws/lambda/<name>` for a function that names no log group, at its first invocation: kept
// forever, and left behind by `cdk destroy`. CDK's notification handler is such a function unless the stack
// gives it one.
describe("log groups: every function of the stack logs to a group the stack owns", () => {
  it.each([
    ["direct", () => direct],
    ["sqs", () => sqs],
    ["full", () => full],
    ["existing bucket", () => existing],
  ])(
    "%s: the metadata function and CDK's notification handler, the only two, with the same retention",
    (_, get) => {
      const s = get();
      const functions = ofType(s, "AWS::Lambda::Function");
      expect(functions).toHaveLength(2);
      for (const fn of functions) {
        const group = logGroupOf(s, fn);
        expect(group.Properties?.RetentionInDays).toBe(30);
        expect(group.DeletionPolicy).toBe("Retain");
      }
      expect(new Set(functions.map((fn) => logGroupOf(s, fn).id)).size).toBe(2);
    },
  );

  it("the notification handler's group keeps the stack's retention and goes with a throw-away stack", () => {
    const dev = synthesize({ ...SKIP_BUNDLING, logRetentionDays: "7", retain: "false" });
    for (const fn of ofType(dev, "AWS::Lambda::Function")) {
      const group = logGroupOf(dev, fn);
      expect(group.Properties?.RetentionInDays).toBe(7);
      expect(group.DeletionPolicy).toBe("Delete");
    }
  });

  // The custom resource invokes the handler through its ARN and the handler names its log group, so
  // CloudFormation creates the group before the first invocation and deletes it after the last one.
  it.each([
    ["direct", () => direct],
    ["sqs", () => sqs],
  ])("%s: the group exists before the notification custom resource first runs the handler", (_, get) => {
    const s = get();
    const token = only(s, "Custom::S3BucketNotifications").Properties?.ServiceToken as {
      "Fn::GetAtt": [string, string];
    };
    const [handlerId] = token["Fn::GetAtt"];
    const handler = s.json.Resources[handlerId];
    expect(handler?.Type).toBe("AWS::Lambda::Function");
    expect(handlerId).not.toBe(
      s.stack.getLogicalId(s.stack.metadataFunction.function.node.defaultChild as never),
    );
    const group = logGroupOf(s, handler as CfnResource);
    expect(group.id).toBe(
      s.stack.getLogicalId(s.stack.trigger.notificationHandlerLogGroup.node.defaultChild as never),
    );
  });
});

describe("bundle options are one definition", () => {
  it("the stack's asset is byte for byte what the benchmark's esbuild options build", () => {
    const asset = assetDir(direct);
    const outdir = mkdtempSync(path.join(tmpdir(), "catalog-bundle-"));
    outdirs.push(outdir);
    let installs: string[] = [];
    bundleHandler(outdir, { run: (command) => installs.push(command) });
    expect(installs).toEqual([]);
    // Chunk names carry a hash that also covers the source map, whose paths are relative to the output
    // folder; with the hashes masked, names and code must be identical.
    const unhashed = (text: string) => text.replace(/-[A-Z0-9]{8}\.mjs/g, "-HASH.mjs");
    const files = bundleFiles(outdir);
    expect(files.map(unhashed)).toEqual(bundleFiles(asset).map(unhashed));
    const code = (dir: string) =>
      bundleFiles(dir)
        .map((file) => `${unhashed(file)}\n${unhashed(readFileSync(path.join(dir, file), "utf8"))}`)
        .sort();
    expect(code(outdir)).toEqual(code(asset));
    installs = [];
    bundleHandler(outdir, { shipSharp: true, run: (command) => installs.push(command) });
    expect(installs).toEqual([sharpInstallCommand(outdir)]);
  });
});

describe("table", () => {
  it.each([
    ["direct", () => direct],
    ["sqs", () => sqs],
  ])("%s: on demand, PITR, encrypted, TTL, retained, keys and GSIs from schema.ts", (_, get) => {
    const s = get();
    const table = only(s, "AWS::DynamoDB::Table");
    expect(table.DeletionPolicy).toBe("Retain");
    const p = table.Properties as Record<string, unknown>;
    expect(p.BillingMode).toBe("PAY_PER_REQUEST");
    expect(p.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    expect(p.SSESpecification).toMatchObject({ SSEEnabled: true });
    expect(p.TimeToLiveSpecification).toEqual({ AttributeName: TTL_ATTRIBUTE, Enabled: true });
    expect(p.DeletionProtectionEnabled).toBe(true);
    expect(p.KeySchema).toEqual([
      { AttributeName: PARTITION_KEY, KeyType: "HASH" },
      { AttributeName: SORT_KEY, KeyType: "RANGE" },
    ]);
    const gsis = p.GlobalSecondaryIndexes as Record<string, unknown>[];
    expect(gsis.map((g) => g.IndexName).sort()).toEqual(
      Object.values(INDEXES)
        .map((i) => i.name)
        .sort(),
    );
    for (const index of Object.values(INDEXES)) {
      expect(gsis).toContainEqual({
        IndexName: index.name,
        KeySchema: [
          { AttributeName: index.partitionKey, KeyType: "HASH" },
          { AttributeName: index.sortKey, KeyType: "RANGE" },
        ],
        Projection: { ProjectionType: "INCLUDE", NonKeyAttributes: [...index.projection] },
      });
    }
  });

  it("retain=false lets a development stack delete the table and bucket", () => {
    const dev = synthesize({ ...SKIP_BUNDLING, retain: "false" });
    expect(only(dev, "AWS::DynamoDB::Table").DeletionPolicy).toBe("Delete");
    expect(only(dev, "AWS::DynamoDB::Table").Properties?.DeletionProtectionEnabled).toBe(false);
    expect(only(dev, "AWS::S3::Bucket").DeletionPolicy).toBe("Delete");
  });
});

describe("trigger", () => {
  it.each([
    ["direct", () => direct, "LambdaFunctionArn"],
    ["sqs", () => sqs, "QueueArn"],
  ])("%s: ObjectCreated, ObjectRemoved and LifecycleExpiration of the whole bucket", (_, get, target) => {
    const configs = notificationConfigs(get());
    // A lifecycle rule's expirations are not ObjectRemoved events; without them expired objects stay live.
    expect(configs.map((c) => c.Events).sort()).toEqual([
      ["s3:LifecycleExpiration:*"],
      ["s3:ObjectCreated:*"],
      ["s3:ObjectRemoved:*"],
    ]);
    for (const c of configs) expect(c[target as keyof NotificationConfig]).toBeDefined();
  });

  it("whole bucket watched: derived artefacts are excluded because the function cannot write any object", () => {
    for (const s of [direct, sqs]) {
      expect(s.stack.trigger.derivedExclusion).toBe("no-derived-writes");
      const writes = actionSet(s).filter((a) => /^s3:(PutObject|CopyObject|RestoreObject)/.test(a));
      expect(writes).toEqual([]);
      expect(s.json.Outputs.DerivedExclusion?.Value).toBe("no-derived-writes");
    }
  });

  it("prefix filter: no notification delivers a derived key, every one delivers a watched key", () => {
    expect(full.stack.trigger.derivedExclusion).toBe("prefix-filter");
    const configs = notificationConfigs(full);
    // One configuration per suffix and event type.
    expect(configs).toHaveLength(6);
    for (const key of ["_derived/uploads/a.jpg", "_derived/a.png", "_derived/thumb/uploads/b.png"]) {
      expect(
        configs.filter((c) => delivers(c, key)),
        key,
      ).toEqual([]);
    }
    for (const key of ["uploads/a.jpg", "uploads/x/y.png"]) {
      expect(
        configs.filter((c) => delivers(c, key)),
        key,
      ).toHaveLength(3);
    }
    expect(configs.filter((c) => delivers(c, "uploads/a.gif"))).toEqual([]);
    // The only write the function may make is under the derived prefix, which no filter covers.
    const puts = resourcesOf(full, "s3:PutObject");
    expect(puts).toHaveLength(1);
    expect(puts[0]).toContain('"/_derived/*"');
    // So is the only delete (a deleted object's thumbnail), in the statement that grants the GetObject
    // S3 checks for a delete conditional on an ETag.
    const deletes = resourcesOf(full, "s3:DeleteObject");
    expect(deletes).toEqual(puts);
    const derived = functionRoleStatements(full).filter((st) => st.actions.includes("s3:DeleteObject"));
    expect(derived.map((st) => st.actions.filter((a) => a.startsWith("s3:")).sort())).toEqual([
      ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"],
    ]);
  });

  it("tombstones expire only when tombstoneTtlDays says so, through the table's TTL attribute", () => {
    full.template.hasResourceProperties("AWS::Lambda::Function", {
      Environment: { Variables: Match.objectLike({ TOMBSTONE_TTL_DAYS: "30" }) },
    });
    direct.template.hasResourceProperties("AWS::Lambda::Function", {
      Environment: { Variables: Match.not(Match.objectLike({ TOMBSTONE_TTL_DAYS: Match.anyValue() })) },
    });
    full.template.hasResourceProperties("AWS::DynamoDB::Table", {
      TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
    });
  });

  it("thumbnails are on exactly where the function may write them, with sharp shipped for linux-arm64", () => {
    for (const [s, on] of [
      [direct, false],
      [sqs, false],
      [full, true],
    ] as const) {
      s.template.hasResourceProperties("AWS::Lambda::Function", {
        Environment: { Variables: Match.objectLike({ THUMBNAILS: on ? "true" : "false" }) },
      });
    }
    const commands = [sharpInstallCommand("/tmp/asset")];
    expect(commands[0]).toMatch(/^cd '\/tmp\/asset' && /);
    expect(commands[0]).toContain(`--os=linux --cpu=arm64 --libc=glibc sharp@${installedSharpVersion()}`);
    expect(installedSharpVersion()).toMatch(/^\d+\.\d+\.\d+$/);
    // A quote in the asset path cannot end the shell word early.
    expect(sharpInstallCommand("/tmp/it's", "1.0.0")).toMatch(/^cd '\/tmp\/it'\\''s' && /);
  });

  it("direct: failed asynchronous invocations are retried twice, then go to the DLQ", () => {
    const dlqId = direct.stack.getLogicalId(direct.stack.trigger.deadLetterQueue.node.defaultChild as never);
    direct.template.hasResourceProperties("AWS::Lambda::EventInvokeConfig", {
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: { "Fn::GetAtt": [dlqId, "Arn"] } } },
    });
    expect(ofType(direct, "AWS::SQS::Queue")).toHaveLength(1);
    expect(ofType(direct, "AWS::Lambda::EventSourceMapping")).toHaveLength(0);
  });

  it("sqs: queue redrives to the DLQ, the function reports partial batch failures, S3 may send", () => {
    const dlqId = sqs.stack.getLogicalId(sqs.stack.trigger.deadLetterQueue.node.defaultChild as never);
    const queueId = sqs.stack.getLogicalId(sqs.stack.trigger.queue?.node.defaultChild as never);
    sqs.template.hasResourceProperties("AWS::SQS::Queue", {
      RedrivePolicy: { deadLetterTargetArn: { "Fn::GetAtt": [dlqId, "Arn"] }, maxReceiveCount: 5 },
      VisibilityTimeout: 360,
      SqsManagedSseEnabled: true,
    });
    sqs.template.hasResourceProperties("AWS::Lambda::EventSourceMapping", {
      EventSourceArn: { "Fn::GetAtt": [queueId, "Arn"] },
      FunctionResponseTypes: ["ReportBatchItemFailures"],
      BatchSize: 10,
    });
    sqs.template.hasResourceProperties("AWS::SQS::QueuePolicy", {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: "Allow",
            Principal: { Service: "s3.amazonaws.com" },
            Condition: { ArnLike: { "aws:SourceArn": Match.anyValue() } },
          }),
        ]),
      },
    });
    expect(ofType(sqs, "AWS::Lambda::EventInvokeConfig")).toHaveLength(0);
  });
});

describe("IAM: the function's role grants exactly what the handler calls", () => {
  it.each([
    [
      "direct",
      () => direct,
      [...BASE_ACTIONS, "sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:SendMessage"].sort(),
    ],
    [
      "sqs",
      () => sqs,
      [
        ...BASE_ACTIONS,
        "sqs:ChangeMessageVisibility",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
        "sqs:GetQueueUrl",
        "sqs:ReceiveMessage",
      ].sort(),
    ],
    [
      "full",
      () => full,
      [
        ...BASE_ACTIONS,
        "kms:Decrypt",
        "kms:GenerateDataKey",
        "s3:DeleteObject",
        "s3:GetObjectTagging",
        "s3:GetObjectVersion",
        "s3:GetObjectVersionTagging",
        "s3:PutObject",
        "s3:PutObjectTagging",
        "s3:PutObjectVersionTagging",
        "sqs:ChangeMessageVisibility",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
        "sqs:GetQueueUrl",
        "sqs:ReceiveMessage",
        "xray:PutTelemetryRecords",
        "xray:PutTraceSegments",
      ].sort(),
    ],
  ])("%s: the exact action set, no wildcard action, Resource * only for X-Ray", (_, get, expected) => {
    const s = get();
    expect(actionSet(s)).toEqual(expected);
    for (const st of functionRoleStatements(s)) {
      for (const action of st.actions) expect(action, "wildcard action").not.toContain("*");
      if (st.resources.includes("*")) {
        expect(
          st.actions.every((a) => a.startsWith("xray:")),
          JSON.stringify(st),
        ).toBe(true);
      }
    }
  });

  it("reads are scoped to the watched prefix; tagging to the same keys; table actions to the table and its indexes", () => {
    for (const action of ["s3:GetObjectVersion", "s3:PutObjectTagging"]) {
      const resources = resourcesOf(full, action);
      expect(resources, action).toHaveLength(1);
      expect(resources[0], action).toContain('"/uploads/*"');
    }
    // GetObject also on the derived prefix, for the thumbnail deletes conditional on an ETag (see below).
    const gets = resourcesOf(full, "s3:GetObject");
    expect(gets).toHaveLength(2);
    expect(gets[0]).toContain('"/uploads/*"');
    expect(gets[1]).toContain('"/_derived/*"');
    const table = resourcesOf(direct, "dynamodb:PutItem");
    expect(table).toHaveLength(2);
    expect(table[0]).toMatch(/CatalogTable.*Arn/);
    expect(table[1]).toContain("/index/*");
    expect(resourcesOf(direct, "s3:GetObject")[0]).toContain('"/*"');
  });

  // CDK's own notification custom resource included: its inline policy names the watched bucket.
  it.each([
    ["direct", () => direct],
    ["sqs", () => sqs],
    ["full", () => full],
    ["existing bucket", () => existing],
  ])("%s: no statement of any policy in the stack is on Resource * but X-Ray's", (_, get) => {
    const s = get();
    const onStar = ofType(s, "AWS::IAM::Policy")
      .flatMap(
        (p) =>
          ((p.Properties?.PolicyDocument ?? { Statement: [] }) as { Statement: Record<string, unknown>[] })
            .Statement,
      )
      .filter((st) => ([] as unknown[]).concat(st.Resource).includes("*"))
      .flatMap((st) => ([] as string[]).concat(st.Action as string | string[]));
    expect(onStar.filter((action) => !action.startsWith("xray:"))).toEqual([]);
    const notifications = ofType(s, "AWS::IAM::Policy").filter((p) =>
      JSON.stringify(p.Properties?.Roles).includes("BucketNotificationsHandler"),
    );
    expect(notifications).toHaveLength(1);
    const statements = (
      (notifications[0]?.Properties?.PolicyDocument ?? { Statement: [] }) as { Statement: unknown[] }
    ).Statement;
    for (const st of statements) {
      expect(JSON.stringify(st)).toMatch(/"Action":"s3:(Put|Get)BucketNotification"/);
      expect(JSON.stringify(st)).toMatch(/UploadsBucket[0-9A-F]{8}","Arn"|:s3:::my-existing-uploads"/);
    }
  });

  it("tagging is granted only when the policy tags rejected objects", () => {
    const untagged = synthesize({ ...SKIP_BUNDLING, policy: '{"tagRejected":false,"maxSizeBytes":1000}' });
    expect(actionSet(untagged).filter((a) => a.includes("Tagging"))).toEqual([]);
    expect(actionSet(direct).filter((a) => a.includes("Tagging"))).toEqual([]);
  });
});

describe("alarms and outputs", () => {
  it.each([
    ["direct", () => direct, 7],
    ["sqs", () => sqs, 6],
  ])(
    "%s: errors, throttles, DLQ depth > 0 and age, then queue age and events failed (SQS) or Lambda's async queue (direct)",
    (_, get, count) => {
      const s = get();
      expect(ofType(s, "AWS::CloudWatch::Alarm")).toHaveLength(count);
      s.template.hasResourceProperties("AWS::CloudWatch::Alarm", { MetricName: "Errors", Threshold: 1 });
      s.template.hasResourceProperties("AWS::CloudWatch::Alarm", { MetricName: "Throttles", Threshold: 1 });
      s.template.hasResourceProperties("AWS::CloudWatch::Alarm", {
        MetricName: "ApproximateNumberOfMessagesVisible",
        Threshold: 0,
        ComparisonOperator: "GreaterThanThreshold",
      });
      if (s === sqs) {
        s.template.hasResourceProperties("AWS::CloudWatch::Alarm", {
          MetricName: "ApproximateAgeOfOldestMessage",
        });
        s.template.hasResourceProperties("AWS::CloudWatch::Alarm", {
          Namespace: METRICS_NAMESPACE,
          MetricName: "EventsFailed",
        });
      } else {
        for (const metric of ["AsyncEventsDropped", "DestinationDeliveryFailures", "AsyncEventAge"]) {
          s.template.hasResourceProperties("AWS::CloudWatch::Alarm", {
            Namespace: "AWS/Lambda",
            MetricName: metric,
          });
        }
      }
      expect(ofType(s, "AWS::SNS::Topic")).toHaveLength(0);
    },
  );

  // Quiet periods have no Errors/Throttles datapoints at all: missing data is "no problem", not "unknown".
  // The DLQ's age alarm watches a threshold days away, so an hour is its period.
  it("every alarm treats missing data as not breaching; Lambda and the catalog's own metrics over 5 minutes, queues over 1, DLQ age over 60", () => {
    for (const s of [direct, sqs]) {
      const dlqAge = s.stack.alarms.alarms.find((a) => a.node.id === "DeadLetterAge");
      const dlqAgeId = s.stack.getLogicalId(dlqAge?.node.defaultChild as never);
      for (const [id, alarm] of Object.entries(s.template.findResources("AWS::CloudWatch::Alarm"))) {
        const p = alarm.Properties ?? {};
        expect(p.TreatMissingData, id).toBe("notBreaching");
        const perFiveMinutes = p.Namespace === "AWS/Lambda" || p.Namespace === METRICS_NAMESPACE;
        expect(p.Period, id).toBe(id === dlqAgeId ? 3600 : perFiveMinutes ? 300 : 60);
      }
    }
  });

  it("sqs: batches above ten messages wait up to a second to fill; ten or fewer are sent at once", () => {
    const big = synthesize({ ...SKIP_BUNDLING, mode: "sqs", batchSize: "100" });
    big.template.hasResourceProperties("AWS::Lambda::EventSourceMapping", {
      BatchSize: 100,
      MaximumBatchingWindowInSeconds: 1,
    });
    const mapping = only(sqs, "AWS::Lambda::EventSourceMapping").Properties ?? {};
    expect(mapping.MaximumBatchingWindowInSeconds).toBeUndefined();
    // Lambda's guidance: six function timeouts plus the batching window, during which a message is already invisible.
    big.template.hasResourceProperties("AWS::SQS::Queue", { VisibilityTimeout: 6 * 60 + 1 });
    sqs.template.hasResourceProperties("AWS::SQS::Queue", { VisibilityTimeout: 6 * 60 });
  });

  it("an alarm email creates a TLS-only topic that every alarm notifies", () => {
    full.template.hasResourceProperties("AWS::SNS::Subscription", {
      Protocol: "email",
      Endpoint: "ops@example.com",
    });
    const topicId = full.stack.getLogicalId(full.stack.alarms.topic?.node.defaultChild as never);
    for (const alarm of ofType(full, "AWS::CloudWatch::Alarm")) {
      expect(alarm.Properties?.AlarmActions).toEqual([{ Ref: topicId }]);
    }
  });

  // Outputs hold CloudFormation functions; the keys in them are plain text between the tokens.
  it.each([
    [{}, "photo.jpg"],
    [{ prefix: "in/" }, "in/photo.jpg"],
    [{ suffixes: ".jpg,.png" }, "photo.jpg"],
    [{ prefix: "in/", suffixes: ".pdf,.docx" }, "in/example.pdf"],
  ])("%j: the ready commands name a key the notification filters deliver (%s)", (context, key) => {
    const { stack } = buildCatalogApp({ ...SKIP_BUNDLING, ...context });
    const outputs = Template.fromStack(stack).toJSON().Outputs as Record<string, { Value: unknown }>;
    const text = (name: string) => JSON.stringify(outputs[name]?.Value);
    const file = key.slice(key.lastIndexOf("/") + 1);
    expect(text("UploadCommand")).toContain(`aws s3 cp ./${file} s3://`);
    expect(text("UploadCommand")).toContain(`/${key} --region `);
    expect(text("QueryCommand")).toContain(`#${key}\\"}}'`);
    expect(text("CatalogCommand")).toContain(`/${key} --region `);
  });

  it("outputs name the bucket, table, function and DLQ and give ready commands", () => {
    for (const name of [
      "BucketName",
      "TableName",
      "FunctionName",
      "DeadLetterQueueName",
      "DeadLetterQueueArn",
      "QueryCommand",
    ]) {
      expect(direct.json.Outputs[name], name).toBeDefined();
    }
    const query = JSON.stringify(direct.json.Outputs.QueryCommand?.Value);
    expect(query).toContain("aws dynamodb query");
    expect(query).toContain("OBJ#");
    expect(sqs.json.Outputs.QueueUrl).toBeDefined();
  });
});

/** The stack's own warnings: that a full SQS batch may outlast the function's timeout. */
function batchWarnings(stack: Stack): string[] {
  return Annotations.fromStack(stack)
    .findWarning("*", Match.stringLikeRegexp("catalog:batch-may-time-out"))
    .map((message) => String(message.entry.data));
}

// One invocation takes the whole batch, 8 objects at a time, each within the extraction's 10 s budget (plus the
// thumbnail's 10 s with writeDerived); a batch that may need longer than the timeout is deployed with a warning.
describe("sqs: a full batch against the function timeout", () => {
  it.each([
    ["direct", () => direct],
    ["sqs (10 messages, 60 s: two rounds of 10 s)", () => sqs],
    ["full (10 messages with thumbnails, 120 s)", () => full],
    ["existing bucket", () => existing],
  ])("%s: no warning", (_, get) => {
    expect(batchWarnings(get().stack)).toEqual([]);
  });

  it.each([
    [{ batchSize: "48" }, undefined],
    [
      { batchSize: "49" },
      "batchSize 49 with a 60 s function timeout: the function gives an object up to 10 s (the extraction's time budget) and works through a batch 8 objects at a time, so a full batch may need 70 s; a batch that runs out of time is retried whole, and after maxReceiveCount receives all its messages go to the dead-letter queue; keep batchSize at 48 or below, or set timeoutSeconds to 70 or more",
    ],
    [{ batchSize: "24", writeDerived: "true", prefix: "in/" }, undefined],
    [
      { batchSize: "32", writeDerived: "true", prefix: "in/" },
      /up to 20 s \(the extraction's and the thumbnail's time budgets\).* may need 80 s; .*keep batchSize at 24 or below, or set timeoutSeconds to 80 or more/,
    ],
    // A timeout below one object's budget: no batch size helps.
    [
      { batchSize: "1", timeoutSeconds: "5" },
      /^batchSize 1 with a 5 s function timeout: .* may need 10 s; .*; set timeoutSeconds to 10 or more \[ack/,
    ],
    // Past Lambda's 15 minutes: only a smaller batch helps.
    [
      { batchSize: "10000", timeoutSeconds: "900" },
      /may need 12500 s; .*; keep batchSize at 720 or below \[ack: catalog:batch-may-time-out\]$/,
    ],
  ])("%j: %s", (context, warning) => {
    const s = synthesize({ ...SKIP_BUNDLING, mode: "sqs", ...context });
    const warnings = batchWarnings(s.stack);
    if (warning === undefined) expect(warnings).toEqual([]);
    else if (typeof warning === "string")
      expect(warnings).toEqual([`${warning} [ack: catalog:batch-may-time-out]`]);
    else expect(warnings).toEqual([expect.stringMatching(warning)]);
    // A warning, not a refusal: the template is built and cdk-nag has nothing to say about it.
    expect(ofType(s, "AWS::Lambda::EventSourceMapping")).toHaveLength(1);
    expect(s.nag).toEqual([]);
  });
});

describe("cdk-nag AwsSolutions", () => {
  it.each([
    ["direct", () => direct],
    ["sqs", () => sqs],
    ["full", () => full],
    ["existing bucket", () => existing],
  ])("%s: no unacknowledged error or warning", (_, get) => {
    expect(get().nag).toEqual([]);
  });

  // An acknowledgement that matches no finding states a reason nobody checked and would silence a real
  // finding that appears there later.
  it.each([
    ["direct", () => direct],
    ["sqs", () => sqs],
    ["full", () => full],
    ["existing bucket", () => existing],
  ])("%s: every acknowledgement silences a finding that exists", (_, get) => {
    const s = get();
    expect(s.unusedAcknowledgements).toEqual([]);
    expect(declaredAcknowledgements(s.stack.node.root as App).length).toBeGreaterThan(3);
  });

  it("the check is live: the same pack flags an unprotected bucket", async () => {
    const { App, Stack } = await import("aws-cdk-lib");
    const { Bucket } = await import("aws-cdk-lib/aws-s3");
    const app = new App();
    new Bucket(new Stack(app, "Bare"), "B");
    const rules = new AwsSolutionsChecks(app).validateScope(app).violations.map((v) => v.ruleName);
    expect(rules).toEqual(expect.arrayContaining(["AwsSolutions-S1", "AwsSolutions-S10"]));
  });

  it("every acknowledgement carries a reason", () => {
    let seen = 0;
    for (const construct of full.stack.node.findAll()) {
      for (const entry of construct.node.metadata) {
        if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
        for (const [id, reason] of Object.entries(entry.data as Record<string, unknown>)) {
          seen++;
          expect(String(reason).length, id).toBeGreaterThan(40);
        }
      }
    }
    expect(seen).toBeGreaterThan(3);
  });
});

/** A function with inline code, for a construct built without the stack. */
function inlineFunction(stack: Stack): lambda.Function {
  return new lambda.Function(stack, "Fn", {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: "index.handler",
    code: lambda.Code.fromInline("export const handler = async () => {};"),
  });
}

/** Denied prefixes, 13 bytes an entry in the policy; 300 of them are too many for Lambda's 4 KB however it is counted. */
const prefixList = (n: number) => Array.from({ length: n }, (_, i) => `tmp-${String(i).padStart(5, "0")}/`);
const LONG_PREFIX_LIST = prefixList(300);
/**
 * 3.5 KB of policy: names and values of the environment add up to under 4 KB, but Lambda measures the
 * environment as JSON, where each entry's two quotes are escaped (15 bytes an entry).
 */
const QUOTED_PREFIX_LIST = prefixList(270);

describe("conflicting or invalid settings are rejected before anything is built", () => {
  it.each([
    [{ existingBucketName: "b", encryption: "kms" }, /existingBucketName cannot be combined with encryption/],
    [{ existingBucketName: "b", versioned: "true" }, /existingBucketName cannot be combined with versioned/],
    [{ writeDerived: "true" }, /derived writes need a prefix filter/],
    [{ prefix: "_derived/" }, /lies inside the derived prefix|overlaps the derived prefix/],
    [{ prefix: "_derived/in/" }, /lies inside the derived prefix|overlaps the derived prefix/],
    [{ prefix: "_" }, /overlaps the derived prefix/],
    [{ derivedPrefix: "thumbs" }, /must be non-empty, end with "\/"/],
    // The write grant would be bucket/*/*: every upload in a folder, not the derived artefacts.
    [
      { derivedPrefix: "*/", prefix: "uploads/", writeDerived: "true" },
      /derivedPrefix "\*\/" cannot contain "\*" or "\?"/,
    ],
    [{ derivedPrefix: "thumb?/" }, /derivedPrefix "thumb\?\/" cannot contain/],
    [{ mode: "sqs", retryAttempts: "1" }, /retryAttempts only applies to mode "direct"/],
    [{ batchSize: "5" }, /only apply to mode "sqs"/],
    [{ alarmEmail: "a@b.c", alarmTopicArn: "arn:aws:sns:eu-west-1:1:t" }, /alternatives/],
    [{ mode: "fifo" }, /context "mode".*one of direct, sqs/],
    [{ memoryMiB: "lots" }, /context "memoryMiB"/],
    [{ memoryMiB: 64 }, /context "memoryMiB"/],
    [{ logRetentionDays: "31" }, /context "logRetentionDays": 31 is not a retention/],
    [{ logRetentionDays: "9999" }, /context "logRetentionDays"/],
    [{ policy: "{not json" }, /context "policy".*valid JSON/],
    [{ policy: '{"tagEverything":true}' }, /tagEverything is not a known field/],
    [{ versioned: "yes" }, /context "versioned".*true or false/],
    [{ sourceMaps: "on" }, /context "sourceMaps".*true or false/],
    [{ systemLogLevel: "ERROR" }, /context "systemLogLevel".*one of DEBUG, INFO, WARN/],
    [{ tombstoneTtlDays: "0" }, /context "tombstoneTtlDays".*an integer from 1 to 36500/],
    // S3 accepts these filters but no key ever matches them.
    [{ prefix: "/uploads/" }, /prefix "\/uploads\/" cannot match: S3 keys have no leading/],
    [{ prefix: "s3://photos/uploads/" }, /prefix "s3:\/\/photos\/uploads\/" cannot match/],
    [{ suffixes: "*.jpg" }, /suffix "\*\.jpg" cannot contain "\*"/],
    // S3 refuses these at deploy time ("Configurations overlap").
    [{ suffixes: ".jpg,.png,.jpg" }, /suffixes lists "\.jpg" twice/],
    [{ suffixes: ".jpeg,jpeg" }, /suffixes "jpeg" and "\.jpeg" overlap/],
    // In SQS mode it is the event source's maximum concurrency, which Lambda takes from 2 to 1000.
    [{ mode: "sqs", reservedConcurrency: "1" }, /context "reservedConcurrency": 1 is not from 2 to 1000/],
    [
      { mode: "sqs", reservedConcurrency: "5000" },
      /context "reservedConcurrency": 5000 is not from 2 to 1000/,
    ],
    // A failing event is received once per visibility timeout (six function timeouts): 100 x 90 minutes
    // outlasts the event queue's 4 days, so SQS would delete it before it reached the DLQ.
    [
      { mode: "sqs", maxReceiveCount: "100", timeoutSeconds: "900" },
      /maxReceiveCount 100 with a 900 s function timeout .* longer than the event queue keeps it \(4 days\): it would expire unseen; keep maxReceiveCount at 64 or below/,
    ],
    [{ mode: "sqs", maxReceiveCount: "1000" }, /maxReceiveCount 1000 .*keep maxReceiveCount at 960 or below/],
    // A batching window (batches above ten messages) adds a second to every visibility timeout: 4 days / 361 s.
    [
      { mode: "sqs", batchSize: "11", maxReceiveCount: "958" },
      /maxReceiveCount 958 .*\(a 361 s visibility timeout per receive\).*keep maxReceiveCount at 957 or below/,
    ],
    // SNS refuses these only at deploy time.
    [{ alarmEmail: "ops" }, /alarmEmail "ops" is not an email address/],
    [{ alarmTopicArn: "alarms" }, /alarmTopicArn "alarms" is not an SNS topic ARN/],
    [{ alarmTopicArn: "arn:aws:sqs:eu-west-1:123456789012:q" }, /is not an SNS topic ARN/],
    // Lambda refuses an environment over 4 KB; the policy is the part that can grow.
    [
      { policy: JSON.stringify({ deniedPrefixes: LONG_PREFIX_LIST }) },
      /environment would take up to \d+ bytes, over Lambda's limit of 4096; the policy is \d+ of them/,
    ],
    [
      { policy: JSON.stringify({ deniedPrefixes: QUOTED_PREFIX_LIST }) },
      /environment would take up to \d+ bytes, over Lambda's limit of 4096; the policy is 4072 of them/,
    ],
    // A mistyped key would otherwise leave its default in place without a word.
    [{ memorymib: "512" }, /context "memorymib" is not an option of this app; did you mean "memoryMiB"\?/],
    [{ memorySize: "512" }, /context "memorySize" is not an option of this app \(options: stackName, mode,/],
  ])("%j", (context, message) => {
    const outdir = mkdtempSync(path.join(tmpdir(), "catalog-refused-"));
    outdirs.push(outdir);
    // Bundling stays on: the handler's bundle is the slow part of a synth, and it writes its directory
    // into the outdir, so an empty outdir shows the setting was refused before it.
    expect(() => buildCatalogApp(context, { outdir })).toThrow(message);
    expect(readdirSync(outdir)).toEqual([]);
  });

  // Each construct is usable without the settings (and without the stack's validation): it keeps the checks.
  it.each<[string, (stack: Stack) => unknown, RegExp]>([
    [
      "CatalogBucket",
      (stack) => new CatalogBucket(stack, "Uploads", { existingBucketName: "b", versioned: true }),
      /existingBucketName cannot be combined with versioned/,
    ],
    [
      "CatalogFunction",
      (stack) =>
        new CatalogFunction(stack, "Metadata", {
          bucket: new CatalogBucket(stack, "Uploads"),
          table: new CatalogTable(stack, "Catalog").table,
          policy: '{"tagEverything":true}',
        }),
      /tagEverything is not a known field/,
    ],
    [
      "CatalogTrigger",
      (stack) =>
        new CatalogTrigger(stack, "Trigger", {
          bucket: new CatalogBucket(stack, "Uploads"),
          function: inlineFunction(stack),
          functionTimeout: Duration.seconds(60),
          suffixes: ["*.jpg"],
        }),
      /suffix "\*\.jpg" cannot contain "\*"/,
    ],
    [
      "CatalogTrigger (sqs)",
      (stack) =>
        new CatalogTrigger(stack, "Trigger", {
          bucket: new CatalogBucket(stack, "Uploads"),
          function: inlineFunction(stack),
          functionTimeout: Duration.seconds(900),
          mode: "sqs",
          maxReceiveCount: 65,
        }),
      /keep maxReceiveCount at 64 or below/,
    ],
    [
      "CatalogAlarms",
      (stack) =>
        new CatalogAlarms(stack, "Alarms", {
          function: inlineFunction(stack),
          deadLetterQueue: new sqsLib.Queue(stack, "DeadLetters"),
          deadLetterRetention: Duration.days(14),
          alarmTopicArn: "alarms",
        }),
      /alarmTopicArn "alarms" is not an SNS topic ARN/,
    ],
  ])("%s built on its own refuses the same values", (_name, build, message) => {
    expect(() => build(new Stack(new App({ context: SKIP_BUNDLING }), "Bare"))).toThrow(message);
  });

  it("sqs: the most receives that still reach the DLQ before the event queue drops a message are deployed", () => {
    // 4 days of 360-second visibility timeouts (six times the default 60-second function timeout).
    const { stack } = buildCatalogApp({ ...SKIP_BUNDLING, mode: "sqs", maxReceiveCount: "960" });
    const template = Template.fromStack(stack);
    template.hasResourceProperties("AWS::SQS::Queue", {
      VisibilityTimeout: 360,
      MessageRetentionPeriod: 4 * 24 * 3600,
      RedrivePolicy: Match.objectLike({ maxReceiveCount: 960 }),
    });
    expect(() => buildCatalogApp({ ...SKIP_BUNDLING, mode: "sqs", maxReceiveCount: "961" })).toThrow(
      /keep maxReceiveCount at 960 or below/,
    );
  });

  it("a policy of a few KB that leaves room for the rest of the environment is deployed", () => {
    const policy = JSON.stringify({ deniedPrefixes: prefixList(220) });
    expect(policy.length).toBeGreaterThan(2800);
    const { stack } = buildCatalogApp({ ...SKIP_BUNDLING, policy });
    Template.fromStack(stack).hasResourceProperties("AWS::Lambda::Function", {
      Environment: { Variables: Match.objectLike({ POLICY: policy }) },
    });
  });

  // docs/DEPLOY.md is where a deployer learns the options: its table lists exactly the keys the app reads.
  it("docs/DEPLOY.md lists every context key the app reads, and no other", () => {
    const deploy = readFileSync(path.join(PROJECT_ROOT, "docs", "DEPLOY.md"), "utf8");
    const section = deploy.slice(deploy.indexOf("## Deploy to AWS"), deploy.indexOf("## Worker mode"));
    const documented = section
      .split("\n")
      .filter((line) => line.startsWith("| `"))
      .flatMap((line) => [...(line.split("|")[1] ?? "").matchAll(/`(\w+)`/g)].map((m) => m[1]))
      .sort();
    const read = Object.keys(readCatalogSettings(new App().node)).sort();
    expect(documented).toEqual(read);
  });

  it("context given with -c (strings) and in cdk.json (JSON) mean the same", () => {
    const fromCli = synthesize({ ...SKIP_BUNDLING, suffixes: ".jpg, .png", memoryMiB: "256", prefix: "in/" });
    const fromJson = synthesize({
      ...SKIP_BUNDLING,
      suffixes: [".jpg", ".png"],
      memoryMiB: 256,
      prefix: "in/",
    });
    const strip = (s: Synthesized) =>
      JSON.stringify(notificationConfigs(s)) + JSON.stringify(metadataFunction(s).Properties?.MemorySize);
    expect(strip(fromCli)).toBe(strip(fromJson));
    expect(strip(fromCli)).toContain("256");
  });
});
