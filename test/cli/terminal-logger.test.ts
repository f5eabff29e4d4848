/**
 * The log lines `catalog dev` and `catalog worker` print: a key or metadata
 * value holding characters a terminal acts on is printed with them escaped and
 * still parses to the same value, while Powertools' own Logger (what the
 * Lambda writes to CloudWatch) prints exactly as before.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { TerminalLogger } from "../../src/cli/terminal-logger.js";

/** CSI (C1), right-to-left override, zero-width space and DEL: all left raw by JSON.stringify. */
const HOSTILE_KEY = "photos/\u009b2Jinvoice\u202egpj.exe\u200bx\u007f.jpg";
const RAW = /[\u007f-\u009f\u200b\u202e]/;

let printed: string[];

beforeEach(() => {
  // Powertools prints through its own Console over process.stdout/stderr unless POWERTOOLS_DEV is set.
  vi.stubEnv("POWERTOOLS_DEV", "");
  printed = [];
  const collect = (chunk: string | Uint8Array) => {
    printed.push(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"));
    return true;
  };
  vi.spyOn(process.stdout, "write").mockImplementation(collect);
  vi.spyOn(process.stderr, "write").mockImplementation(collect);
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

/** The JSON lines printed since the test began. */
function lines(): string[] {
  return printed
    .join("")
    .split("\n")
    .filter((line) => line.startsWith("{"));
}

describe("TerminalLogger", () => {
  it.each(["info", "warn", "error", "debug"] as const)(
    "prints a %s line with a hostile key escaped, parsing to the same key",
    (level) => {
      const logger = new TerminalLogger({ serviceName: "s3-metadata-catalog", logLevel: "DEBUG" });
      logger[level]("object processed", { key: HOSTILE_KEY });

      const [line, ...rest] = lines();
      expect(rest).toEqual([]);
      expect(line).not.toMatch(RAW);
      expect(line).toContain("photos/\\u009b2Jinvoice\\u202egpj.exe\\u200bx\\u007f.jpg");
      expect(JSON.parse(line as string)).toMatchObject({ level: level.toUpperCase(), key: HOSTILE_KEY });
    },
  );

  it("escapes object keys, the message and nested values too", () => {
    const logger = new TerminalLogger({ serviceName: "s3-metadata-catalog" });
    const metadata = { "x-amz-meta-\u202etitle": "a\u009bb", nested: { list: ["\u2066x\u2069"] } };
    logger.info(`uploaded ${HOSTILE_KEY}`, { metadata });

    const [line] = lines();
    expect(line).not.toMatch(RAW);
    expect(line).not.toMatch(/[\u2066-\u2069]/);
    expect(JSON.parse(line as string)).toMatchObject({ message: `uploaded ${HOSTILE_KEY}`, metadata });
  });

  it("keeps ordinary text, accents and emoji as Powertools prints them", () => {
    const logger = new TerminalLogger({ serviceName: "s3-metadata-catalog" });
    logger.info("object processed", { key: "Café 東京 📷/a b+c.jpg" });
    expect(lines()[0]).toContain('"key":"Café 東京 📷/a b+c.jpg"');
  });

  it("gives children made with createChild the same escaping", () => {
    const child = new TerminalLogger({ serviceName: "s3-metadata-catalog" }).createChild({
      persistentKeys: { worker: "w1" },
    });
    expect(child).toBeInstanceOf(TerminalLogger);
    child.info("object processed", { key: HOSTILE_KEY });

    const [line] = lines();
    expect(line).not.toMatch(RAW);
    expect(JSON.parse(line as string)).toMatchObject({ worker: "w1", key: HOSTILE_KEY });
  });

  it("escapes in Powertools' dev mode too, where it prints through the global console", () => {
    vi.stubEnv("POWERTOOLS_DEV", "true");
    const info = vi.spyOn(console, "info").mockImplementation(() => {});
    const logger = new TerminalLogger({ serviceName: "s3-metadata-catalog" });
    logger.info("object processed", { key: HOSTILE_KEY });

    const line = String(info.mock.calls[0]?.[0]);
    expect(line).not.toMatch(RAW);
    expect(JSON.parse(line)).toMatchObject({ key: HOSTILE_KEY });
  });
});

describe("Powertools' own Logger, as the Lambda uses it", () => {
  it("still prints the key raw, also after a TerminalLogger was made", () => {
    new TerminalLogger({ serviceName: "s3-metadata-catalog" }).info("terminal line");
    printed.length = 0;

    new Logger({ serviceName: "s3-metadata-catalog" }).info("object processed", { key: HOSTILE_KEY });

    const [line] = lines();
    expect(line).toContain(`"key":${JSON.stringify(HOSTILE_KEY)}`);
    expect(line).toMatch(RAW);
  });

  it("leaves the global console alone in dev mode", () => {
    vi.stubEnv("POWERTOOLS_DEV", "true");
    const info = vi.spyOn(console, "info").mockImplementation(() => {});
    new TerminalLogger({ serviceName: "s3-metadata-catalog" });
    new Logger({ serviceName: "s3-metadata-catalog" }).info("object processed", { key: HOSTILE_KEY });

    // Dev mode indents the JSON: look at the raw characters, not the layout.
    const line = String(info.mock.calls[0]?.[0]);
    expect(line).toMatch(RAW);
    expect(JSON.parse(line)).toMatchObject({ key: HOSTILE_KEY });
  });
});
