import type { AddressInfo } from "node:net";
import { relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { serve } from "@hono/node-server";
import { LOOPBACK } from "../../local/embedded-s3.js";
import { LOCAL_CREDENTIALS, LOCAL_DEFAULTS, LOCAL_REGION } from "../../local/local-defaults.js";
import { DataFolderError, LocalStack, PortInUseError } from "../../local/local-stack.js";
import { loadPolicy } from "../../policy/policy.js";
import { createApp } from "../../server/app.js";
import { RecordFeed } from "../../server/record-feed.js";
import { CliError } from "../cli-error.js";
import type { LogLevel } from "../options.js";
import { shellWord } from "../target-flags.js";
import { terminalSafe } from "../terminal-text.js";

export interface DevFlags {
  s3Port: number;
  dynamodbPort: number;
  httpPort: number;
  dataDir: string;
  bucket: string;
  table: string;
  policyFile?: string;
  logLevel: LogLevel;
}

const PACKAGE_ROOT = resolve(fileURLToPath(import.meta.url), "../../../..");

/** A path a person can paste from the current directory, quoted for the shell when it needs it. */
function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return shellWord(rel.startsWith("..") || rel === "" ? path : rel.startsWith(".") ? rel : `./${rel}`);
}

function listen(app: ReturnType<typeof createApp>, port: number): Promise<ReturnType<typeof serve>> {
  return new Promise((resolvePromise, reject) => {
    const server = serve({ fetch: app.fetch, hostname: LOOPBACK, port }, () => resolvePromise(server));
    server.once("error", (error: NodeJS.ErrnoException) =>
      reject(error.code === "EADDRINUSE" ? new PortInUseError("HTTP API", port, "--http-port") : error),
    );
  });
}

/**
 * Refuses one port named for two servers: the second to start would find it
 * taken by the first and call it in use, naming the wrong flag to change.
 */
function refuseSharedPorts(flags: DevFlags): void {
  const named: [flag: string, port: number][] = [
    ["--s3-port", flags.s3Port],
    ["--dynamodb-port", flags.dynamodbPort],
    ["--http-port", flags.httpPort],
  ];
  for (const [index, [flag, port]] of named.entries()) {
    // 0 asks the system for a free port: each server gets one of its own.
    const other = named.slice(index + 1).find(([, otherPort]) => port !== 0 && otherPort === port);
    if (other)
      throw new CliError(`${flag} and ${other[0]} are both ${port}: each server needs a port of its own`);
  }
}

