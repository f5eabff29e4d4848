import { SingleBar } from "cli-progress";

/** A progress display that may be a no-op; callers never check which. */
export interface Progress {
  /** Raises the known total (listing can still be adding work). */
  setTotal(total: number, final?: boolean): void;
  increment(count?: number): void;
  stop(): void;
}

const NO_PROGRESS: Progress = { setTotal() {}, increment() {}, stop() {} };

/**
 * A progress bar on stderr with rate and ETA, only where a person watches:
 * stderr must be a terminal and there must be more than one item, so pipes,
 * CI logs and `--json` output stay clean. While the total is still growing
 * (a bucket listing in progress) it is shown with a `+`.
 *
 * @example
 * const progress = createProgress({ label: "backfill", total: 0, enabled: true });
 * progress.setTotal(1000, true);
 * progress.increment();
 * progress.stop();
 */
export function createProgress(options: { label: string; total: number; enabled?: boolean }): Progress {
  const enabled = (options.enabled ?? true) && process.stderr.isTTY === true;
  if (!enabled) return NO_PROGRESS;
  const started = Date.now();
  let total = options.total;
  let final = options.total > 0;
  let value = 0;
  let shown = false;
  const bar = new SingleBar({
    stream: process.stderr,
    format: `${options.label} {bar} {value}/{total}{more} | {rate}/s | ETA {remaining}`,
    hideCursor: true,
    clearOnComplete: false,
    etaBuffer: 50,
  });
  const payload = () => {
    const seconds = (Date.now() - started) / 1000;
    const rate = seconds > 0 ? value / seconds : 0;
    const remaining = total - value;
    return {
      more: final ? "" : "+",
      rate: rate.toFixed(1),
      remaining: rate > 0 && final ? formatDuration(remaining / rate) : "-",
    };
  };
  // The bar hides the cursor and turns off line wrapping; a process.exit() (a second Ctrl-C) must
  // not leave the user's terminal that way.
  const restoreTerminal = () => bar.stop();
  const show = () => {
    if (shown || total < 2) return;
    shown = true;
    bar.start(total, value, payload());
    process.once("exit", restoreTerminal);
  };
  show();
  return {
    setTotal(next, isFinal = false) {
      total = next;
      final = isFinal;
      if (!shown) show();
      else bar.setTotal(total);
      if (shown) bar.update(value, payload());
    },
    increment(count = 1) {
      value += count;
      if (shown) bar.update(value, payload());
    },
    stop() {
      if (!shown) return;
      process.off("exit", restoreTerminal);
      bar.stop();
    },
  };
}

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "-";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}
