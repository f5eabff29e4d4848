/**
 * Runs a built handler bundle the way Lambda does: a fresh `node` process imports the entry file, then
 * invokes `handler` with each event in turn. Shared by the bundle test (does the split bundle work end to
 * end?) and bench/bundle.bench.ts (how long do import, first call and first objects take?).
 */
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { CreateBucketCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { type ObjectEvent, toS3Notification } from "../../src/events/s3-event.js";
import { CatalogStore } from "../../src/store/catalog-store.js";
import { corpusFile } from "../support/corpus.js";
import { TEST_CREDENTIALS, TEST_REGION, type TestServers } from "../support/servers.js";

/** Time to import the entry module, then the time of each invocation, in order (milliseconds). */
export interface ProbeTimings {
  importMs: number;
  callMs: number[];
  /** CPU time (user + system, all threads) of the import: steadier than wall time on a loaded machine. */
  importCpuMs: number;
  /** CPU time of each invocation, in order. */
  callCpuMs: number[];
}

// Timed inside the child, so node's own start-up is left out. Results go to stderr: the handler's
// Powertools logger and metrics write to stdout.
const PROBE = `
  const events = JSON.parse(process.env.PROBE_EVENTS);
  const cpuMs = (since) => {
    const { user, system } = process.cpuUsage(since);
    return (user + system) / 1000;
  };
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const mod = await import(process.env.PROBE_BUNDLE);
  const importMs = performance.now() - t0;
  const importCpuMs = cpuMs(c0);
  const callMs = [];
  const callCpuMs = [];
  for (const event of events) {
    const c = process.cpuUsage();
    const t = performance.now();
    await mod.handler(event);
    callMs.push(performance.now() - t);
    callCpuMs.push(cpuMs(c));
  }
  process.stderr.write("PROBE " + JSON.stringify({ importMs, callMs, importCpuMs, callCpuMs }) + "\\n");
  process.exit(0);
`;

/** An invocation S3 sends when a notification is configured; it touches no AWS service. */
export const TEST_EVENT = { Event: "s3:TestEvent", Service: "Amazon S3", Bucket: "bench" };

/**
 * Imports `bundle` in a fresh process with only `env` (plus PATH) and invokes its handler with each event.
 * Asynchronous, so embedded servers in this process keep answering the child. Rejects with the child's
 * stderr when it fails or runs past a minute.
 *
 * @example
 * ```ts
 * const { importMs, callMs } = await probeBundle("/tmp/bundle/index.mjs", [TEST_EVENT], { TABLE_NAME: "t" });
 * ```
 */
export function probeBundle(
  bundle: string,
  events: unknown[],
  env: Record<string, string>,
): Promise<ProbeTimings> {
  const child = spawn(process.execPath, ["--input-type=module", "-e", PROBE], {
    env: { PATH: process.env.PATH ?? "", ...env, PROBE_BUNDLE: bundle, PROBE_EVENTS: JSON.stringify(events) },
    stdio: ["ignore", "ignore", "pipe"],
    timeout: 60_000,
  });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (text: string) => {
    stderr += text;
  });
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (status, signal) => {
      const line = stderr.split("\n").find((l) => l.startsWith("PROBE "));
      if (status !== 0 || !line) {
        reject(new Error(`bundle probe failed (status ${status}, ${signal ?? "no signal"}):\n${stderr}`));
      } else {
        resolve(JSON.parse(line.slice("PROBE ".length)) as ProbeTimings);
      }
    });
  });
}

/** A bucket and catalog table on the embedded servers, and the handler's environment pointing at them. */
export interface ProbeStack {
  bucket: string;
  store: CatalogStore;
  /** The function's environment, with endpoints and credentials of the embedded servers. */
  env: Record<string, string>;
  /** Uploads a corpus file under `key` and returns the S3 notification for it. */
  upload(key: string, corpusName: string): Promise<ReturnType<typeof toS3Notification>>;
}

let sequence = 0x66aed6dcd90281e5n;
let tables = 0;

/**
 * Creates a bucket and table on running servers for a bundle probe.
 *
 * @example
 * ```ts
 * const stack = await probeStack(servers, { THUMBNAILS: "false" });
 * probeBundle(entry, [await stack.upload("a.jpg", "filetype-fixture.jpg")], stack.env);
 * ```
 */
export async function probeStack(
  servers: TestServers,
  extraEnv: Record<string, string> = {},
): Promise<ProbeStack> {
  tables += 1;
  const bucket = `probe-${tables}`;
  const tableName = `probe-catalog-${tables}`;
  await servers.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const store = new CatalogStore(servers.dynamodb, { tableName });
  await store.ensureTable();
  const env = {
    TABLE_NAME: tableName,
    AWS_REGION: TEST_REGION,
    AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_S3: servers.s3Endpoint,
    AWS_ENDPOINT_URL_DYNAMODB: servers.dynamodbEndpoint,
    POWERTOOLS_SERVICE_NAME: "s3-metadata-catalog",
    POWERTOOLS_LOG_LEVEL: "WARN",
    POWERTOOLS_METRICS_DISABLED: "true",
    ...extraEnv,
  };
  return {
    bucket,
    store,
    env,
    async upload(key, corpusName) {
      const body = await readFile(corpusFile(corpusName));
      const output = await servers.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
      sequence += 1n;
      const event: ObjectEvent = {
        kind: "created",
        eventName: "ObjectCreated:Put",
        bucket,
        key,
        size: body.byteLength,
        eTag: (output.ETag ?? "").replace(/"/g, ""),
        sequencer: sequence.toString(16).toUpperCase().padStart(18, "0"),
        eventTime: new Date().toISOString(),
      };
      return toS3Notification([event]);
    },
  };
}
