/**
 * The dashboard in a real headless Chromium (Debian's /usr/bin/chromium,
 * driven by playwright-core) against the whole local catalog started in this
 * process: uploads of real corpus files appear live, the detail panel shows
 * their metadata, and metadata written as markup stays text.
 */
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { DeleteObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { type BrowserContext, chromium, type Locator, type Page } from "playwright-core";
import sharp from "sharp";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { ObjectRecordInput } from "../../src/store/types.js";
import {
  type LocalCatalog,
  pdfWithTitle,
  putCataloged,
  startLocalCatalog,
  writeThumbnailKey,
} from "../server/local-catalog.js";
import { CHROMIUM, CHROMIUM_ARGS, poll, recordIncidents } from "../support/chromium.js";
import { CONTRAST_RATIO, TEXT_CONTRAST_AA } from "../support/contrast.js";
import { corpusFile } from "../support/corpus.js";
import { fvarTable, maxpTable, os2Table, windowsNames, woff2 } from "../support/font.js";
import { testExtraction, testFormat, testRecord } from "../support/records.js";
import { describeWith } from "../support/tools.js";

const ARTIFACTS = resolve("test-artifacts");
const HOSTILE = "<img src=x onerror=alert(1)>";
const HOSTILE_NAME = "title-<img src=x onerror=alert(2)>.pdf";
const JPEG = "exifpy-DSCN0010.jpg";
const PDF = "filetype-fixture.pdf";
const MP3 = "filetype-fixture.mp3";
const CORRUPT = "filetype-fixture-corrupt.png";

/**
 * Runs in the page (kept as source text: this project's TypeScript has no DOM
 * types): drops one file on the window the way a person's drag does.
 */
const DROP_FILE = `({ name, base64 }) => {
  const bytes = Uint8Array.from(atob(base64), (char) => char.charCodeAt(0));
  const transfer = new DataTransfer();
  transfer.items.add(new File([bytes], name, { type: "application/pdf" }));
  for (const type of ["dragenter", "dragover", "drop"])
    window.dispatchEvent(new DragEvent(type, { dataTransfer: transfer, bubbles: true, cancelable: true }));
}`;

/**
 * Runs in the page: every visible text of the page's regions below 4.5:1 on
 * its background (WCAG AA for normal text; see {@link CONTRAST_RATIO}),
 * disabled controls aside.
 */
const LOW_CONTRAST = `(() => {
  const contrast = ${CONTRAST_RATIO};
  const found = [];
  for (const node of document.querySelectorAll(".topbar *, .toolbar *, main *, #detail *")) {
    const text = [...node.childNodes].filter((child) => child.nodeType === 3).map((child) => child.textContent).join("").trim();
    if (!text || node.closest("[disabled], [aria-hidden='true'], svg") || !node.getClientRects().length) continue;
    const ratio = contrast(node);
    if (ratio < ${TEXT_CONTRAST_AA}) found.push(node.tagName + "." + node.className + " '" + text.slice(0, 20) + "' " + ratio.toFixed(2));
  }
  return [...new Set(found)];
})()`;

/**
 * Runs in the page on the image a selector finds: "red" or "blue" for a picture of that colour, else
 * its mean colour ("" while it is missing or loading).
 */
const IMAGE_COLOUR = `(selector) => {
  const image = document.querySelector(selector);
  if (!image || !image.complete || !image.naturalWidth) return "";
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = 1;
  const context = canvas.getContext("2d");
  context.drawImage(image, 0, 0, 1, 1);
  const [r, g, b] = context.getImageData(0, 0, 1, 1).data;
  return r > 200 && b < 60 ? "red" : b > 200 && r < 60 ? "blue" : "rgb(" + r + "," + g + "," + b + ")";
}`;

/** Width of a loaded image element in the page, 0 while loading or when broken. */
function loadedWidth(image: unknown): number {
  const element = image as { complete: boolean; naturalWidth: number };
  return element.complete ? element.naturalWidth : 0;
}

let catalog: LocalCatalog;
let context: BrowserContext;
let page: Page;
let userDataDir: string;
/** Everything the page did that it should not: dialogs, script errors, CSP violations. */
const incidents: string[] = [];

function card(key: string) {
  return page.locator(`#content [data-key="${key.replace(/["\\]/g, "\\$&")}"]`);
}

/** A QuickTime movie with no tracks whose user data names the device it was recorded with (`©mak`, `©mod`). */
function movieMadeBy(make: string, model: string): Uint8Array {
  const box = (type: string, body: Uint8Array) => {
    const header = Buffer.alloc(8);
    header.writeUInt32BE(8 + body.byteLength);
    header.write(type, 4, "latin1");
    return Buffer.concat([header, body]);
  };
  // A user-data text: 16-bit length, 16-bit language (packed ISO 639 "und": UTF-8), the text.
  const text = (type: string, value: string) => {
    const bytes = Buffer.from(value, "utf8");
    const header = Buffer.alloc(4);
    header.writeUInt16BE(bytes.byteLength);
    header.writeUInt16BE(0x55c4, 2);
    return box(type, Buffer.concat([header, bytes]));
  };
  const ftyp = box("ftyp", Buffer.from("qt  \0\0\0\0qt  ", "latin1"));
  const udta = box("udta", Buffer.concat([text("\u00a9mak", make), text("\u00a9mod", model)]));
  return new Uint8Array(Buffer.concat([ftyp, box("moov", udta)]));
}

/** The address a link points to, as a path and query. */
async function target(link: Locator): Promise<string> {
  const url = new URL((await link.getAttribute("href")) ?? "", catalog.url);
  return `${url.pathname}${url.search}`;
}

/** Opens `address` and waits for its first view: the page's controls listen only once it has asked the API what it serves. */
async function open(address: string): Promise<void> {
  await page.goto(`${catalog.url}${address}`);
  await page.locator("#view-title", { hasNotText: "Loading…" }).waitFor();
}

/** Clicks `link` as `how` says, and answers the address of the tab it opened. */
async function openedElsewhere(
  link: Locator,
  how: { modifiers?: ["ControlOrMeta"]; button?: "middle" },
): Promise<string> {
  const opened = context.waitForEvent("page");
  await link.click(how);
  const tab = await opened;
  await tab.waitForURL(/\?/);
  const url = new URL(tab.url());
  await tab.close();
  return `${url.pathname}${url.search}`;
}

/** Runs in the page: the key of the listing entry that holds focus, else the focused element's id. */
const FOCUSED =
  "document.activeElement?.closest('[data-key]')?.dataset.key ?? document.activeElement?.id ?? ''";

/**
 * Writes a record for each of `keys`, all stamped with this instant and
 * `fields` added, to the catalog (`target`, the shared one unless given)
 * directly, 50 at a time: the pipeline is not under test where this is
 * used, and nothing is announced on the live feed.
 */
async function putRecordsNow(
  keys: readonly string[],
  fields: Partial<ObjectRecordInput> = {},
  target = catalog,
): Promise<void> {
  const eventTime = new Date().toISOString();
  for (let start = 0; start < keys.length; start += 50)
    await Promise.all(
      keys
        .slice(start, start + 50)
        .map((key) =>
          target.stack.store.putRecord(
            testRecord({ bucket: target.stack.bucket, key, eventTime, ...fields }),
          ),
        ),
    );
}

/** Writes `count` records named `<prefix>file NNNN.txt`, numbered from `first` (see {@link putRecordsNow}). */
async function putRecords(prefix: string, count: number, first = 0, target = catalog): Promise<void> {
  const keys = Array.from(
    { length: count },
    (_, index) => `${prefix}file ${String(first + index).padStart(4, "0")}.txt`,
  );
  await putRecordsNow(keys, {}, target);
}

/** The keys of the entries the view shows, in order. */
function shownKeys(): Promise<string[]> {
  return page
    .locator("#content [data-key]")
    .evaluateAll((nodes) =>
      nodes.map((node) => (node as unknown as { dataset: { key: string } }).dataset.key),
    );
}

beforeAll(async () => {
  await mkdir(ARTIFACTS, { recursive: true });
  catalog = await startLocalCatalog({ listen: true });
  userDataDir = await mkdtemp(join(tmpdir(), "catalog-chromium-"));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
    headless: true,
    viewport: { width: 1440, height: 900 },
  });
  page = context.pages()[0] ?? (await context.newPage());
  recordIncidents(page, (incident) => incidents.push(incident));
}, 60_000);

afterAll(async () => {
  await context?.close();
  await catalog?.close();
  if (userDataDir) await rm(userDataDir, { recursive: true, force: true });
});

