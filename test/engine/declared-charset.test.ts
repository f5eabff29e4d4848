import { describe, expect, it } from "vitest";
import {
  declaredCharset,
  encodingForLabel,
  PRESCAN_BYTES,
} from "../../src/engine/detect/declared-charset.js";
import { detectTextEncoding } from "../../src/engine/detect/text-sniff.js";

const ascii = (text: string) => new TextEncoder().encode(text);

/** Text in KOI8-R: for each character the byte TextDecoder reads as it. */
function koi8r(text: string): Uint8Array {
  const decoder = new TextDecoder("koi8-r");
  const byChar = new Map<string, number>();
  for (let byte = 0x80; byte <= 0xff; byte++) byChar.set(decoder.decode(Uint8Array.of(byte)), byte);
  return Uint8Array.from([...text], (char) =>
    char.charCodeAt(0) < 0x80 ? char.charCodeAt(0) : byChar.get(char)!,
  );
}

/** Pushkin, Eugene Onegin, I.1 (public domain). */
const RUSSIAN =
  "Мой дядя самых честных правил, когда не в шутку занемог, он уважать себя заставил и лучше выдумать не мог.";

describe("the character set a document declares", () => {
  it.each([
    ['<?xml version="1.0" encoding="koi8-r"?>\n<rss/>', "koi8-r"],
    ["<?xml version='1.0' encoding='Windows-1251' standalone='yes'?><a/>", "windows-1251"],
    ['<?xml version="1.0" encoding="MacCyrillic"?><a/>', "x-mac-cyrillic"],
    ['<?xml version="1.0" encoding="ISO-8859-1"?><a/>', "windows-1252"],
    ['<html><head><meta charset="iso-8859-7"><title>x</title>', "iso-8859-7"],
    ["<html><head><meta charset=cp1250>", "windows-1250"],
    [
      '<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1255">',
      "windows-1255",
    ],
    ["<head><META HTTP-EQUIV='content-type' CONTENT='text/html;charset=Shift_JIS'>", "shift_jis"],
    // As the standard's prescan: UTF-16 in bytes that read as ASCII is UTF-8, an unknown label is passed over.
    ['<meta charset="utf-16le">', "utf-8"],
    ['<meta charset="no-such-set"><meta charset="koi8-u">', "koi8-u"],
  ])("%s names %s", (head, name) => {
    expect(declaredCharset(ascii(head))).toBe(name);
  });

  it.each([
    ["a content without http-equiv", '<meta name="description" content="charset=koi8-r">'],
    ["an XML declaration after the start", ' text <?xml version="1.0" encoding="koi8-r"?>'],
    ["a set no decoder has", '<?xml version="1.0" encoding="x-no-such-set"?>'],
    ["a <meta> beyond the prescan", `<html><!--${"-".repeat(PRESCAN_BYTES)}--><meta charset="koi8-r">`],
  ])("is not found in %s", (_what, head) => {
    expect(declaredCharset(ascii(head))).toBeUndefined();
  });

  it("maps labels as the Encoding Standard does", () => {
    expect(encodingForLabel(" CP866 ")).toBe("ibm866");
    expect(encodingForLabel("latin2")).toBe("iso-8859-2");
    expect(encodingForLabel("x-user-defined")).toBe("windows-1252");
    expect(encodingForLabel("iso-2022-kr")).toBeUndefined();
    expect(encodingForLabel("hz-gb-2312")).toBeUndefined();
  });

  it("is believed over what the bytes would be guessed as", () => {
    // Arrange: Russian in KOI8-R, declared as windows-1251, in which the same bytes read as other letters.
    const body = koi8r(`<p>${RUSSIAN}</p>`);
    const declared = (name: string) => Uint8Array.from([...ascii(`<meta charset="${name}">`), ...body]);

    // Act / Assess
    expect(detectTextEncoding(body, true)?.encoding).toBe("koi8-r");
    expect(detectTextEncoding(declared("windows-1251"), true)?.encoding).toBe("windows-1251");
  });

  it("is not believed where the bytes do not read in it", () => {
    // 0xAE has no character in ISO-8859-7; the text is Russian in KOI8-R.
    const bytes = Uint8Array.from([...ascii('<meta charset="iso-8859-7">'), ...koi8r(RUSSIAN), 0xae]);
    expect(detectTextEncoding(bytes, true)?.encoding).toBe("koi8-r");
  });
});
