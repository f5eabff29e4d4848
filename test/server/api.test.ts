import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { type AddressInfo, createServer } from "node:net";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parsePolicy } from "../../src/policy/policy.js";
import { createApp } from "../../src/server/app.js";
import { CONTENT_SECURITY_POLICY } from "../../src/server/security.js";
import { CatalogStore } from "../../src/store/catalog-store.js";
import { corpusFile } from "../support/corpus.js";
import { testRecord } from "../support/records.js";
import { appOverNewTable, type LocalCatalog, startLocalCatalog, writeThumbnailKey } from "./local-catalog.js";

const UPLOAD_LIMIT = 300_000;
const JPEG = "exifpy-DSCN0010.jpg";
const PDF = "filetype-fixture.pdf";
const MP3 = "filetype-fixture.mp3";
const WEBP = "filetype-fixture.webp";

/** Parsed JSON answers, read field by field in assertions. */
// biome-ignore lint/suspicious/noExplicitAny: responses are checked by the assertions, not by types
type Json = Record<string, any>;

let catalog: LocalCatalog;
let files: Record<string, Buffer>;

async function put(key: string, body: Buffer): Promise<void> {
  await catalog.stack.s3Client.send(
    new PutObjectCommand({ Bucket: catalog.stack.bucket, Key: key, Body: body }),
  );
}

async function getJson(path: string): Promise<{ status: number; body: Json }> {
  const response = await catalog.app.request(path);
  return { status: response.status, body: (await response.json()) as Json };
}

function multipart(parts: { name: string; body: Buffer | string }[]): FormData {
  const form = new FormData();
  for (const part of parts) form.append("file", new Blob([part.body]), part.name);
  return form;
}

beforeAll(async () => {
  // Prepare: a catalog that rejects one prefix (to have problems), with a few real files in it.
  catalog = await startLocalCatalog({
    uploadLimitBytes: UPLOAD_LIMIT,
    policy: parsePolicy({ deniedPrefixes: ["quarantine/"] }),
  });
  files = Object.fromEntries(
    await Promise.all(
      [JPEG, PDF, MP3, WEBP].map(async (name) => [name, await readFile(corpusFile(name))] as const),
    ),
  );
  await put(`photos/2026/${JPEG}`, files[JPEG]!);
  await put(`photos/2026/copy-of-${JPEG}`, files[JPEG]!);
  await put(`docs/${PDF}`, files[PDF]!);
  await put(`music/${MP3}`, files[MP3]!);
  await put("quarantine/blocked.pdf", files[PDF]!);
  await put("root.txt", Buffer.from("hello catalog\n"));
  // A derived file raises no event (the dispatcher excludes the prefix) and must stay out of listings.
  await put(`_derived/fixtures/${JPEG}.webp`, files[WEBP]!);
  await catalog.stack.dispatcher.idle();
});

afterAll(() => catalog?.close());

describe("validation: a bad parameter is a 400 with a message naming it", () => {
  const longKey = `${"a/".repeat(600)}x`;
  it.each([
    ["/api/object", "'key' is required"],
    ["/api/object?key=", "'key' is required"],
    [`/api/object?key=${longKey}`, "longer than 1024 bytes"],
    [`/api/folder?prefix=${longKey}`, "longer than 1024 bytes"],
    ["/api/object?key=%FF.jpg", "'key' is not valid percent-encoded UTF-8"],
    ["/api/object?key=%ED%A0%80", "'key' is not valid percent-encoded UTF-8"],
    ["/api/folder?prefix=a%E2%80", "'prefix' is not valid percent-encoded UTF-8"],
    ["/api/folder?%FF=1", "name is not valid percent-encoded UTF-8"],
    ["/api/folder?limit=5&limit=6", "'limit' is given more than once"],
    ["/api/recent?days=1&days=2", "'days' is given more than once"],
    ["/api/recent?category=image&category=pdf", "'category' is given more than once"],
    ["/api/object?key=a&key=b", "'key' is given more than once"],
    ["/api/folder?prefix=a&pre%66ix=b", "'prefix' is given more than once"],
    ["/api/folder?limit=0", "'limit' must be an integer from 1 to 500"],
    ["/api/folder?limit=501", "'limit'"],
    ["/api/folder?limit=ten", "'limit'"],
    ["/api/folder?cursor=not*a*cursor", "not a paging cursor"],
    [
      `/api/folder?cursor=${Buffer.from("not json").toString("base64url")}`,
      "not a cursor this listing issued",
    ],
    // Well-formed JSON whose start key has the wrong shape: the table would refuse it (a 500), so it must not get there.
    [
      `/api/folder?cursor=${Buffer.from('{"k":{"x":1}}').toString("base64url")}`,
      "not a cursor this listing issued",
    ],
    [
      `/api/problems?cursor=${Buffer.from('{"k":"text"}').toString("base64url")}`,
      "not a cursor this listing issued",
    ],
    [
      `/api/find?category=image&cursor=${Buffer.from('{"d":1}').toString("base64url")}`,
      "not a cursor this listing issued",
    ],
    [
      `/api/recent?cursor=${Buffer.from('{"time":"2026-01-01T00:00:00.000Z"}').toString("base64url")}`,
      "not a cursor this listing issued",
    ],
    [`/api/folder?cursor=${"A".repeat(8193)}`, "not a paging cursor"],
    ["/api/folder?prefix=photos/&startsWith=2026/DSC", "'startsWith' must not contain '/'"],
    ["/api/folder?startsWith=IMG&startsWith=DSC", "'startsWith' is given more than once"],
    [`/api/folder?prefix=${"a".repeat(1000)}&startsWith=${"b".repeat(30)}`, "longer than 1024 bytes"],
    ["/api/recent?days=0", "'days' must be an integer from 1 to 31"],
    ["/api/recent?days=32", "'days'"],
    ["/api/recent?days=-1", "'days'"],
    ["/api/recent?category=spreadsheet", "'category' must be one of"],
    ["/api/recent?from=yesterday", "'from' must be an ISO 8601 time"],
    ["/api/recent?from=2026-02-30T00:00:00Z&to=2026-03-01T00:00:00Z", "'from' must be an ISO 8601 time"],
    ["/api/recent?days=3&from=2026-01-01T00:00:00Z", "either 'days' or 'from'/'to'"],
    ["/api/recent?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", "'from' must not be after 'to'"],
    ["/api/recent?from=2026-01-01T00:00:00Z&to=2026-03-01T00:00:00Z", "at most 31 days"],
    ["/api/find", "'category' is required"],
    ["/api/find?category=image&from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z", "at most 366 days"],
    ["/api/problems?limit=1000", "'limit'"],
    ["/api/duplicates?sha256=abc", "64 hex digits"],
    ["/api/duplicates?limit=101", "'limit' must be an integer from 1 to 100"],
    ["/api/stats?days=91", "'days' must be an integer from 1 to 90"],
    ["/api/thumbnail", "'key' is required"],
    ["/api/thumbnail?key=a%FF", "not valid percent-encoded UTF-8"],
  ])("GET %s", async (path, message) => {
    const { status, body } = await getJson(path);
    expect(status).toBe(400);
    expect(body.error).toContain(message);
  });

  it.each([
    ["POST", "/api/folder", "GET, HEAD"],
    ["DELETE", "/api/object?key=root.txt", "GET, HEAD"],
    ["PUT", "/api/upload", "POST"],
    ["GET", "/api/upload", "POST"],
    ["GET", "/api/dlq/replay", "POST"],
    ["PATCH", "/", "GET, HEAD"],
  ])("answers %s %s with a JSON 405 naming the allowed methods", async (method, path, allow) => {
    const response = await catalog.app.request(path, { method });
    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe(allow);
    expect(((await response.json()) as Json).error).toContain(`allows ${allow}`);
  });

  it("answers an unknown route with a JSON 404", async () => {
    const { status, body } = await getJson("/api/nothing-here");
    expect(status).toBe(404);
    expect(body.error).toContain("/api/nothing-here");
  });
});

