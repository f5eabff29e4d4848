import { describe, expect, it } from "vitest";
import { legacyCharset } from "../../src/engine/detect/legacy-charset.js";
import { detectTextEncoding, sniffText } from "../../src/engine/detect/text-sniff.js";
import { BufferSource, extract } from "../../src/engine/index.js";
import { textDecoder } from "../../src/engine/text-decoder.js";

function hex(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, "hex"));
}

/** The bytes of an ASCII string. */
function ascii(text: string): Uint8Array {
  return Uint8Array.from(text, (char) => char.charCodeAt(0));
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

// One line of each, as iconv writes it.
/** 대한민국의 수도는 서울이다. 서울은 한강을 끼고 있으며, 천만 명에 가까운 사람들이 살고 있다. */
const KOREAN_EUC_KR = hex(
  "b4ebc7d1b9ceb1b9c0c720bcf6b5b5b4c220bcadbfefc0ccb4d92e20bcadbfefc0ba20c7d1b0adc0bb20b3a2b0ed20c0" +
    "d6c0b8b8e72c20c3b5b8b820b8edbfa120b0a1b1eebfee20bbe7b6f7b5e9c0cc20bbecb0ed20c0d6b4d92e0a",
);
/** 臺北是中華民國的首都，位於臺灣北部的臺北盆地。 */
const TRADITIONAL_BIG5 = hex(
  "bb4fa55fac4fa4a4b5d8a5c1b0eaaabaadbab3a3a141a6eca9f3bb4fc657a55fb3a1aababb4fa55facd6a661a1430a",
);
/** 北京是中华人民共和国的首都，也是全国的政治和文化中心。 */
const SIMPLIFIED_GBK = hex(
  "b1b1bea9cac7d6d0bbaac8cbc3f1b9b2bacdb9fab5c4cad7b6bca3acd2b2cac7c8abb9fab5c4d5fed6cebacdcec4bbaf" +
    "d6d0d0c4a1a30a",
);
/** 東京は日本の首都であり、世界でも有数の大都市です。 */
const JAPANESE_SHIFT_JIS = hex(
  "938c8b9e82cd93fa967b82cc8ef1937382c582a082e8814190a28a4582c582e0974c909482cc91e593738e7382c582b7" +
    "81420a",
);
const JAPANESE_EUC_JP = hex(
  "c5ecb5fea4cfc6fccbdca4cebcf3c5d4a4c7a4a2a4eaa1a2c0a4b3a6a4c7a4e2cdadbff4a4cec2e7c5d4bbd4a4c7a4b9" +
    "a1a30a",
);

describe("naming East Asian legacy sets", () => {
  it("names Korean with syllables only windows-949 has euc-kr and counts its characters", async () => {
    expect(legacyCharset(KOREAN_WINDOWS_949)).toBe("euc-kr");
    const result = await extract(new BufferSource(KOREAN_WINDOWS_949, "korean.txt"));
    expect(result.text).toMatchObject({ encoding: "euc-kr", chars: KOREAN.length, lines: 3 });
  });

  it("names euc-kr, not big5, Korean of rare windows-949 syllables, symbols and Hanja", () => {
    // The first three lines of CPython's Lib/test/cjkencodings/cp949.txt, which Big5 reads as Chinese.
    const bytes = hex(
      "8c63b9e6b0a2c7cf20bc84bdc3c4ddb6f30a0aa8c0a8c0b3b3212120ecd7cefaeac5c6d092e69070b1c520a8dea8d3c4" +
        "52a2afa2afa2af20b1e08a9620a8d1b5b320a8c02e202e0a",
    );
    expect(detectTextEncoding(bytes, true)?.encoding).toBe("euc-kr");
    expect(textDecoder("euc-kr").decode(bytes)).toBe(
      "똠방각하 펲시콜라\n\n㉯㉯납!! 因九月패믤릔궈 ⓡⓖ훀¿¿¿ 긍뒙 ⓔ뎨 ㉯. .\n",
    );
  });

  it.each([
    ["Korean in EUC-KR", "euc-kr", KOREAN_EUC_KR],
    ["Traditional Chinese in Big5", "big5", TRADITIONAL_BIG5],
    // The Encoding Standard's gbk label decodes as gb18030, its superset.
    ["Simplified Chinese in GBK", "gb18030", SIMPLIFIED_GBK],
    ["Japanese in Shift_JIS", "shift_jis", JAPANESE_SHIFT_JIS],
    ["Japanese in EUC-JP", "euc-jp", JAPANESE_EUC_JP],
  ])("names one line of %s %s", (_text, label, bytes) => {
    expect(detectTextEncoding(bytes, true)?.encoding).toBe(label);
  });

  it.fails("names Korean of ten syllables or fewer euc-kr (chardet judges no multibyte set on so few)", () => {
    // 대한민국의 수도는 서울: ten syllables, twenty bytes above 0x7F.
    expect(legacyCharset(hex("b4ebc7d1b9ceb1b9c0c720bcf6b5b5b4c220bcadbfef0a"))).toBe("euc-kr");
  });
});

/** {@link KOREAN_EUC_KR}'s line in ISO-2022-KR: ESC $ ) C, then each word between SO (0x0E) and SI (0x0F). */
const KOREAN_ISO_2022_KR = hex(
  "1b2429430e346b4751394e313940470f200e3c76353534420f200e3c2d3f6f404c34590f2e200e3c2d3f6f403a0f200e" +
    "4751302d403b0f200e3322306d0f200e4056403838670f2c200e433538380f200e386d3f210f200e3021316e3f6e0f20" +
    "0e3b6736773569404c0f200e3b6c306d0f200e405634590f2e0a",
);
const KOREAN_LINE =
  "대한민국의 수도는 서울이다. 서울은 한강을 끼고 있으며, 천만 명에 가까운 사람들이 살고 있다.\n";

describe("ISO-2022-KR", () => {
  it("names Korean mail in ISO-2022-KR, shifted with SO and SI, as such and counts its characters", async () => {
    expect(sniffText(KOREAN_ISO_2022_KR, KOREAN_ISO_2022_KR.length)).toMatchObject({
      mime: "text/plain",
      encoding: "iso-2022-kr",
    });
    const result = await extract(new BufferSource(KOREAN_ISO_2022_KR, "mail.txt"));
    expect(result.text).toMatchObject({ encoding: "iso-2022-kr", chars: KOREAN_LINE.length, lines: 1 });
    expect(decodeInPieces("iso-2022-kr", KOREAN_ISO_2022_KR, 5)).toBe(KOREAN_LINE);
  });

  it.each([
    ["without the designation ESC $ ) C", KOREAN_ISO_2022_KR.subarray(4)],
    [
      "with one shift only",
      Uint8Array.from([0x1b, 0x24, 0x29, 0x43, 0x0e, 0x34, 0x6b, 0x0f, ...ascii(" ok\n")]),
    ],
    // 0x7F 0x21 is no KS X 1001 pair.
    ["with a shifted pair KS X 1001 lacks", Uint8Array.from([...KOREAN_ISO_2022_KR, 0x0e, 0x7f, 0x21, 0x0f])],
  ])("leaves bytes %s to the control-byte rule: binary", (_case, bytes) => {
    expect(detectTextEncoding(bytes, true)).toBeUndefined();
  });
});

/** 北京是中华人民共和国的首都 in HZ: GB2312 pairs less 0x80 between ~{ and ~}. */
const CHINESE_HZ = "Beijing: ~{11>)JGVP;*HKCq92:M9z5DJW6<~}\n";

describe("HZ", () => {
  it("names Chinese in HZ hz-gb-2312 and counts its characters", async () => {
    const bytes = ascii(CHINESE_HZ);
    expect(detectTextEncoding(bytes, true)?.encoding).toBe("hz-gb-2312");
    const result = await extract(new BufferSource(bytes, "usenet.txt"));
    expect(result.text).toMatchObject({
      encoding: "hz-gb-2312",
      chars: "Beijing: 北京是中华人民共和国的首都\n".length,
    });
    expect(decodeInPieces("hz-gb-2312", ascii(`~~ ${CHINESE_HZ}`), 3)).toBe(
      "~ Beijing: 北京是中华人民共和国的首都\n",
    );
  });

  it.each([
    ["a stray ~{ in code", "my %h = (a => 1); print ~{ keys %h };\nwhile (x) ~{abc~}\n"],
    ["a run of fewer than eight characters", "see ~{11>)JGVP~} there\n"],
    ["a run and a path under ~/", `${CHINESE_HZ}cp ~/notes.txt /tmp\n`],
    ["runs of ASCII words read as pairs", "~{ABCDEFGHIJKLMNOPQRST~} and ~{abcdefghijklmnop~}\n"],
  ])("keeps ASCII with %s us-ascii", (_case, text) => {
    expect(detectTextEncoding(ascii(text), true)?.encoding).toBe("us-ascii");
  });
});
