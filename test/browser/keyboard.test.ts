import { readFile } from "node:fs/promises";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { type LocalCatalog, putCataloged, startLocalCatalog } from "../server/local-catalog.js";
import { CHROMIUM, CHROMIUM_ARGS, poll, recordIncidents } from "../support/chromium.js";
import { corpusFile } from "../support/corpus.js";
import { testRecord } from "../support/records.js";
import { describeWith } from "../support/tools.js";

const PHOTO = "trip/DSCN0010.jpg";
const NOTES = "trip/notes.txt";
/** A folder longer than a phone's screen, its files written straight to the catalog. */
const LONG_FOLDER = "long/";
const LONG_FILES = Array.from(
  { length: 40 },
  (_, index) => `${LONG_FOLDER}file ${String(index).padStart(2, "0")}.txt`,
);

/** Runs in the page: the focused element's id, else its listing entry's key, else its tag. */
const FOCUSED = `(() => {
  const active = document.activeElement;
  return active?.id || active?.closest("[data-key]")?.dataset.key || active?.tagName.toLowerCase();
})()`;

/** Runs in the page: where focus is, "detail" when it is in the record's panel. */
const FOCUS_PLACE = `(() => {
  const active = document.activeElement;
  if (!active || active === document.body) return "body";
  return document.getElementById("detail").contains(active) ? "detail" : "behind: " + (active.id || active.textContent.trim().slice(0, 40));
})()`;

let catalog: LocalCatalog;
let browser: Browser;
let page: Page;
/** Everything the page did that it should not: dialogs, script errors, CSP violations. */
let incidents: string[] = [];

/**
 * The names of the elements of `role` that Chromium's accessibility tree
 * gives a screen reader, read through its debugging protocol: what the tree
 * ignores (hidden, inert) is left out.
 */
async function exposed(role: string): Promise<string[]> {
  const session = await page.context().newCDPSession(page);
  const { nodes } = (await session.send("Accessibility.getFullAXTree")) as {
    nodes: { ignored: boolean; role?: { value?: unknown }; name?: { value?: unknown } }[];
  };
  await session.detach();
  return nodes
    .filter((node) => !node.ignored && node.role?.value === role)
    .map((node) => String(node.name?.value ?? ""));
}

/**
 * How Chromium's accessibility tree holds the element `selector` names: its
 * role, or "ignored" when a screen reader is given nothing of it (hidden).
 */
async function treeRole(selector: string): Promise<string> {
  const session = await page.context().newCDPSession(page);
  const { root } = (await session.send("DOM.getDocument")) as { root: { nodeId: number } };
  const { nodeId } = (await session.send("DOM.querySelector", { nodeId: root.nodeId, selector })) as {
    nodeId: number;
  };
  const { nodes } = (await session.send("Accessibility.getPartialAXTree", {
    nodeId,
    fetchRelatives: false,
  })) as { nodes: { ignored: boolean; role?: { value?: unknown } }[] };
  await session.detach();
  return nodes[0]?.ignored ? "ignored" : String(nodes[0]?.role?.value);
}

