/**
 * `catalog dlq ls` and `catalog dlq replay` over a dead-letter file that is
 * not as the dispatcher wrote it: a line cut short by a crash, letters edited
 * by hand. The listing shows what it can and a `?` for the rest; a replay
 * says what it left in the file rather than leaving it unsaid.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { catalogCli, DevProcess, freePort, type StackPorts } from "../e2e/stack-process.js";

let dataDir: string;
let ports: StackPorts;
let dev: DevProcess;

const letter = (event: unknown, fields: Record<string, unknown> = {}) =>
  JSON.stringify({ event, error: "boom", attempts: 3, failedAt: "2026-01-01T00:00:00.000Z", ...fields });

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "catalog-dlq-letters-"));
  ports = { s3: await freePort(), dynamodb: await freePort(), http: await freePort() };
  dev = await DevProcess.start(dataDir, ports);
}, 60_000);

afterAll(async () => {
  await dev?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

describe("a dead-letter file edited by hand", () => {
  it("is listed with a ? where a letter lacks its object or event name, or has a key no URL decoding takes", async () => {
    // Prepare
    await writeFile(
      join(dataDir, "dead-letter.jsonl"),
      [
        letter({ Records: [{}] }),
        letter({
          Records: [
            {
              eventName: "ObjectCreated:Put",
              s3: { bucket: { name: "uploads" }, object: { key: "a%ZZ+b" } },
            },
          ],
        }),
        letter({ Records: [] }, { attempts: "many", error: undefined }),
      ]
        .map((line) => `${line}\n`)
        .join(""),
    );

    // Act
    const listed = await catalogCli(ports, "dlq", "ls");

    // Assess
    expect(listed.stderr).toBe("");
    expect(listed.code).toBe(0);
    const rows = listed.stdout.trim().split("\n").slice(1);
    expect(rows).toHaveLength(3);
    expect(rows[0]).toMatch(/^2026-01-01T00:00:00.000Z +\? +\? +3 +boom$/);
    expect(rows[1]).toMatch(/ s3:\/\/uploads\/a%ZZ b +ObjectCreated:Put +3 +boom$/);
    expect(rows[2]).toMatch(/ \? +\? +many *$/);
  });

  it("lists what it can and counts a line cut short, with exit code 1", async () => {
    // Prepare
    const cut = '{"event":{"Records":[{"eventName":"ObjectCr';
    await writeFile(join(dataDir, "dead-letter.jsonl"), `${letter({ Records: [] })}\n${cut}\n${cut}`);

    // Act
    const listed = await catalogCli(ports, "dlq", "ls");
    const json = await catalogCli(ports, "dlq", "ls", "--json");

    // Assess
    expect(listed.code).toBe(1);
    expect(listed.stdout.trim().split("\n")).toHaveLength(2);
    expect(listed.stderr).toMatch(
      /^catalog dlq ls: 2 line\(s\) of the dead-letter file .* are no event: kept/,
    );
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toHaveLength(1);
  });

  it("replays what it can, keeps a line cut short, and says so with exit code 1", async () => {
    // Prepare
    const file = join(dataDir, "dead-letter.jsonl");
    const cut = '{"event":{"Records":[{"eventName":"ObjectCr';
    await writeFile(file, `${letter({ Records: [] })}\n${cut}`);

    // Act
    const replay = await catalogCli(ports, "dlq", "replay");
    const again = await catalogCli(ports, "dlq", "replay", "--json");

    // Assess
    expect(replay.code).toBe(1);
    expect(replay.stdout).toBe("replayed 1, still failing 0\n");
    expect(replay.stderr).toMatch(
      /^catalog dlq replay: 1 line\(s\) of the dead-letter file .* are no event: kept/,
    );
    expect(again.code).toBe(1);
    expect(JSON.parse(again.stdout)).toEqual({ replayed: 0, failed: 0, unreadable: 1 });
    expect(await readFile(file, "utf8")).toBe(`${cut}\n`);
  });
});
