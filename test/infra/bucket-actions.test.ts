/**
 * The function's bucket permissions against what the handler really sends: every S3 request of an
 * object's life (read, versioned read, rejected and tagged, thumbnail written, deleted with its
 * thumbnail), recorded on the wire against the embedded S3 server, must be allowed by a statement of
 * the synthesized role on that very object ARN. s3rver checks no permissions, so a missing or too narrow
 * grant would otherwise fail only on AWS, as AccessDenied on every such event.
 *
 * The stack is the one that needs the most S3 actions (prefix, thumbnails, versioning, tagging policy),
 * and the handler runs with the environment that stack deploys (DERIVED_PREFIX, POLICY).
 */
import { Template } from "aws-cdk-lib/assertions";
import { afterAll, beforeAll, expect, it } from "vitest";
import { buildCatalogApp } from "../../infra/lib/catalog-stack.js";
import { toS3Notification } from "../../src/events/s3-event.js";
import { parsePolicy } from "../../src/policy/policy.js";
import { type HandlerStack, removal, startStack, upload } from "../lambda/fixtures.js";

/** A granted IAM statement with its resources resolved for the test bucket. */
interface Grant {
  actions: string[];
  resources: string[];
}

/** One S3 request as IAM authorizes it. */
interface Request {
  command: string;
  action: string;
  arn: string;
}

const CONTEXT = {
  "aws:cdk:bundling-stacks": [],
  prefix: "in/",
  writeDerived: "true",
  versioned: "true",
  policy: '{"allowedCategories":["image"],"tagRejected":true}',
};

/**
 * Which IAM actions authorize an S3 request (all of them must be allowed); a request the handler newly
 * makes fails the test here until it is mapped (and granted).
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_Operations.html, "Permissions" of each operation;
 * a DeleteObject with an ETag in If-Match needs s3:GetObject too
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-deletes.html), and so does a PutObject
 * with If-Match (https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html); one with
 * If-None-Match needs s3:PutObject alone.
 */
function iamActions(command: string, input: { VersionId?: string; IfMatch?: string }): string[] {
  const versioned = input.VersionId !== undefined;
  switch (command) {
    case "HeadObject":
    case "GetObject":
      return [versioned ? "s3:GetObjectVersion" : "s3:GetObject"];
    case "GetObjectTagging":
      return [versioned ? "s3:GetObjectVersionTagging" : "s3:GetObjectTagging"];
    case "PutObjectTagging":
      return [versioned ? "s3:PutObjectVersionTagging" : "s3:PutObjectTagging"];
    case "PutObject":
      return input.IfMatch !== undefined ? ["s3:PutObject", "s3:GetObject"] : ["s3:PutObject"];
    case "DeleteObject": {
      const deletion = versioned ? "s3:DeleteObjectVersion" : "s3:DeleteObject";
      return input.IfMatch !== undefined && input.IfMatch !== "*" ? [deletion, "s3:GetObject"] : [deletion];
    }
    case "ListObjectsV2":
      return ["s3:ListBucket"];
    default:
      throw new Error(
        `S3 ${command} has no IAM action mapped in this test: map it, and grant it in the stack`,
      );
  }
}

/** CloudFormation values of a resource, rendered with the bucket's ARN; anything else stays unmatched. */
function resolve(value: unknown, bucketId: string, bucketName: string): string {
  if (typeof value === "string") return value;
  const v = value as Record<string, unknown>;
  if (Array.isArray(v["Fn::GetAtt"]) && v["Fn::GetAtt"][0] === bucketId && v["Fn::GetAtt"][1] === "Arn") {
    return `arn:aws:s3:::${bucketName}`;
  }
  const join = v["Fn::Join"] as [string, unknown[]] | undefined;
  if (join) return join[1].map((part) => resolve(part, bucketId, bucketName)).join(join[0]);
  return `<unresolved ${JSON.stringify(value)}>`;
}

/** IAM's `*` in a resource matches any run of characters, `/` included. */
function matches(pattern: string, arn: string): boolean {
  const regex = pattern.split("*").map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  return new RegExp(`^${regex.join(".*")}$`).test(arn);
}

let stack: HandlerStack;
let grants: Grant[];
let environment: Record<string, unknown>;
const requests: Request[] = [];
/** Only the handler's requests count, not the test's own uploads through the same client. */
let recording = false;

