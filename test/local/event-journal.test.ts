import { appendFile, mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { S3Event } from "aws-lambda";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ObjectEvent } from "../../src/events/s3-event.js";
import { Dispatcher, readDeadLetters } from "../../src/local/dispatcher.js";
import { EventJournal } from "../../src/local/event-journal.js";

let directory: string;
let file: string;
beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), "event-journal-"));
  file = join(directory, "pending-events.jsonl");
});
afterEach(() => rm(directory, { recursive: true, force: true }));

function created(key: string): ObjectEvent {
  return {
    kind: "created",
    eventName: "ObjectCreated:Put",
    bucket: "uploads",
    key,
    size: 5,
    eTag: "5d41402abc4b2a76b9719d911017c592",
    sequencer: "0062E9B1E2C6C7A0F0",
    eventTime: "2026-05-01T10:00:00.000Z",
  };
}

/** The keys of the events a fresh open of the journal file hands back, as a restarted stack sees them. */
async function unfinishedKeys(): Promise<string[]> {
  const { journal, unfinished } = await EventJournal.open(file);
  journal.close();
  return unfinished.map(({ event }) => event.key);
}

function keyOf(event: S3Event): string {
  return decodeURIComponent((event.Records[0]?.s3.object.key ?? "").replace(/\+/g, " "));
}

describe("the event journal", () => {
  it("hands back, in order, the events accepted and never settled", async () => {
    // Prepare
    const { journal, unfinished } = await EventJournal.open(file);
    expect(unfinished).toEqual([]);
    const ids = ["a.txt", "b.txt", "c.txt", "d.txt"].map((key) => journal.add(created(key)));
    // Act: two settled, then the process ends without closing anything.
    journal.settle(ids[0] as number);
    journal.settle(ids[2] as number);
    // Assess
    expect(await unfinishedKeys()).toEqual(["b.txt", "d.txt"]);
  });

  it("keeps what it handed back until it is settled, through a second crash", async () => {
    // Prepare: a first run leaves two events.
    const first = (await EventJournal.open(file)).journal;
    first.add(created("a.txt"));
    first.add(created("b.txt"));
    // Act: the second run settles one of them and ends too.
    const second = await EventJournal.open(file);
    expect(second.unfinished.map(({ event }) => event.key)).toEqual(["a.txt", "b.txt"]);
    second.journal.settle(second.unfinished[0]?.id as number);
    const added = second.journal.add(created("c.txt"));
    // Assess: ids go on past the ones handed back, so settling the new event settles only it.
    expect(second.unfinished.map(({ id }) => id)).not.toContain(added);
    expect(await unfinishedKeys()).toEqual(["b.txt", "c.txt"]);
  });

  it("ignores a last line cut short by a crash mid-write, and keeps the others", async () => {
    // Prepare
    const { journal } = await EventJournal.open(file);
    journal.add(created("whole.txt"));
    await appendFile(file, '{"add":2,"event":{"kind":"created","bucket":"uplo');
    // Act and assess
    expect(await unfinishedKeys()).toEqual(["whole.txt"]);
  });

  it("empties its file whenever nothing is pending", async () => {
    // Prepare
    const { journal } = await EventJournal.open(file);
    const ids = Array.from({ length: 50 }, (_, index) => journal.add(created(`${index}.txt`)));
    expect((await stat(file)).size).toBeGreaterThan(0);
    // Act
    for (const id of ids) journal.settle(id);
    // Assess: empty, and what comes next is read back on its own.
    expect((await stat(file)).size).toBe(0);
    journal.add(created("next.txt"));
    expect(await unfinishedKeys()).toEqual(["next.txt"]);
  });

  it("stays small while events keep coming and one stays pending for good", async () => {
    // Prepare: an event whose delivery never ends.
    const { journal } = await EventJournal.open(file);
    journal.add(created("stuck.txt"));
    // Act: 25,000 events accepted and settled behind it.
    for (let index = 0; index < 25_000; index += 1) journal.settle(journal.add(created(`${index}.txt`)));
    // Assess: rewritten with only what is pending, once 20,000 had settled.
    expect((await stat(file)).size).toBeLessThan(5_000 * 400);
    expect(await unfinishedKeys()).toEqual(["stuck.txt"]);
  });
});

