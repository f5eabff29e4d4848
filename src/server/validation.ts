/**
 * Parsers for the API's inputs. Each takes the raw string (or undefined) and
 * returns a typed value or throws a {@link RequestError} whose message names
 * the parameter, so every handler answers a bad input with the same 400.
 */
import { CATEGORIES } from "../engine/detect/category.js";
import type { Category } from "../engine/types.js";
import { MAX_KEY_BYTES } from "../s3/object-key.js";
import { RequestError } from "./errors.js";

export { CATEGORIES };

const DAY_MS = 86_400_000;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

function bad(message: string): RequestError {
  return new RequestError(400, message);
}

/** Within S3's limit on a key. */
function checkKeyLength(name: string, value: string): void {
  if (Buffer.byteLength(value, "utf8") > MAX_KEY_BYTES)
    throw bad(`'${name}' is longer than ${MAX_KEY_BYTES} bytes`);
}

/** Control characters (C0, DEL, C1). */
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * The bidirectional embedding, override and isolate controls, which make a
 * name read as another (`invoice<U+202E>fdp.exe` reads "invoiceexe.pdf").
 */
const BIDIRECTIONAL_CONTROLS = /[\u202a-\u202e\u2066-\u2069]/;

/**
 * Characters that take no space or break a line where none shows, so that
 * `pay<U+200B>pal.txt` reads as `paypal.txt`: the soft hyphen, the combining
 * grapheme joiner, bidi marks, zero-width space, word joiner and invisible
 * operators, the Hangul fillers, the BOM, and the line and paragraph
 * separators; and the zero-width joiner and non-joiner beside ASCII or at an
 * end, where they join nothing (emoji sequences and Persian and Indic words
 * need them elsewhere). The dashboard shows the same characters by their
 * code point (app.js INVISIBLE and JOINERS).
 */
const INVISIBLE_CHARACTERS =
  /\u034f|[\u00ad\u061c\u115f\u1160\u180e\u200b\u200e\u200f\u2028\u2029\u2060-\u2064\u3164\ufeff\uffa0]|(?<![^\x00-\x7f])[\u200c\u200d]|[\u200c\u200d](?![^\x00-\x7f])/;

/**
 * Rejects what would let a new key name something other than what it says:
 * `.`/`..` segments, a leading `/`, empty segments, backslashes, control
 * characters (bidirectional ones included) and invisible ones. S3 itself would accept them, but
 * a browser, a file system or a log reading them later might not agree on
 * what they mean, so the API never creates such a key.
 */
function checkPathLike(name: string, value: string): void {
  if (value.startsWith("/")) throw bad(`'${name}' must not start with '/'`);
  if (value.includes("\\")) throw bad(`'${name}' must not contain '\\'`);
  if (CONTROL_CHARACTERS.test(value)) throw bad(`'${name}' must not contain control characters`);
  if (BIDIRECTIONAL_CONTROLS.test(value))
    throw bad(`'${name}' must not contain bidirectional controls, which make a name read as another`);
  if (INVISIBLE_CHARACTERS.test(value)) throw bad(`'${name}' must not contain invisible characters`);
  if (value.split("/").some((segment) => segment === ".." || segment === "."))
    throw bad(`'${name}' must not contain '.' or '..' path segments`);
  if (value.includes("//")) throw bad(`'${name}' must not contain empty path segments ('//')`);
}

/**
 * The key of an object to read: any key S3 can hold (non-empty, at most
 * 1,024 UTF-8 bytes). Keys such as `../x`, `/a`, `a//b` or ones with control
 * characters are S3 keys like any other: the pipeline catalogs them, so the
 * API must show them. A key is only ever a lookup value here, never a path.
 *
 * @example
 * parseKey("key", "photos/a.jpg") // "photos/a.jpg"
 * parseKey("key", "../x.jpg") // "../x.jpg"
 */
export function parseKey(name: string, value: string | undefined): string {
  if (value === undefined || value === "") throw bad(`'${name}' is required and must not be empty`);
  checkKeyLength(name, value);
  return value;
}

