import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DeleteObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { serve } from "@hono/node-server";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { LocalStack } from "../../src/local/local-stack.js";
import { createApp } from "../../src/server/app.js";
import {
  appOverNewTable,
  type LocalCatalog,
  pdfWithTitle,
  putCataloged,
  startLocalCatalog,
} from "../server/local-catalog.js";
import { CHROMIUM, CHROMIUM_ARGS, poll, recordIncidents } from "../support/chromium.js";
import { corpusFile } from "../support/corpus.js";
import { testRecord } from "../support/records.js";
import { describeWith, itWith } from "../support/tools.js";

let catalog: LocalCatalog;
let browser: Browser;
let page: Page;
/** Everything the page did that it should not: dialogs, script errors, CSP violations. */
let incidents: string[] = [];

function card(key: string) {
  return page.locator(`#content [data-key="${key.replace(/["\\]/g, "\\$&")}"]`);
}

/**
 * An MP3 whose ID3v2.4 tag holds the given title and artist (UTF-8 text
 * frames) ahead of a real MPEG stream from the corpus.
 */
async function mp3WithTitle(title: string): Promise<Buffer> {
  const frame = (id: string, text: string) => {
    const data = Buffer.concat([Buffer.from([3]), Buffer.from(text, "utf8")]);
    const header = Buffer.alloc(10);
    header.write(id, 0, "latin1");
    // ID3v2.4 frame sizes are synchsafe: seven bits a byte.
    header.writeUInt32BE(
      ((data.length & 0xfe00000) << 3) |
        ((data.length & 0x1fc000) << 2) |
        ((data.length & 0x3f80) << 1) |
        (data.length & 0x7f),
      4,
    );
    return Buffer.concat([header, data]);
  };
  const frames = Buffer.concat([frame("TIT2", title), frame("TPE1", title)]);
  const size = frames.length;
  const tagSize = Buffer.from([(size >> 21) & 0x7f, (size >> 14) & 0x7f, (size >> 7) & 0x7f, size & 0x7f]);
  const audio = await readFile(corpusFile("filetype-fixture.mp3"));
  return Buffer.concat([Buffer.from("ID3\x04\x00\x00", "latin1"), tagSize, frames, audio]);
}

/** Runs in the page: how far the document is wider than the window (0 when nothing sticks out). */
const OVERFLOW = "document.documentElement.scrollWidth - document.documentElement.clientWidth";

/** A fresh page of the given size, its incidents recorded. */
async function openPage(width = 1440, height = 900): Promise<Page> {
  await page?.close();
  incidents = [];
  page = await browser.newPage({ viewport: { width, height } });
  recordIncidents(page, (incident) => incidents.push(incident));
  return page;
}

