/**
 * The files under a folder, as `catalog upload` and `catalog extract` walk
 * them: depth first, symbolic links followed (as `aws s3 cp` follows them)
 * except into a folder they are in, and everything that cannot be read
 * reported rather than skipped in silence. Each command words the problems
 * its own way. Synchronous: a stat or a directory listing answers from the
 * kernel's cache in microseconds, less than an asynchronous call's round
 * trip costs.
 */
import { type Dirent, readdirSync, realpathSync, statSync } from "node:fs";
import { dirname, join } from "node:path";

/** Why a path found under the folder cannot be read. */
export type WalkProblem =
  /** A listing or a link's stat failed; `link` when the path is a symbolic link (ENOENT: a broken one). */
  | { kind: "error"; error: NodeJS.ErrnoException; link: boolean }
  /** Its name is not UTF-8: decoded, it would name no file (nor be a valid S3 key). */
  | { kind: "not-utf8" }
  /** A FIFO, socket or device: reading one could wait forever. */
  | { kind: "special" }
  /** A symbolic link to a folder it is in (the walked folder or one above it), which would be walked again. */
  | { kind: "cycle" };

/** A file to read, or a path that cannot be, and why. */
export type WalkEntry = { file: string } | { path: string; problem: WalkProblem };

/** How the entries of one folder are ordered, by their names' bytes. */
export type NameOrder = (a: Buffer, b: Buffer) => number;

/**
 * Files under `folder`, each folder's entries in `order`. Regular files cost
 * no stat (the listing says what they are); links cost one.
 *
 * @example
 * for (const entry of walkFolder("photos", Buffer.compare)) if ("file" in entry) console.log(entry.file);
 */
export function walkFolder(folder: string, order: NameOrder): Generator<WalkEntry> {
  const real = realpathSync(folder);
  return walkDirectory(folder, real, withFoldersAbove(real), order);
}

/**
 * `real` and every folder above it: the walk is in each of them, so a link
 * to one (`ln -s .. up`) would walk the whole tree around the folder, the
 * folder again among it.
 */
function withFoldersAbove(real: string): Set<string> {
  const folders = new Set([real]);
  for (let folder = real; dirname(folder) !== folder; folder = dirname(folder)) folders.add(dirname(folder));
  return folders;
}

/** `real`: the folder's real path; `ancestors`: those of the folders it is in, its own among them. */
function* walkDirectory(
  directory: string,
  real: string,
  ancestors: ReadonlySet<string>,
  order: NameOrder,
): Generator<WalkEntry> {
  let entries: Dirent<Buffer>[];
  try {
    // Names as bytes: one that is not UTF-8 would be decoded with U+FFFD and name no file.
    entries = readdirSync(directory, { withFileTypes: true, encoding: "buffer" });
  } catch (error) {
    yield { path: directory, problem: { kind: "error", error: error as NodeJS.ErrnoException, link: false } };
    return;
  }
  entries.sort((a, b) => order(a.name, b.name));
  for (const entry of entries) {
    const name = entry.name.toString("utf8");
    const path = join(directory, name);
    if (!Buffer.from(name).equals(entry.name)) yield { path, problem: { kind: "not-utf8" } };
    else if (entry.isFile()) yield { file: path };
    else if (entry.isDirectory()) {
      const inner = join(real, name);
      yield* walkDirectory(path, inner, new Set([...ancestors, inner]), order);
    } else if (entry.isSymbolicLink()) yield* walkLink(path, ancestors, order);
    else yield { path, problem: { kind: "special" } };
  }
}

function* walkLink(path: string, ancestors: ReadonlySet<string>, order: NameOrder): Generator<WalkEntry> {
  let isFile: boolean;
  let isDirectory: boolean;
  try {
    const info = statSync(path);
    isFile = info.isFile();
    isDirectory = info.isDirectory();
  } catch (error) {
    yield { path, problem: { kind: "error", error: error as NodeJS.ErrnoException, link: true } };
    return;
  }
  if (isFile) yield { file: path };
  else if (!isDirectory) yield { path, problem: { kind: "special" } };
  else {
    const real = realpathSync(path);
    if (ancestors.has(real)) yield { path, problem: { kind: "cycle" } };
    else yield* walkDirectory(path, real, new Set([...ancestors, real]), order);
  }
}
