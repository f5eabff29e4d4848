import { request } from "node:http";
import type { Command } from "commander";
import type { DeadLetter, ReplayResult } from "../../local/dispatcher.js";
import { CliError } from "../cli-error.js";
import { formatTable, printJson } from "../format.js";
import {
  type LocalApiFlags,
  localApiUrl,
  localStartHint,
  targetsAws,
  withLocalApiFlags,
} from "../target-flags.js";

interface DlqFlags extends LocalApiFlags {
  json?: boolean;
}

// A move task only works for a queue's own redrive (SQS mode); in direct mode the messages are Lambda's
// failure records, which are re-invoked one by one: the deploy guide has both procedures.
const AWS_DLQ =
  "against AWS the dead-letter queue is an SQS queue (see the stack's outputs): in SQS mode redrive it with 'aws sqs start-message-move-task --source-arn <dead-letter queue ARN>'; in direct mode re-invoke the function with each message's requestPayload (docs/DEPLOY.md, 'Redriving the dead-letter queue')";

/**
 * How long `dlq ls` waits in silence: the stack answers it by reading one file, so a server quiet
 * this long is hung, not busy. A replay has no limit (see callApi).
 */
const LIST_SILENCE_MS = 15_000;

/**
 * Calls the local stack's HTTP API; the dead-letter file is the running stack's to read and rewrite.
 * node:http rather than fetch: fetch gives up on a response whose headers take over 300 s, and a replay
 * of a large file answers only once every letter has been delivered again. `silenceMs`, when given,
 * ends the call once the connection has been quiet that long. `isAnswer` tells the API's answer from
 * another server's: --api pointed at the stack's S3 or DynamoDB port gets an answer too, of another shape.
 */
async function callApi<T>(
  apiUrl: string,
  method: "GET" | "POST",
  path: string,
  isAnswer: (body: Partial<T>) => boolean,
  silenceMs?: number,
): Promise<T> {
  let status: number;
  let text: string;
  try {
    ({ status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const call = request(new URL(path, apiUrl), { method }, (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () =>
          resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }),
        );
        response.on("error", reject);
      });
      call.on("error", reject);
      if (silenceMs !== undefined) {
        call.setTimeout(silenceMs, () =>
          call.destroy(new Error(`timed out after ${silenceMs} ms of inactivity`)),
        );
      }
      call.end();
    }));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ECONNREFUSED") {
      // A start that serves the API where this call looked: 'npm start' alone would not, on another port.
      const hint = localStartHint({ api: apiUrl });
      throw new CliError(
        "command" in hint
          ? `the local stack is not running: start it with ${hint.command}; nothing answers at ${apiUrl} (--api names the HTTP API of a stack on another port)`
          : `nothing answers at ${apiUrl}, and no 'catalog dev' can answer there: ${hint.problem}`,
      );
    }
    throw new CliError(`cannot reach the local stack at ${apiUrl}: ${(error as Error).message}`);
  }
  let body: Partial<T> & { error?: unknown };
  try {
    body = JSON.parse(text) ?? {};
  } catch {
    body = {};
  }
  if (status >= 200 && status <= 299 && isAnswer(body)) return body as T;
  // The API says what went wrong in `error`; another server answers in its own words, or not in JSON.
  if ((status < 200 || status > 299) && typeof body.error === "string")
    throw new CliError(`${method} ${path} failed: ${status} ${body.error}`);
  throw new CliError(
    `${apiUrl} answered ${method} ${path}, but not as the local stack's HTTP API does (HTTP ${status}): is --api the address of the HTTP API that 'catalog dev' prints?`,
  );
}

/** One stderr line for the lines of the dead-letter file that are no event, which no listing can show. */
function reportUnreadable(command: string, unreadable: number): void {
  if (unreadable === 0) return;
  process.stderr.write(
    `catalog dlq ${command}: ${unreadable} line(s) of the dead-letter file (dead-letter.jsonl in the stack's --data-dir) are no event: kept as they are, for you to fix or remove\n`,
  );
  process.exitCode = 1;
}

/**
 * Runs `work` against the local stack's HTTP API, or says in one line where the DLQ lives in AWS
 * (with `--json`, as `{ target: "aws", redrive }`, so a script reading JSON gets JSON).
 * Neither needs the bucket, the table or an SDK client.
 */
