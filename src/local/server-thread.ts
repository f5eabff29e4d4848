import { EventEmitter } from "node:events";
import { readlinkSync } from "node:fs";
import { mkdir, stat } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { pathToFileURL } from "node:url";
import { parentPort, Worker, workerData } from "node:worker_threads";

/**
 * The embedded servers run on worker threads of their own: on one event loop
 * with the handler, every request to s3rver or dynalite (parsing, signing
 * checks, file and LevelDB I/O) competed with extraction for a single core,
 * and the pipeline drained at a fraction of the upload rate. On threads they
 * use the other cores and the handler's loop carries only the handler.
 *
 * The protocol is small: the thread answers `ready` (with its port) or
 * `failed` once, exchanges `message`s with its owner while it runs, answers
 * `refuse-writes` with `refusing-writes` once its server refuses requests
 * that would change what it stores (saying whether it can), and answers
 * `close` with `closed` once its server has shut down (and flushed). On
 * `halt` the thread ends itself at once, answering nothing.
 */
type FromThread =
  | { type: "ready"; port: number; osThreadId?: number }
  | { type: "failed"; error: SerializedError }
  | { type: "refusing-writes"; refusing: boolean }
  | { type: "closed"; error?: SerializedError }
  | { type: "message"; body: unknown };
type ToThread =
  | { type: "close" }
  | { type: "halt" }
  | { type: "refuse-writes" }
  | { type: "message"; body: unknown };

interface SerializedError {
  message: string;
  name?: string;
  code?: string;
}

function serialize(error: unknown): SerializedError {
  const { message, name, code } = error as NodeJS.ErrnoException;
  return { message: String(message ?? error), ...(name && { name }), ...(code && { code }) };
}

function revive(error: SerializedError): Error {
  // `code` is what callers test (EADDRINUSE becomes the CLI's port-in-use message).
  return Object.assign(new Error(error.message), {
    ...(error.name && { name: error.name }),
    code: error.code,
  });
}

/**
 * Starts `entry` (a module beside this one, named without extension) on a
 * worker thread. Built code runs `entry.js`; from the TypeScript sources
 * (tsx, vitest) the thread registers tsx first, since a worker does not
 * inherit the loader of the process that starts it.
 */
function spawn(entry: string, data: unknown): Worker {
  const typescript = import.meta.url.endsWith(".ts");
  const url = new URL(`./${entry}.${typescript ? "ts" : "js"}`, import.meta.url);
  if (!typescript) return new Worker(url, { workerData: data });
  // tsx's CommonJS build of this entry point resolves its loader wrongly inside a worker; the ESM one works.
  const tsx = pathToFileURL(
    createRequire(import.meta.url)
      .resolve("tsx/esm/api")
      .replace(/\.cjs$/, ".mjs"),
  );
  const bootstrap = `import(${JSON.stringify(tsx.href)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(url.href)}); });`;
  return new Worker(bootstrap, { eval: true, workerData: data });
}

/**
 * The owner's side of a server on a worker thread.
 *
 * A failure of the thread after it started is emitted as `error`; with no
 * listener that ends the process, as an uncaught error of an in-process
 * server did.
 *
 * @example
 * const thread = new ServerThread("embedded-dynamodb-thread", { port: 0 });
 * const port = await thread.ready;
 * await thread.close();
 */
export class ServerThread extends EventEmitter<{ message: [unknown]; error: [Error] }> {
  /** Resolves with the port the server listens on, or rejects with why it could not start. */
  readonly ready: Promise<number>;
  private readonly worker: Worker;
  private port = 0;
  private threadId: number | undefined;
  private closing: Promise<void> | undefined;
  private refusing: Promise<boolean> | undefined;
  private onRefusing: ((refusing: boolean) => void) | undefined;
  private onClosed: ((error?: Error) => void) | undefined;
  private exited = false;

  constructor(entry: string, data: unknown) {
    super();
    this.worker = spawn(entry, data);
    this.ready = new Promise<number>((resolve, reject) => {
      let started = false;
      this.worker.on("message", (message: FromThread) => {
        switch (message.type) {
          case "ready":
            started = true;
            this.port = message.port;
            this.threadId = message.osThreadId;
            resolve(message.port);
            break;
          case "failed":
            void this.worker.terminate();
            reject(revive(message.error));
            break;
          case "refusing-writes":
            this.onRefusing?.(message.refusing);
            break;
          case "closed":
            this.onClosed?.(message.error && revive(message.error));
            break;
          case "message":
            this.emit("message", message.body);
            break;
        }
      });
      this.worker.on("error", (error) => {
        if (!started) reject(error);
        else if (this.onClosed) this.onClosed(error);
        else this.emit("error", error);
      });
      this.worker.on("exit", (code) => {
        this.exited = true;
        const error = new Error(`the ${entry} thread exited (code ${code})`);
        if (!started) reject(error);
        else this.onClosed?.(code === 0 || code === 1 ? undefined : error);
        // A thread that has ended stores nothing more: its server refuses every write.
        this.onRefusing?.(true);
      });
    });
  }

  /** Port of the running server (0 before {@link ready} resolves). */
  get listeningPort(): number {
    return this.port;
  }

  /**
   * The operating system's id of the thread (Linux only): its CPU time is in
   * `/proc/self/task/<id>/stat`, which is how the benchmarks split a run's CPU by server.
   */
  get osThreadId(): number | undefined {
    return this.threadId;
  }

