/**
 * The live stream (`GET /api/events`) over real HTTP: a client that stops
 * reading costs the server a bounded amount of memory and gets one `resync`
 * event when it reads again, while a client that reads gets every event; a
 * client whose writes stay stuck past the stall timeout is disconnected and
 * forgotten, while one that reads but hears nothing gets pings and stays.
 */
import { randomBytes } from "node:crypto";
import { connect, type Socket } from "node:net";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RecordAnnouncement } from "../../src/server/record-feed.js";
import { type LocalCatalog, startLocalCatalog } from "./local-catalog.js";

/** Announcements published while one client stalls, and the size of each key. */
const PUBLISHED = 4_000;
const KEY_BYTES = 4_096;
/** Published at once, then the reading client takes them: less than the server holds per client. */
const BATCH = 10;
/**
 * Heap growth allowed over the second half of the announcements, once the
 * socket buffers of the stalled connection are full and the first half has
 * warmed everything up. Buffering without a bound keeps all of that half:
 * about 8.6 MB (measured: 0.2 MB with the bound).
 */
const HEAP_GROWTH_BOUND = 2 * 1024 * 1024;

let catalog: LocalCatalog;
let url: URL;

/** Full garbage collection, so heap figures compare what is reachable. */
const collectGarbage = (() => {
  setFlagsFromString("--expose-gc");
  return runInNewContext("gc") as () => void;
})();

function heapUsed(): number {
  collectGarbage();
  collectGarbage();
  return process.memoryUsage().heapUsed;
}

function announcement(key: string): RecordAnnouncement {
  return { kind: "created", bucket: "uploads", key, eventTime: new Date().toISOString(), delivered: true };
}

/** Event names of the complete events in an SSE text, in order. */
function eventNames(text: string): string[] {
  return [...text.matchAll(/^event: (\w+)$/gm)].map((match) => match[1] ?? "");
}

/** A raw HTTP/1.1 client of the stream that keeps everything it reads as text. */
async function openRawStream(): Promise<{ socket: Socket; text: () => string }> {
  const socket = connect(Number(url.port), url.hostname);
  let text = "";
  socket.setEncoding("utf8");
  socket.on("data", (chunk: string) => {
    text += chunk;
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  socket.write(`GET /api/events HTTP/1.1\r\nHost: ${url.host}\r\nAccept: text/event-stream\r\n\r\n`);
  await expect.poll(() => eventNames(text), { timeout: 10_000 }).toContain("hello");
  return { socket, text: () => text };
}

/** A client that reads the stream as a browser would, through fetch. */
async function openReadingStream(): Promise<{
  names: string[];
  received: (records: number) => Promise<void>;
  close: () => void;
}> {
  const controller = new AbortController();
  const response = await fetch(new URL("/api/events", url), { signal: controller.signal });
  const reader = response.body?.pipeThrough(new TextDecoderStream()).getReader();
  if (!reader) throw new Error("no body");
  const names: string[] = [];
  let buffered = "";
  void (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        buffered += value;
        const end = buffered.lastIndexOf("\n\n");
        if (end < 0) continue;
        names.push(...eventNames(buffered.slice(0, end)));
        buffered = buffered.slice(end + 2);
      }
    } catch {
      // Aborted by close().
    }
  })();
  await expect.poll(() => names, { timeout: 10_000 }).toContain("hello");
  const records = () => names.filter((name) => name === "record").length;
  return {
    names,
    async received(count) {
      const deadline = Date.now() + 10_000;
      while (records() < count && !names.includes("resync") && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 1));
      expect(names).not.toContain("resync");
      expect(records()).toBe(count);
    },
    close: () => controller.abort(),
  };
}

beforeAll(async () => {
  catalog = await startLocalCatalog({ listen: true });
  url = new URL(catalog.url ?? "");
});

afterAll(() => catalog?.close());

