/**
 * The local catalog end to end, as a newcomer runs it: `catalog dev` in its
 * own process on free ports, uploads through the AWS SDK and the Debian AWS
 * CLI, records read back with `catalog show --json` and `aws dynamodb`,
 * a restart on the same data dir, a DynamoDB outage whose events go to the
 * dead-letter file and come back with `catalog dlq replay`, then backfill and
 * reprocess over what the outage wiped. Needs `npm run build` (npm test does it).
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DeleteTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, expect, it } from "vitest";
import { EXTRACTOR_VERSION } from "../../src/engine/version.js";
import { createChecksum } from "../../src/local/checksums.js";
import { LOCAL_CREDENTIALS, LOCAL_REGION, LOCAL_S3_CLIENT_OPTIONS } from "../../src/local/local-stack.js";
import { CatalogStore } from "../../src/store/catalog-store.js";
import { RECORD_SORT_KEY } from "../../src/store/schema.js";
import type { AuditEntry, CatalogRecord } from "../../src/store/types.js";
import { corpusFile, expectedEntries } from "../support/corpus.js";
import { describeWith } from "../support/tools.js";
import { awsCli, catalogCli, DevProcess, freePort, type StackPorts } from "./stack-process.js";

// This suite's own SDK clients: keep the SDK's notice about Node.js 22 out of the test log.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const BUCKET = "uploads";
const TABLE = "catalog";

/** Corpus files and the keys they go under; keys with a space, `+` and unicode, as S3 users write them. */
const BY_SDK = [
  { file: "exifpy-Canon_40D.jpg", key: "e2e/sdk/red flower+canon.jpg", category: "image" },
  { file: "filetype-fixture.pdf", key: "e2e/sdk/relatório.pdf", category: "pdf" },
  { file: "filetype-fixture.mp3", key: "e2e/sdk/song.mp3", category: "audio" },
  { file: "filetype-fixture.zip", key: "e2e/sdk/bundle.zip", category: "archive" },
] as const;
const BY_AWS_CLI = [
  { file: "filetype-fixture.png", key: "e2e/cli/screen shot.png", category: "image" },
  { file: "musicmetadata-testcase.flac", key: "e2e/cli/take 1.flac", category: "audio" },
  // The CLI declares a .tar.gz application/x-tar (Python's mimetypes: the type inside the compression).
  { file: "filetype-fixture.tar.gz", key: "e2e/cli/backup.tar.gz", category: "archive" },
] as const;
const DURING_OUTAGE = [
  { file: "exifpy-Nikon_D70.jpg", key: "e2e/outage/a.jpg" },
  { file: "filetype-fixture-minimal.pdf", key: "e2e/outage/b.pdf" },
  { file: "musicmetadata-libFLAC.flac", key: "e2e/outage/c.flac" },
] as const;

let dataDir: string;
let ports: StackPorts;
let dev: DevProcess | undefined;
let s3: S3Client;
let dynamodb: DynamoDBClient;
let store: CatalogStore;
const uploadedETags = new Map<string, string>();

function expectedOf(file: string) {
  const entry = expectedEntries().find((candidate) => candidate.name === file);
  if (!entry) throw new Error(`${file} is not in the corpus`);
  return entry;
}

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

function waitForRecord(key: string, eTag?: string): Promise<CatalogRecord> {
  return waitFor(`the record of ${key}`, async () => {
    const { record } = await store.getObject(BUCKET, key);
    return record && (eTag === undefined || record.etag === eTag) ? record : undefined;
  });
}

async function showJson(key: string): Promise<{ record: CatalogRecord; audit: AuditEntry[] }> {
  const result = await catalogCli(ports, "show", `s3://${BUCKET}/${key}`, "--json");
  expect(result.stderr).toBe("");
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout);
}

async function putWithSdk(file: string, key: string): Promise<void> {
  const output = await s3.send(
    new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: await readFile(corpusFile(file)) }),
  );
  uploadedETags.set(key, (output.ETag ?? "").replaceAll('"', ""));
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "catalog-e2e-"));
  ports = { s3: await freePort(), dynamodb: await freePort(), http: await freePort() };
  dev = await DevProcess.start(dataDir, ports);
  s3 = new S3Client({ ...LOCAL_S3_CLIENT_OPTIONS, endpoint: `http://127.0.0.1:${ports.s3}` });
  dynamodb = new DynamoDBClient({
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    endpoint: `http://127.0.0.1:${ports.dynamodb}`,
  });
  store = new CatalogStore(dynamodb, { tableName: TABLE });
}, 40_000);

afterAll(async () => {
  s3?.destroy();
  dynamodb?.destroy();
  await dev?.kill();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
}, 20_000);

