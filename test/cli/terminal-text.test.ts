import { describe, expect, it } from "vitest";
import { formatTable, summaryLine } from "../../src/cli/format.js";
import { jsonTerminalSafe, terminalSafe } from "../../src/cli/terminal-text.js";

describe("terminal-safe text", () => {
  it.each([
    ["an escape sequence that clears the screen", "a\u001b[2Jb", "a\\u001b[2Jb"],
    ["a window-title sequence (OSC ... BEL)", "\u001b]0;pwned\u0007x", "\\u001b]0;pwned\\u0007x"],
    ["a newline that would forge a line", "a.jpg\nok  fake.jpg", "a.jpg\\u000aok  fake.jpg"],
    ["a carriage return that would overwrite a line", "evil\rgood", "evil\\u000dgood"],
    ["the one-character CSI of C1", "x\u009b31my", "x\\u009b31my"],
    ["a right-to-left override that reverses what follows", "invoice\u202egpj.exe", "invoice\\u202egpj.exe"],
    ["a zero-width space", "pay\u200bpal", "pay\\u200bpal"],
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
