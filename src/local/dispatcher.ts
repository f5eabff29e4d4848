import { appendFile, mkdir, open, readFile, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { S3Event } from "aws-lambda";
import { describeError } from "../engine/errors.js";
import { type ObjectEvent, toS3Notification } from "../events/s3-event.js";
import type { EventJournal, JournaledEvent } from "./event-journal.js";

/** What the dispatcher delivers to: the same handler the Lambda runs. */
export type Invoke = (event: S3Event) => Promise<unknown>;

/** One undeliverable event, as kept in the dead-letter file (one JSON object per line). */
export interface DeadLetter {
  /** The notification exactly as it was delivered. */
  event: S3Event;
  error: string;
  attempts: number;
  failedAt: string;
}

export interface DispatcherOptions {
  invoke: Invoke;
  /** JSON-lines file for events that failed every attempt. */
  deadLetterFile: string;
  /** Invocations running at once. @default 4 */
  concurrency?: number;
  /** Retries after the first attempt, as Lambda does for asynchronous invocations. @default 2 */
  retries?: number;
  /** Delay before each retry, in milliseconds. @default [500, 2000] */
  backoffMs?: readonly number[];
  /**
   * An attempt still running after this long has failed, as a Lambda
   * invocation past its function timeout has (the stack's function has
   * 60 s): it is retried, then parked. @default 60000
   */
  attemptTimeoutMs?: number;
  /**
   * The bucket whose notification this dispatcher stands for. On S3 the
   * notification is configured on one bucket, so changes in any other raise
   * no event: here they are not delivered either, only counted (see
   * {@link Dispatcher.unwatched}). Absent: every bucket's changes are delivered.
   */
  bucket?: string;
  /** Called the first time a change in a bucket other than `bucket` is left undelivered, once per bucket. */
  onUnwatched?: (bucket: string) => void;
  /** Keys under these prefixes raise no event (derived files: thumbnails). */
  excludePrefixes?: readonly string[];
  /** Called after each delivery settles, for logs and live updates. */
  onSettled?: (outcome: DeliveryOutcome) => void;
  /**
   * Where accepted events are noted until they are delivered or parked, so
   * a process that dies with events queued delivers them at its next start
   * (see {@link Dispatcher.resume}). Absent: queued events die with the process.
   */
  journal?: EventJournal;
}

export interface DeliveryOutcome {
  event: ObjectEvent;
  delivered: boolean;
  attempts: number;
  error?: string;
}

/**
 * Delivers object events to the handler with the semantics of an
 * asynchronous Lambda invocation: one notification per event with the key
 * URL-encoded as S3 sends it, bounded concurrency, an attempt that outlives
 * the function timeout counted as failed, two retries with backoff, then the
 * event is parked in a dead-letter file that `catalog dlq replay` re-drives.
 * Nothing is dropped silently, not even when that file refuses a write.
 *
 * @example
 * const dispatcher = new Dispatcher({ invoke: handler, deadLetterFile: ".catalog/dead-letter.jsonl" });
 * s3.on("object", (event) => dispatcher.enqueue(event));
 * await dispatcher.idle();
 */
export class Dispatcher {
  /** Events waiting, each with its journal id when there is a journal. */
  private readonly queue: { event: ObjectEvent; id?: number }[] = [];
  private running = 0;
  private readonly waiters: (() => void)[] = [];
  private readonly concurrency: number;
  private readonly retries: number;
  private readonly backoffMs: readonly number[];
  private readonly attemptTimeoutMs: number;
  /** Settles when every dead letter so far is written or kept in `unwritten`; never rejects. */
  private deadLetterWrites: Promise<void> = Promise.resolve();
  /** Dead letters the file refused (disk full, a directory in its place): written before the next one. */
  private unwritten: DeadLetter[] = [];
  private readonly unwatchedChanges = new Map<string, number>();

  constructor(private readonly options: DispatcherOptions) {
    this.concurrency = options.concurrency ?? 4;
    this.retries = options.retries ?? 2;
    this.backoffMs = options.backoffMs ?? [500, 2000];
    this.attemptTimeoutMs = options.attemptTimeoutMs ?? DEFAULT_ATTEMPT_TIMEOUT_MS;
  }

  /** Events waiting or in flight. */
  get pending(): number {
    return this.queue.length + this.running;
  }

  /**
   * Changes seen in buckets other than the watched one, by bucket: not
   * cataloged, as S3 would send no event for them.
   */
  get unwatched(): ReadonlyMap<string, number> {
    return this.unwatchedChanges;
  }

  /**
   * Queues one event; returns at once. Events of another bucket than the
   * watched one, or under an excluded prefix, are dropped here, as S3's
   * notification configuration and its filter would; the first are counted.
   */
  enqueue(event: ObjectEvent): void {
    if (!this.accepts(event)) return;
    this.queue.push({ event, ...(this.options.journal && { id: this.options.journal.add(event) }) });
    this.pump();
  }

  /**
   * Queues the events a journal kept from an earlier run (accepted then, and
   * neither delivered nor parked), under the ids it knows them by. One this
   * dispatcher would not accept (the stack now watches another bucket) is
   * dropped as a new one would be, and settled.
   */
  resume(events: readonly JournaledEvent[]): void {
    for (const { id, event } of events) {
      if (this.accepts(event)) this.queue.push({ event, id });
      else this.options.journal?.settle(id);
    }
    this.pump();
  }

  /** Whether an event is the watched bucket's and outside the excluded prefixes; other buckets' are counted. */
  private accepts(event: ObjectEvent): boolean {
    // Derived files (a backfill's thumbnails, in whichever bucket) are no change anyone made: not counted.
    if (this.options.excludePrefixes?.some((prefix) => event.key.startsWith(prefix))) return false;
    const { bucket } = this.options;
    if (bucket !== undefined && event.bucket !== bucket) {
      const seen = this.unwatchedChanges.get(event.bucket) ?? 0;
      this.unwatchedChanges.set(event.bucket, seen + 1);
      if (seen === 0) this.options.onUnwatched?.(event.bucket);
      return false;
    }
    return true;
  }

  /** Resolves when nothing is queued or in flight. */
  idle(): Promise<void> {
    if (this.pending === 0) return this.deadLetterWrites;
    return new Promise<void>((resolve) => this.waiters.push(resolve)).then(() => this.deadLetterWrites);
  }

  private pump(): void {
    while (this.running < this.concurrency && this.queue.length > 0) {
      const { event, id } = this.queue.shift() as { event: ObjectEvent; id?: number };
      this.running++;
      void this.deliver(event, id).finally(() => {
        this.running--;
        this.pump();
        if (this.pending === 0) for (const resolve of this.waiters.splice(0)) resolve();
      });
    }
  }

  private async deliver(event: ObjectEvent, id: number | undefined): Promise<void> {
    const notification = toS3Notification([event]);
    let lastError = "";
    for (let attempt = 1; attempt <= this.retries + 1; attempt++) {
      try {
        await withTimeout(this.options.invoke(notification), this.attemptTimeoutMs);
        if (id !== undefined) this.options.journal?.settle(id);
        this.options.onSettled?.({ event, delivered: true, attempts: attempt });
        return;
      } catch (error) {
        lastError = describeError(error);
        const delay = this.backoffMs[Math.min(attempt - 1, this.backoffMs.length - 1)] ?? 0;
        if (attempt <= this.retries) await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
    const letter: DeadLetter = {
      event: notification,
      error: lastError,
      attempts: this.retries + 1,
      failedAt: new Date().toISOString(),
    };
    const parked = this.deadLetterWrites.then(() => this.park(letter));
    this.deadLetterWrites = parked.then(() => undefined);
    const parkError = await parked;
    // Parked, it is the dead-letter file's to keep; refused by that file, the journal keeps it for the next start.
    if (id !== undefined && !parkError) this.options.journal?.settle(id);
    this.options.onSettled?.({
      event,
      delivered: false,
      attempts: this.retries + 1,
      error: parkError ? `${lastError}; not yet in the dead-letter file: ${parkError}` : lastError,
    });
  }

  /**
   * Appends a dead letter, after any the file refused before. A refusal keeps
   * them all in memory for the next try (never rejects: a rejected chain
   * would stop every later dead letter, and end the process unhandled).
   */
  private async park(letter: DeadLetter): Promise<string | undefined> {
    const letters = [...this.unwritten, letter];
    try {
      await appendDeadLetters(this.options.deadLetterFile, letters);
      this.unwritten = [];
      return undefined;
    } catch (error) {
      this.unwritten = letters;
      return describeError(error);
    }
  }

  /**
   * Re-drives every parked event once, in order; those that fail again stay
   * in the file (with the new error). Serialised with new dead letters so the
   * file is never rewritten under a concurrent append.
   */
  replay(): Promise<ReplayResult> {
    const run = this.deadLetterWrites.then(() =>
      replayDeadLetters(this.options.deadLetterFile, (event) =>
        withTimeout(this.options.invoke(event), this.attemptTimeoutMs),
      ),
    );
    this.deadLetterWrites = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }
}

/** Lambda's own default is 3 s; the stack's function is given 60 s, and this stands in for it. */
export const DEFAULT_ATTEMPT_TIMEOUT_MS = 60_000;

/** One invocation attempt that runs longer than a Lambda function may. */
export class InvocationTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`invocation timed out after ${timeoutMs} ms`);
    this.name = "InvocationTimeoutError";
  }
}

