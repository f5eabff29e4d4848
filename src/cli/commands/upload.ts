import { createReadStream } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { basename, dirname, relative, resolve, sep } from "node:path";
import type { Command } from "commander";
import mime from "mime";
import { DEFAULT_DERIVED_PREFIX, isDerivedKey } from "../../config/config.js";
import { unquoteETag } from "../../events/etag.js";
import { MAX_KEY_BYTES } from "../../s3/object-key.js";
import type { CatalogStore } from "../../store/catalog-store.js";
import { withoutIndexKeys } from "../../store/schema.js";
import type { CatalogRecord } from "../../store/types.js";
import { CliError } from "../cli-error.js";
import { type WalkProblem, walkFolder } from "../folder-walk.js";
import { formatBytes, summaryLine } from "../format.js";
import { parsePositiveInt } from "../options.js";
import { createProgress } from "../progress.js";
import { isNotTheProtocol } from "../sdk-errors.js";
import type { Target, TargetFlags } from "../target.js";
import {
  derivedPrefixOf,
  localApiUrl,
  parseS3Url,
  sameTargetFlags,
  withTargetFlags,
} from "../target-flags.js";
import { withTarget } from "../target-session.js";
import { terminalSafe } from "../terminal-text.js";

interface UploadFlags extends TargetFlags {
  prefix: string;
  wait?: boolean;
  timeout: number;
  concurrency: number;
  json?: boolean;
}

/** Files up to this size are read into memory before the PUT (a streamed body cannot be retried). */
const BUFFERED_UPLOAD_BYTES = 16 * 1024 * 1024;

/** A local file and the key it is uploaded under. */
export interface UploadItem {
  path: string;
  key: string;
  size: number;
}

/** Something found in a directory that cannot be uploaded, and why. */
export interface SkippedPath {
  path: string;
  reason: string;
}

/** What `catalog upload` will send, and what it found and cannot send. */
export interface UploadPlan {
  items: UploadItem[];
  skipped: SkippedPath[];
}

/**
 * The files named by the arguments, with their keys: a file goes under
 * `prefix + basename`; a directory is walked (in name order) and each file
 * goes under `prefix + its path relative to the directory's parent`, so
 * `upload photos/` yields `photos/a.jpg`, as `cp -r photos/ dest/` keeps the
 * folder's name (where `aws s3 cp --recursive photos/ s3://b/` would put
 * `a.jpg` at the root, as `upload photos/*` does). Symbolic links are followed, as `aws s3 cp`
 * does, except into a folder they are in. What a directory holds that cannot
 * be uploaded (a broken link, a socket, a name that is not UTF-8, a folder
 * that cannot be read, a file whose key would be under the derived prefix,
 * where nothing is cataloged) is listed in `skipped`, for the caller to say,
 * and so is a path named that is missing or no file or directory, as `cp`
 * copies the others. A key over S3's 1,024 bytes fails before anything is
 * sent.
 *
 * @example
 * await uploadPlan(["photos", "notes.txt"], "2024/") // { items: [{ key: "2024/photos/a.jpg", ... }, { key: "2024/notes.txt", ... }], skipped: [] }
 */
export async function uploadPlan(
  paths: readonly string[],
  prefix: string,
  derivedPrefix: string = DEFAULT_DERIVED_PREFIX,
): Promise<UploadPlan> {
  const items: UploadItem[] = [];
  const skipped: SkippedPath[] = [];
  // A folder copied down from the bucket (`aws s3 sync`) brings its thumbnails folder along.
  const derived = (path: string, key: string): boolean => {
    if (!isDerivedKey(key, derivedPrefix)) return false;
    skipped.push({ path, reason: `its key would be under '${derivedPrefix}', where derived files go` });
    return true;
  };
  for (const path of paths) {
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      skipped.push({ path, reason: code === "ENOENT" ? "no such file or directory" : unreadable(error) });
      continue;
    }
    if (info.isDirectory()) {
      const parent = dirname(resolve(path));
      if (derived(path, `${prefix}${toKey(relative(parent, resolve(path)))}/`)) continue;
      for (const found of walkFolder(resolve(path), Buffer.compare)) {
        if ("problem" in found) {
          skipped.push({ path: found.path, reason: describe(found.problem) });
          continue;
        }
        let size: number;
        try {
          size = (await stat(found.file)).size;
        } catch (error) {
          skipped.push({ path: found.file, reason: unreadable(error) });
          continue;
        }
        const key = prefix + toKey(relative(parent, found.file));
        if (!derived(found.file, key)) items.push({ path: found.file, key, size });
      }
    } else if (info.isFile()) {
      const key = prefix + basename(path);
      if (!derived(path, key)) items.push({ path, key, size: info.size });
    } else {
      skipped.push({ path, reason: "not a file or directory" });
    }
  }
  const tooLong = items.filter((item) => Buffer.byteLength(item.key) > MAX_KEY_BYTES);
  const first = tooLong[0];
  if (first) {
    const others = tooLong.length > 1 ? ` (and ${tooLong.length - 1} more)` : "";
    throw new CliError(
      `${first.path}: its key would be ${Buffer.byteLength(first.key)} bytes, over S3's limit of ${MAX_KEY_BYTES}${others}: use a shorter --prefix or shorter names`,
    );
  }
  return { items, skipped };
}

