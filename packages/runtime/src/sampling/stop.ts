/**
 * Finds stop strings in streamed text. Text that might be the start of a stop string is held back
 * until it is known not to be one, so a caller never prints part of a stop string.
 */
export class StopMatcher {
  private pending = "";
  stopped = false;
  /** The stop string that ended the text, if any. */
  matched: string | undefined;

  constructor(private readonly stops: readonly string[]) {}

  /** Add decoded text; returns what can safely be shown now. */
  push(text: string): string {
    if (this.stopped) return "";
    this.pending += text;
    let first = -1;
    for (const stop of this.stops) {
      if (!stop) continue;
      const at = this.pending.indexOf(stop);
      if (at >= 0 && (first < 0 || at < first)) {
        first = at;
        this.matched = stop;
      }
    }
    if (first >= 0) {
      this.stopped = true;
      const out = this.pending.slice(0, first);
      this.pending = "";
      return out;
    }
    const hold = this.heldSuffixLength();
    const out = this.pending.slice(0, this.pending.length - hold);
    this.pending = this.pending.slice(this.pending.length - hold);
    return out;
  }

  /** The rest of the text at the end of generation. */
  flush(): string {
    const out = this.stopped ? "" : this.pending;
    this.pending = "";
    return out;
  }

  /** Length of the longest suffix of `pending` that is a proper prefix of a stop string. */
  private heldSuffixLength(): number {
    let best = 0;
    for (const stop of this.stops) {
      const max = Math.min(stop.length - 1, this.pending.length);
      for (let n = max; n > best; n--) {
        if (this.pending.endsWith(stop.slice(0, n))) {
          best = n;
          break;
        }
      }
    }
    return best;
  }
}
