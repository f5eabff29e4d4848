/**
 * What a user sees when the target itself is wrong: a bucket that does not
 * exist, AWS with no credentials or no region, an upload stopped with Ctrl-C.
 * The CLI runs as a child process against the embedded servers.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateBucketCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CatalogStore } from "../../src/store/catalog-store.js";
import { CATALOG, type CliRun, runCatalog, withoutTargetVariables } from "../support/cli.js";
import { REPO_ROOT } from "../support/corpus.js";
import { startServers, type TestServers } from "../support/servers.js";

let servers: TestServers;
let home: string;
let local: string[];

/** Runs the built CLI with `env` in place of the AWS and catalog variables of this process. */
function catalog(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  // No shared config, no instance metadata: nothing to find credentials in.
  return runCatalog(args, {
    env: { ...withoutTargetVariables(), HOME: home, AWS_EC2_METADATA_DISABLED: "true", ...env },
  });
}

/** The target flags the tests pass, as a suggested command repeats them, for a pattern. */
function flagsPattern(): string {
  return local.join(" ").replaceAll(".", "\\.");
}

function expectOneLineError(result: CliRun, pattern: RegExp): void {
  expect(result.code, result.stdout).toBe(1);
  const lines = result.stderr.split("\n").filter((line) => line.trim() !== "");
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
}

beforeAll(async () => {
  expect(existsSync(join(REPO_ROOT, "dist/cli/main.js")), "run `npm run build` first").toBe(true);
  home = await mkdtemp(join(tmpdir(), "catalog-home-"));
  servers = await startServers();
  await servers.s3.send(new CreateBucketCommand({ Bucket: "uploads" }));
  await new CatalogStore(servers.dynamodb, { tableName: "catalog" }).createTable();
  local = ["--s3-endpoint", servers.s3Endpoint, "--dynamodb-endpoint", servers.dynamodbEndpoint];
});

afterAll(async () => {
  await servers?.stop();
  if (home) await rm(home, { recursive: true, force: true });
});

describe.concurrent("catalog CLI: a bucket that does not exist is the one named", () => {
  it.each([[["ls", "s3://no-such-bucket/photos/"]], [["backfill", "s3://no-such-bucket/"]]])(
    "catalog %j",
    async (args) => {
      const result = await catalog([...args, ...local]);
      expectOneLineError(result, /^catalog: bucket 'no-such-bucket' does not exist$/);
    },
  );
});

describe.concurrent("catalog CLI: a bucket name S3 would refuse in an s3:// URL is named", () => {
  it.each([
    [
      ["ls", "s3://Bad_Bucket/"],
      "'Bad_Bucket' in 's3://Bad_Bucket/'",
      "only lowercase letters, digits, '.' and '-' are allowed",
    ],
    [["show", "s3://192.168.1.1/x"], "'192.168.1.1' in 's3://192.168.1.1/x'", "a name is not an IP address"],
    [
      ["backfill", "s3://Bad_Bucket/photos/"],
      "'Bad_Bucket' in 's3://Bad_Bucket/photos/'",
      "only lowercase letters, digits, '.' and '-' are allowed",
    ],
  ])("catalog %j", async (args, named, problem) => {
    const result = await catalog([...args, ...local]);
    expect(result.code, result.stdout).toBe(1);
    expect(result.stderr).toBe(`catalog: ${named} is not an S3 bucket name: ${problem}\n`);
  });
});

