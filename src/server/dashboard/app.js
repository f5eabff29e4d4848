// The catalog dashboard: plain DOM code, no framework. Every string that comes
// from the catalog (keys, EXIF, PDF titles, tags, reasons) reaches the page
// through text nodes only, never through HTML parsing, so metadata written
// to look like markup stays text. The CSP forbids inline script anyway.

const SVG_NS = "http://www.w3.org/2000/svg";
const CATEGORY_COLORS = {
  image: "#2f9e6e",
  video: "#7c4dcc",
  audio: "#d9802e",
  pdf: "#d04545",
  document: "#2f5bd3",
  archive: "#8a6d3b",
  text: "#4f6b8a",
  font: "#b04a8f",
  executable: "#3d3d52",
  other: "#8b93a3",
};

const state = {
  view: "recent",
  prefix: "",
  startsWith: "",
  category: "",
  days: "7",
  layout: localStorage.getItem("layout") === "list" ? "list" : "grid",
  key: "",
  health: null,
};

// ---------------------------------------------------------------- DOM building

/**
 * Bidirectional embedding, override and isolate controls: in a key such as
 * `invoice<U+202E>fdp.exe` they make the name read "invoiceexe.pdf". Shown
 * text names them instead, so what a person reads is the key's real order.
 */
const BIDI_CONTROLS = "\u202a-\u202e\u2066-\u2069";

/**
 * Control characters other than tab and line breaks: invisible, so keys
 * `a<U+0000>b` and `ab` would look the same. Named like the bidi controls.
 */
const CONTROLS = "\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f";

/**
 * Characters that take no space: `pay<U+200B>pal.txt` and `paypal.txt` would
 * read the same. Bidi marks, the soft hyphen, combining grapheme joiner,
 * word joiner, Hangul fillers and BOM are always named. The zero-width
 * joiner and non-joiner shape emoji sequences and Indic and Persian words,
 * so they are named only beside ASCII or at an end, where they shape nothing.
 * New keys refuse the same set (INVISIBLE_CHARACTERS in src/server/validation.ts).
 */
const INVISIBLE = "\u00ad\u034f\u061c\u115f\u1160\u180e\u200b\u200e\u200f\u2060-\u2064\u3164\ufeff\uffa0";
const JOINERS = "(?<![^\\x00-\\x7f])[\u200c\u200d]|[\u200c\u200d](?![^\\x00-\\x7f])";

const HIDDEN = new RegExp(`[${BIDI_CONTROLS}${CONTROLS}${INVISIBLE}]|${JOINERS}`, "g");

function codePointName(char) {
  return `⟨U+${char.codePointAt(0).toString(16).toUpperCase().padStart(4, "0")}⟩`;
}

function visible(text) {
  return String(text).replace(HIDDEN, codePointName);
}

/** Builds an element; children that are strings become text nodes. */
function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = visible(value);
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "href") node.setAttribute("href", safeHref(value));
    else if (name === "title" || name === "aria-label") node.setAttribute(name, visible(value));
    else node.setAttribute(name, String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(visible(child)));
  }
}

function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs ?? {})) node.setAttribute(name, String(value));
  for (const child of children.flat()) {
    if (child === undefined || child === null) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Only same-origin paths and http(s) links are ever put in an href. */
function safeHref(value) {
  const url = new URL(String(value), location.href);
  return url.protocol === "http:" || url.protocol === "https:" ? url.href : "#";
}

function clear(node) {
  node.replaceChildren();
  return node;
}

// ---------------------------------------------------------------- formatting

function formatBytes(bytes) {
  if (typeof bytes !== "number" || !Number.isFinite(bytes)) return "";
  // Powers of 1024, so named as the CLI names them (KiB): "KB" would be read as thousands.
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value >= 10 || unit === 0 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}

/**
 * One formatter for every time shown: `toLocaleString` with options builds a
 * new one per call, which a page of a hundred duplicate groups felt.
 */
const TIME_FORMAT = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

function formatTime(iso) {
  if (!iso) return "";
  const time = new Date(iso);
  if (Number.isNaN(time.getTime())) return String(iso);
  return TIME_FORMAT.format(time);
}

function relativeTime(iso) {
  const seconds = (Date.now() - new Date(iso).getTime()) / 1000;
  if (!Number.isFinite(seconds)) return "";
  if (seconds < 60) return "just now";
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  return formatTime(iso);
}

/** How often the relative times on the page are said again ("just now" becomes "1 min ago"). */
const RELATIVE_TIME_REFRESH_MS = 30_000;

/** A relative time that stays true: {@link refreshRelativeTimes} says it again as the minutes pass. */
function ago(iso) {
  return el("span", { "data-since": iso, text: relativeTime(iso) });
}

/** Says every relative time on the page again, from the time each element keeps. */
function refreshRelativeTimes() {
  for (const node of document.querySelectorAll("[data-since]")) {
    const text = relativeTime(node.getAttribute("data-since"));
    if (node.textContent !== text) node.textContent = text;
  }
}

/**
 * An exposure time as a camera shows it: 1/250 s for a fraction of one
 * over a whole number, else in seconds. 0.8 s is 1/1.25 s, which rounding
 * the denominator would make 1/1 s.
 */
function formatExposure(seconds) {
  const denominator = 1 / seconds;
  if (seconds > 0 && seconds < 1 && Math.abs(denominator - Math.round(denominator)) < 0.05 * denominator)
    return `1/${Math.round(denominator)} s`;
  return `${Number(seconds.toFixed(2))} s`;
}

function formatDuration(seconds) {
  if (typeof seconds !== "number") return String(seconds);
  // A clip of a few seconds in hundredths: rounded to the second, 0.78 s would read 0:01.
  if (seconds < 10) return `${Number(seconds.toFixed(2))} s`;
  const whole = Math.round(seconds);
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = String(whole % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

/** A font's usage permission (OS/2 fsType bits 0-3) as the OpenType specification names it. */
const EMBEDDING_USAGE = {
  installable: "Installable",
  editable: "Editable",
  "preview-and-print": "Preview & print",
  "restricted-license": "Restricted licence",
};

/** A font's embedding permissions on one line: "Preview & print, no subsetting (fsType 0x0104)". */
function formatEmbedding(embedding) {
  const usage = Object.hasOwn(EMBEDDING_USAGE, embedding.usage)
    ? EMBEDDING_USAGE[embedding.usage]
    : String(embedding.usage);
  const parts = [usage];
  if (embedding.noSubsetting) parts.push("no subsetting");
  if (embedding.bitmapOnly) parts.push("bitmaps only");
  const fsType = Number.isInteger(embedding.fsType)
    ? ` (fsType 0x${embedding.fsType.toString(16).padStart(4, "0")})`
    : "";
  return `${parts.join(", ")}${fsType}`;
}

/** A variable font's axes, one a line: "wght 100 to 900, default 400". */
function fontAxes(axes) {
  return el(
    "ul",
    { class: "plain" },
    axes.map((axis) => el("li", { text: `${axis.tag} ${axis.min} to ${axis.max}, default ${axis.default}` })),
  );
}

/** Text whose line breaks are the author's (a licence, a copyright notice), kept as they are. */
function paragraphs(text) {
  return el("span", { class: "paragraphs" }, longText(String(text)));
}

function baseName(key) {
  const trimmed = key.endsWith("/") ? key.slice(0, -1) : key;
  return trimmed.slice(trimmed.lastIndexOf("/") + 1);
}

/**
 * A folder's or file's name as shown: S3 keys may hold an empty one (the
 * folder between the slashes of `a//b`, the first of `/x`), which would
 * otherwise be a blank label and a breadcrumb that cannot be clicked; and,
 * like any part of a key, with its tabs and line breaks named.
 */
function shownName(name) {
  return name === "" ? "(no name)" : shownKey(name);
}

/**
 * A key, or part of one, as shown: tabs and line breaks named too. A long
 * text (a title, a reason) keeps them, as they mean what they say there; in
 * a key they would read as the space they are drawn as, and `a<TAB>b.txt`,
 * `a<LF>b.txt` and `a b.txt` would look the same.
 */
function shownKey(key) {
  return key.replace(/[\t\n\r]/g, codePointName);
}

function folderOf(key) {
  return key.slice(0, key.lastIndexOf("/") + 1);
}

// ---------------------------------------------------------------- API

async function api(path, params = {}) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params))
    if (value !== undefined && value !== "") query.set(name, value);
  const text = query.toString();
  let response;
  try {
    response = await fetch(text ? `${path}?${text}` : path, { headers: { Accept: "application/json" } });
  } catch {
    // fetch() says only "Failed to fetch" when nothing answers: say which server that is.
    throw new Error("the catalog's server did not answer: is catalog dev still running? Reload once it is.");
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error ?? `${response.status} ${response.statusText}`);
  return body;
}

/**
 * The thumbnail's address for this version of the object. The browser keeps
 * an image by its address (the route allows a minute of caching, and a page
 * reuses an image it already has), so without the ETag an object written
 * again under its key would go on showing the picture of what it replaced.
 */
function thumbnailUrl(item) {
  return `/api/thumbnail?${new URLSearchParams({ key: item.key, ...(item.etag && { v: item.etag }) })}`;
}

// ---------------------------------------------------------------- icons

/**
 * Each icon is drawn once per page, as a `<symbol>` of one hidden sprite, and
 * every tile that shows it refers to it with `<use>`: two elements a listed
 * item instead of the three to seven of its drawing, which was half the page
 * in a folder of thousands of names (bench/RESULTS.md, "Dashboard, big
 * catalog"). A symbol's colours are its own: a category's colour and mark
 * depend on the category alone, so one symbol serves every tile of it.
 * No other id of the page starts with this prefix, and none comes from the
 * catalog: an icon's id is one of the fixed names of ICON_DRAWINGS.
 */
const ICON_ID_PREFIX = "icon-sprite-";

/** The page's shape behind a category's mark. */
function pageShape() {
  return [
    svg("path", {
      d: "M12 6h24l10 10v36a2 2 0 0 1-2 2H12a2 2 0 0 1-2-2V8a2 2 0 0 1 2-2z",
      fill: "#fff",
      stroke: "#d5d9e2",
    }),
    svg("path", { d: "M36 6v10h10", fill: "#f1f3f7", stroke: "#d5d9e2" }),
  ];
}

/** A mark of a few letters in a category's colour. */
function letterMark(text, { y, size }, color) {
  return svg(
    "text",
    { x: 29, y, "text-anchor": "middle", "font-size": size, "font-weight": 700, fill: color },
    text,
  );
}

/** Each category's mark on the page, drawn in the category's colour. */
const CATEGORY_MARKS = {
  image: (color) => [
    svg("circle", { cx: 22, cy: 26, r: 4, fill: color }),
    svg("path", { d: "M13 44l10-12 7 8 5-6 8 10z", fill: color }),
  ],
  video: (color) => [svg("path", { d: "M23 24v16l13-8z", fill: color })],
  audio: (color) => [
    svg("path", { d: "M25 40V24l13-3v15", stroke: color, "stroke-width": 3, fill: "none" }),
    svg("circle", { cx: 22, cy: 40, r: 4, fill: color }),
    svg("circle", { cx: 35, cy: 37, r: 4, fill: color }),
  ],
  pdf: (color) => [letterMark("PDF", { y: 38, size: 11 }, color)],
  document: (color) =>
    [0, 1, 2, 3].map((line) =>
      svg("rect", { x: 17, y: 22 + line * 6, width: line === 3 ? 14 : 24, height: 3, rx: 1.5, fill: color }),
    ),
  archive: (color) => [
    svg("rect", { x: 26, y: 12, width: 6, height: 22, fill: color, opacity: 0.5 }),
    svg("rect", { x: 23, y: 34, width: 12, height: 10, rx: 2, fill: color }),
  ],
  text: (color) =>
    [0, 1, 2, 3].map((line) =>
      svg("rect", { x: 17, y: 22 + line * 6, width: 24 - (line % 2) * 8, height: 2, fill: color }),
    ),
  font: (color) => [letterMark("Aa", { y: 40, size: 17 }, color)],
  executable: (color) => [letterMark("</>", { y: 38, size: 12 }, color)],
  other: (color) => [letterMark("?", { y: 39, size: 16 }, color)],
};