/**
 * The key of an object the API creates (an upload): a {@link parseKey} with
 * no traversal, no empty segments, no control characters and no trailing `/`.
 *
 * @example
 * parseNewKey("file name", "photos/a.jpg") // "photos/a.jpg"
 * parseNewKey("file name", "../etc/passwd") // throws RequestError 400
 */
export function parseNewKey(name: string, value: string | undefined): string {
  const key = parseKey(name, value);
  checkPathLike(name, key);
  if (key.endsWith("/")) throw bad(`'${name}' names a folder, not an object`);
  return key;
}

/**
 * A folder prefix to list: empty for the root, otherwise ending in `/` (one
 * is added when missing), at most 1,024 bytes. Like {@link parseKey}, any
 * folder S3 can hold: `../`, `/` and `a//` are folders of cataloged keys.
 *
 * @example
 * parsePrefix("prefix", "photos/2026") // "photos/2026/"
 */
export function parsePrefix(name: string, value: string | undefined): string {
  if (value === undefined || value === "") return "";
  const prefix = value.endsWith("/") ? value : `${value}/`;
  checkKeyLength(name, prefix);
  return prefix;
}

/**
 * The start of the names to list in the folder `prefix` (as {@link parsePrefix}
 * returns it): empty (or absent) for every name. A name in a folder holds no
 * `/`, and the folder and the start together are the start of a key, within
 * S3's limit on one. Case-sensitive, as keys are; anything else a key can
 * hold is taken as it is.
 *
 * @example
 * parseNameStart("startsWith", "IMG_2024", "photos/") // "IMG_2024"
 * parseNameStart("startsWith", "2024/IMG", "photos/") // throws RequestError 400
 */
export function parseNameStart(name: string, value: string | undefined, prefix: string): string {
  if (value === undefined || value === "") return "";
  if (value.includes("/")) throw bad(`'${name}' must not contain '/': a name in a folder holds none`);
  if (Buffer.byteLength(prefix + value, "utf8") > MAX_KEY_BYTES)
    throw bad(`'${name}' with the folder is longer than ${MAX_KEY_BYTES} bytes`);
  return value;
}

/**
 * A folder prefix the API writes under (an upload): a {@link parsePrefix}
 * with no traversal, no empty segments and no control characters.
 *
 * @example
 * parseNewPrefix("prefix", "photos/2026") // "photos/2026/"
 * parseNewPrefix("prefix", "../up") // throws RequestError 400
 */
export function parseNewPrefix(name: string, value: string | undefined): string {
  const prefix = parsePrefix(name, value);
  checkPathLike(name, prefix);
  return prefix;
}

/** One name or value of a query string, decoded as Hono decodes it ('+' is a space), or undefined. */
function decodeQueryPart(raw: string): string | undefined {
  try {
    return decodeURIComponent(raw.replaceAll("+", " "));
  } catch {
    return undefined;
  }
}

/**
 * Checks a raw query string before any handler reads it: each parameter at
 * most once, and every name and value valid percent-encoded UTF-8. The
 * router would otherwise take the first of two values without a word, and
 * keep `%FF` as those three characters: a lookup of a key nobody asked for.
 *
 * @example
 * checkQueryString("limit=5&prefix=a%2F") // passes
 * checkQueryString("limit=5&limit=6") // throws RequestError 400
 * checkQueryString("key=%FF") // throws RequestError 400
 */
export function checkQueryString(query: string): void {
  const seen = new Set<string>();
  for (const pair of query.split("&")) {
    if (pair === "") continue;
    const split = pair.indexOf("=");
    const name = decodeQueryPart(split < 0 ? pair : pair.slice(0, split));
    if (name === undefined) throw bad("a query parameter's name is not valid percent-encoded UTF-8");
    if (split >= 0 && decodeQueryPart(pair.slice(split + 1)) === undefined)
      throw bad(`'${name}' is not valid percent-encoded UTF-8`);
    if (seen.has(name)) throw bad(`'${name}' is given more than once`);
    seen.add(name);
  }
}

/**
 * An integer within bounds, or the default when absent.
 *
 * @example
 * parseInteger("limit", "50", { min: 1, max: 500, fallback: 100 }) // 50
 */