/**
 * Commander parser for `--prefix`: the folder files go into. People type
 * `--prefix docs` meaning a folder, so the `/` is added; a leading `/`, `./`
 * and empty segments are dropped, since S3 would keep them as a folder with
 * an empty or `.` name. A `..` segment is refused: S3 keys have no parent,
 * and tools that treat keys as paths (browsers, sync tools) would resolve it.
 * A folder under the derived prefix is refused by `runUpload`, once the
 * prefix is known.
 *
 * @example
 * folderPrefix("docs") // "docs/"
 * folderPrefix("/photos//2024/") // "photos/2024/"
 * folderPrefix("") // ""
 */
export function folderPrefix(value: string): string {
  if (value.startsWith("s3://")) {
    throw new CliError(
      `It takes a folder of the bucket, not an S3 URL: write ${destinationFlags(value)} instead`,
    );
  }
  const segments = value.split("/").filter((segment) => segment !== "" && segment !== ".");
  if (segments.includes("..")) {
    throw new CliError("'..' is not a folder name: S3 keys have no parent folder");
  }
  return segments.map((segment) => `${segment}/`).join("");
}

/**
 * The flags that name the place an `s3://bucket/folder/` URL does, for people
 * who write a destination as `aws s3 cp` takes it.
 *
 * @example
 * destinationFlags("s3://uploads/photos/2024") // "--bucket uploads --prefix photos/2024/"
 */
function destinationFlags(url: string): string {
  const { bucket, key } = parseS3Url(url, "");
  const prefix = folderPrefix(key);
  return prefix ? `--bucket ${bucket} --prefix ${prefix}` : `--bucket ${bucket}`;
}

/**
 * Refuses, before anything is sent, a path that is an S3 URL and no local
 * file: `catalog upload a.jpg s3://uploads/photos/` means a destination,
 * which `upload` takes as flags; uploading the rest to the default folder
 * would put them where they were not meant to go.
 */
async function refuseS3Destinations(paths: readonly string[]): Promise<void> {
  for (const path of paths) {
    if (!path.startsWith("s3://")) continue;
    const local = await stat(path).then(
      () => true,
      () => false,
    );
    if (!local) {
      throw new CliError(
        `'${path}' is an S3 URL: catalog upload takes local files and folders, and where they go as flags (${destinationFlags(path)})`,
      );
    }
  }
}

/** Why a directory entry's name or a failed call means it cannot be uploaded. */
function unreadable(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return "broken symbolic link";
  if (code === "ELOOP") return "symbolic link loop";
  return `cannot be read (${code ?? (error as Error).message})`;
}

/** A walk's problem, in upload's words. */
function describe(problem: WalkProblem): string {
  switch (problem.kind) {
    case "error":
      return unreadable(problem.error);
    case "not-utf8":
      return "its name is not UTF-8, as S3 keys must be";
    case "special":
      return "not a file or directory";
    case "cycle":
      return "symbolic link to a folder it is in";
  }
}

/** S3 keys use `/` whatever the platform's separator. */
function toKey(path: string): string {
  return sep === "/" ? path : path.split(sep).join("/");
}

/**
 * Faults that every other upload would hit too: stop and say it once. The
 * local stack answers 503 ServiceUnavailable only once it is stopping (Ctrl-C
 * on `catalog dev`), after the SDK's retries too; S3 may answer it under
 * load, and there the next file may well go up.
 */
function isFatal(error: unknown, target: Target): boolean {
  const { name, code } = error as { name?: string; code?: string };
  return (
    code === "ECONNREFUSED" ||
    name === "NoSuchBucket" ||
    name === "CredentialsProviderError" ||
    name === "InvalidAccessKeyId" ||
    (name === "ServiceUnavailable" && target.mode === "local") ||
    // Another kind of server at the endpoint answers every file the same way.
    isNotTheProtocol(error)
  );
}