/** What each icon's symbol holds, by its name: one per category, the folder, the deleted object. */
const ICON_DRAWINGS = {
  ...Object.fromEntries(
    Object.entries(CATEGORY_MARKS).map(([category, mark]) => [
      `category-${category}`,
      () => [...pageShape(), ...mark(CATEGORY_COLORS[category])],
    ]),
  ),
  folder: () => [
    svg("path", {
      d: "M6 16a3 3 0 0 1 3-3h13l5 5h22a3 3 0 0 1 3 3v24a3 3 0 0 1-3 3H9a3 3 0 0 1-3-3z",
      fill: "#9db4ee",
    }),
    svg("path", { d: "M6 22h46v23a3 3 0 0 1-3 3H9a3 3 0 0 1-3-3z", fill: "#b9cbf5" }),
  ],
  // Its page dashed and crossed out.
  deleted: () => [
    svg("path", {
      d: "M12 6h24l10 10v36a2 2 0 0 1-2 2H12a2 2 0 0 1-2-2V8a2 2 0 0 1 2-2z",
      fill: "#f7f8fa",
      stroke: "#9aa1ad",
      "stroke-dasharray": "4 3",
    }),
    svg("path", {
      d: "M21 26l14 14M35 26L21 40",
      stroke: "#5b6270",
      "stroke-width": 3,
      "stroke-linecap": "round",
    }),
  ],
};

/**
 * The hidden sprite holding the page's icons, made on the first icon drawn.
 * Hidden by a zero size out of the flow (a class: the page's
 * Content-Security-Policy refuses style attributes). Out of the accessibility
 * tree: each tile names what it shows itself.
 */
function iconSprite() {
  let sprite = document.getElementById(`${ICON_ID_PREFIX}sprite`);
  if (!sprite) {
    sprite = svg("svg", {
      id: `${ICON_ID_PREFIX}sprite`,
      class: "icon-sprite",
      width: 0,
      height: 0,
      "aria-hidden": "true",
      focusable: "false",
    });
    document.body.append(sprite);
  }
  return sprite;
}

/**
 * An icon of ICON_DRAWINGS at `size` pixels, named `label` for assistive
 * technology: a reference to its symbol, drawn into the sprite the first
 * time the page shows it.
 */
function icon(name, label, size) {
  const id = `${ICON_ID_PREFIX}${name}`;
  if (!document.getElementById(id))
    iconSprite().append(svg("symbol", { id, viewBox: "0 0 58 58" }, ICON_DRAWINGS[name]()));
  return svg(
    "svg",
    { width: size, height: size, role: "img", "aria-label": label },
    svg("use", { href: `#${id}` }),
  );
}

/** A placeholder tile for a file with no thumbnail: a page with its category's mark. */
function categoryIcon(category, size = 56) {
  // A category the page has no mark for is drawn as "other", as before; its name is still said.
  const known = Object.hasOwn(CATEGORY_MARKS, category) ? category : "other";
  return icon(`category-${known}`, `${category ?? "other"} file`, size);
}

function folderIcon(size = 56) {
  return icon("folder", "folder", size);
}

/**
 * The tile of a deleted object. A tombstone keeps no content fields,
 * category included, so a category's placeholder would be the "?" of a
 * file of unknown kind.
 */
function deletedIcon(size = 56) {
  return icon("deleted", "deleted file", size);
}

/** The record's thumbnail from the API, falling back to the placeholder if it cannot be loaded. */
function preview(item, size) {
  if (item.status === "deleted") return deletedIcon(size);
  if (!item.thumbnailKey) return categoryIcon(item.category, size);
  const image = el("img", { src: thumbnailUrl(item), alt: "", loading: "lazy" });
  image.addEventListener("error", () => image.replaceWith(categoryIcon(item.category, size)), { once: true });
  return image;
}

function statusBadge(status) {
  return el("span", { class: `badge ${status ?? ""}`, text: status ?? "?" });
}

/**
 * The mark of a listed object whose content contradicts its declared type
 * (the API's `mismatch`), null for any other: a short label, and the reason
 * as its title for a pointer and as hidden text for a screen reader. The
 * reason quotes the uploader's Content-Type, so it only ever goes in as text.
 */
function mismatchBadge(item) {
  if (!item.mismatch) return null;
  const reason = item.mismatchReason ?? "the content contradicts the declared type";
  return el(
    "span",
    { class: "badge mismatch", title: reason },
    "type mismatch",
    el("span", { class: "visually-hidden", text: `: ${reason}` }),
  );
}

// ---------------------------------------------------------------- navigation

/** How far back Duplicates looks, whatever time window the other views were given. */
const DUPLICATES_DAYS = 90;

/**
 * The filters each view uses, each kept in its location: Browse's folder and
 * the start of the names listed in it, Recent's category and time window, the
 * window of Problems and Stats.
 * Duplicates always looks 90 days back and uses none. A view keeps no filter
 * it does not use in its location, and leaves it as chosen before, so the
 * next view that uses it shows it again: the Browse tab opens the folder
 * left, not the bucket's top.
 */
const VIEW_FILTERS = {
  recent: ["category", "days"],
  browse: ["prefix", "startsWith"],
  problems: ["days"],
  duplicates: [],
  stats: ["days"],
};

/**
 * What the greyed control of a filter a view does not use shows: what the
 * view covers instead, never the choice it ignores. Every view without a
 * category covers all of them (""); Browse covers any time, Duplicates its
 * own window.
 */
const UNUSED_FILTER_VALUES = {
  browse: { days: "any" },
  duplicates: { days: String(DUPLICATES_DAYS) },
};

/** What each filter is when a location names none. */
const FILTER_DEFAULTS = { prefix: "", startsWith: "", category: "", days: "7" };

/** Whether `view` uses `filter`; a view the page does not know is drawn as Recent. */
/** The views drawn as cards or as a list, as the Grid/List choice says. */
const VIEWS_WITH_LAYOUT = new Set(["recent", "browse"]);

function usesFilter(view, filter) {
  return (VIEW_FILTERS[view] ?? VIEW_FILTERS.recent).includes(filter);
}

function readLocation() {
  const params = new URLSearchParams(location.search);
  state.view = params.get("view") ?? (params.has("prefix") ? "browse" : "recent");
  for (const [filter, value] of Object.entries(FILTER_DEFAULTS))
    if (usesFilter(state.view, filter)) state[filter] = params.get(filter) ?? value;
  state.key = params.get("key") ?? "";
}

function locationFor(changes) {
  const next = { ...state, ...changes };
  // The start of the names is one folder's: another folder opens with all of its names.
  if (changes.prefix !== undefined && changes.prefix !== state.prefix && changes.startsWith === undefined)
    next.startsWith = "";
  const params = new URLSearchParams();
  // A folder's location needs no view: `?prefix=` alone is Browse.
  if (next.view !== "recent" && !(next.view === "browse" && next.prefix)) params.set("view", next.view);
  for (const [filter, value] of Object.entries(FILTER_DEFAULTS))
    if (usesFilter(next.view, filter) && next[filter] !== value) params.set(filter, next[filter]);
  if (next.key) params.set("key", next.key);
  const text = params.toString();
  return text ? `/?${text}` : "/";
}

/** The location of what the content area shows, without the open record. */
function listingLocation() {
  return locationFor({ key: "" });
}

// ---------------------------------------------------------------- history

/**
 * Listings left that Back or Forward draws again as they were: the last few
 * only, as each costs a read of everything it had loaded when it comes back.
 */
const KEPT_LISTINGS_LIMIT = 5;

/**
 * The listings left, by the token of the history entries that showed them,
 * oldest first: how much of each was loaded ({@link loadedListing}) and how
 * far down it was scrolled. Entries that open or close a record on a listing
 * share its token, so going back past them finds it too. Kept in memory
 * only: after a reload, Back draws a listing from its first page.
 */
const keptListings = new Map();

/** Set apart for each load of the page: entries still carry the tokens of an earlier load, kept nowhere now. */
const tokenPrefix = `${Math.round(performance.timeOrigin).toString(36)}.`;
let tokenCount = 0;

/** The token of the listing on screen, as its history entry carries it. */
let shownToken = `${tokenPrefix}${++tokenCount}`;

/** Remembers the listing on screen, about to be left, under its token; forgets the oldest beyond the bound. */
function keepListing() {
  keptListings.delete(shownToken);
  keptListings.set(shownToken, { loaded: loadedListing, scroll: window.scrollY });
  for (const token of keptListings.keys()) {
    if (keptListings.size <= KEPT_LISTINGS_LIMIT) break;
    keptListings.delete(token);
  }
}

function navigate(changes, { replace = false } = {}) {
  const listing = listingLocation();
  const opening = changes.key && changes.key !== state.key;
  // A record opened over the listing on screen, with none open: closing it is the step back to that entry.
  const overListing =
    Boolean(opening) && !replace && !state.key && locationFor({ ...changes, key: "" }) === listing;
  const url = locationFor(changes);
  // A new listing is a fresh start from its first page; opening or closing a record stays on the one shown.
  if (locationFor({ ...changes, key: "" }) !== listing) {
    // The entry replaced is gone, and what it showed with it.
    if (!replace) keepListing();
    shownToken = `${tokenPrefix}${++tokenCount}`;
  }
  const entry = { listing: shownToken, ...(overListing && { overListing: true }) };
  if (replace) history.replaceState(entry, "", url);
  else history.pushState(entry, "", url);
  readLocation();
  showLocation(listing, { focus: Boolean(opening) });
}

/**
 * Back or Forward: the listing of the entry gone to comes back as it was
 * left, if it is kept. On the same listing, Back past the entry that opened
 * a record closes it as Escape does, focus back on the entry it was opened
 * from (hidden with focus in it, the panel would leave focus at the top of
 * the page); Forward on a phone opens it as a click does, focus in the panel
 * that covers everything else.
 */
function traverse() {
  const listing = listingLocation();
  const closing = state.key;
  const opener = detailOpener;
  const active = document.activeElement;
  const panelHadFocus = !detail.hidden && (detail.contains(active) || active === document.body);
  // An entry the page did not make (a link to a #fragment) shows the listing on screen.
  if (history.state?.listing === undefined) history.replaceState({ listing: shownToken }, "");
  const token = history.state.listing;
  const left = token !== shownToken;
  if (left) {
    keepListing();
    shownToken = token;
  }
  readLocation();
  const kept = left ? keptListings.get(token) : undefined;
  showLocation(listing, { kept, focus: PANEL_COVERS_WINDOW.matches });
  if (closing && !state.key && panelHadFocus && !kept && listingLocation() === listing) {
    detailOpener = null;
    focusWhereOpened(closing, opener);
  }
}

/**
 * Shows the location just read, which was `listing` before: a changed listing
 * is drawn again, from what was `kept` of it if anything was, while opening
 * or closing a record leaves it as it is (redrawing it would drop the pages
 * loaded with "Show more" and the element that opened the panel, where focus
 * returns on close).
 */
function showLocation(listing, { focus = false, kept } = {}) {
  if (listingLocation() !== listing || kept) render({ kept });
  else if (state.key) showDetail(state.key, { focus });
  else hideDetail();
}

/** The listing's entry for `key` (a record's; a folder's with `kind` "folder"), if it is on screen. */
function listingEntry(key, kind = "key") {
  return [...content.querySelectorAll(`[data-${kind}]`)].find((node) => node.dataset[kind] === key);
}

/**
 * Whether a click is a plain one, which the page answers itself. With Ctrl,
 * Cmd or Shift held, or another button, a person asks the browser to open
 * the link in a new tab or window: the page leaves that to the browser and
 * does not change what it shows.
 */
function isPlainClick(event) {
  return event.button === 0 && !(event.metaKey || event.ctrlKey || event.shiftKey);
}

/**
 * A link to the location `changes` make: its href is that address, to open in
 * a new tab or to copy, and a plain click goes there without a page load.
 * `content`: its text, or the elements it holds (a card's).
 */
function navLink(content, changes, props = {}) {
  return el(
    "a",
    {
      ...props,
      href: locationFor(changes),
      onclick: (event) => {
        if (!isPlainClick(event)) return;
        event.preventDefault();
        navigate(changes);
      },
    },
    content,
  );
}

// ---------------------------------------------------------------- views