describe.concurrent("catalog find: an empty answer names the range it searched", () => {
  // A date a few weeks back, not a fixed one: find refuses a range of more than 366 days, so a fixed date
  // would turn this case into an error a year after it was written.
  const since = new Date(Date.now() - 40 * 86_400_000).toISOString().slice(0, 10);
  it.each([
    [
      ["--duplicates"],
      "no duplicates with a copy in uploads in the last 30 days (--since to look further back)",
    ],
    [["--problems"], "nothing found in the last 7 days (--since to look further back)"],
    [["--recent"], "nothing found in the last 7 days (--since to look further back)"],
    [["--category", "image", "--since", since], `nothing found since ${since}T00:00:00.000Z`],
  ])("catalog find %j", async (args, answer) => {
    const result = await catalog(["find", ...args, ...local]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(`${answer}\n`);
  });
});

describe.concurrent("catalog ls: a location that names an object, not a folder, says so", () => {
  beforeAll(async () => {
    for (const key of ["named/photo.jpg", "named/both", "named/both/inside.txt"]) {
      await servers.s3.send(new PutObjectCommand({ Bucket: "uploads", Key: key, Body: key }));
    }
  });

  it.each([["s3://uploads/named/photo.jpg"], ["named/photo.jpg"]])("catalog ls %s", async (location) => {
    const result = await catalog(["ls", location, ...local]);
    expectOneLineError(
      result,
      new RegExp(
        `^catalog: s3://uploads/named/photo\\.jpg is an object, not a folder: 'catalog show s3://uploads/named/photo\\.jpg ${flagsPattern()}' shows its record$`,
      ),
    );
    expect(result.stdout).toBe("");
  });

  it("lists the folder when a folder has the object's name too (nothing in it cataloged here)", async () => {
    const result = await catalog(["ls", "s3://uploads/named/both", ...local]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(
      `s3://uploads/named/both/: 1 object in S3, none cataloged: 'catalog backfill s3://uploads/named/both/ ${local.join(" ")}' catalogs it\n`,
    );
  });

  it("calls a prefix that names neither an empty folder, as before", async () => {
    const result = await catalog(["ls", "s3://uploads/named/pho", ...local]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe("s3://uploads/named/pho/: empty\n");
  });
});

describe.concurrent("catalog ls: a folder whose objects S3 holds and the catalog does not says so", () => {
  beforeAll(async () => {
    const keys = [
      "unlisted/a.txt",
      "unlisted/b.txt",
      "backfilled/a.txt",
      "mixed/a.txt",
      "mixed/sub/b.txt",
      "partly/a.txt",
      "partly/b.txt",
      "partly/c.txt",
      "marked/",
      "_derived/thumbnails/a.jpg.webp",
    ];
    for (const key of keys) {
      await servers.s3.send(new PutObjectCommand({ Bucket: "uploads", Key: key, Body: key }));
    }
  });

  it("names how many there are and the command that catalogs them", async () => {
    const result = await catalog(["ls", "s3://uploads/unlisted/", ...local]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(
      `s3://uploads/unlisted/: 2 objects in S3, none cataloged: 'catalog backfill s3://uploads/unlisted/ ${local.join(" ")}' catalogs them\n`,
    );
    expect(result.stderr).toBe("");
  });

  it("--json keeps its shape and counts them in uncataloged", async () => {
    const result = await catalog(["ls", "unlisted", "--json", ...local]);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      bucket: "uploads",
      folder: "unlisted/",
      folders: [],
      objects: [],
      uncataloged: 2,
    });
  });

  it("after the command it names, run as it is printed, lists them and says nothing more", async () => {
    // The command between the quotes, with the flags that reach this stack (not the default ports).
    const before = await catalog(["ls", "s3://uploads/backfilled/", ...local]);
    const named = /'catalog (backfill [^']+)'/.exec(before.stdout)?.[1];
    expect(named, before.stdout).toBe(`backfill s3://uploads/backfilled/ ${local.join(" ")}`);
    const backfill = await catalog((named ?? "").split(" "));
    expect(backfill.code, backfill.stderr).toBe(0);
    const [text, json] = await Promise.all([
      catalog(["ls", "s3://uploads/backfilled/", ...local]),
      catalog(["ls", "s3://uploads/backfilled/", "--json", ...local]),
    ]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^NAME +SIZE +TYPE +STATUS\na\.txt +/);
    expect(text.stderr).toBe("");
    expect(JSON.parse(json.stdout)).not.toHaveProperty("uncataloged");
  });

  it("beside sub-folders, says it below the table", async () => {
    const result = await catalog(["ls", "s3://uploads/mixed/", ...local]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/\nsub\/ +- +folder +-\n$/);
    expect(result.stderr).toBe(
      `(1 object in S3, none cataloged: 'catalog backfill s3://uploads/mixed/ ${local.join(" ")}' catalogs it)\n`,
    );
  });

  it("in a folder partly cataloged, says how many are not, below the table, and --json counts them", async () => {
    // Prepare: one of the three cataloged, as a backfill cut short or a lost event would leave them.
    const backfill = await catalog(["backfill", "s3://uploads/partly/a", ...local]);
    expect(backfill.code, backfill.stderr).toBe(0);

    // Act
    const [text, json] = await Promise.all([
      catalog(["ls", "s3://uploads/partly/", ...local]),
      catalog(["ls", "s3://uploads/partly/", "--json", ...local]),
    ]);

    // Assess
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^NAME +SIZE +TYPE +STATUS\na\.txt +[^\n]+\n$/);
    expect(text.stderr).toBe(
      `(2 objects in S3 are not cataloged: 'catalog backfill s3://uploads/partly/ ${local.join(" ")}' catalogs them)\n`,
    );
    expect(JSON.parse(json.stdout)).toMatchObject({ folder: "partly/", uncataloged: 2 });
  });

  it("calls a folder holding only its console marker empty", async () => {
    const result = await catalog(["ls", "s3://uploads/marked/", ...local]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe("s3://uploads/marked/: empty\n");
  });

  it("says thumbnails under the derived prefix are never cataloged, naming no backfill", async () => {
    const result = await catalog(["ls", "s3://uploads/_derived/thumbnails/", ...local]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(
      "s3://uploads/_derived/thumbnails/: 1 object in S3, derived files (thumbnails) that are never cataloged\n",
    );
  });
});

describe.concurrent("catalog ls --starts-with: the names of a folder that start with some text", () => {
  beforeAll(async () => {
    const keys = [
      "camera/IMG_2023.txt",
      "camera/IMG_2024_1.txt",
      "camera/IMG_2024_2.txt",
      "camera/IMG_2024_3.txt",
      "camera/img_2024.txt",
      "camera/IMG_2024-trip/a.txt",
      "camera/other/b.txt",
    ];
    for (const key of keys) {
      await servers.s3.send(new PutObjectCommand({ Bucket: "uploads", Key: key, Body: key }));
    }
    // Two of the three IMG_2024_ files cataloged, as a backfill cut short leaves them.
    for (const name of ["IMG_2024_1", "IMG_2024_2"]) {
      const backfill = await catalog(["backfill", `s3://uploads/camera/${name}`, ...local]);
      expect(backfill.code, backfill.stderr).toBe(0);
    }
  });

  it("lists only the sub-folders and objects whose names start with it, case-sensitive", async () => {
    const result = await catalog(["ls", "s3://uploads/camera/", "--starts-with", "IMG_2024", ...local]);
    expect(result.code, result.stderr).toBe(0);
    const names = result.stdout
      .split("\n")
      .slice(1, -1)
      .map((line) => line.split(/ +/)[0]);
    expect(names).toEqual(["IMG_2024-trip/", "IMG_2024_1.txt", "IMG_2024_2.txt"]);
    expect(result.stderr).toBe(
      `(1 object in S3 is not cataloged: 'catalog backfill s3://uploads/camera/IMG_2024 ${local.join(" ")}' catalogs it)\n`,
    );
  });

  it("--json names the start, and counts only the objects under it that the catalog lacks", async () => {
    const result = await catalog([
      "ls",
      "camera/",
      "--starts-with",
      "IMG_2024_",
      "--limit",
      "1",
      "--json",
      ...local,
    ]);
    const whole = await catalog(["ls", "camera/", "--starts-with", "IMG_2024_", "--json", ...local]);
    expect(result.code, result.stderr).toBe(0);
    // A page of one: the catalog's listing goes on, so nothing is said of what it lacks.
    expect(JSON.parse(result.stdout)).toMatchObject({
      folder: "camera/",
      startsWith: "IMG_2024_",
      folders: [],
      objects: [{ key: "camera/IMG_2024_1.txt" }],
      more: true,
    });
    expect(JSON.parse(result.stdout)).not.toHaveProperty("uncataloged");
    expect(JSON.parse(whole.stdout)).toMatchObject({
      objects: [{ key: "camera/IMG_2024_1.txt" }, { key: "camera/IMG_2024_2.txt" }],
      uncataloged: 1,
    });
  });

  it("says when no name starts with it, and takes an empty start as none", async () => {
    const [none, empty] = await Promise.all([
      catalog(["ls", "s3://uploads/camera/", "--starts-with", "DSC", ...local]),
      catalog(["ls", "s3://uploads/camera/", "--starts-with", "", "--json", ...local]),
    ]);
    expect(none.code, none.stderr).toBe(0);
    expect(none.stdout).toBe("s3://uploads/camera/ (names starting with 'DSC'): empty\n");
    expect(JSON.parse(empty.stdout)).not.toHaveProperty("startsWith");
    expect(JSON.parse(empty.stdout).folders).toEqual(["camera/IMG_2024-trip/", "camera/other/"]);
  });
});

it("catalog ls with a CATALOG_BUCKET that S3 would refuse names the variable in one line", async () => {
  const result = await catalog(["ls", ...local], { CATALOG_BUCKET: "Bad_Bucket" });
  expectOneLineError(
    result,
    /^catalog: CATALOG_BUCKET 'Bad_Bucket' is not an S3 bucket name: only lowercase letters, digits, '\.' and '-' are allowed$/,
  );
});

it("catalog ls with CATALOG_BUCKET and CATALOG_TABLE set empty uses the local stack's defaults", async () => {
  // As an empty CATALOG_DERIVED_PREFIX does: `docker run -e CATALOG_BUCKET=` or a blank line in an env file.
  const result = await catalog(["ls", "--json", ...local], { CATALOG_BUCKET: "", CATALOG_TABLE: "" });
  expect(result.stderr).toBe("");
  expect(result.code).toBe(0);
  expect(JSON.parse(result.stdout)).toMatchObject({ bucket: "uploads", folder: "" });
});

describe.concurrent("catalog CLI: AWS without credentials or region is one clear line", () => {
  const aws = ["--bucket", "photos", "--table", "t"];
  it.each([
    [["ls"]],
    [["show", "s3://photos/a.jpg"]],
    [["find", "--problems"]],
    [["upload", "README.md", "README.pt-BR.md"]],
    [["backfill"]],
    [["reprocess"]],
  ])("catalog %j --region eu-west-1", async (args) => {
    const result = await catalog([...args, "--region", "eu-west-1", ...aws]);
    expectOneLineError(result, /^catalog: no AWS credentials: .*aws configure.*AWS_ACCESS_KEY_ID/);
  });

  it("names the profile that has none", async () => {
    const result = await catalog(["ls", "--profile", "nosuch", ...aws]);
    expectOneLineError(result, /^catalog: no AWS credentials for profile 'nosuch': /);
  });

  it("asks for a region when credentials come without one", async () => {
    const result = await catalog(["find", "--problems", ...aws], {
      CATALOG_TARGET: "aws",
      AWS_ACCESS_KEY_ID: "AKIAEXAMPLE",
      AWS_SECRET_ACCESS_KEY: "secret",
    });
    expectOneLineError(result, /^catalog: no AWS region: pass --region or set AWS_REGION/);
  });
});

describe("catalog backfill: SIGTERM", () => {
  it("stops after the objects in flight, prints its summary and exits 143, as on Ctrl-C", async () => {
    const count = 300;
    for (let index = 0; index < count; index += 25) {
      await Promise.all(
        Array.from({ length: 25 }, (_, offset) =>
          servers.s3.send(
            new PutObjectCommand({
              Bucket: "uploads",
              Key: `term/${String(index + offset).padStart(4, "0")}.txt`,
              Body: `line ${index + offset}\n`,
            }),
          ),
        ),
      );
    }
    const store = new CatalogStore(servers.dynamodb, { tableName: "catalog" });
    const child: ChildProcess = spawn(
      "node",
      [CATALOG, "backfill", "s3://uploads/term/", "--concurrency", "1", ...local],
      { cwd: REPO_ROOT, env: { ...process.env, HOME: home }, stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
      child.once("exit", (exitCode, exitSignal) => resolve([exitCode, exitSignal])),
    );
    // The pass is under way once its first object is in the catalog.
    while ((await store.getObject("uploads", "term/0000.txt")).record === undefined) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    child.kill("SIGTERM");
    const [code, signal] = await exited;

    expect({ code, signal }, stderr).toEqual({ code: 143, signal: null });
    expect(stdout).toMatch(
      /^backfill: scanned \d+ of 300 listed, .* \(interrupted: run it again to resume\)$/m,
    );
  }, 60_000);
});

describe("catalog upload: Ctrl-C", () => {
  it("finishes the files in flight, says how many went up, and exits 130", async () => {
    const folder = await mkdtemp(join(tmpdir(), "catalog-upload-int-"));
    await mkdir(join(folder, "many"));
    const count = 400;
    await Promise.all(
      Array.from({ length: count }, (_, index) =>
        writeFile(join(folder, "many", `file-${String(index).padStart(4, "0")}.txt`), `line ${index}\n`),
      ),
    );
    const child: ChildProcess = spawn(
      "node",
      [CATALOG, "upload", join(folder, "many"), "--concurrency", "1", ...local],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, HOME: home },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.split("\n").length > 5 && !child.killed) child.kill("SIGINT");
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
      child.once("exit", (exitCode, exitSignal) => resolve([exitCode, exitSignal])),
    );
    await rm(folder, { recursive: true, force: true });

    expect({ code, signal }, stderr).toEqual({ code: 130, signal: null });
    const uploaded = stdout.split("\n").filter((line) => line.startsWith("uploaded s3://uploads/many/"));
    expect(uploaded.length).toBeGreaterThan(4);
    expect(uploaded.length).toBeLessThan(count);
    expect(stderr).toContain(`catalog upload: interrupted: ${uploaded.length} of ${count} file(s) uploaded`);
  });
});