describe("security headers and refusals", () => {
  it.each([
    "/",
    "/app.js",
    "/api/health",
    "/api/object?key=",
    "/api/folder?limit=1&limit=2",
    "/api/nothing-here",
  ])("%s carries the CSP and nosniff", async (path) => {
    const response = await catalog.app.request(path);
    expect(response.headers.get("content-security-policy")).toBe(CONTENT_SECURITY_POLICY);
    expect(CONTENT_SECURITY_POLICY).toContain("default-src 'self'");
    expect(CONTENT_SECURITY_POLICY).toContain("object-src 'none'");
    expect(CONTENT_SECURITY_POLICY).toContain("frame-ancestors 'none'");
    expect(CONTENT_SECURITY_POLICY).not.toContain("unsafe");
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
  });

  it("serves the dashboard at / for deep links, with no inline script", async () => {
    const response = await catalog.app.request("/?prefix=photos/2026/");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/html");
    const html = await response.text();
    expect(html).toContain('<script type="module" src="/app.js"></script>');
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/\son[a-z]+=/i);
  });

  it("refuses a Host that is not loopback (DNS rebinding)", async () => {
    for (const host of ["attacker.example", "localhost.attacker.example", "127.0.0.1.nip.io"]) {
      const response = await catalog.app.request(`http://${host}/api/health`);
      expect(response.status, host).toBe(421);
    }
  });

  it("answers the loopback names the embedded servers answer, <name>.localhost among them", async () => {
    for (const host of ["127.0.0.1:3000", "localhost", "[::1]:3000", "catalog.localhost"]) {
      const response = await catalog.app.request(`http://${host}/api/health`);
      expect(response.status, host).toBe(200);
    }
  });

  it("refuses an upload posted by another origin", async () => {
    const response = await catalog.app.request("/api/upload", {
      method: "POST",
      headers: { Origin: "http://attacker.example" },
      body: multipart([{ name: "x.txt", body: "x" }]),
    });
    expect(response.status).toBe(403);
  });
});