const content = document.getElementById("content");
let renderToken = 0;

function setHeading(title, note) {
  document.getElementById("view-title").textContent = visible(title);
  document.getElementById("view-note").textContent = visible(note ?? "");
}

/** The product's name, after what is open in the browser's tab title. */
const PRODUCT_NAME = "s3-metadata-catalog";

/**
 * Names what is open in the browser's tab and history: the open record's
 * file name, else the view (a folder's path). Read from the location, so it
 * follows the back button; set before the view loads, so a slow view is
 * named rather than "Loading".
 */
function setDocumentTitle() {
  const open = state.key ? shownName(baseName(state.key)) : viewTitle();
  document.title = `${visible(open)} — ${PRODUCT_NAME}`;
}

/**
 * Draws the current view. `live`: a refresh for changes announced by the
 * live feed rather than a person's navigation, so the view keeps their place:
 * a paged listing reloads as much as they had loaded, focus stays on the
 * entry it was on, and the open record is fetched again only if
 * `detailChanged`. `kept`: what was kept of the listing when it was left
 * (see {@link keptListings}), which Back brings it back to: as much as was
 * loaded, scrolled as it was.
 */
async function render({ live = false, kept, detailChanged = true } = {}) {
  const token = ++renderToken;
  // Until the view is drawn, nothing of it is loaded: leaving it now keeps no pages of the one before.
  if (!live) loadedListing = NOTHING_LOADED;
  // A person who goes elsewhere while typing a name's start leaves it: it is not asked of where they went.
  if (!live) forgetTypedNameStart();
  setDocumentTitle();
  for (const tab of document.querySelectorAll(".tabs a")) {
    if (tab.dataset.nav === state.view) tab.setAttribute("aria-current", "page");
    else tab.removeAttribute("aria-current");
  }
  // A tab opened in a new tab, or its address copied, shows what a click on it would: the filters chosen.
  for (const link of document.querySelectorAll("[data-nav]"))
    link.setAttribute("href", locationFor({ view: link.dataset.nav, key: "" }));
  for (const filter of ["category", "days", "startsWith"]) {
    const control = document.getElementById(`filter-${filter}`);
    const used = usesFilter(state.view, filter);
    control.disabled = !used;
    // What a person is typing, not yet asked for, stays as typed.
    if (filter === "startsWith" && nameStartTyped) continue;
    control.value = used ? state[filter] : (UNUSED_FILTER_VALUES[state.view]?.[filter] ?? "");
  }
  // Problems (a table), Duplicates (groups) and Stats (charts) have one layout: the choice is greyed there,
  // neither pressed, and kept for the views that use it.
  const laidOut = VIEWS_WITH_LAYOUT.has(state.view);
  for (const layout of ["grid", "list"]) {
    const button = document.getElementById(`layout-${layout}`);
    button.disabled = !laidOut;
    button.setAttribute("aria-pressed", String(laidOut && state.layout === layout));
  }
  renderBreadcrumbs();
  document.getElementById("upload-target").textContent = visible(`to /${uploadPrefix()}`);
  document.getElementById("drop-target").textContent = visible(`/${uploadPrefix()}`);
  try {
    const views = {
      recent: renderRecent,
      browse: renderBrowse,
      problems: renderProblems,
      duplicates: renderDuplicates,
      stats: renderStats,
    };
    const draw = await (views[state.view] ?? renderRecent)({ live, kept });
    if (token !== renderToken) return;
    const focused = live ? focusedEntry() : undefined;
    clear(content).append(draw);
    if (focused) refocus(focused);
  } catch (error) {
    if (token !== renderToken) return;
    // The view's own heading, not the "Loading…" it had: the page says what failed to load.
    setHeading(viewTitle(), "Could not be loaded:");
    clear(content).append(el("div", { class: "error-box", role: "alert", text: error.message }));
  }
  if (!state.key) hideDetail();
  else if (!live || detailChanged || detail.hidden) showDetail(state.key);
  // Once the panel is shown or hidden: it narrows the listing, which makes it taller.
  if (kept) window.scrollTo(0, kept.scroll);
}

/** The heading of the current view, as each view sets it once loaded. */
function viewTitle() {
  const titles = {
    browse: state.prefix ? `/${shownKey(state.prefix)}` : "Bucket root",
    problems: "Problems",
    duplicates: "Duplicates",
    stats: "Statistics",
  };
  return titles[state.view] ?? "Recent uploads";
}

/**
 * What holds focus in the content area: the listing entry it is in, a
 * record's (`data-key`) or a folder's (`data-folder`), in every view that
 * lists them (a card, a row, a copy in a duplicate group); else an element id.
 */
function focusedEntry() {
  const active = document.activeElement;
  if (!active || !content.contains(active)) return undefined;
  const entry = active.closest("[data-key], [data-folder]");
  if (entry) {
    const kind = entry.dataset.key !== undefined ? "key" : "folder";
    return { kind, key: entry.dataset[kind], tag: active.tagName };
  }
  return active.id ? { id: active.id } : undefined;
}

/** Focus on the redrawn counterpart of what {@link focusedEntry} saw, without scrolling to it. */
function refocus(focused) {
  let target = focused.id ? document.getElementById(focused.id) : undefined;
  if (focused.key !== undefined) {
    const entry = listingEntry(focused.key, focused.kind);
    target = entry?.tagName === focused.tag ? entry : entry?.querySelector(focused.tag);
  }
  target?.focus({ preventScroll: true });
}

function renderBreadcrumbs() {
  const crumbs = clear(document.getElementById("breadcrumbs"));
  if (state.view !== "browse") {
    crumbs.append(el("span", { class: "current", text: "All folders" }));
    return;
  }
  crumbs.append(
    navLink(state.health?.bucket ?? "bucket", folderLocation(""), { class: state.prefix ? "" : "current" }),
  );
  // Every segment counts, empty ones included: `a//` is a folder of its own inside `a/`.
  const parts = state.prefix ? state.prefix.replace(/\/$/, "").split("/") : [];
  parts.forEach((part, index) => {
    crumbs.append(el("span", { class: "sep", text: "/" }));
    const prefix = `${parts.slice(0, index + 1).join("/")}/`;
    const label = shownName(part);
    if (index === parts.length - 1)
      crumbs.append(el("span", { class: "current", title: label, text: label }));
    else crumbs.append(navLink(label, folderLocation(prefix), { title: label }));
  });
}

function itemsView(items, { showFolder = false, folders = [], empty } = {}) {
  if (items.length === 0 && folders.length === 0)
    return el("div", {
      class: "empty",
      text: empty ?? "Nothing here yet. Drop files anywhere on this page to upload them.",
    });
  return state.layout === "list"
    ? listView(items, folders, showFolder)
    : gridView(items, folders, showFolder);
}

/** The changes to the location that open `prefix` (`""`: the bucket's top) in Browse, no record open. */
function folderLocation(prefix) {
  return { view: "browse", prefix, key: "" };
}

/**
 * Whether a listed object is a folder marker: the empty object a console's
 * "Create folder" puts at `photos/`. The pipeline catalogs it like any
 * object, but to a person it is the folder, and Browse lists it as one (its
 * parent's listing of S3 names it), so the other views show it as a folder too.
 */
function isFolderMarker(item) {
  return item.key.endsWith("/");
}

/**
 * A folder's card: a link to it in Browse, like any other, so it opens in a
 * new tab too and its address can be copied. `where` (its parent, shown) and
 * `when` (its marker's time) when known.
 */
function folderCard(folder, { where, when } = {}) {
  return navLink(
    [
      el("div", { class: "thumb" }, folderIcon(64)),
      el(
        "div",
        { class: "meta" },
        el("span", { class: "name", text: shownName(baseName(folder)) }),
        where === undefined ? null : el("span", { class: "sub", text: where }),
        el("span", { class: "sub" }, when === undefined ? "folder" : ["folder · ", ago(when)]),
      ),
    ],
    folderLocation(folder),
    { class: "card folder", "data-folder": folder },
  );
}

/**
 * Whether a click on a listing row is the row's to answer: a plain click its
 * link or a button inside it did not take. A modified click on the row's link
 * opens a new tab, and must leave this one as it is.
 */
function opensRow(event) {
  return !event.defaultPrevented && isPlainClick(event);
}

/** A folder's row, opening it in Browse; `label` instead of its name, and its marker's time, when given. */
function folderRow(folder, { label, when } = {}) {
  return el(
    "tr",
    {
      class: "row",
      "data-folder": folder,
      onclick: (event) => {
        if (opensRow(event)) navigate(folderLocation(folder));
      },
    },
    el("td", { class: "icon-cell" }, folderIcon(32)),
    el("td", { class: "name" }, navLink(label ?? `${shownName(baseName(folder))}/`, folderLocation(folder))),
    el("td", { class: "type", text: "folder" }),
    el("td"),
    el("td"),
    when === undefined
      ? el("td", { class: "when" })
      : el("td", { class: "num when", title: when, "data-since": when, text: relativeTime(when) }),
  );
}

/**
 * The entries of `items` as the chosen layout draws them (cards or rows), to
 * add to the element marked `data-entries` of what {@link itemsView} drew.
 */
function itemEntries(items, showFolder) {
  return state.layout === "list" ? listEntries(items, showFolder) : gridEntries(items, showFolder);
}

function gridView(items, folders, showFolder) {
  return el(
    "div",
    { class: "grid", "data-entries": "" },
    folders.map((folder) => folderCard(folder)),
    gridEntries(items, showFolder),
  );
}

function gridEntries(items, showFolder) {
  return items.map((item) => {
    if (!isFolderMarker(item)) return fileCard(item, showFolder);
    const where = showFolder ? `/${shownKey(folderOf(item.key.slice(0, -1)))}` : undefined;
    return folderCard(item.key, { where, when: item.eventTime });
  });
}

/**
 * A file's card: a link to its record, like a list row's and a folder card's,
 * so it opens in a new tab too and its address can be copied.
 */
function fileCard(item, showFolder) {
  return navLink(
    [
      el("div", { class: "thumb" }, preview(item, 64)),
      el(
        "div",
        { class: "meta" },
        el("span", { class: "name", text: shownName(baseName(item.key)) }),
        showFolder ? el("span", { class: "sub", text: `/${shownKey(folderOf(item.key))}` }) : null,
        el(
          "span",
          { class: "sub" },
          statusBadge(item.status),
          // Cut at the card's width with an ellipsis, not mid-word: a wide badge leaves less room.
          el("span", { class: "fit" }, `${formatBytes(item.size)} · `, ago(item.eventTime)),
        ),
        // A line of its own: the status line is cut at the card's width.
        item.mismatch ? el("span", { class: "sub" }, mismatchBadge(item)) : null,
      ),
    ],
    { key: item.key },
    {
      class: `card${item.key === state.key ? " selected" : ""}`,
      "data-key": item.key,
      title: shownKey(item.key),
    },
  );
}

function listView(items, folders, showFolder) {
  const body = el(
    "tbody",
    { "data-entries": "" },
    folders.map((folder) => folderRow(folder)),
    listEntries(items, showFolder),
  );
  return el(
    "table",
    { class: "list" },
    el(
      "thead",
      {},
      el(
        "tr",
        {},
        el("th", {}, el("span", { class: "visually-hidden", text: "Preview" })),
        el("th", { text: "Name" }),
        el("th", { class: "type", text: "Type" }),
        el("th", { text: "Status" }),
        el("th", { class: "num", text: "Size" }),
        el("th", { class: "num when", text: "Uploaded" }),
      ),
    ),
    body,
  );
}

function listEntries(items, showFolder) {
  return items.map((item) => {
    if (isFolderMarker(item))
      return folderRow(item.key, {
        label: showFolder ? shownKey(item.key) : undefined,
        when: item.eventTime,
      });
    return el(
      "tr",
      {
        class: `row${item.key === state.key ? " selected" : ""}`,
        "data-key": item.key,
        onclick: (event) => {
          if (opensRow(event)) navigate({ key: item.key });
        },
      },
      el("td", { class: "icon-cell" }, preview(item, 32)),
      el(
        "td",
        { class: "name", title: shownKey(item.key) },
        navLink(showFolder ? shownKey(item.key) : shownName(baseName(item.key)), { key: item.key }),
      ),
      el("td", { class: "type", text: item.mime ?? item.category ?? "" }),
      el("td", { class: "status" }, statusBadge(item.status), mismatchBadge(item)),
      el("td", { class: "num", text: formatBytes(item.size) }),
      el("td", {
        class: "num when",
        title: item.eventTime,
        "data-since": item.eventTime,
        text: relativeTime(item.eventTime),
      }),
    );
  });
}

