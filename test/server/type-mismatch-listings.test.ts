/**
 * A type mismatch in the API's listings: each listing marks the objects whose
 * content contradicts their declared Content-Type, as the record does, and
 * leaves the truthful ones unmarked. Real uploads through the embedded S3,
 * cataloged by the real handler into the embedded DynamoDB.
 */
import { readFile } from "node:fs/promises";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parsePolicy } from "../../src/policy/policy.js";
import { corpusFile } from "../support/corpus.js";
import { type LocalCatalog, startLocalCatalog } from "./local-catalog.js";

const LYING_PNG = "mixed/drawing.png";
const TRUE_PNG = "mixed/drawing-copy.png";
const LYING_GIF = "mixed/animation.gif";
const TRUE_GIF = "mixed/still.gif";
const PNG_REASON = "declared Content-Type application/pdf but content is image/png";
const GIF_REASON = "declared Content-Type application/pdf but content is image/gif";

/** One object of a listing, as the API answers it. */
interface Listed {
  key: string;
  status: string;
  mismatch?: boolean;
  mismatchReason?: string;
}

let catalog: LocalCatalog;

async function put(key: string, body: Buffer, contentType: string): Promise<void> {
  await catalog.stack.s3Client.send(
    new PutObjectCommand({ Bucket: catalog.stack.bucket, Key: key, Body: body, ContentType: contentType }),
  );
}

async function listed(path: string): Promise<Listed[]> {
  const response = await catalog.app.request(path);
  expect(response.status).toBe(200);
  const body = (await response.json()) as { items: (Listed | { objects: Listed[] })[] };
  return body.items.flatMap((item) => ("objects" in item ? item.objects : [item]));
}

function find(items: Listed[], key: string): Listed | undefined {
  return items.find((item) => item.key === key);
}

beforeAll(async () => {
  // Prepare: GIFs are a denied type (so two land in Problems); mismatches are only flagged.
  catalog = await startLocalCatalog({ policy: parsePolicy({ deniedMimes: ["image/gif"] }) });
  const png = await readFile(corpusFile("filetype-fixture.png"));
  const gif = await readFile(corpusFile("filetype-fixture.gif"));
  // The same PNG twice, once declared as a PDF: one duplicate group, one copy lying.
  await put(LYING_PNG, png, "application/pdf");
  await put(TRUE_PNG, png, "image/png");
  await put(LYING_GIF, gif, "application/pdf");
  await put(TRUE_GIF, gif, "image/gif");
  await catalog.stack.dispatcher.idle();
});

afterAll(() => catalog?.close());

describe("a type mismatch in the API's listings", () => {
  it.each([
    ["/api/folder?prefix=mixed/"],
    ["/api/recent"],
    ["/api/recent?category=image"],
    ["/api/find?category=image"],
    ["/api/duplicates"],
  ])("GET %s marks the PNG declared as a PDF, and not its truthful copy", async (path) => {
    // Act
    const items = await listed(path);
    // Assess
    expect(find(items, LYING_PNG)).toMatchObject({
      status: "ok",
      mismatch: true,
      mismatchReason: PNG_REASON,
    });
    expect(find(items, TRUE_PNG)).toBeDefined();
    expect(find(items, TRUE_PNG)).not.toHaveProperty("mismatch");
    expect(find(items, TRUE_PNG)).not.toHaveProperty("mismatchReason");
  });

  it("GET /api/duplicates marks the lying copy in its own group, and ?sha256=H among the copies of its content", async () => {
    // Prepare: the content's hash, from the group listing.
    const groups = (await (await catalog.app.request("/api/duplicates")).json()) as {
      items: { sha256: string; objects: Listed[] }[];
    };
    const group = groups.items.find((item) => find(item.objects, LYING_PNG));
    // Each group keeps its own copies, the lying one marked in each.
    const gifs = groups.items.find((item) => find(item.objects, LYING_GIF));
    expect(group?.objects.map((object) => [object.key, object.mismatch === true]).sort()).toEqual([
      [TRUE_PNG, false],
      [LYING_PNG, true],
    ]);
    expect(gifs?.objects.map((object) => [object.key, object.mismatch === true]).sort()).toEqual([
      [LYING_GIF, true],
      [TRUE_GIF, false],
    ]);
    // Act
    const items = await listed(`/api/duplicates?sha256=${group?.sha256}`);
    // Assess
    expect(items.map((item) => item.key).sort()).toEqual([TRUE_PNG, LYING_PNG]);
    expect(find(items, LYING_PNG)).toMatchObject({ mismatch: true, mismatchReason: PNG_REASON });
    expect(find(items, TRUE_PNG)).not.toHaveProperty("mismatch");
  });

  it("GET /api/problems marks the rejected GIF declared as a PDF, and not the one declared as a GIF", async () => {
    // Act
    const items = await listed("/api/problems");
    // Assess
    expect(items.map((item) => item.key).sort()).toEqual([LYING_GIF, TRUE_GIF]);
    expect(find(items, LYING_GIF)).toMatchObject({
      status: "rejected",
      mismatch: true,
      mismatchReason: GIF_REASON,
    });
    expect(find(items, TRUE_GIF)).toMatchObject({ status: "rejected" });
    expect(find(items, TRUE_GIF)).not.toHaveProperty("mismatch");
  });

  it("marks the objects of every page, not only the first", async () => {
    // Act: the folder one object per page.
    const seen: Listed[] = [];
    let cursor: string | undefined;
    do {
      const query = new URLSearchParams({ prefix: "mixed/", limit: "1", ...(cursor && { cursor }) });
      const response = await catalog.app.request(`/api/folder?${query}`);
      const body = (await response.json()) as { items: Listed[]; cursor?: string };
      seen.push(...body.items);
      cursor = body.cursor;
    } while (cursor);
    // Assess
    expect(seen.filter((item) => item.mismatch).map((item) => item.key)).toEqual([LYING_GIF, LYING_PNG]);
  });
});
