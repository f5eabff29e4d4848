/**
 * Debian binary packages (.deb, .udeb; deb(5)): an `ar` archive of
 * `debian-binary`, `control.tar[.gz|.xz|.zst]` (the `control` file that
 * describes the package, and its scripts and checksums) and
 * `data.tar[.gz|.xz|.zst|.bz2|.lzma]` (the files it installs). The control
 * file gives the package section; the data tarball, walked as a tarball
 * object is, gives the listing. Written by hand: the `ar` framing is a
 * 60-byte text header per member, and the npm readers of .deb files unpack
 * whole packages into memory, where this reads the members' headers and
 * decompresses only the control member and, within the tarball bounds,
 * the data member.
 */
import { ContentError } from "../../errors.js";
import { cleanString, definedFields } from "../../limits.js";
import type { ArchiveInfo, PackageInfo, Sections } from "../../types.js";
import { bunzip2 } from "../archive/bzip2.js";
import { gunzip, stored, unxz, unzstd } from "../archive/decoders.js";
import { assess, listCompressedTar, listTar, type Region, regionRead } from "../archive/extract.js";
import { type Decoder, ForwardDecompressor } from "../archive/forward-decompressor.js";
import { unlzma } from "../archive/lzma-alone.js";
import { walkTarKeeping } from "../archive/tar.js";
import type { ExtractContext } from "../extractor.js";
import { first, headerFields } from "./fields.js";

const AR_MAGIC = "!<arch>\n";
const AR_HEADER_BYTES = 60;
/** dpkg writes three members; later versions may add ones named with a leading `_`. */
const MAX_MEMBERS = 16;
/** A control member's compressed bytes read at most: scripts and an md5sums line per file. */
const MAX_CONTROL_INPUT_BYTES = 4 * 1024 * 1024;
/** Its decompressed bytes walked at most. */
const MAX_CONTROL_OUTPUT_BYTES = 32 * 1024 * 1024;
/** The control file's bytes kept; real ones are a few KiB, a long Description included. */
const MAX_CONTROL_FILE_BYTES = 256 * 1024;

/** One member of the `ar` archive. */
interface ArMember {
  name: string;
  region: Region;
}

const DECODERS: Record<string, Decoder | undefined> = {
  "": stored,
  ".gz": gunzip,
  ".xz": unxz,
  ".zst": unzstd,
  ".bz2": bunzip2,
  ".lzma": unlzma,
};

function ascii(bytes: Uint8Array): string {
  return String.fromCharCode(...bytes);
}

/** The `ar` members' names and where their bodies lie, header by header. */
async function readMembers(ctx: ExtractContext): Promise<ArMember[]> {
  const size = ctx.reader.size;
  if (ascii(await ctx.reader.read(0, 8)) !== AR_MAGIC) throw new ContentError("not an ar archive");
  const members: ArMember[] = [];
  let offset = 8;
  while (offset + AR_HEADER_BYTES <= size && members.length < MAX_MEMBERS) {
    const header = ascii(await ctx.reader.read(offset, AR_HEADER_BYTES));
    if (header.slice(58, 60) !== "`\n")
      throw new ContentError(`ar member header at byte ${offset} is damaged`);
    const name = header.slice(0, 16).trimEnd().replace(/\/$/, "");
    const declared = header.slice(48, 58).trim();
    if (!/^\d+$/.test(declared)) throw new ContentError(`ar member ${JSON.stringify(name)} has no size`);
    const body = offset + AR_HEADER_BYTES;
    const length = Number(declared);
    // A member cut short keeps what is there; the readers below say what they miss.
    members.push({ name, region: { offset: body, size: Math.min(length, size - body) } });
    offset = body + length + (length % 2);
  }
  return members;
}

/** A member named `base` or `base.<compression>`, and its compression suffix. */
function memberNamed(members: readonly ArMember[], base: string): [ArMember, string] | undefined {
  for (const member of members) {
    if (member.name === base || member.name.startsWith(`${base}.`))
      return [member, member.name.slice(base.length)];
  }
  return undefined;
}

/**
 * The `control` file's bytes from the control member, read by walking its
 * tar as it decompresses and keeping the body of the entry named `control`.
 */