describe("reading the catalog", () => {
  it("lists a folder's objects and its sub-folders from S3, derived files hidden", async () => {
    const root = await getJson("/api/folder");
    expect(root.status).toBe(200);
    expect(root.body.folders).toEqual(["docs/", "music/", "photos/", "quarantine/"]);
    expect(root.body.items.map((item: { key: string }) => item.key)).toEqual(["root.txt"]);

    const photos = await getJson("/api/folder?prefix=photos/2026");
    expect(photos.body.prefix).toBe("photos/2026/");
    expect(photos.body.folders).toEqual([]);
    expect(photos.body.items.map((item: { key: string }) => item.key)).toEqual([
      `photos/2026/copy-of-${JPEG}`,
      `photos/2026/${JPEG}`,
    ]);
  });

  it("counts the objects S3 holds in a folder only when the catalog has none of them", async () => {
    // Prepare: the same bucket over a table that lost its records.
    const { app: lost } = await appOverNewTable(catalog, "catalog-lost");
    const folder = async (app: typeof lost, prefix: string) =>
      (await (await app.request(`/api/folder?prefix=${prefix}`)).json()) as Json;

    // Act
    const [photos, root, cataloged] = await Promise.all([
      folder(lost, "photos/2026/"),
      folder(lost, ""),
      folder(catalog.app, "photos/2026/"),
    ]);

    // Assess: the two photos and root.txt are counted; a cataloged folder has no count.
    expect(photos).toMatchObject({ folders: [], items: [], uncataloged: 2 });
    expect(root).toMatchObject({ items: [], uncataloged: 1 });
    expect(root.folders).toContain("photos/");
    expect(cataloged.items).toHaveLength(2);
    expect(cataloged).not.toHaveProperty("uncataloged");
  });

  it("counts the objects a folder's records lack when it has every record of the folder", async () => {
    // Prepare: a table that holds the record of one of the two photos, as a lost event leaves it.
    const { app, store } = await appOverNewTable(catalog, "catalog-partly");
    await store.putRecord(
      testRecord({
        bucket: catalog.stack.bucket,
        key: `photos/2026/${JPEG}`,
        size: files[JPEG]?.byteLength ?? 0,
        eventTime: new Date().toISOString(),
      }),
    );

    // Act
    const folder = async (query: string) =>
      (await (await app.request(`/api/folder?${query}`)).json()) as Json;
    // A page that may not hold every record of the folder says nothing of what it lacks.
    const [whole, paged] = await Promise.all([
      folder("prefix=photos/2026/"),
      folder("prefix=photos/2026/&limit=1"),
    ]);

    // Assess
    expect(whole).toMatchObject({ items: [{ key: `photos/2026/${JPEG}` }], uncataloged: 1 });
    expect(paged).toMatchObject({ items: [{ key: `photos/2026/${JPEG}` }] });
    expect(paged).not.toHaveProperty("uncataloged");
  });

  it("does not count a folder's own console marker or derived files", async () => {
    // Prepare: a marker, as a console's "Create folder" makes it, and a derived file; the pipeline
    // catalogs the marker, so the folder is read from a table that has none of it.
    await put("made-in-console/", Buffer.alloc(0));
    await catalog.stack.dispatcher.idle();
    const { app } = await appOverNewTable(catalog, "catalog-markers");

    // Act
    const [marked, derived] = await Promise.all(
      ["made-in-console/", "_derived/fixtures/"].map(
        async (prefix) => (await (await app.request(`/api/folder?prefix=${prefix}`)).json()) as Json,
      ),
    );

    // Assess
    expect(marked).toMatchObject({ items: [] });
    expect(marked).not.toHaveProperty("uncataloged");
    expect(derived).toMatchObject({ items: [] });
    expect(derived).not.toHaveProperty("uncataloged");
  });

  it("pages a folder listing with a cursor", async () => {
    const first = await getJson("/api/folder?prefix=photos/2026/&limit=1");
    expect(first.body.items).toHaveLength(1);
    expect(first.body.cursor).toEqual(expect.any(String));
    const second = await getJson(`/api/folder?prefix=photos/2026/&limit=1&cursor=${first.body.cursor}`);
    expect(second.body.items).toHaveLength(1);
    expect(second.body.items[0].key).not.toBe(first.body.items[0].key);
    expect(second.body.folders).toEqual([]);
  });

  it("refuses a cursor from another listing or one altered on the way", async () => {
    const first = await getJson("/api/folder?prefix=photos/2026/&limit=1");
    const cursor = first.body.cursor as string;
    const other = await getJson(`/api/folder?prefix=docs/&limit=1&cursor=${cursor}`);
    expect(other.status).toBe(400);
    expect(other.body.error).toContain("not a cursor this listing issued");
    const altered = `${cursor.slice(0, 5)}${cursor[5] === "A" ? "B" : "A"}${cursor.slice(6)}`;
    const tampered = await getJson(`/api/folder?prefix=photos/2026/&limit=1&cursor=${altered}`);
    expect(tampered.status).toBe(400);
  });

  it.each([
    ["/api/find?category=image", "/api/find?category=image&days=1"],
    ["/api/find?category=image", "/api/find?category=image&days=30"],
    ["/api/problems?days=30", "/api/problems?days=7"],
    ["/api/duplicates?days=30", "/api/duplicates?days=7"],
    ["/api/recent?days=7", "/api/recent?days=1"],
    ["/api/recent?days=7", "/api/recent?days=7&category=image"],
  ])("refuses a cursor of %s on %s, another time window", async (path, otherWindow) => {
    // Prepare: a cursor for the first page of one window.
    const first = await getJson(`${path}&limit=1`);
    expect(first.body.cursor).toEqual(expect.any(String));
    // Act: the next page asked for with another window.
    const next = await getJson(`${otherWindow}&limit=1&cursor=${first.body.cursor}`);
    // Assess: the caller's mistake, said as such, not a page of another window nor an outage.
    expect(next.status).toBe(400);
    expect(next.body.error).toContain("not a cursor this listing issued");
  });

  it("pages a listing over a time window of days to its end, with the same window", async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await getJson(
        `/api/find?category=image&days=30&limit=1${cursor ? `&cursor=${cursor}` : ""}`,
      );
      expect(page.status).toBe(200);
      seen.push(...page.body.items.map((item: { key: string }) => item.key));
      cursor = page.body.cursor;
    } while (cursor);
    expect(seen).toContain(`photos/2026/${JPEG}`);
    expect(new Set(seen).size).toBe(seen.length);
  });

  it("pages a folder of odd keys to the end, every key once", async () => {
    const names = [
      "a b.txt",
      "a+b.txt",
      "50%.txt",
      "%2F.txt",
      "ünï 日本 🎉.txt",
      "q?x=1#f&y.txt",
      `${"l".repeat(900)}.txt`,
    ];
    for (const name of names) await put(`odd/${name}`, Buffer.from(name));
    await catalog.stack.dispatcher.idle();
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const query = new URLSearchParams({ prefix: "odd/", limit: "2", ...(cursor && { cursor }) });
      const page = await getJson(`/api/folder?${query}`);
      expect(page.status).toBe(200);
      seen.push(...page.body.items.map((item: { key: string }) => item.key));
      cursor = page.body.cursor;
    } while (cursor);
    expect(seen.sort()).toEqual(names.map((name) => `odd/${name}`).sort());
  });

  describe("a folder narrowed to the names that start with some text", () => {
    const NAMES = ["IMG_2023.txt", "IMG_2024_1.txt", "IMG_2024_2.txt", "IMG_2024_3.txt", "img_2024.txt"];
    const keysOf = (body: Json) => body.items.map((item: { key: string }) => item.key);
    const folder = (query: Record<string, string>) => getJson(`/api/folder?${new URLSearchParams(query)}`);

    beforeAll(async () => {
      for (const name of NAMES) await put(`camera/${name}`, Buffer.from(name));
      for (const key of ["camera/IMG_2024-trip/a.txt", "camera/other/b.txt"])
        await put(key, Buffer.from(key));
      await catalog.stack.dispatcher.idle();
    });

    it("lists only the objects and sub-folders whose names start with it, case-sensitive", async () => {
      const { status, body } = await folder({ prefix: "camera/", startsWith: "IMG_2024" });
      expect(status).toBe(200);
      expect(body).toMatchObject({
        prefix: "camera/",
        startsWith: "IMG_2024",
        folders: ["camera/IMG_2024-trip/"],
      });
      expect(keysOf(body)).toEqual([
        "camera/IMG_2024_1.txt",
        "camera/IMG_2024_2.txt",
        "camera/IMG_2024_3.txt",
      ]);
      expect(body).not.toHaveProperty("uncataloged");
    });

    it("takes an empty start as no filter", async () => {
      const [empty, none] = await Promise.all([
        folder({ prefix: "camera/", startsWith: "" }),
        folder({ prefix: "camera/" }),
      ]);
      expect(empty.body).toEqual(none.body);
      expect(empty.body.folders).toEqual(["camera/IMG_2024-trip/", "camera/other/"]);
      expect(keysOf(empty.body)).toHaveLength(NAMES.length);
    });

    it("pages the names it lists to their end, and a cursor serves only the filter it was issued with", async () => {
      // Act: pages of one.
      const seen: string[] = [];
      const cursors: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await folder({
          prefix: "camera/",
          startsWith: "IMG_2024_",
          limit: "1",
          ...(cursor && { cursor }),
        });
        expect(page.status).toBe(200);
        seen.push(...keysOf(page.body));
        cursor = page.body.cursor;
        if (cursor) cursors.push(cursor);
      } while (cursor && seen.length < 10);
      const unfiltered = await folder({ prefix: "camera/", limit: "1" });

      // Assess: every name once, and the cursors refused with another filter or none.
      expect(seen).toEqual(["camera/IMG_2024_1.txt", "camera/IMG_2024_2.txt", "camera/IMG_2024_3.txt"]);
      const refused = await Promise.all([
        folder({ prefix: "camera/", limit: "1", cursor: cursors[0]! }),
        folder({ prefix: "camera/", startsWith: "IMG_2024", limit: "1", cursor: cursors[0]! }),
        folder({ prefix: "camera/", startsWith: "IMG_2024_", limit: "1", cursor: unfiltered.body.cursor }),
      ]);
      for (const answer of refused) {
        expect(answer.status).toBe(400);
        expect(answer.body.error).toContain("not a cursor this listing issued");
      }
    });

    it("counts only the objects S3 holds under the start that the catalog lacks", async () => {
      // Prepare: a table holding one of the three IMG_2024_ records, as lost events leave it.
      const { app, store } = await appOverNewTable(catalog, "catalog-names");
      await store.putRecord({
        bucket: catalog.stack.bucket,
        key: "camera/IMG_2024_2.txt",
        size: 14,
        etag: '"e"',
        sequencer: "01",
        eventTime: new Date().toISOString(),
        status: "ok",
        reasons: [],
        bytesRead: 14,
        readRequests: 1,
        durationMs: 1,
        extractorVersion: "test",
      });
      const over = async (query: Record<string, string>) =>
        (await (await app.request(`/api/folder?${new URLSearchParams(query)}`)).json()) as Json;

      // Act
      const [some, none, whole] = await Promise.all([
        over({ prefix: "camera/", startsWith: "IMG_2024_" }),
        over({ prefix: "camera/", startsWith: "IMG_2023" }),
        over({ prefix: "camera/" }),
      ]);

      // Assess: IMG_2024_1 and _3 lack records; of IMG_2023*, the one object; of the folder, four of five.
      expect(some).toMatchObject({ items: [{ key: "camera/IMG_2024_2.txt" }], uncataloged: 2 });
      expect(none).toMatchObject({ items: [], folders: [], uncataloged: 1 });
      expect(whole).toMatchObject({ uncataloged: NAMES.length - 1 });
    });
  });

  it("returns a record with its metadata sections and audit history, index keys left out", async () => {
    const { status, body } = await getJson(`/api/object?key=${encodeURIComponent(`photos/2026/${JPEG}`)}`);
    expect(status).toBe(200);
    expect(body.record).toMatchObject({
      key: `photos/2026/${JPEG}`,
      status: "ok",
      category: "image",
      size: 161713,
    });
    expect(body.record.image.exif.make).toBe("NIKON");
    expect(body.record.image.exif.gps.lat).toBeCloseTo(43.467448, 5);
    expect(body.record.image.exif.gps.lon).toBeCloseTo(11.885127, 5);
    expect(body.record).not.toHaveProperty("folderPk");
    expect(body.record).not.toHaveProperty("categoryPk");
    expect(body.audit).toHaveLength(1);
    expect(body.audit[0]).toMatchObject({ eventName: "ObjectCreated:Put", outcome: "created" });
  });

  it("answers 404 for a key the catalog does not hold", async () => {
    const { status, body } = await getJson("/api/object?key=photos/none.jpg");
    expect(status).toBe(404);
    expect(body.error).toContain("not in the catalog");
  });

  it("lists recent uploads across every folder and category, newest first", async () => {
    const { status, body } = await getJson("/api/recent?limit=50");
    expect(status).toBe(200);
    const keys = body.items.map((item: { key: string }) => item.key);
    expect(keys).toEqual(
      expect.arrayContaining([
        `photos/2026/${JPEG}`,
        `docs/${PDF}`,
        `music/${MP3}`,
        "root.txt",
        "quarantine/blocked.pdf",
      ]),
    );
    expect(keys.some((key: string) => key.startsWith("_derived/"))).toBe(false);
    const times = body.items.map((item: { eventTime: string }) => item.eventTime);
    expect(times).toEqual([...times].sort().reverse());
    expect(body).not.toHaveProperty("truncated");
  });

  it("pages recent uploads to their end, each once, in the order one page lists them", async () => {
    // Prepare
    const whole = await getJson("/api/recent?limit=50");
    // Act: two at a time, each page asked with the cursor of the one before.
    const keys: string[] = [];
    let cursor: string | undefined;
    do {
      const { status, body } = await getJson(`/api/recent?limit=2${cursor ? `&cursor=${cursor}` : ""}`);
      expect(status).toBe(200);
      keys.push(...body.items.map((item: { key: string }) => item.key));
      cursor = body.cursor;
    } while (cursor && keys.length <= whole.body.items.length);
    // Assess
    expect(keys).toEqual(whole.body.items.map((item: { key: string }) => item.key));
    expect(whole.body).not.toHaveProperty("cursor");
  });

  it("filters recent uploads by category and limits them", async () => {
    const images = await getJson("/api/recent?category=image");
    expect(images.body.items.map((item: { category: string }) => item.category)).toEqual(["image", "image"]);
    const one = await getJson("/api/recent?limit=1");
    expect(one.body.items).toHaveLength(1);
  });

  it("finds by category within a time window", async () => {
    const { body } = await getJson("/api/find?category=audio&days=1");
    expect(body.items.map((item: { key: string }) => item.key)).toEqual([`music/${MP3}`]);
    const past = await getJson("/api/find?category=audio&from=2020-01-01T00:00:00Z&to=2020-01-02T00:00:00Z");
    expect(past.body.items).toEqual([]);
  });

  it("finds by category newest first, as Recent lists the category", async () => {
    const found = await getJson("/api/find?category=image");
    const recent = await getJson("/api/recent?category=image");
    const times = found.body.items.map((item: { eventTime: string }) => item.eventTime);
    expect(times).toHaveLength(2);
    expect(times).toEqual([...times].sort().reverse());
    expect(found.body.items.map((item: { key: string }) => item.key)).toEqual(
      recent.body.items.map((item: { key: string }) => item.key),
    );
  });

  it("lists problems: the object under a denied prefix is rejected", async () => {
    const { body } = await getJson("/api/problems");
    expect(body.items).toEqual([
      expect.objectContaining({ key: "quarantine/blocked.pdf", status: "rejected" }),
    ]);
  });

  it("lists duplicate groups with their copies", async () => {
    const { body } = await getJson("/api/duplicates");
    const groups = body.items as { sha256: string; objects: { key: string }[] }[];
    const jpeg = groups.find((group) => group.objects.some((object) => object.key === `photos/2026/${JPEG}`));
    expect(jpeg?.objects.map((object) => object.key).sort()).toEqual([
      `photos/2026/copy-of-${JPEG}`,
      `photos/2026/${JPEG}`,
    ]);
    const copies = await getJson(`/api/duplicates?sha256=${jpeg?.sha256.toUpperCase()}`);
    expect(copies.body.items).toHaveLength(2);
  });

  it("counts files and bytes by category and by day", async () => {
    const { body } = await getJson("/api/stats?days=3");
    const row = (category: string) =>
      body.byCategory.find((entry: { category: string }) => entry.category === category);
    expect(row("image")).toEqual({ category: "image", count: 2, bytes: 2 * files[JPEG]!.length });
    expect(row("audio")).toEqual({ category: "audio", count: 1, bytes: files[MP3]!.length });
    expect(row("video")).toEqual({ category: "video", count: 0, bytes: 0 });
    expect(body.byDay).toHaveLength(3);
    const today = body.byDay.at(-1);
    expect(today.count).toBe(body.total.count);
    expect(body.total.count).toBeGreaterThanOrEqual(6);
    expect(body).toMatchObject({ readBound: 20_000, truncated: false, itemsRead: body.total.count });
  });
});