/**
 * Uploads Recent reads at a time. Each page reads up to this many of every
 * category to find the newest among them, so it is smaller than other
 * listings' pages.
 */
const RECENT_PAGE = 200;

function renderRecent(options) {
  const what = state.category ? `${state.category} files` : "uploads";
  // A filter that leaves nothing is not an empty bucket.
  const empty = state.category
    ? `No ${state.category} files uploaded ${windowText() === "today" ? "today" : `in the ${windowText()}`}.`
    : `No uploads ${windowText() === "today" ? "today" : `in the ${windowText()}`}. Drop files anywhere on this page to upload them.`;
  return pagedView(
    "/api/recent",
    { days: state.days, category: state.category },
    {
      title: "Recent uploads",
      note: (_first, count, more) =>
        `Newest ${what} across all folders, ${windowText()}${more ? `: the ${count} newest so far, more below` : ""}.`,
      draw: (_first, items) => itemsView(items, { showFolder: true, empty }),
      entriesOf: (items) => itemEntries(items, true),
      pageSize: RECENT_PAGE,
    },
    options,
  );
}

/** Items asked of a paged listing at a time, unless it asks for fewer. */
const PAGE_SIZE = 500;

/** What is loaded of a listing before its first page is read. */
const NOTHING_LOADED = { id: "", count: 0, last: undefined, complete: false };

/**
 * What is loaded of the paged listing on screen, for a live refresh or Back:
 * how many items, what tells the last one apart (its key, a duplicate group's
 * hash), and whether they are `complete`, the listing loaded to its end.
 */
let loadedListing = NOTHING_LOADED;

/**
 * Items asked at a time while a live refresh looks past the loaded count for
 * the last loaded item (records announced since pushed it down), or for the
 * end of a listing loaded to its end: small, as whatever it reads past that
 * item is shown too.
 */
const TOP_UP_SIZE = 25;

/** What tells one listing from another in {@link loadedListing}: its route and parameters. */
function listingId(path, params) {
  return `${path}?${new URLSearchParams(params)}`;
}

/** The parameters of the folder Browse shows: the folder, and the start of its names when narrowed. */
function browseParams() {
  return { prefix: state.prefix, startsWith: state.startsWith };
}

/**
 * A listing drawn page by page: the first page, then a "Show more" button
 * while the API hands back a cursor. Each press appends the next page and
 * moves focus to its first item, so a keyboard user carries on from there.
 * `draw(first, items, more)` builds the view of everything loaded (`more`:
 * whether the API has more after it); `note(first, count, more)` says how
 * much that is. With `entriesOf(items)`, the entries of more items, a press
 * adds the entries of the page it read to the element `draw` marked
 * `data-entries` and leaves those drawn as they are: drawing every loaded
 * item again per press would cost the whole listing each time, thousands of
 * entries by the tenth page. `pageSize` items are asked at a time; `identify(item)` tells
 * items apart (an object's key unless given); `entries` selects the drawn
 * entries, one per item and in their order, where focus goes.
 *
 * A `live` refresh of the same listing, or Back to it with what was `kept`
 * of it, reads again from the first page as many items as were loaded and on
 * until the last of them, or to the end if it was loaded to its end, so pages
 * loaded with "Show more" stay, records announced since appear in their
 * place, and the cursor goes on from the end of the loaded range. It reads
 * at most one page more than was loaded (the last item may be gone): about
 * one request per page the person loaded.
 * Merging announced records into the loaded items instead would need each
 * listing's sort order here; keeping the items themselves would show Back
 * a listing as stale as the time spent away.
 */
async function pagedView(
  path,
  params,
  {
    title,
    note,
    draw,
    entriesOf,
    pageSize = PAGE_SIZE,
    identify = (item) => item.key,
    entries = "[data-key]",
  },
  { live = false, kept } = {},
) {
  const token = renderToken;
  const id = listingId(path, params);
  const loaded = live ? loadedListing : kept?.loaded;
  const again = loaded?.id === id;
  const wanted = again ? loaded.count : 0;
  const last = again ? loaded.last : undefined;
  // A listing loaded to its end comes back to its end: what came since (up to a page) is shown, not left to "Show more".
  const complete = again && loaded.complete;
  const first = await api(path, { ...params, limit: pageSize });
  const items = [];
  // An item whose sort key changed between two page reads can be in both: list it once.
  const seen = new Set();
  const add = (page) => {
    for (const item of page.items) {
      const itemId = identify(item);
      if (seen.has(itemId)) continue;
      seen.add(itemId);
      items.push(item);
    }
  };
  add(first);
  let cursor = first.cursor;
  const behind = () => complete || items.length < wanted || (last !== undefined && !seen.has(last));
  while (cursor && behind() && items.length < wanted + pageSize) {
    const limit = Math.min(pageSize, Math.max(wanted - items.length, TOP_UP_SIZE));
    const page = await api(path, { ...params, limit, cursor });
    if (token !== renderToken) break;
    add(page);
    cursor = page.cursor;
  }
  const remember = () => {
    const lastItem = items.at(-1);
    loadedListing = {
      id,
      count: items.length,
      last: lastItem && identify(lastItem),
      complete: cursor === undefined,
    };
  };
  if (token === renderToken) remember();
  const view = el("div");
  const redraw = (focusFrom) => {
    const more = cursor !== undefined;
    setHeading(title, note(first, items.length, more));
    clear(view).append(draw(first, items, more));
    if (more)
      view.append(
        el(
          "p",
          { class: "more" },
          el(
            "button",
            { type: "button", id: "more", class: "button", onclick: showMore },
            // How many are left is not known until they are read: "Show 500 more" would promise too much.
            "Show more",
          ),
        ),
      );
    if (focusFrom !== undefined) focusEntry(focusFrom);
  };
  const focusEntry = (index) => {
    const next = view.querySelectorAll(entries)[index];
    (next?.matches("a, button") ? next : next?.querySelector("a"))?.focus();
  };
  async function showMore(event) {
    // Gone from the event once its dispatch ends, before the page is read.
    const button = event.currentTarget;
    button.disabled = true;
    let page;
    try {
      page = await api(path, { ...params, limit: pageSize, cursor });
    } catch (error) {
      toast(`Could not load more: ${error.message}`);
      button.disabled = false;
      return;
    }
    // The person moved on while the page loaded: the view this belongs to is gone.
    if (token !== renderToken) return;
    const loaded = items.length;
    add(page);
    cursor = page.cursor;
    remember();
    const drawn = entriesOf && loaded > 0 ? view.querySelector("[data-entries]") : null;
    if (!drawn) {
      redraw(loaded);
      return;
    }
    drawn.append(...entriesOf(items.slice(loaded)));
    setHeading(title, note(first, items.length, cursor !== undefined));
    if (cursor === undefined) button.closest(".more")?.remove();
    else button.disabled = false;
    focusEntry(loaded);
  }
  // A view left while its pages loaded draws nothing: its heading would overwrite the newer view's.
  if (token !== renderToken) return view;
  redraw();
  return view;
}

/** The GPS section of a position (a photo's EXIF, a video's location), linked to a map; null without one. */
function gpsSection(gps) {
  if (!gps || !Number.isFinite(gps.lat) || !Number.isFinite(gps.lon)) return null;
  const map = new URL("https://www.openstreetmap.org/");
  map.searchParams.set("mlat", gps.lat.toFixed(6));
  map.searchParams.set("mlon", gps.lon.toFixed(6));
  map.hash = `map=15/${gps.lat.toFixed(6)}/${gps.lon.toFixed(6)}`;
  return section(
    "GPS",
    el(
      "dl",
      { class: "fields" },
      el("dt", { text: "Position" }),
      el(
        "dd",
        {},
        el(
          "a",
          { href: map.href, target: "_blank", rel: "noopener noreferrer", id: "gps-link" },
          `${gps.lat.toFixed(5)}, ${gps.lon.toFixed(5)}`,
        ),
      ),
      Number.isFinite(gps.altitude)
        ? [el("dt", { text: "Altitude" }), el("dd", { text: `${gps.altitude} m` })]
        : null,
    ),
    "gps",
  );
}

/** "1 folder", "2 folders". */
function counted(count, noun) {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

/** An argument as a POSIX shell reads it back: bare when it is plain, else in single quotes (as the CLI prints them). */
function shellWord(value) {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replaceAll("'", "'\\''")}'`;
}

/**
 * What Browse says of a folder whose objects S3 holds and the catalog does
 * not, all or (`some`) a few (`uncataloged` of /api/folder): how many, and
 * the command that catalogs them.
 */
function uncatalogedText(count, { some = false } = {}) {
  // Backfill takes any start of a key: the folder and the start of the names shown are one.
  const location = `s3://${state.health?.bucket ?? "bucket"}/${state.prefix}${state.startsWith}`;
  // The stack's endpoints, table and policy (/api/health): without them the command would reach the default
  // ports, or judge objects by another policy than this stack's.
  const flags = (state.health?.backfillFlags ?? []).map((flag) => ` ${shellWord(flag)}`).join("");
  const which = some
    ? `${counted(count, "object")} in S3 here ${count === 1 ? "is" : "are"} not cataloged`
    : `${counted(count, "object")} in S3 here, none cataloged`;
  // A key may hold anything (spaces, quotes, `<`, `;`): quoted, the command is one a shell runs as shown.
  return `${which}: catalog backfill ${shellWord(location)}${flags} catalogs ${count === 1 ? "it" : "them"}.`;
}

/**
 * What Browse says of a folder under the derived prefix, reached by its
 * address: nothing there is cataloged, and nothing can be uploaded there.
 */
const DERIVED_FOLDER_TEXT =
  "Derived files (thumbnails) are kept here. They are never cataloged: each is shown in the record of the file it was made from.";

function isDerivedFolder() {
  const derived = state.health?.derivedPrefix;
  return Boolean(derived) && state.prefix.startsWith(derived);
}

function renderBrowse(options) {
  const start = state.startsWith;
  // Said first: a folder that looks nearly empty may be one narrowed to a few names.
  const narrowed = start ? `Names starting with “${start}”: ` : "";
  return pagedView(
    "/api/folder",
    browseParams(),
    {
      title: state.prefix ? `/${shownKey(state.prefix)}` : "Bucket root",
      note: (first, count, more) =>
        `${narrowed}${counted(first.folders.length, "folder")}${first.foldersTruncated ? " (the first ones: there are more)" : ""}, ${counted(count, "object")}${more ? " so far: more below" : ""}.${first.uncataloged && (first.folders.length > 0 || count > 0) ? ` ${uncatalogedText(first.uncataloged, { some: count > 0 })}` : ""}`,
      // With no sub-folders the listing shows nothing else, so it says it in place of "nothing here".
      draw: (first, items) =>
        itemsView(items, {
          folders: first.folders,
          ...(start && { empty: `No name in this folder starts with “${start}”.` }),
          ...(isDerivedFolder() && !start && { empty: DERIVED_FOLDER_TEXT }),
          ...(first.uncataloged && { empty: uncatalogedText(first.uncataloged) }),
        }),
      entriesOf: (items) => itemEntries(items, false),
    },
    options,
  );
}

function renderProblems(options) {
  return pagedView(
    "/api/problems",
    { days: state.days },
    {
      title: "Problems",
      note: (_first, count, more) =>
        `Files with an error or rejected by the policy, ${windowText()}, newest first: ${count}${more ? " so far" : ""}.`,
      draw: (_first, items) => problemsTable(items),
      entriesOf: problemRows,
    },
    options,
  );
}

function problemsTable(items) {
  if (items.length === 0) return el("div", { class: "empty", text: "No problems in this window." });
  const body = el("tbody", { "data-entries": "" }, problemRows(items));
  return el(
    "table",
    { class: "list" },
    el(
      "thead",
      {},
      el(
        "tr",
        {},
        el("th", {}, el("span", { class: "visually-hidden", text: "Type" })),
        el("th", { text: "Key" }),
        el("th", { text: "Status" }),
        el("th", { text: "Reason" }),
        el("th", { class: "num", text: "When" }),
      ),
    ),
    body,
  );
}

