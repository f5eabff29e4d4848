/**
 * Commands whose only work is printing what they read (`ls`, `show`,
 * `find`, `extract`, `dlq ls`, help): once their reader has gone, there is
 * nothing left to do.
 */
const READ_ONLY: readonly (readonly string[])[] = [["ls"], ["show"], ["find"], ["extract"], ["dlq", "ls"]];

/**
 * Whether the command line names a command that only prints (see
 * {@link READ_ONLY}); anything else (upload, backfill, reprocess, dlq
 * replay, dev, worker) changes the bucket or the catalog, or serves.
 *
 * @example
 * printsOnly(["node", "catalog", "dlq", "ls"]) // true
 * printsOnly(["node", "catalog", "upload", "a.jpg"]) // false
 */
export function printsOnly(argv: readonly string[]): boolean {
  const words = argv.slice(2);
  if (words.length === 0 || words[0]?.startsWith("-")) return true;
  return READ_ONLY.some((command) => command.every((word, index) => words[index] === word));
}

/**
 * What the CLI does when the reader of its output goes away (`catalog ls |
 * head -1`): Node reports the closed pipe as an `error` event on the stream,
 * which, unheard, ends the process with a stack trace. Here a command that
 * only prints exits at once, quietly, with the exit code it had so far (0
 * when nothing failed), as a Unix tool stopped by SIGPIPE would. A command
 * that changes the bucket or the catalog carries on to the end with its
 * output discarded: a reader leaving is not a request to stop (Ctrl-C is),
 * and stopping mid-way would leave an upload or a backfill half done with
 * nobody told. Errors writing to stderr are ignored: there is nowhere left
 * to say them.
 *
 * @example
 * exitQuietlyWhenOutputCloses(process.argv);
 */
export function exitQuietlyWhenOutputCloses(argv: readonly string[]): void {
  const stopAtOnce = printsOnly(argv);
  process.stdout.on("error", () => {
    // A stream that failed once is destroyed: later writes fail without another event.
    if (stopAtOnce) process.exit();
  });
  process.stderr.on("error", () => {});
}
