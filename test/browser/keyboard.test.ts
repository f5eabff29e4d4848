import { readFile } from "node:fs/promises";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type LocalCatalog, startLocalCatalog } from "../server/local-catalog.js";
import { CHROMIUM, CHROMIUM_ARGS, poll, requireChromium } from "../support/chromium.js";
import { corpusFile } from "../support/corpus.js";

const PHOTO = "trip/DSCN0010.jpg";
const NOTES = "trip/notes.txt";

/** Runs in the page: the focused element's id, else its listing entry's key, else its tag. */
const FOCUSED = `(() => {
  const active = document.activeElement;
  return active?.id || active?.closest("[data-key]")?.dataset.key || active?.tagName.toLowerCase();
})()`;

let catalog: LocalCatalog;
let browser: Browser;
let page: Page;
/** Everything the page did that it should not: dialogs, script errors, CSP violations. */
let incidents: string[] = [];

/** Puts an object in the bucket and waits until the pipeline has cataloged it. */
async function put(key: string, body: string | Uint8Array): Promise<void> {
  await catalog.stack.s3Client.send(
    new PutObjectCommand({ Bucket: catalog.stack.bucket, Key: key, Body: body }),
  );
  await catalog.stack.dispatcher.idle();
}

/** A fresh page of the given size, its incidents recorded. */
async function openPage(width: number, height: number): Promise<Page> {
  await page?.close();
  incidents = [];
  page = await browser.newPage({ viewport: { width, height } });
  page.on("dialog", (dialog) => {
    incidents.push(`dialog: ${dialog.message()}`);
    void dialog.dismiss();
  });
  page.on("pageerror", (error) => incidents.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error") incidents.push(`console: ${message.text()}`);
  });
  return page;
}

/** Opens `path` and waits until its view is drawn and the live stream is open. */
async function show(path: string): Promise<void> {
  await page.goto(`${catalog.url}${path}`);
  await poll(() => page.textContent("#live")).toBe("live");
  await page.waitForSelector("#content > *");
  await poll(() => page.textContent("#view-title")).not.toBe("Loading…");
}

beforeAll(async () => {
  requireChromium();
  catalog = await startLocalCatalog({ listen: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  await put(PHOTO, await readFile(corpusFile("exifpy-DSCN0010.jpg")));
  await put(NOTES, "notes\n");
}, 60_000);

afterEach(async () => {
  await page?.close();
});

afterAll(async () => {
  await browser?.close();
  await catalog?.close();
});

describe("dashboard from the keyboard alone", () => {
  it("lets the first Tab skip the tabs and filters: Enter goes to the view, the next Tab to its first entry", async () => {
    // Prepare: a folder, a dozen controls between the top of the page and its first file.
    await openPage(1280, 800);
    await show("/?prefix=trip/");

    // Act: the page's first Tab stop.
    await page.keyboard.press("Tab");

    // Assess: a link that says where it goes, in sight while it has focus.
    const skip = page.getByRole("link", { name: "Skip to content" });
    expect(await skip.count()).toBe(1);
    expect(await skip.getAttribute("id")).toBe(await page.evaluate(FOCUSED));
    const box = await skip.boundingBox();
    expect(box && box.y >= 0 && box.width > 1 && box.height > 1).toBe(true);
    await page.keyboard.press("Enter");
    expect(await page.evaluate(FOCUSED)).toBe("view-title");
    await page.keyboard.press("Tab");
    expect(await page.evaluate(FOCUSED)).toBe(PHOTO);
    // The page did not move to another address: Back still leaves the folder.
    expect(new URL(page.url()).hash).toBe("");
    expect(incidents).toEqual([]);
  });
});