describe("GET /api/events with a client that stops reading", () => {
  it("keeps the server's memory for it bounded, resyncs it once, and keeps serving a reading client", async () => {
    // Prepare: one client that reads nothing more after the greeting, one that reads everything.
    const stalled = await openRawStream();
    stalled.socket.pause();
    const reading = await openReadingStream();
    let halfway = 0;

    // Act: distinct, large announcements, at the pace the reading client takes them.
    for (let sent = 0; sent < PUBLISHED; sent += BATCH) {
      for (let index = 0; index < BATCH; index++)
        catalog.feed.emit("record", announcement(randomBytes(KEY_BYTES / 2).toString("hex")));
      await reading.received(sent + BATCH);
      if (sent + BATCH === PUBLISHED / 2) halfway = heapUsed();
    }
    const growth = heapUsed() - halfway;

    // Assess: the server kept nothing more for the stalled client, the reader got all and no resync.
    expect(growth).toBeLessThan(HEAP_GROWTH_BOUND);
    expect(reading.names.filter((name) => name === "record")).toHaveLength(PUBLISHED);
    expect(reading.names).not.toContain("resync");

    // Reading again, the stalled client gets what was in flight, one resync, then what follows.
    // (What is announced before the resync reaches it is dropped: the resync stands for it.)
    stalled.socket.resume();
    await expect.poll(() => eventNames(stalled.text()), { timeout: 20_000 }).toContain("resync");
    catalog.feed.emit("record", announcement("after-the-stall"));
    await expect.poll(() => stalled.text().includes("after-the-stall"), { timeout: 20_000 }).toBe(true);
    const names = eventNames(stalled.text());
    expect(names.filter((name) => name === "resync")).toHaveLength(1);
    expect(names.filter((name) => name === "record").length).toBeLessThan(PUBLISHED / 2);
    expect(names.at(-1)).toBe("record");
    expect(names.at(-2)).toBe("resync");

    stalled.socket.destroy();
    reading.close();
  }, 120_000);
});

describe("GET /api/events with a client that reads", () => {
  it("costs the server no memory per event over a long stream", async () => {
    // Prepare: many small announcements, so anything kept per write adds up while the data itself is small.
    const events = 20_000;
    const batch = 100;
    const reading = await openReadingStream();
    let halfway = 0;

    // Act
    for (let sent = 0; sent < events; sent += batch) {
      for (let index = 0; index < batch; index++)
        catalog.feed.emit("record", announcement(`k${sent + index}`));
      await reading.received(sent + batch);
      if (sent + batch === events / 2) halfway = heapUsed();
    }
    const growth = heapUsed() - halfway;
    reading.close();

    // Assess: the second half of the stream left nothing behind (a reaction kept per write was about 3 MB).
    expect(growth).toBeLessThan(1024 * 1024);
  }, 120_000);
});

/**
 * Listeners of one client's stream on a feed: what the feed has beyond those
 * the route keeps for itself (its count of announcements), measured at start.
 */
function streamListeners(catalog: LocalCatalog): number {
  return catalog.feed.listenerCount("record") - (routeListeners.get(catalog) ?? 0);
}
const routeListeners = new Map<LocalCatalog, number>();

/** Short timings, so a stall and several pings fit in a test. */
const PING_INTERVAL_MS = 200;
const STALL_TIMEOUT_MS = 1_500;
/** Slack for timers and the event loop of a loaded machine. */
const TIMER_SLACK_MS = 3_000;