/** A fresh page of the given size, its incidents recorded. */
async function openPage(width: number, height: number): Promise<Page> {
  await page?.close();
  incidents = [];
  page = await browser.newPage({ viewport: { width, height } });
  recordIncidents(page, (incident) => incidents.push(incident));
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
  catalog = await startLocalCatalog({ listen: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  await putCataloged(catalog, PHOTO, await readFile(corpusFile("exifpy-DSCN0010.jpg")));
  await putCataloged(catalog, NOTES, "notes\n");
  const eventTime = new Date().toISOString();
  await Promise.all(
    LONG_FILES.map((key) =>
      catalog.stack.store.putRecord(testRecord({ bucket: catalog.stack.bucket, key, eventTime })),
    ),
  );
}, 60_000);

afterEach(async () => {
  await page?.close();
});

afterAll(async () => {
  await browser?.close();
  await catalog?.close();
});

describeWith("chromium")("dashboard from the keyboard alone", () => {
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

  it("on a phone, keeps Tab inside the record that covers the screen, and Escape returns to its card", async () => {
    // Prepare: a phone-sized window, the photo's record opened from its card with Enter.
    await openPage(390, 844);
    await show("/?prefix=trip/");
    await page.locator(`#content [data-key="${PHOTO}"]`).focus();
    await page.keyboard.press("Enter");
    await page.waitForSelector("#detail:not([hidden]) [data-section='exif']");
    expect(await page.evaluate(FOCUS_PLACE)).toBe("detail");

    // Act: Tab round the whole page and back, then Shift+Tab, as far as the page has stops.
    const reached: string[] = [];
    for (let step = 0; step < 12; step++) {
      await page.keyboard.press("Tab");
      reached.push(await page.evaluate(FOCUS_PLACE));
    }
    for (let step = 0; step < 12; step++) {
      await page.keyboard.press("Shift+Tab");
      reached.push(await page.evaluate(FOCUS_PLACE));
    }

    // Assess: focus never lands on the page the panel hides (leaving for the browser's own bar is allowed).
    expect(reached.filter((place) => place !== "detail" && place !== "body")).toEqual([]);
    expect(reached).toContain("detail");
    // A screen reader cannot wander there either.
    expect(await exposed("navigation")).not.toContain("Views");
    expect(await exposed("complementary")).toEqual(["Object details"]);
    await page.keyboard.press("Escape");
    await poll(() => page.locator("#detail").isHidden()).toBe(true);
    expect(await page.evaluate(FOCUSED)).toBe(PHOTO);
    // Closed, the page is whole again.
    expect(await exposed("navigation")).toContain("Views");
    expect(incidents).toEqual([]);
  });

  it.each([
    // A phone's panel covers the listing and leaves it as it is; a wide screen's narrows it, so its cards
    // flow again and the browser scrolls to keep the entry in sight.
    { screen: "a phone, where the record covers the listing", width: 390, height: 844, covers: true },
    {
      screen: "a wide screen, where the record sits beside the listing",
      width: 1280,
      height: 800,
      covers: false,
    },
  ])(
    "on $screen, lets Back close the record opened from the listing, focus on its entry, the listing where it was",
    async ({ width, height, covers }) => {
      // Prepare: a long folder scrolled down, a record near its end opened from its entry with Enter.
      await openPage(width, height);
      await show(`/?prefix=${LONG_FOLDER}`);
      const opened = LONG_FILES.at(-3) as string;
      const entry = page.locator(`#content [data-key="${opened}"]`);
      await entry.scrollIntoViewIfNeeded();
      await entry.focus();
      const scroll = Number(await page.evaluate("window.scrollY"));
      expect(scroll).toBeGreaterThan(0);
      await page.keyboard.press("Enter");
      await page.waitForSelector("#detail:not([hidden]) [data-section='object']");
      expect(new URL(page.url()).searchParams.get("key")).toBe(opened);

      // Act: the browser's Back button.
      await page.goBack();

      // Assess: the record is closed and the page is the listing still, as it was, focus on the entry it left.
      await poll(() => page.locator("#detail").isHidden()).toBe(true);
      expect([...new URL(page.url()).searchParams]).toEqual([["prefix", LONG_FOLDER]]);
      expect(await page.textContent("#view-title")).toBe(`/${LONG_FOLDER}`);
      expect(await page.evaluate(FOCUSED)).toBe(opened);
      const box = await entry.boundingBox();
      // In sight: its middle within the window (a wide screen's last row may end a fraction of a pixel below).
      expect(box && box.y >= 0 && box.y + box.height / 2 <= height).toBe(true);
      if (covers) expect(await page.evaluate("window.scrollY")).toBe(scroll);
      expect(await exposed("navigation")).toContain("Views");
      // Forward opens the record again, focus in it where it covers the listing, else on the
      // entry still, and Escape closes it back to the entry.
      await page.goForward();
      await poll(() => page.textContent("#detail-title")).toBe(opened.slice(LONG_FOLDER.length));
      expect(await page.evaluate(covers ? FOCUS_PLACE : FOCUSED)).toBe(covers ? "detail" : opened);
      await page.keyboard.press("Escape");
      await poll(() => page.locator("#detail").isHidden()).toBe(true);
      expect(await page.evaluate(FOCUSED)).toBe(opened);
      expect(incidents).toEqual([]);
    },
  );

  it("leaves the page around the record in reach on a wide screen, where the panel sits beside the listing", async () => {
    await openPage(1280, 800);
    await show(`/?${new URLSearchParams({ prefix: "trip/", key: PHOTO })}`);
    await page.waitForSelector("#detail:not([hidden]) [data-section='exif']");
    expect(await exposed("navigation")).toContain("Views");
    await page.locator(`#content [data-key="${NOTES}"]`).focus();
    expect(await page.evaluate(FOCUSED)).toBe(NOTES);
    expect(incidents).toEqual([]);
  });

  it("lets Escape in the name filter clear the filter only, and the next Escape close the record", async () => {
    // Prepare: a record open beside the listing, a name typed into "Names starting with".
    await openPage(1280, 800);
    await show(`/?${new URLSearchParams({ prefix: "trip/", key: PHOTO })}`);
    await page.waitForSelector("#detail:not([hidden]) [data-section='exif']");
    await page.locator("#filter-startsWith").focus();
    await page.keyboard.type("DSCN");

    // Act, then assess: the first Escape empties the field and leaves the record open.
    await page.keyboard.press("Escape");
    expect(await page.inputValue("#filter-startsWith")).toBe("");
    expect(await page.locator("#detail").isHidden()).toBe(false);
    // With the field empty, Escape closes the record, as anywhere else on the page.
    await page.keyboard.press("Escape");
    await poll(() => page.locator("#detail").isHidden()).toBe(true);
    expect(incidents).toEqual([]);
  });

  it("puts focus back on Upload when the uploads panel is hidden, and never hides it from under focus", async () => {
    // Prepare: a file chosen from the keyboard (Space on Upload), through the browser's file chooser.
    await openPage(1280, 800);
    await page.clock.install();
    await show("/?prefix=typed/");
    // Listening for the chooser asks the browser to hand choosers over, a request Playwright sends without waiting
    // for it. Listening before focusing leaves the focus call's round trips between that request and Space; pressed
    // straight after it, Space could open the chooser before the request arrived, and the wait outlast the test.
    const chooser = page.waitForEvent("filechooser");
    await page.focus("#file-input");
    await page.keyboard.press("Space");
    await (await chooser).setFiles([
      { name: "first.txt", mimeType: "text/plain", buffer: Buffer.from("first\n") },
    ]);
    await poll(() => page.locator("#upload-list .state.done").count()).toBe(1);

    // Act: focus in the panel, and longer than the panel waits before it tidies itself away.
    await page.focus("#uploads-close");
    await page.clock.fastForward(10_000);

    // Assess: the panel waits for the person in it; its close button sends focus back where uploads start.
    expect(await page.locator("#uploads").isVisible()).toBe(true);
    expect(await page.evaluate(FOCUSED)).toBe("uploads-close");
    await page.keyboard.press("Enter");
    expect(await page.locator("#uploads").isHidden()).toBe(true);
    expect(await page.evaluate(FOCUSED)).toBe("file-input");
    expect(incidents).toEqual([]);
  });

  it("says to a screen reader how the uploads ended, a refused file and its reason included", async () => {
    // Prepare: one file the server stores and one it refuses.
    await openPage(1280, 800);
    await show("/?prefix=said/");

    // Act
    await page.setInputFiles("#file-input", [
      { name: "kept.txt", mimeType: "text/plain", buffer: Buffer.from("kept\n") },
      { name: "bad\u0001name.txt", mimeType: "text/plain", buffer: Buffer.from("refused\n") },
    ]);
    await poll(() => page.locator("#upload-list .state.failed").count()).toBe(1);
    await poll(() => page.locator("#upload-list .state.done").count()).toBe(1);

    // Assess: a status message, which a screen reader speaks without focus moving, names both outcomes.
    const said = page.getByRole("status").filter({ hasText: "failed" });
    await poll(() => said.count()).toBe(1);
    const text = await said.textContent();
    expect(text).toContain("1 uploaded");
    expect(text).toContain("/said/bad⟨U+0001⟩name.txt");
    // The browser logs the server's refusal of the badly named file; nothing else may go wrong.
    expect(incidents.filter((incident) => !incident.includes("400 (Bad Request)"))).toEqual([]);
  });

  it("says how the last uploads ended, not the earlier ones the panel still lists", async () => {
    // Prepare: a first batch, one file refused, which keeps the panel open with both rows.
    await openPage(1280, 800);
    await show("/?prefix=batches/");
    await page.setInputFiles("#file-input", [
      { name: "first.txt", mimeType: "text/plain", buffer: Buffer.from("first\n") },
      { name: "bad\u0001name.txt", mimeType: "text/plain", buffer: Buffer.from("refused\n") },
    ]);
    const outcome = () => page.textContent("#upload-outcome");
    await poll(outcome).toContain("Uploads: 1 uploaded, 1 failed.");

    // Act: a second batch, both files stored.
    await page.setInputFiles("#file-input", [
      { name: "second.txt", mimeType: "text/plain", buffer: Buffer.from("second\n") },
      { name: "third.txt", mimeType: "text/plain", buffer: Buffer.from("third\n") },
    ]);

    // Assess: the message speaks of the second batch alone; the panel keeps the refused file in sight.
    await poll(() => page.locator("#upload-list .state.done").count()).toBe(3);
    await poll(outcome).toBe("Uploads: 2 uploaded.");
    expect(await page.locator("#upload-list .state.failed").count()).toBe(1);
    expect(incidents.filter((incident) => !incident.includes("400 (Bad Request)"))).toEqual([]);
  });

  it("announces each file the live feed brings through a status message that is in place before it speaks", async () => {
    // Prepare: a folder on screen, the live feed open, nothing announced yet.
    await openPage(1280, 800);
    await show("/?prefix=fed/");
    expect(await page.textContent("#toast")).toBe("");

    // Assess: the message's region is in the accessibility tree already, so a change to it is heard
    // (a region that appears together with its text is, for most screen readers, not a change).
    expect(await treeRole("#toast")).toBe("status");

    // Act
    await putCataloged(catalog, "fed/arrived.txt", "arrived\n");

    // Assess: the message says what arrived, in sight, in the same region.
    await poll(() => page.textContent("#toast")).toBe("Cataloged: fed/arrived.txt");
    expect(await treeRole("#toast")).toBe("status");
    expect(await page.locator("#toast").isVisible()).toBe(true);
    expect(incidents).toEqual([]);
  });

  it("shows the figures of Uploads per day, which the bars give a pointer only, to a keyboard", async () => {
    // Prepare: Stats, whose daily bars name their figures in a tooltip on hover.
    await openPage(1280, 800);
    await show("/?view=stats");
    const figures = page.locator("#chart-days table");
    // What holds the table: cut to one pixel while the figures are for assistive technology only.
    const shown = async () => ((await figures.locator("xpath=..").boundingBox())?.height ?? 0) > 1;
    expect(await shown()).toBe(false);

    // Act: the chart's button, reached with Tab and pressed with Enter.
    expect(await page.locator("#chart-days").getByRole("button", { name: "Show figures" }).count()).toBe(1);
    const button = page.locator("#chart-days").getByRole("button");
    await button.focus();
    await page.keyboard.press("Enter");

    // Assess: every day's count in sight, and Space puts them away again.
    expect(await shown()).toBe(true);
    expect(await button.getAttribute("aria-expanded")).toBe("true");
    expect(await button.textContent()).toBe("Hide figures");
    const today = new Date().toISOString().slice(0, 10);
    expect(await figures.getByRole("row", { name: new RegExp(`^${today} `) }).textContent()).toMatch(
      new RegExp(`^${today}[1-9]`),
    );
    await page.keyboard.press("Space");
    expect(await shown()).toBe(false);
    expect(await button.getAttribute("aria-expanded")).toBe("false");
    expect(incidents).toEqual([]);
  });
});