/**
 * The attempt, or a timeout. Unlike Lambda the dispatcher cannot stop the
 * attempt, which carries on unobserved; the handler's writes are conditional
 * and idempotent, so it and the retry converge like two deliveries.
 */
function withTimeout(attempt: Promise<unknown>, timeoutMs: number): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new InvocationTimeoutError(timeoutMs)), timeoutMs);
  });
  // A late failure of an abandoned attempt is nobody's to handle.
  attempt.catch(() => undefined);
  return Promise.race([attempt, timeout]).finally(() => clearTimeout(timer));
}

async function appendDeadLetters(file: string, letters: readonly DeadLetter[]): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const text = letters.map((letter) => `${JSON.stringify(letter)}\n`).join("");
  // A process killed mid-append leaves a line without its newline; appended to, that line would
  // swallow this letter too.
  await appendFile(file, (await endsMidLine(file)) ? `\n${text}` : text);
}

async function endsMidLine(file: string): Promise<boolean> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(file, "r");
    const { size } = await handle.stat();
    if (size === 0) return false;
    const last = Buffer.alloc(1);
    await handle.read(last, 0, 1, size - 1);
    return last[0] !== 0x0a;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw error;
  } finally {
    await handle?.close();
  }
}

/**
 * Every parked event in a dead-letter file (none when it does not exist).
 * A line that is no dead letter (cut short by a crash mid-append) is left
 * out here; {@link replayDeadLetters} keeps it in the file.
 *
 * @example
 * for (const letter of await readDeadLetters(".catalog/dead-letter.jsonl")) console.log(letter.error);
 */
