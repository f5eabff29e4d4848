/**
 * What a client sees of an object after the embedded S3 server was killed
 * in the middle of writing it, over real HTTP with the SDK: the object as
 * it was before the write, or the whole new one (body, metadata, checksum,
 * tags), never a body without its metadata; and no file the write left
 * survives the next start. Each crash is laid down as the files it leaves
 * (the new object's files taken from a server that stored it, under the
 * temporary names a write gives them), then a server is started on them.
 */
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EmbeddedS3 } from "../../src/local/embedded-s3.js";
import { startTestS3, type TestS3, testS3Client } from "../support/servers.js";

const BUCKET = "uploads";
/** Where a killed write's temporary files come from: `<file>.<pid>.<random>.tmp`, as atomic-files.ts names them. */
const PID = 4242;

/** The files s3rver keeps for an object, by what they hold. */
const RESOURCES = { body: "object", md5: "object.md5", metadata: "metadata.json", tags: "tagging.xml" };
type Resource = keyof typeof RESOURCES;

/** The file of `key`'s `resource` in the bucket folder `bucket` (keys here need no encoding). */
const fileOf = (bucket: string, key: string, resource: Resource | "commit.json") =>
  join(bucket, `${key}._S3rver_${resource in RESOURCES ? RESOURCES[resource as Resource] : resource}`);

const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("base64");
const md5 = (bytes: Buffer) => `"${createHash("md5").update(bytes).digest("hex")}"`;

/** One version of an object: what is put, and the files a server stored it as. */
interface Version {
  body: Buffer;
  contentType: string;
  tags?: string;
  files: Partial<Record<Resource, Buffer>>;
}

/** Every path under `folder`, relative to it. */
async function filesUnder(folder: string): Promise<string[]> {
  return (await readdir(folder, { recursive: true })).sort();
}

/**
 * Stores each version through a server of its own and reads back the files it wrote: the new object's files
 * as a write of this server stages them.
 */
async function storedVersions<Name extends string>(
  specs: Record<Name, Omit<Version, "files">>,
): Promise<Record<Name, Version>> {
  const scratch = await startTestS3("crash-states-scratch");
  try {
    const versions = {} as Record<Name, Version>;
    for (const [name, spec] of Object.entries(specs) as [Name, Omit<Version, "files">][]) {
      await scratch.client.send(
        new PutObjectCommand({
          Bucket: BUCKET,
          Key: name,
          Body: spec.body,
          ContentType: spec.contentType,
          ChecksumAlgorithm: "SHA256",
          ...(spec.tags && { Tagging: spec.tags }),
        }),
      );
      const files: Partial<Record<Resource, Buffer>> = {};
      for (const resource of Object.keys(RESOURCES) as Resource[]) {
        const path = fileOf(join(scratch.dataDirectory, BUCKET), name, resource);
        const content = await readFile(path).catch(() => undefined);
        if (content) files[resource] = content;
      }
      versions[name] = { ...spec, files };
    }
    return versions;
  } finally {
    await scratch.stop();
  }
}

/** Lays `version`'s files down as `key`'s object in the bucket folder. */
async function laidDown(
  bucket: string,
  key: string,
  version: Version,
  except: Resource[] = [],
): Promise<void> {
  for (const [resource, content] of Object.entries(version.files) as [Resource, Buffer][]) {
    if (except.includes(resource)) continue;
    const path = fileOf(bucket, key, resource);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, content);
  }
}

/**
 * Lays `version`'s files down as a write of `key` stages them, each under a temporary name, the body cut
 * short after `bodyBytes` when given; with `committed`, its commit record too (the files to take their
 * place, and the old object's tags to go when the new one has none); the `renamed` ones already in their
 * place, as a crash midway through the renames leaves them.
 */
async function staged(
  bucket: string,
  key: string,
  version: Version,
  options: { committed: boolean; bodyBytes?: number; renamed?: Resource[] },
): Promise<void> {
  const files: [string, string | null][] = [];
  for (const resource of ["md5", "metadata", "tags", "body"] as const) {
    const content = version.files[resource];
    const target = fileOf(bucket, key, resource);
    await mkdir(dirname(target), { recursive: true });
    const name = target.slice(dirname(target).length + 1);
    if (!content) {
      files.push([name, null]);
      continue;
    }
    const temporary = `${name}.${PID}.k${resource}1.tmp`;
    files.push([name, temporary]);
    // A file renamed into place before the crash is at its place, no longer under its temporary name.
    if (options.renamed?.includes(resource)) await writeFile(target, content);
    else
      await writeFile(
        join(dirname(target), temporary),
        resource === "body" && options.bodyBytes !== undefined
          ? content.subarray(0, options.bodyBytes)
          : content,
      );
  }
  if (options.committed)
    await writeFile(fileOf(bucket, key, "commit.json"), JSON.stringify({ files: [...files] }));
}

