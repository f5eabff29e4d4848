/**
 * The dashboard and its API over a big catalog, as a team sees it after
 * pointing the stack at a busy bucket: `catalog dev` from the built package,
 * filled with one folder of many objects, a day of uploads over every
 * category, duplicate groups and problems. The folder's objects are put into
 * the embedded S3 before the stack starts (so the pipeline does not catalog
 * them one by one) and every record is written straight into the table with
 * the store. Then:
 *
 * - each API route is timed with curl (wall time, bytes);
 * - each dashboard view is opened in Chromium (playwright-core) and timed to
 *   its first paint of items, with the API requests it made;
 * - Browse of the big folder is paged with "Show more" to `--pages` pages,
 *   with the page's JS heap and DOM size after each;
 * - corpus files are uploaded into that folder while it is open with what
 *   was loaded, and the dashboard's API requests and items it read are counted;
 * - day-partitioned listings are walked with the store on a client that
 *   counts their Queries, the rounds they went out in, the items DynamoDB
 *   returned and the read units it reports: a sparse walk (the Duplicates
 *   view's 90 days, one of them holding every group) and a dense one (a
 *   category of another bucket holding a few objects on most of
 *   `--dense-days` days).
 *
 *   npm run build && npx tsx bench/dashboard.bench.ts [--folder 20000] [--today 5000] [--groups 300]
 *     [--problems 300] [--live 300] [--pages 6] [--dense-days 90] [--no-write]
 *     [--heading "Dashboard, big catalog"]
 */
import { execFile, spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { chromium, type Page, type Request } from "playwright-core";
import type { Category } from "../src/engine/types.js";
import { EmbeddedS3 } from "../src/local/embedded-s3.js";
import {
  LOCAL_CREDENTIALS,
  LOCAL_DEFAULTS,
  LOCAL_REGION,
  LOCAL_S3_CLIENT_OPTIONS,
} from "../src/local/local-defaults.js";
import { CatalogStore } from "../src/store/catalog-store.js";
import { CHROMIUM, CHROMIUM_ARGS } from "../test/support/chromium.js";
import { CORPUS_DIR, REPO_ROOT } from "../test/support/corpus.js";
import { testExtraction, testFormat, testRecord } from "../test/support/records.js";
import { type Figure, freePort, positiveIntFlag, recordSection } from "./results.js";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => positiveIntFlag(args, name, fallback);
const folderCount = flag("--folder", 20_000);
const todayCount = flag("--today", 5_000);
const groupCount = flag("--groups", 300);
const problemCount = flag("--problems", 300);
const liveCount = flag("--live", 300);
const pages = flag("--pages", 6);
const denseDays = flag("--dense-days", 90);
const write = !args.includes("--no-write");
const headingAt = args.indexOf("--heading");
const heading = headingAt >= 0 ? (args[headingAt + 1] ?? "") : "Dashboard, big catalog";

const BUCKET = LOCAL_DEFAULTS.bucket;
const FOLDER = "big/";
const WRITERS = 32;
const DAY_MS = 86_400_000;
/** The dense walk's bucket: its records change no listing of BUCKET's, and carry no hash to group. */
const WALK_BUCKET = "dense-walk";
/** Images a day in WALK_BUCKET, day after day: a few on most days, none on one in seven. */
const DENSE_DAY_PATTERN = [3, 5, 0, 2, 6, 4, 1];
const CATEGORY_MIMES: [Category, string, string][] = [
  ["image", "image/png", "png"],
  ["video", "video/mp4", "mp4"],
  ["audio", "audio/mpeg", "mp3"],
  ["pdf", "application/pdf", "pdf"],
  ["document", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"],
  ["archive", "application/zip", "zip"],
  ["text", "text/plain", "txt"],
  ["other", "application/octet-stream", "bin"],
];

const run = promisify(execFile);
const now = () => performance.now();
const ms = (value: number) => `${value.toFixed(0)} ms`;
const mb = (bytes: number) => `${(bytes / 1024 ** 2).toFixed(1)} MB`;

/** Runs `work(i)` for i in [0, count) with `width` at a time. */
async function inParallel(count: number, width: number, work: (index: number) => Promise<unknown>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < count) await work(next++);
    }),
  );
}