export function parseInteger(
  name: string,
  value: string | undefined,
  bounds: { min: number; max: number; fallback: number },
): number {
  if (value === undefined || value === "") return bounds.fallback;
  if (!/^\d+$/.test(value) || Number(value) < bounds.min || Number(value) > bounds.max)
    throw bad(`'${name}' must be an integer from ${bounds.min} to ${bounds.max}`);
  return Number(value);
}

/**
 * One of the engine's categories, or undefined when absent.
 *
 * @example
 * parseCategory("category", "image") // "image"
 */
export function parseCategory(name: string, value: string | undefined): Category | undefined {
  if (value === undefined || value === "") return undefined;
  if (!(CATEGORIES as readonly string[]).includes(value))
    throw bad(`'${name}' must be one of ${CATEGORIES.join(", ")}`);
  return value as Category;
}

/**
 * The longest cursor taken. A cursor holds object keys (a folder listing's
 * start key names its last object twice, Recent's the last of each category
 * at its final instant), and a key may take 1,024 bytes, more once escaped
 * in JSON: 2,048 characters left a folder of long keys with a cursor it
 * would then refuse. Well under Node.js's 16 KiB limit for a request's head.
 */
const MAX_CURSOR_CHARS = 8192;

/**
 * An opaque paging cursor: base64url with a `.tag` (see `CursorSeal` in paging-cursor.ts), bounded, or
 * undefined. Whether this listing issued it is the seal's to check.
 */
export function parseCursor(name: string, value: string | undefined): string | undefined {
  if (value === undefined || value === "") return undefined;
  if (value.length > MAX_CURSOR_CHARS || !/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)?$/.test(value))
    throw bad(`'${name}' is not a paging cursor`);
  return value;
}

/** A lower-case hex SHA-256. */
export function parseSha256(name: string, value: string | undefined): string {
  if (!value || !/^[0-9a-fA-F]{64}$/.test(value)) throw bad(`'${name}' must be 64 hex digits (SHA-256)`);
  return value.toLowerCase();
}

function parseTime(name: string, value: string): number {
  const time = ISO_TIME.test(value) ? Date.parse(value) : Number.NaN;
  // Date.parse rolls 2026-02-30 over to March; a calendar date that does not exist is an error.
  const [year, month, day] = value.slice(0, 10).split("-").map(Number) as [number, number, number];
  const calendar = new Date(Date.UTC(year, month - 1, day));
  if (Number.isNaN(time) || calendar.getUTCMonth() !== month - 1 || calendar.getUTCDate() !== day)
    throw bad(`'${name}' must be an ISO 8601 time such as 2026-05-01T00:00:00Z`);
  return time;
}

/** A time window, both ends as ISO 8601 in UTC. */
export interface Window {
  from: string;
  to: string;
}

/**
 * A time window from `from`/`to` (ISO 8601) or `days` back from now; at
 * most `maxDays` long, never reversed.
 *
 * @example
 * parseWindow({ days: "7" }, { fallbackDays: 7, maxDays: 31 }, new Date())
 */
export function parseWindow(
  query: { from?: string | undefined; to?: string | undefined; days?: string | undefined },
  bounds: { fallbackDays: number; maxDays: number },
  now: Date,
): Window {
  if (query.days !== undefined && (query.from !== undefined || query.to !== undefined))
    throw bad("give either 'days' or 'from'/'to', not both");
  const to = query.to !== undefined ? parseTime("to", query.to) : now.getTime();
  let from: number;
  if (query.from !== undefined) from = parseTime("from", query.from);
  else {
    const days = parseInteger("days", query.days, {
      min: 1,
      max: bounds.maxDays,
      fallback: bounds.fallbackDays,
    });
    // `days` counts calendar days including today, so one day means "since midnight UTC".
    const midnight = Math.floor(to / DAY_MS) * DAY_MS;
    from = midnight - (days - 1) * DAY_MS;
  }
  if (from > to) throw bad("'from' must not be after 'to'");
  const spanDays = Math.floor(to / DAY_MS) - Math.floor(from / DAY_MS) + 1;
  if (spanDays > bounds.maxDays) throw bad(`the time window must span at most ${bounds.maxDays} days`);
  return { from: new Date(from).toISOString(), to: new Date(to).toISOString() };
}
