import { FileSource } from "../../src/engine/byte-source/byte-source.js";
import { extract } from "../../src/engine/engine.js";
import type { FormatInfo } from "../../src/engine/types.js";

/**
 * The engine's own answer for a local file's format: `extract({ detectOnly })`,
 * which `catalog extract --detect-only` printed before `detectFile` existed.
 *
 * @example
 * expect(await detectFile(path)).toEqual(await engineDetection(path));
 */
export async function engineDetection(path: string): Promise<FormatInfo> {
  const source = await FileSource.open(path);
  try {
    return (await extract(source, { name: path, detectOnly: true })).format;
  } finally {
    await source.close();
  }
}
