import { readFile } from "node:fs/promises";
import { DeleteObjectCommand } from "@aws-sdk/client-s3";
import axe from "axe-core";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { parsePolicy } from "../../src/policy/policy.js";
import { type LocalCatalog, pdfWithTitle, putCataloged, startLocalCatalog } from "../server/local-catalog.js";
import { CHROMIUM, CHROMIUM_ARGS, poll, recordIncidents } from "../support/chromium.js";
import { CONTRAST_RATIO, TEXT_CONTRAST_AA } from "../support/contrast.js";
import { corpusFile } from "../support/corpus.js";
import { describeWith } from "../support/tools.js";

const HOSTILE = "<img src=x onerror=alert(1)>";
const PHOTO = "photos/2026/DSCN0010.jpg";
const PDF = "photos/2026/scan.pdf";
const CORRUPT = "photos/broken.png";
const DELETED = "reports/gone.pdf";
const REJECTED = "quarantine/setup.txt";
const COPIES = ["copies/first.txt", "copies/second.txt"];
const LAYOUTS = ["grid", "list"] as const;
/** Every view, with the element that says its content is drawn. */
const VIEWS = [
  { name: "Recent", path: "/" },
  { name: "Browse, the bucket's top", path: "/?view=browse" },
  { name: "Browse, a folder", path: "/?prefix=photos/2026/" },
  {
    name: "Browse, a folder narrowed to names starting with some text",
    path: "/?prefix=photos/2026/&startsWith=DSC",
  },
  { name: "Problems", path: "/?view=problems" },
  { name: "Duplicates", path: "/?view=duplicates" },
  { name: "Stats", path: "/?view=stats" },
];

/**
 * Runs in the page once axe is in it: the WCAG 2.2 A and AA violations of
 * the whole document, one line each per element (rule, selector, what is
 * wrong), so a failure names what to fix.
 */
const AXE_RUN = `axe.run(document, {
  runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"] },
  resultTypes: ["violations"],
}).then((results) => results.violations.flatMap((violation) =>
  violation.nodes.map((node) => violation.id + " " + node.target.join(" ") + ": " + node.failureSummary.replace(/\\s+/g, " "))))`;

/**
 * Runs in the page: starts dragging one file over the window, as a person's
 * drag from the desktop does, without dropping it.
 */
const DRAG_FILE = `(() => {
  const transfer = new DataTransfer();
  transfer.items.add(new File(["draft"], "draft.txt", { type: "text/plain" }));
  window.dispatchEvent(new DragEvent("dragenter", { dataTransfer: transfer, bubbles: true, cancelable: true }));
})()`;

/** Runs in the page: how far the document is wider than the window (0 when nothing sticks out). */
const OVERFLOW = "document.documentElement.scrollWidth - document.documentElement.clientWidth";

let catalog: LocalCatalog;
let browser: Browser;
let page: Page;
/** Everything the page did that it should not: dialogs, script errors, CSP violations. */
let incidents: string[] = [];

/** A fresh page with the given layout remembered, its incidents recorded. */
async function openPage(layout: (typeof LAYOUTS)[number]): Promise<Page> {
  await closePage();
  incidents = [];
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  page = await context.newPage();
  recordIncidents(page, (incident) => incidents.push(incident));
  // The layout a person chose last time, as the page keeps it, before the page's own script reads it.
  await page.addInitScript(`localStorage.setItem("layout", ${JSON.stringify(layout)})`);
  return page;
}

/**
 * Closes the page with its context, awaited: a context left closing on its
 * own rejects once the browser has gone, after the last test.
 */
async function closePage(): Promise<void> {
  await page?.context().close();
}

/** Opens `path` and waits until its view is drawn and the live stream is open. */
async function show(path: string): Promise<void> {
  await page.goto(`${catalog.url}${path}`);
  await poll(() => page.textContent("#live")).toBe("live");
  await page.waitForSelector("#content > *");
  await poll(() => page.textContent("#view-title")).not.toBe("Loading…");
}

