import type { MiddlewareHandler } from "hono";
import { isLoopbackHostname } from "../local/loopback-guard.js";

/**
 * No inline script, no eval, nothing from elsewhere: the dashboard is three
 * static files from this origin, and thumbnails come from this origin too.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "img-src 'self' data:",
  "object-src 'none'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join("; ");

/**
 * Headers on every response, and two refusals that a server on loopback
 * still needs: a Host that is not loopback (a DNS-rebinding page reaching
 * 127.0.0.1 through its own name; the same names as the embedded S3 and
 * DynamoDB servers accept, see loopback-guard.ts) and a state-changing
 * request sent by another origin (a page elsewhere posting a form to
 * localhost). Reads need no origin check: no CORS header is ever sent,
 * so a page of another origin cannot read the answers.
 *
 * @example
 * app.use("*", securityHeaders());
 */
export function securityHeaders(): MiddlewareHandler {
  return async (c, next) => {
    const url = new URL(c.req.url);
    if (!isLoopbackHostname(url.hostname)) {
      return c.json(
        { error: `host '${url.hostname}' is not served: this server answers on loopback only` },
        421,
      );
    }
    if (c.req.method !== "GET" && c.req.method !== "HEAD") {
      const origin = c.req.header("origin");
      const site = c.req.header("sec-fetch-site");
      if ((origin !== undefined && origin !== url.origin) || (site !== undefined && site !== "same-origin")) {
        return c.json({ error: "cross-origin requests may not change the catalog" }, 403);
      }
    }
    await next();
    c.header("Content-Security-Policy", CONTENT_SECURITY_POLICY);
    c.header("X-Content-Type-Options", "nosniff");
    c.header("Referrer-Policy", "no-referrer");
    c.header("X-Frame-Options", "DENY");
    c.header("Cross-Origin-Resource-Policy", "same-origin");
  };
}