describe("GET /api/events keeps healthy streams and closes stalled ones", () => {
  let timed: LocalCatalog;
  let timedUrl: URL;
  /** The server's side of each connection, by the client's port. */
  const serverSockets = new Map<number, Socket>();

  beforeAll(async () => {
    timed = await startLocalCatalog({
      listen: true,
      live: { pingIntervalMs: PING_INTERVAL_MS, stallTimeoutMs: STALL_TIMEOUT_MS },
    });
    timedUrl = new URL(timed.url ?? "");
    routeListeners.set(timed, timed.feed.listenerCount("record"));
    timed.http?.on("connection", (socket: Socket) => {
      if (socket.remotePort !== undefined) serverSockets.set(socket.remotePort, socket);
    });
  });

  afterAll(() => timed?.close());

  async function open(): Promise<{
    socket: Socket;
    text: () => string;
    closed: () => boolean;
    server: Socket;
  }> {
    const socket = connect(Number(timedUrl.port), timedUrl.hostname);
    let text = "";
    let closed = false;
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      text += chunk;
    });
    socket.on("close", () => {
      closed = true;
    });
    socket.on("error", () => undefined);
    await new Promise<void>((resolve) => socket.once("connect", resolve));
    socket.write(`GET /api/events HTTP/1.1\r\nHost: ${timedUrl.host}\r\nAccept: text/event-stream\r\n\r\n`);
    await expect.poll(() => eventNames(text), { timeout: 10_000 }).toContain("hello");
    const server = serverSockets.get(socket.localPort ?? 0);
    if (!server) throw new Error("the server's side of the connection was not seen");
    return { socket, text: () => text, closed: () => closed, server };
  }

  it("closes a stream whose writes have not drained within the stall timeout, and releases its state", async () => {
    // Prepare: a client that reads nothing after the greeting.
    const stalled = await open();
    expect(streamListeners(timed)).toBe(1);
    stalled.socket.pause();

    // Act: announcements until both sides' socket buffers are full and the server holds unsent bytes.
    const flooding = Date.now();
    while (!stalled.server.writableNeedDrain && !stalled.server.destroyed) {
      if (Date.now() - flooding > 60_000) throw new Error("the connection never filled up");
      for (let index = 0; index < BATCH; index++)
        timed.feed.emit("record", announcement(randomBytes(KEY_BYTES / 2).toString("hex")));
      await new Promise((resolve) => setImmediate(resolve));
    }

    // Assess: the server drops the client's listener and its socket. Only the stall timer closes this
    // stream in a test's time (its lifetime is the default 5 min), so the close is that timer's outcome;
    // the wait allows a loaded machine many times the 1.5 s stall timeout.
    await expect.poll(() => streamListeners(timed), { timeout: 20 * STALL_TIMEOUT_MS, interval: 20 }).toBe(0);
    await expect.poll(() => stalled.server.destroyed, { timeout: 1_000 }).toBe(true);
    // The client, reading again, finds the connection closed after what was in flight.
    stalled.socket.resume();
    await expect.poll(() => stalled.closed(), { timeout: 10_000 }).toBe(true);
  }, 90_000);

  it("keeps a reading client that is idle for longer than the stall timeout, with pings", async () => {
    const idle = await open();
    const pings = () => idle.text().match(/^: ping$/gm)?.length ?? 0;

    // Idle for twice the stall timeout, counted in pings.
    const needed = Math.ceil((2 * STALL_TIMEOUT_MS) / PING_INTERVAL_MS);
    await expect
      .poll(pings, { timeout: 2 * STALL_TIMEOUT_MS + 10 * TIMER_SLACK_MS })
      .toBeGreaterThanOrEqual(needed);

    // Still connected and still served.
    expect(idle.closed()).toBe(false);
    expect(streamListeners(timed)).toBe(1);
    timed.feed.emit("record", announcement("after-the-idle-time"));
    await expect.poll(() => idle.text().includes("after-the-idle-time"), { timeout: 10_000 }).toBe(true);

    // A client that goes away is released too.
    idle.socket.destroy();
    await expect.poll(() => streamListeners(timed), { timeout: 10_000 }).toBe(0);
  }, 60_000);
});