beforeAll(async () => {
  stack = await startStack();
  const { stack: catalog } = buildCatalogApp(CONTEXT);
  const template = Template.fromStack(catalog);
  const json = template.toJSON() as { Resources: Record<string, { Type: string; Properties: unknown }> };
  const roleId = catalog.getLogicalId(catalog.metadataFunction.role.node.defaultChild as never);
  const bucketId = catalog.getLogicalId(catalog.bucket.bucket.node.defaultChild as never);
  const functionId = catalog.getLogicalId(catalog.metadataFunction.function.node.defaultChild as never);
  const fn = json.Resources[functionId]?.Properties as {
    Environment: { Variables: Record<string, unknown> };
  };
  environment = fn.Environment.Variables;
  grants = Object.values(json.Resources)
    .filter((r) => r.Type === "AWS::IAM::Policy")
    .map(
      (r) =>
        r.Properties as {
          Roles: unknown[];
          PolicyDocument: { Statement: { Effect: string; Action: unknown; Resource: unknown }[] };
        },
    )
    .filter((p) => p.Roles.some((role) => JSON.stringify(role) === JSON.stringify({ Ref: roleId })))
    .flatMap((p) => p.PolicyDocument.Statement)
    .filter((st) => st.Effect === "Allow")
    .map((st) => ({
      actions: ([] as string[]).concat(st.Action as string[]),
      resources: ([] as unknown[]).concat(st.Resource).map((r) => resolve(r, bucketId, stack.bucket)),
    }));

  stack.servers.s3.middlewareStack.add(
    (next, context) => async (args) => {
      if (!recording) return next(args);
      const command = (context.commandName ?? "").replace(/Command$/, "");
      const input = args.input as { Bucket?: string; Key?: string; VersionId?: string; IfMatch?: string };
      const object = input.Key === undefined ? "" : `/${input.Key}`;
      for (const action of iamActions(command, input)) {
        requests.push({ command, action, arn: `arn:aws:s3:::${input.Bucket}${object}` });
      }
      return next(args);
    },
    { step: "initialize", name: "recordBucketActions" },
  );
}, 120_000);
afterAll(() => stack.servers.stop());

it("sends only bucket requests the stack grants, on the keys it grants them for", async () => {
  // Prepare: the handler as the stack configures it.
  expect(environment.THUMBNAILS).toBe("true");
  const handle = stack.handler({
    policy: parsePolicy(JSON.parse(String(environment.POLICY))),
    derivedPrefix: String(environment.DERIVED_PREFIX),
    thumbnails: true,
  });
  const run = async (event: Parameters<typeof toS3Notification>[0][number]) => {
    recording = true;
    try {
      await handle(toS3Notification([event]));
    } finally {
      recording = false;
    }
  };
  const version = (n: number) => `3HL4kqtJlcpXroDTDmJ${n}`;

  // Act: read and thumbnail an image, then a new upload of it (its thumbnail replaced with If-Match), a
  // pinned version of one, a rejected file (tagged) and a rejected version (tagged by version), then delete
  // the first image, which deletes its thumbnail.
  await run(await upload(stack, "in/a.png", { corpus: "filetype-fixture.png" }));
  await run(await upload(stack, "in/a.png", { corpus: "filetype-fixture.gif" }));
  await run({
    ...(await upload(stack, "in/b.png", { corpus: "filetype-fixture.png" })),
    versionId: version(1),
  });
  await run(await upload(stack, "in/notes.txt", new TextEncoder().encode("not an image\n")));
  await run({
    ...(await upload(stack, "in/more.txt", new TextEncoder().encode("still not an image\n"))),
    versionId: version(2),
  });
  await run(removal(stack, "in/a.png"));

  // Assess: every request was one of these kinds (so the scenario covers what the stack grants)...
  const kinds = new Set(requests.map((r) => r.action));
  expect([...kinds].sort()).toEqual([
    "s3:DeleteObject",
    "s3:GetObject",
    "s3:GetObjectTagging",
    "s3:GetObjectVersion",
    "s3:GetObjectVersionTagging",
    "s3:PutObject",
    "s3:PutObjectTagging",
    "s3:PutObjectVersionTagging",
  ]);
  // Each thumbnail write looks at the key first (HeadObject: GetObject), then writes with If-None-Match
  // (PutObject alone) or, over an older thumbnail, with If-Match (which S3 authorizes with GetObject too).
  const derived = (command: string) =>
    requests.filter((r) => r.command === command && r.arn.includes("/_derived/")).map((r) => r.action);
  expect(derived("HeadObject")).toEqual(["s3:GetObject", "s3:GetObject", "s3:GetObject"]);
  expect(derived("PutObject")).toEqual(["s3:PutObject", "s3:PutObject", "s3:GetObject", "s3:PutObject"]);
  // The thumbnail's delete is conditional on its ETag, which S3 authorizes with GetObject on the thumbnail.
  expect(
    requests.filter((r) => r.command === "DeleteObject" && r.arn.includes("/_derived/")).map((r) => r.action),
  ).toEqual(["s3:DeleteObject", "s3:GetObject"]);
  // ...and each is allowed on its own object by some statement of the function's role.
  const denied = requests.filter(
    (r) => !grants.some((g) => g.actions.includes(r.action) && g.resources.some((p) => matches(p, r.arn))),
  );
  expect(denied).toEqual([]);
  // The handler runs the whole pipeline (extraction, thumbnails) five times: give a loaded machine time.
}, 120_000);

it("grants no bucket action the handler never sends, except ListBucket (404 rather than 403)", () => {
  // ListBucket is granted for S3's answer to a missing key: without it, a HeadObject of an object deleted
  // after its event is 403 and could not be told from a permissions fault.
  const sent = new Set(requests.map((r) => r.action));
  const granted = new Set(grants.flatMap((g) => g.actions).filter((a) => a.startsWith("s3:")));
  expect([...granted].filter((a) => !sent.has(a))).toEqual(["s3:ListBucket"]);
});
