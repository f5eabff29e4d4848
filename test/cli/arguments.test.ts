import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { type CliRun, runCatalog } from "../support/cli.js";
import { REPO_ROOT } from "../support/corpus.js";

const catalog = (...args: string[]) => runCatalog(args);

/** A port of 127.0.0.1 bound to `server`: closed, nothing listens on it. */
async function heldPort(): Promise<{ server: ReturnType<typeof createServer>; port: number }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, port: (server.address() as { port: number }).port };
}

function expectOneLineError(result: CliRun, pattern: RegExp): void {
  expect(result.code).not.toBe(0);
  const lines = result.stderr.split("\n").filter((line) => line.trim() !== "");
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  // Every error names the program the same way, Commander's own (unknown option, bad value) included.
  expect(lines[0]).toMatch(/^catalog( [a-z]+)?: /);
  expect(result.stderr).not.toMatch(/^\s+at /m);
}

let down: string[];
/** The ports of `down`: S3, DynamoDB, HTTP API. */
let downPorts: [number, number, number];

beforeAll(async () => {
  expect(existsSync(join(REPO_ROOT, "dist/cli/commands/upload.js")), "run `npm run build` first").toBe(true);
  // Three ports, held at once so that they differ: as a stack started on other ports has them.
  const servers = await Promise.all([0, 1, 2].map(() => heldPort()));
  downPorts = servers.map(({ port }) => port) as [number, number, number];
  await Promise.all(servers.map(({ server }) => new Promise((resolve) => server.close(resolve))));
  down = [
    "--s3-endpoint",
    `http://127.0.0.1:${downPorts[0]}`,
    "--dynamodb-endpoint",
    `http://127.0.0.1:${downPorts[1]}`,
    "--api",
    `http://127.0.0.1:${downPorts[2]}`,
  ];
});