describe("a server started on a data folder a crash left mid-write", () => {
  let folder: string;
  let bucket: string;
  let s3: EmbeddedS3;
  let client: S3Client;
  let versions: Record<"old" | "newUntagged" | "newTagged" | "small", Version>;

  const head = (Key: string) =>
    client.send(new HeadObjectCommand({ Bucket: BUCKET, Key, ChecksumMode: "ENABLED" }));
  const bytesOf = async (Key: string) => {
    const got = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key }));
    return Buffer.from(
      await (got.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
    );
  };
  const tagsOf = async (Key: string) =>
    (await client.send(new GetObjectTaggingCommand({ Bucket: BUCKET, Key }))).TagSet?.map(
      ({ Key: name, Value }) => `${name}=${Value}`,
    );
  /** Asserts that `key` is `version`, whole, to every read. */
  const expectObject = async (key: string, version: Version) => {
    const headed = await head(key);
    expect(headed.ContentType).toBe(version.contentType);
    expect(headed.ChecksumSHA256).toBe(sha256(version.body));
    expect(headed.ETag).toBe(md5(version.body));
    expect(headed.ContentLength).toBe(version.body.length);
    expect((await bytesOf(key)).equals(version.body)).toBe(true);
    expect(await tagsOf(key)).toEqual(version.tags ? [version.tags] : []);
  };
  const expectNoObject = async (key: string) => {
    await expect(head(key)).rejects.toMatchObject({ name: "NotFound" });
  };

  beforeAll(async () => {
    // Prepare: an old and a new version of each key, and the crash of each write as files.
    const text = (body: string, contentType = "text/plain", tags?: string) => ({
      body: Buffer.from(body),
      contentType,
      ...(tags && { tags }),
    });
    versions = await storedVersions({
      old: text("the object before the write\n", "text/plain", "state=old"),
      newUntagged: text("the whole new object, no tags\n".repeat(2000), "application/x-new"),
      newTagged: text("a new key's whole object\n".repeat(500), "text/csv", "state=new"),
      small: text("g14\n"),
    });
    folder = await mkdtemp(join(tmpdir(), "catalog-crash-states-"));
    bucket = join(folder, BUCKET);
    const { old, newUntagged, newTagged, small } = versions;

    // An overwrite killed while the body was received: nothing committed.
    await laidDown(bucket, "crash/receiving.txt", old);
    await staged(bucket, "crash/receiving.txt", newUntagged, { committed: false, bodyBytes: 7_000 });
    // An overwrite killed once every file was staged, before its commit record was in place.
    await laidDown(bucket, "crash/staged.txt", old);
    await staged(bucket, "crash/staged.txt", newUntagged, { committed: false });
    // An overwrite killed right after its commit: nothing renamed yet.
    await laidDown(bucket, "crash/committed.txt", old);
    await staged(bucket, "crash/committed.txt", newUntagged, { committed: true });
    // An overwrite killed midway through its renames: the ETag and metadata in place, the old body and tags not.
    await laidDown(bucket, "crash/renaming.txt", old);
    await staged(bucket, "crash/renaming.txt", newUntagged, {
      committed: true,
      renamed: ["md5", "metadata"],
    });
    // A new key killed right after its commit.
    await staged(bucket, "crash/new/committed.csv", newTagged, { committed: true });
    // A new key killed before its commit.
    await staged(bucket, "crash/new/staged.csv", newTagged, { committed: false });
    // A new key killed mid-body, alone in its folder (`big200.bin` of `catalog upload` killed with kill -9).
    await staged(bucket, "crash/big/big200.bin", newUntagged, { committed: false, bodyBytes: 5_000 });
    // What an earlier version of the server left: the body renamed into place, its ETag written, its metadata not.
    await laidDown(bucket, "crash/many2/g14.txt", small, ["metadata"]);
    await writeFile(`${fileOf(bucket, "crash/many2/g14.txt", "metadata")}.${PID}.x1.tmp`, "{");
    await laidDown(bucket, "crash/many2/g13.txt", small);
    // A delete killed after the body went: its ETag, metadata and tags left beside no body.
    await laidDown(bucket, "crash/deleted.txt", old, ["body"]);

    // Act
    s3 = await EmbeddedS3.start({ port: 0, directory: folder, buckets: [BUCKET] });
    client = testS3Client(s3.endpoint);
  });
  afterAll(async () => {
    client?.destroy();
    await s3?.close();
    if (folder) await rm(folder, { recursive: true, force: true });
  });

  it("keeps the object as it was when the write had not committed", async () => {
    await expectObject("crash/receiving.txt", versions.old);
    await expectObject("crash/staged.txt", versions.old);
  });

  it("has the whole new object when the write had committed, the old one's tags gone", async () => {
    await expectObject("crash/committed.txt", versions.newUntagged);
    await expectObject("crash/renaming.txt", versions.newUntagged);
    await expectObject("crash/new/committed.csv", versions.newTagged);
  });

  it("has no object where a new key's write had not committed, or a delete had removed the body", async () => {
    await expectNoObject("crash/new/staged.csv");
    await expectNoObject("crash/big/big200.bin");
    await expectNoObject("crash/deleted.txt");
  });

  it("drops a body an earlier version left without its metadata, and keeps its whole neighbour", async () => {
    await expectNoObject("crash/many2/g14.txt");
    await expectObject("crash/many2/g13.txt", versions.small);
  });

  it("lists exactly the whole objects", async () => {
    const listed = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: "crash/" }));
    expect(listed.Contents?.map(({ Key, Size, ETag }) => [Key, Size, ETag])).toEqual(
      (
        [
          ["crash/committed.txt", versions.newUntagged],
          ["crash/many2/g13.txt", versions.small],
          ["crash/new/committed.csv", versions.newTagged],
          ["crash/receiving.txt", versions.old],
          ["crash/renaming.txt", versions.newUntagged],
          ["crash/staged.txt", versions.old],
        ] as const
      ).map(([key, version]) => [key, version.body.length, md5(version.body)]),
    );
  });

  it("leaves no file of the cut-short writes, and no folder they alone filled", async () => {
    const files = await filesUnder(bucket);
    expect(files.filter((name) => name.endsWith(".tmp") || name.endsWith("commit.json"))).toEqual([]);
    expect(files.filter((name) => name.includes("deleted") || name.includes("g14"))).toEqual([]);
    expect(files.some((name) => name.startsWith("crash/big"))).toBe(false);
    expect(files.filter((name) => name.startsWith("crash/new/"))).toEqual(
      ["metadata.json", "object", "object.md5", "tagging.xml"].map(
        (file) => `crash/new/committed.csv._S3rver_${file}`,
      ),
    );
  });

  it("takes a new PUT of a key whose delete was cut short without the old tags", async () => {
    const body = Buffer.from("put again\n");
    await client.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: "crash/deleted.txt",
        Body: body,
        ContentType: "text/plain",
      }),
    );
    expect((await head("crash/deleted.txt")).ETag).toBe(md5(body));
    expect(await tagsOf("crash/deleted.txt")).toEqual([]);
  });
});

