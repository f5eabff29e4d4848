/**
 * A local stack that cannot start says why and leaves nothing running: the
 * servers it had started are closed (a process that only tried to start it
 * ends by itself), and a folder it cannot use is an error naming the flag,
 * never a start that waits forever.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DataFolderError, LocalStack } from "../../src/local/local-stack.js";
import { REPO_ROOT } from "../support/corpus.js";

const run = promisify(execFile);

let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), "stack-start-"));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

/** Starts a stack in a process of its own that prints the start's error and then has nothing left to do. */
async function startInChild(options: Record<string, unknown>): Promise<{ code: number; stdout: string }> {
  const script = `
    const { LocalStack } = await import("./src/local/local-stack.ts");
    try {
      await LocalStack.start(${JSON.stringify({ s3Port: 0, dynamodbPort: 0, logLevel: "SILENT", ...options })});
      console.log("started");
    } catch (error) {
      console.log("refused: " + error.message);
    }
  `;
  // A leaked server keeps the child alive for ever; the timeout only turns that into a failure.
  try {
    const { stdout } = await run(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      cwd: REPO_ROOT,
      timeout: 25_000,
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
    });
    return { code: 0, stdout };
  } catch (error) {
    const failed = error as { code: number | null; signal?: string; stdout: string };
    return { code: failed.code ?? -1, stdout: `${failed.stdout}(ended by ${failed.signal})` };
  }
}

describe("LocalStack.start that fails", () => {
  it("after its servers started closes them and reports the step's error", async () => {
    // Both servers start, then DynamoDB refuses the table (names have 3 to 255 characters).
    const result = await startInChild({ dataDir: join(directory, "bad-table"), tableName: "ab" });
    expect(result).toEqual({
      code: 0,
      stdout: "refused: TableName must be at least 3 characters long and at most 255 characters long\n",
    });
  }, 30_000);

  it.skipIf(!existsSync("/proc/self"))(
    "under a folder that cannot be made in /proc rejects at once, naming --data-dir",
    async () => {
      const attempt = LocalStack.start({ dataDir: "/proc/no-such-folder", s3Port: 0, dynamodbPort: 0 });
      await expect(attempt).rejects.toThrow(DataFolderError);
      await expect(attempt).rejects.toThrow(
        "cannot use /proc/no-such-folder/dynamodb for the DynamoDB server: ENOENT: no such file or directory, mkdir '/proc/no-such-folder' (choose another folder with --data-dir)",
      );
    },
  );

  it("on a data folder that is a file rejects, naming --data-dir", async () => {
    const file = join(directory, "a-file");
    await writeFile(file, "");
    await expect(LocalStack.start({ dataDir: file, s3Port: 0, dynamodbPort: 0 })).rejects.toThrow(
      `cannot use ${file}/dynamodb for the DynamoDB server: ENOTDIR`,
    );
  });

  it.each([
    // CURRENT names the manifest LevelDB reads first: here one that is not there, then one that is no manifest.
    ["missing", null, "IO error: {db}/MANIFEST-000009: No such file or directory"],
    ["damaged", "not a manifest", "Corruption: no meta-nextfile entry in descriptor"],
  ])(
    "whose DynamoDB database is %s rejects, naming its folder and --data-dir",
    async (name, manifest, reason) => {
      const dataDir = join(directory, `database-${name}`);
      const database = join(dataDir, "dynamodb");
      await mkdir(database, { recursive: true });
      await writeFile(join(database, "CURRENT"), "MANIFEST-000009\n");
      if (manifest !== null) await writeFile(join(database, "MANIFEST-000009"), manifest);

      const attempt = LocalStack.start({ dataDir, s3Port: 0, dynamodbPort: 0, logLevel: "SILENT" });

      await expect(attempt).rejects.toThrow(DataFolderError);
      await expect(attempt).rejects.toThrow(
        `cannot use ${database} for the DynamoDB server: ${reason.replace("{db}", database)} (choose another folder with --data-dir)`,
      );
    },
  );

  // Root writes to a folder whatever its mode says: there this cannot be shown.
  it.skipIf(process.getuid?.() === 0)(
    "whose DynamoDB folder is not writable rejects, naming its folder and --data-dir",
    async () => {
      const dataDir = join(directory, "read-only");
      const database = join(dataDir, "dynamodb");
      const first = await LocalStack.start({ dataDir, s3Port: 0, dynamodbPort: 0, logLevel: "SILENT" });
      await first.close();
      await chmod(database, 0o555);
      try {
        const attempt = LocalStack.start({ dataDir, s3Port: 0, dynamodbPort: 0, logLevel: "SILENT" });
        await expect(attempt).rejects.toThrow(DataFolderError);
        await expect(attempt).rejects.toThrow(
          new RegExp(
            `^cannot use ${database} for the DynamoDB server: IO error: ${database}/\\S+: Permission denied \\(choose another folder with --data-dir\\)$`,
          ),
        );
      } finally {
        await chmod(database, 0o755);
      }
    },
  );

  it("on the data folder of a running stack rejects, and the running one keeps its table", async () => {
    const dataDir = join(directory, "shared");
    const first = await LocalStack.start({ dataDir, s3Port: 0, dynamodbPort: 0, logLevel: "SILENT" });
    try {
      const second = LocalStack.start({ dataDir, s3Port: 0, dynamodbPort: 0, logLevel: "SILENT" });
      await expect(second).rejects.toThrow(
        `cannot use ${dataDir}/dynamodb for the DynamoDB server: another process has its database open (choose another folder with --data-dir)`,
      );
      await first.store.ensureTable();
      expect((await first.store.getObject(first.bucket, "none")).record).toBeUndefined();
    } finally {
      await first.close();
    }
  });

  it("on the data folder of a running stack touches none of its multipart uploads in flight", async () => {
    // Prepare: an upload the running stack is creating, its folder made and its key and metadata not yet
    // written: what a starting S3 server sweeps away as left over from a crash.
    const dataDir = join(directory, "uploading");
    const first = await LocalStack.start({ dataDir, s3Port: 0, dynamodbPort: 0, logLevel: "SILENT" });
    try {
      const upload = join(
        dataDir,
        "s3",
        first.bucket,
        "._S3rver_uploads",
        "0123456789abcdef0123456789abcdef",
      );
      await mkdir(upload, { recursive: true });

      // Act
      const second = LocalStack.start({ dataDir, s3Port: 0, dynamodbPort: 0, logLevel: "SILENT" });

      // Assess: refused before its S3 server swept the folder.
      await expect(second).rejects.toThrow("another process has its database open");
      expect(existsSync(upload)).toBe(true);
    } finally {
      await first.close();
    }
  });
});