export async function readDeadLetters(file: string): Promise<DeadLetter[]> {
  return (await readDeadLetterFile(file)).letters;
}

/**
 * A dead-letter file's letters, and its lines that are no letter (a line
 * cut short by a crash, or edited by hand), as they are.
 */
export async function readDeadLetterFile(
  file: string,
): Promise<{ letters: DeadLetter[]; unreadable: string[] }> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { letters: [], unreadable: [] };
    throw error;
  }
  const letters: DeadLetter[] = [];
  const unreadable: string[] = [];
  for (const line of text.split("\n")) {
    if (line.trim().length === 0) continue;
    const letter = parseDeadLetter(line);
    if (letter) letters.push(letter);
    else unreadable.push(line);
  }
  return { letters, unreadable };
}

function parseDeadLetter(line: string): DeadLetter | undefined {
  try {
    const value = JSON.parse(line) as Partial<DeadLetter> | null;
    const event = value?.event as unknown;
    if (typeof event !== "object" || event === null || !Array.isArray((event as S3Event).Records))
      return undefined;
    return value as DeadLetter;
  } catch {
    return undefined;
  }
}

/** What a replay did. */
export interface ReplayResult {
  /** Dead letters delivered this time, now gone from the file. */
  replayed: number;
  /** Dead letters that failed again and stay in the file. */
  failed: number;
  /**
   * Lines that are no dead letter (cut short by a crash, edited by hand):
   * kept in the file as they are, never delivered. Absent when there are none.
   */
  unreadable?: number;
}

/**
 * Invokes the handler once per parked event and rewrites the file with the
 * ones that failed again (atomically: a temp file renamed over it). Lines
 * that are no dead letter stay as they were, for a person to look at, and
 * are counted: nothing parked is dropped because a neighbour is damaged,
 * and nothing is left behind unsaid.
 *
 * @example
 * const { replayed, failed } = await replayDeadLetters(".catalog/dead-letter.jsonl", handler);
 */
export async function replayDeadLetters(file: string, invoke: Invoke): Promise<ReplayResult> {
  const { letters, unreadable } = await readDeadLetterFile(file);
  const remaining: DeadLetter[] = [];
  for (const letter of letters) {
    try {
      await invoke(letter.event);
    } catch (error) {
      remaining.push({
        ...letter,
        error: describeError(error),
        attempts: (Number.isInteger(letter.attempts) ? letter.attempts : 0) + 1,
        failedAt: new Date().toISOString(),
      });
    }
  }
  if (letters.length > 0) {
    const temp = `${file}.tmp`;
    const lines = [...unreadable, ...remaining.map((letter) => JSON.stringify(letter))];
    await writeFile(temp, lines.map((line) => `${line}\n`).join(""));
    await rename(temp, file);
  }
  return {
    replayed: letters.length - remaining.length,
    failed: remaining.length,
    ...(unreadable.length > 0 && { unreadable: unreadable.length }),
  };
}
