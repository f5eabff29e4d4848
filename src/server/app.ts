import type { S3Client } from "@aws-sdk/client-s3";
import { Hono } from "hono";
import type { Dispatcher } from "../local/dispatcher.js";
import { readDeadLetterFile } from "../local/dispatcher.js";
import type { CatalogStore } from "../store/catalog-store.js";
import { findDashboardDir, mountDashboard } from "./dashboard-assets.js";
import { RequestError } from "./errors.js";
import { CursorSeal } from "./paging-cursor.js";
import type { RecordFeed } from "./record-feed.js";
import { mountCatalogRoutes } from "./routes/catalog-routes.js";
import { mountFileRoutes } from "./routes/file-routes.js";
import { type LiveRouteOptions, mountLiveRoute } from "./routes/live-route.js";
import { securityHeaders } from "./security.js";
import { CATEGORIES, checkQueryString } from "./validation.js";

/** Default largest upload: 256 MiB per file. */
export const DEFAULT_UPLOAD_LIMIT_BYTES = 256 * 1024 * 1024;

/** What the HTTP API serves from. */
export interface ApiDeps {
  store: CatalogStore;
  /** The bucket the local stack catalogs. */
  bucket: string;
  dispatcher: Dispatcher;
  deadLetterFile: string;
  /** S3 client for sub-folder listings, thumbnails and uploads; without it those answer 404 or empty. */
  s3Client?: S3Client;
  /** Derived files (thumbnails) live here: never listed, never an upload target. @default "_derived/" */
  derivedPrefix?: string;
  /** Announces processed events to `GET /api/events`. */
  feed?: RecordFeed;
  /** Timings and bounds of `GET /api/events`, for tests. @default see {@link LiveRouteOptions} */
  live?: LiveRouteOptions;
  /** Largest file one upload may carry, in bytes. @default 256 MiB */
  uploadLimitBytes?: number;
  /** Folder of the dashboard's static files. @default found beside this module or in src/server/dashboard */
  dashboardDir?: string;
  /** Clock, for tests. @default () => new Date() */
  now?: () => Date;
  /**
   * The flags a `catalog backfill` needs to catalog into this stack as it
   * does (its endpoints and table when not the defaults, its policy file),
   * one argument each: the dashboard puts them in the command it suggests.
   * @default []
   */
  backfillFlags?: readonly string[];
}

/** Errors from the store whose cause is the request, not the service. */
const CALLER_ERRORS = new Set(["InvalidCursorError", "InvalidRangeError", "KeyTooLongError"]);

/**
 * The local stack's HTTP API and dashboard: JSON over the catalog store, a
 * thumbnail and upload route over S3, server-sent events for live updates,
 * and the single-page dashboard at `/`. Every handler answers a bad
 * parameter with a 400 and a message; every response carries a strict CSP.
 *
 * @example
 * const feed = new RecordFeed();
 * const stack = await LocalStack.start({ onDelivery: (outcome) => feed.publish(outcome) });
 * const app = createApp({ store: stack.store, bucket: stack.bucket, dispatcher: stack.dispatcher,
 *   deadLetterFile: stack.deadLetterFile, s3Client: stack.s3Client, derivedPrefix: stack.derivedPrefix, feed });
 * serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 3000 });
 */