describeWith("aws")("the local stack, end to end", () => {
  it("catalogs uploads from the AWS SDK and from the AWS CLI", async () => {
    // Act
    await Promise.all([
      ...BY_SDK.map(({ file, key }) => putWithSdk(file, key)),
      ...BY_AWS_CLI.map(async ({ file, key }) => {
        const copy = await awsCli(
          `http://127.0.0.1:${ports.s3}`,
          "s3",
          "cp",
          corpusFile(file),
          `s3://${BUCKET}/${key}`,
        );
        expect(copy.code, copy.stderr).toBe(0);
      }),
    ]);

    // Assess
    const uploads = [...BY_SDK, ...BY_AWS_CLI];
    await Promise.all(uploads.map(({ key }) => waitForRecord(key)));
    const shown = await Promise.all(uploads.map(({ key }) => showJson(key)));
    uploads.forEach(({ file, key, category }, index) => {
      const { record, audit } = shown[index] as Awaited<ReturnType<typeof showJson>>;
      const expected = expectedOf(file);
      expect(record).toMatchObject({ bucket: BUCKET, key, size: expected.size, category, status: "ok" });
      expect(record.sha256).toBe(expected.sha256);
      expect(record.mime).toBe(expected.mime);
      expect(record.format?.mismatch, record.format?.mismatchReason).toBe(false);
      expect(record.extractorVersion).toBe(EXTRACTOR_VERSION);
      expect(audit).toHaveLength(1);
      expect(audit[0]).toMatchObject({ eventName: "ObjectCreated:Put", outcome: "created", deliveries: 1 });
      if (uploadedETags.has(key)) expect(record.etag).toBe(uploadedETags.get(key));
    });
    // The checksum S3 keeps: the CRC32 a current SDK declares; S3's own CRC64NVME for this AWS CLI, which declares none.
    const bytesOf = (file: string) => readFile(corpusFile(file));
    for (const { file, key } of BY_SDK) {
      const crc32 = createChecksum("crc32");
      crc32.update(await bytesOf(file));
      expect(shown[uploads.findIndex((upload) => upload.key === key)]?.record.checksum).toEqual({
        crc32: crc32.digest(),
        type: "FULL_OBJECT",
      });
    }
    for (const { file, key } of BY_AWS_CLI) {
      const crc64 = createChecksum("crc64nvme");
      crc64.update(await bytesOf(file));
      expect(shown[uploads.findIndex((upload) => upload.key === key)]?.record.checksum).toEqual({
        crc64nvme: crc64.digest(),
        type: "FULL_OBJECT",
      });
    }
  }, 40_000);

  it("prints exactly { record, audit } with show --json, and one line for a key not in the catalog", async () => {
    const [raw, missing] = await Promise.all([
      catalogCli(ports, "show", `s3://${BUCKET}/${BY_SDK[0].key}`, "--json"),
      catalogCli(ports, "show", `s3://${BUCKET}/e2e/nothing-here.txt`),
    ]);
    expect(Object.keys(JSON.parse(raw.stdout))).toEqual(["record", "audit"]);
    // The indexes' keys are the table's business: --json shows the record as the HTTP API does.
    const { record } = JSON.parse(raw.stdout);
    for (const name of ["folderPk", "folderSk", "categoryPk", "categorySk"])
      expect(record).not.toHaveProperty(name);
    const text = await catalogCli(ports, "show", `s3://${BUCKET}/${BY_SDK[0].key}`);
    expect(text.stdout).toMatch(/^ {2}checksum {3}crc32 [A-Za-z0-9+/]{6}== \(FULL_OBJECT\)$/m);
    // Content as name-value lines under their section, the thumbnail where it is, and where each event came from.
    expect(text.stdout).toMatch(
      /^ {2}thumbnail {2}s3:\/\/uploads\/_derived\/thumbnails\/e2e\/sdk\/red flower\+canon\.jpg\.webp \(100x68, [\d.]+ KiB\)$/m,
    );
    expect(text.stdout).toMatch(/^ {2}image\n {4}width +100\n {4}height +68$/m);
    expect(text.stdout).toMatch(/^ {4}exif\.model +Canon EOS 40D$/m);
    expect(text.stdout).toMatch(/^ {2}TIME +EVENT +OUTCOME +BY +FROM +DELIVERIES\n.* 127\.0\.0\.1 +1$/m);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(`catalog: s3://${BUCKET}/e2e/nothing-here.txt is not in the catalog\n`);
  });

  it("holds the same records when read with aws dynamodb get-item and query", async () => {
    const endpoint = `http://127.0.0.1:${ports.dynamodb}`;
    const { key } = BY_AWS_CLI[0];
    const pk = `OBJ#${BUCKET}#${key}`;
    const item = await awsCli(
      endpoint,
      "dynamodb",
      "get-item",
      "--table-name",
      TABLE,
      "--key",
      JSON.stringify({ pk: { S: pk }, sk: { S: RECORD_SORT_KEY } }),
    );
    expect(item.code, item.stderr).toBe(0);
    const { Item } = JSON.parse(item.stdout);
    expect(Item.key.S).toBe(key);
    expect(Item.status.S).toBe("ok");
    expect(Number(Item.size.N)).toBe(expectedOf(BY_AWS_CLI[0].file).size);
    expect(Item.sha256.S).toBe(expectedOf(BY_AWS_CLI[0].file).sha256);

    const query = await awsCli(
      endpoint,
      "dynamodb",
      "query",
      "--table-name",
      TABLE,
      "--key-condition-expression",
      "pk = :pk",
      "--expression-attribute-values",
      JSON.stringify({ ":pk": { S: pk } }),
    );
    expect(query.code, query.stderr).toBe(0);
    // The record and its one audit entry share the object's partition.
    expect(JSON.parse(query.stdout).Count).toBe(2);
  });

  it("lists the folder with ls and finds by category with find", async () => {
    const [ls, sdkLs, firstOnly, images, firstImage, recent, newestTwo] = await Promise.all([
      catalogCli(ports, "ls", `s3://${BUCKET}/e2e/`, "--json"),
      catalogCli(ports, "ls", `s3://${BUCKET}/e2e/sdk/`, "--json"),
      catalogCli(ports, "ls", `s3://${BUCKET}/e2e/sdk/`, "--json", "--limit", "1"),
      catalogCli(ports, "find", "--category", "image", "--since", "1h", "--json"),
      catalogCli(ports, "find", "--category", "image", "--since", "1h", "--json", "--limit", "1"),
      catalogCli(ports, "find", "--recent", "--since", "1h", "--json"),
      catalogCli(ports, "find", "--recent", "--since", "1h", "--json", "--limit", "2"),
    ]);
    expect(ls.code, ls.stderr).toBe(0);
    expect(JSON.parse(ls.stdout).folders).toEqual(["e2e/cli/", "e2e/sdk/"]);
    const sdk = JSON.parse(sdkLs.stdout);
    expect(sdk.objects[0]).not.toHaveProperty("folderPk");
    expect(sdk.objects.map((object: { key: string }) => object.key).sort()).toEqual(
      BY_SDK.map(({ key }) => key).sort(),
    );
    expect(sdk.more).toBeUndefined();
    // A limit stops the listing and says that there is more.
    expect(JSON.parse(firstOnly.stdout)).toMatchObject({ more: true, objects: [sdk.objects[0]] });

    expect(images.code, images.stderr).toBe(0);
    expect(
      JSON.parse(images.stdout)
        .map((item: { key: string }) => item.key)
        .sort(),
    ).toEqual([BY_SDK[0].key, BY_AWS_CLI[0].key].sort());
    // Newest first, as --recent lists them, so a limit keeps the newest; stdout stays the JSON array, and
    // the note that there is more goes to stderr.
    const imageTimes = JSON.parse(images.stdout).map((item: { eventTime: string }) => item.eventTime);
    expect(imageTimes).toEqual([...imageTimes].sort().reverse());
    expect(JSON.parse(firstImage.stdout)).toEqual(JSON.parse(images.stdout).slice(0, 1));
    expect(firstImage.stderr).toBe("(first result; raise --limit for more)\n");

    // The newest uploads of every category, newest first, a limit cutting the same list short.
    expect(recent.code, recent.stderr).toBe(0);
    const newest = JSON.parse(recent.stdout) as { key: string; eventTime: string }[];
    expect(newest.map(({ key }) => key).sort()).toEqual(
      [...BY_SDK, ...BY_AWS_CLI].map(({ key }) => key).sort(),
    );
    const times = newest.map(({ eventTime }) => eventTime);
    expect(times).toEqual([...times].sort().reverse());
    expect(JSON.parse(newestTwo.stdout)).toEqual(newest.slice(0, 2));
    expect(newestTwo.stderr).toBe("(first 2 results; raise --limit for more)\n");
  });

  it("keeps objects and records across a Ctrl-C and a restart on the same data dir", async () => {
    const before = await showJson(BY_SDK[1].key);
    expect(await dev?.stop()).toBe(0);
    expect(dev?.output).toContain("stopped.");

    dev = await DevProcess.start(dataDir, ports);
    const after = await showJson(BY_SDK[1].key);
    expect(after).toEqual(before);
    const listing = await awsCli(`http://127.0.0.1:${ports.s3}`, "s3", "ls", `s3://${BUCKET}/e2e/sdk/`);
    expect(listing.stdout).toContain("relatório.pdf");
  }, 40_000);

  it("parks events in the dead-letter file while DynamoDB fails, and dlq replay completes them", async () => {
    // Prepare: the table goes away under the running stack.
    await dynamodb.send(new DeleteTableCommand({ TableName: TABLE }));

    // Act: every write fails, is retried twice, then is dead-lettered.
    await Promise.all(DURING_OUTAGE.map(({ file, key }) => putWithSdk(file, key)));
    await waitFor("three dead letters", async () => {
      const response = await fetch(`http://127.0.0.1:${ports.http}/api/dlq`);
      const { items } = (await response.json()) as { items: unknown[] };
      return items.length === DURING_OUTAGE.length ? items : undefined;
    });
    const [json, human] = await Promise.all([
      catalogCli(ports, "dlq", "ls", "--json"),
      catalogCli(ports, "dlq", "ls"),
    ]);
    const letters = JSON.parse(json.stdout) as { attempts: number; error: string }[];
    expect(letters.map((letter) => letter.attempts)).toEqual([3, 3, 3]);
    expect(letters[0]?.error).toMatch(/ResourceNotFoundException/);
    for (const { key } of DURING_OUTAGE) expect(human.stdout).toContain(`s3://${BUCKET}/${key}`);

    // CatalogStore.createTable waits until the table is ACTIVE, as a deploy would.
    await store.createTable();
    const replay = await catalogCli(ports, "dlq", "replay", "--json");

    // Assess: nothing lost.
    expect(replay.code, replay.stderr).toBe(0);
    expect(JSON.parse(replay.stdout)).toEqual({ replayed: 3, failed: 0 });
    for (const { key } of DURING_OUTAGE) {
      const record = await waitForRecord(key, uploadedETags.get(key));
      expect(record.status).toBe("ok");
    }
    const folder = await store.listFolder(BUCKET, "e2e/outage/");
    expect(folder.items).toHaveLength(DURING_OUTAGE.length);
    expect((await catalogCli(ports, "dlq", "ls")).stdout).toBe("the dead-letter file is empty\n");
  }, 40_000);

  it("backfills what the outage wiped, and a rerun redoes nothing", async () => {
    // The outage dropped the table: the objects uploaded before it are in S3 with no record.
    const before = BY_SDK.length + BY_AWS_CLI.length;
    const all = before + DURING_OUTAGE.length;
    const first = await catalogCli(ports, "backfill", `s3://${BUCKET}/e2e/`, "--json", "--concurrency", "4");
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({
      scanned: all,
      cataloged: before,
      skipped: DURING_OUTAGE.length,
      errors: 0,
    });
    const { record, audit } = await showJson(BY_SDK[2].key);
    expect(record).toMatchObject({ status: "ok", category: "audio", sequencer: "0" });
    expect(audit).toEqual([
      expect.objectContaining({ eventName: "Catalog:Backfill", principalId: "catalog-backfill" }),
    ]);

    const again = await catalogCli(ports, "backfill", `s3://${BUCKET}/e2e/`, "--json");
    expect(JSON.parse(again.stdout)).toMatchObject({ scanned: all, cataloged: 0, skipped: all, errors: 0 });
  }, 30_000);

  it("reprocesses a record made by an older extractor, and only that one", async () => {
    const { key } = DURING_OUTAGE[0];
    const before = (await store.getObject(BUCKET, key)).record as CatalogRecord;
    const update = await awsCli(
      `http://127.0.0.1:${ports.dynamodb}`,
      "dynamodb",
      "update-item",
      "--table-name",
      TABLE,
      "--key",
      JSON.stringify({ pk: { S: `OBJ#${BUCKET}#${key}` }, sk: { S: RECORD_SORT_KEY } }),
      "--update-expression",
      "SET extractorVersion = :old",
      "--expression-attribute-values",
      JSON.stringify({ ":old": { S: "0.9.0" } }),
    );
    expect(update.code, update.stderr).toBe(0);

    const result = await catalogCli(ports, "reprocess", `s3://${BUCKET}/e2e/`, "--json");
    expect(result.code, result.stderr).toBe(0);
    const all = BY_SDK.length + BY_AWS_CLI.length + DURING_OUTAGE.length;
    expect(JSON.parse(result.stdout)).toMatchObject({
      scanned: all,
      cataloged: 1,
      skipped: all - 1,
      errors: 0,
    });
    const { record, audit } = await showJson(key);
    expect(record.extractorVersion).toBe(EXTRACTOR_VERSION);
    expect(record.sequencer).toBe(`${before.sequencer}01`);
    expect(record.eventTime).toBe(before.eventTime);
    // Newest first, as the HTTP API gives it.
    expect(audit.map((entry) => entry.eventName)).toEqual(["Catalog:Reprocess", "ObjectCreated:Put"]);
  }, 30_000);
});
