import { Hono } from "hono";
import type { Dispatcher } from "../local/dispatcher.js";
import { readDeadLetters } from "../local/dispatcher.js";
import type { CatalogStore } from "../store/catalog-store.js";

/** What the HTTP API serves from. */
export interface ApiDeps {
  store: CatalogStore;
  /** The bucket the local stack catalogs. */
  bucket: string;
  dispatcher: Dispatcher;
  deadLetterFile: string;
}

/**
 * The local stack's HTTP API: JSON over the catalog store. Every handler
 * answers a bad parameter with a 400 and a message.
 *
 * @example
 * const app = createApp({ store, bucket: "uploads", dispatcher, deadLetterFile });
 * serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 3000 });
 */
export function createApp(deps: ApiDeps): Hono {
  const app = new Hono();

  app.get("/api/health", (c) => c.json({ ok: true, bucket: deps.bucket, pending: deps.dispatcher.pending }));

  app.get("/api/object", async (c) => {
    const key = c.req.query("key");
    const bucket = c.req.query("bucket") ?? deps.bucket;
    if (!key) return c.json({ error: "query parameter 'key' is required" }, 400);
    const { record, audit } = await deps.store.getObject(bucket, key);
    if (!record && audit.length === 0)
      return c.json({ error: `s3://${bucket}/${key} is not in the catalog` }, 404);
    return c.json({ record: record ?? null, audit });
  });

  app.get("/api/folder", async (c) => {
    const prefix = c.req.query("prefix") ?? "";
    const folder = prefix.includes("/") ? prefix.slice(0, prefix.lastIndexOf("/") + 1) : "";
    const cursor = c.req.query("cursor");
    const page = await deps.store.listFolder(c.req.query("bucket") ?? deps.bucket, folder, {
      ...(cursor && { cursor }),
    });
    return c.json(page);
  });

  app.get("/api/dlq", async (c) => c.json({ items: await readDeadLetters(deps.deadLetterFile) }));

  app.post("/api/dlq/replay", async (c) => c.json(await deps.dispatcher.replay()));

  app.onError((error, c) => {
    const status = error.name === "InvalidCursorError" ? 400 : 500;
    return c.json({ error: error.message }, status);
  });
  return app;
}
