/**
 * An object's files on the embedded S3 server, replaced together, and what
 * a crash left of a write swept away when the server starts.
 *
 * s3rver keeps an object in files side by side, named after its key: its
 * bytes (`<name>._S3rver_object`), its ETag (`…_object.md5`), its metadata
 * with the stored checksum (`…_metadata.json`), its tags and its parts
 * (`…_tagging.xml`, `…_parts.json`). Each was written whole (a temporary
 * file renamed into place, atomic-files.ts), but one after the other, the
 * body first: a process killed in between left a new body beside the old
 * metadata, or, for a new key, a body with no metadata at all, which was
 * listed and served as `binary/octet-stream` with no checksum and never
 * cataloged (its PUT was never answered); and the temporary files of the
 * writes it cut short stayed for good, hundreds of MB of them.
 *
 * So a write stages every new file under a temporary name, then writes one
 * record naming them; the rename of that record into place is the commit
 * point. Then the files are renamed into place, the body last, and the
 * record removed. A crash before the commit leaves the previous object and
 * temporary files, which the next start removes; a crash after it leaves
 * the record, which the next start carries out, before the server answers
 * anything. A delete removes the body first: once it is gone the object is
 * gone, and the files a crash left beside no body are removed at start.
 * The server does not fsync, so this holds for a process killed at any
 * moment, not for a power cut, after which a file system may have kept a
 * rename and lost the bytes written before it.
 *
 * Between the commit and the body's rename, GET and HEAD of the key wait
 * (they take the key's turn, see embedded-s3-thread.ts); a listing that
 * runs meanwhile may read an overwritten object's new ETag with its old
 * size, as a listing that overlaps a write may (listed-object-fields.ts). A
 * new key is listed only once its body is in place, beside its metadata.
 */