async function uploadOne(target: Target, item: UploadItem): Promise<string> {
  const { PutObjectCommand } = await import("@aws-sdk/client-s3");
  const output = await target.s3.send(
    new PutObjectCommand({
      Bucket: target.bucket,
      Key: item.key,
      // Small files as bytes, so the SDK can retry them; large ones streamed, not held in memory.
      Body: item.size <= BUFFERED_UPLOAD_BYTES ? await readFile(item.path) : createReadStream(item.path),
      ContentLength: item.size,
      ContentType: mime.getType(item.path) ?? "application/octet-stream",
    }),
  );
  return unquoteETag(output.ETag ?? "");
}

/**
 * Polls the catalog until the record of this upload (same ETag) is there.
 * The pipeline runs asynchronously after the PUT, exactly as in AWS.
 */
export async function waitForRecord(
  store: CatalogStore,
  bucket: string,
  key: string,
  eTag: string,
  timeoutMs: number,
  notComing?: () => Promise<boolean>,
): Promise<CatalogRecord | "not watched" | undefined> {
  const deadline = Date.now() + timeoutMs;
  let delay = 100;
  for (;;) {
    const record = await store.getRecord(bucket, key);
    if (record && record.status !== "deleted" && unquoteETag(record.etag ?? "") === eTag) return record;
    if (await notComing?.()) return "not watched";
    if (Date.now() >= deadline) return undefined;
    await new Promise((done) => setTimeout(done, delay));
    delay = Math.min(1000, delay * 1.5);
  }
}

/**
 * Changes the local stack at `api` has seen in `bucket` and left out, as it
 * does every bucket but the one it watches (its `/api/health`); undefined
 * when it watches `bucket`, or when nothing answers there.
 */
async function unwatchedChanges(api: string, bucket: string): Promise<number | undefined> {
  try {
    const response = await fetch(`${api}/api/health`, { signal: AbortSignal.timeout(2000) });
    if (!response.ok) return undefined;
    const health = (await response.json()) as { bucket?: unknown; unwatched?: Record<string, unknown> };
    if (typeof health.bucket !== "string" || health.bucket === bucket) return undefined;
    const seen = health.unwatched?.[bucket];
    return typeof seen === "number" ? seen : 0;
  } catch {
    return undefined;
  }
}