async function onLocalStack(flags: DlqFlags, work: (apiUrl: string) => Promise<void>): Promise<void> {
  const apiUrl = localApiUrl(flags);
  if (targetsAws(flags)) {
    if (flags.json) printJson({ target: "aws", redrive: AWS_DLQ });
    else process.stdout.write(`${AWS_DLQ}\n`);
    return;
  }
  await work(apiUrl);
}

/**
 * The object a dead letter names, as `s3://bucket/key`, or `?`. The file is
 * anyone's to edit and its lines are only checked for a `Records` array, so
 * every field may be missing or of another type, and a key may be no valid
 * URL encoding: a damaged letter gets a `?`, never stops the listing.
 */
function letterObject(record: unknown): string {
  const s3 = (record as { s3?: { bucket?: { name?: unknown }; object?: { key?: unknown } } } | undefined)?.s3;
  const bucket = s3?.bucket?.name;
  const key = s3?.object?.key;
  if (typeof bucket !== "string" || typeof key !== "string") return "?";
  const spaced = key.replace(/\+/g, " ");
  let decoded: string;
  try {
    decoded = decodeURIComponent(spaced);
  } catch {
    // S3 never sends a malformed escape; shown as stored rather than not at all.
    decoded = spaced;
  }
  return `s3://${bucket}/${decoded}`;
}

function letterRow(letter: DeadLetter): string[] {
  const record: unknown = letter.event.Records[0];
  const eventName = (record as { eventName?: unknown } | undefined)?.eventName;
  return [
    String(letter.failedAt ?? "?"),
    letterObject(record),
    typeof eventName === "string" ? eventName : "?",
    String(letter.attempts ?? "?"),
    String(letter.error ?? ""),
  ];
}

async function runLs(flags: DlqFlags): Promise<void> {
  await onLocalStack(flags, async (apiUrl) => {
    const { items, unreadable = 0 } = await callApi<{ items: DeadLetter[]; unreadable?: number }>(
      apiUrl,
      "GET",
      "/api/dlq",
      (body) => Array.isArray(body.items),
      LIST_SILENCE_MS,
    );
    if (flags.json) printJson(items);
    else if (items.length === 0 && unreadable === 0) process.stdout.write("the dead-letter file is empty\n");
    else if (items.length > 0) {
      process.stdout.write(
        `${formatTable([["FAILED AT", "OBJECT", "EVENT", "ATTEMPTS", "ERROR"], ...items.map(letterRow)])}\n`,
      );
    }
    reportUnreadable("ls", unreadable);
  });
}

async function runReplay(flags: DlqFlags): Promise<void> {
  await onLocalStack(flags, async (apiUrl) => {
    const result = await callApi<ReplayResult>(
      apiUrl,
      "POST",
      "/api/dlq/replay",
      (body) => typeof body.replayed === "number" && typeof body.failed === "number",
    );
    const unreadable = result.unreadable ?? 0;
    if (flags.json) printJson(result);
    else process.stdout.write(`replayed ${result.replayed}, still failing ${result.failed}\n`);
    if (!flags.json && result.failed > 0) {
      process.stderr.write(
        `catalog dlq replay: see 'catalog dlq ls${flags.api ? ` --api ${flags.api}` : ""}' for the errors\n`,
      );
    }
    if (!flags.json) reportUnreadable("replay", unreadable);
    if (result.failed > 0 || unreadable > 0) process.exitCode = 1;
  });
}

/** `catalog dlq ls|replay`: the local stack's dead-letter file. */
export function registerDlq(program: Command): void {
  const dlq = program
    .command("dlq")
    .description("events that failed every delivery attempt (the local stack's dead-letter file)")
    // Reached only without one of its commands: `dlq --api URL` is a forgotten `ls`, which Commander would
    // call an unknown option, and `dlq drain` a mistyped one.
    .allowUnknownOption()
    .allowExcessArguments()
    .action((_flags: unknown, command: Command) => {
      const [first] = command.args;
      throw new CliError(
        first === undefined || first.startsWith("-")
          ? "dlq needs a command: ls or replay, with its options after it (catalog dlq ls --api URL)"
          : `unknown command '${first}' for dlq: expected ls or replay`,
      );
    });
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
      .option("--json", "print { replayed, failed, unreadable? } as JSON"),
  ).action((flags: DlqFlags) => runReplay(flags));
}