describe("the dispatcher with a journal", () => {
  it("delivers at the next start an event whose delivery the process did not live to finish", async () => {
    // Prepare: a handler that never returns for one key, as a process killed mid-invocation.
    const { journal } = await EventJournal.open(file);
    const delivered: string[] = [];
    const first = new Dispatcher({
      invoke: (event) => {
        if (keyOf(event) === "stuck.jpg") return new Promise(() => {});
        delivered.push(keyOf(event));
        return Promise.resolve();
      },
      deadLetterFile: join(directory, "dead-letter.jsonl"),
      journal,
    });
    first.enqueue(created("done.jpg"));
    first.enqueue(created("stuck.jpg"));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(delivered).toEqual(["done.jpg"]);

    // Act: the next start, on the same file.
    const restarted = await EventJournal.open(file);
    const second = new Dispatcher({
      invoke: (event) => {
        delivered.push(keyOf(event));
        return Promise.resolve();
      },
      deadLetterFile: join(directory, "dead-letter.jsonl"),
      journal: restarted.journal,
    });
    second.resume(restarted.unfinished);
    await second.idle();

    // Assess: delivered once more, and nothing left for a third start.
    expect(delivered).toEqual(["done.jpg", "stuck.jpg"]);
    expect(await unfinishedKeys()).toEqual([]);
  });

  it("settles an event once the dead-letter file holds it, so the next start does not deliver it again", async () => {
    // Prepare
    const { journal } = await EventJournal.open(file);
    const dispatcher = new Dispatcher({
      invoke: () => Promise.reject(new Error("table gone")),
      deadLetterFile: join(directory, "dead-letter.jsonl"),
      retries: 1,
      backoffMs: [1],
      journal,
    });
    // Act
    dispatcher.enqueue(created("parked.jpg"));
    await dispatcher.idle();
    // Assess
    const letters = await readDeadLetters(join(directory, "dead-letter.jsonl"));
    expect(letters.map((letter) => keyOf(letter.event))).toEqual(["parked.jpg"]);
    expect(await unfinishedKeys()).toEqual([]);
  });

  it("keeps an event the dead-letter file refused, for the next start", async () => {
    // Prepare: the dead-letter file's place is taken by a folder, so every write to it fails.
    const { journal } = await EventJournal.open(file);
    const dispatcher = new Dispatcher({
      invoke: () => Promise.reject(new Error("table gone")),
      deadLetterFile: directory,
      retries: 0,
      journal,
    });
    // Act
    dispatcher.enqueue(created("unparked.jpg"));
    await dispatcher.idle();
    // Assess
    expect(await unfinishedKeys()).toEqual(["unparked.jpg"]);
  });

  it("drops, and settles, a kept event of a bucket the stack no longer watches", async () => {
    // Prepare: an event kept by a stack that watched another bucket.
    (await EventJournal.open(file)).journal.add({ ...created("elsewhere.txt"), bucket: "legacy" });
    const restarted = await EventJournal.open(file);
    const delivered: string[] = [];
    const dispatcher = new Dispatcher({
      invoke: (event) => {
        delivered.push(keyOf(event));
        return Promise.resolve();
      },
      deadLetterFile: join(directory, "dead-letter.jsonl"),
      bucket: "uploads",
      journal: restarted.journal,
    });
    // Act
    dispatcher.resume(restarted.unfinished);
    await dispatcher.idle();
    // Assess
    expect(delivered).toEqual([]);
    expect(dispatcher.unwatched.get("legacy")).toBe(1);
    expect(await unfinishedKeys()).toEqual([]);
    expect(await readFile(file, "utf8")).toBe("");
  });
});