describe.concurrent("catalog CLI: an endpoint where another kind of server answers is named", () => {
  it.each([
    ["find --problems", ["find", "--problems"], "DynamoDB"],
    ["show", ["show", "s3://uploads/a.jpg"], "DynamoDB"],
    ["ls", ["ls", "s3://uploads/"], "S3"],
    ["upload", ["upload", join(REPO_ROOT, "README.md")], "S3"],
  ])("catalog %s with the other server's endpoint as %s's", async (_, args, service) => {
    // One endpoint names the other server (S3's port given as DynamoDB's, or the reverse).
    const s3 = service === "S3";
    const endpoint = s3 ? servers.dynamodbEndpoint : servers.s3Endpoint;
    const result = await catalog([
      ...args,
      "--s3-endpoint",
      s3 ? endpoint : servers.s3Endpoint,
      "--dynamodb-endpoint",
      s3 ? servers.dynamodbEndpoint : endpoint,
    ]);
    const flag = s3 ? "--s3-endpoint" : "--dynamodb-endpoint";
    expectOneLineError(
      result,
      new RegExp(
        `^catalog: the ${service} endpoint ${endpoint} answered, but not as ${service} does( \\(HTTP \\d+\\))?: is ${flag} the address of the ${service} server\\? \\('catalog dev' prints it\\)$`,
      ),
    );
  });
});

