/**
 * A one-line progress bar on stderr for long commands (merge, convert, quantize, pull, model load,
 * perplexity). CLI.md: progress goes to stderr and only when stderr is a TTY, so piping or
 * redirecting a command never mixes escape codes into a log; without a TTY every call is a no-op.
 *
 *   const bar = createProgress({ label: "quantize", total: tensors.length, unit: "tensors" });
 *   await quantizeGgufFile(a, b, { onProgress: bar.onProgress });
 *   bar.done();
 *
 * `update` / `onProgress` accept `(done)`, `(done, total)` or `({ done, total })`, so they can be
 * handed directly to any package's progress callback. Redraws are throttled (a download calls
 * back thousands of times a second), and `done()` clears the line so the command's real output
 * starts on a clean line.
 */

export type ProgressUnit = "bytes" | "tensors" | "tokens" | "chunks" | "files" | "steps";

/** The bits of a stream the bar uses; `process.stderr` fits, and tests pass a fake. */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressOptions {
  /** Shown first, e.g. "download" or the file name. */
  label: string;
  /** Total amount of work; 0 or undefined when unknown (then no percentage nor time left). */
  total?: number;
  unit?: ProgressUnit;
  /** Defaults to process.stderr. */
  stream?: ProgressStream;
  /** Defaults to `stream.isTTY === true`; CLLAMA_PROGRESS=0 turns bars off, =1 forces them on. */
  enabled?: boolean;
  /** Minimum milliseconds between redraws (default 100). */
  throttleMs?: number;
  /** Clock in milliseconds, for tests. */
  now?: () => number;
}

export type ProgressUpdate = number | { done: number; total?: number };

export interface Progress {
  /** Records progress and redraws when the throttle allows. */
  update(done: ProgressUpdate, total?: number): void;
  /** The same as update, bound, to pass as a package's `onProgress`. */
  readonly onProgress: (done: ProgressUpdate, total?: number) => void;
  /** Clears the bar; further updates are ignored. Idempotent. */
  done(): void;
  /** Whether anything is drawn at all (false when stderr is not a TTY). */
  readonly enabled: boolean;
}

/** How many seconds of samples the rate is averaged over: smooth, yet follows a stall. */
const RATE_WINDOW_MS = 5000;

export function createProgress(options: ProgressOptions): Progress {
  const stream = options.stream ?? process.stderr;
  const enabled = options.enabled ?? progressEnabledFor(stream);
  const now = options.now ?? (() => performance.now());
  const throttleMs = options.throttleMs ?? 100;
  const unit = options.unit ?? "steps";
  let total = options.total ?? 0;
  let current = 0;
  let lastDraw = Number.NEGATIVE_INFINITY;
  let drawn = false;
  let finished = false;
  const samples: { t: number; done: number }[] = [];

  const update = (value: ProgressUpdate, newTotal?: number): void => {
    if (finished || !enabled) return;
    const done = typeof value === "number" ? value : value.done;
    const t = typeof value === "number" ? newTotal : (value.total ?? newTotal);
    if (t !== undefined && Number.isFinite(t) && t >= 0) total = t;
    if (!Number.isFinite(done)) return;
    current = done;
    const at = now();
    samples.push({ t: at, done });
    while (samples.length > 2 && at - samples[0]!.t > RATE_WINDOW_MS) samples.shift();
    // Always draw the first update and the last one (done === total): the user should see 100%.
    const complete = total > 0 && done >= total;
    if (at - lastDraw < throttleMs && !complete && drawn) return;
    lastDraw = at;
    draw();
  };

  const rate = (): number | undefined => {
    if (samples.length < 2) return undefined;
    const first = samples[0]!;
    const last = samples[samples.length - 1]!;
    const seconds = (last.t - first.t) / 1000;
    if (seconds <= 0) return undefined;
    return Math.max(0, (last.done - first.done) / seconds);
  };

  const draw = (): void => {
    const columns = stream.columns && stream.columns > 20 ? stream.columns : 80;
    const line = formatProgressLine(
      { label: options.label, done: current, total, unit, rate: rate() },
      columns,
    );
    stream.write(`\r\x1b[2K${line}`);
    drawn = true;
  };

  return {
    update,
    onProgress: update,
    enabled,
    done() {
      if (finished) return;
      finished = true;
      if (enabled && drawn) stream.write("\r\x1b[2K");
    },
  };
}

