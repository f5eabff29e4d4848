/**
 * ListObjectsV2 on the embedded S3 server over one big folder, as the
 * dashboard's folder page and `catalog ls` read it: N objects put into
 * `big/` (and a few sub-folders beside them), then pages timed with the SDK
 * over HTTP, with and without a delimiter, of 1000 entries and of a few,
 * the first page and one halfway down the folder. Each page is also timed
 * as the listing alone (`listKeys` in this process, over the same folder:
 * no metadata read, no XML, no HTTP), and the folder's directory is read
 * with `ls -f` and `ls` for a floor. Last, the walk `/api/folder` makes for
 * its first page: up to five delimiter pages of 1000, continuation token
 * after continuation token, then the same walk on a server just started
 * over the folder (each run after a restart), which has read none of its
 * objects yet.
 *
 *   npx tsx bench/s3-listing.bench.ts [--count 20000] [--runs 5] [--small 20] [--no-write]
 *     [--heading "Embedded S3 listing, big folder"]
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { ListObjectsV2Command, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { EmbeddedS3 } from "../src/local/embedded-s3.js";
import { listKeys } from "../src/local/embedded-s3-listing.js";
import { LOCAL_S3_CLIENT_OPTIONS } from "../src/local/local-defaults.js";
import { type Figure, positiveIntFlag, recordSection } from "./results.js";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const args = process.argv.slice(2);
const count = positiveIntFlag(args, "--count", 20_000);
const runs = positiveIntFlag(args, "--runs", 5);
const small = positiveIntFlag(args, "--small", 20);
const write = !args.includes("--no-write");
const headingAt = args.indexOf("--heading");
const heading = headingAt >= 0 ? (args[headingAt + 1] ?? "") : "Embedded S3 listing, big folder";

const BUCKET = "uploads";
const FOLDER = "big/";
const SUB_FOLDERS = 20;
const WRITERS = 32;
/** The folder page's bound in src/server/routes/catalog-routes.ts. */
const FOLDER_PAGES = 5;

const run = promisify(execFile);
const now = () => performance.now();
const ms = (value: number) => `${value.toFixed(1)} ms`;
const folderKey = (index: number) => `${FOLDER}file-${String(index).padStart(6, "0")}.txt`;

/** A call's cost: wall time, and CPU time of the whole process (every thread: the server's, the client's, libuv's). */
interface Cost {
  wall: number;
  cpu: number;
}

/**
 * The median wall and CPU time of `runs` calls of `work`, after one to warm
 * up. CPU time is given beside wall time because it holds steadier when
 * other work shares the machine.
 */
async function median(work: () => Promise<unknown>): Promise<Cost> {
  await work();
  return medianOf(runs, async () => ({}), work);
}

/** The median cost of `work` over `times` runs, each after `prepare` (not counted). */
async function medianOf(
  times: number,
  prepare: () => Promise<unknown>,
  work: () => Promise<unknown>,
): Promise<Cost> {
  const walls: number[] = [];
  const cpus: number[] = [];
  for (let index = 0; index < times; index++) {
    await prepare();
    const started = now();
    const usage = process.cpuUsage();
    await work();
    const used = process.cpuUsage(usage);
    walls.push(now() - started);
    cpus.push((used.user + used.system) / 1000);
  }
  const middle = (samples: number[]) =>
    samples.sort((a, b) => a - b)[Math.floor(samples.length / 2)] ?? Number.NaN;
  return { wall: middle(walls), cpu: middle(cpus) };
}

const cost = ({ wall, cpu }: Cost) => `${ms(wall)} (${ms(cpu)} CPU)`;

/** Runs `work(i)` for i in [0, count) with `width` at a time. */
async function inParallel(total: number, width: number, work: (index: number) => Promise<unknown>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < total) await work(next++);
    }),
  );
}