export function createApp(deps: ApiDeps): Hono {
  const app = new Hono();
  const derivedPrefix = deps.derivedPrefix ?? "_derived/";
  const uploadLimitBytes = deps.uploadLimitBytes ?? DEFAULT_UPLOAD_LIMIT_BYTES;
  const now = deps.now ?? (() => new Date());
  app.use("*", securityHeaders());
  app.use("/api/*", async (c, next) => {
    const url = c.req.url;
    const query = url.indexOf("?");
    if (query >= 0) checkQueryString(url.slice(query + 1));
    await next();
  });

  app.get("/api/health", (c) =>
    c.json({
      ok: true,
      bucket: deps.bucket,
      pending: deps.dispatcher.pending,
      unwatched: Object.fromEntries(deps.dispatcher.unwatched),
      live: deps.feed !== undefined,
      uploadLimitBytes,
      derivedPrefix,
      categories: CATEGORIES,
      backfillFlags: deps.backfillFlags ?? [],
    }),
  );

  mountCatalogRoutes(app, {
    store: deps.store,
    bucket: deps.bucket,
    derivedPrefix,
    now,
    cursors: new CursorSeal(),
    ...(deps.s3Client && { s3Client: deps.s3Client }),
  });
  mountFileRoutes(app, {
    store: deps.store,
    bucket: deps.bucket,
    derivedPrefix,
    uploadLimitBytes,
    ...(deps.s3Client && { s3Client: deps.s3Client }),
  });
  mountLiveRoute(app, deps.feed, deps.live);

  app.get("/api/dlq", async (c) => {
    const { letters, unreadable } = await readDeadLetterFile(deps.deadLetterFile);
    // Lines that are no event cannot be listed, only counted: a replay keeps them for the user to fix.
    return c.json({ items: letters, unreadable: unreadable.length });
  });
  app.post("/api/dlq/replay", async (c) => c.json(await deps.dispatcher.replay()));

  mountDashboard(app, deps.dashboardDir ?? findDashboardDir());

  const allowed = allowedMethods(app);
  app.notFound((c) => {
    const path = new URL(c.req.url).pathname;
    const allow = allowed.get(path);
    if (allow) {
      c.header("Allow", allow);
      return c.json({ error: `${c.req.method} is not allowed on ${path}: it allows ${allow}` }, 405);
    }
    return c.json({ error: `no route ${c.req.method} ${path}` }, 404);
  });
  app.onError((error, c) => {
    if (error instanceof RequestError) return c.json({ error: error.message, ...error.fields }, error.status);
    if (CALLER_ERRORS.has(error.name)) return c.json({ error: error.message }, 400);
    // The table refused the query this server built as invalid. The API checks what callers send before
    // it reaches the table, so this is the server's fault (its configuration, a bug), not the request's:
    // a 500, and not a 503, since asking again would get the same answer.
    if (error.name === "StoreError" && isRefusedAsInvalid(error.cause))
      return c.json(
        { error: `the catalog's table refused the query this server sent: ${error.message}` },
        500,
      );
    // The table did not answer (down, unreachable, throttling): the service is unavailable, the request was fine.
    if (error.name === "StoreError")
      return c.json({ error: `the catalog is unavailable, try again later: ${error.message}` }, 503);
    // The table's faults arrive as StoreError above, so a service that did not answer here is the bucket.
    if (isUnavailable(error))
      return c.json({ error: `the bucket is unavailable, try again later: ${error.message}` }, 503);
    return c.json({ error: error.message }, 500);
  });
  return app;
}

/**
 * Whether an SDK call failed because DynamoDB found the request itself
 * invalid (a ValidationException: a value too long for a key, an
 * expression it cannot read), rather than because it could not answer.
 */
function isRefusedAsInvalid(cause: unknown): boolean {
  return cause instanceof Error && cause.name === "ValidationException";
}

/** Errors of a connection that failed, as Node and the SDK's HTTP handler raise them. */
const CONNECTION_FAILURES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENOTFOUND",
  "EPIPE",
]);

/**
 * Whether an SDK call failed because its service did not answer or answered
 * with a fault of its own (5xx, throttling after the SDK's retries), rather
 * than because of what was asked: the request was fine, try again later.
 */
function isUnavailable(error: Error): boolean {
  const { code, $fault } = error as { code?: string; $fault?: string };
  return $fault === "server" || error.name === "TimeoutError" || CONNECTION_FAILURES.has(code ?? "");
}

/**
 * The methods each mounted path answers, as an `Allow` header value, so a
 * known path asked with another method gets a 405 rather than a 404 that
 * says the path does not exist. Hono answers HEAD wherever it answers GET.
 */
function allowedMethods(app: Hono): Map<string, string> {
  const methods = new Map<string, Set<string>>();
  for (const route of app.routes) {
    if (route.method === "ALL") continue;
    const set = methods.get(route.path) ?? new Set<string>();
    set.add(route.method);
    if (route.method === "GET") set.add("HEAD");
    methods.set(route.path, set);
  }
  return new Map([...methods].map(([path, set]) => [path, [...set].join(", ")]));
}