describe("GET /api/events ends every stream after its lifetime", () => {
  /** Short enough for a test; pings well inside it, and a stall timeout that a quiet feed never reaches. */
  const MAX_STREAM_MS = 1_500;
  let short: LocalCatalog;
  let shortUrl: URL;
  const serverSockets = new Map<number, Socket>();

  beforeAll(async () => {
    short = await startLocalCatalog({
      listen: true,
      live: { pingIntervalMs: PING_INTERVAL_MS, stallTimeoutMs: 60_000, maxStreamMs: MAX_STREAM_MS },
    });
    shortUrl = new URL(short.url ?? "");
    routeListeners.set(short, short.feed.listenerCount("record"));
    short.http?.on("connection", (socket: Socket) => {
      if (socket.remotePort !== undefined) serverSockets.set(socket.remotePort, socket);
    });
  });

  afterAll(() => short?.close());

  /** A raw client of the stream, sending `lastEventId` as a browser does when it reconnects. */
  async function open(lastEventId?: string) {
    const socket = connect(Number(shortUrl.port), shortUrl.hostname);
    let text = "";
    let closed = false;
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      text += chunk;
    });
    socket.on("close", () => {
      closed = true;
    });
    socket.on("error", () => undefined);
    await new Promise<void>((resolve) => socket.once("connect", resolve));
    const resume = lastEventId === undefined ? "" : `Last-Event-ID: ${lastEventId}\r\n`;
    socket.write(
      `GET /api/events HTTP/1.1\r\nHost: ${shortUrl.host}\r\nAccept: text/event-stream\r\n${resume}\r\n`,
    );
    await expect.poll(() => eventNames(text), { timeout: 10_000 }).toContain("hello");
    const server = serverSockets.get(socket.localPort ?? 0);
    if (!server) throw new Error("the server's side of the connection was not seen");
    const hello = /event: hello\ndata: (.*)\nid: (.*)\n/.exec(text);
    return {
      socket,
      server,
      text: () => text,
      closed: () => closed,
      hello: JSON.parse(hello?.[1] ?? "{}") as { live: boolean; resumed: boolean },
      /** The last event id the stream carried, as a browser keeps it. */
      lastId: () => [...text.matchAll(/^id: (.*)$/gm)].at(-1)?.[1],
    };
  }

  it("closes a client that stopped reading on a quiet feed, which no write ever shows as stalled", async () => {
    // Prepare: a client that reads nothing after the greeting, on a feed that announces nothing.
    const stalled = await open();
    expect(streamListeners(short)).toBe(1);
    stalled.socket.pause();

    // Assess: its listener and its socket are gone once the stream's lifetime is up, pings or not. Only
    // the lifetime closes it this early (its stall timeout is 60 s); the wait allows a loaded machine
    // many times the 1.5 s lifetime and stays well under that 60 s.
    await expect.poll(() => streamListeners(short), { timeout: 10 * MAX_STREAM_MS, interval: 20 }).toBe(0);
    await expect.poll(() => stalled.server.destroyed, { timeout: 1_000, interval: 20 }).toBe(true);
    // The client, reading again, finds pings and then the end of the stream.
    stalled.socket.resume();
    await expect.poll(() => stalled.closed(), { timeout: 10_000 }).toBe(true);
    expect(stalled.text()).toContain(": ping");
  }, 30_000);

  it("lets a client that comes back having missed nothing resume, and tells one that missed announcements", async () => {
    // Prepare: a reading client that gets one announcement, then sees its stream end.
    const first = await open();
    expect(first.hello).toEqual({ live: true, resumed: false });
    short.feed.emit("record", announcement("before-the-end"));
    await expect.poll(() => first.text().includes("before-the-end"), { timeout: 10_000 }).toBe(true);
    await expect.poll(() => first.closed(), { timeout: MAX_STREAM_MS + TIMER_SLACK_MS }).toBe(true);
    const lastId = first.lastId();
    expect(lastId).toMatch(/\.\d+$/);

    // Act and assess: nothing announced since its last event, so it resumes.
    const second = await open(lastId);
    expect(second.hello).toEqual({ live: true, resumed: true });
    second.socket.destroy();

    // An announcement it did not get (while it was away): not resumed, it must reload what it shows.
    short.feed.emit("record", announcement("while-away"));
    const third = await open(lastId);
    expect(third.hello).toEqual({ live: true, resumed: false });
    // An id from another server process (before a restart) never resumes.
    const fourth = await open(`another${lastId?.slice(lastId.indexOf("."))}`);
    expect(fourth.hello.resumed).toBe(false);
    third.socket.destroy();
    fourth.socket.destroy();
  }, 30_000);
});
