/**
 * The events the local stack's dispatcher has accepted and not yet settled,
 * kept in a file under the data directory, so a stack stopped at once (a
 * second Ctrl-C, a crash, a killed process) delivers them when it next
 * starts. On AWS, Lambda keeps an asynchronous invocation's event in its own
 * queue until the function has handled it or parked it in the dead-letter
 * queue; without this, a local stack that died lost the events it had queued,
 * and their objects stayed uncataloged (or their deletions unrecorded) until
 * someone ran a backfill.
 *
 * Each line is JSON: `{"add":N,"event":{...}}` when an event is accepted,
 * `{"done":N}` when it is delivered or written to the dead-letter file.
 * Lines are written with one `write` call each, before the dispatcher goes
 * on, so a process killed at any point has every accepted event in the
 * kernel's hands (a power cut can still lose the last ones: nothing here
 * calls fsync, as nothing in the embedded servers does). An event reaches
 * the journal when the dispatcher receives it from the S3 server's thread,
 * a moment after the upload was answered: a process killed within that
 * moment loses it, which `catalog ls` then counts as uncataloged. The file is
 * emptied whenever nothing is pending, and rewritten with only the pending
 * events once it holds many settled ones, so it stays small.
 */
import {
  closeSync,
  ftruncateSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import type { ObjectEvent } from "../events/s3-event.js";
import { temporaryPath } from "./atomic-files.js";

/** Settled lines after which the file is rewritten with only the pending events, when some stay pending. */
const REWRITE_AFTER_SETTLED = 20_000;

/** An event the journal holds, and the id that settles it. */
export interface JournaledEvent {
  id: number;
  event: ObjectEvent;
}

/** A journal entry's line: an accepted event, or the end of one. */
type JournalLine = { add: number; event: ObjectEvent } | { done: number };

/**
 * The journal of a stack's pending events.
 *
 * @example
 * const { journal, unfinished } = await EventJournal.open(".catalog/pending-events.jsonl");
 * for (const { id, event } of unfinished) deliver(event).then(() => journal.settle(id));
 * const id = journal.add(event);
 * // ... delivered, or parked in the dead-letter file:
 * journal.settle(id);
 */
export class EventJournal {
  /** Pending events by id, as their `add` lines, for a rewrite. */
  private readonly pending = new Map<number, string>();
  private nextId = 1;
  private settledSinceRewrite = 0;
  /** The first write error, once; the journal then stops writing and the dispatcher goes on without it. */
  private failure: string | undefined;

  private constructor(
    private readonly file: string,
    private fd: number,
  ) {}

  /**
   * Opens the journal at `file`, creating it if missing, and hands back the
   * events an earlier run accepted and never settled, oldest first, with
   * their ids: the caller delivers them and settles each, as it does new
   * ones. The file is rewritten with only those, so it holds them until
   * they are settled, a crash before then included. A last line cut short
   * by a crash mid-write is ignored (its event was never accepted: the
   * write is what accepts it).
   */
  static async open(file: string): Promise<{ journal: EventJournal; unfinished: JournaledEvent[] }> {
    await mkdir(dirname(file), { recursive: true });
    const unfinished = readUnfinished(file);
    const lines = unfinished.map(
      ({ id, event }) => `${JSON.stringify({ add: id, event } satisfies JournalLine)}\n`,
    );
    const temporary = temporaryPath(file);
    try {
      writeFileSync(temporary, lines.join(""));
      renameSync(temporary, file);
    } catch (error) {
      rmSync(temporary, { force: true });
      throw error;
    }
    const journal = new EventJournal(file, openSync(file, "a"));
    for (const [index, { id }] of unfinished.entries()) journal.pending.set(id, lines[index] as string);
    journal.nextId = Math.max(0, ...unfinished.map(({ id }) => id)) + 1;
    return { journal, unfinished };
  }

  /** Why the journal stopped writing, if it did (a full disk): events accepted since then die with the process. */
  get error(): string | undefined {
    return this.failure;
  }

  /** Notes an accepted event; returns its id for {@link settle}. */
  add(event: ObjectEvent): number {
    const id = this.nextId++;
    const line = `${JSON.stringify({ add: id, event } satisfies JournalLine)}\n`;
    this.pending.set(id, line);
    this.write(line);
    return id;
  }

  /** Notes that the event `id` is delivered, or safe in the dead-letter file. */
  settle(id: number): void {
    if (!this.pending.delete(id)) return;
    if (this.pending.size === 0) {
      this.empty();
      return;
    }
    this.write(`${JSON.stringify({ done: id } satisfies JournalLine)}\n`);
    if (++this.settledSinceRewrite >= REWRITE_AFTER_SETTLED) this.rewrite();
  }

  /** Closes the file; what is pending stays in it for the next start. */
  close(): void {
    closeSync(this.fd);
  }

  private write(line: string): void {
    if (this.failure) return;
    try {
      writeSync(this.fd, line);
    } catch (error) {
      this.failure = (error as Error).message;
    }
  }

  /** Nothing pending: the file holds nothing worth keeping (opened to append, so the next line goes first). */
  private empty(): void {
    if (this.failure) return;
    try {
      ftruncateSync(this.fd, 0);
      this.settledSinceRewrite = 0;
    } catch (error) {
      this.failure = (error as Error).message;
    }
  }

  /** Replaces the file with the pending events' lines, by a rename, so a crash sees one or the other. */
  private rewrite(): void {
    if (this.failure) return;
    try {
      const temporary = temporaryPath(this.file);
      writeFileSync(temporary, [...this.pending.values()].join(""));
      renameSync(temporary, this.file);
      closeSync(this.fd);
      this.fd = openSync(this.file, "a");
      this.settledSinceRewrite = 0;
    } catch (error) {
      this.failure = (error as Error).message;
    }
  }
}

/** The events a journal file holds that were accepted and never settled, in the order they were accepted. */
function readUnfinished(file: string): JournaledEvent[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  const accepted = new Map<number, ObjectEvent>();
  for (const line of text.split("\n")) {
    const entry = parseLine(line);
    if (entry === undefined) continue;
    if ("add" in entry) accepted.set(entry.add, entry.event);
    else accepted.delete(entry.done);
  }
  return [...accepted].map(([id, event]) => ({ id, event }));
}

function parseLine(line: string): JournalLine | undefined {
  if (line.trim() === "") return undefined;
  try {
    const value = JSON.parse(line) as Partial<{ add: unknown; event: unknown; done: unknown }> | null;
    if (typeof value?.done === "number") return { done: value.done };
    const event = value?.event as Partial<ObjectEvent> | undefined;
    if (
      typeof value?.add === "number" &&
      typeof event?.bucket === "string" &&
      typeof event.key === "string" &&
      (event.kind === "created" || event.kind === "removed")
    )
      return { add: value.add, event: event as ObjectEvent };
    return undefined;
  } catch {
    return undefined;
  }
}