async function controlFile(ctx: ExtractContext, member: ArMember, decoder: Decoder): Promise<Uint8Array> {
  const content = new ForwardDecompressor({
    read: regionRead(ctx, member.region),
    size: member.region.size,
    maxInput: MAX_CONTROL_INPUT_BYTES,
    chunkBytes: 1024 * 1024,
    maxOutput: MAX_CONTROL_OUTPUT_BYTES,
    decoder,
    signal: ctx.signal,
  });
  try {
    let control: Uint8Array | undefined;
    await walkTarKeeping(
      (offset, length) => content.read(offset, length),
      { maxEntries: ctx.budget.maxEntries, sampleSize: 0, readAllowanceSpent: () => control !== undefined },
      {
        wanted: (name) => control === undefined && /^(\.\/)?control$/.test(name),
        maxBytes: MAX_CONTROL_FILE_BYTES,
        take: (_, body) => {
          control = body;
        },
      },
    );
    if (control) return control;
    const why = content.failure ? ` (the ${member.name} data is damaged: ${content.failure})` : "";
    throw new ContentError(`the package's ${member.name} holds no control file${why}`);
  } finally {
    content.close();
  }
}

/** The package section from a control file's fields (deb-control(5)); their names are case-insensitive. */
function packageOf(fields: Map<string, string[]>): PackageInfo {
  const installedKiB = Number(first(fields, "installed-size"));
  return definedFields<PackageInfo>({
    format: "deb",
    name: first(fields, "package"),
    version: first(fields, "version"),
    architecture: first(fields, "architecture"),
    // The Description's first line is the synopsis; the lines after it are the long description.
    summary: cleanString(fields.get("description")?.[0]?.split("\n")[0]),
    maintainer: first(fields, "maintainer"),
    homepage: first(fields, "homepage"),
    section: first(fields, "section"),
    source: first(fields, "source"),
    installedSize: Number.isSafeInteger(installedKiB) && installedKiB >= 0 ? installedKiB * 1024 : undefined,
  });
}

/**
 * A Debian package's description and listing.
 *
 * @example
 * const { package: pkg, archive } = await extractDeb(ctx);
 * // pkg: { format: "deb", name: "7zip", version: "22.01+dfsg-8", architecture: "amd64", ... }
 * // archive: { kind: "deb", entries: 12, sample: ["./", "./usr/", ...], ... }
 */
export async function extractDeb(ctx: ExtractContext): Promise<Sections> {
  const members = await readMembers(ctx);
  const sections: Sections = {};
  const control = memberNamed(members, "control.tar");
  if (!control) throw new ContentError("not a Debian package: no control.tar member");
  const [controlMember, controlSuffix] = control;
  const controlDecoder = DECODERS[controlSuffix];
  if (!controlDecoder) {
    ctx.warn(`the control member is compressed as ${controlSuffix.slice(1)}, which is not read`);
  } else {
    const bytes = await controlFile(ctx, controlMember, controlDecoder);
    sections.package = packageOf(headerFields(new TextDecoder().decode(bytes), "newline"));
    ctx.partial.package = sections.package;
  }

  const data = memberNamed(members, "data.tar");
  if (!data) {
    ctx.warn("the package has no data.tar member: its files are not listed");
    return sections;
  }
  const [dataMember, dataSuffix] = data;
  let archive: ArchiveInfo;
  if (dataSuffix === "") {
    try {
      archive = await listTar(ctx, dataMember.region);
    } catch (error) {
      if (!(error instanceof ContentError)) throw error;
      throw new ContentError(`the package's ${dataMember.name} is damaged: ${error.message}`);
    }
  } else {
    const decoder = DECODERS[dataSuffix];
    if (!decoder) {
      ctx.warn(
        `the data member is compressed as ${dataSuffix.slice(1)}, which is not read: its files are not listed`,
      );
      sections.archive = { kind: "deb", encrypted: false, sample: [] };
      return sections;
    }
    archive = await listCompressedTar(
      ctx,
      { kind: "deb", encrypted: false, sample: [] },
      { decoder, region: dataMember.region },
    );
  }
  archive.kind = "deb";
  if (archive.uncompressedSize !== undefined)
    Object.assign(archive, assess(archive.uncompressedSize, ctx.reader.size));
  sections.archive = archive;
  return sections;
}
