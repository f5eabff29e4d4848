/**
 * The whole local catalog inside the test process: LocalStack (embedded S3
 * and DynamoDB on free loopback ports, the dispatcher and the real handler)
 * plus the HTTP app, optionally listening on a free port for a browser.
 */
import { mkdtemp, rm } from "node:fs/promises";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { serve } from "@hono/node-server";
import type { Hono } from "hono";
import { LocalStack } from "../../src/local/local-stack.js";
import type { Policy } from "../../src/policy/policy.js";
import { createApp } from "../../src/server/app.js";
import { RecordFeed } from "../../src/server/record-feed.js";
import type { LiveRouteOptions } from "../../src/server/routes/live-route.js";
import { CatalogStore } from "../../src/store/catalog-store.js";
import { recordKey } from "../../src/store/keys.js";

export interface LocalCatalog {
  stack: LocalStack;
  app: Hono;
  feed: RecordFeed;
  /** `http://127.0.0.1:<port>` when started with `listen: true`. */
  url?: string;
  /** The listening HTTP server, when started with `listen: true`: its sockets are the server's side of each connection. */
  http?: Server;
  close(): Promise<void>;
}

/**
 * The flags that point the built CLI at a local catalog's bucket, table and
 * servers, as `catalog dev` prints them for a stack on other ports.
 *
 * @example
 * await runCatalog(["show", "docs/a.txt", ...cliFlags(catalog)]);
 */
export function cliFlags(catalog: LocalCatalog): string[] {
  const { stack } = catalog;
  return [
    "--bucket",
    stack.bucket,
    "--table",
    stack.tableName,
    "--s3-endpoint",
    stack.s3.endpoint,
    "--dynamodb-endpoint",
    stack.dynamodb.endpoint,
  ];
}

/**
 * Starts a catalog in a fresh temporary folder.
 *
 * @example
 * const catalog = await startLocalCatalog({ uploadLimitBytes: 1_000_000 });
 * const response = await catalog.app.request("/api/health");
 * await catalog.close();
 */
export async function startLocalCatalog(
  options: {
    uploadLimitBytes?: number;
    policy?: Policy;
    listen?: boolean;
    now?: () => Date;
    live?: LiveRouteOptions;
  } = {},
): Promise<LocalCatalog> {
  process.env.POWERTOOLS_METRICS_DISABLED = "true";
  const dataDir = await mkdtemp(join(tmpdir(), "catalog-server-"));
  const feed = new RecordFeed();
  const stack = await LocalStack.start({
    s3Port: 0,
    dynamodbPort: 0,
    dataDir,
    logLevel: "SILENT",
    retryBackoffMs: [10, 10],
    onDelivery: (outcome) => feed.publish(outcome),
    ...(options.policy && { policy: options.policy }),
  });
  const app = createApp({
    store: stack.store,
    bucket: stack.bucket,
    dispatcher: stack.dispatcher,
    deadLetterFile: stack.deadLetterFile,
    s3Client: stack.s3Client,
    derivedPrefix: stack.derivedPrefix,
    feed,
    ...(options.uploadLimitBytes !== undefined && { uploadLimitBytes: options.uploadLimitBytes }),
    ...(options.now && { now: options.now }),
    ...(options.live && { live: options.live }),
  });
  let server: ReturnType<typeof serve> | undefined;
  let url: string | undefined;
  if (options.listen) {
    server = await new Promise<ReturnType<typeof serve>>((resolve) => {
      const started = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, () => resolve(started));
    });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }
  return {
    stack,
    app,
    feed,
    ...(url && { url }),
    ...(server && { http: server as Server }),
    async close() {
      if (server) {
        // Open event streams would hold close() forever.
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
        await new Promise<void>((resolve) => server?.close(() => resolve()));
      }
      await stack.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Puts an object into the catalog's bucket, as an uploader would (with its
 * user metadata and the Content-Type it declares, when given), and waits
 * until the pipeline has cataloged it.
 *
 * @example
 * await putCataloged(catalog, "trip/notes.txt", "notes\n", { contentType: "text/plain" });
 */
export async function putCataloged(
  catalog: LocalCatalog,
  key: string,
  body: string | Uint8Array,
  { metadata, contentType }: { metadata?: Record<string, string>; contentType?: string } = {},
): Promise<void> {
  await catalog.stack.s3Client.send(
    new PutObjectCommand({
      Bucket: catalog.stack.bucket,
      Key: key,
      Body: body,
      ...(metadata && { Metadata: metadata }),
      ...(contentType && { ContentType: contentType }),
    }),
  );
  await catalog.stack.dispatcher.idle();
}

/**
 * Points the record of `key` at a thumbnail, as the thumbnail step does with
 * the ones it writes. Written with the plain DynamoDB client: lib-dynamodb
 * keeps a document client's options on the client it wraps, so another
 * document client over the stack's would change how the store writes.
 *
 * @example
 * await writeThumbnailKey(catalog, "photos/a.jpg", "_derived/fixtures/a.jpg.webp");
 */
export async function writeThumbnailKey(
  catalog: LocalCatalog,
  key: string,
  thumbnailKey: string,
): Promise<void> {
  const { pk, sk } = recordKey(catalog.stack.bucket, key);
  await catalog.stack.dynamodbClient.send(
    new UpdateItemCommand({
      TableName: catalog.stack.tableName,
      Key: { pk: { S: pk }, sk: { S: sk } },
      UpdateExpression: "SET thumbnailKey = :t",
      ExpressionAttributeValues: { ":t": { S: thumbnailKey } },
    }),
  );
}

/**
 * The API over the catalog's bucket and a new, empty table: the bucket's
 * objects as a catalog that lost its records, or a new one, sees them.
 * `backfillFlags` are those `catalog dev` would hand it for that table.
 *
 * @example
 * const { app } = await appOverNewTable(catalog, "catalog-lost");
 */
export async function appOverNewTable(
  catalog: LocalCatalog,
  tableName: string,
  { backfillFlags }: { backfillFlags?: string[] } = {},
): Promise<{ store: CatalogStore; app: Hono }> {
  const store = new CatalogStore(catalog.stack.dynamodbClient, { tableName });
  await store.createTable();
  const { stack } = catalog;
  const app = createApp({
    store,
    bucket: stack.bucket,
    dispatcher: stack.dispatcher,
    deadLetterFile: stack.deadLetterFile,
    s3Client: stack.s3Client,
    derivedPrefix: stack.derivedPrefix,
    ...(backfillFlags && { backfillFlags }),
  });
  return { store, app };
}

/**
 * A small valid PDF whose document-info Title (and Author) is the given
 * text: metadata that an unsafe page would turn into markup.
 *
 * @example
 * const bytes = pdfWithTitle("<img src=x onerror=alert(1)>");
 */
export function pdfWithTitle(title: string): Buffer {
  const literal = `(${title.replace(/[\\()]/g, (char) => `\\${char}`)})`;
  const objects = [
    "<< /Type /Catalog /Pages 2 0 R >>",
    "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
    `<< /Title ${literal} /Author ${literal} /Producer (catalog tests) >>`,
  ];
  let body = "%PDF-1.4\n";
  const offsets: number[] = [];
  objects.forEach((object, index) => {
    offsets.push(Buffer.byteLength(body, "latin1"));
    body += `${index + 1} 0 obj\n${object}\nendobj\n`;
  });
  const xref = Buffer.byteLength(body, "latin1");
  body += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const offset of offsets) body += `${String(offset).padStart(10, "0")} 00000 n \n`;
  body += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R /Info 4 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(body, "latin1");
}