const hex = (index: number, length: number) => index.toString(16).padStart(length, "0");

/** The folder's objects, put before the stack starts: its S3 announces them to no pipeline. */
async function fillS3(dataDir: string): Promise<void> {
  const s3Server = await EmbeddedS3.start({ port: 0, directory: join(dataDir, "s3"), buckets: [BUCKET] });
  const s3 = new S3Client({ ...LOCAL_S3_CLIENT_OPTIONS, endpoint: s3Server.endpoint });
  try {
    await inParallel(folderCount, WRITERS, (index) =>
      s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: folderKey(index), Body: `object ${index}\n` })),
    );
  } finally {
    s3.destroy();
    await s3Server.close();
  }
}

const folderKey = (index: number) => `${FOLDER}file-${String(index).padStart(6, "0")}.txt`;

/** Every record, straight into the table: the folder's, today's uploads, duplicate copies, problems. */
async function fillTable(store: CatalogStore): Promise<void> {
  const today = new Date();
  const dayStart = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate());
  // Spread over the part of today already gone, so "today" holds them all.
  const span = Math.max(60_000, today.getTime() - dayStart - 60_000);
  let sequence = 0;
  const put = (key: string, eventTime: string, category: Category, extra: Record<string, unknown> = {}) => {
    const [, mime, ext] = CATEGORY_MIMES.find(([name]) => name === category) ?? [
      "other",
      "application/octet-stream",
      "bin",
    ];
    const sha256 = (extra.sha256 as string | undefined) ?? hex(++sequence, 64);
    return store.putRecord(
      testRecord({
        bucket: BUCKET,
        key,
        size: 1000 + (sequence % 5000),
        sequencer: hex(++sequence, 16),
        eventTime,
        extraction: testExtraction({
          source: `s3://${BUCKET}/${key}`,
          sha256,
          format: testFormat(mime, ext, category),
        }),
        ...extra,
      }),
    );
  };
  const weekAgo = dayStart - 7 * 86_400_000;
  await inParallel(folderCount, WRITERS, (index) =>
    put(folderKey(index), new Date(weekAgo + index * 1000).toISOString(), "text"),
  );
  await inParallel(todayCount, WRITERS, (index) => {
    const category = (CATEGORY_MIMES[index % CATEGORY_MIMES.length] as [Category, string, string])[0];
    const time = new Date(dayStart + Math.floor((index / todayCount) * span)).toISOString();
    return put(`today/${category}/upload-${String(index).padStart(5, "0")}.${category}`, time, category);
  });
  await inParallel(groupCount * 3, WRITERS, (index) => {
    const group = Math.floor(index / 3);
    const time = new Date(dayStart + Math.floor((index / (groupCount * 3)) * span)).toISOString();
    return put(`copies/group-${group}/copy-${index % 3}.png`, time, "image", {
      sha256: `d${hex(group, 63)}`,
    });
  });
  await inParallel(problemCount, WRITERS, (index) => {
    const time = new Date(dayStart + Math.floor((index / problemCount) * span)).toISOString();
    return put(`broken/file-${index}.pdf`, time, "pdf", {
      status: "error",
      reasons: ["truncated: the file ends inside its cross-reference table"],
    });
  });
}

