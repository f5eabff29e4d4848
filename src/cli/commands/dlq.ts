import type { Command } from "commander";
import type { DeadLetter } from "../../local/dispatcher.js";
import { CliError } from "../cli-error.js";
import { formatTable, printJson } from "../format.js";
import { type LocalApiFlags, localApiUrl, targetsAws, withLocalApiFlags } from "../target-flags.js";

interface DlqFlags extends LocalApiFlags {
  json?: boolean;
}

const NOT_RUNNING = "the local stack is not running: start it with 'npm start' (catalog dev)";

// A move task only works for a queue's own redrive (SQS mode); in direct mode the messages are Lambda's
// failure records, which are re-invoked one by one: the deploy guide has both procedures.
const AWS_DLQ =
  "against AWS the dead-letter queue is an SQS queue (see the stack's outputs): in SQS mode redrive it with 'aws sqs start-message-move-task --source-arn <dead-letter queue ARN>'; in direct mode re-invoke the function with each message's requestPayload (docs/DEPLOY.md, 'Redriving the dead-letter queue')";

/** Calls the local stack's HTTP API; the dead-letter file is the running stack's to read and rewrite. */
async function callApi<T>(apiUrl: string, method: "GET" | "POST", path: string): Promise<T> {
  let response: Response;
  try {
    response = await fetch(`${apiUrl}${path}`, { method });
  } catch (error) {
    const code = (error as { cause?: { code?: string } }).cause?.code;
    if (code === "ECONNREFUSED") throw new CliError(NOT_RUNNING);
    throw new CliError(`cannot reach the local stack at ${apiUrl}: ${(error as Error).message}`);
  }
  const body = (await response.json().catch(() => ({}))) as T & { error?: string };
  if (!response.ok) {
    throw new CliError(`${method} ${path} failed: ${response.status} ${body.error ?? response.statusText}`);
  }
  return body;
}

/**
 * Runs `work` against the local stack's HTTP API, or says in one line where the DLQ lives in AWS.
 * Neither needs the bucket, the table or an SDK client.
 */
async function onLocalStack(flags: DlqFlags, work: (apiUrl: string) => Promise<void>): Promise<void> {
  const apiUrl = localApiUrl(flags);
  if (targetsAws(flags)) {
    process.stdout.write(`${AWS_DLQ}\n`);
    return;
  }
  await work(apiUrl);
}

function letterRow(letter: DeadLetter): string[] {
  const record = letter.event.Records?.[0];
  const key = record ? decodeURIComponent(record.s3.object.key.replace(/\+/g, " ")) : "?";
  return [
    letter.failedAt,
    record ? `s3://${record.s3.bucket.name}/${key}` : "?",
    record?.eventName ?? "?",
    String(letter.attempts),
    letter.error,
  ];
}

async function runLs(flags: DlqFlags): Promise<void> {
  await onLocalStack(flags, async (apiUrl) => {
    const { items } = await callApi<{ items: DeadLetter[] }>(apiUrl, "GET", "/api/dlq");
    if (flags.json) {
      printJson(items);
      return;
    }
    if (items.length === 0) {
      process.stdout.write("the dead-letter file is empty\n");
      return;
    }
    process.stdout.write(
      `${formatTable([["FAILED AT", "OBJECT", "EVENT", "ATTEMPTS", "ERROR"], ...items.map(letterRow)])}\n`,
    );
  });
}

async function runReplay(flags: DlqFlags): Promise<void> {
  await onLocalStack(flags, async (apiUrl) => {
    const result = await callApi<{ replayed: number; failed: number }>(apiUrl, "POST", "/api/dlq/replay");
    if (flags.json) printJson(result);
    else process.stdout.write(`replayed ${result.replayed}, still failing ${result.failed}\n`);
    if (result.failed > 0) {
      if (!flags.json) process.stderr.write("catalog dlq replay: see 'catalog dlq ls' for the errors\n");
      process.exitCode = 1;
    }
  });
}

/** `catalog dlq ls|replay`: the local stack's dead-letter file. */
export function registerDlq(program: Command): void {
  const dlq = program
    .command("dlq")
    .description("events that failed every delivery attempt (the local stack's dead-letter file)");
  withLocalApiFlags(
    dlq
      .command("ls")
      .description("list the dead-lettered events")
      .option("--json", "print the dead letters as JSON"),
  ).action((flags: DlqFlags) => runLs(flags));
  withLocalApiFlags(
    dlq
      .command("replay")
      .description("deliver every dead-lettered event again; those that fail again stay")
      .option("--json", "print { replayed, failed } as JSON"),
  ).action((flags: DlqFlags) => runReplay(flags));
}
