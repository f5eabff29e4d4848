import { describe, expect, it } from "vitest";
import { textDecoder } from "../../src/engine/text-decoder.js";

function hex(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, "hex"));
}

/** Decodes in pieces of `size` bytes, as the text extractor reads a file. */
function decodeInPieces(label: string, bytes: Uint8Array, size: number): string {
  const decoder = textDecoder(label, { fatal: true });
  let text = "";
  for (let at = 0; at < bytes.length; at += size)
    text += decoder.decode(bytes.subarray(at, at + size), { stream: at + size < bytes.length });
  return text;
}

/** Korean with syllables only windows-949 has (똠, 펲, 햏, 뷁), beside KS X 1001's. */
const KOREAN =
  "똠방각하께서 펲시콜라를 마시며 햏햏 웃으셨다.\n" +
  "친구는 뷁 소리를 내며 똠얌꿍을 먹었고, 우리는 모두 웃었다.\n" +
  "그날 저녁 우리는 한강에서 산책을 하며 이야기를 나누었다.\n";

/** {@link KOREAN} in windows-949 (iconv's CP949). 똠 is 0x8C 0x63: a lead byte, then "c". */
const KOREAN_WINDOWS_949 = hex(
  "8c63b9e6b0a2c7cfb2b2bcad20bc84bdc3c4ddb6f3b8a620b8b6bdc3b8e720c164c16420bff4c0b8bcccb4d92e0ac4a3" +
    "b1b8b4c22094ee20bcd2b8aeb8a620b3bbb8e7208c63bee4b2e1c0bb20b8d4befab0ed2c20bfecb8aeb4c220b8f0b5ce" +
    "20bff4befab4d92e0ab1d7b3af20c0fab3e120bfecb8aeb4c220c7d1b0adbfa1bcad20bbeac3a5c0bb20c7cfb8e720c0" +
    "ccbedfb1e2b8a620b3aab4a9befab4d92e0a",
);

describe("euc-kr decoding (windows-949)", () => {
  it("reads the syllables windows-949 added to KS X 1001, whatever the Node.js version", () => {
    expect(textDecoder("euc-kr", { fatal: true }).decode(KOREAN_WINDOWS_949)).toBe(KOREAN);
    expect(decodeInPieces("euc-kr", KOREAN_WINDOWS_949, 3)).toBe(KOREAN);
  });

  it.each(["euc-kr", "windows-949", "ks_c_5601-1987", "korean"])("answers for the label %s", (label) => {
    expect(textDecoder(label).encoding).toBe("euc-kr");
    // The first and the last added syllable, 갂 and 힝's neighbour 힣 (KS X 1001 has 힝 at 0xC8FE).
    expect(textDecoder(label).decode(hex("8141c652c8fe"))).toBe("갂힣힝");
  });

  it("reads the euro and registered signs windows-949 added at 0xA2E6 and 0xA2E7", () => {
    expect(textDecoder("euc-kr").decode(hex("a2e6a2e7"))).toBe("€®");
  });

  it("gives a replacement character, or a TypeError when fatal, for bytes with no character", () => {
    const decoder = textDecoder("euc-kr");
    // A lead before ASCII (the ASCII byte is read again), the user-defined row 0xC9, a lone lead at the end.
    expect(decoder.decode(hex("c74120c9a1b0"))).toBe("\ufffdA \ufffd\ufffd");
    expect(() => textDecoder("euc-kr", { fatal: true }).decode(hex("c9a1"))).toThrow(TypeError);
    expect(() => textDecoder("euc-kr", { fatal: true }).decode(hex("8c"))).toThrow(TypeError);
  });
});