async function main(): Promise<void> {
  const figures: Figure[] = [];
  const show = (label: string, value: string) => {
    figures.push([label, value]);
    console.log(`${label.padEnd(64)} ${value}`);
  };
  const directory = await mkdtemp(join(tmpdir(), "s3-listing-bench-"));
  let server = await EmbeddedS3.start({ port: 0, directory, buckets: [BUCKET] });
  let s3 = new S3Client({ ...LOCAL_S3_CLIENT_OPTIONS, endpoint: server.endpoint });
  /** The server stopped and started again over the same folder: nothing it read of the objects is kept. */
  const restart = async () => {
    s3.destroy();
    await server.close();
    server = await EmbeddedS3.start({ port: 0, directory, buckets: [BUCKET] });
    s3 = new S3Client({ ...LOCAL_S3_CLIENT_OPTIONS, endpoint: server.endpoint });
  };
  try {
    const started = now();
    const subKeys = Array.from({ length: SUB_FOLDERS }, (_, index) => `${FOLDER}sub-${index}/object.txt`);
    await inParallel(count + SUB_FOLDERS, WRITERS, (index) => {
      const Key = index < count ? folderKey(index) : (subKeys[index - count] as string);
      return s3.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: `object ${index}\n` }));
    });
    show(
      "objects put",
      `${count} in /${FOLDER} and ${SUB_FOLDERS} sub-folders of one each, ${((now() - started) / 1000).toFixed(0)} s`,
    );

    const bucketPath = join(directory, BUCKET);
    const halfway = folderKey(Math.floor(count / 2));
    for (const delimiter of ["/", undefined]) {
      for (const maxKeys of [1000, small]) {
        for (const [page, after] of [
          ["first page", undefined],
          ["page after the middle key", halfway],
        ] as const) {
          const name = `${delimiter ? "delimiter /" : "no delimiter"}, max-keys ${maxKeys}, ${page}`;
          const list = () =>
            s3.send(
              new ListObjectsV2Command({
                Bucket: BUCKET,
                Prefix: FOLDER,
                Delimiter: delimiter,
                MaxKeys: maxKeys,
                StartAfter: after,
              }),
            );
          const entries = ((await list()).KeyCount ?? 0).toString();
          const http = await median(list);
          const alone = await median(() =>
            listKeys(bucketPath, { prefix: FOLDER, delimiter, after, maxKeys }),
          );
          show(name, `${cost(http)} over HTTP; the listing alone ${cost(alone)}; ${entries} entries`);
        }
      }
    }

    const walkFolder = async () => {
      let token: string | undefined;
      for (let page = 0; page < FOLDER_PAGES; page++) {
        const output = await s3.send(
          new ListObjectsV2Command({
            Bucket: BUCKET,
            Prefix: FOLDER,
            Delimiter: "/",
            ...(token && { ContinuationToken: token }),
          }),
        );
        token = output.IsTruncated ? output.NextContinuationToken : undefined;
        if (!token) break;
      }
    };
    show(`/api/folder's walk: ${FOLDER_PAGES} delimiter pages of 1000`, cost(await median(walkFolder)));
    show(
      `/api/folder's walk, the server just started over the folder`,
      cost(await medianOf(runs, restart, walkFolder)),
    );

    const folderPath = join(bucketPath, FOLDER.slice(0, -1));
    const lsUnsorted = await median(() => run("ls", ["-f", folderPath], { maxBuffer: 1 << 26 }));
    const lsSorted = await median(() => run("ls", [folderPath], { maxBuffer: 1 << 26 }));
    show("peer: `ls -f` of the folder (read, unsorted)", ms(lsUnsorted.wall));
    show("peer: `ls` of the folder (read and sorted)", ms(lsSorted.wall));
    show("load average (1 min) at the end", loadavg()[0]?.toFixed(1) ?? "n/a");
  } finally {
    s3.destroy();
    await server.close();
    await rm(directory, { recursive: true, force: true });
  }
  if (write)
    recordSection(
      heading,
      `npx tsx bench/s3-listing.bench.ts --count ${count} --runs ${runs} --small ${small}`,
      figures,
      `Each figure is the median of ${runs} runs after one warm-up, wall time and the CPU time of the whole process (all its threads), which holds steadier when other work shares the machine. "Over HTTP" is one ListObjectsV2 with the SDK against the embedded S3 server on its own thread, as the dashboard's API sends it; "the listing alone" is \`listKeys\` (src/local/embedded-s3-listing.ts) called in the benchmark's process over the same folder, which leaves out each listed object's metadata read, the XML and the HTTP round trip. The server keeps each listed object's fields once it has read them (src/local/listed-object-fields.ts), so after the warm-up a page over HTTP reads no object's metadata; the walk on a server just started, the median of ${runs} runs each after a restart that is not timed, reads every listed object's. A later page starts after the middle key with StartAfter, which the server reads as it reads a continuation token. \`ls\` is spawned, so its figure is wall time and includes starting a process. s3rver keeps three files per object (the object, its metadata and its MD5), so the folder's directory holds about three entries per key.`,
    );
}

await main();
