import { UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXTRACTOR_VERSION } from "../../src/engine/version.js";
import { RECORD_SORT_KEY } from "../../src/store/schema.js";
import { catalogOneObject, runCatalog } from "../support/cli.js";
import { fvarTable, maxpTable, os2Table, windowsNames, woff2 } from "../support/font.js";
import type { TestServers } from "../support/servers.js";

const BUCKET = "fonts";
const KEY = "brand/Variable.woff2";
/** A designer name that would set the terminal's title, were it printed raw. */
const HOSTILE_DESIGNER = "\u001b]0;owned\u0007A. Designer";
/** A licence quoted whole, lines and all: longer than the 1,024 characters other names keep. */
const LICENSE = Array.from(
  { length: 40 },
  (_, line) => `${line + 1}. Permission is hereby granted to use, study, modify and redistribute.`,
).join("\n");

let servers: TestServers;
let local: string[];

beforeAll(async () => {
  const font = woff2({
    name: windowsNames({ 1: "Brand Sans", 2: "Regular", 8: "Nobody Type", 9: HOSTILE_DESIGNER, 13: LICENSE }),
    "OS/2": os2Table(0x0104, "NOBD"),
    maxp: maxpTable(3),
    fvar: fvarTable(
      [
        { tag: "wght", min: 100, default: 400, max: 900 },
        { tag: "wdth", min: 75, default: 100, max: 125 },
      ],
      6,
    ),
  });
  ({ servers, local } = await catalogOneObject(BUCKET, KEY, font));
});

afterAll(async () => {
  await servers?.stop();
});

describe("catalog show, for a font", () => {
  it("prints vendor, licence, embedding, glyphs and axes, one field a line, the names made inert", async () => {
    // Act
    const shown = await runCatalog(["show", `s3://${BUCKET}/${KEY}`, ...local]);
    // Assess
    expect(shown.code, shown.stderr).toBe(0);
    const lines = shown.stdout.split("\n");
    const field = (name: string) =>
      lines.find((line) => line.startsWith(`    ${name} `))?.replace(/^ +\S+ +/, "");
    expect(lines).toContain("  font");
    expect(field("family")).toBe("Brand Sans");
    expect(field("vendor")).toBe("Nobody Type");
    expect(field("vendorId")).toBe("NOBD");
    expect(field("designer")).toBe("\\u001b]0;owned\\u0007A. Designer");
    expect(shown.stdout).not.toContain("\u001b");
    // 200 characters of the licence, its line breaks escaped, then how long it is.
    expect(field("license")).toBe(
      `${LICENSE.slice(0, 200).replaceAll("\n", "\\u000a")}… (${LICENSE.length.toLocaleString("en-US")} characters; --json shows all)`,
    );
    expect(field("embedding.usage")).toBe("preview-and-print");
    expect(field("embedding.noSubsetting")).toBe("true");
    expect(field("embedding.bitmapOnly")).toBe("false");
    expect(field("embedding.fsType")).toBe("260");
    expect(field("glyphs")).toBe("3");
    expect(field("instances")).toBe("6");
    const axes = lines.indexOf("    axes");
    expect(lines.slice(axes, axes + 3)).toEqual([
      "    axes",
      "      tag wght, min 100, default 400, max 900",
      "      tag wdth, min 75, default 100, max 125",
    ]);
  });

  it("keeps the whole licence in the record, as show --json prints it", async () => {
    const shown = await runCatalog(["show", `s3://${BUCKET}/${KEY}`, "--json", ...local]);
    expect(shown.code, shown.stderr).toBe(0);
    const { record } = JSON.parse(shown.stdout);
    expect(record.font.license).toBe(LICENSE);
    expect(record.font.designer).toBe(HOSTILE_DESIGNER);
    expect(record.extractorVersion).toBe(EXTRACTOR_VERSION);
  });

  it("gives a font cataloged by an older extractor its embedding and axes on reprocess", async () => {
    // Prepare: the record as extractor 1.0.18 left it, without the fields it did not read.
    await servers.dynamodb.send(
      new UpdateItemCommand({
        TableName: "catalog",
        Key: { pk: { S: `OBJ#${BUCKET}#${KEY}` }, sk: { S: RECORD_SORT_KEY } },
        UpdateExpression: "SET extractorVersion = :old REMOVE font.embedding, font.axes, font.license",
        ExpressionAttributeValues: { ":old": { S: "1.0.18" } },
      }),
    );
    const before = JSON.parse(
      (await runCatalog(["show", `s3://${BUCKET}/${KEY}`, "--json", ...local])).stdout,
    );
    expect(before.record.font).not.toHaveProperty("embedding");
    // Act
    const reprocess = await runCatalog(["reprocess", "--json", ...local]);
    // Assess
    expect(reprocess.code, reprocess.stderr).toBe(0);
    expect(JSON.parse(reprocess.stdout)).toMatchObject({ cataloged: 1, errors: 0 });
    const after = JSON.parse(
      (await runCatalog(["show", `s3://${BUCKET}/${KEY}`, "--json", ...local])).stdout,
    );
    expect(after.record.extractorVersion).toBe(EXTRACTOR_VERSION);
    expect(after.record.font).toMatchObject({
      embedding: { usage: "preview-and-print", noSubsetting: true, bitmapOnly: false, fsType: 0x0104 },
      axes: [
        { tag: "wght", min: 100, default: 400, max: 900 },
        { tag: "wdth", min: 75, default: 100, max: 125 },
      ],
      license: LICENSE,
    });
  });
});
