/**
 * How `catalog show` lays out an object's audit history: the built CLI
 * against a local catalog whose policy rejects one prefix, so an event
 * carries reasons.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_POLICY } from "../../src/policy/policy.js";
import { cliFlags, type LocalCatalog, startLocalCatalog } from "../server/local-catalog.js";
import { runCatalog } from "../support/cli.js";
import { REPO_ROOT } from "../support/corpus.js";

const REJECTED = "quarantine/report.txt";
const KEPT = "kept/report.txt";
const TWICE = "kept/twice.txt";

let catalog: LocalCatalog;
let local: string[];

beforeAll(async () => {
  expect(existsSync(join(REPO_ROOT, "dist/cli/main.js")), "run `npm run build` first").toBe(true);
  catalog = await startLocalCatalog({ policy: { ...DEFAULT_POLICY, deniedPrefixes: ["quarantine/"] } });
  const { stack } = catalog;
  for (const key of [REJECTED, KEPT, TWICE])
    await stack.s3Client.send(new PutObjectCommand({ Bucket: stack.bucket, Key: key, Body: "text" }));
  await stack.dispatcher.idle();
  await stack.s3Client.send(new PutObjectCommand({ Bucket: stack.bucket, Key: TWICE, Body: "text, again" }));
  await stack.dispatcher.idle();
  local = cliFlags(catalog);
}, 60_000);

afterAll(async () => {
  await catalog?.close();
});

/** The lines of `show`'s output from "history:" on. */
function historyOf(stdout: string): string[] {
  const lines = stdout.trimEnd().split("\n");
  return lines.slice(lines.indexOf("history:") + 1);
}

describe("catalog show, the audit history", () => {
  it("puts an event's reasons on lines of their own beneath its row, the columns as narrow as the events", async () => {
    // Act
    const shown = await runCatalog(["show", REJECTED, ...local]);
    // Assess: the row says "rejected" in a column as wide as its header; the reason follows it, indented.
    expect(shown.code, shown.stderr).toBe(0);
    const [header, row, reason, ...rest] = historyOf(shown.stdout);
    expect(header).toMatch(/^ {2}TIME +EVENT +OUTCOME +BY +FROM +DELIVERIES$/);
    expect(row).toMatch(/^ {2}\S+ +ObjectCreated:Put +rejected +\S+ +\S+ +1$/);
    expect(row?.indexOf("rejected")).toBe(header?.indexOf("OUTCOME"));
    // OUTCOME is as wide as "rejected", its widest cell, and two spaces part it from BY.
    expect(header?.indexOf("BY")).toBe((header?.indexOf("OUTCOME") ?? 0) + "rejected".length + 2);
    expect(reason).toBe('      reason: key is under the denied prefix "quarantine/"');
    expect(rest).toEqual([]);
  });

  it("adds no line to an event without reasons", async () => {
    const shown = await runCatalog(["show", KEPT, ...local]);
    expect(shown.code, shown.stderr).toBe(0);
    const history = historyOf(shown.stdout);
    expect(history).toHaveLength(2);
    expect(history[1]).toMatch(/ ObjectCreated:Put +created +/);
  });

  it("lists the events newest first with --json, as the HTTP API does", async () => {
    // Act
    const shown = await runCatalog(["show", TWICE, "--json", ...local]);
    const api = await catalog.app.request(`/api/object?key=${encodeURIComponent(TWICE)}`);
    // Assess
    expect(shown.code, shown.stderr).toBe(0);
    const { audit } = JSON.parse(shown.stdout) as { audit: { outcome: string; eventTime: string }[] };
    expect(audit.map((entry) => entry.outcome)).toEqual(["updated", "created"]);
    expect((audit[0]?.eventTime ?? "") >= (audit[1]?.eventTime ?? "")).toBe(true);
    expect(((await api.json()) as { audit: unknown[] }).audit).toEqual(audit);
  });
});