describe.concurrent("catalog show: what it says when there is less or more to show", () => {
  it("names ls for a folder, which is listed rather than shown", async () => {
    await servers.s3.send(new PutObjectCommand({ Bucket: "uploads", Key: "shown/inside.txt", Body: "x" }));
    const result = await catalog(["show", "s3://uploads/shown/", ...local]);
    expectOneLineError(
      result,
      new RegExp(
        `^catalog: s3://uploads/shown/ is not in the catalog: a folder\\? 'catalog ls s3://uploads/shown/ ${flagsPattern()}' lists it$`,
      ),
    );
  });

  it("names ls for a folder written without its slash, when S3 holds something under it", async () => {
    await servers.s3.send(
      new PutObjectCommand({ Bucket: "uploads", Key: "unslashed/inside.txt", Body: "x" }),
    );
    const result = await catalog(["show", "s3://uploads/unslashed", ...local]);
    expectOneLineError(
      result,
      new RegExp(
        `^catalog: s3://uploads/unslashed is not in the catalog: a folder\\? 'catalog ls s3://uploads/unslashed/ ${flagsPattern()}' lists it$`,
      ),
    );
  });

  it("says 'the newest event' when --history 1 leaves older ones out", async () => {
    // Prepare: two versions of one key, each cataloged: two events in its history.
    for (const body of ["first", "second"]) {
      await servers.s3.send(new PutObjectCommand({ Bucket: "uploads", Key: "history/a.txt", Body: body }));
      const backfill = await catalog(["backfill", "s3://uploads/history/", ...local]);
      expect(backfill.code, backfill.stderr).toBe(0);
    }

    // Act
    const result = await catalog(["show", "s3://uploads/history/a.txt", "--history", "1", ...local]);

    // Assess
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain("  (the newest event; older ones exist: raise --history)\n");
  });
});