/** The dense walk's images, on the `denseDays` days before today; how many. */
async function fillDenseDays(store: CatalogStore, dayStart: number): Promise<number> {
  const times: string[] = [];
  for (let day = 0; day < denseDays; day++) {
    const count = DENSE_DAY_PATTERN[day % DENSE_DAY_PATTERN.length] ?? 0;
    for (let hour = 1; hour <= count; hour++)
      times.push(new Date(dayStart - (denseDays - day) * DAY_MS + hour * 3_600_000).toISOString());
  }
  await inParallel(times.length, WRITERS, (index) => {
    const key = `walk/image-${String(index).padStart(5, "0")}.png`;
    return store.putRecord(
      testRecord({
        bucket: WALK_BUCKET,
        key,
        size: 1000,
        sequencer: hex(index + 1, 16),
        eventTime: times[index] as string,
        extraction: testExtraction({ source: `s3://${WALK_BUCKET}/${key}`, size: 1000 }),
      }),
    );
  });
  return times.length;
}

/** What the Queries sent through a `countingStore` cost, since it was made or last cleared. */
type QueryCount = {
  queries: number;
  /** Windows sent: Queries that went out while none was in flight start one. */
  rounds: number;
  inFlight: number;
  /** Items the Queries returned, those a page used and those read past it. */
  itemsRead: number;
  /** Read units as the server reports them (dynalite bills an empty answer nothing). */
  units: number;
  /** As DynamoDB bills them: every Query at least 0.5 unit. */
  billed: number;
};

/**
 * A store on the stack's table through a client of its own that asks every
 * Query for its consumed capacity and counts what it sent and got back.
 */
function countingStore(endpoint: string) {
  const counted: QueryCount = { queries: 0, rounds: 0, inFlight: 0, itemsRead: 0, units: 0, billed: 0 };
  const client = new DynamoDBClient({ region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, endpoint });
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== "QueryCommand") return next(args);
      counted.queries += 1;
      if (counted.inFlight === 0) counted.rounds += 1;
      counted.inFlight += 1;
      try {
        const result = await next({
          ...args,
          input: { ...(args.input as object), ReturnConsumedCapacity: "TOTAL" },
        });
        const output = result.output as { Count?: number; ConsumedCapacity?: { CapacityUnits?: number } };
        const units = output.ConsumedCapacity?.CapacityUnits ?? 0;
        counted.units += units;
        counted.billed += Math.max(0.5, units);
        counted.itemsRead += output.Count ?? 0;
        return result;
      } finally {
        counted.inFlight -= 1;
      }
    },
    { step: "initialize", name: "countQueries" },
  );
  const clear = () => Object.assign(counted, { queries: 0, rounds: 0, itemsRead: 0, units: 0, billed: 0 });
  return { store: new CatalogStore(client, { tableName: LOCAL_DEFAULTS.tableName }), counted, clear, client };
}

/**
 * Pages of one listing followed to its end (or `maxPages`), five times: the
 * Queries of one walk and the median wall time.
 */
async function countedWalk(
  counting: ReturnType<typeof countingStore>,
  list: (cursor: string | undefined) => Promise<{ items: unknown[]; cursor?: string }>,
  maxPages = Number.POSITIVE_INFINITY,
): Promise<string> {
  const walk = async () => {
    let listed = 0;
    let walked = 0;
    let cursor: string | undefined;
    do {
      const page = await list(cursor);
      listed += page.items.length;
      walked += 1;
      cursor = page.cursor;
    } while (cursor && walked < maxPages);
    return { listed, walked };
  };
  counting.clear();
  const { listed, walked } = await walk();
  const once = { ...counting.counted };
  const times: number[] = [];
  for (let run = 0; run < 5; run++) {
    const started = now();
    await walk();
    times.push(now() - started);
  }
  const median = times.sort((a, b) => a - b)[2] ?? 0;
  return `${walked} page(s), ${listed} items; ${once.queries} Queries in ${once.rounds} rounds, ${once.itemsRead} items read; ${once.units} read units reported, ${once.billed} as billed (0.5 a Query at least); ${ms(median)} (median of 5)`;
}