/** TTY on stderr, unless CLLAMA_PROGRESS says otherwise. */
export function progressEnabledFor(stream: ProgressStream): boolean {
  const forced = process.env.CLLAMA_PROGRESS;
  if (forced === "0") return false;
  if (forced === "1") return true;
  return stream.isTTY === true;
}

export interface ProgressState {
  label: string;
  done: number;
  total: number;
  unit: ProgressUnit;
  /** Units per second, undefined until there are two samples. */
  rate?: number;
}

/**
 * `label [██████░░░░]  45%  12.3/27.0 MB  4.5 MB/s  0:03 left`, fitted to `columns` cells:
 * the bar shrinks first, then the label is cut.
 */
export function formatProgressLine(state: ProgressState, columns: number): string {
  const { done, total, unit, rate } = state;
  const known = total > 0;
  const fraction = known ? Math.min(1, Math.max(0, done / total)) : 0;
  const parts: string[] = [];
  if (known) parts.push(`${(fraction * 100).toFixed(0).padStart(3)}%`);
  parts.push(
    known ? `${formatAmount(done, unit, total)}/${formatAmount(total, unit)}` : formatAmount(done, unit),
  );
  if (rate !== undefined) parts.push(`${formatAmount(rate, unit)}/s`);
  if (known && rate !== undefined && rate > 0 && done < total)
    parts.push(`${formatDuration((total - done) / rate)} left`);
  const tail = parts.join("  ");
  let label = state.label;
  const room = columns - 1; // never write into the last column: some terminals wrap there
  const barWidth = Math.min(30, room - label.length - tail.length - 5);
  if (known && barWidth >= 5) {
    const filled = Math.round(fraction * barWidth);
    const bar = "█".repeat(filled) + "░".repeat(barWidth - filled);
    return `${label} [${bar}] ${tail}`;
  }
  const line = `${label}  ${tail}`;
  if (line.length <= room) return line;
  label = label.slice(0, Math.max(0, room - tail.length - 3));
  return `${label}  ${tail}`.slice(0, room);
}

const byteUnits = ["B", "kB", "MB", "GB", "TB"];

/** Amounts in their unit: bytes in decimal kB/MB/GB (as download tools show them), others as counts. */
export function formatAmount(value: number, unit: ProgressUnit, scaleOf?: number): string {
  if (unit === "bytes") {
    // Show done and total on the same scale ("12.3/27.0 MB"), so the pair reads at a glance.
    let index = 0;
    let scaled = Math.abs(scaleOf ?? value);
    while (scaled >= 1000 && index < byteUnits.length - 1) {
      scaled /= 1000;
      index++;
    }
    const number = value / 1000 ** index;
    const text = index === 0 ? number.toFixed(0) : number.toFixed(1);
    return scaleOf === undefined ? `${text} ${byteUnits[index]}` : text;
  }
  const rounded = Number.isInteger(value) ? String(value) : value < 10 ? value.toFixed(1) : value.toFixed(0);
  return scaleOf === undefined ? `${rounded} ${unit}` : rounded;
}

/** 75 -> "1:15", 3725 -> "1:02:05". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  const whole = Math.ceil(seconds);
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = whole % 60;
  const mm = h > 0 ? String(m).padStart(2, "0") : String(m);
  return `${h > 0 ? `${h}:` : ""}${mm}:${String(s).padStart(2, "0")}`;
}