function problemRows(items) {
  return items.map((item) => {
    // A folder marker is the folder, as in Recent, opening it in Browse; its status and reason stay in view.
    const marker = isFolderMarker(item);
    const opens = marker ? folderLocation(item.key) : { key: item.key };
    return el(
      "tr",
      {
        class: `row${!marker && item.key === state.key ? " selected" : ""}`,
        "data-key": marker ? undefined : item.key,
        "data-folder": marker ? item.key : undefined,
        onclick: (event) => {
          if (opensRow(event)) navigate(opens);
        },
      },
      el("td", { class: "icon-cell" }, marker ? folderIcon(32) : categoryIcon(item.category, 32)),
      el("td", { class: "name", title: shownKey(item.key) }, navLink(shownKey(item.key), opens)),
      el("td", { class: "status" }, statusBadge(item.status), mismatchBadge(item)),
      el("td", { class: "reason" }, longText(item.reason ?? "")),
      el("td", { class: "num", "data-since": item.eventTime, text: relativeTime(item.eventTime) }),
    );
  });
}

/** Duplicate groups asked at a time: the most the API gives in one answer. */
const DUPLICATES_PAGE_SIZE = 100;

/**
 * Duplicate groups in the order the API lists them, newest first, paged like
 * a folder: one answer holds at most 100 groups, and the ones past it are
 * the newest. A group is told apart by its content's hash.
 */
function renderDuplicates(options) {
  return pagedView(
    "/api/duplicates",
    { days: DUPLICATES_DAYS },
    {
      title: "Duplicates",
      note: () =>
        `Objects with identical content (same SHA-256) and a copy in this bucket, by when the second copy arrived, newest first, last ${DUPLICATES_DAYS} days; copies in other buckets are named in full.`,
      pageSize: DUPLICATES_PAGE_SIZE,
      identify: (group) => group.sha256,
      entries: ".group",
      // A page can hold no group that still has two copies and yet have more after it.
      draw: (_first, groups, more) =>
        groups.length === 0 && !more
          ? el("div", { class: "empty", text: "No duplicates found." })
          : el("div", { "data-entries": "" }, groups.map(duplicateGroup)),
      entriesOf: (groups) => groups.map(duplicateGroup),
    },
    options,
  );
}

function duplicateGroup(group) {
  return el(
    "section",
    { class: "group" },
    el("h2", {}, `${copiesText(group)} · ${formatBytes(group.size)} each · since ${formatTime(group.since)}`),
    el("div", { class: "mono", text: `sha256 ${group.sha256}` }),
    el(
      "ul",
      { class: "plain" },
      group.objects.map((object) =>
        state.health && object.bucket !== state.health.bucket
          ? copyElsewhere(object)
          : isFolderMarker(object)
            ? el(
                "li",
                { "data-folder": object.key },
                folderIcon(16),
                navLink(shownKey(object.key), folderLocation(object.key)),
              )
            : el(
                "li",
                { "data-key": object.key },
                navLink(shownKey(object.key), { key: object.key }),
                mismatchBadge(object),
              ),
      ),
    ),
  );
}

/**
 * A copy in another bucket (the catalog can hold several: `catalog backfill
 * s3://other/`): named in full, with no link, since this page browses its
 * own bucket only and would not find it there.
 */
function copyElsewhere(object) {
  return el(
    "li",
    { class: "elsewhere", "data-bucket": object.bucket },
    el("span", { class: "mono", text: `s3://${object.bucket}/${shownKey(object.key)}` }),
    el("span", { class: "where", text: " · in another bucket" }),
    mismatchBadge(object),
  );
}

/** How many objects hold a group's content, as far as the listing says: it lists only the first few. */
function copiesText(group) {
  const listed = group.objects.length;
  return group.moreObjects ? `More than ${listed} copies (the first ${listed} listed)` : `${listed} copies`;
}

function windowText() {
  return { 1: "today", 7: "last 7 days", 31: "last 31 days" }[state.days] ?? `last ${state.days} days`;
}

async function renderStats() {
  chartResizes.disconnect();
  // The window the Time filter names ("today" included: one day, one bar).
  const days = Number(state.days);
  const token = renderToken;
  const stats = await api("/api/stats", { days });
  if (token !== renderToken) return el("div");
  setHeading(
    "Statistics",
    `Uploads ${days === 1 ? "today" : `in the last ${days} days`}, from the category index (reads at most ${stats.readBound.toLocaleString()} records${stats.truncated ? "; bound reached, figures are lower bounds" : ""}).`,
  );
  const rows = stats.byCategory.filter((row) => row.count > 0);
  return el(
    "div",
    {},
    el(
      "div",
      { class: "totals" },
      el(
        "div",
        {},
        el("strong", { text: stats.total.count.toLocaleString() }),
        el("span", { text: "files" }),
      ),
      el(
        "div",
        {},
        el("strong", { text: formatBytes(stats.total.bytes) }),
        el("span", { text: "total size" }),
      ),
      el("div", {}, el("strong", { text: String(rows.length) }), el("span", { text: "categories" })),
    ),
    el(
      "div",
      { class: "charts" },
      el(
        "section",
        { class: "chart", id: "chart-count" },
        el("h2", { text: "Files by category" }),
        barChart(
          rows,
          (row) => row.count,
          (value) => value.toLocaleString(),
          "Files",
        ),
      ),
      el(
        "section",
        { class: "chart", id: "chart-bytes" },
        el("h2", { text: "Bytes by category" }),
        barChart(rows, (row) => row.bytes, formatBytes, "Size"),
      ),
      el(
        "section",
        { class: "chart", id: "chart-days" },
        el("h2", { text: "Uploads per day" }),
        dayChart(stats.byDay),
      ),
    ),
  );
}

/**
 * The figures a chart draws, as a table only assistive technology meets. A
 * chart read as one image could only be named ("bar chart"), which tells a
 * screen reader's user nothing of what it shows; a table reads value by value.
 */
function chartTable(headers, rows) {
  const head = el(
    "tr",
    {},
    headers.map((header) => el("th", { scope: "col", text: header })),
  );
  const body = rows.map(([name, ...cells]) =>
    el(
      "tr",
      {},
      el("th", { scope: "row", text: name }),
      cells.map((cell) => el("td", { text: cell })),
    ),
  );
  // Hidden by its wrapper: a table is never narrower than its cells, whatever width it is given.
  return el(
    "div",
    { class: "visually-hidden" },
    el("table", {}, el("thead", {}, head), el("tbody", {}, body)),
  );
}

/**
 * Redraws every chart drawing on screen when its width changes: see
 * {@link drawnToWidth}. One observer for the page; each Stats view stops
 * it before drawing, which drops the drawings of the view before.
 */
const chartResizes = new ResizeObserver((entries) => {
  for (const entry of entries) entry.target.redraw?.(Math.round(entry.contentRect.width));
});

/**
 * A chart's drawing, made by `draw(width)` as wide in user units as it is
 * on screen in CSS pixels, again whenever that width changes. A drawing of
 * a fixed width scaled to fit would scale its text with it: 12 px labels
 * came out at 8 px on a phone, and a narrower drawing also has room for
 * fewer labels. The redraw comes before the browser paints.
 */
function drawnToWidth(draw) {
  // The width is read off an empty block above the drawing: as wide as the drawing, and no taller
  // after a redraw, which, observed on the drawing itself, would resize what is being observed.
  const ruler = el("div");
  let drawing = draw(CHART_WIDTH);
  let drawn = CHART_WIDTH;
  ruler.redraw = (width) => {
    if (width <= 0 || width === drawn) return;
    drawn = width;
    const next = draw(width);
    drawing.replaceWith(next);
    drawing = next;
  };
  chartResizes.observe(ruler);
  return el("div", {}, ruler, drawing);
}

/** Width a chart is drawn at until the page is laid out and its real width known. */
const CHART_WIDTH = 420;

/** Horizontal bars, one per category, drawn as SVG, with the same figures as a table for assistive technology. */
function barChart(rows, measure, label, heading) {
  if (rows.length === 0) return el("p", { class: "view-note", text: "No uploads in this window." });
  const draw = (width) => {
    const rowHeight = 26;
    const labelWidth = 84;
    const valueWidth = 70;
    const max = Math.max(...rows.map(measure), 1);
    const chart = svg("svg", {
      viewBox: `0 0 ${width} ${rows.length * rowHeight + 4}`,
      "aria-hidden": "true",
    });
    rows.forEach((row, index) => {
      const y = index * rowHeight + 4;
      const barWidth = Math.max(2, ((width - labelWidth - valueWidth) * measure(row)) / max);
      chart.append(
        svg("text", { x: labelWidth - 8, y: y + 14, "text-anchor": "end" }, row.category),
        svg("rect", {
          x: labelWidth,
          y,
          width: barWidth,
          height: rowHeight - 8,
          rx: 3,
          fill: CATEGORY_COLORS[row.category] ?? "#888",
        }),
        svg("text", { x: labelWidth + barWidth + 6, y: y + 14, class: "value" }, label(measure(row))),
      );
    });
    return chart;
  };
  return [
    drawnToWidth(draw),
    chartTable(
      ["Category", heading],
      rows.map((row) => [row.category, label(measure(row))]),
    ),
  ];
}

/**
 * Room a day's label takes under its bar, in pixels: "11-28" at the charts'
 * 12 px is about 35 wide, and labels keep a gap between them. An estimate,
 * as the drawing is made before its text can be measured; the browser tests
 * check the labels never touch.
 */
const DAY_LABEL_ROOM = 52;

/**
 * Vertical bars, one per day, with as many date labels as the width has
 * room for, back from today's, and the figures of every day as a table.
 */
function dayChart(days) {
  const draw = (width) => {
    const height = 180;
    const bottom = 24;
    const max = Math.max(...days.map((day) => day.count), 1);
    // Room for the largest count, right-aligned before the bars.
    const left = Math.max(30, String(max).length * 8 + 10);
    const slot = (width - left) / Math.max(days.length, 1);
    const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, "aria-hidden": "true" });
    chart.append(
      svg("line", { x1: left, y1: height - bottom, x2: width, y2: height - bottom, stroke: "#d5d9e2" }),
      svg("text", { x: left - 6, y: 12, "text-anchor": "end" }, String(max)),
      svg("text", { x: left - 6, y: height - bottom, "text-anchor": "end" }, "0"),
    );
    days.forEach((day, index) => {
      const barHeight = ((height - bottom - 10) * day.count) / max;
      const bar = svg("rect", {
        x: left + index * slot + slot * 0.15,
        y: height - bottom - barHeight,
        width: slot * 0.7,
        height: Math.max(barHeight, day.count ? 1 : 0),
        rx: 2,
        fill: "#2f5bd3",
      });
      bar.append(svg("title", {}, `${day.day}: ${day.count} files, ${formatBytes(day.bytes)}`));
      chart.append(bar);
    });
    // Labels from today's back, each under its bar (never past the right edge) and one only where
    // it keeps clear of the one after it.
    let next = Number.POSITIVE_INFINITY;
    for (let index = days.length - 1; index >= 0; index--) {
      const centre = Math.min(left + (index + 0.5) * slot, width - DAY_LABEL_ROOM / 2);
      if (next - centre < DAY_LABEL_ROOM) continue;
      next = centre;
      chart.append(
        svg("text", { x: centre, y: height - 8, "text-anchor": "middle" }, days[index].day.slice(5)),
      );
    }
    return chart;
  };
  const figures = chartTable(
    ["Day", "Files", "Size"],
    days.map((day) => [day.day, day.count.toLocaleString(), formatBytes(day.bytes)]),
  );
  return [drawnToWidth(draw), figuresToggle(figures), figures];
}

/**
 * A button that shows a chart's figures table (see {@link chartTable}) on
 * the page and hides it again. The daily bars carry their figures in a
 * tooltip, which only a pointer brings up: this is how a keyboard, or a
 * person who wants the numbers, reads them.
 */
