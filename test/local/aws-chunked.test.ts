/**
 * The aws-chunked decoder on its own: the bytes of a body however its
 * pieces arrive, the trailers after them, and for every cut-short or
 * malformed body one of S3's errors, never a hang, never other bytes.
 */
import { describe, expect, it } from "vitest";
import { decodeAwsChunked, withoutAwsChunked } from "../../src/local/aws-chunked.js";

const BODY = Buffer.from(
  "5;chunk-signature=aaaa\r\nhello\r\n6;chunk-signature=bbbb\r\n world\r\n0;chunk-signature=cccc\r\n" +
    "x-amz-checksum-crc32:DUoRhQ==\r\nx-amz-trailer-signature:dddd\r\n\r\n",
);

/** `body` as arriving in pieces of `size` bytes. */
async function* inPieces(body: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let offset = 0; offset < body.length; offset += size) yield body.subarray(offset, offset + size);
}

async function decoded(body: Buffer, size = body.length || 1) {
  const trailers = new Map<string, string>();
  const pieces: Buffer[] = [];
  for await (const piece of decodeAwsChunked(inPieces(body, size), trailers)) pieces.push(piece);
  return { bytes: Buffer.concat(pieces).toString(), trailers: Object.fromEntries(trailers) };
}

describe("decodeAwsChunked", () => {
  it.each([1, 2, 3, 7, 1000])("decodes a signed body arriving in pieces of %i bytes", async (size) => {
    expect(await decoded(BODY, size)).toEqual({
      bytes: "hello world",
      trailers: { "x-amz-checksum-crc32": "DUoRhQ==", "x-amz-trailer-signature": "dddd" },
    });
  });

  it.each([
    ["without trailers", "0\r\n\r\n"],
    ["with trailers and no empty line after them", "0\r\nx-amz-checksum-crc32:AAAAAA==\r\n"],
  ])("decodes an empty body %s", async (_, body) => {
    expect((await decoded(Buffer.from(body))).bytes).toBe("");
  });

  it("refuses, with one of S3's errors, every body cut short", async () => {
    const end = BODY.indexOf("x-amz-checksum");
    for (let length = 0; length < end; length++) {
      await expect(decoded(BODY.subarray(0, length)), `cut at ${length}`).rejects.toMatchObject({
        code: expect.stringMatching(/^(IncompleteBody|InvalidRequest)$/),
        status: 400,
      });
    }
  });

  it.each([
    ["a size in another base", "0x5\r\nhello\r\n0\r\n\r\n", "InvalidRequest"],
    ["a negative size", "-5\r\nhello\r\n0\r\n\r\n", "InvalidRequest"],
    ["a chunk longer than its size", "4\r\nhello\r\n0\r\n\r\n", "InvalidRequest"],
    ["a size line past its limit", `5;${"x".repeat(5000)}\r\nhello\r\n0\r\n\r\n`, "InvalidRequest"],
    ["a trailer that is no header", "0\r\nnot a header\r\n\r\n", "MalformedTrailerError"],
    ["bytes after the trailers with no line end", "0\r\n\r\nextra", "MalformedTrailerError"],
    ["trailers past their limit", `0\r\nx-amz-meta:${"x".repeat(20_000)}\r\n\r\n`, "MalformedTrailerError"],
  ])("refuses %s", async (_, body, code) => {
    await expect(decoded(Buffer.from(body), 3)).rejects.toMatchObject({ code, status: 400 });
  });

  it("reads the rest of a body it refuses to its end, so the request's connection can take the next", async () => {
    let read = 0;
    async function* counted(): AsyncGenerator<Buffer> {
      for await (const piece of inPieces(Buffer.from(`zz\r\n${"x".repeat(100)}`), 10)) {
        read += piece.length;
        yield piece;
      }
    }
    const decoding = decodeAwsChunked(counted(), new Map());
    await expect(decoding.next()).rejects.toMatchObject({ code: "InvalidRequest" });
    expect(read).toBe(104);
  });
});

describe("withoutAwsChunked", () => {
  it.each([
    [{ "content-encoding": "aws-chunked" }, {}],
    [{ "content-encoding": "gzip,aws-chunked" }, { "content-encoding": "gzip" }],
    [{ "content-encoding": "aws-chunked, gzip" }, { "content-encoding": "gzip" }],
    [{ "content-encoding": "gzip" }, { "content-encoding": "gzip" }],
    [{ "content-type": "text/plain" }, { "content-type": "text/plain" }],
  ])("stores %j as %j", (metadata, expected) => {
    expect(withoutAwsChunked(metadata)).toEqual(expected);
  });
});
