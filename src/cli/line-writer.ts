/** What a {@link LineWriter} writes to: `process.stdout`, or anything with its `write`. */
export interface TextSink {
  write(text: string): unknown;
}

/** Buffered text is written at once when it grows past this. */
const FLUSH_AT_CHARS = 64 * 1024;

/**
 * Lines of output gathered and written in one call when the event loop next
 * goes idle (or when they pass 64 KiB). A command printing one line per file
 * made one `write` per line: on a pipe each is a system call through Node's
 * stream machinery, and for `extract --detect-only` over a few hundred files
 * that was a sixth of the run. Output still streams: whenever the command
 * waits for I/O, what is ready goes out.
 *
 * @example
 * const out = new LineWriter(process.stdout);
 * for (const result of results) out.line(JSON.stringify(result));
 * out.flush();
 */
export class LineWriter {
  private pending: string[] = [];
  private pendingChars = 0;
  private scheduled = false;

  constructor(private readonly sink: TextSink) {}

  /** Queues one line; a newline is added. */
  line(text: string): void {
    this.pending.push(text, "\n");
    this.pendingChars += text.length + 1;
    if (this.pendingChars >= FLUSH_AT_CHARS) {
      this.flush();
    } else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.flush();
      });
    }
  }

  /** Writes what is queued now (call it before writing to another stream, and at the end). */
  flush(): void {
    if (this.pending.length === 0) return;
    const text = this.pending.join("");
    this.pending = [];
    this.pendingChars = 0;
    this.sink.write(text);
  }
}