describe.concurrent("catalog CLI: bad arguments are one line and a non-zero exit", () => {
  it.each([
    [["find"], /choose exactly one of --category/],
    [["backfill", "--exclude", ""], /--exclude '' would skip every object/],
    [["reprocess", "--exclude", "tmp/", "--exclude", ""], /--exclude '' would skip every object/],
    [["find", "--category", "image", "--problems"], /choose exactly one/],
    [
      ["find", "--recent", "--duplicates"],
      /choose exactly one of --category <name>, --recent, --duplicates, --problems/,
    ],
    [["find", "--category", "photos"], /unknown category 'photos'.*image/],
    [["find", "--problems", "--since", "last tuesday"], /expected a duration like 7d/],
    [["find", "--problems", "--since", "2100-01-01"], /--since is in the future/],
    [
      ["find", "--problems", "--since", "5000d"],
      /^catalog: --since goes back to .*, but find searches at most 366 days/,
    ],
    [
      ["find", "--duplicates", "--since", "366d"],
      /--since .* at most 366 days, today included: use at most 365d, or a date from \d{4}-\d\d-\d\d$/,
    ],
    [
      ["find", "--category", "image", "--since", "2001-01-01"],
      /^catalog: --since goes back to 2001-01-01T00:00:00.000Z, but find/,
    ],
    [["find", "--problems", "--limit", "0"], /expected a positive integer/],
    [["find", "--problems", "--limit", "1e3"], /expected a positive integer, got '1e3'/],
    [["find", "--problems", "--since", "12"], /expected a duration like 7d.*got '12'/],
    [["find", "--problems", "--since", "2024-02-30"], /expected a duration like 7d.*got '2024-02-30'/],
    [["find", "--problems", "--since", "99999999999999999999d"], /goes back further than any date/],
    [
      ["dev", "--bucket", "Bad_Bucket"],
      /'--bucket <name>' argument 'Bad_Bucket' is invalid\. not an S3 bucket name: only lowercase/,
    ],
    [["ls", "--bucket", "ab"], /--bucket.*not an S3 bucket name: a name has 3 to 63 characters/],
    [
      ["show", "a.jpg", "--bucket", "192.168.5.4"],
      /--bucket.*not an S3 bucket name: a name is not an IP address/,
    ],
    [
      ["find", "--problems", "--bucket", "my..photos"],
      /--bucket.*not an S3 bucket name: a name has no two '\.'/,
    ],
    [
      ["upload", "README.md", "--bucket", "-photos"],
      /--bucket.*not an S3 bucket name: a name begins and ends/,
    ],
    [["backfill", "--bucket", "xn--photos"], /--bucket.*names beginning with 'xn--' are reserved by S3/],
    [
      ["reprocess", "--bucket", "photos-s3alias"],
      /--bucket.*names ending with '-s3alias' are reserved by S3/,
    ],
    [["upload"], /missing required argument/],
    [["upload", "/no/such/file.jpg"], /\/no\/such\/file.jpg: no such file or directory/],
    [["show", "s3://uploads/"], /names no object/],
    [["show", "s3://uploads/a.jpg", "--history", "0"], /--history/],
    [["show", "s3:///key"], /has no bucket name/],
    [["show", "s3://"], /'s3:\/\/' has no bucket name/],
    [["ls", "s3://"], /'s3:\/\/' has no bucket name/],
    [["backfill", "s3://"], /'s3:\/\/' has no bucket name/],
    [["show", "https://uploads.s3.amazonaws.com/a.jpg"], /'https:.*' is not an s3:\/\/bucket\/key URL/],
    [["ls", "S3://uploads/"], /'S3:\/\/uploads\/' is not an s3:\/\/bucket\/key URL/],
    [["backfill", "s3:/uploads/photos"], /'s3:\/uploads\/photos' is not an s3:\/\/bucket\/key URL/],
    [
      ["ls", "/local/path"],
      /^catalog: '\/local\/path' is a local path, not a place in S3: write s3:\/\/bucket\/key, or s3:\/\/bucket\/folder\/ \(a key/,
    ],
    [["show", "./photos/a.jpg"], /^catalog: '\.\/photos\/a\.jpg' is a local path, not a place in S3/],
    [["backfill", "../photos"], /^catalog: '\.\.\/photos' is a local path, not a place in S3/],
    [
      ["backfill", "s3://uploads/_derived/"],
      /^catalog: nothing to backfill under s3:\/\/uploads\/_derived\/: keys under '_derived\/' are derived files, never cataloged$/,
    ],
    [
      ["reprocess", "_derived/thumbnails/", "--exclude", "tmp/"],
      /^catalog: nothing to reprocess under s3:\/\/uploads\/_derived\/thumbnails\/: keys under '_derived\/' are derived/,
    ],
    [
      ["backfill", "s3://uploads/tmp/old/", "--exclude", "tmp/"],
      /^catalog: nothing to backfill under s3:\/\/uploads\/tmp\/old\/: every key there is under --exclude 'tmp\/'$/,
    ],
    [
      ["ls", "s3://Bad_Bucket/"],
      /^catalog: 'Bad_Bucket' in 's3:\/\/Bad_Bucket\/' is not an S3 bucket name: only lowercase letters/,
    ],
    [
      ["show", "s3://192.168.1.1/x"],
      /^catalog: '192\.168\.1\.1' in 's3:\/\/192\.168\.1\.1\/x' is not an S3 bucket name: a name is not an IP address$/,
    ],
    [
      ["backfill", "s3://ab"],
      /^catalog: 'ab' in 's3:\/\/ab' is not an S3 bucket name: a name has 3 to 63 characters/,
    ],
    [
      ["reprocess", "s3://photos-s3alias/2024/"],
      /^catalog: 'photos-s3alias' in .* is not an S3 bucket name: names ending with '-s3alias' are reserved by S3$/,
    ],
    [["ls", "--s3-endpoint", "ftp://example.com"], /--s3-endpoint must be an http\(s\) URL/],
    [
      ["ls", "s3://uploads/photos/", "--starts-with", "2024/IMG"],
      /^catalog: option '--starts-with <text>' argument '2024\/IMG' is invalid\. a name in a folder holds no '\/'/,
    ],
    [["ls", "--starts-with", "IMG", "--starts-with", "DSC"], /--starts-with is given more than once$/],
    [
      ["ls", `s3://uploads/${"a".repeat(1000)}/`, "--starts-with", "b".repeat(30)],
      /^catalog: --starts-with with the folder is longer than 1024 bytes, the longest key S3 holds$/,
    ],
    [["backfill", "--concurrency", "zero"], /expected a positive integer/],
    [["backfill", "--policy-file", "/no/such/policy.json"], /policy/i],
    [["reprocess", "--bogus"], /unknown option '--bogus'/],
    [["dlq", "drain"], /^catalog: unknown command 'drain' for dlq: expected ls or replay$/],
    // A forgotten command: its options are no unknown option of dlq's own.
    [
      ["dlq", "--api", "http://127.0.0.1:9"],
      /^catalog: dlq needs a command: ls or replay, with its options after it/,
    ],
    [["dlq"], /^catalog: dlq needs a command/],
    // Commander's guess at a typo, on the error's own line.
    [["lss"], /^catalog: unknown command 'lss' \(Did you mean ls\?\)$/],
    [["ls", "--lmit", "3"], /^catalog: unknown option '--lmit' \(Did you mean --limit\?\)$/],
    [["worker"], /^catalog: no queue: pass --queue URL or set CATALOG_QUEUE_URL$/],
    [["worker", "--queue", "http://127.0.0.1:9/q", "--log-level", "loud"], /expected one of DEBUG, INFO/],
    [
      ["worker", "--queue", "http://127.0.0.1:9/q", "--visibility-timeout", "43201"],
      /^catalog: --visibility-timeout is 1 to 43200 seconds \(12 hours, SQS's limit\), got 43201$/,
    ],
    [["show", "s3://uploads/a.jpg", "--region", "eu-west-1", "--bucket", "photos"], /--table|CATALOG_TABLE/],
  ])("catalog %j", async (args, message) => {
    // Point the rest at a closed port: validation must fail before any call is made.
    const result = await catalog(...args, ...(args.includes("--s3-endpoint") ? [] : down.slice(0, 4)));
    expectOneLineError(result, message);
  });
});

describe.concurrent("catalog CLI: arguments echoed in an error are shown, never acted on", () => {
  it.each([
    [["find", "--category", "\u001b[2Jimage"]],
    [["ls", "--starts-with", "\u001b[2J/"]],
    [["show", "s3://uploads/a.jpg", "--\u001b]0;owned\u0007"]],
    [["\u001b[31mbogus"]],
  ])("catalog %j", async (args) => {
    const result = await catalog(...args, ...down.slice(0, 4));
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("\\u001b");
    expect(result.stderr).not.toMatch(/[\u0000-\u0009\u000b-\u001f]/);
  });
});

describe.concurrent("catalog CLI: an unreachable local stack is named, not dumped", () => {
  it.each([
    [["show", "s3://uploads/a.jpg"]],
    [["ls"]],
    [["find", "--problems"]],
    [["upload", "README.md"]],
    [["backfill"]],
    [["dlq", "ls"]],
  ])("catalog %j", async (args) => {
    const result = await catalog(...args, ...down);
    // The start it names serves where the command looked: 'npm start' alone would start a stack elsewhere.
    const [s3, dynamodb, http] = downPorts;
    const flags =
      args[0] === "dlq"
        ? `--http-port ${http}`
        : `--s3-port ${s3} --dynamodb-port ${dynamodb} --http-port ${http}`;
    expectOneLineError(
      result,
      new RegExp(
        `the local stack is not running: start it with 'npm start -- ${flags}' \\(catalog dev ${flags}\\)`,
      ),
    );
    // Where it looked, since a stack on other ports runs yet is not there.
    expect(result.stderr).toMatch(/; nothing answers at http:\/\/127\.0\.0\.1:\d+/);
    expect(result.code).toBe(1);
  });

  it("leaves out the flag of a server on its default port", async () => {
    const result = await catalog("ls", "--s3-endpoint", "http://127.0.0.1:4569", ...down.slice(2));
    const [, dynamodb, http] = downPorts;
    expectOneLineError(result, new RegExp(`'npm start -- --dynamodb-port ${dynamodb} --http-port ${http}'`));
  });

  it.each([
    [
      ["ls", "--s3-endpoint", "http://127.0.0.1:{d}", "--dynamodb-endpoint", "http://127.0.0.1:{d}"],
      "--s3-endpoint and --dynamodb-endpoint name one port, {d}, and 'catalog dev' gives each server its own",
    ],
    [
      ["ls", "--s3-endpoint", "https://127.0.0.1:{s}", "--dynamodb-endpoint", "http://127.0.0.1:{d}"],
      "--s3-endpoint https://127.0.0.1:{s} is not on http://127.0.0.1, where 'catalog dev' serves",
    ],
  ])("catalog %j names no start, as none could answer there", async (args, problem) => {
    const [s3, dynamodb] = downPorts;
    const fill = (text: string) => text.replaceAll("{s}", String(s3)).replaceAll("{d}", String(dynamodb));
    const result = await catalog(...args.map(fill));
    expectOneLineError(
      result,
      /nothing answers at http:\/\/127\.0\.0\.1:\d+, and no 'catalog dev' can answer there: /,
    );
    expect(result.stderr).toContain(fill(problem));
  });
});

describe.concurrent("catalog CLI: help and AWS-only answers", () => {
  it.each(["upload", "find", "backfill", "dlq replay"])("catalog %s --help", async (command) => {
    const result = await catalog(...command.split(" "), "--help");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Usage: catalog ${command}`);
    expect(result.stderr).toBe("");
  });

  it("find names every unit --since takes, in its help and in its error, as the README does", async () => {
    const [help, refused] = await Promise.all([
      catalog("find", "--help"),
      catalog("find", "--problems", "--since", "2y", ...down.slice(0, 4)),
    ]);
    expect(help.stdout.replace(/\s+/g, " ")).toContain(
      "--since <when> how far back: 7d, 12h, 30m, 2w or a date",
    );
    expectOneLineError(
      refused,
      /expected a duration like 7d, 12h, 30m, 2w or a date like 2024-05-01, got '2y'$/,
    );
  });

  it("catalog dev --log-level takes only the levels it names", async () => {
    // Free ports and a temp dir: without the check, the stack would start (and time out here).
    const dataDir = await mkdtemp(join(tmpdir(), "catalog-dev-"));
    const ports = ["--s3-port", "0", "--dynamodb-port", "0", "--http-port", "0"];
    const result = await runCatalog(["dev", "--log-level", "verbose", ...ports, "--data-dir", dataDir], {
      timeoutMs: 10_000,
    });
    await rm(dataDir, { recursive: true, force: true });
    expectOneLineError(
      result,
      /--log-level.*expected one of DEBUG, INFO, WARN, ERROR, SILENT, got 'verbose'/,
    );
  });

  it.each([
    [
      ["--s3-port", "14570", "--dynamodb-port", "14570", "--http-port", "0"],
      "--s3-port and --dynamodb-port are both 14570",
    ],
    [
      [
        "--s3-port",
        "0",
        "--dynamodb-port",
        "0",
        "--http-port",
        "0",
        "--http-port",
        "4569",
        "--s3-port",
        "4569",
      ],
      "--s3-port and --http-port are both 4569",
    ],
  ])(
    "catalog dev %j names the two flags that share a port, before starting anything",
    async (ports, clash) => {
      const dataDir = join(await mkdtemp(join(tmpdir(), "catalog-dev-")), "data");
      const result = await runCatalog(["dev", ...ports, "--data-dir", dataDir], { timeoutMs: 10_000 });
      expectOneLineError(result, new RegExp(`^catalog: ${clash}: each server needs a port of its own$`));
      // Refused before the data folder is made.
      expect(existsSync(dataDir)).toBe(false);
      await rm(dirname(dataDir), { recursive: true, force: true });
    },
  );

  it("dlq ls against AWS says where the queue is and how to redrive it", async () => {
    const result = await catalog("dlq", "ls", "--region", "eu-west-1", "--bucket", "b", "--table", "t");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /SQS queue.*aws sqs start-message-move-task.*direct mode.*Redriving the dead-letter queue/,
    );
    expect(result.stdout.trim().split("\n")).toHaveLength(1);
  });
});