/**
 * The page's WCAG 2.2 A and AA violations as axe reports them. Axe is
 * evaluated through the browser's debugging protocol, which the page's
 * Content-Security-Policy (no inline script) does not govern, so the page is
 * checked with its real policy in force.
 */
async function violations(): Promise<string[]> {
  if (!(await page.evaluate("typeof window.axe === 'object'"))) await page.evaluate(axe.source);
  return (await page.evaluate(AXE_RUN)) as string[];
}

beforeAll(async () => {
  catalog = await startLocalCatalog({
    listen: true,
    policy: parsePolicy({ deniedPrefixes: ["quarantine/"] }),
  });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  // Real files through the real pipeline: a photo with EXIF and GPS, a PDF whose title is markup, a file
  // that fails to decode, two copies of one content, an object the policy refuses and one deleted since.
  await putCataloged(catalog, PHOTO, await readFile(corpusFile("exifpy-DSCN0010.jpg")));
  await putCataloged(catalog, PDF, pdfWithTitle(HOSTILE));
  await putCataloged(catalog, CORRUPT, await readFile(corpusFile("filetype-fixture-corrupt.png")));
  for (const key of COPIES) await putCataloged(catalog, key, "the same words in two places\n");
  await putCataloged(catalog, REJECTED, "installer\n");
  await putCataloged(catalog, DELETED, pdfWithTitle("Quarterly report"));
  await catalog.stack.s3Client.send(new DeleteObjectCommand({ Bucket: catalog.stack.bucket, Key: DELETED }));
  await catalog.stack.dispatcher.idle();
}, 120_000);

afterEach(async () => {
  await closePage();
});

afterAll(async () => {
  await browser?.close();
  await catalog?.close();
});

describeWith("chromium").each(LAYOUTS)(
  "dashboard accessibility, %s layout (axe-core, WCAG 2.2 A and AA)",
  (layout) => {
    it.each(VIEWS)("$name has no violations", async ({ path }) => {
      await openPage(layout);
      await show(path);
      // Problems, Duplicates and Stats are drawn one way: the choice is greyed there, neither pressed.
      const laidOut = !/view=(problems|duplicates|stats)/.test(path);
      expect(await page.getAttribute(`#layout-${layout}`, "aria-pressed")).toBe(String(laidOut));
      expect(await page.isDisabled(`#layout-${layout}`)).toBe(!laidOut);
      expect(await violations()).toEqual([]);
      expect(incidents).toEqual([]);
    });

    it.each([
      { name: "a photo with EXIF", key: PHOTO, section: "exif" },
      { name: "a deleted object", key: DELETED, section: "audit" },
      { name: "a rejected object", key: REJECTED, section: "audit" },
      { name: "a file that failed to decode", key: CORRUPT, section: "audit" },
    ])("the detail panel of $name has no violations", async ({ key, section }) => {
      await openPage(layout);
      const prefix = key.slice(0, key.lastIndexOf("/") + 1);
      await show(`/?${new URLSearchParams({ prefix, key })}`);
      await page.waitForSelector(`#detail [data-section='${section}']`);
      expect(await violations()).toEqual([]);
      expect(incidents).toEqual([]);
    });

    it("the upload drop zone and the uploads panel have no violations", async () => {
      await openPage(layout);
      await show("/?prefix=uploads/");

      // A file dragged over the window: the drop zone covers the page.
      await page.evaluate(DRAG_FILE);
      await page.waitForSelector("#drop-overlay:not([hidden])");
      expect(await violations()).toEqual([]);
      await page.evaluate(`window.dispatchEvent(new DragEvent("dragleave", { bubbles: true }))`);

      // Files picked: the uploads panel lists them, one refused by the server.
      await page.setInputFiles("#file-input", [
        { name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("notes\n") },
        { name: "bad\u0001name.txt", mimeType: "text/plain", buffer: Buffer.from("refused\n") },
      ]);
      await poll(() => page.locator("#upload-list .state.failed").count()).toBe(1);
      await poll(() => page.locator("#upload-list .state.done").count()).toBe(1);
      expect(await violations()).toEqual([]);
      // The browser logs the server's refusal of the badly named file; nothing else may go wrong.
      expect(incidents.filter((incident) => !incident.includes("400 (Bad Request)"))).toEqual([]);
    });
  },
);