function figuresToggle(figures) {
  figures.id = "chart-days-figures";
  const toggle = el(
    "button",
    {
      type: "button",
      class: "figures-toggle",
      "aria-expanded": "false",
      "aria-controls": figures.id,
      onclick: () => {
        const expanded = toggle.getAttribute("aria-expanded") !== "true";
        toggle.setAttribute("aria-expanded", String(expanded));
        toggle.textContent = expanded ? "Hide figures" : "Show figures";
        figures.classList.toggle("visually-hidden", !expanded);
      },
    },
    "Show figures",
  );
  return toggle;
}

// ---------------------------------------------------------------- detail panel

const detail = document.getElementById("detail");
const detailBody = document.getElementById("detail-body");
let detailToken = 0;

/** The listing element a person opened the panel from, where focus goes back when it closes. */
let detailOpener = null;

/**
 * Whether the record's panel covers the whole window, as it does on a phone
 * (app.css, the max-width: 700px rule). There it is a dialog in all but
 * name, and what it covers must be out of reach: Tab would otherwise walk
 * off its last link into a page nobody can see, and a screen reader read it.
 */
const PANEL_COVERS_WINDOW = matchMedia("(max-width: 700px)");

/** What the panel covers on a phone: everything the page shows but the panel and the messages it announces. */
const COVERED_BY_PANEL = ["skip-link", "topbar", "toolbar", "main", "uploads"];

/**
 * Makes what the panel covers inert while it covers it, and live again once
 * it does not (closed, or the window widened). `inert` is the browser's own
 * way to do it: no focus, no clicks, nothing in the accessibility tree.
 */
function coverBehindPanel() {
  const covered = !detail.hidden && PANEL_COVERS_WINDOW.matches;
  for (const id of COVERED_BY_PANEL) document.getElementById(id).inert = covered;
}

function hideDetail() {
  ++detailToken;
  setDocumentTitle();
  detail.hidden = true;
  coverBehindPanel();
  clear(detailBody);
  for (const node of content.querySelectorAll("[data-key].selected")) node.classList.remove("selected");
}

/**
 * Shows the record of `key`. With `focus`, the person opened it from the
 * listing: focus moves to the panel's heading (so the panel is read next and
 * Tab reaches its close button), and the element that had focus is kept to
 * return to on close.
 */
async function showDetail(key, { focus = false } = {}) {
  const token = ++detailToken;
  const title = document.getElementById("detail-title");
  if (focus) {
    // A click on a table row's cell leaves focus where it was, maybe on another row: not the opener.
    const active = document.activeElement;
    const entry = active?.closest("[data-key]");
    detailOpener =
      active && content.contains(active) && (!entry || entry.dataset.key === key) ? active : null;
  }
  detail.hidden = false;
  coverBehindPanel();
  title.textContent = visible(shownName(baseName(key)));
  setDocumentTitle();
  for (const node of document.querySelectorAll("[data-key]"))
    node.classList.toggle("selected", node.dataset.key === key);
  if (focus) title.focus();
  let result;
  try {
    result = await api("/api/object", { key });
  } catch (error) {
    if (token === detailToken)
      clear(detailBody).append(el("div", { class: "error-box", text: error.message }));
    return;
  }
  if (token !== detailToken) return;
  clear(detailBody).append(...detailSections(key, result.record, result.audit, result.olderAudit === true));
}

/**
 * Closes the panel (the close button, or Escape anywhere while it is open)
 * and puts focus back where the record was opened: the element that opened
 * it if it is still on the page, else the listing's entry for that key (a
 * live refresh may have redrawn the listing), else the view's heading. A
 * record opened from the listing on screen closes by going back to the
 * listing's own history entry, as Back does; one opened from a link or over
 * another record adds the listing as a new entry.
 */
function closeDetail() {
  // Opened from the listing's entry: closing goes back to it, so that Back afterwards leaves the
  // listing instead of opening the record again. traverse() closes the panel and puts focus back.
  if (history.state?.overListing) {
    history.back();
    return;
  }
  const key = state.key;
  const opener = detailOpener;
  detailOpener = null;
  navigate({ key: "" });
  focusWhereOpened(key, opener);
}

/**
 * Focus on where the record of `key`, now closed, was opened: `opener` if
 * it is still on the page, else the listing's entry for that key, else the
 * view's heading.
 */
function focusWhereOpened(key, opener) {
  const entry = listingEntry(key);
  const target = opener?.isConnected
    ? opener
    : entry?.matches("a, button")
      ? entry
      : (entry?.querySelector("a") ?? document.getElementById("view-title"));
  target.focus();
}

/**
 * A definition list of the fields that are present, in the given order, then
 * any others (a section shows every field the engine wrote, even ones this page
 * has no label for) unless `only` says the labelled ones are all there is.
 */
function fields(object, labels = {}, formatters = {}, { only = false } = {}) {
  const list = el("dl", { class: "fields" });
  // Own entries only: a field an uploader names (x-amz-meta-constructor) is no label or formatter
  // that every object inherits.
  const names = [
    ...Object.keys(labels),
    ...(only ? [] : Object.keys(object).filter((name) => !Object.hasOwn(labels, name))),
  ];
  for (const name of names) {
    const value = object[name];
    const format = Object.hasOwn(formatters, name) ? formatters[name] : undefined;
    if (value === undefined || value === null || value === "" || (Array.isArray(value) && value.length === 0))
      continue;
    if (typeof value === "object" && !Array.isArray(value) && !format) continue;
    const shown = format
      ? format(value, object)
      : Array.isArray(value)
        ? value.join(", ")
        : typeof value === "boolean"
          ? value
            ? "yes"
            : "no"
          : String(value);
    list.append(
      el("dt", { text: Object.hasOwn(labels, name) ? labels[name] : name }),
      el("dd", { "data-field": name }, typeof shown === "string" ? longText(shown) : shown),
    );
  }
  return list;
}

/**
 * Characters past which a value is shown cut short: at the panel's width
 * about five lines, so what is cut is always more than the four shown.
 */
const LONG_VALUE_CHARS = 200;

/** Long values made so far: each gets an id of its own, which its button controls. */
let longValueCount = 0;

/**
 * A value as the record panel, the Problems list and the audit trail show
 * it. One that is long (a PDF title of a thousand characters, a reason that
 * quotes a declared type the uploader made up) is cut to a few lines, with a
 * button that shows it all, so one field cannot make a panel or a row
 * thousands of pixels tall. The whole text is on the page either way, to
 * find and to select.
 */
function longText(text) {
  if (text.length <= LONG_VALUE_CHARS) return text;
  const id = `long-value-${++longValueCount}`;
  const value = el("span", { class: "long-value", id, text });
  const toggle = el(
    "button",
    {
      type: "button",
      class: "show-all",
      "aria-expanded": "false",
      "aria-controls": id,
      onclick: (event) => {
        // Inside a Problems row, a click on the button is not one that opens the record.
        event.preventDefault();
        const expanded = toggle.getAttribute("aria-expanded") !== "true";
        toggle.setAttribute("aria-expanded", String(expanded));
        toggle.textContent = expanded ? "Show less" : "Show all";
        value.classList.toggle("expanded", expanded);
      },
    },
    "Show all",
  );
  return [value, toggle];
}

function section(title, body, id) {
  return el(
    "section",
    { class: "section", "data-section": id ?? title.toLowerCase() },
    el("h3", { text: title }),
    body,
  );
}

/** The Object section's fields, in order. */
const OBJECT_LABELS = {
  key: "Key",
  status: "Status",
  reason: "Reason",
  size: "Size",
  mime: "Type",
  category: "Category",
  contentType: "Declared type",
  lastModified: "Last modified",
  eventTime: "Uploaded",
  processedAt: "Processed",
  etag: "ETag",
  sha256: "SHA-256",
  versionId: "Version",
};

/**
 * The Object section's labels for a record: a tombstone replaces the record,
 * upload time included, so its event time is when the object was deleted.
 */
function objectLabels(record) {
  return record.status === "deleted" ? { ...OBJECT_LABELS, eventTime: "Deleted" } : OBJECT_LABELS;
}

/**
 * The Checksums section's labels: the checksum S3 keeps with the object, by
 * algorithm as the record names it (`crc32c`), then whether it covers the
 * whole object or is composed of its parts' checksums. An algorithm not named
 * here is listed under its record name.
 */
const CHECKSUM_LABELS = {
  crc32: "CRC32",
  crc32c: "CRC32C",
  crc64nvme: "CRC64NVME",
  sha1: "SHA-1",
  sha256: "SHA-256",
  type: "Checksum type",
};

/**
 * Top-level record fields that the Processing section, which lists the
 * record's remaining ones, leaves out: shown in another section already, or
 * the table's own keys (the bucket is the page's, `seqKey` a sort key).
 */
const SHOWN_ELSEWHERE = new Set([...Object.keys(OBJECT_LABELS), "warnings", "reasons", "bucket", "seqKey"]);