beforeAll(async () => {
  catalog = await startLocalCatalog({ listen: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}, 60_000);

afterEach(async () => {
  await page?.close();
});

afterAll(async () => {
  await browser?.close();
  await catalog?.close();
});

describeWith("chromium")("dashboard as people use it", () => {
  it("says 'not live' when the server's stream announces nothing (hello.live: false)", async () => {
    // Prepare: the catalog's HTTP app without a record feed, as an embedder may mount it.
    const dataDir = await mkdtemp(join(tmpdir(), "catalog-not-live-"));
    const stack = await LocalStack.start({ s3Port: 0, dynamodbPort: 0, dataDir, logLevel: "SILENT" });
    const app = createApp({
      store: stack.store,
      bucket: stack.bucket,
      dispatcher: stack.dispatcher,
      deadLetterFile: stack.deadLetterFile,
      s3Client: stack.s3Client,
      derivedPrefix: stack.derivedPrefix,
    });
    const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
      const started = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, () => resolve(started));
    });
    try {
      await openPage();
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

      // Act
      await page.goto(`${url}/?view=browse`);
      await poll(() => page.textContent("#view-title")).toBe("Bucket root");

      // Assess: the stream is open, yet the page does not claim updates it will never get.
      await poll(() => page.textContent("#live")).toBe("not live");
      expect(await page.getAttribute("#live", "class")).not.toContain("on");
      expect(await page.getAttribute("#live", "title")).toContain("reload");
    } finally {
      await page.close();
      (server as unknown as { closeAllConnections(): void }).closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await stack.close();
      await rm(dataDir, { recursive: true, force: true });
    }

    // And a server with a feed is still "live".
    await openPage();
    await page.goto(`${catalog.url}/?view=browse`);
    await poll(() => page.textContent("#live")).toBe("live");
    expect(await page.getAttribute("#live", "class")).toContain("on");
  }, 60_000);

  it("names the backfill, with the flags that reach this stack, for a folder whose objects S3 holds and the catalog does not", async () => {
    // Prepare: two files cataloged here, then the app over a table that lost its records, on this
    // stack's own ports and with a policy file, as `catalog dev` hands them to it.
    await putCataloged(catalog, "never-cataloged/a.txt", "a\n");
    await putCataloged(catalog, "never-cataloged/sub/b.txt", "b\n");
    await putCataloged(catalog, "never-cataloged/sub/c.txt", "c\n");
    await putCataloged(catalog, "partly-cataloged/x.txt", "x\n");
    await putCataloged(catalog, "partly-cataloged/y.txt", "y\n");
    await putCataloged(catalog, "team's <notes>; $HOME/a.txt", "a\n");
    const { s3, dynamodb } = catalog.stack;
    const { app, store } = await appOverNewTable(catalog, "catalog-lost", {
      backfillFlags: [
        "--s3-endpoint",
        s3.endpoint,
        "--dynamodb-endpoint",
        dynamodb.endpoint,
        "--table",
        "catalog-lost",
        "--policy-file",
        "/srv/team policies/strict.json",
      ],
    });
    // Pasted into a shell, the command reaches this stack's servers and table and judges objects by its policy.
    const flags = `--s3-endpoint ${s3.endpoint} --dynamodb-endpoint ${dynamodb.endpoint} --table catalog-lost --policy-file '/srv/team policies/strict.json'`;
    // Of the second folder, the table holds one record, as a lost event leaves it.
    await store.putRecord(
      testRecord({
        bucket: catalog.stack.bucket,
        key: "partly-cataloged/x.txt",
        size: 2,
        eventTime: new Date().toISOString(),
      }),
    );
    const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
      const started = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, () => resolve(started));
    });
    try {
      await openPage();
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const bucket = catalog.stack.bucket;

      // Act: a folder with only files, then one with a sub-folder beside them.
      await page.goto(`${url}/?view=browse&prefix=${encodeURIComponent("never-cataloged/sub/")}`);

      // Assess: the listing says what S3 holds and the command, not "nothing here".
      await poll(() => page.textContent("#content .empty")).toBe(
        `2 objects in S3 here, none cataloged: catalog backfill s3://${bucket}/never-cataloged/sub/ ${flags} catalogs them.`,
      );
      await page.goto(`${url}/?view=browse&prefix=${encodeURIComponent("never-cataloged/")}`);
      await poll(() => page.textContent("#view-note")).toBe(
        `1 folder, 0 objects. 1 object in S3 here, none cataloged: catalog backfill s3://${bucket}/never-cataloged/ ${flags} catalogs it.`,
      );

      // A folder partly cataloged lists what the catalog has and says what it lacks.
      await page.goto(`${url}/?view=browse&prefix=${encodeURIComponent("partly-cataloged/")}`);
      await poll(() => page.textContent("#view-note")).toBe(
        `0 folders, 1 object. 1 object in S3 here is not cataloged: catalog backfill s3://${bucket}/partly-cataloged/ ${flags} catalogs it.`,
      );

      // A folder whose name a shell would read otherwise is quoted, so that the command runs as shown.
      await page.goto(`${url}/?view=browse&prefix=${encodeURIComponent("team's <notes>; $HOME/")}`);
      await poll(() => page.textContent("#content .empty")).toBe(
        `1 object in S3 here, none cataloged: catalog backfill 's3://${bucket}/team'\\''s <notes>; $HOME/' ${flags} catalogs it.`,
      );

      // A folder under the derived prefix, reached by its address: its files are never cataloged, and
      // the page says so rather than inviting uploads there.
      await page.goto(`${url}/?view=browse&prefix=${encodeURIComponent(catalog.stack.derivedPrefix)}`);
      await poll(() => page.textContent("#content .empty")).toBe(
        "Derived files (thumbnails) are kept here. They are never cataloged: each is shown in the record of the file it was made from.",
      );
      expect(incidents).toEqual([]);
    } finally {
      await page.close();
      (server as unknown as { closeAllConnections(): void }).closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }, 60_000);

  it("breaks keys of a thousand characters instead of widening the page, in every view", async () => {
    // Prepare: a deep folder of two 300-character names, a 900-character key, two of them with the
    // same content (a duplicate group), and a problem whose key and reason are as long.
    const folder = `${"F".repeat(300)}/${"G".repeat(300)}/`;
    const long = `long/${"L".repeat(900)}.txt`;
    await putCataloged(catalog, `${folder}deep.txt`, "same bytes");
    await putCataloged(catalog, long, "same bytes");
    await catalog.stack.store.putRecord(
      testRecord({
        bucket: catalog.stack.bucket,
        key: `long/${"P".repeat(900)}.bin`,
        eventTime: new Date().toISOString(),
        status: "error",
        reasons: [`unreadable: ${"R".repeat(2_000)}`],
      }),
    );
    await openPage();
    await page.goto(`${catalog.url}/`);

    for (const layout of ["grid", "list"]) {
      await page.evaluate(`localStorage.setItem("layout", "${layout}")`);
      for (const [path, ready] of [
        ["/", card(long)],
        [`/?${new URLSearchParams({ prefix: folder })}`, card(`${folder}deep.txt`)],
        ["/?prefix=long/", card(long)],
        [
          `/?${new URLSearchParams({ prefix: "long/", key: long })}`,
          page.locator("#detail [data-section='audit']"),
        ],
        ["/?view=problems", page.locator("#content tr[data-key]")],
        ["/?view=duplicates", page.locator("#content .group")],
      ] as const) {
        await page.goto(`${catalog.url}${path}`);
        await ready.first().waitFor();
        await page.screenshot({ path: join(tmpdir(), `catalog-long-${layout}-${path.length}.png`) });
        // Assess: nothing sticks out of the window, whatever the length of a key.
        expect({ layout, path: path.slice(0, 40), overflow: await page.evaluate(OVERFLOW) }).toEqual({
          layout,
          path: path.slice(0, 40),
          overflow: 0,
        });
      }
    }
    // A folder's crumb is cut short but still names the whole folder.
    await page.goto(`${catalog.url}/?${new URLSearchParams({ prefix: folder })}`);
    await poll(() => page.textContent("#view-title")).toBe(`/${folder}`);
    expect(await page.getAttribute("#breadcrumbs a[title]", "title")).toBe("F".repeat(300));
    expect(incidents).toEqual([]);
  }, 90_000);

  it("fits the widths between a phone and a desktop: the tabs take a row of their own, Upload stays in the window", async () => {
    for (const width of [720, 800, 860, 900, 1024]) {
      await openPage(width, 800);
      await page.goto(`${catalog.url}/`);
      await poll(() => page.textContent("#view-title")).toBe("Recent uploads");
      const upload = await page.locator(".upload-button").boundingBox();
      expect({
        width,
        overflow: await page.evaluate(OVERFLOW),
        uploadInside: (upload?.x ?? 0) + (upload?.width ?? 0) <= width,
      }).toEqual({
        width,
        overflow: 0,
        uploadInside: true,
      });
    }
  });

  it("says a relative time again as the minutes pass, without a reload", async () => {
    await putCataloged(catalog, "clock/note.txt", "a note for the clock");
    await openPage();
    // The page's own clock, moved on by the test: its timers run as two minutes pass.
    await page.clock.install();
    await page.goto(`${catalog.url}/?prefix=clock/`);
    await card("clock/note.txt").waitFor();
    expect(await card("clock/note.txt").textContent()).toContain("just now");

    await page.clock.fastForward(2 * 60_000 + 5_000);

    await poll(() => card("clock/note.txt").textContent()).toContain("2 min ago");
    expect(incidents).toEqual([]);
  });

  it("greys Grid and List on the views drawn one way, and says when a filter leaves Recent empty", async () => {
    await openPage();
    await page.goto(`${catalog.url}/?view=problems`);
    await poll(() => page.textContent("#view-title")).toBe("Problems");
    expect(await page.isDisabled("#layout-grid")).toBe(true);
    expect(await page.getAttribute("#layout-grid", "aria-pressed")).toBe("false");
    expect(await page.getAttribute("#layout-list", "aria-pressed")).toBe("false");

    // Recent draws cards or a list: the choice is back, as it was.
    await page.click("#tab-recent");
    await poll(() => page.isDisabled("#layout-grid")).toBe(false);
    expect(await page.getAttribute("#layout-grid", "aria-pressed")).toBe("true");

    // No executable here: the filter says so, not that the bucket is empty.
    await page.selectOption("#filter-category", "executable");
    await poll(() => page.textContent("#content")).toBe("No executable files uploaded in the last 7 days.");
    expect(incidents).toEqual([]);
  });

  it("fits a 375 px phone screen: no sideways scrolling, the record over the whole screen", async () => {
    await putCataloged(catalog, "phone/photo notes.txt", "notes");
    await openPage(375, 800);
    await page.goto(`${catalog.url}/`);
    for (const layout of ["grid", "list"]) {
      await page.evaluate(`localStorage.setItem("layout", "${layout}")`);
      for (const path of ["/", "/?prefix=phone/", "/?view=problems", "/?view=duplicates", "/?view=stats"]) {
        await page.goto(`${catalog.url}${path}`);
        await page.locator("#content > *").first().waitFor();
        await page.screenshot({ path: join(tmpdir(), `catalog-phone-${layout}-${path.length}.png`) });
        expect({ layout, path, overflow: await page.evaluate(OVERFLOW) }).toEqual({
          layout,
          path,
          overflow: 0,
        });
      }
    }

    // A record opened on a phone covers the screen, its close button in reach, and closes back to the listing.
    await page.goto(`${catalog.url}/?prefix=phone/`);
    await card("phone/photo notes.txt").click();
    await page.waitForSelector("#detail:not([hidden]) [data-section='object']");
    expect(await page.locator("#detail").boundingBox()).toMatchObject({ x: 0, width: 375 });
    const close = await page.locator("#detail-close").boundingBox();
    expect(close && close.x + close.width).toBeLessThanOrEqual(375);
    await page.click("#detail-close");
    await poll(() => page.locator("#detail").isHidden()).toBe(true);
    expect(incidents).toEqual([]);
  }, 60_000);

  it.each([7, 31])(
    "draws the Stats charts' text at 12 px on a 375 px phone, no two labels overlapping (%i days)",
    async (days) => {
      // Prepare: something uploaded today, so every chart has bars and labels.
      await putCataloged(catalog, "charts/notes.txt", "notes\n");
      await openPage(375, 800);

      // Errors the browser raises without a word on the console (a resize observer's loop among them).
      await page.addInitScript(
        "window.raised = []; window.addEventListener('error', (event) => window.raised.push(event.message));",
      );

      // Act: the Stats view, drawn wider first, then as the phone is held.
      await page.setViewportSize({ width: 500, height: 800 });
      await page.goto(`${catalog.url}/?view=stats&days=${days}`);
      await page.waitForSelector("#chart-count svg text");
      await page.setViewportSize({ width: 375, height: 800 });
      // Two frames: the resize laid out, and whatever the page does about it drawn.
      await page.evaluate(
        "new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)))",
      );
      await poll(() => page.locator("#chart-days svg rect").count()).toBe(days);

      // Assess: each text's size as drawn on screen, its font size scaled as its drawing is, and where it lies.
      const charts = (await page.evaluate(`[...document.querySelectorAll("#content .chart")].map((chart) => {
      const drawing = chart.querySelector("svg").getBoundingClientRect();
      return {
        id: chart.id,
        texts: [...chart.querySelectorAll("svg text")].map((text) => {
          const box = text.getBoundingClientRect();
          const size = parseFloat(getComputedStyle(text).fontSize) * text.getScreenCTM().a;
          return { text: text.textContent, size, left: box.left, right: box.right, top: box.top, bottom: box.bottom,
            inside: box.left >= drawing.left && box.right <= drawing.right };
        }),
      };
    })`)) as {
        id: string;
        texts: {
          text: string;
          size: number;
          left: number;
          right: number;
          top: number;
          bottom: number;
          inside: boolean;
        }[];
      }[];
      expect(charts.map((chart) => chart.id)).toEqual(["chart-count", "chart-bytes", "chart-days"]);
      for (const { id, texts } of charts) {
        expect(texts.length).toBeGreaterThan(2);
        for (const text of texts)
          expect({ id, ...text, size: Math.round(text.size) }).toMatchObject({ size: 12, inside: true });
        const overlapping = texts.flatMap((one, index) =>
          texts
            .slice(index + 1)
            .filter(
              (other) =>
                one.right > other.left &&
                other.right > one.left &&
                one.bottom > other.top &&
                other.bottom > one.top,
            )
            .map((other) => `${one.text} / ${other.text}`),
        );
        expect({ id, overlapping }).toEqual({ id, overlapping: [] });
      }
      // The day labels name today, the newest bar, and more than one other day.
      const labels = charts[2]?.texts.map((text) => text.text) ?? [];
      expect(labels).toContain(new Date().toISOString().slice(5, 10));
      expect(labels.filter((label) => /^\d\d-\d\d$/.test(label)).length).toBeGreaterThan(2);
      expect(await page.evaluate(OVERFLOW)).toBe(0);
      expect(await page.evaluate("window.raised")).toEqual([]);
      expect(incidents).toEqual([]);
    },
    60_000,
  );

  it("keeps every tab in sight on a phone, with no sideways scrolling of the tab row", async () => {
    for (const width of [375, 320]) {
      await openPage(width, 800);
      await page.goto(`${catalog.url}/`);
      await poll(() => page.textContent("#view-title")).toBe("Recent uploads");

      // Assess: every tab lies wholly inside the window, and the tab row has nothing to scroll to.
      const tabs = page.locator(".tabs a");
      expect(await tabs.count()).toBe(5);
      for (const tab of await tabs.all()) {
        const box = await tab.boundingBox();
        expect({
          width,
          tab: await tab.textContent(),
          inside: box && box.x >= 0 && box.x + box.width <= width,
        }).toEqual({
          width,
          tab: await tab.textContent(),
          inside: true,
        });
      }
      expect(await page.locator(".tabs").evaluate((node) => node.scrollWidth - node.clientWidth)).toBe(0);
      await page.screenshot({ path: join(tmpdir(), `catalog-phone-tabs-${width}.png`) });

      // And the last one opens its view with a plain tap where it is.
      const stats = await page.locator("#tab-stats").boundingBox();
      await page.mouse.click((stats?.x ?? 0) + 5, (stats?.y ?? 0) + 5);
      await poll(() => page.textContent("#view-title")).toBe("Statistics");
    }
    expect(incidents).toEqual([]);
  }, 60_000);

  it("names zero-width characters, so two keys or titles that differ by one never look the same", async () => {
    // Prepare: a key and an ID3 title with a zero-width space, the key without it, and a key whose
    // zero-width joiners build an emoji (where they are not hidden but shape what is shown).
    const disguised = "zero-width/pay\u200Bpal.txt";
    const plain = "zero-width/paypal.txt";
    const family = "zero-width/\u{1F468}\u200D\u{1F469}\u200D\u{1F467}.txt";
    await putCataloged(catalog, disguised, "one");
    await putCataloged(catalog, plain, "two");
    await putCataloged(catalog, family, "three");
    await putCataloged(catalog, "zero-width/song.mp3", await mp3WithTitle("pay\u200Bpal\u2060"));
    await openPage();

    // Act
    await page.goto(`${catalog.url}/?prefix=zero-width/`);
    await card(plain).waitFor();

    // Assess: the disguised key reads differently from the plain one; the emoji stays whole.
    expect(await card(disguised).locator(".name").textContent()).toBe("pay⟨U+200B⟩pal.txt");
    expect(await card(plain).locator(".name").textContent()).toBe("paypal.txt");
    expect(await card(family).locator(".name").textContent()).toBe(
      "\u{1F468}\u200D\u{1F469}\u200D\u{1F467}.txt",
    );
    await card("zero-width/song.mp3").click();
    await poll(() => page.textContent("[data-section='tags'] dd[data-field='title']")).toBe(
      "pay⟨U+200B⟩pal⟨U+2060⟩",
    );
    expect(incidents).toEqual([]);
  }, 60_000);

  it("names each upload in its panel as stored, and keeps a refused file's name in sight", async () => {
    await openPage();
    await page.goto(`${catalog.url}/?prefix=renamed/`);
    await poll(() => page.textContent("#view-title")).toBe("/renamed/");

    // Act: a Linux file name with a backslash (the server keeps what follows it), and one the
    // server refuses with a long message.
    await page.setInputFiles("#file-input", [
      { name: "draft\\final.txt", mimeType: "text/plain", buffer: Buffer.from("text") },
      { name: "invoice\u202Efdp.exe", mimeType: "text/plain", buffer: Buffer.from("text") },
    ]);

    // Assess: the panel names the key the catalog shows, and a failure does not hide its file.
    await card("renamed/final.txt").waitFor();
    const stored = page.locator("#upload-list li", { has: page.locator(".state.done") });
    await poll(() => stored.locator(".file").textContent()).toBe("/renamed/final.txt");
    const refused = page.locator("#upload-list li", { has: page.locator(".state.failed") });
    await poll(() => refused.locator(".state").textContent()).toContain("failed");
    expect(await refused.locator(".file").textContent()).toBe("/renamed/invoice⟨U+202E⟩fdp.exe");
    expect((await refused.locator(".file").boundingBox())?.width).toBeGreaterThan(100);
    await page.screenshot({ path: join(tmpdir(), "catalog-upload-panel.png") });
    // The refusal itself is reported by the browser as a failed request; nothing else is.
    expect(incidents.filter((text) => !text.includes("400"))).toEqual([]);
  }, 60_000);

  it("uploads files named in any script under their own names, as S3 lists them back", async () => {
    const names = [
      "spa ce+plus ção.jpg",
      "Расчёт иска.txt",
      "日本語テスト.txt",
      "تقرير ٢٠٢٦.txt",
      "🦀 crab.txt",
    ];
    await openPage();
    await page.goto(`${catalog.url}/?prefix=scripts/`);
    await poll(() => page.textContent("#view-title")).toBe("/scripts/");

    // Act: the browser's own upload, which sends each name as raw UTF-8 in filename=.
    await page.setInputFiles(
      "#file-input",
      names.map((name) => ({ name, mimeType: "text/plain", buffer: Buffer.from(name) })),
    );

    // Assess: each card and each stored key bears the name as chosen.
    for (const name of names) await card(`scripts/${name}`).waitFor();
    const listed = await catalog.stack.s3Client.send(
      new ListObjectsV2Command({ Bucket: catalog.stack.bucket, Prefix: "scripts/" }),
    );
    expect((listed.Contents ?? []).map((object) => object.Key).sort()).toEqual(
      names.map((name) => `scripts/${name}`).sort(),
    );
    expect(await card("scripts/spa ce+plus ção.jpg").locator(".name").textContent()).toBe(
      "spa ce+plus ção.jpg",
    );
    expect(incidents).toEqual([]);
  }, 60_000);

  it("names the open record, else the open folder, in the window title, back button included", async () => {
    const photo = "titled/a.jpg";
    const disguised = "titled/pay\u200Bpal\u202Efdp.exe";
    await putCataloged(catalog, photo, "not really a photo");
    await putCataloged(catalog, disguised, "text");
    await openPage();

    // Act and assess: a folder, then two records opened in turn, then back twice.
    await page.goto(`${catalog.url}/?prefix=titled/`);
    await poll(() => page.title()).toBe("/titled/ — s3-metadata-catalog");
    await card(photo).click();
    await poll(() => page.title()).toBe("a.jpg — s3-metadata-catalog");
    await card(disguised).click();
    // Invisible and reordering characters are named, as everywhere on the page.
    await poll(() => page.title()).toBe("pay⟨U+200B⟩pal⟨U+202E⟩fdp.exe — s3-metadata-catalog");
    await page.goBack();
    await poll(() => page.title()).toBe("a.jpg — s3-metadata-catalog");
    await page.goBack();
    await poll(() => page.title()).toBe("/titled/ — s3-metadata-catalog");

    // Another view, and back to the record from a deep link.
    await page.goto(`${catalog.url}/?${new URLSearchParams({ prefix: "titled/", key: photo })}`);
    await poll(() => page.title()).toBe("a.jpg — s3-metadata-catalog");
    await page.click("#tab-stats");
    await poll(() => page.title()).toBe("Statistics — s3-metadata-catalog");
    await page.goBack();
    await poll(() => page.title()).toBe("a.jpg — s3-metadata-catalog");
    await page.click("#detail-close");
    await poll(() => page.title()).toBe("/titled/ — s3-metadata-catalog");
    expect(incidents).toEqual([]);
  }, 60_000);

  it("closes a record opened from the listing back to the listing's entry, so Back leaves the listing", async () => {
    await putCataloged(catalog, "closing/a.txt", "a");
    await putCataloged(catalog, "closing/b.txt", "b");
    await openPage();
    await page.goto(`${catalog.url}/?view=stats`);
    await poll(() => page.title()).toBe("Statistics — s3-metadata-catalog");
    await page.goto(`${catalog.url}/?prefix=closing/`);
    await poll(() => page.title()).toBe("/closing/ — s3-metadata-catalog");

    // Act: a record opened and closed with its button, one opened and closed with Escape, then Back.
    for (const close of [() => page.click("#detail-close"), () => page.keyboard.press("Escape")]) {
      await card("closing/a.txt").click();
      await poll(() => page.title()).toBe("a.txt — s3-metadata-catalog");
      await close();
      await poll(() => page.title()).toBe("/closing/ — s3-metadata-catalog");
      expect(new URL(page.url()).searchParams.has("key")).toBe(false);
    }
    await page.goBack();

    // Assess: the page before the listing, not the record again.
    await poll(() => page.title()).toBe("Statistics — s3-metadata-catalog");
    await page.goForward();
    await poll(() => page.title()).toBe("/closing/ — s3-metadata-catalog");
    expect(await page.locator("#detail").isHidden()).toBe(true);

    // A record opened over another one closes to the listing as a step of its own: Back shows the first.
    await card("closing/a.txt").click();
    await poll(() => page.title()).toBe("a.txt — s3-metadata-catalog");
    await card("closing/b.txt").click();
    await poll(() => page.title()).toBe("b.txt — s3-metadata-catalog");
    await page.click("#detail-close");
    await poll(() => page.title()).toBe("/closing/ — s3-metadata-catalog");
    await page.goBack();
    await poll(() => page.title()).toBe("b.txt — s3-metadata-catalog");
    expect(incidents).toEqual([]);
  }, 60_000);

  it("shows the message of a cataloged upload clear of the uploads panel, on a tablet and on a phone", async () => {
    for (const [width, height] of [
      [800, 900],
      [390, 844],
    ] as const) {
      await openPage(width, height);
      await page.goto(`${catalog.url}/?prefix=toast/`);
      await poll(() => page.textContent("#view-title")).toBe("/toast/");
      await poll(() => page.textContent("#live")).toBe("live");

      // Act: a file picked, uploaded and cataloged while the panel shows its bar.
      await page.setInputFiles("#file-input", [
        { name: `note-${width}.txt`, mimeType: "text/plain", buffer: Buffer.from(`a note at ${width} px`) },
      ]);
      await poll(() => page.textContent("#toast")).toBe(`Cataloged: toast/note-${width}.txt`);

      // Assess: both in sight, neither over the other.
      const panel = await page.locator("#uploads").boundingBox();
      const message = await page.locator("#toast").boundingBox();
      expect(panel && message).toBeTruthy();
      if (!panel || !message) continue;
      const apart =
        message.y + message.height <= panel.y ||
        panel.y + panel.height <= message.y ||
        message.x + message.width <= panel.x ||
        panel.x + panel.width <= message.x;
      expect({ width, apart }).toEqual({ width, apart: true });
      expect(incidents).toEqual([]);
    }
  });

  it("shows a refused upload's bar as failed, not full as if it had succeeded", async () => {
    await openPage();
    await page.goto(`${catalog.url}/?prefix=refused/`);
    await poll(() => page.textContent("#view-title")).toBe("/refused/");

    // Act: one file the server stores, and one whose name it refuses once every byte is sent.
    await page.setInputFiles("#file-input", [
      { name: "kept.txt", mimeType: "text/plain", buffer: Buffer.from("text") },
      { name: "invoice\u202Efdp.exe", mimeType: "text/plain", buffer: Buffer.from("text") },
    ]);
    const stored = page.locator("#upload-list li", { has: page.locator(".state.done") });
    const refused = page.locator("#upload-list li", { has: page.locator(".state.failed") });
    await poll(() => stored.count()).toBe(1);
    await poll(() => refused.count()).toBe(1);

    // Assess: the refused bar is drawn and announced as failed, the stored one as it was.
    const bar = (row: typeof stored) =>
      row.locator("progress").evaluate((node) => {
        const progress = node as unknown as { getAttribute(name: string): string | null };
        const view = globalThis as unknown as { getComputedStyle(node: unknown): { accentColor: string } };
        return {
          valuetext: progress.getAttribute("aria-valuetext"),
          accent: view.getComputedStyle(node).accentColor,
        };
      });
    expect(await bar(refused)).toEqual({ valuetext: "failed", accent: "rgb(176, 42, 42)" });
    expect(await bar(stored)).toEqual({ valuetext: null, accent: "auto" });
    // The bar is described by the message, which is whole and inside the panel.
    const message = refused.locator(".state");
    expect(await message.textContent()).toMatch(/^failed: .*bidirectional controls/);
    const described = await refused.locator("progress").getAttribute("aria-describedby");
    expect(await message.getAttribute("id")).toBe(described);
    const box = await message.boundingBox();
    const panel = await page.locator("#uploads").boundingBox();
    expect(box && panel && box.x + box.width <= panel.x + panel.width).toBe(true);
    expect(await page.locator("#uploads").evaluate((node) => node.scrollWidth - node.clientWidth)).toBe(0);
    await refused.screenshot({ path: join(tmpdir(), "catalog-upload-refused.png") });
    expect(incidents.filter((text) => !text.includes("400"))).toEqual([]);
  }, 60_000);

  it("cuts a title of 10,000 characters to a few lines, with a button that shows it all", async () => {
    // Prepare: a PDF and an MP3 whose titles (and author, artist) are 10,000 characters of words.
    const title = "A title that goes on and on ".repeat(400).slice(0, 10_000);
    await putCataloged(catalog, "long-title/report.pdf", pdfWithTitle(title));
    await putCataloged(catalog, "long-title/song.mp3", await mp3WithTitle(title));
    await openPage(1440, 900);

    for (const [key, section, kind] of [
      ["long-title/report.pdf", "pdf", "pdf"],
      ["long-title/song.mp3", "tags", "media"],
    ] as const) {
      const response = await fetch(`${catalog.url}/api/object?${new URLSearchParams({ key })}`);
      const { record } = (await response.json()) as {
        record: { pdf?: { title?: string }; media?: { tags?: { title?: string } } };
      };
      // The catalog keeps a bounded part of the title: still hundreds of pixels tall in full.
      const stored = (kind === "pdf" ? record.pdf?.title : record.media?.tags?.title) ?? "";
      expect(stored.length).toBeGreaterThan(1_000);
      const field = page.locator(`#detail [data-section='${section}'] dd[data-field='title']`);
      const value = field.locator(".long-value");
      const toggle = field.getByRole("button", { name: "Show all" });

      // Act
      await page.goto(`${catalog.url}/?${new URLSearchParams({ prefix: "long-title/", key })}`);
      await field.waitFor();

      // Assess: the title takes a few lines, its whole text on the page, the panel of a sensible height.
      // One line of the panel: the object's size.
      const lineHeight = (await page.locator("#detail dd[data-field='size']").boundingBox())
        ?.height as number;
      // Four lines and the button's.
      expect((await field.boundingBox())?.height).toBeLessThanOrEqual(6 * lineHeight);
      expect(await value.textContent()).toBe(stored);
      expect(await page.locator("#detail").evaluate((node) => node.scrollHeight)).toBeLessThan(2_000);
      expect(await toggle.getAttribute("aria-expanded")).toBe("false");
      expect(await toggle.getAttribute("aria-controls")).toBe(await value.getAttribute("id"));

      // The button works from the keyboard: Enter shows it all, Space cuts it short again.
      await toggle.focus();
      await page.keyboard.press("Enter");
      const expanded = field.getByRole("button", { name: "Show less" });
      expect(await expanded.getAttribute("aria-expanded")).toBe("true");
      const shown = await value.evaluate((node) => ({
        client: node.clientHeight,
        scroll: node.scrollHeight,
      }));
      expect(shown.client).toBe(shown.scroll);
      expect(shown.client).toBeGreaterThan(10 * lineHeight);
      // Once shown, the whole text is selected with a triple click, as any paragraph.
      await value.click({ clickCount: 3 });
      expect(await page.evaluate("String(getSelection())")).toContain(stored);
      await expanded.focus();
      await page.keyboard.press("Space");
      expect(await toggle.getAttribute("aria-expanded")).toBe("false");
      expect((await value.boundingBox())?.height).toBeLessThanOrEqual(4 * lineHeight + 1);
    }
    await page.screenshot({ path: join(tmpdir(), "catalog-long-title.png") });
    expect(incidents).toEqual([]);
  }, 60_000);

  it("cuts a reason of a thousand characters in the Problems list, and its button does not open the record", async () => {
    // Prepare: a rejection whose reason quotes a declared type the uploader made up.
    const key = "long-reason/file.bin";
    const reason = `declared type contradicts the content: ${"application/x-made-up; ".repeat(50)}`;
    await catalog.stack.store.putRecord(
      testRecord({
        bucket: catalog.stack.bucket,
        key,
        eventTime: new Date().toISOString(),
        status: "rejected",
        reasons: [reason],
      }),
    );
    await openPage(1440, 900);

    // Act
    await page.goto(`${catalog.url}/?view=problems`);
    const cell = page.locator(`#content tr[data-key="${key}"] td.reason`);
    await cell.waitFor();
    const toggle = cell.getByRole("button", { name: "Show all" });
    const cut = (await cell.boundingBox())?.height as number;
    await toggle.click();

    // Assess: a few lines until asked, all of it then, and the list is still the list.
    expect(cut).toBeLessThan(120);
    expect(await cell.locator(".long-value").textContent()).toBe(reason);
    expect(await cell.getByRole("button", { name: "Show less" }).getAttribute("aria-expanded")).toBe("true");
    expect((await cell.boundingBox())?.height).toBeGreaterThan(cut);
    expect(new URL(page.url()).searchParams.get("key")).toBeNull();
    expect(await page.locator("#detail").isHidden()).toBe(true);
    expect(incidents).toEqual([]);
  }, 60_000);

  it("cuts a name of a thousand characters to three lines in the record's heading", async () => {
    const name = `${"N".repeat(1_000)}.txt`;
    const key = `long-name/${name}`;
    await putCataloged(catalog, key, "text");
    await openPage();

    // Act
    await page.goto(`${catalog.url}/?${new URLSearchParams({ prefix: "long-name/", key })}`);
    const field = page.locator("#detail [data-section='object'] dd[data-field='key']");
    await field.waitFor();

    // Assess: the heading is a few lines tall yet holds the whole name; the Key field shows it all on demand.
    const heading = page.locator("#detail-title");
    expect((await heading.boundingBox())?.height).toBeLessThan(80);
    expect(await heading.textContent()).toBe(name);
    expect(await field.locator(".long-value").textContent()).toBe(key);
    await field.getByRole("button", { name: "Show all" }).click();
    expect(await field.getByRole("button", { name: "Show less" }).getAttribute("aria-expanded")).toBe("true");
    expect(await page.evaluate(OVERFLOW)).toBe(0);
    expect(incidents).toEqual([]);
  }, 60_000);

  it("shows when a deleted object was deleted, labelled so, not as its upload time", async () => {
    await putCataloged(catalog, "deleted/gone.txt", "gone");
    await catalog.stack.s3Client.send(
      new DeleteObjectCommand({ Bucket: catalog.stack.bucket, Key: "deleted/gone.txt" }),
    );
    await catalog.stack.dispatcher.idle();
    await openPage();

    // Act
    await page.goto(`${catalog.url}/?${new URLSearchParams({ key: "deleted/gone.txt" })}`);
    const object = page.locator("#detail [data-section='object']");
    await object.locator("dd[data-field='eventTime']").waitFor();

    // Assess: the one time the tombstone keeps is the delete's, and says so.
    const labels = await object.locator("dt").allTextContents();
    expect(labels).toContain("Deleted");
    expect(labels).not.toContain("Uploaded");
    const removal = page.locator("#detail [data-section='audit'] tr", { hasText: "ObjectRemoved" });
    expect(await object.locator("dd[data-field='eventTime']").textContent()).toBe(
      await removal.locator("td").first().textContent(),
    );
    expect(incidents).toEqual([]);
  }, 60_000);

  it("labels every field of Processing for people, the long ones whole and wrapping", async () => {
    const key = "labelled/photo.jpg";
    await putCataloged(catalog, key, await readFile(corpusFile("exifpy-DSCN0010.jpg")));
    const record = await catalog.stack.store.getRecord(catalog.stack.bucket, key);
    expect(record?.thumbnailKey).toBeTruthy();
    await openPage(375, 800);

    // Act
    await page.goto(`${catalog.url}/?${new URLSearchParams({ prefix: "labelled/", key })}`);
    const processing = page.locator("#detail [data-section='processing']");
    await processing.locator("dd[data-field='thumbHash']").waitFor();

    // Assess: each field is named in words, not by its name in the record.
    const pairs = await processing.locator("dt").evaluateAll((nodes) =>
      nodes.map((node) => {
        const term = node as unknown as {
          textContent: string;
          nextElementSibling: { dataset: { field: string } };
        };
        return [term.textContent, term.nextElementSibling.dataset.field];
      }),
    );
    for (const [label, field] of pairs) expect({ field, label }).not.toEqual({ field, label: field });
    const shown = Object.fromEntries(pairs.map(([label, field]) => [field, label]));
    expect(shown).toMatchObject({
      storageClass: "Storage class",
      sequencer: "Sequencer",
      thumbnailKey: "Thumbnail",
      thumbHash: "Placeholder",
    });
    const value = (field: string) => processing.locator(`dd[data-field='${field}']`).textContent();
    expect(await value("sequencer")).toBe(record?.sequencer);
    expect(await value("thumbHash")).toBe(record?.thumbHash);
    expect(await value("thumbnailKey")).toBe(record?.thumbnailKey);
    expect(await page.evaluate(OVERFLOW)).toBe(0);
    await page.screenshot({ path: join(tmpdir(), "catalog-processing-375.png"), fullPage: true });
    expect(incidents).toEqual([]);
  }, 60_000);

  itWith("dpkg-deb")(
    "shows a Debian package's name, version and maintainer above the files it installs",
    async () => {
      // Prepare: a package built by dpkg-deb whose maintainer field carries a terminal escape.
      const root = await mkdtemp(join(tmpdir(), "catalog-deb-"));
      await mkdir(join(root, "DEBIAN"));
      await mkdir(join(root, "usr/bin"), { recursive: true });
      await writeFile(
        join(root, "DEBIAN/control"),
        "Package: hello\nVersion: 2.10-3\nArchitecture: amd64\nMaintainer: \u001b]0;x\u0007Mallory <m@example.org>\n" +
          "Installed-Size: 280\nDescription: example package\n long text\n",
      );
      await writeFile(join(root, "usr/bin/hello"), "#!/bin/sh\n");
      execFileSync("dpkg-deb", ["--root-owner-group", "--build", root, join(root, "hello.deb")], {
        stdio: "pipe",
      });
      const key = "pool/hello_2.10-3_amd64.deb";
      await putCataloged(catalog, key, await readFile(join(root, "hello.deb")));
      await rm(root, { recursive: true, force: true });
      await openPage();

      // Act
      await page.goto(`${catalog.url}/?${new URLSearchParams({ prefix: "pool/", key })}`);
      const pkg = page.locator("#detail [data-section='package']");
      await pkg.locator("dd[data-field='name']").waitFor();

      // Assess
      const value = (field: string) => pkg.locator(`dd[data-field='${field}']`).textContent();
      expect(await value("name")).toBe("hello");
      expect(await value("version")).toBe("2.10-3");
      expect(await value("architecture")).toBe("amd64");
      expect(await value("summary")).toBe("example package");
      expect(await value("maintainer")).toBe("⟨U+001B⟩]0;x⟨U+0007⟩Mallory <m@example.org>");
      expect(await value("installedSize")).toBe("280 KiB");
      const order = await page
        .locator("#detail [data-section]")
        .evaluateAll((nodes) =>
          nodes.map((node) => (node as unknown as { dataset: { section: string } }).dataset.section),
        );
      expect(order.indexOf("package")).toBeLessThan(order.indexOf("archive"));
      expect(incidents).toEqual([]);
    },
    60_000,
  );

  it("keeps the heading of the view a person went to when the one they left finishes loading after it", async () => {
    await openPage();
    await page.goto(`${catalog.url}/`);
    await poll(() => page.textContent("#view-title")).toBe("Recent uploads");
    // Duplicates answers late: the person has moved to Statistics by then.
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let asked = false;
    await page.route("**/api/duplicates?*", async (route) => {
      asked = true;
      await held;
      await route.continue();
    });

    // Act
    await page.click("#tab-duplicates");
    await poll(() => asked).toBe(true);
    await page.click("#tab-stats");
    await poll(() => page.textContent("#view-note")).toMatch(/^Uploads in the last/);
    release();
    await page.waitForResponse((response) => response.url().includes("/api/duplicates"));
    await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 200)));

    // Assess: the late listing drew nothing over the view shown.
    expect(await page.textContent("#view-title")).toBe("Statistics");
    expect(await page.textContent("#view-note")).toMatch(/^Uploads in the last/);
    expect(incidents).toEqual([]);
  }, 60_000);

  it("lists in Processing only what no other section of the record shows", async () => {
    await putCataloged(catalog, "processing/notes.txt", "notes");
    await openPage();
    await page.goto(
      `${catalog.url}/?${new URLSearchParams({ prefix: "processing/", key: "processing/notes.txt" })}`,
    );
    await page.waitForSelector("#detail [data-section='processing'] dd");
    const shown = (section: string) =>
      page
        .locator(`#detail [data-section='${section}'] dd`)
        .evaluateAll((nodes) =>
          nodes.map((node) => (node as unknown as { dataset: { field: string } }).dataset.field),
        );
    const processing = await shown("processing");
    expect(processing).toEqual(expect.arrayContaining(["bytesRead", "extractorVersion"]));
    // Nothing of the Object section again, nor the table's keys.
    for (const field of [...(await shown("object")), "bucket", "seqKey"])
      expect(processing).not.toContain(field);
    expect(incidents).toEqual([]);
  }, 60_000);
});
