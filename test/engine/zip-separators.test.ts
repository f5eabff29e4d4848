import { describe, expect, it } from "vitest";
import { readZipDirectory } from "../../src/engine/extractors/archive/zip-directory.js";
import { BlockReader, BufferSource, extract } from "../../src/engine/index.js";
import { buildZip, type Part, type ZipOptions } from "../support/zip.js";

/** A folder entry, a file in a subfolder, a nested archive and a name that mixes both separators. */
const parts: Part[] = [
  { name: "photos\\", content: "", method: "store" },
  { name: "photos\\2024\\a.jpg", content: "a" },
  { name: "photos\\inner.zip", content: "b" },
  { name: "mixed/c\\d.txt", content: "c" },
];

async function listing(options: ZipOptions) {
  const bytes = buildZip(parts, options);
  const directory = await readZipDirectory(new BlockReader(new BufferSource(bytes)), { maxEntries: 100 });
  const result = await extract(new BufferSource(bytes, "photos.zip"), { name: "photos.zip" });
  return { directory, result };
}

describe("ZIP names with `\\` between folders", () => {
  // `bsdtar -tf` (libarchive 3.6.2) lists each of these archives as photos/, photos/2024/a.jpg,
  // photos/inner.zip, mixed/c\d.txt, with photos/ a folder; `unzip -l` lists the names as stored.
  it.each([
    ["MS-DOS, UTF-8 flag set", { madeBy: 0, utf8: true }],
    ["MS-DOS, no UTF-8 flag", { madeBy: 0, utf8: false }],
    ["Unix, UTF-8 flag set", { madeBy: 3, utf8: true }],
    ["Unix, no UTF-8 flag", { madeBy: 3, utf8: false }],
  ])("lists them as `/` in an archive made on %s, as bsdtar does", async (_, options) => {
    // Act
    const { directory, result } = await listing(options);

    // Assess
    expect(result.status).toBe("ok");
    expect(result.archive).toMatchObject({ entries: 4, nestedArchives: 1 });
    expect(result.archive?.sample).toEqual([
      "photos/",
      "photos/2024/a.jpg",
      "photos/inner.zip",
      "mixed/c\\d.txt",
    ]);
    expect(directory.entries.map((entry) => entry.directory)).toEqual([true, false, false, false]);
  });

  it("keeps them when the version needed to extract names a host other than MS-DOS, as bsdtar does", async () => {
    // Act
    const { directory, result } = await listing({ madeBy: 3, neededHost: 3 });

    // Assess
    expect(result.archive?.sample).toEqual([
      "photos\\",
      "photos\\2024\\a.jpg",
      "photos\\inner.zip",
      "mixed/c\\d.txt",
    ]);
    expect(directory.entries.some((entry) => entry.directory)).toBe(false);
  });
});