describe("writes after the change", () => {
  let server: TestS3;
  beforeAll(async () => {
    server = await startTestS3("crash-states-writes");
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("PUT, overwrite and delete leave the object's files and nothing else", async () => {
    // Prepare
    const { client } = server;
    const key = "writes/report.txt";
    const first = Buffer.from("first\n");
    const second = Buffer.from("second, longer\n");
    const folderOf = () => join(server.dataDirectory, BUCKET, "writes");

    // Act: a tagged PUT, then an overwrite with another type and no tags
    await client.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: key,
        Body: first,
        ContentType: "text/plain",
        Tagging: "v=1",
        ChecksumAlgorithm: "SHA256",
      }),
    );
    await client.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: key,
        Body: second,
        ContentType: "text/markdown",
        ChecksumAlgorithm: "SHA256",
      }),
    );

    // Assess
    const headed = await client.send(
      new HeadObjectCommand({ Bucket: BUCKET, Key: key, ChecksumMode: "ENABLED" }),
    );
    expect([headed.ContentType, headed.ChecksumSHA256, headed.ETag, headed.ContentLength]).toEqual([
      "text/markdown",
      sha256(second),
      md5(second),
      second.length,
    ]);
    const { TagSet } = await client.send(new GetObjectTaggingCommand({ Bucket: BUCKET, Key: key }));
    expect(TagSet).toEqual([]);
    const listed = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: "writes/" }));
    expect(listed.Contents?.map(({ Key, Size, ETag }) => [Key, Size, ETag])).toEqual([
      [key, second.length, md5(second)],
    ]);
    expect(await filesUnder(folderOf())).toEqual(
      ["metadata.json", "object", "object.md5"].map((file) => `report.txt._S3rver_${file}`),
    );

    await client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
    await expect(client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }))).rejects.toMatchObject({
      name: "NotFound",
    });
    expect(await readdir(join(server.dataDirectory, BUCKET))).not.toContain("writes");
  });
});
