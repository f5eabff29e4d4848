import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { catalogOneObject, runCatalog } from "../support/cli.js";
import type { TestServers } from "../support/servers.js";

const BUCKET = "documents";
const KEY = "minutes/notes.rtf";
/**
 * An RTF file whose subject would set the terminal's title, were it printed
 * raw (ESC and BEL written as `\'hh` escapes), and whose keywords are
 * Cyrillic in code page 1251.
 */
const RTF =
  "{\\rtf1\\ansi\\ansicpg1251{\\info{\\title Notes}{\\subject \\'1b]0;owned\\'07Budget}" +
  "{\\keywords \\'ce\\'f2\\'f7\\'b8\\'f2, Q3}}\\pard Body\\par}";

let servers: TestServers;
let local: string[];

beforeAll(async () => {
  ({ servers, local } = await catalogOneObject(BUCKET, KEY, RTF));
});

afterAll(async () => {
  await servers?.stop();
});

describe("catalog show, for a document", () => {
  it("prints the subject and keywords beside the title, made inert", async () => {
    // Act
    const shown = await runCatalog(["show", `s3://${BUCKET}/${KEY}`, ...local]);
    // Assess
    expect(shown.code, shown.stderr).toBe(0);
    const lines = shown.stdout.split("\n");
    const field = (name: string) =>
      lines.find((line) => line.startsWith(`    ${name} `))?.replace(/^ +\S+ +/, "");
    expect(lines).toContain("  document");
    expect(field("title")).toBe("Notes");
    expect(field("subject")).toBe("\\u001b]0;owned\\u0007Budget");
    expect(field("keywords")).toBe("Отчёт, Q3");
    expect(shown.stdout).not.toContain("\u001b");
  });

  it("keeps them as written in the record, as show --json prints it", async () => {
    const shown = await runCatalog(["show", `s3://${BUCKET}/${KEY}`, "--json", ...local]);
    expect(shown.code, shown.stderr).toBe(0);
    const { record } = JSON.parse(shown.stdout);
    expect(record.document).toMatchObject({
      kind: "rtf",
      subject: "\u001b]0;owned\u0007Budget",
      keywords: "Отчёт, Q3",
    });
  });
});