/** curl's wall time and size of one GET. */
async function curl(url: string): Promise<{ seconds: number; bytes: number; status: number }> {
  const { stdout } = await run("curl", [
    "-s",
    "-o",
    "/dev/null",
    "-w",
    "%{http_code} %{time_total} %{size_download}",
    url,
  ]);
  const [status, seconds, bytes] = stdout.trim().split(" ").map(Number);
  return { status: status ?? 0, seconds: seconds ?? 0, bytes: bytes ?? 0 };
}

/** The page's JS heap in use and its element count. */
async function pageSize(page: Page): Promise<{ heap: number; nodes: number }> {
  const session = await page.context().newCDPSession(page);
  await session.send("HeapProfiler.collectGarbage");
  const { usedSize: heap } = await session.send("Runtime.getHeapUsage");
  await session.detach();
  const nodes = await page.evaluate<number>('document.getElementsByTagName("*").length');
  return { heap, nodes };
}

/**
 * API requests the page makes, by path, and how long each answered, from its
 * sending to the end of its body, as the page saw it; reset with `clear()`.
 */
function countRequests(page: Page) {
  const paths: string[] = [];
  const answered: { path: string; ms: number }[] = [];
  const apiPath = (request: Request) => {
    const url = new URL(request.url());
    return url.pathname.startsWith("/api/") && url.pathname !== "/api/events"
      ? url.pathname + url.search
      : undefined;
  };
  page.on("request", (request) => {
    const path = apiPath(request);
    if (path) paths.push(path);
  });
  page.on("requestfinished", (request) => {
    const path = apiPath(request);
    if (path) answered.push({ path, ms: request.timing().responseEnd });
  });
  /** The slowest answer, as "<path> <ms>". */
  const slowest = () => {
    const top = answered.reduce<{ path: string; ms: number } | undefined>(
      (most, next) => (most && most.ms >= next.ms ? most : next),
      undefined,
    );
    return top ? `${top.path} ${ms(top.ms)}` : "none";
  };
  const clear = () => {
    paths.splice(0);
    answered.splice(0);
  };
  return { paths, slowest, clear };
}

