import { describe, expect, it } from "vitest";
import { formatTable, summaryLine } from "../../src/cli/format.js";
import { displayWidth, jsonTerminalSafe, terminalSafe } from "../../src/cli/terminal-text.js";

describe("terminal-safe text", () => {
  it.each([
    ["an escape sequence that clears the screen", "a\u001b[2Jb", "a\\u001b[2Jb"],
    ["a window-title sequence (OSC ... BEL)", "\u001b]0;pwned\u0007x", "\\u001b]0;pwned\\u0007x"],
    ["a newline that would forge a line", "a.jpg\nok  fake.jpg", "a.jpg\\u000aok  fake.jpg"],
    ["a carriage return that would overwrite a line", "evil\rgood", "evil\\u000dgood"],
    ["the one-character CSI of C1", "x\u009b31my", "x\\u009b31my"],
    ["a right-to-left override that reverses what follows", "invoice\u202egpj.exe", "invoice\\u202egpj.exe"],
    ["a zero-width space", "pay\u200bpal", "pay\\u200bpal"],
    ["a soft hyphen", "pay\u00adpal", "pay\\u00adpal"],
    ["a combining grapheme joiner", "pay\u034fpal", "pay\\u034fpal"],
    ["a word joiner", "pay\u2060pal", "pay\\u2060pal"],
    ["a Hangul filler", "pay\u3164pal", "pay\\u3164pal"],
    ["a line separator", "a.jpg\u2028ok", "a.jpg\\u2028ok"],
  ])("escapes %s", (_what, text, shown) => {
    expect(terminalSafe(text)).toBe(shown);
  });

  it("leaves printable text, accents and emoji as they are", () => {
    expect(terminalSafe("Café 東京 📷 a/b c.jpg")).toBe("Café 東京 📷 a/b c.jpg");
  });

  it("keeps JSON valid and equal in value while escaping what JSON leaves raw", () => {
    const value = { title: "\u202eevil\u009b", key: "a\u001bb" };
    const safe = jsonTerminalSafe(JSON.stringify(value));
    expect(safe).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e]/);
    expect(JSON.parse(safe)).toEqual(value);
  });

  it("is what tables and summary lines print: a cell or key cannot add a line or act on the terminal", () => {
    const table = formatTable([
      ["NAME", "STATUS"],
      ["a.jpg\nok", "error (\u001b[31mred)"],
    ]);
    expect(table.split("\n")).toEqual([
      `${"NAME".padEnd("a.jpg\\u000aok".length)}  STATUS`,
      "a.jpg\\u000aok  error (\\u001b[31mred)",
    ]);
    const line = summaryLine({ bucket: "b", key: "x\u202ey", size: 1, mime: "text/plain", status: "ok" });
    expect(line).toBe("s3://b/x\\u202ey  text/plain  1 B  ok");
  });
});

describe("display width, as a terminal lays text out", () => {
  it.each([
    ["ASCII", "photo.jpg", 9],
    ["an accent composed (NFC)", "Café", 4],
    ["an accent combined (NFD)", "Cafe\u0301", 4],
    ["several combining marks on one letter", "a\u0301\u0323\u0308", 1],
    ["CJK ideographs", "東京.jpg", 8],
    ["Hangul syllables", "사진", 4],
    ["Hangul written as combining jamo", "\u1109\u1161\u110c\u1175\u11ab", 4],
    ["fullwidth Latin letters", "ＡＢＣ", 6],
    ["an ideographic space", "a\u3000b", 4],
    ["an emoji", "📷", 2],
    ["a family emoji joined by ZWJ", "👨\u200d👩\u200d👧", 2],
    ["a flag (two regional indicators)", "🇧🇷", 2],
    ["a text pictograph made emoji by VS16", "\u2764\ufe0f", 2],
    ["a text pictograph without it", "\u2764", 1],
    ["an escaped control character, as printed", terminalSafe("a\u001bb"), 8],
    ["an escaped zero-width space, as printed", terminalSafe("pay\u200bpal"), 12],
  ])("counts %s", (_what, text, width) => {
    expect(displayWidth(text)).toBe(width);
  });

  it("aligns table columns whatever the names are written in", () => {
    const table = formatTable([
      ["NAME", "SIZE", "STATUS"],
      ["Cafe\u0301.jpg", "1 B", "ok"],
      ["東京.jpg", "2 B", "ok"],
      ["ＡＢ.png", "3 B", "ok"],
      ["📷\u001b.jpg", "4 B", "ok"],
    ]);
    const sizeColumn = table.split("\n").map((line) => displayWidth(line.slice(0, line.search(/SIZE|\d B/))));
    expect(sizeColumn).toEqual([14, 14, 14, 14, 14]);
    expect(table.split("\n")[4]).toBe("📷\\u001b.jpg  4 B   ok");
  });
});
