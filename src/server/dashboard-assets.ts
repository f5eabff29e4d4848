import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Hono } from "hono";

/** The dashboard's files and their types: a fixed list, so no request path ever reaches the file system. */
const ASSETS = {
  "/": { file: "index.html", type: "text/html; charset=utf-8" },
  "/app.js": { file: "app.js", type: "text/javascript; charset=utf-8" },
  "/app.css": { file: "app.css", type: "text/css; charset=utf-8" },
  "/favicon.svg": { file: "favicon.svg", type: "image/svg+xml" },
} as const;

/**
 * Where the dashboard's static files are: beside this module when running
 * from source, or back in `src/` when running the compiled `dist/` (tsc
 * copies no non-TypeScript files).
 */
export function findDashboardDir(): string {
  const candidates = [
    new URL("./dashboard/", import.meta.url),
    new URL("../../src/server/dashboard/", import.meta.url),
  ];
  for (const candidate of candidates) {
    const dir = fileURLToPath(candidate);
    if (existsSync(`${dir}index.html`)) return dir;
  }
  throw new Error(
    `dashboard files not found (looked in ${candidates.map((url) => fileURLToPath(url)).join(", ")})`,
  );
}

/**
 * Serves the single-page dashboard at `/` (any query string: `/?prefix=photos/`
 * is a deep link the page reads itself). Files are read once, at start.
 *
 * @example
 * mountDashboard(app, findDashboardDir());
 */
export function mountDashboard(app: Hono, dir: string): void {
  for (const [path, asset] of Object.entries(ASSETS)) {
    const body = readFileSync(`${dir}${asset.file}`);
    app.get(path, (c) => {
      c.header("Content-Type", asset.type);
      c.header("Cache-Control", "no-cache");
      return c.body(body);
    });
  }
}
