/**
 * Debian's Chromium, as the browser tests drive it with playwright-core. The
 * flags let it run as root without a GPU and keep it off the network it
 * would otherwise call at every start (updates, sync, QUIC), which a closed
 * machine refuses.
 */
import type { Page } from "playwright-core";
import { expect } from "vitest";
import { TOOL_PATHS } from "./tools.js";

/** Where Debian installs it; tests that need it are declared with `describeWith("chromium")`. */
export const CHROMIUM = TOOL_PATHS.chromium;

export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/**
 * Waits for a value the page shows, up to a bound: the page works
 * asynchronously (fetches, live events).
 *
 * @example
 * await poll(() => page.textContent("#detail-title")).toBe("a.jpg");
 */
export function poll<T>(read: () => Promise<T> | T): ReturnType<typeof expect.poll<Promise<T> | T>> {
  return expect.poll(read, { timeout: 20_000, interval: 100 });
}

/**
 * Reports everything `page` does that a dashboard page should not, to
 * `record`: a dialog (dismissed), a script error, an error on the console
 * (CSP violations among them).
 *
 * @example
 * recordIncidents(page, (incident) => incidents.push(incident));
 */
export function recordIncidents(page: Page, record: (incident: string) => void): void {
  page.on("dialog", (dialog) => {
    record(`dialog: ${dialog.message()}`);
    void dialog.dismiss();
  });
  page.on("pageerror", (error) => record(`page error: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error") record(`console: ${message.text()}`);
  });
}
