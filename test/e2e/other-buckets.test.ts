/**
 * One catalog, several buckets, as a user meets them on the local stack:
 * `catalog dev` watches its one bucket, so a bucket made beside it with
 * `aws s3 mb` is not cataloged (said once, counted in /api/health) until
 * `catalog backfill s3://legacy-bucket/` catalogs it on demand; then
 * `catalog find --duplicates --bucket NAME` answers for that bucket, naming
 * every copy with its bucket. Needs `npm run build` (npm test does it).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, expect, it } from "vitest";
import { LOCAL_CREDENTIALS, LOCAL_REGION } from "../../src/local/local-stack.js";
import { CatalogStore } from "../../src/store/catalog-store.js";
import { corpusFile } from "../support/corpus.js";
import { describeWith } from "../support/tools.js";
import { awsCli, catalogCli, DevProcess, freePort, type StackPorts } from "./stack-process.js";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const LEGACY = "legacy-bucket";
const GIF = "filetype-fixture.gif";
const PNG = "filetype-fixture.png";

let dataDir: string;
let ports: StackPorts;
let dev: DevProcess | undefined;
let dynamodb: DynamoDBClient;
let store: CatalogStore;

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}\n--- catalog dev ---\n${dev?.output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** What the stack's /api/health says it left out: changes by bucket. */
async function unwatched(): Promise<Record<string, number>> {
  const response = await fetch(`http://127.0.0.1:${ports.http}/api/health`);
  return ((await response.json()) as { unwatched: Record<string, number> }).unwatched;
}

async function copy(file: string, url: string): Promise<void> {
  const result = await awsCli(`http://127.0.0.1:${ports.s3}`, "s3", "cp", corpusFile(file), url);
  expect(result.code, result.stderr).toBe(0);
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "catalog-buckets-"));
  ports = { s3: await freePort(), dynamodb: await freePort(), http: await freePort() };
  dev = await DevProcess.start(dataDir, ports);
  dynamodb = new DynamoDBClient({
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    endpoint: `http://127.0.0.1:${ports.dynamodb}`,
  });
  store = new CatalogStore(dynamodb, { tableName: "catalog" });
}, 40_000);

afterAll(async () => {
  dynamodb?.destroy();
  await dev?.kill();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
}, 20_000);

describeWith("aws")("a second bucket beside the watched one", () => {
  it("is not cataloged by catalog dev, which says so once and counts its changes", async () => {
    // Prepare: a bucket made beside the stack's, and the same GIF there (twice) and in uploads.
    const made = await awsCli(`http://127.0.0.1:${ports.s3}`, "s3", "mb", `s3://${LEGACY}`);
    expect(made.code, made.stderr).toBe(0);
    // Act
    await copy(GIF, `s3://${LEGACY}/old/x.gif`);
    await copy(GIF, `s3://${LEGACY}/old/y.gif`);
    await copy(PNG, `s3://${LEGACY}/old/only-here.png`);
    await copy(GIF, "s3://uploads/new/x.gif");
    // Assess: the watched bucket's object is cataloged; by then the others' events have been passed over.
    await waitFor(
      "the record of new/x.gif",
      async () => (await store.getObject("uploads", "new/x.gif")).record,
    );
    expect((await store.getObject(LEGACY, "old/x.gif")).record).toBeUndefined();
    expect(await unwatched()).toEqual({ [LEGACY]: 3 });
    const said = dev?.output.split("\n").filter((line) => line.includes(`s3://${LEGACY}/ is not watched`));
    expect(said).toEqual([
      // The backfill it names reaches this stack, on its ports, as printed.
      `s3://${LEGACY}/ is not watched: its changes are not cataloged (this stack catalogs 'uploads'; \`catalog backfill s3://${LEGACY}/ --s3-endpoint http://127.0.0.1:${ports.s3} --dynamodb-endpoint http://127.0.0.1:${ports.dynamodb} --api http://127.0.0.1:${ports.http}\` catalogs what it holds)`,
    ]);
  }, 40_000);

  it("is cataloged on demand by catalog backfill s3://legacy-bucket/", async () => {
    const result = await catalogCli(ports, "backfill", `s3://${LEGACY}/`, "--json");
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ scanned: 3, cataloged: 3, errors: 0 });
    expect((await store.getObject(LEGACY, "old/x.gif")).record).toMatchObject({ status: "ok" });
    // The thumbnails it wrote there are derived files: no change of the bucket's to count.
    expect(await unwatched()).toEqual({ [LEGACY]: 3 });
  }, 30_000);

  it("find --duplicates --bucket answers for that bucket, every copy named with its bucket", async () => {
    const legacy = await catalogCli(ports, "find", "--duplicates", "--bucket", LEGACY);
    expect(legacy.code, legacy.stderr).toBe(0);
    const copies = legacy.stdout.split("\n").filter((line) => line.startsWith("  "));
    expect(copies).toEqual([
      `  s3://${LEGACY}/old/x.gif`,
      `  s3://${LEGACY}/old/y.gif`,
      "  s3://uploads/new/x.gif",
    ]);
    expect(legacy.stdout).toMatch(/^sha256 [0-9a-f]{64} {2}20\.6 KiB {2}3 copies \(since /);

    // The GIF is held in uploads too: the same group, from the other side, the bucket's own copy first.
    const uploads = await catalogCli(ports, "find", "--duplicates", "--bucket", "uploads", "--json");
    expect(uploads.code, uploads.stderr).toBe(0);
    const groups = JSON.parse(uploads.stdout) as { objects: { bucket: string; key: string }[] }[];
    expect(groups.map((group) => group.objects.map((object) => `${object.bucket}/${object.key}`))).toEqual([
      ["uploads/new/x.gif", `${LEGACY}/old/x.gif`, `${LEGACY}/old/y.gif`],
    ]);

    // A bucket holding none of the duplicated content has none to show.
    const none = await catalogCli(ports, "find", "--duplicates", "--bucket", "elsewhere");
    expect(none.stdout).toBe(
      "no duplicates with a copy in elsewhere in the last 30 days (--since to look further back)\n",
    );
  }, 30_000);
});