import type { Dirent } from "node:fs";
import { readdir, readFile, rename, rm, rmdir, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { isTemporaryPath, temporaryPath, writeFileAtomically } from "./atomic-files.js";

/** What s3rver puts between a key's name and the name of each of its files. */
const INTERNAL = "._S3rver_";
/** The resource (see s3rver's `getResourcePath`) of an object's commit record. */
export const COMMIT_RESOURCE = "commit.json";
/** The resource of an object's bytes, the file a listing finds it by. */
const BODY = "object";
/** The resource of an object's metadata: its content type and checksum, written before its body. */
const METADATA = "metadata.json";
/** Every resource of an object: each means nothing without the body and the metadata. */
const OBJECT_FILES = new Set([BODY, METADATA, "object.md5", "tagging.xml", "parts.json"]);

/**
 * One file of an object's new state: `text` to be written at `path`; a file already written whole at
 * `temporary` to take `path`'s place; or neither, for `path` to be removed.
 */
export interface FileChange {
  path: string;
  text?: string;
  temporary?: string;
}

/** A commit record as written: the files of one folder, each to take its new content or (`null`) to go. */
interface CommitRecord {
  files: [name: string, temporary: string | null][];
}

/**
 * Brings an object's files to their new state as one change (see the
 * module's comment): every file is staged, `record` (the object's
 * {@link COMMIT_RESOURCE} path) is written, then the changes are made in
 * the order given (the body's last, so a new key is listed only once its
 * metadata is there) and the record removed. Every file is in the record's
 * folder. If it fails before the commit, the temporary files, `temporary`
 * ones given included, are removed and the object is left as it was.
 *
 * @example
 * await replaceObjectFiles(store.getResourcePath("uploads", "a.txt", COMMIT_RESOURCE), [
 *   { path: md5Path, text: "9a0364b9e99bb480dd25e1f0284c8555" },
 *   { path: tagsPath }, // no tags: the old object's go
 *   { path: bodyPath, temporary: bodyTemporary },
 * ]);
 */
export async function replaceObjectFiles(record: string, changes: readonly FileChange[]): Promise<void> {
  const folder = dirname(record);
  const staged: { path: string; temporary?: string }[] = [];
  try {
    for (const change of changes) {
      if (dirname(change.path) !== folder) throw new Error(`${change.path} is not beside ${record}`);
      if (change.text === undefined) {
        staged.push(change);
        continue;
      }
      const temporary = temporaryPath(change.path);
      staged.push({ path: change.path, temporary });
      await writeFile(temporary, change.text);
    }
    const files = staged.map(({ path, temporary }): [string, string | null] => [
      basename(path),
      temporary === undefined ? null : basename(temporary),
    ]);
    await writeFileAtomically(record, JSON.stringify({ files } satisfies CommitRecord));
  } catch (error) {
    for (const { temporary } of [...staged, ...changes])
      if (temporary !== undefined) await rm(temporary, { force: true });
    throw error;
  }
  await carryOut(record, staged, false);
}

/**
 * Makes the changes a commit record names, then removes it. Resuming after a crash, a temporary file that
 * is gone has been renamed into place already.
 */
async function carryOut(
  record: string,
  changes: readonly { path: string; temporary?: string }[],
  resuming: boolean,
): Promise<void> {
  for (const { path, temporary } of changes) {
    if (temporary === undefined) await rm(path, { force: true });
    else
      await rename(temporary, path).catch((error: NodeJS.ErrnoException) => {
        if (!(resuming && error.code === "ENOENT")) throw error;
      });
  }
  await rm(record, { force: true });
}

/**
 * Carries out the commit record at `record`, which a crash left: the object takes the state its write
 * committed to. A record that cannot be read (written whole, it could only be damaged by hand) is dropped,
 * and the sweep removes the temporary files it named.
 */
async function resume(record: string): Promise<void> {
  const folder = dirname(record);
  let parsed: CommitRecord;
  try {
    parsed = JSON.parse(await readFile(record, "utf8")) as CommitRecord;
    if (!Array.isArray(parsed?.files)) throw new SyntaxError("no files");
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    await rm(record, { force: true });
    return;
  }
  // Only names of this folder: a record names no file elsewhere.
  const inFolder = (name: unknown) => typeof name === "string" && name !== "" && basename(name) === name;
  const changes = parsed.files
    .filter((file) => Array.isArray(file) && inFolder(file[0]) && (file[1] === null || inFolder(file[1])))
    .map(([name, temporary]) => ({
      path: join(folder, name),
      ...(temporary !== null && { temporary: join(folder, temporary) }),
    }));
  await carryOut(record, changes, true);
}

/**
 * Sweeps, before the server answers, what stopped writes left in the bucket folders under `directory`:
 * carries out each commit record (its write had committed), then removes every temporary file (a write
 * that had not) and every file of a key that has no whole object, body and metadata: the files a delete
 * cut short left beside no body, and a body without metadata, which a version of this server that
 * renamed the body into place first could leave (none is written so now). Multipart uploads have their
 * own sweep (embedded-s3-multipart.ts).
 *
 * @example
 * await sweepObjectLeftovers(".catalog/s3"); // before the server listens
 */
export async function sweepObjectLeftovers(directory: string): Promise<void> {
  for (const entry of await entriesOf(directory))
    if (entry.isDirectory()) await sweepFolder(join(directory, entry.name), true);
}

/** Sweeps one folder of a bucket and those under it; a folder that ends up empty goes, as a delete's does. */
async function sweepFolder(folder: string, bucketRoot: boolean): Promise<void> {
  let entries = await entriesOf(folder);
  const records = entries.filter(
    (entry) => entry.isFile() && entry.name.endsWith(INTERNAL + COMMIT_RESOURCE),
  );
  for (const record of records) await resume(join(folder, record.name));
  if (records.length > 0) entries = await entriesOf(folder);

  const names = new Set(entries.filter((entry) => entry.isFile()).map((entry) => entry.name));
  // An object is whole when its body and its metadata are there; any other file of its key is a leftover.
  const whole = (key: string) =>
    names.has(`${key}${INTERNAL}${BODY}`) && names.has(`${key}${INTERNAL}${METADATA}`);
  for (const name of names) {
    const at = name.lastIndexOf(INTERNAL);
    const key = name.slice(0, at);
    const resource = name.slice(at + INTERNAL.length);
    // The bucket's own files (its CORS or website configuration) are named by no key.
    const objectFile = at !== -1 && OBJECT_FILES.has(resource) && !(bucketRoot && key === "");
    if (isTemporaryPath(name) || (objectFile && !whole(key))) await rm(join(folder, name), { force: true });
  }

  for (const entry of entries)
    if (entry.isDirectory() && !entry.name.startsWith(INTERNAL))
      await sweepFolder(join(folder, entry.name), false);
  if (!bucketRoot && (await entriesOf(folder)).length === 0)
    await rmdir(folder).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== "ENOENT" && error.code !== "ENOTEMPTY") throw error;
    });
}

/** A folder's entries; none when it is not there. */
async function entriesOf(folder: string): Promise<Dirent[]> {
  return readdir(folder, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT" || error.code === "ENOTDIR") return [];
    throw error;
  });
}