describe("thumbnails", () => {
  const key = `photos/2026/${JPEG}`;
  // Not the thumbnail step's own path: the test's bytes must not be overwritten by a real thumbnail.
  const thumbnailKey = `_derived/fixtures/${JPEG}.webp`;

  async function setThumbnailKey(value: string): Promise<void> {
    // Point the record at a known file, as the thumbnail step does with the ones it writes.
    await writeThumbnailKey(catalog, key, value);
  }

  it("answers 404 when the record has no thumbnail", async () => {
    const { status, body } = await getJson("/api/thumbnail?key=root.txt");
    expect(status).toBe(404);
    expect(body.error).toContain("no thumbnail");
  });

  it("streams the derived thumbnail from S3 with an image type", async () => {
    await setThumbnailKey(thumbnailKey);
    const response = await catalog.app.request(`/api/thumbnail?key=${encodeURIComponent(key)}`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("image/webp");
    expect(Buffer.from(await response.arrayBuffer()).equals(files[WEBP]!)).toBe(true);
  });

  it("refuses to serve a thumbnail key outside the derived prefix", async () => {
    await setThumbnailKey(`docs/${PDF}`);
    const response = await catalog.app.request(`/api/thumbnail?key=${encodeURIComponent(key)}`);
    expect(response.status).toBe(404);
    await setThumbnailKey(thumbnailKey);
  });
});

describe("upload", () => {
  async function upload(
    prefix: string | undefined,
    form: FormData | string | Uint8Array,
    headers: Record<string, string> = {},
  ) {
    const query = prefix === undefined ? "" : `?prefix=${encodeURIComponent(prefix)}`;
    const response = await catalog.app.request(`/api/upload${query}`, {
      method: "POST",
      body: form,
      headers,
    });
    return { status: response.status, body: (await response.json()) as Json };
  }

  it("streams files into S3 under the prefix, and the pipeline catalogs them", async () => {
    const { status, body } = await upload(
      "inbox/",
      multipart([
        { name: "a b+c.txt", body: "first file\n" },
        { name: PDF, body: files[PDF]! },
      ]),
    );
    expect(status).toBe(201);
    expect(body.uploaded).toEqual([
      { key: "inbox/a b+c.txt", size: 11 },
      { key: `inbox/${PDF}`, size: files[PDF]!.length },
    ]);
    const stored = await catalog.stack.s3Client.send(
      new GetObjectCommand({ Bucket: catalog.stack.bucket, Key: `inbox/${PDF}` }),
    );
    expect(Buffer.from(await stored.Body!.transformToByteArray()).equals(files[PDF]!)).toBe(true);
    await catalog.stack.dispatcher.idle();
    const record = await getJson(`/api/object?key=${encodeURIComponent(`inbox/${PDF}`)}`);
    expect(record.body.record).toMatchObject({ category: "pdf", status: "ok" });
  });

  it("keeps only the last segment of a file name sent with a path", async () => {
    const { body } = await upload("inbox/", multipart([{ name: "..\\..\\evil.txt", body: "x" }]));
    expect(body.uploaded).toEqual([{ key: "inbox/evil.txt", size: 1 }]);
  });

  /** Keys the embedded S3 lists under a prefix. */
  async function storedKeys(prefix: string): Promise<string[]> {
    const listed = await catalog.stack.s3Client.send(
      new ListObjectsV2Command({ Bucket: catalog.stack.bucket, Prefix: prefix }),
    );
    return (listed.Contents ?? []).map((object) => object.Key ?? "");
  }

  /** One file part whose Content-Disposition carries `disposition` (its bytes as given) after the field name. */
  function rawMultipart(disposition: Buffer): { body: Buffer; headers: Record<string, string> } {
    const body = Buffer.concat([
      Buffer.from('--names\r\nContent-Disposition: form-data; name="file"; '),
      disposition,
      Buffer.from("\r\nContent-Type: text/plain\r\n\r\nx\r\n--names--\r\n"),
    ]);
    return { body, headers: { "content-type": "multipart/form-data; boundary=names" } };
  }

  /** The three ways a client names a file: fetch's FormData, raw UTF-8 as browsers and curl send it, RFC 5987. */
  const NAMINGS = {
    FormData: (name: string) => ({ body: multipart([{ name, body: "x" }]), headers: {} }),
    "filename= in UTF-8": (name: string) => rawMultipart(Buffer.from(`filename="${name}"`, "utf8")),
    "filename*=UTF-8''": (name: string) =>
      rawMultipart(Buffer.from(`filename*=UTF-8''${encodeURIComponent(name)}`, "ascii")),
  };

  it.each(
    [
      "spa ce+plus ção.jpg",
      "Расчёт иска.txt",
      "日本語テスト.txt",
      "تقرير ٢٠٢٦.txt",
      "दस्तावेज़.txt",
      "Ελληνικά.txt",
      "🦀 crab.txt",
      // Joined by U+200D and U+200C, which emoji sequences and Persian words need.
      "👩\u200D💻 dev.txt",
      "می\u200Cخواهم.txt",
    ].flatMap((name) => Object.keys(NAMINGS).map((naming) => [name, naming] as const)),
  )("keeps the file name %s sent as %s, as S3 lists it back", async (name, naming) => {
    // Prepare
    // One folder per name and naming, so a listing shows what this upload stored and nothing else.
    const prefix = `names/${naming.replace(/\W+/g, "-")}/${Buffer.from(name).toString("hex")}/`;
    const { body: form, headers } = NAMINGS[naming as keyof typeof NAMINGS](name);
    // Act
    const { status, body } = await upload(prefix, form, headers);
    // Assess
    expect(status).toBe(201);
    expect(body.uploaded).toEqual([{ key: `${prefix}${name}`, size: 1 }]);
    expect(await storedKeys(prefix)).toEqual([`${prefix}${name}`]);
  });

  it("refuses a file name with a bidirectional override, which makes it read as another", async () => {
    // "invoice<U+202E>fdp.exe" reads "invoiceexe.pdf".
    const { status, body } = await upload("bidi/", multipart([{ name: "invoice\u202Efdp.exe", body: "x" }]));
    expect(status).toBe(400);
    expect(body.error).toBe(
      "'file name' must not contain bidirectional controls, which make a name read as another",
    );
    expect(await storedKeys("bidi/")).toEqual([]);
  });

  it.each([".", ".."])("refuses a file named %j, which names no file, and stores nothing", async (name) => {
    const { status, body } = await upload("dots/", multipart([{ name, body: "x" }]));
    expect(status).toBe(400);
    expect(body.error).toBe(`'file name' is missing: each file part needs filename="NAME"`);
    expect(await storedKeys("dots/")).toEqual([]);
  });

  it("refuses a file name with a zero-width space, which makes it read as another", async () => {
    // "pay<U+200B>pal.txt" reads "paypal.txt".
    const { status, body } = await upload(
      "zero-width/",
      multipart([{ name: "pay\u200Bpal.txt", body: "x" }]),
    );
    expect(status).toBe(400);
    expect(body.error).toBe("'file name' must not contain invisible characters");
    expect(await storedKeys("zero-width/")).toEqual([]);
  });

  it("refuses a file name sent in bytes that are not UTF-8, and stores nothing", async () => {
    // Prepare: "café.txt" in latin1, as an old client may send it.
    const { body: form, headers } = rawMultipart(Buffer.from('filename="café.txt"', "latin1"));
    // Act
    const { status, body } = await upload("latin1/", form, headers);
    // Assess
    expect(status).toBe(400);
    expect(body.error).toBe(
      "'file name' is not valid UTF-8 (send a name in another charset as filename*=charset''name)",
    );
    expect(body.uploaded).toEqual([]);
    expect(await storedKeys("latin1/")).toEqual([]);
  });

  it("refuses a file over the limit with 413 and stores nothing of it", async () => {
    const { status, body } = await upload(
      "big/",
      multipart([{ name: "big.bin", body: Buffer.alloc(UPLOAD_LIMIT + 1) }]),
    );
    expect(status).toBe(413);
    expect(body.error).toContain(`upload limit of ${UPLOAD_LIMIT} bytes`);
    const listing = await catalog.stack.s3Client
      .send(new GetObjectCommand({ Bucket: catalog.stack.bucket, Key: "big/big.bin" }))
      .then(
        () => "stored",
        (error: Error) => error.name,
      );
    expect(listing).toBe("NoSuchKey");
  });

  it("refused at the 21st file, says which 20 it stored (the pipeline catalogs those)", async () => {
    const parts = Array.from({ length: 21 }, (_, i) => ({
      name: `f${String(i).padStart(2, "0")}.txt`,
      body: "x",
    }));
    const { status, body } = await upload("many/", multipart(parts));
    expect(status).toBe(413);
    expect(body.error).toBe("at most 20 files per upload");
    const listed = (body.uploaded as { key: string }[]).map((file) => file.key).sort();
    expect(listed).toEqual(parts.slice(0, 20).map((part) => `many/${part.name}`));
    const stored = await catalog.stack.s3Client.send(
      new ListObjectsV2Command({ Bucket: catalog.stack.bucket, Prefix: "many/" }),
    );
    expect((stored.Contents ?? []).map((object) => object.Key).sort()).toEqual(listed);
  });

  it("refused at an oversized second file, names the first as stored and stores nothing of the second", async () => {
    const { status, body } = await upload(
      "mixed/",
      multipart([
        { name: "small.txt", body: "small\n" },
        { name: "big.bin", body: Buffer.alloc(UPLOAD_LIMIT + 1) },
      ]),
    );
    expect(status).toBe(413);
    expect(body.uploaded).toEqual([{ key: "mixed/small.txt", size: 6 }]);
    const stored = await catalog.stack.s3Client.send(
      new ListObjectsV2Command({ Bucket: catalog.stack.bucket, Prefix: "mixed/" }),
    );
    expect((stored.Contents ?? []).map((object) => object.Key)).toEqual(["mixed/small.txt"]);
  });

  it("accepts a file of exactly the limit", async () => {
    const { status } = await upload(
      "big/",
      multipart([{ name: "exact.bin", body: Buffer.alloc(UPLOAD_LIMIT) }]),
    );
    expect(status).toBe(201);
  });

  it.each([
    ["../up/", "'..'"],
    ["/abs/", "must not start with '/'"],
    ["_derived/thumbnails/", "must not be under '_derived/'"],
  ])("refuses the prefix %s", async (prefix, message) => {
    const { status, body } = await upload(prefix, multipart([{ name: "x.txt", body: "x" }]));
    expect(status).toBe(400);
    expect(body.error).toContain(message);
  });

  it("refuses a key over 1,024 bytes", async () => {
    const prefix = `${"d".repeat(200)}/`.repeat(5);
    const { status, body } = await upload(prefix, multipart([{ name: `${"n".repeat(30)}.txt`, body: "x" }]));
    expect(status).toBe(400);
    expect(body.error).toContain("longer than 1024 bytes");
  });

  it("refuses a body that ends inside a file with 400, stores nothing of it and keeps serving", async () => {
    // Prepare: a file part whose body stops before its closing boundary, as a cut connection leaves it.
    const cut = '--cut\r\nContent-Disposition: form-data; name="file"; filename="cut.txt"\r\n\r\nhalf a fi';
    // Act
    const { status, body } = await upload("cut/", cut, {
      "content-type": "multipart/form-data; boundary=cut",
    });
    // Assess
    expect(status).toBe(400);
    expect(body.error).toContain("malformed multipart request");
    const stored = await catalog.stack.s3Client
      .send(new GetObjectCommand({ Bucket: catalog.stack.bucket, Key: "cut/cut.txt" }))
      .then(
        () => "stored",
        (error: Error) => error.name,
      );
    expect(stored).toBe("NoSuchKey");
    expect((await getJson("/api/health")).status).toBe(200);
  });

  it("refuses a body that is not multipart, or carries no file", async () => {
    const plain = await upload("", "just text", { "content-type": "text/plain" });
    expect(plain.status).toBe(415);
    const empty = new FormData();
    empty.append("note", "no file here");
    const none = await upload("", empty);
    expect(none.status).toBe(400);
    expect(none.body.error).toContain("no file");
  });
});

describe("live updates", () => {
  it("announces a processed upload on the event stream", async () => {
    const controller = new AbortController();
    const response = await catalog.app.request("/api/events", { signal: controller.signal });
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = "";
    const readUntil = async (needle: string) => {
      const deadline = Date.now() + 10_000;
      while (!text.includes(needle) && Date.now() < deadline) {
        const { value, done } = await reader.read();
        if (done) break;
        text += decoder.decode(value);
      }
      return text;
    };
    expect(await readUntil("event: hello")).toContain('"live":true');
    await put("live/new.txt", Buffer.from("fresh\n"));
    await readUntil("live/new.txt");
    const line = text
      .split("\n")
      .find((entry) => entry.startsWith("data:") && entry.includes("live/new.txt"));
    expect(JSON.parse(line!.slice(5))).toMatchObject({
      kind: "created",
      key: "live/new.txt",
      delivered: true,
    });
    controller.abort();
    await reader.cancel().catch(() => undefined);
  });
});

describe("another bucket of the embedded S3", () => {
  const LEGACY = "legacy-bucket";
  const twin = Buffer.from("held twice in the legacy bucket only\n");
  const sha256Of = (body: Buffer) => createHash("sha256").update(body).digest("hex");

  /** A record of an object in the legacy bucket, as `catalog backfill s3://legacy-bucket/` writes it. */
  function backfilled(key: string, body: Buffer) {
    return catalog.stack.store.putRecord(
      testRecord({
        bucket: LEGACY,
        key,
        size: body.length,
        sequencer: "0",
        eventTime: new Date().toISOString(),
        sha256: sha256Of(body),
      }),
    );
  }

  beforeAll(async () => {
    await catalog.stack.s3Client.send(new CreateBucketCommand({ Bucket: LEGACY }));
    for (const [key, body] of [
      ["old/x.jpg", files[JPEG]!],
      ["old/a.txt", twin],
      ["old/b.txt", twin],
    ] as const)
      await catalog.stack.s3Client.send(new PutObjectCommand({ Bucket: LEGACY, Key: key, Body: body }));
    await catalog.stack.dispatcher.idle();
  });

  it("is not cataloged, as only the stack's bucket is watched, and its changes are counted", async () => {
    expect((await catalog.stack.store.getObject(LEGACY, "old/x.jpg")).record).toBeUndefined();
    const { body } = await getJson("/api/health");
    expect(body).toMatchObject({ bucket: "uploads", unwatched: { [LEGACY]: 3 } });
  });

  it("adds its copies to the groups of this bucket's content, each named with its bucket", async () => {
    // Prepare: the legacy bucket cataloged on demand.
    await backfilled("old/x.jpg", files[JPEG]!);
    await backfilled("old/a.txt", twin);
    await backfilled("old/b.txt", twin);
    // Act
    const { body } = await getJson("/api/duplicates");
    // Assess: this bucket's copies first; content held only in the other bucket is not this bucket's.
    const groups = body.items as { sha256: string; objects: { bucket: string; key: string }[] }[];
    const jpeg = groups.find((group) => group.sha256 === sha256Of(files[JPEG]!));
    expect(jpeg?.objects.map((object) => `${object.bucket}/${object.key}`)).toEqual([
      `uploads/photos/2026/copy-of-${JPEG}`,
      `uploads/photos/2026/${JPEG}`,
      `${LEGACY}/old/x.jpg`,
    ]);
    expect(groups.find((group) => group.sha256 === sha256Of(twin))).toBeUndefined();
    // The copies of one content, asked by its hash, are every bucket's.
    const copies = await getJson(`/api/duplicates?sha256=${sha256Of(twin)}`);
    expect(copies.body.items.map((object: { bucket: string }) => object.bucket)).toEqual([LEGACY, LEGACY]);
  });
});

/** The API of the running local catalog with its store or its S3 client swapped for another. */
function apiOver(swap: { store?: CatalogStore; s3Client?: S3Client }) {
  return createApp({
    store: swap.store ?? catalog.stack.store,
    bucket: catalog.stack.bucket,
    dispatcher: catalog.stack.dispatcher,
    deadLetterFile: catalog.stack.deadLetterFile,
    s3Client: swap.s3Client ?? catalog.stack.s3Client,
  });
}

describe("when the catalog's table does not answer", () => {
  it.each(["/api/folder", "/api/object?key=root.txt", "/api/recent", "/api/problems", "/api/stats"])(
    "GET %s is a 503 that says the catalog is unavailable",
    async (path) => {
      // Prepare: the same API over a store whose DynamoDB endpoint is a port nothing listens on.
      const closed = await closedPort();
      const client = new DynamoDBClient({
        endpoint: `http://127.0.0.1:${closed}`,
        region: "us-east-1",
        credentials: { accessKeyId: "x", secretAccessKey: "x" },
        maxAttempts: 1,
      });
      const app = apiOver({ store: new CatalogStore(client, { tableName: catalog.stack.tableName }) });

      // Act
      const response = await app.request(path);

      // Assess
      expect(response.status).toBe(503);
      expect(response.headers.get("content-security-policy")).toBe(CONTENT_SECURITY_POLICY);
      const body = (await response.json()) as Json;
      expect(body.error).toContain("the catalog is unavailable");
      expect(body.error).toContain("ECONNREFUSED");
      expect(JSON.stringify(body)).not.toMatch(/\bat .+\.[jt]s:\d+/);
      client.destroy();
    },
  );
});

describe("when the catalog's table refuses a request as invalid", () => {
  it.each(["/api/folder", "/api/object?key=root.txt", "/api/recent"])(
    "GET %s is a 500 that says why, not a 503 that says to try again",
    async (path) => {
      // Prepare: the same API over a store whose every request DynamoDB (dynalite) answers with a
      // ValidationException: a table name shorter than DynamoDB's three characters.
      const app = apiOver({ store: new CatalogStore(catalog.stack.dynamodbClient, { tableName: "no" }) });

      // Act
      const response = await app.request(path);

      // Assess
      expect(response.status).toBe(500);
      expect(response.headers.get("content-security-policy")).toBe(CONTENT_SECURITY_POLICY);
      const body = (await response.json()) as Json;
      expect(body.error).toContain("the catalog's table refused the query this server sent");
      expect(body.error).toContain("ValidationException");
      expect(body.error).not.toContain("try again");
      expect(JSON.stringify(body)).not.toMatch(/\bat .+\.[jt]s:\d+/);
    },
  );
});

describe("when the bucket does not answer", () => {
  it.each([
    ["GET", "/api/folder"],
    ["POST", "/api/upload?prefix=docs/"],
  ])("%s %s is a 503 that says the bucket is unavailable", async (method, path) => {
    // Prepare: the same API over the live table, with an S3 endpoint on a port nothing listens on.
    const closed = await closedPort();
    const s3Client = new S3Client({
      endpoint: `http://127.0.0.1:${closed}`,
      region: "us-east-1",
      forcePathStyle: true,
      credentials: { accessKeyId: "x", secretAccessKey: "x" },
      maxAttempts: 1,
    });
    const app = apiOver({ s3Client });

    // Act
    const response = await app.request(path, {
      method,
      ...(method === "POST" && { body: multipart([{ name: "x.txt", body: "x" }]) }),
    });

    // Assess
    expect(response.status).toBe(503);
    expect(response.headers.get("content-security-policy")).toBe(CONTENT_SECURITY_POLICY);
    const body = (await response.json()) as Json;
    expect(body.error).toContain("the bucket is unavailable");
    expect(body.error).toContain("ECONNREFUSED");
    s3Client.destroy();
  });
});

/** A loopback port that was free a moment ago and that nothing listens on now. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
