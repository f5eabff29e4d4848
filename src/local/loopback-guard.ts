/**
 * What a server that listens on loopback only must still refuse. Listening
 * on 127.0.0.1 keeps other machines out, not the pages a browser on this
 * machine runs: a page elsewhere can post a form to 127.0.0.1 (no CORS
 * preflight needed, and s3rver accepts an anonymous POST upload), and a page
 * whose own name later resolves to 127.0.0.1 (DNS rebinding) talks to the
 * server as its own origin, reading every answer. The first carries an
 * `Origin` (and, in current browsers, `Sec-Fetch-Site: cross-site`); the
 * second carries the page's name in `Host`. The AWS SDKs and the AWS CLI
 * send no `Origin` or `Sec-Fetch-*` header and address the server by the
 * endpoint they were given, so they pass.
 */
import type { IncomingHttpHeaders } from "node:http";

/** Host names that always mean this machine. */
export const LOOPBACK_HOST_NAMES: ReadonlySet<string> = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** A Host header: a name or a bracketed IPv6 address, then an optional port; nothing else. */
const HOST_HEADER = /^(\[[0-9a-f:.]+\]|[^:[\]/@\s]+)(?::\d{1,5})?$/i;
/** One DNS label, as `*.localhost` names are made of. */
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * Whether `hostname` names this machine: 127.0.0.1, localhost, [::1], or a
 * name under `localhost.` (virtual-hosted-style S3 addressing uses
 * `<bucket>.localhost`). Browsers resolve `localhost` and its subdomains to
 * loopback themselves (RFC 6761, section 6.3), so no DNS answer can rebind them.
 *
 * @example
 * isLoopbackHostname("uploads.localhost"); // true
 * isLoopbackHostname("evil.example"); // false
 */
export function isLoopbackHostname(hostname: string): boolean {
  const name = hostname.toLowerCase();
  if (LOOPBACK_HOST_NAMES.has(name)) return true;
  if (!name.endsWith(".localhost")) return false;
  return name
    .slice(0, -".localhost".length)
    .split(".")
    .every((label) => LABEL.test(label));
}

/**
 * The host name of a `Host` header value, or `undefined` when the value is
 * not a plain host and port (a browser never sends anything else).
 *
 * @example
 * hostnameOf("[::1]:4569"); // "[::1]"
 */
export function hostnameOf(host: string): string | undefined {
  return HOST_HEADER.exec(host)?.[1]?.toLowerCase();
}

/** Whether `origin` (an `Origin` header value) is a page served from this machine. */
function isLoopbackOrigin(origin: string): boolean {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    // `null` (a sandboxed frame, a file:// page, a redirect across origins) among others.
    return false;
  }
  return (url.protocol === "http:" || url.protocol === "https:") && isLoopbackHostname(url.hostname);
}

/**
 * Why a request that reached a loopback-only server must be refused, or
 * `undefined` when it may be served. Refused: a `Host` that is not a
 * loopback name, an `Origin` that is not a loopback origin, and
 * `Sec-Fetch-Site: cross-site`. A request without `Host` (HTTP/1.0) is not
 * refused for that: every browser sends one.
 *
 * The reason never repeats the request's headers: it goes into response
 * headers and bodies, and those values are the sender's text.
 *
 * @example
 * foreignRequestReason({ host: "127.0.0.1:4569" }); // undefined
 * foreignRequestReason({ host: "evil.example:4569" }); // "This server answers only ..."
 */
export function foreignRequestReason(headers: IncomingHttpHeaders): string | undefined {
  const { host, origin } = headers;
  if (host !== undefined) {
    const hostname = hostnameOf(host);
    if (hostname === undefined || !isLoopbackHostname(hostname)) {
      return "This server answers only requests addressed to 127.0.0.1, localhost or [::1]; the Host header names another host.";
    }
  }
  if (origin !== undefined && !isLoopbackOrigin(origin)) {
    return "Requests sent by a web page from another origin are refused by this local server.";
  }
  if (headers["sec-fetch-site"] === "cross-site") {
    return "Requests a browser marks as cross-site are refused by this local server.";
  }
  return undefined;
}