  /** Sends one message to the thread's server. */
  post(body: unknown): void {
    if (!this.exited) this.worker.postMessage({ type: "message", body } satisfies ToThread);
  }

  /**
   * Asks the server to refuse, from now on, every request that would change
   * what it stores, while it keeps answering reads. Resolves with whether it
   * does (a server that cannot refuse writes says false) once it refuses them
   * and the writes under way have been answered, their changes announced.
   * Safe to call twice.
   */
  refuseWrites(): Promise<boolean> {
    this.refusing ??= new Promise<boolean>((resolve) => {
      if (this.exited) {
        resolve(true);
        return;
      }
      this.onRefusing = resolve;
      this.worker.postMessage({ type: "refuse-writes" } satisfies ToThread);
    });
    return this.refusing;
  }

  /**
   * Ends the thread now, without closing its server: for a process about to
   * exit at once. An exit that ends a worker thread while it parses an HTTP
   * request can abort Node.js with a fatal error (in its HTTP parser's
   * callback); a thread that ends itself, between two events of its own
   * loop, cannot be in one. Resolves once the thread has ended, or after
   * `timeoutMs`, when it is terminated from here.
   */
  halt(timeoutMs = 1_000): Promise<void> {
    if (this.exited) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.worker.terminate().then(
          () => resolve(),
          () => resolve(),
        );
      }, timeoutMs);
      this.worker.once("exit", () => {
        clearTimeout(timer);
        resolve();
      });
      this.worker.postMessage({ type: "halt" } satisfies ToThread);
    });
  }

  /** Closes the server (waiting for it to flush), then ends the thread. Safe to call twice. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve, reject) => {
      if (this.exited) {
        resolve();
        return;
      }
      this.onClosed = (error) => {
        void this.worker.terminate();
        if (error) reject(error);
        else resolve();
      };
      this.worker.postMessage({ type: "close" } satisfies ToThread);
    });
    return this.closing;
  }
}

/** What a thread entry starts: its server, and how to stop it. */
export interface ThreadServer {
  port: number;
  close(): Promise<void>;
  /** Messages from the owner. */
  receive?(body: unknown): void;
  /**
   * From now on, refuse requests that would change what the server stores
   * (as S3 does when unavailable: 503), answering reads as before; settles
   * once the writes already under way have been answered, so the owner has
   * every change they announced. A server without it is told so and keeps
   * accepting writes.
   */
  refuseWrites?(): Promise<void> | void;
}

/**
 * The thread's side: starts the server with the data the owner passed and
 * answers the protocol above. `send` posts a message to the owner.
 *
 * @example
 * serveOnThread(async (data) => { const server = await listen(data); return { port, close } });
 */
export function serveOnThread(
  start: (data: unknown, send: (body: unknown) => void) => Promise<ThreadServer>,
): void {
  const port = parentPort;
  if (!port) throw new Error("serveOnThread runs on a worker thread only");
  const send = (body: unknown) => port.postMessage({ type: "message", body } satisfies FromThread);
  let server: ThreadServer | undefined;
  port.on("message", (message: ToThread) => {
    if (message.type === "message") server?.receive?.(message.body);
    else if (message.type === "refuse-writes") {
      const refusing = server?.refuseWrites !== undefined;
      // Said after the writes under way were answered: their announcements have reached the owner first.
      Promise.resolve(server?.refuseWrites?.())
        .catch(() => undefined)
        .then(() => port.postMessage({ type: "refusing-writes", refusing } satisfies FromThread));
    } else if (message.type === "halt") {
      // In a worker thread, process.exit() ends the thread, here between two events of its loop.
      process.exit(0);
    } else if (message.type === "close") {
      const closed = server ? server.close() : Promise.resolve();
      closed.then(
        () => port.postMessage({ type: "closed" } satisfies FromThread),
        (error: unknown) =>
          port.postMessage({ type: "closed", error: serialize(error) } satisfies FromThread),
      );
    }
  });
  start(workerData, send).then(
    (started) => {
      server = started;
      const osThreadId = currentOsThreadId();
      port.postMessage({
        type: "ready",
        port: started.port,
        ...(osThreadId !== undefined && { osThreadId }),
      } satisfies FromThread);
    },
    (error: unknown) => port.postMessage({ type: "failed", error: serialize(error) } satisfies FromThread),
  );
}

/** `/proc/thread-self` links to `<pid>/task/<tid>` on Linux; elsewhere there is no such id to give. */
function currentOsThreadId(): number | undefined {
  try {
    const id = Number(readlinkSync("/proc/thread-self").split("/").pop());
    return Number.isInteger(id) ? id : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Creates a server's folder and its missing parents, before its thread
 * starts. Node 20's `mkdir(path, { recursive: true })` never settles (and
 * spins a core) where a folder cannot be made in a parent that exists but
 * answers ENOENT, as any new name under `/proc` does; a thread stuck there
 * never reports, and `catalog dev --data-dir /proc/x` hung. Here each level
 * is tried at most twice, and the error is mkdir's own.
 *
 * @example
 * await createFolder(".catalog/s3");
 */
export async function createFolder(path: string, parentsMade = false): Promise<void> {
  try {
    await mkdir(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EEXIST" && (await isFolder(path))) return;
    if (code !== "ENOENT" || parentsMade || dirname(path) === path) throw error;
    await createFolder(dirname(path));
    await createFolder(path, true);
  }
}

async function isFolder(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}
