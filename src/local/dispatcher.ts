import { appendFile, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { S3Event } from "aws-lambda";
import { describeError } from "../engine/errors.js";
import { type ObjectEvent, toS3Notification } from "../events/s3-event.js";

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
  /** Keys under these prefixes raise no event (derived files: thumbnails). */
  excludePrefixes?: readonly string[];
  /** Called after each delivery settles, for logs and live updates. */
  onSettled?: (outcome: DeliveryOutcome) => void;
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
 * URL-encoded as S3 sends it, bounded concurrency, two retries with backoff,
 * then the event is parked in a dead-letter file that `catalog dlq replay`
 * re-drives. Nothing is dropped silently.
 *
 * @example
 * const dispatcher = new Dispatcher({ invoke: handler, deadLetterFile: ".catalog/dead-letter.jsonl" });
 * s3.on("object", (event) => dispatcher.enqueue(event));
 * await dispatcher.idle();
 */
export class Dispatcher {
  private readonly queue: ObjectEvent[] = [];
  private running = 0;
  private readonly waiters: (() => void)[] = [];
  private readonly concurrency: number;
  private readonly retries: number;
  private readonly backoffMs: readonly number[];
  private deadLetterWrites: Promise<void> = Promise.resolve();

  constructor(private readonly options: DispatcherOptions) {
    this.concurrency = options.concurrency ?? 4;
    this.retries = options.retries ?? 2;
    this.backoffMs = options.backoffMs ?? [500, 2000];
  }

  /** Events waiting or in flight. */
  get pending(): number {
    return this.queue.length + this.running;
  }

  /** Queues one event; returns at once. Events under an excluded prefix are dropped here, as S3's filter would. */
  enqueue(event: ObjectEvent): void {
    if (this.options.excludePrefixes?.some((prefix) => event.key.startsWith(prefix))) return;
    this.queue.push(event);
    this.pump();
  }

  /** Resolves when nothing is queued or in flight. */
  idle(): Promise<void> {
    if (this.pending === 0) return this.deadLetterWrites;
    return new Promise<void>((resolve) => this.waiters.push(resolve)).then(() => this.deadLetterWrites);
  }

  private pump(): void {
    while (this.running < this.concurrency && this.queue.length > 0) {
      const event = this.queue.shift() as ObjectEvent;
      this.running++;
      void this.deliver(event).finally(() => {
        this.running--;
        this.pump();
        if (this.pending === 0) for (const resolve of this.waiters.splice(0)) resolve();
      });
    }
  }

  private async deliver(event: ObjectEvent): Promise<void> {
    const notification = toS3Notification([event]);
    let lastError = "";
    for (let attempt = 1; attempt <= this.retries + 1; attempt++) {
      try {
        await this.options.invoke(notification);
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
    this.deadLetterWrites = this.deadLetterWrites.then(() =>
      appendDeadLetter(this.options.deadLetterFile, letter),
    );
    await this.deadLetterWrites;
    this.options.onSettled?.({ event, delivered: false, attempts: this.retries + 1, error: lastError });
  }

  /**
   * Re-drives every parked event once, in order; those that fail again stay
   * in the file (with the new error). Serialised with new dead letters so the
   * file is never rewritten under a concurrent append.
   */
  replay(): Promise<{ replayed: number; failed: number }> {
    const run = this.deadLetterWrites.then(() =>
      replayDeadLetters(this.options.deadLetterFile, this.options.invoke),
    );
    this.deadLetterWrites = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }
}

async function appendDeadLetter(file: string, letter: DeadLetter): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await appendFile(file, `${JSON.stringify(letter)}\n`);
}

/** Every parked event in a dead-letter file (none when it does not exist). */
export async function readDeadLetters(file: string): Promise<DeadLetter[]> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  return text
    .split("\n")
    .filter((line) => line.trim().length > 0)
    .map((line) => JSON.parse(line) as DeadLetter);
}

/**
 * Invokes the handler once per parked event and rewrites the file with the
 * ones that failed again (atomically: a temp file renamed over it).
 */
export async function replayDeadLetters(
  file: string,
  invoke: Invoke,
): Promise<{ replayed: number; failed: number }> {
  const letters = await readDeadLetters(file);
  const remaining: DeadLetter[] = [];
  for (const letter of letters) {
    try {
      await invoke(letter.event);
    } catch (error) {
      remaining.push({
        ...letter,
        error: describeError(error),
        attempts: letter.attempts + 1,
        failedAt: new Date().toISOString(),
      });
    }
  }
  if (letters.length > 0) {
    const temp = `${file}.tmp`;
    await writeFile(temp, remaining.map((letter) => `${JSON.stringify(letter)}\n`).join(""));
    await rename(temp, file);
  }
  return { replayed: letters.length - remaining.length, failed: remaining.length };
}
