import { Logger } from "@aws-lambda-powertools/logger";
import type { ConstructorOptions } from "@aws-lambda-powertools/logger/types";
import { jsonTerminalSafe } from "./terminal-text.js";

/** The one property of Powertools' Logger that every printed line goes through. */
const PRINT_TARGET = "console";

/**
 * A console that prints every string argument with the characters JSON leaves
 * raw but a terminal acts on escaped. Powertools passes one JSON line per call,
 * so the escaped line is the same JSON value; a second pass finds nothing left
 * to escape (Powertools routes `trace` back through `log`).
 */
function escapingConsole(target: Console): Console {
  return new Proxy(target, {
    get(console, property) {
      const value: unknown = Reflect.get(console, property);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) =>
        Reflect.apply(
          value,
          console,
          args.map((arg) => (typeof arg === "string" ? jsonTerminalSafe(arg) : arg)),
        );
    },
  });
}

/**
 * A Powertools Logger for the local stack and the worker, whose JSON lines go
 * to a terminal: C1 controls (CSI among them), DEL and bidirectional or
 * zero-width formatting characters in keys and metadata are printed as
 * `\uXXXX`, so a line still parses to the same values but cannot reorder, hide
 * or act on what the terminal shows. The Lambda keeps Powertools' own Logger:
 * CloudWatch is not a terminal.
 *
 * @example
 * const logger = new TerminalLogger({ serviceName: "s3-metadata-catalog", logLevel: "INFO" });
 * logger.info("object processed", { key: "invoice\u202egpj.exe" });
 * // {"level":"INFO",...,"key":"invoice\\u202egpj.exe"}
 */
export class TerminalLogger extends Logger {
  constructor(options: ConstructorOptions = {}) {
    super(options);
    // Powertools (2.36) offers no documented hook on the text it prints: `jsonReplacerFn` sees values,
    // never the JSON text nor object keys, and a value cannot choose its own escaping; overriding the
    // protected printLog would copy its body and reach into private level names and indentation. Every
    // printed line (printLog, flushBuffer) is one string handed to the private `console` property, so
    // that is the one place to wrap. If an upgrade renames or drops it, fail here rather than print raw text;
    // test/cli/terminal-logger.test.ts also checks the printed bytes.
    const console: unknown = Reflect.get(this, PRINT_TARGET);
    if (
      typeof console !== "object" ||
      console === null ||
      typeof Reflect.get(console, "info") !== "function"
    ) {
      throw new Error(
        `@aws-lambda-powertools/logger no longer prints through Logger.${PRINT_TARGET}: TerminalLogger cannot escape its lines`,
      );
    }
    Reflect.set(this, PRINT_TARGET, escapingConsole(console as Console));
  }

  /** Children (`createChild`) escape their lines too. */
  protected override createLogger(options?: ConstructorOptions): TerminalLogger {
    return new TerminalLogger(options);
  }

  override createChild(options?: ConstructorOptions): TerminalLogger {
    return super.createChild(options) as TerminalLogger;
  }
}