async function main(): Promise<void> {
  const figures: Figure[] = [];
  const show = (label: string, value: string) => {
    figures.push([label, value]);
    console.log(`${label.padEnd(58)} ${value}`);
  };
  const dataDir = await mkdtemp(join(tmpdir(), "dashboard-bench-"));
  const [s3Port, dynamodbPort, httpPort] = [await freePort(), await freePort(), await freePort()];
  let started = now();
  await fillS3(dataDir);
  show(
    "objects put into S3 before the start",
    `${folderCount} in /${FOLDER}, ${((now() - started) / 1000).toFixed(0)} s`,
  );
  const child = spawn(
    process.execPath,
    [
      join(REPO_ROOT, "bin/catalog"),
      "dev",
      ...["--s3-port", String(s3Port), "--dynamodb-port", String(dynamodbPort)],
      ...["--http-port", String(httpPort), "--data-dir", dataDir, "--log-level", "WARN"],
    ],
    { stdio: ["ignore", "pipe", "inherit"], env: process.env },
  );
  child.once("exit", (code, signal) => {
    if (code !== 0) console.error(`catalog dev exited: ${code ?? signal}`);
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const ready = new Promise<void>((resolve) =>
    child.stdout?.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes(`127.0.0.1:${httpPort}`)) resolve();
    }),
  );
  const base = `http://127.0.0.1:${httpPort}`;
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const dynamodb = new DynamoDBClient({
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    endpoint: `http://127.0.0.1:${dynamodbPort}`,
  });
  const s3 = new S3Client({ ...LOCAL_S3_CLIENT_OPTIONS, endpoint: `http://127.0.0.1:${s3Port}` });
  try {
    await Promise.race([ready, exited.then(() => Promise.reject(new Error("catalog dev exited")))]);
    started = now();
    await fillTable(new CatalogStore(dynamodb, { tableName: LOCAL_DEFAULTS.tableName }));
    const records = folderCount + todayCount + groupCount * 3 + problemCount;
    show("records written with the store", `${records}, ${((now() - started) / 1000).toFixed(0)} s`);
    const today = new Date();
    const dayStart = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate());
    const walkRecords = await fillDenseDays(
      new CatalogStore(dynamodb, { tableName: LOCAL_DEFAULTS.tableName }),
      dayStart,
    );
    show(`records for the dense walk (${WALK_BUCKET})`, `${walkRecords} images on ${denseDays} days`);

    // Day-partitioned listings, walked with the store: what their read-ahead sends and reads.
    const counting = countingStore(`http://127.0.0.1:${dynamodbPort}`);
    try {
      const duplicatesWindow = {
        from: new Date(today.getTime() - 90 * DAY_MS).toISOString(),
        to: today.toISOString(),
      };
      show(
        "walk: duplicate groups, 90 days, first page of 100 (sparse)",
        await countedWalk(
          counting,
          (cursor) =>
            counting.store.listDuplicateGroups(duplicatesWindow, { limit: 100, ...(cursor && { cursor }) }),
          1,
        ),
      );
      show(
        "walk: duplicate groups, 90 days, pages of 100 to the end",
        await countedWalk(counting, (cursor) =>
          counting.store.listDuplicateGroups(duplicatesWindow, { limit: 100, ...(cursor && { cursor }) }),
        ),
      );
      const denseWindow = {
        from: new Date(dayStart - denseDays * DAY_MS).toISOString(),
        to: new Date(dayStart - 1).toISOString(),
      };
      for (const limit of [20, 100])
        show(
          `walk: ${denseDays} days of images, pages of ${limit} to the end (dense)`,
          await countedWalk(counting, (cursor) =>
            counting.store.listByCategory(WALK_BUCKET, "image", denseWindow, {
              limit,
              ...(cursor && { cursor }),
            }),
          ),
        );
    } finally {
      counting.client.destroy();
    }

    // The requests the views below make, and /api/find: a view's first paint reads beside its request's.
    const routes = [
      `/api/folder?prefix=${FOLDER}&limit=500`,
      "/api/folder?prefix=&limit=500",
      "/api/recent?days=7&limit=200",
      "/api/find?category=image&days=1&limit=500",
      "/api/problems?days=7&limit=500",
      "/api/duplicates?days=90&limit=100",
      "/api/stats?days=7",
    ];
    for (const route of routes) {
      await curl(base + route);
      const samples = [await curl(base + route), await curl(base + route), await curl(base + route)];
      const median = samples.map((sample) => sample.seconds).sort((a, b) => a - b)[1] ?? 0;
      show(
        `GET ${route}`,
        `${ms(median * 1000)} (median of 3), ${(samples[0]?.bytes ?? 0).toLocaleString("en")} B, ${samples[0]?.status}`,
      );
    }

    const page = await browser.newPage();
    const requests = countRequests(page);
    const views: [string, string, string][] = [
      ["Recent", "/", "[data-key]"],
      [`Browse /${FOLDER}`, `/?prefix=${FOLDER}`, "[data-key]"],
      ["Browse root", "/?view=browse", "#content a"],
      ["Problems", "/?view=problems&days=7", "#content tbody tr"],
      ["Duplicates", "/?view=duplicates", "#content [data-key]"],
      ["Stats", "/?view=stats", "#content table"],
    ];
    for (const [name, path, selector] of views) {
      requests.clear();
      started = now();
      await page.goto(base + path);
      await page.waitForSelector(selector, { timeout: 120_000 });
      const took = now() - started;
      const size = await pageSize(page);
      show(
        `view ${name}: first paint`,
        `${ms(took)}, ${requests.paths.length} API requests (slowest: ${requests.slowest()}), ${size.nodes} elements, heap ${mb(size.heap)}`,
      );
    }

    // Browse the big folder and press "Show more" page after page.
    await page.goto(`${base}/?prefix=${FOLDER}`);
    await page.waitForSelector("[data-key]");
    for (let pressed = 1; pressed < pages; pressed++) {
      const before = await page.locator("[data-key]").count();
      requests.clear();
      started = now();
      await page.click("#more");
      // The first entry past those shown before: the page's policy allows no evaluated string.
      await page.locator("[data-key]").nth(before).waitFor({ timeout: 120_000 });
      const took = now() - started;
      const size = await pageSize(page);
      const shown = await page.locator("[data-key]").count();
      show(
        `Show more #${pressed} (to ${shown} items)`,
        `${ms(took)}, ${requests.paths.length} API requests, ${size.nodes} elements, heap ${mb(size.heap)}`,
      );
    }

    // Uploads arriving while the paged folder is open.
    const loadedBefore = await page.locator("[data-key]").count();
    const names = readdirSync(CORPUS_DIR).sort();
    const bodies = await Promise.all(names.map((name) => readFile(join(CORPUS_DIR, name))));
    requests.clear();
    let responseBytes = 0;
    const onResponse = async (response: import("playwright-core").Response) => {
      if (!new URL(response.url()).pathname.startsWith("/api/") || response.url().includes("/api/events"))
        return;
      responseBytes += (await response.body().catch(() => Buffer.alloc(0))).length;
    };
    page.on("response", onResponse);
    started = now();
    await inParallel(liveCount, 8, (index) =>
      s3.send(
        new PutObjectCommand({
          Bucket: BUCKET,
          Key: `${FOLDER}live-${String(index).padStart(4, "0")}-${names[index % names.length]}`,
          Body: bodies[index % bodies.length],
        }),
      ),
    );
    // Every upload shown: the folder sorts `live-` after `file-`, so wait for the catalog, then a quiet page.
    const deadline = now() + 5 * 60_000;
    for (;;) {
      const answer = (await fetch(`${base}/api/folder?prefix=${FOLDER}&startsWith=live-&limit=500`).then(
        (response) => response.json(),
      )) as { items?: unknown[]; error?: string };
      if (!answer.items) throw new Error(`GET /api/folder: ${answer.error}`);
      if (answer.items.length >= liveCount) break;
      if (now() > deadline) throw new Error(`${answer.items.length} of ${liveCount} uploads cataloged`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const liveSeconds = (now() - started) / 1000;
    page.off("response", onResponse);
    const size = await pageSize(page);
    const folderReads = requests.paths.filter((path) => path.startsWith("/api/folder")).length;
    show(
      `live: ${liveCount} uploads into /${FOLDER} with ${loadedBefore} items loaded`,
      `${liveSeconds.toFixed(0)} s to all cataloged; ${requests.paths.length} API requests (${folderReads} folder pages), ${mb(responseBytes)} read by the page; then ${size.nodes} elements, heap ${mb(size.heap)}`,
    );
    await page.close();
  } finally {
    await browser.close();
    s3.destroy();
    dynamodb.destroy();
    child.kill("SIGINT");
    await exited;
    await rm(dataDir, { recursive: true, force: true });
  }
  if (write)
    recordSection(
      heading,
      `npm run build && npx tsx bench/dashboard.bench.ts --folder ${folderCount} --today ${todayCount} --groups ${groupCount} --problems ${problemCount} --live ${liveCount} --pages ${pages} --dense-days ${denseDays}`,
      figures,
      "`catalog dev` from the built package, filled as a busy bucket looks: the folder's objects put into its S3 before it starts, every record written straight into its table with the store. Routes timed with curl (median of 3 after one warm-up); views opened in headless Chromium with playwright-core, timed from navigation to the first drawn item, with the API requests the page made; heap is V8's used heap after a forced collection, elements counts every element of the document.",
    );
}

await main();