/** Starts the local stack and its HTTP API, prints how to use them, and runs until Ctrl-C. */
export async function runDev(flags: DevFlags): Promise<void> {
  refuseSharedPorts(flags);
  // Locally there is no CloudWatch to read EMF metric lines; keep the console for the handler's logs.
  process.env.POWERTOOLS_METRICS_DISABLED ??= "true";
  const policy = flags.policyFile ? await loadPolicy({ file: flags.policyFile }) : undefined;
  const feed = new RecordFeed();
  // The flags a `catalog backfill` needs to catalog as this stack does, known once its ports are.
  let passFlags = "";
  let stack: LocalStack;
  try {
    stack = await LocalStack.start({
      s3Port: flags.s3Port,
      dynamodbPort: flags.dynamodbPort,
      dataDir: flags.dataDir,
      bucket: flags.bucket,
      tableName: flags.table,
      logLevel: flags.logLevel,
      onDelivery: (outcome) => feed.publish(outcome),
      // Said once per bucket, where the person who made that bucket is looking; /api/health keeps the counts.
      onUnwatchedBucket: (other) =>
        process.stderr.write(
          `${terminalSafe(
            `s3://${other}/ is not watched: its changes are not cataloged (this stack catalogs '${flags.bucket}'; \`catalog backfill s3://${other}/${passFlags}\` catalogs what it holds)`,
          )}\n`,
        ),
      ...(policy && { policy }),
    });
  } catch (error) {
    if (error instanceof PortInUseError || error instanceof DataFolderError)
      throw new CliError(error.message);
    throw error;
  }
  // The dashboard suggests backfills too: the same endpoints, table and policy make them catalog as this stack
  // does. The path is absolute, as the page cannot know where its reader's shell is; --bucket is left out,
  // as the s3:// location names it.
  const backfillFlags = [
    ...(flags.s3Port !== LOCAL_DEFAULTS.s3Port ? ["--s3-endpoint", stack.s3.endpoint] : []),
    ...(flags.dynamodbPort !== LOCAL_DEFAULTS.dynamodbPort
      ? ["--dynamodb-endpoint", stack.dynamodb.endpoint]
      : []),
    ...(flags.table !== LOCAL_DEFAULTS.tableName ? ["--table", flags.table] : []),
    ...(flags.policyFile ? ["--policy-file", resolve(flags.policyFile)] : []),
  ];
  const app = createApp({
    store: stack.store,
    bucket: stack.bucket,
    dispatcher: stack.dispatcher,
    deadLetterFile: stack.deadLetterFile,
    s3Client: stack.s3Client,
    derivedPrefix: stack.derivedPrefix,
    feed,
    backfillFlags,
  });
  let http: ReturnType<typeof serve>;
  try {
    http = await listen(app, flags.httpPort);
  } catch (error) {
    await stack.abandon();
    if (error instanceof PortInUseError) throw new CliError(error.message);
    throw error;
  }

  const catalog = shown(resolve(PACKAGE_ROOT, "bin/catalog"));
  const sample = shown(resolve(PACKAGE_ROOT, "README.md"));
  // With --http-port 0 the system chose the port: print that one.
  const api = `http://${LOOPBACK}:${(http.address() as AddressInfo).port}`;
  // One set of flags for every command: each takes those it does not use (`dlq` needs only --api,
  // the others all but --api), so the ones printed here can be passed to any command as they are.
  const ports = [
    flags.s3Port !== LOCAL_DEFAULTS.s3Port && `--s3-endpoint ${stack.s3.endpoint}`,
    flags.dynamodbPort !== LOCAL_DEFAULTS.dynamodbPort && `--dynamodb-endpoint ${stack.dynamodb.endpoint}`,
    flags.httpPort !== LOCAL_DEFAULTS.httpPort && `--api ${api}`,
    flags.bucket !== LOCAL_DEFAULTS.bucket && `--bucket ${flags.bucket}`,
    flags.table !== LOCAL_DEFAULTS.tableName && `--table ${flags.table}`,
  ]
    .filter(Boolean)
    .join(" ");
  const extra = ports ? ` ${ports}` : "";
  // backfill and reprocess run the handler themselves: with this stack's policy, they catalog as it does.
  const policyFlag = flags.policyFile ? ` --policy-file ${shown(resolve(flags.policyFile))}` : "";
  passFlags = `${extra}${policyFlag}`;
  process.stdout.write(
    [
      "s3-metadata-catalog is running locally (127.0.0.1 only)",
      `  S3        ${stack.s3.endpoint}   bucket '${stack.bucket}'`,
      `  DynamoDB  ${stack.dynamodb.endpoint}   table '${stack.tableName}'`,
      `  HTTP API  ${api}   the dashboard: open it in a browser`,
      `  data      ${stack.dataDir}`,
      ...(stack.resumedEvents > 0
        ? [
            `  resuming  ${stack.resumedEvents} event(s) the last run accepted and did not finish (it was stopped at once, or ended)`,
          ]
        : []),
      "",
      "Try:",
      `  ${catalog} upload ${sample} --prefix docs/${extra}`,
      `  AWS_ACCESS_KEY_ID=${LOCAL_CREDENTIALS.accessKeyId} AWS_SECRET_ACCESS_KEY=${LOCAL_CREDENTIALS.secretAccessKey} aws --region ${LOCAL_REGION} --endpoint-url ${stack.s3.endpoint} s3 cp ${sample} s3://${stack.bucket}/docs/copy-of-README.md`,
      `  ${catalog} show s3://${stack.bucket}/docs/README.md${extra}`,
      ...(ports ? ["  (ls, find, backfill, reprocess and dlq take the same flags)"] : []),
      ...(policyFlag
        ? [`  (backfill and reprocess also take${policyFlag}, to judge objects as this stack does)`]
        : []),
      "",
      "Ctrl-C stops.",
      "",
    ].join("\n"),
  );

  await new Promise<void>((resolvePromise) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolvePromise();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
  // A second Ctrl-C ends the process at once, saying what becomes of the events it leaves.
  const stopAtOnce = async () => {
    const left = stack.dispatcher.pending;
    process.stderr.write(
      left === 0
        ? "stopped at once.\n"
        : stack.journalError
          ? `stopped at once: ${left} event(s) not finished, and not kept (${stack.journalError}); after the next start, \`catalog backfill s3://${stack.bucket}/${passFlags}\` catalogs the objects they left out\n`
          : `stopped at once: ${left} event(s) not finished, kept in ${stack.pendingEventsFile}; the next start on this data dir delivers them\n`,
    );
    // Exiting while a server thread parses a request can abort Node.js with a fatal error: they end first.
    await stack.halt();
    process.exit(130);
  };
  process.once("SIGINT", stopAtOnce);
  process.once("SIGTERM", stopAtOnce);
  process.stdout.write(
    "stopping: refusing uploads, finishing queued events (Ctrl-C again stops at once)...\n",
  );
  await stack.s3.refuseWrites();
  // Open dashboard tabs hold a live stream each: end them, or the server's close waits for their time to run out.
  feed.end();
  await new Promise<void>((resolvePromise) => http.close(() => resolvePromise()));
  await stack.close();
  process.stdout.write("stopped.\n");
}