describeWith("chromium")("dashboard in headless Chromium", () => {
  it("shows uploads live, with metadata in the detail panel and hostile metadata as text", async () => {
    await page.goto(`${catalog.url}/`);
    await poll(() => page.textContent("#view-title")).toBe("Recent uploads");
    await poll(() => page.textContent("#live")).toBe("live");
    await poll(() => page.textContent("#content")).toContain(
      "No uploads in the last 7 days. Drop files anywhere on this page to upload them.",
    );
    await page.evaluate("window.marker = 'same page'");

    // Act: four corpus files through the file picker, the hostile PDF by drag and drop.
    await page.setInputFiles(
      "#file-input",
      [JPEG, PDF, MP3, CORRUPT].map((name) => corpusFile(name)),
    );
    const hostile = pdfWithTitle(HOSTILE).toString("base64");
    await page.evaluate(`(${DROP_FILE})(${JSON.stringify({ name: HOSTILE_NAME, base64: hostile })})`);

    // Assess: every upload finishes and every file appears without a reload.
    await poll(() => page.locator("#upload-list .state.done").count()).toBe(5);
    for (const key of [JPEG, PDF, MP3, CORRUPT, HOSTILE_NAME]) await poll(() => card(key).count()).toBe(1);
    expect(await page.evaluate("window.marker")).toBe("same page");
    // A record with a thumbnail shows it (loaded from the API); one without shows its category's placeholder.
    for (const [key, placeholder] of [
      [JPEG, "image file"],
      [MP3, "audio file"],
      [PDF, "pdf file"],
    ] as const) {
      const { record } = (await (await fetch(`${catalog.url}/api/object?key=${key}`)).json()) as {
        record: { thumbnailKey?: string };
      };
      if (record.thumbnailKey)
        await poll(() => card(key).locator("img").evaluate(loadedWidth)).toBeGreaterThan(0);
      else expect(await card(key).locator(`svg[aria-label='${placeholder}']`).count()).toBe(1);
    }

    // The JPEG's detail panel: EXIF, GPS as a map link, audit trail.
    await card(JPEG).click();
    await page.waitForSelector("[data-section='gps'] a");
    await page.locator("[data-section='exif']").scrollIntoViewIfNeeded();
    expect(page.url()).toContain(`key=${JPEG}`);
    expect(await page.textContent("[data-section='exif'] dd[data-field='make']")).toBe("NIKON");
    expect(await page.textContent("[data-section='exif'] dd[data-field='model']")).toBe("COOLPIX P6000");
    expect(await page.textContent("[data-section='image'] dd[data-field='width']")).toBe("640");
    const map = new URL((await page.getAttribute("[data-section='gps'] a", "href")) ?? "");
    expect(map.hostname).toBe("www.openstreetmap.org");
    expect(Number(map.searchParams.get("mlat"))).toBeCloseTo(43.467448, 5);
    expect(Number(map.searchParams.get("mlon"))).toBeCloseTo(11.885127, 5);
    expect(await page.textContent("[data-section='audit']")).toContain("ObjectCreated:Put");
    await page.screenshot({ path: join(ARTIFACTS, "dashboard-recent-detail.png") });

    // The MP3 shows the media section the API holds.
    await card(MP3).click();
    await page.waitForSelector("[data-section='media']");
    const mp3 = (await (await fetch(`${catalog.url}/api/object?key=${MP3}`)).json()) as {
      record: { media: { container: string; codecs: string[] } };
    };
    expect(await page.textContent("[data-section='media'] dd[data-field='container']")).toBe(
      mp3.record.media.container,
    );
    expect(await page.textContent("[data-section='media'] dd[data-field='codecs']")).toBe(
      mp3.record.media.codecs.join(", "),
    );

    // The corrupt file is shown with its status and reason, not hidden.
    await card(CORRUPT).click();
    await page.waitForSelector("[data-section='object'] dd[data-field='reason']");
    expect(await page.textContent("[data-section='object'] dd[data-field='status']")).toMatch(
      /partial|error/,
    );
    // Beside its wider badge, its size and time end in an ellipsis where the card runs out of room, not mid-word.
    const sizeAndTime = card(CORRUPT).locator(".sub .fit");
    const overflow = await sizeAndTime.evaluate((node) => {
      const view = globalThis as unknown as { getComputedStyle(node: unknown): { textOverflow: string } };
      return view.getComputedStyle(node).textOverflow;
    });
    expect(overflow).toBe("ellipsis");
    expect(await sizeAndTime.textContent()).toMatch(/^\S+ \S+ · \S/);

    // The hostile PDF: its title, author and name are literal text, and nothing ran.
    await card(HOSTILE_NAME).click();
    await page.waitForSelector("[data-section='pdf'] dd[data-field='title']");
    expect(await page.textContent("[data-section='pdf'] dd[data-field='title']")).toBe(HOSTILE);
    expect(await page.textContent("[data-section='pdf'] dd[data-field='author']")).toBe(HOSTILE);
    expect(await page.textContent("#detail-title")).toBe(HOSTILE_NAME);
    expect(await card(HOSTILE_NAME).locator(".name").textContent()).toBe(HOSTILE_NAME);
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    expect(await page.locator("#detail b, #content b").count()).toBe(0);
    await page.locator("[data-section='pdf']").scrollIntoViewIfNeeded();
    await page.waitForTimeout(300);
    await page.screenshot({ path: join(ARTIFACTS, "dashboard-hostile.png") });
    expect(incidents).toEqual([]);
  }, 90_000);

  it("opens a folder from a deep link, with breadcrumbs, and shows a thumbnail when the record has one", async () => {
    const s3 = catalog.stack.s3Client;
    const bucket = catalog.stack.bucket;
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: `photos/2026/${JPEG}`,
        Body: await readFile(corpusFile(JPEG)),
      }),
    );
    await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: "photos/2026/trip/notes.txt", Body: "day one\n" }),
    );
    await catalog.stack.dispatcher.idle();
    // A WebP under the derived prefix and its key on the record, as the thumbnail step writes them
    // (at a path of the test's own, so the image is known whether or not that step ran).
    const thumbnailKey = `_derived/fixtures/${JPEG}.webp`;
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: thumbnailKey,
        Body: await readFile(corpusFile("filetype-fixture.webp")),
        ContentType: "image/webp",
      }),
    );
    await writeThumbnailKey(catalog, `photos/2026/${JPEG}`, thumbnailKey);

    await page.goto(`${catalog.url}/?prefix=photos/2026/`);
    await poll(() => page.textContent("#view-title")).toBe("/photos/2026/");
    expect(await page.locator("#breadcrumbs a").allTextContents()).toEqual(["uploads", "photos"]);
    expect(await page.textContent("#breadcrumbs .current")).toBe("2026");
    await page.waitForSelector(`#content [data-folder="photos/2026/trip/"]`);
    const thumbnail = card(`photos/2026/${JPEG}`).locator("img");
    await poll(() => thumbnail.evaluate(loadedWidth)).toBeGreaterThan(0);
    const src = new URL((await thumbnail.getAttribute("src")) ?? "", catalog.url);
    expect(src.pathname).toBe("/api/thumbnail");
    expect(src.searchParams.get("key")).toBe(`photos/2026/${JPEG}`);
    await page.screenshot({ path: join(ARTIFACTS, "dashboard-folder.png") });

    await page.click(`#content [data-folder="photos/2026/trip/"]`);
    await poll(() => page.url()).toContain("prefix=photos%2F2026%2Ftrip%2F");
    await page.waitForSelector(`#content [data-key="photos/2026/trip/notes.txt"]`);
    await page.click("#breadcrumbs a:has-text('photos')");
    await poll(() => page.textContent("#view-title")).toBe("/photos/");
    expect(incidents).toEqual([]);
  }, 60_000);

  it("shows the new thumbnail of an image written again under its key, not the one it replaced", async () => {
    // Prepare: a red square, its thumbnail on screen.
    const key = "repainted/square.jpg";
    const square = (colour: string) =>
      sharp({ create: { width: 64, height: 64, channels: 3, background: colour } })
        .jpeg()
        .toBuffer();
    const write = async (colour: string) => {
      await putCataloged(catalog, key, await square(colour));
    };
    await write("#ff0000");
    await page.goto(`${catalog.url}/?prefix=repainted/`);
    const colour = (selector: string) => page.evaluate(`(${IMAGE_COLOUR})(${JSON.stringify(selector)})`);
    await poll(() => colour(`#content [data-key="${key}"] img`)).toBe("red");

    // Act: the same key, now a blue square; the live feed redraws the folder.
    await write("#0000ff");

    // Assess: the card and the record's panel show the blue thumbnail.
    await poll(() => colour(`#content [data-key="${key}"] img`)).toBe("blue");
    await card(key).click();
    await poll(() => colour("#detail .preview img")).toBe("blue");
    expect(incidents).toEqual([]);
  }, 60_000);

  it("draws each icon once per page and refers to it from every tile, a failed thumbnail showing its icon", async () => {
    // Prepare: two text files, a subfolder, and a photo whose record names a thumbnail missing from the bucket.
    const earlier = incidents.length;
    await putCataloged(catalog, "icons/a.txt", "a\n");
    await putCataloged(catalog, "icons/b.txt", "b\n");
    await putCataloged(catalog, "icons/inner/c.txt", "c\n");
    await putCataloged(catalog, "icons/photo.jpg", await readFile(corpusFile(JPEG)));
    const thumbnailKey = "_derived/fixtures/icons-photo.webp";
    await writeThumbnailKey(catalog, "icons/photo.jpg", thumbnailKey);

    // Act
    await page.goto(`${catalog.url}/?prefix=icons/`);
    await page.waitForSelector(`#content [data-folder="icons/inner/"]`);
    await poll(() => card("icons/photo.jpg").locator("svg[aria-label='image file']").count()).toBe(1);

    // Assess: each tile is an <svg> naming what it shows around a <use> of a symbol that draws something.
    const drawn = await page.evaluate(`[...document.querySelectorAll("#content .thumb")].map((thumb) => {
      const use = thumb.querySelector("svg > use");
      const symbol = document.querySelector(use?.getAttribute("href") ?? "none");
      return [thumb.querySelector("svg")?.getAttribute("aria-label"), thumb.querySelectorAll("*").length,
        symbol?.closest("svg")?.classList.contains("icon-sprite") ?? false, (use?.getBBox().width ?? 0) > 0];
    })`);
    expect(drawn).toEqual([
      ["folder", 2, true, true],
      ["text file", 2, true, true],
      ["text file", 2, true, true],
      ["image file", 2, true, true],
    ]);
    // One sprite, hidden from assistive technology, with one symbol for each icon shown; no id twice in the page.
    const sprite = page.locator("svg.icon-sprite");
    expect(await sprite.count()).toBe(1);
    expect(await sprite.getAttribute("aria-hidden")).toBe("true");
    expect(
      (await sprite.locator("symbol").evaluateAll((symbols) => symbols.map((symbol) => symbol.id))).sort(),
    ).toEqual(["icon-sprite-category-image", "icon-sprite-category-text", "icon-sprite-folder"]);
    const ids = await page.locator("[id]").evaluateAll((nodes) => nodes.map((node) => node.id));
    expect(new Set(ids).size).toBe(ids.length);
    // The missing thumbnail's 404 is the only thing the page reported; nothing else, a CSP refusal included.
    expect(incidents.slice(earlier).filter((incident) => !incident.includes("404 (Not Found)"))).toEqual([]);
    incidents.splice(earlier);
    // The thumbnail put in place, so the views of later tests that list the photo load it.
    await catalog.stack.s3Client.send(
      new PutObjectCommand({
        Bucket: catalog.stack.bucket,
        Key: thumbnailKey,
        Body: await readFile(corpusFile("filetype-fixture.webp")),
        ContentType: "image/webp",
      }),
    );
  }, 60_000);

  it("shows user metadata named like a property every object has (constructor)", async () => {
    // Prepare: x-amz-meta-constructor, which any uploader may send.
    const key = "named/meta.txt";
    await putCataloged(catalog, key, "hello\n", {
      metadata: { constructor: "made by hand", author: "someone" },
    });
    // Act
    await page.goto(`${catalog.url}/?${new URLSearchParams({ key })}`);
    // Assess: both fields, each under its own name.
    const section = page.locator("[data-section='user-metadata']");
    await poll(() => section.locator("dd[data-field='author']").textContent()).toBe("someone");
    expect(await section.locator("dt").allTextContents()).toEqual(["constructor", "author"]);
    expect(await section.locator("dd[data-field='constructor']").textContent()).toBe("made by hand");
    expect(incidents).toEqual([]);
  }, 60_000);

  it("shows where a video was recorded as a map link, as for a photo", async () => {
    const key = "videos/located.mov";
    await putCataloged(catalog, key, await readFile(corpusFile("tika-testMP4_QuickTimeMetadata.mov")));
    await page.goto(`${catalog.url}/?${new URLSearchParams({ prefix: "videos/", key })}`);
    const link = page.locator("[data-section='gps'] a#gps-link");
    await poll(() => link.textContent()).toBe("12.34560, -98.76540");
    expect(await link.getAttribute("href")).toContain("mlat=12.345600&mlon=-98.765400");
    expect(await page.textContent("[data-section='gps']")).toContain("10.5 m");
    expect(incidents).toEqual([]);
  }, 60_000);

  it("shows the device a video was recorded with, as a photo's camera, as text", async () => {
    // Prepare: the corpus movie exiftool reads Apple / MacBookPro11,3 from, and one whose make is markup.
    await putCataloged(catalog, "videos/device.mov", await readFile(corpusFile("filetype-fixture.mov")));
    await putCataloged(catalog, "videos/hostile-device.mov", movieMadeBy(HOSTILE, "iPhone 15 Pro"));
    const field = (name: string) => page.textContent(`[data-section='media'] dd[data-field='${name}']`);
    // Act
    await page.goto(
      `${catalog.url}/?${new URLSearchParams({ prefix: "videos/", key: "videos/device.mov" })}`,
    );
    // Assess
    await poll(() => field("make")).toBe("Apple");
    expect(await field("model")).toBe("MacBookPro11,3");
    await page.goto(
      `${catalog.url}/?${new URLSearchParams({ prefix: "videos/", key: "videos/hostile-device.mov" })}`,
    );
    await poll(() => field("make")).toBe(HOSTILE);
    expect(await field("model")).toBe("iPhone 15 Pro");
    expect(await page.locator("[data-section='media'] img").count()).toBe(0);
    expect(incidents).toEqual([]);
  }, 60_000);

  it("shows a document's subject and keywords beside its title, as text", async () => {
    // Prepare: a corpus docx exiftool reads "My subject" / "My Keyword" from, and an RTF whose subject is markup.
    await putCataloged(
      catalog,
      "documents/props.docx",
      await readFile(corpusFile("tika-testWORD_custom_props.docx")),
    );
    await putCataloged(
      catalog,
      "documents/hostile.rtf",
      `{\\rtf1\\ansi{\\info{\\title Notes}{\\subject ${HOSTILE}}{\\keywords ${HOSTILE}}}\\pard Body\\par}`,
    );
    const section = page.locator("[data-section='document']");
    const field = (name: string) => section.locator(`dd[data-field='${name}']`).textContent();
    // Act
    await page.goto(
      `${catalog.url}/?${new URLSearchParams({ prefix: "documents/", key: "documents/props.docx" })}`,
    );
    // Assess
    await poll(() => field("subject")).toBe("My subject");
    expect(await field("keywords")).toBe("My Keyword");
    expect(await section.locator("dt").allTextContents()).toEqual(
      expect.arrayContaining(["Title", "Subject", "Keywords"]),
    );
    await page.goto(
      `${catalog.url}/?${new URLSearchParams({ prefix: "documents/", key: "documents/hostile.rtf" })}`,
    );
    await poll(() => field("subject")).toBe(HOSTILE);
    expect(await field("keywords")).toBe(HOSTILE);
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    expect(incidents).toEqual([]);
  }, 60_000);

  it("shows what a font says about shipping it, its names as text and its licence's lines kept", async () => {
    // Prepare: a variable WOFF2 font whose vendor is markup and whose licence runs to several lines.
    const license = "Licensed under the Open Font License.\nNo warranty.\nSee the licence URL.";
    const font = woff2({
      name: windowsNames({
        1: "Brand Sans",
        2: "Regular",
        8: HOSTILE,
        9: "A. Designer",
        13: license,
        14: "https://example.com/ofl",
      }),
      "OS/2": os2Table(0x0104, "NOBD"),
      maxp: maxpTable(1234),
      fvar: fvarTable([{ tag: "wght", min: 100, default: 400, max: 900 }], 9),
    });
    const key = "fonts/Brand Sans.woff2";
    await putCataloged(catalog, key, font);
    const field = (name: string) => page.locator(`[data-section='font'] dd[data-field='${name}']`);
    // Act
    await page.goto(`${catalog.url}/?${new URLSearchParams({ prefix: "fonts/", key })}`);
    // Assess
    await poll(() => field("family").textContent()).toBe("Brand Sans");
    expect(await field("vendor").textContent()).toBe(HOSTILE);
    expect(await page.locator("[data-section='font'] img").count()).toBe(0);
    expect(await field("designer").textContent()).toBe("A. Designer");
    expect(await field("vendorId").textContent()).toBe("NOBD");
    expect(await field("licenseUrl").textContent()).toBe("https://example.com/ofl");
    // biome-ignore lint/performance/useDomNodeTextContent: the text as laid out, whose line breaks are what is tested
    expect(await field("license").innerText()).toBe(license);
    expect(await field("embedding").textContent()).toBe("Preview & print, no subsetting (fsType 0x0104)");
    expect(await field("glyphs").textContent()).toBe("1,234");
    expect(await field("axes").locator("li").allTextContents()).toEqual(["wght 100 to 900, default 400"]);
    expect(await field("instances").textContent()).toBe("9");
    expect(await page.locator("[data-section='font'] dt").allTextContents()).toEqual([
      "Family",
      "Style",
      "Designer",
      "Vendor",
      "Vendor ID",
      "Licence",
      "Licence URL",
      "Embedding",
      "Glyphs",
      "Axes",
      "Named instances",
    ]);
    expect(incidents).toEqual([]);
  }, 60_000);

  it("shows a video's frame rate rounded, with its unit", async () => {
    // Prepare: a Matroska file whose frame rate the extractor works out as 23.809523809523810.
    const key = "videos/filetype-fixture.mkv";
    await putCataloged(catalog, key, await readFile(corpusFile("filetype-fixture.mkv")));
    // Act
    await page.goto(`${catalog.url}/?${new URLSearchParams({ prefix: "videos/", key })}`);
    // Assess
    await poll(() => page.textContent("[data-section='media'] dd[data-field='frameRate']")).toBe("23.81 fps");
    expect(incidents).toEqual([]);
  }, 60_000);

  it.each([
    ["4/5", "0.8 s"],
    ["2/5", "0.4 s"],
    ["1/250", "1/250 s"],
    ["1/3", "1/3 s"],
    ["30/1", "30 s"],
  ])(
    "shows an exposure time of %s s as %s",
    async (exposure, shown) => {
      // Prepare: a photo whose EXIF states that exposure time.
      const key = `exposures/${exposure.replace("/", " over ")}.jpg`;
      const photo = await sharp({ create: { width: 32, height: 32, channels: 3, background: "#888888" } })
        .jpeg()
        .withExif({ IFD0: { Make: "Test" }, IFD2: { ExposureTime: exposure } })
        .toBuffer();
      await putCataloged(catalog, key, photo);
      // Act
      await page.goto(`${catalog.url}/?${new URLSearchParams({ prefix: "exposures/", key })}`);
      // Assess
      await poll(() => page.textContent("[data-section='exif'] dd[data-field='exposureTime']")).toBe(shown);
    },
    60_000,
  );

  it("draws the statistics charts, the problems and duplicates views", async () => {
    await page.goto(`${catalog.url}/?view=stats`);
    await page.waitForSelector("#chart-count svg rect");
    const categories = await page.locator("#chart-count svg text:not(.value)").allTextContents();
    expect(categories).toEqual(expect.arrayContaining(["image", "pdf", "audio"]));
    // The default window is the last 7 days: one bar per day.
    expect(await page.locator("#chart-days svg rect").count()).toBe(7);
    await page.screenshot({ path: join(ARTIFACTS, "dashboard-stats.png") });
    // "today" in the Time filter is one day, as the other views read it, not a week.
    await page.goto(`${catalog.url}/?view=stats&days=1`);
    await poll(() => page.textContent("#view-note")).toMatch(/^Uploads today, /);
    await poll(() => page.locator("#chart-days svg rect").count()).toBe(1);

    await page.goto(`${catalog.url}/?view=duplicates`);
    await page.waitForSelector("#content .group");
    expect(await page.textContent("#content .group")).toContain(`photos/2026/${JPEG}`);

    await page.goto(`${catalog.url}/?view=problems`);
    await poll(() => page.textContent("#view-title")).toBe("Problems");
    expect(incidents).toEqual([]);
  }, 60_000);

  it("does not count a duplicate group of more copies than it lists as only those listed", async () => {
    // Prepare: one content held by 25 objects, more than a group lists.
    const sha256 = "c".repeat(64);
    const eventTime = new Date().toISOString();
    await Promise.all(
      Array.from({ length: 25 }, (_, index) =>
        catalog.stack.store.putRecord(
          testRecord({
            bucket: catalog.stack.bucket,
            key: `many-copies/copy ${String(index).padStart(2, "0")}.txt`,
            eventTime,
            sha256,
          }),
        ),
      ),
    );
    // Act
    await page.goto(`${catalog.url}/?view=duplicates`);
    // Assess: the group's heading does not claim the 20 listed are all there are.
    const group = page.locator("#content .group", { hasText: `sha256 ${sha256}` });
    await poll(() => group.count()).toBe(1);
    expect(await group.locator("li").count()).toBe(20);
    expect(await group.locator("h2").textContent()).toMatch(/^More than 20 copies \(the first 20 listed\)/);
    expect(incidents).toEqual([]);
  }, 60_000);

  it("pages duplicate groups past the first hundred, the newest first, so none is left out", async () => {
    // Prepare: 110 contents held by two objects each, the last one the newest group of all.
    const sha = (index: number) => index.toString(16).padStart(64, "d");
    for (let start = 0; start < 110; start += 25)
      await Promise.all(
        Array.from({ length: 25 }, (_, offset) => start + offset).flatMap((index) =>
          ["a", "b"].map((copy) =>
            catalog.stack.store.putRecord(
              testRecord({
                bucket: catalog.stack.bucket,
                key: `paged-duplicates/${index} ${copy}.txt`,
                eventTime: new Date().toISOString(),
                sha256: sha(index),
              }),
            ),
          ),
        ),
      );
    const newest = page.locator("#content .group", { hasText: `sha256 ${sha(109)}` });
    await page.goto(`${catalog.url}/?view=duplicates`);
    await poll(() => page.locator("#content .group").count()).toBe(100);
    expect(await newest.count()).toBe(1);

    // Act: the button that shows the next groups, from the keyboard.
    await page.focus("#more");
    await page.keyboard.press("Enter");

    // Assess: every group once, the oldest included; focus on the first group just shown.
    await poll(() => page.locator("#more").count()).toBe(0);
    expect(await newest.count()).toBe(1);
    const shown = await page.locator("#content .group .mono").allTextContents();
    expect(new Set(shown).size).toBe(shown.length);
    for (let index = 0; index < 110; index++) expect(shown).toContain(`sha256 ${sha(index)}`);
    expect(
      await page.evaluate(
        "document.activeElement.closest('.group') === document.querySelectorAll('#content .group')[100]",
      ),
    ).toBe(true);
    expect(incidents).toEqual([]);
  }, 90_000);

  it("pages a folder of more than one page with a button a keyboard reaches", async () => {
    // Prepare: 1,100 records in one folder, written to the catalog directly (the pipeline is not under test here).
    const total = 1_100;
    await putRecordsNow(
      Array.from({ length: total }, (_, index) => `many/file ${String(index).padStart(4, "0")}+%.txt`),
    );
    await page.goto(`${catalog.url}/?prefix=many/`);
    await poll(() => page.locator("#content [data-key]").count()).toBe(500);

    // Act: the first "more" by mouse, the second by keyboard.
    await page.click("#more");
    await poll(() => page.locator("#content [data-key]").count()).toBe(1_000);
    await page.focus("#more");
    await page.keyboard.press("Enter");

    // Assess: every record once, in key order, and no button once the listing is done.
    await poll(() => page.locator("#more").count()).toBe(0);
    const keys = await shownKeys();
    expect(keys).toHaveLength(total);
    expect(new Set(keys).size).toBe(total);
    expect(keys[total - 1]).toBe("many/file 1099+%.txt");
    expect(await page.textContent("#view-note")).toBe("0 folders, 1100 objects.");
    // The summary is announced on change; the thousand cards are not (the region holding them is not live).
    expect(await page.getByRole("status").filter({ hasText: "1100 objects" }).count()).toBe(1);
    expect(await page.locator("#main[aria-live], #content[aria-live]").count()).toBe(0);
    expect(incidents).toEqual([]);
  }, 120_000);

  it("pages Recent past its first 200, uploads of one instant included, each once", async () => {
    // Prepare: 230 fonts stamped with one instant, as a backfill stamps a burst; the 200th and 201st tie.
    const total = 230;
    await putRecordsNow(
      Array.from({ length: total }, (_, index) => `recent-fonts/face ${String(index).padStart(3, "0")}.ttf`),
      { extraction: testExtraction({ format: testFormat("font/ttf", "ttf", "font") }) },
    );
    await page.goto(`${catalog.url}/?view=recent&category=font`);
    await poll(() => page.locator("#content [data-key]").count()).toBe(200);
    expect(await page.textContent("#view-note")).toBe(
      "Newest font files across all folders, last 7 days: the 200 newest so far, more below.",
    );

    // Act
    await page.click("#more");

    // Assess: all 230 once, and neither the button nor "so far" once the listing is done.
    await poll(() => page.locator("#more").count()).toBe(0);
    const keys = await shownKeys();
    // Other tests' fonts are listed too, older than these.
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys.slice(0, total).filter((key) => key.startsWith("recent-fonts/"))).toHaveLength(total);
    expect(await page.textContent("#view-note")).toBe("Newest font files across all folders, last 7 days.");
    expect(incidents).toEqual([]);
  }, 90_000);

  it("names its toolbar as a landmark and every column header, and skips no heading level", async () => {
    await open("/?view=browse&prefix=photos/2026/trip/");
    await page.click("#layout-list");
    await page.waitForSelector("#content table.list thead th");
    expect(await page.getByRole("region", { name: "Folder and filters" }).count()).toBe(1);
    const headers = await page.locator("#content table.list thead th").allTextContents();
    expect(
      headers.every((text) => text.trim() !== ""),
      headers.join("|"),
    ).toBe(true);
    await page.click("#layout-grid");
    /** Heading levels of the main view, in document order. */
    const levels = () =>
      page
        .locator("main h1, main h2, main h3, main h4")
        .evaluateAll((nodes) => nodes.map((node) => Number(node.tagName[1])));
    for (const view of ["stats", "duplicates"]) {
      await page.goto(`${catalog.url}/?view=${view}`);
      await page.waitForSelector("main h2");
      const seen = await levels();
      expect(seen[0]).toBe(1);
      expect(
        seen.every((level, index) => index === 0 || level <= (seen[index - 1] as number) + 1),
        seen.join(","),
      ).toBe(true);
    }
    expect(incidents).toEqual([]);
  }, 60_000);

  it("is usable from the keyboard: upload, list rows and problem rows are reachable", async () => {
    // The upload control is in the tab order.
    await page.goto(`${catalog.url}/?view=browse`);
    await poll(() => page.textContent("#view-title")).toBe("Bucket root");
    const reached: string[] = [];
    for (let step = 0; step < 15; step++) {
      await page.keyboard.press("Tab");
      reached.push(await page.evaluate("document.activeElement?.id ?? ''"));
    }
    expect(reached).toContain("file-input");

    // In the list layout an object opens from the keyboard.
    await page.click("#layout-list");
    await page.goto(`${catalog.url}/?prefix=photos/2026/trip/`);
    const row = page.locator(`#content tr[data-key="photos/2026/trip/notes.txt"] a`);
    await row.focus();
    await page.keyboard.press("Enter");
    await poll(() => page.url()).toContain("key=photos%2F2026%2Ftrip%2Fnotes.txt");
    await page.waitForSelector("#detail:not([hidden]) [data-section='object']");
    await page.click("#layout-grid");

    // A problem row holds a link too.
    await catalog.stack.store.putRecord(
      testRecord({
        bucket: catalog.stack.bucket,
        key: "broken/file.bin",
        eventTime: new Date().toISOString(),
        status: "error",
        reasons: ["unreadable"],
      }),
    );
    await page.goto(`${catalog.url}/?view=problems`);
    await poll(() => page.locator("#content tr[data-key]").count()).toBeGreaterThan(0);
    expect(await page.locator("#content tr[data-key] a").count()).toBe(
      await page.locator("#content tr[data-key]").count(),
    );
    expect(incidents).toEqual([]);
  }, 60_000);

  it("closes the detail panel with Escape or its close button and returns focus to what opened it", async () => {
    await putRecords("escape/", 3);
    const first = "escape/file 0000.txt";
    const second = "escape/file 0001.txt";
    await page.goto(`${catalog.url}/?prefix=escape/`);
    await poll(() => card(first).count()).toBe(1);

    // Grid: a card opened with Enter moves focus into the panel; Escape closes it and focus is back on the card.
    await card(first).focus();
    await page.keyboard.press("Enter");
    await page.waitForSelector("#detail:not([hidden]) [data-section='object']");
    expect(await page.evaluate(FOCUSED)).toBe("detail-title");
    await page.keyboard.press("Escape");
    await poll(() => page.locator("#detail").isHidden()).toBe(true);
    expect(page.url()).not.toContain("key=");
    expect(await page.evaluate(FOCUSED)).toBe(first);
    expect(await card(first).getAttribute("class")).not.toContain("selected");

    // The close button, reached by Tab from the panel's heading, does the same.
    await card(second).focus();
    await page.keyboard.press("Enter");
    await page.waitForSelector("#detail:not([hidden]) [data-section='object']");
    await page.keyboard.press("Tab");
    expect(await page.evaluate(FOCUSED)).toBe("detail-close");
    await page.keyboard.press("Enter");
    await poll(() => page.locator("#detail").isHidden()).toBe(true);
    expect(await page.evaluate(FOCUSED)).toBe(second);

    // List: the row's link opened it, and gets focus back.
    await page.click("#layout-list");
    const link = page.locator(`#content tr[data-key="${first}"] a`);
    await link.focus();
    await page.keyboard.press("Enter");
    await page.waitForSelector("#detail:not([hidden]) [data-section='object']");
    await page.keyboard.press("Escape");
    await poll(() => page.locator("#detail").isHidden()).toBe(true);
    expect(await page.evaluate("document.activeElement?.tagName")).toBe("A");
    expect(await page.evaluate(FOCUSED)).toBe(first);
    await page.click("#layout-grid");
    expect(incidents).toEqual([]);
  }, 60_000);

  it("keeps the pages loaded with Show more, and focus, when a live update refreshes the folder", async () => {
    // Prepare: a folder of more than two pages, two of them loaded, focus on an entry of the second.
    await putRecords("live-paged/", 1_050);
    await page.goto(`${catalog.url}/?prefix=live-paged/`);
    await poll(() => page.locator("#content [data-key]").count()).toBe(500);
    await page.click("#more");
    await poll(() => page.locator("#content [data-key]").count()).toBe(1_000);
    await card("live-paged/file 0900.txt").focus();
    await poll(() => page.textContent("#live")).toBe("live");

    // Act: an upload that sorts into the first page, announced by the live feed.
    const added = "live-paged/file 0000a.txt";
    await putCataloged(catalog, added, "new\n");

    // Assess: the new record in its place, everything loaded before still there once, focus kept.
    await poll(() => card(added).count()).toBe(1);
    const refreshed = await shownKeys();
    expect(new Set(refreshed).size).toBe(refreshed.length);
    expect(refreshed.slice(0, 3)).toEqual(["live-paged/file 0000.txt", added, "live-paged/file 0001.txt"]);
    // Everything loaded before, and at most a short top-up past it, with more still to show.
    expect(refreshed).toContain("live-paged/file 0999.txt");
    expect(refreshed.length).toBeLessThanOrEqual(1_001 + 25);
    expect(await page.locator("#more").count()).toBe(1);
    expect(await page.evaluate(FOCUSED)).toBe("live-paged/file 0900.txt");

    // The cursor goes on from the end of the loaded range: the rest once, nothing twice.
    await page.click("#more");
    await poll(() => page.locator("#more").count()).toBe(0);
    const all = await shownKeys();
    expect(all).toHaveLength(1_051);
    expect(new Set(all).size).toBe(1_051);
    expect(incidents).toEqual([]);
  }, 120_000);

  it("adds the page Show more reads to the entries drawn, leaving those as they are", async () => {
    // Prepare: the first page of the folder written above (1,051 records), its first entry held on to.
    await page.goto(`${catalog.url}/?prefix=live-paged/`);
    await poll(() => page.locator("#content [data-key]").count()).toBe(500);
    await page.evaluate("window.firstEntry = document.querySelector('#content [data-key]')");

    // Act
    await page.click("#more");
    await poll(() => page.locator("#content [data-key]").count()).toBe(1_000);

    // Assess: the entry drawn first is the same element, not one drawn again; focus on the first one added.
    expect(await page.evaluate("document.querySelector('#content [data-key]') === window.firstEntry")).toBe(
      true,
    );
    expect(
      await page.evaluate(
        "document.activeElement.closest('[data-key]') === document.querySelectorAll('#content [data-key]')[500]",
      ),
    ).toBe(true);
    expect(await page.textContent("#view-note")).toContain("1000 objects so far");
    expect(incidents).toEqual([]);
  }, 60_000);

  it("reads the folder again for no upload past the names loaded, and for one among them", async () => {
    // Prepare: the first page of the folder written above, its requests to the folder listing counted.
    const reads: string[] = [];
    page.on("request", (request) => {
      if (new URL(request.url()).pathname === "/api/folder") reads.push(request.url());
    });
    await page.goto(`${catalog.url}/?prefix=live-paged/`);
    await poll(() => page.locator("#content [data-key]").count()).toBe(500);
    await poll(() => page.textContent("#live")).toBe("live");
    reads.length = 0;

    // Act: an upload whose name sorts after the 500 loaded, announced by the live feed.
    await putCataloged(catalog, "live-paged/zz past the loaded names.txt", "later\n");
    await poll(() => page.textContent("#toast")).toContain("zz past the loaded names.txt");
    // Longer than the pause a burst of announcements is given before a refresh.
    await page.waitForTimeout(1_000);

    // Assess: nothing read again; "Show more" will read it in its place.
    expect(reads).toEqual([]);
    expect(await page.locator("#content [data-key]").count()).toBe(500);

    // An upload among the names loaded is shown in its place, as before.
    await putCataloged(catalog, "live-paged/file 0000b.txt", "new\n");
    await poll(() => card("live-paged/file 0000b.txt").count()).toBe(1);
    expect(reads.length).toBeGreaterThan(0);
    expect(incidents).toEqual([]);
  }, 60_000);

  it("brings a listing back with Back as it was left: the pages loaded, the scroll, the cursor after them", async () => {
    // Prepare: two of the three pages of the folder written above loaded, scrolled down, a record of the second open.
    const shown = "many/file 0900+%.txt";
    await page.goto(`${catalog.url}/?prefix=many/`);
    await poll(() => page.locator("#content [data-key]").count()).toBe(500);
    await page.click("#more");
    await poll(() => page.locator("#content [data-key]").count()).toBe(1_000);
    await card(shown).click();
    await poll(() => page.textContent("#detail-title")).toBe("file 0900+%.txt");
    const scroll = Number(await page.evaluate("window.scrollY"));
    expect(scroll).toBeGreaterThan(1_000);

    // Act: another view, then Back to the listing with the record open.
    await page.click("#tab-problems");
    await poll(() => page.textContent("#view-title")).toBe("Problems");
    await page.goBack();

    // Assess: both pages read again, in order, scrolled as they were, the record open on them.
    await poll(() => page.locator("#content [data-key]").count()).toBe(1_000);
    expect(await page.textContent("#view-title")).toBe("/many/");
    expect((await shownKeys()).at(-1)).toBe("many/file 0999+%.txt");
    expect(await page.evaluate("window.scrollY")).toBe(scroll);
    await poll(() => page.textContent("#detail-title")).toBe("file 0900+%.txt");

    // Back past the entry that opened the record closes it and keeps the listing as it is.
    await page.goBack();
    await poll(() => page.locator("#detail").isHidden()).toBe(true);
    expect(await page.locator("#content [data-key]").count()).toBe(1_000);

    // "Show more" goes on after the last item loaded: the rest once, nothing twice.
    await page.click("#more");
    await poll(() => page.locator("#more").count()).toBe(0);
    const all = await shownKeys();
    expect(all).toHaveLength(1_100);
    expect(new Set(all).size).toBe(1_100);

    // A click on a tab is a fresh start: the folder from its first page.
    await page.click("#tab-problems");
    await poll(() => page.textContent("#view-title")).toBe("Problems");
    await page.click("#tab-browse");
    await poll(() => page.textContent("#view-title")).toBe("/many/");
    await poll(() => page.locator("#content [data-key]").count()).toBe(500);
    expect(await page.locator("#more").count()).toBe(1);
    expect(incidents).toEqual([]);
  }, 120_000);

  it("brings Duplicates back with Back as it was left: the groups loaded past the first hundred, read again, and the scroll", async () => {
    // Prepare: every group loaded (more than a hundred, written above), scrolled down into the second page.
    const groups = page.locator("#content .group");
    const hashes = () => page.locator("#content .group .mono").allTextContents();
    await page.goto(`${catalog.url}/?view=duplicates`);
    await page.waitForSelector("#more");
    const firstPage = await groups.count();
    await page.click("#more");
    await poll(() => page.locator("#more").count()).toBe(0);
    const loaded = await hashes();
    expect(loaded.length).toBeGreaterThan(firstPage);
    const below = groups.nth(firstPage + 5);
    await below.scrollIntoViewIfNeeded();
    const scroll = Number(await page.evaluate("window.scrollY"));
    expect(scroll).toBeGreaterThan(1_000);
    const sha256 = (loaded[firstPage + 5] ?? "").replace(/^sha256 /, "");
    expect(await below.locator("h2").textContent()).toMatch(/^2 copies/);

    // Act: another view, a third copy of that content written meanwhile (not announced), then Back.
    await page.click("#tab-problems");
    await poll(() => page.textContent("#view-title")).toBe("Problems");
    await catalog.stack.store.putRecord(
      testRecord({
        bucket: catalog.stack.bucket,
        key: "back-duplicates/third copy.txt",
        eventTime: new Date().toISOString(),
        sha256,
      }),
    );
    await page.goBack();

    // Assess: every group loaded before, in order, as the catalog has it now, scrolled as it was.
    await poll(() => groups.count()).toBe(loaded.length);
    expect(await hashes()).toEqual(loaded);
    expect(await page.locator("#more").count()).toBe(0);
    expect(await page.evaluate("window.scrollY")).toBe(scroll);
    const changed = groups.filter({ hasText: `sha256 ${sha256}` });
    expect(await changed.locator("h2").textContent()).toMatch(/^3 copies/);

    // A click on the tab is a fresh start: the first page, with the button for the rest.
    await page.click("#tab-problems");
    await poll(() => page.textContent("#view-title")).toBe("Problems");
    await page.click("#tab-duplicates");
    await poll(() => page.locator("#more").count()).toBe(1);
    expect(await groups.count()).toBe(firstPage);
    expect(incidents).toEqual([]);
  }, 120_000);

  it("keeps the duplicate groups loaded with Show more, and the scroll, when a live record arrives", async () => {
    // Prepare: every group loaded, scrolled down into the second page.
    const groups = page.locator("#content .group");
    const hashes = () => page.locator("#content .group .mono").allTextContents();
    await page.goto(`${catalog.url}/?view=duplicates`);
    await page.waitForSelector("#more");
    const firstPage = await groups.count();
    await page.click("#more");
    await poll(() => page.locator("#more").count()).toBe(0);
    const loaded = await hashes();
    await groups.nth(firstPage + 5).scrollIntoViewIfNeeded();
    const scroll = Number(await page.evaluate("window.scrollY"));
    await poll(() => page.textContent("#live")).toBe("live");

    // Act: two uploads of one new content, each announced by the live feed: the newest group of all.
    const body = `live duplicate ${Date.now()}\n`;
    const sha256 = createHash("sha256").update(body).digest("hex");
    await putCataloged(catalog, "live-duplicates/a.txt", body);
    await putCataloged(catalog, "live-duplicates/b.txt", body);

    // Assess: the new group first, before every group loaded before, each once; the scroll kept.
    await poll(() => groups.filter({ hasText: `sha256 ${sha256}` }).count()).toBe(1);
    expect(await hashes()).toEqual([`sha256 ${sha256}`, ...loaded]);
    expect(await page.locator("#more").count()).toBe(0);
    expect(await page.evaluate("window.scrollY")).toBe(scroll);
    expect(incidents).toEqual([]);
  }, 120_000);

  it("reloads the view when the live stream says it dropped announcements (resync)", async () => {
    await putRecords("resync/", 1);
    await page.goto(`${catalog.url}/?prefix=resync/`);
    await poll(() => card("resync/file 0000.txt").count()).toBe(1);
    await poll(() => page.textContent("#live")).toBe("live");

    // Act: a record the feed does not announce, then a burst elsewhere larger than the server holds
    // for one client at once, so the page gets a resync instead of the burst.
    await putRecords("resync/", 1, 1);
    for (let index = 0; index < 40; index++)
      catalog.feed.emit("record", {
        kind: "created",
        bucket: catalog.stack.bucket,
        key: `elsewhere/${index}-${"x".repeat(4_000)}`,
        eventTime: new Date().toISOString(),
        delivered: true,
      });

    // Assess: only a reload can show the unannounced record.
    await poll(() => card("resync/file 0001.txt").count()).toBe(1);
    expect(incidents).toEqual([]);
  }, 60_000);

  it("says an event that went to the dead-letter file was not cataloged, rather than 'Cataloged'", async () => {
    await page.goto(`${catalog.url}/?prefix=parked/`);
    await poll(() => page.textContent("#live")).toBe("live");
    // Act: the dispatcher gave up on an event and parked it.
    catalog.feed.emit("record", {
      kind: "created",
      bucket: catalog.stack.bucket,
      key: "parked/report.pdf",
      eventTime: new Date().toISOString(),
      delivered: false,
      error: "catalog record write failed",
    });
    // Assess
    await poll(() => page.textContent("#toast")).toBe(
      "Not cataloged (kept in the dead-letter file): parked/report.pdf",
    );
    expect(incidents).toEqual([]);
  }, 60_000);

  it("reads the view again when the live stream opens only after the view was drawn", async () => {
    await putRecords("late-stream/", 1);
    // Hold the stream's request, so the page draws its view without it.
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    await page.route("**/api/events", async (route) => {
      await held;
      await route.continue();
    });
    try {
      await page.goto(`${catalog.url}/?prefix=late-stream/`);
      await poll(() => card("late-stream/file 0000.txt").count()).toBe(1);
      expect(await page.textContent("#live")).not.toBe("live");

      // Act: a record written while no stream listens (so announced to no one), then the stream opens.
      await putRecords("late-stream/", 1, 1);
      release();

      // Assess: only a reload once the stream is open can show it.
      await poll(() => page.textContent("#live")).toBe("live");
      await poll(() => card("late-stream/file 0001.txt").count()).toBe(1);
    } finally {
      release();
      await page.unroute("**/api/events");
    }
    expect(incidents).toEqual([]);
  }, 60_000);

  it("reconnects after the server closes the live stream, and reloads the view", async () => {
    await putRecords("reconnect/", 1);
    await page.goto(`${catalog.url}/?prefix=reconnect/`);
    await poll(() => card("reconnect/file 0000.txt").count()).toBe(1);
    await poll(() => page.textContent("#live")).toBe("live");

    // Act: the server drops every connection, the stream's among them, as it drops a stream that
    // stopped taking writes; then a record is written and announced while the page is away.
    catalog.http?.closeAllConnections();
    await putRecords("reconnect/", 1, 1);
    catalog.feed.emit("record", {
      kind: "created",
      bucket: catalog.stack.bucket,
      key: "reconnect/file 0001.txt",
      eventTime: new Date().toISOString(),
      delivered: true,
    });

    // Assess: the page reconnects by itself, and only a reload can show the unannounced record.
    await poll(() => card("reconnect/file 0001.txt").count()).toBe(1);
    await poll(() => page.textContent("#live")).toBe("live");
    // Then live announcements reach it again.
    const added = "reconnect/after.txt";
    await putCataloged(catalog, added, "after\n");
    await poll(() => card(added).count()).toBe(1);
  }, 60_000);

  it("keeps the view as it is when its stream ends after its lifetime and comes back having missed nothing", async () => {
    // Prepare: a catalog whose streams end after a short lifetime, and a folder view of it.
    const short = await startLocalCatalog({ listen: true, live: { maxStreamMs: 1_500 } });
    // The test before cuts connections, which the page reports: only what happens here counts.
    const earlier = incidents.length;
    const reads: string[] = [];
    const streams: string[] = [];
    const seen = (request: { url(): string }) => {
      if (request.url().includes("/api/folder")) reads.push(request.url());
      if (request.url().includes("/api/events")) streams.push(request.url());
    };
    page.on("request", seen);
    try {
      await putRecords("resume/", 1, 0, short);
      await page.goto(`${short.url}/?prefix=resume/`);
      await poll(() => card("resume/file 0000.txt").count()).toBe(1);
      await poll(() => page.textContent("#live")).toBe("live");
      expect(reads).toHaveLength(1);

      // Act: the stream ends twice and the page reconnects, while nothing is announced.
      await poll(() => streams.length).toBeGreaterThanOrEqual(3);
      await poll(() => page.textContent("#live")).toBe("live");
      await page.waitForTimeout(500);

      // Assess: nothing was read again (a needless reload would drop what "Show more" loaded).
      expect(reads).toHaveLength(1);

      // An announcement made while the page is between two streams (none listens) is not lost:
      // the next stream says so, and the view reloads.
      const routeListeners = short.feed.listenerCount("record") - 1;
      const deadline = Date.now() + 10_000;
      while (short.feed.listenerCount("record") > routeListeners && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 1));
      short.feed.emit("record", {
        kind: "created",
        bucket: short.stack.bucket,
        key: "elsewhere/while-away.txt",
        eventTime: new Date().toISOString(),
        delivered: true,
      });
      await poll(() => reads.length).toBeGreaterThan(1);
    } finally {
      page.off("request", seen);
      await page.goto("about:blank");
      await short.close();
    }
    expect(incidents.slice(earlier)).toEqual([]);
  }, 60_000);

  it("keeps text readable: at least 4.5:1 contrast for the text of every view", async () => {
    const worst: string[] = [];
    for (const path of ["/?prefix=photos/2026/", "/?view=problems", "/?view=stats"]) {
      await page.goto(`${catalog.url}${path}`);
      await page.waitForSelector("#content > *");
      worst.push(...((await page.evaluate(LOW_CONTRAST)) as string[]));
    }
    expect(worst).toEqual([]);
  }, 60_000);

  it("shows bidirectional override characters in a key instead of letting them reorder it", async () => {
    const key = "bidi/invoice\u202Efdp.exe";
    await putCataloged(catalog, key, "not a pdf");
    await page.goto(`${catalog.url}/?prefix=bidi/`);
    const name = await card(key).locator(".name").textContent();
    expect(name).not.toContain("\u202E");
    expect(name).toContain("U+202E");
    await card(key).click();
    await poll(() => page.textContent("#detail-title")).toContain("U+202E");
    expect(await page.textContent("[data-section='object'] dd[data-field='key']")).toContain("U+202E");
  }, 60_000);

  it("shows control characters in a key by name, so two keys never look the same", async () => {
    const key = "controls/bell\u0007\u001b.txt";
    await putCataloged(catalog, key, "text");
    await page.goto(`${catalog.url}/?prefix=controls/`);
    const name = await card(key).locator(".name").textContent();
    expect(name).toBe("bell⟨U+0007⟩⟨U+001B⟩.txt");
    await card(key).click();
    await poll(() => page.textContent("[data-section='object'] dd[data-field='key']")).toBe(
      "controls/bell⟨U+0007⟩⟨U+001B⟩.txt",
    );
  }, 60_000);

  it("names tabs and line breaks in a key, so it never looks like the key with a space", async () => {
    // Prepare: three keys that a page drawing whitespace as space would show alike.
    const earlier = incidents.length;
    const keys = ["breaks/a b.txt", "breaks/a\tb.txt", "breaks/a\nb.txt"];
    for (const key of keys) await putCataloged(catalog, key, key);
    // Act
    await page.goto(`${catalog.url}/?prefix=breaks/`);
    // Assess: each card, and the record's panel, reads differently.
    const shown = () =>
      page.evaluate(
        `Object.fromEntries([...document.querySelectorAll("#content [data-key]")].map((node) => [node.dataset.key, node.querySelector(".name").innerText]))`,
      ) as Promise<Record<string, string>>;
    await poll(async () => {
      const names = await shown();
      return keys.map((key) => names[key]);
    }).toEqual(["a b.txt", "a⟨U+0009⟩b.txt", "a⟨U+000A⟩b.txt"]);
    await page.locator("#content [data-key]", { hasText: "a⟨U+000A⟩b.txt" }).click();
    await poll(() => page.textContent("[data-section='object'] dd[data-field='key']")).toBe(
      "breaks/a⟨U+000A⟩b.txt",
    );
    expect(await page.textContent("#detail-title")).toBe("a⟨U+000A⟩b.txt");
    expect(incidents.slice(earlier)).toEqual([]);
  }, 60_000);

  it("names an empty folder name (a//b) in cards and breadcrumbs, and browses into it", async () => {
    const key = "gaps//inner.txt";
    await putCataloged(catalog, key, "between two slashes");
    await page.goto(`${catalog.url}/?prefix=gaps/`);
    const folder = page.locator(`#content [data-folder="gaps//"]`);
    expect(await folder.locator(".name").textContent()).toBe("(no name)");
    await folder.click();
    await page.waitForSelector(`#content [data-key="${key}"]`);
    expect(await page.locator("#breadcrumbs a").allTextContents()).toEqual(["uploads", "gaps"]);
    expect(await page.textContent("#breadcrumbs .current")).toBe("(no name)");
    await page.click("#breadcrumbs a:has-text('gaps')");
    await page.waitForSelector(`#content [data-folder="gaps//"]`);
  }, 60_000);

  it("shows a folder a console's Create folder made as a folder, empty or not, in Browse and in Recent", async () => {
    // Prepare: folder markers as the S3 console makes them, empty objects whose keys end in '/'.
    const earlier = incidents.length;
    await putCataloged(catalog, "made/", "");
    await putCataloged(catalog, "made/inner/", "");

    // Browse: each folder where S3 lists it; the marker is no file in its own folder; the empty one opens empty.
    await page.goto(`${catalog.url}/?view=browse`);
    await page.click(`#content [data-folder="made/"]`);
    await page.waitForSelector(`#content [data-folder="made/inner/"]`);
    expect(await page.locator("#content [data-key]").count()).toBe(0);
    await page.click(`#content [data-folder="made/inner/"]`);
    await poll(() => page.textContent("#view-note")).toBe("0 folders, 0 objects.");
    expect(await page.textContent("#breadcrumbs .current")).toBe("inner");

    // A folder made while its parent is shown appears there, as any new folder does.
    await page.goto(`${catalog.url}/?prefix=made/`);
    await page.waitForSelector(`#content [data-folder="made/inner/"]`);
    await putCataloged(catalog, "made/later/", "");
    await page.waitForSelector(`#content [data-folder="made/later/"]`);

    // Recent: each marker is the folder it makes, opening it in Browse, not a nameless empty file.
    await page.goto(`${catalog.url}/`);
    const marker = page.locator(`#content [data-folder="made/inner/"]`);
    await marker.waitFor();
    expect(await page.locator(`#content [data-key$="/"]`).count()).toBe(0);
    expect(await marker.textContent()).toContain("inner");
    await marker.click();
    await poll(() => page.textContent("#view-title")).toBe("/made/inner/");
    expect(incidents.slice(earlier)).toEqual([]);
  }, 60_000);

  it("keeps no time window in the Duplicates address, and the next view with one shows the one chosen", async () => {
    const days = () => new URL(page.url()).searchParams.get("days");
    await open("/");
    await page.selectOption("#filter-days", "31");
    await poll(days).toBe("31");

    // Duplicates always looks 90 days back: its address has no window and the filter is off, showing
    // the window the view uses, as its note does, not the one chosen for the others.
    await page.click("#tab-duplicates");
    await poll(() => page.textContent("#view-title")).toBe("Duplicates");
    expect(days()).toBeNull();
    expect(await page.isDisabled("#filter-days")).toBe(true);
    expect(await page.locator("#filter-days option:checked").textContent()).toBe("last 90 days");
    expect(await page.textContent("#view-note")).toContain("last 90 days");
    // Browse has no window at all: every object of the folder, whenever it came.
    await page.click("#tab-browse");
    await poll(() => page.locator("#filter-days option:checked").textContent()).toBe("any time");
    expect(await page.isDisabled("#filter-days")).toBe(true);
    await page.goBack();
    await poll(() => page.textContent("#view-title")).toBe("Duplicates");

    // The window chosen before is the next windowed view's, in its address too.
    await page.click("#tab-stats");
    await poll(() => page.textContent("#view-note")).toMatch(/^Uploads in the last 31 days/);
    expect(days()).toBe("31");
    expect(await page.isDisabled("#filter-days")).toBe(false);
    expect(await page.inputValue("#filter-days")).toBe("31");

    // Back and forth through history, each address says what its view shows.
    await page.goBack();
    await poll(() => page.textContent("#view-title")).toBe("Duplicates");
    expect(days()).toBeNull();
    await page.goBack();
    await poll(() => page.textContent("#view-note")).toContain("last 31 days");
    expect(days()).toBe("31");

    // A link that gives Duplicates a window it does not use loses it.
    await page.goto(`${catalog.url}/?view=duplicates&days=31`);
    await poll(() => page.textContent("#view-title")).toBe("Duplicates");
    expect(days()).toBeNull();
  }, 60_000);

  it("keeps no category in the address of a view that lists every one, and Recent shows the one chosen again", async () => {
    const category = () => new URL(page.url()).searchParams.get("category");
    const recentNote = () => page.textContent("#view-note");
    await page.goto(`${catalog.url}/?category=image`);
    await poll(recentNote).toMatch(/^Newest image files/);

    // Problems lists files of every category: its address has none and the filter is off, showing all.
    await page.click("#tab-problems");
    await poll(() => page.textContent("#view-title")).toBe("Problems");
    expect(category()).toBeNull();
    expect(await page.isDisabled("#filter-category")).toBe(true);
    expect(await page.locator("#filter-category option:checked").textContent()).toBe("all");

    // Back in Recent, the category chosen before, in its address too.
    await page.click("#tab-recent");
    await poll(recentNote).toMatch(/^Newest image files/);
    expect(category()).toBe("image");
    expect(await page.inputValue("#filter-category")).toBe("image");

    // Back and forth through history, each address says what its view shows.
    await page.goBack();
    await poll(() => page.textContent("#view-title")).toBe("Problems");
    expect(category()).toBeNull();
    await page.goForward();
    await poll(recentNote).toMatch(/^Newest image files/);
    expect(category()).toBe("image");

    // A link that gives Problems a category it does not use loses it, and Recent does not take it up.
    await page.goto(`${catalog.url}/?view=problems&category=image`);
    await poll(() => page.textContent("#view-title")).toBe("Problems");
    expect(category()).toBeNull();
    await page.click("#tab-recent");
    await poll(recentNote).toMatch(/^Newest uploads/);
    expect(category()).toBeNull();
  }, 60_000);

  it("keeps no folder in the address of a view without one, and the Browse tab opens the folder left", async () => {
    const prefix = () => new URL(page.url()).searchParams.get("prefix");
    const title = () => page.textContent("#view-title");
    await page.goto(`${catalog.url}/?prefix=photos/2026/`);
    await poll(title).toBe("/photos/2026/");

    await page.click("#tab-stats");
    await poll(title).toBe("Statistics");
    expect(prefix()).toBeNull();

    // Browse opens where it was left, in its address too; the bucket's top is a breadcrumb away.
    await page.click("#tab-browse");
    await poll(title).toBe("/photos/2026/");
    expect(prefix()).toBe("photos/2026/");
    await page.click("#breadcrumbs a:has-text('uploads')");
    await poll(title).toBe("Bucket root");

    // Back and forth through history, each address says what its view shows.
    await page.goBack();
    await poll(title).toBe("/photos/2026/");
    await page.goBack();
    await poll(title).toBe("Statistics");
    expect(prefix()).toBeNull();
    await page.goForward();
    await poll(title).toBe("/photos/2026/");
    expect(prefix()).toBe("photos/2026/");

    // A link that gives Stats a folder it does not use loses it, and Browse does not take it up.
    await page.goto(`${catalog.url}/?view=stats&prefix=photos/`);
    await poll(title).toBe("Statistics");
    expect(prefix()).toBeNull();
    await page.click("#tab-browse");
    await poll(title).toBe("Bucket root");
  }, 60_000);

  it("links each view's tab to what a click on it shows, with the filters chosen before", async () => {
    const target = async (tab: string) => {
      const url = new URL((await page.getAttribute(tab, "href")) ?? "", catalog.url);
      return `${url.pathname}${url.search}`;
    };
    await page.goto(`${catalog.url}/?category=pdf&days=31`);
    await poll(() => page.textContent("#view-note")).toMatch(/^Newest pdf files/);
    await page.click("#tab-browse");
    await poll(() => page.textContent("#view-title")).toBe("Bucket root");
    await page.click(`#content [data-folder="photos/"]`);
    await poll(() => page.textContent("#view-title")).toBe("/photos/");

    // A tab opened in a new tab, or its address copied, shows what a click on it would.
    expect(await target("#tab-recent")).toBe("/?category=pdf&days=31");
    expect(await target("#tab-problems")).toBe("/?view=problems&days=31");
    expect(await target("#tab-stats")).toBe("/?view=stats&days=31");
    expect(await target("#tab-duplicates")).toBe("/?view=duplicates");
    await page.click("#tab-stats");
    await poll(() => page.textContent("#view-title")).toBe("Statistics");
    expect(await target("#tab-browse")).toBe("/?prefix=photos%2F");
    await page.click("#tab-browse");
    await poll(() => page.textContent("#view-title")).toBe("/photos/");
  }, 60_000);

  it("shows a folder marker in Problems and in Duplicates as the folder, opening it in Browse", async () => {
    // Prepare: a folder marker a policy rejected, and one holding the same (empty) content as a file.
    const earlier = incidents.length;
    const record = (
      key: string,
      fields: { status: "ok" | "rejected"; reasons?: string[]; sha256?: string },
    ) =>
      catalog.stack.store.putRecord(
        testRecord({
          bucket: catalog.stack.bucket,
          key,
          size: 0,
          etag: '"d41d8cd98f00b204e9800998ecf8427e"',
          eventTime: new Date().toISOString(),
          readRequests: 0,
          ...fields,
        }),
      );
    await record("refused-folder/", {
      status: "rejected",
      reasons: [`empty objects are refused ${HOSTILE}`],
    });
    const sha256 = "f".repeat(64);
    await record("twin-folder/", { status: "ok", sha256 });
    await record("twin-folder.txt", { status: "ok", sha256 });

    // Problems: the folder's row, with its status and reason, opening it in Browse.
    await page.goto(`${catalog.url}/?view=problems`);
    const problem = page.locator(`#content tr[data-folder="refused-folder/"]`);
    await problem.waitFor();
    expect(await page.locator(`#content [data-key="refused-folder/"]`).count()).toBe(0);
    expect(await problem.locator("svg").getAttribute("aria-label")).toBe("folder");
    expect(await problem.locator(".name").textContent()).toBe("refused-folder/");
    expect(await problem.locator(".badge").textContent()).toBe("rejected");
    expect(await problem.locator(".reason").textContent()).toBe(`empty objects are refused ${HOSTILE}`);
    await problem.locator("a").click();
    await poll(() => page.textContent("#view-title")).toBe("/refused-folder/");
    expect(new URL(page.url()).searchParams.get("key")).toBeNull();

    // Duplicates: the folder among the copies is a link to it; the file still opens its record.
    await page.goto(`${catalog.url}/?view=duplicates`);
    const group = page.locator("#content .group", { hasText: `sha256 ${sha256}` });
    await page.waitForSelector("#content .group");
    // The newest group, past the first page when earlier tests made many.
    while ((await group.count()) === 0 && (await page.locator("#more:not([disabled])").count()) > 0) {
      const shown = await page.locator("#content .group").count();
      await page.click("#more");
      await poll(() => page.locator("#content .group").count()).toBeGreaterThan(shown);
    }
    expect(await group.count()).toBe(1);
    const folder = group.locator(`[data-folder="twin-folder/"]`);
    expect(await folder.textContent()).toContain("twin-folder/");
    expect(await folder.locator("svg").getAttribute("aria-label")).toBe("folder");
    const file = new URL(
      (await group.locator("a", { hasText: "twin-folder.txt" }).getAttribute("href")) ?? "",
      catalog.url,
    );
    expect(file.searchParams.get("key")).toBe("twin-folder.txt");
    await folder.locator("a").click();
    await poll(() => page.textContent("#view-title")).toBe("/twin-folder/");
    expect(incidents.slice(earlier)).toEqual([]);
  }, 60_000);

  it("names a duplicate's copy in another bucket in full, with no link, and leaves out groups held only there", async () => {
    // Prepare: content held here and in legacy-bucket (under a key written as markup), and content
    // held twice in legacy-bucket only, as `catalog backfill s3://legacy-bucket/` would catalog them.
    const earlier = incidents.length;
    const record = (bucket: string, key: string, sha256: string) =>
      catalog.stack.store.putRecord(testRecord({ bucket, key, eventTime: new Date().toISOString(), sha256 }));
    const across = "a1".repeat(32);
    const legacyOnly = "b2".repeat(32);
    await record("legacy-bucket", `old/${HOSTILE}.gif`, across);
    await record(catalog.stack.bucket, "new/x.gif", across);
    await record("legacy-bucket", "old/a.gif", legacyOnly);
    await record("legacy-bucket", "old/b.gif", legacyOnly);

    // Act
    await page.goto(`${catalog.url}/?view=duplicates`);
    const group = page.locator("#content .group", { hasText: `sha256 ${across}` });
    await page.waitForSelector("#content .group");
    // Every group, the newest past the first page when earlier tests made many.
    while ((await page.locator("#more:not([disabled])").count()) > 0) {
      const shown = await page.locator("#content .group").count();
      await page.click("#more");
      await poll(() => page.locator("#content .group").count()).toBeGreaterThan(shown);
    }

    // Assess: this bucket's copy first, a link to its record; the other bucket's named, as text.
    expect(await group.count()).toBe(1);
    const items = group.locator("li");
    expect(await items.count()).toBe(2);
    expect(await items.nth(0).locator("a").textContent()).toBe("new/x.gif");
    const elsewhere = items.nth(1);
    expect(await elsewhere.getAttribute("data-bucket")).toBe("legacy-bucket");
    expect(await elsewhere.locator("a").count()).toBe(0);
    expect(await elsewhere.textContent()).toBe(`s3://legacy-bucket/old/${HOSTILE}.gif · in another bucket`);
    expect(await page.locator("#content .group", { hasText: `sha256 ${legacyOnly}` }).count()).toBe(0);
    expect(await page.locator("#content img[src='x']").count()).toBe(0);
    expect(incidents.slice(earlier)).toEqual([]);
  }, 60_000);

  it("names the view that could not be loaded, instead of saying it is still loading", async () => {
    // The API's answer when the catalog's table does not answer (see test/server/api.test.ts).
    await page.route("**/api/folder?*", (route) =>
      route.fulfill({
        status: 503,
        contentType: "application/json",
        body: JSON.stringify({ error: "the catalog is unavailable, try again later: connect ECONNREFUSED" }),
      }),
    );
    const earlier = incidents.length;
    try {
      await page.goto(`${catalog.url}/?prefix=photos/`);
      await poll(() => page.textContent("#content .error-box")).toContain("the catalog is unavailable");
      expect(await page.textContent("#view-title")).toBe("/photos/");
      expect(await page.textContent("#view-note")).toContain("Could not be loaded");
      expect(await page.title()).not.toContain("Loading");
    } finally {
      await page.unroute("**/api/folder?*");
    }
    // The failed request itself is reported by the browser; nothing else is.
    expect(incidents.slice(earlier).filter((text) => !text.includes("503"))).toEqual([]);
  }, 60_000);

  it("makes a folder card a link to the folder in Browse, which a modified click opens in a new tab", async () => {
    // Prepare: a folder whose name is markup, beside those written above.
    const earlier = incidents.length;
    await putCataloged(catalog, `${HOSTILE}/inside.txt`, "in a folder named as markup");
    const browseAddress = (prefix: string) => `/?${new URLSearchParams({ prefix })}`;

    // Browse: each folder's card is a link to it, its name shown as text.
    await page.goto(`${catalog.url}/?view=browse`);
    const photos = page.locator(`#content .card.folder[data-folder="photos/"]`);
    await photos.waitFor();
    expect(await photos.evaluate((node) => node.tagName)).toBe("A");
    expect(await target(photos)).toBe(browseAddress("photos/"));
    const hostile = page.locator("#content .card.folder").filter({ hasText: HOSTILE });
    expect(await hostile.getAttribute("data-folder")).toBe(`${HOSTILE}/`);
    expect(await hostile.locator(".name").textContent()).toBe(HOSTILE);
    expect(await target(hostile)).toBe(browseAddress(`${HOSTILE}/`));
    expect(await page.locator("#content img[src='x']").count()).toBe(0);

    // Act: Ctrl/Cmd-click and middle-click open the folder in a new tab; this one stays where it is.
    expect(await openedElsewhere(photos, { modifiers: ["ControlOrMeta"] })).toBe(browseAddress("photos/"));
    expect(await openedElsewhere(photos, { button: "middle" })).toBe(browseAddress("photos/"));
    expect(await page.textContent("#view-title")).toBe("Bucket root");
    expect(new URL(page.url()).search).toBe("?view=browse");

    // The keyboard opens it here, as a plain click does.
    await photos.focus();
    await page.keyboard.press("Enter");
    await poll(() => page.textContent("#view-title")).toBe("/photos/");
    expect(new URL(page.url()).search).toBe(browseAddress("photos/").slice(1));

    // In the list layout, a folder row's link too.
    await open("/?view=browse");
    await page.click("#layout-list");
    const row = page.locator(`#content tr[data-folder="photos/"] a`);
    expect(await openedElsewhere(row, { modifiers: ["ControlOrMeta"] })).toBe(browseAddress("photos/"));
    expect(await page.textContent("#view-title")).toBe("Bucket root");
    expect(new URL(page.url()).search).toBe("?view=browse");
    await page.click("#layout-grid");

    // Recent: a folder marker's card links to the folder.
    await page.goto(`${catalog.url}/`);
    const marker = page.locator(`#content .card.folder[data-folder="made/inner/"]`);
    await marker.waitFor();
    expect(await marker.evaluate((node) => node.tagName)).toBe("A");
    expect(await target(marker)).toBe(browseAddress("made/inner/"));

    // Problems: the marker's row keeps its status and reason; its link opens elsewhere, the row stays here.
    await page.goto(`${catalog.url}/?view=problems`);
    const problem = page.locator(`#content tr[data-folder="refused-folder/"]`);
    await problem.waitFor();
    expect(await problem.locator(".badge").textContent()).toBe("rejected");
    expect(await problem.locator(".reason").textContent()).toBe(`empty objects are refused ${HOSTILE}`);
    expect(await target(problem.locator("a"))).toBe(browseAddress("refused-folder/"));
    expect(await openedElsewhere(problem.locator("a"), { modifiers: ["ControlOrMeta"] })).toBe(
      browseAddress("refused-folder/"),
    );
    expect(await page.textContent("#view-title")).toBe("Problems");
    expect(new URL(page.url()).searchParams.get("view")).toBe("problems");
    expect(incidents.slice(earlier)).toEqual([]);
  }, 60_000);

  it("marks a file whose content contradicts its declared type in every list, its reason as text", async () => {
    // Prepare: one PNG three times, declared as a PDF, as markup, and truthfully (one duplicate group),
    // and a rejected record whose format is a mismatch, as `onMismatch: "reject"` writes it.
    const earlier = incidents.length;
    const png = await readFile(corpusFile("filetype-fixture.png"));
    const lying = "mismatched/drawing.png";
    const marked = "mismatched/markup.png";
    const honest = "mismatched/honest.png";
    const refused = "mismatched/refused.png";
    const reason = "declared Content-Type application/pdf but content is image/png";
    const markupReason = `declared Content-Type application/${HOSTILE} but content is image/png`;
    await putCataloged(catalog, lying, png, { contentType: "application/pdf" });
    await putCataloged(catalog, marked, png, { contentType: `application/${HOSTILE}` });
    await putCataloged(catalog, honest, png, { contentType: "image/png" });
    const format = testFormat("image/png", "png", "image");
    await catalog.stack.store.putRecord(
      testRecord({
        bucket: catalog.stack.bucket,
        key: refused,
        eventTime: new Date().toISOString(),
        status: "rejected",
        reasons: [reason],
        extraction: testExtraction({
          format: { ...format, declaredMime: "application/pdf", mismatch: true, mismatchReason: reason },
        }),
      }),
    );
    /** The mark of `entry`: its label and hidden reason as text, and its title. */
    const mark = async (entry: ReturnType<Page["locator"]>) => {
      const badge = entry.locator(".badge.mismatch");
      return { text: await badge.textContent(), title: await badge.getAttribute("title") };
    };
    const expectMarks = async (entryOf: (key: string) => ReturnType<Page["locator"]>) => {
      expect(await mark(entryOf(lying))).toEqual({ text: `type mismatch: ${reason}`, title: reason });
      expect(await mark(entryOf(marked))).toEqual({
        text: `type mismatch: ${markupReason}`,
        title: markupReason,
      });
      expect(await entryOf(honest).locator(".badge.mismatch").count()).toBe(0);
    };

    // Browse, grid and list: the mark beside the status, readable, the markup in the reason as text.
    await page.goto(`${catalog.url}/?prefix=mismatched/`);
    await card(honest).waitFor();
    await expectMarks(card);
    expect(await card(lying).locator(".badge.mismatch").isVisible()).toBe(true);
    expect(await page.evaluate(LOW_CONTRAST)).toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, "dashboard-mismatch-grid.png") });
    await page.click("#layout-list");
    await page.locator(`#content tr[data-key="${honest}"]`).waitFor();
    await expectMarks(card);
    expect(await card(lying).locator("td.status .badge").allTextContents()).toEqual([
      "ok",
      `type mismatch: ${reason}`,
    ]);
    expect(await page.evaluate(LOW_CONTRAST)).toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, "dashboard-mismatch-list.png") });
    await page.click("#layout-grid");

    // Recent: across folders, the same marks.
    await page.goto(`${catalog.url}/`);
    await card(honest).waitFor();
    await expectMarks(card);

    // Problems: the rejected record's row.
    await page.goto(`${catalog.url}/?view=problems`);
    await card(refused).waitFor();
    expect(await mark(card(refused))).toEqual({ text: `type mismatch: ${reason}`, title: reason });
    await page.screenshot({ path: join(ARTIFACTS, "dashboard-mismatch-problems.png") });
    expect(await page.evaluate(LOW_CONTRAST)).toEqual([]);

    // Duplicates: the copies of the PNG, the newest group, past the first page when earlier tests made many.
    await page.goto(`${catalog.url}/?view=duplicates`);
    const group = page.locator("#content .group", { hasText: lying });
    await page.waitForSelector("#content .group");
    while ((await group.count()) === 0 && (await page.locator("#more:not([disabled])").count()) > 0) {
      const shown = await page.locator("#content .group").count();
      await page.click("#more");
      await poll(() => page.locator("#content .group").count()).toBeGreaterThan(shown);
    }
    expect(await group.count()).toBe(1);
    await group.scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(ARTIFACTS, "dashboard-mismatch-duplicates.png") });
    await expectMarks((key) =>
      group.locator("li", { has: page.locator(`a[href*="${encodeURIComponent(key)}"]`) }),
    );

    expect(await page.locator("#content img[src='x']").count()).toBe(0);
    expect(incidents.slice(earlier)).toEqual([]);
  }, 60_000);

  it("makes a file card a link to its record, which a modified click opens in a new tab", async () => {
    // Prepare: a folder of two files, seen in the grid layout.
    const earlier = incidents.length;
    await putRecords("file-cards/", 2);
    const first = "file-cards/file 0000.txt";
    const recordAddress = (key: string) => `/?${new URLSearchParams({ prefix: "file-cards/", key })}`;
    await page.goto(`${catalog.url}/?prefix=file-cards/`);
    await poll(() => card(first).count()).toBe(1);

    // Assess: the card is a link to the record, its address to copy, drawn as a card, not as underlined text.
    expect(await card(first).evaluate((node) => node.tagName)).toBe("A");
    expect(await target(card(first))).toBe(recordAddress(first));
    await card(first).hover();
    const decoration = await card(first).evaluate((node) => {
      const view = node.ownerDocument.defaultView as unknown as {
        getComputedStyle(element: unknown): { textDecorationLine: string };
      };
      return view.getComputedStyle(node).textDecorationLine;
    });
    expect(decoration).toBe("none");

    // Act: Ctrl/Cmd-click and middle-click open the record in a new tab; this one stays where it is.
    expect(await openedElsewhere(card(first), { modifiers: ["ControlOrMeta"] })).toBe(recordAddress(first));
    expect(await openedElsewhere(card(first), { button: "middle" })).toBe(recordAddress(first));
    expect(new URL(page.url()).searchParams.has("key")).toBe(false);
    expect(await page.locator("#detail").isHidden()).toBe(true);

    // A plain click opens it here, and so does Enter on the next card, reached by Tab.
    await card(first).click();
    await poll(() => page.textContent("#detail-title")).toBe("file 0000.txt");
    expect(new URL(page.url()).search).toBe(recordAddress(first).slice(1));
    await card(first).focus();
    await page.keyboard.press("Tab");
    expect(await page.evaluate(FOCUSED)).toBe("file-cards/file 0001.txt");
    await page.keyboard.press("Enter");
    await poll(() => page.textContent("#detail-title")).toBe("file 0001.txt");
    expect(await page.evaluate(FOCUSED)).toBe("detail-title");
    expect(incidents.slice(earlier)).toEqual([]);
  }, 60_000);

  it("shows the record of an object deleted while it is open as deleted, not as a file of unknown kind", async () => {
    // Prepare: a PDF cataloged, its record open beside its folder.
    const earlier = incidents.length;
    const key = "deleted-preview/report.pdf";
    await putCataloged(catalog, key, pdfWithTitle("Report"));
    await page.goto(`${catalog.url}/?prefix=deleted-preview/`);
    await poll(() => page.textContent("#live")).toBe("live");
    await card(key).click();
    const tile = page.locator("#detail .preview");
    await poll(() => tile.locator("svg[aria-label='pdf file']").count()).toBe(1);

    // Act: the object deleted from the bucket, announced by the live feed.
    await catalog.stack.s3Client.send(new DeleteObjectCommand({ Bucket: catalog.stack.bucket, Key: key }));
    await catalog.stack.dispatcher.idle();

    // Assess: the open record is its tombstone, whose tile and words say the object was deleted.
    await poll(() => page.textContent("[data-section='object'] dd[data-field='status']")).toBe("deleted");
    expect(await tile.locator("svg[aria-label='deleted file']").count()).toBe(1);
    expect(await tile.locator("svg[aria-label='other file']").count()).toBe(0);
    expect(await tile.textContent()).toBe("This object was deleted from the bucket.");
    // The folder lists objects in the bucket only: the card is gone.
    await poll(() => card(key).count()).toBe(0);
    await page.screenshot({ path: join(ARTIFACTS, "dashboard-deleted.png") });
    expect(incidents.slice(earlier)).toEqual([]);
  }, 60_000);

  it("names each checksum S3 keeps by its algorithm in words, its value as stored", async () => {
    // Prepare: two objects uploaded with different checksum algorithms.
    const earlier = incidents.length;
    const uploads = [
      { key: "checksums/sha.txt", algorithm: "SHA256", field: "sha256", label: "SHA-256" },
      { key: "checksums/crc.txt", algorithm: "CRC32C", field: "crc32c", label: "CRC32C" },
    ] as const;
    for (const { key, algorithm } of uploads)
      await catalog.stack.s3Client.send(
        new PutObjectCommand({
          Bucket: catalog.stack.bucket,
          Key: key,
          Body: `checked with ${algorithm}\n`,
          ChecksumAlgorithm: algorithm,
        }),
      );
    await catalog.stack.dispatcher.idle();

    for (const { key, field, label } of uploads) {
      const { record } = (await (
        await fetch(`${catalog.url}/api/object?${new URLSearchParams({ key })}`)
      ).json()) as { record: { checksum: Record<string, string> } };
      // Act
      await page.goto(`${catalog.url}/?${new URLSearchParams({ prefix: "checksums/", key })}`);
      const checksums = page.locator("[data-section='checksum']");
      await checksums.waitFor();

      // Assess: labels in words, in order; values as the record holds them.
      expect(await checksums.locator("dt").allTextContents()).toEqual([label, "Checksum type"]);
      expect(await checksums.locator(`dd[data-field='${field}']`).textContent()).toBe(record.checksum[field]);
      expect(await checksums.locator("dd[data-field='type']").textContent()).toBe("FULL_OBJECT");
    }
    expect(incidents.slice(earlier)).toEqual([]);
  }, 60_000);

  it("keeps focus on a duplicate's copy, and on a folder among them, when a live update redraws Duplicates", async () => {
    // Prepare: every group loaded, that of a folder and a file holding one content among them (written above).
    const earlier = incidents.length;
    const groups = page.locator("#content .group");
    await page.goto(`${catalog.url}/?view=duplicates`);
    await page.waitForSelector("#content .group");
    while ((await page.locator("#more:not([disabled])").count()) > 0) {
      const shown = await groups.count();
      await page.click("#more");
      await poll(() => groups.count()).toBeGreaterThan(shown);
    }
    const twins = groups.filter({ hasText: `sha256 ${"f".repeat(64)}` });
    await poll(() => page.textContent("#live")).toBe("live");
    /** Two uploads of one new content, each announced by the live feed, and the group they make drawn. */
    const newGroup = async (name: string) => {
      const body = `${name} ${Date.now()}\n`;
      const sha256 = createHash("sha256").update(body).digest("hex");
      await putCataloged(catalog, `live-focus/${name} a.txt`, body);
      await putCataloged(catalog, `live-focus/${name} b.txt`, body);
      await poll(() => groups.filter({ hasText: `sha256 ${sha256}` }).count()).toBe(1);
    };

    // Act: focus on the file's link, then a live update.
    await twins.locator("a", { hasText: "twin-folder.txt" }).focus();
    await newGroup("first");

    // Assess: focus on the same copy's link in the redrawn group.
    expect(await page.evaluate(FOCUSED)).toBe("twin-folder.txt");
    expect(await page.evaluate("document.activeElement.tagName")).toBe("A");

    // The same for the folder's link.
    await twins.locator(`[data-folder="twin-folder/"] a`).focus();
    await newGroup("second");
    expect(await page.evaluate("document.activeElement.closest('[data-folder]')?.dataset.folder")).toBe(
      "twin-folder/",
    );
    expect(await page.evaluate("document.activeElement.tagName")).toBe("A");
    expect(incidents.slice(earlier)).toEqual([]);
  }, 120_000);

  it("narrows a folder to the names that start with what is typed, kept in its address and over a reload", async () => {
    // Prepare: names that differ by their start and by case, a sub-folder among them, one written as markup.
    const earlier = incidents.length;
    const marked = `names/IMG_2024 ${HOSTILE}.txt`;
    for (const key of [
      "names/IMG_2023.txt",
      "names/IMG_2024_1.txt",
      "names/img_2024.txt",
      "names/IMG_2024-trip/a.txt",
      marked,
    ])
      await putCataloged(catalog, key, key);
    const field = page.getByLabel("Names starting with");
    const folders = () =>
      page
        .locator("#content [data-folder]")
        .evaluateAll((nodes) =>
          nodes.map((node) => (node as unknown as { dataset: { folder: string } }).dataset.folder),
        );
    const note = () => page.textContent("#view-note");
    await page.goto(`${catalog.url}/?prefix=names/`);
    await poll(note).toBe("1 folder, 4 objects.");
    expect(await field.isEnabled()).toBe(true);

    // Act: typed a key at a time, as a person types.
    await field.pressSequentially("IMG_2024");

    // Assess: the listing narrows, case-sensitive, the sub-folder kept, said in the heading, the name as text.
    await poll(note).toBe("Names starting with “IMG_2024”: 1 folder, 2 objects.");
    expect(await shownKeys()).toEqual([marked, "names/IMG_2024_1.txt"]);
    expect(await folders()).toEqual(["names/IMG_2024-trip/"]);
    expect(new URL(page.url()).searchParams.get("startsWith")).toBe("IMG_2024");
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    expect(await field.inputValue()).toBe("IMG_2024");

    // A reload shows the same, the field filled in.
    await page.reload();
    await poll(note).toBe("Names starting with “IMG_2024”: 1 folder, 2 objects.");
    expect(await field.inputValue()).toBe("IMG_2024");
    expect(await shownKeys()).toEqual([marked, "names/IMG_2024_1.txt"]);

    // More typed narrows further; nothing matching says so.
    await field.fill("IMG_2024_9");
    await poll(() => page.textContent("#content")).toBe("No name in this folder starts with “IMG_2024_9”.");
    expect(new URL(page.url()).searchParams.get("startsWith")).toBe("IMG_2024_9");

    // Another folder opens with all of its names, its field empty.
    await page.goto(`${catalog.url}/?prefix=names/&startsWith=IMG`);
    await poll(note).toBe("Names starting with “IMG”: 1 folder, 3 objects.");
    await page.click(`#content [data-folder="names/IMG_2024-trip/"]`);
    await poll(note).toBe("0 folders, 1 object.");
    expect(new URL(page.url()).searchParams.has("startsWith")).toBe(false);
    expect(await field.inputValue()).toBe("");
    // Back returns to the narrowed folder, as it was.
    await page.goBack();
    await poll(note).toBe("Names starting with “IMG”: 1 folder, 3 objects.");
    expect(await field.inputValue()).toBe("IMG");

    // A view that lists every name greys the field, as the selects it does not use are, and keeps no start in
    // its address.
    const look = (selector: string) =>
      page.locator(selector).evaluate((node) => {
        const view = globalThis as unknown as {
          getComputedStyle(element: unknown): { opacity: string; color: string };
        };
        const style = view.getComputedStyle(node);
        return { opacity: style.opacity, color: style.color };
      });
    const inUse = await look("#filter-startsWith");
    expect(await page.isDisabled("#filter-category")).toBe(true);
    const greyedSelect = await look("#filter-category");
    await page.click("#tab-recent");
    await poll(() => page.textContent("#view-title")).toBe("Recent uploads");
    expect(await field.isEnabled()).toBe(false);
    const unused = await look("#filter-startsWith");
    expect(unused.opacity).toBe(greyedSelect.opacity);
    expect(Number(unused.opacity)).toBeLessThan(Number(inUse.opacity));
    expect(unused.color).not.toBe(inUse.color);
    expect(new URL(page.url()).searchParams.has("startsWith")).toBe(false);
    expect(incidents.slice(earlier)).toEqual([]);
  }, 120_000);
});