function detailSections(key, record, audit, olderAudit) {
  const parts = [];
  if (!record) {
    parts.push(el("p", { class: "view-note", text: "No record: only audit entries exist for this key." }));
  } else {
    parts.push(
      record.status === "deleted"
        ? el(
            "div",
            { class: "preview deleted" },
            preview(record, 96),
            el("span", { text: "This object was deleted from the bucket." }),
          )
        : el("div", { class: "preview" }, preview(record, 96)),
    );
    parts.push(
      section(
        "Object",
        fields(
          record,
          objectLabels(record),
          {
            key: shownKey,
            status: (value) => statusBadge(value),
            size: (value) => `${formatBytes(value)} (${value.toLocaleString()} bytes)`,
            lastModified: formatTime,
            eventTime: formatTime,
            processedAt: formatTime,
            sha256: (value) => el("span", { class: "mono", text: value }),
            etag: (value) => el("span", { class: "mono", text: value }),
          },
          { only: true },
        ),
        "object",
      ),
    );
    if (record.warnings?.length)
      parts.push(
        section(
          "Warnings",
          el(
            "ul",
            { class: "plain" },
            record.warnings.map((text) => el("li", {}, longText(text))),
          ),
          "warnings",
        ),
      );
    if (record.format)
      parts.push(
        section(
          "Format",
          fields(record.format, {
            mime: "MIME",
            ext: "Extension",
            category: "Category",
            declaredMime: "Declared MIME",
            declaredExt: "Declared ext.",
            mismatch: "Mismatch",
            mismatchReason: "Why",
          }),
          "format",
        ),
      );
    const image = record.image;
    if (image) {
      parts.push(
        section(
          "Image",
          fields(
            image,
            {
              width: "Width",
              height: "Height",
              orientation: "Orientation",
              bitDepth: "Bit depth",
              colorType: "Colour",
              frames: "Frames",
              animated: "Animated",
              duration: "Duration",
            },
            { duration: formatDuration },
          ),
          "image",
        ),
      );
      if (image.exif) {
        parts.push(
          section(
            "EXIF",
            fields(
              image.exif,
              {
                title: "Title",
                make: "Make",
                model: "Model",
                lens: "Lens",
                software: "Software",
                takenAt: "Taken",
                exposureTime: "Exposure",
                fNumber: "Aperture",
                iso: "ISO",
                focalLength: "Focal length",
                artist: "Artist",
                copyright: "Copyright",
              },
              {
                exposureTime: formatExposure,
                fNumber: (value) => `f/${value}`,
                focalLength: (value) => `${value} mm`,
              },
            ),
            "exif",
          ),
        );
        const gps = gpsSection(image.exif.gps);
        if (gps) parts.push(gps);
      }
    }
    if (record.media) {
      parts.push(
        section(
          "Media",
          fields(
            record.media,
            {
              duration: "Duration",
              container: "Container",
              codecs: "Codecs",
              bitrate: "Bit rate",
              sampleRate: "Sample rate",
              channels: "Channels",
              width: "Width",
              height: "Height",
              frameRate: "Frame rate",
              make: "Make",
              model: "Model",
            },
            {
              duration: formatDuration,
              bitrate: (value) => `${Math.round(value / 1000)} kb/s`,
              sampleRate: (value) => `${value} Hz`,
              // A rate worked out from timestamps (1000 / 42 ms) has as many digits as a double holds.
              frameRate: (value) => `${Number(value.toFixed(2))} fps`,
            },
          ),
          "media",
        ),
      );
      const gps = gpsSection(record.media.gps);
      if (gps) parts.push(gps);
      if (record.media.tags)
        parts.push(
          section(
            "Tags",
            fields(record.media.tags, {
              title: "Title",
              artist: "Artist",
              album: "Album",
              year: "Year",
              genre: "Genre",
              copyright: "Copyright",
            }),
            "tags",
          ),
        );
    }
    if (record.pdf)
      parts.push(
        section(
          "PDF",
          fields(record.pdf, {
            title: "Title",
            author: "Author",
            subject: "Subject",
            keywords: "Keywords",
            pages: "Pages",
            version: "Version",
            creator: "Creator",
            producer: "Producer",
            created: "Created",
            modified: "Modified",
            encrypted: "Encrypted",
            linearized: "Linearized",
          }),
          "pdf",
        ),
      );
    if (record.document)
      parts.push(
        section(
          "Document",
          fields(record.document, {
            kind: "Kind",
            title: "Title",
            subject: "Subject",
            keywords: "Keywords",
            creator: "Creator",
            lastModifiedBy: "Last modified by",
            created: "Created",
            modified: "Modified",
            application: "Application",
            language: "Language",
            pages: "Pages",
            words: "Words",
            slides: "Slides",
            sheets: "Sheets",
            encrypted: "Encrypted",
            macros: "Macros",
          }),
          "document",
        ),
      );
    if (record.package)
      parts.push(
        section(
          "Package",
          fields(
            record.package,
            {
              format: "Format",
              name: "Name",
              version: "Version",
              architecture: "Architecture",
              summary: "Summary",
              maintainer: "Maintainer",
              vendor: "Vendor",
              license: "Licence",
              homepage: "Homepage",
              section: "Section",
              source: "Source",
              installedSize: "Installed size",
              builtAt: "Built",
            },
            { installedSize: formatBytes, builtAt: formatTime },
          ),
          "package",
        ),
      );
    if (record.archive) {
      parts.push(
        section(
          "Archive",
          fields(
            record.archive,
            {
              kind: "Kind",
              entries: "Entries",
              uncompressedSize: "Uncompressed",
              ratio: "Ratio",
              encrypted: "Encrypted",
              bomb: "Looks like a bomb",
              nestedArchives: "Nested archives",
              originalName: "Original name",
              label: "Volume label",
              publisher: "Publisher",
              application: "Made with",
              created: "Created",
              modified: "Modified",
              estimated: "Estimated",
              sample: "First entries",
            },
            {
              created: formatTime,
              modified: formatTime,
              uncompressedSize: formatBytes,
              ratio: (value) => `${Number(value).toFixed(1)}×`,
              sample: (value) =>
                el(
                  "ul",
                  { class: "plain" },
                  value.map((name) => el("li", { class: "mono", text: name })),
                ),
            },
          ),
          "archive",
        ),
      );
    }
    if (record.text)
      parts.push(
        section(
          "Text",
          fields(
            record.text,
            {
              encoding: "Encoding",
              bom: "BOM",
              lineEndings: "Line endings",
              lines: "Lines",
              words: "Words",
              chars: "Characters",
              estimated: "Estimated",
              csv: "CSV",
              json: "JSON",
            },
            {
              csv: (value) => `${value.columns} columns, delimiter ${JSON.stringify(value.delimiter)}`,
              json: (value) => (value.valid ? `valid (${value.topLevel ?? "?"})` : "invalid"),
            },
          ),
          "text",
        ),
      );
    if (record.font)
      parts.push(
        section(
          "Font",
          fields(
            record.font,
            {
              family: "Family",
              subfamily: "Style",
              fullName: "Full name",
              version: "Version",
              designer: "Designer",
              vendor: "Vendor",
              vendorId: "Vendor ID",
              copyright: "Copyright",
              trademark: "Trademark",
              license: "Licence",
              licenseUrl: "Licence URL",
              embedding: "Embedding",
              glyphs: "Glyphs",
              axes: "Axes",
              instances: "Named instances",
              faces: "Faces",
            },
            {
              copyright: paragraphs,
              trademark: paragraphs,
              license: paragraphs,
              embedding: formatEmbedding,
              glyphs: (value) => value.toLocaleString(),
              axes: fontAxes,
            },
          ),
          "font",
        ),
      );
    if (record.executable)
      parts.push(
        section(
          "Executable",
          fields(record.executable, {
            format: "Format",
            architecture: "Architecture",
            bits: "Bits",
            endianness: "Endianness",
            type: "Type",
            linking: "Linking",
            interpreter: "Interpreter",
            buildId: "Build ID",
            stripped: "Stripped",
            subsystem: "Subsystem",
            signed: "Signed",
            dotnet: ".NET assembly",
            product: "Product",
            productVersion: "Product version",
            company: "Company",
            description: "Description",
            fileVersion: "File version",
            originalName: "Original name",
            copyright: "Copyright",
          }),
          "executable",
        ),
      );
    if (record.userMetadata)
      parts.push(section("User metadata", fields(record.userMetadata), "user-metadata"));
    if (record.checksum)
      parts.push(section("Checksums", fields(record.checksum, CHECKSUM_LABELS), "checksum"));
    parts.push(
      section(
        "Processing",
        fields(
          // The record's other top-level fields, not those the Object and Warnings sections show.
          Object.fromEntries(Object.entries(record).filter(([name]) => !SHOWN_ELSEWHERE.has(name))),
          {
            storageClass: "Storage class",
            sequencer: "Sequencer",
            bytesRead: "Bytes read",
            readRequests: "Read requests",
            durationMs: "Pipeline time",
            extractionMs: "Extraction time",
            extractorVersion: "Extractor",
            schemaVersion: "Schema",
            thumbnailKey: "Thumbnail",
            thumbnailWidth: "Thumbnail width",
            thumbnailHeight: "Thumbnail height",
            thumbnailSize: "Thumbnail size",
            thumbnailEtag: "Thumbnail ETag",
            thumbHash: "Placeholder",
            truncated: "Truncated",
            expiresAt: "Expires",
          },
          {
            // Hex and base64 wrap anywhere, whole on the page to select and copy.
            sequencer: (value) => el("span", { class: "mono", text: value }),
            bytesRead: formatBytes,
            durationMs: (value) => `${Math.round(value)} ms`,
            extractionMs: (value) => `${Math.round(value)} ms`,
            thumbnailKey: shownKey,
            thumbnailSize: formatBytes,
            thumbnailEtag: (value) => el("span", { class: "mono", text: value }),
            // A ThumbHash: a blurred preview a page can paint before the thumbnail loads.
            thumbHash: (value) => el("span", { class: "mono", text: value }),
            // Epoch seconds, when the table's time to live removes the tombstone.
            expiresAt: (value) => formatTime(value * 1000),
          },
        ),
        "processing",
      ),
    );
  }
  const older = olderAudit
    ? el("p", {
        class: "view-note",
        text: `The ${audit.length} newest events; older ones are kept in the catalog.`,
      })
    : null;
  parts.push(section("Audit trail", [auditTable(audit), older], "audit"));
  parts.push(el("p", {}, navLink("Open folder", { view: "browse", prefix: folderOf(key), key })));
  return parts;
}

function auditTable(audit) {
  if (!audit?.length) return el("p", { class: "view-note", text: "No events recorded." });
  return el(
    "table",
    { class: "audit" },
    el(
      "thead",
      {},
      el(
        "tr",
        {},
        el("th", { text: "When" }),
        el("th", { text: "Event" }),
        el("th", { text: "Outcome" }),
        el("th", { text: "Time" }),
      ),
    ),
    el(
      "tbody",
      {},
      audit.map((entry) =>
        el(
          "tr",
          {},
          el("td", { title: entry.eventTime, text: formatTime(entry.eventTime) }),
          el(
            "td",
            {},
            entry.eventName,
            entry.reasons?.length
              ? el("div", { class: "view-note" }, longText(entry.reasons.join("; ")))
              : null,
          ),
          el("td", {}, statusBadge(entry.outcome), entry.deliveries > 1 ? ` ×${entry.deliveries}` : ""),
          el("td", { class: "num", text: `${Math.round(entry.durationMs ?? 0)} ms` }),
        ),
      ),
    ),
  );
}

// ---------------------------------------------------------------- upload

function uploadPrefix() {
  return state.view === "browse" ? state.prefix : "";
}

function uploadFiles(files) {
  const panel = document.getElementById("uploads");
  const list = document.getElementById("upload-list");
  panel.hidden = false;
  // Emptied while these run: the same words said of the next uploads are then a change to speak.
  document.getElementById("upload-outcome").textContent = "";
  const prefix = uploadPrefix();
  for (const file of files) {
    const statusId = `upload-state-${++uploadCount}`;
    const progress = el("progress", {
      max: 100,
      value: 0,
      "aria-label": `/${prefix}${file.name}`,
      "aria-describedby": statusId,
    });
    const status = el("span", { class: "state", id: statusId, text: "waiting" });
    const label = el("span", { class: "file", title: file.name, text: `/${prefix}${file.name}` });
    const row = el("li", { "data-upload": file.name }, label, status, progress);
    list.prepend(row);
    const fail = (message) => showUploadFailed(status, progress, message);
    const limit = state.health?.uploadLimitBytes;
    if (limit && file.size > limit) {
      fail(`too large (limit ${formatBytes(limit)})`);
      continue;
    }
    const form = new FormData();
    form.append("file", file, file.name);
    const request = new XMLHttpRequest();
    request.open("POST", `/api/upload?${new URLSearchParams({ prefix })}`);
    request.upload.addEventListener("progress", (event) => {
      if (!event.lengthComputable) return;
      progress.value = Math.round((event.loaded / event.total) * 100);
      status.textContent = `${progress.value}%`;
    });
    request.addEventListener("load", () => {
      if (request.status === 201) {
        // The server names the object (a name with a backslash keeps only its last part): show that key.
        let stored;
        try {
          stored = JSON.parse(request.responseText).uploaded?.[0]?.key;
        } catch {}
        if (typeof stored === "string") {
          label.textContent = visible(`/${stored}`);
          label.setAttribute("title", visible(stored));
        }
        progress.value = 100;
        status.textContent = "uploaded";
        status.className = "state done";
        hideUploadsWhenSettled();
      } else {
        let message = `${request.status}`;
        try {
          message = JSON.parse(request.responseText).error ?? message;
        } catch {}
        fail(`failed: ${message}`);
      }
    });
    request.addEventListener("error", () => fail("failed: network error"));
    request.addEventListener("loadend", announceUploadsIfSettled);
    request.send(form);
  }
  // Every file refused before it was sent (too large) settles nothing later.
  announceUploadsIfSettled();
}

/**
 * Once no upload started since the last message is still running, says how
 * they ended in the page's status message for uploads, which a screen reader speaks where
 * focus is: the panel's rows change silently (their percentages would be a
 * stream of noise), and a refused file, which the pipeline never catalogs,
 * is announced nowhere else.
 */
function announceUploadsIfSettled() {
  // The rows said already stay in the panel (a refused file's reason stays in sight until it is
  // closed), but a person has heard them: the message speaks of the uploads since, files picked
  // while others still ran among them, not of a running total that would repeat an old failure.
  const rows = [...document.querySelectorAll("#upload-list li:not([data-announced])")];
  const stateOf = (row) => row.querySelector(".state").classList;
  if (
    rows.length === 0 ||
    rows.some((row) => !stateOf(row).contains("done") && !stateOf(row).contains("failed"))
  )
    return;
  const failed = rows.filter((row) => stateOf(row).contains("failed"));
  const outcome = [`Uploads: ${rows.length - failed.length} uploaded`];
  if (failed.length > 0) outcome.push(`, ${failed.length} failed.`);
  else outcome.push(".");
  for (const row of failed)
    outcome.push(` ${row.querySelector(".file").textContent} ${row.querySelector(".state").textContent}.`);
  document.getElementById("upload-outcome").textContent = outcome.join("");
  for (const row of rows) row.dataset.announced = "";
}

/** Upload rows made so far: each row's status gets an id of its own, which its bar points to. */
let uploadCount = 0;

