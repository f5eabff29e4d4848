/**
 * Files the embedded S3 server writes whole: each goes to a temporary file
 * of its own first and takes its place by a rename, so a reader, a request
 * racing it, or a crash never sees half of one; and {@link Turns}, which
 * runs the renames of one object or one upload one at a time.
 */

import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { rename, rm, writeFile } from "node:fs/promises";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";

/** A name next to `path` for a file written before it takes `path`'s place; it never names an object or a part. */
export function temporaryPath(path: string): string {
  return `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
}

/** Whether the file name `name` is one {@link temporaryPath} makes: a file left by a write that never ended, once no write runs. */
export function isTemporaryPath(name: string): boolean {
  return /\.\d+\.[0-9a-z]*\.tmp$/.test(name);
}

/** Writes `text` to `path` through a temporary file, so a reader or a crash never sees half of it. */
export async function writeFileAtomically(path: string, text: string): Promise<void> {
  const temporary = temporaryPath(path);
  await writeFile(temporary, text);
  await rename(temporary, path);
}

/** Writes `content` to the new file `path` and returns its size and hex MD5; on failure the file is removed. */
export async function writeHashed(
  content: Buffer | Readable,
  path: string,
): Promise<{ size: number; md5: string }> {
  const md5 = createHash("md5");
  let size = 0;
  try {
    await pipeline(
      Buffer.isBuffer(content) ? Readable.from([content]) : content,
      new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          md5.update(chunk);
          size += chunk.length;
          callback(null, chunk);
        },
      }),
      createWriteStream(path),
    );
  } catch (error) {
    await rm(path, { force: true });
    throw error;
  }
  return { size, md5: md5.digest("hex") };
}

/**
 * Runs tasks one at a time per name (an object's file, a multipart upload's
 * folder), in the order they were asked for; a failed task does not stop the next.
 */
export class Turns {
  private readonly last = new Map<string, Promise<unknown>>();

  run<T>(name: string, task: () => Promise<T>): Promise<T> {
    const previous = this.last.get(name) ?? Promise.resolve();
    const turn = previous.then(task, task);
    const settled = turn.catch(() => undefined);
    this.last.set(name, settled);
    void settled.then(() => {
      if (this.last.get(name) === settled) this.last.delete(name);
    });
    return turn;
  }
}

/**
 * For `.catch()` on a file read: a file that is not there reads as
 * undefined; any other failure stands.
 *
 * @example
 * const text = await readFile(path, "utf8").catch(absent); // undefined when there is no such file
 */
export function absent(error: NodeJS.ErrnoException): undefined {
  if (error.code === "ENOENT") return undefined;
  throw error;
}