async function runUpload(paths: string[], flags: UploadFlags): Promise<void> {
  const derivedPrefix = derivedPrefixOf(flags);
  // Refused as the HTTP API refuses it: files there are never cataloged.
  if (isDerivedKey(flags.prefix, derivedPrefix)) {
    throw new CliError(
      `--prefix '${flags.prefix}' is under '${derivedPrefix}', where derived files go: nothing there is cataloged`,
    );
  }
  await refuseS3Destinations(paths);
  const { items, skipped } = await uploadPlan(paths, flags.prefix, derivedPrefix);
  // One path that cannot be sent, and nothing else: the one-line error of a bad argument.
  const only = skipped[0];
  if (items.length === 0 && skipped.length === 1 && only) throw new CliError(`${only.path}: ${only.reason}`);
  for (const { path, reason } of skipped) {
    process.stderr.write(`catalog upload: ${terminalSafe(path)}: skipped: ${reason}\n`);
  }
  if (items.length === 0) {
    throw new CliError(
      skipped.length > 0 ? "nothing to upload" : "nothing to upload: the directories are empty",
    );
  }
  await withTarget(flags, async (target) => {
    // --wait reads the catalog: a table that is not there is said before anything goes up.
    if (flags.wait) await target.store.getRecord(target.bucket, (items[0] as UploadItem).key);
    // A local stack catalogs one bucket: an upload elsewhere that it counts as left out gets no record,
    // which --wait says at once instead of after its timeout. Known only once the stack has seen one.
    const api = flags.wait && target.mode === "local" ? localApiUrl(flags) : undefined;
    const unwatchedBefore = api ? await unwatchedChanges(api, target.bucket) : undefined;
    let notWatched = false;
    const notComing =
      api && unwatchedBefore !== undefined
        ? async () => {
            notWatched ||= ((await unwatchedChanges(api, target.bucket)) ?? 0) > unwatchedBefore;
            return notWatched;
          }
        : undefined;
    const progress = createProgress({
      label: "upload",
      total: items.length,
      enabled: items.length > 1 && !flags.json,
    });
    let failed = 0;
    let next = 0;
    let uploaded = 0;
    let stopping = false;
    // First Ctrl-C: send no new file, finish those in flight and say what went up; second: quit now.
    const onSignal = () => {
      if (stopping) process.exit(130);
      stopping = true;
      process.stderr.write("\nupload: stopping after the files in flight (Ctrl-C again to quit now)\n");
    };
    process.on("SIGINT", onSignal);
    const lines: string[] = [];
    // Lines name local files and echo metadata: shown, never acted on by the terminal.
    const printLines = () => {
      progress.stop();
      for (const line of lines.splice(0)) {
        if (line.startsWith("catalog upload: ")) process.stderr.write(`${terminalSafe(line)}\n`);
        else process.stdout.write(`${terminalSafe(line)}\n`);
      }
    };
    const worker = async () => {
      while (!stopping && next < items.length) {
        const item = items[next++] as UploadItem;
        const url = `s3://${target.bucket}/${item.key}`;
        let eTag: string;
        try {
          eTag = await uploadOne(target, item);
        } catch (error) {
          if (isFatal(error, target)) throw error;
          failed++;
          lines.push(`catalog upload: ${item.path}: ${(error as Error).message}`);
          progress.increment();
          continue;
        }
        uploaded++;
        let line = flags.json
          ? // `etag`, as records, `show --json` and the HTTP API spell it.
            JSON.stringify({ bucket: target.bucket, key: item.key, size: item.size, etag: eTag })
          : `uploaded ${url} (${formatBytes(item.size)})`;
        if (flags.wait) {
          const record = await waitForRecord(
            target.store,
            target.bucket,
            item.key,
            eTag,
            flags.timeout * 1000,
            notComing,
          );
          if (record === "not watched") {
            // Uploaded, as the line says; no record will come, which is said once, at the end.
            progress.increment();
            lines.push(line);
            continue;
          }
          if (!record) {
            failed++;
            lines.push(`catalog upload: ${url}: no record after ${flags.timeout} s`);
            progress.increment();
            continue;
          }
          line = flags.json
            ? JSON.stringify({
                bucket: target.bucket,
                key: item.key,
                size: item.size,
                etag: eTag,
                record: withoutIndexKeys(record),
              })
            : summaryLine(record);
        }
        progress.increment();
        // Printed after the bar stops when there is one, so lines do not tear it.
        if (items.length > 1 && process.stderr.isTTY && !flags.json) lines.push(line);
        else process.stdout.write(`${terminalSafe(line)}\n`);
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.min(flags.concurrency, items.length) }, worker));
    } catch (error) {
      // The fault is said next (the stack went away, the bucket was deleted); say first what went up.
      stopping = true;
      printLines();
      if (uploaded > 0) {
        process.stderr.write(
          `catalog upload: stopped: ${uploaded} of ${items.length} file(s) uploaded, ${items.length - uploaded} not\n`,
        );
      }
      throw error;
    } finally {
      progress.stop();
      process.off("SIGINT", onSignal);
    }
    printLines();
    if (notWatched) {
      process.stderr.write(
        `${terminalSafe(
          `catalog upload: no record will come: the local stack catalogs another bucket, not s3://${target.bucket}/ (\`catalog backfill s3://${target.bucket}/${sameTargetFlags(flags)}\` catalogs what it holds)`,
        )}\n`,
      );
    }
    const skippedToo = skipped.length > 0 ? `, ${skipped.length} skipped` : "";
    if (stopping) {
      const failures = `${failed > 0 ? `, ${failed} failed` : ""}${skippedToo}`;
      process.stderr.write(
        `catalog upload: interrupted: ${uploaded} of ${items.length} file(s) uploaded${failures}\n`,
      );
      process.exitCode = 130;
      return;
    }
    if (failed > 0) throw new CliError(`${failed} of ${items.length} file(s) failed${skippedToo}`);
    if (skipped.length > 0) {
      throw new CliError(
        `${skipped.length} file(s) or folder(s) skipped; the ${items.length} other(s) uploaded`,
      );
    }
  });
}

/** `catalog upload`: files and folders into the bucket; the pipeline catalogs them. */
export function registerUpload(program: Command): void {
  withTargetFlags(
    program
      .command("upload")
      .description("upload files and directories (recursively) to the bucket; the pipeline catalogs them")
      .argument("<paths...>", "files or directories")
      .option(
        "--prefix <folder>",
        "folder in the bucket, e.g. photos/2024 (the trailing / is added; a leading / or ./ is dropped)",
        folderPrefix,
        "",
      )
      .option("--wait", "wait until each file is cataloged and print its summary")
      .option("--timeout <seconds>", "with --wait: how long to wait for each record", parsePositiveInt, 60)
      .option("--concurrency <n>", "uploads at once", parsePositiveInt, 4)
      .option("--json", "one JSON object per file"),
    { derived: true },
  ).action((paths: string[], flags: UploadFlags) => runUpload(paths, flags));
}