/**
 * Shows an upload as failed. Its bar, full once every byte was sent even if
 * the server then refused the file, must not read as done: it turns the
 * colour of failure and says "failed" to assistive technology. The server's
 * message may quote the file's name, so it is shown like any other name.
 */
function showUploadFailed(status, progress, message) {
  status.textContent = visible(message);
  status.className = "state failed";
  progress.classList.add("failed");
  progress.setAttribute("aria-valuetext", "failed");
}

let hideUploadsTimer;

/** Once every upload in the panel succeeded, get the panel out of the way; failures keep it open. */
function hideUploadsWhenSettled() {
  clearTimeout(hideUploadsTimer);
  hideUploadsTimer = setTimeout(() => {
    const panel = document.getElementById("uploads");
    // A person in the panel is reading it: it waits until focus leaves (see setUpUpload).
    if (panel.contains(document.activeElement)) return;
    const states = [...document.querySelectorAll("#upload-list .state")];
    if (states.every((node) => node.classList.contains("done"))) {
      panel.hidden = true;
      clear(document.getElementById("upload-list"));
    }
  }, 4000);
}

/** Hides the uploads panel at a person's request, focus back on the Upload button where the uploads began. */
function closeUploads() {
  const panel = document.getElementById("uploads");
  const hadFocus = panel.contains(document.activeElement);
  panel.hidden = true;
  clear(document.getElementById("upload-list"));
  if (hadFocus) document.getElementById("file-input").focus();
}

function setUpUpload() {
  const input = document.getElementById("file-input");
  input.addEventListener("change", () => {
    uploadFiles([...input.files]);
    input.value = "";
  });
  const overlay = document.getElementById("drop-overlay");
  let depth = 0;
  const hasFiles = (event) => [...(event.dataTransfer?.types ?? [])].includes("Files");
  window.addEventListener("dragenter", (event) => {
    if (!hasFiles(event)) return;
    event.preventDefault();
    depth++;
    overlay.hidden = false;
  });
  window.addEventListener("dragover", (event) => {
    if (hasFiles(event)) event.preventDefault();
  });
  window.addEventListener("dragleave", () => {
    depth = Math.max(0, depth - 1);
    if (depth === 0) overlay.hidden = true;
  });
  window.addEventListener("drop", (event) => {
    if (!hasFiles(event)) return;
    event.preventDefault();
    depth = 0;
    overlay.hidden = true;
    uploadFiles([...event.dataTransfer.files]);
  });
  document.getElementById("uploads-close").addEventListener("click", closeUploads);
  const panel = document.getElementById("uploads");
  // Focus leaving a panel whose uploads all succeeded: it tidies itself away as it would have.
  panel.addEventListener("focusout", (event) => {
    if (!panel.contains(event.relatedTarget)) hideUploadsWhenSettled();
  });
}

// ---------------------------------------------------------------- live updates

let refreshTimer;
let toastTimer;
/** The live refresh in flight, if any, and whether the feed announced more while it ran. */
let refreshing;
let refreshAgain = false;
/** Whether a change announced since the last refresh concerns the open record. */
let detailChanged = false;

/**
 * Several files usually land together: one refresh for a burst (after a
 * quiet 250 ms), and never two at once, so a busy feed costs at most one
 * refresh in flight and one waiting.
 */
function scheduleRefresh() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(runRefresh, 250);
}

async function runRefresh() {
  if (refreshing) {
    refreshAgain = true;
    return;
  }
  const changed = detailChanged;
  detailChanged = false;
  refreshing = render({ live: true, detailChanged: changed });
  await refreshing;
  refreshing = undefined;
  if (refreshAgain) {
    refreshAgain = false;
    runRefresh();
  }
}

/**
 * Shows `text` for a few seconds in the page's toast, a status message a
 * screen reader speaks without focus moving. Emptied afterwards, never
 * hidden: a region hidden until it speaks is, to most screen readers, no
 * change to announce.
 */
function toast(text) {
  const node = document.getElementById("toast");
  node.textContent = text;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    node.textContent = "";
  }, 3000);
}

/** Longest the first view waits for the live stream to open, so a stream that never does costs little. */
const FIRST_OPEN_WAIT_MS = 2000;

/**
 * Opens the live stream. Resolves once it is open (or failed, or after
 * {@link FIRST_OPEN_WAIT_MS}): the server listens for announcements before
 * the stream opens, so a view read after that misses no record, while a view
 * read before it could miss one written in between, announced to no one.
 * When the view had to be read first, the stream's opening reloads it.
 */
function setUpLive() {
  const indicator = document.getElementById("live");
  const source = new EventSource("/api/events");
  // Announcements made while the stream was down are lost: after a reconnection, reload the view,
  // unless the server says nothing was announced since the last event this page read. (It ends
  // every stream after a few minutes, so a reconnection is routine, not a sign of loss.)
  let missed = false;
  let open = false;
  let settle;
  const opened = new Promise((resolve) => {
    settle = resolve;
    setTimeout(() => {
      if (!open) missed = true;
      resolve();
    }, FIRST_OPEN_WAIT_MS);
  });
  source.addEventListener("open", () => {
    open = true;
    settle();
  });
  // The stream's opening is not enough to claim "live": a server with no feed opens one that
  // carries heartbeats only, and says so in its hello.
  source.addEventListener("hello", (event) => {
    const hello = JSON.parse(event.data);
    const live = hello.live === true;
    indicator.textContent = live ? "live" : "not live";
    indicator.title = live
      ? "live updates: new files appear by themselves"
      : "this server sends no live updates: reload the page to see new files";
    indicator.classList.toggle("on", live);
    const resumed = hello.resumed === true;
    if (!missed) return;
    missed = false;
    if (resumed) return;
    detailChanged = true;
    scheduleRefresh();
  });
  source.addEventListener("error", () => {
    open = false;
    settle();
    indicator.textContent = "reconnecting";
    indicator.title = "live updates are reconnecting";
    indicator.classList.remove("on");
    missed = true;
  });
  // The server dropped announcements this page did not take in time (a background tab, a slow
  // link): what is shown may be stale, so reload it, open record included.
  source.addEventListener("resync", () => {
    detailChanged = true;
    scheduleRefresh();
  });
  source.addEventListener("record", (event) => {
    const announcement = JSON.parse(event.data);
    // An event the pipeline gave up on went to the dead-letter file: its object is not in the catalog.
    const outcome =
      announcement.delivered === false
        ? "Not cataloged (kept in the dead-letter file)"
        : announcement.kind === "removed"
          ? "Removed"
          : "Cataloged";
    toast(`${outcome}: ${visible(shownKey(announcement.key))}`);
    const affects =
      state.view !== "browse" ||
      ((folderOf(announcement.key).startsWith(state.prefix) ||
        state.prefix.startsWith(folderOf(announcement.key))) &&
        !unseenInFolder(announcement.key));
    if (announcement.key === state.key) detailChanged = true;
    if (affects || detailChanged) scheduleRefresh();
  });
  return opened;
}

/**
 * Whether a change to `key` is one Browse does not show of the folder open:
 * a name in it that does not start with the text it is narrowed to, or one
 * past the last name loaded while more are left to load ("Show more" reads
 * it in its place). A live refresh reads every loaded page again: in a big
 * folder, with thousands of names loaded, a burst of uploads past them would
 * reload them all for nothing new to show.
 */
function unseenInFolder(key) {
  if (folderOf(key) !== state.prefix) return false;
  if (!key.slice(state.prefix.length).startsWith(state.startsWith)) return true;
  const { id, last, complete } = loadedListing;
  return (
    id === listingId("/api/folder", browseParams()) &&
    !complete &&
    last !== undefined &&
    compareAsStored(key, last) > 0
  );
}

const utf8 = new TextEncoder();

/**
 * Orders two keys as the folder index sorts names: DynamoDB compares strings
 * by their UTF-8 bytes, which JavaScript's `<` (UTF-16 code units) does not
 * match past U+FFFF. No browser API compares bytes; this is a few lines.
 */
function compareAsStored(a, b) {
  const left = utf8.encode(a);
  const right = utf8.encode(b);
  const length = Math.min(left.length, right.length);
  for (let index = 0; index < length; index++) {
    if (left[index] !== right[index]) return left[index] - right[index];
  }
  return left.length - right.length;
}

// ---------------------------------------------------------------- name filter

/** How long typing pauses before the folder is asked for the names typed: one request per pause, not per key. */
const NAME_START_DELAY_MS = 300;

let nameStartTimer;
/** Whether the name field holds text typed since the folder was last asked for what it holds. */
let nameStartTyped = false;
/** The token of the history entry the name field last made: further typing replaces it rather than adding one per pause. */
let nameStartEntry;

/**
 * The Browse field that narrows the folder to the names starting with what
 * is typed, case-sensitive as keys are, once typing pauses. The first change
 * adds a history entry, so Back returns to the folder as it was; later ones
 * while the same entry is shown replace it.
 */
function setUpNameStart() {
  const field = document.getElementById("filter-startsWith");
  const apply = () => {
    forgetTypedNameStart();
    if (field.value === state.startsWith || !usesFilter(state.view, "startsWith")) return;
    navigate({ startsWith: field.value, key: "" }, { replace: nameStartEntry === shownToken });
    nameStartEntry = shownToken;
  };
  field.addEventListener("input", () => {
    nameStartTyped = true;
    clearTimeout(nameStartTimer);
    nameStartTimer = setTimeout(apply, NAME_START_DELAY_MS);
  });
  // Enter asks at once, without waiting for the pause.
  field.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.isComposing) apply();
  });
}

/** Drops what was typed in the name field and not yet asked for. */
function forgetTypedNameStart() {
  clearTimeout(nameStartTimer);
  nameStartTyped = false;
}

// ---------------------------------------------------------------- start

async function start() {
  readLocation();
  // A link from before may carry a filter its view does not use (`days` on Duplicates): the address says what is shown.
  const shown = locationFor({});
  // The browser would scroll back before a listing is drawn again: the page does it once it is.
  history.scrollRestoration = "manual";
  shownToken = history.state?.listing ?? shownToken;
  history.replaceState({ listing: shownToken }, "", shown);
  const categorySelect = document.getElementById("filter-category");
  try {
    state.health = await api("/api/health");
    document.getElementById("bucket-name").textContent = `s3://${state.health.bucket}`;
    for (const name of state.health.categories)
      categorySelect.append(el("option", { value: name, text: name }));
  } catch (error) {
    toast(`API unavailable: ${error.message}`);
  }
  categorySelect.addEventListener("change", () => navigate({ category: categorySelect.value, key: "" }));
  setUpNameStart();
  const daysSelect = document.getElementById("filter-days");
  daysSelect.addEventListener("change", () => navigate({ days: daysSelect.value }));
  for (const layout of ["grid", "list"]) {
    const button = document.getElementById(`layout-${layout}`);
    button.setAttribute("aria-pressed", String(state.layout === layout));
    button.addEventListener("click", () => {
      state.layout = layout;
      localStorage.setItem("layout", layout);
      for (const other of ["grid", "list"])
        document.getElementById(`layout-${other}`).setAttribute("aria-pressed", String(other === layout));
      render();
    });
  }
  for (const link of document.querySelectorAll("[data-nav]")) {
    link.addEventListener("click", (event) => {
      if (!isPlainClick(event)) return;
      event.preventDefault();
      navigate({ view: link.dataset.nav, key: "" });
    });
  }
  document.getElementById("detail-close").addEventListener("click", closeDetail);
  PANEL_COVERS_WINDOW.addEventListener("change", coverBehindPanel);
  // Focus to the view's heading without a #fragment in the address, which would be an entry of its own for Back.
  document.getElementById("skip-link").addEventListener("click", (event) => {
    if (!isPlainClick(event)) return;
    event.preventDefault();
    document.getElementById("view-title").focus();
  });
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape" || detail.hidden || event.defaultPrevented || event.isComposing) return;
    // In a search field with text, Escape is the field's own: it clears it. The next Escape closes the record.
    const field = event.target;
    if (field instanceof HTMLInputElement && field.type === "search" && field.value !== "") return;
    event.preventDefault();
    closeDetail();
  });
  window.addEventListener("popstate", traverse);
  setInterval(refreshRelativeTimes, RELATIVE_TIME_REFRESH_MS);
  setUpUpload();
  await setUpLive();
  await render();
}

start();