describeWith("chromium")("the accessibility check itself", () => {
  it("finds what it is meant to find: an image without a text alternative, text too faint to read", async () => {
    // Prepare: a view axe finds nothing wrong with, then two faults put in it as a careless change would.
    await openPage("grid");
    await show("/?view=problems");
    expect(await violations()).toEqual([]);

    // Act
    await page.evaluate(`(() => {
      const image = document.createElement("img");
      image.src = "/favicon.svg";
      const faint = document.createElement("p");
      faint.textContent = "faint";
      faint.style.color = "#ddd";
      document.getElementById("content").append(image, faint);
    })()`);

    // Assess
    const found = await violations();
    expect(found.map((line) => line.split(" ")[0]).sort()).toEqual(["color-contrast", "image-alt"]);
  });
});

describeWith("chromium")("dashboard accessibility axe cannot judge", () => {
  it.each(["light", "dark"] as const)(
    "draws the folder path's separators at 4.5:1 or more, in a %s colour scheme, where axe skips them as punctuation",
    async (colorScheme) => {
      // Prepare: a folder two levels down, its path a link, "/", a link, "/", its name.
      await openPage("grid");
      await page.emulateMedia({ colorScheme });
      await show("/?prefix=photos/2026/");

      // Act
      const ratios = (await page.evaluate(
        `[...document.querySelectorAll("#breadcrumbs .sep")].map(${CONTRAST_RATIO})`,
      )) as number[];

      // Assess
      expect(ratios).toHaveLength(2);
      for (const ratio of ratios) expect(ratio).toBeGreaterThanOrEqual(TEXT_CONTRAST_AA);
      expect(await page.locator("#breadcrumbs .sep").first().textContent()).toBe("/");
      expect(incidents).toEqual([]);
    },
  );

  it("gives the Stats charts' figures to assistive technology as tables, the drawings hidden", async () => {
    // Prepare: what the API counts over the view's window.
    const stats = (await (await fetch(`${catalog.url}/api/stats?days=7`)).json()) as {
      byCategory: { category: string; count: number }[];
      byDay: { day: string; count: number }[];
    };
    const counted = stats.byCategory.filter((row) => row.count > 0);
    expect(counted.length).toBeGreaterThan(1);

    // Act
    await openPage("grid");
    await show("/?view=stats");

    // Assess: each chart is a table of what the API counted, and no image a screen reader would stop at.
    const files = page.locator("#chart-count").getByRole("table");
    expect(await files.getByRole("rowheader").allTextContents()).toEqual(counted.map((row) => row.category));
    expect(await files.getByRole("cell").allTextContents()).toEqual(counted.map((row) => String(row.count)));
    expect(await page.locator("#chart-bytes").getByRole("rowheader").count()).toBe(counted.length);
    const days = page.locator("#chart-days").getByRole("table");
    expect(await days.getByRole("rowheader").allTextContents()).toEqual(stats.byDay.map((day) => day.day));
    expect(await page.locator("#content").getByRole("img").count()).toBe(0);
    // The tables are for assistive technology only: the page looks as it did.
    for (const chart of ["count", "bytes", "days"]) {
      const box = await page.locator(`#chart-${chart} .visually-hidden:has(table)`).boundingBox();
      expect(box && Math.max(box.width, box.height)).toBeLessThanOrEqual(1);
    }
    expect(await page.evaluate(OVERFLOW)).toBe(0);
    expect(incidents).toEqual([]);
  });
});
